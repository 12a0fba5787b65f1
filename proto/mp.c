/*
 * mp.c - the bounded canonical msgpack reader and the limited writer (see mp.h).
 *
 * Reader invariants: pos <= len always; a failed read leaves pos where it was; no length
 * or count is used before it has been compared with the bytes that remain; nothing is
 * allocated. The canonical form is the one msgpack-c's packer emits, so the writer (which
 * is that packer) and the reader agree byte for byte.
 */
#include "mp.h"

#include <string.h>

#include "ww_err.h"

enum mp_type { MP_UINT, MP_NINT, MP_NIL, MP_BOOL, MP_STR, MP_BIN, MP_ARRAY, MP_MAP };

/* One decoded value header. For UINT the value is in u; for NINT in i; for STR and BIN
 * the payload length and for ARRAY and MAP the count are in n. */
struct head {
    enum mp_type type;
    uint64_t u;
    int64_t i;
    uint32_t n;
};

/* A cursor at the start of buf; nothing is read yet. */
void ww_mp_reader_init(struct ww_mp_reader *r, const uint8_t *buf, size_t len)
{
    r->buf = buf;
    r->len = len;
    r->pos = 0;
}

/* Bytes not yet consumed. */
size_t ww_mp_remaining(const struct ww_mp_reader *r)
{
    return r->len - r->pos;
}

/* The top-level value must fill the input exactly. */
int ww_mp_finish(const struct ww_mp_reader *r)
{
    return r->pos == r->len ? 0 : WW_ETRAILING;
}

/* Big-endian unsigned integer of n (1, 2, 4 or 8) bytes. */
static uint64_t load_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int k = 0; k < n; k++)
        v = (v << 8) | p[k];
    return v;
}

/* Sign-extends an n-byte two's complement value. */
static int64_t sign_extend(uint64_t v, int n)
{
    if (n == 8)
        return (int64_t)v;
    uint64_t sign = (uint64_t)1 << (8 * n - 1);
    return (int64_t)(v ^ sign) - (int64_t)sign;
}

/*
 * Reads one value header at r->pos and advances past it (not past a payload). Types the
 * format excludes are WW_ETYPE; a header cut short is WW_ETRUNC; a header that is not the
 * smallest form for its value is WW_ENONCANON. On error pos is unchanged.
 */
static int read_head(struct ww_mp_reader *r, struct head *h)
{
    size_t left = r->len - r->pos;
    if (left < 1)
        return WW_ETRUNC;
    const uint8_t *p = r->buf + r->pos;
    uint8_t b = p[0];
    int extra = 0; /* bytes after the type byte */
    uint64_t min = 0;

    if (b <= 0x7f) {
        h->type = MP_UINT;
        h->u = b;
    } else if (b <= 0x8f) {
        h->type = MP_MAP;
        h->n = b & 0x0f;
    } else if (b <= 0x9f) {
        h->type = MP_ARRAY;
        h->n = b & 0x0f;
    } else if (b <= 0xbf) {
        h->type = MP_STR;
        h->n = b & 0x1f;
    } else if (b >= 0xe0) {
        h->type = MP_NINT;
        h->i = (int64_t)(int8_t)b;
    } else {
        switch (b) {
        case 0xc0:
            h->type = MP_NIL;
            break;
        case 0xc2:
        case 0xc3:
            h->type = MP_BOOL;
            h->u = b == 0xc3;
            break;
        case 0xc4:
        case 0xc5:
        case 0xc6:
            h->type = MP_BIN;
            extra = 1 << (b - 0xc4);
            min = b == 0xc4 ? 0 : b == 0xc5 ? 0x100 : 0x10000;
            break;
        case 0xcc:
        case 0xcd:
        case 0xce:
        case 0xcf:
            h->type = MP_UINT;
            extra = 1 << (b - 0xcc);
            min = b == 0xcc ? 0x80 : b == 0xcd ? 0x100 : b == 0xce ? 0x10000 : 0x100000000u;
            break;
        case 0xd0:
        case 0xd1:
        case 0xd2:
        case 0xd3:
            h->type = MP_NINT;
            extra = 1 << (b - 0xd0);
            break;
        case 0xd9:
        case 0xda:
        case 0xdb:
            h->type = MP_STR;
            extra = 1 << (b - 0xd9);
            min = b == 0xd9 ? 32 : b == 0xda ? 0x100 : 0x10000;
            break;
        case 0xdc:
        case 0xdd:
            h->type = MP_ARRAY;
            extra = b == 0xdc ? 2 : 4;
            min = b == 0xdc ? 16 : 0x10000;
            break;
        case 0xde:
        case 0xdf:
            h->type = MP_MAP;
            extra = b == 0xde ? 2 : 4;
            min = b == 0xde ? 16 : 0x10000;
            break;
        default: /* 0xc1, ext 0xc7-0xc9 and 0xd4-0xd8, float 0xca-0xcb */
            return WW_ETYPE;
        }
    }
    if (left - 1 < (size_t)extra)
        return WW_ETRUNC;
    if (extra) {
        uint64_t v = load_be(p + 1, extra);
        if (h->type == MP_NINT) {
            /* Canonical only for a negative value too small for the next narrower form:
             * int8 below -32, int16 below -128, int32 below -32768, int64 below -2^31. */
            int64_t i = sign_extend(v, extra);
            int64_t lim = extra == 1   ? -32
                          : extra == 2 ? -128
                          : extra == 4 ? -32768
                                       : -2147483648LL;
            if (i >= lim)
                return WW_ENONCANON;
            h->i = i;
        } else {
            if (v < min)
                return WW_ENONCANON;
            if (h->type == MP_UINT)
                h->u = v;
            else
                h->n = (uint32_t)v;
        }
    }
    r->pos += 1 + (size_t)extra;
    return 0;
}

/* Limit first, then the bytes left: a peer's count is never trusted further. */
int ww_mp_read_array(struct ww_mp_reader *r, uint32_t max, uint32_t *n)
{
    size_t save = r->pos;
    struct head h;
    WW_TRY(read_head(r, &h));
    int rc = 0;
    if (h.type != MP_ARRAY)
        rc = WW_ETYPE;
    else if (h.n > max)
        rc = WW_ETOOBIG;
    else if (h.n > ww_mp_remaining(r))
        rc = WW_ETRUNC;
    if (rc) {
        r->pos = save;
        return rc;
    }
    *n = h.n;
    return 0;
}

/* Only the uint family; a canonical negative integer is out of range for our fields. */
int ww_mp_read_uint(struct ww_mp_reader *r, uint64_t *out)
{
    size_t save = r->pos;
    struct head h;
    WW_TRY(read_head(r, &h));
    if (h.type != MP_UINT) {
        r->pos = save;
        return h.type == MP_NINT ? WW_ERANGE : WW_ETYPE;
    }
    *out = h.u;
    return 0;
}

/* ww_mp_read_uint with an upper bound, consuming nothing when it fails. */
int ww_mp_read_uint_max(struct ww_mp_reader *r, uint64_t max, uint64_t *out)
{
    size_t save = r->pos;
    uint64_t v;
    WW_TRY(ww_mp_read_uint(r, &v));
    if (v > max) {
        r->pos = save;
        return WW_ERANGE;
    }
    *out = v;
    return 0;
}

/* Reads a str or bin header of the wanted type with its payload, bounded by max. */
static int read_bytes(struct ww_mp_reader *r, enum mp_type want, size_t max, struct ww_slice *out)
{
    size_t save = r->pos;
    struct head h;
    WW_TRY(read_head(r, &h));
    int rc = 0;
    if (h.type != want)
        rc = WW_ETYPE;
    else if (h.n > max)
        rc = WW_ETOOBIG;
    else if (h.n > ww_mp_remaining(r))
        rc = WW_ETRUNC;
    if (rc) {
        r->pos = save;
        return rc;
    }
    out->p = r->buf + r->pos;
    out->len = h.n;
    r->pos += h.n;
    return 0;
}

/* A borrowed bin of at most max bytes. */
int ww_mp_read_bin(struct ww_mp_reader *r, size_t max, struct ww_slice *out)
{
    return read_bytes(r, MP_BIN, max, out);
}

/* A fixed-size bin, copied out. */
int ww_mp_read_bin_exact(struct ww_mp_reader *r, size_t n, uint8_t *dst)
{
    size_t save = r->pos;
    struct ww_slice s;
    WW_TRY(read_bytes(r, MP_BIN, n, &s));
    if (s.len != n) {
        r->pos = save;
        return WW_ERANGE;
    }
    if (n)
        memcpy(dst, s.p, n);
    return 0;
}

/* An optional fixed-size bin: empty or exactly n bytes. */
int ww_mp_read_bin_opt(struct ww_mp_reader *r, size_t n, uint8_t *dst, int *present)
{
    size_t save = r->pos;
    struct ww_slice s;
    WW_TRY(read_bytes(r, MP_BIN, n, &s));
    if (s.len != 0 && s.len != n) {
        r->pos = save;
        return WW_ERANGE;
    }
    *present = s.len == n && n != 0;
    if (*present)
        memcpy(dst, s.p, n);
    return 0;
}

/* A borrowed str of at most max bytes that is valid text. */
int ww_mp_read_str(struct ww_mp_reader *r, size_t max, struct ww_slice *out)
{
    size_t save = r->pos;
    struct ww_slice s;
    WW_TRY(read_bytes(r, MP_STR, max, &s));
    if (!ww_text_valid(s.p, s.len)) {
        r->pos = save;
        return WW_EUTF8;
    }
    *out = s;
    return 0;
}

/* Consumes a nil if one is next. */
int ww_mp_take_nil(struct ww_mp_reader *r)
{
    if (r->pos < r->len && r->buf[r->pos] == 0xc0) {
        r->pos++;
        return 1;
    }
    return 0;
}

/* Bytewise comparison of two encoded values; a proper prefix sorts first. */
static int cmp_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c)
        return c;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

/* ww_mp_skip without restoring pos on error (the public wrapper does that). */
static int skip_value(struct ww_mp_reader *r, int depth)
{
    struct head h;
    WW_TRY(read_head(r, &h));
    switch (h.type) {
    case MP_UINT:
    case MP_NINT:
    case MP_NIL:
    case MP_BOOL:
        return 0;
    case MP_STR:
    case MP_BIN:
        if (h.n > ww_mp_remaining(r))
            return WW_ETRUNC;
        if (h.type == MP_STR && !ww_text_valid(r->buf + r->pos, h.n))
            return WW_EUTF8;
        r->pos += h.n;
        return 0;
    case MP_ARRAY:
        if (depth + 1 > WW_MAX_DEPTH)
            return WW_EDEPTH;
        if (h.n > ww_mp_remaining(r))
            return WW_ETRUNC;
        for (uint32_t k = 0; k < h.n; k++)
            WW_TRY(skip_value(r, depth + 1));
        return 0;
    case MP_MAP: {
        if (depth + 1 > WW_MAX_DEPTH)
            return WW_EDEPTH;
        if (2 * (uint64_t)h.n > ww_mp_remaining(r))
            return WW_ETRUNC;
        const uint8_t *prev = NULL;
        size_t prev_len = 0;
        for (uint32_t k = 0; k < h.n; k++) {
            size_t key_at = r->pos;
            WW_TRY(skip_value(r, depth + 1));
            const uint8_t *key = r->buf + key_at;
            size_t key_len = r->pos - key_at;
            if (prev && cmp_bytes(prev, prev_len, key, key_len) >= 0)
                return WW_ENONCANON;
            prev = key;
            prev_len = key_len;
            WW_TRY(skip_value(r, depth + 1));
        }
        return 0;
    }
    }
    return WW_ETYPE;
}

/* Validates one value of any type; on failure the cursor stays where it was. */
int ww_mp_skip(struct ww_mp_reader *r, int depth)
{
    size_t save = r->pos;
    int rc = skip_value(r, depth);
    if (rc)
        r->pos = save;
    return rc;
}

/* Known fields must all be there; at most WW_MAX_EXT_FIELDS more. */
int ww_mp_split_fields(uint32_t n, uint32_t known, uint32_t *n_ext)
{
    if (n < known)
        return WW_ETYPE;
    if (n - known > WW_MAX_EXT_FIELDS)
        return WW_ETOOBIG;
    *n_ext = n - known;
    return 0;
}

/* A struct's array header, split into known and unknown fields. */
int ww_mp_read_fields(struct ww_mp_reader *r, uint32_t known, uint32_t *n_ext)
{
    size_t save = r->pos;
    uint32_t n;
    WW_TRY(ww_mp_read_array(r, known + WW_MAX_EXT_FIELDS, &n));
    int rc = ww_mp_split_fields(n, known, n_ext);
    if (rc)
        r->pos = save;
    return rc;
}

/* Validates the unknown fields fully and keeps their bytes, borrowed from the input. */
int ww_mp_read_ext(struct ww_mp_reader *r, uint32_t n, int depth, struct ww_ext *out)
{
    size_t start = r->pos;
    for (uint32_t k = 0; k < n; k++) {
        int rc = ww_mp_skip(r, depth);
        if (rc) {
            r->pos = start;
            return rc;
        }
    }
    out->raw.p = n ? r->buf + start : NULL;
    out->raw.len = r->pos - start;
    out->n = n;
    return 0;
}

/* The encoder's view of ext: exactly n valid values, nothing more. */
int ww_mp_check_ext(const struct ww_ext *e, int depth)
{
    if (e->n > WW_MAX_EXT_FIELDS)
        return WW_ETOOBIG;
    if (e->n == 0)
        return e->raw.len == 0 ? 0 : WW_EINVAL;
    if (!e->raw.p)
        return WW_EINVAL;
    struct ww_mp_reader r;
    ww_mp_reader_init(&r, e->raw.p, e->raw.len);
    for (uint32_t k = 0; k < e->n; k++)
        WW_TRY(ww_mp_skip(&r, depth));
    return ww_mp_finish(&r) == 0 ? 0 : WW_EINVAL;
}

/* Length bounds, then the text rules of ww_text_valid. */
int ww_mp_check_text(struct ww_slice s, size_t min, size_t max)
{
    if (s.len > max)
        return WW_ETOOBIG;
    if (s.len < min)
        return WW_ERANGE;
    if (s.len && !s.p)
        return WW_EINVAL;
    return ww_text_valid(s.p, s.len) ? 0 : WW_EUTF8;
}

/* Constant-time over n; used for fields that must be zero when absent. */
int ww_mp_all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t k = 0; k < n; k++)
        acc |= p[k];
    return acc == 0;
}

/* ---- Writer ---------------------------------------------------------------------------- */

/* The packer's sink: appends to the buffer within the writer's limit, remembering the
 * first error so the encoder can report WW_ETOOBIG or WW_ENOMEM precisely. */
static int sink(void *data, const char *p, size_t n)
{
    struct ww_mp_writer *w = data;
    if (w->rc)
        return -1;
    if (n > w->limit - (w->out->len - w->start)) {
        w->rc = WW_ETOOBIG;
        return -1;
    }
    int rc = ww_buf_append(w->out, p, n);
    if (rc) {
        w->rc = rc;
        return -1;
    }
    return 0;
}

/* Remembers where the encoding starts, for the limit and for rolling back. */
void ww_mp_writer_init(struct ww_mp_writer *w, struct ww_buf *out, size_t limit)
{
    w->out = out;
    w->start = out->len;
    w->limit = limit;
    w->rc = 0;
    msgpack_packer_init(&w->pk, w, sink);
}

/* Each put is skipped once an earlier write has failed. */
void ww_mp_put_array(struct ww_mp_writer *w, uint32_t n)
{
    if (!w->rc)
        (void)msgpack_pack_array(&w->pk, n);
}

/* msgpack-c picks the smallest form, which is the canonical one. */
void ww_mp_put_uint(struct ww_mp_writer *w, uint64_t v)
{
    if (!w->rc)
        (void)msgpack_pack_uint64(&w->pk, v);
}

/* Header, then the bytes (none for an empty bin). */
void ww_mp_put_bin(struct ww_mp_writer *w, const void *p, size_t n)
{
    if (!w->rc && msgpack_pack_bin(&w->pk, n) == 0 && n)
        (void)msgpack_pack_bin_body(&w->pk, p, n);
}

/* Header, then the bytes; the caller has checked the text. */
void ww_mp_put_str(struct ww_mp_writer *w, struct ww_slice s)
{
    if (!w->rc && msgpack_pack_str(&w->pk, s.len) == 0 && s.len)
        (void)msgpack_pack_str_body(&w->pk, s.p, s.len);
}

/* The nil of an erased body. */
void ww_mp_put_nil(struct ww_mp_writer *w)
{
    if (!w->rc)
        (void)msgpack_pack_nil(&w->pk);
}

/* Already-encoded values, through the same limit. */
void ww_mp_put_raw(struct ww_mp_writer *w, const void *p, size_t n)
{
    if (n)
        (void)sink(w, p, n);
}

/* 0, or the first error with the output rolled back. */
int ww_mp_writer_finish(struct ww_mp_writer *w)
{
    if (w->rc)
        w->out->len = w->start;
    return w->rc;
}
