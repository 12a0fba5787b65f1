/*
 * test_report.c - sync health: when a device reports, what the coach's device makes of the
 * reports (last syncs, events a device still lacks, erasure receipts), and who may report.
 */
#include <string.h>

#include "fixture.h"
#include "runner.h"
#include "store.h"

struct health {
    size_t n;
    struct ww_device_health d[8];
    size_t n_erasures;
    size_t applied[4], devices[4];
    int applied_by[4][8];
};

static void health_cb(void *ud, const struct ww_device_health *d)
{
    struct health *h = ud;
    if (h->n < 8) {
        h->d[h->n] = *d;
        h->d[h->n++].alias = NULL; /* valid only during the call */
    }
}

static void erasure_cb(void *ud, const struct ww_erasure_receipts *r)
{
    struct health *h = ud;
    if (h->n_erasures >= 4)
        return;
    h->applied[h->n_erasures] = r->n_applied;
    h->devices[h->n_erasures] = r->n_devices;
    for (size_t i = 0; i < r->n_devices && i < 8; i++)
        h->applied_by[h->n_erasures][i] = r->devices[i].applied;
    h->n_erasures++;
}

static struct health health_of(struct ww_store *coach, const uint8_t gid[16])
{
    struct health h;
    memset(&h, 0, sizeof h);
    ASSERT_OK(ww_devices_health(coach, gid, health_cb, erasure_cb, &h));
    return h;
}

/* The row of the device with key pk. */
static const struct ww_device_health *row_of(const struct health *h, struct ww_store *dev)
{
    uint8_t pk[32];
    ww_store_device(dev, pk);
    for (size_t i = 0; i < h->n; i++)
        if (!memcmp(h->d[i].device, pk, 32))
            return &h->d[i];
    ww_test_fail(__FILE__, __LINE__, "device not listed");
    return NULL;
}

static int done(struct ww_store *s, const uint8_t gid[16], const uint8_t hub[32], int live)
{
    int written = -1;
    ASSERT_OK(ww_sync_done(s, gid, hub, live, &written));
    return written;
}

TEST(report_tells_the_coach_what_each_device_lacks)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    struct ww_store *hub = fx_open("hub");
    uint8_t hub_pk[32];
    ww_store_device(hub, hub_pk);
    ASSERT_OK(ww_group_hub_set(g.coach, g.gid, hub_pk, "127.0.0.1:7420", NULL));
    fx_group_sync(&g);

    /* The first sync reports; another at once, or with nothing new, does not. */
    ASSERT_EQ(done(g.st[0], g.gid, hub_pk, 0), 1);
    ASSERT_EQ(done(g.st[0], g.gid, hub_pk, 1), 0);
    ASSERT_EQ(done(g.st[0], g.gid, hub_pk, 0), 0);
    /* The coach records its own syncs and never reports. */
    ASSERT_EQ(done(g.coach, g.gid, hub_pk, 0), 0);
    struct ww_sync_state cs;
    ASSERT_OK(ww_sync_state(g.coach, g.gid, &cs));
    ASSERT_EQ(cs.hub_at, (uint64_t)fx_now);
    ASSERT_EQ(cs.reported_at, 0);

    fx_sync(g.st[0], g.coach, g.gid, 64);
    struct health h = health_of(g.coach, g.gid);
    ASSERT_EQ(h.n, 3); /* the coach's device and two students' */
    ASSERT(row_of(&h, g.coach)->this_device);
    const struct ww_device_health *r0 = row_of(&h, g.st[0]);
    ASSERT(r0->reported);
    ASSERT_EQ(r0->hub_at, (uint64_t)fx_now);
    ASSERT_EQ(r0->peer_at, 0);
    ASSERT_EQ(r0->missing, 0);
    ASSERT(!row_of(&h, g.st[1])->known);

    /* The coach writes on; the student lacks it until it syncs and reports again. */
    fx_now += 3600 * 1000;
    ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, 20800, "W01", NULL));
    ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, 20801, "W01", NULL));
    h = health_of(g.coach, g.gid);
    ASSERT_EQ(row_of(&h, g.st[0])->missing, 2);
    fx_sync(g.coach, g.st[0], g.gid, 64);
    ASSERT_EQ(done(g.st[0], g.gid, hub_pk, 0), 1);
    fx_sync(g.st[0], g.coach, g.gid, 64);
    h = health_of(g.coach, g.gid);
    ASSERT_EQ(row_of(&h, g.st[0])->missing, 0);
    ASSERT_EQ(row_of(&h, g.st[0])->hub_at, (uint64_t)fx_now);

    /* A sync with another device is a peer sync. */
    uint8_t peer_pk[32];
    ww_store_device(g.st[1], peer_pk);
    fx_now += 1000;
    ASSERT_EQ(done(g.st[0], g.gid, peer_pk, 1), 0); /* nothing new: no report */
    struct ww_sync_state ss;
    ASSERT_OK(ww_sync_state(g.st[0], g.gid, &ss));
    ASSERT_EQ(ss.peer_at, (uint64_t)fx_now);
    ASSERT_EQ(ss.unsent, 0);

    /* What a student writes after its last sync with the hub is unsent. */
    ASSERT_OK(ww_day_off(g.st[0], g.gid, 20800, 1, NULL));
    ASSERT_OK(ww_sync_state(g.st[0], g.gid, &ss));
    ASSERT_EQ(ss.unsent, 1);

    ASSERT_ERR(ww_devices_health(g.st[0], g.gid, health_cb, NULL, &h), WW_EROLE);
    ww_store_close(hub);
    fx_group_close(&g);
}

TEST(report_receipts_an_erasure_at_once)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    struct ww_store *hub = fx_open("hub");
    uint8_t hub_pk[32];
    ww_store_device(hub, hub_pk);
    ASSERT_OK(ww_group_hub_set(g.coach, g.gid, hub_pk, "127.0.0.1:7420", NULL));
    fx_group_sync(&g);
    ASSERT_EQ(done(g.st[0], g.gid, hub_pk, 0), 1);
    ASSERT_EQ(done(g.st[1], g.gid, hub_pk, 0), 1);

    ASSERT_OK(ww_member_erase(g.coach, g.gid, g.m_st[1], NULL));
    fx_group_sync(&g);
    struct health h = health_of(g.coach, g.gid);
    ASSERT_EQ(h.n_erasures, 1);
    ASSERT_EQ(h.devices[0], 3);
    ASSERT_EQ(h.applied[0], 1); /* the coach's own device; the students have not said yet */

    /* On a live connection, minutes after the last report, the erasure is receipted. */
    fx_now += 1000;
    ASSERT_EQ(done(g.st[0], g.gid, hub_pk, 1), 1);
    ASSERT_EQ(done(g.st[1], g.gid, hub_pk, 1), 1);
    ASSERT_EQ(done(g.st[1], g.gid, hub_pk, 1), 0);
    fx_group_sync(&g);
    h = health_of(g.coach, g.gid);
    ASSERT_EQ(h.applied[0], 3);
    ww_store_close(hub);
    fx_group_close(&g);
}

TEST(report_only_a_learner_reports_on_itself)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    uint8_t coach_member[16];
    fx_coach_member(g.coach, coach_member);
    struct ww_body b;
    memset(&b, 0, sizeof b);
    b.kind = WW_KIND_SYNC_REPORT;
    struct ww_emit e = {
        .kind = WW_KIND_SYNC_REPORT, .audience = WW_AUD_PAIR, .subject = coach_member, .body = &b};
    ASSERT(ww_emit_tx(g.coach, g.gid, &e, NULL) != 0); /* no pair key of its own */
    e.audience = WW_AUD_GROUP;
    e.subject = NULL;
    ASSERT(ww_emit_tx(g.coach, g.gid, &e, NULL) != 0);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM events WHERE kind=21"), 0);
    e.audience = WW_AUD_PAIR;
    /* A student's report about another member is refused where it is written. */
    e.subject = g.m_st[1];
    ASSERT(ww_emit_tx(g.st[0], g.gid, &e, NULL) != 0);
    e.audience = WW_AUD_GROUP;
    e.subject = NULL;
    ASSERT(ww_emit_tx(g.st[0], g.gid, &e, NULL) != 0);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM events WHERE kind=21"), 0);
    fx_group_close(&g);
}
