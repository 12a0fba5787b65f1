/*
 * fuzz_hello.c - libFuzzer target: the handshake hello decodes only to something that
 * re-encodes to the same bytes, without leaks. (Inside the channel the hello sits behind
 * the Noise encryption, where a fuzzer cannot reach it; this target feeds it directly.)
 */
#include "fuzz_common.inc"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ww_hello h;
    struct ww_buf out;
    if (ww_hello_decode(data, size, &h) != 0)
        return 0;
    if (h.version < 1)
        abort();
    ww_buf_init(&out, 0);
    expect_same(ww_hello_encode(&h, &out), &out, data, size);
    return 0;
}
