/*
 * test_quota.c - the bucket that bounds what one author adds to a group's log at a hub
 * (ww_quota_take, PROTOCOL.md 9.13): it fills by the bytes charged, refuses what would take
 * it over the burst (saying what still fits), drains by a day's allowance a day, does not
 * refill when the clock goes back, keeps each (group, author) apart, and survives reopening
 * the store.
 */
#include <string.h>

#include "fixture.h"
#include "runner.h"

#define KIB 1024u

TEST(quota_fills_refuses_drains_and_persists)
{
    int64_t was = fx_now;
    struct ww_store *s = fx_open("hub");
    const struct ww_quota q = {64 * KIB, 256 * KIB};
    uint8_t g1[WW_ID_LEN] = {1}, g2[WW_ID_LEN] = {2}, a[WW_KEY_LEN] = {7}, b[WW_KEY_LEN] = {8};
    uint64_t room = 1;

    ASSERT_OK(ww_quota_take(s, g1, a, 200 * KIB, &q, NULL));
    ASSERT_ERR(ww_quota_take(s, g1, a, 57 * KIB, &q, &room), WW_EQUOTA);
    ASSERT_EQ(room, 56 * KIB);
    ASSERT_OK(ww_quota_take(s, g1, a, 56 * KIB, &q, NULL)); /* exactly full */
    ASSERT_ERR(ww_quota_take(s, g1, a, 1, &q, &room), WW_EQUOTA);
    ASSERT_EQ(room, 0);
    /* Another author, another group: a bucket of its own. */
    ASSERT_OK(ww_quota_take(s, g1, b, 256 * KIB, &q, NULL));
    ASSERT_OK(ww_quota_take(s, g2, a, 256 * KIB, &q, NULL));
    ASSERT_ERR(ww_quota_take(s, g2, a, 300 * KIB, &q, &room), WW_EQUOTA); /* over the burst */

    /* Half a day drains half a day's allowance; a clock that goes back drains nothing. */
    fx_now += 12 * 3600 * 1000;
    ASSERT_ERR(ww_quota_take(s, g1, a, 33 * KIB, &q, &room), WW_EQUOTA);
    ASSERT_EQ(room, 32 * KIB);
    ASSERT_OK(ww_quota_take(s, g1, a, 32 * KIB, &q, NULL));
    fx_now -= 10 * 24 * 3600 * 1000LL;
    ASSERT_ERR(ww_quota_take(s, g1, a, 1, &q, &room), WW_EQUOTA);

    /* Reopened, the bucket is where it was; days on, it is empty again. */
    ww_store_close(s);
    s = fx_open("hub");
    fx_now = was + 12 * 3600 * 1000;
    ASSERT_ERR(ww_quota_take(s, g1, a, 1, &q, &room), WW_EQUOTA);
    fx_now += 4 * 24 * 3600 * 1000LL;
    ASSERT_OK(ww_quota_take(s, g1, a, 256 * KIB, &q, NULL));
    /* No quota: anything goes, nothing is kept. */
    const struct ww_quota none = {0, 0};
    ASSERT_OK(ww_quota_take(s, g1, a, 1u << 30, &none, NULL));
    ASSERT_EQ(fx_count(s, "SELECT count(*) FROM quotas"), 3);
    ww_store_close(s);
    fx_now = was;
}

/* A hub clock that ran a year ahead once, then was set right: the bucket it filled then is
 * not frozen for that year. The first charge after the correction (even of nothing) takes
 * the clock's time; a day later it has drained by a day's allowance. */
TEST(quota_survives_a_clock_that_ran_ahead)
{
    int64_t was = fx_now;
    struct ww_store *s = fx_open("hub");
    const struct ww_quota q = {64 * KIB, 256 * KIB};
    uint8_t g[WW_ID_LEN] = {1}, a[WW_KEY_LEN] = {7};
    uint64_t room = 1;
    fx_now = was + 365LL * 24 * 3600 * 1000;
    ASSERT_OK(ww_quota_take(s, g, a, 256 * KIB, &q, NULL));
    fx_now = was + 30LL * 24 * 3600 * 1000;
    ASSERT_ERR(ww_quota_take(s, g, a, 1, &q, &room), WW_EQUOTA);
    ASSERT_OK(ww_quota_take(s, g, a, 0, &q, NULL));
    fx_now += 24 * 3600 * 1000;
    ASSERT_OK(ww_quota_take(s, g, a, 64 * KIB, &q, NULL));
    ww_store_close(s);
    fx_now = was;
}

static void count_fresh(void *ud, const struct ww_outcome *o)
{
    int *n = ud;
    if (o->outcome == WW_OUTCOME_DEFERRED && !o->again)
        (*n)++;
}

/* An event that waits in pending and is sent again is reported as sent again, so that a
 * hub charges it to its author's quota once, not at every sync. */
TEST(quota_pending_event_sent_again_is_no_news)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    struct ww_store *hub = fx_open("hub");
    fx_sync(g.coach, hub, g.gid, 256);
    static struct fx_ev ev;
    fx_stuck_event(g.coach, g.gid, 50, &ev);
    const uint8_t *evs[1] = {ev.raw};
    size_t lens[1] = {ev.len};
    int fresh = 0;
    for (int i = 0; i < 3; i++) {
        struct ww_apply_result res;
        ASSERT_OK(ww_sync_apply_each(hub, evs, lens, 1, &res, count_fresh, &fresh));
        ASSERT_EQ(res.deferred, 1);
    }
    ASSERT_EQ(fresh, 1);
    ASSERT_EQ(fx_count(hub, "SELECT count(*) FROM pending"), 1);
    ww_store_close(hub);
    fx_group_close(&g);
}
