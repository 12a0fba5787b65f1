/*
 * fuzz_body_invite_revoke.c - libFuzzer target: the body of a WW_KIND_INVITE_REVOKE event decodes
 * only to something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_INVITE_REVOKE
#include "fuzz_body.inc"
