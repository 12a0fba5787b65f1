/*
 * test_kinds.c - every event kind in WW_KINDS (proto/kinds.h) is complete.
 *
 * A kind is complete when it has its wire name, a body vector in tests/vectors/vectors.inc
 * that round-trips, a fuzz target tests/fuzz/fuzz_body_<name>.c that fuzzes that kind, and
 * a non-empty seed folder tests/fuzz/corpus/body_<name>/. The fuzz targets and the seed
 * folders must also be exactly the kinds of the list: no target for a kind that is gone or
 * renamed. Adding an X line to WW_KINDS without the rest fails here.
 *
 * Paths are relative to the repository root, where tests/run.sh runs the unit tests.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "runner.h"

#include "alloc.h"
#include "buf.h"
#include "proto.h"

#include "vectors/vectors.inc"

struct kind_row {
    unsigned num;
    unsigned value; /* WW_KIND_<NAME> as proto.h defines it */
    const char *name;
    const char *wire;
    const char *enum_name;
};

#define KIND_ROW(num, NAME, name, wire, member)                                                    \
    {num, WW_KIND_##NAME, #name, wire, "WW_KIND_" #NAME},
static const struct kind_row kinds[] = {WW_KINDS(KIND_ROW)};
#undef KIND_ROW

#define N_KINDS     (sizeof kinds / sizeof kinds[0])
#define MAX_ENTRIES 128
#define MAX_NAME    96

/* Reads a whole file into out; -1 when it cannot be opened. */
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

static int by_name(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* The stems of the entries of dir named prefix<stem>suffix, sorted; returns how many. */
static size_t list_stems(const char *dir, const char *prefix, const char *suffix,
                         char out[MAX_ENTRIES][MAX_NAME])
{
    DIR *d = opendir(dir);
    if (!d)
        ww_test_fail(__FILE__, __LINE__, "cannot open %s (run from the repository root)", dir);
    size_t n = 0, lp = strlen(prefix), ls = strlen(suffix);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= lp + ls || strncmp(e->d_name, prefix, lp) != 0 ||
            strcmp(e->d_name + len - ls, suffix) != 0)
            continue;
        if (n == MAX_ENTRIES || len - lp - ls >= MAX_NAME)
            ww_test_fail(__FILE__, __LINE__, "%s: too many or too long names", dir);
        memcpy(out[n], e->d_name + lp, len - lp - ls);
        out[n][len - lp - ls] = '\0';
        n++;
    }
    closedir(d);
    qsort(out, n, MAX_NAME, by_name);
    return n;
}

/* The number of entries of dir other than "." and "..", or -1 when it cannot be opened. */
static long count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* The list is numbered 1..WW_KIND_MAX_KNOWN in order, and the enum follows it. */
TEST(kinds_list_is_contiguous)
{
    ASSERT_EQ(N_KINDS, WW_KIND_MAX_KNOWN);
    for (size_t k = 0; k < N_KINDS; k++) {
        ASSERT_EQ(kinds[k].num, k + 1);
        ASSERT_EQ(kinds[k].value, kinds[k].num);
    }
}

TEST(kinds_have_wire_names)
{
    for (size_t k = 0; k < N_KINDS; k++) {
        const struct kind_row *r = &kinds[k];
        if (r->wire[0] == '\0' || strcmp(r->wire, "unknown") == 0)
            ww_test_fail(__FILE__, __LINE__, "kind %s (%u): no wire name", r->name, r->num);
        ASSERT_STR_EQ(ww_kind_name((uint16_t)r->num), r->wire);
        for (size_t j = 0; j < k; j++)
            if (strcmp(kinds[j].wire, r->wire) == 0 || strcmp(kinds[j].name, r->name) == 0)
                ww_test_fail(__FILE__, __LINE__, "kinds %u and %u share a name", kinds[j].num,
                             r->num);
    }
}

/* Each kind has a body vector whose golden bytes decode under that kind and re-encode to the
 * same bytes, whose built value encodes to them, and whose seeds go to the kind's folder. */
TEST(kinds_have_vectors_that_roundtrip)
{
    for (size_t k = 0; k < N_KINDS; k++) {
        const struct kind_row *r = &kinds[k];
        char seeds[MAX_NAME];
        snprintf(seeds, sizeof seeds, "body_%s", r->name);
        size_t found = 0;
        for (size_t i = 0; i < N_VECTORS; i++) {
            const struct vec *v = &vectors[i];
            if (v->what != VEC_BODY || v->kind != r->num)
                continue;
            found++;
            if (strcmp(v->fuzz, seeds) != 0)
                ww_test_fail(__FILE__, __LINE__, "vector %s: seeds go to %s, not %s", v->name,
                             v->fuzz, seeds);
            struct ww_buf golden, again, built, scratch;
            struct vec_value val;
            ww_buf_init(&golden, 0);
            ww_buf_init(&again, 0);
            ww_buf_init(&built, 0);
            ww_buf_init(&scratch, 0);
            ASSERT_EQ(hex_decode(v->hex, &golden), 0);
            memset(&val, 0, sizeof val);
            int rc = ww_body_decode((uint16_t)r->num, golden.p, golden.len, &val.body);
            if (rc != 0)
                ww_test_fail(__FILE__, __LINE__, "vector %s does not decode as %s: %s", v->name,
                             r->wire, ww_err_name(rc));
            ASSERT_EQ(val.body.kind, r->num);
            ASSERT_OK(ww_body_encode(&val.body, &again));
            ASSERT_EQ(again.len, golden.len);
            ASSERT_MEM_EQ(again.p, golden.p, golden.len);
            memset(&val, 0, sizeof val);
            v->build(&val, &scratch);
            ASSERT_OK(ww_body_encode(&val.body, &built));
            ASSERT_EQ(built.len, golden.len);
            ASSERT_MEM_EQ(built.p, golden.p, golden.len);
            ww_buf_free(&scratch);
            ww_buf_free(&built);
            ww_buf_free(&again);
            ww_buf_free(&golden);
        }
        if (found == 0)
            ww_test_fail(__FILE__, __LINE__,
                         "kind %s (%u): no body vector in tests/vectors/vectors.inc", r->wire,
                         r->num);
    }
}

/* Each kind has a fuzz target that fuzzes that kind, and seeds for it. */
TEST(kinds_have_fuzz_targets_and_seeds)
{
    for (size_t k = 0; k < N_KINDS; k++) {
        const struct kind_row *r = &kinds[k];
        char path[256], want[128];
        struct ww_buf src;
        ww_buf_init(&src, 0);
        snprintf(path, sizeof path, "tests/fuzz/fuzz_body_%s.c", r->name);
        if (read_file(path, &src) != 0)
            ww_test_fail(__FILE__, __LINE__, "kind %s (%u): no fuzz target %s", r->wire, r->num,
                         path);
        snprintf(want, sizeof want, "#define FUZZ_KIND %s\n", r->enum_name);
        int ok = ww_buf_append(&src, "", 1) == 0 && strstr((const char *)src.p, want) != NULL;
        ww_buf_free(&src);
        if (!ok)
            ww_test_fail(__FILE__, __LINE__, "%s does not define FUZZ_KIND as %s", path,
                         r->enum_name);

        snprintf(path, sizeof path, "tests/fuzz/corpus/body_%s", r->name);
        if (count_entries(path) < 1)
            ww_test_fail(__FILE__, __LINE__, "kind %s (%u): no seeds in %s/", r->wire, r->num,
                         path);
    }
}

/* The body fuzz targets and seed folders are exactly the kinds of the list. */
TEST(kinds_fuzz_targets_match_the_list)
{
    static char want[MAX_ENTRIES][MAX_NAME], got[MAX_ENTRIES][MAX_NAME];
    ASSERT_LE(N_KINDS, MAX_ENTRIES);
    for (size_t k = 0; k < N_KINDS; k++)
        snprintf(want[k], MAX_NAME, "%s", kinds[k].name);
    qsort(want, N_KINDS, MAX_NAME, by_name);

    static const struct {
        const char *dir, *prefix, *suffix;
    } places[] = {{"tests/fuzz", "fuzz_body_", ".c"}, {"tests/fuzz/corpus", "body_", ""}};
    for (size_t p = 0; p < sizeof places / sizeof places[0]; p++) {
        size_t n = list_stems(places[p].dir, places[p].prefix, places[p].suffix, got);
        for (size_t k = 0; k < n || k < N_KINDS; k++) {
            const char *g = k < n ? got[k] : "(none)";
            const char *w = k < N_KINDS ? want[k] : "(none)";
            if (strcmp(g, w) != 0)
                ww_test_fail(__FILE__, __LINE__,
                             "%s/%s*%s differs from WW_KINDS at sorted position %zu: %s vs %s",
                             places[p].dir, places[p].prefix, places[p].suffix, k, g, w);
        }
    }
}
