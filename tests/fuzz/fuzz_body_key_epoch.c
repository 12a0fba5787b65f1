/*
 * fuzz_body_key_epoch.c - libFuzzer target: the body of a WW_KIND_KEY_EPOCH event decodes only to
 * something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_KEY_EPOCH
#include "fuzz_body.inc"
