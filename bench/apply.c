/*
 * apply.c - how fast a device takes in events from a peer, next to the machine's limits.
 *
 * A peer (a coach device with four students) holds N reflection events shared with the
 * group (about 400 bytes of text each). A fresh store of another coach device then applies
 * them all, in batches of 256 as sync sends them, and we time only that. In the same run
 * we measure what the work is made of: Ed25519 verification, BLAKE2b and
 * XChaCha20-Poly1305 on 400 bytes, and SQLite inserts in one transaction.
 *
 * Output: "bench: NAME VALUE UNIT" and "limit: NAME VALUE UNIT" lines.
 * Usage: apply [events]   (default 100000)
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t fake_ms = 1795417200000LL;

static int64_t clock_ms(void *ud)
{
    (void)ud;
    return fake_ms;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench apply: %s: %s\n", what, ww_strerror(rc));
    exit(1);
}

static struct ww_store *open_dev(const char *root, const char *name, const char *db)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    struct ww_options opt = {clock_ms, NULL, NULL, db};
    struct ww_store *s = NULL;
    int rc = ww_store_open(dir, &opt, &s);
    if (rc != 0)
        die("open", rc);
    return s;
}

struct events {
    uint8_t **raw;
    size_t *len;
    size_t n, cap;
};

static void collect(void *ud, const uint8_t *ev, size_t len)
{
    struct events *e = ud;
    if (e->n == e->cap)
        return;
    e->raw[e->n] = malloc(len);
    memcpy(e->raw[e->n], ev, len);
    e->len[e->n++] = len;
}

/* ---- the machine's limits ---- */

static double limit_verify(void)
{
    uint8_t pk[32], sk[64], sig[64], msg[200];
    randombytes_buf(msg, sizeof msg);
    crypto_sign_keypair(pk, sk);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
    int n = 20000;
    double t = now_s();
    for (int i = 0; i < n; i++)
        if (crypto_sign_verify_detached(sig, msg, sizeof msg, pk) != 0)
            abort();
    return n / (now_s() - t);
}

static double limit_blake2b(void)
{
    uint8_t in[400], out[32];
    randombytes_buf(in, sizeof in);
    int n = 500000;
    double t = now_s();
    for (int i = 0; i < n; i++) {
        in[0] = (uint8_t)i;
        crypto_generichash(out, 32, in, sizeof in, NULL, 0);
    }
    return n / (now_s() - t);
}

static double limit_aead(void)
{
    uint8_t key[32], nonce[24], pt[400], ct[416], back[400], ad[150];
    randombytes_buf(key, sizeof key);
    randombytes_buf(nonce, sizeof nonce);
    randombytes_buf(pt, sizeof pt);
    randombytes_buf(ad, sizeof ad);
    unsigned long long clen, plen;
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &clen, pt, sizeof pt, ad, sizeof ad, NULL, nonce,
                                               key);
    int n = 300000;
    double t = now_s();
    for (int i = 0; i < n; i++)
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(back, &plen, NULL, ct, clen, ad, sizeof ad,
                                                       nonce, key) != 0)
            abort();
    return n / (now_s() - t);
}

/* Inserts shaped like the event log (a unique key and a 600-byte blob) plus a
 * materialised row, in one transaction, in the same WAL mode the store uses. */
static double limit_sqlite(const char *root, int n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/limit.db", root);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        abort();
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                 "CREATE TABLE t(g BLOB, a BLOB, s INTEGER, raw BLOB, UNIQUE(g, a, s));",
                 NULL, NULL, NULL);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "INSERT INTO t VALUES(?1,?2,?3,?4)", -1, &st, NULL);
    uint8_t g[16] = {1}, a[32] = {2}, raw[600];
    randombytes_buf(raw, sizeof raw);
    double t = now_s();
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (int i = 0; i < n; i++) {
        a[0] = (uint8_t)(i % 6);
        sqlite3_bind_blob(st, 1, g, 16, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, a, 32, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, i);
        sqlite3_bind_blob(st, 4, raw, sizeof raw, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            abort();
        sqlite3_reset(st);
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    double rate = n / (now_s() - t);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rate;
}

int main(int argc, char **argv)
{
    long n_events = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    if (n_events < 1000 || n_events > 10000000) {
        fprintf(stderr, "usage: apply [events 1000..10000000]\n");
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    char root[] = "/tmp/wwbench.XXXXXX";
    if (!mkdtemp(root))
        return 1;

    /* The peer: a coach and four students who reflect every day, shared with the group. */
    struct ww_store *coach = open_dev(root, "coach", NULL), *st[4];
    uint8_t gid[16], member[16], pk[32];
    int rc = ww_group_create(coach, "Bench", NULL, 0, "Coach", NULL, gid, NULL);
    if (rc != 0)
        die("group", rc);
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", i);
        st[i] = open_dev(root, name, NULL);
        ww_store_device(st[i], pk);
        if ((rc = ww_member_add(coach, gid, WW_ROLE_STUDENT, name, 1, 1, pk, member)) != 0)
            die("member", rc);
    }
    struct events all = {0};
    all.cap = (size_t)n_events + 1000;
    all.raw = calloc(all.cap, sizeof *all.raw);
    all.len = calloc(all.cap, sizeof *all.len);
    /* Hand each student the group's events so far (its keys). */
    for (int i = 0; i < 4; i++) {
        all.n = 0;
        ww_sync_missing(coach, gid, NULL, 0, 256, 1u << 20, collect, &all, NULL);
        struct ww_apply_result r;
        ww_sync_apply(st[i], (const uint8_t *const *)all.raw, all.len, all.n, &r);
        for (size_t k = 0; k < all.n; k++)
            free(all.raw[k]);
    }
    static const char text[] =
        "Vandaag heb ik tijdens de ochtendzorg gevraagd of ik mocht meekijken bij het gebruik "
        "van de tillift. Mijn werkbegeleider legde stap voor stap uit waar je op let en waarom.";
    double t_gen = now_s();
    long per = n_events / 4;
    for (int i = 0; i < 4; i++) {
        struct ww_store *s = st[i];
        ww_db_begin(s);
        for (long k = 0; k < per; k++) {
            struct ww_reflection r;
            memset(&r, 0, sizeof r);
            r.date = 20000 + (uint32_t)k;
            r.code = "W03";
            r.status = WW_STATUS_DONE;
            r.situatie = text;
            r.actie = text;
            r.reflectie = text;
            r.share = WW_SHARE_GROUP;
            fake_ms += 1000;
            struct ww_body body;
            memset(&body, 0, sizeof body);
            body.kind = WW_KIND_REFLECTION_PUT;
            body.u.reflection.date = r.date;
            body.u.reflection.code = (struct ww_slice){(const uint8_t *)"W03", 3};
            body.u.reflection.status = WW_STATUS_DONE;
            body.u.reflection.situatie = (struct ww_slice){(const uint8_t *)text, 150};
            body.u.reflection.actie = (struct ww_slice){(const uint8_t *)text, 120};
            body.u.reflection.reflectie = (struct ww_slice){(const uint8_t *)text, 130};
            body.u.reflection.share = WW_SHARE_GROUP;
            uint8_t ref[4] = {0, 0, (uint8_t)(r.date >> 8), (uint8_t)r.date};
            struct ww_emit e = {.kind = WW_KIND_REFLECTION_PUT,
                                .audience = WW_AUD_GROUP,
                                .ref = ref,
                                .ref_len = 4,
                                .body = &body};
            if ((rc = ww_emit(s, gid, &e, NULL)) != 0)
                die("emit", rc);
        }
        ww_db_commit(s);
        /* The coach collects them, as the hub would. */
        for (;;) {
            struct ww_vv_item vv[64];
            size_t nvv = 0;
            ww_sync_vv(coach, gid, vv, 64, &nvv);
            all.n = 0;
            int more = 0;
            ww_sync_missing(s, gid, vv, nvv, 256, 1u << 20, collect, &all, &more);
            if (!all.n)
                break;
            struct ww_apply_result r;
            if ((rc = ww_sync_apply(coach, (const uint8_t *const *)all.raw, all.len, all.n, &r)))
                die("collect", rc);
            for (size_t k = 0; k < all.n; k++)
                free(all.raw[k]);
        }
    }
    fprintf(stderr, "# generated %ld events in %.1f s\n", per * 4, now_s() - t_gen);

    /* Everything the peer holds, in the order sync sends it (one call, no limit). */
    all.n = 0;
    if ((rc = ww_sync_missing(coach, gid, NULL, 0, all.cap, SIZE_MAX, collect, &all, NULL)))
        die("missing", rc);
    size_t total = all.n;

    /* The fresh store: another device of the coach, which reads everything. */
    struct ww_store *fresh = open_dev(root, "coach", "fresh.db");
    double t = now_s();
    size_t accepted = 0;
    for (size_t off = 0; off < total; off += 256) {
        size_t n = total - off < 256 ? total - off : 256;
        struct ww_apply_result r;
        if ((rc = ww_sync_apply(fresh, (const uint8_t *const *)all.raw + off, all.len + off, n,
                                &r)) != 0)
            die("apply", rc);
        accepted += r.accepted;
    }
    double took = now_s() - t;
    if (accepted != total) {
        fprintf(stderr, "bench apply: accepted %zu of %zu\n", accepted, total);
        return 1;
    }
    /* The checkpoint the burst put off, timed on its own. */
    double t_ck = now_s();
    if ((rc = ww_store_checkpoint(fresh)) != 0)
        die("checkpoint", rc);
    double ck = now_s() - t_ck;
    printf("bench: apply_events %zu events\n", total);
    printf("bench: apply_seconds %.3f s\n", took);
    printf("bench: apply_events_per_s %.0f events/s\n", total / took);
    printf("bench: checkpoint_after_apply_seconds %.3f s\n", ck);
    printf("bench: apply_with_checkpoint_events_per_s %.0f events/s\n", total / (took + ck));
    double v = limit_verify(), h = limit_blake2b(), a = limit_aead(),
           q = limit_sqlite(root, (int)(total < 200000 ? total : 200000));
    printf("limit: ed25519_verify_per_s %.0f ops/s\n", v);
    printf("limit: blake2b_400B_per_s %.0f ops/s\n", h);
    printf("limit: xchacha20poly1305_400B_per_s %.0f ops/s\n", a);
    printf("limit: sqlite_insert_per_s %.0f rows/s\n", q);
    /* Per event: two hashes (ct_hash, event hash), one decryption, one insert into the log
     * and one materialised row. */
    double per_event = 2 / h + 1 / a + 2 / q;
    printf("limit: hash_decrypt_sqlite_per_s %.0f events/s\n", 1 / per_event);
    printf("limit: verify_every_event_per_s %.0f events/s\n", 1 / (per_event + 1 / v));

    for (size_t k = 0; k < total; k++)
        free(all.raw[k]);
    free(all.raw);
    free(all.len);
    ww_store_close(fresh);
    ww_store_close(coach);
    for (int i = 0; i < 4; i++)
        ww_store_close(st[i]);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd) != 0)
        return 1;
    return 0;
}
