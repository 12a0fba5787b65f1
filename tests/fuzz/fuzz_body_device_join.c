/*
 * fuzz_body_device_join.c - libFuzzer target: the body of a WW_KIND_DEVICE_JOIN event decodes
 * only to something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_DEVICE_JOIN
#include "fuzz_body.inc"
