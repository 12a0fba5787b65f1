/*
 * net.c - the network verbs: `hub` runs the studentcoach hub, `sync` syncs this device
 * with a hub or a peer, once or live.
 *
 *     wegwijs hub [--listen ADDR:PORT] [--closed] [--coach KEY]...
 *     wegwijs sync [ADDR:PORT] [--group GROUP]... [--watch] [--listen ADDR:PORT] [--quiet]
 *                              [--verbose]
 *
 * Without ADDR:PORT, sync dials the hub each group named (`group hub`), with the hub's key
 * pinned, so a different device answering there fails the handshake.
 *
 * Both run a ww_node (wegwijs_sync.h) on a libuv loop until done, or until SIGINT or
 * SIGTERM, then close every connection and the store cleanly. The hub logs one line per
 * connection event to stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "wegwijs_sync.h"

#define DEFAULT_HUB "127.0.0.1:7420"

struct net_run {
    uv_loop_t loop;
    uv_signal_t sigint, sigterm, sighup;
    int has_hup;
    /* A hub's climate service: aggregator B's key and the readers (hub --aggregator-b,
     * --climate-reader). */
    int has_agg_b;
    uint8_t agg_b[WW_KEY_LEN];
    const uint8_t (*readers)[WW_KEY_LEN];
    size_t n_readers;
    int climate_live;
    struct ww_quota quota; /* hub --quota; per_day 0 with no_quota: none */
    int no_quota;
    /* The hub's log: stderr, or the file of --log, which SIGHUP reopens (after a rotation). */
    const char *log_path;
    FILE *log;
    struct ww_node *node;
    int quiet, verbose, once, closed, failed;
    size_t dials;         /* outbound connections not yet down; with once, the node closes at 0 */
    char failed_addr[64]; /* the address of the first connection that failed */
    int error;
    uint64_t sent, received, bytes;
    uint64_t not_taken; /* own events the hubs did not take (net_run's outbound connections) */
    uint64_t own_lost, rewritten; /* own events that lost a fork, and those written again */
    /* The progress line of a single sync on a terminal (stderr): events this device holds
     * more than at the start, redrawn by a timer; the totals when the connection ends. */
    struct ww_store *store;
    const char *addr;
    int progress;
    uv_timer_t tick;
    uint64_t start_ms, held0;
    /* `join`: waiting for the coach's device, then syncing the group it was admitted to. */
    int joining, watch, json, admitted;
    uint8_t joined[WW_ID_LEN];
    /* `sync --watch`: writes of other processes on this data folder (a `reflect` in another
     * terminal) are noticed by polling what the store holds, and sent at once. */
    uv_timer_t poll;
    int polling;
    uint64_t held_seen;
};

#define POLL_MS 500

#define PROGRESS_MS      200
#define PROGRESS_GROUPS  64
#define PROGRESS_AUTHORS 256

struct group_ids {
    size_t n;
    uint8_t id[PROGRESS_GROUPS][WW_ID_LEN];
};

static void add_group_id(void *ud, const struct ww_group_info *g)
{
    struct group_ids *ids = ud;
    if (ids->n < PROGRESS_GROUPS)
        memcpy(ids->id[ids->n++], g->id, WW_ID_LEN);
}

/* The events this device holds, as its version vectors count them (no network needed). */
static uint64_t held_events(struct ww_store *s)
{
    static struct ww_vv_item vv[PROGRESS_AUTHORS];
    struct group_ids ids;
    uint64_t sum = 0;
    ids.n = 0;
    if (ww_groups_list(s, add_group_id, &ids) != 0)
        return 0;
    for (size_t g = 0; g < ids.n; g++) {
        size_t n = 0;
        if (ww_sync_vv(s, ids.id[g], vv, PROGRESS_AUTHORS, &n) != 0)
            continue;
        for (size_t i = 0; i < n && i < PROGRESS_AUTHORS; i++)
            sum += vv[i].seq;
    }
    return sum;
}

static void notify_group(void *ud, const struct ww_group_info *g)
{
    ww_node_notify(ud, g->id);
}

/* Another process wrote to this store (what it holds grew): every group goes to the peers
 * again; a session sends only what its peer lacks, so a group with nothing new costs a
 * vector comparison. */
static void on_poll(uv_timer_t *t)
{
    struct net_run *r = t->data;
    uint64_t held = held_events(r->store);
    if (held == r->held_seen || !r->node)
        return;
    r->held_seen = held;
    ww_groups_list(r->store, notify_group, r->node);
}

/* "12.3 KiB" and the like. */
static const char *size_text(double bytes, char buf[32])
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB"};
    size_t u = 0;
    while (bytes >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        bytes /= 1024;
        u++;
    }
    snprintf(buf, 32, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
    return buf;
}

static void draw_progress(struct net_run *r)
{
    uint64_t now = uv_now(&r->loop), held = held_events(r->store);
    double s = (double)(now - r->start_ms) / 1000.0;
    uint64_t got = held > r->held0 ? held - r->held0 : 0;
    char n[24], rate[24];
    snprintf(n, sizeof n, "%llu", (unsigned long long)got);
    snprintf(rate, sizeof rate, "%.0f", s > 0 ? (double)got / s : 0.0);
    fputs("\rwegwijs: ", stderr);
    put_msg(stderr, _("{1}: {2} events received ({3}/s)"), r->addr, n, rate);
    fputs("\033[K", stderr);
    fflush(stderr);
}

static void on_tick(uv_timer_t *t)
{
    draw_progress(t->data);
}

/* Ends the progress line: with the totals (events both ways, bytes, time and rate) after a
 * sync that went well, else wiped for the error line to come. */
static void end_progress(struct net_run *r, int totals)
{
    if (!r->progress || uv_is_closing((uv_handle_t *)&r->tick))
        return;
    uv_close((uv_handle_t *)&r->tick, NULL);
    if (!totals) {
        fputs("\r\033[K", stderr);
        return;
    }
    double s = (double)(uv_now(&r->loop) - r->start_ms) / 1000.0;
    char sent[24], got[24], size[32], secs[24], rate[40];
    snprintf(sent, sizeof sent, "%llu", (unsigned long long)r->sent);
    snprintf(got, sizeof got, "%llu", (unsigned long long)r->received);
    snprintf(secs, sizeof secs, "%.1f", s);
    size_text(s > 0 ? (double)r->bytes / s : (double)r->bytes, rate);
    memcpy(rate + strlen(rate), "/s", 3);
    const char *args[6] = {r->addr, sent, got, size_text((double)r->bytes, size), secs, rate};
    fputs("\rwegwijs: ", stderr);
    put_msgv(stderr, _("{1}: {2} events sent, {3} received, {4} in {5} s ({6})"), args, 6);
    fputs("\033[K\n", stderr);
}

/* "ip:port" into ip (max cap) and port; 0 or CLI_USAGE after printing why. Port 0 (an
 * ephemeral port) only where we listen. */
static int parse_addr_min(const char *arg, char *ip, size_t cap, int *port, long min_port)
{
    char q[48];
    const char *colon = arg ? strrchr(arg, ':') : NULL;
    char *end = NULL;
    long p = colon ? strtol(colon + 1, &end, 10) : -1;
    size_t iplen = colon ? (size_t)(colon - arg) : 0;
    if (!colon || iplen == 0 || iplen >= cap || !end || *end || end == colon + 1 || p < min_port ||
        p > 65535)
        return input_error(_("invalid address {1}: use HOST:PORT, for example 127.0.0.1:7420"),
                           quoted(arg ? arg : "", q), NULL);
    memcpy(ip, arg, iplen);
    ip[iplen] = '\0';
    if (ip[0] == '[' && iplen > 2 && ip[iplen - 1] == ']') { /* [::1]:7420 */
        memmove(ip, ip + 1, iplen - 2);
        ip[iplen - 2] = '\0';
    }
    *port = (int)p;
    return CLI_OK;
}

/* A network failure: an errno value from libuv counts as CLI_NET, a library code goes
 * through the table (a refused membership is CLI_DENIED, not a network failure). */
int net_error(int rc, const char *what, const char *a1)
{
    int code = lib_error(rc, what, a1);
    return code == CLI_FAIL && rc != WW_ENOMEM ? CLI_NET : code;
}

static void log_line(void *ud, const char *line)
{
    struct net_run *r = ud;
    if (!r->log) {
        fprintf(stderr, "wegwijs: %s\n", line);
        return;
    }
    /* A file has no journal to stamp its lines: the time, in UTC, leads each. */
    char at[32];
    time_t t = time(NULL);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        at[0] = 0;
    fprintf(r->log, "%s %s\n", at, line);
    fflush(r->log);
}

/* O_APPEND, so that several writers and a rotation never interleave within a line. */
static FILE *open_log(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;
    if (!f && fd >= 0)
        close(fd);
    return f;
}

/* SIGHUP: the log file is opened again by name (logrotate moved the old one away); if that
 * fails the old file stays in use and says why. */
static void on_hup(uv_signal_t *h, int signum)
{
    struct net_run *r = h->data;
    (void)signum;
    if (!r->log_path)
        return;
    FILE *f = open_log(r->log_path);
    if (!f) {
        log_line(r, "log: cannot open the log file again; writing on in the old one");
        return;
    }
    fclose(r->log);
    r->log = f;
    log_line(r, "log: opened");
}

int parse_addr(const char *arg, char *ip, size_t cap, int *port)
{
    return parse_addr_min(arg, ip, cap, port, 1);
}

static int parse_listen(const char *arg, char *ip, size_t cap, int *port)
{
    return parse_addr_min(arg, ip, cap, port, 0);
}

static void stop_signals(struct net_run *r)
{
    end_progress(r, 0);
    if (r->polling && !uv_is_closing((uv_handle_t *)&r->poll))
        uv_close((uv_handle_t *)&r->poll, NULL);
    if (!uv_is_closing((uv_handle_t *)&r->sigint)) {
        uv_close((uv_handle_t *)&r->sigint, NULL);
        uv_close((uv_handle_t *)&r->sigterm, NULL);
        if (r->has_hup)
            uv_close((uv_handle_t *)&r->sighup, NULL);
    }
}

static void closed_cb(void *ud)
{
    struct net_run *r = ud;
    r->closed = 1;
    stop_signals(r);
}

static void on_conn(void *ud, const struct ww_conn_info *info)
{
    struct net_run *r = ud;
    if (info->event == WW_CONN_DOWN && info->outbound) {
        r->sent += info->events_sent;
        r->received += info->events_received;
        r->bytes += info->bytes_sent + info->bytes_received;
        r->not_taken += info->events_not_taken;
        r->own_lost += info->own_lost;
        r->rewritten += info->rewritten;
        if (info->error && !r->failed) {
            r->error = info->error;
            r->failed = 1;
            snprintf(r->failed_addr, sizeof r->failed_addr, "%s", info->addr ? info->addr : "");
        }
        if (r->dials > 0)
            r->dials--;
        if (r->dials == 0)
            end_progress(r, !r->failed);
        if ((r->once && r->dials == 0) || r->joining)
            ww_node_close(r->node, closed_cb, r);
    }
    /* A join without --watch ends once the group it was admitted to is caught up. */
    if (info->event == WW_CONN_SYNCED && r->joining && r->admitted && !r->watch) {
        r->received += info->events_received;
        ww_node_close(r->node, closed_cb, r);
        return;
    }
    if (info->event == WW_CONN_SYNCED && info->outbound && !r->quiet && !r->once) {
        char n1[24], n2[24];
        snprintf(n1, sizeof n1, "%llu", (unsigned long long)info->events_sent);
        snprintf(n2, sizeof n2, "%llu", (unsigned long long)info->events_received);
        say3(_("synced with {1}: {2} sent, {3} received"), info->addr, n1, n2);
        fflush(stdout);
    }
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct net_run *r = h->data;
    (void)signum;
    if (r->node)
        ww_node_close(r->node, closed_cb, r);
    stop_signals(r);
}

/* Runs the loop until the node has closed, then closes the loop's last handles. */
static void run_loop(struct net_run *r)
{
    uv_run(&r->loop, UV_RUN_DEFAULT);
    stop_signals(r);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    uv_loop_close(&r->loop);
}

static void on_join(void *ud, const struct ww_join_info *info)
{
    struct net_run *r = ud;
    struct hexbuf h;
    if (info->state == WW_JOIN_WAITING && !r->quiet && !r->json) {
        say(_("waiting for your coach's device to admit you (it does so as soon as it is "
              "connected)..."));
        fflush(stdout);
    } else if (info->state == WW_JOIN_ADMITTED) {
        r->admitted = 1;
        memcpy(r->joined, info->group, WW_ID_LEN);
        if (!r->quiet && !r->json) {
            say1(_("admitted to group {1}"), hex_of(info->group, WW_ID_LEN, &h));
            fflush(stdout);
        }
    } else if (info->state == WW_JOIN_FAILED) {
        r->error = info->error;
        r->failed = 1;
        ww_node_close(r->node, closed_cb, r);
    }
}

static int net_start(struct net_run *r, struct cli *c, int hub, int open_groups,
                     const uint8_t (*coaches)[WW_KEY_LEN], size_t n_coaches)
{
    if (uv_loop_init(&r->loop) != 0)
        return lib_error(WW_ENOMEM, _("cannot start the network"), NULL);
    struct ww_node_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = c->store;
    cfg.hub = hub;
    cfg.accept_new_groups = open_groups;
    cfg.coaches = coaches;
    cfg.n_coaches = n_coaches;
    cfg.ud = r;
    cfg.log = hub || r->verbose ? log_line : NULL;
    cfg.on_conn = on_conn;
    cfg.on_join = on_join;
    /* The owner's device admits new students who redeemed its invites, whenever it syncs. */
    cfg.admit_invites = !hub;
    cfg.has_agg_b = r->has_agg_b;
    memcpy(cfg.agg_b, r->agg_b, WW_KEY_LEN);
    cfg.climate_readers = r->readers;
    cfg.n_climate_readers = r->n_readers;
    cfg.climate_live = r->climate_live;
    cfg.quota = r->quota;
    cfg.no_quota = r->no_quota;
    int rc = ww_node_new(&r->loop, &cfg, &r->node);
    if (rc != 0) {
        uv_loop_close(&r->loop);
        return net_error(rc, _("cannot start the network"), NULL);
    }
    uv_signal_init(&r->loop, &r->sigint);
    uv_signal_init(&r->loop, &r->sigterm);
    r->sigint.data = r->sigterm.data = r;
    uv_signal_start(&r->sigint, on_signal, SIGINT);
    uv_signal_start(&r->sigterm, on_signal, SIGTERM);
    if (hub) { /* SIGHUP reopens the log; it never ends the hub */
        uv_signal_init(&r->loop, &r->sighup);
        r->sighup.data = r;
        uv_signal_start(&r->sighup, on_hup, SIGHUP);
        r->has_hup = 1;
    }
    /* A peer that goes away while we write must not end the process. */
    signal(SIGPIPE, SIG_IGN);
    return CLI_OK;
}

int verb_hub(struct cli *c, int argc, char **argv)
{
    static const struct opt_spec spec[] = {
        {"listen", 1, 0},       {"closed", 0, 0},       {"coach", 1, 1},
        {"log", 1, 0},          {"aggregator-b", 1, 0}, {"climate-reader", 1, 1},
        {"climate-live", 0, 0}, {"quota", 1, 0},        {NULL, 0, 0}};
    struct args a;
    int rc = args_parse(spec, argc, argv, 0, 0, &a);
    char ip[64];
    int port = 0;
    const char *listen = args_get(&a, "listen") ? args_get(&a, "listen") : DEFAULT_HUB;
    if (rc == CLI_OK)
        rc = parse_listen(listen, ip, sizeof ip, &port);
    /* --coach: serve only the groups whose owner device is one of these. */
    static uint8_t coaches[ARGS_MAX_OPTS][WW_KEY_LEN];
    size_t n_coaches = rc == CLI_OK ? args_count(&a, "coach") : 0;
    for (size_t i = 0; rc == CLI_OK && i < n_coaches; i++)
        rc = parse_key(args_at(&a, "coach", i), coaches[i]);
    /* --aggregator-b: the organisation's aggregator B, which REDEEMED confirms with ours;
     * --climate-reader: the devices that may fetch climate (aggregator B's tool). */
    static uint8_t readers[ARGS_MAX_OPTS][WW_KEY_LEN];
    struct net_run r;
    memset(&r, 0, sizeof r);
    if (rc == CLI_OK && args_get(&a, "aggregator-b")) {
        rc = parse_key(args_get(&a, "aggregator-b"), r.agg_b);
        r.has_agg_b = 1;
    }
    r.n_readers = rc == CLI_OK ? args_count(&a, "climate-reader") : 0;
    for (size_t i = 0; rc == CLI_OK && i < r.n_readers; i++)
        rc = parse_key(args_at(&a, "climate-reader", i), readers[i]);
    r.readers = (const uint8_t(*)[WW_KEY_LEN])readers;
    r.climate_live = args_get(&a, "climate-live") != NULL;
    /* --quota: MiB a day one author may add to a group here, 16 days of it at once; 0: no
     * quota. */
    long mib = WW_HUB_QUOTA_DAY >> 20;
    if (rc == CLI_OK && args_get(&a, "quota"))
        rc = parse_int(args_get(&a, "quota"), "--quota", 0, 1024, &mib);
    r.quota.per_day = (uint64_t)mib << 20;
    r.quota.burst = r.quota.per_day * (WW_HUB_QUOTA_BURST / WW_HUB_QUOTA_DAY);
    r.no_quota = mib == 0;
    if (rc == CLI_OK)
        rc = cli_open(c, 1);
    if (rc != CLI_OK)
        return rc;
    r.quiet = 1;
    if ((r.log_path = args_get(&a, "log")) != NULL && !(r.log = open_log(r.log_path)))
        return fail(CLI_INPUT, _("cannot open the log file '{1}': {2}"), r.log_path,
                    strerror(errno));
    rc = net_start(&r, c, 1, !args_get(&a, "closed"), (const uint8_t(*)[WW_KEY_LEN])coaches,
                   n_coaches);
    if (rc != CLI_OK) {
        if (r.log)
            fclose(r.log);
        return rc;
    }
    int lrc = ww_node_listen(r.node, ip, port);
    if (lrc != 0) {
        ww_node_close(r.node, closed_cb, &r);
        run_loop(&r);
        if (r.log)
            fclose(r.log);
        return net_error(lrc, _("cannot listen on {1}"), listen);
    }
    uint8_t pk[WW_KEY_LEN];
    char hex[2 * WW_KEY_LEN + 1], where[80], p[8];
    ww_store_device(c->store, pk);
    ww_hex(pk, WW_KEY_LEN, hex);
    snprintf(p, sizeof p, "%d", ww_node_port(r.node));
    snprintf(where, sizeof where, "%s:%s", ip, p);
    say2(_("hub listening on {1}; the hub's key: {2}"), where, hex);
    /* The key alone on the next line, for scripts (`group hub GROUP KEY ADDR`). */
    printf("%s\n", hex);
    /* The key it serves as climate aggregator A (`group climate --aggregators A B`): one
     * of the two shares of each day is sealed to it; the other to B, which it does not hold. */
    uint8_t agg[WW_KEY_LEN];
    if (ww_store_aggregator_pk(c->store, agg) == 0) {
        ww_hex(agg, WW_KEY_LEN, hex);
        say1(_("the hub's aggregator key A (for 'group climate GROUP A B'): {1}"), hex);
    }
    fflush(stdout);
    run_loop(&r);
    if (r.log)
        fclose(r.log);
    return CLI_OK;
}

/* The hubs this device's groups named (`group hub`), each with the groups to sync there:
 * one connection per hub key and address. */
#define MAX_HUBS 16
struct hub_targets {
    size_t n, unnamed;
    struct {
        uint8_t key[WW_KEY_LEN];
        char addr[256];
        size_t n_groups;
        uint8_t groups[PROGRESS_GROUPS][WW_ID_LEN];
    } t[MAX_HUBS];
    uint8_t first_unnamed[WW_ID_LEN];
    int too_many;
};

static void add_hub_target(void *ud, const struct ww_group_info *g)
{
    struct hub_targets *h = ud;
    if (!g->has_hub || !g->hub_addr || !*g->hub_addr ||
        strlen(g->hub_addr) >= sizeof h->t[0].addr) {
        if (h->unnamed++ == 0)
            memcpy(h->first_unnamed, g->id, WW_ID_LEN);
        return;
    }
    size_t i = 0;
    while (i < h->n &&
           (memcmp(h->t[i].key, g->hub, WW_KEY_LEN) || strcmp(h->t[i].addr, g->hub_addr)))
        i++;
    if (i == h->n) {
        if (h->n == MAX_HUBS) {
            h->too_many = 1;
            return;
        }
        memcpy(h->t[i].key, g->hub, WW_KEY_LEN);
        memcpy(h->t[i].addr, g->hub_addr, strlen(g->hub_addr) + 1);
        h->t[i].n_groups = 0;
        h->n++;
    }
    if (h->t[i].n_groups < PROGRESS_GROUPS)
        memcpy(h->t[i].groups[h->t[i].n_groups++], g->id, WW_ID_LEN);
    else
        h->too_many = 1;
}

/* Without ADDR:PORT: the named hubs, each with its key pinned. The dials are counted in
 * r->dials; a library code (or 0) is returned. */
/* With none_ok (a device that finds its peers by beacons), no named hub is no error. */
static int dial_named_hubs(struct net_run *r, struct cli *c, struct hub_targets *h, int *code,
                           int none_ok)
{
    char host[256], q[48];
    int port = 0, rc = ww_groups_list(c->store, add_hub_target, h);
    *code = CLI_OK;
    if (rc != 0) {
        *code = lib_error(rc, _("cannot list the groups"), NULL);
        return rc;
    }
    if (h->n == 0 && none_ok)
        return 0;
    if (h->n == 0) {
        *code = usage_error(_("no group on this device names a hub with an address: give "
                              "ADDR:PORT (the coach names one with 'wegwijs group hub'); see "
                              "'wegwijs help'"),
                            NULL, NULL);
        return WW_EINVAL;
    }
    if (h->too_many) {
        *code = usage_error(_("too many groups or hubs for one sync; give ADDR:PORT"), NULL, NULL);
        return WW_EINVAL;
    }
    r->addr = h->t[0].addr;
    for (size_t i = 0; i < h->n; i++) {
        if (parse_addr(h->t[i].addr, host, sizeof host, &port) != CLI_OK) {
            *code = CLI_INPUT;
            return WW_EINVAL;
        }
        rc = ww_node_dial(r->node, host, port, h->t[i].key,
                          (const uint8_t(*)[WW_ID_LEN])h->t[i].groups, h->t[i].n_groups, r->once);
        if (rc != 0) {
            r->addr = h->t[i].addr;
            return rc;
        }
        r->dials++;
    }
    if (h->unnamed && !r->quiet && !c->json) {
        struct hexbuf g;
        snprintf(q, sizeof q, "%zu", h->unnamed);
        say2(_("{1} group(s) name no hub, such as {2}: sync those with 'wegwijs sync ADDR:PORT'"),
             q, hex_of(h->first_unnamed, WW_ID_LEN, &g));
    }
    return 0;
}

int verb_sync(struct cli *c, int argc, char **argv)
{
    static const struct opt_spec spec[] = {
        {"watch", 0, 0},     {"listen", 1, 0},    {"quiet", 0, 0},
        {"group", 1, 1},     {"verbose", 0, 0},   {"discover", 0, 0},
        {"beacon-to", 1, 0}, {"beacon-on", 1, 0}, {NULL, 0, 0}};
    struct args a;
    int rc = args_parse(spec, argc, argv, 0, 1, &a);
    char ip[64], lip[64];
    int port = 0, lport = 0;
    const char *addr = rc == CLI_OK && a.n_pos > 0 ? a.pos[0] : NULL;
    if (addr)
        rc = parse_addr(addr, ip, sizeof ip, &port);
    if (rc == CLI_OK && args_get(&a, "listen"))
        rc = parse_listen(args_get(&a, "listen"), lip, sizeof lip, &lport);
    if (rc == CLI_OK && args_get(&a, "listen") && !args_get(&a, "watch"))
        rc = usage_error(_("--listen needs --watch"), NULL, NULL);
    if (rc == CLI_OK && c->json && args_get(&a, "watch"))
        rc = usage_error(_("--json goes with a single sync, not with --watch"), NULL, NULL);
    /* --discover: beacons to and from the group's other devices on the local network. */
    int discover = args_get(&a, "discover") != NULL;
    const char *beacon_to =
        args_get(&a, "beacon-to") ? args_get(&a, "beacon-to") : "255.255.255.255:7421";
    const char *beacon_on = args_get(&a, "beacon-on") ? args_get(&a, "beacon-on") : "0.0.0.0:7421";
    if (rc == CLI_OK && (args_get(&a, "beacon-to") || args_get(&a, "beacon-on")) && !discover)
        rc = usage_error(_("--beacon-to and --beacon-on go with --discover"), NULL, NULL);
    if (rc == CLI_OK && discover && !args_get(&a, "listen"))
        rc = usage_error(_("--discover needs --watch and --listen ADDR:PORT (peers dial this "
                           "device there)"),
                         NULL, NULL);
    char bip[64];
    int bport = 0;
    if (rc == CLI_OK && discover)
        rc = parse_listen(beacon_to, bip, sizeof bip, &bport);
    if (rc == CLI_OK && discover)
        rc = parse_listen(beacon_on, bip, sizeof bip, &bport);
    /* --group: a group this device is in but does not hold yet (a new member's first sync). */
    size_t n_groups = args_count(&a, "group");
    uint8_t groups[8][WW_ID_LEN];
    if (rc == CLI_OK && n_groups > 8)
        rc = usage_error(_("at most 8 times --group"), NULL, NULL);
    if (rc == CLI_OK && n_groups > 0 && !addr)
        rc = usage_error(_("--group needs ADDR:PORT: this device does not know the group's hub "
                           "yet"),
                         NULL, NULL);
    for (size_t i = 0; rc == CLI_OK && i < n_groups; i++) {
        char q[48];
        if (ww_unhex(args_at(&a, "group", i), groups[i], WW_ID_LEN) != 0)
            rc = input_error(_("invalid group id '{1}' (expected 32 hexadecimal digits)"),
                             quoted(args_at(&a, "group", i), q), NULL);
    }
    if (rc == CLI_OK)
        rc = cli_open(c, 0);
    if (rc != CLI_OK)
        return rc;
    struct net_run r;
    memset(&r, 0, sizeof r);
    r.quiet = args_get(&a, "quiet") != NULL;
    r.verbose = args_get(&a, "verbose") != NULL;
    r.once = !args_get(&a, "watch");
    r.store = c->store;
    r.addr = addr;
    if ((rc = net_start(&r, c, 0, 0, NULL, 0)) != CLI_OK)
        return rc;
    int nrc = 0, code = CLI_OK;
    static struct hub_targets hubs;
    if (args_get(&a, "listen")) {
        nrc = ww_node_listen(r.node, lip, lport);
        /* Peers need the port (it may have been 0): always said, as the node logs it. */
        if (nrc == 0 && !r.verbose)
            fprintf(stderr, "wegwijs: listen %s:%d\n", lip, ww_node_port(r.node));
    }
    if (nrc == 0 && discover) {
        nrc = ww_node_discover(r.node, beacon_to, beacon_on);
        /* Said like the listen port: a test or a second device on this machine needs it. */
        if (nrc == 0)
            fprintf(stderr, "wegwijs: beacons to %s, from port %d\n", beacon_to,
                    ww_node_beacon_port(r.node));
        else
            r.addr = beacon_on;
    }
    if (nrc == 0 && addr) {
        nrc = ww_node_dial(r.node, ip, port, NULL,
                           n_groups ? (const uint8_t(*)[WW_ID_LEN])groups : NULL, n_groups, r.once);
        r.dials = nrc == 0;
    } else if (nrc == 0) {
        memset(&hubs, 0, sizeof hubs);
        nrc = dial_named_hubs(&r, c, &hubs, &code, discover);
    }
    /* Progress only where someone watches: a single sync, stderr a terminal, not --quiet. */
    if (nrc == 0 && r.once && !r.quiet && !r.verbose && isatty(STDERR_FILENO) &&
        uv_timer_init(&r.loop, &r.tick) == 0) {
        r.progress = 1;
        r.tick.data = &r;
        r.start_ms = uv_now(&r.loop);
        r.held0 = held_events(c->store);
        uv_timer_start(&r.tick, on_tick, PROGRESS_MS, PROGRESS_MS);
    }
    if (nrc == 0 && !r.once && uv_timer_init(&r.loop, &r.poll) == 0) {
        r.polling = 1;
        r.poll.data = &r;
        r.held_seen = held_events(c->store);
        uv_timer_start(&r.poll, on_poll, POLL_MS, POLL_MS);
    }
    if (nrc != 0) {
        /* Dials already made end with the node. */
        r.dials = 0;
        ww_node_close(r.node, closed_cb, &r);
        run_loop(&r);
        return code != CLI_OK ? code : net_error(nrc, _("cannot sync with {1}"), r.addr);
    }
    run_loop(&r);
    const char *where = addr || !r.failed_addr[0] ? r.addr : r.failed_addr;
    if (r.failed && !addr && r.error == WW_EAUTH)
        return fail(CLI_NET,
                    _("cannot sync with {1}: it is not the hub the group named (the key "
                      "does not match); ask the coach"),
                    where, NULL);
    if (r.failed)
        return net_error(r.error, _("cannot sync with {1}"), where);
    /* Events of ours the hub did not take never reach anyone until that changes: say so,
     * whatever --quiet says. The usual cause is this device's clock. */
    if (r.not_taken > 0) {
        char n[24];
        snprintf(n, sizeof n, "%llu", (unsigned long long)r.not_taken);
        fputs("wegwijs: ", stderr);
        say_to(stderr,
               _("{1} of this device's events were not taken by {2}: they wait there until "
                 "their time comes, or were refused; is this device's clock right?"),
               n, r.addr, NULL);
    }
    /* This device wrote on an older copy of its data: say what became of that, whatever
     * --quiet says. */
    own_lost_note(r.own_lost, r.rewritten);
    if (c->json)
        return json_result("sync",
                           json_pack("{s:o, s:I, s:I, s:I, s:I, s:I, s:I}", "address",
                                     j_text(r.addr), "sent", (json_int_t)r.sent, "received",
                                     (json_int_t)r.received, "bytes", (json_int_t)r.bytes,
                                     "not_taken", (json_int_t)r.not_taken, "own_lost",
                                     (json_int_t)r.own_lost, "rewritten", (json_int_t)r.rewritten));
    if (r.once && !r.quiet) {
        char n1[24], n2[24];
        snprintf(n1, sizeof n1, "%llu", (unsigned long long)r.sent);
        snprintf(n2, sizeof n2, "%llu", (unsigned long long)r.received);
        say3(_("synced with {1}: {2} sent, {3} received"), r.addr, n1, n2);
    }
    return CLI_OK;
}

int verb_join(struct cli *c, int argc, char **argv)
{
    static const struct opt_spec spec[] = {{"alias", 1, 0}, {"year", 1, 0},  {"track", 1, 0},
                                           {"watch", 0, 0}, {"quiet", 0, 0}, {NULL, 0, 0}};
    struct args a;
    int rc = args_parse(spec, argc, argv, 1, 1, &a);
    long year = 1;
    int track = WW_TRACK_BOL;
    struct ww_invite_code code;
    memset(&code, 0, sizeof code);
    if (rc == CLI_OK && ww_invite_code_parse(a.pos[0], &code) != 0) {
        char q[48];
        rc = input_error(_("this is not a valid invite code: {1} (check it letter by letter; "
                           "it looks like HOST:PORT/XXXX-XXXX-...)"),
                         quoted(a.pos[0], q), NULL);
    }
    /* A device code joins another device of a member who has a name already. */
    if (rc == CLI_OK && code.device &&
        (args_get(&a, "alias") || args_get(&a, "year") || args_get(&a, "track")))
        rc = usage_error(_("this code adds a device to a member who is in the group already: "
                           "join it without --alias, --year or --track"),
                         NULL, NULL);
    if (rc == CLI_OK && !code.device && !args_get(&a, "alias"))
        rc = usage_error(_("join needs --alias NAME: the name your group will see"), NULL, NULL);
    if (rc == CLI_OK && args_get(&a, "year"))
        rc = parse_int(args_get(&a, "year"), "--year", 1, 4, &year);
    if (rc == CLI_OK && args_get(&a, "track"))
        rc = parse_word(WORD_TRACK, args_get(&a, "track"), "--track", &track);
    sodium_memzero(code.secret, sizeof code.secret);
    if (rc == CLI_OK && c->json && args_get(&a, "watch"))
        rc = usage_error(_("--json goes with a single sync, not with --watch"), NULL, NULL);
    if (rc == CLI_OK)
        rc = cli_open(c, 1); /* a new device: joining makes it */
    if (rc != CLI_OK)
        return rc;
    struct net_run r;
    memset(&r, 0, sizeof r);
    r.quiet = args_get(&a, "quiet") != NULL;
    r.json = c->json;
    r.joining = 1;
    r.watch = args_get(&a, "watch") != NULL;
    r.store = c->store;
    r.addr = code.addr;
    if ((rc = net_start(&r, c, 0, 0, NULL, 0)) != CLI_OK)
        return rc;
    int nrc = ww_node_join(r.node, a.pos[0], args_get(&a, "alias"), (int)year, track);
    if (nrc != 0) {
        ww_node_close(r.node, closed_cb, &r);
        run_loop(&r);
        return net_error(nrc, _("cannot join through {1}"), code.addr);
    }
    run_loop(&r);
    if (r.failed || !r.admitted)
        return net_error(r.failed ? r.error : WW_ESTATE, _("cannot join through {1}"), code.addr);
    struct hexbuf h;
    if (c->json)
        return json_result("join",
                           json_pack("{s:o, s:o, s:I}", "group", j_hex(r.joined, WW_ID_LEN), "hub",
                                     j_text(code.addr), "received", (json_int_t)r.received));
    if (!r.quiet)
        say2(_("joined group {1}; see today's challenge with: wegwijs today {2}"),
             hex_of(r.joined, WW_ID_LEN, &h), hex_of(r.joined, WW_ID_LEN, &h));
    return CLI_OK;
}

/* ---- leave ---- */

struct leave_info {
    int found, role, has_hub;
    uint8_t hub[WW_KEY_LEN];
    char addr[256];
};

static void leave_group_cb(void *ud, const struct ww_group_info *g)
{
    struct leave_info *l = ud;
    l->found = 1;
    l->role = g->my_role;
    l->has_hub = g->has_hub && g->hub_addr && *g->hub_addr && strlen(g->hub_addr) < sizeof l->addr;
    if (l->has_hub) {
        memcpy(l->hub, g->hub, WW_KEY_LEN);
        memcpy(l->addr, g->hub_addr, strlen(g->hub_addr) + 1);
    }
}

/*
 * `leave GROUP`: this device's member leaves (ww_member_leave), and one sync with the hub
 * the group named tells the others. The hub applies the leave and then serves this device
 * no more: its refusal, after the leave went out, is the expected end. Run again, it only
 * delivers (a leave already written stays the one).
 */
int verb_leave(struct cli *c, int argc, char **argv)
{
    static const struct opt_spec spec[] = {{"quiet", 0, 0}, {NULL, 0, 0}};
    struct args a;
    uint8_t gid[WW_ID_LEN];
    int rc = args_parse(spec, argc, argv, 1, 1, &a);
    if (rc == CLI_OK)
        rc = cli_group(c, a.pos[0], gid);
    if (rc != CLI_OK)
        return rc;
    struct leave_info l;
    memset(&l, 0, sizeof l);
    if ((rc = ww_group_get(c->store, gid, leave_group_cb, &l)) != 0)
        return lib_error(rc, _("cannot read the group"), NULL);
    if (l.role == WW_ROLE_COACH)
        return fail(CLI_DENIED,
                    _("the coach's device does not leave its group; remove members with "
                      "'wegwijs member remove'"),
                    NULL, NULL);
    if (l.role != 0 && (rc = ww_member_leave(c->store, gid, NULL)) != 0)
        return lib_error(rc, _("cannot leave the group"), NULL);
    struct hexbuf h;
    if (!l.has_hub) {
        say1(_("you left group {1} on this device; the others learn of it when this device "
               "next syncs with one of them"),
             hex_of(gid, WW_ID_LEN, &h));
        return CLI_OK;
    }
    char host[256];
    int port = 0;
    if (parse_addr(l.addr, host, sizeof host, &port) != CLI_OK)
        return CLI_INPUT;
    struct net_run r;
    memset(&r, 0, sizeof r);
    r.quiet = 1;
    r.once = 1;
    r.store = c->store;
    r.addr = l.addr;
    if ((rc = net_start(&r, c, 0, 0, NULL, 0)) != CLI_OK)
        return rc;
    int nrc = ww_node_dial(r.node, host, port, l.hub, (const uint8_t(*)[WW_ID_LEN])gid, 1, 1);
    r.dials = nrc == 0;
    if (nrc != 0)
        ww_node_close(r.node, closed_cb, &r);
    run_loop(&r);
    int err = nrc ? nrc : r.failed ? r.error : 0;
    if (err != 0 && err != WW_EDENIED && err != WW_ENOTMEMBER)
        return fail(CLI_NET,
                    _("you left group {1} on this device, but cannot reach its hub {2}: run "
                      "'wegwijs leave {1}' again when you are online"),
                    hex_of(gid, WW_ID_LEN, &h), l.addr);
    if (!args_get(&a, "quiet"))
        say1(_("you left group {1}; the hub serves this device no more, and the coach's device "
               "starts new keys when it next syncs"),
             hex_of(gid, WW_ID_LEN, &h));
    return CLI_OK;
}
