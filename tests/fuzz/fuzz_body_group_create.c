/*
 * fuzz_body_group_create.c - libFuzzer target: the body of a WW_KIND_GROUP_CREATE event decodes
 * only to something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_GROUP_CREATE
#include "fuzz_body.inc"
