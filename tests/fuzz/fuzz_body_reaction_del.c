/*
 * fuzz_body_reaction_del.c - libFuzzer target: the body of a WW_KIND_REACTION_DEL event decodes
 * only to something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_REACTION_DEL
#include "fuzz_body.inc"
