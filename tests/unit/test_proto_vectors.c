/*
 * test_proto_vectors.c - the golden test vectors: every fixed input encodes to its committed
 * bytes, the committed bytes decode back to the same value, and tests/vectors/vectors.json
 * is exactly what this implementation writes for them.
 */
#include <stdio.h>

#include "runner.h"

#include "alloc.h"
#include "buf.h"
#include "proto.h"

#include "vectors/json.inc"
#include "vectors/vectors.inc"

/* Reads a whole file into out; -1 when it cannot. */
static int read_file(const char *path, struct ww_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char chunk[4096];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = ww_buf_append(out, chunk, n);
    fclose(f);
    return rc;
}

/* The JSON of one value, for comparing two values field by field. */
static void value_json(const struct vec *v, const struct vec_value *val, struct ww_buf *out)
{
    struct jw j = {out, 0, 1, 0};
    json_vector(&j, v, val, (const uint8_t *)"", 0);
    ASSERT_EQ(j.rc, 0);
}

TEST(proto_vectors_encode_to_golden_bytes)
{
    ASSERT_GE(N_VECTORS, 30);
    for (size_t k = 0; k < N_VECTORS; k++) {
        const struct vec *v = &vectors[k];
        struct vec_value val;
        struct ww_buf scratch, enc, golden;
        memset(&val, 0, sizeof val);
        ww_buf_init(&scratch, 0);
        ww_buf_init(&enc, 0);
        ww_buf_init(&golden, 0);
        v->build(&val, &scratch);
        ASSERT_OK(vec_encode(v, &val, &enc));
        ASSERT_EQ(hex_decode(v->hex, &golden), 0);
        if (enc.len != golden.len || memcmp(enc.p, golden.p, enc.len) != 0)
            ww_test_fail(__FILE__, __LINE__, "vector %s: encoding differs from golden", v->name);
        ww_buf_free(&golden);
        ww_buf_free(&enc);
        ww_buf_free(&scratch);
    }
}

TEST(proto_vectors_decode_to_the_same_value)
{
    for (size_t k = 0; k < N_VECTORS; k++) {
        const struct vec *v = &vectors[k];
        struct vec_value built, decoded;
        struct ww_buf scratch, golden, again, jb, jd;
        memset(&built, 0, sizeof built);
        memset(&decoded, 0, sizeof decoded);
        ww_buf_init(&scratch, 0);
        ww_buf_init(&golden, 0);
        ww_buf_init(&again, 0);
        ww_buf_init(&jb, 0);
        ww_buf_init(&jd, 0);
        v->build(&built, &scratch);
        ASSERT_EQ(hex_decode(v->hex, &golden), 0);
        ASSERT_OK(vec_decode(v, golden.p, golden.len, &decoded));
        ASSERT_OK(vec_encode(v, &decoded, &again));
        ASSERT_EQ(again.len, golden.len);
        ASSERT_MEM_EQ(again.p, golden.p, golden.len);
        value_json(v, &built, &jb);
        value_json(v, &decoded, &jd);
        if (jb.len != jd.len || memcmp(jb.p, jd.p, jb.len) != 0)
            ww_test_fail(__FILE__, __LINE__, "vector %s: decoded value differs", v->name);
        ww_buf_free(&jd);
        ww_buf_free(&jb);
        ww_buf_free(&again);
        ww_buf_free(&golden);
        ww_buf_free(&scratch);
    }
}

TEST(proto_vectors_json_file_is_current)
{
    struct ww_buf doc, file;
    ww_buf_init(&doc, 0);
    ww_buf_init(&file, 0);
    ASSERT_EQ(json_document(&doc), 0);
    ASSERT_EQ(read_file("tests/vectors/vectors.json", &file), 0);
    if (doc.len != file.len || memcmp(doc.p, file.p, doc.len) != 0)
        ww_test_fail(__FILE__, __LINE__,
                     "tests/vectors/vectors.json is stale: rebuild it with tests/vectors/gen.c");
    ww_buf_free(&file);
    ww_buf_free(&doc);
}

/* The envelope vectors carry the header vectors' layout: header_bytes is the exact slice,
 * and an erased envelope keeps header, ct_hash and sig. */
TEST(proto_vectors_envelope_header_slice)
{
    const struct vec *v = vec_find("envelope.plain");
    ASSERT(v != NULL);
    struct ww_buf golden, hdr;
    struct ww_envelope e;
    ww_buf_init(&golden, 0);
    ww_buf_init(&hdr, 0);
    ASSERT_EQ(hex_decode(v->hex, &golden), 0);
    ASSERT_OK(ww_envelope_decode(golden.p, golden.len, &e));
    ASSERT(e.header_bytes.p == golden.p + 1); /* right after the 1-byte array header */
    ASSERT_OK(ww_header_encode(&e.h, &hdr));
    ASSERT_EQ(hdr.len, e.header_bytes.len);
    ASSERT_MEM_EQ(hdr.p, e.header_bytes.p, hdr.len);
    ASSERT_EQ(e.erased, 0);
    ASSERT_EQ(e.body.len, 19);
    ASSERT_EQ(e.h.seq, 3);
    ASSERT_EQ(e.h.kind, WW_KIND_MEMBER_REMOVE);

    const struct vec *ve = vec_find("envelope.erased");
    ASSERT(ve != NULL);
    struct ww_buf g2;
    ww_buf_init(&g2, 0);
    ASSERT_EQ(hex_decode(ve->hex, &g2), 0);
    ASSERT_OK(ww_envelope_decode(g2.p, g2.len, &e));
    ASSERT_EQ(e.erased, 1);
    ASSERT_EQ(e.body.len, 0);
    ASSERT_EQ(g2.p[g2.len - 1], 0xc0);
    ASSERT_EQ(e.sig[0], 0xa1);
    ww_buf_free(&g2);
    ww_buf_free(&hdr);
    ww_buf_free(&golden);
}
