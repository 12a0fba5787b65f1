/*
 * noise.h - Noise_XX_25519_ChaChaPoly_BLAKE2b (Noise Protocol Framework, revision 34).
 *
 * The three objects of the specification, section 5: a CipherState (key and counter
 * nonce), and a HandshakeState for the XX pattern that holds the SymmetricState (chaining
 * key, handshake hash) and the four key pairs:
 *
 *     -> e
 *     <- e, ee, s, es
 *     -> s, se
 *
 * Pure byte-in/byte-out code on libsodium: no I/O, no allocation. Every struct is caller
 * allocated and holds key material inline; ww_noise_hs_wipe / ww_noise_cipher_wipe zero
 * it, and every failure and ww_noise_hs_split wipe what is no longer needed themselves.
 *
 * Invariants:
 *  - A handshake message is at most WW_NOISE_MAX_MSG bytes (the specification's limit).
 *  - Any error during the handshake is terminal: the state is wiped and every later call
 *    returns WW_ESTATE.
 *  - A CipherState never uses the nonce 2^64-1 (reserved by the specification), so a
 *    counter can never wrap; the caller must close the session when it runs out.
 *  - An all-zero X25519 result (a peer key of small order) fails the handshake.
 */
#ifndef WW_NOISE_H
#define WW_NOISE_H

#include <stddef.h>
#include <stdint.h>

#define WW_NOISE_NAME    "Noise_XX_25519_ChaChaPoly_BLAKE2b"
#define WW_NOISE_DHLEN   32    /* X25519 keys and results */
#define WW_NOISE_KEYLEN  32    /* ChaChaPoly keys */
#define WW_NOISE_HASHLEN 64    /* BLAKE2b-512 */
#define WW_NOISE_TAGLEN  16    /* Poly1305 */
#define WW_NOISE_MAX_MSG 65535 /* handshake messages */

/* Bytes a handshake message adds to its payload: 32 for e, 48 for an encrypted s, and
 * 16 for the tag on the payload once a key is mixed in. */
#define WW_NOISE_MSG1_OVERHEAD 32
#define WW_NOISE_MSG2_OVERHEAD (32 + 48 + 16)
#define WW_NOISE_MSG3_OVERHEAD (48 + 16)

enum ww_noise_role { WW_NOISE_INITIATOR = 0, WW_NOISE_RESPONDER = 1 };

/* A CipherState: ChaCha20-Poly1305 (IETF) with nonce = 4 zero bytes || u64le(n). */
struct ww_noise_cipher {
    uint8_t k[WW_NOISE_KEYLEN];
    uint64_t n;
    int has_key;
};

struct ww_noise_hs {
    struct ww_noise_cipher cs;    /* the SymmetricState's CipherState */
    uint8_t ck[WW_NOISE_HASHLEN]; /* chaining key */
    uint8_t h[WW_NOISE_HASHLEN];  /* handshake hash */
    uint8_t s_sk[WW_NOISE_DHLEN]; /* local static key pair (s_sk unused when s_dh is set) */
    uint8_t s_pk[WW_NOISE_DHLEN]; /*   */
    uint8_t e_sk[WW_NOISE_DHLEN]; /* local ephemeral key pair */
    uint8_t e_pk[WW_NOISE_DHLEN]; /*   */
    uint8_t rs[WW_NOISE_DHLEN];   /* remote static, once message 2 (3) has been read */
    uint8_t re[WW_NOISE_DHLEN];   /* remote ephemeral */
    enum ww_noise_role role;      /* */
    unsigned msg;                 /* next message: 0, 1, 2; 3 when done, 4 once split */
    int has_e;                    /* the ephemeral key pair is set */
    int failed;                   /* a terminal error happened; the state is wiped */
    /* X25519 with the static secret held elsewhere (the store): out = DH(s_sk, pub). */
    int (*s_dh)(void *ud, const uint8_t pub[WW_NOISE_DHLEN], uint8_t out[WW_NOISE_DHLEN]);
    void *s_ud;
};

/*
 * Starts a handshake (Initialize, with no pre-messages): protocol name WW_NOISE_NAME,
 * then MixHash(prologue). s_sk is the local static X25519 secret key (copied). Returns 0,
 * or WW_ECRYPTO when the public half cannot be computed.
 */
int ww_noise_hs_init(struct ww_noise_hs *hs, enum ww_noise_role role, const uint8_t *prologue,
                     size_t prologue_len, const uint8_t s_sk[WW_NOISE_DHLEN]);

/*
 * ww_noise_hs_init for a static key whose secret this side does not hold: s_pk is its
 * public half and dh computes DH(s_sk, pub) (a store's ww_store_dh), so the secret never
 * leaves its owner. dh and ud must outlive the handshake.
 */
int ww_noise_hs_init_dh(struct ww_noise_hs *hs, enum ww_noise_role role, const uint8_t *prologue,
                        size_t prologue_len, const uint8_t s_pk[WW_NOISE_DHLEN],
                        int (*dh)(void *ud, const uint8_t pub[WW_NOISE_DHLEN],
                                  uint8_t out[WW_NOISE_DHLEN]),
                        void *ud);

/*
 * Uses e_sk as the ephemeral secret key instead of a fresh random one: for test vectors
 * only, since reusing an ephemeral key across handshakes destroys forward secrecy.
 * WW_ESTATE once this side's ephemeral key exists.
 */
int ww_noise_hs_set_ephemeral(struct ww_noise_hs *hs, const uint8_t e_sk[WW_NOISE_DHLEN]);

/* 1 when it is this side's turn to write a handshake message. */
int ww_noise_hs_my_turn(const struct ww_noise_hs *hs);
/* 1 when all three messages have been written or read. */
int ww_noise_hs_done(const struct ww_noise_hs *hs);

/*
 * WriteMessage: the next handshake message with the given payload into out (cap bytes;
 * the message is payload_len plus WW_NOISE_MSG<n>_OVERHEAD). *out_len is set on success.
 * WW_ESTATE when it is not this side's turn (or after a failure), WW_ETOOBIG when the
 * message would not fit cap or WW_NOISE_MAX_MSG (nothing is changed then), WW_ECRYPTO
 * when a DH result is all zero (terminal).
 */
int ww_noise_hs_write(struct ww_noise_hs *hs, const uint8_t *payload, size_t payload_len,
                      uint8_t *out, size_t cap, size_t *out_len);

/*
 * ReadMessage: consumes one whole handshake message of len bytes and writes its payload
 * to payload (cap bytes, which must not overlap msg), setting *payload_len. Errors are
 * terminal: WW_ESTATE (not the peer's turn), WW_ETOOBIG (len above WW_NOISE_MAX_MSG or
 * the payload above cap), WW_ETRUNC (shorter than the message's fixed part), WW_EDECRYPT
 * (an authentication tag does not verify: tampering, or another prologue or key),
 * WW_ECRYPTO (a DH result is all zero).
 */
int ww_noise_hs_read(struct ww_noise_hs *hs, const uint8_t *msg, size_t len, uint8_t *payload,
                     size_t cap, size_t *payload_len);

/* The remote static public key; meaningful once it has been read (initiator: after
 * message 2, responder: after message 3). */
const uint8_t *ww_noise_hs_remote_static(const struct ww_noise_hs *hs);
/* The handshake hash h: after the last message, the channel-binding value. */
const uint8_t *ww_noise_hs_hash(const struct ww_noise_hs *hs);

/*
 * Split, once done: the CipherStates for sending and for receiving (the initiator sends
 * with the first, the responder with the second). Wipes every key of hs, keeping only h
 * and the remote static key. WW_ESTATE before the handshake is done.
 */
int ww_noise_hs_split(struct ww_noise_hs *hs, struct ww_noise_cipher *send,
                      struct ww_noise_cipher *recv);

/* Zeroes every secret of hs (and marks it failed), keeping nothing. */
void ww_noise_hs_wipe(struct ww_noise_hs *hs);

/*
 * EncryptWithAd: out (len + WW_NOISE_TAGLEN bytes; may be pt itself) = ciphertext || tag
 * under nonce n, then n + 1. WW_ESTATE when the key is unset or n has reached 2^64-1.
 */
int ww_noise_encrypt(struct ww_noise_cipher *c, const uint8_t *ad, size_t ad_len, const uint8_t *pt,
                     size_t len, uint8_t *out);
/*
 * DecryptWithAd: ct is len bytes (ciphertext || tag; len >= WW_NOISE_TAGLEN); out
 * (len - WW_NOISE_TAGLEN bytes; may be ct itself) receives the plaintext and n advances.
 * WW_EDECRYPT when the tag does not verify (n is unchanged), WW_ETRUNC when len is below
 * the tag, WW_ESTATE when the key is unset or n has reached 2^64-1.
 */
int ww_noise_decrypt(struct ww_noise_cipher *c, const uint8_t *ad, size_t ad_len, const uint8_t *ct,
                     size_t len, uint8_t *out);
void ww_noise_cipher_wipe(struct ww_noise_cipher *c);

#endif
