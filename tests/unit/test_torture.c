/*
 * test_torture.c - allocation failure at every point: a run of the core API (open two
 * stores, create a group, add a member, write a reflection, export a batch and apply it,
 * reopen) and a run of one sync session (the socket-free state machine, two stores in
 * memory), each repeated with the Nth allocation failing for N = 0, 1, 2, ... up to the
 * last allocation the run makes. The runner routes SQLite's allocator through the same
 * seam, so SQLite's allocations fail too.
 *
 * Every run must end without a crash, with a clean error (or success where the failure
 * was absorbed), with every block given back, and with both stores that open again, pass
 * PRAGMA integrity_check and still hold every event they held before the run plus
 * everything the run reported as done. After a failed session a clean session must bring
 * both stores to the same state.
 *
 * Each run starts from the same copy of the two stores. The number of allocations of a
 * clean run is measured first; when trying every N would take over TORTURE_BUDGET_MS, every
 * Sth N is tried from an offset taken from the seed (so another seed tries other points),
 * and the test says so on stderr. WW_TORTURE_FULL=1 tries every N; WW_TORTURE_AT=N tries
 * that one alone.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "fixture.h"
#include "runner.h"
#include "session.h"
#include "store.h"

#define TORTURE_BUDGET_MS 10000L
#define MAX_HELD          256

static long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t torture_now(void *ud)
{
    (void)ud;
    return fx_now;
}

/* The stores live in memory-backed /dev/shm when there is one: what is tested here is
 * allocation failure, and a run then costs milliseconds instead of the disk's syncs. Each
 * test runs in a process of its own, before its first use of the test folder. */
static void tmpdir_in_memory(void)
{
    struct stat st;
    if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0)
        setenv("TMPDIR", "/dev/shm", 1);
}

static void path_of(char *out, size_t cap, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", ww_test_tmpdir(), name);
    ASSERT(n > 0 && (size_t)n < cap);
}

static int open_dev(const char *name, struct ww_store **out)
{
    char dir[512];
    path_of(dir, sizeof dir, name);
    struct ww_options opt = {torture_now, NULL, NULL, NULL};
    *out = NULL;
    return ww_store_open(dir, &opt, out);
}

/* Makes folder `to` an exact copy of folder `from` (regular files only). */
static void copy_dir(const char *from, const char *to)
{
    char src[512], dst[512];
    path_of(dst, sizeof dst, to);
    mkdir(dst, 0700);
    DIR *d = opendir(dst);
    ASSERT(d != NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dst, e->d_name);
        ASSERT_EQ(unlink(p), 0);
    }
    closedir(d);
    path_of(src, sizeof src, from);
    d = opendir(src);
    ASSERT(d != NULL);
    static char buf[1 << 16];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char ps[1024], pd[1024];
        snprintf(ps, sizeof ps, "%s/%s", src, e->d_name);
        snprintf(pd, sizeof pd, "%s/%s", dst, e->d_name);
        int in = open(ps, O_RDONLY), out = open(pd, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ASSERT(in >= 0 && out >= 0);
        ssize_t n;
        while ((n = read(in, buf, sizeof buf)) > 0)
            ASSERT_EQ(write(out, buf, (size_t)n), n);
        ASSERT_EQ(n, 0);
        close(in);
        close(out);
    }
    closedir(d);
}

/* Both stores back as they were before the first run. */
static void restore(void)
{
    copy_dir("coach.0", "coach");
    copy_dir("student1.0", "student1");
}

/* How many allocations the seam granted since ww_alloc_fail_after(LONG_BUDGET): the
 * countdown is read back by allocating until the seam refuses. */
#define LONG_BUDGET 10000000L
static long allocations_used(void)
{
    long left = 0;
    for (;;) {
        void *p = ww_malloc(1);
        if (!p)
            break;
        ww_free(p);
        left++;
    }
    ww_alloc_fail_after(-1);
    return LONG_BUDGET - left;
}

/* The events a store holds, to check that a failed run lost none of them. */
struct held {
    uint8_t hash[MAX_HELD][WW_EVENT_HASH_LEN];
    size_t n;
};

static void held_of(struct ww_store *s, struct held *h)
{
    sqlite3_stmt *st;
    ASSERT_EQ(sqlite3_prepare_v2(s->db, "SELECT hash FROM events", -1, &st, NULL), SQLITE_OK);
    h->n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        ASSERT_LT(h->n, MAX_HELD);
        ASSERT_EQ(sqlite3_column_bytes(st, 0), WW_EVENT_HASH_LEN);
        memcpy(h->hash[h->n++], sqlite3_column_blob(st, 0), WW_EVENT_HASH_LEN);
    }
    sqlite3_finalize(st);
}

static long rows_with(struct ww_store *s, const char *sql, const uint8_t *blob, int len)
{
    sqlite3_stmt *st;
    ASSERT_EQ(sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, blob, len, SQLITE_STATIC);
    long n = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static int has_event(struct ww_store *s, const uint8_t hash[WW_EVENT_HASH_LEN])
{
    return rows_with(s, "SELECT count(*) FROM events WHERE hash = ?", hash, WW_EVENT_HASH_LEN) == 1;
}

static void expect_integrity(struct ww_store *s, long k)
{
    sqlite3_stmt *st;
    ASSERT_EQ(sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    const char *t = (const char *)sqlite3_column_text(st, 0);
    if (!t || strcmp(t, "ok") != 0)
        ww_test_fail(__FILE__, __LINE__, "allocation %ld failing: integrity_check: %s", k,
                     t ? t : "(null)");
    sqlite3_finalize(st);
}

/* The store opens, is intact, and holds what it held before and the events in `also`. */
static void expect_store(const char *name, const struct held *before, uint8_t (*also)[32],
                         size_t n_also, long k)
{
    struct ww_store *s = NULL;
    int rc = open_dev(name, &s);
    if (rc != 0)
        ww_test_fail(__FILE__, __LINE__, "allocation %ld failing: %s does not open again: %s", k,
                     name, ww_err_name(rc));
    expect_integrity(s, k);
    for (size_t i = 0; i < before->n; i++)
        if (!has_event(s, before->hash[i]))
            ww_test_fail(__FILE__, __LINE__, "allocation %ld failing: %s lost an event", k, name);
    for (size_t i = 0; i < n_also; i++)
        if (!has_event(s, also[i]))
            ww_test_fail(__FILE__, __LINE__,
                         "allocation %ld failing: %s lacks an event reported as done", k, name);
    ASSERT_EQ(fx_count(s, "SELECT count(*) - count(DISTINCT hash) FROM events"), 0);
    ww_store_close(s);
}

/* Out of memory reaches the caller as itself or as a store error; nothing else (this test
 * once found a failed step read as "unknown group" and a failed allocation as "too many
 * groups": both fixed). */
static void expect_clean(int rc, long k, const char *step)
{
    if (rc == WW_ENOMEM || rc == WW_ESTORE)
        return;
    ww_test_fail(__FILE__, __LINE__, "allocation %ld failing: %s: %s", k, step, ww_err_name(rc));
}

/* The first point and the stride of a sweep over `points` allocation points whose runs
 * take about run_ms each (twice that with the checks after each). */
static void plan(const char *name, long points, long run_ms, long *first, long *stride)
{
    *stride = 1;
    const char *full = getenv("WW_TORTURE_FULL");
    run_ms *= 2;
    if (!(full && *full == '1') && points * run_ms > TORTURE_BUDGET_MS)
        *stride = (points * run_ms + TORTURE_BUDGET_MS - 1) / TORTURE_BUDGET_MS;
    *first = (long)(ww_test_seed() % (uint64_t)*stride);
    const char *at = getenv("WW_TORTURE_AT"); /* one point alone, to look at it */
    if (at && *at) {
        *first = strtol(at, NULL, 10);
        *stride = points + 1;
    }
    if (*stride > 1)
        fprintf(stderr,
                "# %s: %ld allocation points, 1 in %ld tried, from %ld (about %ld ms a run and its "
                "checks; WW_TORTURE_FULL=1 for all)\n",
                name, points, *stride, *first, run_ms);
    else
        fprintf(stderr, "# %s: all %ld allocation points tried\n", name, points);
}

/* ---- The core API path ------------------------------------------------------------------ */

struct core_ctx {
    uint8_t gid[WW_ID_LEN];
    uint8_t student_pk[WW_KEY_LEN];
    uint32_t start, today;
    struct held coach, student;
};

struct core_done {
    const char *step; /* the call that failed */
    int group, reflection, applied;
    uint8_t gid2[WW_ID_LEN];
    uint8_t refl[1][WW_EVENT_HASH_LEN];
};

/* The path; returns 0 or the first failure. */
static int core_path(const struct core_ctx *c, struct core_done *done)
{
    struct ww_store *a = NULL, *b = NULL;
    memset(done, 0, sizeof *done);
    done->step = "ww_store_open";
    int rc = open_dev("coach", &a);
    if (rc == 0)
        rc = open_dev("student1", &b);
    if (rc == 0) {
        done->step = "ww_group_create";
        rc = ww_group_create(a, "Wijkteam Noord", NULL, c->start, "Coach Anna", NULL, done->gid2,
                             NULL);
        done->group = rc == 0;
    }
    uint8_t m[WW_ID_LEN];
    if (rc == 0 && (done->step = "ww_member_add"))
        rc = ww_member_add(a, done->gid2, WW_ROLE_STUDENT, "Sara", 1, 1, c->student_pk, m);
    if (rc == 0) {
        struct ww_reflection r;
        memset(&r, 0, sizeof r);
        r.date = c->today;
        r.status = WW_STATUS_DONE;
        r.share = WW_SHARE_GROUP;
        r.situatie = "Een tekst die alleen de groep leest.";
        r.reflectie = "Volgende keer vraag ik het eerder.";
        done->step = "ww_reflection_put";
        rc = ww_reflection_put(b, c->gid, &r, done->refl[0]);
        done->reflection = rc == 0;
    }
    struct fx_bag bag = {.n = 0};
    if (rc == 0) {
        struct ww_vv_item vv[16];
        size_t n = 0;
        int more = 0;
        done->step = "ww_sync_vv";
        rc = ww_sync_vv(a, c->gid, vv, 16, &n);
        if (rc == 0 && (done->step = "ww_sync_missing"))
            rc = ww_sync_missing(b, c->gid, vv, n, 256, 1u << 20, fx_bag_add, &bag, &more);
    }
    if (rc == 0) {
        struct ww_apply_result res;
        done->step = "ww_sync_apply";
        rc = ww_sync_apply(a, (const uint8_t *const *)bag.raw, bag.len, bag.n, &res);
        if (rc == 0 && res.rejected)
            ww_test_fail(__FILE__, __LINE__, "%zu of the batch rejected: %s", res.rejected,
                         ww_err_name(res.first_error));
        done->applied = rc == 0 && res.accepted > 0;
    }
    fx_bag_free(&bag);
    if (rc == 0) {
        ww_store_close(a);
        done->step = "ww_store_open (again)";
        rc = open_dev("coach", &a);
    }
    if (rc == 0) {
        struct ww_vv_item vv[16];
        size_t n = 0;
        done->step = "ww_sync_vv (after reopening)";
        rc = ww_sync_vv(a, done->gid2, vv, 16, &n);
    }
    ww_store_close(a);
    ww_store_close(b);
    return rc;
}

TEST(torture_core_api_every_allocation_fails_once)
{
    struct core_ctx c;
    memset(&c, 0, sizeof c);
    tmpdir_in_memory();
    {
        struct fx_group g;
        fx_group_make(&g, 1, 0, NULL);
        memcpy(c.gid, g.gid, WW_ID_LEN);
        fx_device(g.st[0], c.student_pk);
        ASSERT_OK(ww_date_parse("2026-11-16", &c.start));
        ASSERT_OK(ww_day_today(g.st[0], g.gid, &c.today));
        ASSERT_OK(ww_day_off(g.st[0], g.gid, c.today - 1, 1, NULL));
        held_of(g.coach, &c.coach);
        held_of(g.st[0], &c.student);
        fx_group_close(&g);
    }
    copy_dir("coach", "coach.0");
    copy_dir("student1", "student1.0");
    long base = ww_alloc_outstanding();

    /* A clean run: what it does, and how many allocations it makes. */
    struct core_done done;
    long t0 = mono_ms();
    ww_alloc_fail_after(LONG_BUDGET);
    int rc = core_path(&c, &done);
    long run_ms = mono_ms() - t0 + 1;
    long points = allocations_used();
    ASSERT_OK(rc);
    ASSERT(done.group && done.reflection && done.applied);
    expect_store("coach", &c.coach, done.refl, 1, -1);
    ASSERT_GT(points, 1000);

    long first, stride, failed = 0, absorbed = 0;
    plan("core API", points, run_ms, &first, &stride);
    for (long k = first; k <= points; k += stride) {
        restore();
        ww_alloc_fail_after(k);
        rc = core_path(&c, &done);
        ww_alloc_fail_after(-1);
        if (ww_alloc_outstanding() != base)
            ww_test_fail(__FILE__, __LINE__, "allocation %ld failing: %ld blocks leaked", k,
                         ww_alloc_outstanding() - base);
        if (rc != 0) {
            expect_clean(rc, k, done.step);
            failed++;
        } else {
            absorbed++;
        }
        expect_store("coach", &c.coach, done.refl, (size_t)done.applied, k);
        expect_store("student1", &c.student, done.refl, (size_t)done.reflection, k);
        if (done.group) {
            struct ww_store *a = NULL;
            ASSERT_OK(open_dev("coach", &a));
            ASSERT_EQ(rows_with(a, "SELECT count(*) FROM groups WHERE gid = ?", done.gid2, 16), 1);
            ww_store_close(a);
        }
        ASSERT_EQ(ww_alloc_outstanding(), base);
    }
    fprintf(stderr, "# core API: %ld runs failed cleanly, %ld absorbed the failure\n", failed,
            absorbed);
    ASSERT_GT(failed, (points / stride) / 2);
}

/* ---- One sync session ------------------------------------------------------------------- */

#define PIPE_MAX 4096

struct side {
    struct ww_session ss;
    uint8_t *frame[PIPE_MAX];
    size_t len[PIPE_MAX];
    size_t head, tail;
};

/* The harness's own copies of the frames come from the C library, not the seam: only the
 * session's and the store's allocations fail. */
static int send_cb(void *ud, const uint8_t *frame, size_t len)
{
    struct side *sd = ud;
    ASSERT_LT(sd->tail, PIPE_MAX);
    uint8_t *p = malloc(len);
    ASSERT(p != NULL);
    memcpy(p, frame, len);
    sd->frame[sd->tail] = p;
    sd->len[sd->tail++] = len;
    return 0;
}

static int side_init(struct side *sd, struct ww_store *s, struct ww_store *peer)
{
    memset(sd, 0, sizeof *sd);
    struct ww_session_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = s;
    ww_store_device(peer, cfg.peer);
    cfg.max_batch_events = 4; /* several batches, so that a failure can fall between them */
    cfg.window = 2;
    cfg.ud = sd;
    cfg.send = send_cb;
    return ww_session_init(&sd->ss, &cfg, 0);
}

static void side_free(struct side *sd)
{
    while (sd->head < sd->tail)
        free(sd->frame[sd->head++]);
    ww_session_close(&sd->ss);
}

/* Moves frames both ways until neither side has more to say. */
static void run_frames(struct side *a, struct side *b)
{
    for (int progress = 1, rounds = 0; progress; rounds++) {
        ASSERT_LT(rounds, 100000);
        progress = 0;
        struct side *from[2] = {a, b}, *to[2] = {b, a};
        for (int k = 0; k < 2; k++)
            while (from[k]->head < from[k]->tail) {
                size_t i = from[k]->head++;
                if (!to[k]->ss.failed)
                    ww_session_on_frame(&to[k]->ss, from[k]->frame[i], from[k]->len[i], 1);
                free(from[k]->frame[i]);
                progress = 1;
            }
    }
}

/* Of two sides' failures, the one that says why: out of memory or a store error first. */
static int cause(int x, int y)
{
    if (x == WW_ENOMEM || x == WW_ESTORE || !y)
        return x;
    return y == WW_ENOMEM || y == WW_ESTORE || !x ? y : x;
}

/* One session between the two stores, from the student's side; 0 when both ended idle
 * and without failure, else the failure and in *step where it happened. */
static int session_run(struct ww_store *coach, struct ww_store *student, const uint8_t gid[16],
                       const char **step)
{
    struct side a, b;
    *step = "ww_session_init";
    int rc = side_init(&a, coach, student);
    int rb = rc == 0 ? side_init(&b, student, coach) : -1;
    if (rc == 0 && rb != 0) {
        ww_session_close(&a.ss);
        rc = rb;
    }
    if (rc != 0)
        return rc;
    *step = "ww_session_open_group";
    rc = ww_session_open_group(&b.ss, gid);
    if (rc == 0) {
        *step = "ww_session_on_frame";
        run_frames(&b, &a);
        rc = cause(a.ss.failed, b.ss.failed);
    }
    if (rc == 0 && !(ww_session_idle(&a.ss) && ww_session_idle(&b.ss))) {
        *step = "the exchange (stopped half way without a failure)";
        rc = WW_ESTATE;
    }
    side_free(&a);
    side_free(&b);
    return rc;
}

static void same_state(struct ww_store *x, struct ww_store *y, long k)
{
    uint8_t a[32], b[32];
    fx_digest(x, a);
    fx_digest(y, b);
    if (memcmp(a, b, 32) != 0)
        ww_test_fail(__FILE__, __LINE__, "allocation %ld failing: no convergence afterwards", k);
}

TEST(torture_sync_session_every_allocation_fails_once)
{
    uint8_t gid[WW_ID_LEN];
    struct held coach_held, student_held;
    tmpdir_in_memory();
    {
        /* Both sides hold events the other lacks. */
        struct fx_group g;
        fx_group_make(&g, 1, 0, NULL);
        memcpy(gid, g.gid, WW_ID_LEN);
        uint32_t d;
        ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
        for (uint32_t i = 0; i < 6; i++) {
            ASSERT_OK(ww_day_off(g.st[0], g.gid, d + i, 1, NULL));
            ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, d + i, "W02", NULL));
        }
        held_of(g.coach, &coach_held);
        held_of(g.st[0], &student_held);
        fx_group_close(&g);
    }
    copy_dir("coach", "coach.0");
    copy_dir("student1", "student1.0");
    long base = ww_alloc_outstanding();

    struct ww_store *a = NULL, *b = NULL;
    long t0 = mono_ms();
    ASSERT_OK(open_dev("coach", &a));
    ASSERT_OK(open_dev("student1", &b));
    const char *step = NULL;
    ww_alloc_fail_after(LONG_BUDGET);
    int rc = session_run(a, b, gid, &step);
    ww_store_close(a);
    ww_store_close(b);
    long run_ms = mono_ms() - t0 + 1;
    long points = allocations_used();
    ASSERT_OK(rc);
    ASSERT_OK(open_dev("coach", &a));
    ASSERT_OK(open_dev("student1", &b));
    same_state(a, b, -1);
    ww_store_close(a);
    ww_store_close(b);
    ASSERT_GT(points, 100);

    long first, stride, failed = 0, absorbed = 0;
    plan("sync session", points, run_ms, &first, &stride);
    for (long k = first; k <= points; k += stride) {
        restore();
        ASSERT_OK(open_dev("coach", &a));
        ASSERT_OK(open_dev("student1", &b));
        ww_alloc_fail_after(k);
        rc = session_run(a, b, gid, &step);
        ww_alloc_fail_after(-1);
        if (rc != 0) {
            expect_clean(rc, k, step);
            failed++;
        } else {
            absorbed++;
        }
        ww_store_close(a);
        ww_store_close(b);
        if (ww_alloc_outstanding() != base)
            ww_test_fail(__FILE__, __LINE__, "allocation %ld failing: %ld blocks leaked", k,
                         ww_alloc_outstanding() - base);
        expect_store("coach", &coach_held, NULL, 0, k);
        expect_store("student1", &student_held, NULL, 0, k);
        /* The next session, with memory enough, finishes the job. */
        ASSERT_OK(open_dev("coach", &a));
        ASSERT_OK(open_dev("student1", &b));
        ASSERT_OK(session_run(a, b, gid, &step));
        same_state(a, b, k);
        ww_store_close(a);
        ww_store_close(b);
    }
    fprintf(stderr, "# sync session: %ld runs failed cleanly, %ld absorbed the failure\n", failed,
            absorbed);
    ASSERT_GT(failed, (points / stride) / 2);
}
