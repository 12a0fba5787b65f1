/*
 * test_attack.c - attacks on a running hub that take more than bytes on its port: each
 * asserts what happens to the attacker and that the hub's other connections keep working,
 * within a bound the test states.
 *
 * The hub runs in this process on a libuv loop (127.0.0.1, ephemeral port); an attacker
 * that must stop at will is a child process with its own loop, stopped with SIGSTOP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "channel.h"
#include "fixture.h"
#include "runner.h"
#include "store.h"
#include "wegwijs_sync.h"

/* A node of the test and what happened to its connections; `refused` counts the
 * connections that closed with an error, the last one's code and reason kept. */
struct peer {
    struct ww_node *node;
    int up, down, last_error;
    int refused, refused_error;
    uint64_t not_taken; /* its own events the peer did not take, at the last DOWN */
    char refused_reason[128];
    int refused_codes[64]; /* the first 64 refusals' codes */
};

static void peer_conn_cb(void *ud, const struct ww_conn_info *info)
{
    struct peer *p = ud;
    if (info->event == WW_CONN_UP)
        p->up++;
    else if (info->event == WW_CONN_DOWN) {
        p->down++;
        p->last_error = info->error;
        p->not_taken = info->events_not_taken;
        if (info->error) {
            if (p->refused < 64)
                p->refused_codes[p->refused] = info->error;
            p->refused++;
            p->refused_error = info->error;
            snprintf(p->refused_reason, sizeof p->refused_reason, "%s", info->reason);
        }
    }
}

/* A node; a hub when max_conns > 0 (at most that many connections). tune (may be NULL)
 * gives the hub's timers and per-address bound: handshake_ms, max_conns_per_ip, and
 * dead_ms (a silent connection is pinged after a third of it, closed after all of it). */
static void peer_start_tuned(struct peer *p, uv_loop_t *loop, struct ww_store *s,
                             uint32_t max_conns, const struct ww_node_cfg *tune)
{
    memset(p, 0, sizeof *p);
    struct ww_node_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = s;
    cfg.hub = max_conns > 0;
    cfg.accept_new_groups = cfg.hub;
    cfg.max_conns = max_conns;
    if (tune) {
        cfg.handshake_ms = tune->handshake_ms;
        cfg.max_conns_per_ip = tune->max_conns_per_ip;
        cfg.dead_ms = tune->dead_ms;
        cfg.idle_ms = tune->dead_ms / 3;
        cfg.quota = tune->quota;
    }
    cfg.ud = p;
    cfg.on_conn = peer_conn_cb;
    ASSERT_OK(ww_node_new(loop, &cfg, &p->node));
}

static void peer_start(struct peer *p, uv_loop_t *loop, struct ww_store *s, uint32_t max_conns)
{
    peer_start_tuned(p, loop, s, max_conns, NULL);
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

/* 1 when the store holds the event with this hash. */
static int holds(struct ww_store *s, const uint8_t hash[WW_EVENT_HASH_LEN])
{
    char hex[2 * WW_EVENT_HASH_LEN + 1], sql[200];
    sodium_bin2hex(hex, sizeof hex, hash, WW_EVENT_HASH_LEN);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM events WHERE hash = x'%s'", hex);
    return fx_count(s, sql) == 1;
}

/* How far the store holds the log of `author` in the group (its version vector). */
static uint64_t seq_of(struct ww_store *s, const uint8_t gid[WW_ID_LEN],
                       const uint8_t author[WW_KEY_LEN])
{
    struct ww_vv_item vv[WW_MAX_VV];
    size_t n = 0;
    ASSERT_OK(ww_sync_vv(s, gid, vv, WW_MAX_VV, &n));
    for (size_t i = 0; i < n; i++)
        if (!memcmp(vv[i].author, author, WW_KEY_LEN))
            return vv[i].seq;
    return 0;
}

#define SYNC_LIMIT 5000 /* ms: one sync of another member while an attack goes on */
#define N_OTHERS   20   /* syncs of the others during each attack */
#define P99_LIMIT  2000 /* ms: the slowest of them (of 20, the p99 is the maximum) */

/* The other members' traffic while an attack goes on. In round i, member i % 2 (the coach
 * schedules a challenge, a student takes a day off) writes one event and syncs it with the
 * hub, which must then hold it; the slowest sync is kept. */
struct others {
    struct peer *p[2]; /* the coach's node, a student's */
    struct ww_store *s[2];
    struct ww_store *hub;
    const uint8_t *gid;
    int port, n;
    uint32_t day; /* events are about the days after it */
    uint64_t worst;
    int phase_n; /* syncs since the last report */
};

static void others_sync(uv_loop_t *loop, struct others *o)
{
    int i = o->n++;
    uint32_t date = o->day + 1 + (uint32_t)i;
    uint8_t hash[WW_EVENT_HASH_LEN];
    if (i % 2)
        ASSERT_OK(ww_day_off(o->s[1], o->gid, date, 1, hash));
    else
        ASSERT_OK(ww_challenge_schedule(o->s[0], o->gid, date, "W02", hash));
    uint64_t ms = sync_once(loop, o->p[i % 2], o->port, SYNC_LIMIT);
    ASSERT(holds(o->hub, hash));
    if (ms > o->worst)
        o->worst = ms;
    o->phase_n++;
}

/* Prints what the others saw during an attack and checks the bound; the next attack
 * starts counting afresh. */
static void others_report(struct others *o, const char *during)
{
    fprintf(stderr, "# %s: %d syncs of the others meanwhile, the slowest %llu ms\n", during,
            o->phase_n, (unsigned long long)o->worst);
    ASSERT_GE(o->phase_n, N_OTHERS);
    ASSERT_LT(o->worst, P99_LIMIT);
    o->phase_n = 0;
    o->worst = 0;
}

/* The events the store in path holds. The writer may be stopped (SIGSTOP) at any point,
 * even holding a lock a reader has to wait for: a busy read is tried again, for up to 2 s,
 * instead of reading as 0. */
/* The events the store at path holds, or -1 when it cannot be read for now (not created
 * yet, or its writer stopped in the middle of something a reader must wait for). */
static long events_in(const char *path)
{
    long n = -1;
    for (int attempt = 0; attempt < 200 && n < 0; attempt++) {
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
            sqlite3_busy_timeout(db, 10);
            int rc = sqlite3_prepare_v2(db, WRITTEN_EVENTS, -1, &st, NULL);
            if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
                n = sqlite3_column_int64(st, 0);
            else if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED && rc != SQLITE_OK)
                attempt = 200; /* not there yet: no use waiting here */
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    return n;
}

#define N_BIG 4000 /* long reflections: about 8 MB for the slow reader to fetch */

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
    for (uint64_t end = uv_now(&loop) + 20000; stalled_at <= 0; uv_update_time(&loop)) {
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
    /* A reader stopped inside a lock (a checkpoint resetting its log) blocks reading its
     * store: let it go on a moment and stop it again. */
    for (int tries = 0; after_stop < 0 && tries < 20; tries++) {
        ASSERT_EQ(kill(child, SIGCONT), 0);
        loop_until(&loop, &never, 1, 5);
        ASSERT_EQ(kill(child, SIGSTOP), 0);
        loop_until(&loop, &never, 1, 100);
        after_stop = events_in(path);
    }
    ASSERT_GE(after_stop, stalled_at);
    stalled_at = after_stop;
    if (stalled_at >= total)
        ww_test_fail(__FILE__, __LINE__, "the reader was done before it stalled: no test");

    /* The others write and sync all the while. */
    struct others o = {{&coach, &student}, {g.coach, g.st[0]}, hub_store, g.gid, port, 0, d, 0, 0};
    for (int i = 0; i < N_OTHERS; i++)
        others_sync(&loop, &o);
    fprintf(stderr, "# slow reader stalled at %ld of %ld events\n", stalled_at, total);
    others_report(&o, "slow reader");
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
 * keeps 8; the others are told and closed, and the other members sync all the while. */
#define MAX_CONNS 16
TEST(attack_one_member_cannot_take_every_connection)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    struct ww_store *hub_store = fx_open("hub");
    uv_loop_t loop;
    ASSERT_OK(uv_loop_init(&loop));
    struct peer hub, coach, student, student2;
    peer_start(&hub, &loop, hub_store, MAX_CONNS);
    peer_start(&coach, &loop, g.coach, 0);
    peer_start(&student, &loop, g.st[0], 0);
    peer_start(&student2, &loop, g.st[1], 0);
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

    /* The others still get in, each time. */
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    struct others o = {{&coach, &student2}, {g.coach, g.st[1]}, hub_store, g.gid, port, 0, d, 0, 0};
    for (int i = 0; i < N_OTHERS; i++)
        others_sync(&loop, &o);
    others_report(&o, "one member holding 8 connections");
    ASSERT_EQ(student.down, MAX_CONNS + 4 - 8); /* the student's 8 are still open */
    struct peer *const nodes[] = {&student, &student2, &coach, &hub};
    finish(&loop, nodes, 4, hub_store, &g);
}

/* ---- A member's device that speaks the channel itself ----------------------------------- */

/* A genuine member device on a raw socket: it runs the handshake and seals its records with
 * the channel API, as its node would, and the test decides what of them reaches the hub
 * (records cut, replayed, reordered or altered). What the hub sends it is opened and
 * counted by frame type. */
struct raw {
    int fd, closed;
    struct ww_store *s;
    struct ww_channel ch;
    int frames[WW_FRAME_MAX_KNOWN + 1];
    struct ww_vv_item ack[WW_MAX_VV]; /* the vector of the hub's last ACK */
    size_t n_ack;
};

static int raw_dh(void *ud, const uint8_t pub[32], uint8_t out[32])
{
    return ww_store_dh(ud, pub, out);
}

static int raw_frame(void *ud, const uint8_t *frame, size_t len)
{
    struct raw *r = ud;
    static struct ww_frame f;
    ASSERT_OK(ww_frame_decode(frame, len, &f));
    ASSERT(f.type <= WW_FRAME_MAX_KNOWN);
    r->frames[f.type]++;
    if (f.type == WW_FRAME_ACK) {
        r->n_ack = f.u.vv.n;
        memcpy(r->ack, f.u.vv.e, f.u.vv.n * sizeof f.u.vv.e[0]);
    }
    return 0;
}

/* Writes every byte, running the loop while the socket is full; stops at a closed one. */
static void raw_write(uv_loop_t *loop, struct raw *r, const uint8_t *p, size_t len)
{
    uv_update_time(loop);
    uint64_t end = uv_now(loop) + 5000;
    while (len > 0 && !r->closed) {
        ssize_t n = send(r->fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            uv_run(loop, UV_RUN_NOWAIT);
            uv_update_time(loop);
            ASSERT_LT(uv_now(loop), end);
        } else {
            r->closed = 1; /* the hub closed it */
        }
    }
}

/* One turn: the loop runs once, and what the hub sent is read and opened; the handshake
 * record this side owes goes out. */
static void raw_turn(uv_loop_t *loop, struct raw *r)
{
    uv_run(loop, UV_RUN_NOWAIT);
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
    uv_update_time(loop);
    static uint8_t in[65536];
    ssize_t n = -1;
    while (!r->closed && (n = read(r->fd, in, sizeof in)) != 0) {
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                r->closed = 1;
            if (errno != EINTR)
                break;
            continue;
        }
        if (ww_channel_get_state(&r->ch) != WW_CHANNEL_FAILED)
            ww_channel_feed(&r->ch, in, (size_t)n, raw_frame, r);
    }
    if (n == 0)
        r->closed = 1;
    struct ww_buf hs;
    ww_buf_init(&hs, 0);
    if (ww_channel_get_state(&r->ch) != WW_CHANNEL_FAILED)
        ASSERT_OK(ww_channel_handshake_write(&r->ch, &hs));
    raw_write(loop, r, hs.p, hs.len);
    ww_buf_free(&hs);
}

/* Runs turns until *what reaches want, or the hub closed the socket, or ms pass; 1 when
 * *what reached want. */
static int raw_until(uv_loop_t *loop, struct raw *r, const int *what, int want, uint64_t ms)
{
    uv_update_time(loop);
    uint64_t end = uv_now(loop) + ms;
    while (*what < want && !r->closed && uv_now(loop) < end)
        raw_turn(loop, r);
    return *what >= want;
}

/* A TCP connection from the address `from` (one of 127.0.0.0/8) to 127.0.0.1:port,
 * non-blocking once connected. */
static int tcp_connect(int port, const char *from)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    ASSERT_EQ(inet_pton(AF_INET, from, &a.sin_addr), 1);
    ASSERT_OK(bind(fd, (struct sockaddr *)&a, sizeof a));
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_OK(connect(fd, (struct sockaddr *)&a, sizeof a));
    ASSERT_OK(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK));
    return fd;
}

/* 1 once the other side closed fd (a read gives 0, or an error other than "try again"). */
static int tcp_closed(int fd)
{
    uint8_t b[256];
    ssize_t n = read(fd, b, sizeof b);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* Connects as the device of store s and runs the handshake with the hub until this side's
 * channel is open. With claim (may be NULL), its hello claims that device key instead of its
 * own, over its own Noise static key: a lie only the hub can catch, at message 3. */
static void raw_open_claiming(uv_loop_t *loop, struct raw *r, struct ww_store *s, int port,
                              const uint8_t claim[WW_PK_LEN])
{
    memset(r, 0, sizeof *r);
    r->s = s;
    r->fd = tcp_connect(port, "127.0.0.1");
    struct ww_channel_id id;
    ww_store_device(s, id.device_pk);
    ww_store_dh_pk(s, id.static_pk);
    id.dh = raw_dh;
    id.ud = s;
    ASSERT_OK(ww_channel_init_id(&r->ch, WW_CHANNEL_INITIATOR, &id, WW_CAP_SYNC));
    if (claim) { /* the device key in the hello this side will send, replaced */
        size_t at = 0;
        while (at + WW_PK_LEN <= r->ch.hello_len &&
               memcmp(r->ch.hello + at, id.device_pk, WW_PK_LEN) != 0)
            at++;
        ASSERT(at + WW_PK_LEN <= r->ch.hello_len);
        memcpy(r->ch.hello + at, claim, WW_PK_LEN);
    }
    uv_update_time(loop);
    uint64_t end = uv_now(loop) + 5000;
    while (ww_channel_get_state(&r->ch) != WW_CHANNEL_OPEN) {
        ASSERT(!r->closed && uv_now(loop) < end);
        raw_turn(loop, r);
    }
    raw_turn(loop, r); /* message 3 */
}

/* Connects as the device of store s and completes a genuine handshake with the hub. */
static void raw_open(uv_loop_t *loop, struct raw *r, struct ww_store *s, int port)
{
    raw_open_claiming(loop, r, s, port, NULL);
}

static void raw_close(struct raw *r)
{
    close(r->fd);
    ww_channel_close(&r->ch);
}

/* Seals one frame as the device's next record, appended to rec. */
static void raw_seal(struct raw *r, const struct ww_frame *f, struct ww_buf *rec)
{
    struct ww_buf enc;
    ww_buf_init(&enc, 0);
    ASSERT_OK(ww_frame_encode(f, &enc));
    ASSERT_OK(ww_channel_seal(&r->ch, enc.p, enc.len, rec));
    ww_buf_free(&enc);
}

/* Opens the group: the device's vector goes out as it is, appended to rec. */
static void raw_vv_seal(struct raw *r, const uint8_t gid[WW_ID_LEN], struct ww_buf *rec)
{
    static struct ww_frame f;
    memset(&f, 0, sizeof f);
    f.type = WW_FRAME_VV;
    memcpy(f.u.vv.group, gid, WW_ID_LEN);
    size_t n = 0;
    ASSERT_OK(ww_sync_vv(r->s, gid, f.u.vv.e, WW_MAX_VV, &n));
    f.u.vv.n = (uint32_t)n;
    raw_seal(r, &f, rec);
}

/* Opens the group: the device's vector goes out, and the hub's comes back. */
static void raw_vv(uv_loop_t *loop, struct raw *r, const uint8_t gid[WW_ID_LEN])
{
    struct ww_buf rec;
    ww_buf_init(&rec, 0);
    raw_vv_seal(r, gid, &rec);
    raw_write(loop, r, rec.p, rec.len);
    ww_buf_free(&rec);
    ASSERT(raw_until(loop, r, &r->frames[WW_FRAME_VV], 1, 5000));
}

/* Seals events [from, to) of the bag as one BATCH record, appended to rec. */
static void raw_batch(struct raw *r, const uint8_t gid[WW_ID_LEN], const struct fx_bag *b,
                      size_t from, size_t to, struct ww_buf *rec)
{
    static struct ww_frame f;
    memset(&f, 0, sizeof f);
    f.type = WW_FRAME_BATCH;
    memcpy(f.u.batch.group, gid, WW_ID_LEN);
    for (size_t i = from; i < to; i++) {
        f.u.batch.ev[f.u.batch.n].p = b->raw[i];
        f.u.batch.ev[f.u.batch.n++].len = b->len[i];
    }
    raw_seal(r, &f, rec);
}

/* What the hub lacks of the device's log in the group: its own events, oldest first. */
static void lacking(struct ww_store *s, struct ww_store *hub, const uint8_t gid[WW_ID_LEN],
                    struct fx_bag *out)
{
    struct ww_vv_item vv[WW_MAX_VV];
    size_t n = 0;
    int more = 0;
    ASSERT_OK(ww_sync_vv(hub, gid, vv, WW_MAX_VV, &n));
    memset(out, 0, sizeof *out);
    ASSERT_OK(ww_sync_missing(s, gid, vv, n, 256, 1u << 20, fx_bag_add, out, &more));
    ASSERT_EQ(more, 0);
}

/* Waits until the hub closed n more connections with an error after the first `before`;
 * checks each one's code. */
static void refused_with(uv_loop_t *loop, struct peer *hub, int before, int n, int code,
                         uint64_t ms)
{
    if (!loop_until(loop, &hub->refused, before + n, ms))
        ww_test_fail(__FILE__, __LINE__, "the hub closed %d of %d connections in %llu ms",
                     hub->refused - before, n, (unsigned long long)ms);
    ASSERT_LE(before + n, 64);
    for (int i = before; i < before + n; i++)
        ASSERT_ERR(hub->refused_codes[i], code);
}

/* ---- Attacks through a member's own channel ------------------------------------------- */

/* A hub on the loop and a group of a coach and two students synced with it. The first
 * student's device is the attacker (its store is used raw, or by `attacker` for a genuine
 * sync at the end); the coach and the second student are the others, whose traffic goes
 * on during the attack. */
struct scene {
    struct fx_group g;
    struct ww_store *hub_store;
    uv_loop_t loop;
    struct peer hub, coach, student2, attacker;
    int port;
    uint8_t att_pk[WW_KEY_LEN];
    struct others o;
};

static void scene_start(struct scene *sc, const struct ww_node_cfg *tune)
{
    fx_group_make(&sc->g, 2, 0, NULL);
    sc->hub_store = fx_open("hub");
    ASSERT_OK(uv_loop_init(&sc->loop));
    peer_start_tuned(&sc->hub, &sc->loop, sc->hub_store, 1000, tune);
    peer_start(&sc->coach, &sc->loop, sc->g.coach, 0);
    peer_start(&sc->student2, &sc->loop, sc->g.st[1], 0);
    peer_start(&sc->attacker, &sc->loop, sc->g.st[0], 0);
    ASSERT_OK(ww_node_listen(sc->hub.node, "127.0.0.1", 0));
    sc->port = ww_node_port(sc->hub.node);
    sync_once(&sc->loop, &sc->coach, sc->port, 10000);
    sync_once(&sc->loop, &sc->student2, sc->port, 10000);
    sync_once(&sc->loop, &sc->attacker, sc->port, 10000);
    fx_device(sc->g.st[0], sc->att_pk);
    uint32_t d;
    ASSERT_OK(ww_day_today(sc->g.coach, sc->g.gid, &d));
    struct others o = {{&sc->coach, &sc->student2},
                       {sc->g.coach, sc->g.st[1]},
                       sc->hub_store,
                       sc->g.gid,
                       sc->port,
                       0,
                       d,
                       0,
                       0};
    sc->o = o;
}

/* The attacker syncs as its node would: everything it wrote reaches the hub, nothing of
 * the attack stuck to its log there. Then everything closes. */
static void scene_finish(struct scene *sc)
{
    ASSERT_OK(ww_day_off(sc->g.st[0], sc->g.gid, sc->o.day - 60, 1, NULL));
    sync_once(&sc->loop, &sc->attacker, sc->port, 10000);
    ASSERT_EQ(seq_of(sc->hub_store, sc->g.gid, sc->att_pk),
              seq_of(sc->g.st[0], sc->g.gid, sc->att_pk));
    ASSERT_EQ(fx_count(sc->hub_store, "SELECT count(*) FROM forks"), 0);
    ASSERT_EQ(fx_count(sc->hub_store, "SELECT count(*) FROM pending"), 0);
    struct peer *const nodes[] = {&sc->attacker, &sc->student2, &sc->coach, &sc->hub};
    finish(&sc->loop, nodes, 4, sc->hub_store, &sc->g);
}

/* The attacker writes two events (days off in the past, by round) and collects what the hub
 * lacks of its log: those, and any a previous round did not deliver. */
static void attacker_writes(struct scene *sc, int round, struct fx_bag *bag)
{
    for (uint32_t k = 1; k <= 2; k++)
        ASSERT_OK(ww_day_off(sc->g.st[0], sc->g.gid, sc->o.day - 2 * (uint32_t)round - k, 1, NULL));
    lacking(sc->g.st[0], sc->hub_store, sc->g.gid, bag);
    ASSERT_GE(bag->n, 2);
}

/* A member's device, after a genuine handshake, opens the group and sends a batch record
 * cut short. Left hanging, the connection costs the others nothing and the hub closes it
 * when it has been silent for its dead time (pinging it first); cut and then closed, the hub
 * closes it at once. Nothing of a cut record is applied. */
#define DEAD_MS 1500 /* the hub closes a silent connection after it */
TEST(attack_truncated_records_cost_only_their_connection)
{
    static struct scene sc;
    struct ww_node_cfg tune = {.dead_ms = DEAD_MS};
    scene_start(&sc, &tune);
    struct fx_bag bag;
    attacker_writes(&sc, 0, &bag);
    uint64_t held = seq_of(sc.hub_store, sc.g.gid, sc.att_pk);

    /* Left hanging: four connections, each cut at another point of its record: inside the
     * length prefix, right after it, in the middle, one byte short of the end. */
    static struct raw hang[4];
    int before = sc.hub.refused;
    uv_update_time(&sc.loop);
    uint64_t start = uv_now(&sc.loop);
    for (int k = 0; k < 4; k++) {
        raw_open(&sc.loop, &hang[k], sc.g.st[0], sc.port);
        raw_vv(&sc.loop, &hang[k], sc.g.gid);
        struct ww_buf rec;
        ww_buf_init(&rec, 0);
        raw_batch(&hang[k], sc.g.gid, &bag, 0, bag.n, &rec);
        size_t cut[4] = {2, 4, rec.len / 2, rec.len - 1};
        raw_write(&sc.loop, &hang[k], rec.p, cut[k]);
        ww_buf_free(&rec);
    }
    for (int i = 0; i < N_OTHERS; i++)
        others_sync(&sc.loop, &sc.o);
    uv_update_time(&sc.loop);
    uint64_t others_done = uv_now(&sc.loop) - start;
    ASSERT_EQ(sc.hub.refused, before); /* still hanging while the others synced */
    refused_with(&sc.loop, &sc.hub, before, 4, WW_EIO, 5000);
    uv_update_time(&sc.loop);
    uint64_t closed_after = uv_now(&sc.loop) - start;
    fprintf(stderr,
            "# four records left hanging: the others' syncs done after %llu ms, the hanging "
            "connections closed by the hub after %llu ms (\"%s\")\n",
            (unsigned long long)others_done, (unsigned long long)closed_after,
            sc.hub.refused_reason);
    ASSERT_GE(closed_after, DEAD_MS);
    for (int k = 0; k < 4; k++) {
        int never = 0;
        raw_until(&sc.loop, &hang[k], &never, 1, 2000);
        ASSERT(hang[k].closed);
        ASSERT_GE(hang[k].frames[WW_FRAME_PING], 1); /* the hub asked before it gave up */
        raw_close(&hang[k]);
    }
    others_report(&sc.o, "records left hanging");
    ASSERT_EQ(seq_of(sc.hub_store, sc.g.gid, sc.att_pk), held);

    /* Cut and closed: a record cut at a point that moves along it, then the end of the
     * stream; each round while another member syncs. */
    before = sc.hub.refused;
    for (int i = 0; i < N_OTHERS; i++) {
        static struct raw r;
        raw_open(&sc.loop, &r, sc.g.st[0], sc.port);
        raw_vv(&sc.loop, &r, sc.g.gid);
        struct ww_buf rec;
        ww_buf_init(&rec, 0);
        raw_batch(&r, sc.g.gid, &bag, 0, bag.n, &rec);
        raw_write(&sc.loop, &r, rec.p, 1 + (size_t)i * (rec.len - 1) / N_OTHERS);
        ww_buf_free(&rec);
        ASSERT_OK(shutdown(r.fd, SHUT_WR));
        others_sync(&sc.loop, &sc.o);
        refused_with(&sc.loop, &sc.hub, before + i, 1, WW_ETRUNC, 5000);
        raw_close(&r);
    }
    fprintf(stderr, "# records cut and closed: the hub says \"%s\"\n", sc.hub.refused_reason);
    others_report(&sc.o, "records cut and closed");
    ASSERT_EQ(seq_of(sc.hub_store, sc.g.gid, sc.att_pk), held);
    fx_bag_free(&bag);
    scene_finish(&sc);
}

/* How a genuine record stream is tampered with on its way to the hub. */
enum tamper { REPLAY, REORDER, FLIP };

/* Each round, a member's device opens the group after a genuine handshake and the test
 * tampers with its batch records on the socket, while another member syncs: the hub's
 * channel fails at the tampered record and closes that connection, and nothing of that
 * record or of any record after it is applied. A replay: a batch the hub took, sent again,
 * then a genuine next batch. Reordered: the second batch before the first. Flipped: one bit
 * of the batch record, at a point that moves along it round by round (the tag included). */
static void tampered_records(enum tamper how, const char *what)
{
    static struct scene sc;
    scene_start(&sc, NULL);
    int before = sc.hub.refused;
    for (int i = 0; i < N_OTHERS; i++) {
        struct fx_bag bag;
        attacker_writes(&sc, i, &bag);
        uint64_t held = seq_of(sc.hub_store, sc.g.gid, sc.att_pk);
        static struct raw r;
        raw_open(&sc.loop, &r, sc.g.st[0], sc.port);
        raw_vv(&sc.loop, &r, sc.g.gid);
        struct ww_buf first, flight;
        ww_buf_init(&first, 0);
        ww_buf_init(&flight, 0);
        uint64_t delivered = 0;
        if (how == FLIP) {
            raw_batch(&r, sc.g.gid, &bag, 0, bag.n, &flight);
            size_t at = i == 0 ? flight.len - 1 : 4 + (size_t)i * 7919 % (flight.len - 4);
            flight.p[at] ^= (uint8_t)(1u << (i % 8));
        } else {
            raw_batch(&r, sc.g.gid, &bag, 0, 1, &first);
            if (how == REPLAY) {
                raw_write(&sc.loop, &r, first.p, first.len);
                ASSERT(raw_until(&sc.loop, &r, &r.frames[WW_FRAME_ACK], 1, 5000));
                delivered = 1;
                ASSERT_EQ(seq_of(sc.hub_store, sc.g.gid, sc.att_pk), held + 1);
                ASSERT_OK(ww_buf_append(&flight, first.p, first.len)); /* again */
                raw_batch(&r, sc.g.gid, &bag, 1, bag.n, &flight);      /* then the next */
            } else {
                raw_batch(&r, sc.g.gid, &bag, 1, bag.n, &flight); /* the second first */
                ASSERT_OK(ww_buf_append(&flight, first.p, first.len));
            }
        }
        raw_write(&sc.loop, &r, flight.p, flight.len);
        others_sync(&sc.loop, &sc.o);
        refused_with(&sc.loop, &sc.hub, before + i, 1, WW_EDECRYPT, 5000);
        int never = 0;
        raw_until(&sc.loop, &r, &never, 1, 2000);
        ASSERT(r.closed);
        ASSERT_EQ(seq_of(sc.hub_store, sc.g.gid, sc.att_pk), held + delivered);
        raw_close(&r);
        ww_buf_free(&first);
        ww_buf_free(&flight);
        fx_bag_free(&bag);
    }
    fprintf(stderr, "# %s: the hub says \"%s\"\n", what, sc.hub.refused_reason);
    others_report(&sc.o, what);
    scene_finish(&sc);
}

TEST(attack_replayed_record_ends_only_its_connection)
{
    tampered_records(REPLAY, "replayed records");
}

TEST(attack_reordered_records_end_only_their_connection)
{
    tampered_records(REORDER, "reordered records");
}

TEST(attack_flipped_bit_ends_only_its_connection)
{
    tampered_records(FLIP, "bit-flipped records");
}

/* An event of the given kind sealed by the device of store s, bypassing its API (which
 * would refuse what its role may not write); the device's own log does not take it. */
static void craft(struct ww_store *s, const uint8_t gid[WW_ID_LEN], const struct ww_body *b,
                  uint8_t audience, const uint8_t *ref, size_t ref_len, struct fx_ev *out,
                  uint8_t hash[WW_EVENT_HASH_LEN])
{
    struct ww_buf pt, ev;
    ww_buf_init(&pt, WW_MAX_BODY);
    ww_buf_init(&ev, WW_MAX_EVENT);
    ASSERT_OK(ww_body_encode(b, &pt));
    struct ww_emit e = {.kind = b->kind, .audience = audience, .ref = ref, .ref_len = ref_len};
    ASSERT_OK(ww_seal(s, gid, &e, pt.p, pt.len, &ev, hash));
    memcpy(out->raw, ev.p, ev.len);
    out->len = ev.len;
    ww_buf_free(&pt);
    ww_buf_free(&ev);
}

/* The seq the hub's last ACK gave for author (0: none). */
static uint64_t acked(const struct raw *r, const uint8_t author[WW_KEY_LEN])
{
    for (size_t i = 0; i < r->n_ack; i++)
        if (!memcmp(r->ack[i].author, author, WW_KEY_LEN))
            return r->ack[i].seq;
    return 0;
}

/* A student's device seals what only the coach may write (a challenge's schedule, a new
 * member) and sends it to a running hub in a batch. The hub applies the same rules as every
 * replica: it refuses the event (WW_EROLE, as another member's device does with the same
 * bytes), stores nothing of it, not even as pending, and answers the batch with an ACK whose
 * vector does not hold it. It refuses the event, not the connection: that stays open. The
 * others sync meanwhile, and the student's genuine next event (at the same seq) is taken
 * afterwards. */
TEST(attack_role_escalation_refused_by_a_running_hub)
{
    static struct scene sc;
    scene_start(&sc, NULL);
    uint64_t held = seq_of(sc.hub_store, sc.g.gid, sc.att_pk);
    ASSERT_EQ(held, seq_of(sc.g.st[0], sc.g.gid, sc.att_pk));
    long members = fx_count(sc.hub_store, "SELECT count(*) FROM members");
    struct ww_store *newcomer = fx_open("newcomer");
    fx_sync(sc.g.st[0], sc.g.st[1], sc.g.gid, 256); /* a replica holding all the student's log */
    static struct raw r;
    raw_open(&sc.loop, &r, sc.g.st[0], sc.port);
    raw_vv(&sc.loop, &r, sc.g.gid);
    int before = sc.hub.refused;
    for (int i = 0; i < N_OTHERS; i++) {
        struct ww_body b;
        memset(&b, 0, sizeof b);
        uint8_t ref[4], *refp = NULL, audience = WW_AUD_PLAIN;
        if (i % 2 == 0) {
            uint32_t date = sc.o.day + 100 + (uint32_t)i;
            b.kind = WW_KIND_CHALLENGE_SCHEDULE;
            b.u.challenge_schedule.date = date;
            b.u.challenge_schedule.code.p = (const uint8_t *)"W01";
            b.u.challenge_schedule.code.len = 3;
            ref[0] = (uint8_t)(date >> 24), ref[1] = (uint8_t)(date >> 16);
            ref[2] = (uint8_t)(date >> 8), ref[3] = (uint8_t)date;
            refp = ref;
            audience = WW_AUD_GROUP;
        } else {
            b.kind = WW_KIND_MEMBER_ADD;
            b.u.member_add.member[0] = (uint8_t)(0x80 + i);
            b.u.member_add.role = i % 4 == 1 ? WW_ROLE_STUDENT : WW_ROLE_COACH;
            b.u.member_add.n_devices = 1;
            ww_store_device(newcomer, b.u.member_add.devices[0]);
        }
        static struct fx_ev ev;
        uint8_t hash[WW_EVENT_HASH_LEN];
        craft(sc.g.st[0], sc.g.gid, &b, audience, refp, refp ? 4 : 0, &ev, hash);
        /* What any replica says of these bytes: the role may not write them. */
        ASSERT_ERR(fx_apply1(sc.g.st[1], &ev).first_error, WW_EROLE);

        struct fx_bag bag = {.n = 1};
        bag.raw[0] = ev.raw;
        bag.len[0] = ev.len;
        struct ww_buf rec;
        ww_buf_init(&rec, 0);
        raw_batch(&r, sc.g.gid, &bag, 0, 1, &rec);
        raw_write(&sc.loop, &r, rec.p, rec.len);
        ww_buf_free(&rec);
        others_sync(&sc.loop, &sc.o);
        ASSERT(raw_until(&sc.loop, &r, &r.frames[WW_FRAME_ACK], i + 1, 5000));
        ASSERT_EQ(acked(&r, sc.att_pk), held);
        ASSERT(!holds(sc.hub_store, hash));
        ASSERT_EQ(fx_count(sc.hub_store, "SELECT count(*) FROM pending"), 0);
    }
    ASSERT(!r.closed);
    ASSERT_EQ(sc.hub.refused, before);
    ASSERT_EQ(r.frames[WW_FRAME_ERROR], 0);
    ASSERT_EQ(fx_count(sc.hub_store, "SELECT count(*) FROM members"), members);
    ASSERT_EQ(seq_of(sc.hub_store, sc.g.gid, sc.att_pk), held);
    fprintf(stderr, "# role escalation: %d crafted events, each answered by an ACK without it\n",
            N_OTHERS);
    others_report(&sc.o, "role escalation");
    raw_close(&r);
    ww_store_close(newcomer);
    scene_finish(&sc);
}

/* ---- Wrong keys --------------------------------------------------------------------- */

/* Round by round, while the others sync, a member's device (which has just written events
 * the hub lacks) tries three wrong keys: its hello claims the coach's device key over its
 * own Noise static key, or a device key that is no Ed25519 point, and each then sends its
 * vector and a batch of its genuine events; or its node dials the hub expecting another
 * key than the hub's. The hub fails the first two at message 3 (WW_EAUTH) and closes them
 * without opening a record of theirs; the dialer of the third stops before message 3 and
 * shows the hub nothing. The hub stores nothing of any of them. */
TEST(attack_wrong_key_against_a_running_hub)
{
    static struct scene sc;
    scene_start(&sc, NULL);
    uint8_t coach_pk[WW_KEY_LEN], junk[WW_KEY_LEN];
    fx_device(sc.g.coach, coach_pk);
    memset(junk, 0xff, sizeof junk);
    uint64_t held = seq_of(sc.hub_store, sc.g.gid, sc.att_pk);
    int lies = 0, dials = 0;
    char lie_reason[2][128], dial_reason[128] = "", hub_reason[128] = "";
    for (int i = 0; i < N_OTHERS; i++) {
        struct fx_bag bag;
        attacker_writes(&sc, i, &bag);
        int before = sc.hub.refused;
        if (i % 3 < 2) {
            static struct raw r;
            raw_open_claiming(&sc.loop, &r, sc.g.st[0], sc.port, i % 3 ? junk : coach_pk);
            struct ww_buf rec;
            ww_buf_init(&rec, 0);
            raw_vv_seal(&r, sc.g.gid, &rec);
            raw_batch(&r, sc.g.gid, &bag, 0, bag.n, &rec);
            raw_write(&sc.loop, &r, rec.p, rec.len);
            ww_buf_free(&rec);
            others_sync(&sc.loop, &sc.o);
            refused_with(&sc.loop, &sc.hub, before, 1, WW_EAUTH, 5000);
            snprintf(lie_reason[i % 3], sizeof lie_reason[0], "%s", sc.hub.refused_reason);
            int never = 0;
            raw_until(&sc.loop, &r, &never, 1, 2000);
            ASSERT(r.closed);
            for (int t = 0; t <= WW_FRAME_MAX_KNOWN; t++)
                ASSERT_EQ(r.frames[t], 0); /* not even the hub's vector */
            raw_close(&r);
            lies++;
        } else {
            int want = sc.attacker.down + 1, up = sc.attacker.up;
            ASSERT_OK(ww_node_dial(sc.attacker.node, "127.0.0.1", sc.port, coach_pk, NULL, 0, 1));
            others_sync(&sc.loop, &sc.o);
            ASSERT(loop_until(&sc.loop, &sc.attacker.down, want, 5000));
            ASSERT_ERR(sc.attacker.last_error, WW_EAUTH);
            ASSERT_EQ(sc.attacker.up, up); /* it never came up */
            /* The hub saw a handshake stop after message 2. */
            refused_with(&sc.loop, &sc.hub, before, 1, WW_ETRUNC, 5000);
            snprintf(dial_reason, sizeof dial_reason, "%s", sc.attacker.refused_reason);
            snprintf(hub_reason, sizeof hub_reason, "%s", sc.hub.refused_reason);
            dials++;
        }
        ASSERT_EQ(seq_of(sc.hub_store, sc.g.gid, sc.att_pk), held);
        ASSERT_EQ(fx_count(sc.hub_store, "SELECT count(*) FROM pending"), 0);
        fx_bag_free(&bag);
    }
    fprintf(stderr,
            "# wrong keys: %d lying hellos (\"%s\"; \"%s\"), %d dials expecting another hub "
            "(\"%s\"; the hub: \"%s\"); the hub holds none of the %d events they carried\n",
            lies, lie_reason[0], lie_reason[1], dials, dial_reason, hub_reason, 2 * N_OTHERS);
    others_report(&sc.o, "wrong keys");
    scene_finish(&sc);
}

/* ---- A device whose clock runs ahead ----------------------------------------------- */

#define DAY_MS (24ll * 3600 * 1000)
static int64_t clock_ahead_ms; /* how far the fast device's clock is ahead of fx_now */

static int64_t fast_now(void *ud)
{
    (void)ud;
    return fx_now + clock_ahead_ms;
}

/* 1 when the newest HLC the store issued or saw is no further ahead of fx_now than an
 * event within the allowed skew may drag it, and a second of stamps this device issued
 * since (the test's clock stands still, so they count up from there). */
static int clock_normal(struct ww_store *s)
{
    return (int64_t)(s->hlc >> 16) <= fx_now + WW_MAX_DRAG_MS + 1000;
}

/* The attacker's device is opened again with a clock clock_ahead_ms ahead, and its node
 * started again on it. */
static void attacker_runs_fast(struct scene *sc)
{
    int closed = 0;
    ww_node_close(sc->attacker.node, count_closed_cb, &closed);
    ASSERT(loop_until(&sc->loop, &closed, 1, 5000));
    ww_store_close(sc->g.st[0]);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/student1", ww_test_tmpdir());
    struct ww_options opt = {fast_now, NULL, NULL, NULL};
    ASSERT_OK(ww_store_open(dir, &opt, &sc->g.st[0]));
    peer_start(&sc->attacker, &sc->loop, sc->g.st[0], 0);
}

/* A member's device with a clock two days ahead (a day beyond the skew a replica allows)
 * writes and syncs through its node, while the others sync: the hub keeps its events in
 * pending, and they are applied once they are due (the hub's clock a day on). The same
 * device a year ahead: each event is refused (WW_ERANGE, as at any replica) and the hub
 * stores nothing of it, not even as pending. Throughout, neither the hub's clock nor the
 * coach's is dragged along: what the coach writes carries a normal HLC. */
TEST(attack_far_future_clock_against_a_running_hub)
{
    static struct scene sc;
    int64_t was = fx_now;
    scene_start(&sc, NULL);
    clock_ahead_ms = 2 * DAY_MS;
    attacker_runs_fast(&sc);
    uint64_t held = seq_of(sc.hub_store, sc.g.gid, sc.att_pk);
    for (int i = 0; i < N_OTHERS; i++) {
        ASSERT_OK(ww_day_off(sc.g.st[0], sc.g.gid, sc.o.day + 100 + (uint32_t)i, 1, NULL));
        sync_once(&sc.loop, &sc.attacker, sc.port, SYNC_LIMIT);
        others_sync(&sc.loop, &sc.o);
    }
    /* Its days off and the sync reports its node wrote after each sync: all waiting, and
     * the device knows the hub did not take them. */
    uint64_t ahead = seq_of(sc.g.st[0], sc.g.gid, sc.att_pk) - held;
    ASSERT_GE(sc.attacker.not_taken, N_OTHERS);
    ASSERT_EQ(sc.student2.not_taken, 0);
    ASSERT_GE(ahead, N_OTHERS);
    ASSERT_EQ(seq_of(sc.hub_store, sc.g.gid, sc.att_pk), held);
    ASSERT_EQ(fx_count(sc.hub_store, "SELECT count(*) FROM pending"), (long)ahead);
    ASSERT(clock_normal(sc.hub_store));
    ASSERT(clock_normal(sc.g.coach));
    ASSERT(clock_normal(sc.g.st[1]));
    others_report(&sc.o, "a clock two days ahead");

    /* A day on, the events are due: the hub applies them at the next batch it takes. */
    fx_now += DAY_MS + 1;
    others_sync(&sc.loop, &sc.o);
    ASSERT_EQ(fx_count(sc.hub_store, "SELECT count(*) FROM pending"), 0);
    held += ahead;
    ASSERT_EQ(seq_of(sc.hub_store, sc.g.gid, sc.att_pk), held);
    sc.o.phase_n = 0;
    sc.o.worst = 0;

    /* A year ahead: beyond what pending keeps, refused. */
    clock_ahead_ms = 366 * DAY_MS;
    for (int i = 0; i < N_OTHERS; i++) {
        ASSERT_OK(ww_day_off(sc.g.st[0], sc.g.gid, sc.o.day + 200 + (uint32_t)i, 1, NULL));
        sync_once(&sc.loop, &sc.attacker, sc.port, SYNC_LIMIT);
        others_sync(&sc.loop, &sc.o);
        ASSERT_EQ(seq_of(sc.hub_store, sc.g.gid, sc.att_pk), held);
        ASSERT_EQ(fx_count(sc.hub_store, "SELECT count(*) FROM pending"), 0);
        ASSERT_GE(sc.attacker.not_taken, (uint64_t)i + 1); /* and it is told */
    }
    /* What any replica says of the first of them. */
    struct fx_bag bag;
    lacking(sc.g.st[0], sc.hub_store, sc.g.gid, &bag);
    ASSERT_EQ(bag.n, seq_of(sc.g.st[0], sc.g.gid, sc.att_pk) - held);
    ASSERT_GE(bag.n, N_OTHERS);
    static struct fx_ev ev;
    memcpy(ev.raw, bag.raw[0], bag.len[0]);
    ev.len = bag.len[0];
    ASSERT_ERR(fx_apply1(sc.g.st[1], &ev).first_error, WW_ERANGE);
    size_t refused = bag.n;
    fx_bag_free(&bag);
    ASSERT(clock_normal(sc.hub_store));
    ASSERT(clock_normal(sc.g.st[1]));
    uint8_t hash[WW_EVENT_HASH_LEN];
    ASSERT_OK(ww_challenge_schedule(sc.g.coach, sc.g.gid, sc.o.day + 300, "W02", hash));
    ASSERT(clock_normal(sc.g.coach));
    fprintf(stderr,
            "# far-future clock: %llu events two days ahead waited and were applied a day "
            "on; %zu a year ahead refused\n",
            (unsigned long long)ahead, refused);
    others_report(&sc.o, "a clock a year ahead");

    ASSERT_EQ(fx_count(sc.hub_store, "SELECT count(*) FROM forks"), 0);
    struct peer *const nodes[] = {&sc.attacker, &sc.student2, &sc.coach, &sc.hub};
    finish(&sc.loop, nodes, 4, sc.hub_store, &sc.g);
    fx_now = was;
    clock_ahead_ms = 0;
}

/* ---- A fifth student through concurrent events -------------------------------------- */

/* The active members of a group as a store sees them: `list` their member ids (the first
 * four bytes in hex, sorted), the same on a replica that reads no names (the hub) as on one
 * that does; `names` their aliases in the store's order, for the log; and how many of them
 * are students. */
struct roster {
    char list[256];
    char names[256];
    char ids[16][9];
    int n, students;
};

static void roster_cb(void *ud, const struct ww_member_info *m)
{
    struct roster *r = ud;
    if (!m->active || r->n == 16)
        return;
    size_t at = strlen(r->names);
    snprintf(r->names + at, sizeof r->names - at, "%s%s", at ? "," : "", m->alias);
    sodium_bin2hex(r->ids[r->n++], 9, m->id, 4);
    r->students += m->role == WW_ROLE_STUDENT;
}

static int by_text(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void roster_of(struct ww_store *s, const uint8_t gid[WW_ID_LEN], struct roster *out)
{
    memset(out, 0, sizeof *out);
    ASSERT_OK(ww_members_list(s, gid, roster_cb, out));
    qsort(out->ids, (size_t)out->n, sizeof out->ids[0], by_text);
    char list[sizeof out->list] = "";
    for (int i = 0; i < out->n; i++) {
        size_t at = strlen(list);
        snprintf(list + at, sizeof list - at, "%s%s", i ? "," : "", out->ids[i]);
    }
    memcpy(out->list, list, sizeof list);
}

/* The owner's device is restored from a copy and both copies go on, each admitting a
 * different fourth student: two forks of the owner's log, which together would make five
 * students. The hub gets fork A first (the coach's sync), then the restored device syncs B
 * with it; the first student's device gets B first (from the restored device directly, as
 * on the ward's wifi), then syncs with the hub; then everyone syncs with the hub twice
 * round. Sync alone makes the forks meet: each VV entry carries the tip of the event held
 * at its seq (PROTOCOL.md 9.1), so the side that holds another event there sends the
 * owner's log, and a side that keeps its own branch sends it back (9.5). No replica ever
 * holds five students, and every replica ends with the same members. */
TEST(attack_fifth_student_through_forked_owner_logs)
{
    struct fx_group g;
    fx_group_make(&g, 3, 0, NULL);
    struct ww_store *hub_store = fx_open("hub");
    uv_loop_t loop;
    ASSERT_OK(uv_loop_init(&loop));
    static struct peer hub, coach, forked, st[3];
    peer_start(&hub, &loop, hub_store, 1000);
    peer_start(&coach, &loop, g.coach, 0);
    for (int i = 0; i < 3; i++)
        peer_start(&st[i], &loop, g.st[i], 0);
    ASSERT_OK(ww_node_listen(hub.node, "127.0.0.1", 0));
    int port = ww_node_port(hub.node);
    sync_once(&loop, &coach, port, 10000);
    for (int i = 0; i < 3; i++)
        sync_once(&loop, &st[i], port, 10000);

    /* The copy: the same device key, the same log so far. */
    char path[600], sql[700];
    snprintf(path, sizeof path, "%s/coach/fork.db", ww_test_tmpdir());
    snprintf(sql, sizeof sql, "VACUUM INTO '%s'", path);
    ASSERT_EQ(sqlite3_exec(g.coach->db, sql, NULL, NULL, NULL), SQLITE_OK);
    struct ww_store *fork = fx_open_db("coach", "fork.db");
    peer_start(&forked, &loop, fork, 0);
    struct ww_store *xd = fx_open("xandra"), *yd = fx_open("yara");
    uint8_t pk[WW_KEY_LEN], mx[WW_ID_LEN], my[WW_ID_LEN];
    ww_store_device(xd, pk);
    ASSERT_OK(ww_member_add(g.coach, g.gid, WW_ROLE_STUDENT, "Xandra", 1, 1, pk, mx));
    ww_store_device(yd, pk);
    ASSERT_OK(ww_member_add(fork, g.gid, WW_ROLE_STUDENT, "Yara", 1, 1, pk, my));
    struct roster ra, rb;
    roster_of(g.coach, g.gid, &ra);
    roster_of(fork, g.gid, &rb);
    ASSERT_EQ(ra.students, 4);
    ASSERT_EQ(rb.students, 4);

    /* Different orders at the hub and at a device. */
    uint64_t worst = 0, ms;
    ms = sync_once(&loop, &coach, port, SYNC_LIMIT);
    worst = ms > worst ? ms : worst;
    ms = sync_once(&loop, &forked, port, SYNC_LIMIT);
    worst = ms > worst ? ms : worst;
    fx_sync(fork, g.st[0], g.gid, 256);
    ms = sync_once(&loop, &st[0], port, SYNC_LIMIT);
    worst = ms > worst ? ms : worst;
    struct peer *all[] = {&coach, &forked, &st[0], &st[1], &st[2]};
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 5; i++) {
            ms = sync_once(&loop, all[i], port, SYNC_LIMIT);
            worst = ms > worst ? ms : worst;
        }

    struct ww_store *replicas[] = {hub_store, g.coach, fork, g.st[0], g.st[1], g.st[2]};
    static const char *const names[] = {"hub",      "coach",    "restored coach",
                                        "student1", "student2", "student3"};
    struct roster r[6];
    for (int i = 0; i < 6; i++) {
        roster_of(replicas[i], g.gid, &r[i]);
        long forks = fx_count(replicas[i], "SELECT count(*) FROM forks");
        fprintf(stderr, "# %s: %s (%d students, %ld forks recorded)\n", names[i], r[i].names,
                r[i].students, forks);
        ASSERT_LE(r[i].students, 4); /* never five */
    }
    fprintf(stderr, "# forked owner logs: 13 syncs, the slowest %llu ms\n",
            (unsigned long long)worst);
    ASSERT_LT(worst, P99_LIMIT);
    /* One fork is kept, the same one everywhere (every replica keeps the event with the
     * lower hash), and the copy of the owner's device whose fork lost takes it over too.
     * Which fork that is depends on the hashes; the fork is on record at the hub. */
    int a_kept = !strcmp(r[0].list, ra.list);
    ASSERT(a_kept || !strcmp(r[0].list, rb.list));
    for (int i = 1; i < 6; i++)
        ASSERT_STR_EQ(r[i].list, r[0].list);
    ASSERT_GT(fx_count(hub_store, "SELECT count(*) FROM forks"), 0);
    fprintf(stderr, "# the fork that admitted %s was kept\n", a_kept ? "Xandra" : "Yara");

    ww_store_close(xd);
    ww_store_close(yd);
    struct peer *const nodes[] = {&coach, &forked, &st[0], &st[1], &st[2], &hub};
    finish(&loop, nodes, 6, hub_store, &g);
    ww_store_close(fork);
}

/* ---- Connections that never complete a handshake ------------------------------------- */

/* How many of the n sockets the hub closed so far (the loop runs for ms first). */
static int closed_of(uv_loop_t *loop, const int *fds, int n, uint64_t ms)
{
    int never = 0, closed = 0;
    loop_until(loop, &never, 1, ms);
    for (int i = 0; i < n; i++)
        closed += tcp_closed(fds[i]);
    return closed;
}

/* Bytes that never make a handshake, from other addresses than the members' (127.0.0.1):
 * from 127.0.0.2, connections that say nothing or only part of message 1 (slowloris), more
 * of them than the hub keeps in their handshake per address (a flood); from 127.0.0.3,
 * garbage (random bytes, zeros, an HTTP request). The hub closes the flood beyond its bound
 * and the garbage at once, keeps the rest until its handshake timer runs out, and the
 * members' syncs meanwhile stay within the bound. */
#define HS_MS  1500 /* the hub's handshake timer in this test */
#define PER_IP 32   /* connections in their handshake the hub keeps per address here */
TEST(attack_slow_handshakes_floods_and_garbage_cost_the_others_nothing)
{
    static struct scene sc;
    struct ww_node_cfg tune = {.handshake_ms = HS_MS, .max_conns_per_ip = PER_IP};
    scene_start(&sc, &tune);
    enum { N_SLOW = PER_IP + 16, N_JUNK = 3 };
    int slow[N_SLOW], junk[N_JUNK];
    /* The hub's count of connections in their handshake counts only those: the members'
     * syncs that got through (or a connection closed after it) do not make it fall behind,
     * so the per-address bound holds as configured. */
    int kept = PER_IP;
    uv_update_time(&sc.loop);
    uint64_t start = uv_now(&sc.loop);
    static const uint8_t part[6] = {0, 0, 0, 32, 0x11, 0x22}; /* message 1, cut short */
    for (int i = 0; i < N_SLOW; i++) {
        slow[i] = tcp_connect(sc.port, "127.0.0.2");
        if (i % 2)
            ASSERT_EQ(send(slow[i], part, sizeof part, MSG_NOSIGNAL), (ssize_t)sizeof part);
    }
    static uint8_t garbage[3][4096];
    randombytes_buf(garbage[0], sizeof garbage[0]);
    static const char http[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    memcpy(garbage[2], http, sizeof http - 1);
    static const size_t junk_len[N_JUNK] = {sizeof garbage[0], sizeof garbage[1], sizeof http - 1};
    for (int i = 0; i < N_JUNK; i++) {
        junk[i] = tcp_connect(sc.port, "127.0.0.3");
        ASSERT_EQ(send(junk[i], garbage[i], junk_len[i], MSG_NOSIGNAL), (ssize_t)junk_len[i]);
    }
    ASSERT_EQ(closed_of(&sc.loop, slow, N_SLOW, 100), N_SLOW - kept);
    ASSERT_EQ(closed_of(&sc.loop, junk, N_JUNK, 0), N_JUNK);

    for (int i = 0; i < N_OTHERS; i++)
        others_sync(&sc.loop, &sc.o);
    uv_update_time(&sc.loop);
    uint64_t others_done = uv_now(&sc.loop) - start;
    ASSERT_EQ(closed_of(&sc.loop, slow, N_SLOW, 0), N_SLOW - kept); /* still hanging */
    int closed = 0;
    uv_update_time(&sc.loop);
    for (uint64_t end = uv_now(&sc.loop) + HS_MS + 2000; closed < N_SLOW;) {
        ASSERT_LT(uv_now(&sc.loop), end);
        closed = closed_of(&sc.loop, slow, N_SLOW, 20);
    }
    uv_update_time(&sc.loop);
    fprintf(stderr,
            "# %d slow handshakes from one address: %d closed at once, the others' syncs done "
            "after %llu ms, the rest closed by the hub's timer after %llu ms (\"%s\")\n",
            N_SLOW, N_SLOW - kept, (unsigned long long)others_done,
            (unsigned long long)(uv_now(&sc.loop) - start), sc.hub.refused_reason);
    ASSERT_GE(uv_now(&sc.loop) - start, HS_MS);
    ASSERT_ERR(sc.hub.refused_error, WW_EBUSY);
    others_report(&sc.o, "slow handshakes, a flood and garbage");
    for (int i = 0; i < N_SLOW; i++)
        close(slow[i]);
    for (int i = 0; i < N_JUNK; i++)
        close(junk[i]);
    scene_finish(&sc);
}

/* ---- A member floods the hub with valid events ------------------------------------------ */

/* One sync of p with the hub to its end, allowed to fail; the error it ended with. */
static int sync_result(uv_loop_t *loop, struct peer *p, int port)
{
    int want = p->down + 1;
    ASSERT_OK(ww_node_dial(p->node, "127.0.0.1", port, NULL, NULL, 0, 1));
    ASSERT(loop_until(loop, &p->down, want, SYNC_LIMIT));
    return p->last_error;
}

/* n group reflections of about 1.5 KB each, on days before `before`. */
static void long_reflections(struct ww_store *s, const uint8_t gid[16], uint32_t before, int n)
{
    static char text[401];
    memset(text, 'x', 400);
    for (int i = 0; i < n; i++) {
        struct ww_reflection r;
        memset(&r, 0, sizeof r);
        r.date = before - 1 - (uint32_t)i;
        r.code = "W01";
        r.status = 1;
        r.situatie = r.actie = r.reflectie = text;
        r.share = 2;
        ASSERT_OK(ww_reflection_put(s, gid, &r, NULL));
    }
}

/* The bytes the hub counts against an author in its bucket (what it added lately). */
static long quota_level(struct ww_store *hub, const uint8_t author[WW_KEY_LEN])
{
    char hex[2 * WW_KEY_LEN + 1], sql[200];
    sodium_bin2hex(hex, sizeof hex, author, WW_KEY_LEN);
    snprintf(sql, sizeof sql, "SELECT coalesce(max(level), 0) FROM quotas WHERE author = x'%s'",
             hex);
    return fx_count(hub, sql);
}

/* Everything `to` lacks of `from`'s copy of the group, in batches (a direct sync). */
static void deliver_all(struct ww_store *from, struct ww_store *to, const uint8_t gid[16])
{
    for (int more = 1; more;) {
        struct ww_vv_item vv[WW_MAX_VV];
        size_t n = 0;
        ASSERT_OK(ww_sync_vv(to, gid, vv, WW_MAX_VV, &n));
        struct fx_bag bag;
        memset(&bag, 0, sizeof bag);
        ASSERT_OK(ww_sync_missing(from, gid, vv, n, 256, 1u << 20, fx_bag_add, &bag, &more));
        ASSERT_GT(bag.n, 0);
        struct ww_apply_result r;
        ASSERT_OK(ww_sync_apply(to, (const uint8_t *const *)bag.raw, bag.len, bag.n, &r));
        fx_bag_free(&bag);
    }
}

#define QUOTA_DAY   (64 << 10)
#define QUOTA_BURST (256 << 10)

/* A member's device writes valid events, far more than a hub takes from one author (here
 * 64 KiB a day, 256 KiB at once; about 600 KiB of long reflections). The hub stores what
 * fits, acknowledges it and ends the sync with ERROR QUOTA (WW_EQUOTA at the device); the
 * next sync, a reconnect or a restarted hub node store nothing more of it the same day,
 * while the other members sync within the bound. A device that relays the flooder's events
 * with its own gets its own stored. A day on, the bucket has drained by a day's worth; after
 * enough days everything is stored and the device's sync completes. */
TEST(attack_member_flood_stops_at_its_quota)
{
    static struct scene sc;
    int64_t was = fx_now;
    struct ww_node_cfg tune;
    memset(&tune, 0, sizeof tune);
    tune.quota.per_day = QUOTA_DAY;
    tune.quota.burst = QUOTA_BURST;
    scene_start(&sc, &tune);
    uint64_t before = seq_of(sc.hub_store, sc.g.gid, sc.att_pk);
    long_reflections(sc.g.st[0], sc.g.gid, sc.o.day, 400);
    uint64_t wrote = seq_of(sc.g.st[0], sc.g.gid, sc.att_pk);

    ASSERT_ERR(sync_result(&sc.loop, &sc.attacker, sc.port), WW_EQUOTA);
    uint64_t held = seq_of(sc.hub_store, sc.g.gid, sc.att_pk);
    long level = quota_level(sc.hub_store, sc.att_pk);
    fprintf(stderr, "# flood: the hub took %llu of %llu events, %ld bytes\n",
            (unsigned long long)(held - before), (unsigned long long)(wrote - before), level);
    ASSERT_GT(held, before + 100); /* what fits is kept */
    ASSERT_LT(held, wrote);
    ASSERT_LE(level, QUOTA_BURST);
    ASSERT_GT(level, QUOTA_BURST - 4 * 2048); /* filled, short of one batch's last events */
    for (int i = 0; i < N_OTHERS; i++) {
        ASSERT_ERR(sync_result(&sc.loop, &sc.attacker, sc.port), WW_EQUOTA);
        others_sync(&sc.loop, &sc.o);
    }
    ASSERT_EQ(seq_of(sc.hub_store, sc.g.gid, sc.att_pk), held);
    others_report(&sc.o, "a member over its quota");

    /* A restarted hub node on the same store: the bucket is where it was. */
    int closed = 0;
    ww_node_close(sc.hub.node, count_closed_cb, &closed);
    ASSERT(loop_until(&sc.loop, &closed, 1, 5000));
    peer_start_tuned(&sc.hub, &sc.loop, sc.hub_store, 1000, &tune);
    ASSERT_OK(ww_node_listen(sc.hub.node, "127.0.0.1", 0));
    sc.port = sc.o.port = ww_node_port(sc.hub.node);
    ASSERT_ERR(sync_result(&sc.loop, &sc.attacker, sc.port), WW_EQUOTA);
    ASSERT_EQ(seq_of(sc.hub_store, sc.g.gid, sc.att_pk), held);

    /* The coach's device holds the flooder's events (a direct sync) and writes its own: the
     * hub stores the coach's, not the flooder's, and says why. */
    deliver_all(sc.g.st[0], sc.g.coach, sc.g.gid);
    uint8_t hash[WW_EVENT_HASH_LEN];
    ASSERT_OK(ww_challenge_schedule(sc.g.coach, sc.g.gid, sc.o.day + 90, "W02", hash));
    ASSERT_ERR(sync_result(&sc.loop, &sc.coach, sc.port), WW_EQUOTA);
    ASSERT(holds(sc.hub_store, hash));
    ASSERT_EQ(seq_of(sc.hub_store, sc.g.gid, sc.att_pk), held);

    /* A day on: about a day's worth more. */
    fx_now += DAY_MS;
    ASSERT_ERR(sync_result(&sc.loop, &sc.attacker, sc.port), WW_EQUOTA);
    uint64_t day2 = seq_of(sc.hub_store, sc.g.gid, sc.att_pk);
    ASSERT_GT(day2, held + 20); /* 64 KiB: about 40 reflections */
    ASSERT_LT(day2, held + 60);

    /* Days on, the rest is stored, at most a burst a sync: the device's sync completes. */
    int rounds = 0, rc = WW_EQUOTA;
    while (rc == WW_EQUOTA && rounds++ < 10) {
        fx_now += 4 * DAY_MS;
        rc = sync_result(&sc.loop, &sc.attacker, sc.port);
    }
    ASSERT_OK(rc);
    ASSERT_EQ(rounds, 2); /* about 280 KiB left: a burst of 256 KiB, then the rest */
    ASSERT_EQ(seq_of(sc.hub_store, sc.g.gid, sc.att_pk), seq_of(sc.g.st[0], sc.g.gid, sc.att_pk));
    ASSERT_OK(sync_result(&sc.loop, &sc.coach, sc.port));
    scene_finish(&sc);
    fx_now = was;
}

/* ---- A redemption handed to the coach's device by someone other than the hub ------------- */

/* A student who holds a device code (her own) signs a redemption of it for another
 * device's key and hands it straight to the coach's device, which listens on the ward's
 * network. The coach's device takes redemptions only from the group's hub, which saw the
 * redeeming device prove its key: this one is ignored, the key is not planted in the group,
 * nothing is held, and the connection goes on. */
TEST(attack_redemption_from_a_peer_that_is_not_the_hub)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    struct ww_store *hub = fx_open("hub"), *victim = fx_open("victim");
    uint8_t hub_pk[32], victim_pk[32];
    fx_device(hub, hub_pk);
    fx_device(victim, victim_pk);
    ASSERT_OK(ww_group_hub_set(g.coach, g.gid, hub_pk, "127.0.0.1:1", NULL));
    fx_sync(g.coach, g.st[0], g.gid, 256);
    char code[WW_INVITE_CODE_MAX];
    ASSERT_OK(ww_device_invite(g.st[0], g.gid, 0, code, sizeof code, NULL));
    fx_sync(g.st[0], g.coach, g.gid, 256);
    struct ww_invite_code c;
    ASSERT_OK(ww_invite_code_parse(code, &c));
    struct ww_redemption red;
    memset(&red, 0, sizeof red);
    memcpy(red.device, victim_pk, 32);
    red.alias = "";
    ASSERT_OK(ww_redemption_sign(c.secret, &red));

    uv_loop_t loop;
    ASSERT_OK(uv_loop_init(&loop));
    struct peer coach;
    memset(&coach, 0, sizeof coach);
    struct ww_node_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = g.coach;
    cfg.admit_invites = 1;
    cfg.ud = &coach;
    cfg.on_conn = peer_conn_cb;
    ASSERT_OK(ww_node_new(&loop, &cfg, &coach.node));
    ASSERT_OK(ww_node_listen(coach.node, "127.0.0.1", 0));
    static struct raw r;
    raw_open(&loop, &r, g.st[0], ww_node_port(coach.node));
    raw_vv(&loop, &r, g.gid);
    static struct ww_frame f;
    memset(&f, 0, sizeof f);
    f.type = WW_FRAME_REDEMPTION;
    memcpy(f.u.redeem.group, g.gid, 16);
    memcpy(f.u.redeem.invite, red.invite, 32);
    memcpy(f.u.redeem.device, red.device, 32);
    memcpy(f.u.redeem.sig, red.sig, 64);
    struct ww_buf rec;
    ww_buf_init(&rec, 0);
    raw_seal(&r, &f, &rec);
    memset(&f, 0, sizeof f); /* and a PING after it: its PONG says the REDEMPTION was read */
    f.type = WW_FRAME_PING;
    f.u.ping.nonce = 7;
    raw_seal(&r, &f, &rec);
    raw_write(&loop, &r, rec.p, rec.len);
    ww_buf_free(&rec);
    ASSERT(raw_until(&loop, &r, &r.frames[WW_FRAME_PONG], 1, 5000));
    char hex[65], sql[160];
    sodium_bin2hex(hex, sizeof hex, victim_pk, 32);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM devices WHERE device=x'%s'", hex);
    ASSERT_EQ(fx_count(g.coach, sql), 0);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM redemptions"), 0);
    ASSERT(!r.closed);
    raw_close(&r);
    struct peer *const nodes[] = {&coach};
    finish(&loop, nodes, 1, hub, &g);
    ww_store_close(victim);
}
