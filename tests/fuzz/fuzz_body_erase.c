/*
 * fuzz_body_erase.c - libFuzzer target: the body of a WW_KIND_ERASE event decodes only to
 * something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_ERASE
#include "fuzz_body.inc"
