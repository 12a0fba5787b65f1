/*
 * test_erase_cut.c - an erasure that leaves the log (a recovery's cut-off, a fork's
 * take-over) leaves no trace: the events it stripped on a replica that applied it come
 * back with their bodies from a copy that holds them intact (PROTOCOL.md 6.16, "Derived
 * state").
 */
#include <string.h>

#include "apply.h"
#include "fixture.h"
#include "log.h"
#include "runner.h"
#include "store.h"
#include "wegwijs_sync.h"

/* The group of these tests: a coach (owner) whose phone is lost to a thief, one student
 * who took a day off, and a recovery written on a new phone that holds the student's
 * event intact. */
struct scene {
    struct fx_group g;
    struct ww_store *np; /* the coach's new phone */
    uint8_t spk[32];     /* the student's phone */
    uint64_t seq;        /* its day.off */
    uint32_t day;
};

static void scene_make(struct scene *c)
{
    struct fx_group *g = &c->g;
    fx_group_make(g, 1, 0, NULL);
    char code[WW_RECOVERY_CODE_MAX];
    ASSERT_OK(ww_recovery_key_create(g->coach, g->gid, code));
    ASSERT_OK(ww_day_today(g->st[0], g->gid, &c->day));
    fx_now += 1000;
    fx_device(g->st[0], c->spk);
    ASSERT_OK(ww_day_off(g->st[0], g->gid, c->day, 1, NULL));
    struct ww_log_head h;
    ASSERT_OK(ww_log_head(g->st[0], g->gid, c->spk, &h));
    c->seq = h.seq;
    fx_group_sync(g);
    c->np = fx_open("newphone");
    fx_sync(g->st[0], c->np, g->gid, 256);
    fx_now += 1000;
    ASSERT_OK(ww_owner_recover(c->np, g->gid, code));

    /* The thief erases the student with the lost phone, above the recovery's cut-off; the
     * student's phone applies it first and strips the bodies of its events. */
    fx_now += 1000;
    ASSERT_OK(ww_member_erase(g->coach, g->gid, g->m_st[0], NULL));
    fx_deliver(g->coach, g->st[0], g->gid);
    ASSERT_EQ(fx_count(g->st[0], "SELECT count(*) FROM days_off"), 0);
}

static void scene_close(struct scene *c)
{
    ww_store_close(c->np);
    fx_group_close(&c->g);
}

static int reads(struct ww_store *s, const struct scene *c)
{
    struct ww_buf pt;
    struct ww_body body;
    ww_buf_init(&pt, WW_MAX_BODY);
    int rc = ww_read_body(s, c->g.gid, c->spk, c->seq, &pt, &body);
    ww_buf_free(&pt);
    return rc;
}

/*
 * The recovery cuts the thief's erase off. The student's phone derives the group again and
 * its own event, held without its body, comes back intact from the new phone; a copy that
 * got the recovery first (the student's tablet) never applied the erase: both end with the
 * same events and read the day.
 */
TEST(erase_cut_by_a_recovery_gives_the_bodies_back)
{
    struct scene c;
    scene_make(&c);
    struct fx_group *g = &c.g;
    struct ww_store *b = fx_open_db("student1", "b.db"); /* the student's tablet */
    fx_sync(c.np, b, g->gid, 256);
    fx_deliver(g->coach, b, g->gid); /* the thief's erase: above the cut-off, refused */

    fx_deliver(c.np, g->st[0], g->gid);
    ASSERT_OK(reads(g->st[0], &c));
    ASSERT_EQ(fx_count(g->st[0], "SELECT count(*) FROM days_off"), 1);
    ASSERT_EQ(fx_count(g->st[0], "SELECT count(*) FROM erasures"), 0);

    fx_sync2(g->st[0], b, g->gid);
    fx_sync2(c.np, b, g->gid);
    fx_sync2(c.np, g->st[0], g->gid);
    uint8_t d1[32], d2[32], d3[32];
    fx_events_digest(g->st[0], d1);
    fx_events_digest(b, d2);
    fx_events_digest(c.np, d3);
    ASSERT(!memcmp(d1, d2, 32));
    ASSERT(!memcmp(d1, d3, 32));
    ASSERT_OK(reads(b, &c));
    ASSERT_EQ(fx_count(b, "SELECT count(*) FROM days_off"), 1);
    ww_store_close(b);
    scene_close(&c);
}

/* What a session sends when the tips of an author's log differ (PROTOCOL.md 9.3): that
 * log, from seq on, in one batch. */
static void send_log(struct ww_store *from, struct ww_store *to, const uint8_t gid[16],
                     const uint8_t author[32], uint64_t seq)
{
    struct fx_bag bag = {.n = 0};
    struct ww_buf raw;
    ww_buf_init(&raw, WW_MAX_EVENT);
    for (; bag.n < 64 && ww_log_get(from, gid, author, seq, &raw) == 0; seq++)
        fx_bag_add(&bag, raw.p, raw.len);
    ww_buf_free(&raw);
    struct ww_apply_result r;
    ASSERT_OK(ww_sync_apply(to, (const uint8_t *const *)bag.raw, bag.len, bag.n, &r));
    fx_bag_free(&bag);
}

/*
 * The student's phone gets the recovery alone (one batch) and writes before it syncs
 * again: its own log was cut below the stripped event, so its new event takes a seq the
 * group holds another event of it at, a fork. Whichever branch wins, nothing the student
 * wrote is lost, on its phone or on the coach's, and the two end with the same events.
 */
TEST(erase_cut_own_log_written_before_the_next_sync)
{
    struct scene c;
    scene_make(&c);
    struct fx_group *g = &c.g;
    struct fx_bag bag = {.n = 0};
    fx_missing(c.np, g->st[0], g->gid, &bag);
    struct ww_apply_result r;
    ASSERT_OK(ww_sync_apply(g->st[0], (const uint8_t *const *)bag.raw, bag.len, bag.n, &r));
    fx_bag_free(&bag);
    ASSERT_EQ(fx_count(g->st[0], "SELECT count(*) FROM erasures"), 0);

    fx_now += 1000;
    ASSERT_OK(ww_day_off(g->st[0], g->gid, c.day + 1, 1, NULL));
    for (int round = 0; round < 3; round++) {
        send_log(c.np, g->st[0], g->gid, c.spk, c.seq);
        send_log(g->st[0], c.np, g->gid, c.spk, c.seq);
        fx_sync2(c.np, g->st[0], g->gid);
    }
    uint8_t d1[32], d2[32];
    fx_events_digest(g->st[0], d1);
    fx_events_digest(c.np, d2);
    ASSERT(!memcmp(d1, d2, 32));
    ASSERT(fx_count(g->st[0], "SELECT count(*) FROM forks") +
               fx_count(c.np, "SELECT count(*) FROM forks") >=
           1);
    ASSERT_EQ(fx_count(g->st[0], "SELECT count(*) FROM days_off"), 2);
    ASSERT_EQ(fx_count(c.np, "SELECT count(*) FROM days_off"), 2);
    scene_close(&c);
}
