/*
 * wegwijs_sync.h - network sync on a libuv loop: the public API of sync/.
 *
 * A struct ww_node is this store on a loop. It can listen (a hub, or a device that peers
 * on the ward's wifi) and dial (a device syncing with a hub or a peer); every connection
 * runs the secure channel (Noise XX, PROTOCOL.md 8) and a sync session (PROTOCOL.md 9).
 * A mobile app runs it on its own loop; the `wegwijs` command and the hub are its clients.
 *
 * A hub node is a blind relay: it is not a member of any group and holds no key that opens
 * content. It stores and forwards the sealed events of every group whose members connect,
 * checks what the signed control plane lets it check (the store's apply), and serves a
 * group's events only to devices of the group's active members.
 *
 * Conventions as in wegwijs.h; the node and its connections are freed in the close
 * callback, after every handle closed.
 */
#ifndef WEGWIJS_SYNC_H
#define WEGWIJS_SYNC_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "wegwijs.h"
#include "wegwijs_agg.h"

struct ww_node;

/* Events a hub holds of a group that names no hub yet (see ww_node_cfg). */
#define WW_HUB_PROBATION 4096
/* What one author may add to a group's log at a hub by default (ww_quota): 2 MiB a day,
 * up to 32 MiB at once. A student's whole internship is well under 1 MiB of events. */
#define WW_HUB_QUOTA_DAY   (2u << 20)
#define WW_HUB_QUOTA_BURST (32u << 20)

/* What happened to a connection (ww_node_cfg.on_conn). */
enum ww_conn_event {
    WW_CONN_UP = 1,     /* the handshake completed: peer is known */
    WW_CONN_SYNCED = 2, /* every group of the connection is caught up both ways */
    WW_CONN_DOWN = 3    /* the connection closed; error says why (0: cleanly) */
};

struct ww_conn_info {
    int event;                /* enum ww_conn_event */
    int outbound;             /* we dialled */
    const char *addr;         /* the peer's address, "ip:port" */
    uint8_t peer[WW_KEY_LEN]; /* the peer's device key (zero before UP) */
    int error;                /* WW_E* or a negative errno, for DOWN */
    const char *reason;       /* why, for the log ("" when none) */
    uint64_t events_sent, events_received;
    uint64_t bytes_sent, bytes_received; /* on the socket, both directions */
    /* SYNCED, DOWN: this device's own events the peer did not take (it keeps them waiting
     * until their time, a clock ahead, or refused them), as of its last acknowledgement. */
    uint64_t events_not_taken;
    /* SYNCED, DOWN: this device's own events that lost a fork on this connection (it was
     * restored from a backup, or its data folder copied), and how many of them it wrote
     * again as new events (PROTOCOL.md 6.16 step 3). */
    uint64_t own_lost, rewritten;
};

/* How joining by invite goes (ww_node_join; ww_node_cfg.on_join). */
enum ww_join_state {
    WW_JOIN_WAITING = 1,  /* the hub recorded the redemption: waiting for the coach's device */
    WW_JOIN_ADMITTED = 2, /* this device is a member now: the group syncs on this connection */
    WW_JOIN_FAILED = 3    /* error says why (WW_EUSED, WW_EEXPIRED, WW_EREVOKED, ...) */
};

struct ww_join_info {
    int state;                /* enum ww_join_state */
    uint8_t group[WW_ID_LEN]; /* WAITING, ADMITTED: the group (zero before the hub said) */
    int error;                /* FAILED: WW_E* or a negative errno */
    const char *reason;       /* FAILED: for the log */
};

struct ww_node_cfg {
    struct ww_store *store;
    int hub;               /* serve as a hub (see above) */
    int accept_new_groups; /* a hub stores a group it does not know yet (its creator's upload) */
    /* A hub serves only groups that name it (ww_group_hub_set); a group that names no hub
     * yet is held on probation up to WW_HUB_PROBATION events. With n_coaches > 0, only
     * groups whose owner device is one of these keys (the array must outlive the node). */
    const uint8_t (*coaches)[WW_KEY_LEN];
    size_t n_coaches;
    uint32_t probation;            /* 0: WW_HUB_PROBATION */
    uint32_t max_conns;            /* 0: 20000 */
    uint32_t max_conns_per_ip;     /* connections still in their handshake, per address; 0: 256 */
    uint32_t max_conns_per_device; /* authenticated inbound connections per device key; 0: 8 */
    uint64_t handshake_ms;   /* a connection that has not completed its handshake by then closes; 0:
                                10000 */
    uint64_t idle_ms;        /* ping after this much silence; 0: 30000 */
    uint64_t dead_ms;        /* close after this much silence; 0: 90000 */
    size_t max_batch_events; /* per batch frame; 0: 256 */
    /* What one author may add to a group's log through this node (ww_quota): a hub with
     * per_day 0 takes WW_HUB_QUOTA_DAY and WW_HUB_QUOTA_BURST, unless no_quota; a device
     * has none unless set. A burst below WW_MAX_EVENT is refused (WW_EINVAL). */
    struct ww_quota quota;
    int no_quota;
    void *ud;
    /* One line per connection event, for a log (no trailing newline). May be NULL. */
    void (*log)(void *ud, const char *line);
    /* Connection events, for a progress display or a test. May be NULL. */
    void (*on_conn)(void *ud, const struct ww_conn_info *info);
    /* The owner device admits the redemptions its group's hub hands it, by themselves
     * (ww_redemption_admit): a new student joins the next time this device is connected. */
    int admit_invites;
    /* Progress of ww_node_join (each state at most once; FAILED ends it). May be NULL. */
    void (*on_join)(void *ud, const struct ww_join_info *info);
    /* A hub as climate aggregator A (PROTOCOL.md 9.12): with has_agg_b, every REDEEMED
     * confirms this hub's aggregator key and agg_b (aggregator B's, run by another party)
     * for the joining device to pin; climate_readers are the device keys that may fetch
     * the shares and A's releases (aggregator B's tool). The array must outlive the node. */
    int has_agg_b;
    uint8_t agg_b[WW_KEY_LEN];
    const uint8_t (*climate_readers)[WW_KEY_LEN];
    size_t n_climate_readers;
    int climate_live; /* serve windows that are not final yet too (ww_climate_live) */
    /* ww_node_climate's result, once: rc 0 with the hub's report and setup (both valid
     * during the call only), or a WW_E* code with NULLs. May be NULL. */
    void (*on_climate)(void *ud, int rc, const struct ww_agg_report *r,
                       const struct ww_agg_setup *su);
    uint64_t beacon_ms; /* ww_node_discover: beacons every this many ms, give or take a fifth;
                           0: 5000 */
};

int ww_node_new(uv_loop_t *loop, const struct ww_node_cfg *cfg, struct ww_node **out);
/* Listens on ip:port (port 0: an ephemeral port; see ww_node_port). */
int ww_node_listen(struct ww_node *n, const char *ip, int port);
int ww_node_port(const struct ww_node *n);
/*
 * Dials ip:port and syncs the given groups (all of this store's groups when groups is
 * NULL). ip may be a host name: it is looked up without blocking the loop, and its first
 * IPv4 address (else its first address) is dialled; a failed lookup ends the connection
 * (WW_CONN_DOWN with the resolver's error). peer (may be NULL) is the device key the other
 * side must prove, checked before we reveal ours. With once, the connection closes as soon as it is
 * caught up (WW_CONN_ SYNCED, then DOWN); otherwise it stays live.
 */
int ww_node_dial(struct ww_node *n, const char *ip, int port, const uint8_t *peer,
                 const uint8_t (*groups)[WW_ID_LEN], size_t n_groups, int once);
/*
 * Joins a group with an invite code (ww_invite_code_parse): dials the hub the code names
 * (a host name or an IP literal, and a port), accepts only the hub whose key has the code's
 * fingerprint (checked before this device reveals its own key), redeems the invite as `alias` (year
 * 1..4, track 0..2), and stays connected: on_join reports WAITING ("waiting for your
 * coach's device") until the owner's device admits it, then ADMITTED, and the group syncs
 * on that connection like any member's. WW_EBADCODE for a mistyped code; a refusal by the
 * hub (WW_EUSED, WW_EEXPIRED, WW_EREVOKED, WW_ENOTFOUND) comes as FAILED. A device code
 * (ww_device_invite) joins this device to the member who made it: alias, year and track are
 * then ignored (alias may be NULL).
 */
int ww_node_join(struct ww_node *n, const char *code, const char *alias, int year, int track);
/*
 * Fetches the climate report of the hub at ip:port, whose device key must be hub, as
 * aggregator B (this store's aggregator key) and combiner: pages of the hub's shares,
 * B's gate, A's gate and release, B's release, combined (PROTOCOL.md 9.12). k is the cell
 * size (0: WW_AGG_K_MIN; below it WW_EINVAL). The result comes once through on_climate;
 * the connection then closes. The hub must list this device as a climate reader.
 */
int ww_node_climate(struct ww_node *n, const char *ip, int port, const uint8_t hub[WW_KEY_LEN],
                    uint32_t k);
/*
 * Finds the peers of this device's groups on the local network (PROTOCOL.md 9.10), with no
 * address given. send_to ("ip:port", e.g. "255.255.255.255:7421", WW_BEACON_PORT) sends,
 * every beacon_ms, one beacon per group this device is an active member of, announcing the
 * node's TCP port: the node must listen first (else WW_ESTATE). listen_on ("ip:port", e.g.
 * "0.0.0.0:7421"; port 0: an ephemeral port, see ww_node_beacon_port) takes the beacons of
 * others: a beacon that opens under one of this device's groups (current or previous epoch),
 * from a device of an active member of that group with which no connection is open, makes
 * the node dial the datagram's address and the port inside, pinning the device key inside
 * (checked before this device reveals its own), and keep that connection live for the
 * group. Either may be NULL, not both; once per node. A hub has no group key: it sends and
 * opens nothing.
 */
#define WW_BEACON_PORT 7421
int ww_node_discover(struct ww_node *n, const char *send_to, const char *listen_on);
/* The UDP port ww_node_discover listens on (0 when it does not). */
int ww_node_beacon_port(const struct ww_node *n);
/* Beacon opening attempts per second at most, over all datagrams: a flood costs no more. */
#define WW_DISCOVER_OPENS_PER_S 512
/* What discovery did so far (all zero before ww_node_discover). */
struct ww_discover_stats {
    uint64_t sent;     /* beacons sent */
    uint64_t received; /* datagrams received */
    uint64_t dropped;  /* not a beacon of ours, out of its window, or over the budget */
    uint64_t attempts; /* beacon opening attempts (WW_DISCOVER_OPENS_PER_S) */
    uint64_t opened;   /* beacons of our groups from other devices, in their window */
    uint64_t dialled;  /* dials they led to */
};
void ww_node_discover_stats(const struct ww_node *n, struct ww_discover_stats *out);
/* The store was written outside the node (a local reflection): send it to the peers. */
void ww_node_notify(struct ww_node *n, const uint8_t group[WW_ID_LEN]);
/* Connections now open (handshake done). */
size_t ww_node_conns(const struct ww_node *n);
/* Closes every connection and the listener; cb runs once all handles are closed and the
 * node is freed. */
void ww_node_close(struct ww_node *n, void (*cb)(void *ud), void *ud);

#endif
