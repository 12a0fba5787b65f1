/*
 * loop.h - what the in-process network tests (test_net.c, test_join.c, test_discovery.c)
 * share: counting a node's connection events, and running a libuv loop until something
 * happened, every wait bounded.
 */
#ifndef WW_TEST_LOOP_H
#define WW_TEST_LOOP_H

#include <uv.h>

#include "wegwijs_sync.h"

/* A node's connection events so far (ww_node_cfg.on_conn = loop_on_conn, ud = the watch;
 * a test's own watch may start with one of these and add more). */
struct loop_watch {
    int up, synced, down, last_error;
};
void loop_on_conn(void *ud, const struct ww_conn_info *info);
/* A node on loop for store s (a hub that takes new groups when hub), its connection
 * events counted in w. */
struct ww_node *loop_node(uv_loop_t *loop, struct ww_store *s, int hub, struct loop_watch *w);
/* A close callback that counts: ww_node_close(n, loop_closed, &count). */
void loop_closed(void *ud);
/* Runs the loop until *flag reaches want; fails the test after about 10 s. */
void loop_run_until(uv_loop_t *loop, const int *flag, int want);

#endif
