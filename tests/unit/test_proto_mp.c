/*
 * test_proto_mp.c - the msgpack subset: canonical integer, string, binary, array and map
 * headers; excluded types; the depth limit; peer-declared counts; UTF-8 text rules; the
 * writer's limit and its agreement with the reader.
 */
#include "runner.h"

#include "alloc.h"
#include "buf.h"
#include "mp.h"
#include "proto.h"

#include "vectors/vectors.inc"

/* A reader over the bytes of a hex string held in b. */
static void reader_hex(struct ww_mp_reader *r, struct ww_buf *b, const char *hex)
{
    ww_buf_reset(b);
    ASSERT_EQ(hex_decode(hex, b), 0);
    ww_mp_reader_init(r, b->p, b->len);
}

struct uint_case {
    const char *hex;
    int want;
    uint64_t value;
};

TEST(proto_mp_uint_canonical_forms)
{
    static const struct uint_case cases[] = {
        {"00", 0, 0},
        {"7f", 0, 127},
        {"cc80", 0, 128},
        {"ccff", 0, 255},
        {"cd0100", 0, 256},
        {"cdffff", 0, 65535},
        {"ce00010000", 0, 65536},
        {"ceffffffff", 0, 0xffffffffu},
        {"cf0000000100000000", 0, 0x100000000ull},
        {"cfffffffffffffffff", 0, UINT64_MAX},
        /* wider than needed */
        {"cc00", WW_ENONCANON, 0},
        {"cc7f", WW_ENONCANON, 0},
        {"cd00ff", WW_ENONCANON, 0},
        {"ce0000ffff", WW_ENONCANON, 0},
        {"cf00000000ffffffff", WW_ENONCANON, 0},
        /* negative-integer encodings of non-negative values */
        {"d000", WW_ENONCANON, 0},
        {"d005", WW_ENONCANON, 0},
        {"d10005", WW_ENONCANON, 0},
        {"d200000005", WW_ENONCANON, 0},
        {"d30000000000000005", WW_ENONCANON, 0},
        {"d37fffffffffffffff", WW_ENONCANON, 0},
        /* negative values in a wider form than needed */
        {"d0ff", WW_ENONCANON, 0},
        {"d0e0", WW_ENONCANON, 0},
        {"d1ff80", WW_ENONCANON, 0},
        {"d2ffff8000", WW_ENONCANON, 0},
        {"d3ffffffff80000000", WW_ENONCANON, 0},
        /* canonical negative values are out of range for an unsigned field */
        {"ff", WW_ERANGE, 0},
        {"e0", WW_ERANGE, 0},
        {"d0df", WW_ERANGE, 0},
        {"d080", WW_ERANGE, 0},
        {"d1ff7f", WW_ERANGE, 0},
        {"d2ffff7fff", WW_ERANGE, 0},
        {"d3ffffffff7fffffff", WW_ERANGE, 0},
        {"d38000000000000000", WW_ERANGE, 0},
        /* other types */
        {"ca00000000", WW_ETYPE, 0},
        {"cb0000000000000000", WW_ETYPE, 0},
        {"c1", WW_ETYPE, 0},
        {"d40000", WW_ETYPE, 0},
        {"c70100", WW_ETYPE, 0},
        {"c0", WW_ETYPE, 0},
        {"c3", WW_ETYPE, 0},
        {"a0", WW_ETYPE, 0},
        {"c400", WW_ETYPE, 0},
        {"90", WW_ETYPE, 0},
        {"80", WW_ETYPE, 0},
        /* cut short */
        {"", WW_ETRUNC, 0},
        {"cc", WW_ETRUNC, 0},
        {"cd01", WW_ETRUNC, 0},
        {"ce000100", WW_ETRUNC, 0},
        {"cf00000001000000", WW_ETRUNC, 0},
        {"d0", WW_ETRUNC, 0},
    };
    struct ww_buf b;
    ww_buf_init(&b, 0);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct ww_mp_reader r;
        uint64_t v = 12345;
        reader_hex(&r, &b, cases[k].hex);
        int rc = ww_mp_read_uint(&r, &v);
        if (rc != cases[k].want)
            ww_test_fail(__FILE__, __LINE__, "uint %s: got %s", cases[k].hex, ww_err_name(rc));
        if (rc == 0) {
            ASSERT_EQ(v, cases[k].value);
            ASSERT_EQ(r.pos, b.len);
        } else {
            ASSERT_EQ(v, 12345); /* untouched */
            ASSERT_EQ(r.pos, 0); /* nothing consumed */
        }
    }
    ww_buf_free(&b);
}

TEST(proto_mp_uint_max)
{
    struct ww_buf b;
    struct ww_mp_reader r;
    uint64_t v = 0;
    ww_buf_init(&b, 0);
    reader_hex(&r, &b, "cd0100");
    ASSERT_ERR(ww_mp_read_uint_max(&r, 255, &v), WW_ERANGE);
    ASSERT_EQ(r.pos, 0);
    ASSERT_OK(ww_mp_read_uint_max(&r, 256, &v));
    ASSERT_EQ(v, 256);
    ASSERT_OK(ww_mp_finish(&r));
    ww_buf_free(&b);
}

TEST(proto_mp_str_and_bin_canonical_forms)
{
    struct ww_buf b;
    struct ww_mp_reader r;
    struct ww_slice s;
    ww_buf_init(&b, 0);

    reader_hex(&r, &b, "a3616263");
    ASSERT_OK(ww_mp_read_str(&r, 10, &s));
    ASSERT_EQ(s.len, 3);
    ASSERT_MEM_EQ(s.p, "abc", 3);

    reader_hex(&r, &b, "d903616263"); /* str8 for 3 bytes */
    ASSERT_ERR(ww_mp_read_str(&r, 10, &s), WW_ENONCANON);
    reader_hex(&r, &b, "d91f"); /* str8 for 31 bytes: header alone is enough to reject */
    ASSERT_ERR(ww_mp_read_str(&r, 100, &s), WW_ENONCANON);
    reader_hex(&r, &b, "da00ff");
    ASSERT_ERR(ww_mp_read_str(&r, 1000, &s), WW_ENONCANON);
    reader_hex(&r, &b, "db0000ffff");
    ASSERT_ERR(ww_mp_read_str(&r, 100000, &s), WW_ENONCANON);
    reader_hex(&r, &b, "c50003616263"); /* bin16 for 3 bytes */
    ASSERT_ERR(ww_mp_read_bin(&r, 10, &s), WW_ENONCANON);
    reader_hex(&r, &b, "c600000003616263");
    ASSERT_ERR(ww_mp_read_bin(&r, 10, &s), WW_ENONCANON);
    reader_hex(&r, &b, "c400"); /* bin8 of length 0 is the smallest bin */
    ASSERT_OK(ww_mp_read_bin(&r, 0, &s));
    ASSERT_EQ(s.len, 0);

    /* a string of 32 bytes needs str8; of 256 bytes str16 */
    ww_buf_reset(&b);
    uint8_t hdr8[2] = {0xd9, 32};
    ASSERT_OK(ww_buf_append(&b, hdr8, 2));
    for (int k = 0; k < 32; k++)
        ASSERT_OK(ww_buf_append(&b, "x", 1));
    ww_mp_reader_init(&r, b.p, b.len);
    ASSERT_OK(ww_mp_read_str(&r, 32, &s));
    ASSERT_EQ(s.len, 32);
    ww_mp_reader_init(&r, b.p, b.len);
    ASSERT_ERR(ww_mp_read_str(&r, 31, &s), WW_ETOOBIG);
    ww_mp_reader_init(&r, b.p, b.len - 1);
    ASSERT_ERR(ww_mp_read_str(&r, 32, &s), WW_ETRUNC);

    /* length beyond the input */
    reader_hex(&r, &b, "a361");
    ASSERT_ERR(ww_mp_read_str(&r, 10, &s), WW_ETRUNC);
    reader_hex(&r, &b, "c40500");
    ASSERT_ERR(ww_mp_read_bin(&r, 10, &s), WW_ETRUNC);
    reader_hex(&r, &b, "c6ffffffff");
    ASSERT_ERR(ww_mp_read_bin(&r, SIZE_MAX, &s), WW_ETRUNC);
    /* limit is checked before the remaining bytes */
    reader_hex(&r, &b, "c6ffffffff");
    ASSERT_ERR(ww_mp_read_bin(&r, 100, &s), WW_ETOOBIG);

    /* wrong types and text rules */
    reader_hex(&r, &b, "c403616263");
    ASSERT_ERR(ww_mp_read_str(&r, 10, &s), WW_ETYPE);
    reader_hex(&r, &b, "a3616263");
    ASSERT_ERR(ww_mp_read_bin(&r, 10, &s), WW_ETYPE);
    reader_hex(&r, &b, "a2c328");
    ASSERT_ERR(ww_mp_read_str(&r, 10, &s), WW_EUTF8);
    ASSERT_EQ(r.pos, 0);
    reader_hex(&r, &b, "a3610d62"); /* carriage return */
    ASSERT_ERR(ww_mp_read_str(&r, 10, &s), WW_EUTF8);
    ww_buf_free(&b);
}

TEST(proto_mp_fixed_and_optional_bin)
{
    struct ww_buf b;
    struct ww_mp_reader r;
    uint8_t dst[4] = {9, 9, 9, 9};
    int present = -1;
    ww_buf_init(&b, 0);
    reader_hex(&r, &b, "c40401020304");
    ASSERT_OK(ww_mp_read_bin_exact(&r, 4, dst));
    ASSERT_EQ(dst[3], 4);
    reader_hex(&r, &b, "c403010203");
    ASSERT_ERR(ww_mp_read_bin_exact(&r, 4, dst), WW_ERANGE);
    ASSERT_EQ(r.pos, 0);
    reader_hex(&r, &b, "c4050102030405");
    ASSERT_ERR(ww_mp_read_bin_exact(&r, 4, dst), WW_ETOOBIG);
    reader_hex(&r, &b, "c400");
    ASSERT_OK(ww_mp_read_bin_opt(&r, 4, dst, &present));
    ASSERT_EQ(present, 0);
    reader_hex(&r, &b, "c40405060708");
    ASSERT_OK(ww_mp_read_bin_opt(&r, 4, dst, &present));
    ASSERT_EQ(present, 1);
    ASSERT_EQ(dst[0], 5);
    reader_hex(&r, &b, "c4020506");
    ASSERT_ERR(ww_mp_read_bin_opt(&r, 4, dst, &present), WW_ERANGE);
    reader_hex(&r, &b, "c0");
    ASSERT_ERR(ww_mp_read_bin_opt(&r, 4, dst, &present), WW_ETYPE);
    ww_buf_free(&b);
}

TEST(proto_mp_array_headers_and_counts)
{
    struct ww_buf b;
    struct ww_mp_reader r;
    uint32_t n = 77;
    ww_buf_init(&b, 0);
    reader_hex(&r, &b, "90");
    ASSERT_OK(ww_mp_read_array(&r, 10, &n));
    ASSERT_EQ(n, 0);
    reader_hex(&r, &b, "9f000102030405060708090a0b0c0d0e");
    ASSERT_OK(ww_mp_read_array(&r, 15, &n));
    ASSERT_EQ(n, 15);
    reader_hex(&r, &b, "dc000f000102030405060708090a0b0c0d0e");
    ASSERT_ERR(ww_mp_read_array(&r, 100, &n), WW_ENONCANON);
    reader_hex(&r, &b, "dc0010000102030405060708090a0b0c0d0e0f");
    ASSERT_OK(ww_mp_read_array(&r, 100, &n));
    ASSERT_EQ(n, 16);
    reader_hex(&r, &b, "dd0000ffff");
    ASSERT_ERR(ww_mp_read_array(&r, UINT32_MAX, &n), WW_ENONCANON);
    /* counts are checked against the bytes that remain (and against the limit first) */
    reader_hex(&r, &b, "ddffffffff");
    ASSERT_ERR(ww_mp_read_array(&r, UINT32_MAX, &n), WW_ETRUNC);
    ASSERT_EQ(r.pos, 0);
    reader_hex(&r, &b, "ddffffffff");
    ASSERT_ERR(ww_mp_read_array(&r, 64, &n), WW_ETOOBIG);
    reader_hex(&r, &b, "930102");
    ASSERT_ERR(ww_mp_read_array(&r, 10, &n), WW_ETRUNC);
    reader_hex(&r, &b, "93010203");
    ASSERT_ERR(ww_mp_read_array(&r, 2, &n), WW_ETOOBIG);
    reader_hex(&r, &b, "dc00");
    ASSERT_ERR(ww_mp_read_array(&r, 10, &n), WW_ETRUNC);
    reader_hex(&r, &b, "80");
    ASSERT_ERR(ww_mp_read_array(&r, 10, &n), WW_ETYPE);
    ASSERT_EQ(n, 16); /* never written on failure */
    ww_buf_free(&b);
}

struct skip_case {
    const char *hex;
    int depth;
    int want;
};

TEST(proto_mp_skip_validates_everything)
{
    static const struct skip_case cases[] = {
        {"c0", 0, 0},
        {"c2", 0, 0},
        {"c3", 0, 0},
        {"ff", 0, 0},
        {"d0df", 0, 0},
        {"d1ff7f", 0, 0},
        {"d0e0", 0, WW_ENONCANON},
        {"d005", 0, WW_ENONCANON},
        {"cc05", 0, WW_ENONCANON},
        {"ca00000000", 0, WW_ETYPE},
        {"cb0000000000000000", 0, WW_ETYPE},
        {"d40100", 0, WW_ETYPE},
        {"d5010000", 0, WW_ETYPE},
        {"c7010100", 0, WW_ETYPE},
        {"c1", 0, WW_ETYPE},
        {"9301ca0000000002", 0, WW_ETYPE},
        {"a2c328", 0, WW_EUTF8},
        {"91a17f", 0, WW_EUTF8},
        {"c40300", 0, WW_ETRUNC},
        {"dfffffffff", 0, WW_ETRUNC},
        {"ddffffffff", 0, WW_ETRUNC},
        /* maps: keys of any type, strictly ascending by their encoded bytes */
        {"80", 0, 0},
        {"8201c002c0", 0, 0},
        {"8202c001c0", 0, WW_ENONCANON},
        {"8201c001c0", 0, WW_ENONCANON},
        {"8201c0a161c0", 0, 0},
        {"82a161c001c0", 0, WW_ENONCANON},
        {"82a161c0a26161c0", 0, 0},
        {"82a26161c0a161c0", 0, WW_ENONCANON}, /* a2 > a1: a shorter fixstr sorts first */
        {"82c0c0c2c0", 0, 0},
        {"829101c09102c0", 0, 0},
        {"82cc80c0cc81c0", 0, 0},
        {"de000f", 0, WW_ENONCANON},
        {"81cc05c0", 0, WW_ENONCANON},
        /* depth: a container sits at depth + 1 */
        {"90", 7, 0},
        {"90", 8, WW_EDEPTH},
        {"9190", 6, 0},
        {"9190", 7, WW_EDEPTH},
        {"80", 8, WW_EDEPTH},
        {"8101"
         "919191919191"
         "90",
         0, 0}, /* map at 1, arrays at 2..8 */
        {"8101"
         "91919191919191"
         "90",
         0, WW_EDEPTH}, /* arrays at 2..9 */
        {"81"
         "919191919191"
         "90"
         "c0",
         0, 0}, /* the key nests too */
        {"81"
         "91919191919191"
         "90"
         "c0",
         0, WW_EDEPTH},
        {"9191919191919190", 0, 0},
        {"919191919191919190", 0, WW_EDEPTH},
    };
    struct ww_buf b;
    ww_buf_init(&b, 0);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct ww_mp_reader r;
        reader_hex(&r, &b, cases[k].hex);
        int rc = ww_mp_skip(&r, cases[k].depth);
        if (rc != cases[k].want)
            ww_test_fail(__FILE__, __LINE__, "skip %s at depth %d: got %s", cases[k].hex,
                         cases[k].depth, ww_err_name(rc));
        ASSERT_EQ(r.pos, rc == 0 ? b.len : 0);
    }
    ww_buf_free(&b);
}

/* A million nested arrays stop at the depth limit, without recursing into them. */
TEST(proto_mp_depth_bomb)
{
    size_t n = 1000000;
    uint8_t *p = ww_malloc(n);
    ASSERT(p != NULL);
    memset(p, 0x91, n);
    struct ww_mp_reader r;
    ww_mp_reader_init(&r, p, n);
    ASSERT_ERR(ww_mp_skip(&r, 0), WW_EDEPTH);
    memset(p, 0x81, n); /* maps: a nested map as the key */
    ww_mp_reader_init(&r, p, n);
    ASSERT_ERR(ww_mp_skip(&r, 0), WW_EDEPTH);
    ww_free(p);
}

TEST(proto_mp_finish_and_nil)
{
    struct ww_buf b;
    struct ww_mp_reader r;
    uint64_t v;
    ww_buf_init(&b, 0);
    reader_hex(&r, &b, "01c0");
    ASSERT_EQ(ww_mp_take_nil(&r), 0);
    ASSERT_OK(ww_mp_read_uint(&r, &v));
    ASSERT_ERR(ww_mp_finish(&r), WW_ETRAILING);
    ASSERT_EQ(ww_mp_take_nil(&r), 1);
    ASSERT_OK(ww_mp_finish(&r));
    ASSERT_EQ(ww_mp_take_nil(&r), 0);
    ww_buf_free(&b);
}

struct text_case {
    const char *s;
    size_t len;
    int valid;
};

#define TC(lit, ok)                                                                                \
    {                                                                                              \
        lit, sizeof(lit) - 1, ok                                                                   \
    }

TEST(proto_text_valid_rules)
{
    static const struct text_case cases[] = {
        TC("", 1),
        TC("Goedemorgen", 1),
        TC("tab\there\nnewline", 1),
        TC("\xc3\xa9\xc3\xab", 1), /* é ë */
        TC("\xe2\x82\xac", 1),     /* € */
        TC("\xf0\x9f\x98\x80", 1), /* U+1F600 */
        TC("\xc2\x80", 1),         /* U+0080 (C1 is not C0) */
        TC("\xed\x9f\xbf", 1),     /* U+D7FF */
        TC("\xee\x80\x80", 1),     /* U+E000 */
        TC("\xef\xbf\xbf", 1),     /* U+FFFF */
        TC("\xf4\x8f\xbf\xbf", 1), /* U+10FFFF */
        TC("\xe0\xa0\x80", 1),     /* U+0800 */
        TC("\xf0\x90\x80\x80", 1), /* U+10000 */
        TC("~", 1),
        TC("\x7f", 0), /* DEL */
        TC("a\rb", 0), /* CR */
        TC("a\x01", 0),
        TC("\x1f", 0),
        TC("\x0b", 0),
        TC("\x0c", 0),
        TC("a\0b", 0),
        TC("\x80", 0), /* lone continuation */
        TC("\xbf", 0),
        TC("\xc0\x80", 0),         /* overlong NUL */
        TC("\xc1\xbf", 0),         /* overlong */
        TC("\xe0\x80\x80", 0),     /* overlong */
        TC("\xe0\x9f\xbf", 0),     /* overlong */
        TC("\xf0\x80\x80\x80", 0), /* overlong */
        TC("\xf0\x8f\xbf\xbf", 0), /* overlong */
        TC("\xed\xa0\x80", 0),     /* U+D800 */
        TC("\xed\xbf\xbf", 0),     /* U+DFFF */
        TC("\xf4\x90\x80\x80", 0), /* U+110000 */
        TC("\xf5\x80\x80\x80", 0),
        TC("\xfe", 0),
        TC("\xff", 0),
        TC("\xc3", 0), /* cut short */
        TC("\xe2\x82", 0),
        TC("\xf0\x9f\x98", 0),
        TC("\xc3\x28", 0), /* bad continuation */
        TC("\xe2\x28\xac", 0),
        TC("\xe2\x82\x28", 0),
        TC("\xf0\x9f\x28\x80", 0),
        TC("\xf0\x9f\x98\x28", 0),
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int got = ww_text_valid((const uint8_t *)cases[k].s, cases[k].len);
        if (got != cases[k].valid)
            ww_test_fail(__FILE__, __LINE__, "text case %zu: got %d", k, got);
    }
}

/* Every code point: valid exactly when it is a scalar value and not a banned control. */
TEST(proto_text_valid_every_code_point)
{
    for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
        uint8_t u[4];
        size_t n;
        if (cp < 0x80) {
            u[0] = (uint8_t)cp;
            n = 1;
        } else if (cp < 0x800) {
            u[0] = (uint8_t)(0xc0 | cp >> 6);
            u[1] = (uint8_t)(0x80 | (cp & 0x3f));
            n = 2;
        } else if (cp < 0x10000) {
            u[0] = (uint8_t)(0xe0 | cp >> 12);
            u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
            u[2] = (uint8_t)(0x80 | (cp & 0x3f));
            n = 3;
        } else {
            u[0] = (uint8_t)(0xf0 | cp >> 18);
            u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
            u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
            u[3] = (uint8_t)(0x80 | (cp & 0x3f));
            n = 4;
        }
        int want =
            !(cp >= 0xd800 && cp <= 0xdfff) && !(cp < 0x20 && cp != 9 && cp != 10) && cp != 0x7f;
        if (ww_text_valid(u, n) != want)
            ww_test_fail(__FILE__, __LINE__, "code point U+%04X", (unsigned)cp);
    }
}

TEST(proto_mp_writer_is_the_readers_inverse)
{
    static const uint64_t values[] = {0,     1,     127,         128,           255,       256,
                                      65535, 65536, 4294967295u, 4294967296ull, UINT64_MAX};
    static const size_t sizes[] = {1, 1, 1, 2, 2, 3, 3, 5, 5, 9, 9};
    struct ww_buf b;
    ww_buf_init(&b, 0);
    for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
        struct ww_mp_writer w;
        struct ww_mp_reader r;
        uint64_t v;
        ww_buf_reset(&b);
        ww_mp_writer_init(&w, &b, 100);
        ww_mp_put_uint(&w, values[k]);
        ASSERT_OK(ww_mp_writer_finish(&w));
        ASSERT_EQ(b.len, sizes[k]);
        ww_mp_reader_init(&r, b.p, b.len);
        ASSERT_OK(ww_mp_read_uint(&r, &v));
        ASSERT(v == values[k]);
        ASSERT_OK(ww_mp_finish(&r));
    }
    static const size_t lens[] = {0, 31, 32, 255, 256, 65535, 65536};
    uint8_t *blob = ww_calloc(65536, 1);
    ASSERT(blob != NULL);
    memset(blob, 'a', 65536);
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        for (int bin = 0; bin < 2; bin++) {
            struct ww_mp_writer w;
            struct ww_mp_reader r;
            struct ww_slice s = {blob, lens[k]};
            ww_buf_reset(&b);
            ww_mp_writer_init(&w, &b, 1 << 20);
            if (bin)
                ww_mp_put_bin(&w, blob, lens[k]);
            else
                ww_mp_put_str(&w, s);
            ASSERT_OK(ww_mp_writer_finish(&w));
            ww_mp_reader_init(&r, b.p, b.len);
            if (bin)
                ASSERT_OK(ww_mp_read_bin(&r, SIZE_MAX, &s));
            else
                ASSERT_OK(ww_mp_read_str(&r, SIZE_MAX, &s));
            ASSERT_EQ(s.len, lens[k]);
            ASSERT_OK(ww_mp_finish(&r));
        }
    }
    static const uint32_t counts[] = {0, 15, 16, 65535, 65536};
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        struct ww_mp_writer w;
        struct ww_mp_reader r;
        uint32_t n;
        ww_buf_reset(&b);
        ww_mp_writer_init(&w, &b, 1 << 20);
        ww_mp_put_array(&w, counts[k]);
        for (uint32_t i = 0; i < counts[k]; i++)
            ww_mp_put_nil(&w);
        ASSERT_OK(ww_mp_writer_finish(&w));
        ww_mp_reader_init(&r, b.p, b.len);
        ASSERT_OK(ww_mp_read_array(&r, UINT32_MAX, &n));
        ASSERT_EQ(n, counts[k]);
        ww_mp_reader_init(&r, b.p, b.len);
        ASSERT_OK(ww_mp_skip(&r, 0));
        ASSERT_OK(ww_mp_finish(&r));
    }
    ww_free(blob);
    ww_buf_free(&b);
}

TEST(proto_mp_writer_limit_rolls_back)
{
    struct ww_buf b;
    struct ww_mp_writer w;
    ww_buf_init(&b, 0);
    ASSERT_OK(ww_buf_append(&b, "xy", 2));
    ww_mp_writer_init(&w, &b, 3);
    ww_mp_put_uint(&w, 1000); /* 3 bytes: fits exactly */
    ASSERT_EQ(b.len, 5);
    ww_mp_put_uint(&w, 1);
    ww_mp_put_uint(&w, 2);
    ASSERT_ERR(ww_mp_writer_finish(&w), WW_ETOOBIG);
    ASSERT_EQ(b.len, 2);
    ASSERT_MEM_EQ(b.p, "xy", 2);

    /* the buffer's own maximum is reported the same way */
    struct ww_buf small;
    ww_buf_init(&small, 4);
    ww_mp_writer_init(&w, &small, 100);
    ww_mp_put_bin(&w, "abcdef", 6);
    ASSERT_ERR(ww_mp_writer_finish(&w), WW_ETOOBIG);
    ASSERT_EQ(small.len, 0);
    ww_buf_free(&small);
    ww_buf_free(&b);
}

TEST(proto_mp_check_ext_rules)
{
    struct ww_ext e = {{NULL, 0}, 0};
    ASSERT_OK(ww_mp_check_ext(&e, 1));
    static const uint8_t one[] = {0x01};
    static const uint8_t two[] = {0x01, 0x02};
    static const uint8_t flt[] = {0xca, 0, 0, 0, 0};
    static const uint8_t deep[] = {0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x90};
    e.raw.p = one;
    e.raw.len = 1;
    ASSERT_ERR(ww_mp_check_ext(&e, 1), WW_EINVAL); /* n == 0 with bytes */
    e.n = 1;
    ASSERT_OK(ww_mp_check_ext(&e, 1));
    e.n = 2;
    ASSERT_ERR(ww_mp_check_ext(&e, 1), WW_ETRUNC);
    e.raw.p = two;
    e.raw.len = 2;
    e.n = 1;
    ASSERT_ERR(ww_mp_check_ext(&e, 1), WW_EINVAL); /* more bytes than n values */
    e.n = 17;
    ASSERT_ERR(ww_mp_check_ext(&e, 1), WW_ETOOBIG);
    e.raw.p = flt;
    e.raw.len = sizeof flt;
    e.n = 1;
    ASSERT_ERR(ww_mp_check_ext(&e, 1), WW_ETYPE);
    e.raw.p = deep;
    e.raw.len = sizeof deep;
    ASSERT_OK(ww_mp_check_ext(&e, 0));
    ASSERT_ERR(ww_mp_check_ext(&e, 1), WW_EDEPTH);
    e.raw.p = NULL;
    ASSERT_ERR(ww_mp_check_ext(&e, 0), WW_EINVAL);
}

/* The table of vectors is used here only for its hex helpers; check they agree. */
TEST(proto_mp_hex_helpers)
{
    struct ww_buf b, h;
    ww_buf_init(&b, 0);
    ww_buf_init(&h, 0);
    ASSERT_EQ(hex_decode("00ff10Ab", &b), 0);
    ASSERT_EQ(b.len, 4);
    ASSERT_EQ(hex_encode(b.p, b.len, &h), 0);
    ASSERT_EQ(h.len, 8);
    ASSERT_MEM_EQ(h.p, "00ff10ab", 8);
    ASSERT_EQ(hex_decode("0", &b), -1);
    ASSERT(vec_find("frame.ping") != NULL);
    ASSERT(vec_find("no.such.vector") == NULL);
    ww_buf_free(&h);
    ww_buf_free(&b);
}
