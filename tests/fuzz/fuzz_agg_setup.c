/*
 * fuzz_agg_setup.c - ww_agg_setup_decode on hostile bytes (a hub's setup as aggregator B
 * receives it): whatever it accepts re-encodes to exactly the same bytes, and nothing
 * leaks.
 */
#include "fuzz_common.inc"
#include "share.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ww_agg_setup s;
    struct ww_buf out;
    if (ww_agg_setup_decode(data, size, &s) != 0)
        return 0;
    ww_buf_init(&out, 0);
    int rc = ww_agg_setup_encode(&s, &out);
    ww_agg_setup_free(&s);
    expect_same(rc, &out, data, size);
    return 0;
}
