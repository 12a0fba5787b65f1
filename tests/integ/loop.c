/*
 * loop.c - the loop helpers of the in-process network tests (loop.h).
 */
#include <string.h>

#include "loop.h"
#include "runner.h"

void loop_on_conn(void *ud, const struct ww_conn_info *info)
{
    struct loop_watch *w = ud;
    if (info->event == WW_CONN_UP)
        w->up++;
    else if (info->event == WW_CONN_SYNCED)
        w->synced++;
    else if (info->event == WW_CONN_DOWN) {
        w->down++;
        w->last_error = info->error;
    }
}

struct ww_node *loop_node(uv_loop_t *loop, struct ww_store *s, int hub, struct loop_watch *w)
{
    struct ww_node_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = s;
    cfg.hub = hub;
    cfg.accept_new_groups = hub;
    cfg.ud = w;
    cfg.on_conn = loop_on_conn;
    struct ww_node *n = NULL;
    ASSERT_OK(ww_node_new(loop, &cfg, &n));
    return n;
}

void loop_closed(void *ud)
{
    (*(int *)ud)++;
}

void loop_run_until(uv_loop_t *loop, const int *flag, int want)
{
    uint64_t start = uv_now(loop);
    while (*flag < want) {
        uv_run(loop, UV_RUN_ONCE);
        uv_update_time(loop);
        ASSERT_LT(uv_now(loop) - start, 10000);
    }
}
