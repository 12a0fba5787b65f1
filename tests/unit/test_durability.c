/*
 * test_durability.c - what must survive: a run whose last signature is bad still yields its
 * good prefix; a process killed mid-write leaves a consistent, resumable store; every
 * allocation failure is handled without a leak; one coach device runs several groups.
 */
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "fixture.h"
#include "runner.h"
#include "store.h"

TEST(durability_bad_last_signature_keeps_good_prefix)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    for (uint32_t i = 0; i < 5; i++)
        ASSERT_OK(ww_day_off(g.st[0], g.gid, d + i, 1, NULL));
    /* The student's five new events, as one run in one batch. */
    struct ww_vv_item vv[64];
    size_t n = 0;
    ASSERT_OK(ww_sync_vv(g.coach, g.gid, vv, 64, &n));
    struct fx_bag b = {.n = 0};
    ASSERT_OK(ww_sync_missing(g.st[0], g.gid, vv, n, 256, 1u << 20, fx_bag_add, &b, NULL));
    ASSERT_EQ(b.n, 5);
    /* Damage the signature of the last one: the run as a whole cannot be trusted, but each
     * of the first four verifies on its own. */
    struct ww_envelope env;
    ASSERT_OK(ww_envelope_decode(b.raw[4], b.len[4], &env));
    uint8_t *sig = NULL;
    for (size_t i = 0; i + 64 <= b.len[4] && !sig; i++)
        if (!memcmp(b.raw[4] + i, env.sig, 64))
            sig = b.raw[4] + i;
    ASSERT(sig);
    sig[0] ^= 0x80;
    struct ww_apply_result r;
    ASSERT_OK(ww_sync_apply(g.coach, (const uint8_t *const *)b.raw, b.len, b.n, &r));
    ASSERT_EQ(r.accepted, 4);
    ASSERT_EQ(r.rejected, 1);
    ASSERT_ERR(r.first_error, WW_EBADSIG);
    ASSERT_EQ(r.first_error_index, 4);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM days_off"), 4);
    fx_bag_free(&b);
    /* The genuine fifth event still comes through afterwards. */
    fx_sync(g.st[0], g.coach, g.gid, 256);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM days_off"), 5);
    fx_group_close(&g);
}

TEST(durability_coach_runs_several_groups)
{
    struct ww_store *c = fx_open("coach");
    uint8_t a[16], b[16];
    ASSERT_OK(ww_group_create(c, "Afdeling Zonnebloem", NULL, 0, "Anna", NULL, a, NULL));
    ASSERT_OK(ww_group_create(c, "Wijkteam Noord", "Europe/Brussels", 0, "Anna", NULL, b, NULL));
    ASSERT(memcmp(a, b, 16) != 0);
    struct ww_store *s = fx_open("s");
    uint8_t pk[32], m[16];
    ww_store_device(s, pk);
    ASSERT_OK(ww_member_add(c, a, WW_ROLE_STUDENT, "Sara", 1, 1, pk, m));
    ASSERT_OK(ww_member_add(c, b, WW_ROLE_SENIOR, "Sara", 3, 1, pk, m));
    ASSERT_EQ(fx_count(c, "SELECT count(*) FROM groups"), 2);
    ASSERT_EQ(fx_count(c, "SELECT count(*) FROM members"), 4);
    ASSERT_ERR(ww_group_create(c, "", NULL, 0, "Anna", NULL, a, NULL), WW_EINVAL);
    ASSERT_ERR(ww_group_create(c, "X", "Mars/Olympus", 0, "Anna", NULL, a, NULL), WW_ENOTFOUND);
    ASSERT_ERR(ww_group_create(c, "X", "../etc/passwd", 0, "Anna", NULL, a, NULL), WW_EINVAL);
    ww_store_close(s);
    ww_store_close(c);
}

TEST(durability_every_allocation_failure_is_handled)
{
    /* Warm up: the first open creates the identity file. */
    ww_store_close(fx_open("dev"));
    long base = ww_alloc_outstanding();
    int failed = 0, succeeded = 0;
    /* Every allocation point in turn (the library's and SQLite's: the runner routes
     * SQLite's allocator through the same seam), until the whole run succeeds. The run costs
     * the square of the allocations in it, so under AddressSanitizer, some five times slower,
     * every second point is enough: the plain run tries them all. */
#ifdef __SANITIZE_ADDRESS__
    const long step = 2;
#else
    const long step = 1;
#endif
    for (long k = 0; succeeded < 3 && k < 100000; k += step) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/dev", ww_test_tmpdir());
        struct ww_options opt = {NULL, NULL, NULL, ":memory:"};
        struct ww_store *s = NULL;
        ww_alloc_fail_after(k);
        int rc = ww_store_open(dir, &opt, &s);
        uint8_t gid[16];
        if (rc == 0)
            rc = ww_group_create(s, "Groep", NULL, 0, "Coach", NULL, gid, NULL);
        uint8_t pk[32] = {9}, m[16];
        if (rc == 0) {
            /* A valid Ed25519 point: this device's own key is not allowed twice, so use a
             * fresh one. */
            uint8_t sk[64];
            crypto_sign_keypair(pk, sk);
            rc = ww_member_add(s, gid, WW_ROLE_STUDENT, "Sara", 1, 1, pk, m);
        }
        ww_alloc_fail_after(-1);
        if (rc == 0)
            succeeded++;
        else {
            ASSERT(rc == WW_ENOMEM || rc == WW_ESTORE);
            failed++;
        }
        ww_store_close(s);
        ASSERT_EQ(ww_alloc_outstanding(), base);
    }
    ASSERT_GT(failed, 1000 / step); /* SQLite's allocations are reached too */
    ASSERT_EQ(succeeded, 3);
}

TEST(durability_killed_writer_leaves_consistent_store)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    fx_group_close(&g);
    for (int round = 0; round < 3; round++) {
        int ready[2];
        ASSERT_EQ(pipe(ready), 0);
        pid_t pid = fork();
        ASSERT(pid >= 0);
        if (pid == 0) {
            close(ready[0]);
            struct ww_store *s = fx_open("student1");
            uint8_t gid[16];
            sqlite3_stmt *st;
            sqlite3_prepare_v2(s->db, "SELECT gid FROM groups", -1, &st, NULL);
            if (sqlite3_step(st) != SQLITE_ROW)
                _exit(3);
            memcpy(gid, sqlite3_column_blob(st, 0), 16);
            sqlite3_finalize(st);
            struct ww_reflection r;
            memset(&r, 0, sizeof r);
            r.status = WW_STATUS_DONE;
            r.reflectie = "Tekst die halverwege kan worden afgebroken.";
            r.share = WW_SHARE_GROUP;
            for (uint32_t i = 0;; i++) {
                r.date = 20000 + (uint32_t)round * 100000 + i;
                if (ww_reflection_put(s, gid, &r, NULL) != 0)
                    _exit(4);
                if (i == (uint32_t)round && write(ready[1], "w", 1) != 1) /* past `round` writes */
                    _exit(5);
            }
        }
        /* Killed in the middle of writing, however slow the machine: once it has written
         * more than `round` reflections, after a few more milliseconds of writing. */
        close(ready[1]);
        char b;
        ASSERT_EQ(read(ready[0], &b, 1), 1);
        close(ready[0]);
        struct timespec ts = {0, 5000000 + round * 10000000};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        ASSERT(WIFSIGNALED(status));
        /* Reopen: intact, the log contiguous, the materialised rows match the log. */
        struct ww_store *s = fx_open("student1");
        ASSERT_EQ(fx_count(s,
                           "SELECT count(*) FROM (SELECT id >> 40 AS log, max(id & "
                           "1099511627775) m, count(*) n FROM events GROUP BY log) WHERE m <> n"),
                  0);
        ASSERT_EQ(fx_count(s, "SELECT count(*) FROM reflections"),
                  fx_count(s, "SELECT count(*) FROM events WHERE kind=10"));
        ASSERT_GT(fx_count(s, "SELECT count(*) FROM events WHERE kind=10"), round);
        ww_store_close(s);
    }
    /* And it syncs on from there. */
    struct ww_store *c = fx_open("coach"), *s = fx_open("student1");
    uint8_t gid[16];
    sqlite3_stmt *st;
    sqlite3_prepare_v2(c->db, "SELECT gid FROM groups", -1, &st, NULL);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    memcpy(gid, sqlite3_column_blob(st, 0), 16);
    sqlite3_finalize(st);
    fx_sync(s, c, gid, 256);
    ASSERT_EQ(fx_count(c, "SELECT count(*) FROM reflections"),
              fx_count(s, "SELECT count(*) FROM reflections"));
    ww_store_close(c);
    ww_store_close(s);
}

struct pager {
    uint8_t gid[WW_ID_LEN];
    struct ww_vv_item vv[64];
    size_t n_vv, seen;
    int order_ok;
};

static void page_cb(void *ud, const uint8_t *ev, size_t len)
{
    struct pager *p = ud;
    struct ww_envelope env;
    ASSERT_OK(ww_envelope_decode(ev, len, &env));
    /* Each author's events come in seq order, with no gaps. */
    uint64_t have = 0;
    for (size_t i = 0; i < p->n_vv; i++)
        if (!memcmp(p->vv[i].author, env.h.author, 32))
            have = p->vv[i].seq;
    if (env.h.seq != have + 1)
        p->order_ok = 0;
    ASSERT_OK(ww_sync_vv_advance(p->gid, ev, len, p->vv, &p->n_vv, 64));
    p->seen++;
}

TEST(durability_sync_pages_through_missing_events)
{
    struct fx_group g;
    fx_group_make(&g, 2, 1, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    for (uint32_t i = 0; i < 10; i++) {
        ASSERT_OK(ww_day_off(g.st[i % 2], g.gid, d + i, 1, NULL));
        fx_now += 1000;
    }
    fx_group_sync(&g);
    long total = fx_count(g.coach, "SELECT count(*) FROM events");
    struct pager p = {.n_vv = 0, .seen = 0, .order_ok = 1};
    memcpy(p.gid, g.gid, WW_ID_LEN);
    int more = 1, calls = 0;
    while (more) {
        ASSERT_OK(ww_sync_missing(g.coach, g.gid, p.vv, p.n_vv, 7, 1u << 20, page_cb, &p, &more));
        ASSERT_LT(++calls, 100);
    }
    ASSERT_EQ((long)p.seen, total);
    ASSERT(p.order_ok);
    ASSERT_GT(calls, 2);
    /* No limit at all means everything in one call. */
    struct pager all = {.n_vv = 0, .seen = 0, .order_ok = 1};
    memcpy(all.gid, g.gid, WW_ID_LEN);
    ASSERT_OK(ww_sync_missing(g.coach, g.gid, NULL, 0, SIZE_MAX, SIZE_MAX, page_cb, &all, &more));
    ASSERT_EQ((long)all.seen, total);
    ASSERT_EQ(more, 0);
    uint8_t junk[5] = {0x94, 1, 2, 3, 4};
    ASSERT(ww_sync_vv_advance(p.gid, junk, sizeof junk, p.vv, &p.n_vv, 64) != 0);
    /* An event of another group does not advance this group's vector. */
    size_t n_before = p.n_vv;
    uint8_t other[WW_ID_LEN];
    memcpy(other, g.gid, WW_ID_LEN);
    other[0] ^= 1;
    struct fx_bag first = {.n = 0};
    ASSERT_OK(ww_sync_missing(g.coach, g.gid, NULL, 0, 1, 1u << 20, fx_bag_add, &first, &more));
    ASSERT_EQ(first.n, 1);
    ASSERT_EQ(ww_sync_vv_advance(other, first.raw[0], first.len[0], p.vv, &p.n_vv, 64), WW_EGROUP);
    ASSERT_EQ(p.n_vv, n_before);
    fx_bag_free(&first);
    fx_group_close(&g);
}
