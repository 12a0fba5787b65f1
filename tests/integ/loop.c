/*
 * loop.c - the loop helpers of the in-process network tests (loop.h).
 */
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
