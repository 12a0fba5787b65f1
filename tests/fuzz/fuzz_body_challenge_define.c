/*
 * fuzz_body_challenge_define.c - libFuzzer target: the body of a WW_KIND_CHALLENGE_DEFINE event
 * decodes only to something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_CHALLENGE_DEFINE
#include "fuzz_body.inc"
