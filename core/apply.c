/*
 * apply.c - the one path by which events enter the store, whether this device wrote them
 * or a peer sent them: the pipeline, and nothing a kind, the log, the keys or deferral own.
 *
 * For a batch: decode every envelope, check each body against its ct_hash, compute event
 * hashes, link each author's events into runs by their `prev` hashes and verify one
 * signature per run (the last event's: its header hashes the previous event, which hashes
 * the one before, and so on). Then, in batch order, each event is checked against its
 * author's chain (log.c), the group's membership (group.c) and its kind's row (kind.h),
 * and is stored and materialised, recognised as a duplicate or a fork, kept aside until
 * its cause arrives (pending.c), or rejected with a reason. Events released from pending
 * by this batch go through the same path.
 *
 * Invariants:
 *  - Materialised state depends only on the set of events and keys held, never on the
 *    order they arrived in (kind.h).
 *  - A rejected event leaves no trace but its outcome: apply_one makes every check before
 *    its first write, and after that fails only with an error of the store itself
 *    (ww_store_failure), which abandons the whole batch and its transaction.
 *  - Each author's stored events are contiguous from seq 1 (log.h).
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "apply.h"
#include "keyring.h"
#include "kind.h"
#include "log.h"
#include "lost.h"
#include "pending.h"
#include "seal.h"
#include "store.h"

/* One decoded event of a batch. */
struct item {
    const uint8_t *raw;
    size_t len;
    struct ww_envelope env;
    uint8_t hash[32];
    int rc; /* decode or verification failure */
    int sig_ok;
    int next;              /* index of the event that links to this one in the batch, or -1 */
    int has_prev;          /* an earlier event of the batch links into this one */
    const uint8_t *stored; /* what was stored (raw, or raw without its erased body) */
    size_t stored_len;
};

/* Per batch: the last stored event of each author seen, to avoid a query per event. */
struct head {
    uint8_t gid[16];
    uint8_t author[32];
    struct ww_log_head h;
};

struct batch {
    struct head heads[64];
    size_t n_heads;
    struct ww_buf pt;  /* decrypted body */
    struct ww_buf out; /* re-encoded raw (erasure) */
    int control;       /* a control event or key arrived: retry the deferred */
    int again;         /* the last event deferred was kept aside already */
    struct ww_pending_counts counts;
    ww_outcome_cb cb;
    void *ud;
    int keep_lost;        /* a batch from outside (not a rebuild's): collect `lost` */
    struct ww_lost *lost; /* this device's own events that lost a fork in this batch */
};

static struct head *find_head(struct batch *b, const uint8_t gid[16], const uint8_t author[32])
{
    for (size_t i = 0; i < b->n_heads; i++)
        if (!memcmp(b->heads[i].author, author, 32) && !memcmp(b->heads[i].gid, gid, 16))
            return &b->heads[i];
    return NULL;
}

static void set_head(struct batch *b, const struct ww_header *h, const struct ww_log_head *lh)
{
    struct head *e = find_head(b, h->group, h->author);
    if (!e) {
        if (b->n_heads == sizeof b->heads / sizeof b->heads[0]) {
            memmove(b->heads, b->heads + 1, sizeof b->heads - sizeof b->heads[0]);
            b->n_heads--;
        }
        e = &b->heads[b->n_heads++];
        memcpy(e->gid, h->group, 16);
        memcpy(e->author, h->author, 32);
    }
    e->h = *lh;
}

/* The author's head, from this batch when it has stored an event of that author already. */
static int author_head(struct ww_store *s, struct batch *b, const uint8_t *gid,
                       const uint8_t *author, struct ww_log_head *out)
{
    struct head *h = find_head(b, gid, author);
    if (h) {
        *out = h->h;
        return 0;
    }
    return ww_log_head(s, gid, author, out);
}

/* Whether an erasure covers this event: it is then stored without its body. An event about
 * the member in its ref is covered by that member's erasure alone, whatever its hlc. */
static int erased_by(struct ww_store *s, const struct ww_header *h, const uint8_t *member,
                     int *covered)
{
    const uint8_t *about = ww_event_about(h);
    if (about != h->subject)
        member = about;
    *covered = 0;
    sqlite3_stmt *st = ww_sql(s, "SELECT 1 FROM erasures WHERE gid=?1 AND hlc>=?2 AND "
                                 "(member=?3 OR member=?4) LIMIT 1");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_blob(st, 1, h->group, 16, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, about != h->subject ? 0 : (sqlite3_int64)h->hlc);
    sqlite3_bind_blob(st, 3, member, 16, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 4, about, 16, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    *covered = step == SQLITE_ROW;
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : ww_db_err(s, step);
}

/* The header-level rules of a kind's row: who may write it, to whom, with which ref. */
static int check_header(struct ww_store *s, const struct ww_kind_rule *k, const struct ww_header *h,
                        const struct ww_devinfo *dev)
{
    if (!(k->roles & WW_ROLE_BIT(dev->role)))
        return WW_EROLE;
    if (k->owner_only && memcmp(h->author, ww_cache_cur(s)->owner, 32) != 0) {
        /* Another active device of the owner's member may become the owner by a handover
         * in the owner's log that has not arrived yet: it waits for it. */
        return ww_cache_may_own(s, dev) ? WW_ENOTMEMBER : WW_EROLE;
    }
    if (!(k->audiences & WW_AUD_BIT(h->audience)))
        return WW_EINVAL;
    if (k->ref_len != h->ref_len)
        return WW_EINVAL;
    if (h->audience == WW_AUD_PAIR || h->audience == WW_AUD_SELF) {
        if (dev->role != WW_ROLE_COACH || h->audience == WW_AUD_SELF) {
            if (memcmp(h->subject, dev->member, 16) != 0)
                return WW_EROLE; /* a learner writes only in its own audiences */
        } else {
            int found = 0; /* the coach writes to a learner's pair audience */
            for (size_t i = 0; i < ww_cache_cur(s)->n_devices && !found; i++)
                found = !memcmp(ww_cache_cur(s)->devices[i].member, h->subject, 16) &&
                        ww_cache_cur(s)->devices[i].role != WW_ROLE_COACH;
            if (!found)
                return WW_ENOTFOUND;
        }
    }
    return 0;
}

/* Runs a kind's materialisation and what follows from it: keys it brought open what they
 * can, a control change invalidates the cache and lets deferred events try again. */
static int materialise(struct ww_store *s, struct batch *b, const struct ww_kind_rule *k,
                       struct ww_event *ev, int readable)
{
    int (*fn)(struct ww_store *, struct ww_event *) = readable ? k->apply : k->apply_unread;
    int rc = fn ? fn(s, ev) : 0;
    if (rc != 0)
        return rc;
    if (ev->control) {
        ww_cache_invalidate(s);
        b->control = 1;
    }
    for (size_t i = 0; i < ev->n_learned && rc == 0; i++)
        rc = ww_apply_unread(s, ev->env->h.group, ev->learned[i].audience, ev->learned[i].subject,
                             ev->learned[i].epoch);
    return rc;
}

/* Whether the author of h is a stranger to its group, whose cache is loaded: not one of its
 * devices (pending.h). */
static int stranger(struct ww_store *s, const struct ww_header *h)
{
    return !ww_cache_cur(s)->exists || !ww_cache_device(s, h->author);
}

/* Keeps an event aside; the group's cache is loaded. */
static int defer(struct ww_store *s, struct batch *b, const struct item *it, int reason)
{
    int rc = ww_pending_defer(s, &b->counts, &it->env.h, it->raw, it->len, reason,
                              stranger(s, &it->env.h));
    b->again = rc == 1;
    return rc == 0 || rc == 1 ? WW_OUTCOME_DEFERRED : rc;
}

/* An event on its way in, before its body is read. */
static void event_init(struct ww_event *ev, const struct ww_envelope *env, const uint8_t *hash,
                       const struct ww_devinfo *author)
{
    memset(ev, 0, sizeof *ev);
    ev->env = env;
    ev->hash = hash;
    ev->author = author;
}

/* Opens an encrypted body with this device's keys and checks it against the kind's rule:
 * 1 when readable (ev->body then points at body), 0 when it stays unread, exactly as on
 * every device without its key. */
static int read_record(struct ww_store *s, struct batch *b, const struct ww_kind_rule *k,
                       struct ww_event *ev, struct ww_body *body)
{
    const struct ww_envelope *env = ev->env;
    ev->body = NULL;
    if (env->erased || ww_keyring_open(s, env, &b->pt) != 0 ||
        ww_body_decode(env->h.kind, b->pt.p, b->pt.len, body) != 0)
        return 0;
    ev->body = body;
    if (k->check && k->check(s, ev) != 0) {
        ev->body = NULL;
        return 0;
    }
    return 1;
}

/*
 * The intact copy of an event held without its body. Anyone who forwards could strip a
 * body (the event hash does not cover it), so a bodiless copy is held like any other, and
 * the intact one restores the body, unless an erasure covers the event: then the body stays
 * dropped. Restoring materialises it as a first arrival would have.
 */
static int restore(struct ww_store *s, struct batch *b, struct item *it, int64_t log)
{
    const struct ww_header *h = &it->env.h;
    int rc = ww_cache_load(s, h->group);
    if (rc != 0)
        return rc;
    const struct ww_kind_rule *k = ww_kind_rule(h->kind);
    const struct ww_devinfo *dev = ww_cache_device(s, h->author);
    if (!k || !k->erasable || !dev)
        return WW_OUTCOME_DUPLICATE;
    struct ww_devinfo author = *dev;
    int covered = 0;
    if (ww_cache_cur(s)->has_erasures && (rc = erased_by(s, h, author.member, &covered)) != 0)
        return rc;
    if (covered)
        return WW_OUTCOME_DUPLICATE;
    if ((rc = ww_log_replace(s, log, h->seq, it->raw, it->len)) != 0)
        return rc;
    it->stored = it->raw;
    it->stored_len = it->len;
    struct ww_body body;
    struct ww_event ev;
    event_init(&ev, &it->env, it->hash, &author);
    int readable = read_record(s, b, k, &ev, &body);
    if ((rc = materialise(s, b, k, &ev, readable)) != 0)
        return rc;
    return WW_OUTCOME_APPLIED;
}

static int take_over(struct ww_store *s, struct batch *b, struct item *it,
                     const struct ww_log_head *head, const uint8_t held[32], int *reason);
static int rederive(struct ww_store *s, struct batch *b, const uint8_t gid[16]);
static int apply_one(struct ww_store *s, struct batch *b, struct item *it, int *reason);

enum { USUAL = 100 }; /* kept_branch: no verdict, the usual rules decide */

/*
 * An event at or below the cut-off c of its author (a removed or retired device). What
 * stands of that log is the branch the cut-off keeps, the one whose event c has the hash
 * the cut-off names (PROTOCOL.md 6.3): no other event at c is taken, and once the kept event
 * is held no fork below it takes over. A replica that holds another branch when the kept
 * event comes drops its own from where it knows the two part (the first fork of it on
 * record), derives the group again, and takes the event on the usual terms.
 */
static int kept_branch(struct ww_store *s, struct batch *b, struct item *it,
                       const struct ww_devinfo *d, const struct ww_log_head *head, int *reason)
{
    const struct ww_header *h = &it->env.h;
    uint8_t held[32];
    int rc = 0, cut = 0;
    if (h->seq < d->cutoff) {
        if (head->seq >= d->cutoff && ww_log_hash_at(s, head->log, d->cutoff, held, NULL, &rc) &&
            sodium_memcmp(held, d->pin, 32) == 0)
            return WW_OUTCOME_FORK;
        return rc ? rc : USUAL;
    }
    if (sodium_memcmp(it->hash, d->pin, 32) != 0)
        return WW_ENOTMEMBER; /* not the event its cut-off keeps */
    /* Another branch held: at c itself, or one that ends at c - 1 in another event. */
    if (h->seq > head->seq + 1 ||
        (h->seq == head->seq + 1 && (h->seq == 1 || !sodium_memcmp(head->hash, h->prev, 32))))
        return USUAL;
    uint64_t keep = 0;
    if ((rc = ww_pending_unfork(s, &b->counts, h->group, h->author, h->seq, &keep)) != 0 ||
        (rc = ww_log_cut(s, h->group, h->author, keep, UINT64_MAX, &cut)) != 0)
        return rc;
    if (!cut)
        return USUAL;
    return (rc = rederive(s, b, h->group)) != 0 ? rc : apply_one(s, b, it, reason);
}

/* Checks and stores one event: a WW_OUTCOME_* (>= 0) or a negative WW_E* reason. */
static int apply_one(struct ww_store *s, struct batch *b, struct item *it, int *reason)
{
    const struct ww_header *h = &it->env.h;
    uint8_t held[32];
    int rc = 0, covered = 0;

    /* Nothing is looked at, let alone kept, without a signature that vouches for it. The
     * store keys events by log << 40 | seq and keeps hlc as a signed 64-bit integer. */
    if (!it->sig_ok)
        return WW_EBADSIG;
    if (h->seq > WW_SEQ_MASK || h->hlc > (uint64_t)INT64_MAX)
        return WW_ERANGE;

    /* The chain: seq follows the author's stored head, prev is its hash, time moves on.
     * At or below the head the event is held already, or it is a fork. */
    struct ww_log_head head;
    if ((rc = author_head(s, b, h->group, h->author, &head)) != 0)
        return rc;
    if (h->seq <= head.seq) {
        size_t held_len = 0;
        if (!ww_log_hash_at(s, head.log, h->seq, held, &held_len, &rc))
            return rc ? rc : WW_ECORRUPT; /* the log has a hole: never written by us */
        if (sodium_memcmp(held, it->hash, 32) == 0)
            return !it->env.erased && held_len < it->len ? restore(s, b, it, head.log)
                                                         : WW_OUTCOME_DUPLICATE;
        if ((rc = ww_cache_load(s, h->group)) != 0)
            return rc;
        const struct ww_devinfo *d = ww_cache_device(s, h->author);
        int kept = d && h->seq <= d->cutoff ? kept_branch(s, b, it, d, &head, reason) : USUAL;
        if (kept != USUAL && kept != WW_OUTCOME_FORK)
            return kept;
        /* Two events claim this seq: every replica keeps the one with the lower hash. Each
         * take-over derives the group again, so an author gets WW_MAX_FORKS of them; after
         * that, what is held stays. */
        if (kept == USUAL && memcmp(it->hash, held, 32) < 0) {
            int room = ww_pending_fork_room(s, h->group, h->author);
            if (room < 0)
                return room;
            if (room && (rc = take_over(s, b, it, &head, held, reason)) != WW_OUTCOME_FORK)
                return rc;
        }
        rc = ww_pending_fork(s, h, it->hash, it->raw, it->len, held);
        return rc ? rc : WW_OUTCOME_FORK;
    }
    if ((rc = ww_cache_load(s, h->group)) != 0)
        return rc;
    /* An event from far in the future waits until it is due (below): applying it now would
     * put it after everything written until then. One that would not be due before its row
     * in pending expires never can be: it is refused rather than kept, whatever else it
     * waits for. */
    int64_t ahead = (int64_t)(h->hlc >> 16) - ww_store_now_ms(s);
    if (ahead > WW_MAX_SKEW_MS &&
        ahead - WW_MAX_SKEW_MS >= (stranger(s, h) ? WW_PENDING_STRANGER_TTL_MS : WW_PENDING_TTL_MS))
        return WW_ERANGE;
    if (h->kind != WW_KIND_GROUP_CREATE && !ww_cache_cur(s)->exists)
        return defer(s, b, it, *reason = WW_EGROUP);
    /* A removal's limits are final: what they refuse never waits, not even for a gap. */
    const struct ww_devinfo *was = ww_cache_device(s, h->author);
    if (was &&
        (h->seq > was->cutoff || h->epoch >= was->removed_epoch || h->hlc > was->removed_hlc))
        return WW_ENOTMEMBER; /* written after its member was removed */
    if (was && h->seq == was->cutoff && (rc = kept_branch(s, b, it, was, &head, reason)) != USUAL)
        return rc;
    if (head.seq + 1 < h->seq)
        return defer(s, b, it, *reason = WW_ECHAIN); /* an earlier event is missing */
    /* An event that follows another event than the one held at seq - 1 is on another
     * branch of a fork: it waits, since the event it follows may still win (take_over). */
    if (h->seq > 1 && sodium_memcmp(head.hash, h->prev, 32) != 0)
        return defer(s, b, it, *reason = WW_ECHAIN);
    if (h->seq > 1 && h->hlc <= head.hlc)
        return WW_ECHAIN;
    if (ahead > WW_MAX_SKEW_MS)
        return defer(s, b, it, *reason = WW_ERANGE);

    const struct ww_kind_rule *k = ww_kind_rule(h->kind);
    struct ww_devinfo author;
    struct ww_body body;
    struct ww_event ev;
    event_init(&ev, &it->env, it->hash, &author);
    int readable = 0;

    if (h->kind == WW_KIND_GROUP_CREATE) {
        /* The group's first event: no member, no key, nothing to defer. */
        if (ww_cache_cur(s)->exists || h->seq != 1 || h->audience != WW_AUD_PLAIN ||
            h->epoch != 0 || h->ref_len != 0)
            return ww_cache_cur(s)->exists ? WW_EEXIST : WW_EINVAL;
        if (it->env.erased)
            return WW_EINVAL;
        if ((rc = ww_body_decode(h->kind, it->env.body.p, it->env.body.len, &body)) != 0)
            return rc;
        ev.body = &body;
        if ((rc = k->check(s, &ev)) != 0)
            return rc;
        memset(&author, 0, sizeof author);
        author.role = WW_ROLE_COACH;
        readable = 1;
    } else {
        const struct ww_devinfo *dev = ww_cache_device(s, h->author);
        /* An owner.recover comes from one of the coach's other devices, or is the first
         * event of a device new to the group: its recovery signature, not a membership,
         * lets that one in (kind_control.c). */
        struct ww_devinfo fresh;
        if (h->kind == WW_KIND_OWNER_RECOVER && dev && !ww_cache_may_own(s, dev))
            return WW_EEXIST; /* of the group already, and not one of the coach's */
        if (h->kind == WW_KIND_OWNER_RECOVER && !dev) {
            memset(&fresh, 0, sizeof fresh);
            memcpy(fresh.device, h->author, 32);
            fresh.role = WW_ROLE_COACH;
            fresh.removed_epoch = UINT32_MAX;
            fresh.removed_hlc = UINT64_MAX;
            fresh.cutoff = UINT64_MAX;
            dev = &fresh;
        }
        if (!dev)
            return defer(s, b, it, *reason = WW_ENOTMEMBER);
        if (h->epoch > ww_cache_cur(s)->epoch)
            return defer(s, b, it, *reason = WW_EEPOCH);
        if (h->kind == 0)
            return WW_EUNKNOWN;
        author = *dev; /* the cache may be reloaded below */
        if (k && (rc = check_header(s, k, h, &author)) != 0)
            return rc == WW_ENOTMEMBER ? defer(s, b, it, *reason = rc) : rc;
        if (k && k->erasable && ww_cache_cur(s)->has_erasures &&
            (rc = erased_by(s, h, author.member, &covered)) != 0)
            return rc;

        /* Read and check the body when this device can. A PLAIN body must decode and follow
         * the rules. An encrypted body that this device cannot open, or that does not check
         * out once opened, is kept unread, exactly as on every device without its key: all
         * replicas hold the same events, whatever keys they hold. A kind this version does
         * not know is kept and forwarded, not interpreted. */
        if (k && !it->env.erased) {
            if (h->audience == WW_AUD_PLAIN) {
                if ((rc = ww_body_decode(h->kind, it->env.body.p, it->env.body.len, &body)) != 0)
                    return rc;
                ev.body = &body;
                if (k->check && (rc = k->check(s, &ev)) != 0)
                    return rc == WW_ENOTMEMBER ? defer(s, b, it, *reason = rc) : rc;
                readable = 1;
            } else {
                readable = read_record(s, b, k, &ev, &body);
            }
        }
        if (k && h->audience == WW_AUD_PLAIN && !readable)
            return WW_EINVAL; /* the control plane is never erased or opaque */
    }

    if (k && !covered && (readable || !it->env.erased) &&
        (rc = materialise(s, b, k, &ev, readable)) != 0)
        return rc;

    it->stored = it->raw;
    it->stored_len = it->len;
    if (covered && !it->env.erased) {
        struct ww_envelope e = it->env;
        e.erased = 1;
        e.body.p = NULL;
        e.body.len = 0;
        ww_buf_reset(&b->out);
        if ((rc = ww_envelope_encode(&e, &b->out)) != 0)
            return rc;
        it->stored = b->out.p;
        it->stored_len = b->out.len;
    }
    if ((rc = ww_log_append(s, &head, h, it->hash, it->stored, it->stored_len)) != 0)
        return rc;
    set_head(b, h, &head);
    ww_hlc_observe(s, h->hlc);
    if (ev.rederive && (rc = rederive(s, b, h->group)) != 0)
        return rc;
    return WW_OUTCOME_APPLIED;
}

/* ---- This device's own events on a losing branch (lost.c) ------------------------------- */

/* Adds one of our events to the batch's lost ones (once). */
static int lose(struct batch *b, const uint8_t *raw, size_t len, const uint8_t hash[32])
{
    return b->keep_lost ? ww_lost_add(&b->lost, raw, len, hash) : 0;
}

/*
 * Whether an event of ours that waits for its predecessor follows another event at seq - 1
 * than the one we hold there: 1 when so, 0 when not, or a failure. Our peers send an
 * author's events in seq order, so the event where its branch parts from ours came before
 * it and did not take over: the branch lost, and the event can never be placed.
 */
static int off_branch(struct ww_store *s, struct batch *b, const struct ww_header *h)
{
    struct ww_log_head head;
    uint8_t at[32];
    int rc = 0;
    if (ww_lost_has(b->lost, h->prev))
        return 1;
    if (h->seq < 2 || (rc = author_head(s, b, h->group, h->author, &head)) != 0 ||
        h->seq - 1 > head.seq)
        return rc;
    if (h->seq - 1 == head.seq)
        memcpy(at, head.hash, 32);
    else if (!ww_log_hash_at(s, head.log, h->seq - 1, at, NULL, &rc))
        return rc;
    return memcmp(at, h->prev, 32) != 0;
}

/* ---- Batches -------------------------------------------------------------------------- */

/* Decodes, hashes and verifies a batch: one signature per run of linked events. */
static void prepare(struct item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct item *it = &items[i];
        it->next = -1;
        if (it->rc != 0)
            continue;
        it->rc = ww_envelope_decode(it->raw, it->len, &it->env);
        if (it->rc != 0)
            continue;
        /* Fields after the body are outside the signature: a forwarder could attach
         * anything there, and every replica would spread it. Extensions belong in the
         * signed header or body. */
        if (it->env.ext.n > 0) {
            it->rc = WW_ETRAILING;
            continue;
        }
        if (!it->env.erased) {
            uint8_t ct[32];
            ww_ct_hash(it->env.body.p, it->env.body.len, ct);
            if (sodium_memcmp(ct, it->env.ct_hash, 32) != 0) {
                it->rc = WW_EBADHASH;
                continue;
            }
        }
        ww_event_hash(&it->env.header_bytes, it->env.ct_hash, it->env.sig, it->hash);
        /* Link to the previous event of the same author in this batch. */
        for (size_t j = i; j-- > 0;) {
            struct item *p = &items[j];
            if (p->rc != 0 || p->next >= 0 || p->env.h.seq + 1 != it->env.h.seq ||
                memcmp(p->env.h.author, it->env.h.author, 32) != 0 ||
                memcmp(p->env.h.group, it->env.h.group, 16) != 0)
                continue;
            if (!memcmp(p->hash, it->env.h.prev, 32)) {
                p->next = (int)i;
                it->has_prev = 1;
            }
            break;
        }
    }
    /* Verify the last event of each run; a good signature vouches for the whole run.
     * A bad one means the run cannot be trusted as a whole: verify its events one by one. */
    for (size_t i = 0; i < n; i++) {
        struct item *it = &items[i];
        if (it->rc != 0 || it->has_prev)
            continue; /* not the start of a run */
        size_t last = i;
        while (items[last].next >= 0)
            last = (size_t)items[last].next;
        if (ww_sig_verify(&items[last].env) == 0) {
            for (int k = (int)i; k >= 0; k = items[k].next)
                items[k].sig_ok = 1;
        } else {
            for (int k = (int)i; k >= 0; k = items[k].next)
                items[k].sig_ok = ww_sig_verify(&items[k].env) == 0;
        }
    }
}

/* Bytes that do not make a valid, authentic event: what a well-behaved peer never sends. */
static int malformed(int rc)
{
    return rc == WW_ETOOBIG || rc == WW_ETRUNC || rc == WW_ETYPE || rc == WW_ENONCANON ||
           rc == WW_EUTF8 || rc == WW_EDEPTH || rc == WW_ETRAILING || rc == WW_EVERSION ||
           rc == WW_EBADHASH || rc == WW_EBADSIG;
}

static void report(struct batch *b, const struct item *it, size_t index, int outcome, int reason)
{
    if (!b->cb)
        return;
    struct ww_outcome o;
    memset(&o, 0, sizeof o);
    o.index = index;
    o.outcome = outcome;
    o.reason = reason;
    o.again = outcome == WW_OUTCOME_DEFERRED && b->again;
    o.event = outcome == WW_OUTCOME_APPLIED ? it->stored : it->raw;
    o.len = outcome == WW_OUTCOME_APPLIED ? it->stored_len : it->len;
    if (it->env.header_bytes.p) {
        o.group = it->env.h.group;
        o.author = it->env.h.author;
        o.seq = it->env.h.seq;
        o.kind = it->env.h.kind;
        o.hash = it->hash;
    }
    b->cb(b->ud, &o);
}

static int apply_items(struct ww_store *s, struct batch *b, struct item *items, size_t n,
                       struct ww_apply_result *res, int released)
{
    prepare(items, n);
    for (size_t i = 0; i < n; i++) {
        struct item *it = &items[i];
        int reason = 0;
        b->again = 0;
        int rc = it->rc != 0 ? it->rc : apply_one(s, b, it, &reason);
        size_t index = released ? WW_OUTCOME_RELEASED : i;
        if (rc < 0 && ww_store_failure(rc))
            return rc; /* the store failed, not the event: abandon the batch */
        /* An event of ours that another branch holds the place of, or one that follows
         * such an event: lost to the group unless written again. */
        if (b->keep_lost && it->rc == 0 && !memcmp(it->env.h.author, s->pk, 32) &&
            (rc == WW_OUTCOME_FORK || (rc == WW_OUTCOME_DEFERRED && reason == WW_ECHAIN))) {
            int lrc = rc == WW_OUTCOME_FORK ? 1 : off_branch(s, b, &it->env.h);
            if (lrc > 0)
                lrc = lose(b, it->raw, it->len, it->hash);
            if (lrc < 0)
                return lrc;
        }
        switch (rc) {
        case WW_OUTCOME_APPLIED:
            res->accepted++;
            break;
        case WW_OUTCOME_DUPLICATE:
            res->duplicates++;
            break;
        case WW_OUTCOME_DEFERRED:
            res->deferred++;
            break;
        case WW_OUTCOME_FORK:
            res->forks++;
            break;
        default:
            reason = rc;
            rc = malformed(rc) ? WW_OUTCOME_MALFORMED : WW_OUTCOME_REJECTED;
            res->rejected++;
            if (!res->first_error) {
                res->first_error = reason;
                res->first_error_index = i;
            }
            break;
        }
        /* A released event that waits again is no news: it was reported when it came. */
        if (!(released && rc == WW_OUTCOME_DEFERRED))
            report(b, it, index, rc, reason);
    }
    return 0;
}

/* ---- Forks --------------------------------------------------------------------------- */

/* What is materialised per group, derived from its log alone; the author's own climate
 * answers (written when it answered, never readable from the log) stay. */
static const char *const materialised[] = {
    "DELETE FROM groups WHERE gid=?1",         "DELETE FROM members WHERE gid=?1",
    "DELETE FROM devices WHERE gid=?1",        "DELETE FROM challenges WHERE gid=?1",
    "DELETE FROM schedule WHERE gid=?1",       "DELETE FROM days_off WHERE gid=?1",
    "DELETE FROM reflections WHERE gid=?1",    "DELETE FROM climate WHERE gid=?1 AND author<>?2",
    "DELETE FROM reactions WHERE gid=?1",      "DELETE FROM reaction_dels WHERE gid=?1",
    "DELETE FROM signals WHERE gid=?1",        "DELETE FROM signal_states WHERE gid=?1",
    "DELETE FROM signoffs WHERE gid=?1",       "DELETE FROM erasures WHERE gid=?1",
    "DELETE FROM sync_reports WHERE gid=?1",   "DELETE FROM sync_held WHERE gid=?1",
    "DELETE FROM group_climates WHERE gid=?1", "DELETE FROM climate_shares WHERE gid=?1",
    "DELETE FROM invites WHERE gid=?1",        "DELETE FROM device_invites WHERE gid=?1",
    "DELETE FROM group_hubs WHERE gid=?1",     "DELETE FROM recoveries WHERE gid=?1",
    "DELETE FROM keys WHERE gid=?1",
};

/* Events a replay applied without their body, as (author, seq), in the order applied. */
struct bodiless {
    size_t n, cap;
    struct bodiless_at {
        uint8_t author[32];
        uint64_t seq;
    } * at;
    int rc;
};

static void note_bodiless(void *ud, const struct ww_outcome *o)
{
    struct bodiless *l = ud;
    struct ww_envelope env;
    if (o->outcome != WW_OUTCOME_APPLIED || !o->author || l->rc != 0 ||
        ww_envelope_decode(o->event, o->len, &env) != 0 || !env.erased)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct bodiless_at *at = ww_realloc(l->at, cap * sizeof *at);
        if (!at) {
            l->rc = WW_ENOMEM;
            return;
        }
        l->at = at;
        l->cap = cap;
    }
    memcpy(l->at[l->n].author, o->author, 32);
    l->at[l->n++].seq = o->seq;
}

static int by_author_seq(const void *x, const void *y)
{
    const struct bodiless_at *a = x, *b = y;
    int c = memcmp(a->author, b->author, 32);
    return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

/* Cuts an author's log from seq on, unless a control event (PLAIN) follows: who is a
 * member and which keys hold must not change until a sync brings the events back. The
 * events cut that have their body wait in pending for the events before them (what finds
 * no room there, a peer sends again). 1 when cut, 0 when not, or a failure. */
static int cut_below(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32],
                     uint64_t seq)
{
    struct ww_log_head head;
    struct ww_pending_counts counts;
    memset(&counts, 0, sizeof counts);
    struct ww_buf raw;
    ww_buf_init(&raw, WW_MAX_EVENT);
    int rc = ww_log_head(s, gid, author, &head), control = 0;
    /* A first pass looks for a control event; a second keeps aside what has a body. */
    for (int keep = 0; rc == 0 && !control && keep < 2; keep++)
        for (uint64_t q = seq + 1; rc == 0 && !control && q <= head.seq; q++) {
            struct ww_envelope env;
            if ((rc = ww_log_get(s, gid, author, q, &raw)) != 0 ||
                ww_envelope_decode(raw.p, raw.len, &env) != 0)
                continue;
            control = env.h.audience == WW_AUD_PLAIN;
            if (!keep || env.erased)
                continue;
            rc = ww_pending_defer(s, &counts, &env.h, raw.p, raw.len, WW_ECHAIN, 0);
            if (rc == 1 || rc == WW_ECHAIN)
                rc = 0; /* waits already, or no room */
        }
    ww_buf_free(&raw);
    if (rc != 0 || control)
        return rc;
    return (rc = ww_log_truncate(s, head.log, seq)) != 0 ? rc : 1;
}

/*
 * An event held without its body that no erasure covers any more (the erasure left the log:
 * cut off by a recovery or a removal, or on a branch that lost a fork) would stay so for
 * good: it counts as held, so no sync brings the intact copy that other replicas hold. Its
 * author's log is cut just below it (cut_below), so that the next sync brings it again, and
 * restore() takes the intact copy. 1 when a log was cut, 0 when none, or a failure.
 */
static int cut_bodiless(struct ww_store *s, const uint8_t gid[16], struct bodiless *l)
{
    if (l->n == 0)
        return 0;
    qsort(l->at, l->n, sizeof *l->at, by_author_seq);
    struct ww_buf raw;
    ww_buf_init(&raw, WW_MAX_EVENT);
    int rc = ww_cache_load(s, gid), cut = 0;
    const uint8_t *done = NULL; /* the last author decided: its later events are left alone */
    for (size_t i = 0; rc == 0 && i < l->n; i++) {
        const struct bodiless_at *at = &l->at[i];
        struct ww_envelope env;
        if (done && !memcmp(done, at->author, 32))
            continue;
        if ((rc = ww_log_get(s, gid, at->author, at->seq, &raw)) != 0) {
            if (rc == WW_ENOTFOUND)
                rc = 0; /* left the log later in the replay (a removal's cut-off) */
            continue;
        }
        if (ww_envelope_decode(raw.p, raw.len, &env) != 0)
            continue;
        const struct ww_kind_rule *k = ww_kind_rule(env.h.kind);
        const struct ww_devinfo *dev = ww_cache_device(s, at->author);
        int covered = 0;
        if (!k || !k->erasable || !dev)
            continue; /* no intact copy would be taken (restore) */
        uint8_t member[16];
        memcpy(member, dev->member, 16);
        if ((rc = erased_by(s, &env.h, member, &covered)) != 0 || covered)
            continue;
        if ((rc = cut_below(s, gid, at->author, at->seq)) > 0) {
            rc = 0;
            cut = 1;
        }
        done = at->author; /* cut, or kept as it is since a control event follows */
    }
    ww_buf_free(&raw);
    return rc ? rc : cut;
}

/*
 * Derives the group's state again from the events it holds, as a replica that received
 * just these would: its log and materialised rows are emptied, and its events applied
 * again, oldest hlc first, in pages (an event that now lacks its cause waits in pending).
 * The keys come again from the key events that are still held: a key whose event left
 * (a thief's epoch, cut off by a recovery) is gone. Materialised state depends only on the
 * set of events, so this is how an event leaves that set. The events applied without their
 * body are noted in *l.
 */
static int replay(struct ww_store *s, const uint8_t gid[16], struct bodiless *l)
{
    int rc = ww_log_take_group(s, gid);
    for (size_t i = 0; rc == 0 && i < sizeof materialised / sizeof materialised[0]; i++) {
        sqlite3_stmt *st = ww_sql(s, materialised[i]);
        if (!st)
            return ww_sql_failed(s);
        ww_bind_blob(st, 1, gid, 16);
        ww_bind_blob(st, 2, s->pk, 32);
        rc = ww_sql_done(s, st);
    }
    s->generation++; /* every cached group is stale */
    struct batch *b = ww_calloc(1, sizeof *b);
    struct item *items = ww_calloc(WW_MAX_BATCH, sizeof *items);
    uint8_t **raws = ww_calloc(WW_MAX_BATCH, sizeof *raws);
    size_t *lens = ww_calloc(WW_MAX_BATCH, sizeof *lens);
    if (rc == 0 && !(b && items && raws && lens))
        rc = WW_ENOMEM;
    if (b) {
        b->cb = note_bodiless;
        b->ud = l;
        ww_buf_init(&b->pt, WW_MAX_BODY);
        ww_buf_init(&b->out, WW_MAX_EVENT);
    }
    for (int64_t after = 0; rc == 0;) {
        size_t n = 0;
        if ((rc = ww_log_take_page(s, &after, raws, lens, WW_MAX_BATCH, &n)) != 0 || n == 0)
            break;
        memset(items, 0, n * sizeof *items);
        for (size_t i = 0; i < n; i++) {
            items[i].raw = raws[i];
            items[i].len = lens[i];
        }
        struct ww_apply_result res;
        memset(&res, 0, sizeof res);
        rc = apply_items(s, b, items, n, &res, 0);
        for (size_t i = 0; i < n; i++)
            ww_free(raws[i]);
        if (rc == 0)
            rc = l->rc;
    }
    if (b) {
        ww_buf_free(&b->pt);
        ww_buf_free(&b->out);
    }
    ww_free(lens);
    ww_free(raws);
    ww_free(items);
    ww_free(b);
    return rc;
}

/* Replays the group's events (replay) until no bodiless event is left that an intact copy
 * could repair (cut_bodiless): each cut makes the log shorter, so this ends. */
static int rebuild(struct ww_store *s, const uint8_t gid[16])
{
    int rc;
    do {
        struct bodiless l;
        memset(&l, 0, sizeof l);
        rc = replay(s, gid, &l);
        if (rc == 0)
            rc = cut_bodiless(s, gid, &l);
        ww_free(l.at);
    } while (rc == 1);
    return rc;
}

/* Derives the group again after events left its log (a removal cut them off); what the
 * batch knew of its logs is stale, and deferred events may now apply. */
static int rederive(struct ww_store *s, struct batch *b, const uint8_t gid[16])
{
    int rc = rebuild(s, gid);
    b->n_heads = 0;
    b->counts.loaded = 0;
    b->control = 1;
    return rc;
}

/*
 * An event with a lower hash than the held event of its (author, seq): the held one and
 * the rest of its branch give way, the held one is kept as evidence of the fork, and the
 * group's state is derived again without them; then the event is applied in their place.
 * All of it in a savepoint: if the event is not applied after all, nothing changed and it
 * is a fork like any other (WW_OUTCOME_FORK), or it waits (deferred) and tries again.
 */
static int take_over(struct ww_store *s, struct batch *b, struct item *it,
                     const struct ww_log_head *head, const uint8_t held[32], int *reason)
{
    const struct ww_header *h = &it->env.h;
    /* An event that follows another event at seq - 1 than ours is not where its branch
     * parts from ours but further along it: after the take-over it would wait for its
     * predecessor all the same, so it waits now, without deriving the group again for
     * nothing (a resent branch brings many such events, 9.3). */
    uint8_t before[32];
    int rc = 0;
    if (h->seq > 1 && ww_log_hash_at(s, head->log, h->seq - 1, before, NULL, &rc) &&
        sodium_memcmp(before, h->prev, 32) != 0)
        return (rc = ww_cache_load(s, h->group)) != 0 ? rc : defer(s, b, it, *reason = WW_ECHAIN);
    if (rc != 0 || (rc = ww_db_begin(s)) != 0)
        return rc;
    struct ww_buf raw;
    ww_buf_init(&raw, WW_MAX_EVENT);
    struct ww_envelope loser;
    size_t had_lost = ww_lost_count(b->lost);
    if ((rc = ww_log_get(s, h->group, h->author, h->seq, &raw)) == 0 &&
        (rc = ww_envelope_decode(raw.p, raw.len, &loser)) == 0)
        rc = ww_pending_fork(s, &loser.h, held, raw.p, raw.len, it->hash);
    /* Our own branch gives way: what it holds is written again after the batch. */
    for (uint64_t q = h->seq;
         rc == 0 && b->keep_lost && !memcmp(h->author, s->pk, 32) && q <= head->seq; q++) {
        uint8_t hash[32];
        if (!ww_log_hash_at(s, head->log, q, hash, NULL, &rc))
            rc = rc ? rc : WW_ECORRUPT;
        else if ((rc = ww_log_get(s, h->group, h->author, q, &raw)) == 0)
            rc = lose(b, raw.p, raw.len, hash);
    }
    if (rc == 0)
        rc = ww_log_truncate(s, head->log, h->seq);
    if (rc == 0)
        rc = rebuild(s, h->group);
    ww_buf_free(&raw);
    b->n_heads = 0; /* the group's logs are numbered anew */
    b->counts.loaded = 0;
    int out = rc != 0 ? rc : apply_one(s, b, it, reason);
    if (out == WW_OUTCOME_APPLIED) {
        b->control = 1;
        rc = ww_db_commit(s);
        return rc ? rc : out;
    }
    ww_db_rollback(s);
    ww_lost_trim(b->lost, had_lost);
    b->n_heads = 0;
    b->counts.loaded = 0;
    if (out < 0 && ww_store_failure(out))
        return out;
    return out == WW_OUTCOME_DEFERRED ? defer(s, b, it, *reason) : WW_OUTCOME_FORK;
}

/* 1 when deferred events may have become applicable without a control event: the authors
 * of this batch filled a gap, or events from the future are now due. */
static int pending_due(struct ww_store *s, struct batch *b)
{
    for (size_t i = 0; i < b->n_heads; i++) {
        int rc = ww_pending_waits(s, b->heads[i].gid, b->heads[i].author);
        if (rc != 0)
            return rc;
    }
    return ww_pending_due(s, ww_store_now_ms(s) + WW_MAX_SKEW_MS);
}

/* Orders a page of released events causally: by hlc, then author, then seq. */
static void sort_causal(struct item *items, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0; j--) {
            const struct ww_header *x = &items[j - 1].env.h, *y = &items[j].env.h;
            int c = memcmp(x->author, y->author, 32);
            if (!(x->hlc > y->hlc || (x->hlc == y->hlc && (c > 0 || (c == 0 && x->seq > y->seq)))))
                break;
            struct item t = items[j - 1];
            items[j - 1] = items[j];
            items[j] = t;
        }
    }
}

/* Retries the deferred events, pass after pass until a pass applies nothing. A pass takes
 * only the rows that existed when it began (row ids up to `upto`), in pages, so an event
 * deferred again during the pass (it gets a new row id) waits for the next pass: every
 * pass ends, and a pass with no progress ends the retry. */
static int retry_pending(struct ww_store *s, struct batch *b, struct ww_apply_result *res)
{
    struct item *items = ww_calloc(WW_MAX_BATCH, sizeof *items);
    uint8_t **raws = ww_calloc(WW_MAX_BATCH, sizeof *raws);
    size_t *lens = ww_calloc(WW_MAX_BATCH, sizeof *lens);
    int rc = items && raws && lens ? 0 : WW_ENOMEM;
    size_t deferred = res->deferred;
    if (rc == 0)
        rc = ww_pending_expire(s);
    for (int progress = 1; rc == 0 && progress;) {
        progress = 0;
        int64_t upto = 0, after = 0;
        if ((rc = ww_pending_last(s, &upto)) != 0)
            break;
        b->counts.loaded = 0; /* rows leave the table as they are taken */
        while (rc == 0 && after < upto) {
            size_t n = 0, before = res->accepted;
            if ((rc = ww_pending_take(s, &after, upto, raws, lens, WW_MAX_BATCH, &n)) != 0 ||
                n == 0)
                break;
            for (size_t i = 0; i < n; i++) {
                memset(&items[i], 0, sizeof items[i]);
                items[i].raw = raws[i];
                items[i].len = lens[i];
                items[i].rc = ww_envelope_decode(raws[i], lens[i], &items[i].env);
            }
            sort_causal(items, n);
            for (size_t i = 0; i < n; i++)
                items[i].rc = 0; /* prepare decodes again, after the sort */
            rc = apply_items(s, b, items, n, res, 1);
            for (size_t i = 0; i < n; i++)
                ww_free(raws[i]);
            if (res->accepted > before)
                progress = 1;
        }
    }
    res->deferred = deferred;
    ww_free(lens);
    ww_free(raws);
    ww_free(items);
    return rc;
}

int ww_apply_batch(struct ww_store *s, const uint8_t *const *events, const size_t *lens, size_t n,
                   struct ww_apply_result *res, size_t *primary_accepted, ww_outcome_cb cb,
                   void *ud)
{
    memset(res, 0, sizeof *res);
    if (n > WW_MAX_BATCH)
        return WW_ETOOBIG;
    struct batch *b = ww_calloc(1, sizeof *b);
    struct item *items = ww_calloc(n ? n : 1, sizeof *items);
    int rc = b && items ? 0 : WW_ENOMEM;
    if (rc == 0) {
        b->cb = cb;
        b->ud = ud;
        b->keep_lost = 1;
        ww_buf_init(&b->pt, WW_MAX_BODY);
        ww_buf_init(&b->out, WW_MAX_EVENT);
        for (size_t i = 0; i < n; i++) {
            items[i].raw = events[i];
            items[i].len = lens[i];
            if (lens[i] > WW_MAX_EVENT)
                items[i].rc = WW_ETOOBIG;
        }
        rc = apply_items(s, b, items, n, res, 0);
        if (primary_accepted)
            *primary_accepted = res->accepted;
        if (rc == 0 && res->accepted && (b->control || (rc = pending_due(s, b)) > 0))
            rc = retry_pending(s, b, res);
        if (rc == 0 && b->lost)
            rc = ww_lost_rewrite(s, b->lost, res);
        ww_lost_free(b->lost);
        ww_buf_free(&b->pt);
        ww_buf_free(&b->out);
    }
    ww_free(items);
    ww_free(b);
    return rc;
}

/* ---- Keys that arrive late ----------------------------------------------------------- */

struct unread {
    struct ww_store *s;
    struct batch *b;
};

static int reread(void *ud, const uint8_t *raw, size_t len, const uint8_t hash[32])
{
    struct unread *u = ud;
    struct ww_store *s = u->s;
    struct ww_envelope env;
    if (ww_envelope_decode(raw, len, &env) != 0 || env.erased)
        return 0;
    const struct ww_kind_rule *k = ww_kind_rule(env.h.kind);
    const struct ww_devinfo *dev = ww_cache_device(s, env.h.author);
    if (!k || !dev)
        return 0;
    struct ww_devinfo author = *dev;
    struct ww_body body;
    struct ww_event ev;
    event_init(&ev, &env, hash, &author);
    if (!read_record(s, u->b, k, &ev, &body))
        return 0; /* stays unreadable, as on every replica */
    int covered = 0, rc = 0;
    if (k->erasable && ww_cache_cur(s)->has_erasures &&
        (rc = erased_by(s, &env.h, author.member, &covered)) != 0)
        return rc;
    return covered ? 0 : materialise(s, u->b, k, &ev, 1);
}

int ww_apply_unread(struct ww_store *s, const uint8_t gid[16], uint8_t audience,
                    const uint8_t subject[16], uint32_t epoch)
{
    static const uint8_t zero[16];
    int rc = ww_cache_load(s, gid);
    if (rc != 0)
        return rc;
    struct batch *b = ww_calloc(1, sizeof *b);
    if (!b)
        return WW_ENOMEM;
    ww_buf_init(&b->pt, WW_MAX_BODY);
    ww_buf_init(&b->out, WW_MAX_EVENT);
    struct unread u = {s, b};
    rc =
        ww_log_each(s, gid, audience, audience == WW_AUD_GROUP ? zero : subject, epoch, reread, &u);
    ww_buf_free(&b->pt);
    ww_buf_free(&b->out);
    ww_free(b);
    return rc;
}

/* ---- The read side ------------------------------------------------------------------- */

int ww_read_body(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32], uint64_t seq,
                 struct ww_buf *pt, struct ww_body *body)
{
    int rc = ww_cache_load(s, gid);
    if (rc != 0)
        return rc;
    struct ww_buf raw;
    ww_buf_init(&raw, WW_MAX_EVENT);
    struct ww_envelope env;
    if ((rc = ww_log_get(s, gid, author, seq, &raw)) == 0 &&
        (rc = ww_envelope_decode(raw.p, raw.len, &env)) == 0)
        rc = env.erased ? WW_ENOKEY : ww_keyring_open(s, &env, pt);
    if (rc == 0)
        rc = ww_body_decode(env.h.kind, pt->p, pt->len, body);
    ww_buf_free(&raw);
    return rc;
}
