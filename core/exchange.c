/*
 * exchange.c - what a sync session calls (wegwijs.h, "What sync calls"): the version
 * vector of a group, the events a peer lacks, applying a peer's batch, and the caller's
 * own transactions. The queries themselves belong to the log (log.c).
 */
#include <string.h>

#include "apply.h"
#include "log.h"
#include "pending.h"
#include "seal.h"
#include "store.h"

struct vv_out {
    struct ww_vv_item *items;
    size_t max, n;
};

static void vv_item(void *ud, const uint8_t author[32], uint64_t seq, const uint8_t hash[32])
{
    struct vv_out *o = ud;
    if (o->n < o->max) {
        memcpy(o->items[o->n].author, author, 32);
        o->items[o->n].seq = seq;
        memcpy(o->items[o->n].tip, hash, WW_TIP_LEN);
    }
    o->n++;
}

int ww_sync_vv(struct ww_store *s, const uint8_t group[WW_ID_LEN], struct ww_vv_item *items,
               size_t max, size_t *n_out)
{
    if (!s || !group || !n_out || (max && !items))
        return WW_EINVAL;
    struct vv_out o = {items, max, 0};
    int rc = ww_log_vv(s, group, vv_item, &o);
    if (rc == 0)
        *n_out = o.n;
    return rc;
}

/*
 * Marks the entries of a peer's vector that name another branch of a fork than ours: the
 * peer holds an event at that seq whose hash does not begin with the tip we hold there
 * (PROTOCOL.md 9.3). Such an entry is set to seq 0, so the peer gets the author's whole
 * log: the fork point may lie anywhere below, and what the peer holds of it already comes
 * back to it as duplicates. An entry above our head, or with no tip, is left as it is.
 */
static int fork_check(struct ww_store *s, const uint8_t *gid, struct ww_vv_item *v, size_t n)
{
    static const uint8_t none[WW_TIP_LEN];
    for (size_t i = 0; i < n; i++) {
        if (!v[i].seq || v[i].seq > WW_SEQ_MASK || !memcmp(v[i].tip, none, WW_TIP_LEN))
            continue;
        struct ww_log_head head;
        uint8_t hash[32];
        int rc = ww_log_head(s, gid, v[i].author, &head);
        if (rc != 0)
            return rc;
        if (head.seq < v[i].seq)
            continue; /* we cannot tell: the peer sees it from our vector instead */
        if (head.seq == v[i].seq)
            memcpy(hash, head.hash, sizeof hash);
        else if (!ww_log_hash_at(s, head.log, v[i].seq, hash, NULL, &rc))
            return rc ? rc : WW_ECORRUPT; /* the log has a hole: never written by us */
        if (memcmp(hash, v[i].tip, WW_TIP_LEN) != 0)
            v[i].seq = 0;
    }
    return 0;
}

int ww_sync_missing(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                    const struct ww_vv_item *peer, size_t n_peer, size_t max_events,
                    size_t max_bytes, void (*cb)(void *ud, const uint8_t *event, size_t len),
                    void *ud, int *more_out)
{
    if (!s || !group || !cb || (n_peer && !peer) || n_peer > WW_MAX_VV || !max_events)
        return WW_EINVAL;
    struct ww_vv_item v[WW_MAX_VV];
    if (n_peer)
        memcpy(v, peer, n_peer * sizeof *v);
    int rc = fork_check(s, group, v, n_peer);
    if (rc != 0)
        return rc;
    return ww_log_missing(s, group, v, n_peer, max_events, max_bytes, cb, ud, more_out);
}

int ww_sync_own_forks(struct ww_store *s, const uint8_t group[WW_ID_LEN], uint64_t *n_out)
{
    if (!s || !group || !n_out)
        return WW_EINVAL;
    uint64_t n = 0;
    int rc = ww_pending_forks(s, group, s->pk, &n);
    if (rc == 0)
        *n_out = n;
    return rc;
}

int ww_store_begin(struct ww_store *s)
{
    if (!s)
        return WW_EINVAL;
    return ww_db_begin(s); /* inside a transaction: a savepoint */
}

int ww_store_commit(struct ww_store *s)
{
    if (!s)
        return WW_EINVAL;
    if (sqlite3_get_autocommit(s->db))
        return WW_ESTATE;
    return ww_db_commit(s);
}

void ww_store_rollback(struct ww_store *s)
{
    if (s)
        ww_db_rollback(s);
}

int ww_sync_apply_each(struct ww_store *s, const uint8_t *const *events, const size_t *lens,
                       size_t n, struct ww_apply_result *res, ww_outcome_cb cb, void *ud)
{
    if (!s || !res || (n && (!events || !lens)))
        return WW_EINVAL;
    if (!sqlite3_get_autocommit(s->db)) /* the caller's transaction */
        return ww_apply_batch(s, events, lens, n, res, NULL, cb, ud);
    int rc = ww_db_begin(s);
    if (rc != 0)
        return rc;
    rc = ww_apply_batch(s, events, lens, n, res, NULL, cb, ud);
    if (rc != 0) {
        ww_db_rollback(s);
        return rc;
    }
    return ww_db_commit(s);
}

int ww_sync_apply(struct ww_store *s, const uint8_t *const *events, const size_t *lens, size_t n,
                  struct ww_apply_result *res)
{
    return ww_sync_apply_each(s, events, lens, n, res, NULL, NULL);
}

int ww_sync_vv_advance(const uint8_t group[WW_ID_LEN], const uint8_t *event, size_t len,
                       struct ww_vv_item *vv, size_t *n, size_t max)
{
    if (!group || !event || !vv || !n || *n > max)
        return WW_EINVAL;
    struct ww_envelope env;
    int rc = ww_envelope_decode(event, len, &env);
    if (rc != 0)
        return rc;
    if (memcmp(env.h.group, group, WW_ID_LEN) != 0)
        return WW_EGROUP;
    uint8_t hash[WW_EVENT_HASH_LEN];
    ww_event_hash(&env.header_bytes, env.ct_hash, env.sig, hash);
    size_t i = 0;
    while (i < *n && memcmp(vv[i].author, env.h.author, 32) != 0)
        i++;
    if (i == *n) {
        if (*n == max)
            return WW_ETOOBIG;
        memcpy(vv[i].author, env.h.author, 32);
        (*n)++;
    }
    /* At or below the entry's seq this is the resend of a fork (9.3): the next page goes
     * on right after this event, whatever the peer held there. */
    vv[i].seq = env.h.seq;
    memcpy(vv[i].tip, hash, WW_TIP_LEN);
    return 0;
}

/* The event hash of a full envelope, for the state of the next event of the frame. */
static int remember(struct ww_runs_state *st, const uint8_t *full, size_t len)
{
    struct ww_envelope env;
    int rc = ww_envelope_decode(full, len, &env);
    if (rc != 0)
        return rc;
    st->has = 1;
    memcpy(st->author, env.h.author, WW_KEY_LEN);
    st->seq = env.h.seq;
    ww_event_hash(&env.header_bytes, env.ct_hash, env.sig, st->hash);
    return 0;
}

/* Copies buf into out (cap bytes), setting *out_len. */
static int give(const struct ww_buf *b, uint8_t *out, size_t cap, size_t *out_len)
{
    if (b->len > cap)
        return WW_ETOOBIG;
    memcpy(out, b->p, b->len);
    *out_len = b->len;
    return 0;
}

int ww_sync_compact(const uint8_t group[WW_ID_LEN], const uint8_t *event, size_t len,
                    struct ww_runs_state *st, uint8_t *out, size_t cap, size_t *out_len)
{
    if (!group || !event || !st || !out || !out_len)
        return WW_EINVAL;
    struct ww_envelope env;
    int rc = ww_envelope_decode(event, len, &env);
    if (rc != 0)
        return rc;
    if (memcmp(env.h.group, group, WW_ID_LEN) != 0)
        return WW_EGROUP;
    unsigned elide = WW_ELIDE_GROUP;
    if (!env.erased)
        elide |= WW_ELIDE_CT;
    if (st->has && !memcmp(st->author, env.h.author, WW_KEY_LEN) && env.h.seq == st->seq + 1 &&
        !memcmp(st->hash, env.h.prev, WW_EVENT_HASH_LEN))
        elide |= WW_ELIDE_AUTHOR | WW_ELIDE_PREV;
    struct ww_buf b;
    ww_buf_init(&b, WW_MAX_EVENT);
    rc = ww_envelope_encode_compact(&env, elide, &b);
    if (rc == 0)
        rc = remember(st, event, len);
    if (rc == 0)
        rc = give(&b, out, cap, out_len);
    ww_buf_free(&b);
    return rc;
}

int ww_sync_expand(const uint8_t group[WW_ID_LEN], const uint8_t *compact, size_t len,
                   struct ww_runs_state *st, uint8_t *out, size_t cap, size_t *out_len)
{
    if (!group || !compact || !st || !out || !out_len)
        return WW_EINVAL;
    struct ww_envelope env;
    unsigned elided = 0;
    int rc = ww_envelope_decode_compact(compact, len, &elided, &env);
    if (rc != 0)
        return rc;
    if (elided & WW_ELIDE_GROUP)
        memcpy(env.h.group, group, WW_ID_LEN);
    else if (memcmp(env.h.group, group, WW_ID_LEN) != 0)
        return WW_EGROUP;
    if (elided & WW_ELIDE_AUTHOR) {
        if (!st->has)
            return WW_EINVAL; /* nothing came before it to take the author from */
        memcpy(env.h.author, st->author, WW_KEY_LEN);
    }
    if (elided & WW_ELIDE_PREV) {
        /* Only the event right after its author's previous one in the frame. */
        if (!st->has || memcmp(env.h.author, st->author, WW_KEY_LEN) != 0 ||
            env.h.seq != st->seq + 1)
            return WW_EINVAL;
        memcpy(env.h.prev, st->hash, WW_EVENT_HASH_LEN);
    }
    if (elided & WW_ELIDE_CT)
        ww_ct_hash(env.body.p, env.body.len, env.ct_hash);
    struct ww_buf b;
    ww_buf_init(&b, WW_MAX_EVENT);
    rc = ww_envelope_encode(&env, &b);
    if (rc == 0)
        rc = remember(st, b.p, b.len);
    if (rc == 0)
        rc = give(&b, out, cap, out_len);
    ww_buf_free(&b);
    return rc;
}
