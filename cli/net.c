/*
 * net.c - the network verbs: `hub` runs the studentcoach hub, `sync` syncs this device
 * with a hub or a peer, once or live.
 *
 *     wegwijs hub [--listen ADDR:PORT] [--closed]
 *     wegwijs sync ADDR:PORT [--group GROUP]... [--watch] [--listen ADDR:PORT] [--quiet]
 *                            [--verbose]
 *
 * Both run a ww_node (wegwijs_sync.h) on a libuv loop until done, or until SIGINT or
 * SIGTERM, then close every connection and the store cleanly. The hub logs one line per
 * connection event to stderr.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "wegwijs_sync.h"

#define DEFAULT_HUB "127.0.0.1:7420"

struct net_run {
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;
    struct ww_node *node;
    int quiet, verbose, once, closed, failed;
    int error;
    uint64_t sent, received, bytes;
    /* The progress line of a single sync on a terminal (stderr): events this device holds
     * more than at the start, redrawn by a timer; the totals when the connection ends. */
    struct ww_store *store;
    const char *addr;
    int progress;
    uv_timer_t tick;
    uint64_t start_ms, held0;
};

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
        return input_error(_("invalid address {1}: use IP:PORT, for example 127.0.0.1:7420"),
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
static int net_error(int rc, const char *what, const char *a1)
{
    int code = lib_error(rc, what, a1);
    return code == CLI_FAIL && rc != WW_ENOMEM ? CLI_NET : code;
}

static void log_line(void *ud, const char *line)
{
    (void)ud;
    fprintf(stderr, "wegwijs: %s\n", line);
}

static int parse_addr(const char *arg, char *ip, size_t cap, int *port)
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
    if (!uv_is_closing((uv_handle_t *)&r->sigint)) {
        uv_close((uv_handle_t *)&r->sigint, NULL);
        uv_close((uv_handle_t *)&r->sigterm, NULL);
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
        if (info->error) {
            r->error = info->error;
            r->failed = 1;
        }
        end_progress(r, !r->failed);
        if (r->once)
            ww_node_close(r->node, closed_cb, r);
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

static int net_start(struct net_run *r, struct cli *c, int hub, int open_groups)
{
    if (uv_loop_init(&r->loop) != 0)
        return lib_error(WW_ENOMEM, _("cannot start the network"), NULL);
    struct ww_node_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = c->store;
    cfg.hub = hub;
    cfg.accept_new_groups = open_groups;
    cfg.ud = r;
    cfg.log = hub || r->verbose ? log_line : NULL;
    cfg.on_conn = on_conn;
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
    /* A peer that goes away while we write must not end the process. */
    signal(SIGPIPE, SIG_IGN);
    return CLI_OK;
}

int verb_hub(struct cli *c, int argc, char **argv)
{
    static const struct opt_spec spec[] = {{"listen", 1, 0}, {"closed", 0, 0}, {NULL, 0, 0}};
    struct args a;
    int rc = args_parse(spec, argc, argv, 0, 0, &a);
    char ip[64];
    int port = 0;
    const char *listen = args_get(&a, "listen") ? args_get(&a, "listen") : DEFAULT_HUB;
    if (rc == CLI_OK)
        rc = parse_listen(listen, ip, sizeof ip, &port);
    if (rc == CLI_OK)
        rc = cli_open(c, 1);
    if (rc != CLI_OK)
        return rc;
    struct net_run r;
    memset(&r, 0, sizeof r);
    r.quiet = 1;
    if ((rc = net_start(&r, c, 1, !args_get(&a, "closed"))) != CLI_OK)
        return rc;
    int lrc = ww_node_listen(r.node, ip, port);
    if (lrc != 0) {
        ww_node_close(r.node, closed_cb, &r);
        run_loop(&r);
        return net_error(lrc, _("cannot listen on {1}"), listen);
    }
    uint8_t pk[WW_KEY_LEN];
    char hex[2 * WW_KEY_LEN + 1], where[80], p[8];
    ww_store_device(c->store, pk);
    ww_hex(pk, WW_KEY_LEN, hex);
    snprintf(p, sizeof p, "%d", ww_node_port(r.node));
    snprintf(where, sizeof where, "%s:%s", ip, p);
    say2(_("hub listening on {1}; the hub's key: {2}"), where, hex);
    fflush(stdout);
    run_loop(&r);
    return CLI_OK;
}

int verb_sync(struct cli *c, int argc, char **argv)
{
    static const struct opt_spec spec[] = {{"watch", 0, 0}, {"listen", 1, 0},  {"quiet", 0, 0},
                                           {"group", 1, 1}, {"verbose", 0, 0}, {NULL, 0, 0}};
    struct args a;
    int rc = args_parse(spec, argc, argv, 1, 1, &a);
    char ip[64], lip[64];
    int port = 0, lport = 0;
    if (rc == CLI_OK)
        rc = parse_addr(a.pos[0], ip, sizeof ip, &port);
    if (rc == CLI_OK && args_get(&a, "listen"))
        rc = parse_listen(args_get(&a, "listen"), lip, sizeof lip, &lport);
    if (rc == CLI_OK && args_get(&a, "listen") && !args_get(&a, "watch"))
        rc = usage_error(_("--listen needs --watch"), NULL, NULL);
    if (rc == CLI_OK && c->json && args_get(&a, "watch"))
        rc = usage_error(_("--json goes with a single sync, not with --watch"), NULL, NULL);
    /* --group: a group this device is in but does not hold yet (a new member's first sync). */
    size_t n_groups = args_count(&a, "group");
    uint8_t groups[8][WW_ID_LEN];
    if (rc == CLI_OK && n_groups > 8)
        rc = usage_error(_("at most 8 times --group"), NULL, NULL);
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
    r.addr = a.pos[0];
    if ((rc = net_start(&r, c, 0, 0)) != CLI_OK)
        return rc;
    int nrc = 0;
    if (args_get(&a, "listen")) {
        nrc = ww_node_listen(r.node, lip, lport);
        /* Peers need the port (it may have been 0): always said, as the node logs it. */
        if (nrc == 0 && !r.verbose)
            fprintf(stderr, "wegwijs: listen %s:%d\n", lip, ww_node_port(r.node));
    }
    if (nrc == 0)
        nrc = ww_node_dial(r.node, ip, port, NULL,
                           n_groups ? (const uint8_t(*)[WW_ID_LEN])groups : NULL, n_groups, r.once);
    /* Progress only where someone watches: a single sync, stderr a terminal, not --quiet. */
    if (nrc == 0 && r.once && !r.quiet && !r.verbose && isatty(STDERR_FILENO) &&
        uv_timer_init(&r.loop, &r.tick) == 0) {
        r.progress = 1;
        r.tick.data = &r;
        r.start_ms = uv_now(&r.loop);
        r.held0 = held_events(c->store);
        uv_timer_start(&r.tick, on_tick, PROGRESS_MS, PROGRESS_MS);
    }
    if (nrc != 0) {
        ww_node_close(r.node, closed_cb, &r);
        run_loop(&r);
        return net_error(nrc, _("cannot sync with {1}"), a.pos[0]);
    }
    run_loop(&r);
    if (r.failed)
        return net_error(r.error, _("cannot sync with {1}"), a.pos[0]);
    if (c->json)
        return json_result("sync", json_pack("{s:o, s:I, s:I, s:I}", "address", j_text(a.pos[0]),
                                             "sent", (json_int_t)r.sent, "received",
                                             (json_int_t)r.received, "bytes", (json_int_t)r.bytes));
    if (r.once && !r.quiet) {
        char n1[24], n2[24];
        snprintf(n1, sizeof n1, "%llu", (unsigned long long)r.sent);
        snprintf(n2, sizeof n2, "%llu", (unsigned long long)r.received);
        say3(_("synced with {1}: {2} sent, {3} received"), a.pos[0], n1, n2);
    }
    return CLI_OK;
}
