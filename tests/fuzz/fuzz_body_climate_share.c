/*
 * fuzz_body_climate_share.c - libFuzzer target: the body of a WW_KIND_CLIMATE_SHARE event decodes
 * only to something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_CLIMATE_SHARE
#include "fuzz_body.inc"
