/*
 * channel.h - the secure channel of one sync connection, as a state machine over bytes.
 *
 * A ww_channel turns the raw byte stream of a connection into authenticated sync frames
 * and back (PROTOCOL.md section 8). It knows no sockets: the caller feeds it whatever
 * bytes arrived, in any split, and writes out whatever it appends to an output buffer.
 *
 * Both directions are a sequence of records, u32be(L) || L bytes. The first three records
 * are the messages of a Noise_XX_25519_ChaChaPoly_BLAKE2b handshake (noise.h) with the
 * prologue "wegwijs/1"; messages 2 and 3 carry each side's hello (proto.h: version, caps
 * and Ed25519 device key), and a side accepts the peer only if the X25519 form of the
 * device key it claims is the static key the peer proved it holds. Every later record is
 * one sync frame sealed under that direction's Noise CipherState (AD empty).
 *
 * Lifecycle: ww_channel_init, then ww_channel_handshake_write (the initiator's message
 * 1), then ww_channel_feed with the peer's bytes, after each feed
 * ww_channel_handshake_write again, and ww_channel_seal for frames once open;
 * ww_channel_close at the end, whatever happened.
 *
 * States: HANDSHAKE -> OPEN, and from either one to FAILED, which is terminal. A failure
 * (a bad length, a record that does not authenticate, a bad handshake, a wrong key, a
 * frame the caller refused, a nonce counter about to wrap) records a code and a short
 * reason for the log, wipes the keys, and delivers nothing more; the caller then closes
 * the connection.
 *
 * Memory: the struct is caller allocated and holds the handshake records inline, so the
 * handshake allocates nothing (ww_channel_init allocates once, briefly). A transport
 * record is buffered in one block grown to its declared length, after that length has
 * been checked; a block above 64 KiB is released after its record.
 */
#ifndef WW_CHANNEL_H
#define WW_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "noise.h"
#include "proto.h"
#include "wegwijs.h"

#define WW_CHANNEL_PROLOGUE "wegwijs/1"

/* Record limits (PROTOCOL.md 8.1). A transport record holds one frame and its tag. */
#define WW_CHANNEL_MAX_RECORD (WW_MAX_FRAME + WW_NOISE_TAGLEN)
#define WW_CHANNEL_MIN_RECORD (1 + WW_NOISE_TAGLEN)
/* The longest handshake record: message 2 with the longest hello. */
#define WW_CHANNEL_HS_MAX (WW_NOISE_MSG2_OVERHEAD + WW_MAX_HELLO)

enum ww_channel_role { WW_CHANNEL_INITIATOR = 0, WW_CHANNEL_RESPONDER = 1 };

enum ww_channel_state { WW_CHANNEL_HANDSHAKE = 0, WW_CHANNEL_OPEN = 1, WW_CHANNEL_FAILED = 2 };

/* What the handshake established about the peer. */
struct ww_channel_peer {
    uint8_t device_pk[WW_PK_LEN]; /* the peer's Ed25519 device key, proven by the handshake */
    uint8_t version;              /* negotiated: min of both sides' versions */
    uint32_t caps;                /* what the peer offers (WW_CAP_*; unknown bits kept) */
    uint8_t handshake_hash[WW_NOISE_HASHLEN]; /* Noise h: binds anything to this session */
};

/* All fields are private; they are in the header so the caller can allocate the struct. */
struct ww_channel {
    enum ww_channel_state state;
    enum ww_channel_role role;
    int err;            /* the failure code once FAILED */
    const char *reason; /* a static string saying why, for the log; "" until FAILED */
    int in_feed;        /* guards against feeding from inside the frame callback */

    struct ww_noise_hs hs;
    struct ww_noise_cipher tx, rx;
    uint8_t version; /* the highest version this side speaks (WW_PROTO_VERSION) */
    uint8_t hello[WW_MAX_HELLO];
    size_t hello_len;
    struct ww_channel_peer peer;
    uint8_t expect_pk[WW_PK_LEN]; /* the only acceptable peer, when has_expect */
    int has_expect;
    uint8_t expect_fp[WW_HUB_FP_LEN]; /* the acceptable peer's fingerprint, when has_expect_fp */
    int has_expect_fp;

    /* Receiving: the 4-byte prefix, then the record's L bytes. */
    uint8_t prefix[4];
    size_t prefix_have;
    size_t rec_len; /* declared length of the record being read, once the prefix is in */
    size_t rec_have;
    uint8_t hs_rec[WW_CHANNEL_HS_MAX]; /* handshake records */
    uint8_t *big;                      /* transport records: ww_malloc'd, cap big_cap */
    size_t big_cap;

    /* Sending: a handshake record waiting for ww_channel_handshake_write. */
    uint8_t hs_out[4 + WW_CHANNEL_HS_MAX];
    size_t hs_out_len;
};

/*
 * Prepares ch for one connection in the given role. device_pk and device_sk are this
 * device's Ed25519 key pair (libsodium layout: the secret key's last 32 bytes are the
 * public key); the Noise static key is their X25519 conversion. caps is what this side
 * offers. Nothing is borrowed past the call. WW_EINVAL when the keys do not belong
 * together, WW_ECRYPTO when they cannot be converted, WW_ENOMEM; on error ch needs no
 * close (closing it anyway is harmless).
 */
int ww_channel_init(struct ww_channel *ch, enum ww_channel_role role,
                    const uint8_t device_pk[WW_PK_LEN], const uint8_t device_sk[64], uint32_t caps);

/* This device as a channel sees it, its secret kept by its owner (a store). */
struct ww_channel_id {
    uint8_t device_pk[WW_PK_LEN];      /* the Ed25519 device key */
    uint8_t static_pk[WW_NOISE_DHLEN]; /* its X25519 conversion: the Noise static key */
    /* X25519 of the static secret with pub (ww_store_dh); must outlive the channel. */
    int (*dh)(void *ud, const uint8_t pub[WW_NOISE_DHLEN], uint8_t out[WW_NOISE_DHLEN]);
    void *ud;
};

/* ww_channel_init for a device whose secret this side does not hold (id). */
int ww_channel_init_id(struct ww_channel *ch, enum ww_channel_role role,
                       const struct ww_channel_id *id, uint32_t caps);

/*
 * For test vectors only: the ephemeral X25519 secret key this side will use, instead of
 * a random one. Call right after ww_channel_init. WW_ESTATE once the key exists.
 */
int ww_channel_set_ephemeral(struct ww_channel *ch, const uint8_t e_sk[WW_NOISE_DHLEN]);

/*
 * Accepts only the device whose Ed25519 key is pk as the peer (copied); any other fails
 * the handshake with WW_EAUTH. An initiator that knows whom it dials should say so: it
 * then checks the responder's key before it sends message 3, so an impostor answering in
 * the responder's place never learns who is calling. Call before the handshake starts
 * (right after ww_channel_init); WW_ESTATE afterwards.
 */
int ww_channel_expect_peer(struct ww_channel *ch, const uint8_t pk[WW_PK_LEN]);
/* The same for a peer known by the fingerprint of its key alone (ww_hub_fingerprint): what
 * an invite code carries of its hub. */
int ww_channel_expect_fingerprint(struct ww_channel *ch, const uint8_t fp[WW_HUB_FP_LEN]);

/*
 * Appends to out the handshake record this side owes the peer, if any: the initiator's
 * message 1 on the first call, the responder's message 2 once message 1 has been fed,
 * the initiator's message 3 once message 2 has been fed. Appends nothing (and returns 0)
 * when nothing is owed. On an error out is left as it was and the record stays owed;
 * WW_ETOOBIG / WW_ENOMEM from out, the failure code once FAILED.
 */
int ww_channel_handshake_write(struct ww_channel *ch, struct ww_buf *out);

/*
 * Consumes len bytes of the peer's stream, any split of it. Completes the handshake as
 * its records arrive and, once open, opens each whole transport record and passes its
 * frame (one encoded sync frame, borrowed until cb returns) to cb. cb returns 0 to go
 * on, or a negative code to refuse the frame, which fails the channel with that code.
 * cb may call ww_channel_seal and ww_channel_handshake_write, not ww_channel_feed or
 * ww_channel_close; a receiver that refuses a frame and wants to tell the peer (an ERROR
 * frame, PROTOCOL.md 10) seals it from inside cb, before refusing, while the keys still
 * exist. Returns 0 when every byte was taken, else the failure code (also for every
 * later call); after a failure nothing more reaches cb.
 */
int ww_channel_feed(struct ww_channel *ch, const uint8_t *bytes, size_t len,
                    int (*cb)(void *ud, const uint8_t *frame, size_t len), void *ud);

/*
 * The peer closed its side of the stream. Returns 0 when that happened between records
 * of an open channel; otherwise the channel fails (WW_ETRUNC: a record or the handshake
 * was cut off) and the failure code is returned.
 */
int ww_channel_eof(struct ww_channel *ch);

/*
 * Seals one encoded frame (1..WW_MAX_FRAME bytes) as the next record and appends it to
 * out, after any handshake record still owed (so the stream keeps its order). WW_ESTATE
 * before the channel is open, the failure code once FAILED; WW_EINVAL / WW_ETOOBIG for a
 * frame length out of range, WW_ETOOBIG / WW_ENOMEM from out, and then out is left as it
 * was and no nonce is used. When the send counter would reach 2^64-1 the channel fails
 * instead (WW_ESTATE) and the connection must be closed.
 */
int ww_channel_seal(struct ww_channel *ch, const uint8_t *frame, size_t len, struct ww_buf *out);

/* HANDSHAKE, OPEN or FAILED. */
enum ww_channel_state ww_channel_get_state(const struct ww_channel *ch);
/* 0, or the code of the failure. */
int ww_channel_error(const struct ww_channel *ch);
/* Why the channel failed, for the log (English, no key material); "" when it did not. */
const char *ww_channel_reason(const struct ww_channel *ch);

/* What the handshake established, into *out; WW_ESTATE unless the channel is open. */
int ww_channel_peer(const struct ww_channel *ch, struct ww_channel_peer *out);

/* Wipes every key and releases the record buffer. ch may then be initialised again. */
void ww_channel_close(struct ww_channel *ch);

#endif
