/*
 * fuzz_body_owner_handover.c - libFuzzer target: the body of a WW_KIND_OWNER_HANDOVER event
 * decodes only to something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_OWNER_HANDOVER
#include "fuzz_body.inc"
