/*
 * fuzz_body_device_invite.c - libFuzzer target: the body of a WW_KIND_DEVICE_INVITE event decodes
 * only to something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_DEVICE_INVITE
#include "fuzz_body.inc"
