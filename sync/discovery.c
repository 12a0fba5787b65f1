/*
 * discovery.c - a node's UDP side of finding peers on the ward's network (PROTOCOL.md
 * 9.10): every interval one beacon per group this device is an active member of (for the
 * default 255.255.255.255, to the broadcast address of each IPv4 interface instead), and on
 * the listening socket, each datagram tried as a beacon of the groups it holds.
 *
 * Invariants:
 *  - Every datagram is hostile: only one of exactly WW_BEACON_LEN bytes is looked at, into
 *    one fixed buffer, and nothing is allocated for it. Opening attempts are bounded per
 *    second over all datagrams (WW_DISCOVER_OPENS_PER_S), so a flood costs a bounded amount of
 *    work; the store is asked about a beacon only after it opened under a group's key and
 *    its window is current.
 *  - A beacon makes this node dial at most once per (device, group, ip, port) in
 *    WW_DISC_REDIAL_MS and at most WW_DISC_RECENT times in that time in all; the dial pins
 *    the device key inside, so a replayed beacon leads only to a handshake that fails
 *    before this device reveals its own key.
 *  - The discovery keys are copies of key material: zeroed when refreshed and at close.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "alloc.h"
#include "discovery.h"

#define DEFAULT_INTERVAL_MS 5000
#define MAX_TARGETS         16 /* broadcast addresses a round of beacons goes to */

struct slot {
    uint8_t gid[WW_ID_LEN];
    uint8_t key[WW_KEY_LEN];
    int current; /* the current epoch's key: beacons go out under it */
};

struct recent {
    int used;
    uint64_t at;
    uint8_t device[WW_KEY_LEN];
    uint8_t gid[WW_ID_LEN];
    char ip[64];
    uint16_t port;
};

struct ww_disc {
    struct ww_disc_cfg cfg;
    uv_timer_t timer;
    uv_udp_t tx, rx;
    int has_tx, has_rx;
    int handles; /* open handles; freed when the last one closed after ww_disc_close */
    int closing;
    struct sockaddr_storage to;
    int port; /* rx */
    uint8_t me[WW_KEY_LEN];
    struct slot slots[2 * WW_DISC_MAX_GROUPS];
    size_t n_slots;
    struct recent recent[WW_DISC_RECENT];
    uint64_t budget_at;
    uint32_t budget;
    int rbuf_busy;
    uint8_t rbuf[WW_BEACON_LEN + 1]; /* one byte more: a longer datagram shows as such */
    struct ww_discover_stats st;
    void (*close_cb)(void *ud);
    void *close_ud;
};

/* "ip:port" (IPv6 in brackets) into a socket address; port 0 only when allow_zero. */
static int parse_addr(const char *text, int allow_zero, struct sockaddr_storage *out)
{
    char ip[64];
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || (size_t)(colon - text) >= sizeof ip || !colon[1])
        return WW_EINVAL;
    const char *host = text;
    size_t len = (size_t)(colon - text);
    if (host[0] == '[' && len > 2 && host[len - 1] == ']') {
        host++;
        len -= 2;
    }
    memcpy(ip, host, len);
    ip[len] = '\0';
    int port = 0;
    for (const char *p = colon + 1; *p; p++) {
        if (*p < '0' || *p > '9' || port > 65535)
            return WW_EINVAL;
        port = port * 10 + (*p - '0');
    }
    if (port > 65535 || (!port && !allow_zero))
        return WW_EINVAL;
    memset(out, 0, sizeof *out);
    if (uv_ip4_addr(ip, port, (struct sockaddr_in *)out) != 0 &&
        uv_ip6_addr(ip, port, (struct sockaddr_in6 *)out) != 0)
        return WW_EINVAL;
    return 0;
}

/* ---- Keys and beacons ------------------------------------------------------------------ */

struct gids {
    uint8_t ids[WW_DISC_MAX_GROUPS][WW_ID_LEN];
    size_t n;
};

static void gid_cb(void *ud, const struct ww_group_info *g)
{
    struct gids *l = ud;
    if (g->my_role && l->n < WW_DISC_MAX_GROUPS)
        memcpy(l->ids[l->n++], g->id, WW_ID_LEN);
}

/* Takes the discovery keys of this device's groups from the store again (they change with
 * a new epoch, a new group, a removal). */
static void refresh(struct ww_disc *d)
{
    struct gids l;
    l.n = 0;
    sodium_memzero(d->slots, sizeof d->slots);
    d->n_slots = 0;
    if (ww_groups_list(d->cfg.store, gid_cb, &l) != 0)
        return;
    for (size_t i = 0; i < l.n; i++)
        for (uint32_t back = 0; back < 2; back++) {
            struct slot *s = &d->slots[d->n_slots];
            if (ww_discovery_key(d->cfg.store, l.ids[i], back, s->key) != 0)
                break; /* no current key: not the previous one either */
            memcpy(s->gid, l.ids[i], WW_ID_LEN);
            s->current = back == 0;
            d->n_slots++;
        }
}

/* Where this round's beacons go. The IPv4 limited broadcast 255.255.255.255 leaves a host
 * only where its routing table sends it: through the default route's interface alone, and
 * on a network without a gateway (a ward's wifi with no internet) nowhere, the send failing
 * with ENETUNREACH. For it the beacons go instead to the broadcast address of each IPv4
 * interface that is up (not loopback, not /31 or /32), and to 255.255.255.255 only when
 * there is none. Any other address is used as given. */
static size_t beacon_targets(const struct ww_disc *d, struct sockaddr_storage *to, size_t cap)
{
    const struct sockaddr_in *limited = (const struct sockaddr_in *)&d->to;
    uv_interface_address_t *ifs = NULL;
    int n_ifs = 0;
    size_t n = 0;
    if (d->to.ss_family == AF_INET && limited->sin_addr.s_addr == htonl(INADDR_BROADCAST) &&
        uv_interface_addresses(&ifs, &n_ifs) == 0) {
        for (int i = 0; i < n_ifs && n < cap; i++) {
            const struct sockaddr_in *a = &ifs[i].address.address4;
            uint32_t mask = ntohl(ifs[i].netmask.netmask4.sin_addr.s_addr);
            if (ifs[i].is_internal || a->sin_family != AF_INET || mask >= 0xfffffffeu)
                continue;
            struct sockaddr_in b = *limited;
            b.sin_addr.s_addr = htonl(ntohl(a->sin_addr.s_addr) | ~mask);
            size_t j = 0;
            while (j < n && memcmp(&((struct sockaddr_in *)&to[j])->sin_addr, &b.sin_addr,
                                   sizeof b.sin_addr) != 0)
                j++;
            if (j == n)
                memcpy(&to[n++], &b, sizeof b); /* an interface's second address: once */
        }
        uv_free_interface_addresses(ifs, n_ifs);
    }
    if (n == 0)
        to[n++] = d->to;
    return n;
}

static void send_beacons(struct ww_disc *d)
{
    struct sockaddr_storage to[MAX_TARGETS];
    size_t n_to = beacon_targets(d, to, MAX_TARGETS);
    struct ww_beacon b;
    b.window = ww_discovery_window(d->cfg.store);
    memcpy(b.device, d->me, WW_KEY_LEN);
    b.port = (uint16_t)d->cfg.tcp_port;
    for (size_t i = 0; i < d->n_slots; i++) {
        if (!d->slots[i].current)
            continue;
        uint8_t out[WW_BEACON_LEN];
        ww_beacon_seal(d->slots[i].key, NULL, &b, out);
        uv_buf_t buf = uv_buf_init((char *)out, sizeof out);
        /* Best effort: a beacon the socket cannot take now is simply the next one. */
        for (size_t t = 0; t < n_to; t++)
            if (uv_udp_try_send(&d->tx, &buf, 1, (const struct sockaddr *)&to[t]) ==
                (int)sizeof out)
                d->st.sent++;
    }
}

static void timer_cb(uv_timer_t *t)
{
    struct ww_disc *d = t->data;
    refresh(d);
    if (d->has_tx)
        send_beacons(d);
    /* The next round after the interval, give or take a fifth at random: a device's
     * beacons keep no exact rhythm by which an observer could pick it out. */
    uint64_t fifth = d->cfg.interval_ms / 5;
    uint64_t jitter = fifth ? randombytes_uniform((uint32_t)(2 * fifth + 1)) : 0;
    uv_timer_start(&d->timer, timer_cb, d->cfg.interval_ms - fifth + jitter, 0);
}

/* ---- Receiving ------------------------------------------------------------------------- */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct ww_disc *d = h->data;
    if (d->rbuf_busy) {
        *buf = uv_buf_init(NULL, 0);
        return;
    }
    d->rbuf_busy = 1;
    *buf = uv_buf_init((char *)d->rbuf, sizeof d->rbuf);
}

static void ip_of(const struct sockaddr *a, char *out, size_t cap)
{
    snprintf(out, cap, "?");
    if (a->sa_family == AF_INET)
        uv_ip4_name((const struct sockaddr_in *)a, out, cap);
    else if (a->sa_family == AF_INET6)
        uv_ip6_name((const struct sockaddr_in6 *)a, out, cap);
}

static void report(struct ww_disc *d, const char *ip, const struct ww_beacon *b, const char *what)
{
    if (d->cfg.log)
        d->cfg.log(d->cfg.ud, ip, b->port, b->device, what);
}

/* A beacon of group gid opened: dial its sender unless there is no need or no right. */
static void found(struct ww_disc *d, const uint8_t *gid, const struct ww_beacon *b,
                  const struct sockaddr *from)
{
    uint32_t w = ww_discovery_window(d->cfg.store);
    if (!memcmp(b->device, d->me, WW_KEY_LEN))
        return; /* our own, looped back */
    if (b->window + 1 < w || b->window > w + 1 || !b->port) {
        d->st.dropped++;
        return;
    }
    d->st.opened++;
    char ip[64];
    ip_of(from, ip, sizeof ip);
    /* The beacon proves only that its maker holds the group's key (a member, or a device
     * removed since, for the previous epoch's key): dial only a device of an active member. */
    if (ww_discovery_peer(d->cfg.store, gid, b->device) != 0) {
        report(d, ip, b, "not a member's device");
        return;
    }
    if (d->cfg.busy(d->cfg.ud, b->device, gid))
        return;
    uint64_t now = uv_now(d->cfg.loop);
    struct recent *free_slot = NULL;
    for (size_t i = 0; i < WW_DISC_RECENT; i++) {
        struct recent *r = &d->recent[i];
        int live = r->used && now - r->at < WW_DISC_REDIAL_MS;
        if (!live)
            free_slot = free_slot ? free_slot : r;
        else if (!memcmp(r->device, b->device, WW_KEY_LEN) && !memcmp(r->gid, gid, WW_ID_LEN) &&
                 r->port == b->port && !strcmp(r->ip, ip))
            return; /* dialled it a moment ago */
    }
    if (!free_slot) {
        report(d, ip, b, "too many recent dials");
        return;
    }
    free_slot->used = 1;
    free_slot->at = now;
    memcpy(free_slot->device, b->device, WW_KEY_LEN);
    memcpy(free_slot->gid, gid, WW_ID_LEN);
    snprintf(free_slot->ip, sizeof free_slot->ip, "%s", ip);
    free_slot->port = b->port;
    report(d, ip, b, "dial");
    if (d->cfg.dial(d->cfg.ud, ip, b->port, b->device, gid) == 0)
        d->st.dialled++;
}

static void recv_cb(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                    unsigned flags)
{
    struct ww_disc *d = h->data;
    if (buf->base == (char *)d->rbuf)
        d->rbuf_busy = 0;
    if (nread == 0 && !addr)
        return; /* nothing more to read now */
    if (nread < 0 || d->closing)
        return;
    d->st.received++;
    if (nread != WW_BEACON_LEN || !addr || (flags & UV_UDP_PARTIAL) ||
        buf->base != (char *)d->rbuf) {
        d->st.dropped++;
        return;
    }
    uint64_t now = uv_now(d->cfg.loop);
    if (now - d->budget_at >= 1000) {
        d->budget_at = now;
        d->budget = WW_DISCOVER_OPENS_PER_S;
    }
    for (size_t i = 0; i < d->n_slots; i++) {
        if (!d->budget) {
            d->st.dropped++; /* a flood: the rest of this second's datagrams go unread */
            return;
        }
        d->budget--;
        d->st.attempts++;
        struct ww_beacon b;
        if (ww_beacon_open(d->slots[i].key, d->rbuf, WW_BEACON_LEN, &b) == 0) {
            found(d, d->slots[i].gid, &b, addr);
            return;
        }
    }
    d->st.dropped++;
}

/* ---- Life cycle ------------------------------------------------------------------------ */

static void handle_closed(uv_handle_t *h)
{
    struct ww_disc *d = h->data;
    if (--d->handles > 0)
        return;
    void (*cb)(void *) = d->close_cb;
    void *ud = d->close_ud;
    sodium_memzero(d->slots, sizeof d->slots);
    ww_free(d);
    if (cb)
        cb(ud);
}

void ww_disc_close(struct ww_disc *d, void (*cb)(void *ud), void *ud)
{
    if (!d || d->closing)
        return;
    d->closing = 1;
    d->close_cb = cb;
    d->close_ud = ud;
    uv_close((uv_handle_t *)&d->timer, handle_closed);
    if (d->has_tx)
        uv_close((uv_handle_t *)&d->tx, handle_closed);
    if (d->has_rx)
        uv_close((uv_handle_t *)&d->rx, handle_closed);
}

static int start_tx(struct ww_disc *d, const char *send_to)
{
    int rc = parse_addr(send_to, 0, &d->to);
    if (rc != 0)
        return rc;
    if ((rc = uv_udp_init(d->cfg.loop, &d->tx)) != 0)
        return rc;
    d->tx.data = d;
    d->has_tx = 1;
    d->handles++;
    struct sockaddr_storage any;
    if (d->to.ss_family == AF_INET6)
        uv_ip6_addr("::", 0, (struct sockaddr_in6 *)&any);
    else
        uv_ip4_addr("0.0.0.0", 0, (struct sockaddr_in *)&any);
    if ((rc = uv_udp_bind(&d->tx, (const struct sockaddr *)&any, 0)) != 0)
        return rc;
    return uv_udp_set_broadcast(&d->tx, 1);
}

static int start_rx(struct ww_disc *d, const char *listen_on)
{
    struct sockaddr_storage at;
    int rc = parse_addr(listen_on, 1, &at);
    if (rc != 0)
        return rc;
    if ((rc = uv_udp_init(d->cfg.loop, &d->rx)) != 0)
        return rc;
    d->rx.data = d;
    d->has_rx = 1;
    d->handles++;
    if ((rc = uv_udp_bind(&d->rx, (const struct sockaddr *)&at, UV_UDP_REUSEADDR)) != 0 ||
        (rc = uv_udp_set_broadcast(&d->rx, 1)) != 0)
        return rc;
    struct sockaddr_storage bound;
    int len = sizeof bound;
    if ((rc = uv_udp_getsockname(&d->rx, (struct sockaddr *)&bound, &len)) != 0)
        return rc;
    d->port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                               : ((struct sockaddr_in6 *)&bound)->sin6_port);
    return uv_udp_recv_start(&d->rx, alloc_cb, recv_cb);
}

int ww_disc_start(const struct ww_disc_cfg *cfg, const char *send_to, const char *listen_on,
                  struct ww_disc **out)
{
    if (!cfg || !cfg->loop || !cfg->store || !cfg->busy || !cfg->dial || !out ||
        (!send_to && !listen_on) || (send_to && (cfg->tcp_port <= 0 || cfg->tcp_port > 65535)))
        return WW_EINVAL;
    struct ww_disc *d = ww_calloc(1, sizeof *d);
    if (!d)
        return WW_ENOMEM;
    d->cfg = *cfg;
    if (!d->cfg.interval_ms)
        d->cfg.interval_ms = DEFAULT_INTERVAL_MS;
    ww_store_device(cfg->store, d->me);
    uv_timer_init(cfg->loop, &d->timer);
    d->timer.data = d;
    d->handles = 1;
    int rc = 0;
    if (send_to)
        rc = start_tx(d, send_to);
    if (rc == 0 && listen_on)
        rc = start_rx(d, listen_on);
    if (rc == 0)
        rc = uv_timer_start(&d->timer, timer_cb, 0, 0);
    if (rc != 0) {
        ww_disc_close(d, NULL, NULL); /* freed once its handles closed */
        return rc;
    }
    *out = d;
    return 0;
}

int ww_disc_port(const struct ww_disc *d)
{
    return d ? d->port : 0;
}

void ww_disc_stats(const struct ww_disc *d, struct ww_discover_stats *out)
{
    if (d)
        *out = d->st;
    else
        memset(out, 0, sizeof *out);
}
