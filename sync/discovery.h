/*
 * discovery.h - finding a group's peers on the local network (PROTOCOL.md 9.10): a node's
 * UDP side. It sends a beacon per group every interval and listens for the beacons of
 * others; what to do with a peer it found (dial it) is the node's, through callbacks.
 */
#ifndef WW_DISCOVERY_H
#define WW_DISCOVERY_H

#include <stdint.h>
#include <uv.h>

#include "wegwijs.h"
#include "wegwijs_sync.h"

#define WW_DISC_MAX_GROUPS 64    /* groups beaconed and listened for */
#define WW_DISC_REDIAL_MS  30000 /* one dial per (device, group, ip:port) in this time */
#define WW_DISC_RECENT     32    /* dials remembered; a full table refuses further dials */

struct ww_disc;

struct ww_disc_cfg {
    uv_loop_t *loop;
    struct ww_store *store;
    uint64_t interval_ms; /* beacons and key refresh; 0: 5000 */
    int tcp_port;         /* the node's TCP port, announced in beacons */
    void *ud;
    /* 1 when a connection with device that syncs group is open or being made. */
    int (*busy)(void *ud, const uint8_t device[WW_KEY_LEN], const uint8_t group[WW_ID_LEN]);
    /* Dial ip:port, pinning device, to sync group. */
    int (*dial)(void *ud, const char *ip, int port, const uint8_t device[WW_KEY_LEN],
                const uint8_t group[WW_ID_LEN]);
    /* A beacon that opened and what came of it ("dial", or why not), for the log. May be
     * NULL. */
    void (*log)(void *ud, const char *ip, int port, const uint8_t device[WW_KEY_LEN],
                const char *what);
};

/* Starts sending beacons to send_to and/or listening on listen_on ("ip:port", either NULL,
 * not both). The first beacons go out at once. */
int ww_disc_start(const struct ww_disc_cfg *cfg, const char *send_to, const char *listen_on,
                  struct ww_disc **out);
/* The UDP port it listens on (0 when it does not). */
int ww_disc_port(const struct ww_disc *d);
/* Its counters (ww_node_discover_stats). */
void ww_disc_stats(const struct ww_disc *d, struct ww_discover_stats *out);
/* Closes its handles; cb(ud) runs once they are closed and d is freed. */
void ww_disc_close(struct ww_disc *d, void (*cb)(void *ud), void *ud);

#endif
