/*
 * test_discovery.c - finding a group's peers on the local network (PROTOCOL.md 9.10): the
 * beacon's vector and unlinkability, and device nodes on one loop that find each other by
 * beacons on 127.0.0.1 (ephemeral ports), with hostile datagrams in between.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "fixture.h"
#include "loop.h"
#include "runner.h"
#include "wegwijs_sync.h"

static struct ww_node *node(uv_loop_t *loop, struct ww_store *s, struct loop_watch *w)
{
    struct ww_node_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = s;
    cfg.ud = w;
    cfg.on_conn = loop_on_conn;
    cfg.beacon_ms = 50;
    struct ww_node *n = NULL;
    ASSERT_OK(ww_node_new(loop, &cfg, &n));
    return n;
}

/* Runs the loop for about ms milliseconds (the beacon timers keep it turning). */
static void run_for(uv_loop_t *loop, uint64_t ms)
{
    uv_update_time(loop);
    uint64_t start = uv_now(loop);
    while (uv_now(loop) - start < ms) {
        uv_run(loop, UV_RUN_ONCE);
        uv_update_time(loop);
    }
}

/* Runs the loop until the store holds more than `than` days off, for at most 10 s. */
static void run_until_days_off(uv_loop_t *loop, struct ww_store *s, long than)
{
    uv_update_time(loop);
    uint64_t start = uv_now(loop);
    while (fx_count(s, "SELECT count(*) FROM days_off") <= than) {
        uv_run(loop, UV_RUN_ONCE);
        uv_update_time(loop);
        ASSERT_LT(uv_now(loop) - start, 10000);
    }
}

static void hexbin(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        ASSERT_EQ(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

/* A plain UDP socket on 127.0.0.1 with an ephemeral port: the test's ear and mouth. */
static int udp_socket(int *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(fd, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_OK(bind(fd, (struct sockaddr *)&a, sizeof a));
    socklen_t len = sizeof a;
    ASSERT_OK(getsockname(fd, (struct sockaddr *)&a, &len));
    *port = ntohs(a.sin_port);
    ASSERT_OK(fcntl(fd, F_SETFL, O_NONBLOCK));
    return fd;
}

static void udp_send(int fd, int port, const void *p, size_t len)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    ASSERT_EQ(sendto(fd, p, len, 0, (struct sockaddr *)&a, sizeof a), (ssize_t)len);
}

/* Runs the loop until a datagram arrives on fd; returns its length. */
static size_t udp_capture(uv_loop_t *loop, int fd, uint8_t *buf, size_t cap)
{
    uv_update_time(loop);
    uint64_t start = uv_now(loop);
    for (;;) {
        ssize_t n = recv(fd, buf, cap, 0);
        if (n >= 0)
            return (size_t)n;
        ASSERT(errno == EAGAIN || errno == EWOULDBLOCK);
        uv_run(loop, UV_RUN_ONCE);
        uv_update_time(loop);
        ASSERT_LT(uv_now(loop) - start, 10000);
    }
}

/* 1 when a and b have a run of 4 equal bytes anywhere. */
static int share_run(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    for (size_t i = 0; i + 4 <= na; i++)
        for (size_t j = 0; j + 4 <= nb; j++)
            if (!memcmp(a + i, b + j, 4))
                return 1;
    return 0;
}

/* PROTOCOL.md 12.12. */
TEST(discovery_beacon_vector)
{
    uint8_t gk[32], nonce[24], dk[32], want_dk[32], out[WW_BEACON_LEN], want[WW_BEACON_LEN];
    struct ww_beacon b = {.window = 2992362, .port = 7420};
    for (int i = 0; i < 32; i++) {
        gk[i] = (uint8_t)i;
        b.device[i] = (uint8_t)(0xa0 + i);
    }
    for (int i = 0; i < 24; i++)
        nonce[i] = (uint8_t)(0x40 + i);
    hexbin("e528776ee797c1bd76adf37425a0e871183949b11e8006dde1cfa1bebd04eeda", want_dk, 32);
    hexbin("57574231404142434445464748494a4b4c4d4e4f50515253545556578543b0e472880f7a27da67c7"
           "7ba091159e9b4961b8fd525f2654dd3e0a4a3ea5e9dddb43b9359183b18c327382a41b60523f97"
           "0a05c6",
           want, WW_BEACON_LEN);
    ww_discovery_derive(gk, dk);
    ASSERT_MEM_EQ(dk, want_dk, 32);
    ww_beacon_seal(dk, nonce, &b, out);
    ASSERT_MEM_EQ(out, want, WW_BEACON_LEN);

    struct ww_beacon o;
    ASSERT_OK(ww_beacon_open(dk, want, WW_BEACON_LEN, &o));
    ASSERT_EQ(o.window, 2992362);
    ASSERT_EQ(o.port, 7420);
    ASSERT_MEM_EQ(o.device, b.device, 32);
    /* Every byte counts; the length is exact; another key opens nothing. */
    for (size_t i = 0; i < WW_BEACON_LEN; i++) {
        out[i] ^= 0x01;
        ASSERT(ww_beacon_open(dk, out, WW_BEACON_LEN, &o) != 0);
        out[i] ^= 0x01;
    }
    ASSERT_ERR(ww_beacon_open(dk, want, WW_BEACON_LEN - 1, &o), WW_ETRUNC);
    uint8_t longer[WW_BEACON_LEN + 1] = {0};
    memcpy(longer, want, WW_BEACON_LEN);
    ASSERT_ERR(ww_beacon_open(dk, longer, sizeof longer, &o), WW_ETRAILING);
    ASSERT_ERR(ww_beacon_open(gk, want, WW_BEACON_LEN, &o), WW_EDECRYPT);
}

/* A beacon now and one "the next day" share nothing but the magic, and nobody without the
 * group's key can tell they come from one device; a member's device opens both. The key
 * follows the epoch: a removed member's key is the previous epoch's. */
TEST(discovery_beacons_cannot_be_linked)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    uint8_t gid2[16];
    ASSERT_OK(ww_group_create(g.coach, "Andere groep", NULL, 0, "Coach", NULL, gid2, NULL));
    uint8_t key[32], coach_key[32], other_key[32];
    ASSERT_OK(ww_discovery_key(g.st[0], g.gid, 0, key));
    ASSERT_OK(ww_discovery_key(g.coach, g.gid, 0, coach_key));
    ASSERT_MEM_EQ(key, coach_key, 32);
    ASSERT_OK(ww_discovery_key(g.coach, gid2, 0, other_key));
    ASSERT(memcmp(key, other_key, 32) != 0);

    struct ww_beacon b = {.window = ww_discovery_window(g.st[0]), .port = 7420};
    fx_device(g.st[0], b.device);
    uint8_t day1[WW_BEACON_LEN], day2[WW_BEACON_LEN];
    ww_beacon_seal(key, NULL, &b, day1);
    b.window += 144;
    ww_beacon_seal(key, NULL, &b, day2);
    ASSERT_MEM_EQ(day1, "WWB1", 4);
    ASSERT_MEM_EQ(day2, "WWB1", 4);
    ASSERT(!share_run(day1 + 4, WW_BEACON_LEN - 4, day2 + 4, WW_BEACON_LEN - 4));
    /* Neither carries the device key, nor the group id, in the clear. */
    ASSERT(!share_run(day1, WW_BEACON_LEN, b.device, 32));
    ASSERT(!share_run(day2, WW_BEACON_LEN, b.device, 32));
    ASSERT(!share_run(day1, WW_BEACON_LEN, g.gid, 16));
    /* Another group's member, and a device that is no member, open neither. */
    struct ww_beacon o1, o2;
    ASSERT_ERR(ww_beacon_open(other_key, day1, WW_BEACON_LEN, &o1), WW_EDECRYPT);
    ASSERT_ERR(ww_beacon_open(other_key, day2, WW_BEACON_LEN, &o2), WW_EDECRYPT);
    struct ww_store *x = fx_open("x");
    fx_sync(g.coach, x, g.gid, 256); /* holds the group's events, not its keys */
    ASSERT(ww_discovery_key(x, g.gid, 0, other_key) != 0);
    ASSERT_ERR(ww_discovery_key(x, gid2, 0, other_key), WW_EGROUP);
    /* The coach's device opens both: one device, a day apart. */
    ASSERT_OK(ww_beacon_open(coach_key, day1, WW_BEACON_LEN, &o1));
    ASSERT_OK(ww_beacon_open(coach_key, day2, WW_BEACON_LEN, &o2));
    ASSERT_MEM_EQ(o1.device, o2.device, 32);
    ASSERT_EQ(o2.window, o1.window + 144);

    /* A removal starts an epoch: a new key, which the removed member's device lacks. */
    ASSERT_OK(ww_member_remove(g.coach, g.gid, g.m_st[1], NULL));
    fx_group_sync(&g);
    uint8_t now_key[32], prev_key[32];
    ASSERT_OK(ww_discovery_key(g.coach, g.gid, 0, now_key));
    ASSERT_OK(ww_discovery_key(g.coach, g.gid, 1, prev_key));
    ASSERT(memcmp(now_key, key, 32) != 0);
    ASSERT_MEM_EQ(prev_key, key, 32);
    ASSERT_ERR(ww_discovery_key(g.st[1], g.gid, 0, now_key), WW_ENOTMEMBER);
    ASSERT_OK(ww_discovery_key(g.st[0], g.gid, 0, key));
    ASSERT_MEM_EQ(key, now_key, 32);
    ASSERT_OK(ww_discovery_peer(g.coach, g.gid, b.device));
    uint8_t gone[32];
    fx_device(g.st[1], gone);
    ASSERT_ERR(ww_discovery_peer(g.coach, g.gid, gone), WW_ENOTMEMBER);
    ww_store_close(x);
    fx_group_close(&g);
}

/* Two devices of one group, neither told the other's address: the coach's device hears the
 * student's beacon, dials it and they sync; a later write travels on that connection. */
TEST(discovery_two_devices_find_each_other)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    ASSERT_OK(ww_day_off(g.st[0], g.gid, d + 1, 1, NULL));
    uv_loop_t loop;
    ASSERT_OK(uv_loop_init(&loop));
    struct loop_watch wa = {0}, wb = {0};
    struct ww_node *a = node(&loop, g.st[0], &wa);
    struct ww_node *b = node(&loop, g.coach, &wb);
    ASSERT_ERR(ww_node_discover(a, "127.0.0.1:9", NULL), WW_ESTATE); /* not listening */
    ASSERT_OK(ww_node_listen(a, "127.0.0.1", 0));
    ASSERT_OK(ww_node_discover(b, NULL, "127.0.0.1:0"));
    int port = ww_node_beacon_port(b);
    ASSERT_GT(port, 0);
    ASSERT_EQ(ww_node_beacon_port(a), 0);
    char to[32];
    snprintf(to, sizeof to, "127.0.0.1:%d", port);
    ASSERT_OK(ww_node_discover(a, to, NULL));
    ASSERT_ERR(ww_node_discover(a, to, NULL), WW_EINVAL); /* once */

    long before = fx_count(g.coach, "SELECT count(*) FROM days_off");
    run_until_days_off(&loop, g.coach, before);
    /* Live: a write on the student reaches the coach on the same connection. */
    ASSERT_OK(ww_day_off(g.st[0], g.gid, d + 2, 1, NULL));
    ww_node_notify(a, g.gid);
    run_until_days_off(&loop, g.coach, before + 1);
    run_for(&loop, 300); /* six more beacons: no second dial while the connection lives */
    ASSERT_EQ(wb.up, 1);
    ASSERT_EQ(wb.down, 0);
    ASSERT_EQ(ww_node_conns(b), 1);

    int n_closed = 0;
    ww_node_close(a, loop_closed, &n_closed);
    ww_node_close(b, loop_closed, &n_closed);
    while (n_closed < 2)
        uv_run(&loop, UV_RUN_ONCE);
    ASSERT_OK(uv_loop_close(&loop));
    fx_group_close(&g);
}

/* Hostile datagrams at a listening device: garbage, short, long; a stranger's node that
 * hears a real beacon; a member forging another's beacon; a removed member's beacon under
 * the old epoch's key; replays. None makes a connection but the one the real beacon asks
 * for, and that one works. */
TEST(discovery_hostile_datagrams)
{
    struct fx_group g;
    fx_group_make(&g, 3, 0, NULL);
    uint8_t old_key[32];
    ASSERT_OK(ww_discovery_key(g.st[2], g.gid, 0, old_key));
    ASSERT_OK(ww_member_remove(g.coach, g.gid, g.m_st[2], NULL));
    fx_group_sync(&g);
    struct ww_store *x = fx_open("x");
    fx_sync(g.coach, x, g.gid, 256);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    ASSERT_OK(ww_day_off(g.st[0], g.gid, d + 1, 1, NULL));

    uv_loop_t loop;
    ASSERT_OK(uv_loop_init(&loop));
    struct loop_watch wa = {0}, wb = {0}, wc = {0}, wr = {0}, wx = {0};
    struct ww_node *a = node(&loop, g.st[0], &wa);  /* beacons */
    struct ww_node *b = node(&loop, g.coach, &wb);  /* listens for beacons */
    struct ww_node *c = node(&loop, g.st[1], &wc);  /* a member, forging */
    struct ww_node *r = node(&loop, g.st[2], &wr);  /* removed */
    struct ww_node *stranger = node(&loop, x, &wx); /* knows the group, no member */
    ASSERT_OK(ww_node_listen(a, "127.0.0.1", 0));
    ASSERT_OK(ww_node_listen(c, "127.0.0.1", 0));
    ASSERT_OK(ww_node_listen(r, "127.0.0.1", 0));
    ASSERT_OK(ww_node_discover(b, NULL, "127.0.0.1:0"));
    ASSERT_OK(ww_node_discover(stranger, NULL, "127.0.0.1:0"));
    int bport = ww_node_beacon_port(b), xport = ww_node_beacon_port(stranger);
    int ear_port;
    int ear = udp_socket(&ear_port);
    char to[32];
    snprintf(to, sizeof to, "127.0.0.1:%d", ear_port);
    ASSERT_OK(ww_node_discover(a, to, NULL));
    uint8_t real[WW_BEACON_LEN + 8];
    ASSERT_EQ(udp_capture(&loop, ear, real, sizeof real), WW_BEACON_LEN);

    /* Garbage of every size, and the real beacon's magic with random bytes. */
    uint8_t junk[300];
    randombytes_buf(junk, sizeof junk);
    size_t sizes[] = {0, 1, 4, 28, WW_BEACON_LEN - 1, WW_BEACON_LEN, WW_BEACON_LEN + 1, 300};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        udp_send(ear, bport, junk, sizes[i]);
    memcpy(junk, "WWB1", 4);
    for (int i = 0; i < 50; i++) {
        randombytes_buf(junk + 4, WW_BEACON_LEN - 4);
        udp_send(ear, bport, junk, WW_BEACON_LEN);
    }
    /* A member forges a beacon in A's name with its own port: the coach dials it pinning
     * A's key, and the forger's node fails the handshake without learning who called. */
    uint8_t key[32], forged[WW_BEACON_LEN];
    ASSERT_OK(ww_discovery_key(g.st[1], g.gid, 0, key));
    struct ww_beacon fb = {.window = ww_discovery_window(g.st[1]),
                           .port = (uint16_t)ww_node_port(c)};
    fx_device(g.st[0], fb.device);
    ww_beacon_seal(key, NULL, &fb, forged);
    udp_send(ear, bport, forged, sizeof forged);
    /* The removed member's device announces itself under the previous epoch's key. */
    struct ww_beacon rb = {.window = ww_discovery_window(g.st[2]),
                           .port = (uint16_t)ww_node_port(r)};
    fx_device(g.st[2], rb.device);
    ww_beacon_seal(old_key, NULL, &rb, forged);
    udp_send(ear, bport, forged, sizeof forged);
    /* A beacon from the wrong window (a day old) is ignored too. */
    fb.window -= 144;
    fb.port = (uint16_t)ww_node_port(a);
    ww_beacon_seal(key, NULL, &fb, forged);
    udp_send(ear, bport, forged, sizeof forged);
    /* The coach's node dials the forger, and gives up at its key. */
    uv_update_time(&loop);
    uint64_t start = uv_now(&loop);
    while (wc.down < 1) {
        uv_run(&loop, UV_RUN_ONCE);
        uv_update_time(&loop);
        ASSERT_LT(uv_now(&loop) - start, 10000);
    }
    run_for(&loop, 300);
    ASSERT_EQ(wb.up, 0);
    ASSERT_EQ(wc.up, 0);
    ASSERT_EQ(wr.up + wr.down, 0);
    ASSERT_EQ(wa.up + wa.down, 0);

    /* The real beacon, replayed: one connection, and it syncs. The stranger dials nothing. */
    long before = fx_count(g.coach, "SELECT count(*) FROM days_off");
    for (int i = 0; i < 20; i++) {
        udp_send(ear, bport, real, WW_BEACON_LEN);
        udp_send(ear, xport, real, WW_BEACON_LEN);
    }
    run_until_days_off(&loop, g.coach, before);
    for (int i = 0; i < 20; i++)
        udp_send(ear, bport, real, WW_BEACON_LEN);
    run_for(&loop, 300);
    ASSERT_EQ(wb.up, 1);
    ASSERT_EQ(wa.up, 1);
    ASSERT_EQ(wx.up + wx.down, 0);
    ASSERT_EQ(ww_node_conns(stranger), 0);

    struct ww_discover_stats st;
    ww_node_discover_stats(b, &st);
    ASSERT_GE(st.received, 100);
    ASSERT_EQ(st.dialled, 2); /* the forger's port, then A's */

    /* A flood of beacon-shaped random datagrams: the opening attempts stay within the
     * budget, and the real beacon still works once the flood is over. */
    uint64_t attempts = st.attempts, received = st.received;
    uv_update_time(&loop);
    uint64_t t0 = uv_now(&loop);
    for (int i = 0; i < 40; i++) {
        for (int j = 0; j < 100; j++) {
            randombytes_buf(junk + 4, WW_BEACON_LEN - 4);
            udp_send(ear, bport, junk, WW_BEACON_LEN);
        }
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    run_for(&loop, 100);
    uint64_t took_s = (uv_now(&loop) - t0) / 1000;
    ww_node_discover_stats(b, &st);
    ASSERT_GE(st.received - received, 1000); /* the kernel may drop some */
    ASSERT_LE(st.attempts - attempts, (took_s + 2) * WW_DISCOVER_OPENS_PER_S);
    ASSERT_EQ(st.dialled, 2);

    close(ear);
    int n_closed = 0;
    ww_node_close(a, loop_closed, &n_closed);
    ww_node_close(b, loop_closed, &n_closed);
    ww_node_close(c, loop_closed, &n_closed);
    ww_node_close(r, loop_closed, &n_closed);
    ww_node_close(stranger, loop_closed, &n_closed);
    while (n_closed < 5)
        uv_run(&loop, UV_RUN_ONCE);
    ASSERT_OK(uv_loop_close(&loop));
    ww_store_close(x);
    fx_group_close(&g);
}
