/*
 * seal.h - the cryptography of one event: hashes, signatures, body encryption and key
 * wraps (docs/PROTOCOL.md section 5). Pure functions: keys and randomness are arguments.
 */
#ifndef WW_SEAL_H
#define WW_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "proto.h"

/* Random bytes ww_body_seal consumes: a 24-byte nonce, then a 32-byte ephemeral secret
 * (used for AGG bodies only). */
#define WW_SEAL_RANDOM 56

void ww_hash_domain(const char *domain, const uint8_t *a, size_t alen, const uint8_t *b,
                    size_t blen, const uint8_t *c, size_t clen, uint8_t *out, size_t outlen);
void ww_event_hash(const struct ww_slice *header_bytes, const uint8_t ct_hash[32],
                   const uint8_t sig[64], uint8_t out[32]);
void ww_ct_hash(const uint8_t *body, size_t len, uint8_t out[32]);
int ww_sig_verify(const struct ww_envelope *env);
/* sk: the author's 64-byte Ed25519 secret key. */
int ww_event_sign(const uint8_t sk[64], const struct ww_slice *header_bytes,
                  const uint8_t ct_hash[32], uint8_t sig[64]);
/* Encrypts plaintext for the header's audience into `out` (cleared first). */
int ww_body_seal(const uint8_t rnd[WW_SEAL_RANDOM], const struct ww_slice *header_bytes,
                 uint8_t audience, const uint8_t key[32], const uint8_t *agg_pk, const uint8_t *pt,
                 size_t ptlen, struct ww_buf *out);
/* Decrypts a GROUP/PAIR/SELF body with key, or an AGG body with the aggregator secret. */
int ww_body_open(const struct ww_envelope *env, const uint8_t key[32], const uint8_t *agg_sk,
                 const uint8_t *agg_pk, struct ww_buf *out);
/* Seals len bytes for the holder of an Ed25519 key (converted to X25519): a libsodium sealed
 * box of len + WW_SEAL_OVERHEAD bytes into out. */
int ww_seal_to(const uint8_t *pt, size_t len, const uint8_t ed_pk[32], uint8_t *out);
/* Opens a sealed box of len bytes with the 64-byte Ed25519 secret key it was sealed to:
 * len - WW_SEAL_OVERHEAD bytes into out; WW_EDECRYPT when it does not open. */
int ww_seal_open(const uint8_t *sealed, size_t len, const uint8_t ed_sk[64], uint8_t *out);
/* Seals a 32-byte key for a device (its Ed25519 key, converted to X25519). */
int ww_wrap_key(const uint8_t key[32], const uint8_t device[32], uint8_t sealed[80]);
/* Opens a wrap with this device's X25519 key pair. */
int ww_unwrap_key(const uint8_t curve_pk[32], const uint8_t *curve_sk, const uint8_t sealed[80],
                  uint8_t key[32]);

#endif
