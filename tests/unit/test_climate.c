/*
 * test_climate.c - climate by split shares on the devices (core/climate.c): a learner's
 * final reflection carries its day as two sealed shares to the two aggregators the group
 * names and the hub confirmed; no single party reads an answer; a group that names
 * another key than the hub confirmed gets no answers at all.
 */
#include <sodium.h>
#include <string.h>

#include "fixture.h"
#include "kind.h"
#include "runner.h"
#include "share.h"
#include "store.h"

static struct ww_reflection day_with_answers(uint32_t date)
{
    struct ww_reflection r;
    memset(&r, 0, sizeof r);
    r.date = date;
    r.status = WW_STATUS_PARTLY;
    r.obstacles = WW_OBST_NO_SUPERVISOR;
    r.reflectie = "Ik vroeg te laat om hulp.";
    r.share = WW_SHARE_COACH;
    r.n_answers = 2;
    r.answer_item[0] = 1, r.answer_value[0] = 4; /* K1 */
    r.answer_item[1] = 2, r.answer_value[1] = 2; /* K2 */
    return r;
}

/* The one share message the store holds. */
static void held_share(struct ww_store *s, struct ww_share_msg *m)
{
    sqlite3_stmt *st;
    ASSERT_EQ(sqlite3_prepare_v2(s->db, "SELECT msg FROM climate_shares", -1, &st, NULL),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    ASSERT_OK(ww_share_decode(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), m));
    sqlite3_finalize(st);
}

TEST(climate_shares_reach_no_single_party)
{
    struct ww_store *hub = fx_open("hub"), *b = fx_open("b");
    uint8_t pk_a[32], pk_b[32];
    ASSERT_OK(ww_store_aggregator_pk(hub, pk_a));
    ASSERT_OK(ww_store_aggregator_pk(b, pk_b));
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    ASSERT_OK(ww_group_hub_set(g.coach, g.gid, (uint8_t[32]){1}, "127.0.0.1:7300", NULL));
    ASSERT_OK(ww_group_climate_set(g.coach, g.gid, pk_a, pk_b, "Zonnebloem", "Utrecht"));
    fx_group_sync(&g);
    ASSERT_OK(ww_climate_pin(g.st[0], g.gid, pk_a, pk_b));
    struct ww_climate_info ci;
    ASSERT_OK(ww_group_climate_get(g.st[0], g.gid, &ci));
    ASSERT_EQ(ci.state, WW_AGGKEYS_PINNED);
    ASSERT_STR_EQ(ci.team, "Zonnebloem");

    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    struct ww_reflection r = day_with_answers(d);
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
    fx_group_sync(&g);
    fx_sync(g.coach, hub, g.gid, 256);

    /* Nobody but the author holds the answers; no climate.put is written any more. */
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM events WHERE kind=11"), 0);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM climate"), 0);
    ASSERT_EQ(fx_count(hub, "SELECT count(*) FROM climate"), 0);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM climate"), 1);
    /* Every replica holds the share; only the hub's key opens share A. */
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM climate_shares WHERE a_share IS NULL"), 1);
    ASSERT_EQ(fx_count(hub, "SELECT count(*) FROM climate_shares WHERE length(a_share)=656"), 1);

    struct ww_share_msg m;
    held_share(hub, &m);
    uint64_t sa[WW_AGG_DIM], sb[WW_AGG_DIM], x[WW_AGG_DIM];
    ASSERT_ERR(ww_share_open(&m, 1, hub->agg_pk, hub->agg_sk, sb), WW_EDECRYPT);
    ASSERT_ERR(ww_share_open(&m, 0, b->agg_pk, b->agg_sk, sa), WW_EDECRYPT);
    ASSERT_OK(ww_share_open(&m, 0, hub->agg_pk, hub->agg_sk, sa));
    ASSERT_OK(ww_share_open(&m, 1, b->agg_pk, b->agg_sk, sb));
    /* Together (and only together) they give the day: K1=4, K2=2, partly, no supervisor,
     * each the first of the window. */
    struct ww_agg_day want = {.date = d,
                              .asked = m.asked,
                              .status = 2,
                              .obstacles = WW_OBST_NO_SUPERVISOR,
                              .first = 1 | 2 | 1u << WW_AGG_STATUS_BLOCK};
    want.value[0] = 4, want.value[1] = 2;
    ASSERT_OK(ww_share_counters(&want, x));
    int nonzero_a = 0;
    for (int i = 0; i < WW_AGG_DIM; i++) {
        ASSERT_EQ(ww_agg_add_mod(sa[i], sb[i]), x[i]);
        nonzero_a += sa[i] != x[i];
    }
    ASSERT(nonzero_a > WW_AGG_DIM / 2); /* share A alone is not the answer */

    /* A newer answer of the same day replaces the share everywhere, under a new id: the
     * hub's pages up to an id stay a snapshot. */
    long id1 = fx_count(hub, "SELECT max(id) FROM climate_shares");
    fx_now += 60000;
    r.answer_value[0] = 5;
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
    fx_sync(g.st[0], g.coach, g.gid, 256);
    fx_sync(g.coach, hub, g.gid, 256);
    ASSERT_EQ(fx_count(hub, "SELECT count(*) FROM climate_shares"), 1);
    ASSERT_GT(fx_count(hub, "SELECT max(id) FROM climate_shares"), id1);

    /* A second day of the same window: nothing is "first" any more. */
    fx_now += 86400000;
    r.date = d + 1;
    if (ww_agg_window(d + 1) == ww_agg_window(d)) {
        ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
        ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM climate_shares"), 2);
    }
    /* Once the window is final (a week after its end), a newer answer of its days is kept
     * in the log but counted nowhere: the window's shares stay what they were. */
    fx_sync(g.st[0], g.coach, g.gid, 256);
    fx_sync(g.coach, hub, g.gid, 256);
    long id2 = fx_count(hub, "SELECT max(id) FROM climate_shares");
    long held = fx_count(hub, "SELECT count(*) FROM climate_shares");
    fx_now += 42LL * 86400000;
    r.date = d;
    r.answer_value[0] = 1;
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
    fx_sync(g.st[0], g.coach, g.gid, 256);
    fx_sync(g.coach, hub, g.gid, 256);
    ASSERT_EQ(fx_count(hub, "SELECT count(*) FROM climate_shares"), held);
    ASSERT_EQ(fx_count(hub, "SELECT max(id) FROM climate_shares"), id2);

    ww_store_close(hub);
    ww_store_close(b);
    fx_group_close(&g);
}

TEST(climate_a_key_the_hub_did_not_confirm_gets_no_answers)
{
    uint8_t pk_a[32], pk_b[32], own[32];
    memset(pk_a, 0xa1, 32), memset(pk_b, 0xb2, 32), memset(own, 0xc3, 32);
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    /* The coach names a key of their own as B; the hub confirmed the organisation's. */
    ASSERT_OK(ww_group_climate_set(g.coach, g.gid, pk_a, own, "Zonnebloem", "Utrecht"));
    fx_group_sync(&g);
    ASSERT_OK(ww_climate_pin(g.st[0], g.gid, pk_a, pk_b));
    struct ww_climate_info ci;
    ASSERT_OK(ww_group_climate_get(g.st[0], g.gid, &ci));
    ASSERT_EQ(ci.state, WW_AGGKEYS_MISMATCH);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    struct ww_reflection r = day_with_answers(d);
    long before = fx_count(g.st[0], "SELECT count(*) FROM events");
    ASSERT_ERR(ww_reflection_put(g.st[0], g.gid, &r, NULL), WW_EAGGKEY);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM events"), before);
    /* Without answers the reflection itself goes, and no share with it. */
    r.n_answers = 0;
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM climate_shares"), 0);
    /* A device that no hub confirmed keys to (joined by bundle) shares nothing either. */
    ASSERT_OK(ww_group_climate_get(g.st[1], g.gid, &ci));
    ASSERT_EQ(ci.state, WW_AGGKEYS_UNPINNED);
    r = day_with_answers(d);
    ASSERT_OK(ww_reflection_put(g.st[1], g.gid, &r, NULL));
    ASSERT_EQ(fx_count(g.st[1], "SELECT count(*) FROM climate_shares"), 0);
    /* Only the owner names aggregators, and never one key for both. */
    ASSERT_ERR(ww_group_climate_set(g.st[0], g.gid, pk_a, pk_b, "", ""), WW_EROLE);
    ASSERT_ERR(ww_group_climate_set(g.coach, g.gid, pk_a, pk_a, "", ""), WW_EINVAL);
    ASSERT_ERR(ww_climate_pin(g.st[0], g.gid, pk_a, pk_a), WW_EINVAL);
    fx_group_close(&g);
}

/* A hub's setup: the groups served here that name a team and location, numbered into
 * units in name order, with their learners as enrolment; the setup travels intact. */
TEST(climate_hub_setup_numbers_units_and_travels)
{
    struct ww_store *hub = fx_open("hub");
    uint8_t pk_a[32], pk_b[32];
    ASSERT_OK(ww_store_aggregator_pk(hub, pk_a));
    memset(pk_b, 0xb2, 32);
    struct fx_group g1, g2;
    fx_group_make(&g1, 3, 1, NULL);
    fx_group_make(&g2, 2, 0, NULL);
    uint8_t hubkey[32];
    ww_store_device(hub, hubkey);
    ASSERT_OK(ww_group_hub_set(g1.coach, g1.gid, hubkey, "", NULL));
    ASSERT_OK(ww_group_hub_set(g2.coach, g2.gid, hubkey, "", NULL));
    ASSERT_OK(ww_group_climate_set(g1.coach, g1.gid, pk_a, pk_b, "Zonnebloem", "Utrecht"));
    ASSERT_OK(ww_group_climate_set(g2.coach, g2.gid, pk_a, pk_b, "Akker", "Utrecht"));
    fx_sync(g1.coach, hub, g1.gid, 256);
    fx_sync(g2.coach, hub, g2.gid, 256);
    struct ww_agg_setup su;
    ASSERT_OK(ww_climate_setup(hub, &su));
    ASSERT_EQ(su.n_groups, 2);
    ASSERT_EQ(su.n_units, 3);
    ASSERT_STR_EQ(ww_agg_setup_name(&su, WW_AGG_TEAM, 1), "Akker");
    ASSERT_STR_EQ(ww_agg_setup_name(&su, WW_AGG_TEAM, 2), "Zonnebloem");
    ASSERT_STR_EQ(ww_agg_setup_name(&su, WW_AGG_LOCATION, 1), "Utrecht");
    ASSERT(ww_agg_setup_name(&su, WW_AGG_LOCATION, 2) == NULL);
    for (size_t i = 0; i < su.n_groups; i++) {
        int first = memcmp(su.groups[i].group, g1.gid, 16) == 0;
        ASSERT_EQ(su.groups[i].enrolled, first ? 4u : 2u);
        ASSERT_EQ(su.groups[i].team, first ? 2u : 1u);
        ASSERT_EQ(su.groups[i].location, 1u);
    }
    struct ww_buf b;
    ww_buf_init(&b, 0);
    ASSERT_OK(ww_agg_setup_encode(&su, &b));
    struct ww_agg_setup back;
    ASSERT_OK(ww_agg_setup_decode(b.p, b.len, &back));
    ASSERT_EQ(back.n_groups, 2);
    ASSERT_STR_EQ(ww_agg_setup_name(&back, WW_AGG_TEAM, 2), "Zonnebloem");
    /* A group in an unnamed team breaks the setup's rule. */
    back.groups[0].team = 9;
    struct ww_buf bad;
    ww_buf_init(&bad, 0);
    ASSERT_ERR(ww_agg_setup_encode(&back, &bad), WW_ERANGE);
    /* Bytes changed anywhere are refused or decode to something else, never crash. */
    for (size_t i = 0; i < b.len; i++) {
        b.p[i] ^= 0x41;
        struct ww_agg_setup x;
        if (ww_agg_setup_decode(b.p, b.len, &x) == 0)
            ww_agg_setup_free(&x);
        b.p[i] ^= 0x41;
    }
    ww_buf_free(&b);
    ww_buf_free(&bad);
    ww_agg_setup_free(&back);
    ww_agg_setup_free(&su);
    ww_store_close(hub);
    fx_group_close(&g1);
    fx_group_close(&g2);
}

/* A member's device writes its honest share, then shares of other days of the window
 * under made-up pseudonyms (to pass for more students than there are, and so push a cell
 * over k): the hub serves only the member's first pseudonym of the window. */
TEST(climate_a_member_is_one_pseudonym_per_window)
{
    struct ww_store *hub = fx_open("hub"), *b = fx_open("b");
    uint8_t pk_a[32], pk_b[32], hubkey[32];
    ASSERT_OK(ww_store_aggregator_pk(hub, pk_a));
    ASSERT_OK(ww_store_aggregator_pk(b, pk_b));
    ww_store_device(hub, hubkey);
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    ASSERT_OK(ww_group_hub_set(g.coach, g.gid, hubkey, "", NULL));
    ASSERT_OK(ww_group_climate_set(g.coach, g.gid, pk_a, pk_b, "Zonnebloem", "Utrecht"));
    fx_group_sync(&g);
    ASSERT_OK(ww_climate_pin(g.st[0], g.gid, pk_a, pk_b));
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    struct ww_reflection r = day_with_answers(d);
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
    /* Three made-up students: other days of the same window, each its own pseudonym. */
    int fakes = 0;
    for (uint32_t day = ww_agg_window(d) * WW_AGG_WINDOW_DAYS + 4; fakes < 3; day++) {
        if (day == d)
            continue;
        uint8_t key[32];
        memset(key, 0x10 + fakes, sizeof key);
        struct ww_agg_day x = {.date = day, .asked = 3, .status = 1, .first = 1u << 12};
        x.value[0] = 5, x.value[1] = 5;
        x.first |= 3;
        struct ww_share_msg m;
        ASSERT_OK(ww_share_make(&x, g.gid, key, pk_a, pk_b, NULL, NULL, &m));
        ASSERT_OK(ww_climate_share_emit(g.st[0], g.gid, day, &m));
        fakes++;
    }
    fx_sync(g.st[0], g.coach, g.gid, 256);
    fx_sync(g.coach, hub, g.gid, 256);
    /* Every replica holds all four; the hub serves one, the member's first pseudonym. */
    ASSERT_EQ(fx_count(hub, "SELECT count(*) FROM climate_shares"), 4);
    ASSERT_EQ(fx_count(hub, "SELECT count(DISTINCT nym) FROM climate_shares"), 4);
    ASSERT_EQ(fx_count(hub, "SELECT count(*) FROM climate_shares WHERE a_share IS NOT NULL"), 1);
    ASSERT_EQ(fx_count(hub, "SELECT date FROM climate_shares WHERE a_share IS NOT NULL"), d);
    ww_store_close(hub);
    ww_store_close(b);
    fx_group_close(&g);
}
