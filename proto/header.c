/*
 * header.c - the signed event header and the sealed-event envelope.
 *
 * Header: array [version, group, author, seq, prev, hlc, epoch, kind, audience, subject,
 * ref, ext...]. Envelope: array [header, ct_hash, sig, body | nil, ext...].
 *
 * Invariants: a header is always nested in an envelope, so its array counts as depth 2
 * also when decoded alone; decoders write *out only on success; encoders check the same
 * rules as decoders, so anything encoded here decodes to the same struct and bytes.
 */
#include <string.h>

#include "mp.h"
#include "proto.h"

#define HEADER_FIELDS   11
#define ENVELOPE_FIELDS 4
#define HEADER_DEPTH    2
#define ENVELOPE_DEPTH  1

/* 1 when the audience names a member in `subject`. */
static int has_subject(uint8_t audience)
{
    return audience == WW_AUD_PAIR || audience == WW_AUD_SELF;
}

/* The rules on the known header fields that both directions enforce. */
static int check_header(const struct ww_header *h)
{
    if (h->version != WW_PROTO_VERSION)
        return WW_EVERSION;
    if (h->seq == 0 || h->kind == 0 || h->audience > WW_AUD_AGG)
        return WW_ERANGE;
    if (h->ref_len > WW_REF_MAX)
        return WW_ETOOBIG;
    if (h->seq == 1 && !ww_mp_all_zero(h->prev, sizeof h->prev))
        return WW_EINVAL; /* prev is not encoded for the first event */
    if (!has_subject(h->audience) && !ww_mp_all_zero(h->subject, sizeof h->subject))
        return WW_EINVAL; /* subject is not encoded for this audience */
    return 0;
}

/* Writes a checked header: its 11 fields, then its unknown fields as they came. The fields
 * in `elide` (WW_ELIDE_*) are written as empty bins: the compact form. */
static void write_header(struct ww_mp_writer *w, const struct ww_header *h, unsigned elide)
{
    ww_mp_put_array(w, HEADER_FIELDS + h->ext.n);
    ww_mp_put_uint(w, h->version);
    ww_mp_put_bin(w, h->group, elide & WW_ELIDE_GROUP ? 0 : sizeof h->group);
    ww_mp_put_bin(w, h->author, elide & WW_ELIDE_AUTHOR ? 0 : sizeof h->author);
    ww_mp_put_uint(w, h->seq);
    ww_mp_put_bin(w, h->prev, h->seq == 1 || elide & WW_ELIDE_PREV ? 0 : sizeof h->prev);
    ww_mp_put_uint(w, h->hlc);
    ww_mp_put_uint(w, h->epoch);
    ww_mp_put_uint(w, h->kind);
    ww_mp_put_uint(w, h->audience);
    ww_mp_put_bin(w, h->subject, has_subject(h->audience) ? sizeof h->subject : 0);
    ww_mp_put_bin(w, h->ref, h->ref_len);
    ww_mp_put_raw(w, h->ext.raw.p, h->ext.raw.len);
}

/* A fixed-size bin field, or (when `may` allows it) an empty bin standing for an elided
 * one: then `bit` is set in *elided and dst is left zero. */
static int read_fixed(struct ww_mp_reader *r, size_t n, uint8_t *dst, unsigned may, unsigned bit,
                      unsigned *elided)
{
    if (!(may & bit))
        return ww_mp_read_bin_exact(r, n, dst);
    struct ww_slice s;
    WW_TRY(ww_mp_read_bin(r, n, &s));
    if (s.len == 0) {
        *elided |= bit;
        return 0;
    }
    if (s.len != n)
        return WW_ETYPE;
    memcpy(dst, s.p, n);
    return 0;
}

/* Reads a header into h (which the caller has zeroed). The version is checked before the
 * field count, so an event of another version is WW_EVERSION whatever its layout. `may`:
 * the fields that may come elided (compact form); *elided says which did. */
static int read_header(struct ww_mp_reader *r, struct ww_header *h, unsigned may, unsigned *elided)
{
    uint32_t n, n_ext;
    uint64_t v;
    struct ww_slice s;

    WW_TRY(ww_mp_read_array(r, UINT32_MAX, &n));
    if (n < 1)
        return WW_ETYPE;
    WW_TRY(ww_mp_read_uint(r, &v));
    if (v != WW_PROTO_VERSION)
        return WW_EVERSION;
    h->version = (uint8_t)v;
    WW_TRY(ww_mp_split_fields(n, HEADER_FIELDS, &n_ext));
    WW_TRY(read_fixed(r, sizeof h->group, h->group, may, WW_ELIDE_GROUP, elided));
    WW_TRY(read_fixed(r, sizeof h->author, h->author, may, WW_ELIDE_AUTHOR, elided));
    WW_TRY(ww_mp_read_uint(r, &h->seq));
    if (h->seq == 0)
        return WW_ERANGE;
    if (h->seq == 1)
        WW_TRY(ww_mp_read_bin_exact(r, 0, h->prev));
    else
        WW_TRY(read_fixed(r, sizeof h->prev, h->prev, may, WW_ELIDE_PREV, elided));
    WW_TRY(ww_mp_read_uint(r, &h->hlc));
    WW_TRY(ww_mp_read_uint_max(r, UINT32_MAX, &v));
    h->epoch = (uint32_t)v;
    WW_TRY(ww_mp_read_uint_max(r, UINT16_MAX, &v));
    h->kind = (uint16_t)v;
    WW_TRY(ww_mp_read_uint_max(r, WW_AUD_AGG, &v));
    h->audience = (uint8_t)v;
    WW_TRY(ww_mp_read_bin_exact(r, has_subject(h->audience) ? sizeof h->subject : 0, h->subject));
    WW_TRY(ww_mp_read_bin(r, WW_REF_MAX, &s));
    if (s.len)
        memcpy(h->ref, s.p, s.len);
    h->ref_len = (uint8_t)s.len;
    WW_TRY(check_header(h));
    return ww_mp_read_ext(r, n_ext, HEADER_DEPTH, &h->ext);
}

/* Encodes h; WW_EVERSION, WW_ERANGE, WW_ETOOBIG or WW_EINVAL for a header we would not
 * accept, WW_ENOMEM or WW_ETOOBIG from the buffer. */
int ww_header_encode(const struct ww_header *h, struct ww_buf *out)
{
    WW_TRY(check_header(h));
    WW_TRY(ww_mp_check_ext(&h->ext, HEADER_DEPTH));
    struct ww_mp_writer w;
    ww_mp_writer_init(&w, out, WW_MAX_EVENT);
    write_header(&w, h, 0);
    return ww_mp_writer_finish(&w);
}

/* Decodes exactly one header filling all of buf. */
int ww_header_decode(const uint8_t *buf, size_t len, struct ww_header *out)
{
    if (len > WW_MAX_EVENT)
        return WW_ETOOBIG;
    struct ww_mp_reader r;
    struct ww_header h;
    unsigned elided = 0;
    memset(&h, 0, sizeof h);
    ww_mp_reader_init(&r, buf, len);
    WW_TRY(read_header(&r, &h, 0, &elided));
    WW_TRY(ww_mp_finish(&r));
    *out = h;
    return 0;
}

static int encode_envelope(const struct ww_envelope *env, unsigned elide, struct ww_buf *out)
{
    if (env->erased && env->body.len)
        return WW_EINVAL;
    if (env->body.len > WW_MAX_BODY)
        return WW_ETOOBIG;
    if (env->body.len && !env->body.p)
        return WW_EINVAL;
    WW_TRY(ww_mp_check_ext(&env->ext, ENVELOPE_DEPTH));
    WW_TRY(check_header(&env->h));
    WW_TRY(ww_mp_check_ext(&env->h.ext, HEADER_DEPTH));

    struct ww_mp_writer w;
    ww_mp_writer_init(&w, out, WW_MAX_EVENT);
    ww_mp_put_array(&w, ENVELOPE_FIELDS + env->ext.n);
    write_header(&w, &env->h, elide);
    ww_mp_put_bin(&w, env->ct_hash, elide & WW_ELIDE_CT ? 0 : sizeof env->ct_hash);
    ww_mp_put_bin(&w, env->sig, sizeof env->sig);
    if (env->erased)
        ww_mp_put_nil(&w);
    else
        ww_mp_put_bin(&w, env->body.p, env->body.len);
    ww_mp_put_raw(&w, env->ext.raw.p, env->ext.raw.len);
    return ww_mp_writer_finish(&w);
}

/* Encodes env: its header re-encoded from env->h, then ct_hash, sig, body (nil when
 * erased, which requires an empty body) and ext. The result is at most WW_MAX_EVENT. */
int ww_envelope_encode(const struct ww_envelope *env, struct ww_buf *out)
{
    return encode_envelope(env, 0, out);
}

int ww_envelope_encode_compact(const struct ww_envelope *env, unsigned elide, struct ww_buf *out)
{
    if (elide & ~(unsigned)WW_ELIDE_ALL)
        return WW_EINVAL;
    if ((elide & WW_ELIDE_CT) && env->erased)
        return WW_EINVAL; /* an erased event's ct_hash cannot be recomputed */
    if ((elide & WW_ELIDE_PREV) && env->h.seq == 1)
        elide &= ~(unsigned)WW_ELIDE_PREV; /* nothing to elide */
    return encode_envelope(env, elide, out);
}

static int decode_envelope(const uint8_t *buf, size_t len, unsigned may, unsigned *elided_out,
                           struct ww_envelope *out)
{
    if (len > WW_MAX_EVENT)
        return WW_ETOOBIG;
    struct ww_mp_reader r;
    struct ww_envelope env;
    uint32_t n_ext;
    memset(&env, 0, sizeof env);
    ww_mp_reader_init(&r, buf, len);

    unsigned elided = 0;
    WW_TRY(ww_mp_read_fields(&r, ENVELOPE_FIELDS, &n_ext));
    size_t at = r.pos;
    WW_TRY(read_header(&r, &env.h, may, &elided));
    env.header_bytes.p = buf + at;
    env.header_bytes.len = r.pos - at;
    WW_TRY(read_fixed(&r, sizeof env.ct_hash, env.ct_hash, may, WW_ELIDE_CT, &elided));
    WW_TRY(ww_mp_read_bin_exact(&r, sizeof env.sig, env.sig));
    if (ww_mp_take_nil(&r))
        env.erased = 1;
    else
        WW_TRY(ww_mp_read_bin(&r, WW_MAX_BODY, &env.body));
    WW_TRY(ww_mp_read_ext(&r, n_ext, ENVELOPE_DEPTH, &env.ext));
    WW_TRY(ww_mp_finish(&r));
    if ((elided & WW_ELIDE_CT) && env.erased)
        return WW_EINVAL;
    *out = env;
    if (elided_out)
        *elided_out = elided;
    return 0;
}

/* Decodes one envelope filling all of buf; header_bytes is the header's exact slice of
 * buf, which is what the signature and the event hash cover. */
int ww_envelope_decode(const uint8_t *buf, size_t len, struct ww_envelope *out)
{
    return decode_envelope(buf, len, 0, NULL, out);
}

int ww_envelope_decode_compact(const uint8_t *buf, size_t len, unsigned *elided,
                               struct ww_envelope *out)
{
    return decode_envelope(buf, len, WW_ELIDE_ALL, elided, out);
}
