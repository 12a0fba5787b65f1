/*
 * fuzz_body_sync_report.c - libFuzzer target: the body of a WW_KIND_SYNC_REPORT event decodes
 * only to something that re-encodes to the same bytes.
 */
#define FUZZ_KIND WW_KIND_SYNC_REPORT
#include "fuzz_body.inc"
