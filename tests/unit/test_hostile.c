/*
 * test_hostile.c - attacks and orderings that once broke a store: a clock from the far
 * future, an absurd version vector, unsigned forks, a member added after the fact, a removed
 * member writing on, a coach's second device, an erasure of a signal's note, and emitting
 * an event that lets a waiting one through.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "log.h"
#include "runner.h"
#include "seal.h"
#include "store.h"

/* Seals a day.off for `date` as store s, with its header changed by `change` and re-signed. */
static void day_off_event(struct ww_store *s, const uint8_t gid[16], uint32_t date,
                          void (*change)(struct ww_header *h), struct fx_ev *out)
{
    struct ww_body b;
    memset(&b, 0, sizeof b);
    b.kind = WW_KIND_DAY_OFF;
    b.u.day_off.date = date;
    b.u.day_off.off = 1;
    uint8_t ref[4];
    ww_date_ref(date, ref);
    struct ww_buf pt, buf, hb;
    ww_buf_init(&pt, WW_MAX_BODY);
    ww_buf_init(&buf, WW_MAX_EVENT);
    ww_buf_init(&hb, 4096);
    ASSERT_OK(ww_body_encode(&b, &pt));
    struct ww_emit e = {
        .kind = WW_KIND_DAY_OFF, .audience = WW_AUD_GROUP, .ref = ref, .ref_len = 4};
    ASSERT_OK(ww_seal(s, gid, &e, pt.p, pt.len, &buf, NULL));
    struct ww_envelope env;
    ASSERT_OK(ww_envelope_decode(buf.p, buf.len, &env));
    if (change) {
        uint8_t body[WW_MAX_EVENT];
        memcpy(body, env.body.p, env.body.len);
        env.body.p = body;
        change(&env.h);
        /* The body was sealed with the old header as associated data; it stays opaque, but
         * the event is still validly signed by its author. */
        ASSERT_OK(ww_header_encode(&env.h, &hb));
        struct ww_slice hs = {hb.p, hb.len};
        ASSERT_OK(ww_event_sign(s->sk, &hs, env.ct_hash, env.sig));
        ww_buf_reset(&buf);
        ASSERT_OK(ww_envelope_encode(&env, &buf));
    }
    memcpy(out->raw, buf.p, buf.len);
    out->len = buf.len;
    ww_buf_free(&pt);
    ww_buf_free(&buf);
    ww_buf_free(&hb);
}

static void far_future(struct ww_header *h)
{
    h->hlc = (uint64_t)INT64_MAX - 2;
}

static void in_three_days(struct ww_header *h)
{
    h->hlc += (uint64_t)(3ll * 24 * 3600 * 1000) << 16;
}

static void next_year(struct ww_header *h)
{
    h->hlc += (uint64_t)(366ll * 24 * 3600 * 1000) << 16;
}

TEST(hostile_clock_from_the_future_waits_and_stops_nobody)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    static struct fx_ev ev;
    /* A few days ahead (a phone with a wrong clock): it waits until it is due. */
    day_off_event(g.st[0], g.gid, d, in_three_days, &ev);
    struct ww_apply_result r = fx_apply1(g.coach, &ev);
    ASSERT_EQ(r.accepted, 0);
    ASSERT_EQ(r.deferred, 1);
    /* A year ahead, or at the end of the clock's range: it can never become due, and is
     * refused rather than kept waiting for ever. */
    day_off_event(g.st[0], g.gid, d, far_future, &ev);
    r = fx_apply1(g.coach, &ev);
    ASSERT_EQ(r.rejected, 1);
    ASSERT_ERR(r.first_error, WW_ERANGE);
    day_off_event(g.st[0], g.gid, d, next_year, &ev);
    r = fx_apply1(g.coach, &ev);
    ASSERT_EQ(r.rejected, 1);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM pending"), 1);
    /* The owner's clock was not dragged along: it goes on writing. */
    for (int i = 0; i < 5; i++)
        ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, d + (uint32_t)i, "W02", NULL));
    ASSERT_LT(fx_count(g.coach, "SELECT max(hlc) FROM events"), (long)((uint64_t)1 << 62));
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM days_off"), 0);
    fx_group_close(&g);
}

static void count_ev(void *ud, const uint8_t *ev, size_t len)
{
    (void)ev;
    (void)len;
    (*(int *)ud)++;
}

TEST(hostile_version_vector_cannot_reach_another_group)
{
    struct ww_store *c = fx_open("coach");
    uint8_t a[16], b[16];
    ASSERT_OK(ww_group_create(c, "A", NULL, 0, "Coach", NULL, a, NULL));
    ASSERT_OK(ww_group_create(c, "B", NULL, 0, "Coach", NULL, b, NULL));
    struct ww_vv_item vv[1];
    ww_store_device(c, vv[0].author);
    vv[0].seq = UINT64_MAX - 1;
    int n = 0, more = 0;
    ASSERT_ERR(ww_sync_missing(c, b, vv, 1, 256, 1u << 20, count_ev, &n, &more), WW_ERANGE);
    ASSERT_EQ(n, 0);
    vv[0].seq = WW_SEQ_MASK;
    ASSERT_OK(ww_sync_missing(c, b, vv, 1, 256, 1u << 20, count_ev, &n, &more));
    ASSERT_EQ(n, 0); /* nothing of group A, nothing of B the peer claims to hold */
    ww_store_close(c);
}

static void keep_first(void *ud, const uint8_t *ev, size_t len)
{
    struct fx_ev *e = ud;
    if (e->len == 0) {
        memcpy(e->raw, ev, len);
        e->len = len;
    }
}

TEST(hostile_unsigned_forks_are_not_recorded)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    ASSERT_OK(ww_day_off(g.st[0], g.gid, d, 1, NULL));
    fx_sync(g.st[0], g.coach, g.gid, 256);
    /* The student's first event, which the coach holds, with its signature damaged: the same
     * (author, seq) with another hash, so it would look like a fork. */
    struct ww_vv_item vv[1];
    ww_store_device(g.coach, vv[0].author);
    vv[0].seq = WW_SEQ_MASK;
    static struct fx_ev ev;
    ev.len = 0;
    int more;
    ASSERT_OK(ww_sync_missing(g.st[0], g.gid, vv, 1, 1, 1u << 20, keep_first, &ev, &more));
    ASSERT_GT(ev.len, 0);
    struct ww_envelope env;
    ASSERT_OK(ww_envelope_decode(ev.raw, ev.len, &env));
    uint8_t *sig = NULL;
    for (size_t i = 0; i + 64 <= ev.len && !sig; i++)
        if (!memcmp(ev.raw + i, env.sig, 64))
            sig = ev.raw + i;
    ASSERT(sig);
    for (int i = 0; i < 50; i++) {
        sig[i % 64] ^= (uint8_t)(i + 1);
        struct ww_apply_result r = fx_apply1(g.coach, &ev);
        ASSERT_EQ(r.forks, 0);
        ASSERT_ERR(r.first_error, WW_EBADSIG);
    }
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM forks"), 0);
    fx_group_close(&g);
}

static void see_code(void *ud, const struct ww_day *d)
{
    snprintf(ud, 32, "%s", d->challenge.code);
}

TEST(hostile_late_member_reads_what_came_before)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    struct ww_challenge c = {"EIGEN1", "Eigen", "Iets kleins onder begeleiding.", 2, 1, 52, "", 0};
    ASSERT_OK(ww_challenge_define(g.coach, g.gid, &c, NULL));
    ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, d, "EIGEN1", NULL));
    /* A student added later, whose device hears of the group only now. */
    struct ww_store *late = fx_open("late");
    uint8_t pk[32], m[16];
    ww_store_device(late, pk);
    ASSERT_OK(ww_member_add(g.coach, g.gid, WW_ROLE_STUDENT, "Laat", 1, 1, pk, m));
    fx_sync(g.coach, late, g.gid, 3);
    char a[32], b[32];
    ASSERT_OK(ww_day_get(late, g.gid, d, see_code, a));
    ASSERT_OK(ww_day_get(g.coach, g.gid, d, see_code, b));
    ASSERT_STR_EQ(a, "EIGEN1");
    ASSERT_STR_EQ(a, b);
    ww_store_close(late);
    fx_group_close(&g);
}

TEST(hostile_removed_member_cannot_write_on_with_old_keys)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    ASSERT_OK(ww_member_remove(g.coach, g.gid, g.m_st[1], NULL));
    fx_now += 1000;
    /* The removed device has not heard of its removal (or pretends not to): it writes under
     * the old epoch, after the removal by the clock. */
    static struct fx_ev ev;
    day_off_event(g.st[1], g.gid, d, NULL, &ev);
    struct ww_apply_result r = fx_apply1(g.coach, &ev);
    ASSERT_ERR(r.first_error, WW_ENOTMEMBER);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM days_off"), 0);
    fx_group_close(&g);
}

struct seen {
    int readable;
    char text[128];
};

static void see(void *ud, const struct ww_reflection *r)
{
    struct seen *s = ud;
    s->readable = r->readable;
    snprintf(s->text, sizeof s->text, "%s", r->reflectie);
}

TEST(hostile_second_coach_device_reads_pair_audience)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    struct ww_store *laptop = fx_open("laptop");
    uint8_t pk[32], coach_member[16];
    ww_store_device(laptop, pk);
    fx_coach_member(g.coach, coach_member);
    ASSERT_OK(ww_device_add(g.coach, g.gid, coach_member, pk, NULL));
    fx_group_sync(&g);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    struct ww_reflection r;
    memset(&r, 0, sizeof r);
    r.date = d;
    r.status = WW_STATUS_DONE;
    r.reflectie = "Voor de coach.";
    r.share = WW_SHARE_COACH;
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
    fx_group_sync(&g);
    fx_sync(g.coach, laptop, g.gid, 256);
    struct seen v = {0, ""};
    ASSERT_OK(ww_reflections_list(laptop, g.gid, g.m_st[0], see, &v));
    ASSERT_EQ(v.readable, 1);
    ASSERT_STR_EQ(v.text, "Voor de coach.");
    ww_store_close(laptop);
    fx_group_close(&g);
}

TEST(hostile_erasure_takes_the_coach_note_on_a_signal_too)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    uint8_t sig[32];
    ASSERT_OK(ww_signal_raise(g.st[0], g.gid, WW_SIGCAT_WELLBEING, "Zwaar weekend.", NULL, sig));
    fx_sync(g.st[0], g.coach, g.gid, 256);
    ASSERT_OK(ww_signal_resolve(g.coach, g.gid, sig, WW_SIGNAL_DISCUSSED, "Gesprek gehad.", NULL));
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM signal_states"), 1);
    ASSERT_OK(ww_member_erase(g.coach, g.gid, g.m_st[0], NULL));
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM signal_states"), 0);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM signals"), 0);
    fx_group_close(&g);
}

TEST(hostile_emitting_may_let_a_waiting_event_through)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    /* A device not yet in the group writes; its event waits at the coach... */
    struct ww_store *x = fx_open("x");
    fx_sync(g.coach, x, g.gid, 256);
    static struct fx_ev ev;
    struct ww_body b;
    memset(&b, 0, sizeof b);
    b.kind = 200; /* any kind: the author is what is unknown */
    static const uint8_t body[] = {0x91, 0x01};
    struct ww_buf buf;
    ww_buf_init(&buf, WW_MAX_EVENT);
    struct ww_emit e = {.kind = 200, .audience = WW_AUD_PLAIN};
    ASSERT_OK(ww_seal(x, g.gid, &e, body, sizeof body, &buf, NULL));
    memcpy(ev.raw, buf.p, buf.len);
    ev.len = buf.len;
    ww_buf_free(&buf);
    ASSERT_EQ(fx_apply1(g.coach, &ev).deferred, 1);
    /* ...and the coach's own member.add lets it through: that is a success, not a failure. */
    uint8_t pk[32], m[16];
    ww_store_device(x, pk);
    ASSERT_OK(ww_member_add(g.coach, g.gid, WW_ROLE_STUDENT, "X", 1, 1, pk, m));
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM pending"), 0);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM events WHERE kind=200"), 1);
    ww_store_close(x);
    fx_group_close(&g);
}

/* The last reflection of member m that this device lists (the oldest date). */
static struct seen last_listed(struct ww_store *s, const uint8_t gid[16], const uint8_t *m)
{
    struct seen v = {0, ""};
    ASSERT_OK(ww_reflections_list(s, gid, m, see, &v));
    return v;
}

TEST(hostile_second_student_device_reads_private_reflections_both_ways)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    struct ww_reflection r;
    memset(&r, 0, sizeof r);
    r.date = d;
    r.status = WW_STATUS_DONE;
    r.reflectie = "Privé, op de laptop.";
    r.share = WW_SHARE_SELF;
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL)); /* the laptop makes the SELF key */
    fx_sync2(g.st[0], g.coach, g.gid);
    /* Then the coach adds a phone, the laptop vouches for it and writes privately again: it
     * shares its key. */
    struct ww_store *phone = fx_open("phone");
    uint8_t pk[32];
    ww_store_device(phone, pk);
    ASSERT_OK(ww_device_add(g.coach, g.gid, g.m_st[0], pk, NULL));
    fx_sync(g.coach, g.st[0], g.gid, 256);
    ASSERT_OK(ww_device_add(g.st[0], g.gid, g.m_st[0], pk, NULL));
    fx_sync2(g.st[0], g.coach, g.gid);
    fx_now += 1000;
    r.date = d + 1;
    r.reflectie = "Privé, weer op de laptop.";
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
    fx_sync2(g.st[0], g.coach, g.gid);
    fx_sync2(g.coach, phone, g.gid);
    struct seen v = last_listed(phone, g.gid, g.m_st[0]);
    ASSERT_EQ(v.readable, 1);
    /* Both days are readable on the phone (the list is newest first: check the older too). */
    ASSERT_EQ(fx_count(phone, "SELECT count(*) FROM reflections WHERE readable=1"), 2);
    /* And what the phone writes privately, the laptop reads; the coach reads neither. */
    fx_now += 1000;
    r.date = d + 2;
    r.reflectie = "Privé, op de telefoon.";
    ASSERT_OK(ww_reflection_put(phone, g.gid, &r, NULL));
    fx_sync2(phone, g.coach, g.gid);
    fx_sync2(g.coach, g.st[0], g.gid);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM reflections WHERE readable=1"), 3);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM reflections WHERE readable=1"), 0);
    ww_store_close(phone);
    fx_group_close(&g);
}

/* More events waiting than one retry page holds, none of which can ever apply, and then a
 * control event: the retry once found the events it deferred again and never returned. */
TEST(hostile_retry_of_many_stuck_events_terminates)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    struct ww_store *x = fx_open("x");
    uint8_t xpk[32], xm[16];
    ww_store_device(x, xpk); /* a member: a stranger could not keep this many waiting */
    ASSERT_OK(ww_member_add(g.coach, g.gid, WW_ROLE_STUDENT, "X", 1, 1, xpk, xm));
    fx_sync(g.coach, x, g.gid, 256);
    enum { STUCK = 600 };
    static struct fx_ev ev[STUCK];
    const uint8_t *raws[200];
    size_t lens[200];
    for (size_t i = 0; i < STUCK; i++)
        fx_stuck_event(x, g.gid, 2 + i, &ev[i]); /* seq 1 never comes */
    for (size_t i = 0; i < STUCK; i += 200) {
        for (size_t j = 0; j < 200; j++) {
            raws[j] = ev[i + j].raw;
            lens[j] = ev[i + j].len;
        }
        struct ww_apply_result r;
        ASSERT_OK(ww_sync_apply(g.coach, raws, lens, 200, &r));
        ASSERT_EQ(r.deferred, 200);
    }
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM pending"), STUCK);
    /* A control event: every waiting event is retried, and waits again. */
    struct ww_store *y = fx_open("y");
    uint8_t pk[32], m[16];
    ww_store_device(y, pk);
    ASSERT_OK(ww_member_add(g.coach, g.gid, WW_ROLE_STUDENT, "Y", 1, 1, pk, m));
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM pending"), STUCK);
    ww_store_close(y);
    ww_store_close(x);
    fx_group_close(&g);
}
