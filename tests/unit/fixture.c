/*
 * fixture.c - see fixture.h.
 */
#include "fixture.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group.h"
#include "log.h"
#include "runner.h"
#include "seal.h"
#include "store.h"

int64_t fx_now = FX_MONDAY_0800;

struct fx_rng {
    uint8_t seed[32];
    uint64_t ctr;
};

/* Each store gets its own generator, kept for the life of the test process. */
static struct fx_rng rngs[256];
static size_t n_rngs;

static int64_t fake_now(void *ud)
{
    (void)ud;
    return fx_now;
}

static void fake_random(void *ud, uint8_t *buf, size_t len)
{
    struct fx_rng *r = ud;
    uint8_t seed[32], in[40];
    memcpy(in, r->seed, 32);
    memcpy(in + 32, &r->ctr, 8);
    r->ctr++;
    crypto_generichash(seed, 32, in, sizeof in, NULL, 0);
    randombytes_buf_deterministic(buf, len, seed);
}

struct ww_store *fx_open_db(const char *name, const char *db)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", ww_test_tmpdir(), name);
    ASSERT(n_rngs < sizeof rngs / sizeof rngs[0]);
    struct fx_rng *r = &rngs[n_rngs++];
    char seedtext[600];
    snprintf(seedtext, sizeof seedtext, "%llu/%s/%s", (unsigned long long)ww_test_seed(), name,
             db ? db : "");
    crypto_generichash(r->seed, 32, (const uint8_t *)seedtext, strlen(seedtext), NULL, 0);
    r->ctr = 0;
    struct ww_options opt = {fake_now, fake_random, r, db};
    struct ww_store *s = NULL;
    ASSERT_OK(ww_store_open(dir, &opt, &s));
    return s;
}

struct ww_store *fx_open(const char *name)
{
    return fx_open_db(name, NULL);
}

void fx_bag_add(void *ud, const uint8_t *ev, size_t len)
{
    struct fx_bag *b = ud;
    ASSERT(b->n < 256);
    b->raw[b->n] = malloc(len);
    ASSERT(b->raw[b->n]);
    memcpy(b->raw[b->n], ev, len);
    b->len[b->n++] = len;
}

void fx_bag_free(struct fx_bag *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->raw[i]);
    b->n = 0;
}

void fx_seal_plain(struct ww_store *s, const uint8_t gid[16], const struct ww_body *b,
                   struct fx_ev *out)
{
    struct ww_buf pt, buf;
    ww_buf_init(&pt, WW_MAX_BODY);
    ww_buf_init(&buf, WW_MAX_EVENT);
    ASSERT_OK(ww_body_encode(b, &pt));
    struct ww_emit e = {.kind = b->kind, .audience = WW_AUD_PLAIN};
    ASSERT_OK(ww_seal(s, gid, &e, pt.p, pt.len, &buf, NULL));
    memcpy(out->raw, buf.p, buf.len);
    out->len = buf.len;
    ww_buf_free(&pt);
    ww_buf_free(&buf);
}

struct ww_apply_result fx_apply1(struct ww_store *s, const struct fx_ev *ev)
{
    const uint8_t *raw = ev->raw;
    size_t len = ev->len;
    struct ww_apply_result r;
    ASSERT_OK(ww_sync_apply(s, &raw, &len, 1, &r));
    return r;
}

size_t fx_sync(struct ww_store *from, struct ww_store *to, const uint8_t gid[16], size_t batch)
{
    size_t total = 0;
    for (int round = 0; round < 100000; round++) {
        struct ww_vv_item vv[64];
        size_t n = 0;
        ASSERT_OK(ww_sync_vv(to, gid, vv, 64, &n));
        ASSERT_LE(n, 64);
        struct fx_bag c = {.n = 0};
        int more = 0;
        ASSERT_OK(ww_sync_missing(from, gid, vv, n, batch, 1u << 20, fx_bag_add, &c, &more));
        if (c.n == 0)
            break;
        struct ww_apply_result res;
        ASSERT_OK(ww_sync_apply(to, (const uint8_t *const *)c.raw, c.len, c.n, &res));
        if (res.rejected)
            ww_test_fail(__FILE__, __LINE__, "sync rejected %zu events: %s", res.rejected,
                         ww_err_name(res.first_error));
        fx_bag_free(&c);
        total += res.accepted;
        if (res.accepted == 0)
            break; /* the rest waits for causes `from` does not have */
    }
    return total;
}

void fx_missing(struct ww_store *from, struct ww_store *to, const uint8_t gid[16],
                struct fx_bag *bag)
{
    struct ww_vv_item vv[64];
    size_t n = 0;
    int more = 0;
    ASSERT_OK(ww_sync_vv(to, gid, vv, 64, &n));
    ASSERT_OK(ww_sync_missing(from, gid, vv, n, 256, 1u << 20, fx_bag_add, bag, &more));
}

void fx_deliver(struct ww_store *from, struct ww_store *to, const uint8_t gid[16])
{
    for (int round = 0; round < 64; round++) {
        struct fx_bag bag = {.n = 0};
        fx_missing(from, to, gid, &bag);
        struct ww_apply_result r;
        memset(&r, 0, sizeof r);
        if (bag.n)
            ASSERT_OK(ww_sync_apply(to, (const uint8_t *const *)bag.raw, bag.len, bag.n, &r));
        fx_bag_free(&bag);
        if (r.accepted == 0)
            return;
    }
}

size_t fx_deliver_first(struct ww_store *from, struct ww_store *to, const uint8_t gid[16],
                        const uint8_t first[32])
{
    struct fx_bag bag = {.n = 0};
    size_t refused = 0;
    fx_missing(from, to, gid, &bag);
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < bag.n; i++) {
            struct ww_envelope env;
            ASSERT_OK(ww_envelope_decode(bag.raw[i], bag.len[i], &env));
            if ((memcmp(env.h.author, first, 32) == 0) != (pass == 0))
                continue;
            const uint8_t *raw = bag.raw[i];
            size_t len = bag.len[i];
            struct ww_apply_result r;
            ASSERT_OK(ww_sync_apply(to, &raw, &len, 1, &r));
            refused += r.rejected;
        }
    fx_bag_free(&bag);
    return refused;
}

static void copy_info(void *ud, const struct ww_group_info *g)
{
    *(struct ww_group_info *)ud = *g;
}

void fx_group_info(struct ww_store *s, const uint8_t gid[16], struct ww_group_info *out)
{
    memset(out, 0, sizeof *out);
    ASSERT_OK(ww_group_get(s, gid, copy_info, out));
}

void fx_sync2(struct ww_store *a, struct ww_store *b, const uint8_t gid[16])
{
    fx_sync(a, b, gid, 256);
    fx_sync(b, a, gid, 256);
}

long fx_count(struct ww_store *s, const char *sql)
{
    sqlite3_stmt *st;
    ASSERT_EQ(sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), SQLITE_OK);
    long n = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

void fx_events_digest(struct ww_store *s, uint8_t out[32])
{
    sqlite3_stmt *st;
    ASSERT_EQ(sqlite3_prepare_v2(s->db, "SELECT hash FROM events ORDER BY hash", -1, &st, NULL),
              SQLITE_OK);
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    while (sqlite3_step(st) == SQLITE_ROW)
        crypto_generichash_update(&h, sqlite3_column_blob(st, 0), 32);
    sqlite3_finalize(st);
    crypto_generichash_final(&h, out, 32);
}

void fx_digest(struct ww_store *s, uint8_t out[32])
{
    fx_digest_except(s, NULL, out);
}

void fx_digest_except(struct ww_store *s, const char *skip, uint8_t out[32])
{
    static const char *const tables[] = {
        "groups",   "members",       "devices",  "challenges", "schedule",
        "days_off", "reflections",   "climate",  "reactions",  "reaction_dels",
        "signals",  "signal_states", "signoffs", "erasures",
    };
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        if (skip && !strcmp(tables[t], skip))
            continue;
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY 1, 2, 3", tables[t]);
        sqlite3_stmt *st;
        ASSERT_EQ(sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), SQLITE_OK);
        crypto_generichash_update(&h, (const uint8_t *)tables[t], strlen(tables[t]));
        while (sqlite3_step(st) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(st); c++) {
                uint8_t type = (uint8_t)sqlite3_column_type(st, c);
                crypto_generichash_update(&h, &type, 1);
                const void *p = sqlite3_column_blob(st, c);
                int n = sqlite3_column_bytes(st, c);
                if (p && n > 0)
                    crypto_generichash_update(&h, p, (size_t)n);
            }
        }
        sqlite3_finalize(st);
    }
    crypto_generichash_final(&h, out, 32);
}

void fx_coach_member(struct ww_store *s, uint8_t out[16])
{
    sqlite3_stmt *st;
    ASSERT_EQ(sqlite3_prepare_v2(s->db, "SELECT coach FROM groups", -1, &st, NULL), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    memcpy(out, sqlite3_column_blob(st, 0), 16);
    sqlite3_finalize(st);
}

void fx_device(struct ww_store *s, uint8_t pk[32])
{
    ww_store_device(s, pk);
}

static void group_make(struct fx_group *g, int n_students, int with_senior, const uint8_t *agg_pk,
                       int recoverable)
{
    memset(g, 0, sizeof *g);
    g->coach = fx_open("coach");
    uint32_t start;
    ASSERT_OK(ww_date_parse("2026-11-16", &start));
    ASSERT_OK(ww_group_create(g->coach, "Afdeling Zonnebloem", NULL, start, "Coach Anna", agg_pk,
                              g->gid, recoverable ? g->code : NULL));
    g->n_students = n_students;
    for (int i = 0; i < n_students; i++) {
        char name[32];
        snprintf(name, sizeof name, "student%d", i + 1);
        g->st[i] = fx_open(name);
        uint8_t pk[32];
        ww_store_device(g->st[i], pk);
        ASSERT_OK(ww_member_add(g->coach, g->gid, WW_ROLE_STUDENT, name, 1 + i % 2,
                                WW_TRACK_BOL + i % 2, pk, g->m_st[i]));
    }
    if (with_senior) {
        g->senior = fx_open("senior");
        uint8_t pk[32];
        ww_store_device(g->senior, pk);
        ASSERT_OK(ww_member_add(g->coach, g->gid, WW_ROLE_SENIOR, "Senior Sam", 3, WW_TRACK_BBL, pk,
                                g->m_senior));
    }
    fx_group_sync(g);
}

void fx_group_make(struct fx_group *g, int n_students, int with_senior, const uint8_t *agg_pk)
{
    group_make(g, n_students, with_senior, agg_pk, 0);
}

void fx_group_make_recoverable(struct fx_group *g, int n_students)
{
    group_make(g, n_students, 0, NULL, 1);
}

void fx_group_sync(struct fx_group *g)
{
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < g->n_students; i++)
            fx_sync2(g->coach, g->st[i], g->gid);
        if (g->senior)
            fx_sync2(g->coach, g->senior, g->gid);
    }
}

void fx_group_close(struct fx_group *g)
{
    ww_store_close(g->coach);
    for (int i = 0; i < 4; i++)
        ww_store_close(g->st[i]);
    ww_store_close(g->senior);
}

void fx_stuck_event(struct ww_store *x, const uint8_t gid[16], uint64_t seq, struct fx_ev *out)
{
    static const uint8_t body[] = {0x91, 0x01};
    struct ww_emit e = {.kind = 200, .audience = WW_AUD_PLAIN};
    struct ww_buf buf, hb;
    ww_buf_init(&buf, WW_MAX_EVENT);
    ww_buf_init(&hb, 4096);
    ASSERT_OK(ww_seal(x, gid, &e, body, sizeof body, &buf, NULL));
    struct ww_envelope env;
    ASSERT_OK(ww_envelope_decode(buf.p, buf.len, &env));
    uint8_t copy[sizeof body];
    memcpy(copy, env.body.p, env.body.len);
    env.body.p = copy;
    env.h.seq = seq;
    memset(env.h.prev, 0x42, sizeof env.h.prev);
    ASSERT_OK(ww_header_encode(&env.h, &hb));
    struct ww_slice hs = {hb.p, hb.len};
    ASSERT_OK(ww_event_sign(x->sk, &hs, env.ct_hash, env.sig));
    ww_buf_reset(&buf);
    ASSERT_OK(ww_envelope_encode(&env, &buf));
    memcpy(out->raw, buf.p, buf.len);
    out->len = buf.len;
    ww_buf_free(&buf);
    ww_buf_free(&hb);
}

int fx_file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t m = strlen(needle), have = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    ASSERT(buf != NULL);
    int found = 0;
    for (;;) {
        size_t got = fread(buf + have, 1, cap - have, f);
        have += got;
        for (size_t i = 0; !found && i + m <= have; i++)
            found = !memcmp(buf + i, needle, m);
        if (found || got == 0)
            break;
        /* Keep the tail that may start a match. */
        size_t keep = m - 1 < have ? m - 1 : have;
        memmove(buf, buf + have - keep, keep);
        have = keep;
    }
    free(buf);
    fclose(f);
    return found;
}

/* The hash of event `seq` of author in s's copy of the group. */
void fx_hash_at(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32], uint64_t seq,
                uint8_t out[32])
{
    struct ww_log_head h;
    int rc = 0;
    ASSERT_OK(ww_log_head(s, gid, author, &h));
    ASSERT(ww_log_hash_at(s, h.log, seq, out, NULL, &rc));
    ASSERT_OK(rc);
}

uint64_t fx_head_seq(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32])
{
    struct ww_log_head h;
    ASSERT_OK(ww_log_head(s, gid, author, &h));
    return h.seq;
}

/*
 * Seals body b as device s with the header fields given (seq, prev, hlc, epoch): what any
 * holder of a device key can sign at any time, e.g. from an old copy of its data. GROUP
 * bodies are encrypted with the key s holds for that epoch.
 */
void fx_craft(struct ww_store *s, const uint8_t gid[16], const struct ww_body *b, uint8_t audience,
              const uint8_t *ref, size_t ref_len, uint64_t seq, const uint8_t prev[32],
              uint64_t hlc, uint32_t epoch, struct fx_ev *out, uint8_t hash[32])
{
    struct ww_buf pt, hb, ct, buf;
    ww_buf_init(&pt, WW_MAX_BODY);
    ww_buf_init(&hb, 4096);
    ww_buf_init(&ct, WW_MAX_BODY);
    ww_buf_init(&buf, WW_MAX_EVENT);
    ASSERT_OK(ww_body_encode(b, &pt));
    struct ww_envelope env;
    memset(&env, 0, sizeof env);
    struct ww_header *h = &env.h;
    h->version = WW_PROTO_VERSION;
    memcpy(h->group, gid, 16);
    memcpy(h->author, s->pk, 32);
    h->seq = seq;
    if (seq > 1)
        memcpy(h->prev, prev, 32);
    h->hlc = hlc;
    h->epoch = epoch;
    h->kind = b->kind;
    h->audience = audience;
    if (ref_len)
        memcpy(h->ref, ref, ref_len);
    h->ref_len = (uint8_t)ref_len;
    const uint8_t *key = NULL;
    if (audience != WW_AUD_PLAIN) {
        ASSERT_OK(ww_cache_load(s, gid));
        key = ww_cache_key(s, audience, h->subject, epoch);
        ASSERT(key != NULL);
    }
    ASSERT_OK(ww_header_encode(h, &hb));
    struct ww_slice hs = {hb.p, hb.len};
    uint8_t rnd[WW_SEAL_RANDOM];
    ww_store_random(s, rnd, sizeof rnd);
    ASSERT_OK(ww_body_seal(rnd, &hs, audience, key, NULL, pt.p, pt.len, &ct));
    ww_ct_hash(ct.p, ct.len, env.ct_hash);
    ASSERT_OK(ww_event_sign(s->sk, &hs, env.ct_hash, env.sig));
    env.body.p = ct.p;
    env.body.len = ct.len;
    ASSERT_OK(ww_envelope_encode(&env, &buf));
    ww_event_hash(&hs, env.ct_hash, env.sig, hash);
    ASSERT(buf.len <= sizeof out->raw);
    memcpy(out->raw, buf.p, buf.len);
    out->len = buf.len;
    ww_buf_free(&pt);
    ww_buf_free(&hb);
    ww_buf_free(&ct);
    ww_buf_free(&buf);
}

/* A fork of author s's event `seq` (as `ref` holds it) that wins by the lower-hash rule
 * (6.16 step 3): the hlc is moved up from `hlc` until the hash is below the held one. */
void fx_craft_winning_fork(struct ww_store *s, struct ww_store *ref, const uint8_t gid[16],
                           const struct ww_body *b, uint8_t audience, const uint8_t *r,
                           size_t r_len, uint64_t seq, uint64_t hlc, uint32_t epoch,
                           struct fx_ev *out)
{
    uint8_t pk[32], prev[32] = {0}, held[32], hash[32];
    fx_device(s, pk);
    if (seq > 1)
        fx_hash_at(ref, gid, pk, seq - 1, prev);
    fx_hash_at(ref, gid, pk, seq, held);
    for (int i = 0; i < 4096; i++) {
        fx_craft(s, gid, b, audience, r, r_len, seq, prev, hlc + (uint64_t)i, epoch, out, hash);
        if (memcmp(hash, held, 32) < 0)
            return;
    }
    ASSERT(!"no winning fork found");
}
