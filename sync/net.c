/*
 * net.c - the libuv glue of sync: listening, dialling, and for each connection moving
 * bytes between its TCP stream, its secure channel (channel.c) and its sync session
 * (session.c). All protocol decisions are made there; this file only moves bytes, keeps
 * time and enforces the resource limits of a connection.
 *
 * Invariants:
 *  - One misbehaving connection never slows the others: every connection's input is
 *    bounded by the channel (one record), its output by a high-water mark (a session sends
 *    no further batches while its socket is backed up), its handshake by a timer, its
 *    silence by keep-alive; the number of connections is bounded in all and per address.
 *  - Input from the network never ends the process: every failure closes that connection
 *    with a logged reason.
 *  - A connection is freed only in the close callback of its last handle.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "alloc.h"
#include "channel.h"
#include "discovery.h"
#include "proto.h"
#include "session.h"
#include "share.h"
#include "wegwijs_sync.h"

#define LINGER_MS  2000        /* after an ERROR: how long to read and drop the peer's bytes */
#define HIGH_WATER (1u << 20)  /* bytes queued on a socket before its session holds back */
#define READ_CHUNK (64u << 10) /* one read; the node's buffer, shared by all connections */

/* An outbound connection that redeems an invite (ww_node_join): the signed redemption (the
 * secret itself is not kept) and how far it got. */
struct join {
    struct ww_redemption r;
    char alias[WW_MAX_NAME + 1];
    uint8_t fp[WW_HUB_FP_LEN];
    int state; /* 0, or the last enum ww_join_state reported */
};

/* An outbound connection that fetches a hub's climate report as aggregator B and combiner
 * (ww_node_climate): B's aggregator over the hub's shares, the setup, the snapshot's bound,
 * and the ids of the shares B could not open. */
struct fetch {
    uint32_t k;
    struct ww_agg *b;
    struct ww_agg_setup su;
    int has_setup;
    uint64_t upto, last;
    uint8_t skip[8 * WW_MAX_AGG_SKIP];
    size_t n_skip;
    size_t n_msgs; /* every message the hub sent, counted or not: bounded */
    int done;
};

/* Messages one fetch takes from a hub at most (131,072 learner-days: 100 groups of five
 * for a year and more); a hub that goes on is refused. */
#define MAX_FETCH_MSGS (1u << 17)

struct conn {
    uv_tcp_t tcp; /* first: the handle's data is the connection */
    uv_timer_t timer;
    struct ww_node *node;
    struct conn *prev, *next;
    struct ww_channel ch;
    struct ww_session ss;
    int has_channel, has_session, up;
    int outbound, once, synced;
    int reported;         /* the first catch-up was recorded (ww_sync_done) */
    int closing, handles; /* handles still open while closing */
    int counted;          /* counts in the node's sessions per device */
    int finishing;        /* closes once the queue is written (conn_finish) */
    int lingering;        /* written and shut down: reading and dropping until EOF or LINGER_MS */
    uv_shutdown_t shut;
    char addr[64];
    uint8_t expect[WW_KEY_LEN];
    int has_expect;
    uint8_t (*groups)[WW_ID_LEN]; /* outbound: the groups to sync; NULL: all */
    size_t n_groups;
    size_t queued;                  /* bytes handed to libuv (or held) and not yet written */
    struct wreq *held, **held_tail; /* written in this turn, sent after its commit */
    struct conn *held_next;         /* the node's list of connections holding writes */
    int on_held;
    uint64_t bytes_in, bytes_out;
    int error;
    const char *reason;
    struct join *join;           /* outbound: redeeming an invite; NULL otherwise */
    struct fetch *fetch;         /* outbound: fetching climate (ww_node_climate); NULL otherwise */
    uv_getaddrinfo_t *resolving; /* outbound to a host name: its lookup, while pending */
    int waiting;      /* a hub: the peer redeemed wait_invite of wait_gid, not yet admitted */
    int has_agg_upto; /* a hub: the snapshot it gave this reader (its first AGG_SHARES) */
    uint64_t agg_upto;
    uint8_t wait_gid[WW_ID_LEN], wait_invite[WW_KEY_LEN];
};

/* The connections that sync one group: a hub fans a group's news out to these alone,
 * without looking at its other thousands of connections. */
struct sub {
    uint8_t gid[WW_ID_LEN];
    int used;
    struct conn **conns;
    size_t n, cap;
};

struct ww_node {
    uv_loop_t *loop;
    struct ww_node_cfg cfg;
    uv_tcp_t listener;
    int listening;
    int port;
    struct conn *conns;
    size_t n_conns, n_open;
    size_t n_handshaking; /* inbound connections not yet through their handshake */
    int closing;
    int handles; /* the listener, while open */
    void (*close_cb)(void *ud);
    void *close_ud;
    uint8_t rbuf[READ_CHUNK];
    int rbuf_busy;
    uv_check_t commit;     /* a hub: commits the loop turn's transaction (group commit) */
    int in_tx;             /* a hub's transaction for this loop turn is open */
    struct conn *held;     /* connections with writes held until the commit */
    struct sub *subs;      /* open addressing by group id; a power of two, at most half full */
    struct devcount *devs; /* inbound sessions per peer device, the same way */
    size_t devs_cap, devs_used;
    size_t subs_cap, subs_used;
    size_t n_waiting;     /* a hub: connections whose redemption waits for the owner (9.9) */
    struct ww_disc *disc; /* finding peers on the local network (ww_node_discover), or NULL */
};

/* How many inbound sessions one device has open (n = 0: an empty slot). */
struct devcount {
    uint8_t pk[WW_KEY_LEN];
    uint32_t n;
};

struct wreq {
    uv_write_t req;
    struct conn *c;
    struct wreq *next; /* held until the turn's commit (group commit) */
    size_t len;
    uint8_t data[];
};

/* ---- Connections by group ------------------------------------------------------------- */

static size_t sub_slot(const uint8_t *gid, size_t cap)
{
    uint64_t h;
    memcpy(&h, gid, sizeof h); /* group ids are hashes: any 8 bytes spread well */
    return (size_t)h & (cap - 1);
}

/* The group's entry; created when `create` (NULL when out of memory or absent). */
static struct sub *sub_find(struct ww_node *n, const uint8_t *gid, int create)
{
    if (create && (n->subs_used + 1) * 2 > n->subs_cap) {
        size_t ncap = n->subs_cap ? n->subs_cap * 2 : 64;
        struct sub *ns = ww_calloc(ncap, sizeof *ns);
        if (!ns)
            return NULL;
        for (size_t i = 0; i < n->subs_cap; i++) {
            if (!n->subs[i].used)
                continue;
            size_t k = sub_slot(n->subs[i].gid, ncap);
            while (ns[k].used)
                k = (k + 1) & (ncap - 1);
            ns[k] = n->subs[i];
        }
        ww_free(n->subs);
        n->subs = ns;
        n->subs_cap = ncap;
    }
    if (!n->subs_cap)
        return NULL;
    for (size_t k = sub_slot(gid, n->subs_cap);; k = (k + 1) & (n->subs_cap - 1)) {
        struct sub *e = &n->subs[k];
        if (e->used && !memcmp(e->gid, gid, WW_ID_LEN))
            return e;
        if (!e->used) {
            if (!create)
                return NULL;
            e->used = 1;
            memcpy(e->gid, gid, WW_ID_LEN);
            n->subs_used++;
            return e;
        }
    }
}

static int sub_add(struct ww_node *n, const uint8_t *gid, struct conn *c)
{
    struct sub *e = sub_find(n, gid, 1);
    if (!e)
        return WW_ENOMEM;
    if (e->n == e->cap) {
        size_t ncap = e->cap ? e->cap * 2 : 4;
        struct conn **nc = ww_realloc(e->conns, ncap * sizeof *nc);
        if (!nc)
            return WW_ENOMEM;
        e->conns = nc;
        e->cap = ncap;
    }
    e->conns[e->n++] = c;
    return 0;
}

static void sub_remove(struct ww_node *n, const uint8_t *gid, struct conn *c)
{
    struct sub *e = sub_find(n, gid, 0);
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++)
        if (e->conns[i] == c) {
            e->conns[i] = e->conns[--e->n];
            return;
        }
}

static void subs_free(struct ww_node *n)
{
    for (size_t i = 0; i < n->subs_cap; i++)
        ww_free(n->subs[i].conns);
    ww_free(n->subs);
    n->subs = NULL;
    n->subs_cap = n->subs_used = 0;
}

/* ---- Sessions per device -------------------------------------------------------------- */

/* Device keys are uniform: their first bytes spread well. */
static size_t dev_slot(const uint8_t *pk, size_t cap)
{
    uint64_t h;
    memcpy(&h, pk, sizeof h);
    return (size_t)h & (cap - 1);
}

/* One more inbound session of the device; its count, or 0 when out of memory. */
static uint32_t dev_add(struct ww_node *n, const uint8_t *pk)
{
    if ((n->devs_used + 1) * 2 > n->devs_cap) {
        size_t ncap = n->devs_cap ? n->devs_cap * 2 : 64;
        struct devcount *nd = ww_calloc(ncap, sizeof *nd);
        if (!nd)
            return 0;
        for (size_t i = 0; i < n->devs_cap; i++) {
            if (!n->devs[i].n)
                continue;
            size_t k = dev_slot(n->devs[i].pk, ncap);
            while (nd[k].n)
                k = (k + 1) & (ncap - 1);
            nd[k] = n->devs[i];
        }
        ww_free(n->devs);
        n->devs = nd;
        n->devs_cap = ncap;
    }
    size_t k = dev_slot(pk, n->devs_cap);
    while (n->devs[k].n && memcmp(n->devs[k].pk, pk, WW_KEY_LEN))
        k = (k + 1) & (n->devs_cap - 1);
    if (!n->devs[k].n) {
        memcpy(n->devs[k].pk, pk, WW_KEY_LEN);
        n->devs_used++;
    }
    return ++n->devs[k].n;
}

/* One inbound session of the device fewer; an emptied slot is refilled from the entries
 * after it (deletion from linear probing without tombstones). */
static void dev_del(struct ww_node *n, const uint8_t *pk)
{
    if (!n->devs_cap)
        return;
    size_t mask = n->devs_cap - 1, k = dev_slot(pk, n->devs_cap);
    while (n->devs[k].n && memcmp(n->devs[k].pk, pk, WW_KEY_LEN))
        k = (k + 1) & mask;
    if (!n->devs[k].n || --n->devs[k].n > 0)
        return;
    n->devs_used--;
    for (size_t j = (k + 1) & mask; n->devs[j].n; j = (j + 1) & mask) {
        size_t home = dev_slot(n->devs[j].pk, n->devs_cap);
        /* Move j into the hole at k unless its home lies cyclically in (k, j]. */
        if (((j - home) & mask) >= ((j - k) & mask)) {
            n->devs[k] = n->devs[j];
            n->devs[j].n = 0;
            k = j;
        }
    }
}

static void logf_(struct ww_node *n, const char *fmt, ...)
{
    if (!n->cfg.log)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    n->cfg.log(n->cfg.ud, line);
}

static void hex8(const uint8_t *p, char out[17])
{
    ww_hex(p, 8, out);
}

static int64_t now_ms(struct ww_node *n)
{
    return (int64_t)uv_now(n->loop);
}

static void report(struct conn *c, int event)
{
    struct ww_node *n = c->node;
    if (!n->cfg.on_conn)
        return;
    struct ww_conn_info info;
    memset(&info, 0, sizeof info);
    info.event = event;
    info.outbound = c->outbound;
    info.addr = c->addr;
    if (c->up)
        memcpy(info.peer, c->ss.cfg.peer, WW_KEY_LEN);
    info.error = c->error;
    info.reason = c->reason ? c->reason : "";
    if (c->has_session) {
        info.events_sent = c->ss.events_sent;
        info.events_received = c->ss.events_received;
        info.events_not_taken = ww_session_not_taken(&c->ss);
        info.own_lost = c->ss.own_lost;
        info.rewritten = c->ss.rewritten;
    }
    info.bytes_sent = c->bytes_out;
    info.bytes_received = c->bytes_in;
    n->cfg.on_conn(n->cfg.ud, &info);
}

static void report_join(struct conn *c, int state)
{
    struct ww_node *n = c->node;
    if (!c->join || c->join->state == WW_JOIN_ADMITTED || c->join->state == WW_JOIN_FAILED)
        return;
    c->join->state = state;
    if (!n->cfg.on_join)
        return;
    struct ww_join_info info;
    memset(&info, 0, sizeof info);
    info.state = state;
    memcpy(info.group, c->join->r.group, WW_ID_LEN);
    if (state == WW_JOIN_FAILED) {
        info.error = c->error ? c->error : WW_ESTATE;
        info.reason = c->reason && *c->reason ? c->reason
                                              : "the connection closed before the "
                                                "coach's device admitted this device";
    }
    n->cfg.on_join(n->cfg.ud, &info);
}

static void timer_cb(uv_timer_t *t);

/* ---- Closing --------------------------------------------------------------------------- */

static void maybe_free_node(struct ww_node *n)
{
    if (!n->closing || n->handles > 0 || n->conns)
        return;
    void (*cb)(void *) = n->close_cb;
    void *ud = n->close_ud;
    subs_free(n);
    ww_free(n->devs);
    ww_free(n);
    if (cb)
        cb(ud);
}

static void timer_cb(uv_timer_t *t);
static int release_held(struct conn *c, int send);

static void conn_handle_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    if (--c->handles > 0)
        return;
    struct ww_node *n = c->node;
    report(c, WW_CONN_DOWN);
    report_join(c, WW_JOIN_FAILED); /* nothing when admitted */
    if (c->prev)
        c->prev->next = c->next;
    else
        n->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    n->n_conns--;
    if (c->up)
        n->n_open--;
    if (c->waiting)
        n->n_waiting--;
    else if (!c->outbound && !c->up) /* one that got through left the count then */
        n->n_handshaking--;
    if (c->on_held) {
        struct conn **p = &n->held;
        while (*p && *p != c)
            p = &(*p)->held_next;
        if (*p)
            *p = c->held_next;
        release_held(c, 0);
    }
    if (c->counted)
        dev_del(n, c->ss.cfg.peer);
    if (c->has_session) {
        for (size_t i = 0; i < c->ss.n_groups; i++)
            sub_remove(n, ww_session_group(&c->ss, i), c);
        ww_session_close(&c->ss);
    }
    if (c->has_channel)
        ww_channel_close(&c->ch);
    ww_free(c->groups);
    ww_free(c->join);
    if (c->fetch) {
        if (!c->fetch->done && n->cfg.on_climate)
            n->cfg.on_climate(n->cfg.ud, c->error ? c->error : WW_EIO, NULL, NULL);
        ww_agg_free(c->fetch->b);
        ww_agg_setup_free(&c->fetch->su);
        ww_free(c->fetch);
    }
    ww_free(c);
    maybe_free_node(n);
}

/* Closes a connection (once), with the reason for the log. */
static void conn_close(struct conn *c, int error, const char *reason)
{
    if (c->closing)
        return;
    c->closing = 1;
    c->error = error;
    c->reason = reason;
    char who[17] = "-";
    if (c->up)
        hex8(c->ss.cfg.peer, who);
    if (error)
        logf_(c->node, "close %s peer=%s error=%s reason=%s", c->addr, who, ww_err_name(error),
              reason ? reason : "");
    else
        logf_(c->node, "close %s peer=%s", c->addr, who);
    uv_read_stop((uv_stream_t *)&c->tcp);
    /* A pending name lookup counts as a handle: its callback comes (cancelled) before the
     * connection may be freed. */
    c->handles = 2 + (c->resolving != NULL);
    if (c->resolving)
        uv_cancel((uv_req_t *)c->resolving);
    uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
    uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
    (void)req; /* the connection may be gone (a close cancels the request) */
    (void)status;
}

/* The queue of a finishing connection is written. A clean end closes now. One that sent
 * an ERROR lingers: the write side is shut down and the peer's bytes are read and dropped
 * until it closes (or LINGER_MS), so that the peer reads the ERROR instead of a reset (a
 * socket closed with unread input resets the connection). */
static void conn_drained(struct conn *c)
{
    if (c->lingering)
        return;
    if (!c->error || uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, shutdown_cb) != 0) {
        conn_close(c, c->error, c->reason);
        return;
    }
    c->lingering = 1;
    uv_timer_start(&c->timer, timer_cb, LINGER_MS, 0);
}

/* Ends a connection once what it queued is written: no further input is taken. */
static void conn_finish(struct conn *c, int error, const char *reason)
{
    if (c->closing || c->finishing)
        return;
    c->finishing = 1;
    c->error = error;
    c->reason = reason;
    if (c->queued == 0)
        conn_drained(c);
}

/* ---- Writing --------------------------------------------------------------------------- */

static void write_done(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    struct conn *c = w->c;
    c->queued -= w->len;
    ww_free(w);
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c, status, "write failed");
        return;
    }
    if (c->finishing) {
        if (c->queued == 0)
            conn_drained(c);
        return;
    }
    /* The socket drained: a session held back by it may go on. */
    if (c->has_session && c->queued < HIGH_WATER / 2 && ww_session_resume(&c->ss) != 0)
        conn_close(c, c->ss.failed, c->ss.reason);
}

static int submit(struct wreq *w)
{
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)w->len);
    int rc = uv_write(&w->req, (uv_stream_t *)&w->c->tcp, &b, 1, write_done);
    if (rc < 0) {
        w->c->queued -= w->len;
        ww_free(w);
    }
    return rc;
}

/* Frees a connection's held writes (sent = 0) or sends them, in order. */
static int release_held(struct conn *c, int send)
{
    int rc = 0;
    struct wreq *w = c->held;
    c->held = NULL;
    c->on_held = 0;
    while (w) {
        struct wreq *next = w->next;
        if (send && rc == 0 && !c->closing) {
            rc = submit(w);
        } else {
            c->queued -= w->len;
            ww_free(w);
        }
        w = next;
    }
    return rc;
}

static int write_bytes(struct conn *c, const uint8_t *p, size_t len)
{
    if (c->closing || c->lingering || len == 0)
        return c->closing || c->lingering ? WW_ESTATE : 0;
    struct wreq *w = ww_malloc(sizeof *w + len);
    if (!w)
        return WW_ENOMEM;
    w->c = c;
    w->next = NULL;
    w->len = len;
    memcpy(w->data, p, len);
    c->queued += len;
    c->bytes_out += len;
    struct ww_node *n = c->node;
    if (!n->in_tx)
        return submit(w);
    /* Nothing leaves before the turn's commit: an ACK then means "stored". */
    if (!c->held)
        c->held_tail = &c->held;
    *c->held_tail = w;
    c->held_tail = &w->next;
    if (!c->on_held) {
        c->on_held = 1;
        c->held_next = n->held;
        n->held = c;
    }
    return 0;
}

/* Sends whatever handshake record the channel owes. */
static int flush_handshake(struct conn *c)
{
    struct ww_buf b;
    ww_buf_init(&b, 4 + WW_CHANNEL_HS_MAX);
    int rc = ww_channel_handshake_write(&c->ch, &b);
    if (rc == 0)
        rc = write_bytes(c, b.p, b.len);
    ww_buf_free(&b);
    return rc;
}

/* ---- The session's side ---------------------------------------------------------------- */

static int session_send(void *ud, const uint8_t *frame, size_t len)
{
    struct conn *c = ud;
    struct ww_buf b;
    ww_buf_init(&b, WW_CHANNEL_MAX_RECORD + 4);
    int rc = ww_channel_seal(&c->ch, frame, len, &b);
    if (rc == 0)
        rc = write_bytes(c, b.p, b.len);
    ww_buf_free(&b);
    return rc;
}

static int session_writable(void *ud)
{
    struct conn *c = ud;
    return !c->closing && !c->finishing && c->queued < HIGH_WATER;
}

struct member_check {
    const uint8_t *device;
    int found;
};

static void member_cb(void *ud, const struct ww_member_info *m)
{
    struct member_check *mc = ud;
    if (!m->active)
        return;
    for (size_t i = 0; i < m->n_devices; i++)
        if (!memcmp(m->devices[i], mc->device, WW_KEY_LEN))
            mc->found = 1;
}

struct group_seen {
    int known;
    struct ww_group_info g; /* without its strings */
};

static void group_cb(void *ud, const struct ww_group_info *g)
{
    struct group_seen *gs = ud;
    gs->known = 1;
    gs->g = *g;
    gs->g.name = gs->g.tz = gs->g.hub_addr = NULL;
}

/* Events this store holds of a group (each author's log is gap-free up to its seq). */
static int held_events(struct ww_store *s, const uint8_t group[WW_ID_LEN], uint64_t *out)
{
    struct ww_vv_item vv[WW_MAX_VV];
    size_t n = 0;
    int rc = ww_sync_vv(s, group, vv, WW_MAX_VV, &n);
    *out = 0;
    for (size_t i = 0; rc == 0 && i < n && i < WW_MAX_VV; i++)
        *out += vv[i].seq;
    return rc;
}

/* Does this hub serve a group it holds? One that names this hub, if its owner is a coach
 * the hub accepts; one that names no hub, or another, only on probation, up to
 * WW_HUB_PROBATION events, so that its owner's log can reach its newest naming
 * (PROTOCOL.md 9.2). */
static int hub_serves(struct ww_node *n, const uint8_t group[WW_ID_LEN],
                      const struct ww_group_info *g)
{
    /* A listed coach's device, or one it handed the group to or that recovered it: any
     * device, retired or not, of the owner's member. */
    if (n->cfg.n_coaches) {
        size_t i = 0;
        while (i < n->cfg.n_coaches &&
               !ww_group_coach_device(n->cfg.store, group, n->cfg.coaches[i]))
            i++;
        if (i == n->cfg.n_coaches)
            return WW_EGROUP;
    }
    if (g->has_hub) {
        uint8_t me[WW_KEY_LEN];
        ww_store_device(n->cfg.store, me);
        if (!memcmp(g->hub, me, WW_KEY_LEN))
            return 0;
    }
    /* Named elsewhere (or not yet): the owner's log may still name this hub further on, as
     * when a group moves to a new hub, so the same probation applies. */
    uint64_t held = 0;
    int rc = held_events(n->cfg.store, group, &held);
    if (rc == 0 && held > n->cfg.probation)
        rc = WW_EGROUP;
    return rc;
}

/* May this connection's peer sync the group? A device of an active member may, on a hub
 * only for a group the hub serves; a hub also takes a group it does not know yet from
 * whoever brings it (its creator's first upload), when configured to. The session asks
 * again after each batch it applied, before committing it, so a group that turns out to
 * name another hub leaves nothing behind. */
static int may_sync(struct conn *c, const uint8_t group[WW_ID_LEN])
{
    struct ww_node *n = c->node;
    struct group_seen gs;
    memset(&gs, 0, sizeof gs);
    int rc = ww_group_get(n->cfg.store, group, group_cb, &gs);
    if (rc == WW_EGROUP || rc == WW_ENOTFOUND || (rc == 0 && !gs.known))
        return n->cfg.hub && n->cfg.accept_new_groups ? 0 : WW_EGROUP;
    if (rc == 0 && n->cfg.hub)
        rc = hub_serves(n, group, &gs.g);
    if (rc != 0)
        return rc;
    struct member_check mc = {c->ss.cfg.peer, 0};
    if ((rc = ww_members_list(n->cfg.store, group, member_cb, &mc)) != 0)
        return rc;
    return mc.found ? 0 : WW_ENOTMEMBER;
}

static int session_may_sync(void *ud, const uint8_t group[WW_ID_LEN])
{
    return may_sync(ud, group);
}

/* A batch of connection `from` changed a group: the group's other connections get it now,
 * and when its members changed, a connection whose peer was removed closes. */
/* News of a group for every connection that syncs it (but `skip`): a peer we admitted is
 * re-checked first when members may have changed (one we dialled, a hub, is no member),
 * and its session sends what it lacks. */
static void admit_waiting(struct ww_node *n, const uint8_t *group);
static int admit_held(struct ww_node *n, const uint8_t group[WW_ID_LEN]);

static void fan_out(struct ww_node *n, const uint8_t *group, int recheck, struct conn *skip)
{
    struct sub *e = sub_find(n, group, 0);
    for (size_t i = 0; e && i < e->n; i++) {
        struct conn *c = e->conns[i];
        if (c->closing || c->finishing || !c->has_session)
            continue;
        if (recheck && !c->outbound && may_sync(c, group) != 0) {
            ww_session_send_error(&c->ss, WW_WIRE_DENIED, "no longer a member of the group");
            conn_finish(c, WW_ENOTMEMBER, "no longer a member of the group");
            continue;
        }
        if (c != skip && ww_session_pump(&c->ss, group) != 0)
            conn_close(c, c->ss.failed, c->ss.reason);
    }
    if (recheck && n->cfg.hub)
        admit_waiting(n, group);
}

static void session_changed(void *ud, const uint8_t group[WW_ID_LEN], int control)
{
    struct conn *from = ud;
    struct ww_node *n = from->node;
    int wrote = 0;
    /* The owner's device starts a new epoch when a member left (ww_removals_rekey): the
     * key.epoch goes out with the news. */
    if (control && !n->cfg.hub && ww_removals_rekey(n->cfg.store, group, &wrote) != 0)
        logf_(n, "rekey %s: cannot start a new epoch after a member left", from->addr);
    if (admit_held(n, group))
        wrote = control = 1;
    int shared = 0;
    if (control && !n->cfg.hub && ww_self_key_refresh(n->cfg.store, group, &shared) == 0 && shared)
        wrote = 1;
    fan_out(n, group, control, wrote ? NULL : from);
}

/* ---- Joining by invite (PROTOCOL.md 9.9) ------------------------------------------------- */

/* A peer that takes REDEMPTION frames for a group: its owner device, speaking invites. */
static int is_owner_conn(struct conn *c, const struct ww_group_info *g)
{
    return !c->closing && !c->finishing && c->has_session &&
           (c->ss.cfg.peer_caps & WW_CAP_INVITE) && !memcmp(c->ss.cfg.peer, g->owner, WW_KEY_LEN);
}

static void offer_cb(void *ud, const struct ww_redemption *r)
{
    struct conn *c = ud;
    if (!c->closing && ww_session_send_redemption(&c->ss, r) != 0)
        conn_close(c, c->ss.failed, c->ss.reason);
}

/* A hub hands a new redemption to the group's owner device wherever it is connected. */
static void offer_redemption(struct ww_node *n, const struct ww_redemption *r,
                             const struct ww_group_info *g)
{
    struct sub *e = sub_find(n, r->group, 0);
    for (size_t i = 0; e && i < e->n; i++)
        if (is_owner_conn(e->conns[i], g))
            offer_cb(e->conns[i], r);
}

/* A hub: the peer redeems an invite. The hub checks what it can (the invite's group is one
 * it serves, the proof, first use, expiry) and records it; the owner's device decides. */
static int session_redeem(void *ud, struct ww_redemption *r, int *state)
{
    struct conn *c = ud;
    struct ww_node *n = c->node;
    struct group_seen gs;
    memset(&gs, 0, sizeof gs);
    uint8_t gid[WW_ID_LEN];
    int admitted = 0, rc = ww_invite_group(n->cfg.store, r->invite, gid);
    if (rc == 0)
        rc = ww_group_get(n->cfg.store, gid, group_cb, &gs);
    if (rc == 0 && hub_serves(n, gid, &gs.g) != 0)
        rc = WW_EDENIED;
    if (rc == 0)
        rc = ww_redemption_record(n->cfg.store, r, &admitted);
    char who[17];
    hex8(c->ss.cfg.peer, who);
    logf_(n, "redeem %s peer=%s %s", c->addr, who, rc ? ww_err_name(rc) : "recorded");
    if (rc != 0)
        return rc;
    *state = admitted ? WW_REDEEM_ADMITTED : WW_REDEEM_WAITING;
    if (!admitted) {
        n->n_waiting += !c->waiting;
        c->waiting = 1;
        memcpy(c->wait_gid, r->group, WW_ID_LEN);
        memcpy(c->wait_invite, r->invite, WW_KEY_LEN);
        offer_redemption(n, r, &gs.g);
    }
    return 0;
}

/* A hub: the group's members changed; a device waiting on this hub that is a member now
 * hears that it is admitted, and opens the group. */
static void admit_waiting(struct ww_node *n, const uint8_t *group)
{
    for (struct conn *c = n->conns; c && n->n_waiting; c = c->next) {
        if (!c->waiting || c->closing || c->finishing || memcmp(c->wait_gid, group, WW_ID_LEN))
            continue;
        struct member_check mc = {c->ss.cfg.peer, 0};
        if (ww_members_list(n->cfg.store, group, member_cb, &mc) != 0 || !mc.found)
            continue;
        c->waiting = 0;
        n->n_waiting--;
        if (ww_session_send_redeemed(&c->ss, group, c->wait_invite, WW_REDEEM_ADMITTED) != 0)
            conn_close(c, c->ss.failed, c->ss.reason);
    }
}

/* The joining device: the hub recorded its redemption, or it is admitted. */
static void session_redeemed(void *ud, const uint8_t group[WW_ID_LEN],
                             const uint8_t invite[WW_KEY_LEN], int state)
{
    struct conn *c = ud;
    struct join *j = c->join;
    if (!j || memcmp(invite, j->r.invite, WW_KEY_LEN) != 0 || j->state == WW_JOIN_ADMITTED)
        return; /* not ours to act on: the frame is harmless */
    memcpy(j->r.group, group, WW_ID_LEN);
    if (state == WW_REDEEM_WAITING) {
        if (j->state != WW_JOIN_WAITING)
            report_join(c, WW_JOIN_WAITING);
        return;
    }
    report_join(c, WW_JOIN_ADMITTED);
    ww_session_open_group(&c->ss, group); /* a failure fails the session, which closes */
}

/* The joining device: the hub confirms the aggregator keys of the group it joins. */
static void session_aggs(void *ud, const uint8_t group[WW_ID_LEN],
                         const uint8_t aggs[2][WW_KEY_LEN])
{
    struct conn *c = ud;
    if (c->join && ww_climate_pin(c->node->cfg.store, group, aggs[0], aggs[1]) != 0)
        logf_(c->node, "climate keys of the hub not kept");
}

/* ---- Climate: the hub as aggregator A, and aggregator B fetching (PROTOCOL.md 9.12) ----- */

static int is_reader(const struct ww_node *n, const uint8_t *peer)
{
    for (size_t i = 0; i < n->cfg.n_climate_readers; i++)
        if (!memcmp(n->cfg.climate_readers[i], peer, WW_KEY_LEN))
            return 1;
    return 0;
}

/* One page of shares into an AGG_SHARES frame: each u64be(id) || message, in `arena`. */
struct page {
    struct ww_frame *f;
    uint8_t *arena;
    size_t used;
};

static int page_cb(void *ud, uint64_t id, const uint8_t *msg, size_t len)
{
    struct page *p = ud;
    if (len > WW_MAX_SHARE_MSG || p->f->u.agg_shares.n == WW_MAX_AGG_PAGE)
        return 0; /* the hub's own rows passed the same check; a bigger one is skipped */
    uint8_t *o = p->arena + p->used;
    for (int i = 0; i < 8; i++)
        o[i] = (uint8_t)(id >> (56 - 8 * i));
    memcpy(o + 8, msg, len);
    p->f->u.agg_shares.msg[p->f->u.agg_shares.n++] = (struct ww_slice){o, 8 + len};
    p->used += 8 + len;
    return 0;
}

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static int hub_agg_get(struct conn *c, const struct ww_frame *in, struct ww_frame *out)
{
    struct ww_store *s = c->node->cfg.store;
    /* The hub chooses the snapshot: the first request asks for "now", every later one of
     * the connection names what it got. A reader that could choose it could ask for two
     * snapshots that differ by one student's day. */
    if (c->has_agg_upto ? in->u.agg_get.upto != c->agg_upto || in->u.agg_get.after == 0
                        : in->u.agg_get.upto != 0 || in->u.agg_get.after != 0)
        return WW_EINVAL;
    struct ww_buf setup;
    ww_buf_init(&setup, WW_AGG_SETUP_MAX);
    struct page p = {out, ww_malloc(WW_MAX_AGG_PAGE * (8 + WW_MAX_SHARE_MSG)), 0};
    int rc = p.arena ? 0 : WW_ENOMEM;
    out->type = WW_FRAME_AGG_SHARES;
    out->u.agg_shares.upto = in->u.agg_get.upto;
    if (rc == 0 && !c->has_agg_upto && (rc = ww_climate_last(s, &out->u.agg_shares.upto)) == 0) {
        c->agg_upto = out->u.agg_shares.upto;
        c->has_agg_upto = 1;
    }
    if (rc == 0 && in->u.agg_get.after == 0) {
        struct ww_agg_setup su;
        if ((rc = ww_climate_setup(s, &su)) == 0) {
            rc = ww_agg_setup_encode(&su, &setup);
            ww_agg_setup_free(&su);
        }
        out->u.agg_shares.setup = (struct ww_slice){setup.p, setup.len};
    }
    uint64_t next = 0;
    if (rc == 0)
        rc = ww_climate_page(s, in->u.agg_get.after, out->u.agg_shares.upto, WW_MAX_AGG_PAGE,
                             page_cb, &p, &next);
    out->u.agg_shares.more = next != 0;
    if (rc == 0)
        rc = ww_session_send_frame(&c->ss, out);
    ww_free(p.arena);
    ww_buf_free(&setup);
    return rc;
}

static int hub_agg_gate(struct conn *c, const struct ww_frame *in, struct ww_frame *out)
{
    struct ww_store *s = c->node->cfg.store;
    struct ww_agg_summary peer = {0}, gate = {0}, rel = {0};
    struct ww_agg_setup su = {0};
    struct ww_agg *a = NULL;
    struct ww_buf gb, rb;
    ww_buf_init(&gb, WW_MAX_FRAME);
    ww_buf_init(&rb, WW_MAX_FRAME);
    size_t n_skip = in->u.agg_gate.skip.len / 8;
    if (!c->has_agg_upto || in->u.agg_gate.upto != c->agg_upto)
        return WW_EINVAL; /* only over the snapshot this connection was given */
    uint64_t *skip = ww_calloc(n_skip ? n_skip : 1, sizeof *skip);
    int rc = skip ? 0 : WW_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n_skip; i++)
        skip[i] = be64(in->u.agg_gate.skip.p + 8 * i); /* ascending: the codec checked */
    if (rc == 0)
        rc = ww_agg_summary_decode(in->u.agg_gate.gate.p, in->u.agg_gate.gate.len, &peer);
    if (rc == 0 && peer.released)
        rc = WW_EINVAL;
    if (rc == 0)
        rc = ww_climate_setup(s, &su);
    if (rc == 0)
        rc = ww_climate_aggregate(s, &su, peer.k, in->u.agg_gate.upto, skip, n_skip, &a);
    if (rc == 0)
        rc = ww_agg_gate(a, &gate);
    if (rc == 0)
        rc = ww_agg_release(a, &peer, &rel);
    if (rc == 0)
        rc = ww_climate_loop(s, &su, in->u.agg_gate.upto, &rel);
    if (rc == 0)
        rc = ww_agg_summary_encode(&gate, &gb);
    if (rc == 0)
        rc = ww_agg_summary_encode(&rel, &rb);
    if (rc == 0) {
        out->type = WW_FRAME_AGG_RELEASE;
        out->u.agg_release.gate = (struct ww_slice){gb.p, gb.len};
        out->u.agg_release.release = (struct ww_slice){rb.p, rb.len};
        rc = ww_session_send_frame(&c->ss, out);
    } else if (rc == WW_ESTATE) {
        ww_session_send_error(&c->ss, WW_WIRE_BUSY, "the shares changed meanwhile: fetch again");
    }
    logf_(c->node, "climate %s: %s", c->addr, rc ? ww_err_name(rc) : "released");
    ww_free(skip);
    ww_agg_summary_free(&peer);
    ww_agg_summary_free(&gate);
    ww_agg_summary_free(&rel);
    ww_agg_setup_free(&su);
    ww_agg_free(a);
    ww_buf_free(&gb);
    ww_buf_free(&rb);
    return rc;
}

/* Aggregator B: a page of shares in; the next page asked for, or B's gate sent. */
static int fetch_shares(struct conn *c, const struct ww_frame *in, struct ww_frame *out)
{
    struct fetch *fe = c->fetch;
    struct ww_store *s = c->node->cfg.store;
    int rc = 0;
    if (!fe->has_setup) {
        const struct ww_slice *b = &in->u.agg_shares.setup;
        if ((rc = ww_agg_setup_decode(b->p, b->len, &fe->su)) != 0)
            return rc;
        fe->has_setup = 1;
        fe->upto = in->u.agg_shares.upto;
        if ((rc = ww_climate_agg_new(s, &fe->su, fe->k, 1, &fe->b)) != 0)
            return rc;
    } else if (in->u.agg_shares.setup.len || in->u.agg_shares.upto != fe->upto) {
        return WW_EINVAL;
    }
    if ((fe->n_msgs += in->u.agg_shares.n) > MAX_FETCH_MSGS)
        return WW_ETOOBIG; /* a hub that never ends its pages */
    for (uint32_t i = 0; i < in->u.agg_shares.n; i++) {
        const struct ww_slice *m = &in->u.agg_shares.msg[i];
        uint64_t id = be64(m->p);
        if (id <= fe->last || id > fe->upto)
            return WW_EINVAL; /* pages go up, inside the snapshot */
        fe->last = id;
        struct ww_share_msg msg;
        rc = ww_share_decode(m->p + 8, m->len - 8, &msg);
        if (rc == 0)
            rc = ww_agg_add(fe->b, &msg);
        if (rc == WW_EDECRYPT || rc == WW_ERANGE) {
            /* Share B does not open: left out by both, and its cells release nothing. */
            if (fe->n_skip == WW_MAX_AGG_SKIP)
                return WW_ETOOBIG;
            memcpy(fe->skip + 8 * fe->n_skip++, m->p, 8);
            rc = ww_agg_add_void(fe->b, &msg);
        }
        if (rc == WW_EGROUP)
            rc = 0; /* not in the setup: A leaves it out the same way */
        if (rc != 0)
            return rc;
    }
    if (in->u.agg_shares.more) {
        if (!in->u.agg_shares.n)
            return WW_EINVAL;
        out->type = WW_FRAME_AGG_GET;
        out->u.agg_get.after = fe->last;
        out->u.agg_get.upto = fe->upto;
        return ww_session_send_frame(&c->ss, out);
    }
    struct ww_agg_summary gate = {0};
    struct ww_buf gb;
    ww_buf_init(&gb, WW_MAX_FRAME);
    rc = ww_agg_gate(fe->b, &gate);
    if (rc == 0)
        rc = ww_agg_summary_encode(&gate, &gb);
    if (rc == 0) {
        out->type = WW_FRAME_AGG_GATE;
        out->u.agg_gate.upto = fe->upto;
        out->u.agg_gate.skip = (struct ww_slice){fe->skip, 8 * fe->n_skip};
        out->u.agg_gate.gate = (struct ww_slice){gb.p, gb.len};
        rc = ww_session_send_frame(&c->ss, out);
    }
    ww_agg_summary_free(&gate);
    ww_buf_free(&gb);
    return rc;
}

/* The combiner: A's gate and release in, B's release made, the hub's report out. */
static int fetch_release(struct conn *c, const struct ww_frame *in)
{
    struct fetch *fe = c->fetch;
    struct ww_agg_summary ga = {0}, ra = {0}, rb = {0};
    struct ww_agg_report rep = {0};
    const struct ww_slice *g = &in->u.agg_release.gate, *r = &in->u.agg_release.release;
    int rc = fe->b ? 0 : WW_ESTATE;
    if (rc == 0)
        rc = ww_agg_summary_decode(g->p, g->len, &ga);
    if (rc == 0)
        rc = ww_agg_summary_decode(r->p, r->len, &ra);
    if (rc == 0 && (ga.released || !ra.released))
        rc = WW_EINVAL;
    if (rc == 0)
        rc = ww_agg_release(fe->b, &ga, &rb);
    if (rc == 0)
        rc = ww_agg_combine(&ra, &rb, &rep);
    if (rc == 0) {
        fe->done = 1;
        if (c->node->cfg.on_climate)
            c->node->cfg.on_climate(c->node->cfg.ud, 0, &rep, &fe->su);
        conn_finish(c, 0, NULL);
    }
    ww_agg_report_free(&rep);
    ww_agg_summary_free(&ga);
    ww_agg_summary_free(&ra);
    ww_agg_summary_free(&rb);
    return rc;
}

static int session_agg(void *ud, const struct ww_frame *f)
{
    struct conn *c = ud;
    struct ww_node *n = c->node;
    struct ww_frame *out = ww_calloc(1, sizeof *out);
    if (!out)
        return WW_ENOMEM;
    int rc;
    if (n->cfg.hub && (f->type == WW_FRAME_AGG_GET || f->type == WW_FRAME_AGG_GATE)) {
        if (!is_reader(n, c->ss.cfg.peer)) {
            ww_session_send_error(&c->ss, WW_WIRE_DENIED, "not a climate reader here");
            rc = WW_EDENIED;
        } else {
            rc = f->type == WW_FRAME_AGG_GET ? hub_agg_get(c, f, out) : hub_agg_gate(c, f, out);
        }
    } else if (c->fetch && f->type == WW_FRAME_AGG_SHARES) {
        rc = fetch_shares(c, f, out);
    } else if (c->fetch && f->type == WW_FRAME_AGG_RELEASE) {
        rc = fetch_release(c, f);
    } else {
        ww_session_send_error(&c->ss, WW_WIRE_PROTOCOL, "unexpected frame");
        ww_free(out);
        return WW_EINVAL;
    }
    /* A refusal the handler did not explain itself (DENIED and BUSY it did). */
    if (rc != 0 && rc != WW_EDENIED && rc != WW_ESTATE)
        ww_session_send_error(&c->ss, rc == WW_ENOMEM ? WW_WIRE_INTERNAL : WW_WIRE_PROTOCOL,
                              "the climate exchange is refused");
    ww_free(out);
    return rc;
}

/* The owner device: the hub hands it a redemption. With admit_invites it admits it at once
 * (the member.add's rules check it again, as every replica will) and sends the result out. */
static void session_redemption(void *ud, const struct ww_redemption *r)
{
    struct conn *c = ud;
    struct ww_node *n = c->node;
    char who[17];
    hex8(r->device, who);
    if (!n->cfg.admit_invites) {
        logf_(n, "redemption device=%s: not admitting invites here", who);
        return;
    }
    /* Only the group's own hub, which saw the device prove its key on its channel, hands
     * redemptions on: from anyone else a redemption could name a key its sender does not
     * hold. */
    struct group_seen gs;
    memset(&gs, 0, sizeof gs);
    if (ww_group_get(n->cfg.store, r->group, group_cb, &gs) != 0 || !gs.known || !gs.g.has_hub ||
        memcmp(gs.g.hub, c->ss.cfg.peer, WW_KEY_LEN) != 0) {
        logf_(n, "redemption device=%s: not from the group's hub; ignored", who);
        return;
    }
    uint8_t member[WW_ID_LEN];
    int rc = ww_redemption_admit(n->cfg.store, r, member);
    /* A device invite comes in its member's log, which may be on its way still: held, and
     * admitted once a batch brings it (admit_held). */
    if (rc == WW_ENOTFOUND && ww_redemption_hold(n->cfg.store, r) == 0)
        rc = WW_ENOTMEMBER;
    logf_(n, "redemption device=%s: %s", who,
          rc == WW_ENOTMEMBER ? "held until its invite arrives"
          : rc                ? ww_err_name(rc)
                              : "admitted");
    if (rc == 0)
        fan_out(n, r->group, 1, NULL);
}

struct held {
    struct ww_node *n;
    int admitted;
};

static void admit_held_cb(void *ud, const struct ww_redemption *r)
{
    struct held *h = ud;
    uint8_t member[WW_ID_LEN];
    char who[17];
    hex8(r->device, who);
    int rc = ww_redemption_admit(h->n->cfg.store, r, member);
    logf_(h->n, "redemption device=%s: %s", who, rc ? ww_err_name(rc) : "admitted");
    h->admitted |= rc == 0;
}

/* The owner's device: a batch of the group applied; redemptions it held for an invite that
 * had not arrived may be admitted now. */
static int admit_held(struct ww_node *n, const uint8_t group[WW_ID_LEN])
{
    struct held h = {n, 0};
    if (n->cfg.hub || !n->cfg.admit_invites ||
        ww_redemptions_pending(n->cfg.store, group, admit_held_cb, &h) != 0)
        return 0;
    return h.admitted;
}

static void session_grouped(void *ud, const uint8_t group[WW_ID_LEN])
{
    struct conn *c = ud;
    struct ww_node *n = c->node;
    if (sub_add(n, group, c) != 0) {
        conn_close(c, WW_ENOMEM, "out of memory");
        return;
    }
    /* A hub hands the owner device what was redeemed while it was away. */
    struct group_seen gs;
    memset(&gs, 0, sizeof gs);
    if (n->cfg.hub && (c->ss.cfg.peer_caps & WW_CAP_INVITE) &&
        ww_group_get(n->cfg.store, group, group_cb, &gs) == 0 && gs.known &&
        is_owner_conn(c, &gs.g) && ww_redemptions_pending(n->cfg.store, group, offer_cb, c) != 0)
        conn_close(c, WW_ESTORE, "cannot read the redemptions");
}

struct group_list {
    struct conn *c;
    int rc;
};

static void open_group_cb(void *ud, const struct ww_group_info *g)
{
    struct group_list *l = ud;
    if (l->rc == 0 && g->my_role != 0)
        l->rc = ww_session_open_group(&l->c->ss, g->id);
}

/* The handshake completed: the session starts. */
static int start_session(struct conn *c)
{
    struct ww_node *n = c->node;
    struct ww_channel_peer peer;
    int rc = ww_channel_peer(&c->ch, &peer);
    if (rc != 0)
        return rc;
    struct ww_session_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = n->cfg.store;
    memcpy(cfg.peer, peer.device_pk, WW_KEY_LEN);
    cfg.peer_caps = peer.caps;
    cfg.max_batch_events = n->cfg.max_batch_events;
    cfg.ud = c;
    cfg.send = session_send;
    cfg.may_sync = session_may_sync;
    cfg.recheck_batches = n->cfg.hub;
    cfg.quota = n->cfg.quota;
    cfg.changed = session_changed;
    cfg.grouped = session_grouped;
    cfg.writable = session_writable;
    cfg.on_redeem = n->cfg.hub ? session_redeem : NULL;
    cfg.on_redeemed = c->join ? session_redeemed : NULL;
    cfg.on_redemption = n->cfg.hub ? NULL : session_redemption;
    cfg.on_aggs = c->join ? session_aggs : NULL;
    cfg.on_agg = n->cfg.hub || c->fetch ? session_agg : NULL;
    if (n->cfg.hub && n->cfg.has_agg_b && ww_store_aggregator_pk(n->cfg.store, cfg.aggs[0]) == 0) {
        memcpy(cfg.aggs[1], n->cfg.agg_b, WW_KEY_LEN);
        cfg.has_aggs = memcmp(cfg.aggs[0], cfg.aggs[1], WW_KEY_LEN) != 0;
    }
    if ((rc = ww_session_init(&c->ss, &cfg, now_ms(n))) != 0)
        return rc;
    c->has_session = 1;
    c->up = 1;
    n->n_open++;
    if (!c->outbound)
        n->n_handshaking--;
    char who[17];
    hex8(peer.device_pk, who);
    logf_(n, "up %s peer=%s %s", c->addr, who, c->outbound ? "outbound" : "inbound");
    report(c, WW_CONN_UP);
    /* One device may hold only so many of our connections: whoever holds a member's key
     * cannot crowd out the other members (each refused one is told and closes). */
    if (!c->outbound) {
        uint32_t count = dev_add(n, peer.device_pk);
        if (!count)
            return WW_ENOMEM;
        c->counted = 1;
        if (count > n->cfg.max_conns_per_device) {
            ww_session_send_error(&c->ss, WW_WIRE_BUSY, "too many connections from this device");
            c->ss.failed = WW_EBUSY;
            c->ss.reason = "too many connections from this device";
            return 0;
        }
    }
    /* From now on the timer keeps the session alive, at a third of the idle time. */
    uint64_t tick = n->cfg.idle_ms / 3 ? n->cfg.idle_ms / 3 : 1;
    uv_timer_start(&c->timer, timer_cb, tick, tick);
    if (!c->outbound)
        return 0;
    if (c->groups) {
        for (size_t i = 0; i < c->n_groups && rc == 0; i++)
            rc = ww_session_open_group(&c->ss, c->groups[i]);
    } else {
        struct group_list l = {c, 0};
        rc = ww_groups_list(n->cfg.store, open_group_cb, &l);
        if (rc == 0)
            rc = l.rc;
    }
    /* A device in no group has nothing to sync: a one-off sync would wait forever. */
    if (rc == 0 && c->ss.n_groups == 0 && c->once)
        rc = WW_EGROUP;
    if (c->fetch) {
        if (!(peer.caps & WW_CAP_AGG)) {
            c->reason = "the hub serves no climate";
            return WW_ESTATE;
        }
        struct ww_frame f;
        memset(&f, 0, sizeof f);
        f.type = WW_FRAME_AGG_GET;
        return ww_session_send_frame(&c->ss, &f);
    }
    if (rc == 0 && c->join) {
        if (!(peer.caps & WW_CAP_INVITE)) {
            c->reason = "the hub does not take invites";
            return WW_ESTATE;
        }
        rc = ww_session_send_redeem(&c->ss, &c->join->r);
    }
    return rc;
}

/* ---- Reading --------------------------------------------------------------------------- */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct conn *c = h->data;
    (void)suggested;
    /* One buffer for every connection: libuv reads into it and calls read_cb at once,
     * which hands the bytes to the channel before the next read. */
    if (c->node->rbuf_busy) {
        buf->base = NULL;
        buf->len = 0;
        return;
    }
    c->node->rbuf_busy = 1;
    buf->base = (char *)c->node->rbuf;
    buf->len = READ_CHUNK;
}

/* ---- Group commit ---------------------------------------------------------------------- */

/*
 * A hub applies the batches of all its connections that arrive in one turn of the loop in
 * one transaction: it opens it before the first frame it reads in the turn, each batch
 * runs in a savepoint of its own inside it (its failure undoes only itself), and the check
 * phase, right after the turn's reads, commits it. Many connections writing a little each
 * then cost one commit per turn instead of one each. What the hub writes to its sockets in
 * the turn is held until the commit, so an ACK leaves only once what it acknowledges is
 * stored (and news reaches other peers only once it is); if the commit fails, the held
 * records are dropped and every connection closes: each reconnecting peer's vector
 * exchange sends again what the hub does not hold (PROTOCOL.md 9.5).
 */
static void commit_turn(struct ww_node *n)
{
    if (!n->in_tx)
        return;
    n->in_tx = 0;
    int rc = ww_store_commit(n->cfg.store);
    struct conn *held = n->held;
    n->held = NULL;
    for (struct conn *c = held, *next; c; c = next) {
        next = c->held_next;
        int wrc = release_held(c, rc == 0);
        if (wrc != 0)
            conn_close(c, wrc, "write failed");
    }
    if (rc == 0)
        return;
    logf_(n, "commit failed: %s", ww_err_name(rc));
    /* What the turn held is gone with its records' nonces: nothing more can be said on these
     * connections, so they close; a peer whose sync was not caught up reports it failed. */
    for (struct conn *c = n->conns; c; c = c->next)
        conn_close(c, rc, "the hub could not store what it received");
}

static void commit_cb(uv_check_t *h)
{
    commit_turn(h->data);
}

static void open_turn(struct ww_node *n)
{
    if (n->in_tx || !n->cfg.hub || n->closing)
        return;
    if (ww_store_begin(n->cfg.store) == 0)
        n->in_tx = 1; /* else each batch commits on its own */
}

static int start_session(struct conn *c);

static int frame_cb(void *ud, const uint8_t *frame, size_t len)
{
    struct conn *c = ud;
    if (c->closing || c->finishing)
        return WW_ESTATE;
    open_turn(c->node);
    /* The record that completed the handshake may arrive with the first frames after it. */
    int rc = c->has_session ? 0 : start_session(c);
    if (rc == 0 && c->ss.failed)
        rc = c->ss.failed; /* refused as it started */
    return rc ? rc : ww_session_on_frame(&c->ss, frame, len, now_ms(c->node));
}

/* A device caught up with its peer: records it per group, and sends the sync.report that
 * is due (report.c). 1 when one went out. A failure costs the record, never the sync. */
static int record_sync(struct conn *c)
{
    struct ww_node *n = c->node;
    int sent = 0;
    if (n->cfg.hub)
        return 0;
    for (size_t i = 0; i < c->ss.n_groups; i++) {
        uint8_t gid[WW_ID_LEN];
        int written = 0;
        memcpy(gid, ww_session_group(&c->ss, i), WW_ID_LEN);
        int rc = ww_sync_done(n->cfg.store, gid, c->ss.cfg.peer, c->reported, &written);
        if (rc != 0)
            logf_(n, "sync record %s: %s", c->addr, ww_err_name(rc));
        if (written) {
            ww_node_notify(n, gid);
            sent = 1;
        }
    }
    c->reported = 1;
    return sent && !ww_session_idle(&c->ss);
}

static void after_input(struct conn *c)
{
    if (c->closing || c->finishing)
        return;
    if (ww_channel_get_state(&c->ch) == WW_CHANNEL_FAILED) {
        if (c->has_session && c->ss.failed) /* it may have sent an ERROR: let it arrive */
            conn_finish(c, c->ss.failed, c->ss.reason);
        else
            conn_close(c, ww_channel_error(&c->ch), ww_channel_reason(&c->ch));
        return;
    }
    int rc = flush_handshake(c);
    if (rc == 0 && !c->has_session && ww_channel_get_state(&c->ch) == WW_CHANNEL_OPEN)
        rc = start_session(c);
    if (rc != 0) {
        conn_close(c, rc, "cannot go on with the connection");
        return;
    }
    if (c->has_session && c->ss.failed) {
        conn_finish(c, c->ss.failed, c->ss.reason);
        return;
    }
    if (c->has_session && !c->synced && ww_session_idle(&c->ss) && c->ss.n_groups > 0) {
        if (record_sync(c) || c->closing)
            return; /* a sync.report went out: caught up once it is acknowledged */
        c->synced = 1;
        report(c, WW_CONN_SYNCED);
        if (c->once)
            conn_finish(c, 0, NULL);
    } else if (c->has_session && c->synced && !ww_session_idle(&c->ss)) {
        c->synced = 0; /* live traffic: report again when caught up */
    }
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = s->data;
    struct ww_node *n = c->node;
    if (buf->base == (char *)n->rbuf)
        n->rbuf_busy = 0;
    if (c->closing)
        return;
    if (c->finishing) { /* dropped; the end of input ends the connection */
        if (nread < 0)
            conn_close(c, c->error, c->reason);
        return;
    }
    if (nread == UV_EOF) {
        int rc = ww_channel_eof(&c->ch);
        const char *why = rc ? "the peer closed in the middle of a record" : NULL;
        /* A single sync that the peer ended before it was caught up did not happen. It is a
         * network failure, as when the peer's close comes as a reset (a hub whose commit
         * failed closes either way): WW_EIO would say this device's store failed. */
        if (rc == 0 && c->once && !c->synced && !c->join) {
            rc = UV_ECONNRESET;
            why = "the peer closed the connection before the sync completed";
        }
        conn_close(c, rc, why);
        return;
    }
    if (nread < 0) {
        conn_close(c, (int)nread, "read failed");
        return;
    }
    c->bytes_in += (uint64_t)nread;
    int rc = ww_channel_feed(&c->ch, (const uint8_t *)buf->base, (size_t)nread, frame_cb, c);
    if (rc != 0 && ww_channel_get_state(&c->ch) != WW_CHANNEL_FAILED) {
        conn_close(c, rc, "cannot take the peer's bytes");
        return;
    }
    after_input(c);
}

/* ---- Timers ---------------------------------------------------------------------------- */

static void timer_cb(uv_timer_t *t)
{
    struct conn *c = t->data;
    struct ww_node *n = c->node;
    if (c->closing)
        return;
    if (c->finishing) { /* the peer took too long to go */
        conn_close(c, c->error, c->reason);
        return;
    }
    if (!c->has_session) {
        conn_close(c, WW_EBUSY, "handshake timed out");
        return;
    }
    if (ww_session_tick(&c->ss, now_ms(n), (int64_t)n->cfg.idle_ms, (int64_t)n->cfg.dead_ms) != 0)
        conn_close(c, c->ss.failed, c->ss.reason);
}

/* ---- Connections ----------------------------------------------------------------------- */

static struct conn *conn_new(struct ww_node *n, int outbound)
{
    struct conn *c = ww_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->node = n;
    c->outbound = outbound;
    c->reason = "";
    uv_tcp_init(n->loop, &c->tcp);
    uv_timer_init(n->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->next = n->conns;
    if (n->conns)
        n->conns->prev = c;
    n->conns = c;
    n->n_conns++;
    return c;
}

static int store_dh(void *ud, const uint8_t pub[32], uint8_t out[32])
{
    return ww_store_dh(ud, pub, out);
}

static int channel_start(struct conn *c)
{
    struct ww_node *n = c->node;
    struct ww_channel_id id;
    ww_store_device(n->cfg.store, id.device_pk);
    ww_store_dh_pk(n->cfg.store, id.static_pk);
    id.dh = store_dh;
    id.ud = n->cfg.store;
    int rc = ww_channel_init_id(
        &c->ch, c->outbound ? WW_CHANNEL_INITIATOR : WW_CHANNEL_RESPONDER, &id,
        WW_CAP_SYNC | WW_CAP_COMPACT | WW_CAP_INVITE | (n->cfg.hub ? WW_CAP_AGG : 0));
    if (rc != 0)
        return rc;
    c->has_channel = 1;
    if (c->has_expect && (rc = ww_channel_expect_peer(&c->ch, c->expect)) != 0)
        return rc;
    if (c->join && (rc = ww_channel_expect_fingerprint(&c->ch, c->join->fp)) != 0)
        return rc;
    uv_timer_start(&c->timer, timer_cb, n->cfg.handshake_ms, 0);
    if ((rc = uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb)) != 0)
        return rc;
    return c->outbound ? flush_handshake(c) : 0;
}

static void addr_of(const struct sockaddr_storage *ss, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        uv_ip4_name(a, ip, sizeof ip);
        port = ntohs(a->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        uv_ip6_name(a, ip, sizeof ip);
        port = ntohs(a->sin6_port);
    }
    snprintf(out, cap, "%s:%d", ip, port);
}

/* Inbound connections from addr's IP that have not completed their handshake: what one
 * source may hold open without proving anything. Authenticated members behind one address
 * (a ward's wifi) are bounded only by max_conns. */
static size_t handshaking_from(struct ww_node *n, const char *addr)
{
    const char *colon = strrchr(addr, ':');
    size_t iplen = colon ? (size_t)(colon - addr) : strlen(addr), count = 0;
    for (struct conn *c = n->conns; c; c = c->next)
        if (!c->outbound && !c->up && !c->closing && !strncmp(c->addr, addr, iplen) &&
            c->addr[iplen] == ':')
            count++;
    return count;
}

static void on_connection(uv_stream_t *server, int status)
{
    struct ww_node *n = server->data;
    if (status < 0 || n->closing)
        return;
    struct conn *c = conn_new(n, 0);
    if (c)
        n->n_handshaking++;
    if (!c) {
        /* No memory for it: take it off the queue and drop it. */
        uv_tcp_t *t = ww_malloc(sizeof *t);
        if (t && uv_tcp_init(n->loop, t) == 0 && uv_accept(server, (uv_stream_t *)t) == 0)
            uv_close((uv_handle_t *)t, (uv_close_cb)ww_free);
        else
            ww_free(t);
        return;
    }
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c, WW_EIO, "accept failed");
        return;
    }
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
        addr_of(&ss, c->addr, sizeof c->addr);
    uv_tcp_nodelay(&c->tcp, 1);
    if (n->n_conns > n->cfg.max_conns) {
        conn_close(c, WW_EBUSY, "too many connections");
        return;
    }
    /* Scanning is needed only when that many are in their handshake at all. */
    if (n->n_handshaking > n->cfg.max_conns_per_ip &&
        handshaking_from(n, c->addr) > n->cfg.max_conns_per_ip) {
        conn_close(c, WW_EBUSY, "too many connections from this address");
        return;
    }
    int rc = channel_start(c);
    if (rc != 0)
        conn_close(c, rc, "cannot start the channel");
}

static void on_connect(uv_connect_t *req, int status)
{
    struct conn *c = req->data;
    ww_free(req);
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c, status, "cannot connect");
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    int rc = channel_start(c);
    if (rc != 0)
        conn_close(c, rc, "cannot start the channel");
}

/* ---- The node -------------------------------------------------------------------------- */

int ww_node_new(uv_loop_t *loop, const struct ww_node_cfg *cfg, struct ww_node **out)
{
    if (!loop || !cfg || !cfg->store || !out)
        return WW_EINVAL;
    if (cfg->quota.per_day && cfg->quota.burst < WW_MAX_EVENT)
        return WW_EINVAL; /* the largest event must fit */
    struct ww_node *n = ww_calloc(1, sizeof *n);
    if (!n)
        return WW_ENOMEM;
    n->loop = loop;
    n->cfg = *cfg;
    if (!n->cfg.max_conns)
        n->cfg.max_conns = 20000;
    if (!n->cfg.probation)
        n->cfg.probation = WW_HUB_PROBATION;
    if (!n->cfg.max_conns_per_ip)
        n->cfg.max_conns_per_ip = 256;
    if (!n->cfg.max_conns_per_device)
        n->cfg.max_conns_per_device = 8;
    if (!n->cfg.handshake_ms)
        n->cfg.handshake_ms = 10000;
    if (!n->cfg.idle_ms)
        n->cfg.idle_ms = 30000;
    if (!n->cfg.dead_ms)
        n->cfg.dead_ms = 90000;
    if (n->cfg.hub && !n->cfg.quota.per_day && !n->cfg.no_quota) {
        n->cfg.quota.per_day = WW_HUB_QUOTA_DAY;
        n->cfg.quota.burst = WW_HUB_QUOTA_BURST;
    }
    if (n->cfg.no_quota)
        n->cfg.quota.per_day = 0;
    if (n->cfg.hub) {
        ww_climate_live(n->cfg.store, n->cfg.climate_live);
        uv_check_init(loop, &n->commit);
        n->commit.data = n;
        uv_check_start(&n->commit, commit_cb);
        uv_unref((uv_handle_t *)&n->commit); /* it never keeps the loop alive by itself */
        n->handles++;
    }
    *out = n;
    return 0;
}

int ww_node_listen(struct ww_node *n, const char *ip, int port)
{
    if (!n || !ip || port < 0 || port > 65535 || n->listening || n->closing)
        return WW_EINVAL;
    struct sockaddr_storage ss;
    int rc = uv_ip4_addr(ip, port, (struct sockaddr_in *)&ss);
    if (rc != 0 && (rc = uv_ip6_addr(ip, port, (struct sockaddr_in6 *)&ss)) != 0)
        return WW_EINVAL;
    if ((rc = uv_tcp_init(n->loop, &n->listener)) != 0)
        return rc;
    n->listener.data = n;
    n->handles++;
    n->listening = 1;
    if ((rc = uv_tcp_bind(&n->listener, (const struct sockaddr *)&ss, 0)) != 0 ||
        (rc = uv_listen((uv_stream_t *)&n->listener, 511, on_connection)) != 0)
        return rc; /* the listener is closed with the node */
    struct sockaddr_storage bound;
    int len = sizeof bound;
    if (uv_tcp_getsockname(&n->listener, (struct sockaddr *)&bound, &len) == 0)
        n->port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                                   : ((struct sockaddr_in6 *)&bound)->sin6_port);
    logf_(n, "listen %s:%d%s", ip, n->port, n->cfg.hub ? " hub" : "");
    return 0;
}

int ww_node_port(const struct ww_node *n)
{
    return n ? n->port : 0;
}

size_t ww_node_conns(const struct ww_node *n)
{
    return n ? n->n_open : 0;
}

/* Dials; the connection takes `join` (may be NULL) whatever happens. */
/* Dials; the connection takes join or fetch (either may be NULL), freed on any failure. */
/* Connects an outbound connection to its peer's address; on failure it is closed. */
static int connect_to(struct conn *c, const struct sockaddr *sa)
{
    uv_connect_t *req = ww_malloc(sizeof *req);
    if (!req) {
        conn_close(c, WW_ENOMEM, "out of memory");
        return WW_ENOMEM;
    }
    req->data = c;
    int rc = uv_tcp_connect(req, &c->tcp, sa, on_connect);
    if (rc != 0) {
        ww_free(req);
        conn_close(c, rc, "cannot connect");
    }
    return rc;
}

/* A host name resolved (or not): connect to its first IPv4 address, else its first (one
 * attempt: a name with an unreachable first address fails like an address would). */
static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct conn *c = req->data;
    ww_free(req);
    c->resolving = NULL;
    if (c->closing) { /* closed meanwhile: this was the last thing it waited for */
        uv_freeaddrinfo(res);
        conn_handle_closed((uv_handle_t *)&c->tcp);
        return;
    }
    const struct addrinfo *pick = res;
    for (const struct addrinfo *a = res; a; a = a->ai_next)
        if (a->ai_family == AF_INET) {
            pick = a;
            break;
        }
    if (status < 0 || !pick)
        conn_close(c, status < 0 ? status : UV_EAI_NONAME, "cannot find the address");
    else
        connect_to(c, pick->ai_addr);
    uv_freeaddrinfo(res);
}

static int dial(struct ww_node *n, const char *ip, int port, const uint8_t *peer,
                const uint8_t (*groups)[WW_ID_LEN], size_t n_groups, int once, struct join *join,
                struct fetch *fetch)
{
    if (!n || !ip || !*ip || strlen(ip) > 253 || port <= 0 || port > 65535 || n->closing ||
        (n_groups && !groups)) {
        ww_free(join);
        ww_free(fetch);
        return WW_EINVAL;
    }
    /* An IP literal connects at once; a host name is looked up first (asynchronously, so
     * that a slow resolver holds nobody else up). */
    struct sockaddr_storage ss;
    int literal = uv_ip4_addr(ip, port, (struct sockaddr_in *)&ss) == 0 ||
                  uv_ip6_addr(ip, port, (struct sockaddr_in6 *)&ss) == 0;
    struct conn *c = conn_new(n, 1);
    if (!c) {
        ww_free(join);
        ww_free(fetch);
        return WW_ENOMEM;
    }
    c->join = join;
    c->fetch = fetch;
    snprintf(c->addr, sizeof c->addr, "%s:%d", ip, port);
    c->once = once;
    if (peer) {
        memcpy(c->expect, peer, WW_KEY_LEN);
        c->has_expect = 1;
    }
    if (groups && n_groups) {
        c->groups = ww_calloc(n_groups, WW_ID_LEN);
        if (!c->groups) {
            conn_close(c, WW_ENOMEM, "out of memory");
            return WW_ENOMEM;
        }
        memcpy(c->groups, groups, n_groups * WW_ID_LEN);
        c->n_groups = n_groups;
    }
    int rc;
    if (literal) {
        rc = connect_to(c, (const struct sockaddr *)&ss);
    } else {
        char service[8];
        struct addrinfo hints;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        snprintf(service, sizeof service, "%d", port);
        if (!(c->resolving = ww_malloc(sizeof *c->resolving))) {
            conn_close(c, WW_ENOMEM, "out of memory");
            return WW_ENOMEM;
        }
        c->resolving->data = c;
        if ((rc = uv_getaddrinfo(n->loop, c->resolving, on_resolved, ip, service, &hints)) != 0) {
            ww_free(c->resolving);
            c->resolving = NULL;
            conn_close(c, rc, "cannot look the address up");
        }
    }
    if (rc != 0)
        return rc;
    /* A dial that never connects is bounded by the handshake timer too. */
    uv_timer_start(&c->timer, timer_cb, n->cfg.handshake_ms, 0);
    return 0;
}

int ww_node_dial(struct ww_node *n, const char *ip, int port, const uint8_t *peer,
                 const uint8_t (*groups)[WW_ID_LEN], size_t n_groups, int once)
{
    return dial(n, ip, port, peer, groups, n_groups, once, NULL, NULL);
}

int ww_node_climate(struct ww_node *n, const char *ip, int port, const uint8_t hub[WW_KEY_LEN],
                    uint32_t k)
{
    if (!n || !hub || (k && k < WW_AGG_K_MIN))
        return WW_EINVAL;
    struct fetch *fe = ww_calloc(1, sizeof *fe);
    if (!fe)
        return WW_ENOMEM;
    fe->k = k ? k : WW_AGG_K_MIN;
    /* A fetch opens no group: it is not a one-off sync, and it finishes itself. */
    return dial(n, ip, port, hub, NULL, 0, 0, NULL, fe);
}

/* The port of a code's address, which ww_invite_code_parse checked: 1..5 digits. */
static int port_of(const char *p)
{
    int port = 0;
    while (*p >= '0' && *p <= '9')
        port = port * 10 + (*p++ - '0');
    return port;
}

int ww_node_join(struct ww_node *n, const char *code, const char *alias, int year, int track)
{
    if (!n || !code)
        return WW_EINVAL;
    struct ww_invite_code ic;
    int rc = ww_invite_code_parse(code, &ic);
    if (rc != 0)
        return rc;
    /* A device code: the device joins a member who has a name already (9.9). */
    if (ic.device) {
        alias = "";
        year = track = 0;
    } else if (!alias) {
        sodium_memzero(&ic, sizeof ic);
        return WW_EINVAL;
    }
    struct join *j = ww_calloc(1, sizeof *j);
    if (!j) {
        sodium_memzero(&ic, sizeof ic);
        return WW_ENOMEM;
    }
    snprintf(j->alias, sizeof j->alias, "%s", alias);
    memcpy(j->fp, ic.hub_fp, sizeof j->fp);
    ww_store_device(n->cfg.store, j->r.device);
    j->r.alias = j->alias;
    j->r.year = year;
    j->r.track = track;
    rc = strlen(alias) < sizeof j->alias ? ww_redemption_sign(ic.secret, &j->r) : WW_ETOOBIG;
    /* "host:port", the host a name or an IP literal, IPv6 in brackets. */
    char *colon = strrchr(ic.addr, ':');
    char *host = ic.addr;
    if (rc == 0 && colon) {
        *colon = '\0';
        if (host[0] == '[' && colon > host + 1 && colon[-1] == ']') {
            colon[-1] = '\0';
            host++;
        }
    }
    int port = colon ? port_of(colon + 1) : 0;
    sodium_memzero(ic.secret, sizeof ic.secret);
    if (rc != 0) {
        ww_free(j);
        return rc;
    }
    return dial(n, host, port, NULL, NULL, 0, 0, j, NULL);
}

/* ---- Finding peers on the local network ------------------------------------------------ */

static int has_group(const uint8_t *groups, size_t n_groups, const uint8_t *group)
{
    for (size_t i = 0; i < n_groups; i++)
        if (!memcmp(groups + i * WW_ID_LEN, group, WW_ID_LEN))
            return 1;
    return 0;
}

/* A connection with the device that syncs the group, open or being made (either side). */
static int disc_busy(void *ud, const uint8_t device[WW_KEY_LEN], const uint8_t group[WW_ID_LEN])
{
    struct ww_node *n = ud;
    for (struct conn *c = n->conns; c; c = c->next) {
        const uint8_t *peer = c->up ? c->ss.cfg.peer : c->has_expect ? c->expect : NULL;
        if (c->closing || !peer || memcmp(peer, device, WW_KEY_LEN))
            continue;
        if (c->outbound && (!c->groups || has_group(c->groups[0], c->n_groups, group)))
            return 1;
        for (size_t i = 0; c->has_session && i < c->ss.n_groups; i++)
            if (!memcmp(ww_session_group(&c->ss, i), group, WW_ID_LEN))
                return 1;
    }
    return 0;
}

static int disc_dial(void *ud, const char *ip, int port, const uint8_t device[WW_KEY_LEN],
                     const uint8_t group[WW_ID_LEN])
{
    return dial(ud, ip, port, device, (const uint8_t(*)[WW_ID_LEN])group, 1, 0, NULL, NULL);
}

static void disc_log(void *ud, const char *ip, int port, const uint8_t device[WW_KEY_LEN],
                     const char *what)
{
    char who[17];
    hex8(device, who);
    logf_(ud, "discover %s:%d peer=%s %s", ip, port, who, what);
}

int ww_node_discover(struct ww_node *n, const char *send_to, const char *listen_on)
{
    if (!n || n->closing || n->disc || (!send_to && !listen_on))
        return WW_EINVAL;
    if (send_to && !n->listening)
        return WW_ESTATE; /* a beacon announces the node's TCP port */
    struct ww_disc_cfg cfg = {
        .loop = n->loop,
        .store = n->cfg.store,
        .interval_ms = n->cfg.beacon_ms,
        .tcp_port = n->port,
        .ud = n,
        .busy = disc_busy,
        .dial = disc_dial,
        .log = disc_log,
    };
    int rc = ww_disc_start(&cfg, send_to, listen_on, &n->disc);
    if (rc != 0)
        return rc;
    n->handles++;
    logf_(n, "discover send=%s listen=%s udp=%d", send_to ? send_to : "-",
          listen_on ? listen_on : "-", ww_disc_port(n->disc));
    return 0;
}

int ww_node_beacon_port(const struct ww_node *n)
{
    return n ? ww_disc_port(n->disc) : 0;
}

void ww_node_discover_stats(const struct ww_node *n, struct ww_discover_stats *out)
{
    ww_disc_stats(n ? n->disc : NULL, out);
}

void ww_node_notify(struct ww_node *n, const uint8_t group[WW_ID_LEN])
{
    /* A local write may have been a removal: re-check who may sync, then send. */
    if (n)
        fan_out(n, group, 1, NULL);
}

static void listener_closed(uv_handle_t *h)
{
    struct ww_node *n = h->data;
    n->handles--;
    maybe_free_node(n);
}

static void disc_closed(void *ud)
{
    struct ww_node *n = ud;
    n->handles--;
    maybe_free_node(n);
}

static void commit_closed(uv_handle_t *h)
{
    struct ww_node *n = h->data;
    n->handles--;
    maybe_free_node(n);
}

void ww_node_close(struct ww_node *n, void (*cb)(void *ud), void *ud)
{
    if (!n || n->closing)
        return;
    n->closing = 1;
    n->close_cb = cb;
    n->close_ud = ud;
    commit_turn(n);
    for (struct conn *c = n->conns; c; c = c->next)
        conn_close(c, 0, NULL);
    if (n->cfg.hub)
        uv_close((uv_handle_t *)&n->commit, commit_closed);
    if (n->listening)
        uv_close((uv_handle_t *)&n->listener, listener_closed);
    if (n->disc)
        ww_disc_close(n->disc, disc_closed, n);
    maybe_free_node(n);
}
