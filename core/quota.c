/*
 * quota.c - how much one author may add to a group's log at this node (PROTOCOL.md 9.13).
 *
 * A leaky bucket of bytes per (group, author): every event newly stored from the author
 * adds its length to the bucket's level, the level drains by per_day bytes a day, and an
 * event that would take the level above burst is not stored. The bucket is kept in the
 * store, so neither a reconnect nor a restart of the node refills it. A hub sets a quota so
 * that one member (or one stolen device) cannot fill its disk, or the disks of the group's
 * other devices, with valid events; a device sets none.
 *
 * Invariant: the quotas table is this node's own record, like redemptions: not derived
 * from events, and changed only inside the transaction that stores the charged events.
 */
#include <string.h>

#include "store.h"

#define DAY_MS 86400000.0

int ww_quota_take(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                  const uint8_t author[WW_KEY_LEN], uint64_t bytes, const struct ww_quota *q,
                  uint64_t *room)
{
    if (!s || !group || !author || !q)
        return WW_EINVAL;
    if (!q->per_day)
        return 0;
    sqlite3_stmt *st = ww_sql(s, "SELECT level, at FROM quotas WHERE gid=?1 AND author=?2");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, group, WW_ID_LEN);
    ww_bind_blob(st, 2, author, WW_KEY_LEN);
    uint64_t level = 0;
    int64_t at = 0, now = ww_store_now_ms(s);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        level = (uint64_t)sqlite3_column_int64(st, 0);
        at = sqlite3_column_int64(st, 1);
    } else if (rc != SQLITE_DONE) {
        sqlite3_reset(st);
        return ww_sql_failed(s);
    }
    sqlite3_reset(st);
    /* Drain since the last charge. A clock that went back drains nothing, and the bucket
     * takes the clock's time, so that a clock that ran ahead once does not freeze it. */
    if (now > at) {
        double drained = (double)q->per_day * ((double)(now - at) / DAY_MS);
        level = drained >= (double)level ? 0 : level - (uint64_t)drained;
    }
    if (bytes > q->burst || level > q->burst - bytes) {
        if (room)
            *room = level < q->burst ? q->burst - level : 0;
        return WW_EQUOTA;
    }
    st = ww_sql(s, "INSERT INTO quotas(gid, author, level, at) VALUES (?1, ?2, ?3, ?4) "
                   "ON CONFLICT(gid, author) DO UPDATE SET level=excluded.level, at=excluded.at");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, group, WW_ID_LEN);
    ww_bind_blob(st, 2, author, WW_KEY_LEN);
    sqlite3_bind_int64(st, 3, (int64_t)(level + bytes));
    sqlite3_bind_int64(st, 4, now);
    return ww_sql_done(s, st);
}
