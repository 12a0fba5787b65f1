/*
 * test_trust.c - what one participant cannot do to the others: the owner reading a
 * student's private reflections through a device it added, an outsider filling the pending
 * table, a clock from the future dragging everyone's clock along, and forks that replicas
 * once resolved by arrival order.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "pending.h"
#include "runner.h"
#include "seal.h"
#include "store.h"

static struct ww_reflection private_reflection(uint32_t date, const char *text)
{
    struct ww_reflection r;
    memset(&r, 0, sizeof r);
    r.date = date;
    r.status = WW_STATUS_DONE;
    r.reflectie = text;
    r.share = WW_SHARE_SELF;
    return r;
}

/* The owner adds a device to a student: that device never receives the student's SELF key,
 * for what was written before or after. A device the student vouches for reads it all. */
TEST(trust_owner_added_device_never_reads_private_reflections)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    struct ww_reflection r = private_reflection(d, "Privé, voor de coach toegevoegd.");
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
    fx_sync2(g.st[0], g.coach, g.gid);

    struct ww_store *spy = fx_open("spy");
    uint8_t spy_pk[32];
    ww_store_device(spy, spy_pk);
    ASSERT_OK(ww_device_add(g.coach, g.gid, g.m_st[0], spy_pk, NULL));
    fx_sync2(g.coach, g.st[0], g.gid);
    fx_now += 1000;
    r = private_reflection(d + 1, "Privé, nadat de coach een apparaat toevoegde.");
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));

    /* The coach adds the student's phone, and the student vouches for it. */
    struct ww_store *phone = fx_open("phone");
    uint8_t phone_pk[32];
    ww_store_device(phone, phone_pk);
    ASSERT_ERR(ww_device_add(g.st[0], g.gid, g.m_st[0], phone_pk, NULL), WW_ENOTFOUND);
    ASSERT_OK(ww_device_add(g.coach, g.gid, g.m_st[0], phone_pk, NULL));
    fx_sync(g.coach, g.st[0], g.gid, 256);
    uint8_t coach_pk[32];
    ww_store_device(g.coach, coach_pk); /* another member's device: not the student's to vouch */
    ASSERT_ERR(ww_device_add(g.st[0], g.gid, g.m_st[0], coach_pk, NULL), WW_EROLE);
    ASSERT_OK(ww_device_add(g.st[0], g.gid, g.m_st[0], phone_pk, NULL));
    fx_now += 1000;
    r = private_reflection(d + 2, "Privé, met de eigen telefoon erbij.");
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
    fx_sync2(g.st[0], g.coach, g.gid);
    fx_sync(g.coach, spy, g.gid, 256);
    fx_sync(g.coach, phone, g.gid, 256);

    ASSERT_EQ(fx_count(spy, "SELECT count(*) FROM reflections"), 3);
    ASSERT_EQ(fx_count(spy, "SELECT count(*) FROM reflections WHERE readable=1"), 0);
    ASSERT_EQ(fx_count(spy, "SELECT count(*) FROM keys WHERE audience=3"), 0);
    ASSERT_EQ(fx_count(phone, "SELECT count(*) FROM reflections WHERE readable=1"), 3);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM reflections WHERE readable=1"), 0);
    /* The owner-added device still holds the group's keys. */
    ASSERT_GT(fx_count(spy, "SELECT count(*) FROM keys WHERE audience=1"), 0);

    /* A SELF key the owner made up and wrapped for the student is refused: otherwise the
     * student's device might write with a key the coach knows. */
    struct ww_body *b = calloc(1, sizeof *b);
    ASSERT(b);
    b->kind = WW_KIND_KEY_SHARE;
    b->u.keys.epoch = 1;
    b->u.keys.n_wraps = 1;
    struct ww_wrap *w = &b->u.keys.wraps[0];
    w->audience = WW_AUD_SELF;
    memcpy(w->subject, g.m_st[0], 16);
    ww_store_device(g.st[0], w->device);
    uint8_t key[32] = {7};
    ASSERT_OK(ww_wrap_key(key, w->device, w->sealed));
    struct ww_emit e = {.kind = WW_KIND_KEY_SHARE, .audience = WW_AUD_PLAIN, .body = b};
    ASSERT_ERR(ww_emit_tx(g.coach, g.gid, &e, NULL), WW_EROLE);
    /* Nor may the owner-added device hand a key of its own to the student's devices. */
    ww_store_device(g.st[0], w->device);
    ASSERT_OK(ww_wrap_key(key, w->device, w->sealed));
    ASSERT_ERR(ww_emit_tx(spy, g.gid, &e, NULL), WW_EROLE);
    free(b);
    ww_store_close(phone);
    ww_store_close(spy);
    fx_group_close(&g);
}

/* A version 2 store (its tables as version 2 had them) learns which devices were vouched for from
 * its log: a device the owner added to another member is not; the owner's own second device and
 * every member.add device are. */
TEST(trust_migration_marks_owner_added_devices)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    struct ww_store *x = fx_open("x");
    uint8_t pk[32], coach_member[16];
    ww_store_device(x, pk);
    ASSERT_OK(ww_device_add(g.coach, g.gid, g.m_st[0], pk, NULL));
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM devices WHERE vouched=0"), 1);
    struct ww_store *laptop = fx_open("laptop");
    ww_store_device(laptop, pk);
    fx_coach_member(g.coach, coach_member);
    ASSERT_OK(ww_device_add(g.coach, g.gid, coach_member, pk, NULL));
    ASSERT_EQ(sqlite3_exec(g.coach->db,
                           "ALTER TABLE devices DROP COLUMN vouched; DROP INDEX pending_expires;"
                           "ALTER TABLE pending DROP COLUMN stranger;"
                           "ALTER TABLE pending DROP COLUMN expires; DROP TABLE invites;"
                           "DROP TABLE redemptions; DROP TABLE sync_reports;"
                           "DROP TABLE sync_held; DROP TABLE sync_local; DROP TABLE group_climates;"
                           "DROP TABLE agg_pins; DROP TABLE climate_shares; DROP TABLE quotas;"
                           "DROP TABLE device_invites; ALTER TABLE devices DROP COLUMN cutoff;"
                           "ALTER TABLE devices DROP COLUMN pin;"
                           "DROP TABLE recoveries;"
                           "ALTER TABLE members DROP COLUMN profile_hlc;"
                           "ALTER TABLE members DROP COLUMN profile_epoch;"
                           "DROP TABLE invite_secrets;"
                           "PRAGMA user_version=3",
                           NULL, NULL, NULL),
              SQLITE_OK);
    ww_store_close(g.coach);
    g.coach = fx_open("coach");
    ASSERT_EQ(fx_count(g.coach, "PRAGMA user_version"), WW_SCHEMA_VERSION);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM devices"), 4);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM devices WHERE vouched=0"), 1);
    ww_store_close(laptop);
    ww_store_close(x);
    fx_group_close(&g);
}

/* Applies events[0..n) in batches of at most 200; returns the sums of the results. */
static struct ww_apply_result apply_all(struct ww_store *s, struct fx_ev *ev, size_t n)
{
    struct ww_apply_result sum;
    memset(&sum, 0, sizeof sum);
    const uint8_t *raws[200];
    size_t lens[200];
    for (size_t i = 0; i < n; i += 200) {
        size_t k = n - i < 200 ? n - i : 200;
        for (size_t j = 0; j < k; j++) {
            raws[j] = ev[i + j].raw;
            lens[j] = ev[i + j].len;
        }
        struct ww_apply_result r;
        ASSERT_OK(ww_sync_apply(s, raws, lens, k, &r));
        sum.accepted += r.accepted;
        sum.deferred += r.deferred;
        sum.rejected += r.rejected;
    }
    return sum;
}

/* Outsiders with self-made keys flood a student's pending table, from one key and from
 * many; the owner's events, arriving in reverse order, are still kept aside and applied
 * once their predecessor comes. A day later the outsiders' rows have expired. */
TEST(trust_outsider_flood_leaves_room_for_the_group)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    enum { ONE = 3000, KEYS = 16, EACH = 100 };
    static struct fx_ev ev[ONE + KEYS * EACH];
    struct ww_store *x = fx_open("x");
    fx_sync(g.coach, x, g.gid, 256); /* to seal for the group, not to join it */
    for (size_t i = 0; i < ONE; i++)
        fx_stuck_event(x, g.gid, 2 + i, &ev[i]);
    for (size_t k = 0; k < KEYS; k++) {
        char name[16];
        snprintf(name, sizeof name, "x%zu", k);
        struct ww_store *y = fx_open(name);
        fx_sync(g.coach, y, g.gid, 256);
        for (size_t i = 0; i < EACH; i++)
            fx_stuck_event(y, g.gid, 2 + i, &ev[ONE + k * EACH + i]);
        ww_store_close(y);
    }
    struct ww_apply_result r = apply_all(g.st[0], ev, ONE + KEYS * EACH);
    ASSERT_EQ(r.accepted, 0);
    ASSERT_LE(r.deferred, 512);
    ASSERT_LE(fx_count(g.st[0], "SELECT count(*) FROM pending"), 512);

    /* The owner adds a member and a device, and schedules: its events arrive last first. */
    struct ww_store *y = fx_open("y"), *z = fx_open("z");
    uint8_t pk[32], m[16];
    ww_store_device(y, pk);
    ASSERT_OK(ww_member_add(g.coach, g.gid, WW_ROLE_STUDENT, "Y", 1, 1, pk, m));
    ww_store_device(z, pk);
    ASSERT_OK(ww_device_add(g.coach, g.gid, g.m_st[1], pk, NULL));
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, d, "W02", NULL));
    struct ww_vv_item vv[64];
    size_t n_vv = 0;
    ASSERT_OK(ww_sync_vv(g.st[0], g.gid, vv, 64, &n_vv));
    struct fx_bag bag = {.n = 0};
    int more = 0;
    ASSERT_OK(ww_sync_missing(g.coach, g.gid, vv, n_vv, 256, 1u << 20, fx_bag_add, &bag, &more));
    ASSERT_EQ(bag.n, 6); /* member.add, key.share, member.profile; device.add, key.share; the day */
    for (size_t i = bag.n; i-- > 0;) {
        const uint8_t *raw = bag.raw[i];
        size_t len = bag.len[i];
        ASSERT_OK(ww_sync_apply(g.st[0], &raw, &len, 1, &r));
        ASSERT_EQ(r.deferred, i > 0);
        ASSERT_EQ(r.accepted, i == 0 ? 6 : 0);
    }
    fx_bag_free(&bag);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM members"), 4);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM devices"), 5);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM schedule"), 1);

    /* A day later the outsiders' rows have expired: new ones take their place. */
    long before = fx_count(g.st[0], "SELECT count(*) FROM pending");
    ASSERT_GT(before, 0);
    fx_now += 25ll * 3600 * 1000;
    for (size_t i = 0; i < 10; i++)
        fx_stuck_event(x, g.gid, ONE + 10 + i, &ev[i]);
    r = apply_all(g.st[0], ev, 10);
    ASSERT_EQ(r.deferred, 10);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM pending"), 10);
    ww_store_close(z);
    ww_store_close(y);
    ww_store_close(x);
    fx_group_close(&g);
}

/* A student's phone whose clock runs 20 hours fast: its event is applied (it is within the
 * skew a replica accepts), but the coach's clock moves at most WW_MAX_DRAG_MS with it, so
 * the coach's next event is stamped with its own time. A stranger's event 3 days ahead can
 * never become due before its row would expire: it is refused rather than kept. */
TEST(trust_a_fast_clock_drags_nobody_far)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    int64_t now = fx_now;
    fx_now = now + 20ll * 3600 * 1000;
    ASSERT_OK(ww_day_off(g.st[0], g.gid, d, 1, NULL));
    fx_now = now;
    fx_sync(g.st[0], g.coach, g.gid, 256);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM days_off"), 1);
    ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, d, "W02", NULL));
    long ahead = fx_count(g.coach, "SELECT (hlc >> 16) FROM schedule") - (long)now;
    ASSERT_GE(ahead, 0);
    ASSERT_LE(ahead, WW_MAX_DRAG_MS + 1);

    struct ww_store *x = fx_open("x");
    fx_sync(g.coach, x, g.gid, 256);
    static struct fx_ev ev;
    fx_now = now + 3ll * 24 * 3600 * 1000;
    fx_stuck_event(x, g.gid, 2, &ev);
    fx_now = now;
    struct ww_apply_result r = fx_apply1(g.coach, &ev);
    ASSERT_EQ(r.rejected, 1);
    ASSERT_ERR(r.first_error, WW_ERANGE);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM pending"), 0);
    ww_store_close(x);
    fx_group_close(&g);
}

/* The phone a student vouched for vouches for a tablet the coach added; the laptop, having
 * heard of it, shares its SELF key with the tablet. A replica that gets the laptop's key.share
 * before the phone's device.add keeps it waiting rather than refusing it, and applies it once the
 * device.add comes: the tablet reads the private reflection through the coach's replica. */
TEST(trust_self_key_for_a_device_vouched_by_another_device_waits)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    struct ww_store *phone = fx_open("phone"), *tablet = fx_open("tablet");
    uint8_t pk[32];
    ww_store_device(phone, pk);
    ASSERT_OK(ww_device_add(g.coach, g.gid, g.m_st[0], pk, NULL));
    fx_sync(g.coach, g.st[0], g.gid, 256);
    ASSERT_OK(ww_device_add(g.st[0], g.gid, g.m_st[0], pk, NULL));
    fx_sync2(g.st[0], g.coach, g.gid);
    fx_sync(g.coach, phone, g.gid, 256);
    ww_store_device(tablet, pk);
    ASSERT_OK(ww_device_add(g.coach, g.gid, g.m_st[0], pk, NULL));
    fx_sync(g.coach, phone, g.gid, 256);
    ASSERT_OK(ww_device_add(phone, g.gid, g.m_st[0], pk, NULL));
    fx_sync(phone, g.st[0], g.gid, 256);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    struct ww_reflection r = private_reflection(d, "Privé, ook voor de tablet.");
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));

    /* The coach hears the laptop first: the phone's events only later. */
    struct ww_vv_item vv[64];
    size_t n_vv = 0;
    ASSERT_OK(ww_sync_vv(g.coach, g.gid, vv, 64, &n_vv));
    struct fx_bag bag = {.n = 0};
    int more = 0;
    ASSERT_OK(ww_sync_missing(g.st[0], g.gid, vv, n_vv, 256, 1u << 20, fx_bag_add, &bag, &more));
    uint8_t phone_pk[32];
    ww_store_device(phone, phone_pk);
    size_t waited = 0;
    for (size_t i = 0; i < bag.n; i++) {
        struct ww_envelope env;
        ASSERT_OK(ww_envelope_decode(bag.raw[i], bag.len[i], &env));
        if (!memcmp(env.h.author, phone_pk, 32))
            continue;
        const uint8_t *raw = bag.raw[i];
        size_t len = bag.len[i];
        struct ww_apply_result res;
        ASSERT_OK(ww_sync_apply(g.coach, &raw, &len, 1, &res));
        ASSERT_EQ(res.rejected, 0);
        waited += res.deferred;
    }
    fx_bag_free(&bag);
    ASSERT_GT(waited, 0);
    fx_sync(phone, g.coach, g.gid, 256);
    fx_sync(g.st[0], g.coach, g.gid, 256);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM pending"), 0);
    fx_sync(g.coach, tablet, g.gid, 256);
    ASSERT_EQ(fx_count(tablet, "SELECT count(*) FROM reflections WHERE readable=1"), 1);
    ww_store_close(tablet);
    ww_store_close(phone);
    fx_group_close(&g);
}

/* Two events of one seq, sealed by two copies of one device; the lower hash first. */
static void fork_pair(struct fx_group *g, struct ww_store *backup, uint32_t date, struct fx_ev *lo,
                      struct fx_ev *hi)
{
    struct ww_vv_item vv[64];
    size_t n_vv = 0;
    ASSERT_OK(ww_sync_vv(g->coach, g->gid, vv, 64, &n_vv));
    uint8_t h1[32], h2[32];
    ASSERT_OK(ww_day_off(g->st[0], g->gid, date, 1, h1));
    ASSERT_OK(ww_day_off(backup, g->gid, date + 1, 1, h2));
    struct fx_bag one = {.n = 0}, two = {.n = 0};
    int more;
    ASSERT_OK(ww_sync_missing(g->st[0], g->gid, vv, n_vv, 1, 1u << 20, fx_bag_add, &one, &more));
    ASSERT_OK(ww_sync_missing(backup, g->gid, vv, n_vv, 1, 1u << 20, fx_bag_add, &two, &more));
    int first_lower = memcmp(h1, h2, 32) < 0;
    struct fx_bag *l = first_lower ? &one : &two, *h = first_lower ? &two : &one;
    memcpy(lo->raw, l->raw[0], l->len[0]);
    lo->len = l->len[0];
    memcpy(hi->raw, h->raw[0], h->len[0]);
    hi->len = h->len[0];
    fx_bag_free(&one);
    fx_bag_free(&two);
}

/* Each fork that a lower hash wins makes a replica derive the group again: one author gets
 * WW_MAX_FORKS of those, and then what is held stays. */
TEST(trust_fork_take_overs_are_bounded_per_author)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    struct ww_store *backup = fx_open_db("student1", "backup.db");
    fx_sync(g.coach, backup, g.gid, 256);
    static struct fx_ev lo, hi;
    fork_pair(&g, backup, d, &lo, &hi);
    struct ww_apply_result r = fx_apply1(g.coach, &hi);
    ASSERT_EQ(r.accepted, 1);
    r = fx_apply1(g.coach, &lo);
    ASSERT_EQ(r.accepted, 1); /* the lower hash takes over */
    ASSERT_EQ(r.forks, 0);

    /* As many forks of the author recorded as it may have: the next one does not. */
    for (int i = 1; i < WW_MAX_FORKS; i++) {
        char sql[200];
        snprintf(sql, sizeof sql,
                 "INSERT INTO forks SELECT gid, author, seq + %d, hash_held, hash_seen, raw_seen "
                 "FROM forks LIMIT 1",
                 i * 1000);
        ASSERT_EQ(sqlite3_exec(g.coach->db, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    ww_store_close(backup);
    backup = fx_open_db("student1", "backup2.db");
    fx_sync(g.coach, backup, g.gid, 256);
    fx_sync(g.coach, g.st[0], g.gid, 256);
    fx_now += 1000;
    fork_pair(&g, backup, d + 10, &lo, &hi);
    ASSERT_EQ(fx_apply1(g.coach, &hi).accepted, 1);
    r = fx_apply1(g.coach, &lo);
    ASSERT_EQ(r.accepted, 0);
    ASSERT_EQ(r.forks, 1);
    ww_store_close(backup);
    fx_group_close(&g);
}
