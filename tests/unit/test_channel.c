/*
 * test_channel.c - the secure channel: the Noise XX handshake against the official
 * vectors and our own, then two in-memory channels talking through byte buffers, and
 * everything a hostile stream can do to them: split anywhere, flip bits, replay, reorder,
 * cut, lie about lengths, claim another device's key, speak out of turn.
 *
 * Deterministic: every key comes from a fixed seed; the only randomness is the ephemeral
 * keys of handshakes whose bytes the tests do not compare.
 */
#include <sodium.h>
#include <string.h>

#include "alloc.h"
#include "channel.h"
#include "noise.h"
#include "proto.h"
#include "runner.h"

/* ---- helpers ------------------------------------------------------------------------- */

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
    size_t n = 0;
    if (sodium_hex2bin(out, cap, hex, strlen(hex), NULL, &n, NULL) != 0)
        ww_test_fail(__FILE__, __LINE__, "bad hex in a vector");
    return n;
}

static void tohex(char *out, size_t cap, const uint8_t *p, size_t n)
{
    ASSERT(cap >= 2 * n + 1);
    sodium_bin2hex(out, cap, p, n);
}

/* An Ed25519 device key pair from a one-byte seed pattern: seed[k] = s + k. */
static void device_keys(uint8_t s, uint8_t pk[32], uint8_t sk[64])
{
    uint8_t seed[32];
    for (int k = 0; k < 32; k++)
        seed[k] = (uint8_t)(s + k);
    ASSERT_EQ(crypto_sign_seed_keypair(pk, sk, seed), 0);
}

struct sink {
    int n;                   /* frames delivered */
    size_t total;            /* bytes delivered */
    uint8_t last[256];       /* the last frame, cut to 256 bytes */
    size_t last_len;         /* its full length */
    int refuse_at;           /* refuse the frame with this number (1-based); 0: never */
    struct ww_channel *echo; /* when set, seal every frame back into echo_out */
    struct ww_buf *echo_out;
};

static int on_frame(void *ud, const uint8_t *frame, size_t len)
{
    struct sink *s = ud;
    s->n++;
    s->total += len;
    s->last_len = len;
    memcpy(s->last, frame, len < sizeof s->last ? len : sizeof s->last);
    if (s->refuse_at == s->n) {
        if (s->echo) { /* tell the peer why, while the channel can still seal */
            struct ww_frame e;
            struct ww_buf f;
            memset(&e, 0, sizeof e);
            e.type = WW_FRAME_ERROR;
            e.u.error.code = WW_WIRE_PROTOCOL;
            ww_buf_init(&f, 0);
            ASSERT_OK(ww_frame_encode(&e, &f));
            ASSERT_OK(ww_channel_seal(s->echo, f.p, f.len, s->echo_out));
            ww_buf_free(&f);
        }
        return WW_ETYPE;
    }
    if (s->echo)
        return ww_channel_seal(s->echo, frame, len, s->echo_out);
    return 0;
}

struct pair {
    struct ww_channel a; /* initiator */
    struct ww_channel b; /* responder */
    uint8_t a_pk[32], a_sk[64], b_pk[32], b_sk[64];
};

static void pair_init(struct pair *p)
{
    device_keys(0x00, p->a_pk, p->a_sk);
    device_keys(0x20, p->b_pk, p->b_sk);
    ASSERT_OK(ww_channel_init(&p->a, WW_CHANNEL_INITIATOR, p->a_pk, p->a_sk, WW_CAP_SYNC));
    ASSERT_OK(
        ww_channel_init(&p->b, WW_CHANNEL_RESPONDER, p->b_pk, p->b_sk, WW_CAP_SYNC | WW_CAP_AGG));
}

static void pair_close(struct pair *p)
{
    ww_channel_close(&p->a);
    ww_channel_close(&p->b);
}

/* Runs the three handshake messages through buffers, each fed in one piece. The
 * transcript (all bytes both ways, in order) is appended to t when t is not NULL. */
static void pair_handshake(struct pair *p, struct ww_buf *t)
{
    struct ww_buf m;
    struct sink s = {0};
    ww_buf_init(&m, 0);
    ASSERT_OK(ww_channel_handshake_write(&p->a, &m)); /* message 1 */
    ASSERT_EQ(m.len, 4 + 32);
    ASSERT_OK(ww_channel_feed(&p->b, m.p, m.len, on_frame, &s));
    if (t)
        ASSERT_OK(ww_buf_append(t, m.p, m.len));
    ww_buf_reset(&m);
    ASSERT_OK(ww_channel_handshake_write(&p->b, &m)); /* message 2 */
    ASSERT_OK(ww_channel_feed(&p->a, m.p, m.len, on_frame, &s));
    if (t)
        ASSERT_OK(ww_buf_append(t, m.p, m.len));
    ASSERT_EQ(ww_channel_get_state(&p->a), WW_CHANNEL_OPEN);
    ww_buf_reset(&m);
    ASSERT_OK(ww_channel_handshake_write(&p->a, &m)); /* message 3 */
    ASSERT_OK(ww_channel_feed(&p->b, m.p, m.len, on_frame, &s));
    if (t)
        ASSERT_OK(ww_buf_append(t, m.p, m.len));
    ASSERT_EQ(ww_channel_get_state(&p->b), WW_CHANNEL_OPEN);
    ASSERT_EQ(s.n, 0);
    ww_buf_free(&m);
}

/* A PING frame as sync would send it. */
static void ping(uint64_t nonce, struct ww_buf *out)
{
    struct ww_frame f;
    memset(&f, 0, sizeof f);
    f.type = WW_FRAME_PING;
    f.u.ping.nonce = nonce;
    ASSERT_OK(ww_frame_encode(&f, out));
}

/* Seals n frames from `from` into out, recording where each record starts. */
static void seal_pings(struct ww_channel *from, int n, struct ww_buf *out, size_t *starts)
{
    for (int k = 0; k < n; k++) {
        struct ww_buf f;
        ww_buf_init(&f, 0);
        ping(1000 + (uint64_t)k, &f);
        if (starts)
            starts[k] = out->len;
        ASSERT_OK(ww_channel_seal(from, f.p, f.len, out));
        ww_buf_free(&f);
    }
    if (starts)
        starts[n] = out->len;
}

/* ---- Noise: the official vectors ------------------------------------------------------ */

struct noise_vec {
    const char *prologue, *init_static, *init_ephemeral, *resp_static, *resp_ephemeral;
    const char *handshake_hash;
    int n;
    struct {
        const char *payload, *ciphertext;
    } msgs[8];
};

static const struct noise_vec noise_vectors[] = {
#include "vectors/noise_xx.inc"
};

static void run_noise_vector(const struct noise_vec *v)
{
    struct ww_noise_hs hs[2];
    struct ww_noise_cipher send[2], recv[2];
    uint8_t prologue[128], key[32], payload[256], ct[512], out[512], hash[64];
    size_t plen = unhex(prologue, sizeof prologue, v->prologue);

    unhex(key, sizeof key, v->init_static);
    ASSERT_OK(ww_noise_hs_init(&hs[0], WW_NOISE_INITIATOR, prologue, plen, key));
    unhex(key, sizeof key, v->init_ephemeral);
    ASSERT_OK(ww_noise_hs_set_ephemeral(&hs[0], key));
    unhex(key, sizeof key, v->resp_static);
    ASSERT_OK(ww_noise_hs_init(&hs[1], WW_NOISE_RESPONDER, prologue, plen, key));
    unhex(key, sizeof key, v->resp_ephemeral);
    ASSERT_OK(ww_noise_hs_set_ephemeral(&hs[1], key));

    for (int i = 0; i < v->n; i++) {
        int from = i % 2, to = 1 - from; /* initiator, responder, initiator, ... */
        size_t pn = unhex(payload, sizeof payload, v->msgs[i].payload);
        size_t cn = unhex(ct, sizeof ct, v->msgs[i].ciphertext);
        size_t n = 0, got = 0;
        if (i < 3) {
            ASSERT_EQ(ww_noise_hs_my_turn(&hs[from]), 1);
            ASSERT_OK(ww_noise_hs_write(&hs[from], payload, pn, out, sizeof out, &n));
            ASSERT_EQ(n, cn);
            ASSERT_MEM_EQ(out, ct, cn);
            ASSERT_OK(ww_noise_hs_read(&hs[to], ct, cn, out, sizeof out, &got));
            ASSERT_EQ(got, pn);
            ASSERT_MEM_EQ(out, payload, pn);
            if (i == 2) {
                ASSERT(ww_noise_hs_done(&hs[0]) && ww_noise_hs_done(&hs[1]));
                ASSERT_MEM_EQ(ww_noise_hs_hash(&hs[0]), ww_noise_hs_hash(&hs[1]), 64);
                if (v->handshake_hash[0]) {
                    unhex(hash, sizeof hash, v->handshake_hash);
                    ASSERT_MEM_EQ(ww_noise_hs_hash(&hs[0]), hash, 64);
                }
                for (int k = 0; k < 2; k++)
                    ASSERT_OK(ww_noise_hs_split(&hs[k], &send[k], &recv[k]));
            }
        } else {
            ASSERT_OK(ww_noise_encrypt(&send[from], NULL, 0, payload, pn, out));
            ASSERT_EQ(pn + 16, cn);
            ASSERT_MEM_EQ(out, ct, cn);
            ASSERT_OK(ww_noise_decrypt(&recv[to], NULL, 0, ct, cn, out));
            ASSERT_MEM_EQ(out, payload, pn);
        }
    }
    for (int k = 0; k < 2; k++) {
        ww_noise_cipher_wipe(&send[k]);
        ww_noise_cipher_wipe(&recv[k]);
        ww_noise_hs_wipe(&hs[k]);
    }
}

TEST(noise_official_vectors)
{
    ASSERT_GE(sodium_init(), 0);
    ASSERT_EQ(sizeof noise_vectors / sizeof noise_vectors[0], 2);
    for (size_t k = 0; k < sizeof noise_vectors / sizeof noise_vectors[0]; k++)
        run_noise_vector(&noise_vectors[k]);
}

/* A tampered vector message fails, and the state is dead afterwards. */
TEST(noise_tampered_message_fails_for_good)
{
    const struct noise_vec *v = &noise_vectors[0];
    struct ww_noise_hs i, r;
    uint8_t prologue[64], key[32], ct[512], out[512];
    size_t plen = unhex(prologue, sizeof prologue, v->prologue), n = 0;
    ASSERT_GE(sodium_init(), 0);
    unhex(key, sizeof key, v->init_static);
    ASSERT_OK(ww_noise_hs_init(&i, WW_NOISE_INITIATOR, prologue, plen, key));
    unhex(key, sizeof key, v->init_ephemeral);
    ASSERT_OK(ww_noise_hs_set_ephemeral(&i, key));
    unhex(key, sizeof key, v->resp_static);
    ASSERT_OK(ww_noise_hs_init(&r, WW_NOISE_RESPONDER, prologue, plen, key));
    ASSERT_OK(ww_noise_hs_write(&i, NULL, 0, ct, sizeof ct, &n));
    ASSERT_OK(ww_noise_hs_read(&r, ct, n, out, sizeof out, &n));
    ASSERT_OK(ww_noise_hs_write(&r, NULL, 0, ct, sizeof ct, &n));
    ct[40] ^= 1; /* inside the encrypted static key */
    size_t got;
    ASSERT_ERR(ww_noise_hs_read(&i, ct, n, out, sizeof out, &got), WW_EDECRYPT);
    ASSERT_EQ(ww_noise_hs_my_turn(&i), 0);
    ASSERT_ERR(ww_noise_hs_write(&i, NULL, 0, ct, sizeof ct, &n), WW_ESTATE);
    ASSERT(!ww_noise_hs_done(&i));
    ww_noise_hs_wipe(&r);
}

/* ---- the channel: a full session ------------------------------------------------------- */

TEST(channel_handshake_then_frames_both_ways)
{
    struct pair p;
    struct ww_buf ab, ba;
    struct sink sa = {0}, sb = {0};
    pair_init(&p);
    ASSERT_EQ(ww_channel_get_state(&p.a), WW_CHANNEL_HANDSHAKE);
    struct ww_channel_peer peer;
    ASSERT_ERR(ww_channel_peer(&p.a, &peer), WW_ESTATE);
    ASSERT_ERR(ww_channel_seal(&p.a, (const uint8_t *)"x", 1, &ab), WW_ESTATE);
    pair_handshake(&p, NULL);

    struct ww_channel_peer pa, pb;
    ASSERT_OK(ww_channel_peer(&p.a, &pa));
    ASSERT_OK(ww_channel_peer(&p.b, &pb));
    ASSERT_MEM_EQ(pa.device_pk, p.b_pk, 32);
    ASSERT_MEM_EQ(pb.device_pk, p.a_pk, 32);
    ASSERT_EQ(pa.version, 1);
    ASSERT_EQ(pb.version, 1);
    ASSERT_EQ(pa.caps, WW_CAP_SYNC | WW_CAP_AGG);
    ASSERT_EQ(pb.caps, WW_CAP_SYNC);
    ASSERT_MEM_EQ(pa.handshake_hash, pb.handshake_hash, 64);
    ASSERT_EQ(ww_channel_error(&p.a), 0);
    ASSERT_STR_EQ(ww_channel_reason(&p.a), "");

    ww_buf_init(&ab, 0);
    ww_buf_init(&ba, 0);
    seal_pings(&p.a, 3, &ab, NULL);
    ASSERT_OK(ww_channel_feed(&p.b, ab.p, ab.len, on_frame, &sb));
    ASSERT_EQ(sb.n, 3);
    struct ww_frame f;
    ASSERT_OK(ww_frame_decode(sb.last, sb.last_len, &f));
    ASSERT_EQ(f.type, WW_FRAME_PING);
    ASSERT_EQ(f.u.ping.nonce, 1002);

    /* A frame of the largest size, the other way. */
    uint8_t *big = ww_malloc(WW_MAX_FRAME);
    ASSERT(big);
    for (size_t k = 0; k < WW_MAX_FRAME; k++)
        big[k] = (uint8_t)(k * 7);
    ASSERT_OK(ww_channel_seal(&p.b, big, WW_MAX_FRAME, &ba));
    ASSERT_EQ(ba.len, 4 + WW_MAX_FRAME + 16);
    ASSERT_OK(ww_channel_feed(&p.a, ba.p, ba.len, on_frame, &sa));
    ASSERT_EQ(sa.n, 1);
    ASSERT_EQ(sa.last_len, WW_MAX_FRAME);
    ASSERT_MEM_EQ(sa.last, big, sizeof sa.last);
    ASSERT_EQ(p.a.big, NULL); /* a large record's buffer is not kept */
    ASSERT_OK(ww_channel_eof(&p.a));
    ww_free(big);
    ww_buf_free(&ab);
    ww_buf_free(&ba);
    pair_close(&p);
}

/* The initiator's message 3 and its first frames go out in one flight, and the responder
 * answers from inside its callback. */
TEST(channel_first_flight_and_answers_from_callback)
{
    struct pair p;
    struct ww_buf m, back;
    struct sink sa = {0}, sb = {0};
    pair_init(&p);
    ww_buf_init(&m, 0);
    ww_buf_init(&back, 0);
    ASSERT_OK(ww_channel_handshake_write(&p.a, &m));
    ASSERT_OK(ww_channel_feed(&p.b, m.p, m.len, on_frame, &sb));
    ww_buf_reset(&m);
    ASSERT_OK(ww_channel_handshake_write(&p.b, &m));
    ASSERT_OK(ww_channel_feed(&p.a, m.p, m.len, on_frame, &sa));
    ww_buf_reset(&m);
    /* Sealing first still puts message 3 ahead of the record. */
    seal_pings(&p.a, 2, &m, NULL);
    ASSERT_OK(ww_channel_handshake_write(&p.a, &m)); /* nothing more owed */
    sb.echo = &p.b;
    sb.echo_out = &back;
    ASSERT_OK(ww_channel_feed(&p.b, m.p, m.len, on_frame, &sb));
    ASSERT_EQ(sb.n, 2);
    ASSERT_OK(ww_channel_feed(&p.a, back.p, back.len, on_frame, &sa));
    ASSERT_EQ(sa.n, 2);
    ASSERT_EQ(sa.total, sb.total);
    ww_buf_free(&m);
    ww_buf_free(&back);
    pair_close(&p);
}

TEST(channel_byte_at_a_time)
{
    struct pair p;
    struct ww_buf m;
    struct sink sa = {0}, sb = {0};
    pair_init(&p);
    ww_buf_init(&m, 0);
    ASSERT_OK(ww_channel_handshake_write(&p.a, &m));
    for (size_t k = 0; k < m.len; k++)
        ASSERT_OK(ww_channel_feed(&p.b, m.p + k, 1, on_frame, &sb));
    ww_buf_reset(&m);
    ASSERT_OK(ww_channel_handshake_write(&p.b, &m));
    for (size_t k = 0; k < m.len; k++)
        ASSERT_OK(ww_channel_feed(&p.a, m.p + k, 1, on_frame, &sa));
    ww_buf_reset(&m);
    ASSERT_OK(ww_channel_handshake_write(&p.a, &m));
    seal_pings(&p.a, 5, &m, NULL);
    for (size_t k = 0; k < m.len; k++) {
        ASSERT_OK(ww_channel_feed(&p.b, m.p + k, 1, on_frame, &sb));
        ASSERT_OK(ww_channel_feed(&p.b, m.p + k, 0, on_frame, &sb)); /* empty feeds too */
    }
    ASSERT_EQ(sb.n, 5);
    ASSERT_OK(ww_channel_eof(&p.b));
    ww_buf_free(&m);
    pair_close(&p);
}

/* Any split of a stream of records into pieces gives the same frames. */
TEST(channel_random_splits)
{
    struct pair p;
    struct ww_buf m;
    pair_init(&p);
    pair_handshake(&p, NULL);
    ww_buf_init(&m, 0);
    seal_pings(&p.a, 40, &m, NULL);
    struct sink s = {0};
    uint8_t seed[32] = {7}, r[1024];
    randombytes_buf_deterministic(r, sizeof r, seed);
    size_t pos = 0;
    for (size_t k = 0; pos < m.len; k++) {
        size_t n = 1 + r[k % sizeof r] % 61;
        if (n > m.len - pos)
            n = m.len - pos;
        ASSERT_OK(ww_channel_feed(&p.b, m.p + pos, n, on_frame, &s));
        pos += n;
    }
    ASSERT_EQ(s.n, 40);
    ww_buf_free(&m);
    pair_close(&p);
}

/* ---- the channel: hostile streams ------------------------------------------------------ */

/* Every flipped bit of a stream of records is caught, at its record or (in a length
 * prefix) no later than the record it mangles; nothing from that record on is delivered. */
TEST(channel_flipped_bit_in_any_record)
{
    struct pair ref;
    struct ww_buf m;
    size_t starts[4];
    pair_init(&ref);
    pair_handshake(&ref, NULL);
    ww_buf_init(&m, 0);
    seal_pings(&ref.a, 3, &m, starts);
    pair_close(&ref);

    for (size_t byte = 0; byte < m.len; byte++) {
        for (int bit = 0; bit < 8; bit += 3) {
            /* Identical keys every time: same seeds, same ephemeral keys. */
            struct pair p;
            uint8_t e[32];
            struct sink s = {0};
            struct ww_buf stream;
            pair_init(&p);
            memset(e, 0x41, sizeof e);
            ASSERT_OK(ww_channel_set_ephemeral(&p.a, e));
            memset(e, 0x42, sizeof e);
            ASSERT_OK(ww_channel_set_ephemeral(&p.b, e));
            pair_handshake(&p, NULL);
            ww_buf_init(&stream, 0);
            seal_pings(&p.a, 3, &stream, NULL);
            ASSERT_EQ(stream.len, m.len);
            stream.p[byte] ^= (uint8_t)(1u << bit);
            int rc = ww_channel_feed(&p.b, stream.p, stream.len, on_frame, &s);
            if (rc == 0)
                rc = ww_channel_eof(&p.b); /* a larger length waits for more bytes */
            ASSERT(rc != 0);
            ASSERT_EQ(ww_channel_get_state(&p.b), WW_CHANNEL_FAILED);
            ASSERT_EQ(ww_channel_error(&p.b), rc);
            ASSERT(ww_channel_reason(&p.b)[0] != '\0');
            int rec = 0;
            while (byte >= starts[rec + 1])
                rec++;
            ASSERT_EQ(s.n, rec); /* the records before it, and not one more */
            ww_buf_free(&stream);
            pair_close(&p);
        }
    }
    ww_buf_free(&m);
}

/* A flipped bit anywhere in the handshake fails it on one side or the other. */
TEST(channel_flipped_bit_in_handshake)
{
    for (int msg = 0; msg < 3; msg++) {
        for (size_t byte = 0;; byte++) {
            struct pair p;
            struct ww_buf m;
            struct sink s = {0};
            struct ww_channel *to[3], *from[3];
            pair_init(&p);
            from[0] = &p.a, to[0] = &p.b;
            from[1] = &p.b, to[1] = &p.a;
            from[2] = &p.a, to[2] = &p.b;
            ww_buf_init(&m, 0);
            int rc = 0;
            size_t len = 0;
            for (int k = 0; k <= msg; k++) {
                ww_buf_reset(&m);
                ASSERT_OK(ww_channel_handshake_write(from[k], &m));
                len = m.len;
                if (k == msg && byte < m.len)
                    m.p[byte] ^= 0x10;
                rc = ww_channel_feed(to[k], m.p, m.len, on_frame, &s);
                if (k < msg)
                    ASSERT_OK(rc);
            }
            if (byte >= len) {
                ww_buf_free(&m);
                pair_close(&p);
                break;
            }
            if (rc == 0 && msg == 0) {
                /* Message 1 carries a bare key: a changed key is caught by message 2. */
                ww_buf_reset(&m);
                ASSERT_OK(ww_channel_handshake_write(&p.b, &m));
                rc = ww_channel_feed(&p.a, m.p, m.len, on_frame, &s);
            } else if (rc == 0) {
                rc = ww_channel_eof(to[msg]); /* a larger length waits for more bytes */
            }
            ASSERT(rc != 0);
            ASSERT_EQ(s.n, 0);
            ww_buf_free(&m);
            pair_close(&p);
        }
    }
}

TEST(channel_replayed_record)
{
    struct pair p;
    struct ww_buf m, replay;
    size_t starts[3];
    struct sink s = {0};
    pair_init(&p);
    pair_handshake(&p, NULL);
    ww_buf_init(&m, 0);
    ww_buf_init(&replay, 0);
    seal_pings(&p.a, 2, &m, starts);
    ASSERT_OK(ww_buf_append(&replay, m.p, starts[1]));     /* record 1 */
    ASSERT_OK(ww_buf_append(&replay, m.p, starts[1]));     /* record 1 again */
    ASSERT_OK(ww_buf_append(&replay, m.p + starts[1], 4)); /* and part of record 2 */
    ASSERT_ERR(ww_channel_feed(&p.b, replay.p, replay.len, on_frame, &s), WW_EDECRYPT);
    ASSERT_EQ(s.n, 1);
    /* Nothing after a failure is delivered, not even the genuine next record. */
    ASSERT_ERR(ww_channel_feed(&p.b, m.p + starts[1], starts[2] - starts[1], on_frame, &s),
               WW_EDECRYPT);
    ASSERT_EQ(s.n, 1);
    ASSERT_ERR(ww_channel_seal(&p.b, m.p, 3, &replay), WW_EDECRYPT);
    ww_buf_free(&m);
    ww_buf_free(&replay);
    pair_close(&p);
}

TEST(channel_reordered_records)
{
    struct pair p;
    struct ww_buf m, swapped;
    size_t starts[4];
    struct sink s = {0};
    pair_init(&p);
    pair_handshake(&p, NULL);
    ww_buf_init(&m, 0);
    ww_buf_init(&swapped, 0);
    seal_pings(&p.a, 3, &m, starts);
    ASSERT_OK(ww_buf_append(&swapped, m.p, starts[1]));
    ASSERT_OK(ww_buf_append(&swapped, m.p + starts[2], starts[3] - starts[2]));
    ASSERT_OK(ww_buf_append(&swapped, m.p + starts[1], starts[2] - starts[1]));
    ASSERT_ERR(ww_channel_feed(&p.b, swapped.p, swapped.len, on_frame, &s), WW_EDECRYPT);
    ASSERT_EQ(s.n, 1);
    ww_buf_free(&m);
    ww_buf_free(&swapped);
    pair_close(&p);
}

/* A stream cut anywhere inside a record delivers nothing of that record. */
TEST(channel_truncated_stream)
{
    struct pair ref;
    struct ww_buf m;
    size_t starts[2];
    pair_init(&ref);
    uint8_t e[32] = {1};
    ASSERT_OK(ww_channel_set_ephemeral(&ref.a, e));
    pair_handshake(&ref, NULL);
    ww_buf_init(&m, 0);
    seal_pings(&ref.a, 1, &m, starts);
    for (size_t cut = 1; cut < m.len; cut++) {
        struct pair p;
        struct sink s = {0};
        struct ww_buf again;
        pair_init(&p);
        ASSERT_OK(ww_channel_set_ephemeral(&p.a, e));
        pair_handshake(&p, NULL);
        ww_buf_init(&again, 0);
        seal_pings(&p.a, 1, &again, NULL);
        ASSERT_OK(ww_channel_feed(&p.b, again.p, cut, on_frame, &s));
        ASSERT_EQ(s.n, 0);
        ASSERT_ERR(ww_channel_eof(&p.b), WW_ETRUNC);
        ASSERT_EQ(ww_channel_get_state(&p.b), WW_CHANNEL_FAILED);
        ASSERT_ERR(ww_channel_feed(&p.b, again.p + cut, again.len - cut, on_frame, &s), WW_ETRUNC);
        ASSERT_EQ(s.n, 0);
        ww_buf_free(&again);
        pair_close(&p);
    }
    /* A stream that ends during the handshake fails too. */
    struct pair p;
    pair_init(&p);
    ASSERT_ERR(ww_channel_eof(&p.b), WW_ETRUNC);
    ww_buf_free(&m);
    pair_close(&p);
    pair_close(&ref);
}

/* Lengths are judged from the prefix alone: nothing is buffered or allocated for them. */
TEST(channel_length_zero_and_too_long_refused_before_payload)
{
    static const uint32_t bad[] = {0, WW_CHANNEL_MAX_RECORD + 1, 0xffffffffu, 16};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        struct pair p;
        struct sink s = {0};
        pair_init(&p);
        pair_handshake(&p, NULL);
        uint8_t prefix[4] = {(uint8_t)(bad[k] >> 24), (uint8_t)(bad[k] >> 16),
                             (uint8_t)(bad[k] >> 8), (uint8_t)bad[k]};
        long before = ww_alloc_outstanding();
        ASSERT_OK(ww_channel_feed(&p.b, prefix, 3, on_frame, &s));
        int rc = ww_channel_feed(&p.b, prefix + 3, 1, on_frame, &s);
        ASSERT_ERR(rc, bad[k] > WW_CHANNEL_MAX_RECORD ? WW_ETOOBIG : WW_ERANGE);
        ASSERT_EQ(ww_alloc_outstanding(), before);
        ASSERT_EQ(p.b.big, NULL);
        ASSERT_EQ(s.n, 0);
        pair_close(&p);
    }
    /* The largest allowed length is taken, and buffered only as its bytes arrive. */
    struct pair p;
    struct sink s = {0};
    pair_init(&p);
    pair_handshake(&p, NULL);
    uint32_t max = WW_CHANNEL_MAX_RECORD;
    uint8_t prefix[4] = {(uint8_t)(max >> 24), (uint8_t)(max >> 16), (uint8_t)(max >> 8),
                         (uint8_t)max};
    ASSERT_OK(ww_channel_feed(&p.b, prefix, 4, on_frame, &s));
    ASSERT_EQ(p.b.big_cap, WW_CHANNEL_MAX_RECORD);
    pair_close(&p);

    /* During the handshake the bounds are tighter: message 1 is exactly 32 bytes. */
    pair_init(&p);
    uint8_t m1[4] = {0, 0, 0, 33};
    ASSERT_ERR(ww_channel_feed(&p.b, m1, 4, on_frame, &s), WW_ETOOBIG);
    ww_channel_close(&p.b);
    ASSERT_OK(ww_channel_init(&p.b, WW_CHANNEL_RESPONDER, p.b_pk, p.b_sk, 0));
    m1[3] = 31;
    ASSERT_ERR(ww_channel_feed(&p.b, m1, 4, on_frame, &s), WW_ERANGE);
    pair_close(&p);
}

/* The peer proves one static key and names another device in its hello. */
static void lying_hello(struct ww_channel *ch, const uint8_t claimed_pk[32])
{
    struct ww_hello h;
    struct ww_buf b;
    memset(&h, 0, sizeof h);
    h.version = 1;
    h.caps = WW_CAP_SYNC;
    memcpy(h.device_pk, claimed_pk, 32);
    ww_buf_init(&b, 0);
    ASSERT_OK(ww_hello_encode(&h, &b));
    memcpy(ch->hello, b.p, b.len);
    ch->hello_len = b.len;
    ww_buf_free(&b);
}

TEST(channel_wrong_remote_static)
{
    uint8_t other_pk[32], other_sk[64];
    device_keys(0x60, other_pk, other_sk);
    for (int liar = 0; liar < 2; liar++) {
        struct pair p;
        struct ww_buf m;
        struct sink s = {0};
        pair_init(&p);
        lying_hello(liar == 0 ? &p.a : &p.b, other_pk);
        ww_buf_init(&m, 0);
        ASSERT_OK(ww_channel_handshake_write(&p.a, &m));
        ASSERT_OK(ww_channel_feed(&p.b, m.p, m.len, on_frame, &s));
        ww_buf_reset(&m);
        ASSERT_OK(ww_channel_handshake_write(&p.b, &m));
        int rc = ww_channel_feed(&p.a, m.p, m.len, on_frame, &s);
        if (liar == 1) {
            ASSERT_ERR(rc, WW_EAUTH);
            ASSERT_STR_EQ(ww_channel_reason(&p.a),
                          "peer device key does not match its Noise static key");
            struct ww_channel_peer peer;
            ASSERT_ERR(ww_channel_peer(&p.a, &peer), WW_ESTATE);
        } else {
            ASSERT_OK(rc);
            ww_buf_reset(&m);
            ASSERT_OK(ww_channel_handshake_write(&p.a, &m));
            seal_pings(&p.a, 1, &m, NULL);
            ASSERT_ERR(ww_channel_feed(&p.b, m.p, m.len, on_frame, &s), WW_EAUTH);
            ASSERT_EQ(s.n, 0);
        }
        ww_buf_free(&m);
        pair_close(&p);
    }
    /* A device key that is not an Ed25519 point at all. */
    struct pair p;
    struct ww_buf m;
    struct sink s = {0};
    uint8_t junk[32];
    memset(junk, 0xff, sizeof junk);
    pair_init(&p);
    lying_hello(&p.b, junk);
    ww_buf_init(&m, 0);
    ASSERT_OK(ww_channel_handshake_write(&p.a, &m));
    ASSERT_OK(ww_channel_feed(&p.b, m.p, m.len, on_frame, &s));
    ww_buf_reset(&m);
    ASSERT_OK(ww_channel_handshake_write(&p.b, &m));
    ASSERT_ERR(ww_channel_feed(&p.a, m.p, m.len, on_frame, &s), WW_EAUTH);
    ww_buf_free(&m);
    pair_close(&p);
}

/* An initiator that knows whom it dials says nothing to anyone else. */
TEST(channel_expected_peer)
{
    uint8_t other_pk[32], other_sk[64];
    device_keys(0x60, other_pk, other_sk);
    for (int right = 0; right < 2; right++) {
        struct pair p;
        struct ww_buf m;
        struct sink s = {0};
        pair_init(&p);
        ASSERT_OK(ww_channel_expect_peer(&p.a, right ? p.b_pk : other_pk));
        ASSERT_OK(ww_channel_expect_peer(&p.b, p.a_pk));
        ww_buf_init(&m, 0);
        ASSERT_OK(ww_channel_handshake_write(&p.a, &m));
        ASSERT_ERR(ww_channel_expect_peer(&p.a, p.b_pk), WW_ESTATE);
        ASSERT_OK(ww_channel_feed(&p.b, m.p, m.len, on_frame, &s));
        ww_buf_reset(&m);
        ASSERT_OK(ww_channel_handshake_write(&p.b, &m));
        int rc = ww_channel_feed(&p.a, m.p, m.len, on_frame, &s);
        ww_buf_reset(&m);
        if (!right) {
            ASSERT_ERR(rc, WW_EAUTH);
            ASSERT_STR_EQ(ww_channel_reason(&p.a), "peer is not the expected device");
            /* Message 3, which would carry the initiator's key, is never produced. */
            ASSERT_ERR(ww_channel_handshake_write(&p.a, &m), WW_EAUTH);
            ASSERT_EQ(m.len, 0);
        } else {
            ASSERT_OK(rc);
            ASSERT_OK(ww_channel_handshake_write(&p.a, &m));
            ASSERT_OK(ww_channel_feed(&p.b, m.p, m.len, on_frame, &s));
            ASSERT_EQ(ww_channel_get_state(&p.b), WW_CHANNEL_OPEN);
        }
        ww_buf_free(&m);
        pair_close(&p);
    }
}

/* A peer that does not speak the protocol: an HTTP request, or bytes before message 1. */
TEST(channel_garbage_at_start)
{
    struct pair p;
    struct sink s = {0};
    const char *http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    pair_init(&p);
    ASSERT_ERR(ww_channel_feed(&p.b, (const uint8_t *)http, strlen(http), on_frame, &s),
               WW_ETOOBIG);
    /* The initiator speaks first; anything before that is out of turn. */
    ASSERT_ERR(ww_channel_feed(&p.a, (const uint8_t *)"\0", 1, on_frame, &s), WW_ESTATE);
    struct ww_buf m;
    ww_buf_init(&m, 0);
    ASSERT_ERR(ww_channel_handshake_write(&p.a, &m), WW_ESTATE);
    ASSERT_EQ(m.len, 0);
    pair_close(&p);

    /* Junk in front of a genuine message 1. */
    pair_init(&p);
    ASSERT_OK(ww_buf_append(&m, "\0\0\0\x20", 4));
    ASSERT_OK(ww_buf_append(&m, "0123456789abcdef0123456789abcdef", 32));
    ASSERT_OK(ww_channel_handshake_write(&p.a, &m));
    /* The junk passes for message 1; the genuine one is then too short for message 3. */
    ASSERT_ERR(ww_channel_feed(&p.b, m.p, m.len, on_frame, &s), WW_ERANGE);
    ASSERT_EQ(s.n, 0);
    ww_buf_free(&m);
    pair_close(&p);

    /* Seeded random garbage never opens a channel and never delivers. */
    uint8_t seed[32] = {9}, junk[600];
    for (int round = 0; round < 200; round++) {
        seed[1] = (uint8_t)round;
        randombytes_buf_deterministic(junk, sizeof junk, seed);
        junk[0] = 0, junk[1] = 0, junk[2] = 0, junk[3] = 32; /* past the length check */
        pair_init(&p);
        (void)ww_channel_feed(&p.b, junk, sizeof junk, on_frame, &s);
        ASSERT_EQ(ww_channel_get_state(&p.b), WW_CHANNEL_FAILED);
        ASSERT_EQ(s.n, 0);
        pair_close(&p);
    }
}

/* An ephemeral key of small order gives an all-zero DH result, which is refused. */
TEST(channel_small_order_key_refused)
{
    struct pair p;
    struct sink s = {0};
    uint8_t m1[36] = {0, 0, 0, 32}; /* the point 0 */
    pair_init(&p);
    ASSERT_ERR(ww_channel_feed(&p.b, m1, sizeof m1, on_frame, &s), WW_EAUTH);
    ASSERT_STR_EQ(ww_channel_reason(&p.b), "cannot write handshake message");
    pair_close(&p);
}

TEST(channel_refused_frame_stops_delivery)
{
    struct pair p;
    struct ww_buf m, back;
    struct sink s = {0}, sa = {0};
    s.refuse_at = 2;
    pair_init(&p);
    pair_handshake(&p, NULL);
    ww_buf_init(&m, 0);
    ww_buf_init(&back, 0);
    s.echo = &p.b;
    s.echo_out = &back;
    seal_pings(&p.a, 4, &m, NULL);
    ASSERT_ERR(ww_channel_feed(&p.b, m.p, m.len, on_frame, &s), WW_ETYPE);
    ASSERT_EQ(s.n, 2);
    ASSERT_STR_EQ(ww_channel_reason(&p.b), "frame refused by the receiver");
    /* The first frame was echoed, then the ERROR sealed from the callback arrives. */
    ASSERT_OK(ww_channel_feed(&p.a, back.p, back.len, on_frame, &sa));
    ASSERT_EQ(sa.n, 2);
    struct ww_frame f;
    ASSERT_OK(ww_frame_decode(sa.last, sa.last_len, &f));
    ASSERT_EQ(f.type, WW_FRAME_ERROR);
    ASSERT_EQ(f.u.error.code, WW_WIRE_PROTOCOL);
    ww_buf_free(&m);
    ww_buf_free(&back);
    pair_close(&p);
}

TEST(channel_seal_refuses_without_side_effects)
{
    struct pair p;
    struct ww_buf m, small;
    pair_init(&p);
    pair_handshake(&p, NULL);
    ww_buf_init(&m, 0);
    ASSERT_OK(ww_buf_append(&m, "keep", 4));
    ASSERT_ERR(ww_channel_seal(&p.a, m.p, 0, &m), WW_EINVAL);
    ASSERT_ERR(ww_channel_seal(&p.a, m.p, WW_MAX_FRAME + 1, &m), WW_ETOOBIG);
    ww_buf_init(&small, 20);
    ASSERT_ERR(ww_channel_seal(&p.a, (const uint8_t *)"0123456789", 10, &small), WW_ETOOBIG);
    ASSERT_EQ(small.len, 0);
    ASSERT_EQ(p.a.tx.n, 0); /* no nonce spent */
    struct ww_buf fresh;
    ww_buf_init(&fresh, 0);
    ww_alloc_fail_after(0);
    ASSERT_ERR(ww_channel_seal(&p.a, (const uint8_t *)"0123456789", 10, &fresh), WW_ENOMEM);
    ww_alloc_fail_after(-1);
    ASSERT_EQ(fresh.len, 0);
    ASSERT_EQ(p.a.tx.n, 0);
    ASSERT_EQ(m.len, 4);
    ASSERT_EQ(ww_channel_get_state(&p.a), WW_CHANNEL_OPEN);
    /* The peer still reads the next record: the counters stayed in step. */
    struct sink s = {0};
    ww_buf_reset(&m);
    seal_pings(&p.a, 1, &m, NULL);
    ASSERT_OK(ww_channel_feed(&p.b, m.p, m.len, on_frame, &s));
    ASSERT_EQ(s.n, 1);
    ww_buf_free(&m);
    ww_buf_free(&small);
    pair_close(&p);
}

/* A seal that fails inside the callback fails the channel; the frame the callback holds
 * stays readable until it returns, and nothing more is delivered. */
struct exhaust {
    struct ww_channel *ch;
    struct ww_buf *out;
    int n;
};

static int seal_and_read(void *ud, const uint8_t *frame, size_t len)
{
    struct exhaust *x = ud;
    uint8_t copy[64];
    x->n++;
    x->ch->tx.n = UINT64_MAX;
    ASSERT_ERR(ww_channel_seal(x->ch, frame, len, x->out), WW_ESTATE);
    memcpy(copy, frame, len < sizeof copy ? len : sizeof copy); /* still valid memory */
    ASSERT_EQ(ww_channel_get_state(x->ch), WW_CHANNEL_FAILED);
    return 0;
}

TEST(channel_failure_inside_callback)
{
    struct pair p;
    struct ww_buf m, back;
    pair_init(&p);
    pair_handshake(&p, NULL);
    ww_buf_init(&m, 0);
    ww_buf_init(&back, 0);
    seal_pings(&p.a, 3, &m, NULL);
    struct exhaust x = {&p.b, &back, 0};
    ASSERT_ERR(ww_channel_feed(&p.b, m.p, m.len, seal_and_read, &x), WW_ESTATE);
    ASSERT_EQ(x.n, 1);
    ASSERT_EQ(back.len, 0);
    ASSERT_EQ(p.b.big, NULL);
    ww_buf_free(&m);
    ww_buf_free(&back);
    pair_close(&p);
}

/* The last usable nonce is 2^64-2; the channel fails rather than use 2^64-1. */
TEST(channel_closes_before_nonce_wraps)
{
    struct pair p;
    struct ww_buf m;
    struct sink s = {0};
    pair_init(&p);
    pair_handshake(&p, NULL);
    p.a.tx.n = UINT64_MAX - 1;
    p.b.rx.n = UINT64_MAX - 1;
    ww_buf_init(&m, 0);
    seal_pings(&p.a, 1, &m, NULL);
    ASSERT_OK(ww_channel_feed(&p.b, m.p, m.len, on_frame, &s));
    ASSERT_EQ(s.n, 1);
    size_t len = m.len;
    ASSERT_ERR(ww_channel_seal(&p.a, m.p, 3, &m), WW_ESTATE);
    ASSERT_EQ(m.len, len);
    ASSERT_EQ(ww_channel_get_state(&p.a), WW_CHANNEL_FAILED);
    ASSERT_STR_EQ(ww_channel_reason(&p.a), "send nonce counter exhausted");
    /* The receiver refuses a record under nonce 2^64-1 just the same. */
    ASSERT_ERR(ww_channel_feed(&p.b, m.p, m.len, on_frame, &s), WW_ESTATE);
    ASSERT_EQ(s.n, 1);
    ww_buf_free(&m);
    pair_close(&p);
}

/* The negotiated version is the smaller one; unknown cap bits pass through. */
TEST(channel_version_and_caps_negotiation)
{
    struct pair p;
    struct ww_hello h;
    struct ww_buf b;
    pair_init(&p);
    memset(&h, 0, sizeof h);
    h.version = 7;
    h.caps = 0x80000001u;
    memcpy(h.device_pk, p.a_pk, 32);
    ww_buf_init(&b, 0);
    ASSERT_OK(ww_hello_encode(&h, &b));
    memcpy(p.a.hello, b.p, b.len);
    p.a.hello_len = b.len;
    ww_buf_free(&b);
    pair_handshake(&p, NULL);
    struct ww_channel_peer peer;
    ASSERT_OK(ww_channel_peer(&p.b, &peer));
    ASSERT_EQ(peer.version, 1);
    ASSERT_EQ(peer.caps, 0x80000001u);
    pair_close(&p);
}

/* A passive observer of a whole session sees neither side's static key, in either form. */
TEST(channel_observer_learns_no_static_key)
{
    struct pair p;
    struct ww_buf t;
    uint8_t x[32];
    pair_init(&p);
    ww_buf_init(&t, 0);
    pair_handshake(&p, &t);
    seal_pings(&p.a, 2, &t, NULL);
    const uint8_t *keys[2] = {p.a_pk, p.b_pk};
    for (int k = 0; k < 2; k++) {
        ASSERT_EQ(crypto_sign_ed25519_pk_to_curve25519(x, keys[k]), 0);
        for (size_t i = 0; i + 8 <= t.len; i++) {
            ASSERT(memcmp(t.p + i, keys[k], 8) != 0);
            ASSERT(memcmp(t.p + i, x, 8) != 0);
        }
    }
    ww_buf_free(&t);
    pair_close(&p);
}

/* Out-of-memory while buffering a record fails the channel cleanly; a session's blocks
 * all come back. */
TEST(channel_allocations_return_to_zero)
{
    long base = ww_alloc_outstanding();
    struct pair p;
    struct ww_buf m;
    struct sink s = {0};
    pair_init(&p);
    ASSERT_EQ(ww_alloc_outstanding(), base); /* init gives back what it took */
    pair_handshake(&p, NULL);
    ww_buf_init(&m, 0);
    seal_pings(&p.a, 1, &m, NULL);
    ww_alloc_fail_after(0);
    ASSERT_ERR(ww_channel_feed(&p.b, m.p, m.len, on_frame, &s), WW_ENOMEM);
    ww_alloc_fail_after(-1);
    ASSERT_STR_EQ(ww_channel_reason(&p.b), "out of memory for a record");
    ASSERT_EQ(s.n, 0);
    pair_close(&p);
    ww_buf_free(&m);
    ASSERT_EQ(ww_alloc_outstanding(), base);

    pair_init(&p);
    pair_handshake(&p, NULL);
    ww_buf_init(&m, 0);
    seal_pings(&p.a, 10, &m, NULL);
    ASSERT_OK(ww_channel_feed(&p.b, m.p, m.len, on_frame, &s));
    ASSERT_GT(ww_alloc_outstanding(), base);
    pair_close(&p);
    ww_buf_free(&m);
    ASSERT_EQ(ww_alloc_outstanding(), base);

    /* ww_channel_init under every allocation failure. */
    uint8_t pk[32], sk[64];
    device_keys(1, pk, sk);
    struct ww_channel ch;
    ww_alloc_fail_after(0);
    ASSERT_ERR(ww_channel_init(&ch, WW_CHANNEL_RESPONDER, pk, sk, 0), WW_ENOMEM);
    ww_alloc_fail_after(-1);
    ww_channel_close(&ch);
    ASSERT_ERR(ww_channel_init(&ch, WW_CHANNEL_RESPONDER, sk, sk, 0), WW_EINVAL);
    ASSERT_EQ(ww_alloc_outstanding(), base);
}

/* ---- the Wegwijs handshake vector (PROTOCOL.md 12.5) ------------------------------------- */

/*
 * Fixed inputs: Ed25519 seeds pat(0x00) (initiator) and pat(0x20) (responder), X25519
 * ephemeral secrets pat(0x40) and pat(0x60), caps 1 and 3, version 1; after the
 * handshake the initiator seals the frame PING {nonce 1}. Each hex string is one whole
 * record, length prefix included.
 */
static const char *const wegwijs_vector[] = {
    /* message 1: initiator -> responder */
    "0000002079a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a",
    /* message 2: responder -> initiator */
    "00000085675dd574ed7789310b3d2e7681f3790b466c773b1521fecf36577958371ea52f2f6863f7"
    "16454020541827948980831fb33b357a52fe2034e54c94271298098bad5a3cf20837e70d9318786c"
    "4c6a1300fa32e8e7b0880ac6fb8b90a7f351020e7fa9ad719dfbaea21abad65023b78d8217903112"
    "ad0811485abba2acfa26864bba7e6fdc0c",
    /* message 3: initiator -> responder */
    "00000065d0b3a364d54a8ba62df0251a428f8866e7a355b828556fee774f34a922335544cddd9d84"
    "8f3ec3a2a78b45d460ab4706973c4450967202b78553487c133b2c30058acbbebcc09f869fcc209e"
    "ede78aa3b54453f869b96cb7beb1b2ef49e54734912821f048",
    /* the first transport record: PING {nonce 1} */
    "00000013ae57d5e5413d527401b5e013385bc6bc892634",
};
static const char wegwijs_hash[] =
    "46c775352d6de766cb8f585316ec750e7e1ca362c10409cfc3da58b6b5ead3fef41f986401fcdbf8"
    "1b9784e72d19a42d3e90da146540dbdeef39cc1e7e6bca91";

static void pattern(uint8_t *p, size_t n, uint8_t s)
{
    for (size_t k = 0; k < n; k++)
        p[k] = (uint8_t)(s + k);
}

TEST(channel_wegwijs_handshake_vector)
{
    struct pair p;
    struct ww_buf rec[4];
    struct sink s = {0};
    uint8_t e[32];
    pair_init(&p);
    pattern(e, 32, 0x40);
    ASSERT_OK(ww_channel_set_ephemeral(&p.a, e));
    pattern(e, 32, 0x60);
    ASSERT_OK(ww_channel_set_ephemeral(&p.b, e));
    for (int k = 0; k < 4; k++)
        ww_buf_init(&rec[k], 0);
    ASSERT_OK(ww_channel_handshake_write(&p.a, &rec[0]));
    ASSERT_OK(ww_channel_feed(&p.b, rec[0].p, rec[0].len, on_frame, &s));
    ASSERT_OK(ww_channel_handshake_write(&p.b, &rec[1]));
    ASSERT_OK(ww_channel_feed(&p.a, rec[1].p, rec[1].len, on_frame, &s));
    ASSERT_OK(ww_channel_handshake_write(&p.a, &rec[2]));
    struct ww_buf f;
    ww_buf_init(&f, 0);
    ping(1, &f);
    ASSERT_OK(ww_channel_seal(&p.a, f.p, f.len, &rec[3]));
    ww_buf_free(&f);

    char hex[2 * 512 + 1];
    for (int k = 0; k < 4; k++) {
        tohex(hex, sizeof hex, rec[k].p, rec[k].len);
        if (getenv("WW_PRINT_VECTORS")) /* regenerating after a deliberate change */
            printf("# record %d %s\n", k + 1, hex);
        else
            ASSERT_STR_EQ(hex, wegwijs_vector[k]);
    }
    ASSERT_OK(ww_channel_feed(&p.b, rec[2].p, rec[2].len, on_frame, &s));
    ASSERT_OK(ww_channel_feed(&p.b, rec[3].p, rec[3].len, on_frame, &s));
    ASSERT_EQ(s.n, 1);
    struct ww_channel_peer peer;
    ASSERT_OK(ww_channel_peer(&p.b, &peer));
    tohex(hex, sizeof hex, peer.handshake_hash, 64);
    if (getenv("WW_PRINT_VECTORS"))
        printf("# hash %s\n", hex);
    else
        ASSERT_STR_EQ(hex, wegwijs_hash);
    for (int k = 0; k < 4; k++)
        ww_buf_free(&rec[k]);
    pair_close(&p);
}
