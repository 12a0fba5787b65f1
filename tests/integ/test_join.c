/*
 * test_join.c - joining by invite over real sockets on 127.0.0.1, in one process: a coach
 * node, a hub node and new devices on one libuv loop, ephemeral ports, every wait bounded.
 */
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "loop.h"
#include "runner.h"
#include "wegwijs_sync.h"

struct watch {
    struct loop_watch c; /* first: loop_on_conn counts into it */
    int waiting, admitted, failed, join_error;
    uint8_t group[WW_ID_LEN];
};

static void on_join(void *ud, const struct ww_join_info *info)
{
    struct watch *w = ud;
    if (info->state == WW_JOIN_WAITING)
        w->waiting++;
    else if (info->state == WW_JOIN_ADMITTED)
        w->admitted++;
    else {
        w->failed++;
        w->join_error = info->error;
    }
    memcpy(w->group, info->group, WW_ID_LEN);
}

static struct ww_node *node(uv_loop_t *loop, struct ww_store *s, int hub, int admit,
                            struct watch *w)
{
    struct ww_node_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = s;
    cfg.hub = hub;
    cfg.accept_new_groups = hub;
    cfg.admit_invites = admit;
    cfg.ud = w;
    cfg.on_conn = loop_on_conn;
    cfg.on_join = on_join;
    /* A hub confirms its own aggregator key and the organisation's B in every REDEEMED. */
    cfg.has_agg_b = hub;
    memset(cfg.agg_b, 0xb2, sizeof cfg.agg_b);
    struct ww_node *n = NULL;
    ASSERT_OK(ww_node_new(loop, &cfg, &n));
    return n;
}

/* The scene: a group with one student whose hub listens on this loop. */
struct scene {
    struct fx_group g;
    struct ww_store *hub_store;
    uv_loop_t loop;
    struct watch wh, wc;
    struct ww_node *hub, *coach;
    int port;
};

static void scene_open(struct scene *sc, int admit)
{
    memset(sc, 0, sizeof *sc);
    fx_group_make(&sc->g, 1, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(sc->g.coach, sc->g.gid, &d));
    ASSERT_OK(ww_challenge_schedule(sc->g.coach, sc->g.gid, d, "W04", NULL));
    sc->hub_store = fx_open("hub");
    ASSERT_OK(uv_loop_init(&sc->loop));
    sc->hub = node(&sc->loop, sc->hub_store, 1, 0, &sc->wh);
    sc->coach = node(&sc->loop, sc->g.coach, 0, admit, &sc->wc);
    ASSERT_OK(ww_node_listen(sc->hub, "127.0.0.1", 0));
    sc->port = ww_node_port(sc->hub);
    uint8_t hub_pk[32];
    fx_device(sc->hub_store, hub_pk);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", sc->port);
    ASSERT_OK(ww_group_hub_set(sc->g.coach, sc->g.gid, hub_pk, addr, NULL));
}

/* The coach's device connects and stays connected (live). */
static void coach_live(struct scene *sc)
{
    int want = sc->wc.c.synced + 1;
    ASSERT_OK(ww_node_dial(sc->coach, "127.0.0.1", sc->port, NULL, NULL, 0, 0));
    loop_run_until(&sc->loop, &sc->wc.c.synced, want);
}

/* The coach's device uploads what it wrote and goes away. */
static void coach_once(struct scene *sc)
{
    int want = sc->wc.c.down + 1;
    ASSERT_OK(ww_node_dial(sc->coach, "127.0.0.1", sc->port, NULL, NULL, 0, 1));
    loop_run_until(&sc->loop, &sc->wc.c.down, want);
    ASSERT_OK(sc->wc.c.last_error);
}

static void scene_close(struct scene *sc, struct ww_node **more, size_t n_more)
{
    int n_closed = 0;
    for (size_t i = 0; i < n_more; i++)
        ww_node_close(more[i], loop_closed, &n_closed);
    ww_node_close(sc->coach, loop_closed, &n_closed);
    ww_node_close(sc->hub, loop_closed, &n_closed);
    loop_run_until(&sc->loop, &n_closed, (int)n_more + 2);
    ASSERT_OK(uv_loop_close(&sc->loop));
    ww_store_close(sc->hub_store);
    fx_group_close(&sc->g);
}

static int students(struct ww_store *s, const uint8_t gid[16])
{
    char sql[160];
    (void)gid;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM members WHERE role=%d", WW_ROLE_STUDENT);
    return (int)fx_count(s, sql);
}

TEST(join_a_new_device_joins_and_receives_the_group)
{
    struct scene sc;
    scene_open(&sc, 1);
    char code[WW_INVITE_CODE_MAX];
    ASSERT_OK(ww_invite_create(sc.g.coach, sc.g.gid, WW_ROLE_STUDENT, 0, code, sizeof code, NULL));
    coach_live(&sc);

    struct ww_store *dev = fx_open("new");
    struct watch wd = {0};
    struct ww_node *nd = node(&sc.loop, dev, 0, 0, &wd);
    ASSERT_ERR(ww_node_join(nd, "127.0.0.1:1/AAAA", "Nina", 1, WW_TRACK_BOL), WW_EBADCODE);
    ASSERT_OK(ww_node_join(nd, code, "Nina", 1, WW_TRACK_BOL));
    loop_run_until(&sc.loop, &wd.admitted, 1);
    ASSERT_EQ(wd.failed, 0);
    ASSERT_MEM_EQ(wd.group, sc.g.gid, 16);
    loop_run_until(&sc.loop, &wd.c.synced, 1);
    /* It is a student of the group, holds the group's events and reads them. */
    ASSERT_EQ(students(sc.g.coach, sc.g.gid), 2);
    ASSERT_EQ(fx_count(dev, "SELECT count(*) FROM schedule"), 1);
    ASSERT_EQ(fx_count(dev, "SELECT count(*) FROM members"),
              fx_count(sc.g.coach, "SELECT count(*) FROM members"));
    uint32_t d;
    ASSERT_OK(ww_day_today(dev, sc.g.gid, &d));
    long before = fx_count(sc.g.coach, "SELECT count(*) FROM days_off");
    ASSERT_OK(ww_day_off(dev, sc.g.gid, d, 1, NULL));
    ww_node_notify(nd, sc.g.gid);
    uint64_t start = uv_now(&sc.loop);
    while (fx_count(sc.g.coach, "SELECT count(*) FROM days_off") == before) {
        uv_run(&sc.loop, UV_RUN_ONCE);
        ASSERT_LT(uv_now(&sc.loop) - start, 10000);
    }
    /* The hub keeps no record of the redemption once admitted. */
    ASSERT_EQ(fx_count(sc.hub_store, "SELECT count(*) FROM redemptions"), 0);
    /* The device pinned the aggregators the hub confirmed: its own key as A, B as set. */
    struct ww_climate_info ci;
    uint8_t pk_a[32], pk_b[32];
    ASSERT_OK(ww_store_aggregator_pk(sc.hub_store, pk_a));
    memset(pk_b, 0xb2, 32);
    ASSERT_OK(ww_group_climate_get(dev, sc.g.gid, &ci));
    ASSERT(ci.has_pin);
    ASSERT_MEM_EQ(ci.pin_a, pk_a, 32);
    ASSERT_MEM_EQ(ci.pin_b, pk_b, 32);
    ASSERT_EQ(ci.state, WW_AGGKEYS_NONE); /* the coach named none yet */
    struct ww_node *more[] = {nd};
    scene_close(&sc, more, 1);
    ww_store_close(dev);
}

TEST(join_two_devices_race_for_one_invite)
{
    struct scene sc;
    scene_open(&sc, 1);
    char code[WW_INVITE_CODE_MAX];
    ASSERT_OK(ww_invite_create(sc.g.coach, sc.g.gid, WW_ROLE_STUDENT, 0, code, sizeof code, NULL));
    coach_once(&sc); /* the invite is at the hub; the coach's device is away */

    struct ww_store *da = fx_open("a"), *db = fx_open("b");
    struct watch wa = {0}, wb = {0};
    struct ww_node *na = node(&sc.loop, da, 0, 0, &wa), *nb = node(&sc.loop, db, 0, 0, &wb);
    ASSERT_OK(ww_node_join(na, code, "Anouk", 2, WW_TRACK_BOL));
    ASSERT_OK(ww_node_join(nb, code, "Bram", 2, WW_TRACK_BBL));
    int done = 0;
    uint64_t start = uv_now(&sc.loop);
    while ((done = (wa.waiting || wa.failed) + (wb.waiting || wb.failed)) < 2) {
        uv_run(&sc.loop, UV_RUN_ONCE);
        ASSERT_LT(uv_now(&sc.loop) - start, 10000);
    }
    /* Exactly one waits; the other hears the invite is used. */
    ASSERT_EQ(wa.waiting + wb.waiting, 1);
    ASSERT_EQ(wa.failed + wb.failed, 1);
    struct watch *lost = wa.failed ? &wa : &wb, *won = wa.failed ? &wb : &wa;
    ASSERT_ERR(lost->join_error, WW_EUSED);
    /* The coach's device comes online and admits the one that waits, by itself. */
    coach_live(&sc);
    loop_run_until(&sc.loop, &won->admitted, 1);
    ASSERT_EQ(students(sc.g.coach, sc.g.gid), 2);
    /* The one that lost tries again: still refused. */
    struct ww_node *nl = won == &wa ? nb : na;
    int failed = lost->failed;
    lost->failed = 0;
    lost->waiting = 0;
    ASSERT_OK(ww_node_join(nl, code, "Bram", 2, WW_TRACK_BBL));
    loop_run_until(&sc.loop, &lost->failed, 1);
    ASSERT_EQ(failed, 1);
    ASSERT_ERR(lost->join_error, WW_EUSED);
    ASSERT_EQ(lost->waiting, 0);
    struct ww_node *more[] = {na, nb};
    scene_close(&sc, more, 2);
    ww_store_close(da);
    ww_store_close(db);
}

TEST(join_refuses_expired_revoked_and_a_false_hub)
{
    struct scene sc;
    scene_open(&sc, 1);
    char expired[WW_INVITE_CODE_MAX], revoked[WW_INVITE_CODE_MAX];
    uint8_t inv[32];
    ASSERT_OK(ww_invite_create(sc.g.coach, sc.g.gid, WW_ROLE_STUDENT, fx_now + 60000, expired,
                               sizeof expired, NULL));
    fx_now += 120000;
    ASSERT_OK(
        ww_invite_create(sc.g.coach, sc.g.gid, WW_ROLE_STUDENT, 0, revoked, sizeof revoked, inv));
    ASSERT_OK(ww_invite_revoke(sc.g.coach, sc.g.gid, inv, NULL));
    coach_live(&sc);
    struct ww_store *dev = fx_open("new");
    struct watch wd = {0};
    struct ww_node *nd = node(&sc.loop, dev, 0, 0, &wd);
    ASSERT_OK(ww_node_join(nd, expired, "Nina", 1, WW_TRACK_BOL));
    loop_run_until(&sc.loop, &wd.failed, 1);
    ASSERT_ERR(wd.join_error, WW_EEXPIRED);
    ASSERT_OK(ww_node_join(nd, revoked, "Nina", 1, WW_TRACK_BOL));
    loop_run_until(&sc.loop, &wd.failed, 2);
    ASSERT_ERR(wd.join_error, WW_EREVOKED);
    /* A code whose hub fingerprint is another key: the device stops in the handshake. */
    struct ww_invite_code c;
    ASSERT_OK(ww_invite_code_parse(revoked, &c));
    c.hub_fp[0] ^= 1;
    char other[WW_INVITE_CODE_MAX];
    ASSERT_OK(ww_invite_code_format(&c, other, sizeof other));
    ASSERT_OK(ww_node_join(nd, other, "Nina", 1, WW_TRACK_BOL));
    loop_run_until(&sc.loop, &wd.failed, 3);
    ASSERT_ERR(wd.join_error, WW_EAUTH);
    ASSERT_EQ(wd.waiting + wd.admitted, 0);
    ASSERT_EQ(students(sc.g.coach, sc.g.gid), 1);
    ASSERT_EQ(fx_count(sc.hub_store, "SELECT count(*) FROM redemptions"), 0);
    struct ww_node *more[] = {nd};
    scene_close(&sc, more, 1);
    ww_store_close(dev);
}

/* A code may name the hub by a host name: the device looks it up (here "localhost", from
 * the hosts file) and joins as with an address. */
TEST(join_by_host_name)
{
    struct scene sc;
    scene_open(&sc, 1);
    char code[WW_INVITE_CODE_MAX], named[WW_INVITE_CODE_MAX];
    ASSERT_OK(ww_invite_create(sc.g.coach, sc.g.gid, WW_ROLE_STUDENT, 0, code, sizeof code, NULL));
    coach_live(&sc);
    struct ww_invite_code c;
    ASSERT_OK(ww_invite_code_parse(code, &c));
    snprintf(c.addr, sizeof c.addr, "localhost:%d", sc.port);
    ASSERT_OK(ww_invite_code_format(&c, named, sizeof named));
    ASSERT(strncmp(named, "localhost:", 10) == 0);
    struct ww_store *dev = fx_open("new");
    struct watch wd = {0};
    struct ww_node *nd = node(&sc.loop, dev, 0, 0, &wd);
    ASSERT_OK(ww_node_join(nd, named, "Nina", 1, WW_TRACK_BOL));
    loop_run_until(&sc.loop, &wd.admitted, 1);
    ASSERT_EQ(wd.failed, 0);
    ASSERT_EQ(students(sc.g.coach, sc.g.gid), 2);
    /* A node closed while a lookup may still be pending leaves nothing behind. */
    ASSERT_OK(ww_node_dial(nd, "localhost", sc.port, NULL, NULL, 0, 1));
    struct ww_node *more[] = {nd};
    scene_close(&sc, more, 1);
    ww_store_close(dev);
}
