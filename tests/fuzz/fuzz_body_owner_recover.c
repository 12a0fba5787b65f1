/*
 * fuzz_body_owner_recover.c - libFuzzer target: the body of a WW_KIND_OWNER_RECOVER event decodes
 * only to something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_OWNER_RECOVER
#include "fuzz_body.inc"
