/*
 * fuzz_body_device_add.c - libFuzzer target: the body of a WW_KIND_DEVICE_ADD event decodes only to
 * something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_DEVICE_ADD
#include "fuzz_body.inc"
