/*
 * fuzz_body_recovery_key.c - libFuzzer target: the body of a WW_KIND_RECOVERY_KEY event decodes
 * only to something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_RECOVERY_KEY
#include "fuzz_body.inc"
