/*
 * fuzz_body_challenge_schedule.c - libFuzzer target: the body of a WW_KIND_CHALLENGE_SCHEDULE event
 * decodes only to something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_CHALLENGE_SCHEDULE
#include "fuzz_body.inc"
