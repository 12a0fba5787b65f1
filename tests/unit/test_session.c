/*
 * test_session.c - the sync exchange between two stores, in memory: catch-up both ways,
 * live pushes, paging through a small window, denial, and a peer that sends what it must not.
 */
#include <string.h>

#include "alloc.h"
#include "fixture.h"
#include "proto.h"
#include "runner.h"
#include "session.h"

/* Frames in flight from one side to the other, in order. */
struct pipe {
    uint8_t *frame[4096];
    size_t len[4096];
    size_t head, tail;
};

struct side {
    struct ww_session ss;
    struct pipe out; /* what this side sent */
    int deny;        /* may_sync refuses */
    int changed;     /* batches applied */
};

static int send_cb(void *ud, const uint8_t *frame, size_t len)
{
    struct side *sd = ud;
    ASSERT_LT(sd->out.tail, 4096);
    uint8_t *p = ww_malloc(len);
    ASSERT(p != NULL);
    memcpy(p, frame, len);
    sd->out.frame[sd->out.tail] = p;
    sd->out.len[sd->out.tail++] = len;
    return 0;
}

static int may_sync_cb(void *ud, const uint8_t group[WW_ID_LEN])
{
    (void)group;
    return ((struct side *)ud)->deny ? WW_ENOTMEMBER : 0;
}

static void changed_cb(void *ud, const uint8_t group[WW_ID_LEN], int control)
{
    (void)group;
    (void)control;
    ((struct side *)ud)->changed++;
}

static uint32_t peer_caps; /* what each side is told the other offers */

static void side_init(struct side *sd, struct ww_store *s, struct ww_store *peer, size_t batch,
                      size_t window)
{
    memset(sd, 0, sizeof *sd);
    struct ww_session_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = s;
    ww_store_device(peer, cfg.peer);
    cfg.max_batch_events = batch;
    cfg.window = window;
    cfg.peer_caps = peer_caps;
    cfg.ud = sd;
    cfg.send = send_cb;
    cfg.may_sync = may_sync_cb;
    cfg.changed = changed_cb;
    ASSERT_OK(ww_session_init(&sd->ss, &cfg, 0));
}

static void side_free(struct side *sd)
{
    while (sd->out.head < sd->out.tail)
        ww_free(sd->out.frame[sd->out.head++]);
    ww_session_close(&sd->ss);
}

/* Delivers frames both ways until neither side has anything to say; returns frames moved. */
static size_t wire_bytes;

static size_t run(struct side *a, struct side *b)
{
    size_t moved = 0;
    for (int progress = 1; progress;) {
        progress = 0;
        struct side *from[2] = {a, b}, *to[2] = {b, a};
        for (int k = 0; k < 2; k++) {
            while (from[k]->out.head < from[k]->out.tail) {
                size_t i = from[k]->out.head++;
                wire_bytes += from[k]->out.len[i];
                ww_session_on_frame(&to[k]->ss, from[k]->out.frame[i], from[k]->out.len[i], 1);
                ww_free(from[k]->out.frame[i]);
                moved++;
                progress = 1;
            }
        }
    }
    return moved;
}

static void same_state(struct ww_store *x, struct ww_store *y)
{
    uint8_t a[32], b[32];
    fx_digest(x, a);
    fx_digest(y, b);
    ASSERT_MEM_EQ(a, b, 32);
}

TEST(session_catches_up_both_ways_then_stays_live)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    /* Both write while apart. */
    for (uint32_t i = 0; i < 20; i++) {
        ASSERT_OK(ww_day_off(g.st[0], g.gid, d + i, 1, NULL));
        ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, d + i, "W02", NULL));
    }
    struct side coach, student;
    side_init(&coach, g.coach, g.st[0], 0, 0);
    side_init(&student, g.st[0], g.coach, 0, 0);
    ASSERT_OK(ww_session_open_group(&student.ss, g.gid));
    run(&student, &coach);
    ASSERT_OK(student.ss.failed);
    ASSERT_OK(coach.ss.failed);
    ASSERT(ww_session_idle(&student.ss));
    ASSERT(ww_session_idle(&coach.ss));
    same_state(g.coach, g.st[0]);
    ASSERT_GT(student.changed, 0);
    ASSERT_GT(coach.changed, 0);

    /* Live: a write on one side reaches the other with one pump, nothing more. */
    uint64_t before = coach.ss.events_sent;
    ASSERT_OK(ww_day_off(g.st[0], g.gid, d + 30, 1, NULL));
    ASSERT_OK(ww_session_pump(&student.ss, g.gid));
    ASSERT(!ww_session_idle(&student.ss)); /* a batch is in flight */
    run(&student, &coach);
    ASSERT(ww_session_idle(&student.ss));
    same_state(g.coach, g.st[0]);
    ASSERT_EQ(coach.ss.events_sent, before); /* nothing echoed back */
    side_free(&coach);
    side_free(&student);
    fx_group_close(&g);
}

TEST(session_pages_through_a_small_window)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    for (uint32_t i = 0; i < 50; i++)
        ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, d + i, "W03", NULL));
    struct ww_store *fresh = fx_open_db("coach", "fresh.db");
    struct side coach, other;
    side_init(&coach, g.coach, fresh, 3, 1);
    side_init(&other, fresh, g.coach, 3, 1);
    ASSERT_OK(ww_session_open_group(&other.ss, g.gid));
    run(&other, &coach);
    ASSERT_OK(other.ss.failed);
    ASSERT(ww_session_idle(&other.ss) && ww_session_idle(&coach.ss));
    ASSERT_GT(coach.ss.batches_sent, 16); /* 50+ events, 3 a batch, one at a time */
    same_state(g.coach, fresh);
    side_free(&coach);
    side_free(&other);
    ww_store_close(fresh);
    fx_group_close(&g);
}

TEST(session_denies_a_group_with_an_error_and_sends_nothing_of_it)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    struct ww_store *x = fx_open("x");
    struct side coach, stranger;
    side_init(&coach, g.coach, x, 0, 0);
    side_init(&stranger, x, g.coach, 0, 0);
    coach.deny = 1;
    ASSERT_OK(ww_session_open_group(&stranger.ss, g.gid));
    run(&stranger, &coach);
    ASSERT_ERR(coach.ss.failed, WW_ENOTMEMBER);
    ASSERT_EQ(stranger.ss.peer_error, WW_WIRE_DENIED);
    ASSERT_EQ(coach.ss.events_sent, 0);
    ASSERT_EQ(fx_count(x, "SELECT count(*) FROM events"), 0);
    side_free(&coach);
    side_free(&stranger);
    ww_store_close(x);
    fx_group_close(&g);
}

/* A hub's side of REDEEM: what it was asked, and its answer. */
static struct ww_redemption seen;
static int redeem_answer;

static int redeem_cb(void *ud, struct ww_redemption *r, int *state)
{
    (void)ud;
    seen = *r;
    memset(r->group, 0x42, WW_ID_LEN);
    *state = WW_REDEEM_WAITING;
    return redeem_answer;
}

static int redeemed_state;
static void redeemed_cb(void *ud, const uint8_t group[WW_ID_LEN], const uint8_t invite[32],
                        int state)
{
    (void)ud;
    (void)group;
    (void)invite;
    redeemed_state = state;
}

/* REDEEM reaches the hub's callback with the channel's proven peer as the device, whatever
 * the frame says; the hub's refusal comes back as the invite's own error; and a side that
 * takes no redemptions treats REDEEM as a protocol error. */
TEST(session_redeem_frames)
{
    struct ww_store *dev = fx_open("dev"), *hub = fx_open("hub");
    struct side d, h;
    side_init(&d, dev, hub, 0, 0);
    side_init(&h, hub, dev, 0, 0);
    h.ss.cfg.on_redeem = redeem_cb;
    d.ss.cfg.on_redeemed = redeemed_cb;
    struct ww_redemption r;
    memset(&r, 0, sizeof r);
    memset(r.device, 0x77, 32); /* not sent: the hub takes the channel's peer */
    memset(r.invite, 0x90, 32);
    memset(r.sig, 0xa0, 64);
    r.profile_len = WW_SEAL_OVERHEAD + 2 + 4; /* sealed: year, track and "Nina" */
    memset(r.profile, 0x5a, r.profile_len);
    ASSERT_OK(ww_session_send_redeem(&d.ss, &r));
    run(&d, &h);
    uint8_t dev_pk[32];
    ww_store_device(dev, dev_pk);
    ASSERT_MEM_EQ(seen.device, dev_pk, 32);
    ASSERT_MEM_EQ(seen.invite, r.invite, 32);
    ASSERT_EQ(seen.profile_len, r.profile_len);
    ASSERT_MEM_EQ(seen.profile, r.profile, r.profile_len);
    ASSERT(seen.alias == NULL); /* the hub is told no name */
    ASSERT_EQ(redeemed_state, WW_REDEEM_WAITING);
    ASSERT_OK(h.ss.failed);
    redeem_answer = WW_EUSED;
    ASSERT_OK(ww_session_send_redeem(&d.ss, &r));
    run(&d, &h);
    ASSERT_ERR(h.ss.failed, WW_EUSED);
    ASSERT_EQ(d.ss.peer_error, WW_WIRE_INVITE_USED);
    ASSERT_ERR(d.ss.failed, WW_EUSED);
    side_free(&d);
    side_free(&h);
    /* To a side without on_redeem (a device, not a hub). */
    side_init(&d, dev, hub, 0, 0);
    side_init(&h, hub, dev, 0, 0);
    ASSERT_OK(ww_session_send_redeem(&d.ss, &r));
    run(&d, &h);
    ASSERT_ERR(h.ss.failed, WW_EINVAL);
    ASSERT_EQ(d.ss.peer_error, WW_WIRE_PROTOCOL);
    side_free(&d);
    side_free(&h);
    ww_store_close(dev);
    ww_store_close(hub);
}

/* A batch with one event of another group: nothing of it is kept, the session fails. */
TEST(session_refuses_a_batch_that_smuggles_another_group)
{
    struct fx_group g, h;
    fx_group_make(&g, 1, 0, NULL);
    fx_group_make(&h, 1, 0, NULL);
    struct ww_store *fresh = fx_open_db("coach", "fresh.db");
    struct side rx;
    side_init(&rx, fresh, g.coach, 0, 0);
    /* The receiver opened g and got an (empty) vector back. */
    ASSERT_OK(ww_session_open_group(&rx.ss, g.gid));
    struct ww_frame *f = ww_calloc(1, sizeof *f);
    f->type = WW_FRAME_VV;
    memcpy(f->u.vv.group, g.gid, 16);
    struct ww_buf b;
    ww_buf_init(&b, WW_MAX_FRAME);
    ASSERT_OK(ww_frame_encode(f, &b));
    ASSERT_OK(ww_session_on_frame(&rx.ss, b.p, b.len, 1));
    /* A batch of g's events with one of h's inside. */
    struct fx_bag bg = {.n = 0}, bh = {.n = 0};
    int more = 0;
    ASSERT_OK(ww_sync_missing(g.coach, g.gid, NULL, 0, 4, 1u << 20, fx_bag_add, &bg, &more));
    ASSERT_OK(ww_sync_missing(h.coach, h.gid, NULL, 0, 1, 1u << 20, fx_bag_add, &bh, &more));
    memset(f, 0, sizeof *f);
    f->type = WW_FRAME_BATCH;
    memcpy(f->u.batch.group, g.gid, 16);
    for (size_t i = 0; i < bg.n; i++)
        f->u.batch.ev[f->u.batch.n++] = (struct ww_slice){bg.raw[i], bg.len[i]};
    f->u.batch.ev[f->u.batch.n++] = (struct ww_slice){bh.raw[0], bh.len[0]};
    ww_buf_reset(&b);
    ASSERT_OK(ww_frame_encode(f, &b));
    ASSERT(ww_session_on_frame(&rx.ss, b.p, b.len, 2) != 0);
    ASSERT(rx.ss.failed != 0);
    ASSERT_EQ(fx_count(fresh, "SELECT count(*) FROM events"), 0);
    ASSERT_EQ(fx_count(fresh, "SELECT count(*) FROM pending"), 0);
    ww_buf_free(&b);
    ww_free(f);
    fx_bag_free(&bg);
    fx_bag_free(&bh);
    side_free(&rx);
    ww_store_close(fresh);
    fx_group_close(&h);
    fx_group_close(&g);
}

TEST(session_pings_and_gives_up_on_silence)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    struct side a, b;
    side_init(&a, g.coach, g.st[0], 0, 0);
    side_init(&b, g.st[0], g.coach, 0, 0);
    ASSERT_OK(ww_session_tick(&a.ss, 10, 30000, 90000)); /* not yet */
    ASSERT_EQ(a.out.tail, 0);
    ASSERT_OK(ww_session_tick(&a.ss, 30000, 30000, 90000));
    ASSERT_EQ(a.out.tail, 1); /* a PING */
    run(&a, &b);              /* b answers PONG */
    ASSERT_EQ(a.ss.ping_out, 0);
    ASSERT_ERR(ww_session_tick(&b.ss, 200000, 30000, 90000), WW_EIO);
    side_free(&a);
    side_free(&b);
    fx_group_close(&g);
}

/* The same catch-up with compact events: the state is identical, every event stored as
 * signed, and the frames are smaller. */
static size_t catch_up_bytes(uint32_t caps, uint8_t digest[32])
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    for (uint32_t i = 0; i < 30; i++) {
        ASSERT_OK(ww_day_off(g.st[0], g.gid, d + i, 1, NULL));
        ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, d + i, "W05", NULL));
    }
    struct ww_store *fresh = fx_open_db("coach", "fresh.db");
    peer_caps = caps;
    struct side coach, other;
    fx_sync(g.st[0], g.coach, g.gid, 256);
    side_init(&coach, g.coach, fresh, 0, 0);
    side_init(&other, fresh, g.coach, 0, 0);
    ASSERT_OK(ww_session_open_group(&other.ss, g.gid));
    wire_bytes = 0;
    run(&other, &coach);
    ASSERT_OK(coach.ss.failed);
    ASSERT_OK(other.ss.failed);
    same_state(g.coach, fresh);
    /* Stored exactly as signed: the raw events are the same bytes on both. */
    ASSERT_EQ(fx_count(fresh, "SELECT count(*) FROM events"),
              fx_count(g.coach, "SELECT count(*) FROM events"));
    struct fx_bag a = {.n = 0}, b = {.n = 0};
    int more = 0;
    ASSERT_OK(ww_sync_missing(g.coach, g.gid, NULL, 0, 256, 1u << 20, fx_bag_add, &a, &more));
    ASSERT_OK(ww_sync_missing(fresh, g.gid, NULL, 0, 256, 1u << 20, fx_bag_add, &b, &more));
    ASSERT_EQ(a.n, b.n);
    for (size_t i = 0; i < a.n; i++) {
        ASSERT_EQ(a.len[i], b.len[i]);
        ASSERT_MEM_EQ(a.raw[i], b.raw[i], a.len[i]);
    }
    fx_digest(fresh, digest);
    fx_bag_free(&a);
    fx_bag_free(&b);
    size_t bytes = wire_bytes;
    side_free(&coach);
    side_free(&other);
    ww_store_close(fresh);
    fx_group_close(&g);
    peer_caps = 0;
    return bytes;
}

TEST(session_compact_runs_store_events_as_signed)
{
    uint8_t d1[32], d2[32];
    size_t full = catch_up_bytes(0, d1);
    size_t compact = catch_up_bytes(WW_CAP_COMPACT, d2);
    ASSERT_LT(compact, full);
    ASSERT_LT(compact * 100, full * 85); /* group, author, prev and ct_hash stay home */
}

/* Compact and expand: the frame's events come back byte for byte; what cannot be rebuilt
 * is refused. */
TEST(session_compact_expand_roundtrip_and_refusals)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    struct fx_bag a = {.n = 0};
    int more = 0;
    ASSERT_OK(ww_sync_missing(g.coach, g.gid, NULL, 0, 256, 1u << 20, fx_bag_add, &a, &more));
    ASSERT_GT(a.n, 3);
    static uint8_t small[256][WW_MAX_EVENT / 8];
    size_t slen[256];
    struct ww_runs_state tx, rx;
    memset(&tx, 0, sizeof tx);
    memset(&rx, 0, sizeof rx);
    for (size_t i = 0; i < a.n; i++) {
        ASSERT_OK(
            ww_sync_compact(g.gid, a.raw[i], a.len[i], &tx, small[i], sizeof small[i], &slen[i]));
        ASSERT_LT(slen[i], a.len[i]);
        uint8_t back[WW_MAX_EVENT];
        size_t blen = 0;
        ASSERT_OK(ww_sync_expand(g.gid, small[i], slen[i], &rx, back, sizeof back, &blen));
        ASSERT_EQ(blen, a.len[i]);
        ASSERT_MEM_EQ(back, a.raw[i], blen);
    }
    /* An event that continues a run cannot open a frame: there is no author to take. */
    struct ww_runs_state fresh;
    memset(&fresh, 0, sizeof fresh);
    uint8_t back[WW_MAX_EVENT];
    size_t blen = 0;
    ASSERT_ERR(ww_sync_expand(g.gid, small[1], slen[1], &fresh, back, sizeof back, &blen),
               WW_EINVAL);
    /* Another group's event is refused both ways. */
    uint8_t other[WW_ID_LEN];
    memcpy(other, g.gid, WW_ID_LEN);
    other[3] ^= 1;
    memset(&fresh, 0, sizeof fresh);
    ASSERT_ERR(ww_sync_compact(other, a.raw[0], a.len[0], &fresh, back, sizeof back, &blen),
               WW_EGROUP);
    fx_bag_free(&a);
    fx_group_close(&g);
}
