/*
 * test_smallfs.c - a real full file system under the real processes. The hub's or a
 * device's data folder is a small tmpfs, mounted in the test process's own mount namespace:
 * the hub and the devices, its children, write to it, and it disappears with the test
 * process however the test ends, so nothing is left mounted on the machine.
 *
 * A student's upload overflows the hub, or a download overflows a device. What must hold:
 * the sync ends with a clear error and exit status, the hub stays up, the full store passes
 * its integrity check and keeps everything it acknowledged before, another member still
 * syncs, and once the file system is remounted bigger the next sync completes and every
 * replica holds every event.
 *
 * The store on the small file system is created there (`init`, or the hub's first start), so
 * the sizes below are those of the whole data folder.
 */
#define _GNU_SOURCE 1 /* unshare */

#include "proc.h"
#include "runner.h"

#include <errno.h>
#include <sched.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

/* The small file systems, measured (the tests print the figures): the group's first syncs
 * take about 500 KiB on the hub and 340 KiB on a device, FIRST reflections about 150 and 100
 * KiB more, the next SECOND about 560 and 600 KiB more at their peak (a device's store holds
 * 900 KiB even once its WAL is folded in). Each size leaves over 150 KiB of margin both ways:
 * FIRST fits, SECOND does not. */
#define HUB_KIB    1024
#define DEVICE_KIB 896
#define BIG_KIB    16384 /* after the remount */
#define FIRST      60    /* reflections that fit, synced before the file system fills */
#define SECOND     250   /* more that do not fit: one batch (at most 256 events) */
#define TEXT_LEN   300   /* each of four STARR fields (an event holds about 1,200 characters) */

#define WW(r, dev, ...)  proc_run((r), "--data", (dev), __VA_ARGS__, (char *)NULL)
#define WWJ(r, dev, ...) proc_run((r), "--data", (dev), "--json", __VA_ARGS__, (char *)NULL)

/* ---- The small file system ---------------------------------------------------------------- */

static void tmpfs_opts(char *out, size_t cap, long kib)
{
    snprintf(out, cap, "size=%ldk,mode=0700", kib);
}

/* A tmpfs of kib KiB on dir (created), in a mount namespace of this test process's own. A
 * machine that does not allow it (not root) skips the test. */
static void mount_small(const char *dir, long kib)
{
    if (unshare(CLONE_NEWNS) != 0) {
        if (errno == EPERM)
            ww_test_skip("unshare(CLONE_NEWNS) not allowed: a tmpfs mount needs root");
        ww_test_fail(__FILE__, __LINE__, "unshare: %s", strerror(errno));
    }
    /* Private: neither this mount nor the remount reaches the machine's namespace. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        ww_test_fail(__FILE__, __LINE__, "mount --make-rprivate /: %s", strerror(errno));
    ASSERT_EQ(mkdir(dir, 0700), 0);
    char opts[64];
    tmpfs_opts(opts, sizeof opts, kib);
    if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0) {
        if (errno == EPERM)
            ww_test_skip("mount -t tmpfs not allowed: it needs root");
        ww_test_fail(__FILE__, __LINE__, "mount tmpfs on %s: %s", dir, strerror(errno));
    }
}

static void remount_size(const char *dir, long kib)
{
    char opts[64];
    tmpfs_opts(opts, sizeof opts, kib);
    if (mount("tmpfs", dir, "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV, opts) != 0)
        ww_test_fail(__FILE__, __LINE__, "remount %s: %s", dir, strerror(errno));
}

/* KiB used and free on the file system of dir. */
static long used_kib(const char *dir)
{
    struct statvfs v;
    ASSERT_EQ(statvfs(dir, &v), 0);
    return (long)((v.f_blocks - v.f_bfree) * v.f_frsize / 1024);
}

static long free_kib(const char *dir)
{
    struct statvfs v;
    ASSERT_EQ(statvfs(dir, &v), 0);
    return (long)(v.f_bavail * v.f_frsize / 1024);
}

/* ---- What a store holds ------------------------------------------------------------------- */

/* One integer from the store in dir, on a read-only connection of the test's own. */
static long store_int(const char *dir, const char *sql)
{
    char path[600];
    snprintf(path, sizeof path, "%s/wegwijs.db", dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        ww_test_fail(__FILE__, __LINE__, "open %s: %s", path, db ? sqlite3_errmsg(db) : "");
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        ww_test_fail(__FILE__, __LINE__, "%s on %s: %s", sql, path, sqlite3_errmsg(db));
    long n = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* The events the members wrote (each device's sync report, kind 21, comes on top as its
 * syncs happen). */
static long events_in(const char *dir)
{
    return store_int(dir, "SELECT count(*) FROM events WHERE kind<>21");
}

/* PRAGMA integrity_check answers exactly one row, "ok". */
static void expect_intact(const char *dir)
{
    ASSERT_EQ(store_int(dir, "SELECT count(*) FROM pragma_integrity_check WHERE "
                             "integrity_check<>'ok'"),
              0);
    ASSERT_EQ(store_int(dir, "SELECT count(*) FROM pragma_integrity_check"), 1);
}

/* ---- A group: a coach and two students, a hub ---------------------------------------------- */

struct world {
    char coach[512], st[512], st2[512], hub_dir[512], addr[32], group[33];
    struct proc_bg hub;
};

static void dir_init(const char *dir, char key[65])
{
    struct proc_run r;
    WW(&r, dir, "init");
    EXPECT_EXIT(r, 0);
    proc_first_line(r.out, key, 65);
    ASSERT(proc_is_hex(key, 64));
}

/* The devices and the group (started a year ago, so that every reflection has a day of its
 * own); the hub started on hub_dir and named by the coach; everyone synced once. The hub's
 * data folder (small_hub) or the second student's is the small file system. */
static void world_make(struct world *w, int small_hub)
{
    struct proc_run r;
    memset(w, 0, sizeof *w);
    proc_tmp_path(w->coach, sizeof w->coach, "coach");
    proc_tmp_path(w->st, sizeof w->st, "st");
    proc_tmp_path(w->st2, sizeof w->st2, "st2");
    proc_tmp_path(w->hub_dir, sizeof w->hub_dir, "hub");
    if (small_hub)
        mount_small(w->hub_dir, HUB_KIB);
    else
        mount_small(w->st2, DEVICE_KIB);
    char key[65], start[16], line[512];
    time_t t = time(NULL) - 400 * 86400L;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(start, sizeof start, "%Y-%m-%d", &tm);
    dir_init(w->coach, key);
    WW(&r, w->coach, "group", "create", "Afdeling Zonnebloem", "--start", start);
    EXPECT_EXIT(r, 0);
    proc_first_line(r.out, w->group, sizeof w->group);
    const char *const devs[2] = {w->st, w->st2};
    for (int i = 0; i < 2; i++) {
        dir_init(devs[i], key);
        WW(&r, w->coach, "member", "add", w->group, "--role", "student", "--alias",
           i ? "Sam" : "Noor", "--year", "1", "--track", "bol", "--device", key);
        EXPECT_EXIT(r, 0);
    }
    proc_hub_start(&w->hub, w->hub_dir, "hub");
    snprintf(w->addr, sizeof w->addr, "127.0.0.1:%d", w->hub.port);
    /* The hub's second line is its key alone. */
    ASSERT(proc_read_line(w->hub.fd, line, sizeof line, proc_now_ms() + PROC_START_MS));
    ASSERT(proc_is_hex(line, 64));
    WW(&r, w->coach, "group", "hub", w->group, line, w->addr);
    EXPECT_EXIT(r, 0);
    WW(&r, w->coach, "sync", "--quiet");
    EXPECT_EXIT(r, 0);
    for (int i = 0; i < 2; i++) {
        WW(&r, devs[i], "sync", w->addr, "--group", w->group, "--quiet");
        EXPECT_EXIT(r, 0);
    }
}

/* The student writes reflections from..to-1, one a day back from yesterday, each with its
 * four STARR fields long and the number in front ("r007-"). */
static void reflect_many(const struct world *w, int from, int to)
{
    static char text[TEXT_LEN + 1];
    memset(text, 'x', TEXT_LEN);
    text[TEXT_LEN] = '\0';
    for (int k = from; k < to; k++) {
        struct proc_run r;
        char d[16], mark[8];
        time_t t = time(NULL) - (time_t)(k + 1) * 86400;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(d, sizeof d, "%Y-%m-%d", &tm);
        snprintf(mark, sizeof mark, "r%03d-", k);
        memcpy(text, mark, 5);
        WW(&r, w->st, "reflect", w->group, "--status", "gedaan", "--date", d, "--share", "groep",
           "--situatie", text, "--taak", text, "--actie", text, "--resultaat", text);
        EXPECT_EXIT(r, 0);
    }
}

static void sync_ok(const char *dir)
{
    struct proc_run r;
    WW(&r, dir, "sync");
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "gesynchroniseerd met ");
}

/* dir reads exactly the student's n reflections, each whole: the number of each, in its four
 * fields. */
static void expect_reflections(const struct world *w, const char *dir, int n)
{
    struct proc_run r;
    WWJ(&r, dir, "reflections", w->group);
    EXPECT_EXIT(r, 0);
    json_t *doc = proc_json(r.out, "reflections", __LINE__);
    json_t *list = proc_json_array(doc, "reflections", (size_t)n, __LINE__), *item;
    size_t i;
    json_array_foreach(list, i, item)
    {
        ASSERT(json_is_true(json_object_get(item, "readable")));
        ASSERT_EQ(strlen(proc_json_str(item, "resultaat", __LINE__)), TEXT_LEN);
    }
    json_decref(doc);
    for (int k = 0; k < n; k++) {
        char mark[8];
        snprintf(mark, sizeof mark, "r%03d-", k);
        ASSERT_EQ(proc_count_text(r.out, mark), 4);
    }
}

/* What `status` says the device has not sent to the hub yet. */
static long long unsent(const char *dir)
{
    struct proc_run r;
    WWJ(&r, dir, "status");
    EXPECT_EXIT(r, 0);
    json_t *doc = proc_json(r.out, "status", __LINE__);
    json_t *g = json_array_get(json_object_get(doc, "groups"), 0);
    ASSERT(g != NULL);
    long long n = proc_json_int(g, "unsent", __LINE__);
    json_decref(doc);
    return n;
}

/* ---- Tests -------------------------------------------------------------------------------- */

TEST(smallfs_hub_runs_out_of_space_and_resumes)
{
    struct world w;
    struct proc_run r;
    char line[512], log[PROC_ERR_MAX + 1];
    world_make(&w, 1);
    long base = events_in(w.hub_dir), empty_kib = used_kib(w.hub_dir);

    /* The first reflections fit: the hub acknowledges them. */
    reflect_many(&w, 0, FIRST);
    sync_ok(w.st);
    long acked = events_in(w.hub_dir), first_kib = used_kib(w.hub_dir);
    ASSERT_EQ(acked, base + FIRST);

    /* The next ones do not: the hub's commit fails, it closes the student's connection,
     * and the student's sync reports the broken connection (exit 7). */
    reflect_many(&w, FIRST, FIRST + SECOND);
    WW(&r, w.st, "sync");
    snprintf(line, sizeof line, "synchroniseren met %s mislukt: ", w.addr);
    EXPECT_REFUSED(r, EXIT_NET, line);
    proc_expect_alive(&w.hub);
    proc_slurp(w.hub.err_path, log, PROC_ERR_MAX);
    EXPECT_HAS(log, "commit failed: WW_EFULL");
    EXPECT_HAS(log, "error=WW_EFULL reason=the hub could not store what it received");
    long full_free = free_kib(w.hub_dir);
    fprintf(stderr,
            "# the hub's %d KiB file system: %ld KiB used after the first syncs, %ld after %d "
            "reflections "
            "(%ld events); the next %d overflowed it (%ld KiB free), the student's sync: "
            "exit %d, %s",
            HUB_KIB, empty_kib, first_kib, FIRST, acked, SECOND, full_free, r.code, r.err);
    ASSERT_LT(full_free, 64);
    /* The refused batch left nothing; everything acknowledged before is there, intact. */
    ASSERT_EQ(events_in(w.hub_dir), acked);
    ASSERT_EQ(store_int(w.hub_dir, "SELECT count(*) FROM pending"), 0);
    expect_intact(w.hub_dir);
    ASSERT_GE(unsent(w.st), SECOND);

    /* The other student still syncs through the full hub and gets all the hub holds. */
    sync_ok(w.st2);
    ASSERT_EQ(events_in(w.st2), acked);
    expect_reflections(&w, w.st2, FIRST);
    /* Restarted while its file system is full, the hub stops cleanly (exit 0), comes back on
     * its port with the store intact, and an upload fails there the same way. */
    int port = w.hub.port, code = 0;
    proc_bg_stop(&w.hub);
    expect_intact(w.hub_dir);
    if (!proc_hub_try(&w.hub, w.hub_dir, port, NULL, &code)) {
        proc_slurp(w.hub.err_path, log, PROC_ERR_MAX);
        ww_test_fail(__FILE__, __LINE__, "the hub did not restart (exit %d): %s", code, log);
    }
    WW(&r, w.st, "sync");
    EXPECT_REFUSED(r, EXIT_NET, line);
    proc_expect_alive(&w.hub);
    ASSERT_EQ(events_in(w.hub_dir), acked);
    proc_slurp(w.hub.err_path, log, PROC_ERR_MAX);
    EXPECT_HAS(log, "commit failed: WW_EFULL");

    /* Room again: the upload completes, and the other student gets all of it. */
    remount_size(w.hub_dir, BIG_KIB);
    sync_ok(w.st);
    sync_ok(w.st2);
    ASSERT_EQ(unsent(w.st), 0);
    ASSERT_EQ(events_in(w.hub_dir), base + FIRST + SECOND);
    ASSERT_EQ(events_in(w.st), base + FIRST + SECOND);
    ASSERT_EQ(events_in(w.st2), base + FIRST + SECOND);
    expect_reflections(&w, w.st2, FIRST + SECOND);
    fprintf(stderr, "# after the remount to %d KiB the hub uses %ld KiB\n", BIG_KIB,
            used_kib(w.hub_dir));
    proc_bg_stop(&w.hub);
    expect_intact(w.hub_dir);
    ASSERT_EQ(umount2(w.hub_dir, 0), 0);
}

TEST(smallfs_device_runs_out_of_space_and_resumes)
{
    struct world w;
    struct proc_run r;
    char line[512];
    world_make(&w, 0);
    long base = events_in(w.st2), empty_kib = used_kib(w.st2);

    /* The first reflections fit on the other student's device. */
    reflect_many(&w, 0, FIRST);
    sync_ok(w.st);
    sync_ok(w.st2);
    long held = events_in(w.st2), first_kib = used_kib(w.st2);
    ASSERT_EQ(held, base + FIRST);

    /* The next ones do not: its download stops with the store's error (exit 8). */
    reflect_many(&w, FIRST, FIRST + SECOND);
    sync_ok(w.st);
    WW(&r, w.st2, "sync");
    snprintf(line, sizeof line, "wegwijs: synchroniseren met %s mislukt: schijf is vol\n", w.addr);
    EXPECT_EXIT(r, 8);
    ASSERT_STR_EQ(r.err, line);
    /* The command closed the store: SQLite dropped the refused transaction's pages of the
     * WAL, so the file system has room again for what the device held before. */
    fprintf(stderr,
            "# a device's %d KiB file system: %ld KiB used after its first sync, %ld after %d "
            "reflections (%ld events); the next %d overflowed it, its sync: exit %d, %s"
            "# %ld KiB used once that sync ended\n",
            DEVICE_KIB, empty_kib, first_kib, FIRST, held, SECOND, r.code, r.err, used_kib(w.st2));
    /* The refused batch left nothing; the store is intact and still reads. */
    ASSERT_EQ(events_in(w.st2), held);
    expect_intact(w.st2);
    expect_reflections(&w, w.st2, FIRST);
    WW(&r, w.st2, "status");
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "Afdeling Zonnebloem");
    /* In English too, and a second try fails the same way. */
    WW(&r, w.st2, "--lang", "en", "sync");
    snprintf(line, sizeof line, "wegwijs: cannot sync with %s: disk is full\n", w.addr);
    EXPECT_EXIT(r, 8);
    ASSERT_STR_EQ(r.err, line);
    ASSERT_EQ(events_in(w.st2), held);
    proc_expect_alive(&w.hub);

    /* Room again: the next sync completes. */
    remount_size(w.st2, BIG_KIB);
    sync_ok(w.st2);
    ASSERT_EQ(events_in(w.st2), base + FIRST + SECOND);
    ASSERT_EQ(events_in(w.st2), events_in(w.hub_dir));
    expect_reflections(&w, w.st2, FIRST + SECOND);
    expect_intact(w.st2);
    fprintf(stderr, "# after the remount to %d KiB the device uses %ld KiB\n", BIG_KIB,
            used_kib(w.st2));
    proc_bg_stop(&w.hub);
    ASSERT_EQ(umount2(w.st2, 0), 0);
}
