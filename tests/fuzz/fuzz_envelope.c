/*
 * fuzz_envelope.c - libFuzzer target: a envelope decodes only to something that re-encodes to the
 * same bytes (nested encodings included), without leaks.
 */
#include "fuzz_common.inc"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    roundtrip_envelope(data, size);
    return 0;
}
