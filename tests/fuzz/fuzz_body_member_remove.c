/*
 * fuzz_body_member_remove.c - libFuzzer target: the body of a WW_KIND_MEMBER_REMOVE event decodes
 * only to something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_MEMBER_REMOVE
#include "fuzz_body.inc"
