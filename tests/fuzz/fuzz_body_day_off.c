/*
 * fuzz_body_day_off.c - libFuzzer target: the body of a WW_KIND_DAY_OFF event decodes only to
 * something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_DAY_OFF
#include "fuzz_body.inc"
