/*
 * session.h - one sync session: the exchange of docs/PROTOCOL.md section 9 between this
 * store and one peer, for every group both sides sync, as a state machine.
 *
 * The session is fed decoded-to-plaintext frames (what the channel opened) and an explicit
 * `now`, and answers through callbacks: frames to send and events it applied. It never
 * touches a socket or a clock, so every exchange can be tested in memory, and the libuv
 * glue (net.c) only moves bytes.
 *
 * Per group: each side sends its version vector (VV); each then streams what the other
 * lacks in BATCH frames of at most max_batch_events events and max_batch_bytes, with at
 * most `window` batches unacknowledged; the receiver applies each batch in one transaction
 * and answers ACK with its new vector. After catch-up the group stays live: ww_session_pump
 * sends what was written or received since, to this peer, at once.
 *
 * Invariants:
 *  - What we send a peer for a group is always the events above `sent` (the peer's vector
 *    raised by every event sent), in the store's causal order, so nothing is sent twice in
 *    one session and nothing is skipped; an ACK only raises `sent` further. Forks are the
 *    exception, once per author: an entry of the peer's VV whose tip is not the event we
 *    hold at its seq gets the author's whole log (the store decides, PROTOCOL.md 9.3), and
 *    a batch that brings the losing branch of a fork where we keep ours makes `sent` go
 *    back to the fork, so the peer gets our branch and takes it over (9.5).
 *  - A frame that breaks the protocol (malformed, a batch for a group not opened, an event
 *    that is not a valid authentic event) fails the session with a reason; the owner then
 *    closes the connection. Nothing of a failed frame's batch is applied.
 *  - The session holds no key: it moves sealed events, and the store's apply decides.
 */
#ifndef WW_SESSION_H
#define WW_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "wegwijs.h"

#define WW_SESSION_MAX_GROUPS 64 /* groups one session syncs */
#define WW_SESSION_WINDOW     16 /* batches in flight per group, by default */

struct ww_session_cfg {
    struct ww_store *store;
    uint8_t peer[WW_KEY_LEN]; /* the peer's device key, proven by the channel */
    uint32_t peer_caps;       /* what the peer offered (WW_CAP_*): RUNS frames with COMPACT */
    size_t max_batch_events;  /* 1..256; 0 means 256 */
    size_t max_batch_bytes;   /* 0 means 1 MiB less room for framing */
    size_t window;            /* 0 means WW_SESSION_WINDOW */
    void *ud;
    /* Sends one encoded frame (plaintext; the owner seals it). Non-zero fails the session. */
    int (*send)(void *ud, const uint8_t *frame, size_t len);
    /* May the peer sync this group? 0 to allow; else a WW_E* code (the session answers
     * ERROR DENIED and fails). NULL allows every group. */
    int (*may_sync)(void *ud, const uint8_t group[WW_ID_LEN]);
    /* Ask may_sync again after applying each batch, inside its transaction: a refusal then
     * rolls the batch back (a hub learns from a group's own events whether it serves it). */
    int recheck_batches;
    /* What one author may add to a group's log through this node (a hub's); per_day 0:
     * no quota. */
    struct ww_quota quota;
    /* A batch of this session applied events to a group (after its transaction
     * committed); `control` when one of them changed the group's members or keys. A hub
     * pumps the group's other sessions and re-checks who may sync it. May be NULL. */
    void (*changed)(void *ud, const uint8_t group[WW_ID_LEN], int control);
    /* The session now syncs this group (after may_sync allowed it, or we opened it): the
     * owner can index its sessions by group. May be NULL. */
    void (*grouped)(void *ud, const uint8_t group[WW_ID_LEN]);
    /* May the owner send more now? 0 when its output is backed up: the session then sends
     * no further batches until ww_session_pump is called again. NULL: always. */
    int (*writable)(void *ud);
    /* Joining by invite (PROTOCOL.md 9.9). A frame whose callback is NULL is unexpected
     * here (ERROR PROTOCOL). */
    /* A hub: the peer (r->device) redeems an invite. 0 with r->group and *state
     * (WW_REDEEM_*) filled in, answered REDEEMED; or a WW_E* code, answered by ERROR with
     * its wire code (an invite used, expired, revoked or unknown; DENIED), and the session
     * fails. */
    int (*on_redeem)(void *ud, struct ww_redemption *r, int *state);
    /* The joining device: the hub recorded our redemption or we are admitted. */
    void (*on_redeemed)(void *ud, const uint8_t group[WW_ID_LEN], const uint8_t invite[WW_KEY_LEN],
                        int state);
    /* The owner device: a redemption for it to admit (checked by the callee). */
    void (*on_redemption)(void *ud, const struct ww_redemption *r);
    /* The climate frames (PROTOCOL.md 9.12), AGG_GET to AGG_RELEASE, decoded; the callee
     * answers with ww_session_send_frame. Non-zero fails the session. NULL: unexpected. */
    int (*on_agg)(void *ud, const struct ww_frame *f);
    /* A hub: the aggregator keys every REDEEMED confirms (A, then B), when has_aggs. */
    int has_aggs;
    uint8_t aggs[2][WW_KEY_LEN];
    /* The joining device: REDEEMED's aggregator keys, to pin. May be NULL. */
    void (*on_aggs)(void *ud, const uint8_t group[WW_ID_LEN], const uint8_t aggs[2][WW_KEY_LEN]);
};

struct ww_session_group;

struct ww_session {
    struct ww_session_cfg cfg;
    int failed;         /* a WW_E* code once the session failed */
    const char *reason; /* why, for the log */
    int peer_error;     /* the code of an ERROR frame the peer sent, 0 if none */
    size_t n_groups;
    struct ww_session_group *groups[WW_SESSION_MAX_GROUPS];
    int64_t last_rx_ms; /* when the last frame arrived */
    uint64_t ping_nonce;
    int ping_out; /* a PING is unanswered */
    /* Counters for progress and tests. */
    uint64_t events_sent, events_received, batches_sent, batches_received;
    /* Events of this device itself that lost a fork in the peer's batches, and how many of
     * them were written again (ww_apply_result's own_lost and rewritten). */
    uint64_t own_lost, rewritten;
};

int ww_session_init(struct ww_session *ss, const struct ww_session_cfg *cfg, int64_t now_ms);
/* Frees what the session holds. */
void ww_session_close(struct ww_session *ss);

/* Starts syncing a group with the peer: sends our version vector. */
int ww_session_open_group(struct ww_session *ss, const uint8_t group[WW_ID_LEN]);
/* One frame from the peer, as the channel opened it. 0, or the failure (also in ss->failed). */
int ww_session_on_frame(struct ww_session *ss, const uint8_t *frame, size_t len, int64_t now_ms);
/* Sends what the peer lacks of a group (of every open group when group is NULL), as far
 * as the window allows: call it after local writes, after other sessions applied events
 * (a hub), and when the owner's output drained. */
int ww_session_pump(struct ww_session *ss, const uint8_t *group);
/* Goes on with the groups that were held back (the owner's output drained). */
int ww_session_resume(struct ww_session *ss);
/* Keep-alive: pings after idle_ms of silence, fails after dead_ms. */
int ww_session_tick(struct ww_session *ss, int64_t now_ms, int64_t idle_ms, int64_t dead_ms);
/* Events of this device's own logs that the peer's last acknowledgement, with nothing in
 * flight, did not cover: it keeps them waiting (their time is ahead) or refused them. */
uint64_t ww_session_not_taken(const struct ww_session *ss);
/* 1 when every open group is caught up both ways: vectors exchanged, nothing in flight,
 * nothing more expected from the peer. */
int ww_session_idle(const struct ww_session *ss);
/* The id of the i-th group the session syncs (i < ss->n_groups). */
const uint8_t *ww_session_group(const struct ww_session *ss, size_t i);
/* 1 when the session syncs this group (the peer opened it or we did, and it was allowed). */
int ww_session_has_group(const struct ww_session *ss, const uint8_t group[WW_ID_LEN]);
/* Invite frames: REDEEM (r->group and r->device are not sent), REDEEMED and REDEMPTION. */
int ww_session_send_redeem(struct ww_session *ss, const struct ww_redemption *r);
int ww_session_send_redeemed(struct ww_session *ss, const uint8_t group[WW_ID_LEN],
                             const uint8_t invite[WW_KEY_LEN], int state);
int ww_session_send_redemption(struct ww_session *ss, const struct ww_redemption *r);
/* Any frame (the climate frames): encodes and sends it. */
int ww_session_send_frame(struct ww_session *ss, const struct ww_frame *f);
/* The wire code (WW_WIRE_*) an ERROR carries for a local code, and back. */
int ww_session_wire_code(int rc);
int ww_session_local_code(int wire);
/* Sends ERROR {code, text}; the owner closes after it is written. */
int ww_session_send_error(struct ww_session *ss, int wire_code, const char *text);

#endif
