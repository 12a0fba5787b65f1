/*
 * store.c - the device store: one SQLite file, its schema and migrations, the statement
 * cache, transactions and the hybrid logical clock.
 *
 * Invariants:
 *  - PRAGMA user_version is the schema version; a store with a higher one was written by
 *    a newer version and is refused untouched (WW_ENEWER).
 *  - A store is checked (quick_check) before it is used; a damaged one is refused
 *    untouched (WW_ECORRUPT).
 *  - Every change happens inside a transaction begun with ww_db_begin (or ww_tx).
 *  - The HLC never goes backwards, across restarts too (it is saved with every write).
 */
#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "alloc.h"
#include "store.h"

/* Schema version 1. Materialised tables hold no arrival-dependent values (no rowids or
 * receive times), so replicas with the same events hold identical rows. */
static const char schema_v1[] =
    "CREATE TABLE meta(k TEXT PRIMARY KEY, v) WITHOUT ROWID;"
    /* One row per (group, author) log, numbered locally. Log numbers never leave the device
     * and never appear in materialised rows: another replica numbers its logs differently. */
    "CREATE TABLE logs(id INTEGER PRIMARY KEY, gid BLOB NOT NULL, author BLOB NOT NULL,"
    " UNIQUE(gid, author));"
    /* The log: every sealed event as received (body dropped once erased), keyed by
     * log << 40 | seq so that one integer key orders each author's events. */
    "CREATE TABLE events(id INTEGER PRIMARY KEY, hash BLOB NOT NULL, hlc INTEGER NOT NULL,"
    " kind INTEGER NOT NULL, epoch INTEGER NOT NULL, audience INTEGER NOT NULL, subject BLOB,"
    " raw BLOB NOT NULL);"
    /* Events that wait for a cause (their author or epoch is not known yet). */
    "CREATE TABLE pending(gid BLOB NOT NULL, author BLOB NOT NULL, seq INTEGER NOT NULL,"
    " hlc INTEGER NOT NULL, reason INTEGER NOT NULL, raw BLOB NOT NULL,"
    " PRIMARY KEY(gid, author, seq));"
    /* Which devices a SELF key was wrapped for: a member's device shares its key with the
     * member's devices that lack it before it writes with it. */
    "CREATE TABLE key_recipients(gid BLOB NOT NULL, subject BLOB NOT NULL, epoch INTEGER NOT "
    "NULL, key BLOB NOT NULL, device BLOB NOT NULL,"
    " PRIMARY KEY(gid, subject, epoch, key, device)) WITHOUT ROWID;"
    "CREATE TABLE forks(gid BLOB NOT NULL, author BLOB NOT NULL, seq INTEGER NOT NULL,"
    " hash_held BLOB NOT NULL, hash_seen BLOB NOT NULL, raw_seen BLOB NOT NULL,"
    " PRIMARY KEY(gid, author, seq, hash_seen)) WITHOUT ROWID;"
    /* Materialised state. */
    "CREATE TABLE groups(gid BLOB PRIMARY KEY, name TEXT NOT NULL, tz TEXT NOT NULL,"
    " start_date INTEGER NOT NULL, owner BLOB NOT NULL, coach BLOB NOT NULL, agg_pk BLOB,"
    " epoch INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE members(gid BLOB NOT NULL, member BLOB NOT NULL, role INTEGER NOT NULL,"
    " alias TEXT NOT NULL, year INTEGER NOT NULL, track INTEGER NOT NULL,"
    " added_epoch INTEGER NOT NULL, removed_epoch INTEGER, removed_hlc INTEGER,"
    " PRIMARY KEY(gid, member)) WITHOUT ROWID;"
    "CREATE TABLE devices(gid BLOB NOT NULL, device BLOB NOT NULL, member BLOB NOT NULL,"
    " PRIMARY KEY(gid, device)) WITHOUT ROWID;"
    /* Keys this device holds; more than one per (audience, subject, epoch) can exist when
     * two devices of a member each made a SELF key. */
    "CREATE TABLE keys(gid BLOB NOT NULL, audience INTEGER NOT NULL, subject BLOB NOT NULL,"
    " epoch INTEGER NOT NULL, key BLOB NOT NULL,"
    " PRIMARY KEY(gid, audience, subject, epoch, key)) WITHOUT ROWID;"
    "CREATE TABLE challenges(gid BLOB NOT NULL, code TEXT NOT NULL, title TEXT NOT NULL,"
    " description TEXT NOT NULL, canmeds INTEGER NOT NULL, week_from INTEGER NOT NULL,"
    " week_to INTEGER NOT NULL, assignment_ref TEXT NOT NULL, signoff_role INTEGER NOT NULL,"
    " hlc INTEGER NOT NULL, author BLOB NOT NULL, PRIMARY KEY(gid, code)) WITHOUT ROWID;"
    "CREATE TABLE schedule(gid BLOB NOT NULL, date INTEGER NOT NULL, code TEXT NOT NULL,"
    " hlc INTEGER NOT NULL, author BLOB NOT NULL, PRIMARY KEY(gid, date)) WITHOUT ROWID;"
    "CREATE TABLE days_off(gid BLOB NOT NULL, member BLOB NOT NULL, date INTEGER NOT NULL,"
    " off INTEGER NOT NULL, hlc INTEGER NOT NULL, author BLOB NOT NULL,"
    " PRIMARY KEY(gid, member, date)) WITHOUT ROWID;"
    /* Reflections keep their metadata here; the text stays encrypted in the log and is
     * decrypted when read, so no reflection text is stored in the clear. */
    "CREATE TABLE reflections(gid BLOB NOT NULL, member BLOB NOT NULL, date INTEGER NOT NULL,"
    " hlc INTEGER NOT NULL, author BLOB NOT NULL, seq INTEGER NOT NULL, hash BLOB NOT NULL,"
    " audience INTEGER NOT NULL, readable INTEGER NOT NULL, code TEXT, status INTEGER,"
    " obstacles INTEGER, share INTEGER, draft INTEGER,"
    " PRIMARY KEY(gid, member, date)) WITHOUT ROWID;"
    "CREATE TABLE climate(gid BLOB NOT NULL, member BLOB NOT NULL, date INTEGER NOT NULL,"
    " hlc INTEGER NOT NULL, author BLOB NOT NULL, answers BLOB NOT NULL,"
    " PRIMARY KEY(gid, member, date)) WITHOUT ROWID;"
    "CREATE TABLE reactions(gid BLOB NOT NULL, hash BLOB NOT NULL, target BLOB NOT NULL,"
    " member BLOB NOT NULL, subject BLOB NOT NULL, text TEXT, hlc INTEGER NOT NULL,"
    " readable INTEGER NOT NULL,"
    " PRIMARY KEY(gid, hash)) WITHOUT ROWID;"
    "CREATE INDEX reactions_target ON reactions(gid, target);"
    "CREATE TABLE signals(gid BLOB NOT NULL, hash BLOB NOT NULL, member BLOB NOT NULL,"
    " category INTEGER, text TEXT, concerns BLOB, hlc INTEGER NOT NULL,"
    " readable INTEGER NOT NULL, PRIMARY KEY(gid, hash)) WITHOUT ROWID;"
    "CREATE TABLE signal_states(gid BLOB NOT NULL, signal BLOB NOT NULL, state INTEGER NOT NULL,"
    " note TEXT NOT NULL, hlc INTEGER NOT NULL, author BLOB NOT NULL, subject BLOB NOT NULL,"
    " PRIMARY KEY(gid, signal)) WITHOUT ROWID;"
    "CREATE TABLE signoffs(gid BLOB NOT NULL, hash BLOB NOT NULL, member BLOB NOT NULL,"
    " code TEXT, date INTEGER, level INTEGER, note TEXT, hlc INTEGER NOT NULL,"
    " readable INTEGER NOT NULL, PRIMARY KEY(gid, hash)) WITHOUT ROWID;"
    "CREATE TABLE erasures(gid BLOB NOT NULL, member BLOB NOT NULL, hlc INTEGER NOT NULL,"
    " PRIMARY KEY(gid, member)) WITHOUT ROWID;";

int ww_db_err(struct ww_store *s, int rc)
{
    (void)s;
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return 0;
    case SQLITE_NOMEM:
        return WW_ENOMEM;
    case SQLITE_FULL:
        return WW_EFULL;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return WW_EBUSY;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return WW_ECORRUPT;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
        return WW_EIO;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return WW_EPERM;
    default:
        return WW_ESTORE;
    }
}

int ww_db_exec(struct ww_store *s, const char *sql)
{
    return ww_db_err(s, sqlite3_exec(s->db, sql, NULL, NULL, NULL));
}

/* Transactions nest: the outermost is a write transaction, an inner one a savepoint, so a
 * call that writes in a transaction of its own also works inside the caller's
 * (ww_store_begin), and its failure undoes only its own writes. */
int ww_db_begin(struct ww_store *s)
{
    if (s->tx_depth > 0) {
        int rc = ww_db_exec(s, "SAVEPOINT ww_inner");
        if (rc == 0)
            s->tx_depth++;
        return rc;
    }
    int rc = ww_db_exec(s, "BEGIN IMMEDIATE");
    /* Another connection (a second process on the same folder) may have written since the
     * cache was filled; the write lock is ours now, so what we load next stays true. */
    if (rc == 0) {
        s->tx_depth = 1;
        sqlite3_stmt *st = ww_sql(s, "PRAGMA data_version");
        if (st && sqlite3_step(st) == SQLITE_ROW) {
            int64_t v = sqlite3_column_int64(st, 0);
            if (v != s->data_version)
                s->generation++; /* every cached group is stale */
            s->data_version = v;
        }
        if (st)
            sqlite3_reset(st);
    }
    return rc;
}

int ww_db_commit(struct ww_store *s)
{
    int rc;
    if (s->tx_depth > 1) {
        if ((rc = ww_db_exec(s, "RELEASE ww_inner")) != 0) {
            ww_db_rollback(s);
            return rc;
        }
        s->tx_depth--;
        return 0;
    }
    rc = ww_hlc_save(s);
    if (rc == 0)
        rc = ww_db_exec(s, "COMMIT");
    if (rc != 0) {
        ww_db_rollback(s);
        return rc;
    }
    s->tx_depth = 0;
    return 0;
}

void ww_db_rollback(struct ww_store *s)
{
    if (s->tx_depth > 1) {
        sqlite3_exec(s->db, "ROLLBACK TO ww_inner; RELEASE ww_inner", NULL, NULL, NULL);
        s->tx_depth--;
    } else {
        if (!sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        s->tx_depth = 0;
    }
    /* Cached state may describe rows that no longer exist. */
    s->generation++;
}

sqlite3_stmt *ww_sql(struct ww_store *s, const char *sql)
{
    size_t h = ((uintptr_t)sql >> 3) % WW_STMT_CACHE;
    for (size_t i = 0; i < WW_STMT_CACHE; i++) {
        struct ww_stmt_slot *slot = &s->stmts[(h + i) % WW_STMT_CACHE];
        if (slot->sql == sql) {
            sqlite3_reset(slot->stmt);
            sqlite3_clear_bindings(slot->stmt);
            return slot->stmt;
        }
        if (!slot->sql) {
            if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &slot->stmt, NULL) !=
                SQLITE_OK)
                return NULL;
            slot->sql = sql;
            return slot->stmt;
        }
    }
    return NULL; /* more distinct statements than WW_STMT_CACHE: raise it */
}

void ww_bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
    sqlite3_bind_blob(st, i, p, (int)n, SQLITE_TRANSIENT);
}

void ww_bind_text(sqlite3_stmt *st, int i, const struct ww_slice *t)
{
    sqlite3_bind_text(st, i, t->len ? (const char *)t->p : "", (int)t->len, SQLITE_TRANSIENT);
}

int ww_sql_failed(struct ww_store *s)
{
    int rc = ww_db_err(s, sqlite3_errcode(s->db));
    return rc == WW_ENOMEM ? WW_ENOMEM : WW_ESTORE;
}

int ww_sql_done(struct ww_store *s, sqlite3_stmt *st)
{
    if (!st)
        return ww_sql_failed(s);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : ww_db_err(s, rc);
}

static void finalize_all(struct ww_store *s)
{
    for (size_t i = 0; i < WW_STMT_CACHE; i++) {
        if (s->stmts[i].sql)
            sqlite3_finalize(s->stmts[i].stmt);
        s->stmts[i].sql = NULL;
        s->stmts[i].stmt = NULL;
    }
}

int ww_sql_int(struct ww_store *s, sqlite3_stmt *st, int64_t *out)
{
    if (!st)
        return ww_sql_failed(s);
    int step = sqlite3_step(st);
    *out = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : ww_db_err(s, step);
}

int64_t ww_store_now_ms(struct ww_store *s)
{
    if (s->opt.now_ms)
        return s->opt.now_ms(s->opt.ud);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ww_store_random(struct ww_store *s, uint8_t *buf, size_t len)
{
    if (s->opt.random)
        s->opt.random(s->opt.ud, buf, len);
    else
        randombytes_buf(buf, len);
}

uint64_t ww_hlc_next(struct ww_store *s)
{
    int64_t now = ww_store_now_ms(s);
    uint64_t wall = now > 0 ? (uint64_t)now << 16 : 0;
    s->hlc = wall > s->hlc ? wall : s->hlc + 1;
    return s->hlc;
}

void ww_hlc_observe(struct ww_store *s, uint64_t hlc)
{
    int64_t now = ww_store_now_ms(s);
    uint64_t cap = now > 0 ? (uint64_t)(now + WW_MAX_DRAG_MS) << 16 | 0xffff : 0;
    if (hlc > cap)
        hlc = cap;
    if (hlc > s->hlc)
        s->hlc = hlc;
}

int ww_hlc_save(struct ww_store *s)
{
    sqlite3_stmt *st = ww_sql(s, "INSERT INTO meta(k, v) VALUES('hlc', ?1) "
                                 "ON CONFLICT(k) DO UPDATE SET v = max(v, excluded.v)");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)s->hlc);
    return ww_sql_done(s, st);
}

static int read_int(struct ww_store *s, const char *sql, int64_t *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return ww_db_err(s, rc);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : ww_db_err(s, rc);
}

/* Schema version 2: withdrawn reactions (reaction.del), kept by target so that a withdrawal
 * that arrives before its reaction still removes it. */
static const char schema_v2[] =
    "CREATE TABLE reaction_dels(gid BLOB NOT NULL, target BLOB NOT NULL, member BLOB NOT NULL,"
    " hlc INTEGER NOT NULL, PRIMARY KEY(gid, target, member)) WITHOUT ROWID;";

/* Schema version 3: the hub each group named (group.hub), last writer wins. */
static const char schema_v3[] =
    "CREATE TABLE group_hubs(gid BLOB PRIMARY KEY, hub BLOB NOT NULL, addr TEXT NOT NULL,"
    " hlc INTEGER NOT NULL, author BLOB NOT NULL) WITHOUT ROWID;";

/* Schema version 4: whether a device was vouched for by its own member, the only devices a
 * member's SELF key goes to (PROTOCOL.md 5.7). In an older store every device.add came
 * from the owner, so a device it added to another member is not vouched for; every other
 * device (the owner's, those of member.add) is. */
static const char schema_v4[] =
    "ALTER TABLE devices ADD COLUMN vouched INTEGER NOT NULL DEFAULT 1;"
    /* Also: whether a waiting event's author is a stranger to its group, and when the row
     * expires (pending.h); older rows expire at once, and a sync brings them again. */
    "ALTER TABLE pending ADD COLUMN stranger INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE pending ADD COLUMN expires INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX pending_expires ON pending(expires);";

static int migrate_v4(struct ww_store *s)
{
    int rc = ww_db_exec(s, schema_v4);
    sqlite3_stmt *q;
    if (rc != 0)
        return rc;
    if ((rc = sqlite3_prepare_v2(s->db, "SELECT raw FROM events WHERE kind=4" /* device.add */, -1,
                                 &q, NULL)) != SQLITE_OK)
        return ww_db_err(s, rc);
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW) {
        struct ww_envelope env;
        struct ww_body body;
        if (ww_envelope_decode(sqlite3_column_blob(q, 0), (size_t)sqlite3_column_bytes(q, 0),
                               &env) != 0 ||
            env.erased || ww_body_decode(env.h.kind, env.body.p, env.body.len, &body) != 0)
            continue;
        sqlite3_stmt *u = ww_sql(s, "UPDATE devices SET vouched=0 WHERE gid=?1 AND device=?2 AND "
                                    "member=?3 AND member<>(SELECT coach FROM groups WHERE "
                                    "gid=?1)");
        if (!u) {
            rc = ww_sql_failed(s);
            break;
        }
        ww_bind_blob(u, 1, env.h.group, 16);
        ww_bind_blob(u, 2, body.u.device_add.device, 32);
        ww_bind_blob(u, 3, body.u.device_add.member, 16);
        rc = ww_sql_done(s, u);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = ww_db_err(s, step);
    sqlite3_finalize(q);
    return rc;
}

/* Schema version 5: invites (invite.create, invite.revoke and the member.add that used each),
 * and a hub's record of the redemptions it took and its owner has not admitted yet. */
static const char schema_v5[] =
    "CREATE TABLE invites(gid BLOB NOT NULL, invite BLOB NOT NULL, role INTEGER NOT NULL,"
    " expires_ms INTEGER NOT NULL, hlc INTEGER NOT NULL, revoked_hlc INTEGER, used_member BLOB,"
    " PRIMARY KEY(gid, invite)) WITHOUT ROWID;"
    "CREATE INDEX invites_key ON invites(invite);"
    "CREATE TABLE redemptions(gid BLOB NOT NULL, invite BLOB NOT NULL, device BLOB NOT NULL,"
    " alias TEXT NOT NULL, year INTEGER NOT NULL, track INTEGER NOT NULL, sig BLOB NOT NULL,"
    " at_ms INTEGER NOT NULL, PRIMARY KEY(gid, invite)) WITHOUT ROWID;";

/* Schema version 6: sync health. The newest sync.report of each device and the logs it
 * held (materialised on the devices that read reports: the coach's and the author's own);
 * and sync_local, this device's own record of its syncs and its last report (report.c),
 * which no event derives and no other replica shares. */
static const char schema_v6[] =
    "CREATE TABLE sync_reports(gid BLOB NOT NULL, device BLOB NOT NULL, hlc INTEGER NOT NULL,"
    " hub_at INTEGER NOT NULL, peer_at INTEGER NOT NULL, PRIMARY KEY(gid, device)) WITHOUT ROWID;"
    "CREATE TABLE sync_held(gid BLOB NOT NULL, device BLOB NOT NULL, author BLOB NOT NULL,"
    " seq INTEGER NOT NULL, PRIMARY KEY(gid, device, author)) WITHOUT ROWID;"
    "CREATE TABLE sync_local(gid BLOB PRIMARY KEY, hub_at INTEGER NOT NULL, peer_at INTEGER NOT"
    " NULL, hub_seq INTEGER NOT NULL, reported_at INTEGER NOT NULL, reported_events INTEGER NOT"
    " NULL, reported_erasures REAL NOT NULL) WITHOUT ROWID;";

/* Schema version 7: climate by split shares. The group's aggregators and unit
 * (group.climate), the keys its hub confirmed to this device (agg_pins: local, like
 * sync_local), and the shares (climate.share), one row per (member, date) whose id grows
 * with every replacement, so that a hub's pages up to an id are a fixed snapshot. a_share:
 * on a hub whose aggregator key opens share A, that share's counters (82 u64be), opened
 * once as the event arrives, so that a report costs no cryptography; a share alone is
 * uniformly random, whatever the answers. win, nym: the window and pseudonym of the share;
 * a hub serves one pseudonym per member and window. */
static const char schema_v7[] =
    "CREATE TABLE group_climates(gid BLOB PRIMARY KEY, agg_a BLOB NOT NULL, agg_b BLOB NOT NULL,"
    " team TEXT NOT NULL, location TEXT NOT NULL, hlc INTEGER NOT NULL, author BLOB NOT NULL)"
    " WITHOUT ROWID;"
    "CREATE TABLE agg_pins(gid BLOB PRIMARY KEY, agg_a BLOB NOT NULL, agg_b BLOB NOT NULL)"
    " WITHOUT ROWID;"
    "CREATE TABLE climate_shares(id INTEGER PRIMARY KEY AUTOINCREMENT, gid BLOB NOT NULL,"
    " member BLOB NOT NULL,"
    " date INTEGER NOT NULL, hlc INTEGER NOT NULL, author BLOB NOT NULL, msg BLOB NOT NULL,"
    " a_share BLOB, win INTEGER NOT NULL, nym BLOB NOT NULL, UNIQUE(gid, member, date));";

/* Schema version 8: what each author added to a group's log at this node lately (quota.c),
 * a node's own record like redemptions, not derived from events. */
static const char schema_v8[] =
    "CREATE TABLE quotas(gid BLOB NOT NULL, author BLOB NOT NULL, level INTEGER NOT NULL,"
    " at INTEGER NOT NULL, PRIMARY KEY(gid, author)) WITHOUT ROWID;";

/* Schema version 9: device invites (device.invite, device.join), from members' logs; the
 * proof in each binds its key to one member, so a key has one row. */
static const char schema_v9[] =
    "CREATE TABLE device_invites(gid BLOB NOT NULL, invite BLOB NOT NULL, member BLOB NOT NULL,"
    " expires_ms INTEGER NOT NULL, hlc INTEGER NOT NULL, used_device BLOB,"
    " PRIMARY KEY(gid, invite)) WITHOUT ROWID;"
    "CREATE INDEX device_invites_key ON device_invites(invite);";

/* Schema version 10: the last seq of a removed member's device that the owner's removal
 * keeps (member.remove's cut-offs); NULL while no owner's removal names the device. */
static const char schema_v10[] = "ALTER TABLE devices ADD COLUMN cutoff INTEGER;";

/* Schema version 11: the group's recovery key (recovery.key). (The other columns once held
 * the recovery in force; the log is its source now, and they stay NULL.) */
static const char schema_v11[] =
    "CREATE TABLE recoveries(gid BLOB PRIMARY KEY, pk BLOB NOT NULL, replaced BLOB, hash BLOB,"
    " author BLOB, seq INTEGER) WITHOUT ROWID;";
/* Schema version 12: a member's name, year and track come from its member.profile, last
 * writer wins (the hlc of the profile shown) and re-sent by the owner in the epoch in which a
 * new device joins (the epoch it was written in); 0: none read yet. */
static const char schema_v12[] =
    "ALTER TABLE members ADD COLUMN profile_hlc INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE members ADD COLUMN profile_epoch INTEGER NOT NULL DEFAULT 0;"
    /* Also: a redemption carries its profile sealed to the invite's key, which the hub stores
     * as it came; an older row (an alias in the clear, a signature of the older form that no
     * longer verifies) could never be admitted, so the table starts again. The owner device
     * keeps the secret of each invite it made until the invite is used or revoked, to open
     * those profiles. */
    "DROP TABLE redemptions;"
    "CREATE TABLE redemptions(gid BLOB NOT NULL, invite BLOB NOT NULL, device BLOB NOT NULL,"
    " profile BLOB NOT NULL, sig BLOB NOT NULL, at_ms INTEGER NOT NULL,"
    " PRIMARY KEY(gid, invite)) WITHOUT ROWID;"
    "CREATE TABLE invite_secrets(gid BLOB NOT NULL, invite BLOB NOT NULL, secret BLOB NOT NULL,"
    " PRIMARY KEY(gid, invite)) WITHOUT ROWID;";

/* Schema version 13: the hash of the event at a device's cut-off (member.remove,
 * owner.recover), NULL while it has none: the branch of its log that the cut-off keeps. */
static const char schema_v13[] = "ALTER TABLE devices ADD COLUMN pin BLOB;";

/* Brings the schema to WW_SCHEMA_VERSION, or refuses a store from a newer version. */
static int migrate(struct ww_store *s)
{
    int64_t version = 0;
    int rc = read_int(s, "PRAGMA user_version", &version);
    if (rc != 0)
        return rc;
    if (version > WW_SCHEMA_VERSION)
        return WW_ENEWER;
    if (version == WW_SCHEMA_VERSION)
        return 0;
    if ((rc = ww_db_begin(s)) != 0)
        return rc;
    if (version < 1)
        rc = ww_db_exec(s, schema_v1);
    /* Each later version is one step here, inside the same transaction. */
    if (rc == 0 && version < 2)
        rc = ww_db_exec(s, schema_v2);
    if (rc == 0 && version < 3)
        rc = ww_db_exec(s, schema_v3);
    if (rc == 0 && version < 4)
        rc = migrate_v4(s);
    if (rc == 0 && version < 5)
        rc = ww_db_exec(s, schema_v5);
    if (rc == 0 && version < 6)
        rc = ww_db_exec(s, schema_v6);
    if (rc == 0 && version < 7)
        rc = ww_db_exec(s, schema_v7);
    if (rc == 0 && version < 8)
        rc = ww_db_exec(s, schema_v8);
    if (rc == 0 && version < 9)
        rc = ww_db_exec(s, schema_v9);
    if (rc == 0 && version < 10)
        rc = ww_db_exec(s, schema_v10);
    if (rc == 0 && version < 11)
        rc = ww_db_exec(s, schema_v11);
    if (rc == 0 && version < 12)
        rc = ww_db_exec(s, schema_v12);
    if (rc == 0 && version < 13)
        rc = ww_db_exec(s, schema_v13);
    if (rc == 0)
        rc = ww_db_exec(s, "PRAGMA user_version = " WW_STR(WW_SCHEMA_VERSION));
    if (rc == 0)
        rc = ww_db_exec(s, "COMMIT");
    if (rc != 0)
        ww_db_rollback(s);
    s->tx_depth = 0;
    return rc;
}

/* quick_check reads every page: a damaged file is refused before anything is written. It
 * costs a read of the whole file, so it runs when it is due (see check_due); between two
 * checks SQLite still refuses a damaged page it reads (WW_ECORRUPT), it just does not go
 * looking for one. */
#define CHECK_EVERY_MS (24 * 3600 * 1000LL)

/* A check is due when the last one is more than a day old (or the clock went back); the
 * caller also checks after a stop that was not clean. */
static int check_due(struct ww_store *s)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT v FROM meta WHERE k = 'checked'", -1, &q, NULL))
        return 1; /* a new store, or one too damaged to say */
    int64_t last = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_finalize(q);
    int64_t now = ww_store_now_ms(s);
    return last <= 0 || now - last > CHECK_EVERY_MS || now < last;
}

static int check_integrity(struct ww_store *s)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT ? WW_ECORRUPT : ww_db_err(s, rc);
    rc = sqlite3_step(st);
    int ok = rc == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT ? WW_ECORRUPT : ww_db_err(s, rc);
    return ok ? 0 : WW_ECORRUPT;
}

static char *path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = ww_malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

int ww_store_open(const char *dir, const struct ww_options *opt, struct ww_store **out)
{
    if (!dir || !*dir || !out)
        return WW_EINVAL;
    if (sodium_init() < 0)
        return WW_ECRYPTO;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -errno;

    int rc;
    struct ww_store *s = ww_calloc(1, sizeof *s);
    if (!s)
        return WW_ENOMEM;
    if (opt)
        s->opt = *opt;
    s->cache = &s->caches[0];
    s->generation = 1; /* entries start at 0: none is current */
    s->dir = path_join(dir, "");
    if (!s->dir) {
        rc = WW_ENOMEM;
        goto err_after_alloc;
    }
    s->dir[strlen(s->dir) - 1] = '\0';
    if ((rc = ww_identity_load(s)) != 0)
        goto err_after_identity; /* frees what a partial load allocated */
    if ((rc = ww_aggregator_load(s, 0)) != 0)
        goto err_after_identity;

    const char *name = s->opt.db_name ? s->opt.db_name : "wegwijs.db";
    char *path = strcmp(name, ":memory:") ? path_join(dir, name) : NULL;
    if (strcmp(name, ":memory:") && !path) {
        rc = WW_ENOMEM;
        goto err_after_identity;
    }
    char *wal = path ? ww_malloc(strlen(path) + 5) : NULL;
    if (path && !wal) {
        ww_free(path);
        rc = WW_ENOMEM;
        goto err_after_identity;
    }
    if (wal) {
        size_t len = strlen(path);
        memcpy(wal, path, len);
        memcpy(wal + len, "-wal", 5);
    }
    /* A WAL file left before we open it: a killed process, or one using the store now. */
    struct stat wal_st;
    int unclean = !wal || stat(wal, &wal_st) == 0;
    ww_free(wal);
    int sqrc =
        sqlite3_open_v2(path ? path : ":memory:", &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    ww_free(path);
    if (sqrc != SQLITE_OK) {
        rc = ww_db_err(s, sqrc);
        goto err_after_db;
    }
    sqlite3_busy_timeout(s->db, 5000);
    sqlite3_extended_result_codes(s->db, 1);
    /* 8 KiB pages for a new store: a sealed event is 600-700 bytes, and twice as many per
     * page halves the page splits of a burst. Only an empty file takes it, so it comes before
     * anything reads the file; on an existing store it changes nothing. */
    if ((rc = ww_db_exec(s, "PRAGMA page_size=8192")) != 0)
        goto err_after_db;
    int checked = unclean || check_due(s);
    if (checked && (rc = check_integrity(s)) != 0)
        goto err_after_db;
    /* WAL: readers never block the writer; NORMAL sync is durable across process crashes
     * and consistent across power loss. A checkpoint (copying the WAL into the database,
     * with two fsyncs) is the most expensive thing a burst of sync does, so it runs every
     * 32 MiB of WAL rather than every 4 MiB, and at idle time through ww_store_checkpoint;
     * the WAL file is truncated back to 64 MiB at most afterwards. */
    if ((rc = ww_db_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                            "PRAGMA wal_autocheckpoint=8192; PRAGMA journal_size_limit=67108864;"
                            "PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY;")) != 0)
        goto err_after_db;
    if ((rc = migrate(s)) != 0)
        goto err_after_db;
    if (checked) {
        char sql[96];
        snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO meta(k, v) VALUES('checked', %lld)",
                 (long long)ww_store_now_ms(s));
        if ((rc = ww_db_exec(s, sql)) != 0)
            goto err_after_db;
    }
    int64_t hlc = 0;
    if ((rc = read_int(s, "SELECT v FROM meta WHERE k = 'hlc'", &hlc)) != 0)
        goto err_after_db;
    s->hlc = (uint64_t)hlc;
    *out = s;
    return 0;

err_after_db:
    finalize_all(s);
    sqlite3_close(s->db);
err_after_identity:
    ww_identity_free(s);
err_after_alloc:
    ww_free(s->dir);
    ww_free(s);
    return rc;
}

void ww_store_close(struct ww_store *s)
{
    if (!s)
        return;
    finalize_all(s);
    sqlite3_close(s->db);
    ww_identity_free(s);
    ww_free(s->dir);
    sodium_memzero(s->caches, sizeof s->caches); /* they hold keys */
    ww_free(s);
}

void ww_store_device(const struct ww_store *s, uint8_t pk[WW_KEY_LEN])
{
    memcpy(pk, s->pk, WW_KEY_LEN);
}

int ww_store_checkpoint(struct ww_store *s)
{
    if (!s)
        return WW_EINVAL;
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    return rc == SQLITE_BUSY ? WW_EBUSY : ww_db_err(s, rc);
}

int ww_tx(struct ww_store *s, int (*fn)(struct ww_store *s, void *ud), void *ud)
{
    int rc = ww_db_begin(s);
    if (rc != 0)
        return rc;
    rc = fn(s, ud);
    if (rc != 0) {
        ww_db_rollback(s);
        return rc;
    }
    return ww_db_commit(s);
}
