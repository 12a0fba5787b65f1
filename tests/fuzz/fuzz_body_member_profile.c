/*
 * fuzz_body_member_profile.c - libFuzzer target: the body of a WW_KIND_MEMBER_PROFILE event decodes
 * only to something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_MEMBER_PROFILE
#include "fuzz_body.inc"
