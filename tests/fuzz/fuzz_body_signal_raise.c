/*
 * fuzz_body_signal_raise.c - libFuzzer target: the body of a WW_KIND_SIGNAL_RAISE event decodes
 * only to something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_SIGNAL_RAISE
#include "fuzz_body.inc"
