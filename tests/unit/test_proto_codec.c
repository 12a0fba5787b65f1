/*
 * test_proto_codec.c - properties every codec must have, checked over every vector (each
 * frame type, event kind, header and envelope): truncation at every length, trailing
 * bytes, unknown trailing fields kept byte for byte, their limits, non-canonical forms of
 * every value, wrong types at every position, short field lists, count bombs, input size
 * limits, unknown kinds and types, allocation failure, random mutation, and that whatever
 * an encoder accepts decodes back to the same bytes.
 */
#include <stddef.h>

#include "runner.h"

#include "alloc.h"
#include "buf.h"
#include "mp.h"
#include "proto.h"

#include "vectors/vectors.inc"

static void load_golden(const struct vec *v, struct ww_buf *out)
{
    ww_buf_init(out, 0);
    ASSERT_EQ(hex_decode(v->hex, out), 0);
}

/* Decodes and requires the exact error want (0: success and a byte-identical re-encode). */
static void expect_decode(const struct vec *v, const uint8_t *p, size_t n, int want,
                          const char *what, size_t at)
{
    struct vec_value val;
    memset(&val, 0, sizeof val);
    int rc = vec_decode(v, p, n, &val);
    if (rc != want)
        ww_test_fail(__FILE__, __LINE__, "%s: %s at %zu: got %s, want %s", v->name, what, at,
                     ww_err_name(rc), ww_err_name(want));
    if (rc == 0) {
        struct ww_buf again;
        ww_buf_init(&again, 0);
        ASSERT_OK(vec_encode(v, &val, &again));
        if (again.len != n || memcmp(again.p, p, n) != 0)
            ww_test_fail(__FILE__, __LINE__, "%s: %s at %zu: re-encode differs", v->name, what, at);
        ww_buf_free(&again);
    }
}

/* Header length, payload length and number of child values of the canonical value at p. */
static void head_info(const uint8_t *p, size_t *hdr, size_t *payload, uint64_t *children)
{
    uint8_t b = p[0];
    *hdr = 1;
    *payload = 0;
    *children = 0;
    if (b >= 0x80 && b <= 0x8f) {
        *children = 2u * (b & 15u);
    } else if (b >= 0x90 && b <= 0x9f) {
        *children = b & 15u;
    } else if (b >= 0xa0 && b <= 0xbf) {
        *payload = b & 31u;
    } else {
        /* only read for the types that have these bytes */
        uint32_t be16 =
            b == 0xc5 || b == 0xda || b == 0xdc || b == 0xde ? (uint32_t)p[1] << 8 | p[2] : 0;
        uint32_t be32 =
            b == 0xc6 || b == 0xdb || b == 0xdd || b == 0xdf
                ? (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4]
                : 0;
        switch (b) {
        case 0xcc:
        case 0xd0:
            *hdr = 2;
            break;
        case 0xcd:
        case 0xd1:
            *hdr = 3;
            break;
        case 0xce:
        case 0xd2:
            *hdr = 5;
            break;
        case 0xcf:
        case 0xd3:
            *hdr = 9;
            break;
        case 0xc4:
        case 0xd9:
            *hdr = 2;
            *payload = p[1];
            break;
        case 0xc5:
        case 0xda:
            *hdr = 3;
            *payload = be16;
            break;
        case 0xc6:
        case 0xdb:
            *hdr = 5;
            *payload = be32;
            break;
        case 0xdc:
            *hdr = 3;
            *children = be16;
            break;
        case 0xdd:
            *hdr = 5;
            *children = be32;
            break;
        case 0xde:
            *hdr = 3;
            *children = 2u * be16;
            break;
        case 0xdf:
            *hdr = 5;
            *children = 2u * (uint64_t)be32;
            break;
        default: /* fixint, negative fixint, nil, bool */
            break;
        }
    }
}

#define MAX_VALUES 1024

/* Records the start of every value (pre-order) in a canonical encoding; returns the end. */
static size_t walk(const uint8_t *p, size_t pos, size_t *starts, size_t *n)
{
    size_t hdr, payload;
    uint64_t children;
    ASSERT_LT(*n, MAX_VALUES);
    starts[(*n)++] = pos;
    head_info(p + pos, &hdr, &payload, &children);
    pos += hdr + payload;
    for (uint64_t k = 0; k < children; k++)
        pos = walk(p, pos, starts, n);
    return pos;
}

/* out = p[0..at) ++ ins ++ p[at+del..n). */
static void splice(const uint8_t *p, size_t n, size_t at, size_t del, const uint8_t *ins,
                   size_t ins_n, struct ww_buf *out)
{
    ww_buf_reset(out);
    ASSERT_OK(ww_buf_append(out, p, at));
    ASSERT_OK(ww_buf_append(out, ins, ins_n));
    ASSERT_OK(ww_buf_append(out, p + at + del, n - at - del));
}

/* The encoding p with its top-level array count set to count and extra appended. */
static void with_count(const uint8_t *p, size_t n, uint32_t count, const uint8_t *extra,
                       size_t extra_n, struct ww_buf *out)
{
    size_t hdr, payload;
    uint64_t children;
    struct ww_mp_writer w;
    head_info(p, &hdr, &payload, &children);
    ww_buf_reset(out);
    ww_mp_writer_init(&w, out, SIZE_MAX);
    ww_mp_put_array(&w, count);
    ASSERT_OK(ww_mp_writer_finish(&w));
    ASSERT_OK(ww_buf_append(out, p + hdr, n - hdr));
    ASSERT_OK(ww_buf_append(out, extra, extra_n));
}

/* Number of elements of the top-level array at p. */
static uint32_t top_count(const uint8_t *p)
{
    size_t hdr, payload;
    uint64_t children;
    head_info(p, &hdr, &payload, &children);
    return (uint32_t)children;
}

/* member.add ends in an optional known field (its invite, PROTOCOL.md 6.2): unknown fields
 * come after it (as bin 0 when absent), and a body without it is complete. */
static int optional_tail(const struct vec *v)
{
    return v->what == VEC_BODY && v->kind == WW_KIND_MEMBER_ADD;
}

/* The golden encoding with every known field written, the optional one included. */
static void load_full(const struct vec *v, struct ww_buf *out)
{
    load_golden(v, out);
    if (optional_tail(v) && top_count(out->p) == 3) {
        struct ww_buf t;
        ww_buf_init(&t, 0);
        with_count(out->p, out->len, 4, (const uint8_t *)"\xc4\x00", 2, &t);
        ww_buf_free(out);
        *out = t;
    }
}

static int has_ext(const struct vec *v)
{
    return strstr(v->name, ".ext") != NULL;
}

/* The depth of the top-level struct's array (a header always counts as nested). */
static int struct_depth(const struct vec *v)
{
    return v->what == VEC_HEADER ? 2 : 1;
}

/* Each golden encoding is one well-formed msgpack value whose array counts match the values
 * that follow them (an independent walk, not our reader). */
TEST(proto_codec_vectors_are_well_formed)
{
    for (size_t k = 0; k < N_VECTORS; k++) {
        struct ww_buf g;
        size_t starts[MAX_VALUES], n = 0;
        load_golden(&vectors[k], &g);
        if (walk(g.p, 0, starts, &n) != g.len)
            ww_test_fail(__FILE__, __LINE__, "%s is not one value", vectors[k].name);
        ww_buf_free(&g);
    }
}

TEST(proto_codec_every_prefix_is_truncated)
{
    for (size_t k = 0; k < N_VECTORS; k++) {
        const struct vec *v = &vectors[k];
        struct ww_buf g;
        load_golden(v, &g);
        for (size_t len = 0; len < g.len; len++) {
            /* an exact-size heap copy, so a read past the end is caught by ASan */
            uint8_t *copy = ww_malloc(len);
            ASSERT(copy != NULL);
            memcpy(copy, g.p, len);
            expect_decode(v, copy, len, WW_ETRUNC, "prefix", len);
            ww_free(copy);
        }
        expect_decode(v, g.p, g.len, 0, "whole", g.len);
        ww_buf_free(&g);
    }
}

TEST(proto_codec_trailing_bytes_rejected)
{
    static const uint8_t tails[][3] = {{0xc0}, {0x00}, {0x90}, {0xc1}};
    for (size_t k = 0; k < N_VECTORS; k++) {
        const struct vec *v = &vectors[k];
        struct ww_buf g, m;
        load_golden(v, &g);
        ww_buf_init(&m, 0);
        for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
            splice(g.p, g.len, g.len, 0, tails[t], 1, &m);
            expect_decode(v, m.p, m.len, WW_ETRAILING, "tail", t);
        }
        splice(g.p, g.len, g.len, 0, g.p, g.len, &m); /* the value twice */
        expect_decode(v, m.p, m.len, WW_ETRAILING, "twice", 0);
        ww_buf_free(&m);
        ww_buf_free(&g);
    }
}

TEST(proto_codec_out_untouched_on_error)
{
    for (size_t k = 0; k < N_VECTORS; k++) {
        const struct vec *v = &vectors[k];
        struct ww_buf g;
        struct vec_value val, ref;
        load_golden(v, &g);
        for (size_t len = 0; len < g.len; len += 7) {
            memset(&val, 0xa5, sizeof val);
            memset(&ref, 0xa5, sizeof ref);
            ASSERT_NE(vec_decode(v, g.p, len, &val), 0);
            ASSERT_MEM_EQ(&val, &ref, sizeof val);
        }
        ww_buf_free(&g);
    }
}

/* Unknown trailing fields of every type, one at a time and all together. */
static const char *const ext_samples[] = {
    "01",
    "7f",
    "cc80",
    "cf0000000100000000",
    "ff",
    "d0df",
    "d38000000000000000",
    "c0",
    "c2",
    "c3",
    "a0",
    "a3616263",
    "d9206161616161616161616161616161616161616161616161616161616161616161",
    "c400",
    "c40100",
    "90",
    "9301c0a0",
    "80",
    "8201c0a161c0",
    "9291c08101919190",
};

TEST(proto_codec_unknown_fields_kept_byte_exact)
{
    for (size_t k = 0; k < N_VECTORS; k++) {
        const struct vec *v = &vectors[k];
        if (has_ext(v))
            continue;
        struct ww_buf g, extra, all, m;
        load_full(v, &g);
        ww_buf_init(&extra, 0);
        ww_buf_init(&all, 0);
        ww_buf_init(&m, 0);
        uint32_t known = top_count(g.p);
        uint32_t n_all = 0;
        for (size_t s = 0; s < sizeof ext_samples / sizeof ext_samples[0]; s++) {
            ww_buf_reset(&extra);
            ASSERT_EQ(hex_decode(ext_samples[s], &extra), 0);
            if (n_all < WW_MAX_EXT_FIELDS) {
                ASSERT_OK(ww_buf_append(&all, extra.p, extra.len));
                n_all++;
            }
            with_count(g.p, g.len, known + 1, extra.p, extra.len, &m);
            struct vec_value val;
            memset(&val, 0, sizeof val);
            ASSERT_OK(vec_decode(v, m.p, m.len, &val));
            struct ww_ext *e = vec_ext(v, &val);
            ASSERT_EQ(e->n, 1);
            ASSERT_EQ(e->raw.len, extra.len);
            ASSERT_MEM_EQ(e->raw.p, extra.p, extra.len);
            ASSERT(e->raw.p == m.p + m.len - extra.len); /* borrowed from the input */
            expect_decode(v, m.p, m.len, 0, "ext sample", s);
        }
        with_count(g.p, g.len, known + n_all, all.p, all.len, &m);
        struct vec_value val;
        memset(&val, 0, sizeof val);
        ASSERT_OK(vec_decode(v, m.p, m.len, &val));
        ASSERT_EQ(vec_ext(v, &val)->n, WW_MAX_EXT_FIELDS);
        ASSERT_EQ(vec_ext(v, &val)->raw.len, all.len);
        expect_decode(v, m.p, m.len, 0, "all ext samples", 0);

        /* one more than the limit */
        ASSERT_OK(ww_buf_append(&all, "\x01", 1));
        with_count(g.p, g.len, known + n_all + 1, all.p, all.len, &m);
        expect_decode(v, m.p, m.len, WW_ETOOBIG, "17 ext fields", 0);
        /* counted but missing */
        with_count(g.p, g.len, known + 1, NULL, 0, &m);
        expect_decode(v, m.p, m.len, WW_ETRUNC, "missing ext", 0);
        ww_buf_free(&m);
        ww_buf_free(&all);
        ww_buf_free(&extra);
        ww_buf_free(&g);
    }
}

struct bad_ext {
    const char *hex;
    int want;
};

TEST(proto_codec_unknown_fields_must_be_canonical)
{
    static const struct bad_ext bad[] = {
        {"cc05", WW_ENONCANON},
        {"d005", WW_ENONCANON},
        {"d0ff", WW_ENONCANON},
        {"d903616263", WW_ENONCANON},
        {"c50001ff", WW_ENONCANON},
        {"dc0000", WW_ENONCANON},
        {"de0000", WW_ENONCANON},
        {"8202c001c0", WW_ENONCANON},
        {"8201c001c0", WW_ENONCANON},
        {"ca00000000", WW_ETYPE},
        {"cb0000000000000000", WW_ETYPE},
        {"d40000", WW_ETYPE},
        {"c1", WW_ETYPE},
        {"91ca00000000", WW_ETYPE},
        {"a1ff", WW_EUTF8},
        {"a10d", WW_EUTF8},
        {"dfffffffff", WW_ETRUNC},
        {"ddffffffff", WW_ETRUNC},
    };
    for (size_t k = 0; k < N_VECTORS; k++) {
        const struct vec *v = &vectors[k];
        if (has_ext(v))
            continue;
        struct ww_buf g, extra, m;
        load_full(v, &g);
        ww_buf_init(&extra, 0);
        ww_buf_init(&m, 0);
        for (size_t s = 0; s < sizeof bad / sizeof bad[0]; s++) {
            ww_buf_reset(&extra);
            ASSERT_EQ(hex_decode(bad[s].hex, &extra), 0);
            with_count(g.p, g.len, top_count(g.p) + 1, extra.p, extra.len, &m);
            expect_decode(v, m.p, m.len, bad[s].want, "bad ext", s);
        }
        ww_buf_free(&m);
        ww_buf_free(&extra);
        ww_buf_free(&g);
    }
}

TEST(proto_codec_unknown_fields_depth_limit)
{
    for (size_t k = 0; k < N_VECTORS; k++) {
        const struct vec *v = &vectors[k];
        if (has_ext(v))
            continue;
        struct ww_buf g, extra, m;
        load_full(v, &g);
        ww_buf_init(&extra, 0);
        ww_buf_init(&m, 0);
        int room = WW_MAX_DEPTH - struct_depth(v); /* nested arrays that still fit */
        for (int extra_levels = 0; extra_levels <= 1; extra_levels++) {
            int levels = room + extra_levels;
            ww_buf_reset(&extra);
            for (int d = 0; d < levels - 1; d++)
                ASSERT_OK(ww_buf_append(&extra, "\x91", 1));
            ASSERT_OK(ww_buf_append(&extra, "\x90", 1));
            with_count(g.p, g.len, top_count(g.p) + 1, extra.p, extra.len, &m);
            expect_decode(v, m.p, m.len, extra_levels ? WW_EDEPTH : 0, "nesting", levels);
        }
        /* a bomb of 60000 nested one-element arrays */
        ww_buf_reset(&extra);
        for (int d = 0; d < 60000; d++)
            ASSERT_OK(ww_buf_append(&extra, "\x91", 1));
        ASSERT_OK(ww_buf_append(&extra, "\xc0", 1));
        with_count(g.p, g.len, top_count(g.p) + 1, extra.p, extra.len, &m);
        int want =
            m.len > (v->what == VEC_BODY ? WW_MAX_BODY : WW_MAX_EVENT) && v->what != VEC_FRAME
                ? WW_ETOOBIG
                : WW_EDEPTH;
        expect_decode(v, m.p, m.len, want, "depth bomb", 0);
        ww_buf_free(&m);
        ww_buf_free(&extra);
        ww_buf_free(&g);
    }
}

/* A wider header for the value at p, written to out; 0 when it has none. When as_signed is
 * set, a non-negative integer is instead written as a signed integer type. */
static size_t widen(const uint8_t *p, int as_signed, uint8_t *out)
{
    uint8_t b = p[0];
    if (as_signed) {
        if (b <= 0x7f) {
            out[0] = 0xd0;
            out[1] = b;
            return 2;
        }
        if (b >= 0xcc && b <= 0xce) {           /* uint8/16/32 -> int16/32/64 */
            size_t w = (size_t)1 << (b - 0xcc); /* payload bytes */
            out[0] = (uint8_t)(0xd1 + (b - 0xcc));
            memset(out + 1, 0, w);
            memcpy(out + 1 + w, p + 1, w);
            return 1 + 2 * w;
        }
        return 0;
    }
    if (b <= 0x7f) {
        out[0] = 0xcc;
        out[1] = b;
        return 2;
    }
    if (b >= 0xe0) {
        out[0] = 0xd0;
        out[1] = b;
        return 2;
    }
    if ((b >= 0xa0 && b <= 0xbf) || (b >= 0x90 && b <= 0x9f) || (b >= 0x80 && b <= 0x8f)) {
        uint8_t n = b >= 0xa0 ? (uint8_t)(b & 31) : (uint8_t)(b & 15);
        if (b >= 0xa0) {
            out[0] = 0xd9;
            out[1] = n;
            return 2;
        }
        out[0] = b >= 0x90 ? 0xdc : 0xde;
        out[1] = 0;
        out[2] = n;
        return 3;
    }
    switch (b) {
    case 0xcc: /* one size up: zero-extend */
    case 0xcd:
    case 0xce:
    case 0xc4:
    case 0xc5:
    case 0xd9:
    case 0xda:
    case 0xdc:
    case 0xde: {
        size_t w = b == 0xcc || b == 0xc4 || b == 0xd9 ? 1 : b == 0xce ? 4 : 2;
        out[0] = (uint8_t)(b + 1);
        memset(out + 1, 0, w);
        memcpy(out + 1 + w, p + 1, w);
        return 1 + 2 * w;
    }
    case 0xd0:
    case 0xd1:
    case 0xd2: { /* one size up: sign-extend */
        size_t w = (size_t)1 << (b - 0xd0);
        out[0] = (uint8_t)(b + 1);
        memset(out + 1, (p[1] & 0x80) ? 0xff : 0, w);
        memcpy(out + 1 + w, p + 1, w);
        return 1 + 2 * w;
    }
    default:
        return 0;
    }
}

TEST(proto_codec_every_value_widened_is_noncanonical)
{
    size_t tried = 0;
    for (size_t k = 0; k < N_VECTORS; k++) {
        const struct vec *v = &vectors[k];
        struct ww_buf g, m;
        size_t starts[MAX_VALUES], n = 0;
        load_golden(v, &g);
        ww_buf_init(&m, 0);
        ASSERT_EQ(walk(g.p, 0, starts, &n), g.len);
        for (size_t i = 0; i < n; i++) {
            for (int as_signed = 0; as_signed <= 1; as_signed++) {
                uint8_t hdr[20];
                size_t hn = widen(g.p + starts[i], as_signed, hdr);
                if (!hn)
                    continue;
                size_t old_hdr, payload;
                uint64_t children;
                head_info(g.p + starts[i], &old_hdr, &payload, &children);
                splice(g.p, g.len, starts[i], old_hdr, hdr, hn, &m);
                expect_decode(v, m.p, m.len, WW_ENONCANON, as_signed ? "signed" : "widened",
                              starts[i]);
                tried++;
            }
        }
        ww_buf_free(&m);
        ww_buf_free(&g);
    }
    ASSERT_GT(tried, 250);
}

TEST(proto_codec_every_value_of_wrong_type)
{
    static const uint8_t flt[] = {0xca, 0, 0, 0, 0};
    static const uint8_t ext[] = {0xd4, 0x01, 0x00};
    static const uint8_t never[] = {0xc1};
    static const uint8_t str[] = {0xa0};
    static const uint8_t zero[] = {0x00};
    for (size_t k = 0; k < N_VECTORS; k++) {
        const struct vec *v = &vectors[k];
        struct ww_buf g, m;
        size_t starts[MAX_VALUES], ends[MAX_VALUES], n = 0;
        load_golden(v, &g);
        ww_buf_init(&m, 0);
        walk(g.p, 0, starts, &n);
        for (size_t i = 0; i < n; i++) {
            size_t one = 0, dummy[MAX_VALUES];
            ends[i] = walk(g.p, starts[i], dummy, &one);
        }
        for (size_t i = 0; i < n; i++) {
            size_t len = ends[i] - starts[i];
            splice(g.p, g.len, starts[i], len, flt, sizeof flt, &m);
            expect_decode(v, m.p, m.len, WW_ETYPE, "float", starts[i]);
            splice(g.p, g.len, starts[i], len, ext, sizeof ext, &m);
            expect_decode(v, m.p, m.len, WW_ETYPE, "ext type", starts[i]);
            splice(g.p, g.len, starts[i], len, never, sizeof never, &m);
            expect_decode(v, m.p, m.len, WW_ETYPE, "0xc1", starts[i]);
            if (has_ext(v))
                continue; /* unknown fields may hold any type */
            int is_uint =
                g.p[starts[i]] <= 0x7f || (g.p[starts[i]] >= 0xcc && g.p[starts[i]] <= 0xcf);
            splice(g.p, g.len, starts[i], len, is_uint ? str : zero, 1, &m);
            expect_decode(v, m.p, m.len, WW_ETYPE, "other type", starts[i]);
        }
        ww_buf_free(&m);
        ww_buf_free(&g);
    }
}

TEST(proto_codec_fewer_fields_than_known)
{
    for (size_t k = 0; k < N_VECTORS; k++) {
        const struct vec *v = &vectors[k];
        if (has_ext(v))
            continue;
        struct ww_buf g, m;
        size_t starts[MAX_VALUES], n = 0;
        load_golden(v, &g);
        ww_buf_init(&m, 0);
        walk(g.p, 0, starts, &n);
        uint32_t known = top_count(g.p);
        /* the start of each top-level element, and the end */
        size_t elem[64], ne = 0, pos;
        size_t hdr, payload;
        uint64_t children;
        head_info(g.p, &hdr, &payload, &children);
        pos = hdr;
        for (uint32_t e = 0; e < known; e++) {
            size_t one = 0, dummy[MAX_VALUES];
            elem[ne++] = pos;
            pos = walk(g.p, pos, dummy, &one);
        }
        elem[ne] = pos;
        for (uint32_t j = 0; j < (optional_tail(v) ? 3 : known); j++) {
            with_count(g.p, elem[j], j, NULL, 0, &m);
            expect_decode(v, m.p, m.len, WW_ETYPE, "fields", j);
        }
        ww_buf_free(&m);
        ww_buf_free(&g);
    }
}

/* Five bytes that claim 2^32 - 1 elements fail at once, without allocating. */
TEST(proto_codec_count_bombs_fail_fast)
{
    static const uint8_t bomb[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t map_bomb[] = {0xdf, 0xff, 0xff, 0xff, 0xff};
    uint8_t *big = ww_calloc(60000, 1);
    ASSERT(big != NULL);
    memcpy(big, bomb, sizeof bomb);
    ww_alloc_fail_after(0); /* any allocation from here on would fail */
    for (size_t k = 0; k < N_VECTORS; k++) {
        const struct vec *v = &vectors[k];
        struct vec_value val;
        int rc = vec_decode(v, bomb, sizeof bomb, &val);
        ASSERT(rc == WW_ETRUNC || rc == WW_ETOOBIG);
        rc = vec_decode(v, map_bomb, sizeof map_bomb, &val);
        ASSERT_ERR(rc, WW_ETYPE);
        rc = vec_decode(v, big, 60000, &val);
        ASSERT(rc == WW_ETRUNC || rc == WW_ETOOBIG);
    }
    /* bombs in nested positions: a version vector, a batch, wraps, an ext map */
    static const char *const nested[] = {
        "9304c410101112131415161718191a1b1c1d1e1fddffffffff",
        "9405c410101112131415161718191a1b1c1d1e1fddffffffff",
        "9304c410101112131415161718191a1b1c1d1e1fdc0041",
        "9308dfffffffff",
        "9408cf0123456789abcdefdfffffffff",
    };
    static const int want[] = {WW_ETOOBIG, WW_ETOOBIG, WW_ETOOBIG, WW_ETYPE, WW_ETRUNC};
    ww_alloc_fail_after(-1);
    for (size_t k = 0; k < sizeof nested / sizeof nested[0]; k++) {
        struct ww_buf b;
        struct ww_frame f;
        ww_buf_init(&b, 0);
        ASSERT_EQ(hex_decode(nested[k], &b), 0);
        ww_alloc_fail_after(0);
        ASSERT_ERR(ww_frame_decode(b.p, b.len, &f), want[k]);
        ww_alloc_fail_after(-1);
        ww_buf_free(&b);
    }
    static const uint8_t keys_bomb[] = {0x92, 0x02, 0xdd, 0xff, 0xff, 0xff, 0xff};
    struct ww_body body;
    ASSERT_ERR(ww_body_decode(WW_KIND_KEY_EPOCH, keys_bomb, sizeof keys_bomb, &body), WW_ETOOBIG);
    ww_free(big);
}

TEST(proto_codec_decode_never_allocates)
{
    for (size_t k = 0; k < N_VECTORS; k++) {
        const struct vec *v = &vectors[k];
        struct ww_buf g;
        struct vec_value val;
        load_golden(v, &g);
        ww_alloc_fail_after(0);
        int rc = vec_decode(v, g.p, g.len, &val);
        ww_alloc_fail_after(-1);
        ASSERT_OK(rc);
        ww_buf_free(&g);
    }
}

TEST(proto_codec_input_size_limits)
{
    size_t n = WW_MAX_FRAME + 1;
    uint8_t *p = ww_calloc(n, 1);
    ASSERT(p != NULL);
    p[0] = 0x90;
    struct ww_frame f;
    struct ww_envelope e;
    struct ww_header h;
    struct ww_body b;
    ASSERT_ERR(ww_frame_decode(p, WW_MAX_FRAME + 1, &f), WW_ETOOBIG);
    ASSERT_ERR(ww_frame_decode(p, WW_MAX_FRAME, &f), WW_ETYPE);
    ASSERT_ERR(ww_envelope_decode(p, WW_MAX_EVENT + 1, &e), WW_ETOOBIG);
    ASSERT_ERR(ww_envelope_decode(p, WW_MAX_EVENT, &e), WW_ETYPE);
    ASSERT_ERR(ww_header_decode(p, WW_MAX_EVENT + 1, &h), WW_ETOOBIG);
    ASSERT_ERR(ww_body_decode(WW_KIND_ERASE, p, WW_MAX_BODY + 1, &b), WW_ETOOBIG);
    ASSERT_ERR(ww_body_decode(WW_KIND_ERASE, p, WW_MAX_BODY, &b), WW_ETYPE);
    ww_free(p);
}

TEST(proto_codec_unknown_kinds_and_types)
{
    static const uint8_t body[] = {0x91, 0x01};
    struct ww_body b;
    struct ww_buf out;
    ww_buf_init(&out, 0);
    ASSERT_ERR(ww_body_decode(0, body, sizeof body, &b), WW_EUNKNOWN);
    ASSERT_ERR(ww_body_decode(WW_KIND_MAX_KNOWN + 1, body, sizeof body, &b), WW_EUNKNOWN);
    ASSERT_ERR(ww_body_decode(UINT16_MAX, body, sizeof body, &b), WW_EUNKNOWN);
    ASSERT_ERR(ww_body_decode(99, NULL, 0, &b), WW_EUNKNOWN);
    memset(&b, 0, sizeof b);
    b.kind = 0;
    ASSERT_ERR(ww_body_encode(&b, &out), WW_EUNKNOWN);
    b.kind = WW_KIND_MAX_KNOWN + 1;
    ASSERT_ERR(ww_body_encode(&b, &out), WW_EUNKNOWN);
    ASSERT_EQ(out.len, 0);
    ASSERT_STR_EQ(ww_kind_name(0), "unknown");
    ASSERT_STR_EQ(ww_kind_name(WW_KIND_MAX_KNOWN + 1), "unknown");
    ASSERT_STR_EQ(ww_kind_name(UINT16_MAX), "unknown");
    static const char *const names[] = {
        "group.create",   "member.add",     "member.remove",    "device.add",
        "key.epoch",      "key.share",      "challenge.define", "challenge.schedule",
        "day.off",        "reflection.put", "climate.put",      "reaction.put",
        "signal.raise",   "signal.resolve", "signoff.put",      "erase",
        "reaction.del",   "group.hub",      "invite.create",    "invite.revoke",
        "sync.report",    "climate.share",  "group.climate",    "device.invite",
        "device.join",    "owner.handover", "recovery.key",     "owner.recover",
        "member.profile",
    };
    ASSERT_EQ(sizeof names / sizeof names[0], WW_KIND_MAX_KNOWN);
    for (uint16_t k = 1; k <= WW_KIND_MAX_KNOWN; k++)
        ASSERT_STR_EQ(ww_kind_name(k), names[k - 1]);

    static const char *const frames[] = {
        "9100", "9112", "92ccff00", "91cd0100", "91cf0000000100000000", "93120102"};
    for (size_t k = 0; k < sizeof frames / sizeof frames[0]; k++) {
        struct ww_buf fb;
        struct ww_frame f;
        ww_buf_init(&fb, 0);
        ASSERT_EQ(hex_decode(frames[k], &fb), 0);
        ASSERT_ERR(ww_frame_decode(fb.p, fb.len, &f), WW_EUNKNOWN);
        ww_buf_free(&fb);
    }
    static const uint8_t no_type[] = {0x90};
    static const uint8_t neg_type[] = {0x91, 0xff};
    struct ww_frame f;
    ASSERT_ERR(ww_frame_decode(no_type, sizeof no_type, &f), WW_ETYPE);
    ASSERT_ERR(ww_frame_decode(neg_type, sizeof neg_type, &f), WW_ERANGE);
    memset(&f, 0, sizeof f);
    ASSERT_ERR(ww_frame_encode(&f, &out), WW_EUNKNOWN);
    f.type = WW_FRAME_MAX_KNOWN + 1;
    ASSERT_ERR(ww_frame_encode(&f, &out), WW_EUNKNOWN);
    ASSERT_EQ(out.len, 0);

    /* a header may carry a kind from a newer version */
    const struct vec *v = vec_find("header.first");
    struct vec_value val;
    memset(&val, 0, sizeof val);
    v->build(&val, &out);
    val.header.kind = 4242;
    ASSERT_OK(ww_header_encode(&val.header, &out));
    struct ww_header h;
    ASSERT_OK(ww_header_decode(out.p, out.len, &h));
    ASSERT_EQ(h.kind, 4242);
    ASSERT_STR_EQ(ww_kind_name(h.kind), "unknown");
    ww_buf_free(&out);
}

/* Every allocation an encoder makes may fail: it then returns WW_ENOMEM, leaves the output
 * as it was, and leaks nothing. */
TEST(proto_codec_alloc_failure_is_clean)
{
    for (size_t k = 0; k < N_VECTORS; k++) {
        const struct vec *v = &vectors[k];
        struct ww_buf g, scratch;
        struct vec_value val;
        memset(&val, 0, sizeof val);
        load_golden(v, &g);
        ww_buf_init(&scratch, 0);
        v->build(&val, &scratch);
        long failures = 0;
        for (long n = 0;; n++) {
            struct ww_buf out;
            ww_buf_init(&out, 0);
            ASSERT_OK(ww_buf_append(&out, "keep", 4));
            long before = ww_alloc_outstanding();
            ww_alloc_fail_after(n);
            int rc = vec_encode(v, &val, &out);
            ww_alloc_fail_after(-1);
            if (rc == WW_ENOMEM) {
                failures++;
                ASSERT_EQ(out.len, 4);
                ASSERT_MEM_EQ(out.p, "keep", 4);
                ASSERT_EQ(ww_alloc_outstanding(), before);
                ww_buf_free(&out);
                ASSERT_LT(n, 64);
                continue;
            }
            ASSERT_OK(rc);
            ASSERT_EQ(out.len, 4 + g.len);
            ASSERT_MEM_EQ(out.p + 4, g.p, g.len);
            ww_buf_free(&out);
            break;
        }
        /* "keep" fits in the first block, so only a larger encoding needs another */
        ASSERT_EQ(failures > 0, g.len + 4 > 256);
        ww_buf_free(&scratch);
        ww_buf_free(&g);
    }
    /* a fresh buffer: the very first allocation fails */
    const struct vec *v = vec_find("frame.ping");
    struct vec_value val;
    struct ww_buf out;
    memset(&val, 0, sizeof val);
    ww_buf_init(&out, 0);
    v->build(&val, &out);
    ww_alloc_fail_after(0);
    ASSERT_ERR(vec_encode(v, &val, &out), WW_ENOMEM);
    ww_alloc_fail_after(-1);
    ASSERT_EQ(out.len, 0);
    ASSERT_OK(vec_encode(v, &val, &out));
    ASSERT_EQ(out.len, 3);
    ww_buf_free(&out);
}

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A small seeded mutation fuzzer in the normal test run: whatever decodes re-encodes to the
 * same bytes. The libFuzzer targets do this at scale. */
TEST(proto_codec_random_mutations_roundtrip)
{
    static const uint8_t interesting[] = {0x00, 0x01, 0x7f, 0x80, 0x90, 0x9f, 0xa0, 0xbf,
                                          0xc0, 0xc1, 0xc4, 0xca, 0xcc, 0xcf, 0xd0, 0xd9,
                                          0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff};
    rng_state = ww_test_seed() * 0x9e3779b97f4a7c15ull + 1;
    long accepted = 0, rejected = 0;
    for (size_t k = 0; k < N_VECTORS; k++) {
        const struct vec *v = &vectors[k];
        struct ww_buf g, m;
        load_golden(v, &g);
        ww_buf_init(&m, 0);
        for (int iter = 0; iter < 3000; iter++) {
            ww_buf_reset(&m);
            ASSERT_OK(ww_buf_append(&m, g.p, g.len));
            int muts = 1 + (int)(rng() % 3);
            for (int t = 0; t < muts && m.len > 0; t++) {
                size_t at = (size_t)(rng() % m.len);
                switch (rng() % 5) {
                case 0:
                    m.p[at] ^= (uint8_t)(1u << (rng() % 8));
                    break;
                case 1:
                    m.p[at] = interesting[rng() % sizeof interesting];
                    break;
                case 2:
                    m.p[at] = (uint8_t)rng();
                    break;
                case 3: /* delete one byte */
                    memmove(m.p + at, m.p + at + 1, m.len - at - 1);
                    m.len--;
                    break;
                default: { /* insert one byte */
                    uint8_t c = interesting[rng() % sizeof interesting];
                    ASSERT_OK(ww_buf_append(&m, &c, 1));
                    memmove(m.p + at + 1, m.p + at, m.len - at - 1);
                    m.p[at] = c;
                    break;
                }
                }
            }
            uint8_t *copy = ww_malloc(m.len);
            ASSERT(copy != NULL);
            memcpy(copy, m.p, m.len);
            struct vec_value val;
            if (vec_decode(v, copy, m.len, &val) == 0) {
                struct ww_buf again;
                ww_buf_init(&again, 0);
                ASSERT_OK(vec_encode(v, &val, &again));
                ASSERT_EQ(again.len, m.len);
                ASSERT_MEM_EQ(again.p, copy, m.len);
                ww_buf_free(&again);
                accepted++;
            } else {
                rejected++;
            }
            ww_free(copy);
        }
        ww_buf_free(&m);
        ww_buf_free(&g);
    }
    ASSERT_GT(accepted, 1000);
    ASSERT_GT(rejected, 1000);
}

struct ifield {
    const char *vec;
    size_t off;
    size_t size;
};

#define IF(name, member)                                                                           \
    {                                                                                              \
        name, offsetof(struct vec_value, member), sizeof(((struct vec_value *)0)->member)          \
    }

static const struct ifield int_fields[] = {
    IF("header.pair", header.version),
    IF("header.pair", header.seq),
    IF("header.pair", header.hlc),
    IF("header.pair", header.epoch),
    IF("header.pair", header.kind),
    IF("header.pair", header.audience),
    IF("header.pair", header.ref_len),
    IF("header.first", header.seq),
    IF("header.first", header.audience),
    IF("envelope.plain", envelope.h.seq),
    IF("envelope.plain", envelope.h.audience),
    IF("envelope.plain", envelope.erased),
    IF("envelope.erased", envelope.erased),
    IF("envelope.erased", envelope.h.audience),
    IF("body.group.create", body.u.group_create.has_agg),
    IF("body.member.add", body.u.member_add.role),
    IF("body.member.add", body.u.member_add.n_devices),
    IF("body.member.profile", body.u.member_profile.year),
    IF("body.member.profile", body.u.member_profile.track),
    IF("body.key.epoch", body.u.keys.epoch),
    IF("body.key.epoch", body.u.keys.n_wraps),
    IF("body.key.epoch", body.u.keys.wraps[0].audience),
    IF("body.key.epoch", body.u.keys.wraps[1].audience),
    IF("body.key.share", body.u.keys.n_wraps),
    IF("body.challenge.define", body.u.challenge_define.canmeds),
    IF("body.challenge.define", body.u.challenge_define.week_from),
    IF("body.challenge.define", body.u.challenge_define.week_to),
    IF("body.challenge.define", body.u.challenge_define.signoff_role),
    IF("body.challenge.schedule", body.u.challenge_schedule.date),
    IF("body.day.off", body.u.day_off.date),
    IF("body.day.off", body.u.day_off.off),
    IF("body.reflection.put", body.u.reflection.date),
    IF("body.reflection.put", body.u.reflection.status),
    IF("body.reflection.put", body.u.reflection.obstacles),
    IF("body.reflection.put", body.u.reflection.share),
    IF("body.reflection.put", body.u.reflection.draft),
    IF("body.reflection.put.done", body.u.reflection.status),
    IF("body.reflection.put.done", body.u.reflection.obstacles),
    IF("body.climate.put", body.u.climate.date),
    IF("body.climate.put", body.u.climate.n_answers),
    IF("body.climate.put", body.u.climate.answers[0].item),
    IF("body.climate.put", body.u.climate.answers[1].item),
    IF("body.climate.put", body.u.climate.answers[2].value),
    IF("body.signal.raise", body.u.signal_raise.category),
    IF("body.signal.raise", body.u.signal_raise.has_concerns),
    IF("body.signal.resolve", body.u.signal_resolve.state),
    IF("body.signoff.put", body.u.signoff.date),
    IF("body.signoff.put", body.u.signoff.level),
    IF("frame.hs_init", frame.u.hs_init.version),
    IF("frame.hs_init", frame.u.hs_init.caps),
    IF("frame.hs_resp", frame.u.hs_resp.version),
    IF("frame.vv", frame.u.vv.n),
    IF("frame.vv", frame.u.vv.e[0].seq),
    IF("frame.vv", frame.u.vv.e[1].seq),
    IF("frame.ack", frame.u.vv.n),
    IF("frame.batch", frame.u.batch.n),
    IF("frame.batch", frame.u.batch.more),
    IF("frame.error", frame.u.error.code),
    IF("frame.ping", frame.u.ping.nonce),
    IF("frame.ping.ext", frame.ext.n),
};

static void set_int(void *p, size_t size, uint64_t v)
{
    switch (size) {
    case 1: {
        uint8_t x = (uint8_t)v;
        memcpy(p, &x, 1);
        break;
    }
    case 2: {
        uint16_t x = (uint16_t)v;
        memcpy(p, &x, 2);
        break;
    }
    case 4: {
        uint32_t x = (uint32_t)v;
        memcpy(p, &x, 4);
        break;
    }
    default:
        memcpy(p, &v, 8);
        break;
    }
}

/* Encoders check what decoders check: any value an encoder accepts decodes back to the same
 * bytes. Each integer field is set to boundary values in turn. */
TEST(proto_codec_encode_accepts_only_what_decodes)
{
    static const uint64_t values[] = {0,           1,
                                      2,           3,
                                      4,           5,
                                      6,           7,
                                      8,           9,
                                      15,          16,
                                      17,          18,
                                      31,          32,
                                      52,          53,
                                      63,          64,
                                      65,          127,
                                      128,         255,
                                      256,         257,
                                      65535,       65536,
                                      WW_MAX_DATE, WW_MAX_DATE + 1,
                                      0xffffffffu, 0x100000000ull,
                                      UINT64_MAX};
    long accepted = 0, rejected = 0;
    for (size_t f = 0; f < sizeof int_fields / sizeof int_fields[0]; f++) {
        const struct vec *v = vec_find(int_fields[f].vec);
        ASSERT(v != NULL);
        for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
            struct vec_value val, back;
            struct ww_buf scratch, out, again;
            memset(&val, 0, sizeof val);
            ww_buf_init(&scratch, 0);
            ww_buf_init(&out, 0);
            ww_buf_init(&again, 0);
            v->build(&val, &scratch);
            set_int((uint8_t *)&val + int_fields[f].off, int_fields[f].size, values[i]);
            int rc = vec_encode(v, &val, &out);
            if (rc == 0) {
                accepted++;
                rc = vec_decode(v, out.p, out.len, &back);
                if (rc != 0)
                    ww_test_fail(__FILE__, __LINE__, "%s field %zu = %llu: encoded, decode %s",
                                 v->name, f, (unsigned long long)values[i], ww_err_name(rc));
                ASSERT_OK(vec_encode(v, &back, &again));
                ASSERT_EQ(again.len, out.len);
                ASSERT_MEM_EQ(again.p, out.p, out.len);
            } else {
                rejected++;
                ASSERT(rc == WW_ERANGE || rc == WW_ETOOBIG || rc == WW_EINVAL ||
                       rc == WW_EVERSION || rc == WW_ETRUNC);
                ASSERT_EQ(out.len, 0);
            }
            ww_buf_free(&again);
            ww_buf_free(&out);
            ww_buf_free(&scratch);
        }
    }
    ASSERT_GT(accepted, 300);
    ASSERT_GT(rejected, 300);
}
