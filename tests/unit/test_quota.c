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
