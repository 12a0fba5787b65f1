/*
 * fuzz_body_signal_resolve.c - libFuzzer target: the body of a WW_KIND_SIGNAL_RESOLVE event decodes
 * only to something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_SIGNAL_RESOLVE
#include "fuzz_body.inc"
