/*
 * fuzz_beacon.c - libFuzzer target: the beacon decoder (PROTOCOL.md 9.10) on any bytes.
 * The input is tried as a datagram under the key of the vector (12.12): whatever opens
 * must re-seal, with its own nonce, to exactly the input. Then the input's first bytes
 * serve as key, nonce and fields of a beacon that must open to the same fields, and not
 * open under another key. Nothing may be allocated.
 */
#include <sodium.h>

#include "fuzz_common.inc"
#include "wegwijs.h"

static const uint8_t vector_key[WW_KEY_LEN] = {
    0xe5, 0x28, 0x77, 0x6e, 0xe7, 0x97, 0xc1, 0xbd, 0x76, 0xad, 0xf3, 0x74, 0x25, 0xa0, 0xe8, 0x71,
    0x18, 0x39, 0x49, 0xb1, 0x1e, 0x80, 0x06, 0xdd, 0xe1, 0xcf, 0xa1, 0xbe, 0xbd, 0x04, 0xee, 0xda};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ww_beacon b;
    uint8_t out[WW_BEACON_LEN];
    if (ww_beacon_open(vector_key, data, size, &b) == 0) {
        ww_beacon_seal(vector_key, data + 4, &b, out);
        if (size != WW_BEACON_LEN || memcmp(out, data, WW_BEACON_LEN) != 0)
            abort();
    }
    if (size >= WW_KEY_LEN + WW_BEACON_NONCE_LEN + 4 + WW_KEY_LEN + 2) {
        const uint8_t *p = data + WW_KEY_LEN + WW_BEACON_NONCE_LEN;
        struct ww_beacon in, back;
        in.window = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        memcpy(in.device, p + 4, WW_KEY_LEN);
        in.port = (uint16_t)(p[4 + WW_KEY_LEN] << 8 | p[5 + WW_KEY_LEN]);
        ww_beacon_seal(data, data + WW_KEY_LEN, &in, out);
        if (ww_beacon_open(data, out, sizeof out, &back) != 0 || back.window != in.window ||
            back.port != in.port || memcmp(back.device, in.device, WW_KEY_LEN) != 0)
            abort();
        if (memcmp(data, vector_key, WW_KEY_LEN) != 0 &&
            ww_beacon_open(vector_key, out, sizeof out, &back) == 0)
            abort();
    }
    if (ww_alloc_outstanding() != 0)
        abort();
    return 0;
}
