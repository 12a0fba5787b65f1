/*
 * fuzz_body_group_hub.c - libFuzzer target: the body of a WW_KIND_GROUP_HUB event decodes
 * only to something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_GROUP_HUB
#include "fuzz_body.inc"
