/*
 * fuzz_share.c - ww_share_decode on hostile bytes: whatever it accepts re-encodes to exactly
 * the same bytes, and an aggregator given it fails cleanly (the shares do not open under
 * the test key) without leaking.
 */
#include "fuzz_common.inc"
#include "share.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ww_share_msg m;
    struct ww_buf out;
    if (ww_share_decode(data, size, &m) != 0)
        return 0;
    ww_buf_init(&out, 0);
    expect_same(ww_share_encode(&m, &out), &out, data, size);
    uint8_t pk[32] = {9}, sk[32] = {1};
    uint64_t share[WW_AGG_DIM];
    if (ww_share_open(&m, 0, pk, sk, share) == 0)
        abort();
    return 0;
}
