/*
 * seal.c - the cryptography of one event (docs/PROTOCOL.md, "Events").
 *
 *   ct_hash    = BLAKE2b-256("wegwijs/ct/v1" || body)
 *   sig        = Ed25519(author, "wegwijs/sig/v1" || header_bytes || ct_hash)
 *   event hash = BLAKE2b-256("wegwijs/event/v1" || header_bytes || ct_hash || sig)
 *   body       = nonce || XChaCha20-Poly1305(K, nonce, plaintext, AD = header_bytes)
 *              | eph_pk || nonce || XChaCha20-Poly1305(k_agg, ...) for the aggregator
 * Pure: keys and randomness come in as arguments (the store holds them), so this file
 * knows nothing of the store. Key material lives in sodium_malloc'd memory or is wiped
 * after use.
 */
#include <sodium.h>
#include <string.h>

#include "alloc.h"
#include "seal.h"

#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN   crypto_aead_xchacha20poly1305_ietf_ABYTES

void ww_hash_domain(const char *domain, const uint8_t *a, size_t alen, const uint8_t *b,
                    size_t blen, const uint8_t *c, size_t clen, uint8_t *out, size_t outlen)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, outlen);
    crypto_generichash_update(&st, (const uint8_t *)domain, strlen(domain));
    if (alen)
        crypto_generichash_update(&st, a, alen);
    if (blen)
        crypto_generichash_update(&st, b, blen);
    if (clen)
        crypto_generichash_update(&st, c, clen);
    crypto_generichash_final(&st, out, outlen);
}

void ww_ct_hash(const uint8_t *body, size_t len, uint8_t out[32])
{
    ww_hash_domain("wegwijs/ct/v1", body, len, NULL, 0, NULL, 0, out, 32);
}

void ww_event_hash(const struct ww_slice *header_bytes, const uint8_t ct_hash[32],
                   const uint8_t sig[64], uint8_t out[32])
{
    ww_hash_domain("wegwijs/event/v1", header_bytes->p, header_bytes->len, ct_hash, 32, sig, 64,
                   out, 32);
}

/* Ed25519 signs the message itself, so it is assembled in one piece: on the stack for the
 * usual header of a few hundred bytes, on the heap for a longer one (a newer version's
 * trailing fields). */
#define SIG_DOMAIN "wegwijs/sig/v1"
#define SIG_STACK  1024

static uint8_t *sig_message(const struct ww_slice *header_bytes, const uint8_t ct_hash[32],
                            uint8_t *stack, size_t *len)
{
    size_t d = sizeof SIG_DOMAIN - 1;
    *len = d + header_bytes->len + 32;
    uint8_t *msg = *len <= SIG_STACK ? stack : ww_malloc(*len);
    if (!msg)
        return NULL;
    memcpy(msg, SIG_DOMAIN, d);
    memcpy(msg + d, header_bytes->p, header_bytes->len);
    memcpy(msg + d + header_bytes->len, ct_hash, 32);
    return msg;
}

int ww_sig_verify(const struct ww_envelope *env)
{
    uint8_t stack[SIG_STACK];
    size_t n;
    uint8_t *msg = sig_message(&env->header_bytes, env->ct_hash, stack, &n);
    if (!msg)
        return WW_ENOMEM;
    int rc = crypto_sign_verify_detached(env->sig, msg, n, env->h.author) == 0 ? 0 : WW_EBADSIG;
    if (msg != stack)
        ww_free(msg);
    return rc;
}

int ww_event_sign(const uint8_t sk[64], const struct ww_slice *header_bytes,
                  const uint8_t ct_hash[32], uint8_t sig[64])
{
    uint8_t stack[SIG_STACK];
    size_t n;
    uint8_t *msg = sig_message(header_bytes, ct_hash, stack, &n);
    if (!msg)
        return WW_ENOMEM;
    int rc = crypto_sign_detached(sig, NULL, msg, n, sk) == 0 ? 0 : WW_ECRYPTO;
    if (msg != stack)
        ww_free(msg);
    return rc;
}

/* k = BLAKE2b-256("wegwijs/agg/v1" || X25519(sk, pk_other) || eph_pk || agg_pk) */
static int agg_key(const uint8_t *sk, const uint8_t *pk_other, const uint8_t eph_pk[32],
                   const uint8_t agg_pk[32], uint8_t k[32])
{
    uint8_t shared[32];
    if (crypto_scalarmult(shared, sk, pk_other) != 0)
        return WW_ECRYPTO; /* a low-order point */
    ww_hash_domain("wegwijs/agg/v1", shared, 32, eph_pk, 32, agg_pk, 32, k, 32);
    sodium_memzero(shared, sizeof shared);
    return 0;
}

int ww_body_seal(const uint8_t rnd[WW_SEAL_RANDOM], const struct ww_slice *header_bytes,
                 uint8_t audience, const uint8_t key[32], const uint8_t *agg_pk, const uint8_t *pt,
                 size_t ptlen, struct ww_buf *out)
{
    ww_buf_reset(out);
    if (audience == WW_AUD_PLAIN)
        return ww_buf_append(out, pt, ptlen);

    uint8_t eph_pk[32], eph_sk[32], k[32], nonce[NONCE_LEN];
    const uint8_t *use = key;
    int rc = 0;
    if (audience == WW_AUD_AGG) {
        if (!agg_pk)
            return WW_ENOKEY;
        memcpy(eph_sk, rnd + NONCE_LEN, sizeof eph_sk);
        crypto_scalarmult_base(eph_pk, eph_sk);
        rc = agg_key(eph_sk, agg_pk, eph_pk, agg_pk, k);
        sodium_memzero(eph_sk, sizeof eph_sk);
        if (rc != 0)
            return rc;
        if ((rc = ww_buf_append(out, eph_pk, 32)) != 0)
            goto done;
        use = k;
    } else if (!key) {
        return WW_ENOKEY;
    }
    memcpy(nonce, rnd, NONCE_LEN);
    size_t off = out->len + NONCE_LEN;
    if ((rc = ww_buf_append(out, nonce, NONCE_LEN)) != 0)
        goto done;
    /* Grow to the final size, then encrypt in place behind the nonce. */
    if (ptlen + TAG_LEN > out->max - out->len) {
        rc = WW_ETOOBIG;
        goto done;
    }
    for (size_t need = ptlen + TAG_LEN; need > 0;) {
        static const uint8_t zero[256];
        size_t n = need < sizeof zero ? need : sizeof zero;
        if ((rc = ww_buf_append(out, zero, n)) != 0)
            goto done;
        need -= n;
    }
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out->p + off, &clen, pt, ptlen, header_bytes->p,
                                               header_bytes->len, NULL, nonce, use);
done:
    sodium_memzero(k, sizeof k);
    return rc;
}

int ww_body_open(const struct ww_envelope *env, const uint8_t key[32], const uint8_t *agg_sk,
                 const uint8_t *agg_pk, struct ww_buf *out)
{
    const uint8_t *p = env->body.p;
    size_t n = env->body.len;
    uint8_t k[32];
    const uint8_t *use = key;
    ww_buf_reset(out);
    if (env->h.audience == WW_AUD_AGG) {
        if (!agg_sk || n < 32)
            return agg_sk ? WW_EDECRYPT : WW_ENOKEY;
        if (agg_key(agg_sk, p, p, agg_pk, k) != 0)
            return WW_EDECRYPT;
        p += 32;
        n -= 32;
        use = k;
    } else if (!key) {
        return WW_ENOKEY;
    }
    int rc = 0;
    if (n < NONCE_LEN + TAG_LEN) {
        rc = WW_EDECRYPT;
        goto done;
    }
    size_t ptlen = n - NONCE_LEN - TAG_LEN;
    if (ptlen > out->max) {
        rc = WW_ETOOBIG;
        goto done;
    }
    if (out->cap < ptlen) {
        if ((rc = ww_buf_append(out, p, ptlen)) != 0) /* grow; overwritten below */
            goto done;
    }
    unsigned long long plen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out->p, &plen, NULL, p + NONCE_LEN,
                                                   n - NONCE_LEN, env->header_bytes.p,
                                                   env->header_bytes.len, p, use) != 0) {
        rc = WW_EDECRYPT;
        goto done;
    }
    out->len = (size_t)plen;
done:
    sodium_memzero(k, sizeof k);
    return rc;
}

int ww_seal_to(const uint8_t *pt, size_t len, const uint8_t ed_pk[32], uint8_t *out)
{
    uint8_t curve[32];
    if (crypto_sign_ed25519_pk_to_curve25519(curve, ed_pk) != 0)
        return WW_EINVAL;
    return crypto_box_seal(out, pt, len, curve) == 0 ? 0 : WW_ECRYPTO;
}

int ww_seal_open(const uint8_t *sealed, size_t len, const uint8_t ed_sk[64], uint8_t *out)
{
    uint8_t curve_pk[32], curve_sk[32];
    int rc = len > crypto_box_SEALBYTES &&
                     crypto_sign_ed25519_pk_to_curve25519(curve_pk, ed_sk + 32) == 0 &&
                     crypto_sign_ed25519_sk_to_curve25519(curve_sk, ed_sk) == 0 &&
                     crypto_box_seal_open(out, sealed, len, curve_pk, curve_sk) == 0
                 ? 0
                 : WW_EDECRYPT;
    sodium_memzero(curve_sk, sizeof curve_sk);
    return rc;
}

int ww_wrap_key(const uint8_t key[32], const uint8_t device[32], uint8_t sealed[80])
{
    return ww_seal_to(key, 32, device, sealed);
}

int ww_unwrap_key(const uint8_t curve_pk[32], const uint8_t *curve_sk, const uint8_t sealed[80],
                  uint8_t key[32])
{
    return crypto_box_seal_open(key, sealed, 80, curve_pk, curve_sk) == 0 ? 0 : WW_EDECRYPT;
}
