/*
 * test_apply.c - every way an event from a peer can be refused, and what must still hold
 * afterwards: the store unchanged, nothing already accepted lost. Also duplicates, forks,
 * unknown kinds, events that wait for their cause, erasure, export and a full disk.
 */
#define _GNU_SOURCE 1
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "fixture.h"
#include "runner.h"
#include "seal.h"
#include "store.h"

static void seal(struct ww_store *s, const uint8_t gid[16], uint16_t kind, uint8_t audience,
                 const uint8_t *subject, const uint8_t *ref, size_t ref_len,
                 const struct ww_body *body, const uint8_t *raw_body, size_t raw_len,
                 struct fx_ev *out)
{
    struct ww_buf pt, buf;
    ww_buf_init(&pt, WW_MAX_BODY);
    ww_buf_init(&buf, WW_MAX_EVENT);
    if (body)
        ASSERT_OK(ww_body_encode(body, &pt));
    else
        ASSERT_OK(ww_buf_append(&pt, raw_body, raw_len));
    struct ww_emit e = {
        .kind = kind, .audience = audience, .subject = subject, .ref = ref, .ref_len = ref_len};
    ASSERT_OK(ww_seal(s, gid, &e, pt.p, pt.len, &buf, NULL));
    memcpy(out->raw, buf.p, buf.len);
    out->len = buf.len;
    ww_buf_free(&pt);
    ww_buf_free(&buf);
}

/* Re-signs an envelope after a test changed its header, as its author would. */
static void resign(struct ww_store *author, struct fx_ev *ev, void (*change)(struct ww_envelope *))
{
    struct ww_envelope env;
    ASSERT_OK(ww_envelope_decode(ev->raw, ev->len, &env));
    uint8_t body[WW_MAX_EVENT];
    memcpy(body, env.body.p, env.body.len);
    env.body.p = body;
    change(&env);
    struct ww_buf hb, out;
    ww_buf_init(&hb, 4096);
    ww_buf_init(&out, WW_MAX_EVENT);
    ASSERT_OK(ww_header_encode(&env.h, &hb));
    struct ww_slice hs = {hb.p, hb.len};
    ASSERT_OK(ww_event_sign(author->sk, &hs, env.ct_hash, env.sig));
    ASSERT_OK(ww_envelope_encode(&env, &out));
    memcpy(ev->raw, out.p, out.len);
    ev->len = out.len;
    ww_buf_free(&hb);
    ww_buf_free(&out);
}

static void day_off_body(struct ww_body *b, uint32_t date, uint8_t ref[4])
{
    memset(b, 0, sizeof *b);
    b->kind = WW_KIND_DAY_OFF;
    b->u.day_off.date = date;
    b->u.day_off.off = 1;
    ref[0] = (uint8_t)(date >> 24), ref[1] = (uint8_t)(date >> 16);
    ref[2] = (uint8_t)(date >> 8), ref[3] = (uint8_t)date;
}

/* Asserts the store's materialised state and log did not change. */
#define ASSERT_UNCHANGED(s, digest_before, events_before)                                          \
    do {                                                                                           \
        uint8_t d_[32];                                                                            \
        fx_digest(s, d_);                                                                          \
        ASSERT_MEM_EQ(d_, digest_before, 32);                                                      \
        ASSERT_EQ(fx_count(s, "SELECT count(*) FROM events"), events_before);                      \
    } while (0)

static void break_prev(struct ww_envelope *e)
{
    e->h.prev[0] ^= 1;
}

static void time_goes_back(struct ww_envelope *e)
{
    e->h.hlc = 1;
}

TEST(apply_rejects_bad_signature_hash_chain_and_time)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    struct ww_body b;
    uint8_t ref[4];
    static struct fx_ev first, good, bad;
    day_off_body(&b, d, ref);
    seal(g.st[0], g.gid, WW_KIND_DAY_OFF, WW_AUD_GROUP, NULL, ref, 4, &b, NULL, 0, &first);
    ASSERT_EQ(fx_apply1(g.st[0], &first).accepted, 1);
    ASSERT_EQ(fx_apply1(g.coach, &first).accepted, 1);
    day_off_body(&b, d + 1, ref);
    seal(g.st[0], g.gid, WW_KIND_DAY_OFF, WW_AUD_GROUP, NULL, ref, 4, &b, NULL, 0, &good);
    uint8_t digest[32];
    fx_digest(g.coach, digest);
    long events = fx_count(g.coach, "SELECT count(*) FROM events");

    /* A signature byte changed. */
    bad = good;
    struct ww_envelope env;
    ASSERT_OK(ww_envelope_decode(bad.raw, bad.len, &env));
    ASSERT_GT(env.h.seq, 1);
    uint8_t *sig = memmem(bad.raw, bad.len, env.sig, 64);
    ASSERT(sig);
    sig[10] ^= 1;
    struct ww_apply_result r = fx_apply1(g.coach, &bad);
    ASSERT_EQ(r.rejected, 1);
    ASSERT_ERR(r.first_error, WW_EBADSIG);
    ASSERT_UNCHANGED(g.coach, digest, events);

    /* A ciphertext byte changed: the hash no longer matches. */
    bad = good;
    bad.raw[bad.len - 3] ^= 0x40;
    r = fx_apply1(g.coach, &bad);
    ASSERT_ERR(r.first_error, WW_EBADHASH);
    ASSERT_UNCHANGED(g.coach, digest, events);

    /* Validly signed by the author, but prev is not the previous event's hash: it is on
     * another branch of a fork, and waits for the event it follows (that one may win). */
    bad = good;
    resign(g.st[0], &bad, break_prev);
    r = fx_apply1(g.coach, &bad);
    ASSERT_EQ(r.deferred, 1);
    ASSERT_UNCHANGED(g.coach, digest, events);

    /* Validly signed, but its clock went back past the previous event's. */
    bad = good;
    resign(g.st[0], &bad, time_goes_back);
    r = fx_apply1(g.coach, &bad);
    ASSERT_ERR(r.first_error, WW_ECHAIN);
    ASSERT_UNCHANGED(g.coach, digest, events);

    /* The good event still goes in afterwards: nothing was poisoned. */
    r = fx_apply1(g.coach, &good);
    ASSERT_EQ(r.accepted, 1);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM days_off"), 2);
    /* And again: a duplicate changes nothing. */
    fx_digest(g.coach, digest);
    r = fx_apply1(g.coach, &good);
    ASSERT_EQ(r.duplicates, 1);
    ASSERT_UNCHANGED(g.coach, digest, events + 1);
    fx_group_close(&g);
}

TEST(apply_rejects_role_and_cap_violations_from_peers)
{
    struct fx_group g;
    fx_group_make(&g, 4, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    /* A student writes a schedule (coach only), bypassing its own API. */
    struct ww_body b;
    memset(&b, 0, sizeof b);
    b.kind = WW_KIND_CHALLENGE_SCHEDULE;
    b.u.challenge_schedule.date = d;
    b.u.challenge_schedule.code.p = (const uint8_t *)"W01";
    b.u.challenge_schedule.code.len = 3;
    uint8_t ref[4] = {(uint8_t)(d >> 24), (uint8_t)(d >> 16), (uint8_t)(d >> 8), (uint8_t)d};
    static struct fx_ev ev;
    seal(g.st[0], g.gid, WW_KIND_CHALLENGE_SCHEDULE, WW_AUD_GROUP, NULL, ref, 4, &b, NULL, 0, &ev);
    uint8_t digest[32];
    fx_digest(g.coach, digest);
    long events = fx_count(g.coach, "SELECT count(*) FROM events");
    struct ww_apply_result r = fx_apply1(g.coach, &ev);
    ASSERT_ERR(r.first_error, WW_EROLE);
    ASSERT_UNCHANGED(g.coach, digest, events);

    /* The owner's own fifth student, sealed without the local check, is refused by every
     * replica that applies it. */
    struct ww_store *five = fx_open("five");
    memset(&b, 0, sizeof b);
    b.kind = WW_KIND_MEMBER_ADD;
    b.u.member_add.member[0] = 5;
    b.u.member_add.role = WW_ROLE_STUDENT;
    b.u.member_add.n_devices = 1;
    ww_store_device(five, b.u.member_add.devices[0]);
    seal(g.coach, g.gid, WW_KIND_MEMBER_ADD, WW_AUD_PLAIN, NULL, NULL, 0, &b, NULL, 0, &ev);
    fx_digest(g.st[1], digest);
    events = fx_count(g.st[1], "SELECT count(*) FROM events");
    r = fx_apply1(g.st[1], &ev);
    ASSERT_ERR(r.first_error, WW_ESTUDENTCAP);
    ASSERT_UNCHANGED(g.st[1], digest, events);
    ww_store_close(five);
    fx_group_close(&g);
}

/* Applies the owner's crafted event on its own device (so that its next one follows it)
 * and on the second student's; returns how many that student accepted. */
static size_t apply_both(struct fx_group *g, const struct fx_ev *ev)
{
    ASSERT_EQ(fx_apply1(g->coach, ev).accepted, 1);
    return fx_apply1(g->st[1], ev).accepted;
}

/* A member's profile: the owner's alone, about the member its ref names, with the year its
 * role needs; a profile that breaks a rule is held unread, as on a device without the key. */
TEST(apply_member_profile_rules)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    struct ww_body b;
    memset(&b, 0, sizeof b);
    b.kind = WW_KIND_MEMBER_PROFILE;
    memcpy(b.u.member_profile.member, g.m_st[0], 16);
    b.u.member_profile.alias = ww_slice_of("Mallory");
    b.u.member_profile.year = 2;
    static struct fx_ev ev;
    /* A student renaming itself (or another): the role may not write it. */
    seal(g.st[0], g.gid, WW_KIND_MEMBER_PROFILE, WW_AUD_GROUP, NULL, g.m_st[0], 16, &b, NULL, 0,
         &ev);
    uint8_t digest[32];
    fx_digest(g.st[1], digest);
    long events = fx_count(g.st[1], "SELECT count(*) FROM events");
    ASSERT_ERR(fx_apply1(g.st[1], &ev).first_error, WW_EROLE);
    ASSERT_UNCHANGED(g.st[1], digest, events);
    /* The owner's, to another audience or without its ref: refused. */
    seal(g.coach, g.gid, WW_KIND_MEMBER_PROFILE, WW_AUD_PLAIN, NULL, g.m_st[0], 16, &b, NULL, 0,
         &ev);
    ASSERT_ERR(fx_apply1(g.st[1], &ev).first_error, WW_EINVAL);
    seal(g.coach, g.gid, WW_KIND_MEMBER_PROFILE, WW_AUD_GROUP, NULL, NULL, 0, &b, NULL, 0, &ev);
    ASSERT_ERR(fx_apply1(g.st[1], &ev).first_error, WW_EINVAL);
    /* The owner's, about another member than its ref, or with year 0 for a student: held
     * unread, so the name stays. */
    seal(g.coach, g.gid, WW_KIND_MEMBER_PROFILE, WW_AUD_GROUP, NULL, g.m_st[1], 16, &b, NULL, 0,
         &ev);
    ASSERT_EQ(apply_both(&g, &ev), 1);
    b.u.member_profile.year = 0;
    seal(g.coach, g.gid, WW_KIND_MEMBER_PROFILE, WW_AUD_GROUP, NULL, g.m_st[0], 16, &b, NULL, 0,
         &ev);
    ASSERT_EQ(apply_both(&g, &ev), 1);
    ASSERT_EQ(fx_count(g.st[1], "SELECT count(*) FROM members WHERE alias='Mallory'"), 0);
    /* A good one replaces the name, on the devices that read it. */
    b.u.member_profile.year = 2;
    seal(g.coach, g.gid, WW_KIND_MEMBER_PROFILE, WW_AUD_GROUP, NULL, g.m_st[0], 16, &b, NULL, 0,
         &ev);
    ASSERT_EQ(apply_both(&g, &ev), 1);
    ASSERT_EQ(fx_count(g.st[1], "SELECT count(*) FROM members WHERE alias='Mallory' AND year=2"),
              1);
    fx_group_close(&g);
}

TEST(apply_defers_until_cause_arrives)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    ASSERT_OK(ww_day_off(g.st[0], g.gid, d, 1, NULL));
    /* A replica of the coach receives the student's events before the coach's: they wait
     * (group, author and epoch are unknown there) and are not counted as held. */
    struct ww_store *replica = fx_open_db("coach", "replica.db");
    struct ww_vv_item peer[1];
    ww_store_device(g.coach, peer[0].author);
    peer[0].seq = 1000000; /* "I have all of the coach's": only the student's come */
    struct fx_bag c = {.n = 0};
    int more = 0;
    ASSERT_OK(ww_sync_missing(g.st[0], g.gid, peer, 1, 256, 1u << 20, fx_bag_add, &c, &more));
    ASSERT_GT(c.n, 0);
    struct ww_apply_result r;
    ASSERT_OK(ww_sync_apply(replica, (const uint8_t *const *)c.raw, c.len, c.n, &r));
    ASSERT_EQ(r.deferred, c.n);
    ASSERT_EQ(r.accepted, 0);
    size_t got = c.n;
    fx_bag_free(&c);
    ASSERT_EQ(fx_count(replica, "SELECT count(*) FROM events"), 0);
    ASSERT_EQ(fx_count(replica, "SELECT count(*) FROM pending"), (long)got);
    struct ww_vv_item vv[64];
    size_t held = 9;
    ASSERT_OK(ww_sync_vv(replica, g.gid, vv, 64, &held));
    ASSERT_EQ(held, 0);
    /* Once the coach's events arrive, everything falls into place. */
    fx_sync(g.coach, replica, g.gid, 256);
    ASSERT_EQ(fx_count(replica, "SELECT count(*) FROM pending"), 0);
    ASSERT_EQ(fx_count(replica, "SELECT count(*) FROM days_off"), 1);
    fx_sync(g.st[0], g.coach, g.gid, 256);
    uint8_t a[32], b2[32];
    fx_digest(replica, a);
    fx_digest(g.coach, b2);
    ASSERT_MEM_EQ(a, b2, 32);
    ww_store_close(replica);
    fx_group_close(&g);
}

TEST(apply_detects_forks)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    /* A restored backup: the same author writes two different events at the same seq. */
    struct ww_body b;
    uint8_t ref[4];
    day_off_body(&b, d + 3, ref);
    static struct fx_ev other;
    seal(g.st[0], g.gid, WW_KIND_DAY_OFF, WW_AUD_GROUP, NULL, ref, 4, &b, NULL, 0, &other);
    uint8_t held[32], seen[32];
    ASSERT_OK(ww_day_off(g.st[0], g.gid, d, 1, held));
    fx_sync(g.st[0], g.coach, g.gid, 256);
    struct ww_envelope env;
    ASSERT_OK(ww_envelope_decode(other.raw, other.len, &env));
    ww_event_hash(&env.header_bytes, env.ct_hash, env.sig, seen);
    struct ww_apply_result r = fx_apply1(g.coach, &other);
    /* One is kept, the lower hash, on every replica; the other is evidence, not merged. */
    int other_wins = memcmp(seen, held, 32) < 0;
    ASSERT_EQ(r.forks, !other_wins);
    ASSERT_EQ(r.accepted, other_wins);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM forks"), 1);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM days_off"), 1);
    ASSERT_EQ(fx_count(g.coach, "SELECT max(date) FROM days_off"), (long)(other_wins ? d + 3 : d));
    fx_group_close(&g);
}

TEST(apply_keeps_and_forwards_unknown_kinds)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    /* kind 200 from a newer version, with a body this version cannot interpret */
    static const uint8_t body[] = {0x93, 0x01, 0xa3, 'n', 'e', 'w', 0xc0};
    static struct fx_ev ev;
    seal(g.st[0], g.gid, 200, WW_AUD_PLAIN, NULL, NULL, 0, NULL, body, sizeof body, &ev);
    struct ww_apply_result r = fx_apply1(g.coach, &ev);
    ASSERT_EQ(r.accepted, 1);
    fx_sync(g.coach, g.st[1], g.gid, 256);
    ASSERT_EQ(fx_count(g.st[1], "SELECT count(*) FROM events WHERE kind=200"), 1);
    fx_group_close(&g);
}

TEST(apply_survives_garbage)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    uint8_t digest[32];
    fx_digest(g.coach, digest);
    long events = fx_count(g.coach, "SELECT count(*) FROM events");
    /* Real events with random damage, and pure noise. */
    struct ww_vv_item vv[1];
    size_t nvv = 0;
    (void)vv;
    (void)nvv;
    static uint8_t bufs[64][2048];
    const uint8_t *raws[64];
    size_t lens[64];
    uint8_t seed[32] = {7};
    for (int round = 0; round < 20; round++) {
        seed[1] = (uint8_t)round;
        for (int i = 0; i < 64; i++) {
            lens[i] = 1 + (size_t)(i * 31 + round) % 2000;
            randombytes_buf_deterministic(bufs[i], lens[i], seed);
            seed[2]++;
            if (i % 4 == 0) { /* a plausible envelope header: array of 4, array of 11 */
                bufs[i][0] = 0x94;
                bufs[i][1] = 0x9b;
                bufs[i][2] = 0x01;
            }
            raws[i] = bufs[i];
        }
        struct ww_apply_result r;
        ASSERT_OK(ww_sync_apply(g.coach, raws, lens, 64, &r));
        ASSERT_EQ(r.accepted, 0);
        ASSERT_EQ(r.rejected, 64);
    }
    ASSERT_UNCHANGED(g.coach, digest, events);
    struct ww_apply_result r;
    ASSERT_ERR(ww_sync_apply(g.coach, raws, lens, WW_MAX_BATCH + 1, &r), WW_ETOOBIG);
    fx_group_close(&g);
}

/* Events of kinds day.off, reflection.put and signoff.put that still carry a body. */
static long bodies_left(struct ww_store *s, const uint8_t gid[16])
{
    sqlite3_stmt *st;
    ASSERT_EQ(sqlite3_prepare_v2(s->db,
                                 "SELECT e.raw FROM logs l JOIN events e ON e.id >> 40 = "
                                 "l.id WHERE l.gid=?1 AND e.kind IN (9, 10, 15)",
                                 -1, &st, NULL),
              SQLITE_OK);
    sqlite3_bind_blob(st, 1, gid, 16, SQLITE_STATIC);
    long n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct ww_envelope e;
        ASSERT_OK(ww_envelope_decode(sqlite3_column_blob(st, 0),
                                     (size_t)sqlite3_column_bytes(st, 0), &e));
        n += !e.erased;
    }
    sqlite3_finalize(st);
    return n;
}

static void keep_json(char *json, char *out, size_t cap)
{
    snprintf(out, cap, "%s", json);
    ww_free_string(json);
}

TEST(apply_erasure_drops_bodies_and_chain_still_verifies)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    struct ww_reflection r;
    memset(&r, 0, sizeof r);
    r.date = d;
    r.status = WW_STATUS_DONE;
    r.reflectie = "Persoonlijke tekst van student een.";
    r.share = WW_SHARE_COACH;
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
    ASSERT_OK(ww_day_off(g.st[0], g.gid, d + 1, 1, NULL));
    ASSERT_OK(ww_signoff_put(g.coach, g.gid, g.m_st[0], "W01", d, WW_LEVEL_GOOD, "Over student een",
                             NULL));
    fx_group_sync(&g);

    char *json = NULL;
    static char text[1 << 16];
    ASSERT_OK(ww_member_export(g.coach, g.gid, g.m_st[0], &json));
    keep_json(json, text, sizeof text);
    ASSERT(strstr(text, "Persoonlijke tekst van student een."));
    ASSERT(strstr(text, "\"format\":\"wegwijs-export-v1\""));
    ASSERT(strstr(text, "Over student een"));

    /* Only the owner or the member may erase. */
    ASSERT_ERR(ww_member_erase(g.st[1], g.gid, g.m_st[0], NULL), WW_EROLE);
    ASSERT_OK(ww_member_erase(g.coach, g.gid, g.m_st[0], NULL));
    fx_group_sync(&g);
    struct ww_store *all[] = {g.coach, g.st[0], g.st[1]};
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(fx_count(all[i], "SELECT count(*) FROM reflections"), 0);
        ASSERT_EQ(fx_count(all[i], "SELECT count(*) FROM days_off"), 0);
        ASSERT_EQ(fx_count(all[i], "SELECT count(*) FROM signoffs"), 0);
    }
    ASSERT_OK(ww_member_export(g.coach, g.gid, g.m_st[0], &json));
    keep_json(json, text, sizeof text);
    ASSERT(!strstr(text, "Persoonlijke tekst"));
    ASSERT(strstr(text, "\"erased\":1"));
    /* No ciphertext of the member's records is left anywhere... */
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(bodies_left(all[i], g.gid), 0);
    ASSERT_GE(fx_count(g.coach, "SELECT count(*) FROM events WHERE kind IN (9, 10, 15)"), 3);
    /* ...and a brand-new replica still accepts the whole log: every chain verifies. */
    struct ww_store *fresh = fx_open("fresh");
    size_t got = fx_sync(g.coach, fresh, g.gid, 7);
    ASSERT_EQ((long)got, fx_count(g.coach, "SELECT count(*) FROM events"));
    ASSERT_EQ(fx_count(fresh, "SELECT count(*) FROM pending"), 0);
    ww_store_close(fresh);
    fx_group_close(&g);
}

TEST(apply_full_disk_leaves_store_consistent)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    long pages = fx_count(g.st[0], "PRAGMA page_count");
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count=%ld", pages);
    ASSERT_EQ(fx_count(g.st[0], sql), pages);
    long events = fx_count(g.st[0], "SELECT count(*) FROM events");
    static char big[401];
    memset(big, 'x', 400);
    struct ww_reflection r;
    memset(&r, 0, sizeof r);
    r.status = WW_STATUS_DONE;
    r.situatie = big, r.actie = big, r.reflectie = big;
    r.share = WW_SHARE_GROUP;
    int rc = 0;
    for (uint32_t i = 0; i < 200 && rc == 0; i++) {
        r.date = d + i;
        rc = ww_reflection_put(g.st[0], g.gid, &r, NULL);
    }
    ASSERT_ERR(rc, WW_EFULL);
    long after = fx_count(g.st[0], "SELECT count(*) FROM events");
    ASSERT_GE(after, events);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM reflections"), after - events);
    /* Once there is room again, writing and syncing go on where they stopped. */
    ASSERT_EQ(fx_count(g.st[0], "PRAGMA max_page_count=1000000"), 1000000);
    r.date = d + 500;
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
    fx_sync(g.st[0], g.coach, g.gid, 256);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM reflections"), after - events + 1);
    fx_group_close(&g);
}

TEST(apply_erasure_before_late_events_still_forwards_cleanly)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    /* Offline, student1 writes privately: a SELF key.share and a reflection. */
    struct ww_reflection r;
    memset(&r, 0, sizeof r);
    r.date = d;
    r.status = WW_STATUS_DONE;
    r.reflectie = "Laat binnengekomen tekst.";
    r.share = WW_SHARE_SELF;
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
    /* Meanwhile, later by the clock, the coach erases student1. */
    fx_now += 60000;
    ASSERT_OK(ww_member_erase(g.coach, g.gid, g.m_st[0], NULL));
    /* Then student1's events reach the coach, and the coach's log a new replica. */
    fx_sync(g.st[0], g.coach, g.gid, 256);
    ASSERT_EQ(bodies_left(g.coach, g.gid), 0);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM events WHERE kind=6"), 2 + 1);
    struct ww_store *fresh = fx_open("fresh");
    size_t got = fx_sync(g.coach, fresh, g.gid, 256); /* asserts nothing is rejected */
    ASSERT_EQ((long)got, fx_count(g.coach, "SELECT count(*) FROM events"));
    ASSERT_EQ(fx_count(fresh, "SELECT count(*) FROM pending"), 0);
    ww_store_close(fresh);
    fx_group_close(&g);
}

struct outcomes {
    size_t n, by[6], released;
    int last_reason;
};

static void count_outcome(void *ud, const struct ww_outcome *o)
{
    struct outcomes *c = ud;
    ASSERT_LT(o->outcome, 6);
    c->n++;
    c->by[o->outcome]++;
    if (o->index == WW_OUTCOME_RELEASED) {
        c->released++;
        ASSERT_EQ(o->outcome, WW_OUTCOME_APPLIED); /* released events are news only when applied */
    }
    if (o->outcome == WW_OUTCOME_APPLIED)
        ASSERT(o->hash && o->group && o->event && o->len > 0);
    c->last_reason = o->reason;
}

/* A hub fans out what it applied: every event gets an outcome, released ones included, and
 * a tampered event is told apart from one that breaks a rule. */
TEST(apply_reports_every_outcome)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    ASSERT_OK(ww_day_off(g.st[0], g.gid, d, 1, NULL));
    struct ww_store *replica = fx_open_db("coach", "replica.db");
    struct ww_vv_item peer[1];
    ww_store_device(g.coach, peer[0].author);
    peer[0].seq = 1000000;
    struct fx_bag st = {.n = 0}, co = {.n = 0};
    int more = 0;
    ASSERT_OK(ww_sync_missing(g.st[0], g.gid, peer, 1, 256, 1u << 20, fx_bag_add, &st, &more));
    ASSERT_OK(ww_sync_missing(g.coach, g.gid, NULL, 0, 256, 1u << 20, fx_bag_add, &co, &more));
    ASSERT_GT(st.n, 0);
    struct ww_apply_result r;
    struct outcomes c = {0};
    ASSERT_OK(ww_sync_apply_each(replica, (const uint8_t *const *)st.raw, st.len, st.n, &r,
                                 count_outcome, &c));
    ASSERT_EQ(c.n, st.n);
    ASSERT_EQ(c.by[WW_OUTCOME_DEFERRED], st.n);

    /* In the caller's transaction, nested in another: the nested one's rollback undoes
     * it; committed inside, the outer rollback still undoes it. Nothing of it stays. */
    ASSERT_OK(ww_store_begin(replica));
    ASSERT_OK(ww_store_begin(replica));
    memset(&c, 0, sizeof c);
    ASSERT_OK(ww_sync_apply_each(replica, (const uint8_t *const *)co.raw, co.len, co.n, &r,
                                 count_outcome, &c));
    ASSERT_EQ(c.by[WW_OUTCOME_APPLIED], co.n + st.n);
    ww_store_rollback(replica);
    ASSERT_EQ(fx_count(replica, "SELECT count(*) FROM events"), 0);
    ASSERT_OK(ww_store_begin(replica));
    ASSERT_OK(
        ww_sync_apply_each(replica, (const uint8_t *const *)co.raw, co.len, co.n, &r, NULL, NULL));
    ASSERT_OK(ww_store_commit(replica));
    ASSERT_GT(fx_count(replica, "SELECT count(*) FROM events"), 0);
    ww_store_rollback(replica);
    ASSERT_EQ(fx_count(replica, "SELECT count(*) FROM events"), 0);
    ASSERT_ERR(ww_store_commit(replica), WW_ESTATE);

    /* Committed: the coach's events apply, and the student's waiting ones are released. */
    ASSERT_OK(ww_store_begin(replica));
    memset(&c, 0, sizeof c);
    ASSERT_OK(ww_sync_apply_each(replica, (const uint8_t *const *)co.raw, co.len, co.n, &r,
                                 count_outcome, &c));
    ASSERT_OK(ww_store_commit(replica));
    ASSERT_EQ(c.by[WW_OUTCOME_APPLIED], co.n + st.n);
    ASSERT_EQ(c.released, st.n);
    ASSERT_EQ(fx_count(replica, "SELECT count(*) FROM pending"), 0);

    /* The same again: duplicates. A flipped signature bit: malformed, not a rule. */
    memset(&c, 0, sizeof c);
    ASSERT_OK(ww_sync_apply_each(replica, (const uint8_t *const *)co.raw, co.len, co.n, &r,
                                 count_outcome, &c));
    ASSERT_EQ(c.by[WW_OUTCOME_DUPLICATE], co.n);
    static struct fx_ev bad;
    memcpy(bad.raw, st.raw[0], st.len[0]);
    bad.len = st.len[0];
    struct ww_envelope env;
    ASSERT_OK(ww_envelope_decode(bad.raw, bad.len, &env));
    size_t at = 0;
    while (at + WW_SIG_LEN <= bad.len && memcmp(bad.raw + at, env.sig, WW_SIG_LEN) != 0)
        at++;
    ASSERT_LT(at + WW_SIG_LEN, bad.len + 1);
    bad.raw[at + 10] ^= 1; /* only the signature is wrong */
    struct ww_store *fresh = fx_open_db("coach", "fresh.db");
    const uint8_t *one = bad.raw;
    memset(&c, 0, sizeof c);
    ASSERT_OK(ww_sync_apply_each(fresh, &one, &bad.len, 1, &r, count_outcome, &c));
    ASSERT_EQ(c.by[WW_OUTCOME_MALFORMED], 1);
    ASSERT_ERR(c.last_reason, WW_EBADSIG);
    ww_store_close(fresh);
    fx_bag_free(&st);
    fx_bag_free(&co);
    ww_store_close(replica);
    fx_group_close(&g);
}

/* Authoring calls inside the caller's transaction: each joins it, a failing one undoes only
 * its own writes, and the caller's rollback undoes them all. */
TEST(apply_writes_join_the_callers_transaction)
{
    struct fx_group g;
    fx_group_make(&g, 4, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    long events = fx_count(g.coach, "SELECT count(*) FROM events");
    ASSERT_OK(ww_store_begin(g.coach));
    ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, d, "W01", NULL));
    uint8_t pk[32], sk[64], m[16];
    crypto_sign_keypair(pk, sk);
    ASSERT_ERR(ww_member_add(g.coach, g.gid, WW_ROLE_STUDENT, "Vijf", 1, 1, pk, m), WW_ESTUDENTCAP);
    ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, d + 1, "W02", NULL));
    ww_store_rollback(g.coach);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM events"), events);
    ASSERT_OK(ww_store_begin(g.coach));
    ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, d, "W01", NULL));
    ASSERT_ERR(ww_member_add(g.coach, g.gid, WW_ROLE_STUDENT, "Vijf", 1, 1, pk, m), WW_ESTUDENTCAP);
    ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, d + 1, "W02", NULL));
    ASSERT_OK(ww_store_commit(g.coach));
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM events"), events + 2);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM schedule"), 2);
    fx_group_close(&g);
}

/* A forwarder strips the body of a reflection no erasure covers: the stripped copy is held
 * (the chain goes on), and the intact copy, when it comes, restores the body, which is then
 * read as on first arrival. Bytes a forwarder appends after the body (outside the
 * signature) are refused. */
TEST(apply_stripped_bodies_are_restored_and_unsigned_extras_refused)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    struct ww_reflection r;
    memset(&r, 0, sizeof r);
    r.date = d;
    r.status = WW_STATUS_DONE;
    r.reflectie = "Tekst die een doorgever niet mag weghalen.";
    r.share = WW_SHARE_GROUP;
    uint8_t h[32];
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, h));
    struct ww_store *replica = fx_open_db("coach", "replica.db");
    fx_sync(g.coach, replica, g.gid, 256); /* the group, without the reflection */
    struct ww_vv_item peer[1];
    ww_store_device(g.coach, peer[0].author);
    peer[0].seq = 1000000;
    struct fx_bag c = {.n = 0};
    int more = 0;
    ASSERT_OK(ww_sync_missing(g.st[0], g.gid, peer, 1, 256, 1u << 20, fx_bag_add, &c, &more));
    ASSERT_GT(c.n, 0);
    size_t last = c.n - 1; /* the reflection: the student's newest event */
    struct ww_envelope env;
    ASSERT_OK(ww_envelope_decode(c.raw[last], c.len[last], &env));
    ASSERT_EQ(env.h.kind, WW_KIND_REFLECTION_PUT);

    /* Stripped: held, nothing to read. */
    static struct fx_ev stripped, padded;
    struct ww_buf b;
    ww_buf_init(&b, WW_MAX_EVENT);
    env.erased = 1;
    env.body.p = NULL;
    env.body.len = 0;
    ASSERT_OK(ww_envelope_encode(&env, &b));
    memcpy(stripped.raw, b.p, b.len);
    stripped.len = b.len;
    struct ww_apply_result res;
    ASSERT_OK(ww_sync_apply(replica, (const uint8_t *const *)c.raw, c.len, last, &res));
    ASSERT_EQ(fx_apply1(replica, &stripped).accepted, 1);
    ASSERT_EQ(fx_count(replica, "SELECT count(*) FROM reflections WHERE readable=1"), 0);

    /* Padded after the body: refused as not a valid event. */
    ASSERT_OK(ww_envelope_decode(c.raw[last], c.len[last], &env));
    ASSERT_GT(c.len[last], 2);
    memcpy(padded.raw, c.raw[last], c.len[last]);
    padded.raw[0] = (uint8_t)(padded.raw[0] + 1); /* fixarray of 4 -> 5 elements */
    padded.raw[c.len[last]] = 0xc0;               /* ... the fifth: nil */
    padded.len = c.len[last] + 1;
    struct ww_envelope check;
    ASSERT_OK(ww_envelope_decode(padded.raw, padded.len, &check));
    ASSERT_EQ(check.ext.n, 1);
    struct ww_apply_result pr = fx_apply1(replica, &padded);
    ASSERT_EQ(pr.rejected, 1);
    ASSERT_ERR(pr.first_error, WW_ETRAILING);

    /* The intact copy restores the body: held whole and readable, byte for byte. */
    const uint8_t *one = c.raw[last];
    ASSERT_OK(ww_sync_apply(replica, &one, &c.len[last], 1, &res));
    ASSERT_EQ(res.accepted, 1);
    ASSERT_EQ(fx_count(replica, "SELECT count(*) FROM reflections WHERE readable=1"), 1);
    struct fx_bag back = {.n = 0};
    ASSERT_OK(ww_sync_missing(replica, g.gid, peer, 1, 256, 1u << 20, fx_bag_add, &back, &more));
    ASSERT_EQ(back.n, c.n);
    ASSERT_EQ(back.len[last], c.len[last]);
    ASSERT_MEM_EQ(back.raw[last], c.raw[last], c.len[last]);
    fx_bag_free(&back);
    /* Again: now a duplicate. */
    ASSERT_OK(ww_sync_apply(replica, &one, &c.len[last], 1, &res));
    ASSERT_EQ(res.duplicates, 1);
    ww_buf_free(&b);
    fx_bag_free(&c);
    ww_store_close(replica);
    fx_group_close(&g);
}

static void first_author(void *ud, const uint8_t *ev, size_t len)
{
    uint8_t **out = ud;
    struct ww_vv_item vv[1];
    size_t n = 0;
    uint8_t gid[WW_ID_LEN];
    memcpy(gid, *out, WW_ID_LEN); /* the group rides in the buffer until the first event */
    if (ww_sync_vv_advance(gid, ev, len, vv, &n, 1) == 0 && n == 1)
        memcpy(*out, vv[0].author, WW_KEY_LEN);
}

/* The first event a peer is sent: the owner device's log first, then this device's own
 * writes, then the others in hlc order. */
TEST(apply_missing_sends_the_owners_log_then_own_writes_first)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    struct ww_vv_item before[WW_MAX_VV];
    size_t n_before = 0;
    ASSERT_OK(ww_sync_vv(g.st[0], g.gid, before, WW_MAX_VV, &n_before));
    ASSERT_OK(ww_day_off(g.st[1], g.gid, d + 1, 1, NULL));
    ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, d + 2, "W04", NULL));
    ASSERT_OK(ww_day_off(g.st[0], g.gid, d + 3, 1, NULL));
    fx_group_sync(&g);

    uint8_t st0[WW_KEY_LEN], coach[WW_KEY_LEN];
    ww_store_device(g.st[0], st0);
    ww_store_device(g.coach, coach);
    uint8_t buf[WW_KEY_LEN], *p = buf;
    int more = 0;
    /* A peer that holds what st0 held before: the owner's schedule goes first, though
     * st1's day.off is older. */
    memcpy(buf, g.gid, WW_ID_LEN);
    ASSERT_OK(
        ww_sync_missing(g.st[0], g.gid, before, n_before, 1, 1 << 20, first_author, &p, &more));
    ASSERT_MEM_EQ(buf, coach, WW_KEY_LEN);
    /* One that also holds the owner's: st0's own write, though newest. */
    struct ww_vv_item now[WW_MAX_VV], peer[WW_MAX_VV];
    size_t n = 0;
    ASSERT_OK(ww_sync_vv(g.st[0], g.gid, now, WW_MAX_VV, &n));
    memcpy(peer, before, n_before * sizeof *before);
    for (size_t i = 0; i < n_before; i++)
        for (size_t k = 0; k < n; k++)
            if (!memcmp(peer[i].author, coach, WW_KEY_LEN) &&
                !memcmp(now[k].author, coach, WW_KEY_LEN))
                peer[i] = now[k];
    memcpy(buf, g.gid, WW_ID_LEN);
    ASSERT_OK(ww_sync_missing(g.st[0], g.gid, peer, n_before, 1, 1 << 20, first_author, &p, &more));
    ASSERT_MEM_EQ(buf, st0, WW_KEY_LEN);
    fx_group_close(&g);
}
