/*
 * rights.c - data rights: export everything this device holds about one member as JSON,
 * and erase a member's bodies everywhere.
 *
 * Erasure is an event (kind erase, PLAIN) that every replica applies by dropping the
 * ciphertext of the member's events and of events about the member, up to the erasure's
 * HLC, and the rows materialised from them (apply.c, apply_erase). Headers, ct_hashes and
 * signatures stay, so every chain still verifies and sync still lines up.
 */
#include <string.h>

#include "alloc.h"
#include "store.h"

static void json_date(struct ww_json *j, uint32_t date)
{
    char d[11];
    ww_date_format(date, d);
    ww_json_str(j, d, 10);
}

static void json_text_col(struct ww_json *j, const char *key, sqlite3_stmt *st, int col)
{
    ww_json_key(j, key);
    const char *t = (const char *)sqlite3_column_text(st, col);
    ww_json_str(j, t ? t : "", t ? (size_t)sqlite3_column_bytes(st, col) : 0);
}

static void json_int_col(struct ww_json *j, const char *key, sqlite3_stmt *st, int col)
{
    ww_json_key(j, key);
    ww_json_int(j, sqlite3_column_int64(st, col));
}

static void json_hex_col(struct ww_json *j, const char *key, sqlite3_stmt *st, int col)
{
    ww_json_key(j, key);
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        ww_json_raw(j, "null");
    else
        ww_json_hexval(j, sqlite3_column_blob(st, col), (size_t)sqlite3_column_bytes(st, col));
}

/* Runs a query bound to (gid, member) and writes one object per row through `row`. */
static int json_rows(struct ww_store *s, struct ww_json *j, const char *key, const char *sql,
                     const uint8_t *gid, const uint8_t *member,
                     void (*row)(struct ww_json *j, sqlite3_stmt *st))
{
    sqlite3_stmt *st = ww_sql(s, sql);
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_blob(st, 1, gid, 16, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 2, member, 16, SQLITE_TRANSIENT);
    ww_json_key(j, key);
    ww_json_open(j, '[');
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        ww_json_open(j, '{');
        row(j, st);
        ww_json_close(j, '}');
    }
    ww_json_close(j, ']');
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : ww_db_err(s, step);
}

static void answers_json(struct ww_json *j, sqlite3_stmt *st, int col)
{
    ww_json_key(j, "climate");
    ww_json_open(j, '[');
    size_t n = (size_t)sqlite3_column_bytes(st, col) / 2;
    const uint8_t *a = sqlite3_column_blob(st, col);
    for (size_t i = 0; i < n; i++) {
        ww_json_open(j, '{');
        ww_json_key(j, "item");
        ww_json_int(j, a[2 * i]);
        ww_json_key(j, "value");
        ww_json_int(j, a[2 * i + 1]);
        ww_json_close(j, '}');
    }
    ww_json_close(j, ']');
}

static void json_text(struct ww_json *j, const char *key, const char *t)
{
    ww_json_key(j, key);
    ww_json_str(j, t, strlen(t));
}

static void reflection_json(void *ud, const struct ww_reflection *r)
{
    struct ww_json *j = ud;
    ww_json_open(j, '{');
    ww_json_key(j, "date");
    json_date(j, r->date);
    ww_json_key(j, "event");
    ww_json_hexval(j, r->hash, 32);
    ww_json_key(j, "readable");
    ww_json_int(j, r->readable);
    json_text(j, "challenge", r->code);
    ww_json_key(j, "status");
    ww_json_int(j, r->status);
    ww_json_key(j, "obstacles");
    ww_json_int(j, r->obstacles);
    json_text(j, "obstacle_note", r->obstacle_note);
    json_text(j, "situatie", r->situatie);
    json_text(j, "taak", r->taak);
    json_text(j, "actie", r->actie);
    json_text(j, "resultaat", r->resultaat);
    json_text(j, "reflectie", r->reflectie);
    ww_json_key(j, "share");
    ww_json_int(j, r->share);
    ww_json_key(j, "draft");
    ww_json_int(j, r->draft);
    ww_json_close(j, '}');
}

static void climate_row(struct ww_json *j, sqlite3_stmt *st)
{
    ww_json_key(j, "date");
    json_date(j, (uint32_t)sqlite3_column_int64(st, 0));
    answers_json(j, st, 1);
}

static void day_off_row(struct ww_json *j, sqlite3_stmt *st)
{
    ww_json_key(j, "date");
    json_date(j, (uint32_t)sqlite3_column_int64(st, 0));
    json_int_col(j, "off", st, 1);
}

static void signal_row(struct ww_json *j, sqlite3_stmt *st)
{
    json_hex_col(j, "event", st, 0);
    json_int_col(j, "category", st, 1);
    json_text_col(j, "text", st, 2);
    json_hex_col(j, "concerns", st, 3);
    json_int_col(j, "state", st, 4);
    json_text_col(j, "note", st, 5);
}

static void signoff_row(struct ww_json *j, sqlite3_stmt *st)
{
    json_hex_col(j, "event", st, 0);
    json_text_col(j, "challenge", st, 1);
    ww_json_key(j, "date");
    json_date(j, (uint32_t)sqlite3_column_int64(st, 2));
    json_int_col(j, "level", st, 3);
    json_text_col(j, "note", st, 4);
}

static void reaction_row(struct ww_json *j, sqlite3_stmt *st)
{
    json_hex_col(j, "event", st, 0);
    json_hex_col(j, "target", st, 1);
    json_text_col(j, "text", st, 2);
}

static void device_row(struct ww_json *j, sqlite3_stmt *st)
{
    json_hex_col(j, "key", st, 0);
    json_int_col(j, "events", st, 1);
}

int ww_member_export(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                     const uint8_t member[WW_ID_LEN], char **json_out)
{
    if (!s || !group || !member || !json_out)
        return WW_EINVAL;
    sqlite3_stmt *st = ww_sql(s, "SELECT m.role, m.alias, m.year, m.track, m.removed_epoch, "
                                 "g.name, e.hlc FROM members m JOIN groups g ON g.gid=m.gid "
                                 "LEFT JOIN erasures e ON e.gid=m.gid AND e.member=m.member "
                                 "WHERE m.gid=?1 AND m.member=?2");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_blob(st, 1, group, 16, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 2, member, 16, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return WW_ENOTFOUND;
    }
    struct ww_json j;
    ww_json_init(&j);
    ww_json_open(&j, '{');
    ww_json_key(&j, "format");
    ww_json_str(&j, "wegwijs-export-v1", 17);
    ww_json_key(&j, "group");
    ww_json_open(&j, '{');
    ww_json_key(&j, "id");
    ww_json_hexval(&j, group, 16);
    json_text_col(&j, "name", st, 5);
    ww_json_close(&j, '}');
    ww_json_key(&j, "member");
    ww_json_open(&j, '{');
    ww_json_key(&j, "id");
    ww_json_hexval(&j, member, 16);
    json_int_col(&j, "role", st, 0);
    json_text_col(&j, "alias", st, 1);
    json_int_col(&j, "year", st, 2);
    json_int_col(&j, "track", st, 3);
    ww_json_key(&j, "active");
    ww_json_int(&j, sqlite3_column_type(st, 4) == SQLITE_NULL);
    ww_json_key(&j, "erased");
    ww_json_int(&j, sqlite3_column_type(st, 6) != SQLITE_NULL);
    ww_json_close(&j, '}');
    sqlite3_reset(st);

    int rc = json_rows(s, &j, "devices",
                       "SELECT d.device, coalesce((SELECT max(e.id) & 1099511627775 FROM logs "
                       "l JOIN events e ON e.id BETWEEN (l.id << 40) AND (l.id << 40 | "
                       "1099511627775) WHERE l.gid=d.gid AND l.author=d.device), 0) FROM "
                       "devices d WHERE d.gid=?1 AND d.member=?2 ORDER BY d.device",
                       group, member, device_row);
    if (rc == 0) {
        ww_json_key(&j, "reflections");
        ww_json_open(&j, '[');
        rc = ww_reflections_list(s, group, member, reflection_json, &j);
        ww_json_close(&j, ']');
    }
    if (rc == 0)
        rc = json_rows(s, &j, "climate",
                       "SELECT date, answers FROM climate WHERE gid=?1 AND member=?2 ORDER BY "
                       "date",
                       group, member, climate_row);
    if (rc == 0)
        rc = json_rows(s, &j, "days_off",
                       "SELECT date, off FROM days_off WHERE gid=?1 AND member=?2 ORDER BY date",
                       group, member, day_off_row);
    if (rc == 0)
        rc = json_rows(s, &j, "signals",
                       "SELECT s.hash, s.category, s.text, s.concerns, coalesce(t.state, 0), "
                       "coalesce(t.note, '') FROM signals s LEFT JOIN signal_states t ON "
                       "t.gid=s.gid AND t.signal=s.hash WHERE s.gid=?1 AND s.member=?2 ORDER BY "
                       "s.hlc",
                       group, member, signal_row);
    if (rc == 0)
        rc = json_rows(s, &j, "signoffs",
                       "SELECT hash, code, date, level, note FROM signoffs WHERE gid=?1 AND "
                       "member=?2 ORDER BY date, hlc",
                       group, member, signoff_row);
    if (rc == 0)
        rc = json_rows(s, &j, "reactions",
                       "SELECT hash, target, text FROM reactions WHERE gid=?1 AND member=?2 "
                       "ORDER BY hlc",
                       group, member, reaction_row);
    ww_json_close(&j, '}');
    ww_json_raw(&j, "\n");
    if (rc == 0 && j.rc == 0)
        j.rc = ww_buf_append(&j.b, "", 1);
    if (rc == 0)
        rc = j.rc;
    if (rc != 0) {
        ww_buf_free(&j.b);
        return rc;
    }
    *json_out = (char *)j.b.p;
    return 0;
}

int ww_member_erase(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                    const uint8_t member[WW_ID_LEN], uint8_t hash_out[WW_EVENT_HASH_LEN])
{
    if (!s || !group || !member)
        return WW_EINVAL;
    sqlite3_stmt *st = ww_sql(s, "SELECT 1 FROM members WHERE gid=?1 AND member=?2");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_blob(st, 1, group, 16, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 2, member, 16, SQLITE_TRANSIENT);
    int known = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    if (!known)
        return WW_ENOTFOUND;
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_ERASE;
    memcpy(body.u.erase.member, member, 16);
    struct ww_emit e = {.kind = WW_KIND_ERASE, .audience = WW_AUD_PLAIN, .body = &body};
    return ww_emit_tx(s, group, &e, hash_out);
}
