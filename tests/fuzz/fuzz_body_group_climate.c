/*
 * fuzz_body_group_climate.c - libFuzzer target: the body of a WW_KIND_GROUP_CLIMATE event decodes
 * only to something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_GROUP_CLIMATE
#include "fuzz_body.inc"
