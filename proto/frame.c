/*
 * frame.c - sync frames: array [type, fields of that type..., ext...].
 *
 * VV and ACK share one layout but for the tip of each VV entry, as PING and PONG share one. A batch
 * carries sealed events as opaque bin; they are decoded one by one with ww_envelope_decode by the
 * receiver.
 *
 * Invariants: a frame is at most WW_MAX_FRAME bytes in both directions; the type is read
 * first, so an unknown type is WW_EUNKNOWN whatever follows; one check function holds the
 * rules on values for the encoder and the decoder; decoding never allocates and writes
 * *out only on success.
 */
#include <string.h>

#include "mp.h"
#include "proto.h"

#define FRAME_DEPTH 1

/* Number of array elements of each known frame type, the type itself included. */
static const uint8_t field_count[WW_FRAME_MAX_KNOWN + 1] = {
    [WW_FRAME_HS_INIT] = 4,    [WW_FRAME_HS_RESP] = 6,     [WW_FRAME_HS_FIN] = 3,
    [WW_FRAME_VV] = 3,         [WW_FRAME_BATCH] = 4,       [WW_FRAME_ACK] = 3,
    [WW_FRAME_ERROR] = 3,      [WW_FRAME_PING] = 2,        [WW_FRAME_PONG] = 2,
    [WW_FRAME_RUNS] = 4,       [WW_FRAME_REDEEM] = 4,      [WW_FRAME_REDEEMED] = 5,
    [WW_FRAME_REDEMPTION] = 6, [WW_FRAME_AGG_GET] = 3,     [WW_FRAME_AGG_SHARES] = 5,
    [WW_FRAME_AGG_GATE] = 4,   [WW_FRAME_AGG_RELEASE] = 3,
};

/* 1 for the frame types this version can decode and encode. */
static int known_type(uint64_t type)
{
    return type >= 1 && type <= WW_FRAME_MAX_KNOWN;
}

/* Every rule on the known fields of f, whose type is known. */
static int check_frame(const struct ww_frame *f)
{
    switch (f->type) {
    case WW_FRAME_HS_INIT:
        return f->u.hs_init.version >= 1 ? 0 : WW_ERANGE;
    case WW_FRAME_HS_RESP:
        return f->u.hs_resp.version >= 1 ? 0 : WW_ERANGE;
    case WW_FRAME_VV:
    case WW_FRAME_ACK:
        if (f->u.vv.n > WW_MAX_VV)
            return WW_ETOOBIG;
        for (uint32_t k = 0; k < f->u.vv.n; k++) {
            if (f->u.vv.e[k].seq < 1)
                return WW_ERANGE;
            if (k > 0 && memcmp(f->u.vv.e[k - 1].author, f->u.vv.e[k].author, WW_PK_LEN) >= 0)
                return WW_ERANGE;
        }
        return 0;
    case WW_FRAME_BATCH:
    case WW_FRAME_RUNS:
        if (f->u.batch.n > WW_MAX_BATCH)
            return WW_ETOOBIG;
        if (f->u.batch.n < 1 || f->u.batch.more > 1)
            return WW_ERANGE;
        for (uint32_t k = 0; k < f->u.batch.n; k++) {
            const struct ww_slice *ev = &f->u.batch.ev[k];
            if (ev->len > WW_MAX_EVENT)
                return WW_ETOOBIG;
            if (ev->len < 1)
                return WW_ERANGE;
            if (!ev->p)
                return WW_EINVAL;
        }
        return 0;
    case WW_FRAME_ERROR:
        if (f->u.error.code < 1)
            return WW_ERANGE;
        return ww_mp_check_text(f->u.error.text, 0, WW_MAX_ERROR_TEXT);
    case WW_FRAME_REDEEM:
    case WW_FRAME_REDEMPTION:
        /* A device invite's redemption names no one (bin 0); a member's profile is sealed to
         * the invite's key, so that only its size can be checked here (9.9). */
        if (f->u.redeem.profile.len == 0)
            return 0;
        if (f->u.redeem.profile.len < WW_REDEEM_PROFILE_MIN)
            return WW_ERANGE;
        if (f->u.redeem.profile.len > WW_REDEEM_PROFILE_MAX)
            return WW_ETOOBIG;
        return f->u.redeem.profile.p ? 0 : WW_EINVAL;
    case WW_FRAME_REDEEMED:
        if (f->u.redeemed.has_aggs &&
            memcmp(f->u.redeemed.aggs[0], f->u.redeemed.aggs[1], WW_PK_LEN) == 0)
            return WW_ERANGE;
        return f->u.redeemed.state == WW_REDEEM_WAITING || f->u.redeemed.state == WW_REDEEM_ADMITTED
                   ? 0
                   : WW_ERANGE;
    case WW_FRAME_AGG_GET:
        return f->u.agg_get.upto == 0 || f->u.agg_get.after < f->u.agg_get.upto ? 0 : WW_ERANGE;
    case WW_FRAME_AGG_SHARES:
        if (f->u.agg_shares.n > WW_MAX_AGG_PAGE)
            return WW_ETOOBIG;
        if (f->u.agg_shares.more > 1)
            return WW_ERANGE;
        for (uint32_t k = 0; k < f->u.agg_shares.n; k++)
            if (f->u.agg_shares.msg[k].len < 9 || !f->u.agg_shares.msg[k].p)
                return WW_ERANGE;
        return 0;
    case WW_FRAME_AGG_GATE:
        if (f->u.agg_gate.skip.len % 8 || f->u.agg_gate.skip.len > 8 * WW_MAX_AGG_SKIP)
            return WW_ERANGE;
        /* The ids B left out are strictly ascending, as the pages came. */
        for (size_t k = 8; k < f->u.agg_gate.skip.len; k += 8)
            if (memcmp(f->u.agg_gate.skip.p + k - 8, f->u.agg_gate.skip.p + k, 8) >= 0)
                return WW_ERANGE;
        return f->u.agg_gate.gate.len ? 0 : WW_ERANGE;
    case WW_FRAME_AGG_RELEASE:
        return f->u.agg_release.gate.len && f->u.agg_release.release.len ? 0 : WW_ERANGE;
    default: /* HS_FIN, PING, PONG: fixed-size fields only */
        return 0;
    }
}

/* The fields a redemption carries after its group and device (REDEEM has neither: the hub
 * finds the group by the invite, and the device is the channel's proven peer). */
static void write_redeem(struct ww_mp_writer *w, const struct ww_frame *f)
{
    ww_mp_put_bin(w, f->u.redeem.invite, WW_PK_LEN);
    ww_mp_put_bin(w, f->u.redeem.profile.p, f->u.redeem.profile.len);
    ww_mp_put_bin(w, f->u.redeem.sig, WW_SIG_LEN);
}

/* Writes the fields after the type of a checked frame. */
static void write_fields(struct ww_mp_writer *w, const struct ww_frame *f)
{
    switch (f->type) {
    case WW_FRAME_HS_INIT:
        ww_mp_put_uint(w, f->u.hs_init.version);
        ww_mp_put_uint(w, f->u.hs_init.caps);
        ww_mp_put_bin(w, f->u.hs_init.eph, sizeof f->u.hs_init.eph);
        break;
    case WW_FRAME_HS_RESP:
        ww_mp_put_uint(w, f->u.hs_resp.version);
        ww_mp_put_uint(w, f->u.hs_resp.caps);
        ww_mp_put_bin(w, f->u.hs_resp.eph, sizeof f->u.hs_resp.eph);
        ww_mp_put_bin(w, f->u.hs_resp.static_pk, sizeof f->u.hs_resp.static_pk);
        ww_mp_put_bin(w, f->u.hs_resp.sig, sizeof f->u.hs_resp.sig);
        break;
    case WW_FRAME_HS_FIN:
        ww_mp_put_bin(w, f->u.hs_fin.static_pk, sizeof f->u.hs_fin.static_pk);
        ww_mp_put_bin(w, f->u.hs_fin.sig, sizeof f->u.hs_fin.sig);
        break;
    case WW_FRAME_VV:
    case WW_FRAME_ACK:
        ww_mp_put_bin(w, f->u.vv.group, sizeof f->u.vv.group);
        ww_mp_put_array(w, f->u.vv.n);
        for (uint32_t k = 0; k < f->u.vv.n; k++) {
            ww_mp_put_array(w, f->type == WW_FRAME_VV ? 3 : 2);
            ww_mp_put_bin(w, f->u.vv.e[k].author, WW_PK_LEN);
            ww_mp_put_uint(w, f->u.vv.e[k].seq);
            if (f->type == WW_FRAME_VV)
                ww_mp_put_bin(w, f->u.vv.e[k].tip, WW_TIP_LEN);
        }
        break;
    case WW_FRAME_BATCH:
    case WW_FRAME_RUNS:
        ww_mp_put_bin(w, f->u.batch.group, sizeof f->u.batch.group);
        ww_mp_put_array(w, f->u.batch.n);
        for (uint32_t k = 0; k < f->u.batch.n; k++)
            ww_mp_put_bin(w, f->u.batch.ev[k].p, f->u.batch.ev[k].len);
        ww_mp_put_uint(w, f->u.batch.more);
        break;
    case WW_FRAME_ERROR:
        ww_mp_put_uint(w, f->u.error.code);
        ww_mp_put_str(w, f->u.error.text);
        break;
    case WW_FRAME_PING:
    case WW_FRAME_PONG:
        ww_mp_put_uint(w, f->u.ping.nonce);
        break;
    case WW_FRAME_REDEEM:
        write_redeem(w, f);
        break;
    case WW_FRAME_REDEMPTION:
        ww_mp_put_bin(w, f->u.redeem.group, WW_GROUP_ID_LEN);
        ww_mp_put_bin(w, f->u.redeem.device, WW_PK_LEN);
        write_redeem(w, f);
        break;
    case WW_FRAME_REDEEMED:
        ww_mp_put_bin(w, f->u.redeemed.group, WW_GROUP_ID_LEN);
        ww_mp_put_bin(w, f->u.redeemed.invite, WW_PK_LEN);
        ww_mp_put_uint(w, f->u.redeemed.state);
        ww_mp_put_bin(w, f->u.redeemed.aggs[0], f->u.redeemed.has_aggs ? 2 * WW_PK_LEN : 0);
        break;
    case WW_FRAME_AGG_GET:
        ww_mp_put_uint(w, f->u.agg_get.after);
        ww_mp_put_uint(w, f->u.agg_get.upto);
        break;
    case WW_FRAME_AGG_SHARES:
        ww_mp_put_uint(w, f->u.agg_shares.upto);
        ww_mp_put_bin(w, f->u.agg_shares.setup.p, f->u.agg_shares.setup.len);
        ww_mp_put_array(w, f->u.agg_shares.n);
        for (uint32_t k = 0; k < f->u.agg_shares.n; k++)
            ww_mp_put_bin(w, f->u.agg_shares.msg[k].p, f->u.agg_shares.msg[k].len);
        ww_mp_put_uint(w, f->u.agg_shares.more);
        break;
    case WW_FRAME_AGG_GATE:
        ww_mp_put_uint(w, f->u.agg_gate.upto);
        ww_mp_put_bin(w, f->u.agg_gate.skip.p, f->u.agg_gate.skip.len);
        ww_mp_put_bin(w, f->u.agg_gate.gate.p, f->u.agg_gate.gate.len);
        break;
    case WW_FRAME_AGG_RELEASE:
        ww_mp_put_bin(w, f->u.agg_release.gate.p, f->u.agg_release.gate.len);
        ww_mp_put_bin(w, f->u.agg_release.release.p, f->u.agg_release.release.len);
        break;
    default:
        break;
    }
}

/* Encodes f; WW_EUNKNOWN for a type this version does not know, the decoder's rules
 * otherwise, WW_ETOOBIG past WW_MAX_FRAME bytes. */
int ww_frame_encode(const struct ww_frame *f, struct ww_buf *out)
{
    if (!known_type(f->type))
        return WW_EUNKNOWN;
    WW_TRY(check_frame(f));
    WW_TRY(ww_mp_check_ext(&f->ext, FRAME_DEPTH));

    struct ww_mp_writer w;
    ww_mp_writer_init(&w, out, WW_MAX_FRAME);
    ww_mp_put_array(&w, field_count[f->type] + f->ext.n);
    ww_mp_put_uint(&w, f->type);
    write_fields(&w, f);
    ww_mp_put_raw(&w, f->ext.raw.p, f->ext.raw.len);
    return ww_mp_writer_finish(&w);
}

/* A uint that fits 32 bits. */
static int read_u32(struct ww_mp_reader *r, uint32_t *out)
{
    uint64_t v;
    WW_TRY(ww_mp_read_uint_max(r, UINT32_MAX, &v));
    *out = (uint32_t)v;
    return 0;
}

/* A handshake version: a uint that fits a byte (1..255 is checked with the frame). */
static int read_version(struct ww_mp_reader *r, uint8_t *out)
{
    uint64_t v;
    WW_TRY(ww_mp_read_uint_max(r, UINT8_MAX, &v));
    *out = (uint8_t)v;
    return 0;
}

/* One version-vector entry: exactly [author, seq, tip] in a VV, [author, seq] in an ACK. */
static int read_vv_entry(struct ww_mp_reader *r, int tip, struct ww_vv_item *e)
{
    uint32_t n, want = tip ? 3 : 2;
    WW_TRY(ww_mp_read_array(r, want, &n));
    if (n != want)
        return WW_ETYPE;
    WW_TRY(ww_mp_read_bin_exact(r, WW_PK_LEN, e->author));
    WW_TRY(ww_mp_read_uint(r, &e->seq));
    return tip ? ww_mp_read_bin_exact(r, WW_TIP_LEN, e->tip) : 0;
}

/* The fields of write_redeem. */
static int read_redeem(struct ww_mp_reader *r, struct ww_frame *f)
{
    WW_TRY(ww_mp_read_bin_exact(r, WW_PK_LEN, f->u.redeem.invite));
    WW_TRY(ww_mp_read_bin(r, WW_REDEEM_PROFILE_MAX, &f->u.redeem.profile));
    return ww_mp_read_bin_exact(r, WW_SIG_LEN, f->u.redeem.sig);
}

/* REDEEMED's aggregator keys: bin 0, or both keys in one bin of 64. */
static int read_aggs(struct ww_mp_reader *r, struct ww_frame *f)
{
    struct ww_slice b;
    WW_TRY(ww_mp_read_bin(r, 2 * WW_PK_LEN, &b));
    if (b.len != 0 && b.len != 2 * WW_PK_LEN)
        return WW_ERANGE;
    f->u.redeemed.has_aggs = b.len != 0;
    if (b.len)
        memcpy(f->u.redeemed.aggs[0], b.p, b.len);
    return 0;
}

/* Reads the fields after the type into f (zeroed by the caller, type set). */
static int read_fields(struct ww_mp_reader *r, struct ww_frame *f)
{
    uint32_t n;
    uint64_t v;
    switch (f->type) {
    case WW_FRAME_HS_INIT:
        WW_TRY(read_version(r, &f->u.hs_init.version));
        WW_TRY(read_u32(r, &f->u.hs_init.caps));
        return ww_mp_read_bin_exact(r, sizeof f->u.hs_init.eph, f->u.hs_init.eph);
    case WW_FRAME_HS_RESP:
        WW_TRY(read_version(r, &f->u.hs_resp.version));
        WW_TRY(read_u32(r, &f->u.hs_resp.caps));
        WW_TRY(ww_mp_read_bin_exact(r, sizeof f->u.hs_resp.eph, f->u.hs_resp.eph));
        WW_TRY(ww_mp_read_bin_exact(r, WW_PK_LEN, f->u.hs_resp.static_pk));
        return ww_mp_read_bin_exact(r, WW_SIG_LEN, f->u.hs_resp.sig);
    case WW_FRAME_HS_FIN:
        WW_TRY(ww_mp_read_bin_exact(r, WW_PK_LEN, f->u.hs_fin.static_pk));
        return ww_mp_read_bin_exact(r, WW_SIG_LEN, f->u.hs_fin.sig);
    case WW_FRAME_VV:
    case WW_FRAME_ACK:
        WW_TRY(ww_mp_read_bin_exact(r, WW_GROUP_ID_LEN, f->u.vv.group));
        WW_TRY(ww_mp_read_array(r, WW_MAX_VV, &n));
        f->u.vv.n = n;
        for (uint32_t k = 0; k < n; k++)
            WW_TRY(read_vv_entry(r, f->type == WW_FRAME_VV, &f->u.vv.e[k]));
        return 0;
    case WW_FRAME_BATCH:
    case WW_FRAME_RUNS:
        WW_TRY(ww_mp_read_bin_exact(r, WW_GROUP_ID_LEN, f->u.batch.group));
        WW_TRY(ww_mp_read_array(r, WW_MAX_BATCH, &n));
        if (n < 1)
            return WW_ERANGE;
        f->u.batch.n = n;
        for (uint32_t k = 0; k < n; k++)
            WW_TRY(ww_mp_read_bin(r, WW_MAX_EVENT, &f->u.batch.ev[k]));
        WW_TRY(ww_mp_read_uint_max(r, 1, &v));
        f->u.batch.more = (uint8_t)v;
        return 0;
    case WW_FRAME_ERROR:
        WW_TRY(ww_mp_read_uint_max(r, UINT16_MAX, &v));
        f->u.error.code = (uint16_t)v;
        return ww_mp_read_str(r, WW_MAX_ERROR_TEXT, &f->u.error.text);
    case WW_FRAME_PING:
    case WW_FRAME_PONG:
        return ww_mp_read_uint(r, &f->u.ping.nonce);
    case WW_FRAME_REDEEM:
        return read_redeem(r, f);
    case WW_FRAME_REDEMPTION:
        WW_TRY(ww_mp_read_bin_exact(r, WW_GROUP_ID_LEN, f->u.redeem.group));
        WW_TRY(ww_mp_read_bin_exact(r, WW_PK_LEN, f->u.redeem.device));
        return read_redeem(r, f);
    case WW_FRAME_REDEEMED:
        WW_TRY(ww_mp_read_bin_exact(r, WW_GROUP_ID_LEN, f->u.redeemed.group));
        WW_TRY(ww_mp_read_bin_exact(r, WW_PK_LEN, f->u.redeemed.invite));
        WW_TRY(ww_mp_read_uint_max(r, UINT8_MAX, &v));
        f->u.redeemed.state = (uint8_t)v;
        return read_aggs(r, f);
    case WW_FRAME_AGG_GET:
        WW_TRY(ww_mp_read_uint(r, &f->u.agg_get.after));
        return ww_mp_read_uint(r, &f->u.agg_get.upto);
    case WW_FRAME_AGG_SHARES:
        WW_TRY(ww_mp_read_uint(r, &f->u.agg_shares.upto));
        WW_TRY(ww_mp_read_bin(r, WW_MAX_FRAME, &f->u.agg_shares.setup));
        WW_TRY(ww_mp_read_array(r, WW_MAX_AGG_PAGE, &n));
        f->u.agg_shares.n = n;
        for (uint32_t k = 0; k < n; k++)
            WW_TRY(ww_mp_read_bin(r, 8 + WW_MAX_SHARE_MSG, &f->u.agg_shares.msg[k]));
        WW_TRY(ww_mp_read_uint_max(r, 1, &v));
        f->u.agg_shares.more = (uint8_t)v;
        return 0;
    case WW_FRAME_AGG_GATE:
        WW_TRY(ww_mp_read_uint(r, &f->u.agg_gate.upto));
        WW_TRY(ww_mp_read_bin(r, 8 * WW_MAX_AGG_SKIP, &f->u.agg_gate.skip));
        return ww_mp_read_bin(r, WW_MAX_FRAME, &f->u.agg_gate.gate);
    case WW_FRAME_AGG_RELEASE:
        WW_TRY(ww_mp_read_bin(r, WW_MAX_FRAME, &f->u.agg_release.gate));
        return ww_mp_read_bin(r, WW_MAX_FRAME, &f->u.agg_release.release);
    default:
        return WW_EUNKNOWN;
    }
}

/* Decodes one frame filling all of buf. WW_EUNKNOWN for a type this version does not know;
 * the batch's events are borrowed slices of buf. */
int ww_frame_decode(const uint8_t *buf, size_t len, struct ww_frame *out)
{
    if (len > WW_MAX_FRAME)
        return WW_ETOOBIG;
    struct ww_mp_reader r;
    struct ww_frame f;
    uint32_t n, n_ext;
    uint64_t type;
    memset(&f, 0, sizeof f);
    ww_mp_reader_init(&r, buf, len);
    WW_TRY(ww_mp_read_array(&r, UINT32_MAX, &n));
    if (n < 1)
        return WW_ETYPE;
    WW_TRY(ww_mp_read_uint(&r, &type));
    if (!known_type(type))
        return WW_EUNKNOWN;
    f.type = (uint8_t)type;
    WW_TRY(ww_mp_split_fields(n, field_count[f.type], &n_ext));
    WW_TRY(read_fields(&r, &f));
    WW_TRY(check_frame(&f));
    WW_TRY(ww_mp_read_ext(&r, n_ext, FRAME_DEPTH, &f.ext));
    WW_TRY(ww_mp_finish(&r));
    *out = f;
    return 0;
}
