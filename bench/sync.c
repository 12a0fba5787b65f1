/*
 * sync.c - network sync over 127.0.0.1: a new device's catch-up through the hub, its bytes
 * on the wire, the latency of live traffic between the devices of many groups, the hub's
 * memory per idle connection, and handshakes per second.
 *
 * The hub always runs in a child process of its own (one node on one loop, one store on
 * disk), as it does in production; every device node runs in this process, on one loop.
 * So on a 2-core machine the hub has a core and all devices share the other: the live
 * latencies include the queueing of up to 5 * G device nodes behind each other on that
 * one core, which a real phone never has. The child answers a socketpair with its own
 * figures (connections, resident set, heap), so the hub's memory is measured alone.
 *
 * Parts, in order, each printed as soon as it is measured:
 *  1. catch-up: a coach and four students write E reflections shared with the group
 *     (about 400 bytes of text each); the coach uploads them to the hub once; then a new
 *     device of the coach (added with ww_device_add before the upload) dials the hub once
 *     and catches up. Timed from the dial to WW_CONN_DOWN. Next to it, the same events
 *     read from the hub's store in pages of 256 and applied to a fresh store of the same
 *     device directly: no socket, no channel, no second process.
 *  2. the catch-up's bytes on the socket, both directions, per event.
 *  3. live: G groups of a coach and four students, every device connected to the hub and
 *     synced; writes (a student's "geen dienst", a coach's schedule) on random devices,
 *     each followed by ww_node_notify, for 5 s: first at a fifth of the rate (live_low_*),
 *     then at the rate asked (about 1000 a second; live_*). A write's latency to a device
 *     is from just before the write call to the first loop turn after which the receiving
 *     store's version vector holds it (a vector is read again only when its store's SQLite
 *     change counter moved, so polling costs next to nothing); live_all_devices_* is until
 *     the last of the four holds it. Each process's CPU use is printed with it: when the
 *     device process nears one core, the latencies measure that process's queue.
 *  4. idle connections: C connections of member devices to a fresh hub process, each
 *     authenticated, its group synced, then idle. The first G (one per group) warm the
 *     hub's caches and are not counted. idle_conn_bytes is what the hub's allocator holds
 *     per further connection (glibc's bytes in use: every block of the library, libuv's
 *     handles inside them, SQLite's memory, malloc's overhead); idle_conn_rss_bytes is the
 *     growth of its resident set, which is lower because calloc'd pages stay untouched
 *     until written. Kernel socket buffers are in neither. Then handshakes while those
 *     connections stay open (handshakes_with_idle_conns_per_s).
 *  5. handshakes: dials from one device that complete the Noise XX handshake and close,
 *     32 at a time and one at a time, to a fresh hub; counted by the hub (its WW_CONN_UP),
 *     next to the same machine's cryptography for one handshake, both sides on one core
 *     (as bench/handshake.c measures it). Client and hub each have a core here.
 *
 * Output: "bench: NAME VALUE UNIT" and "limit: NAME VALUE UNIT" lines; notes on stderr.
 * Usage: sync [events [groups [connections [rate]]]]   (default 100000 1000 10000 1000)
 * events 0 leaves out parts 1 and 2, groups 0 parts 3 and 4 (to look at one part alone).
 * Everything is bounded: setup phases stop early at their time budget (the figures then
 * say what was used) and an alarm ends the program after 170 s whatever happens.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "alloc.h"
#include "store.h"
#include "wegwijs.h"
#include "wegwijs_sync.h"

#define ALARM_S      170 /* the whole program, whatever happens */
#define DIAL_WINDOW  128 /* handshakes in flight from this process (the hub allows 256) */
#define LIVE_SECONDS 5.0
#define DEVS         5 /* per group: a coach and four students */

/* ---- Helpers ---------------------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The stores' clock: a fixed date (2026-11-24) that runs at the speed of the monotonic
 * clock, so the hub's child process and this one agree without sharing anything. */
static int64_t clock_base_ms;

static int64_t clock_ms(void *ud)
{
    (void)ud;
    return clock_base_ms + (int64_t)(now_s() * 1000.0);
}

static char root_dir[] = "/tmp/ww-bench-sync-XXXXXX";

/* The alarm: say so, and which folder is left behind, and end. */
static void out_of_time(int sig)
{
    (void)sig;
    static const char msg[] = "bench sync: out of time; left ";
    ssize_t w = write(2, msg, sizeof msg - 1);
    w += write(2, root_dir, strlen(root_dir));
    w += write(2, "\n", 1);
    (void)w;
    _exit(3);
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench sync: %s: %s\n", what, ww_strerror(rc));
    exit(1);
}

static struct ww_store *open_dev(const char *dir, const char *db)
{
    struct ww_options opt = {clock_ms, NULL, NULL, db};
    struct ww_store *s = NULL;
    int rc = ww_store_open(dir, &opt, &s);
    if (rc != 0)
        die("open a store", rc);
    return s;
}

static void make_dir(const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        die("mkdir", WW_EIO);
}

static uint64_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile of n sorted values (nearest rank). */
static double quantile(const double *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t k = (size_t)(q * (double)n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return v[k - 1];
}

/* The loop with a ticker, so a wait that polls never blocks for more than 20 ms. */
static uv_loop_t loop;
static uv_timer_t ticker;

static void tick_cb(uv_timer_t *t)
{
    (void)t;
}

static void loop_open(void)
{
    if (uv_loop_init(&loop) != 0)
        die("uv_loop_init", WW_EIO);
    uv_timer_init(&loop, &ticker);
    uv_timer_start(&ticker, tick_cb, 20, 20);
}

static void loop_close(void)
{
    uv_close((uv_handle_t *)&ticker, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0)
        die("uv_loop_close: handles left open", WW_ESTATE);
}

/* Runs the loop until done(ud) or timeout_s passed; 0 when done. */
static int wait_for(int (*done)(void *ud), void *ud, double timeout_s)
{
    double end = now_s() + timeout_s;
    while (!done(ud)) {
        if (now_s() > end)
            return -1;
        uv_run(&loop, UV_RUN_ONCE);
    }
    return 0;
}

/* Waits until *counter >= want. */
static int wait_count(const long *counter, long want, double timeout_s)
{
    double end = now_s() + timeout_s;
    while (*counter < want) {
        if (now_s() > end)
            return -1;
        uv_run(&loop, UV_RUN_ONCE);
    }
    return 0;
}

/* ---- The hub, in a child process -------------------------------------------------------- */

struct hub_stats {
    uint64_t rss, heap;
    long blocks;  /* ww_alloc_outstanding() */
    double cpu_s; /* user + system time of the hub process */
    long ups, downs, down_errors, open;
};

struct hub_proc {
    pid_t pid;
    int fd;
    int port;
    uint8_t pk[WW_KEY_LEN]; /* its device key, for a group to name it */
};

static struct {
    struct ww_store *store;
    struct ww_node *node;
    uv_poll_t poll;
    int fd;
    struct hub_stats st;
    int quitting;
} hub;

static void hub_on_conn(void *ud, const struct ww_conn_info *info)
{
    (void)ud;
    if (info->event == WW_CONN_UP)
        hub.st.ups++;
    else if (info->event == WW_CONN_DOWN) {
        hub.st.downs++;
        if (info->error)
            hub.st.down_errors++;
    }
}

static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void hub_fill(void)
{
    hub.st.cpu_s = cpu_seconds();
    hub.st.rss = rss_bytes();
    hub.st.heap = heap_bytes();
    hub.st.blocks = ww_alloc_outstanding();
    hub.st.open = (long)ww_node_conns(hub.node);
}

static void hub_node_closed(void *ud)
{
    (void)ud;
    hub.node = NULL;
}

static void hub_quit(void)
{
    if (hub.quitting)
        return;
    hub.quitting = 1;
    uv_poll_stop(&hub.poll);
    uv_close((uv_handle_t *)&hub.poll, NULL);
    ww_node_close(hub.node, hub_node_closed, NULL);
}

static void hub_cmd(uv_poll_t *p, int status, int events)
{
    (void)p, (void)events;
    char cmd = 'q';
    if (status < 0 || read(hub.fd, &cmd, 1) != 1)
        cmd = 'q';
    hub_fill();
    if (cmd == 'r' || cmd == 'q') {
        if (write(hub.fd, &hub.st, sizeof hub.st) != (ssize_t)sizeof hub.st)
            cmd = 'q';
    }
    if (cmd == 'q')
        hub_quit();
}

/* The child: a hub on the store in dir until told to quit or the parent goes away. */
static void hub_main(const char *dir, int fd)
{
    signal(SIGALRM, SIG_DFL);
    alarm(ALARM_S);
    /* Nothing of the parent's stays open here: its sockets must close when it closes them. */
    struct rlimit rl;
    long maxfd = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (long)rl.rlim_cur : 1024;
    for (long i = 3; i < maxfd; i++)
        if (i != fd)
            close((int)i);
    memset(&hub, 0, sizeof hub);
    hub.fd = fd;
    hub.store = open_dev(dir, NULL);
    uv_loop_t l;
    if (uv_loop_init(&l) != 0)
        _exit(1);
    struct ww_node_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = hub.store;
    cfg.hub = 1;
    cfg.accept_new_groups = 1;
    cfg.on_conn = hub_on_conn;
    int rc = ww_node_new(&l, &cfg, &hub.node);
    if (rc == 0)
        rc = ww_node_listen(hub.node, "127.0.0.1", 0);
    int port = rc == 0 ? ww_node_port(hub.node) : 0;
    if (write(fd, &port, sizeof port) != (ssize_t)sizeof port || port == 0)
        _exit(1);
    uv_poll_init(&l, &hub.poll, fd);
    uv_poll_start(&hub.poll, UV_READABLE | UV_DISCONNECT, hub_cmd);
    uv_run(&l, UV_RUN_DEFAULT);
    int bad = uv_loop_close(&l) != 0;
    ww_store_close(hub.store);
    close(fd);
    _exit(bad);
}

static void hub_spawn(const char *dir, struct hub_proc *h)
{
    /* The hub's identity is made here, so that this side knows its key. */
    struct ww_store *s = open_dev(dir, NULL);
    ww_store_device(s, h->pk);
    ww_store_close(s);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        die("socketpair", WW_EIO);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        die("fork", WW_EIO);
    if (pid == 0) {
        close(sv[0]);
        hub_main(dir, sv[1]);
    }
    close(sv[1]);
    h->pid = pid;
    h->fd = sv[0];
    if (read(h->fd, &h->port, sizeof h->port) != (ssize_t)sizeof h->port || h->port <= 0)
        die("the hub did not start", WW_EIO);
}

static void hub_ask(struct hub_proc *h, char cmd, struct hub_stats *st)
{
    struct hub_stats tmp;
    if (!st)
        st = &tmp;
    if (write(h->fd, &cmd, 1) != 1)
        die("hub command", WW_EIO);
    size_t got = 0;
    while (got < sizeof *st) {
        ssize_t n = read(h->fd, (char *)st + got, sizeof *st - got);
        if (n <= 0)
            die("hub answer", WW_EIO);
        got += (size_t)n;
    }
}

static void hub_stop(struct hub_proc *h, struct hub_stats *st)
{
    hub_ask(h, 'q', st);
    int status = 0;
    if (waitpid(h->pid, &status, 0) != h->pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("the hub did not end cleanly", WW_ESTATE);
    close(h->fd);
}

/* ---- Device nodes in this process -------------------------------------------------------- */

struct dev {
    struct ww_store *s;
    struct ww_node *node;
    uint8_t pk[WW_KEY_LEN];
    long ups, synced, downs;
    int last_error;
    /* The store's change counter and group vector when last read (part 3). */
    int changes;
    size_t n_vv;
    struct ww_vv_item vv[8];
    /* Part 1: what the connection that went down reported. */
    struct ww_conn_info last;
    double down_at;
    uint32_t next_date;
};

static long total_ups, total_synced, total_downs, total_errors, nodes_closed;
static uint64_t total_ev_sent, total_ev_received; /* over connections that went down */

static void dev_on_conn(void *ud, const struct ww_conn_info *info)
{
    struct dev *d = ud;
    if (info->event == WW_CONN_UP) {
        d->ups++;
        total_ups++;
    } else if (info->event == WW_CONN_SYNCED) {
        d->synced++;
        total_synced++;
    } else if (info->event == WW_CONN_DOWN) {
        d->downs++;
        total_downs++;
        d->last_error = info->error;
        d->last = *info;
        d->last.addr = NULL;
        d->last.reason = NULL;
        d->down_at = now_s();
        total_ev_sent += info->events_sent;
        total_ev_received += info->events_received;
        if (info->error) {
            total_errors++;
            if (total_errors <= 5)
                fprintf(stderr, "# connection down: %s (%s)\n", ww_strerror(info->error),
                        info->reason);
        }
    }
}

static void dev_node(struct dev *d)
{
    struct ww_node_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = d->s;
    cfg.ud = d;
    cfg.on_conn = dev_on_conn;
    int rc = ww_node_new(&loop, &cfg, &d->node);
    if (rc != 0)
        die("node", rc);
}

static void node_closed(void *ud)
{
    (void)ud;
    nodes_closed++;
}

/* The events of a group a store holds, collected as copies. */
struct events {
    uint8_t **raw;
    size_t *len;
    size_t n, cap;
};

static void collect(void *ud, const uint8_t *ev, size_t len)
{
    struct events *e = ud;
    if (e->n == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 1024;
        e->raw = realloc(e->raw, cap * sizeof *e->raw);
        e->len = realloc(e->len, cap * sizeof *e->len);
        if (!e->raw || !e->len)
            die("realloc", WW_ENOMEM);
        e->cap = cap;
    }
    e->raw[e->n] = malloc(len);
    if (!e->raw[e->n])
        die("malloc", WW_ENOMEM);
    memcpy(e->raw[e->n], ev, len);
    e->len[e->n++] = len;
}

static void events_clear(struct events *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->raw[i]);
    e->n = 0;
}

static void events_free(struct events *e)
{
    events_clear(e);
    free(e->raw);
    free(e->len);
    memset(e, 0, sizeof *e);
}

/* Moves every event of gid that `to` lacks from `from`, in pages of 256. */
static void copy_group(struct ww_store *from, struct ww_store *to, const uint8_t *gid)
{
    struct events e = {0};
    for (;;) {
        struct ww_vv_item vv[64];
        size_t nvv = 0;
        int more = 0, rc = ww_sync_vv(to, gid, vv, 64, &nvv);
        if (rc == 0)
            rc = ww_sync_missing(from, gid, vv, nvv, 256, 1u << 20, collect, &e, &more);
        if (rc != 0)
            die("missing", rc);
        if (e.n == 0)
            break;
        struct ww_apply_result r;
        if ((rc = ww_sync_apply(to, (const uint8_t *const *)e.raw, e.len, e.n, &r)) != 0)
            die("apply", rc);
        if (r.rejected || r.accepted == 0)
            die("copy: events not accepted", r.first_error ? r.first_error : WW_ESTATE);
        events_clear(&e);
        if (!more)
            break;
    }
    events_free(&e);
}

static void my_member(void *ud, const struct ww_group_info *g)
{
    memcpy(ud, g->my_member, WW_ID_LEN);
}

static int same_vv(struct ww_store *a, struct ww_store *b, const uint8_t *gid)
{
    struct ww_vv_item x[64], y[64];
    size_t nx = 0, ny = 0;
    if (ww_sync_vv(a, gid, x, 64, &nx) != 0 || ww_sync_vv(b, gid, y, 64, &ny) != 0 || nx != ny)
        return 0;
    for (size_t i = 0; i < nx; i++) {
        size_t k = 0;
        while (k < ny && memcmp(x[i].author, y[k].author, WW_KEY_LEN))
            k++;
        if (k == ny || x[i].seq != y[k].seq)
            return 0;
    }
    return 1;
}

/* ---- 1 and 2: a new device catches up ---------------------------------------------------- */

static const char text[] =
    "Vandaag heb ik tijdens de ochtendzorg gevraagd of ik mocht meekijken bij het gebruik "
    "van de tillift. Mijn werkbegeleider legde stap voor stap uit waar je op let en waarom. "
    "Daarna heb ik het zelf gedaan terwijl zij meekeek.";

static void part_catchup(const char *root, long n_events)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/c", root);
    make_dir(dir);
    snprintf(dir, sizeof dir, "%s/c/coach", root);
    struct ww_store *coach = open_dev(dir, NULL), *st[4];
    uint8_t gid[WW_ID_LEN], member[WW_ID_LEN], pk[WW_KEY_LEN], coach_member[WW_ID_LEN];
    int rc = ww_group_create(coach, "Bench", NULL, 0, "Coach", NULL, gid, NULL);
    if (rc != 0)
        die("group", rc);
    uint32_t start = 0;
    if ((rc = ww_day_today(coach, gid, &start)) != 0 ||
        (rc = ww_group_get(coach, gid, my_member, coach_member)) != 0)
        die("group info", rc);
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", i);
        snprintf(dir, sizeof dir, "%s/c/%s", root, name);
        st[i] = open_dev(dir, NULL);
        ww_store_device(st[i], pk);
        if ((rc = ww_member_add(coach, gid, WW_ROLE_STUDENT, name, 1, 1, pk, member)) != 0)
            die("member", rc);
    }
    /* The coach's new phone: a member device the hub serves, with a store of its own. */
    snprintf(dir, sizeof dir, "%s/c/phone", root);
    struct ww_store *phone = open_dev(dir, NULL);
    ww_store_device(phone, pk);
    if ((rc = ww_device_add(coach, gid, coach_member, pk, NULL)) != 0)
        die("device add", rc);
    for (int i = 0; i < 4; i++)
        copy_group(coach, st[i], gid);

    /* Each student writes one reflection per date, shared with the group. */
    double t_gen = now_s();
    long per = n_events / 4;
    for (int i = 0; i < 4; i++) {
        for (long k = 0; k < per; k++) {
            struct ww_reflection r;
            memset(&r, 0, sizeof r);
            r.date = start + (uint32_t)k;
            r.code = "W03";
            r.status = WW_STATUS_DONE;
            r.situatie = text + 60;  /* about 150 bytes */
            r.actie = text + 90;     /* 120 */
            r.reflectie = text + 80; /* 130 */
            r.share = WW_SHARE_GROUP;
            if ((rc = ww_reflection_put(st[i], gid, &r, NULL)) != 0)
                die("reflection", rc);
        }
        copy_group(st[i], coach, gid); /* the coach collects them, as a device sync would */
    }
    struct events all = {0};
    if ((rc = ww_sync_missing(coach, gid, NULL, 0, SIZE_MAX, SIZE_MAX, collect, &all, NULL)))
        die("missing", rc);
    size_t total = all.n, body_bytes = 0;
    for (size_t i = 0; i < all.n; i++)
        body_bytes += all.len[i];
    events_free(&all);
    fprintf(stderr, "# catch-up: %zu events of %.0f bytes on average, written in %.1f s\n", total,
            (double)body_bytes / (double)total, now_s() - t_gen);

    /* The coach uploads everything to the hub, once. */
    struct hub_proc hp;
    snprintf(dir, sizeof dir, "%s/c/hub", root);
    hub_spawn(dir, &hp);
    char hub_addr[32];
    snprintf(hub_addr, sizeof hub_addr, "127.0.0.1:%d", hp.port);
    if ((rc = ww_group_hub_set(coach, gid, hp.pk, hub_addr, NULL)) != 0)
        die("name the hub", rc); /* a hub holds more than a probation only of groups naming it */
    total++;                     /* that group.hub is an event of the group too */
    loop_open();
    struct dev dc, dp;
    memset(&dc, 0, sizeof dc);
    memset(&dp, 0, sizeof dp);
    dc.s = coach;
    dp.s = phone;
    dev_node(&dc);
    dev_node(&dp);
    double t_up = now_s();
    if ((rc = ww_node_dial(dc.node, "127.0.0.1", hp.port, NULL, NULL, 0, 1)) != 0)
        die("dial", rc);
    if (wait_count(&dc.downs, 1, 60) != 0 || dc.last_error != 0)
        die("upload", dc.last_error ? dc.last_error : WW_EBUSY);
    fprintf(stderr, "# catch-up: upload of %llu events took %.1f s\n",
            (unsigned long long)dc.last.events_sent, now_s() - t_up);

    /* The phone, which holds nothing yet, catches up: timed from dial to DOWN. */
    uint8_t groups[1][WW_ID_LEN];
    memcpy(groups[0], gid, WW_ID_LEN);
    double t0 = now_s();
    if ((rc = ww_node_dial(dp.node, "127.0.0.1", hp.port, NULL, (const uint8_t(*)[WW_ID_LEN])groups,
                           1, 1)) != 0)
        die("dial", rc);
    if (wait_count(&dp.downs, 1, 90) != 0 || dp.last_error != 0)
        die("catch-up", dp.last_error ? dp.last_error : WW_EBUSY);
    double took = dp.down_at - t0;
    uint64_t got = dp.last.events_received;
    uint64_t wire = dp.last.bytes_sent + dp.last.bytes_received;
    if (got != total || !same_vv(phone, coach, gid)) {
        fprintf(stderr, "bench sync: the phone received %llu of %zu events\n",
                (unsigned long long)got, total);
        exit(1);
    }
    ww_node_close(dc.node, node_closed, NULL);
    ww_node_close(dp.node, node_closed, NULL);
    loop_close();
    hub_stop(&hp, NULL);
    printf("bench: catchup_events %zu events\n", total);
    printf("bench: catchup_seconds %.3f s\n", took);
    printf("bench: catchup_events_per_s %.0f events/s\n", (double)total / took);
    printf("bench: wire_bytes_per_event %.1f bytes\n", (double)wire / (double)got);
    printf("bench: stored_bytes_per_event %.1f bytes\n", (double)body_bytes / (double)total);
    fflush(stdout);

    /* The same events without the network: read from the hub's store in pages of 256 as a
     * session does (the peer's vector raised by each event), then applied to a fresh store
     * of the same phone. */
    struct ww_store *hs = open_dev(dir, NULL);
    struct events pages = {0};
    struct ww_vv_item vv[64];
    size_t nvv = 0, n_pages = 0;
    size_t *page_end = malloc((total / 256 + 2) * sizeof *page_end);
    double t_read = now_s();
    for (int more = 1; more;) {
        size_t before = pages.n;
        if ((rc = ww_sync_missing(hs, gid, vv, nvv, 256, (1u << 20) - 4096, collect, &pages,
                                  &more)) != 0)
            die("missing", rc);
        if (pages.n == before)
            break;
        for (size_t i = before; i < pages.n; i++)
            if ((rc = ww_sync_vv_advance(gid, pages.raw[i], pages.len[i], vv, &nvv, 64)) != 0)
                die("vv advance", rc);
        if (n_pages < total / 256 + 2)
            page_end[n_pages++] = pages.n;
    }
    double read_s = now_s() - t_read;
    ww_store_close(hs);
    snprintf(dir, sizeof dir, "%s/c/phone", root);
    struct ww_store *fresh = open_dev(dir, "direct.db");
    size_t accepted = 0, from = 0;
    double t_apply = now_s();
    for (size_t p = 0; p < n_pages; p++) {
        struct ww_apply_result r;
        if ((rc = ww_sync_apply(fresh, (const uint8_t *const *)pages.raw + from, pages.len + from,
                                page_end[p] - from, &r)) != 0)
            die("apply", rc);
        accepted += r.accepted;
        from = page_end[p];
    }
    double apply_s = now_s() - t_apply;
    if (accepted != total || pages.n != total) {
        fprintf(stderr, "bench sync: applied %zu of %zu events directly\n", accepted, total);
        exit(1);
    }
    printf("limit: missing_events_per_s %.0f events/s\n", (double)total / read_s);
    printf("limit: apply_events_per_s %.0f events/s\n", (double)total / apply_s);
    printf("limit: missing_then_apply_events_per_s %.0f events/s\n",
           (double)total / (read_s + apply_s));
    fflush(stdout);
    free(page_end);
    events_free(&pages);
    ww_store_close(fresh);
    ww_store_close(phone);
    ww_store_close(coach);
    for (int i = 0; i < 4; i++)
        ww_store_close(st[i]);
}

static double handshakes(struct hub_proc *hp, size_t concurrency, double seconds);
static void hs_use_store(struct ww_store *s);

/* ---- 3: live latency across many groups ----------------------------------------------- */

struct lgroup {
    uint8_t gid[WW_ID_LEN];
    uint32_t start;
    struct dev d[DEVS];
};

static double live_rate = 1000; /* writes per second, all groups together */
static struct lgroup *groups;
static size_t n_groups;

struct probe {
    uint32_t g;
    uint8_t writer;
    uint8_t left; /* bit r: device r of the group does not hold it yet */
    uint64_t seq;
    double t0;
};

static struct {
    struct probe *probes;
    size_t n, cap;
    size_t *pending; /* indices of probes with bits left */
    size_t n_pending;
    double *lat, *lat_all; /* ms, per receiving device and until the last one */
    size_t n_lat, n_lat_all;
    double t_start, t_stop;
    uint64_t rng;
    uv_timer_t load;
    uv_check_t check;
    int writing;
} live;

static uint32_t rnd(uint32_t n)
{
    live.rng ^= live.rng << 13;
    live.rng ^= live.rng >> 7;
    live.rng ^= live.rng << 17;
    return (uint32_t)(live.rng % n);
}

static uint64_t own_seq(struct dev *d, const uint8_t *gid)
{
    struct ww_vv_item vv[16];
    size_t n = 0;
    int rc = ww_sync_vv(d->s, gid, vv, 16, &n);
    if (rc != 0)
        die("vv", rc);
    for (size_t i = 0; i < n && i < 16; i++)
        if (!memcmp(vv[i].author, d->pk, WW_KEY_LEN))
            return vv[i].seq;
    die("own seq", WW_ESTATE);
    return 0;
}

/* One write on a random device, followed by notify; its probe waits for the other four. */
static void live_write(void)
{
    if (live.n == live.cap)
        return;
    uint32_t g = rnd((uint32_t)n_groups), w = rnd(DEVS);
    struct lgroup *lg = &groups[g];
    struct dev *d = &lg->d[w];
    struct probe *p = &live.probes[live.n];
    p->g = g;
    p->writer = (uint8_t)w;
    p->left = (uint8_t)(((1u << DEVS) - 1) & ~(1u << w));
    p->t0 = now_s();
    uint32_t date = lg->start + d->next_date++;
    int rc = w == 0 ? ww_challenge_schedule(d->s, lg->gid, date, "W01", NULL)
                    : ww_day_off(d->s, lg->gid, date, 1, NULL);
    if (rc != 0)
        die("live write", rc);
    p->seq = own_seq(d, lg->gid);
    live.pending[live.n_pending++] = live.n++;
    ww_node_notify(d->node, lg->gid);
}

static void load_cb(uv_timer_t *t)
{
    (void)t;
    double now = now_s();
    if (!live.writing)
        return;
    if (now >= live.t_start + LIVE_SECONDS) {
        live.writing = 0;
        live.t_stop = now;
        uv_timer_stop(&live.load);
        return;
    }
    size_t due = (size_t)((now - live.t_start) * live_rate);
    while (live.n < due && live.n < live.cap)
        live_write();
}

/* After each loop turn: which pending writes reached which devices. A device's vector is
 * read again only when its store changed since the last read. */
static void check_cb(uv_check_t *h)
{
    (void)h;
    double now = now_s();
    size_t keep = 0;
    for (size_t i = 0; i < live.n_pending; i++) {
        struct probe *p = &live.probes[live.pending[i]];
        struct lgroup *lg = &groups[p->g];
        const uint8_t *author = lg->d[p->writer].pk;
        for (int r = 0; r < DEVS; r++) {
            if (!(p->left & (1u << r)))
                continue;
            struct dev *d = &lg->d[r];
            int changes = sqlite3_total_changes(d->s->db);
            if (changes != d->changes) {
                d->changes = changes;
                size_t n = 0;
                if (ww_sync_vv(d->s, lg->gid, d->vv, 8, &n) != 0)
                    die("vv", WW_EIO);
                d->n_vv = n < 8 ? n : 8;
            }
            for (size_t k = 0; k < d->n_vv; k++) {
                if (!memcmp(d->vv[k].author, author, WW_KEY_LEN) && d->vv[k].seq >= p->seq) {
                    p->left &= (uint8_t) ~(1u << r);
                    live.lat[live.n_lat++] = (now - p->t0) * 1000.0;
                    break;
                }
            }
        }
        if (p->left)
            live.pending[keep++] = live.pending[i];
        else
            live.lat_all[live.n_lat_all++] = (now - p->t0) * 1000.0;
    }
    live.n_pending = keep;
}

static int live_done(void *ud)
{
    (void)ud;
    return !live.writing && live.n_pending == 0;
}

/* Dials the hub from the first n_devs devices, `per` live connections each, at most
 * DIAL_WINDOW of them not yet synced at a time (the hub bounds the handshakes one address
 * may hold open); waits until all are synced. */
static int dial_all(int port, size_t n_devs, size_t per, size_t max, double timeout_s)
{
    long synced0 = total_synced, err0 = total_errors, dialled = 0;
    double end = now_s() + timeout_s;
    for (size_t k = 0; k < per; k++) {
        for (size_t i = 0; i < n_devs && (size_t)dialled < max; i++) {
            struct dev *d = &groups[i / DEVS].d[i % DEVS];
            while (dialled - (total_synced - synced0) - (total_errors - err0) >= DIAL_WINDOW) {
                if (now_s() > end)
                    return -1;
                uv_run(&loop, UV_RUN_ONCE);
            }
            /* Each device syncs its one group, and stays connected. */
            int rc = ww_node_dial(d->node, "127.0.0.1", port, NULL, NULL, 0, 0);
            if (rc != 0)
                die("dial", rc);
            dialled++;
        }
    }
    if (wait_count(&total_synced, synced0 + dialled, end - now_s()) != 0)
        return -1;
    return total_errors == err0 ? 0 : -1;
}

static void close_nodes(size_t n_devs)
{
    long want = nodes_closed + (long)n_devs;
    for (size_t i = 0; i < n_devs; i++) {
        struct dev *d = &groups[i / DEVS].d[i % DEVS];
        ww_node_close(d->node, node_closed, NULL);
        d->node = NULL;
    }
    if (wait_count(&nodes_closed, want, 30) != 0)
        die("closing nodes", WW_EBUSY);
}

/* Sets up to G groups, each a coach and four students in stores kept in memory (only the
 * identity is on disk), and the hub's store on disk holding them all. Stops at the time
 * budget; returns the number made. */
static size_t make_groups(const char *root, size_t want, double budget_s)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/l", root);
    make_dir(dir);
    snprintf(dir, sizeof dir, "%s/l/hub", root);
    struct ww_store *hs = open_dev(dir, NULL);
    groups = calloc(want, sizeof *groups);
    if (!groups)
        die("calloc", WW_ENOMEM);
    double end = now_s() + budget_s;
    size_t g = 0;
    for (; g < want && now_s() < end; g++) {
        struct lgroup *lg = &groups[g];
        for (int k = 0; k < DEVS; k++) {
            snprintf(dir, sizeof dir, "%s/l/g%zu-%d", root, g, k);
            lg->d[k].s = open_dev(dir, ":memory:");
            ww_store_device(lg->d[k].s, lg->d[k].pk);
            lg->d[k].changes = -1;
        }
        char name[32];
        snprintf(name, sizeof name, "Groep %zu", g);
        int rc = ww_group_create(lg->d[0].s, name, NULL, 0, "Coach", NULL, lg->gid, NULL);
        for (int k = 1; k < DEVS && rc == 0; k++) {
            uint8_t m[WW_ID_LEN];
            rc = ww_member_add(lg->d[0].s, lg->gid, WW_ROLE_STUDENT, "Student", 1, 1, lg->d[k].pk,
                               m);
        }
        if (rc == 0)
            rc = ww_day_today(lg->d[0].s, lg->gid, &lg->start);
        if (rc != 0)
            die("live group", rc);
        for (int k = 1; k < DEVS; k++)
            copy_group(lg->d[0].s, lg->d[k].s, lg->gid);
        /* What the coach's first upload would bring the hub: the same apply, no socket. */
        copy_group(lg->d[0].s, hs, lg->gid);
        lg->d[0].next_date = 1;
        for (int k = 1; k < DEVS; k++)
            lg->d[k].next_date = 1;
    }
    ww_store_close(hs);
    return g;
}

/* Machine-wide busy time (every process), in seconds of CPU, from /proc/stat. */
static double machine_busy_s(void)
{
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long v[8] = {0};
    if (f) {
        if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]) != 8)
            memset(v, 0, sizeof v);
        fclose(f);
    }
    unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]; /* not idle, iowait */
    return (double)busy / (double)sysconf(_SC_CLK_TCK);
}

/* One window of live writes at `rate` for LIVE_SECONDS, then until every write arrived
 * everywhere (at most 10 s more); prints its figures under `name`. */
static void live_window(struct hub_proc *hp, double rate, const char *name)
{
    live_rate = rate;
    live.n = live.n_pending = live.n_lat = live.n_lat_all = 0;
    live.cap = (size_t)(rate * LIVE_SECONDS) + 16;
    live.probes = calloc(live.cap, sizeof *live.probes);
    live.pending = calloc(live.cap, sizeof *live.pending);
    live.lat = calloc(live.cap * DEVS, sizeof *live.lat);
    live.lat_all = calloc(live.cap, sizeof *live.lat_all);
    if (!live.probes || !live.pending || !live.lat || !live.lat_all)
        die("calloc", WW_ENOMEM);
    if (!live.rng)
        live.rng = 0x9e3779b97f4a7c15ull;
    uv_timer_init(&loop, &live.load);
    uv_check_init(&loop, &live.check);
    uv_check_start(&live.check, check_cb);
    struct hub_stats h0, h1;
    hub_ask(hp, 'r', &h0);
    double cpu0 = cpu_seconds(), busy0 = machine_busy_s();
    live.writing = 1;
    live.t_start = now_s();
    uv_timer_start(&live.load, load_cb, 1, 1);
    int drained = wait_for(live_done, NULL, LIVE_SECONDS + 10);
    uv_timer_stop(&live.load);
    uv_check_stop(&live.check);
    uv_close((uv_handle_t *)&live.load, NULL);
    uv_close((uv_handle_t *)&live.check, NULL);
    if (live.writing) {
        live.writing = 0;
        live.t_stop = now_s();
    }
    double wall = now_s() - live.t_start, cpu_dev = cpu_seconds() - cpu0;
    double busy = machine_busy_s() - busy0;
    hub_ask(hp, 'r', &h1);
    /* Let the loop close the two handles before they are initialised again. */
    uv_run(&loop, UV_RUN_NOWAIT);
    double cpu_hub = h1.cpu_s - h0.cpu_s;
    qsort(live.lat, live.n_lat, sizeof *live.lat, cmp_double);
    qsort(live.lat_all, live.n_lat_all, sizeof *live.lat_all, cmp_double);
    printf("bench: %s_events_per_s %.0f events/s\n", name,
           (double)live.n / (live.t_stop - live.t_start));
    printf("bench: %s_p50_ms %.2f ms\n", name, quantile(live.lat, live.n_lat, 0.50));
    printf("bench: %s_p99_ms %.2f ms\n", name, quantile(live.lat, live.n_lat, 0.99));
    printf("bench: %s_max_ms %.2f ms\n", name, quantile(live.lat, live.n_lat, 1.0));
    printf("bench: %s_all_devices_p50_ms %.2f ms\n", name,
           quantile(live.lat_all, live.n_lat_all, 0.50));
    printf("bench: %s_all_devices_p99_ms %.2f ms\n", name,
           quantile(live.lat_all, live.n_lat_all, 0.99));
    /* How busy each process was, in cores, from the first write until all arrived; and what
     * the rest of the machine used meanwhile (another process's load distorts it all). */
    printf("bench: %s_device_process_cores %.2f cores\n", name, cpu_dev / wall);
    printf("bench: %s_hub_process_cores %.2f cores\n", name, cpu_hub / wall);
    printf("bench: %s_hub_cpu_us_per_event %.0f us\n", name, cpu_hub * 1e6 / (double)live.n);
    /* Rough: /proc/stat counts in clock ticks, getrusage more finely, and the two are read
     * a moment apart; it tells a quiet machine from a busy one, no more. */
    double other = (busy - cpu_dev - cpu_hub) / wall;
    fprintf(stderr, "# %s: other processes used about %.1f cores meanwhile\n", name,
            other > 0 ? other : 0.0);
    if (drained != 0 || live.n_pending)
        printf("bench: %s_undelivered %zu writes\n", name, live.n_pending);
    fflush(stdout);
    free(live.probes);
    free(live.pending);
    free(live.lat);
    free(live.lat_all);
}

static void part_live(const char *root, size_t want_groups, size_t want_conns)
{
    double t_setup = now_s();
    n_groups = make_groups(root, want_groups, 40);
    size_t n_devs = n_groups * DEVS;
    fprintf(stderr, "# live: %zu groups (%zu device stores) set up in %.1f s\n", n_groups, n_devs,
            now_s() - t_setup);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/l/hub", root);
    struct hub_proc hp;
    hub_spawn(dir, &hp);
    loop_open();
    for (size_t i = 0; i < n_devs; i++)
        dev_node(&groups[i / DEVS].d[i % DEVS]);
    double t_dial = now_s();
    if (dial_all(hp.port, n_devs, 1, n_devs, 60) != 0)
        die("devices did not all connect", WW_EBUSY);
    fprintf(stderr, "# live: %zu devices connected and synced in %.1f s\n", n_devs,
            now_s() - t_dial);

    printf("bench: live_groups %zu groups\n", n_groups);
    printf("bench: live_devices %zu devices\n", n_devs);
    double rate = live_rate;
    live_window(&hp, rate / 5, "live_low");
    live_window(&hp, rate, "live");

    /* ---- 4: the hub's memory per idle connection, on a fresh hub process ---- */
    close_nodes(n_devs);
    loop_close();
    hub_stop(&hp, NULL);
    hub_spawn(dir, &hp);
    loop_open();
    for (size_t i = 0; i < n_devs; i++)
        dev_node(&groups[i / DEVS].d[i % DEVS]);
    size_t conns = want_conns;
    if (conns < n_groups * 2)
        conns = n_groups * 2;
    struct hub_stats s0, s1;
    /* Warm-up: one connection per group (the coaches) touches every group in the hub. */
    long synced0 = total_synced;
    for (size_t g = 0; g < n_groups; g++) {
        while ((long)g - (total_synced - synced0) >= DIAL_WINDOW) {
            if (wait_count(&total_synced, total_synced + 1, 30) != 0)
                die("warm-up", WW_EBUSY);
        }
        if (ww_node_dial(groups[g].d[0].node, "127.0.0.1", hp.port, NULL, NULL, 0, 0) != 0)
            die("dial", WW_EIO);
    }
    if (wait_count(&total_synced, synced0 + (long)n_groups, 30) != 0)
        die("warm-up", WW_EBUSY);
    double settle_end = now_s() + 0.3;
    while (now_s() < settle_end)
        uv_run(&loop, UV_RUN_ONCE);
    hub_ask(&hp, 'r', &s0);
    /* The rest: round-robin over every device, several connections each when needed. */
    size_t rest = conns - n_groups, per = (rest + n_devs - 1) / n_devs;
    double t_conn = now_s();
    if (dial_all(hp.port, n_devs, per, rest, 90) != 0)
        die("idle connections", WW_EBUSY);
    double conn_s = now_s() - t_conn;
    settle_end = now_s() + 0.5;
    while (now_s() < settle_end)
        uv_run(&loop, UV_RUN_ONCE);
    hub_ask(&hp, 'r', &s1);
    long counted = s1.open - s0.open;
    /* idle_conn_bytes: the bytes the hub's allocator hands out per connection (glibc's
     * bytes in use, so malloc's own overhead per block included; libuv's handles live
     * inside the connection). The resident set grows by less: calloc'd memory from fresh
     * pages stays untouched (and out of the resident set) until the connection writes it. */
    printf("bench: idle_conns %ld conns\n", s1.open);
    printf("bench: idle_conn_bytes %.0f bytes\n",
           ((double)s1.heap - (double)s0.heap) / (double)counted);
    printf("bench: idle_conn_rss_bytes %.0f bytes\n",
           ((double)s1.rss - (double)s0.rss) / (double)counted);
    printf("bench: idle_conn_heap_blocks %.1f blocks\n",
           (double)(s1.blocks - s0.blocks) / (double)counted);
    printf("bench: idle_conns_connected_per_s %.0f /s\n", (double)rest / conn_s);
    fflush(stdout);
    /* New handshakes while those connections stay open: what every accept costs more on
     * a hub that holds many. */
    hs_use_store(groups[0].d[1].s);
    double busy_hs = handshakes(&hp, 32, 1.5);
    printf("bench: handshakes_with_idle_conns_per_s %.0f /s\n", busy_hs);
    fflush(stdout);
    uint64_t sent0 = total_ev_sent, received0 = total_ev_received;
    close_nodes(n_devs);
    fprintf(stderr, "# idle: the devices' connections sent %llu and received %llu events\n",
            (unsigned long long)(total_ev_sent - sent0),
            (unsigned long long)(total_ev_received - received0));
    loop_close();
    hub_stop(&hp, NULL);
}

/* ---- 5: handshakes over loopback --------------------------------------------------------- */

/* One dialling node per handshake: the API closes connections by closing their node. A node
 * whose connection came up (or failed) is closed from the loop's check phase, outside the
 * node's own callback. */
struct hs_slot {
    struct ww_node *node;
    int finished, closing;
};

static struct {
    struct ww_store *s;
    int port;
    struct hs_slot *slots;
    size_t n_slots;
    double end;
    long dialled, up, failed, closed;
    uv_check_t check;
} hs;

static void hs_use_store(struct ww_store *s)
{
    hs.s = s;
}

static void hs_on_conn(void *ud, const struct ww_conn_info *info)
{
    struct hs_slot *sl = ud;
    if (sl->closing || sl->finished)
        return;
    if (info->event == WW_CONN_UP) {
        hs.up++;
        sl->finished = 1;
    } else if (info->event == WW_CONN_DOWN) {
        hs.failed++;
        sl->finished = 1;
    }
}

static void hs_dial(struct hs_slot *sl)
{
    struct ww_node_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = hs.s;
    cfg.ud = sl;
    cfg.on_conn = hs_on_conn;
    sl->finished = sl->closing = 0;
    int rc = ww_node_new(&loop, &cfg, &sl->node);
    if (rc == 0)
        rc = ww_node_dial(sl->node, "127.0.0.1", hs.port, NULL, NULL, 0, 0);
    if (rc != 0)
        die("handshake dial", rc);
    hs.dialled++;
}

static void hs_closed(void *ud)
{
    struct hs_slot *sl = ud;
    sl->node = NULL;
    sl->closing = 0;
    hs.closed++;
    if (now_s() < hs.end)
        hs_dial(sl);
}

static void hs_check(uv_check_t *h)
{
    (void)h;
    for (size_t i = 0; i < hs.n_slots; i++) {
        struct hs_slot *sl = &hs.slots[i];
        if (sl->node && sl->finished && !sl->closing) {
            sl->closing = 1; /* the DOWN this close reports is no failure */
            ww_node_close(sl->node, hs_closed, sl);
        }
    }
}

static int hs_idle(void *ud)
{
    (void)ud;
    return hs.closed == hs.dialled;
}

/* Handshakes per second the hub completes with `concurrency` dials in flight. */
static double handshakes(struct hub_proc *hp, size_t concurrency, double seconds)
{
    struct hub_stats a, b;
    hub_ask(hp, 'r', &a);
    hs.port = hp->port;
    hs.n_slots = concurrency;
    hs.slots = calloc(concurrency, sizeof *hs.slots);
    if (!hs.slots)
        die("calloc", WW_ENOMEM);
    hs.dialled = hs.up = hs.failed = hs.closed = 0;
    uv_check_init(&loop, &hs.check);
    uv_check_start(&hs.check, hs_check);
    double t0 = now_s();
    hs.end = t0 + seconds;
    for (size_t i = 0; i < concurrency; i++)
        hs_dial(&hs.slots[i]);
    if (wait_for(hs_idle, NULL, seconds + 15) != 0)
        die("handshakes did not finish", WW_EBUSY);
    double took = now_s() - t0;
    uv_check_stop(&hs.check);
    uv_close((uv_handle_t *)&hs.check, NULL);
    free(hs.slots);
    /* The hub's count: its UP comes after the last handshake message arrived. Let the
     * last few arrive before asking. */
    double settle = now_s() + 0.2;
    while (now_s() < settle)
        uv_run(&loop, UV_RUN_ONCE);
    hub_ask(hp, 'r', &b);
    long done = b.ups - a.ups;
    if (hs.failed || done < hs.up)
        fprintf(stderr, "# handshakes: %ld dialled, %ld up here, %ld at the hub, %ld failed\n",
                hs.dialled, hs.up, done, hs.failed);
    return (double)done / took;
}

/* The primitives of one Noise XX handshake, both sides, called directly: the same list as
 * bench/handshake.c (two ephemeral key pairs, six X25519, eight ChaCha20-Poly1305 seals of
 * the static keys and payloads, the BLAKE2b of MixHash and HKDF). */
static volatile uint8_t sink;

static void one_handshake_crypto(const uint8_t si[64], const uint8_t sr[64])
{
    uint8_t ei[32], er[32], pk[4][32], dh[32], h[64] = {0}, buf[256], tag[16];
    uint8_t key[32] = {1}, nonce[12] = {0};
    randombytes_buf(ei, sizeof ei);
    crypto_scalarmult_base(pk[0], ei);
    randombytes_buf(er, sizeof er);
    crypto_scalarmult_base(pk[1], er);
    memcpy(pk[2], si + 32, 32);
    memcpy(pk[3], sr + 32, 32);
    int bad = 0;
    bad |= crypto_scalarmult(dh, ei, pk[1]);
    bad |= crypto_scalarmult(dh, er, pk[0]);
    bad |= crypto_scalarmult(dh, ei, pk[3]);
    bad |= crypto_scalarmult(dh, sr, pk[0]);
    bad |= crypto_scalarmult(dh, si, pk[1]);
    bad |= crypto_scalarmult(dh, er, pk[2]);
    if (bad)
        die("scalarmult", WW_ECRYPTO);
    memset(buf, 7, sizeof buf);
    for (int k = 0; k < 8; k++)
        crypto_aead_chacha20poly1305_ietf_encrypt_detached(buf, tag, NULL, buf, k % 2 ? 37 : 32, h,
                                                           sizeof h, NULL, nonce, key);
    for (int k = 0; k < 2 * 8; k++)
        crypto_generichash_blake2b(h, 64, buf, 64 + 48, NULL, 0);
    for (int k = 0; k < 2 * 4 * 3 * 2; k++)
        crypto_generichash_blake2b(h, 64, buf, 128 + 64, NULL, 0);
    sink ^= h[0] ^ dh[0] ^ tag[0];
}

static double handshake_crypto(double secs)
{
    uint8_t si[64], sr[64];
    randombytes_buf(si, 32);
    randombytes_buf(sr, 32);
    crypto_scalarmult_base(si + 32, si);
    crypto_scalarmult_base(sr + 32, sr);
    long n = 0;
    double t0 = now_s(), t;
    do {
        for (int k = 0; k < 20; k++)
            one_handshake_crypto(si, sr);
        n += 20;
        t = now_s() - t0;
    } while (t < secs);
    return (double)n / t;
}

static void part_handshakes(const char *root)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/h", root);
    make_dir(dir);
    snprintf(dir, sizeof dir, "%s/h/hub", root);
    struct hub_proc hp;
    hub_spawn(dir, &hp);
    snprintf(dir, sizeof dir, "%s/h/device", root);
    hs_use_store(open_dev(dir, NULL));
    loop_open();
    double seq = handshakes(&hp, 1, 1.0);
    double conc = handshakes(&hp, 32, 2.0);
    loop_close();
    hub_stop(&hp, NULL);
    ww_store_close(hs.s);
    double crypto = handshake_crypto(1.0);
    printf("bench: handshakes_per_s %.0f /s\n", conc);
    printf("bench: handshakes_sequential_per_s %.0f /s\n", seq);
    printf("limit: handshake_crypto_per_s %.0f /s\n", crypto);
    fflush(stdout);
}

/* ---- main ---------------------------------------------------------------------------- */

static long arg(int argc, char **argv, int i, long def, long lo, long hi)
{
    if (argc <= i)
        return def;
    char *end;
    long v = strtol(argv[i], &end, 10);
    if (*end || v < lo || v > hi) {
        fprintf(stderr, "usage: sync [events 1000..1000000 [groups 1..2000 "
                        "[connections 100..20000 [live writes/s 10..5000]]]]\n");
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    long n_events = arg(argc, argv, 1, 100000, 0, 1000000);
    long n_grp = arg(argc, argv, 2, 1000, 0, 2000);
    long n_conns = arg(argc, argv, 3, 10000, 100, 20000);
    live_rate = (double)arg(argc, argv, 4, 1000, 10, 5000);
    if (sodium_init() < 0)
        die("sodium_init", WW_ECRYPTO);
    signal(SIGALRM, out_of_time);
    alarm(ALARM_S);
    signal(SIGPIPE, SIG_IGN);
    clock_base_ms = 1795417200000LL - (int64_t)(now_s() * 1000.0);

    /* Every connection is a descriptor at each end: take the hard limit, and fit C in it
     * (the hub's child needs C, this process C plus what the stores hold). */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (rlim_t)n_conns + 512 > rl.rlim_cur) {
        n_conns = (long)rl.rlim_cur - 512;
        fprintf(stderr, "# idle connections: %ld, to fit the descriptor limit of %lu\n", n_conns,
                (unsigned long)rl.rlim_cur);
    }

    char *root = root_dir;
    if (!mkdtemp(root))
        die("mkdtemp", WW_EIO);
    double t0 = now_s();
    if (n_events >= 1000)
        part_catchup(root, n_events);
    fprintf(stderr, "# %.1f s\n", now_s() - t0);
    if (n_grp > 0)
        part_live(root, (size_t)n_grp, (size_t)n_conns);
    fprintf(stderr, "# %.1f s\n", now_s() - t0);
    part_handshakes(root);
    fprintf(stderr, "# %.1f s in all\n", now_s() - t0);

    for (size_t i = 0; i < n_groups * DEVS; i++)
        ww_store_close(groups[i / DEVS].d[i % DEVS].s);
    free(groups);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "bench sync: could not remove %s\n", root);
    return 0;
}
