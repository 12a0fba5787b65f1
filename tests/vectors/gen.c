/*
 * gen.c - writes tests/vectors/vectors.json and the fuzz seed corpora from vectors.inc.
 *
 * Not part of the normal build. From the repository root, after `make`:
 *
 *   cc -std=c11 -D_POSIX_C_SOURCE=200809L -Iproto -Itests/vectors -o build/gen_vectors \
 *       tests/vectors/gen.c build/libwegwijs.a -lmsgpackc
 *   build/gen_vectors            # check the golden bytes, then write the files
 *   build/gen_vectors --print    # print "name hex" for every vector, write nothing
 *
 * It refuses to write anything when an encoding differs from the golden hex in
 * vectors.inc: golden bytes change only by editing vectors.inc, on purpose.
 * Seeds: every vector goes to tests/fuzz/corpus/<target>/<name>, together with two
 * variants carrying unknown trailing fields (one flat, one nested), so the fuzzers start
 * from both the known layout and the extension path.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "json.inc"
#include "vectors.inc"

/* Unknown trailing fields for the seed variants: "new", and [1, [2, {"k": nil}]]. */
static const uint8_t ext_flat[] = {0xa3, 'n', 'e', 'w'};
static const uint8_t ext_deep[] = {0x92, 0x01, 0x92, 0x02, 0x81, 0xa1, 'k', 0xc0};

static int write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t w = fwrite(p, 1, n, f);
    int rc = fclose(f);
    if (w != n || rc != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        return -1;
    }
    return 0;
}

static int mkdirs(const char *target)
{
    char path[512];
    const char *parts[] = {"tests/fuzz", "tests/fuzz/corpus"};
    for (size_t k = 0; k < 2; k++)
        if (mkdir(parts[k], 0755) != 0 && errno != EEXIST)
            return -1;
    snprintf(path, sizeof path, "tests/fuzz/corpus/%s", target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Encodes vector v (with an optional ext replacing its own) into out. */
static int encode_variant(const struct vec *v, const uint8_t *ext, size_t ext_len,
                          struct ww_buf *out)
{
    struct vec_value val;
    struct ww_buf scratch;
    memset(&val, 0, sizeof val);
    ww_buf_init(&scratch, 0);
    v->build(&val, &scratch);
    if (ext) {
        struct ww_ext *e = vec_ext(v, &val);
        e->raw.p = ext;
        e->raw.len = ext_len;
        e->n = 1;
    }
    int rc = vec_encode(v, &val, out);
    ww_buf_free(&scratch);
    return rc;
}

static int write_seeds(const struct vec *v)
{
    static const struct {
        const char *suffix;
        const uint8_t *ext;
        size_t len;
    } variants[] = {
        {"", NULL, 0}, {"+ext", ext_flat, sizeof ext_flat}, {"+deep", ext_deep, sizeof ext_deep}};
    if (mkdirs(v->fuzz) != 0)
        return -1;
    for (size_t k = 0; k < sizeof variants / sizeof variants[0]; k++) {
        struct ww_buf enc;
        char path[512];
        ww_buf_init(&enc, 0);
        int rc = encode_variant(v, variants[k].ext, variants[k].len, &enc);
        snprintf(path, sizeof path, "tests/fuzz/corpus/%s/%s%s", v->fuzz, v->name,
                 variants[k].suffix);
        if (rc == 0)
            rc = write_file(path, enc.p, enc.len);
        else
            fprintf(stderr, "%s%s does not encode: %s\n", v->name, variants[k].suffix,
                    ww_err_name(rc));
        ww_buf_free(&enc);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int print = argc > 1 && strcmp(argv[1], "--print") == 0;
    int bad = 0;
    for (size_t k = 0; k < N_VECTORS; k++) {
        const struct vec *v = &vectors[k];
        struct ww_buf enc, hex;
        ww_buf_init(&enc, 0);
        ww_buf_init(&hex, 0);
        int rc = encode_variant(v, NULL, 0, &enc);
        if (rc == 0 && hex_encode(enc.p, enc.len, &hex) == 0 && ww_buf_append(&hex, "", 1) == 0) {
            if (print)
                printf("%s %s\n", v->name, (const char *)hex.p);
            else if (strcmp((const char *)hex.p, v->hex) != 0) {
                fprintf(stderr, "%s: encoding differs from the golden hex\n", v->name);
                bad = 1;
            }
        } else {
            fprintf(stderr, "%s: does not encode: %s\n", v->name, ww_err_name(rc));
            bad = 1;
        }
        ww_buf_free(&hex);
        ww_buf_free(&enc);
    }
    if (print || bad)
        return bad;

    struct ww_buf doc;
    ww_buf_init(&doc, 0);
    if (json_document(&doc) != 0 || write_file("tests/vectors/vectors.json", doc.p, doc.len)) {
        fprintf(stderr, "cannot write tests/vectors/vectors.json\n");
        ww_buf_free(&doc);
        return 1;
    }
    ww_buf_free(&doc);
    for (size_t k = 0; k < N_VECTORS; k++)
        if (write_seeds(&vectors[k]) != 0)
            return 1;
    printf("wrote tests/vectors/vectors.json (%zu vectors) and the seed corpora\n", N_VECTORS);
    return 0;
}
