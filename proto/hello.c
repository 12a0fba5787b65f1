/*
 * hello.c - the handshake payload: array [version, caps, device_pk, ext...].
 *
 * It travels inside the Noise handshake (messages 2 and 3, encrypted), so only the peer
 * sees it, but the peer is as hostile as anyone: the decoder is bounded and canonical like
 * every other one, and a whole payload is at most WW_MAX_HELLO bytes so the handshake
 * records that carry it can be bounded from their length prefix alone.
 *
 * Invariants: version is 1..255 in both directions; decoding never allocates and writes
 * *out only on success; a decoded payload re-encodes to exactly its input.
 */
#include <string.h>

#include "mp.h"
#include "proto.h"

#define HELLO_DEPTH  1
#define HELLO_FIELDS 3

int ww_hello_encode(const struct ww_hello *h, struct ww_buf *out)
{
    if (h->version < 1)
        return WW_ERANGE;
    WW_TRY(ww_mp_check_ext(&h->ext, HELLO_DEPTH));
    struct ww_mp_writer w;
    ww_mp_writer_init(&w, out, WW_MAX_HELLO);
    ww_mp_put_array(&w, HELLO_FIELDS + h->ext.n);
    ww_mp_put_uint(&w, h->version);
    ww_mp_put_uint(&w, h->caps);
    ww_mp_put_bin(&w, h->device_pk, WW_PK_LEN);
    ww_mp_put_raw(&w, h->ext.raw.p, h->ext.raw.len);
    return ww_mp_writer_finish(&w);
}

int ww_hello_decode(const uint8_t *buf, size_t len, struct ww_hello *out)
{
    if (len > WW_MAX_HELLO)
        return WW_ETOOBIG;
    struct ww_mp_reader r;
    struct ww_hello h;
    uint32_t n_ext;
    uint64_t v;
    memset(&h, 0, sizeof h);
    ww_mp_reader_init(&r, buf, len);
    WW_TRY(ww_mp_read_fields(&r, HELLO_FIELDS, &n_ext));
    WW_TRY(ww_mp_read_uint_max(&r, UINT8_MAX, &v));
    if (v < 1)
        return WW_ERANGE;
    h.version = (uint8_t)v;
    WW_TRY(ww_mp_read_uint_max(&r, UINT32_MAX, &v));
    h.caps = (uint32_t)v;
    WW_TRY(ww_mp_read_bin_exact(&r, WW_PK_LEN, h.device_pk));
    WW_TRY(ww_mp_read_ext(&r, n_ext, HELLO_DEPTH, &h.ext));
    WW_TRY(ww_mp_finish(&r));
    *out = h;
    return 0;
}
