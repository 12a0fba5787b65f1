/*
 * fuzz_channel.c - libFuzzer target: hostile bytes against the secure channel.
 *
 * Two victims per input, both with fixed keys (fixed ephemeral keys too, so every run is
 * reproducible):
 *  1. a responder that has seen nothing yet takes the input as the initiator's stream;
 *  2. an initiator whose handshake with a genuine responder has completed takes a
 *     genuine sealed record (a frame made of the input's first bytes) followed by the
 *     whole input, as the responder's stream.
 * The first byte of the input chooses how the stream is cut into feeds, so splits are
 * explored too. Properties: nothing is delivered to the fresh responder (no one can
 * finish its handshake without the keys); the genuine record is delivered intact and
 * first; after a failure every feed returns the same code and delivers nothing; every
 * block is freed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "alloc.h"
#include "channel.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    int n;
    const uint8_t *want;
    size_t want_len;
};

static int on_frame(void *ud, const uint8_t *frame, size_t len)
{
    struct seen *s = ud;
    if (s->n == 0 && s->want && (len != s->want_len || memcmp(frame, s->want, len) != 0))
        abort();
    s->n++;
    return 0;
}

static void keys(uint8_t s, uint8_t pk[32], uint8_t sk[64], uint8_t e[32])
{
    uint8_t seed[32];
    for (int k = 0; k < 32; k++) {
        seed[k] = (uint8_t)(s + k);
        e[k] = (uint8_t)(s + 0x40 + k);
    }
    if (crypto_sign_seed_keypair(pk, sk, seed) != 0)
        abort();
}

/* Feeds the stream in pieces of 1..step bytes; returns the last result. */
static int feed_split(struct ww_channel *ch, const uint8_t *p, size_t n, size_t step,
                      struct seen *s)
{
    int rc = 0;
    for (size_t pos = 0; pos < n;) {
        size_t take = step < n - pos ? step : n - pos;
        rc = ww_channel_feed(ch, p + pos, take, on_frame, s);
        if (rc != 0) {
            /* Terminal: the same code again, and nothing more delivered. */
            if (ww_channel_get_state(ch) != WW_CHANNEL_FAILED || ww_channel_error(ch) != rc)
                abort();
            int n_then = s->n;
            if (ww_channel_feed(ch, p, n, on_frame, s) != rc || s->n != n_then)
                abort();
            return rc;
        }
        pos += take;
    }
    return rc;
}

static void pump(struct ww_channel *from, struct ww_channel *to, struct ww_buf *m)
{
    struct seen s = {0};
    ww_buf_reset(m);
    if (ww_channel_handshake_write(from, m) != 0)
        abort();
    if (ww_channel_feed(to, m->p, m->len, on_frame, &s) != 0 || s.n != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t a_pk[32], a_sk[64], a_e[32], b_pk[32], b_sk[64], b_e[32];
    static int ready;
    if (!ready) {
        if (sodium_init() < 0)
            abort();
        keys(0x00, a_pk, a_sk, a_e);
        keys(0x20, b_pk, b_sk, b_e);
        ready = 1;
    }
    size_t step = size ? 1 + data[0] % 64 : 1;
    if (size && data[0] >= 192)
        step = size; /* one piece */

    /* 1. A fresh responder. */
    struct ww_channel b;
    struct seen s = {0};
    if (ww_channel_init(&b, WW_CHANNEL_RESPONDER, b_pk, b_sk, WW_CAP_SYNC) != 0 ||
        ww_channel_set_ephemeral(&b, b_e) != 0)
        abort();
    feed_split(&b, data, size, step, &s);
    if (s.n != 0 || ww_channel_get_state(&b) == WW_CHANNEL_OPEN)
        abort();
    ww_channel_close(&b);

    /* 2. An initiator after a genuine handshake. */
    struct ww_channel a;
    struct ww_buf m;
    ww_buf_init(&m, 0);
    if (ww_channel_init(&a, WW_CHANNEL_INITIATOR, a_pk, a_sk, WW_CAP_SYNC) != 0 ||
        ww_channel_set_ephemeral(&a, a_e) != 0 ||
        ww_channel_init(&b, WW_CHANNEL_RESPONDER, b_pk, b_sk, WW_CAP_SYNC) != 0 ||
        ww_channel_set_ephemeral(&b, b_e) != 0)
        abort();
    pump(&a, &b, &m);
    pump(&b, &a, &m);
    pump(&a, &b, &m);
    if (ww_channel_get_state(&a) != WW_CHANNEL_OPEN || ww_channel_get_state(&b) != WW_CHANNEL_OPEN)
        abort();
    size_t flen = size < 32 ? size : 32;
    ww_buf_reset(&m);
    memset(&s, 0, sizeof s);
    if (flen) {
        if (ww_channel_seal(&b, data, flen, &m) != 0)
            abort();
        s.want = data;
        s.want_len = flen;
    }
    if (ww_buf_append(&m, data, size) != 0)
        abort();
    feed_split(&a, m.p, m.len, step, &s);
    if (flen && s.n < 1)
        abort();
    ww_channel_close(&a);
    ww_channel_close(&b);
    ww_buf_free(&m);
    if (ww_alloc_outstanding() != 0)
        abort();
    return 0;
}
