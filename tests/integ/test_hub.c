/*
 * test_hub.c - `wegwijs hub` and `wegwijs sync` as separate processes on 127.0.0.1: a hub,
 * devices that sync through it or with each other, interrupted syncs, a removed member and
 * hostile input on the hub's port.
 *
 * The binary is found as in test_cli.c (next to the test binary, or env WW_BUILD); runs and
 * background processes are proc.c's. Every process is started with fork and execv; every wait
 * for one is bounded, and a process that overstays is killed. Background processes (the hub, a
 * device running `sync --watch`) die with the test process (PR_SET_PDEATHSIG), so a failing test
 * leaves none behind; a passing test stops each of them with SIGTERM and checks it exited cleanly.
 *
 * Ports are ephemeral: `hub --listen 127.0.0.1:0` prints the port it got on stdout, and
 * `sync --watch --listen 127.0.0.1:0` logs it on stderr ("listen 127.0.0.1:PORT").
 *
 * What each device holds is read from its SQLite file, read-only: the set of event hashes
 * (the replicas must hold the same events), the events still waiting for a cause, the keys.
 */
#include "fixture.h"
#include "proc.h"
#include "runner.h"
#include "wegwijs.h"
#include "wegwijs_sync.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEVICES 8

/* ---- Random numbers from the runner's seed ---------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint32_t rng_below(uint32_t n)
{
    return (uint32_t)(rng_next() % n);
}

/* ---- Dates -------------------------------------------------------------------------------- */

/* Today (UTC) plus days, as YYYY-MM-DD. */
static void date_at(int days, char out[16])
{
    time_t t = time(NULL) + (time_t)days * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

/* ---- Watchers ---------------------------------------------------------------------------- */

/* Waits for "listen 127.0.0.1:PORT" on a watcher's stderr; 1 with the port, 0 if it exited
 * (status in *code). */
static int watch_try(struct proc_bg *w, const char *dir, int hub_port, int port, int *code)
{
    char hub[32], listen[32];
    snprintf(hub, sizeof hub, "127.0.0.1:%d", hub_port);
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    int o = open(w->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open(w->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT(o >= 0 && e >= 0);
    const char *argv[] = {"--data", dir, "sync", hub, "--watch", "--listen", listen, NULL};
    w->pid = proc_spawn(argv, o, e, -1);
    close(o);
    close(e);
    long end = proc_now_ms() + PROC_START_MS;
    char err[PROC_ERR_MAX + 1];
    for (;;) {
        proc_slurp(w->err_path, err, PROC_ERR_MAX);
        const char *at = strstr(err, "listen 127.0.0.1:");
        if (at) {
            w->port = (int)strtol(at + 17, NULL, 10);
            ASSERT(w->port > 0 && w->port < 65536);
            return 1;
        }
        int status = 0;
        pid_t r = waitpid(w->pid, &status, WNOHANG);
        if (r == w->pid) {
            w->pid = 0;
            *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            return 0;
        }
        if (proc_now_ms() > end)
            ww_test_fail(__FILE__, __LINE__, "sync --watch did not listen: %s", err);
        proc_sleep_ms(2);
    }
}

static void watch_start(struct proc_bg *w, const char *dir, int hub_port, const char *name)
{
    memset(w, 0, sizeof *w);
    w->fd = -1;
    char fname[64];
    snprintf(fname, sizeof fname, "%s.watch.err", name);
    proc_tmp_path(w->err_path, sizeof w->err_path, fname);
    snprintf(fname, sizeof fname, "%s.watch.out", name);
    proc_tmp_path(w->out_path, sizeof w->out_path, fname);
    int code = 0;
    if (watch_try(w, dir, hub_port, 0, &code))
        return;
    char err[PROC_ERR_MAX + 1];
    proc_slurp(w->err_path, err, PROC_ERR_MAX);
    ww_test_fail(__FILE__, __LINE__, "sync --watch --listen 127.0.0.1:0 exited %d: %s", code, err);
}

/* ---- What a store holds ------------------------------------------------------------------- */

struct held {
    long events, pending, keys;
    uint64_t digest; /* over the sorted event hashes */
};

static long count_of(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        ww_test_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(db));
    long n = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void held_by(const char *dir, struct held *h)
{
    char path[600];
    snprintf(path, sizeof path, "%s/wegwijs.db", dir);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        ww_test_fail(__FILE__, __LINE__, "open %s: %s", path, db ? sqlite3_errmsg(db) : "");
    sqlite3_busy_timeout(db, 5000);
    memset(h, 0, sizeof *h);
    h->digest = 1469598103934665603u;
    sqlite3_stmt *st = NULL;
    /* What the members wrote: each device's sync.report (kind 21) comes on top, as its
     * syncs happen, and is counted by the tests of sync health. */
    if (sqlite3_prepare_v2(db, "SELECT hash FROM events WHERE kind<>21 ORDER BY hash", -1, &st,
                           NULL) != SQLITE_OK)
        ww_test_fail(__FILE__, __LINE__, "events of %s: %s", dir, sqlite3_errmsg(db));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const uint8_t *p = sqlite3_column_blob(st, 0);
        int n = sqlite3_column_bytes(st, 0);
        for (int i = 0; i < n; i++)
            h->digest = (h->digest ^ p[i]) * 1099511628211u;
        h->events++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        ww_test_fail(__FILE__, __LINE__, "events of %s: %s", dir, sqlite3_errmsg(db));
    h->pending = count_of(db, "SELECT count(*) FROM pending");
    h->keys = count_of(db, "SELECT count(*) FROM keys");
    sqlite3_close(db);
}

static long events_in(const char *dir)
{
    struct held h;
    held_by(dir, &h);
    return h.events;
}

/* ---- The views the command gives ---------------------------------------------------------- */

/* The event ids listed by `reflections` (the last field of each header line), sorted, one
 * per line, into out. Returns how many. */
static size_t listed_ids(const char *text, char *out, size_t cap)
{
    static char ids[512][65];
    size_t n = 0;
    for (const char *q = text; *q;) {
        size_t len = strcspn(q, "\n");
        if (len > 64 && q[0] >= '0' && q[0] <= '9' && q[len - 65] == ' ' &&
            strspn(q + len - 64, "0123456789abcdef") == 64) {
            ASSERT_LT(n, 512);
            memcpy(ids[n], q + len - 64, 64);
            ids[n][64] = '\0';
            n++;
        }
        q += len;
        if (*q)
            q++;
    }
    /* Insertion sort: a few hundred at most. */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(ids[j - 1], ids[j]) > 0; j--) {
            char t[65];
            memcpy(t, ids[j], 65);
            memcpy(ids[j], ids[j - 1], 65);
            memcpy(ids[j - 1], t, 65);
        }
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        ASSERT_LT(used + 66, cap);
        memcpy(out + used, ids[i], 64);
        out[used + 64] = '\n';
        out[used + 65] = '\0';
        used += 65;
    }
    return n;
}

/* ---- A group on several devices ----------------------------------------------------------- */

enum { COACH = 0 };

struct dev {
    char dir[512];
    char key[65];
    char member[33];
    char name[16];
};

struct world {
    struct dev d[MAX_DEVICES];
    int n;
    char group[33];
    struct proc_bg hub;
    char hub_dir[512], hub_addr[32];
};

/* The coach's name; a learner's alias is its device's name ("student1"). */
#define COACH_ALIAS "Anna de Coach"

/* Devices: d[0] the coach, then the learners by role ("student" or "senior"). */
static void world_make(struct world *w, const char *const *roles, int n_learners, const char *start)
{
    struct proc_run r;
    memset(w, 0, sizeof *w);
    w->n = 1 + n_learners;
    ASSERT_LE(w->n, MAX_DEVICES);
    for (int i = 0; i < w->n; i++) {
        struct dev *d = &w->d[i];
        if (i == 0)
            snprintf(d->name, sizeof d->name, "coach");
        else
            snprintf(d->name, sizeof d->name, "%s%d", roles[i - 1], i);
        proc_tmp_path(d->dir, sizeof d->dir, d->name);
        proc_run(&r, "--data", d->dir, "init", NULL);
        EXPECT_EXIT(r, 0);
        proc_first_line(r.out, d->key, sizeof d->key);
        ASSERT(proc_is_hex(d->key, 64));
    }
    proc_run(&r, "--data", w->d[0].dir, "group", "create", "Afdeling Zonnebloem", "--alias",
             COACH_ALIAS, "--start", start, NULL);
    EXPECT_EXIT(r, 0);
    proc_first_line(r.out, w->group, sizeof w->group);
    ASSERT(proc_is_hex(w->group, 32));
    for (int i = 1; i < w->n; i++) {
        struct dev *d = &w->d[i];
        int senior = !strcmp(roles[i - 1], "senior");
        proc_run(&r, "--data", w->d[0].dir, "member", "add", w->group, "--role", roles[i - 1],
                 "--alias", d->name, "--year",
                 senior  ? "3"
                 : i % 2 ? "1"
                         : "2",
                 "--track", i % 2 ? "bol" : "bbl", "--device", d->key, NULL);
        EXPECT_EXIT(r, 0);
        proc_first_line(r.out, d->member, sizeof d->member);
        ASSERT(proc_is_hex(d->member, 32));
    }
    proc_tmp_path(w->hub_dir, sizeof w->hub_dir, "hub");
    proc_hub_start(&w->hub, w->hub_dir, "hub");
    snprintf(w->hub_addr, sizeof w->hub_addr, "127.0.0.1:%d", w->hub.port);
}

static void sync_ok(struct world *w, int i, const char *addr, int first)
{
    struct proc_run r;
    if (first)
        proc_run(&r, "--data", w->d[i].dir, "sync", addr, "--group", w->group, NULL);
    else
        proc_run(&r, "--data", w->d[i].dir, "sync", addr, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "gesynchroniseerd met ");
}

static void reflect(struct world *w, int i, const char *date, const char *share, const char *text,
                    char id[65])
{
    struct proc_run r;
    proc_run(&r, "--data", w->d[i].dir, "reflect", w->group, "--status", "gedaan", "--date", date,
             "--share", share, "--situatie", text, NULL);
    EXPECT_EXIT(r, 0);
    proc_event_id(r.out, id);
}

/* ---- Tests -------------------------------------------------------------------------------- */

#define N_LEARN  5 /* four students and the senior */
#define N_DAYS   3
#define N_MARKS  (N_LEARN * N_DAYS + 2)
#define VIEW_MAX (64 * 1024)

struct mark {
    int author;
    const char *share;
    char text[96];
};

TEST(hub_group_week_converges_in_any_order)
{
    static const char *const roles[N_LEARN] = {"student", "student", "student", "student",
                                               "senior"};
    static const char *const shares[3] = {"groep", "coach", "ik"};
    rng_state = ww_test_seed() ^ 0x6875625f77656b31u;
    struct world w;
    struct proc_run r;
    char start[16], ahead[16];
    date_at(-14, start);
    date_at(2, ahead);
    world_make(&w, roles, N_LEARN, start);
    const int senior = N_LEARN;
    uint64_t tag = rng_next() & 0xffffff;

    /* The group reaches the hub; the first learner shares a reflection, the senior raises a
     * signal; then everyone else joins. Each device's first sync names the group. */
    struct mark marks[N_MARKS];
    size_t n_marks = 0;
    char r0[65], sig0[65], d[16];
    sync_ok(&w, COACH, w.hub_addr, 0);
    sync_ok(&w, 1, w.hub_addr, 1);
    date_at(-9, d);
    marks[n_marks] = (struct mark){1, "groep", ""};
    snprintf(marks[n_marks].text, sizeof marks[0].text, "eerste-groep-%06llx",
             (unsigned long long)tag);
    reflect(&w, 1, d, "groep", marks[n_marks].text, r0);
    n_marks++;
    sync_ok(&w, 1, w.hub_addr, 0);
    sync_ok(&w, senior, w.hub_addr, 1);
    char sig0_text[64], sig1_text[64];
    snprintf(sig0_text, sizeof sig0_text, "werkdruk-signaal-%06llx", (unsigned long long)tag);
    snprintf(sig1_text, sizeof sig1_text, "welzijn-signaal-%06llx", (unsigned long long)tag);
    proc_run(&r, "--data", w.d[senior].dir, "signal", "raise", w.group, "--category", "werkdruk",
             "--text", sig0_text, NULL);
    EXPECT_EXIT(r, 0);
    proc_event_id(r.out, sig0);
    sync_ok(&w, senior, w.hub_addr, 0);
    for (int i = 2; i < senior; i++)
        sync_ok(&w, i, w.hub_addr, 1);
    sync_ok(&w, COACH, w.hub_addr, 0);

    /* A week offline: every learner reflects on past days with every kind of sharing and
     * takes a day off; reactions, a second signal, the coach's resolve, sign-off and
     * schedule. */
    char ids[N_MARKS][65];
    for (int i = 1; i <= N_LEARN; i++) {
        for (int k = 0; k < N_DAYS; k++) {
            struct mark *m = &marks[n_marks];
            m->author = i;
            m->share = shares[(i + k) % 3];
            snprintf(m->text, sizeof m->text, "dag%d-%s-%s-%06llx", k, w.d[i].name, m->share,
                     (unsigned long long)tag);
            date_at(-8 + k, d);
            reflect(&w, i, d, m->share, m->text, ids[n_marks]);
            n_marks++;
        }
        date_at(-4, d);
        proc_run(&r, "--data", w.d[i].dir, "dayoff", w.group, d, NULL);
        EXPECT_EXIT(r, 0);
    }
    char react_student[64], react_coach[64], note[64];
    snprintf(react_student, sizeof react_student, "Herkenbaar-%06llx", (unsigned long long)tag);
    snprintf(react_coach, sizeof react_coach, "Goed-gevraagd-%06llx", (unsigned long long)tag);
    snprintf(note, sizeof note, "besproken-op-de-afdeling-%06llx", (unsigned long long)tag);
    proc_run(&r, "--data", w.d[2].dir, "react", w.group, r0, react_student, NULL);
    EXPECT_EXIT(r, 0);
    proc_run(&r, "--data", w.d[COACH].dir, "react", w.group, r0, react_coach, NULL);
    EXPECT_EXIT(r, 0);
    proc_run(&r, "--data", w.d[senior].dir, "signal", "raise", w.group, "--category", "welzijn",
             "--text", sig1_text, NULL);
    EXPECT_EXIT(r, 0);
    proc_run(&r, "--data", w.d[COACH].dir, "signal", "resolve", w.group, sig0, "--state",
             "besproken", "--note", note, NULL);
    EXPECT_EXIT(r, 0);
    date_at(-5, d);
    proc_run(&r, "--data", w.d[COACH].dir, "signoff", w.group, w.d[1].member, "W03", "--level",
             "voldoende", "--date", d, "--note", note, NULL);
    EXPECT_EXIT(r, 0);
    proc_run(&r, "--data", w.d[COACH].dir, "challenge", "schedule", w.group, ahead, "W12", NULL);
    EXPECT_EXIT(r, 0);

    /* Topology from the seed: one device relays live (sync --watch --listen); of the rest,
     * some reach only the relay, the others only the hub, at least one of each. */
    int relay = (int)rng_below(1 + N_LEARN), p2p[MAX_DEVICES] = {0}, n_p2p = 0, order[MAX_DEVICES];
    int n_order = 0;
    for (int i = 0; i <= N_LEARN; i++)
        if (i != relay) {
            p2p[i] = (int)rng_below(2);
            n_p2p += p2p[i];
            order[n_order++] = i;
        }
    if (n_p2p == 0)
        p2p[order[rng_below((uint32_t)n_order)]] = 1;
    if (n_p2p == n_order)
        p2p[order[rng_below((uint32_t)n_order)]] = 0;
    struct proc_bg watch;
    watch_start(&watch, w.d[relay].dir, w.hub.port, w.d[relay].name);
    char relay_addr[32];
    snprintf(relay_addr, sizeof relay_addr, "127.0.0.1:%d", watch.port);

    struct held h[MAX_DEVICES + 1];
    int rounds = 0, converged = 0;
    while (!converged && rounds < 5) {
        rounds++;
        for (int i = n_order - 1; i > 0; i--) { /* a fresh order every round */
            int j = (int)rng_below((uint32_t)i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int k = 0; k < n_order; k++)
            sync_ok(&w, order[k], p2p[order[k]] ? relay_addr : w.hub_addr, 0);
        proc_expect_alive(&watch);
        /* The relay forwards live; give it a moment before looking. */
        for (long end = proc_now_ms() + 500; proc_now_ms() < end;) {
            held_by(w.hub_dir, &h[w.n]);
            converged = 1;
            for (int i = 0; i < w.n; i++) {
                held_by(w.d[i].dir, &h[i]);
                converged &= h[i].digest == h[w.n].digest && h[i].events == h[w.n].events &&
                             h[i].pending == 0;
            }
            if (converged)
                break;
            proc_sleep_ms(20);
        }
    }
    proc_bg_stop(&watch);
    sync_ok(&w, relay, w.hub_addr, 0);
    if (!converged)
        ww_test_fail(__FILE__, __LINE__, "not converged after %d rounds (relay %s)", rounds,
                     w.d[relay].name);
    ASSERT_LE(rounds, 3);
    held_by(w.hub_dir, &h[w.n]);
    for (int i = 0; i < w.n; i++) {
        held_by(w.d[i].dir, &h[i]);
        ASSERT_EQ(h[i].events, h[w.n].events);
        ASSERT(h[i].digest == h[w.n].digest);
        ASSERT_EQ(h[i].pending, 0);
        ASSERT_GT(h[i].keys, 0);
    }
    /* The hub holds every event, waits for none, and holds no key. */
    ASSERT_EQ(h[w.n].pending, 0);
    ASSERT_EQ(h[w.n].keys, 0);

    /* What each device shows. Reflections: the same events everywhere, each text readable
     * exactly by its audience. */
    static char first_ids[VIEW_MAX], ids_here[VIEW_MAX], members0[VIEW_MAX];
    static char signals_coach[VIEW_MAX], signoffs_coach[VIEW_MAX];
    size_t n_listed = 0;
    for (int i = 0; i < w.n; i++) {
        proc_run(&r, "--data", w.d[i].dir, "reflections", w.group, NULL);
        EXPECT_EXIT(r, 0);
        size_t n = listed_ids(r.out, i == 0 ? first_ids : ids_here, VIEW_MAX);
        if (i == 0) {
            n_listed = n;
            ASSERT_EQ(n, n_marks);
            for (size_t k = 1; k < n_marks; k++)
                EXPECT_HAS(first_ids, ids[k]);
            EXPECT_HAS(first_ids, r0);
        } else {
            ASSERT_EQ(n, n_listed);
            ASSERT_STR_EQ(ids_here, first_ids);
        }
        for (size_t k = 0; k < n_marks; k++) {
            const struct mark *m = &marks[k];
            int may = !strcmp(m->share, "groep") || m->author == i ||
                      (!strcmp(m->share, "coach") && i == COACH);
            if (may)
                EXPECT_HAS(r.out, m->text);
            else
                EXPECT_LACKS(r.out, m->text);
        }
        /* A private reflection of another shows as private, never as text. */
        size_t unreadable = 0;
        for (size_t k = 0; k < n_marks; k++) {
            const struct mark *m = &marks[k];
            unreadable += !(!strcmp(m->share, "groep") || m->author == i ||
                            (!strcmp(m->share, "coach") && i == COACH));
        }
        ASSERT_EQ(proc_count_text(r.out, "(privé)"), unreadable);

        proc_run(&r, "--data", w.d[i].dir, "members", w.group, NULL);
        EXPECT_EXIT(r, 0);
        for (int j = 0; j < w.n; j++)
            EXPECT_HAS(r.out, w.d[j].key);
        if (i == 0)
            snprintf(members0, sizeof members0, "%s", r.out);
        else
            ASSERT_STR_EQ(r.out, members0);

        proc_run(&r, "--data", w.d[i].dir, "reactions", w.group, r0, NULL);
        EXPECT_EXIT(r, 0);
        EXPECT_HAS(r.out, react_student);
        EXPECT_HAS(r.out, react_coach);

        /* Signals and sign-offs are the coach's and the member's concern alone. */
        proc_run(&r, "--data", w.d[i].dir, "signals", w.group, NULL);
        EXPECT_EXIT(r, 0);
        if (i == COACH) {
            EXPECT_HAS(r.out, sig0);
            EXPECT_HAS(r.out, sig0_text);
            EXPECT_HAS(r.out, sig1_text);
            EXPECT_HAS(r.out, "werkdruk  besproken");
            EXPECT_HAS(r.out, note);
            snprintf(signals_coach, sizeof signals_coach, "%s", r.out);
        } else if (i == senior) {
            ASSERT_STR_EQ(r.out, signals_coach);
        } else {
            EXPECT_LACKS(r.out, sig0_text);
            EXPECT_LACKS(r.out, sig1_text);
            EXPECT_LACKS(r.out, note);
        }
        proc_run(&r, "--data", w.d[i].dir, "signoffs", w.group, NULL);
        EXPECT_EXIT(r, 0);
        if (i == COACH) {
            EXPECT_HAS(r.out, "  W03  voldoende  ");
            EXPECT_HAS(r.out, note);
            snprintf(signoffs_coach, sizeof signoffs_coach, "%s", r.out);
        } else if (i == 1) {
            ASSERT_STR_EQ(r.out, signoffs_coach);
        } else {
            EXPECT_LACKS(r.out, note);
        }

        proc_run(&r, "--data", w.d[i].dir, "day", w.group, ahead, NULL);
        EXPECT_EXIT(r, 0);
        EXPECT_HAS(r.out, "Challenge W12");
        EXPECT_HAS(r.out, "Ingepland door de coach: ja");
    }

    /* The hub: the same events and members, not one readable text, in its views or its
     * files; not one name either: it shows each member by a placeholder from its id. */
    proc_bg_stop(&w.hub);
    proc_run(&r, "--data", w.hub_dir, "members", w.group, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(members0, COACH_ALIAS);
    EXPECT_LACKS(r.out, COACH_ALIAS);
    for (int j = 0; j < w.n; j++)
        EXPECT_HAS(r.out, w.d[j].key);
    for (int j = 1; j < w.n; j++) {
        char placeholder[16];
        snprintf(placeholder, sizeof placeholder, "lid %.4s\n", w.d[j].member);
        EXPECT_HAS(members0, w.d[j].name);
        EXPECT_HAS(r.out, w.d[j].member);
        EXPECT_HAS(r.out, placeholder);
        EXPECT_LACKS(r.out, w.d[j].name);
    }
    proc_run(&r, "--data", w.hub_dir, "reflections", w.group, NULL);
    if (r.exited && r.code == 0) {
        ASSERT_EQ(listed_ids(r.out, ids_here, VIEW_MAX), n_listed);
        ASSERT_STR_EQ(ids_here, first_ids);
        ASSERT_EQ(proc_count_text(r.out, "(privé)"), n_listed);
    } else {
        ASSERT(r.exited && r.code == 1);
    }
    char files[3][600];
    snprintf(files[0], sizeof files[0], "%s/wegwijs.db", w.hub_dir);
    snprintf(files[1], sizeof files[1], "%s/wegwijs.db-wal", w.hub_dir);
    snprintf(files[2], sizeof files[2], "%s/hub.err", ww_test_tmpdir());
    for (size_t k = 0; k < n_marks; k++) {
        EXPECT_LACKS(r.out, marks[k].text);
        for (int f = 0; f < 3; f++)
            if (fx_file_has(files[f], marks[k].text))
                ww_test_fail(__FILE__, __LINE__, "\"%s\" in the hub's %s", marks[k].text, files[f]);
    }
    const char *secrets[] = {sig0_text, sig1_text, note, react_student, react_coach};
    for (size_t k = 0; k < sizeof secrets / sizeof secrets[0]; k++)
        for (int f = 0; f < 2; f++)
            ASSERT(!fx_file_has(files[f], secrets[k]));
    for (int j = 0; j < w.n; j++)
        for (int f = 0; f < 2; f++)
            if (fx_file_has(files[f], j ? w.d[j].name : COACH_ALIAS))
                ww_test_fail(__FILE__, __LINE__, "the name \"%s\" in the hub's %s",
                             j ? w.d[j].name : COACH_ALIAS, files[f]);
    proc_run(&r, "--data", w.hub_dir, "signals", w.group, NULL);
    for (size_t k = 0; k < sizeof secrets / sizeof secrets[0]; k++)
        EXPECT_LACKS(r.out, secrets[k]);
}

#define N_MANY 270 /* more than one batch of 256 events */

/* Starts `sync ADDR --watch` for dir, its output in the test's folder. */
static void start_watch_plain(struct proc_bg *b, const char *dir, const char *addr,
                              const char *name)
{
    memset(b, 0, sizeof *b);
    b->fd = -1;
    proc_tmp_path(b->err_path, sizeof b->err_path, name);
    int e = open(b->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT(e >= 0);
    const char *argv[] = {"--data", dir, "sync", addr, "--watch", NULL};
    b->pid = proc_spawn(argv, e, e, -1);
    close(e);
}

/* kill -9 as soon as the store in dir holds more than `above` events (polled on one
 * read-only connection), or when the deadline passes. */
static void kill_when_above(struct proc_bg *b, const char *dir, long above)
{
    char path[600];
    snprintf(path, sizeof path, "%s/wegwijs.db", dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT count(*) FROM events WHERE kind<>21", -1, &st, NULL) !=
            SQLITE_OK)
        ww_test_fail(__FILE__, __LINE__, "open %s: %s", path, db ? sqlite3_errmsg(db) : "");
    sqlite3_busy_timeout(db, 1000);
    long end = proc_now_ms() + PROC_START_MS;
    for (;;) {
        long n = -1;
        if (sqlite3_step(st) == SQLITE_ROW)
            n = (long)sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (n > above || proc_now_ms() > end || waitpid(b->pid, NULL, WNOHANG) != 0)
            break;
    }
    proc_bg_kill(b);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* The store's event count once it stopped changing for 200 ms (at most PROC_START_MS). */
static long settled_events(const char *dir)
{
    long end = proc_now_ms() + PROC_START_MS, last = events_in(dir), since = proc_now_ms();
    while (proc_now_ms() < end && proc_now_ms() - since < 200) {
        proc_sleep_ms(10);
        long n = events_in(dir);
        if (n != last) {
            last = n;
            since = proc_now_ms();
        }
    }
    return last;
}

TEST(hub_interrupted_sync_resumes)
{
    static const char *const roles[1] = {"student"};
    rng_state = ww_test_seed() ^ 0x6875625f6b696c6cu;
    struct world w;
    struct proc_run r;
    char start[16];
    date_at(-(N_MANY + 20), start);
    world_make(&w, roles, 1, start);
    sync_ok(&w, COACH, w.hub_addr, 0);
    sync_ok(&w, 1, w.hub_addr, 1);
    sync_ok(&w, COACH, w.hub_addr, 0);

    /* The student writes many long reflections offline. */
    char field[301];
    memset(field, 'x', 300);
    field[300] = '\0';
    for (int k = 0; k < N_MANY; k++) {
        char d[16], text[64];
        date_at(-(N_MANY + 2) + k, d);
        snprintf(text, sizeof text, "lang-%03d-", k);
        memcpy(field, text, strlen(text));
        proc_run(&r, "--data", w.d[1].dir, "reflect", w.group, "--status",
                 k % 3 ? "gedaan" : "deels", "--date", d, "--share", k % 2 ? "coach" : "groep",
                 "--situatie", field, "--taak", field, "--actie", field, "--resultaat", field,
                 NULL);
        EXPECT_EXIT(r, 0);
    }
    long base_hub = events_in(w.hub_dir), total = events_in(w.d[1].dir);
    ASSERT_GE(total - base_hub, N_MANY);

    /* Upload, killed with kill -9 as soon as the hub took a first batch; what was already
     * on the wire may still land. Then a plain sync finishes it. */
    struct proc_bg up;
    start_watch_plain(&up, w.d[1].dir, w.hub_addr, "student.up.err");
    kill_when_above(&up, w.hub_dir, base_hub);
    long hub_after_kill = settled_events(w.hub_dir);
    ASSERT_GT(hub_after_kill, base_hub);
    ASSERT_LE(hub_after_kill, total);
    sync_ok(&w, 1, w.hub_addr, 0);
    struct held hs, hc, hh;
    held_by(w.d[1].dir, &hs);
    held_by(w.hub_dir, &hh);
    ASSERT_EQ(hs.events, total);
    ASSERT_EQ(hh.events, total);
    ASSERT(hh.digest == hs.digest);

    /* Download by the coach, killed the same way once its store took a first batch. */
    long base_coach = events_in(w.d[COACH].dir);
    struct proc_bg down;
    start_watch_plain(&down, w.d[COACH].dir, w.hub_addr, "coach.down.err");
    kill_when_above(&down, w.d[COACH].dir, base_coach);
    long coach_after_kill = events_in(w.d[COACH].dir);
    ASSERT_GT(coach_after_kill, base_coach);
    ASSERT_LE(coach_after_kill, total);
    fprintf(stderr,
            "# interrupted: the hub held %ld of %ld new events after the upload was killed, the "
            "coach %ld of %ld after the download was\n",
            hub_after_kill - base_hub, total - base_hub, coach_after_kill - base_coach,
            total - base_coach);

    /* Plain syncs pick up where they stopped; once more changes nothing. */
    sync_ok(&w, COACH, w.hub_addr, 0);
    sync_ok(&w, COACH, w.hub_addr, 0);
    EXPECT_HAS(proc_last_out(), "0 verstuurd, 0 ontvangen");
    sync_ok(&w, 1, w.hub_addr, 0);
    EXPECT_HAS(proc_last_out(), "0 verstuurd, 0 ontvangen");
    held_by(w.d[1].dir, &hs);
    held_by(w.d[COACH].dir, &hc);
    held_by(w.hub_dir, &hh);
    ASSERT_EQ(hs.events, total);
    ASSERT_EQ(hc.events, total);
    ASSERT_EQ(hh.events, total);
    ASSERT(hc.digest == hs.digest && hh.digest == hs.digest);
    ASSERT_EQ(hc.pending + hs.pending + hh.pending, 0);

    /* Exactly the student's reflections on the coach: none lost, none twice. */
    static char ids_s[VIEW_MAX], ids_c[VIEW_MAX];
    proc_run(&r, "--data", w.d[1].dir, "reflections", w.group, NULL);
    EXPECT_EXIT(r, 0);
    ASSERT_EQ(listed_ids(r.out, ids_s, VIEW_MAX), N_MANY);
    proc_run(&r, "--data", w.d[COACH].dir, "reflections", w.group, NULL);
    EXPECT_EXIT(r, 0);
    ASSERT_EQ(listed_ids(r.out, ids_c, VIEW_MAX), N_MANY);
    ASSERT_STR_EQ(ids_c, ids_s);
    ASSERT_EQ(proc_count_text(r.out, "lang-"), 4 * N_MANY);
    ASSERT_EQ(proc_count_text(r.out, "lang-000-"), 4); /* one reflection, its four fields */
    ASSERT_EQ(proc_count_text(r.out, "(privé)"), 0);
    for (const char *q = ids_s; *q; q += 65) /* sorted: a repeat would sit next to itself */
        if (q[65] && !memcmp(q, q + 65, 64))
            ww_test_fail(__FILE__, __LINE__, "listed twice: %.64s", q);
    proc_bg_stop(&w.hub);
}

TEST(hub_removed_member_gets_nothing_new)
{
    static const char *const roles[2] = {"student", "student"};
    struct world w;
    struct proc_run r;
    char start[16], ahead[16], d[16], before[65], id[65];
    date_at(-14, start);
    date_at(2, ahead);
    date_at(-3, d);
    world_make(&w, roles, 2, start);
    sync_ok(&w, COACH, w.hub_addr, 0);
    sync_ok(&w, 1, w.hub_addr, 1);
    sync_ok(&w, 2, w.hub_addr, 1);
    reflect(&w, 1, d, "groep", "voor-de-verwijdering", before);
    sync_ok(&w, 1, w.hub_addr, 0);
    sync_ok(&w, 2, w.hub_addr, 0);
    sync_ok(&w, COACH, w.hub_addr, 0);

    /* The coach removes student 1, then schedules, defines and reacts. */
    proc_run(&r, "--data", w.d[COACH].dir, "member", "remove", w.group, w.d[1].member, NULL);
    EXPECT_EXIT(r, 0);
    proc_run(&r, "--data", w.d[COACH].dir, "challenge", "schedule", w.group, ahead, "W12", NULL);
    EXPECT_EXIT(r, 0);
    proc_run(&r, "--data", w.d[COACH].dir, "challenge", "define", w.group, "--code", "EIGEN1",
             "--title", "Na-de-verwijdering", "--description", "Alleen voor wie er nog is",
             "--canmeds", "2", "--weeks", "1-52", NULL);
    EXPECT_EXIT(r, 0);
    proc_run(&r, "--data", w.d[COACH].dir, "react", w.group, before, "reactie-na-verwijdering",
             NULL);
    EXPECT_EXIT(r, 0);
    sync_ok(&w, COACH, w.hub_addr, 0);
    sync_ok(&w, 2, w.hub_addr, 0);
    proc_run(&r, "--data", w.d[2].dir, "day", w.group, ahead, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "Ingepland door de coach: ja");
    reflect(&w, 2, d, "groep", "na-de-verwijdering-van-2", id);

    /* The removed student writes on, then tries the hub, with and without --group. */
    reflect(&w, 1, ahead, "groep", "geschreven-na-verwijdering", id);
    long held_before = events_in(w.d[1].dir), hub_before = events_in(w.hub_dir);
    const char *const first[2] = {NULL, "--group"};
    for (int k = 0; k < 2; k++) {
        proc_run(&r, "--data", w.d[1].dir, "sync", w.hub_addr, first[k], w.group, NULL);
        if (!r.exited || r.code == 0)
            ww_test_fail(__FILE__, __LINE__, "a removed member's sync: exit %d (%s); stdout: %s",
                         r.code, r.exited ? "exited" : "signal", r.out);
        ASSERT_EQ(r.code, 4); /* not allowed: no longer a member */
        EXPECT_HAS(r.err, "wegwijs: ");
        EXPECT_HAS(r.err, w.hub_addr);
        EXPECT_LACKS(r.out, "gesynchroniseerd");
        ASSERT_EQ(events_in(w.d[1].dir), held_before);
        ASSERT_EQ(events_in(w.hub_dir), hub_before);
    }

    /* Nor through a remaining member's device. */
    struct proc_bg watch;
    watch_start(&watch, w.d[2].dir, w.hub.port, "student2");
    char peer[32];
    snprintf(peer, sizeof peer, "127.0.0.1:%d", watch.port);
    proc_run(&r, "--data", w.d[1].dir, "sync", peer, NULL);
    EXPECT_EXIT(r, 4); /* not allowed */
    ASSERT_EQ(events_in(w.d[1].dir), held_before);
    for (long end = proc_now_ms() + PROC_START_MS;
         events_in(w.hub_dir) == hub_before && proc_now_ms() < end;)
        proc_sleep_ms(5);
    proc_expect_alive(&watch);
    proc_bg_stop(&watch);
    ASSERT_EQ(settled_events(w.hub_dir), hub_before + 1); /* student 2's, through its relay */

    /* Nothing written after the removal shows on the removed device. */
    proc_run(&r, "--data", w.d[1].dir, "day", w.group, ahead, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_LACKS(r.out, "Ingepland door de coach: ja");
    proc_run(&r, "--data", w.d[1].dir, "reactions", w.group, before, NULL);
    EXPECT_LACKS(r.out, "reactie-na-verwijdering");
    proc_run(&r, "--data", w.d[1].dir, "reflections", w.group, NULL);
    EXPECT_LACKS(r.out, "na-de-verwijdering-van-2");
    proc_run(&r, "--data", w.d[1].dir, "library", NULL);
    EXPECT_LACKS(r.out, "Na-de-verwijdering");
    /* The remaining members never see what the removed one wrote afterwards. */
    proc_run(&r, "--data", w.d[COACH].dir, "sync", w.hub_addr, NULL);
    EXPECT_EXIT(r, 0);
    proc_run(&r, "--data", w.d[COACH].dir, "reflections", w.group, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_LACKS(r.out, "geschreven-na-verwijdering");
    EXPECT_HAS(r.out, "na-de-verwijdering-van-2");
    proc_bg_stop(&w.hub);
}

/* Connects to 127.0.0.1:port, sends len bytes, and waits (bounded) for the other side to
 * close; 1 when it closed, 0 when it still held the connection at the deadline. */
static int send_garbage(int port, const uint8_t *p, size_t len, long ms)
{
    struct sockaddr_in a;
    int s = proc_loopback_socket(port, &a);
    ASSERT_EQ(connect(s, (struct sockaddr *)&a, sizeof a), 0);
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(s, p + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* it closed while we were still sending */
        off += (size_t)n;
    }
    long end = proc_now_ms() + ms;
    int closed = 0;
    while (!closed && proc_now_ms() < end) {
        struct pollfd pf = {s, POLLIN, 0};
        int rc = poll(&pf, 1, (int)(end - proc_now_ms() > 0 ? end - proc_now_ms() : 0));
        if (rc <= 0)
            continue;
        uint8_t buf[4096];
        ssize_t n = recv(s, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
            closed = 1;
    }
    close(s);
    return closed;
}

TEST(hub_bad_input)
{
    static const char *const roles[1] = {"student"};
    rng_state = ww_test_seed() ^ 0x6875625f62616421u;
    struct world w;
    struct proc_run r;
    char start[16];
    date_at(-14, start);
    world_make(&w, roles, 1, start);
    sync_ok(&w, COACH, w.hub_addr, 0);
    /* The same with --json (docs/JSON.md). */
    proc_run(&r, "--data", w.d[COACH].dir, "sync", w.hub_addr, "--json", NULL);
    EXPECT_EXIT(r, 0);
    json_t *doc = proc_json(r.out, "sync", __LINE__);
    ASSERT_STR_EQ(proc_json_str(doc, "address", __LINE__), w.hub_addr);
    ASSERT_GE(proc_json_int(doc, "sent", __LINE__), 0);
    ASSERT_GE(proc_json_int(doc, "received", __LINE__), 0);
    ASSERT_GT(proc_json_int(doc, "bytes", __LINE__), 0);
    json_decref(doc);

    /* Nobody listens: a clear error, quickly. */
    char closed[32];
    snprintf(closed, sizeof closed, "127.0.0.1:%d", proc_free_port());
    proc_run(&r, "--data", w.d[COACH].dir, "sync", closed, NULL);
    EXPECT_EXIT(r, 7); /* a network failure */
    ASSERT_EQ(strncmp(r.err, "wegwijs: ", 9), 0);
    EXPECT_HAS(r.err, closed);
    EXPECT_HAS(r.err, "mislukt");
    ASSERT_LT(r.ms, 5000);
    EXPECT_LACKS(r.out, "gesynchroniseerd");

    /* Addresses that are no address: usage errors, before any network. */
    const char *bad[] = {"127.0.0.1:notaport", "127.0.0.1:", "127.0.0.1:70000",
                         "localhost",          ":7420",      "127.0.0.1:-5"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        proc_run(&r, "--data", w.d[COACH].dir, "sync", bad[k], NULL);
        EXPECT_EXIT(r, 3); /* invalid input */
        EXPECT_HAS(r.err, "ongeldig adres");
    }
    proc_run(&r, "--data", w.d[COACH].dir, "sync", w.hub_addr, "--listen", "127.0.0.1:0", NULL);
    EXPECT_EXIT(r, 2); /* --listen needs --watch */
    proc_run(&r, "--data", w.d[COACH].dir, "sync", w.hub_addr, "--group", "xyz", NULL);
    EXPECT_EXIT(r, 3);

    /* Garbage on the hub's port: that connection closes, the hub serves on. A silent
     * connection stays open meanwhile and does not hold the others up. */
    struct sockaddr_in a;
    int idle = proc_loopback_socket(w.hub.port, &a);
    ASSERT_EQ(connect(idle, (struct sockaddr *)&a, sizeof a), 0);

    static uint8_t junk[64 * 1024];
    for (size_t k = 0; k < sizeof junk; k++)
        junk[k] = (uint8_t)rng_next();
    const uint8_t huge_len[8] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    const uint8_t zeros[64] = {0};
    const char http[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    struct {
        const uint8_t *p;
        size_t len;
    } inputs[] = {{junk, 4096},
                  {junk, sizeof junk},
                  {huge_len, sizeof huge_len},
                  {zeros, sizeof zeros},
                  {(const uint8_t *)http, sizeof http - 1}};
    for (size_t k = 0; k < sizeof inputs / sizeof inputs[0]; k++) {
        if (!send_garbage(w.hub.port, inputs[k].p, inputs[k].len, 3000)) {
            /* A peer that sends part of a record and waits is closed by the handshake
             * timer instead; what matters is that the hub serves on. */
            fprintf(stderr, "# garbage input %zu (%zu bytes) was not closed within 3 s\n", k,
                    inputs[k].len);
        }
        proc_expect_alive(&w.hub);
        sync_ok(&w, 1, w.hub_addr, 1);
    }
    close(idle);
    sync_ok(&w, COACH, w.hub_addr, 0);
    proc_expect_alive(&w.hub);
    char err[PROC_ERR_MAX + 1];
    proc_slurp(w.hub.err_path, err, PROC_ERR_MAX);
    EXPECT_HAS(err, "error=");
    proc_bg_stop(&w.hub);
}

/* The resident memory of a process, in KiB (VmRSS), or -1. */
static long rss_kib(pid_t pid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    proc_slurp(path, buf, sizeof buf - 1);
    const char *at = strstr(buf, "VmRSS:");
    return at ? strtol(at + 6, NULL, 10) : -1;
}

#define N_SLOW    12000      /* reflections of ~1.8 KB: about 22 MB for the slow reader */
#define SLOW_GROW (4 * 1024) /* KiB the hub may grow while it waits on the slow reader */

/* A reader that stops reading (SIGSTOP) in the middle of a large download: the hub holds
 * back (its memory stays bounded, far below what the reader still lacks), another member
 * syncs meanwhile, and once the reader resumes it gets everything. */
TEST(hub_slow_reader_is_held_back_and_others_keep_syncing)
{
    /* Freed memory is not parked in the sanitizer's quarantine, so that the hub's resident
     * size shows what it holds (no effect without the sanitizer). */
    const char *old = getenv("ASAN_OPTIONS");
    char saved[512] = "", opts[600];
    if (old)
        snprintf(saved, sizeof saved, "%s", old);
    snprintf(opts, sizeof opts, "%s%squarantine_size_mb=0", saved, *saved ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);

    static const char *const roles[2] = {"student", "student"};
    struct world w;
    char start[16];
    date_at(-30, start);
    world_make(&w, roles, 2, start);
    sync_ok(&w, COACH, w.hub_addr, 0);
    sync_ok(&w, 1, w.hub_addr, 1);
    sync_ok(&w, 2, w.hub_addr, 1);
    sync_ok(&w, COACH, w.hub_addr, 0);

    /* Student 1 writes many long reflections (through the library: one process). */
    uint8_t gid[WW_ID_LEN];
    ASSERT_OK(ww_unhex(w.group, gid, WW_ID_LEN));
    struct ww_store *s = NULL;
    ASSERT_OK(ww_store_open(w.d[1].dir, NULL, &s));
    uint32_t today;
    ASSERT_OK(ww_day_today(s, gid, &today));
    char f400[401], f300[301];
    memset(f400, 'x', 400);
    memset(f300, 'y', 300);
    f400[400] = f300[300] = '\0';
    struct ww_reflection refl;
    memset(&refl, 0, sizeof refl);
    refl.date = today;
    refl.status = 1;
    refl.share = 3;
    refl.situatie = refl.actie = refl.reflectie = f400;
    refl.taak = refl.resultaat = f300;
    ASSERT_OK(ww_store_begin(s));
    for (int k = 0; k < N_SLOW; k++) {
        f400[0] = (char)('a' + k % 26);
        ASSERT_OK(ww_reflection_put(s, gid, &refl, NULL));
    }
    ASSERT_OK(ww_store_commit(s));
    ww_store_close(s);

    /* The group does not name the hub: beyond its probation the hub refuses it, and the
     * student hears so (an ERROR, not a reset, though it was still sending). */
    struct proc_run r;
    proc_run(&r, "--data", w.d[1].dir, "sync", w.hub_addr, NULL);
    EXPECT_EXIT(r, 4);
    EXPECT_HAS(r.err, "synchroniseert deze groep niet");
    ASSERT_LE(events_in(w.hub_dir), WW_HUB_PROBATION);
    /* The coach names the hub; then the upload goes through. */
    char hub_key[65];
    proc_run(&r, "--data", w.hub_dir, "id", NULL);
    EXPECT_EXIT(r, 0);
    proc_first_line(r.out, hub_key, sizeof hub_key);
    uint8_t hub_pk[WW_KEY_LEN];
    ASSERT_OK(ww_unhex(hub_key, hub_pk, WW_KEY_LEN));
    ASSERT_OK(ww_store_open(w.d[COACH].dir, NULL, &s));
    ASSERT_OK(ww_group_hub_set(s, gid, hub_pk, w.hub_addr, NULL));
    ww_store_close(s);
    sync_ok(&w, COACH, w.hub_addr, 0);
    sync_ok(&w, 1, w.hub_addr, 0);
    long total = events_in(w.hub_dir), base = events_in(w.d[COACH].dir);
    ASSERT_EQ(total, events_in(w.d[1].dir));
    ASSERT_GE(total - base, N_SLOW - WW_HUB_PROBATION);

    /* The coach starts downloading and stops reading after its first batch. */
    long hub_before = rss_kib(w.hub.pid);
    struct proc_bg slow;
    start_watch_plain(&slow, w.d[COACH].dir, w.hub_addr, "coach.slow.err");
    long end = proc_now_ms() + PROC_START_MS;
    while (events_in(w.d[COACH].dir) <= base && proc_now_ms() < end)
        proc_sleep_ms(2);
    ASSERT_EQ(kill(slow.pid, SIGSTOP), 0);
    proc_sleep_ms(1500); /* the hub fills the socket and whatever it would buffer */
    long stopped_at = events_in(w.d[COACH].dir);
    long hub_during = rss_kib(w.hub.pid);
    ASSERT_LT(stopped_at, total - N_SLOW / 3); /* most of it is still to come */

    /* Meanwhile student 2 writes and syncs with the hub, promptly. */
    char d[16], id[65];
    date_at(0, d);
    long t0 = proc_now_ms();
    reflect(&w, 2, d, "groep", "tijdens de trage lezer", id);
    sync_ok(&w, 2, w.hub_addr, 0);
    long took = proc_now_ms() - t0;
    proc_expect_alive(&w.hub);
    fprintf(stderr,
            "# slow reader: the hub grew %ld KiB while the reader lacked %ld events (~%ld KiB); "
            "another member's sync took %ld ms\n",
            hub_during - hub_before, total - stopped_at, (total - stopped_at) * 2, took);
    ASSERT_LT(hub_during - hub_before, SLOW_GROW);
    ASSERT_LT(took, 10000);

    /* The reader resumes and gets everything, the other member's reflection included. */
    ASSERT_EQ(kill(slow.pid, SIGCONT), 0);
    end = proc_now_ms() + 4 * PROC_START_MS;
    while (events_in(w.d[COACH].dir) < total + 1 && proc_now_ms() < end)
        proc_sleep_ms(20);
    struct held hc, hh;
    held_by(w.d[COACH].dir, &hc);
    held_by(w.hub_dir, &hh);
    ASSERT_EQ(hh.events, total + 1);
    ASSERT_EQ(hc.events, total + 1);
    ASSERT(hc.digest == hh.digest);
    proc_bg_stop(&slow);
    proc_bg_stop(&w.hub);
    if (old)
        setenv("ASAN_OPTIONS", saved, 1);
    else
        unsetenv("ASAN_OPTIONS");
}

/* A new student joins by invite, the way the README says: the coach names the hub and makes
 * an invite; the new device, from nothing but the code, redeems it at the hub and waits;
 * the coach's device admits it the next time it syncs; the student then sees today's
 * challenge. The same code again is refused, and so is an invite for a fifth student. */
/* Starts `join CODE [--alias ALIAS]` for dir in the background and returns once it says it
 * waits for the coach's device; its output goes to NAME.out and NAME.err in the test's
 * folder (the paths in out_path and err_path, 512 bytes each). */
static pid_t join_start(const char *dir, const char *code, const char *alias, const char *name,
                        char *out_path, char *err_path)
{
    char o_name[64], e_name[64];
    snprintf(o_name, sizeof o_name, "%s.out", name);
    snprintf(e_name, sizeof e_name, "%s.err", name);
    proc_tmp_path(out_path, 512, o_name);
    proc_tmp_path(err_path, 512, e_name);
    int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT(o >= 0 && e >= 0);
    const char *with[] = {"--data", dir, "join", code, "--alias", alias, NULL};
    const char *without[] = {"--data", dir, "join", code, NULL};
    pid_t pid = proc_spawn(alias ? with : without, o, e, -1);
    close(o);
    close(e);
    char out[4096];
    long end = proc_now_ms() + PROC_START_MS;
    for (proc_slurp(out_path, out, sizeof out - 1); !strstr(out, "wacht") && proc_now_ms() < end;
         proc_slurp(out_path, out, sizeof out - 1))
        proc_sleep_ms(5);
    EXPECT_HAS(out, "wacht");
    return pid;
}

/* Waits for a join started by join_start to end well, once the coach's device admitted it;
 * its stdout in out (4096 bytes). */
static void join_done(pid_t pid, const char *out_path, const char *err_path, char *out)
{
    int status = 0;
    ASSERT_EQ(proc_wait_bounded(pid, 2 * PROC_START_MS, &status), 0);
    char err[PROC_ERR_MAX + 1];
    proc_slurp(err_path, err, PROC_ERR_MAX);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        ww_test_fail(__FILE__, __LINE__, "join: status 0x%x: %s", (unsigned)status, err);
    proc_slurp(out_path, out, 4095);
}

/* The coach names the world's hub, and syncs it there. */
static void name_the_hub(struct world *w)
{
    struct proc_run r;
    char hub_key[65];
    proc_run(&r, "--data", w->hub_dir, "id", NULL);
    EXPECT_EXIT(r, 0);
    proc_first_line(r.out, hub_key, sizeof hub_key);
    proc_run(&r, "--data", w->d[COACH].dir, "group", "hub", w->group, hub_key, w->hub_addr, NULL);
    EXPECT_EXIT(r, 0);
    sync_ok(w, COACH, w->hub_addr, 0);
}

TEST(hub_join_by_invite)
{
    static const char *const roles[3] = {"student", "student", "senior"};
    struct world w;
    struct proc_run r;
    char start[16];
    date_at(-3, start);
    world_make(&w, roles, 3, start);
    name_the_hub(&w);
    proc_run(&r, "--data", w.d[COACH].dir, "invite", w.group, "--role", "student", NULL);
    EXPECT_EXIT(r, 0);
    char code[WW_INVITE_CODE_MAX];
    proc_first_line(r.out, code, sizeof code);
    EXPECT_HAS(code, w.hub_addr);

    /* The new device joins; it waits for the coach's device. */
    char dir[512], out_path[512], err_path[512], out[4096];
    proc_tmp_path(dir, sizeof dir, "nieuw");
    pid_t pid = join_start(dir, code, "Jij de Nieuwe", "join", out_path, err_path);

    /* The coach syncs: its device admits the new one, which then syncs and ends. */
    sync_ok(&w, COACH, w.hub_addr, 0);
    join_done(pid, out_path, err_path, out);
    EXPECT_HAS(out, w.group);
    proc_run(&r, "--data", dir, "today", w.group, NULL);
    EXPECT_EXIT(r, 0);
    proc_run(&r, "--data", w.d[COACH].dir, "members", w.group, NULL);
    EXPECT_HAS(r.out, "Jij de Nieuwe");
    /* The new device shows everyone by name. */
    proc_run(&r, "--data", dir, "members", w.group, NULL);
    EXPECT_HAS(r.out, COACH_ALIAS);
    EXPECT_HAS(r.out, "Jij de Nieuwe");
    for (int i = 1; i < w.n; i++)
        EXPECT_HAS(r.out, w.d[i].name);

    /* The same code again: refused, with why. */
    char dir2[512];
    proc_tmp_path(dir2, sizeof dir2, "nog-een");
    proc_run(&r, "--data", dir2, "join", code, "--alias", "Nog een", NULL);
    EXPECT_EXIT(r, 6);
    /* A fourth student may still be invited; a fifth not. */
    proc_run(&r, "--data", w.d[COACH].dir, "invite", w.group, NULL);
    EXPECT_EXIT(r, 0);
    proc_run(&r, "--data", w.d[COACH].dir, "invite", w.group, NULL);
    EXPECT_EXIT(r, 6);
    /* A mistyped code is refused before anything is dialled. */
    proc_run(&r, "--data", dir2, "join", "127.0.0.1:1/ABCD-EFGH", "--alias", "X", NULL);
    EXPECT_EXIT(r, 3);
    proc_bg_stop(&w.hub);
    /* The hub relayed the redemption and the member.add without the name ever reaching its
     * files: the redemption carried it sealed for the coach's device. */
    char files[2][600];
    snprintf(files[0], sizeof files[0], "%s/wegwijs.db", w.hub_dir);
    snprintf(files[1], sizeof files[1], "%s/wegwijs.db-wal", w.hub_dir);
    for (int f = 0; f < 2; f++)
        ASSERT(!fx_file_has(files[f], "Jij de Nieuwe"));
}

/* A student's phone invites the student's school PC: the PC joins with the code alone, the
 * coach's device admits it at its next sync without a question, and once the phone synced
 * the PC reads the student's private reflection, which the coach's device still cannot. The
 * code works once; a member's name does not go with it; the PC may invite a third device;
 * the coach's invites show it used, the members list the student's two devices. */
TEST(hub_second_device_by_invite)
{
    static const char *const roles[1] = {"student"};
    struct world w;
    struct proc_run r;
    char start[16], today[16], id[65];
    date_at(-3, start);
    date_at(0, today);
    world_make(&w, roles, 1, start);
    name_the_hub(&w);
    sync_ok(&w, 1, w.hub_addr, 1);
    reflect(&w, 1, today, "ik", "alleen voor mijzelf", id);
    proc_run(&r, "--data", w.d[1].dir, "invite", w.group, "--device", "--no-qr", NULL);
    EXPECT_EXIT(r, 0);
    char code[WW_INVITE_CODE_MAX];
    proc_first_line(r.out, code, sizeof code);
    EXPECT_HAS(r.out, "wegwijs join");

    char pc[512], out_path[512], err_path[512], out[4096];
    proc_tmp_path(pc, sizeof pc, "school-pc");
    proc_run(&r, "--data", pc, "join", code, "--alias", "Iemand", NULL);
    EXPECT_EXIT(r, 2); /* the member has a name already */
    pid_t pid = join_start(pc, code, NULL, "pc", out_path, err_path);
    sync_ok(&w, COACH, w.hub_addr, 0);
    join_done(pid, out_path, err_path, out);
    EXPECT_HAS(out, w.group);

    /* The phone syncs (it sends the PC the key of its private texts), then the PC. */
    sync_ok(&w, 1, w.hub_addr, 0);
    proc_run(&r, "--data", pc, "sync", NULL);
    EXPECT_EXIT(r, 0);
    proc_run(&r, "--data", pc, "reflections", w.group, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "alleen voor mijzelf");
    sync_ok(&w, COACH, w.hub_addr, 0);
    proc_run(&r, "--data", w.d[COACH].dir, "reflections", w.group, NULL);
    EXPECT_EXIT(r, 0);
    ASSERT(!strstr(r.out, "alleen voor mijzelf"));
    EXPECT_HAS(r.out, id);
    proc_run(&r, "--data", w.d[COACH].dir, "--json", "members", w.group, NULL);
    EXPECT_EXIT(r, 0);
    char want[128];
    snprintf(want, sizeof want, "\"%s\"", w.d[1].key);
    EXPECT_HAS(r.out, want);
    ASSERT_EQ(proc_count_text(r.out, "\"devices\""), 2); /* the coach and the student */
    proc_run(&r, "--data", w.d[COACH].dir, "invites", w.group, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "apparaat  gebruikt");

    /* The code once only; the PC, vouched for, may invite a third device. */
    char third[512];
    proc_tmp_path(third, sizeof third, "derde");
    proc_run(&r, "--data", third, "join", code, NULL);
    EXPECT_EXIT(r, 6);
    proc_run(&r, "--data", pc, "invite", w.group, "--device", "--no-qr", NULL);
    EXPECT_EXIT(r, 0);
    proc_run(&r, "--data", pc, "invite", w.group, "--device", "--role", "student", NULL);
    EXPECT_EXIT(r, 2);
    proc_bg_stop(&w.hub);
}

/* Starts `sync --watch --listen 127.0.0.1:0 --discover` for dir, beacons to beacon_to, and
 * returns the UDP port it takes beacons on (from its stderr). */
static int discover_start(struct proc_bg *b, const char *dir, const char *beacon_to,
                          const char *name)
{
    memset(b, 0, sizeof *b);
    b->fd = -1;
    proc_tmp_path(b->err_path, sizeof b->err_path, name);
    int e = open(b->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT(e >= 0);
    const char *argv[] = {"--data",   dir,           "sync",        "--watch",
                          "--listen", "127.0.0.1:0", "--discover",  "--beacon-to",
                          beacon_to,  "--beacon-on", "127.0.0.1:0", NULL};
    b->pid = proc_spawn(argv, e, e, -1);
    close(e);
    char err[PROC_ERR_MAX + 1];
    for (long end = proc_now_ms() + PROC_START_MS; proc_now_ms() < end; proc_sleep_ms(5)) {
        proc_slurp(b->err_path, err, PROC_ERR_MAX);
        const char *at = strstr(err, "from port ");
        if (at)
            return (int)strtol(at + 10, NULL, 10);
        proc_expect_alive(b);
    }
    ww_test_fail(__FILE__, __LINE__, "no beacon port: %s", err);
    return 0;
}

/* No hub and no address: two devices of a group on one network find each other by their
 * beacons and sync. */
TEST(hub_devices_find_each_other_without_a_hub)
{
    static const char *const roles[1] = {"student"};
    struct world w;
    struct proc_run r;
    char start[16], d[16];
    date_at(-3, start);
    world_make(&w, roles, 1, start);
    sync_ok(&w, COACH, w.hub_addr, 0);
    sync_ok(&w, 1, w.hub_addr, 1);
    proc_bg_stop(&w.hub); /* out of reach from now on */
    date_at(1, d);
    proc_run(&r, "--data", w.d[COACH].dir, "challenge", "schedule", w.group, d, "L02", NULL);
    EXPECT_EXIT(r, 0);
    long before = events_in(w.d[1].dir);

    /* The student's device listens for beacons; the coach's sends them there. */
    struct proc_bg s, c;
    int port = discover_start(&s, w.d[1].dir, "127.0.0.1:9", "student.disc.err");
    char to[32];
    snprintf(to, sizeof to, "127.0.0.1:%d", port);
    discover_start(&c, w.d[COACH].dir, to, "coach.disc.err");
    long end = proc_now_ms() + 3 * PROC_START_MS;
    while (events_in(w.d[1].dir) == before && proc_now_ms() < end)
        proc_sleep_ms(20);
    ASSERT_GT(events_in(w.d[1].dir), before);
    proc_run(&r, "--data", w.d[1].dir, "day", w.group, d, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "L02");
    proc_bg_stop(&c);
    proc_bg_stop(&s);
}

/* A device that stays connected (`sync --watch`) sends at once what another process wrote to
 * its data folder meanwhile: the coach schedules a challenge in another terminal, and the
 * student's connected device has it within seconds, with nobody syncing by hand. */
TEST(hub_watch_sends_what_another_process_wrote)
{
    static const char *const roles[1] = {"student"};
    struct world w;
    struct proc_run r;
    char start[16], d[16];
    date_at(-3, start);
    world_make(&w, roles, 1, start);
    sync_ok(&w, COACH, w.hub_addr, 0);
    sync_ok(&w, 1, w.hub_addr, 1);
    struct proc_bg coach, student;
    start_watch_plain(&coach, w.d[COACH].dir, w.hub_addr, "coach.watch.err");
    start_watch_plain(&student, w.d[1].dir, w.hub_addr, "student.watch.err");
    proc_sleep_ms(300); /* both connected and caught up */
    long before = events_in(w.d[1].dir);
    date_at(2, d);
    proc_run(&r, "--data", w.d[COACH].dir, "challenge", "schedule", w.group, d, "L02", NULL);
    EXPECT_EXIT(r, 0);
    long end = proc_now_ms() + PROC_START_MS;
    while (events_in(w.d[1].dir) == before && proc_now_ms() < end)
        proc_sleep_ms(20);
    ASSERT_GT(events_in(w.d[1].dir), before);
    proc_expect_alive(&coach);
    proc_expect_alive(&student);
    proc_bg_stop(&coach);
    proc_bg_stop(&student);
    proc_bg_stop(&w.hub);
}
