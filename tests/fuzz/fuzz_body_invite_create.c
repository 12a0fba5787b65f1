/*
 * fuzz_body_invite_create.c - libFuzzer target: the body of a WW_KIND_INVITE_CREATE event decodes
 * only to something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_INVITE_CREATE
#include "fuzz_body.inc"
