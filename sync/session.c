/*
 * session.c - the sync exchange as a state machine (session.h).
 */
#include <string.h>

#include "alloc.h"
#include "proto.h"
#include "session.h"

struct ww_session_group {
    uint8_t gid[WW_ID_LEN];
    int we_opened; /* our VV went out */
    int got_vv;    /* the peer's VV came in */
    /* The peer's vector raised by every event sent to it or received from it: what we
     * send next starts above it. */
    struct ww_vv_item *sent;
    size_t n_sent, cap_sent;
    size_t in_flight; /* batches sent and not yet acknowledged */
    int blocked;      /* pump stopped at the window or at backed-up output: there may be more */
    int expect;       /* the peer holds events we lack: batches are coming */
    /* The peer's vector as its VV said: once we hold all of it (from this session or any
     * other way), nothing more is owed to us, whatever its batches said about `more`. */
    struct ww_vv_item *had;
    size_t n_had;
    /* Once all it was sent is acknowledged: events of this device's own logs the peer's
     * vector still lacks. It did not take them: they wait there for their time (a clock
     * ahead), or were refused. */
    uint64_t not_taken;
    /* Authors whose branch of a fork we sent back to the peer (9.5): once each. */
    uint8_t (*resent)[WW_KEY_LEN];
    size_t n_resent;
};

/* Room in the group's `sent` for need entries (at most WW_MAX_VV): vectors hold a few
 * authors, so they are sized to what they hold, which keeps an idle connection small. */
static int reserve_sent(struct ww_session_group *g, size_t need)
{
    if (need > WW_MAX_VV)
        need = WW_MAX_VV;
    if (need <= g->cap_sent)
        return 0;
    size_t cap = g->cap_sent ? g->cap_sent : 4;
    while (cap < need)
        cap *= 2;
    if (cap > WW_MAX_VV)
        cap = WW_MAX_VV;
    struct ww_vv_item *v = ww_realloc(g->sent, cap * sizeof *v);
    if (!v)
        return WW_ENOMEM;
    g->sent = v;
    g->cap_sent = cap;
    return 0;
}

static void group_free(struct ww_session_group *g)
{
    if (!g)
        return;
    ww_free(g->sent);
    ww_free(g->had);
    ww_free(g->resent);
    ww_free(g);
}

static int update_expect(struct ww_session *ss, struct ww_session_group *g);

static int fail(struct ww_session *ss, int rc, const char *why)
{
    if (!ss->failed) {
        ss->failed = rc ? rc : WW_ESTATE;
        ss->reason = why;
    }
    return ss->failed;
}

int ww_session_init(struct ww_session *ss, const struct ww_session_cfg *cfg, int64_t now_ms)
{
    if (!ss || !cfg || !cfg->store || !cfg->send)
        return WW_EINVAL;
    memset(ss, 0, sizeof *ss);
    ss->cfg = *cfg;
    if (!ss->cfg.max_batch_events || ss->cfg.max_batch_events > WW_MAX_BATCH)
        ss->cfg.max_batch_events = WW_MAX_BATCH;
    /* Room for the frame's own bytes around the events. */
    size_t room = WW_MAX_FRAME - 4096;
    if (!ss->cfg.max_batch_bytes || ss->cfg.max_batch_bytes > room)
        ss->cfg.max_batch_bytes = room;
    if (!ss->cfg.window)
        ss->cfg.window = WW_SESSION_WINDOW;
    ss->reason = "";
    ss->last_rx_ms = now_ms;
    return 0;
}

void ww_session_close(struct ww_session *ss)
{
    if (!ss)
        return;
    for (size_t i = 0; i < ss->n_groups; i++)
        group_free(ss->groups[i]);
    ss->n_groups = 0;
}

static struct ww_session_group *find(const struct ww_session *ss, const uint8_t *gid)
{
    for (size_t i = 0; i < ss->n_groups; i++)
        if (!memcmp(ss->groups[i]->gid, gid, WW_ID_LEN))
            return ss->groups[i];
    return NULL;
}

const uint8_t *ww_session_group(const struct ww_session *ss, size_t i)
{
    return i < ss->n_groups ? ss->groups[i]->gid : NULL;
}

int ww_session_has_group(const struct ww_session *ss, const uint8_t group[WW_ID_LEN])
{
    return find(ss, group) != NULL;
}

/* A new group of the session: 0, WW_ETOOBIG when the session holds as many groups as it
 * may, or WW_ENOMEM. */
static int add(struct ww_session *ss, const uint8_t *gid, struct ww_session_group **out)
{
    if (ss->n_groups == WW_SESSION_MAX_GROUPS)
        return WW_ETOOBIG;
    struct ww_session_group *g = ww_calloc(1, sizeof *g);
    if (!g)
        return WW_ENOMEM;
    memcpy(g->gid, gid, WW_ID_LEN);
    ss->groups[ss->n_groups++] = g;
    if (ss->cfg.grouped)
        ss->cfg.grouped(ss->cfg.ud, gid);
    *out = g;
    return 0;
}

static const char *add_failure(int rc)
{
    return rc == WW_ENOMEM ? "out of memory" : "too many groups in one session";
}

/* Encodes and sends one frame. */
static int send_frame(struct ww_session *ss, const struct ww_frame *f)
{
    struct ww_buf b;
    ww_buf_init(&b, WW_MAX_FRAME);
    int rc = ww_frame_encode(f, &b);
    if (rc == 0 && ss->cfg.send(ss->cfg.ud, b.p, b.len) != 0)
        rc = WW_EIO;
    ww_buf_free(&b);
    return rc ? fail(ss, rc, "cannot send a frame") : 0;
}

/* Our vector of a group, as a VV or ACK frame. */
static int send_vv(struct ww_session *ss, uint8_t type, const uint8_t *gid)
{
    struct ww_frame *f = ww_calloc(1, sizeof *f);
    if (!f)
        return fail(ss, WW_ENOMEM, "out of memory");
    f->type = type;
    memcpy(f->u.vv.group, gid, WW_ID_LEN);
    size_t n = 0;
    int rc = ww_sync_vv(ss->cfg.store, gid, f->u.vv.e, WW_MAX_VV, &n);
    if (rc == 0 && n > WW_MAX_VV)
        rc = WW_ETOOBIG; /* more authors than a frame carries: a group never has them */
    if (rc == 0) {
        f->u.vv.n = (uint32_t)n;
        rc = send_frame(ss, f);
    }
    ww_free(f);
    return rc ? fail(ss, rc, "cannot read the group's version vector") : 0;
}

int ww_session_open_group(struct ww_session *ss, const uint8_t group[WW_ID_LEN])
{
    if (ss->failed)
        return ss->failed;
    struct ww_session_group *g = find(ss, group);
    int rc = g ? 0 : add(ss, group, &g);
    if (rc != 0)
        return fail(ss, rc, add_failure(rc));
    if (g->we_opened)
        return 0;
    g->we_opened = 1;
    return send_vv(ss, WW_FRAME_VV, group);
}

/* The index of author's entry in the group's `sent`, or n_sent. */
static size_t sent_entry(const struct ww_session_group *g, const uint8_t *author)
{
    size_t k = 0;
    while (k < g->n_sent && memcmp(g->sent[k].author, author, WW_KEY_LEN) != 0)
        k++;
    return k;
}

/* Raises the group's `sent` to hold what vector e holds. An entry raised this way has no
 * tip: what the peer holds at its new seq is what it says it holds, never a reason to send
 * it a branch again (that happens once per author, from its VV or a fork, 9.3 and 9.5). */
static int raise_sent(struct ww_session_group *g, const struct ww_vv_item *e, size_t ne)
{
    for (size_t i = 0; i < ne; i++) {
        size_t k = sent_entry(g, e[i].author);
        if (k < g->n_sent) {
            if (e[i].seq > g->sent[k].seq) {
                g->sent[k].seq = e[i].seq;
                memset(g->sent[k].tip, 0, WW_TIP_LEN);
            }
        } else if (g->n_sent < WW_MAX_VV) {
            if (reserve_sent(g, g->n_sent + 1) != 0)
                return WW_ENOMEM;
            g->sent[g->n_sent] = e[i];
            memset(g->sent[g->n_sent++].tip, 0, WW_TIP_LEN);
        }
    }
    return 0;
}

/* Raises the group's `sent` to include one event the peer sent us: it holds that event. */
static int took(struct ww_session_group *g, const uint8_t *ev, size_t len)
{
    struct ww_envelope env;
    struct ww_vv_item e;
    int rc = ww_envelope_decode(ev, len, &env);
    if (rc != 0)
        return rc;
    memcpy(e.author, env.h.author, WW_KEY_LEN);
    e.seq = env.h.seq;
    return raise_sent(g, &e, 1);
}

/* Raises the group's `sent` to include one sealed event of the group we sent: at or below
 * the entry's seq (the resend of a fork), the next page goes on right after it. */
static void clear_tips(struct ww_session_group *g)
{
    for (size_t k = 0; k < g->n_sent; k++)
        memset(g->sent[k].tip, 0, WW_TIP_LEN);
}

static int advance_sent(struct ww_session_group *g, const uint8_t *ev, size_t len)
{
    int rc = reserve_sent(g, g->n_sent + 1);
    if (rc == 0)
        rc = ww_sync_vv_advance(g->gid, ev, len, g->sent, &g->n_sent, g->cap_sent);
    return rc;
}

/* The events collected for one batch: copies, since the store's rows move on. */
struct collect {
    struct ww_frame *f;
    uint8_t *copies[WW_MAX_BATCH];
    size_t lens[WW_MAX_BATCH];
    size_t n;
    int rc;
};

static void collect_cb(void *ud, const uint8_t *ev, size_t len)
{
    struct collect *c = ud;
    if (c->rc || c->n == WW_MAX_BATCH)
        return;
    uint8_t *p = ww_malloc(len);
    if (!p) {
        c->rc = WW_ENOMEM;
        return;
    }
    memcpy(p, ev, len);
    c->copies[c->n] = p;
    c->lens[c->n] = len;
    c->f->u.batch.ev[c->n].p = p;
    c->f->u.batch.ev[c->n].len = len;
    c->n++;
}

/* Rewrites the n events of f in their compact form, into one block (*out) that f's slices
 * then point into. A compact event is never longer than its envelope. */
static int compact_batch(const uint8_t *gid, struct ww_frame *f, size_t n, uint8_t **out)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += f->u.batch.ev[i].len;
    uint8_t *block = ww_malloc(total ? total : 1);
    if (!block)
        return WW_ENOMEM;
    struct ww_runs_state st;
    memset(&st, 0, sizeof st);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        int rc = ww_sync_compact(gid, f->u.batch.ev[i].p, f->u.batch.ev[i].len, &st, block + at,
                                 total - at, &len);
        if (rc != 0) {
            ww_free(block);
            return rc;
        }
        f->u.batch.ev[i].p = block + at;
        f->u.batch.ev[i].len = len;
        at += len;
    }
    *out = block;
    return 0;
}

/* Sends batches of what the peer lacks until caught up, the window is full or the
 * owner's output backs up. */
static int pump_group(struct ww_session *ss, struct ww_session_group *g)
{
    if (!g->got_vv)
        return 0; /* not before we know what the peer has */
    struct ww_frame *f = NULL;
    int rc = 0;
    for (;;) {
        if (g->in_flight >= ss->cfg.window || (ss->cfg.writable && !ss->cfg.writable(ss->cfg.ud))) {
            g->blocked = 1;
            break;
        }
        if (!f && !(f = ww_calloc(1, sizeof *f))) {
            rc = WW_ENOMEM;
            break;
        }
        memset(f, 0, sizeof *f);
        struct collect c = {.f = f};
        int more = 0;
        rc = ww_sync_missing(ss->cfg.store, g->gid, g->sent, g->n_sent, ss->cfg.max_batch_events,
                             ss->cfg.max_batch_bytes, collect_cb, &c, &more);
        /* Each tip is looked at once (9.3): a live session pumps after every batch of the
         * group, and the checks would cost a log lookup per author each time. */
        clear_tips(g);
        if (rc == 0)
            rc = c.rc;
        uint8_t *compact = NULL;
        if (rc == 0 && c.n > 0 && (ss->cfg.peer_caps & WW_CAP_COMPACT))
            rc = compact_batch(g->gid, f, c.n, &compact);
        if (rc == 0 && c.n > 0) {
            f->type = compact ? WW_FRAME_RUNS : WW_FRAME_BATCH;
            memcpy(f->u.batch.group, g->gid, WW_ID_LEN);
            f->u.batch.n = (uint32_t)c.n;
            f->u.batch.more = (uint8_t)(more != 0);
            rc = send_frame(ss, f);
            for (size_t i = 0; rc == 0 && i < c.n; i++)
                rc = advance_sent(g, c.copies[i], c.lens[i]);
            if (rc == 0) {
                g->in_flight++;
                ss->batches_sent++;
                ss->events_sent += c.n;
            }
        }
        ww_free(compact);
        for (size_t i = 0; i < c.n; i++)
            ww_free(c.copies[i]);
        if (rc != 0 || c.n == 0 || !more) {
            g->blocked = 0;
            break;
        }
    }
    ww_free(f);
    return rc ? fail(ss, rc, "cannot send the events the peer lacks") : 0;
}

int ww_session_pump(struct ww_session *ss, const uint8_t *group)
{
    if (ss->failed)
        return ss->failed;
    for (size_t i = 0; i < ss->n_groups; i++) {
        if (group && memcmp(ss->groups[i]->gid, group, WW_ID_LEN) != 0)
            continue;
        /* The store may have changed under us: what we expected may have come otherwise. */
        if (ss->groups[i]->expect && update_expect(ss, ss->groups[i]) != 0)
            return ss->failed;
        int rc = pump_group(ss, ss->groups[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int ww_session_resume(struct ww_session *ss)
{
    if (ss->failed)
        return ss->failed;
    for (size_t i = 0; i < ss->n_groups; i++) {
        int rc = ss->groups[i]->blocked ? pump_group(ss, ss->groups[i]) : 0;
        if (rc != 0)
            return rc;
    }
    return 0;
}

int ww_session_send_error(struct ww_session *ss, int wire_code, const char *text)
{
    struct ww_frame f;
    memset(&f, 0, sizeof f);
    f.type = WW_FRAME_ERROR;
    f.u.error.code = (uint16_t)wire_code;
    f.u.error.text.p = (const uint8_t *)text;
    f.u.error.text.len = text ? strlen(text) : 0;
    if (f.u.error.text.len > WW_MAX_ERROR_TEXT)
        f.u.error.text.len = WW_MAX_ERROR_TEXT;
    struct ww_buf b;
    ww_buf_init(&b, WW_MAX_FRAME);
    int rc = ww_frame_encode(&f, &b);
    if (rc == 0)
        rc = ss->cfg.send(ss->cfg.ud, b.p, b.len) ? WW_EIO : 0;
    ww_buf_free(&b);
    return rc;
}

/* Whether the peer still holds events we lack, against what its VV said it had. */
static int update_expect(struct ww_session *ss, struct ww_session_group *g)
{
    struct ww_vv_item mine[WW_MAX_VV];
    size_t n_mine = 0;
    int rc = ww_sync_vv(ss->cfg.store, g->gid, mine, WW_MAX_VV, &n_mine);
    if (rc != 0)
        return fail(ss, rc, "cannot read the group's version vector");
    g->expect = 0;
    for (size_t i = 0; i < g->n_had && !g->expect; i++) {
        uint64_t have = 0;
        for (size_t k = 0; k < n_mine && k < WW_MAX_VV; k++)
            if (!memcmp(mine[k].author, g->had[i].author, WW_KEY_LEN))
                have = mine[k].seq;
        g->expect = g->had[i].seq > have;
    }
    return 0;
}

/* The peer's vector of a group: it starts (or restarts) what we send it. */
static int on_vv(struct ww_session *ss, const struct ww_frame *f)
{
    const uint8_t *gid = f->u.vv.group;
    struct ww_session_group *g = find(ss, gid);
    if (!g) {
        int rc = ss->cfg.may_sync ? ss->cfg.may_sync(ss->cfg.ud, gid) : 0;
        if (rc != 0) {
            ww_session_send_error(ss, WW_WIRE_DENIED, "not allowed to sync this group");
            return fail(ss, rc, "the peer may not sync this group");
        }
        if ((rc = add(ss, gid, &g)) != 0)
            return fail(ss, rc, add_failure(rc));
    }
    /* Does the peer hold anything we lack? Then its batches are coming. */
    ww_free(g->had);
    g->had = NULL;
    g->n_had = 0;
    if (f->u.vv.n) {
        if (!(g->had = ww_malloc(f->u.vv.n * sizeof *g->had)))
            return fail(ss, WW_ENOMEM, "out of memory");
        memcpy(g->had, f->u.vv.e, f->u.vv.n * sizeof *g->had);
        g->n_had = f->u.vv.n;
    }
    int rc = update_expect(ss, g);
    if (rc != 0)
        return rc;
    if (reserve_sent(g, f->u.vv.n) != 0)
        return fail(ss, WW_ENOMEM, "out of memory");
    if (f->u.vv.n)
        memcpy(g->sent, f->u.vv.e, f->u.vv.n * sizeof *g->sent);
    g->n_sent = f->u.vv.n;
    g->got_vv = 1;
    if (!g->we_opened) {
        g->we_opened = 1;
        if ((rc = send_vv(ss, WW_FRAME_VV, gid)) != 0)
            return rc;
    }
    return pump_group(ss, g);
}

struct applied {
    const uint8_t *gid;
    int any, control, malformed, released;
    size_t own_lost, rewritten; /* of ours that lost a fork; written again: news to the peer */
    /* For a quota: the batch's authors, the bytes each newly stored (applied or deferred),
     * and each event's author and cost (its bytes if newly stored, else 0). */
    size_t n_authors;
    struct {
        uint8_t key[WW_KEY_LEN];
        uint64_t bytes;
    } authors[WW_MAX_BATCH];
    uint16_t author_of[WW_MAX_BATCH];
    uint32_t cost[WW_MAX_BATCH];
    /* Forks of the batch whose held event stays (the peer's has the higher hash): per
     * author the lowest seq, and the tip of the peer's event before it (its prev). */
    size_t n_forks;
    struct ww_vv_item forks[WW_MAX_VV];
};

/* A fork the batch brought where our event stays: the peer holds the losing branch. */
static void note_fork(struct applied *a, const struct ww_outcome *o)
{
    struct ww_envelope env;
    if (!o->author || !o->event || ww_envelope_decode(o->event, o->len, &env) != 0)
        return;
    size_t k = 0;
    while (k < a->n_forks && memcmp(a->forks[k].author, o->author, WW_KEY_LEN) != 0)
        k++;
    if (k == a->n_forks) {
        if (k == WW_MAX_VV)
            return;
        memcpy(a->forks[k].author, o->author, WW_KEY_LEN);
        a->n_forks++;
    } else if (a->forks[k].seq <= o->seq) {
        return;
    }
    a->forks[k].seq = o->seq;
    memcpy(a->forks[k].tip, env.h.prev, WW_TIP_LEN);
}

/* The authors of a batch over their quota, and the room each had left: a batch keeps of
 * such an author only the events that fit, in the batch's order. */
struct over {
    size_t n;
    struct {
        uint8_t key[WW_KEY_LEN];
        uint64_t room;
    } a[WW_MAX_BATCH];
};

static void outcome_cb(void *ud, const struct ww_outcome *o)
{
    struct applied *a = ud;
    /* An event of another group than the batch names is as bad as a forged one: the
     * session was allowed this group only. */
    if (o->outcome == WW_OUTCOME_MALFORMED ||
        (o->index != WW_OUTCOME_RELEASED && (!o->group || memcmp(o->group, a->gid, WW_ID_LEN))))
        a->malformed = 1;
    if (o->index != WW_OUTCOME_RELEASED && o->author && o->index < WW_MAX_BATCH) {
        size_t k = 0;
        while (k < a->n_authors && memcmp(a->authors[k].key, o->author, WW_KEY_LEN))
            k++;
        if (k == a->n_authors) {
            memcpy(a->authors[k].key, o->author, WW_KEY_LEN);
            a->n_authors++;
        }
        a->author_of[o->index] = (uint16_t)k;
        if (o->outcome == WW_OUTCOME_APPLIED || (o->outcome == WW_OUTCOME_DEFERRED && !o->again)) {
            a->cost[o->index] = (uint32_t)o->len;
            a->authors[k].bytes += o->len;
        }
    }
    if (o->outcome == WW_OUTCOME_FORK && o->index != WW_OUTCOME_RELEASED)
        note_fork(a, o);
    if (o->outcome == WW_OUTCOME_APPLIED) {
        a->any = 1;
        if (o->index == WW_OUTCOME_RELEASED)
            a->released = 1;
        if (o->kind == WW_KIND_GROUP_CREATE || o->kind == WW_KIND_MEMBER_ADD ||
            o->kind == WW_KIND_MEMBER_REMOVE || o->kind == WW_KIND_DEVICE_ADD ||
            o->kind == WW_KIND_DEVICE_JOIN || o->kind == WW_KIND_KEY_EPOCH)
            a->control = 1;
    }
}

/* The entry of author in ov, or NULL. */
static uint64_t *over_room(struct over *ov, const uint8_t *author)
{
    for (size_t i = 0; i < ov->n; i++)
        if (!memcmp(ov->a[i].key, author, WW_KEY_LEN))
            return &ov->a[i].room;
    return NULL;
}

/* Applies events in the store's transaction (begun here) and, under a quota, charges each
 * author for what it newly stored. An author it would overflow goes into ov with the room
 * it has left, or, when it is there already, with none. Returns 1 when one did (the caller
 * rolls back), else the store's result. */
static int apply_charged(struct ww_session *ss, const uint8_t *const *evs, const size_t *lens,
                         size_t n, struct applied *a, struct over *ov)
{
    struct ww_store *s = ss->cfg.store;
    struct ww_apply_result res;
    int rc = ww_store_begin(s), over = 0;
    if (rc == 0)
        rc = ww_sync_apply_each(s, evs, lens, n, &res, outcome_cb, a);
    if (rc == 0) {
        a->own_lost = res.own_lost;
        a->rewritten = res.rewritten;
        a->any |= res.rewritten > 0;
    }
    for (size_t k = 0; rc == 0 && !a->malformed && ss->cfg.quota.per_day && k < a->n_authors; k++) {
        uint64_t room = 0, *had = over_room(ov, a->authors[k].key);
        /* An author left out before is charged even for nothing: its bucket then takes the
         * clock's time (quota.c). */
        if (!a->authors[k].bytes && !had)
            continue;
        rc =
            ww_quota_take(s, a->gid, a->authors[k].key, a->authors[k].bytes, &ss->cfg.quota, &room);
        if (rc != WW_EQUOTA)
            continue;
        rc = 0;
        over = 1;
        if (had) {
            *had = 0;
        } else {
            memcpy(ov->a[ov->n].key, a->authors[k].key, WW_KEY_LEN);
            ov->a[ov->n++].room = room;
        }
    }
    return rc == 0 && over ? 1 : rc;
}

/* Keeps of evs/lens (n of them, as a describes them) what fits: of each author in ov, its
 * events in order while their cost stays within its room. The count kept. */
static size_t keep_fitting(const uint8_t **evs, size_t *lens, size_t n, const struct applied *a,
                           struct over *ov)
{
    uint64_t spent[WW_MAX_BATCH] = {0};
    uint8_t full[WW_MAX_BATCH] = {0};
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        uint16_t k = a->author_of[i];
        const uint64_t *room = over_room(ov, a->authors[k].key);
        if (room && (full[k] || spent[k] + a->cost[i] > *room)) {
            full[k] = 1; /* and nothing after it, so the author's log has no gap here */
            continue;
        }
        spent[k] += a->cost[i];
        evs[kept] = evs[i];
        lens[kept++] = lens[i];
    }
    return kept;
}

/*
 * The forks of a batch where our event stays (PROTOCOL.md 9.5): the peer holds the losing
 * branch, and its vector may claim the seqs of ours, so nothing would ever take it over.
 * For each such author, once per session, `sent` goes back to just before the fork (the
 * tip of the peer's event there, so that a fork further down sends the whole log), and the
 * next pump sends the peer our branch. 1 when there is something to send, 0 when not, or
 * WW_ENOMEM.
 */
static int send_back(struct ww_session_group *g, const struct applied *a)
{
    int any = 0;
    for (size_t i = 0; i < a->n_forks; i++) {
        const struct ww_vv_item *fk = &a->forks[i];
        size_t r = 0;
        while (r < g->n_resent && memcmp(g->resent[r], fk->author, WW_KEY_LEN) != 0)
            r++;
        if (r < g->n_resent || g->n_resent == WW_MAX_VV)
            continue; /* once per author */
        if (!g->resent && !(g->resent = ww_malloc(WW_MAX_VV * sizeof *g->resent)))
            return WW_ENOMEM;
        memcpy(g->resent[g->n_resent++], fk->author, WW_KEY_LEN);
        size_t k = sent_entry(g, fk->author);
        if (k == g->n_sent)
            continue; /* the peer's vector never had it: pump sends it anyway */
        if (g->sent[k].seq < fk->seq)
            continue;
        g->sent[k].seq = fk->seq - 1;
        if (fk->seq > 1)
            memcpy(g->sent[k].tip, fk->tip, WW_TIP_LEN);
        else
            memset(g->sent[k].tip, 0, WW_TIP_LEN);
        any = 1;
    }
    return any;
}

/* A batch: applied in one transaction, acknowledged with our new vector. An event that is
 * not a valid, authentic event is a protocol violation: nothing of the batch is kept. Under
 * a quota (a hub's), the events of an author whose bucket would overflow are left out, the
 * rest is kept and acknowledged, and the session ends with ERROR QUOTA: the peer's next
 * sync tries again. */
static int on_batch(struct ww_session *ss, const struct ww_frame *f)
{
    const uint8_t *gid = f->u.batch.group;
    struct ww_session_group *g = find(ss, gid);
    if (!g || !g->got_vv) {
        ww_session_send_error(ss, WW_WIRE_PROTOCOL, "batch before vector");
        return fail(ss, WW_EINVAL, "a batch for a group whose vector did not come first");
    }
    const uint8_t *evs[WW_MAX_BATCH], *keep[WW_MAX_BATCH];
    size_t lens[WW_MAX_BATCH], keep_lens[WW_MAX_BATCH], n = f->u.batch.n;
    for (uint32_t i = 0; i < f->u.batch.n; i++) {
        keep[i] = evs[i] = f->u.batch.ev[i].p;
        keep_lens[i] = lens[i] = f->u.batch.ev[i].len;
    }
    struct ww_store *s = ss->cfg.store;
    struct applied a;
    struct over ov;
    ov.n = 0;
    int rc;
    /* A pass that finds an author over its quota leaves out what of it does not fit, and an
     * author over it again gets no room at all. Each such pass leaves out at least one event,
     * so this ends (leaving events out may let another author's event apply that did not,
     * so a pass can find a new author over). */
    for (;;) {
        memset(&a, 0, sizeof a);
        a.gid = gid;
        if ((rc = apply_charged(ss, keep, keep_lens, n, &a, &ov)) != 1)
            break;
        ww_store_rollback(s);
        n = keep_fitting(keep, keep_lens, n, &a, &ov);
    }
    if (rc == 0 && a.malformed) {
        ww_store_rollback(s);
        ww_session_send_error(ss, WW_WIRE_PROTOCOL, "invalid event in batch");
        return fail(ss, WW_EINVAL, "the peer sent an event that is not valid");
    }
    int denied = rc == 0 && ss->cfg.recheck_batches && ss->cfg.may_sync
                     ? ss->cfg.may_sync(ss->cfg.ud, gid)
                     : 0;
    /* A group this node may no longer serve: nothing of the batch stays. A peer that is no
     * longer a member after its own batch (it left, or relayed its removal) sent what the
     * rules let through while it was one: that stays, and the session ends after the ACK. */
    if (denied && denied != WW_ENOTMEMBER) {
        ww_store_rollback(s);
        ww_session_send_error(ss, WW_WIRE_DENIED, "not allowed to sync this group");
        return fail(ss, denied, "the peer may not sync this group");
    }
    if (rc == 0)
        rc = ww_store_commit(s);
    else
        ww_store_rollback(s);
    if (rc != 0) {
        /* Its disk full, or the store busy: the peer hears it, and syncs again later. */
        ww_session_send_error(ss, WW_WIRE_BUSY, "cannot store events now; try again later");
        return fail(ss, rc, "cannot store the peer's events");
    }
    ss->batches_received++;
    ss->events_received += n;
    ss->own_lost += a.own_lost;
    ss->rewritten += a.rewritten;
    /* The peer holds what it sent: never send it back. */
    for (uint32_t i = 0; i < f->u.batch.n; i++)
        took(g, evs[i], lens[i]);
    int resend = send_back(g, &a);
    if (resend < 0)
        return fail(ss, resend, "out of memory");
    if (!f->u.batch.more)
        g->expect = 0;
    else if ((rc = update_expect(ss, g)) != 0)
        return rc;
    if (a.any && ss->cfg.changed)
        ss->cfg.changed(ss->cfg.ud, gid, a.control);
    if ((rc = send_vv(ss, WW_FRAME_ACK, gid)) != 0)
        return rc;
    if (denied) {
        ww_session_send_error(ss, WW_WIRE_DENIED, "no longer a member of the group");
        return fail(ss, denied, "the peer is no longer a member of the group");
    }
    if (ov.n) {
        ww_session_send_error(ss, WW_WIRE_QUOTA, "an author of this batch is over its quota");
        return fail(ss, WW_EQUOTA, "an author of the peer's batch is over its quota");
    }
    /* Events the batch released from pending may be news to the peer (what it sent is
     * not: `sent` holds it already), and so is our branch of a fork. */
    return a.released || a.rewritten || resend ? pump_group(ss, g) : 0;
}

/* A batch of compact events: rebuilt exactly as signed, then taken as a batch. An event
 * that cannot be rebuilt is a protocol error, like a malformed one. */
static int on_runs(struct ww_session *ss, struct ww_frame *f)
{
    /* A rebuilt event adds back at most the elided fields. */
    size_t extra = WW_GROUP_ID_LEN + WW_PK_LEN + 2 * WW_HASH_LEN, total = 0;
    for (uint32_t i = 0; i < f->u.batch.n; i++)
        total += f->u.batch.ev[i].len + extra;
    uint8_t *block = ww_malloc(total ? total : 1);
    if (!block)
        return fail(ss, WW_ENOMEM, "out of memory");
    struct ww_runs_state st;
    memset(&st, 0, sizeof st);
    size_t at = 0;
    int rc = 0;
    for (uint32_t i = 0; i < f->u.batch.n && rc == 0; i++) {
        size_t len = 0;
        rc = ww_sync_expand(f->u.batch.group, f->u.batch.ev[i].p, f->u.batch.ev[i].len, &st,
                            block + at, total - at, &len);
        if (rc == 0) {
            f->u.batch.ev[i].p = block + at;
            f->u.batch.ev[i].len = len;
            at += len;
        }
    }
    if (rc != 0) {
        ww_free(block);
        ww_session_send_error(ss, WW_WIRE_PROTOCOL, "invalid event in batch");
        return fail(ss, rc, "the peer sent an event that cannot be rebuilt");
    }
    f->type = WW_FRAME_BATCH;
    rc = on_batch(ss, f);
    ww_free(block);
    return rc;
}

static int on_ack(struct ww_session *ss, const struct ww_frame *f)
{
    struct ww_session_group *g = find(ss, f->u.vv.group);
    if (!g || !g->got_vv || g->in_flight == 0) {
        ww_session_send_error(ss, WW_WIRE_PROTOCOL, "acknowledgement of nothing");
        return fail(ss, WW_EINVAL, "an acknowledgement of nothing sent");
    }
    g->in_flight--;
    if (g->in_flight == 0) {
        uint8_t me[WW_KEY_LEN];
        uint64_t sent = 0, taken = 0;
        ww_store_device(ss->cfg.store, me);
        for (size_t k = 0; k < g->n_sent; k++)
            if (!memcmp(g->sent[k].author, me, WW_KEY_LEN))
                sent = g->sent[k].seq;
        for (uint32_t k = 0; k < f->u.vv.n; k++)
            if (!memcmp(f->u.vv.e[k].author, me, WW_KEY_LEN))
                taken = f->u.vv.e[k].seq;
        g->not_taken = sent > taken ? sent - taken : 0;
    }
    if (raise_sent(g, f->u.vv.e, f->u.vv.n) != 0)
        return fail(ss, WW_ENOMEM, "out of memory");
    /* Only a group held back by the window has more to send now; news from elsewhere
     * comes with its own pump. */
    return g->blocked ? pump_group(ss, g) : 0;
}

uint64_t ww_session_not_taken(const struct ww_session *ss)
{
    uint64_t n = 0;
    for (size_t i = 0; i < ss->n_groups; i++)
        n += ss->groups[i]->not_taken;
    return n;
}

/* Our code for a wire error the peer sent, so the user learns why (a removed member is
 * told it is no longer a member, not that something failed). */
int ww_session_local_code(int code)
{
    switch (code) {
    case WW_WIRE_DENIED:
        return WW_EDENIED;
    case WW_WIRE_INVITE_USED:
        return WW_EUSED;
    case WW_WIRE_INVITE_EXPIRED:
        return WW_EEXPIRED;
    case WW_WIRE_INVITE_REVOKED:
        return WW_EREVOKED;
    case WW_WIRE_INVITE_UNKNOWN:
        return WW_ENOTFOUND;
    case WW_WIRE_VERSION:
        return WW_EVERSION;
    case WW_WIRE_AUTH:
        return WW_EAUTH;
    case WW_WIRE_LIMIT:
        return WW_ETOOBIG;
    case WW_WIRE_BUSY:
        return WW_EBUSY;
    case WW_WIRE_QUOTA:
        return WW_EQUOTA;
    case WW_WIRE_PROTOCOL:
        return WW_EINVAL;
    default:
        return WW_ESTATE;
    }
}

/* ---- Invites ---------------------------------------------------------------------------- */

int ww_session_wire_code(int rc)
{
    switch (rc) {
    case WW_EUSED:
        return WW_WIRE_INVITE_USED;
    case WW_EEXPIRED:
        return WW_WIRE_INVITE_EXPIRED;
    case WW_EREVOKED:
        return WW_WIRE_INVITE_REVOKED;
    case WW_ENOTFOUND:
    case WW_EBADSIG:
        return WW_WIRE_INVITE_UNKNOWN;
    case WW_EDENIED:
    case WW_EGROUP:
    case WW_ENOTMEMBER:
        return WW_WIRE_DENIED;
    default:
        return WW_WIRE_INTERNAL;
    }
}

/* A redemption's fields as a REDEEM (without group and device) or REDEMPTION frame. */
static int send_redemption(struct ww_session *ss, uint8_t type, const struct ww_redemption *r)
{
    struct ww_frame f;
    memset(&f, 0, sizeof f);
    f.type = type;
    if (type == WW_FRAME_REDEMPTION) {
        memcpy(f.u.redeem.group, r->group, WW_ID_LEN);
        memcpy(f.u.redeem.device, r->device, WW_KEY_LEN);
    }
    memcpy(f.u.redeem.invite, r->invite, WW_KEY_LEN);
    f.u.redeem.profile.p = r->profile;
    f.u.redeem.profile.len = r->profile_len;
    memcpy(f.u.redeem.sig, r->sig, sizeof f.u.redeem.sig);
    return send_frame(ss, &f);
}

int ww_session_send_redeem(struct ww_session *ss, const struct ww_redemption *r)
{
    return ss->failed ? ss->failed : send_redemption(ss, WW_FRAME_REDEEM, r);
}

int ww_session_send_redemption(struct ww_session *ss, const struct ww_redemption *r)
{
    return ss->failed ? ss->failed : send_redemption(ss, WW_FRAME_REDEMPTION, r);
}

int ww_session_send_redeemed(struct ww_session *ss, const uint8_t group[WW_ID_LEN],
                             const uint8_t invite[WW_KEY_LEN], int state)
{
    if (ss->failed)
        return ss->failed;
    struct ww_frame f;
    memset(&f, 0, sizeof f);
    f.type = WW_FRAME_REDEEMED;
    memcpy(f.u.redeemed.group, group, WW_ID_LEN);
    memcpy(f.u.redeemed.invite, invite, WW_KEY_LEN);
    f.u.redeemed.state = (uint8_t)state;
    if (ss->cfg.has_aggs) {
        f.u.redeemed.has_aggs = 1;
        memcpy(f.u.redeemed.aggs, ss->cfg.aggs, sizeof f.u.redeemed.aggs);
    }
    return send_frame(ss, &f);
}

int ww_session_send_frame(struct ww_session *ss, const struct ww_frame *f)
{
    return ss->failed ? ss->failed : send_frame(ss, f);
}

/* A redemption as the frame carries it (its profile sealed; the codec bounds its size). */
static void redemption_of(const struct ww_frame *f, struct ww_redemption *r)
{
    memset(r, 0, sizeof *r);
    memcpy(r->group, f->u.redeem.group, WW_ID_LEN);
    memcpy(r->device, f->u.redeem.device, WW_KEY_LEN);
    memcpy(r->invite, f->u.redeem.invite, WW_KEY_LEN);
    r->profile_len = f->u.redeem.profile.len;
    if (r->profile_len)
        memcpy(r->profile, f->u.redeem.profile.p, r->profile_len);
    memcpy(r->sig, f->u.redeem.sig, sizeof r->sig);
}

static int unexpected(struct ww_session *ss)
{
    ww_session_send_error(ss, WW_WIRE_PROTOCOL, "unexpected frame");
    return fail(ss, WW_EINVAL, "an unexpected frame type");
}

/* REDEEM, REDEEMED and REDEMPTION, each to its callback. */
static int on_invite_frame(struct ww_session *ss, const struct ww_frame *f)
{
    struct ww_redemption r;
    switch (f->type) {
    case WW_FRAME_REDEEM: {
        if (!ss->cfg.on_redeem)
            return unexpected(ss);
        redemption_of(f, &r);
        memcpy(r.device, ss->cfg.peer, WW_KEY_LEN); /* the proven peer, never a claim */
        int state = 0, rc = ss->cfg.on_redeem(ss->cfg.ud, &r, &state);
        if (rc == 0)
            return ww_session_send_redeemed(ss, r.group, r.invite, state);
        ww_session_send_error(ss, ww_session_wire_code(rc), ww_strerror_lang(rc, WW_LANG_EN));
        return fail(ss, rc, "the invite cannot be redeemed");
    }
    case WW_FRAME_REDEEMED:
        if (!ss->cfg.on_redeemed)
            return unexpected(ss);
        if (f->u.redeemed.has_aggs && ss->cfg.on_aggs)
            ss->cfg.on_aggs(ss->cfg.ud, f->u.redeemed.group, f->u.redeemed.aggs);
        ss->cfg.on_redeemed(ss->cfg.ud, f->u.redeemed.group, f->u.redeemed.invite,
                            f->u.redeemed.state);
        return ss->failed;
    default: /* REDEMPTION */
        if (!ss->cfg.on_redemption)
            return unexpected(ss);
        redemption_of(f, &r);
        ss->cfg.on_redemption(ss->cfg.ud, &r);
        return ss->failed;
    }
}

int ww_session_on_frame(struct ww_session *ss, const uint8_t *frame, size_t len, int64_t now_ms)
{
    if (ss->failed)
        return ss->failed;
    ss->last_rx_ms = now_ms;
    struct ww_frame *f = ww_calloc(1, sizeof *f);
    if (!f)
        return fail(ss, WW_ENOMEM, "out of memory");
    int rc = ww_frame_decode(frame, len, f);
    if (rc != 0) {
        ww_free(f);
        ww_session_send_error(ss, WW_WIRE_PROTOCOL, "malformed frame");
        return fail(ss, rc, "a malformed frame");
    }
    switch (f->type) {
    case WW_FRAME_VV:
        rc = on_vv(ss, f);
        break;
    case WW_FRAME_BATCH:
        rc = on_batch(ss, f);
        break;
    case WW_FRAME_RUNS:
        rc = on_runs(ss, f);
        break;
    case WW_FRAME_ACK:
        rc = on_ack(ss, f);
        break;
    case WW_FRAME_PING:
        f->type = WW_FRAME_PONG;
        rc = send_frame(ss, f);
        break;
    case WW_FRAME_PONG:
        if (f->u.ping.nonce == ss->ping_nonce)
            ss->ping_out = 0;
        break;
    case WW_FRAME_REDEEM:
    case WW_FRAME_REDEEMED:
    case WW_FRAME_REDEMPTION:
        rc = on_invite_frame(ss, f);
        break;
    case WW_FRAME_AGG_GET:
    case WW_FRAME_AGG_SHARES:
    case WW_FRAME_AGG_GATE:
    case WW_FRAME_AGG_RELEASE:
        if (!ss->cfg.on_agg)
            rc = unexpected(ss);
        else if ((rc = ss->cfg.on_agg(ss->cfg.ud, f)) != 0 && !ss->failed)
            rc = fail(ss, rc, "a climate exchange failed");
        break;
    case WW_FRAME_ERROR:
        ss->peer_error = f->u.error.code ? f->u.error.code : WW_WIRE_INTERNAL;
        rc = fail(ss, ww_session_local_code(ss->peer_error),
                  "the peer ended the session with an error");
        break;
    default:
        /* Handshake frames have no place in a session. */
        rc = unexpected(ss);
        break;
    }
    ww_free(f);
    return rc;
}

int ww_session_tick(struct ww_session *ss, int64_t now_ms, int64_t idle_ms, int64_t dead_ms)
{
    if (ss->failed)
        return ss->failed;
    int64_t quiet = now_ms - ss->last_rx_ms;
    if (quiet >= dead_ms)
        return fail(ss, WW_EIO, "the peer went silent");
    if (quiet >= idle_ms && !ss->ping_out) {
        struct ww_frame f;
        memset(&f, 0, sizeof f);
        f.type = WW_FRAME_PING;
        f.u.ping.nonce = ++ss->ping_nonce;
        ss->ping_out = 1;
        return send_frame(ss, &f);
    }
    return 0;
}

int ww_session_idle(const struct ww_session *ss)
{
    if (ss->failed)
        return 0;
    for (size_t i = 0; i < ss->n_groups; i++) {
        const struct ww_session_group *g = ss->groups[i];
        if (!g->we_opened || !g->got_vv || g->in_flight || g->blocked || g->expect)
            return 0;
    }
    return 1;
}
