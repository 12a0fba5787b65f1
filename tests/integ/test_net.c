/*
 * test_net.c - sync over real sockets on 127.0.0.1, in one process: a hub node and device
 * nodes on one libuv loop, ephemeral ports, every wait bounded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "loop.h"
#include "runner.h"
#include "wegwijs_sync.h"

static void same_state(struct ww_store *x, struct ww_store *y)
{
    uint8_t a[32], b[32];
    fx_digest(x, a);
    fx_digest(y, b);
    ASSERT_MEM_EQ(a, b, 32);
}

TEST(net_devices_sync_through_a_blind_hub)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    for (uint32_t i = 0; i < 5; i++) {
        ASSERT_OK(ww_day_off(g.st[0], g.gid, d + i, 1, NULL));
        ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, d + i, "W04", NULL));
    }
    struct ww_store *hub_store = fx_open("hub");
    uv_loop_t loop;
    ASSERT_OK(uv_loop_init(&loop));
    struct loop_watch wh = {0}, wc = {0}, ws = {0};
    struct ww_node *hub = loop_node(&loop, hub_store, 1, &wh);
    struct ww_node *coach = loop_node(&loop, g.coach, 0, &wc);
    struct ww_node *student = loop_node(&loop, g.st[0], 0, &ws);
    ASSERT_OK(ww_node_listen(hub, "127.0.0.1", 0));
    int port = ww_node_port(hub);
    ASSERT_GT(port, 0);

    /* The coach uploads the group, the student syncs, the coach fetches the student's. */
    ASSERT_OK(ww_node_dial(coach, "127.0.0.1", port, NULL, NULL, 0, 1));
    loop_run_until(&loop, &wc.down, 1);
    ASSERT_OK(wc.last_error);
    ASSERT_OK(ww_node_dial(student, "127.0.0.1", port, NULL, NULL, 0, 1));
    loop_run_until(&loop, &ws.down, 1);
    ASSERT_OK(ws.last_error);
    ASSERT_OK(ww_node_dial(coach, "127.0.0.1", port, NULL, NULL, 0, 1));
    loop_run_until(&loop, &wc.down, 2);
    same_state(g.coach, g.st[0]);
    /* The hub holds every event, and no key: nothing it holds is readable. */
    ASSERT_EQ(fx_count(hub_store, WRITTEN_EVENTS), fx_count(g.coach, WRITTEN_EVENTS));
    ASSERT_EQ(fx_count(hub_store, "SELECT count(*) FROM keys"), 0);
    ASSERT_EQ(fx_count(hub_store, "SELECT count(*) FROM days_off"), 0);

    /* Live: both stay connected; a write on the student reaches the coach through the hub. */
    ASSERT_OK(ww_node_dial(coach, "127.0.0.1", port, NULL, NULL, 0, 0));
    ASSERT_OK(ww_node_dial(student, "127.0.0.1", port, NULL, NULL, 0, 0));
    loop_run_until(&loop, &wc.synced, 3);
    loop_run_until(&loop, &ws.synced, 2);
    long before = fx_count(g.coach, "SELECT count(*) FROM days_off");
    ASSERT_OK(ww_day_off(g.st[0], g.gid, d + 20, 1, NULL));
    ww_node_notify(student, g.gid);
    uint64_t start = uv_now(&loop);
    while (fx_count(g.coach, "SELECT count(*) FROM days_off") == before) {
        uv_run(&loop, UV_RUN_ONCE);
        ASSERT_LT(uv_now(&loop) - start, 10000);
    }
    same_state(g.coach, g.st[0]);

    int n_closed = 0;
    ww_node_close(student, loop_closed, &n_closed);
    ww_node_close(coach, loop_closed, &n_closed);
    ww_node_close(hub, loop_closed, &n_closed);
    loop_run_until(&loop, &n_closed, 3);
    ASSERT_OK(uv_loop_close(&loop));
    ww_store_close(hub_store);
    fx_group_close(&g);
}

/* A device that is not a member asks the hub for a group: denied, and not one event. */
TEST(net_hub_denies_a_stranger)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    struct ww_store *hub_store = fx_open("hub");
    struct ww_store *x = fx_open("x");
    fx_sync(g.coach, x, g.gid, 256); /* x knows the group (an old copy), is no member */
    uv_loop_t loop;
    ASSERT_OK(uv_loop_init(&loop));
    struct loop_watch wh = {0}, wc = {0}, wx = {0};
    struct ww_node *hub = loop_node(&loop, hub_store, 1, &wh);
    struct ww_node *coach = loop_node(&loop, g.coach, 0, &wc);
    struct ww_node *stranger = loop_node(&loop, x, 0, &wx);
    ASSERT_OK(ww_node_listen(hub, "127.0.0.1", 0));
    int port = ww_node_port(hub);
    ASSERT_OK(ww_node_dial(coach, "127.0.0.1", port, NULL, NULL, 0, 1));
    loop_run_until(&loop, &wc.down, 1);
    long held = fx_count(x, WRITTEN_EVENTS);
    uint8_t gid[1][WW_ID_LEN];
    memcpy(gid[0], g.gid, WW_ID_LEN);
    ASSERT_OK(
        ww_node_dial(stranger, "127.0.0.1", port, NULL, (const uint8_t(*)[WW_ID_LEN])gid, 1, 1));
    loop_run_until(&loop, &wx.down, 1);
    ASSERT(wx.last_error != 0);
    ASSERT_EQ(fx_count(x, WRITTEN_EVENTS), held);
    int n_closed = 0;
    ww_node_close(stranger, loop_closed, &n_closed);
    ww_node_close(coach, loop_closed, &n_closed);
    ww_node_close(hub, loop_closed, &n_closed);
    loop_run_until(&loop, &n_closed, 3);
    ASSERT_OK(uv_loop_close(&loop));
    ww_store_close(x);
    ww_store_close(hub_store);
    fx_group_close(&g);
}

/* The coach dials a hub node (cfg as given) once for one group; returns the error. */
static int upload(const struct ww_node_cfg *hub_cfg, struct ww_store *coach_store,
                  const uint8_t gid[WW_ID_LEN])
{
    uv_loop_t loop;
    ASSERT_OK(uv_loop_init(&loop));
    struct loop_watch wh = {0}, wc = {0};
    struct ww_node_cfg cfg = *hub_cfg;
    cfg.ud = &wh;
    cfg.on_conn = loop_on_conn;
    struct ww_node *hub = NULL;
    ASSERT_OK(ww_node_new(&loop, &cfg, &hub));
    struct ww_node *coach = loop_node(&loop, coach_store, 0, &wc);
    ASSERT_OK(ww_node_listen(hub, "127.0.0.1", 0));
    ASSERT_OK(ww_node_dial(coach, "127.0.0.1", ww_node_port(hub), NULL,
                           (const uint8_t(*)[WW_ID_LEN])gid, 1, 1));
    loop_run_until(&loop, &wc.down, 1);
    int n_closed = 0;
    ww_node_close(coach, loop_closed, &n_closed);
    ww_node_close(hub, loop_closed, &n_closed);
    loop_run_until(&loop, &n_closed, 2);
    ASSERT_OK(uv_loop_close(&loop));
    return wc.last_error;
}

static long held_by(struct ww_store *s, const uint8_t gid[WW_ID_LEN])
{
    char hex[2 * WW_ID_LEN + 1], sql[128];
    ww_hex(gid, WW_ID_LEN, hex);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM logs WHERE gid=x'%s'", hex);
    return fx_count(s, sql);
}

/* A hub serves a group that names it; one that names another hub, one that names none
 * beyond probation, and one whose coach the hub does not accept are refused, and the hub
 * keeps nothing of them. */
TEST(net_hub_serves_only_groups_that_name_it)
{
    struct ww_store *hub_store = fx_open("hub");
    uint8_t hub_pk[WW_KEY_LEN], other[WW_KEY_LEN];
    ww_store_device(hub_store, hub_pk);
    memset(other, 0x5a, sizeof other);
    struct ww_node_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = hub_store;
    cfg.hub = 1;
    cfg.accept_new_groups = 1;
    cfg.probation = 12;
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    struct ww_store *c = g.coach, *other_coach = fx_open("coach2");
    uint8_t elsewhere[WW_ID_LEN], unnamed[WW_ID_LEN], foreign[WW_ID_LEN];
    ASSERT_OK(ww_group_create(c, "Elders", NULL, 0, "Coach", NULL, elsewhere, NULL));
    ASSERT_OK(ww_group_create(c, "Nergens", NULL, 0, "Coach", NULL, unnamed, NULL));
    ASSERT_OK(ww_group_create(other_coach, "Vreemd", NULL, 0, "Coach", NULL, foreign, NULL));
    uint32_t d;
    ASSERT_OK(ww_day_today(c, g.gid, &d));
    /* Several batches: the refusal arrives while the coach still sends, and must reach it
     * as an ERROR, not as a reset. */
    for (uint32_t i = 0; i < 800; i++)
        ASSERT_OK(ww_challenge_schedule(c, unnamed, d + i, "W04", NULL));
    for (uint32_t i = 0; i < 20; i++) /* more than the probation, which applies to it too */
        ASSERT_OK(ww_challenge_schedule(c, elsewhere, d + i, "W04", NULL));
    ASSERT_ERR(ww_group_hub_set(g.st[0], g.gid, hub_pk, "", NULL), WW_EROLE);
    ASSERT_ERR(ww_group_hub_set(c, g.gid, hub_pk, "a b", NULL), WW_EINVAL);
    ASSERT_OK(ww_group_hub_set(c, g.gid, hub_pk, "127.0.0.1:7420", NULL));
    ASSERT_OK(ww_group_hub_set(c, elsewhere, other, "", NULL));

    ASSERT_OK(upload(&cfg, c, g.gid));
    ASSERT_EQ(held_by(hub_store, g.gid), held_by(c, g.gid));
    ASSERT_ERR(upload(&cfg, c, elsewhere), WW_EDENIED);
    ASSERT_EQ(held_by(hub_store, elsewhere), 0);
    ASSERT_ERR(upload(&cfg, c, unnamed), WW_EDENIED);
    ASSERT_EQ(held_by(hub_store, unnamed), 0);
    /* Once it names the hub, the same group is served, given a probation long enough for
     * the owner's log to reach its naming (the default is 4096 events). */
    ASSERT_OK(ww_group_hub_set(c, unnamed, hub_pk, "", NULL));
    cfg.probation = 0;
    ASSERT_OK(upload(&cfg, c, unnamed));
    ASSERT_GT(held_by(hub_store, unnamed), 0);

    /* A hub that accepts one coach only refuses the others, even when named. */
    uint8_t accepted[1][WW_KEY_LEN];
    ww_store_device(c, accepted[0]);
    ASSERT_OK(ww_group_hub_set(other_coach, foreign, hub_pk, "", NULL));
    cfg.coaches = (const uint8_t(*)[WW_KEY_LEN])accepted;
    cfg.n_coaches = 1;
    ASSERT_ERR(upload(&cfg, other_coach, foreign), WW_EDENIED);
    ASSERT_EQ(held_by(hub_store, foreign), 0);
    ASSERT_OK(upload(&cfg, c, g.gid));

    /* The group moves to a new hub: the new one reads the old naming first, then the new. */
    struct ww_store *hub2 = fx_open("hub2");
    uint8_t hub2_pk[WW_KEY_LEN];
    ww_store_device(hub2, hub2_pk);
    ASSERT_OK(ww_group_hub_set(c, g.gid, hub2_pk, "127.0.0.1:7421", NULL));
    cfg.store = hub2;
    cfg.coaches = NULL;
    cfg.n_coaches = 0;
    ASSERT_OK(upload(&cfg, c, g.gid));
    ASSERT_EQ(held_by(hub2, g.gid), held_by(c, g.gid));
    ww_store_close(hub2);

    ww_store_close(other_coach);
    fx_group_close(&g);
    ww_store_close(hub_store);
}

/* A raw TCP connection to 127.0.0.1:port, non-blocking once connected. */
static int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_OK(connect(fd, (struct sockaddr *)&a, sizeof a));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* 1 once the peer closed fd (read gives 0 or an error other than "try again"). */
static int raw_closed(int fd)
{
    char b[64];
    ssize_t n = read(fd, b, sizeof b);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* Runs the loop for ms milliseconds of its clock. */
static void run_for(uv_loop_t *loop, uint64_t ms)
{
    uv_update_time(loop);
    uint64_t end = uv_now(loop) + ms;
    while (uv_now(loop) < end) {
        uv_run(loop, UV_RUN_NOWAIT);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        uv_update_time(loop);
    }
}

/* Connections that never finish a handshake are closed by the handshake timer; more
 * connections from one address than allowed are closed at once; and a member syncs all the
 * while. */
TEST(net_hub_bounds_slow_handshakes_and_floods)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    struct ww_store *hub_store = fx_open("hub");
    uv_loop_t loop;
    ASSERT_OK(uv_loop_init(&loop));
    struct loop_watch wh = {0}, wc = {0};
    struct ww_node_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = hub_store;
    cfg.hub = 1;
    cfg.accept_new_groups = 1;
    cfg.handshake_ms = 300;
    cfg.max_conns_per_ip = 6;
    cfg.ud = &wh;
    cfg.on_conn = loop_on_conn;
    struct ww_node *hub = NULL;
    ASSERT_OK(ww_node_new(&loop, &cfg, &hub));
    struct ww_node *coach = loop_node(&loop, g.coach, 0, &wc);
    ASSERT_OK(ww_node_listen(hub, "127.0.0.1", 0));
    int port = ww_node_port(hub);

    /* Ten silent connections: the first six wait for the timer, the rest go at once. */
    enum { N = 10 };
    int fds[N];
    for (int i = 0; i < N; i++)
        fds[i] = raw_connect(port);
    run_for(&loop, 100);
    int early = 0;
    for (int i = 0; i < N; i++)
        early += raw_closed(fds[i]);
    ASSERT_EQ(early, N - 6);
    /* A member syncs while five still hang (it dials from 127.0.0.1 too, and the bound is
     * per address: one of the six makes room for it). */
    close(fds[0]);
    run_for(&loop, 20);
    ASSERT_OK(ww_node_dial(coach, "127.0.0.1", port, NULL, NULL, 0, 1));
    loop_run_until(&loop, &wc.down, 1);
    ASSERT_OK(wc.last_error);
    ASSERT_GT(fx_count(hub_store, WRITTEN_EVENTS), 0);
    /* The timer closes the slow ones. */
    run_for(&loop, 400);
    int closed_n = 0;
    for (int i = 1; i < N; i++)
        closed_n += raw_closed(fds[i]);
    ASSERT_EQ(closed_n, N - 1);
    for (int i = 1; i < N; i++)
        close(fds[i]);
    int n_closed = 0;
    ww_node_close(coach, loop_closed, &n_closed);
    ww_node_close(hub, loop_closed, &n_closed);
    loop_run_until(&loop, &n_closed, 2);
    ASSERT_OK(uv_loop_close(&loop));
    ww_store_close(hub_store);
    fx_group_close(&g);
}
