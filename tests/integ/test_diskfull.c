/*
 * test_diskfull.c - a full disk during sync, on the hub and on a device, over real sockets
 * in one process (a hub node and device nodes on one libuv loop, 127.0.0.1, ephemeral
 * ports). The disk fills through SQLite's max_page_count, the limit a full file system
 * sets. What must hold: the sync stops with a clear error, nothing of the refused batch
 * stays, the store passes its integrity check, the others keep syncing, and the sync
 * resumes and completes once there is room again.
 */
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "loop.h"
#include "runner.h"
#include "store.h"
#include "wegwijs_sync.h"

/* Leaves room for `pages` more pages of the store's file. */
static void room_for(struct ww_store *s, long pages)
{
    char sql[96];
    long have = fx_count(s, "PRAGMA page_count");
    snprintf(sql, sizeof sql, "PRAGMA max_page_count=%ld", have + pages);
    ASSERT_EQ(fx_count(s, sql), have + pages);
}

/* n group reflections of about 1.5 KB each, one per day back from today. */
static void write_reflections(struct ww_store *s, const uint8_t gid[16], uint32_t today, int n)
{
    char text[401];
    memset(text, 'x', 400);
    text[400] = '\0';
    for (int i = 0; i < n; i++) {
        struct ww_reflection r;
        memset(&r, 0, sizeof r);
        r.date = today - (uint32_t)i;
        r.code = "W01";
        r.status = 1;
        r.situatie = r.actie = r.reflectie = text;
        r.share = 2;
        ASSERT_OK(ww_reflection_put(s, gid, &r, NULL));
    }
}

/* One sync of a device node with the hub; the watch's error afterwards. */
static int sync_once(uv_loop_t *loop, struct ww_node *n, struct loop_watch *w, int port)
{
    int want = w->down + 1;
    ASSERT_OK(ww_node_dial(n, "127.0.0.1", port, NULL, NULL, 0, 1));
    loop_run_until(loop, &w->down, want);
    return w->last_error;
}

TEST(diskfull_on_the_hub_stops_one_sync_and_resumes)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    uint32_t today;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &today));
    struct ww_store *hub_store = fx_open("hub");
    uv_loop_t loop;
    ASSERT_OK(uv_loop_init(&loop));
    struct loop_watch wh = {0}, wc = {0}, w0 = {0}, w1 = {0};
    struct ww_node *hub = loop_node(&loop, hub_store, 1, &wh);
    struct ww_node *coach = loop_node(&loop, g.coach, 0, &wc);
    struct ww_node *s0 = loop_node(&loop, g.st[0], 0, &w0);
    struct ww_node *s1 = loop_node(&loop, g.st[1], 0, &w1);
    ASSERT_OK(ww_node_listen(hub, "127.0.0.1", 0));
    int port = ww_node_port(hub);
    ASSERT_OK(sync_once(&loop, coach, &wc, port));
    ASSERT_OK(sync_once(&loop, s1, &w1, port));

    /* The hub's disk is nearly full; a student uploads 60 long reflections. */
    long held = fx_count(hub_store, WRITTEN_EVENTS);
    room_for(hub_store, 4);
    write_reflections(g.st[0], g.gid, today, 60);
    int rc = sync_once(&loop, s0, &w0, port);
    fprintf(stderr,
            "# the hub's disk full: the student's sync ended with %s; the hub holds %ld of %ld\n",
            ww_err_name(rc), fx_count(hub_store, WRITTEN_EVENTS), held + 60);
    ASSERT(rc != 0);
    /* Nothing of a refused batch stays; what was committed before the disk filled is whole. */
    long during = fx_count(hub_store, WRITTEN_EVENTS);
    ASSERT_LT(during, held + 60);
    ASSERT_EQ(fx_count(hub_store, "SELECT count(*) FROM pending"), 0);
    ASSERT_EQ(fx_count(hub_store, "SELECT count(*) FROM pragma_integrity_check WHERE "
                                  "integrity_check='ok'"),
              1);
    /* Another member still syncs: it reads what the hub holds. */
    ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, today + 1, "W02", NULL));
    int crc = sync_once(&loop, coach, &wc, port); /* its one new event may not fit either */
    ASSERT_OK(sync_once(&loop, s1, &w1, port));
    ASSERT_EQ(fx_count(g.st[1], WRITTEN_EVENTS), during + (crc == 0));

    /* Room again: the student's sync resumes where it stopped, and everyone converges. */
    room_for(hub_store, 100000);
    ASSERT_OK(sync_once(&loop, s0, &w0, port));
    ASSERT_OK(sync_once(&loop, coach, &wc, port));
    ASSERT_OK(sync_once(&loop, s1, &w1, port));
    ASSERT_EQ(fx_count(hub_store, WRITTEN_EVENTS), held + 61);
    ASSERT_EQ(fx_count(g.st[1], WRITTEN_EVENTS), held + 61);
    ASSERT_EQ(fx_count(g.st[1], "SELECT count(*) FROM reflections"), 60);

    int closed = 0;
    ww_node_close(hub, loop_closed, &closed);
    ww_node_close(coach, loop_closed, &closed);
    ww_node_close(s0, loop_closed, &closed);
    ww_node_close(s1, loop_closed, &closed);
    loop_run_until(&loop, &closed, 4);
    ASSERT_OK(uv_loop_close(&loop));
    ww_store_close(hub_store);
    fx_group_close(&g);
}

TEST(diskfull_on_a_device_stops_its_download_and_resumes)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    uint32_t today;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &today));
    struct ww_store *hub_store = fx_open("hub");
    uv_loop_t loop;
    ASSERT_OK(uv_loop_init(&loop));
    struct loop_watch wh = {0}, w0 = {0}, w1 = {0};
    struct ww_node *hub = loop_node(&loop, hub_store, 1, &wh);
    struct ww_node *s0 = loop_node(&loop, g.st[0], 0, &w0);
    struct ww_node *s1 = loop_node(&loop, g.st[1], 0, &w1);
    ASSERT_OK(ww_node_listen(hub, "127.0.0.1", 0));
    int port = ww_node_port(hub);
    write_reflections(g.st[0], g.gid, today, 60);
    ASSERT_OK(sync_once(&loop, s0, &w0, port));
    long total = fx_count(hub_store, WRITTEN_EVENTS);

    /* The other student's phone is nearly full: its download stops with an error. */
    long before = fx_count(g.st[1], WRITTEN_EVENTS);
    room_for(g.st[1], 4);
    int rc = sync_once(&loop, s1, &w1, port);
    fprintf(stderr, "# a device's disk full: its sync ended with %s\n", ww_err_name(rc));
    ASSERT(rc != 0);
    long during = fx_count(g.st[1], WRITTEN_EVENTS);
    ASSERT_LT(during, total);
    ASSERT_GE(during, before);
    ASSERT_EQ(fx_count(g.st[1], "SELECT count(*) FROM pragma_integrity_check WHERE "
                                "integrity_check='ok'"),
              1);
    /* It still reads what it holds. */
    uint32_t d;
    ASSERT_OK(ww_day_today(g.st[1], g.gid, &d));

    room_for(g.st[1], 100000);
    ASSERT_OK(sync_once(&loop, s1, &w1, port));
    ASSERT_EQ(fx_count(g.st[1], WRITTEN_EVENTS), total);
    ASSERT_EQ(fx_count(g.st[1], "SELECT count(*) FROM reflections"), 60);

    int closed = 0;
    ww_node_close(hub, loop_closed, &closed);
    ww_node_close(s0, loop_closed, &closed);
    ww_node_close(s1, loop_closed, &closed);
    loop_run_until(&loop, &closed, 3);
    ASSERT_OK(uv_loop_close(&loop));
    ww_store_close(hub_store);
    fx_group_close(&g);
}
