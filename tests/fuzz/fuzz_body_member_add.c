/*
 * fuzz_body_member_add.c - libFuzzer target: the body of a WW_KIND_MEMBER_ADD event decodes only to
 * something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_MEMBER_ADD
#include "fuzz_body.inc"
