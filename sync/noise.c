/*
 * noise.c - Noise_XX_25519_ChaChaPoly_BLAKE2b on libsodium (see noise.h).
 *
 * Follows the specification's pseudo-code (revision 34, sections 4 and 5) function by
 * function, so a reader can check one against the other: DH is X25519, the cipher
 * ChaCha20-Poly1305 with a 96-bit nonce of 4 zero bytes and the little-endian counter,
 * HASH is BLAKE2b-512 and HKDF is built on HMAC-BLAKE2b (block length 128). The protocol
 * name is shorter than HASHLEN, so h starts as the name padded with zeros.
 *
 * Invariants: no allocation; every temporary that held a secret is zeroed before its
 * function returns; a handshake error wipes the state (hs->failed) so that nothing can be
 * derived from a half-finished handshake.
 */
#include "noise.h"

#include <string.h>

#include <sodium.h>

#include "ww_err.h"

#define BLOCKLEN 128

/* ---- Hash functions (section 4.3) ------------------------------------------------------ */

/* HMAC-BLAKE2b(key, d1 || d2) for a key of exactly HASHLEN bytes (all keys here are). */
static void hmac(uint8_t out[WW_NOISE_HASHLEN], const uint8_t key[WW_NOISE_HASHLEN],
                 const uint8_t *d1, size_t l1, const uint8_t *d2, size_t l2)
{
    uint8_t pad[BLOCKLEN], inner[WW_NOISE_HASHLEN];
    crypto_generichash_blake2b_state st;

    memset(pad, 0x36, sizeof pad);
    for (size_t i = 0; i < WW_NOISE_HASHLEN; i++)
        pad[i] ^= key[i];
    crypto_generichash_blake2b_init(&st, NULL, 0, WW_NOISE_HASHLEN);
    crypto_generichash_blake2b_update(&st, pad, sizeof pad);
    if (l1)
        crypto_generichash_blake2b_update(&st, d1, l1);
    if (l2)
        crypto_generichash_blake2b_update(&st, d2, l2);
    crypto_generichash_blake2b_final(&st, inner, sizeof inner);

    memset(pad, 0x5c, sizeof pad);
    for (size_t i = 0; i < WW_NOISE_HASHLEN; i++)
        pad[i] ^= key[i];
    crypto_generichash_blake2b_init(&st, NULL, 0, WW_NOISE_HASHLEN);
    crypto_generichash_blake2b_update(&st, pad, sizeof pad);
    crypto_generichash_blake2b_update(&st, inner, sizeof inner);
    crypto_generichash_blake2b_final(&st, out, WW_NOISE_HASHLEN);

    sodium_memzero(pad, sizeof pad);
    sodium_memzero(inner, sizeof inner);
    sodium_memzero(&st, sizeof st);
}

/* HKDF(chaining_key, ikm, 2): two outputs of HASHLEN bytes. */
static void hkdf2(const uint8_t ck[WW_NOISE_HASHLEN], const uint8_t *ikm, size_t ikm_len,
                  uint8_t out1[WW_NOISE_HASHLEN], uint8_t out2[WW_NOISE_HASHLEN])
{
    static const uint8_t one = 0x01, two = 0x02;
    uint8_t temp[WW_NOISE_HASHLEN];
    hmac(temp, ck, ikm, ikm_len, NULL, 0);
    hmac(out1, temp, &one, 1, NULL, 0);
    hmac(out2, temp, out1, WW_NOISE_HASHLEN, &two, 1);
    sodium_memzero(temp, sizeof temp);
}

/* ---- CipherState (section 5.1) --------------------------------------------------------- */

static void nonce_bytes(uint8_t nonce[12], uint64_t n)
{
    memset(nonce, 0, 4);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

static void cipher_init_key(struct ww_noise_cipher *c, const uint8_t *k)
{
    memcpy(c->k, k, WW_NOISE_KEYLEN);
    c->n = 0;
    c->has_key = 1;
}

int ww_noise_encrypt(struct ww_noise_cipher *c, const uint8_t *ad, size_t ad_len, const uint8_t *pt,
                     size_t len, uint8_t *out)
{
    if (!c->has_key || c->n == UINT64_MAX)
        return WW_ESTATE;
    uint8_t nonce[12];
    nonce_bytes(nonce, c->n);
    crypto_aead_chacha20poly1305_ietf_encrypt_detached(out, out + len, NULL, pt, len, ad, ad_len,
                                                       NULL, nonce, c->k);
    c->n++;
    return 0;
}

int ww_noise_decrypt(struct ww_noise_cipher *c, const uint8_t *ad, size_t ad_len, const uint8_t *ct,
                     size_t len, uint8_t *out)
{
    if (!c->has_key || c->n == UINT64_MAX)
        return WW_ESTATE;
    if (len < WW_NOISE_TAGLEN)
        return WW_ETRUNC;
    uint8_t nonce[12];
    size_t m = len - WW_NOISE_TAGLEN;
    nonce_bytes(nonce, c->n);
    if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(out, NULL, ct, m, ct + m, ad, ad_len,
                                                           nonce, c->k) != 0)
        return WW_EDECRYPT;
    c->n++;
    return 0;
}

void ww_noise_cipher_wipe(struct ww_noise_cipher *c)
{
    sodium_memzero(c, sizeof *c);
}

/* ---- SymmetricState (section 5.2) ------------------------------------------------------ */

static void mix_hash(struct ww_noise_hs *hs, const uint8_t *data, size_t len)
{
    crypto_generichash_blake2b_state st;
    crypto_generichash_blake2b_init(&st, NULL, 0, WW_NOISE_HASHLEN);
    crypto_generichash_blake2b_update(&st, hs->h, sizeof hs->h);
    if (len)
        crypto_generichash_blake2b_update(&st, data, len);
    crypto_generichash_blake2b_final(&st, hs->h, sizeof hs->h);
}

/* MixKey(DH(sk, pk)). The DH result is all zero exactly when pk is of small order, which
 * libsodium reports and we refuse: such a key contributes nothing secret. */
static int mix_dh(struct ww_noise_hs *hs, const uint8_t *sk, const uint8_t *pk)
{
    uint8_t dh[WW_NOISE_DHLEN], k[WW_NOISE_HASHLEN];
    int bad = sk == hs->s_sk && hs->s_dh ? hs->s_dh(hs->s_ud, pk, dh) != 0
                                         : crypto_scalarmult(dh, sk, pk) != 0;
    if (bad || sodium_is_zero(dh, sizeof dh)) {
        sodium_memzero(dh, sizeof dh);
        return WW_ECRYPTO;
    }
    hkdf2(hs->ck, dh, sizeof dh, hs->ck, k);
    cipher_init_key(&hs->cs, k); /* temp_k truncated to 32 bytes */
    sodium_memzero(dh, sizeof dh);
    sodium_memzero(k, sizeof k);
    return 0;
}

/* EncryptAndHash: out receives len bytes, plus the tag once a key is set. */
static size_t encrypt_and_hash(struct ww_noise_hs *hs, const uint8_t *pt, size_t len, uint8_t *out)
{
    size_t n = len;
    if (hs->cs.has_key) {
        /* The handshake uses at most three nonces per key, so this cannot fail. */
        (void)ww_noise_encrypt(&hs->cs, hs->h, sizeof hs->h, pt, len, out);
        n += WW_NOISE_TAGLEN;
    } else if (len) {
        memmove(out, pt, len);
    }
    mix_hash(hs, out, n);
    return n;
}

/* DecryptAndHash of len bytes of ct into out (which must not overlap ct). */
static int decrypt_and_hash(struct ww_noise_hs *hs, const uint8_t *ct, size_t len, uint8_t *out)
{
    if (hs->cs.has_key) {
        int rc = ww_noise_decrypt(&hs->cs, hs->h, sizeof hs->h, ct, len, out);
        if (rc != 0)
            return rc;
    } else if (len) {
        memcpy(out, ct, len);
    }
    mix_hash(hs, ct, len);
    return 0;
}

/* ---- HandshakeState (section 5.3) ------------------------------------------------------ */

int ww_noise_hs_init(struct ww_noise_hs *hs, enum ww_noise_role role, const uint8_t *prologue,
                     size_t prologue_len, const uint8_t s_sk[WW_NOISE_DHLEN])
{
    memset(hs, 0, sizeof *hs);
    hs->role = role;
    /* InitializeSymmetric: the name fits HASHLEN, so it is padded, not hashed. */
    memcpy(hs->h, WW_NOISE_NAME, sizeof WW_NOISE_NAME - 1);
    memcpy(hs->ck, hs->h, sizeof hs->ck);
    mix_hash(hs, prologue, prologue_len);
    memcpy(hs->s_sk, s_sk, WW_NOISE_DHLEN);
    if (crypto_scalarmult_base(hs->s_pk, hs->s_sk) != 0) {
        ww_noise_hs_wipe(hs);
        return WW_ECRYPTO;
    }
    return 0;
}

int ww_noise_hs_init_dh(struct ww_noise_hs *hs, enum ww_noise_role role, const uint8_t *prologue,
                        size_t prologue_len, const uint8_t s_pk[WW_NOISE_DHLEN],
                        int (*dh)(void *ud, const uint8_t pub[WW_NOISE_DHLEN],
                                  uint8_t out[WW_NOISE_DHLEN]),
                        void *ud)
{
    if (!dh)
        return WW_EINVAL;
    memset(hs, 0, sizeof *hs);
    hs->role = role;
    memcpy(hs->h, WW_NOISE_NAME, sizeof WW_NOISE_NAME - 1);
    memcpy(hs->ck, hs->h, sizeof hs->ck);
    mix_hash(hs, prologue, prologue_len);
    memcpy(hs->s_pk, s_pk, WW_NOISE_DHLEN);
    hs->s_dh = dh;
    hs->s_ud = ud;
    return 0;
}

int ww_noise_hs_set_ephemeral(struct ww_noise_hs *hs, const uint8_t e_sk[WW_NOISE_DHLEN])
{
    if (hs->failed || hs->has_e)
        return WW_ESTATE;
    memcpy(hs->e_sk, e_sk, WW_NOISE_DHLEN);
    if (crypto_scalarmult_base(hs->e_pk, hs->e_sk) != 0) {
        sodium_memzero(hs->e_sk, sizeof hs->e_sk);
        return WW_ECRYPTO;
    }
    hs->has_e = 1;
    return 0;
}

/* Generates the ephemeral key pair unless one was set for a test. */
static int make_ephemeral(struct ww_noise_hs *hs)
{
    if (hs->has_e)
        return 0;
    uint8_t sk[WW_NOISE_DHLEN];
    randombytes_buf(sk, sizeof sk);
    int rc = ww_noise_hs_set_ephemeral(hs, sk);
    sodium_memzero(sk, sizeof sk);
    return rc;
}

int ww_noise_hs_my_turn(const struct ww_noise_hs *hs)
{
    if (hs->failed || hs->msg > 2)
        return 0;
    /* Messages 0 and 2 go from initiator to responder, message 1 the other way. */
    return (hs->msg % 2 == 0) == (hs->role == WW_NOISE_INITIATOR);
}

int ww_noise_hs_done(const struct ww_noise_hs *hs)
{
    return !hs->failed && hs->msg == 3;
}

static const size_t overhead[3] = {WW_NOISE_MSG1_OVERHEAD, WW_NOISE_MSG2_OVERHEAD,
                                   WW_NOISE_MSG3_OVERHEAD};

/* Fails the handshake for good: nothing of a broken handshake may be used. */
static int fail(struct ww_noise_hs *hs, int rc)
{
    ww_noise_hs_wipe(hs);
    return rc;
}

int ww_noise_hs_write(struct ww_noise_hs *hs, const uint8_t *payload, size_t payload_len,
                      uint8_t *out, size_t cap, size_t *out_len)
{
    if (!ww_noise_hs_my_turn(hs))
        return WW_ESTATE;
    size_t need = overhead[hs->msg];
    if (payload_len > WW_NOISE_MAX_MSG - need || payload_len + need > cap)
        return WW_ETOOBIG;
    if (hs->msg < 2 && make_ephemeral(hs) != 0)
        return fail(hs, WW_ECRYPTO);

    size_t n = 0;
    int rc = 0;
    if (hs->msg == 0) { /* -> e */
        memcpy(out, hs->e_pk, WW_NOISE_DHLEN);
        mix_hash(hs, hs->e_pk, WW_NOISE_DHLEN);
        n = WW_NOISE_DHLEN;
    } else if (hs->msg == 1) { /* <- e, ee, s, es */
        memcpy(out, hs->e_pk, WW_NOISE_DHLEN);
        mix_hash(hs, hs->e_pk, WW_NOISE_DHLEN);
        n = WW_NOISE_DHLEN;
        if ((rc = mix_dh(hs, hs->e_sk, hs->re)) != 0)
            return fail(hs, rc);
        n += encrypt_and_hash(hs, hs->s_pk, WW_NOISE_DHLEN, out + n);
        if ((rc = mix_dh(hs, hs->s_sk, hs->re)) != 0)
            return fail(hs, rc);
    } else { /* -> s, se */
        n = encrypt_and_hash(hs, hs->s_pk, WW_NOISE_DHLEN, out);
        if ((rc = mix_dh(hs, hs->s_sk, hs->re)) != 0)
            return fail(hs, rc);
    }
    n += encrypt_and_hash(hs, payload, payload_len, out + n);
    hs->msg++;
    *out_len = n;
    return 0;
}

int ww_noise_hs_read(struct ww_noise_hs *hs, const uint8_t *msg, size_t len, uint8_t *payload,
                     size_t cap, size_t *payload_len)
{
    if (hs->failed || hs->msg > 2 || ww_noise_hs_my_turn(hs))
        return fail(hs, WW_ESTATE);
    if (len > WW_NOISE_MAX_MSG)
        return fail(hs, WW_ETOOBIG);
    size_t need = overhead[hs->msg];
    if (len < need)
        return fail(hs, WW_ETRUNC);
    if (len - need > cap)
        return fail(hs, WW_ETOOBIG);

    size_t pos = 0;
    int rc = 0;
    if (hs->msg == 0) { /* -> e */
        memcpy(hs->re, msg, WW_NOISE_DHLEN);
        mix_hash(hs, hs->re, WW_NOISE_DHLEN);
        pos = WW_NOISE_DHLEN;
    } else if (hs->msg == 1) { /* <- e, ee, s, es */
        memcpy(hs->re, msg, WW_NOISE_DHLEN);
        mix_hash(hs, hs->re, WW_NOISE_DHLEN);
        pos = WW_NOISE_DHLEN;
        if ((rc = mix_dh(hs, hs->e_sk, hs->re)) != 0)
            return fail(hs, rc);
        if ((rc = decrypt_and_hash(hs, msg + pos, WW_NOISE_DHLEN + WW_NOISE_TAGLEN, hs->rs)) != 0)
            return fail(hs, rc);
        pos += WW_NOISE_DHLEN + WW_NOISE_TAGLEN;
        if ((rc = mix_dh(hs, hs->e_sk, hs->rs)) != 0)
            return fail(hs, rc);
    } else { /* -> s, se */
        if ((rc = decrypt_and_hash(hs, msg, WW_NOISE_DHLEN + WW_NOISE_TAGLEN, hs->rs)) != 0)
            return fail(hs, rc);
        pos = WW_NOISE_DHLEN + WW_NOISE_TAGLEN;
        if ((rc = mix_dh(hs, hs->e_sk, hs->rs)) != 0)
            return fail(hs, rc);
    }
    if ((rc = decrypt_and_hash(hs, msg + pos, len - pos, payload)) != 0)
        return fail(hs, rc);
    hs->msg++;
    *payload_len = len - need;
    return 0;
}

const uint8_t *ww_noise_hs_remote_static(const struct ww_noise_hs *hs)
{
    return hs->rs;
}

const uint8_t *ww_noise_hs_hash(const struct ww_noise_hs *hs)
{
    return hs->h;
}

int ww_noise_hs_split(struct ww_noise_hs *hs, struct ww_noise_cipher *send,
                      struct ww_noise_cipher *recv)
{
    if (!ww_noise_hs_done(hs))
        return WW_ESTATE;
    uint8_t k1[WW_NOISE_HASHLEN], k2[WW_NOISE_HASHLEN];
    hkdf2(hs->ck, NULL, 0, k1, k2);
    memset(send, 0, sizeof *send);
    memset(recv, 0, sizeof *recv);
    if (hs->role == WW_NOISE_INITIATOR) {
        cipher_init_key(send, k1);
        cipher_init_key(recv, k2);
    } else {
        cipher_init_key(send, k2);
        cipher_init_key(recv, k1);
    }
    sodium_memzero(k1, sizeof k1);
    sodium_memzero(k2, sizeof k2);
    /* Only the public results outlive the handshake. */
    ww_noise_cipher_wipe(&hs->cs);
    sodium_memzero(hs->ck, sizeof hs->ck);
    sodium_memzero(hs->s_sk, sizeof hs->s_sk);
    sodium_memzero(hs->e_sk, sizeof hs->e_sk);
    hs->msg = 4; /* split once: the chaining key is gone */
    return 0;
}

void ww_noise_hs_wipe(struct ww_noise_hs *hs)
{
    sodium_memzero(hs, sizeof *hs);
    hs->failed = 1;
}
