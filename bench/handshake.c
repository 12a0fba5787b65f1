/*
 * handshake.c - how many secure-channel handshakes one core completes, next to the raw
 * cryptography such a handshake is made of.
 *
 * limit: handshake_crypto_per_s is the primitives of one full Noise XX handshake (both
 * sides), called directly: two ephemeral key generations, the six X25519 operations (ee,
 * es, se on each side), the eight ChaCha20-Poly1305 operations (the encrypted static keys
 * and payloads, sealed and opened), and the BLAKE2b work of MixHash and of HKDF (each
 * HKDF output is three HMACs of two hashes each). bench: handshakes_inmem_per_s is two
 * ww_channels handshaking through memory: the same work plus the conversion of the
 * Ed25519 device keys, the hello codec, framing, and wiping.
 *
 * Output: "bench: NAME VALUE UNIT" and "limit: NAME VALUE UNIT" lines; runs about 4 s.
 * Usage: handshake [seconds per figure]   (default 2)
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "channel.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench handshake: %s: %s\n", what, ww_strerror(rc));
    exit(1);
}

static volatile uint8_t sink;

/* BLAKE2b-512 over n bytes: one MixHash, or half of an HMAC. */
static void hash(uint8_t out[64], const uint8_t *in, size_t n)
{
    crypto_generichash_blake2b(out, 64, in, n, NULL, 0);
}

/* The primitives of one XX handshake, both sides; si and sr are the static secret keys
 * followed by their public halves. */
static void one_handshake_crypto(const uint8_t si[64], const uint8_t sr[64])
{
    uint8_t ei[32], er[32], pk[4][32], dh[32], h[64] = {0}, buf[256], tag[16];
    uint8_t key[32] = {1}, nonce[12] = {0};
    /* keygen: the two ephemeral key pairs */
    randombytes_buf(ei, sizeof ei);
    crypto_scalarmult_base(pk[0], ei);
    randombytes_buf(er, sizeof er);
    crypto_scalarmult_base(pk[1], er);
    /* The static public keys are known before a handshake; copying them costs nothing. */
    memcpy(pk[2], si + 32, 32);
    memcpy(pk[3], sr + 32, 32);
    /* DH: ee, es, se, each computed on both sides */
    int bad = 0;
    bad |= crypto_scalarmult(dh, ei, pk[1]);
    bad |= crypto_scalarmult(dh, er, pk[0]);
    bad |= crypto_scalarmult(dh, ei, pk[3]);
    bad |= crypto_scalarmult(dh, sr, pk[0]);
    bad |= crypto_scalarmult(dh, si, pk[1]);
    bad |= crypto_scalarmult(dh, er, pk[2]);
    if (bad)
        die("scalarmult", WW_ECRYPTO);
    /* AEAD: s and payload in messages 2 and 3, sealed by one side and opened by the other
     * (the opening is timed as a seal of the same size: the same work) */
    memset(buf, 7, sizeof buf);
    for (int k = 0; k < 8; k++)
        crypto_aead_chacha20poly1305_ietf_encrypt_detached(buf, tag, NULL, buf, k % 2 ? 37 : 32, h,
                                                           sizeof h, NULL, nonce, key);
    /* MixHash: prologue, and e, s, payload of the three messages, on each side */
    for (int k = 0; k < 2 * 8; k++)
        hash(h, buf, 64 + 48);
    /* HKDF: three MixKey and Split on each side, two outputs of three HMACs each */
    for (int k = 0; k < 2 * 4 * 3 * 2; k++)
        hash(h, buf, 128 + 64);
    sink ^= h[0] ^ dh[0] ^ tag[0];
}

static double limit_crypto(double secs)
{
    /* Each static key: the secret, then its public half. */
    uint8_t si[64], sr[64];
    randombytes_buf(si, 32);
    randombytes_buf(sr, 32);
    crypto_scalarmult_base(si + 32, si);
    crypto_scalarmult_base(sr + 32, sr);
    long n = 0;
    double t0 = now_s(), t;
    do {
        for (int k = 0; k < 50; k++)
            one_handshake_crypto(si, sr);
        n += 50;
        t = now_s() - t0;
    } while (t < secs);
    return n / t;
}

static int no_frames(void *ud, const uint8_t *frame, size_t len)
{
    (void)ud, (void)frame, (void)len;
    return WW_ESTATE;
}

/* Moves the record `from` owes to `to`. */
static void pass(struct ww_channel *from, struct ww_channel *to, struct ww_buf *m)
{
    int rc;
    ww_buf_reset(m);
    if ((rc = ww_channel_handshake_write(from, m)) != 0)
        die("handshake_write", rc);
    if ((rc = ww_channel_feed(to, m->p, m->len, no_frames, NULL)) != 0)
        die("feed", rc);
}

static double bench_inmem(double secs)
{
    uint8_t a_pk[32], a_sk[64], b_pk[32], b_sk[64];
    struct ww_channel a, b;
    struct ww_buf m;
    crypto_sign_keypair(a_pk, a_sk);
    crypto_sign_keypair(b_pk, b_sk);
    ww_buf_init(&m, 0);
    long n = 0;
    double t0 = now_s(), t;
    do {
        for (int k = 0; k < 50; k++) {
            int rc;
            if ((rc = ww_channel_init(&a, WW_CHANNEL_INITIATOR, a_pk, a_sk, WW_CAP_SYNC)) != 0 ||
                (rc = ww_channel_init(&b, WW_CHANNEL_RESPONDER, b_pk, b_sk, WW_CAP_SYNC)) != 0)
                die("init", rc);
            pass(&a, &b, &m);
            pass(&b, &a, &m);
            pass(&a, &b, &m);
            if (ww_channel_get_state(&a) != WW_CHANNEL_OPEN ||
                ww_channel_get_state(&b) != WW_CHANNEL_OPEN)
                die("handshake", WW_ESTATE);
            ww_channel_close(&a);
            ww_channel_close(&b);
        }
        n += 50;
        t = now_s() - t0;
    } while (t < secs);
    ww_buf_free(&m);
    return n / t;
}

int main(int argc, char **argv)
{
    double secs = 2;
    if (argc > 1) {
        char *end;
        secs = strtod(argv[1], &end);
        if (*end || secs < 0.1 || secs > 4) {
            fprintf(stderr, "usage: handshake [seconds per figure 0.1..4]\n");
            return 2;
        }
    }
    if (sodium_init() < 0)
        die("sodium_init", WW_ECRYPTO);
    double inmem = bench_inmem(secs);
    double crypto = limit_crypto(secs);
    printf("bench: handshakes_inmem_per_s %.0f /s\n", inmem);
    printf("limit: handshake_crypto_per_s %.0f /s\n", crypto);
    return 0;
}
