/*
 * test_attack.c - attacks on a running hub that take more than bytes on its port: each
 * asserts what happens to the attacker and that the hub's other connections keep working,
 * within a bound the test states.
 *
 * The hub runs in this process on a libuv loop (127.0.0.1, ephemeral port); an attacker
 * that must stop at will is a child process with its own loop, stopped with SIGSTOP.
 */
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "runner.h"
#include "store.h"
#include "wegwijs_sync.h"

/* A node of the test and what happened to its connections. */
struct peer {
    struct ww_node *node;
    int up, down, last_error;
};

static void peer_conn_cb(void *ud, const struct ww_conn_info *info)
{
    struct peer *p = ud;
    if (info->event == WW_CONN_UP)
        p->up++;
    else if (info->event == WW_CONN_DOWN) {
        p->down++;
        p->last_error = info->error;
    }
}

/* A node; a hub when max_conns > 0 (at most that many connections). */
static void peer_start(struct peer *p, uv_loop_t *loop, struct ww_store *s, uint32_t max_conns)
{
    memset(p, 0, sizeof *p);
    struct ww_node_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = s;
    cfg.hub = max_conns > 0;
    cfg.accept_new_groups = cfg.hub;
    cfg.max_conns = max_conns;
    cfg.ud = p;
    cfg.on_conn = peer_conn_cb;
    ASSERT_OK(ww_node_new(loop, &cfg, &p->node));
}

static void count_closed_cb(void *ud)
{
    (*(int *)ud)++;
}

/* Runs the loop until *what reaches want or ms pass; 1 when it did. */
static int loop_until(uv_loop_t *loop, const int *what, int want, uint64_t ms)
{
    uv_update_time(loop);
    uint64_t end = uv_now(loop) + ms;
    while (*what < want && uv_now(loop) < end) {
        uv_run(loop, UV_RUN_NOWAIT);
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
        uv_update_time(loop);
    }
    return *what >= want;
}

/* Closes the nodes still open (NULL ones are skipped), the loop and the stores. */
static void finish(uv_loop_t *loop, struct peer *const *nodes, int n, struct ww_store *hub_store,
                   struct fx_group *g)
{
    int n_closed = 0, n_open = 0;
    for (int i = 0; i < n; i++)
        if (nodes[i]) {
            ww_node_close(nodes[i]->node, count_closed_cb, &n_closed);
            n_open++;
        }
    ASSERT(loop_until(loop, &n_closed, n_open, 10000));
    ASSERT_OK(uv_loop_close(loop));
    ww_store_close(hub_store);
    fx_group_close(g);
}

/* One sync of p with the hub, to the end; its time in ms, failing the test on an error or
 * when it takes over limit_ms. */
static uint64_t sync_once(uv_loop_t *loop, struct peer *p, int port, uint64_t limit_ms)
{
    uv_update_time(loop);
    uint64_t start = uv_now(loop);
    int want = p->down + 1;
    ASSERT_OK(ww_node_dial(p->node, "127.0.0.1", port, NULL, NULL, 0, 1));
    if (!loop_until(loop, &p->down, want, limit_ms))
        ww_test_fail(__FILE__, __LINE__, "a sync took over %llu ms", (unsigned long long)limit_ms);
    ASSERT_OK(p->last_error);
    uv_update_time(loop);
    return uv_now(loop) - start;
}

/* The events a store (another process's) holds, read-only; 0 while it cannot be read. */
/* The events the store in path holds. The writer may be stopped (SIGSTOP) at any point,
 * even holding a lock a reader has to wait for: a busy read is tried again, for up to 2 s,
 * instead of reading as 0. */
static long events_in(const char *path)
{
    long n = 0;
    int busy = 1;
    for (int attempt = 0; attempt < 200 && busy; attempt++) {
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        busy = 0;
        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
            sqlite3_busy_timeout(db, 10);
            int rc = sqlite3_prepare_v2(db, WRITTEN_EVENTS, -1, &st, NULL);
            if (rc == SQLITE_OK)
                rc = sqlite3_step(st);
            if (rc == SQLITE_ROW)
                n = sqlite3_column_int64(st, 0);
            busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    return n;
}

#define N_BIG      4000 /* long reflections: about 8 MB for the slow reader to fetch */
#define SYNC_LIMIT 5000 /* ms: one sync of another member while the slow reader stalls */
#define N_OTHERS   20   /* syncs of the others meanwhile */
#define P99_LIMIT  2000 /* ms: the slowest of them (of 20, the p99 is the maximum) */

/* The slow reader, in a child: syncs student2's store with the hub once and exits 0 when
 * it holds at least `want` events (what the others write meanwhile may come too). */
static void slow_reader(int port, long want)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        _exit(3);
    struct ww_store *s = fx_open("student2");
    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0)
        _exit(3);
    struct peer p;
    peer_start(&p, &loop, s, 0);
    if (ww_node_dial(p.node, "127.0.0.1", port, NULL, NULL, 0, 1) != 0)
        _exit(4);
    while (p.down == 0)
        uv_run(&loop, UV_RUN_ONCE);
    long held = fx_count(s, WRITTEN_EVENTS);
    _exit(p.last_error == 0 && held >= want ? 0 : 5);
}

/* A member stops reading in the middle of a long catch-up: the hub holds what it would send
 * it, and every other member's sync meanwhile completes within the bound. When the reader
 * reads again, it gets everything. */
TEST(attack_slow_reader_costs_only_itself)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.st[0], g.gid, &d));
    static char field[5][401];
    static const size_t lens[5] = {400, 300, 400, 300, 400};
    struct ww_reflection r;
    memset(&r, 0, sizeof r);
    r.date = d;
    r.status = WW_STATUS_DONE;
    r.share = WW_SHARE_GROUP;
    for (int i = 0; i < N_BIG; i++) {
        for (int f = 0; f < 5; f++) {
            memset(field[f], 'a' + (i + f) % 26, lens[f]);
            field[f][lens[f]] = '\0';
        }
        r.situatie = field[0];
        r.taak = field[1];
        r.actie = field[2];
        r.resultaat = field[3];
        r.reflectie = field[4];
        ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL)); /* each replaces the last */
    }
    ww_store_close(g.st[1]); /* the slow reader opens it in its own process */
    g.st[1] = NULL;

    struct ww_store *hub_store = fx_open("hub");
    uv_loop_t loop;
    ASSERT_OK(uv_loop_init(&loop));
    struct peer hub, coach, student;
    peer_start(&hub, &loop, hub_store, 20000);
    peer_start(&coach, &loop, g.coach, 0);
    peer_start(&student, &loop, g.st[0], 0);
    ASSERT_OK(ww_node_listen(hub.node, "127.0.0.1", 0));
    int port = ww_node_port(hub.node);
    sync_once(&loop, &coach, port, 10000);
    sync_once(&loop, &student, port, 60000);
    long total = fx_count(hub_store, WRITTEN_EVENTS);
    ASSERT_EQ(total, fx_count(g.st[0], WRITTEN_EVENTS));
    ASSERT_GT(total, N_BIG);

    /* The reader connects and starts its catch-up; then it stops reading. */
    fflush(stdout);
    fflush(stderr);
    pid_t child = fork();
    ASSERT(child >= 0);
    if (child == 0)
        slow_reader(port, total);
    char path[600];
    snprintf(path, sizeof path, "%s/student2/wegwijs.db", ww_test_tmpdir());
    long stalled_at = 0;
    uv_update_time(&loop);
    for (uint64_t end = uv_now(&loop) + 20000; stalled_at == 0; uv_update_time(&loop)) {
        if (uv_now(&loop) > end)
            ww_test_fail(__FILE__, __LINE__, "the reader received nothing in 20 s");
        uv_run(&loop, UV_RUN_NOWAIT);
        stalled_at = events_in(path);
        if (stalled_at > 0)
            ASSERT_EQ(kill(child, SIGSTOP), 0); /* its first batch is in: it stops reading */
    }
    int never = 0;
    loop_until(&loop, &never, 1, 500); /* the hub fills what the reader will not read */
    long after_stop = events_in(path);
    ASSERT_GE(after_stop, stalled_at);
    stalled_at = after_stop;
    if (stalled_at >= total)
        ww_test_fail(__FILE__, __LINE__, "the reader was done before it stalled: no test");

    /* The others write and sync all the while. */
    uint64_t worst = 0;
    for (int i = 0; i < N_OTHERS; i++) {
        struct peer *p = i % 2 ? &student : &coach;
        if (i % 2)
            ASSERT_OK(ww_day_off(g.st[0], g.gid, d + 1 + (uint32_t)i, 1, NULL));
        else
            ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, d + 1 + (uint32_t)i, "W02", NULL));
        uint64_t ms = sync_once(&loop, p, port, SYNC_LIMIT);
        if (ms > worst)
            worst = ms;
    }
    fprintf(stderr,
            "# slow reader stalled at %ld of %ld events; %d syncs of the others meanwhile, the "
            "slowest %llu ms\n",
            stalled_at, total, N_OTHERS, (unsigned long long)worst);
    ASSERT_LT(worst, P99_LIMIT);
    ASSERT_EQ(fx_count(hub_store, WRITTEN_EVENTS), total + N_OTHERS);

    /* Reading again, the reader gets every event (those written meanwhile included). */
    ASSERT_EQ(kill(child, SIGCONT), 0);
    int status = 0, reaped = 0;
    uv_update_time(&loop);
    for (uint64_t end = uv_now(&loop) + 60000; !reaped && uv_now(&loop) < end;) {
        uv_run(&loop, UV_RUN_NOWAIT);
        pid_t w = waitpid(child, &status, WNOHANG);
        if (w == child)
            reaped = 1;
        else
            ASSERT(w == 0 || errno == EINTR);
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
        uv_update_time(&loop);
    }
    if (!reaped) {
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
        ww_test_fail(__FILE__, __LINE__, "the reader did not finish once it read again");
    }
    ASSERT(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
    struct peer *const nodes[] = {&student, &coach, &hub};
    finish(&loop, nodes, 3, hub_store, &g);
}

/* A hub bounds the connections still in their handshake per address, all connections
 * together, and the authenticated connections of one device (8 by default): one member
 * cannot hold every connection the hub allows. On a hub allowing 16, a student dialling 20
 * keeps 8; the others are told and closed, and the coach still syncs. */
#define MAX_CONNS 16
TEST(attack_one_member_cannot_take_every_connection)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    struct ww_store *hub_store = fx_open("hub");
    uv_loop_t loop;
    ASSERT_OK(uv_loop_init(&loop));
    struct peer hub, coach, student;
    peer_start(&hub, &loop, hub_store, MAX_CONNS);
    peer_start(&coach, &loop, g.coach, 0);
    peer_start(&student, &loop, g.st[0], 0);
    ASSERT_OK(ww_node_listen(hub.node, "127.0.0.1", 0));
    int port = ww_node_port(hub.node);
    sync_once(&loop, &coach, port, 10000);
    ASSERT(loop_until(&loop, &hub.down, hub.up, 10000)); /* the hub closed its side too */

    /* The student opens more connections than the hub allows, and stays on every one. */
    for (int i = 0; i < MAX_CONNS + 4; i++)
        ASSERT_OK(ww_node_dial(student.node, "127.0.0.1", port, NULL, NULL, 0, 0));
    ASSERT(loop_until(&loop, &student.down, MAX_CONNS + 4 - 8, 10000));
    ASSERT_EQ(ww_node_conns(hub.node), 8);
    ASSERT_EQ(student.last_error, WW_EBUSY);

    /* The coach still gets in. */
    ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, 20800, "W02", NULL));
    long held = fx_count(hub_store, WRITTEN_EVENTS);
    sync_once(&loop, &coach, port, 10000);
    ASSERT_OK(coach.last_error);
    ASSERT_EQ(fx_count(hub_store, WRITTEN_EVENTS), held + 1);
    struct peer *const nodes[] = {&student, &coach, &hub};
    finish(&loop, nodes, 3, hub_store, &g);
}
