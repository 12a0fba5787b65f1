/*
 * test_converge.c - replicas converge: the same events from six authors, applied in
 * different batchings and interleavings (each author's own order kept), give identical
 * materialised state, equal to the state of the device that saw them as they happened.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "runner.h"
#include "store.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* xorshift64*: small, seeded, the same on every machine */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static uint32_t pick(uint32_t n)
{
    return (uint32_t)(rnd() % n);
}

struct hash_pick {
    uint8_t hash[32];
    int n;
};

static void any_group_reflection(void *ud, const struct ww_reflection *r)
{
    struct hash_pick *p = ud;
    if (r->readable && r->share == WW_SHARE_GROUP && pick(3) == 0) {
        memcpy(p->hash, r->hash, 32);
        p->n++;
    }
}

static void any_signal(void *ud, const struct ww_signal *s)
{
    struct hash_pick *p = ud;
    if (pick(2) == 0 || !p->n) {
        memcpy(p->hash, s->hash, 32);
        p->n = 1;
    }
}

static const char *const texts[] = {
    "Ik heb vandaag gevraagd hoe de tillift werkt.",
    "Het was druk, maar mijn begeleider nam even tijd.",
    "Ik durfde een vraag te stellen in de overdracht.",
    "Niet gelukt: geen gelegenheid op deze dienst.",
    "Mooi gesprek met een bewoner over vroeger.",
};

/* One random action by one of the six authors. */
static void act(struct fx_group *g, int who, uint32_t today)
{
    uint32_t day = today + pick(12);
    if (who == 0) {
        struct ww_store *c = g->coach;
        switch (pick(4)) {
        case 0: {
            static const char *const codes[] = {"W01", "W05", "L02", "L10", "W21"};
            ASSERT_OK(ww_challenge_schedule(c, g->gid, day, codes[pick(5)], NULL));
            break;
        }
        case 1: {
            int m = (int)pick(4);
            ASSERT_OK(
                ww_signoff_put(c, g->gid, g->m_st[m], "W03", day, 1 + (int)pick(4), "Goed.", NULL));
            break;
        }
        case 2: {
            struct hash_pick p = {{0}, 0};
            ASSERT_OK(ww_signals_list(c, g->gid, any_signal, &p));
            if (p.n)
                ASSERT_OK(
                    ww_signal_resolve(c, g->gid, p.hash, 1 + (int)pick(2), "Besproken.", NULL));
            break;
        }
        default: {
            char code[16], title[32];
            snprintf(code, sizeof code, "EIGEN%u", pick(5));
            snprintf(title, sizeof title, "Eigen uitdaging %u", pick(100));
            struct ww_challenge ch = {
                code, title, "Een kleine opdracht onder begeleiding.", 1 + (int)pick(7), 1, 52,
                "",   0};
            ASSERT_OK(ww_challenge_define(c, g->gid, &ch, NULL));
            break;
        }
        }
        return;
    }
    struct ww_store *s = who <= 4 ? g->st[who - 1] : g->senior;
    switch (pick(5)) {
    case 0:
    case 1: {
        struct ww_reflection r;
        memset(&r, 0, sizeof r);
        r.date = day;
        r.status = 1 + (int)pick(3);
        r.obstacles = r.status == WW_STATUS_DONE ? 0 : 1u << pick(6);
        r.reflectie = texts[pick(5)];
        r.situatie = texts[pick(5)];
        r.share = 1 + (int)pick(3);
        r.n_answers = 2;
        r.answer_item[0] = 1, r.answer_value[0] = (uint8_t)pick(6);
        r.answer_item[1] = 2, r.answer_value[1] = (uint8_t)pick(6);
        ASSERT_OK(ww_reflection_put(s, g->gid, &r, NULL));
        break;
    }
    case 2:
        ASSERT_OK(ww_day_off(s, g->gid, day, (int)pick(2), NULL));
        break;
    case 3: {
        struct hash_pick p = {{0}, 0};
        ASSERT_OK(ww_reflections_list(s, g->gid, NULL, any_group_reflection, &p));
        if (p.n)
            ASSERT_OK(ww_reaction_put(s, g->gid, p.hash, texts[pick(5)], NULL));
        break;
    }
    default: {
        uint8_t h[32];
        ASSERT_OK(ww_signal_raise(s, g->gid, 1 + (int)pick(6), texts[pick(5)],
                                  pick(2) ? g->m_st[pick(4)] : NULL, h));
        break;
    }
    }
}

struct log {
    uint8_t **raw;
    size_t *len;
    size_t n;
    size_t start[6], count[6]; /* each author's run within raw, in seq order */
    size_t n_authors;
};

static void load_log(struct ww_store *s, const uint8_t gid[16], struct log *l)
{
    memset(l, 0, sizeof *l);
    long n = fx_count(s, "SELECT count(*) FROM events");
    l->raw = calloc((size_t)n, sizeof *l->raw);
    l->len = calloc((size_t)n, sizeof *l->len);
    ASSERT(l->raw && l->len);
    sqlite3_stmt *st;
    ASSERT_EQ(sqlite3_prepare_v2(s->db,
                                 "SELECT l.author, e.raw FROM logs l JOIN events e ON "
                                 "e.id >> 40 = l.id WHERE l.gid=?1 ORDER BY l.author, e.id",
                                 -1, &st, NULL),
              SQLITE_OK);
    sqlite3_bind_blob(st, 1, gid, 16, SQLITE_STATIC);
    uint8_t last[32] = {0};
    while (sqlite3_step(st) == SQLITE_ROW) {
        const uint8_t *a = sqlite3_column_blob(st, 0);
        if (l->n == 0 || memcmp(a, last, 32)) {
            ASSERT_LT(l->n_authors, 6);
            memcpy(last, a, 32);
            l->start[l->n_authors++] = l->n;
        }
        l->count[l->n_authors - 1]++;
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        l->raw[l->n] = malloc(len);
        memcpy(l->raw[l->n], sqlite3_column_blob(st, 1), len);
        l->len[l->n++] = len;
    }
    sqlite3_finalize(st);
}

static void free_log(struct log *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->raw[i]);
    free(l->raw);
    free(l->len);
}

/* Applies the whole log in a random interleaving of the authors' runs, in random batches. */
static void replay(struct ww_store *s, const struct log *l, uint64_t seed)
{
    rng_state = seed;
    size_t next[6] = {0};
    size_t done = 0;
    const uint8_t *raws[256];
    size_t lens[256];
    while (done < l->n) {
        size_t batch = 1 + pick(pick(4) == 0 ? 256 : 16), n = 0;
        while (n < batch && done < l->n) {
            size_t a = pick((uint32_t)l->n_authors);
            if (next[a] == l->count[a])
                continue;
            size_t take = 1 + pick(8);
            while (take-- && next[a] < l->count[a] && n < batch) {
                size_t i = l->start[a] + next[a]++;
                raws[n] = l->raw[i];
                lens[n++] = l->len[i];
                done++;
            }
        }
        struct ww_apply_result r;
        ASSERT_OK(ww_sync_apply(s, raws, lens, n, &r));
        ASSERT_EQ(r.rejected, 0);
        ASSERT_EQ(r.forks, 0);
    }
}

TEST(converge_2000_events_six_authors_any_order)
{
    struct ww_store *hub = fx_open("hub");
    uint8_t agg[32];
    ASSERT_OK(ww_store_aggregator_pk(hub, agg));
    struct fx_group g;
    fx_group_make(&g, 4, 1, agg);
    rng_state = 0x9e3779b97f4a7c15ull ^ ww_test_seed();
    uint32_t today;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &today));
    /* Everyone works offline; now and then one device meets the coach. */
    while (fx_count(g.coach, "SELECT count(*) FROM events") < 2000) {
        for (int i = 0; i < 40; i++) {
            act(&g, (int)pick(6), today);
            fx_now += 1 + pick(60000);
        }
        int who = (int)pick(5);
        fx_sync2(g.coach, who < 4 ? g.st[who] : g.senior, g.gid);
    }
    fx_group_sync(&g);
    long total = fx_count(g.coach, "SELECT count(*) FROM events");
    ASSERT_GE(total, 2000);

    struct log l;
    load_log(g.coach, g.gid, &l);
    ASSERT_EQ((long)l.n, total);
    ASSERT_EQ(l.n_authors, 6);
    struct ww_store *a = fx_open_db("coach", "a.db"), *b = fx_open_db("coach", "b.db");
    replay(a, &l, 1);
    replay(b, &l, 0xdeadbeefcafeull);
    ASSERT_EQ(fx_count(a, "SELECT count(*) FROM pending"), 0);
    ASSERT_EQ(fx_count(b, "SELECT count(*) FROM pending"), 0);
    ASSERT_EQ(fx_count(a, "SELECT count(*) FROM events"), total);
    uint8_t da[32], db[32], dc[32];
    fx_digest(a, da);
    fx_digest(b, db);
    fx_digest(g.coach, dc);
    ASSERT_MEM_EQ(da, db, 32);
    ASSERT_MEM_EQ(da, dc, 32);
    /* Applying everything again changes nothing. */
    replay(a, &l, 7);
    fx_digest(a, da);
    ASSERT_MEM_EQ(da, db, 32);
    ASSERT_GT(fx_count(a, "SELECT count(*) FROM reflections WHERE readable=1"), 0);
    ASSERT_GT(fx_count(a, "SELECT count(*) FROM reactions"), 0);
    free_log(&l);
    ww_store_close(a);
    ww_store_close(b);
    ww_store_close(hub);
    fx_group_close(&g);
}

/* Collects what `from` holds beyond the vector vv (n authors). */
static void missing(struct ww_store *from, const uint8_t gid[16], const struct ww_vv_item *vv,
                    size_t n, struct fx_bag *out)
{
    int more = 0;
    ASSERT_OK(ww_sync_missing(from, gid, vv, n, 256, 1u << 20, fx_bag_add, out, &more));
    ASSERT_EQ(more, 0);
}

/* A student's phone restored from a backup writes on from an older point: two branches of
 * one author's log. Every replica keeps the same branch (the one whose first event has the
 * lower hash) whatever the order the branches' events arrive in, and records the fork. */
TEST(converge_forked_author_any_order)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    struct ww_store *backup = fx_open_db("student1", "backup.db"); /* the same device key */
    fx_sync(g.coach, backup, g.gid, 256);
    struct ww_vv_item vv[64];
    size_t n_vv = 0;
    ASSERT_OK(ww_sync_vv(g.coach, g.gid, vv, 64, &n_vv));
    /* Branch one: a day off and a reflection; branch two: three days off. */
    fx_now += 1000;
    ASSERT_OK(ww_day_off(g.st[0], g.gid, d, 1, NULL));
    struct ww_reflection r;
    memset(&r, 0, sizeof r);
    r.date = d;
    r.status = WW_STATUS_DONE;
    r.reflectie = texts[0];
    r.share = WW_SHARE_GROUP;
    uint8_t refl[32];
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, refl));
    for (uint32_t i = 0; i < 3; i++) {
        fx_now += 1000;
        ASSERT_OK(ww_day_off(backup, g.gid, d + 1 + i, 1, NULL));
    }
    struct fx_bag one = {.n = 0}, two = {.n = 0};
    missing(g.st[0], g.gid, vv, n_vv, &one);
    missing(backup, g.gid, vv, n_vv, &two);
    ASSERT_EQ(one.n, 2);
    ASSERT_EQ(two.n, 3);

    /* Replicas fed the events of both branches in many interleavings. */
    uint8_t first[32];
    rng_state = 0x51ed2701a3b5c7d9ull ^ ww_test_seed();
    for (int trial = 0; trial < 8; trial++) {
        char db[32];
        snprintf(db, sizeof db, "r%d.db", trial);
        struct ww_store *x = fx_open_db("coach", db);
        fx_sync(g.coach, x, g.gid, 256);
        size_t i1 = 0, i2 = 0;
        while (i1 < one.n || i2 < two.n) {
            int take_one = i2 == two.n || (i1 < one.n && (trial < 2 ? trial == 0 : pick(2)));
            const uint8_t *raw = take_one ? one.raw[i1] : two.raw[i2];
            size_t len = take_one ? one.len[i1++] : two.len[i2++];
            struct ww_apply_result res;
            ASSERT_OK(ww_sync_apply(x, &raw, &len, 1, &res));
        }
        ASSERT_GE(fx_count(x, "SELECT count(*) FROM forks"), 1);
        uint8_t dx[32];
        fx_digest(x, dx);
        if (trial == 0)
            memcpy(first, dx, 32);
        else
            ASSERT_MEM_EQ(dx, first, 32);
        ww_store_close(x);
    }
    fx_bag_free(&one);
    fx_bag_free(&two);
    ww_store_close(backup);
    fx_group_close(&g);
}
