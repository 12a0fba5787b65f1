/*
 * fuzz_body_reflection_put.c - libFuzzer target: the body of a WW_KIND_REFLECTION_PUT event decodes
 * only to something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_REFLECTION_PUT
#include "fuzz_body.inc"
