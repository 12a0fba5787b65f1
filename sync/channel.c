/*
 * channel.c - records and the handshake of one sync connection (see channel.h).
 *
 * The receive side is a two-phase loop: collect the 4-byte prefix, judge the declared
 * length L against what may come next (before a single payload byte is kept), then
 * collect exactly L bytes and act on the whole record. Handshake records land in a
 * fixed array inside the struct; transport records in one heap block sized to L.
 *
 * Invariants:
 *  - rec_len is set only after it passed check_len, so no buffer grows beyond a length
 *    that is allowed at that point of the connection.
 *  - Once FAILED, no byte is looked at and nothing is delivered; keys are wiped.
 *  - A handshake record this side owes is produced the moment it becomes owed (so a
 *    feed never has to stop half-way) and handed out by ww_channel_handshake_write or
 *    ahead of the next sealed record.
 *  - The channel is OPEN exactly when Split has run: tx and rx hold keys, the peer's
 *    identity has been checked, and the handshake state holds no secret any more.
 */
#include "channel.h"

#include <string.h>

#include <sodium.h>

#include "alloc.h"

/* A transport buffer larger than this is released after its record, so an idle
 * connection does not keep a megabyte because of one large batch. */
#define KEEP_BUF (64u << 10)

static void put_u32be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_u32be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void release_big(struct ww_channel *ch)
{
    if (ch->big) {
        sodium_memzero(ch->big, ch->big_cap); /* it held plaintext frames */
        ww_free(ch->big);
    }
    ch->big = NULL;
    ch->big_cap = 0;
}

/* Enters FAILED for good: keys wiped, buffers dropped, the first reason kept. Inside a
 * feed the record buffer may hold the frame the callback is reading (a seal from the
 * callback can fail), so it is dropped when the feed returns instead. */
static int fail(struct ww_channel *ch, int rc, const char *reason)
{
    if (ch->state == WW_CHANNEL_FAILED)
        return ch->err;
    ww_noise_hs_wipe(&ch->hs);
    ww_noise_cipher_wipe(&ch->tx);
    ww_noise_cipher_wipe(&ch->rx);
    if (!ch->in_feed)
        release_big(ch);
    sodium_memzero(ch->hs_rec, sizeof ch->hs_rec);
    ch->hs_out_len = 0;
    ch->state = WW_CHANNEL_FAILED;
    ch->err = rc;
    ch->reason = reason;
    return rc;
}

/* The part of init both ways share: the hello, then the handshake state by `start`. */
static int channel_setup(struct ww_channel *ch, enum ww_channel_role role,
                         const uint8_t device_pk[WW_PK_LEN], uint32_t caps)
{
    memset(ch, 0, sizeof *ch);
    ch->state = WW_CHANNEL_FAILED;
    ch->err = WW_ESTATE;
    ch->reason = "not initialised";
    if (sodium_init() < 0)
        return WW_ECRYPTO;
    if (role != WW_CHANNEL_INITIATOR && role != WW_CHANNEL_RESPONDER)
        return WW_EINVAL;
    struct ww_hello hello;
    struct ww_buf b;
    memset(&hello, 0, sizeof hello);
    hello.version = WW_PROTO_VERSION;
    hello.caps = caps;
    memcpy(hello.device_pk, device_pk, WW_PK_LEN);
    ww_buf_init(&b, WW_MAX_HELLO);
    int rc = ww_hello_encode(&hello, &b);
    if (rc == 0) {
        memcpy(ch->hello, b.p, b.len);
        ch->hello_len = b.len;
    }
    ww_buf_free(&b);
    return rc;
}

static void channel_ready(struct ww_channel *ch, enum ww_channel_role role)
{
    ch->role = role;
    ch->version = WW_PROTO_VERSION;
    ch->state = WW_CHANNEL_HANDSHAKE;
    ch->err = 0;
    ch->reason = "";
}

int ww_channel_init(struct ww_channel *ch, enum ww_channel_role role,
                    const uint8_t device_pk[WW_PK_LEN], const uint8_t device_sk[64], uint32_t caps)
{
    int rc = channel_setup(ch, role, device_pk, caps);
    if (rc != 0)
        return rc;
    /* libsodium's secret key ends with its public key: a mismatch is a caller's mix-up. */
    if (sodium_memcmp(device_sk + 32, device_pk, WW_PK_LEN) != 0)
        return WW_EINVAL;
    uint8_t x_sk[WW_NOISE_DHLEN];
    if (crypto_sign_ed25519_sk_to_curve25519(x_sk, device_sk) != 0) {
        sodium_memzero(x_sk, sizeof x_sk);
        return WW_ECRYPTO;
    }
    rc = ww_noise_hs_init(
        &ch->hs, role == WW_CHANNEL_INITIATOR ? WW_NOISE_INITIATOR : WW_NOISE_RESPONDER,
        (const uint8_t *)WW_CHANNEL_PROLOGUE, sizeof WW_CHANNEL_PROLOGUE - 1, x_sk);
    sodium_memzero(x_sk, sizeof x_sk);
    if (rc != 0)
        return rc;
    channel_ready(ch, role);
    return 0;
}

int ww_channel_init_id(struct ww_channel *ch, enum ww_channel_role role,
                       const struct ww_channel_id *id, uint32_t caps)
{
    if (!id || !id->dh)
        return WW_EINVAL;
    int rc = channel_setup(ch, role, id->device_pk, caps);
    if (rc != 0)
        return rc;
    /* The static key must be the device key's own conversion, as the peer will check. */
    uint8_t x_pk[WW_NOISE_DHLEN];
    if (crypto_sign_ed25519_pk_to_curve25519(x_pk, id->device_pk) != 0 ||
        sodium_memcmp(x_pk, id->static_pk, WW_NOISE_DHLEN) != 0)
        return WW_EINVAL;
    rc = ww_noise_hs_init_dh(&ch->hs,
                             role == WW_CHANNEL_INITIATOR ? WW_NOISE_INITIATOR : WW_NOISE_RESPONDER,
                             (const uint8_t *)WW_CHANNEL_PROLOGUE, sizeof WW_CHANNEL_PROLOGUE - 1,
                             id->static_pk, id->dh, id->ud);
    if (rc != 0)
        return rc;
    channel_ready(ch, role);
    return 0;
}

int ww_channel_set_ephemeral(struct ww_channel *ch, const uint8_t e_sk[WW_NOISE_DHLEN])
{
    if (ch->state != WW_CHANNEL_HANDSHAKE)
        return WW_ESTATE;
    return ww_noise_hs_set_ephemeral(&ch->hs, e_sk);
}

int ww_channel_expect_peer(struct ww_channel *ch, const uint8_t pk[WW_PK_LEN])
{
    if (ch->state != WW_CHANNEL_HANDSHAKE || ch->hs.msg != 0)
        return WW_ESTATE;
    memcpy(ch->expect_pk, pk, WW_PK_LEN);
    ch->has_expect = 1;
    return 0;
}

int ww_channel_expect_fingerprint(struct ww_channel *ch, const uint8_t fp[WW_HUB_FP_LEN])
{
    if (ch->state != WW_CHANNEL_HANDSHAKE || ch->hs.msg != 0)
        return WW_ESTATE;
    memcpy(ch->expect_fp, fp, WW_HUB_FP_LEN);
    ch->has_expect_fp = 1;
    return 0;
}

/* Writes this side's next handshake message into hs_out, framed as a record. The first
 * message carries nothing; the other two carry the hello. */
static int make_hs_record(struct ww_channel *ch)
{
    size_t n = 0;
    const uint8_t *payload = ch->hs.msg == 0 ? NULL : ch->hello;
    size_t payload_len = ch->hs.msg == 0 ? 0 : ch->hello_len;
    int rc =
        ww_noise_hs_write(&ch->hs, payload, payload_len, ch->hs_out + 4, sizeof ch->hs_out - 4, &n);
    if (rc != 0)
        return fail(ch, rc == WW_ECRYPTO ? WW_EAUTH : rc, "cannot write handshake message");
    put_u32be(ch->hs_out, (uint32_t)n);
    ch->hs_out_len = 4 + n;
    return 0;
}

/* Appends the owed handshake record to out, all or nothing. */
static int flush_hs(struct ww_channel *ch, struct ww_buf *out)
{
    if (ch->hs_out_len == 0)
        return 0;
    int rc = ww_buf_append(out, ch->hs_out, ch->hs_out_len);
    if (rc != 0)
        return rc;
    ch->hs_out_len = 0;
    return 0;
}

int ww_channel_handshake_write(struct ww_channel *ch, struct ww_buf *out)
{
    if (ch->state == WW_CHANNEL_FAILED)
        return ch->err;
    if (ch->state == WW_CHANNEL_HANDSHAKE && ch->role == WW_CHANNEL_INITIATOR && ch->hs.msg == 0) {
        int rc = make_hs_record(ch);
        if (rc != 0)
            return rc;
    }
    return flush_hs(ch, out);
}

/*
 * Judges a declared record length before any of its bytes is kept. During the handshake
 * the next message's exact shape is known: message 1 is exactly an ephemeral key (its
 * payload is empty), messages 2 and 3 carry a hello of at most WW_MAX_HELLO bytes. Once
 * open, a record holds a tag and a frame of 1..WW_MAX_FRAME bytes.
 */
static int check_len(struct ww_channel *ch, uint32_t len)
{
    size_t min, max;
    if (len == 0)
        return fail(ch, WW_ERANGE, "record length 0");
    if (ch->state == WW_CHANNEL_OPEN) {
        min = WW_CHANNEL_MIN_RECORD;
        max = WW_CHANNEL_MAX_RECORD;
    } else if (ch->hs.msg == 0) {
        min = max = WW_NOISE_MSG1_OVERHEAD;
    } else if (ch->hs.msg == 1) {
        min = WW_NOISE_MSG2_OVERHEAD;
        max = WW_NOISE_MSG2_OVERHEAD + WW_MAX_HELLO;
    } else {
        min = WW_NOISE_MSG3_OVERHEAD;
        max = WW_NOISE_MSG3_OVERHEAD + WW_MAX_HELLO;
    }
    if (len > max)
        return fail(ch, WW_ETOOBIG, "record longer than allowed here");
    if (len < min)
        return fail(ch, WW_ERANGE, "record shorter than allowed here");
    if (ch->state == WW_CHANNEL_OPEN && len > ch->big_cap) {
        release_big(ch);
        ch->big = ww_malloc(len);
        if (!ch->big)
            return fail(ch, WW_ENOMEM, "out of memory for a record");
        ch->big_cap = len;
    }
    ch->rec_len = len;
    ch->rec_have = 0;
    return 0;
}

/*
 * The peer's hello: well formed, and naming a device key whose X25519 form is the static
 * key the peer has just proven it holds. Without that check anyone could claim to be any
 * device; with it, the claim is as strong as the Noise authentication.
 */
static int take_hello(struct ww_channel *ch, const uint8_t *p, size_t len)
{
    struct ww_hello h;
    uint8_t x_pk[WW_NOISE_DHLEN];
    int rc = ww_hello_decode(p, len, &h);
    if (rc != 0)
        return fail(ch, rc, "handshake payload malformed");
    if (crypto_sign_ed25519_pk_to_curve25519(x_pk, h.device_pk) != 0)
        return fail(ch, WW_EAUTH, "peer device key is not a valid Ed25519 key");
    if (sodium_memcmp(x_pk, ww_noise_hs_remote_static(&ch->hs), WW_NOISE_DHLEN) != 0)
        return fail(ch, WW_EAUTH, "peer device key does not match its Noise static key");
    /* Checked before message 3 is written: the initiator's identity stays hidden from an
     * impostor (Noise's identity-hiding property 8 for XX holds only with this check). */
    if (ch->has_expect && sodium_memcmp(h.device_pk, ch->expect_pk, WW_PK_LEN) != 0)
        return fail(ch, WW_EAUTH, "peer is not the expected device");
    if (ch->has_expect_fp) {
        uint8_t fp[WW_HUB_FP_LEN];
        ww_hub_fingerprint(h.device_pk, fp);
        if (sodium_memcmp(fp, ch->expect_fp, WW_HUB_FP_LEN) != 0)
            return fail(ch, WW_EAUTH, "peer is not the hub the invite names");
    }
    memcpy(ch->peer.device_pk, h.device_pk, WW_PK_LEN);
    /* Every version from 1 up to our own is spoken, so the minimum always works. */
    ch->peer.version = h.version < ch->version ? h.version : ch->version;
    ch->peer.caps = h.caps;
    return 0;
}

/* Split: the channel opens. */
static int open_channel(struct ww_channel *ch)
{
    int rc = ww_noise_hs_split(&ch->hs, &ch->tx, &ch->rx);
    if (rc != 0)
        return fail(ch, rc, "handshake did not complete");
    memcpy(ch->peer.handshake_hash, ww_noise_hs_hash(&ch->hs), WW_NOISE_HASHLEN);
    ch->state = WW_CHANNEL_OPEN;
    return 0;
}

/* One whole handshake record in hs_rec. */
static int take_hs_record(struct ww_channel *ch)
{
    uint8_t payload[WW_CHANNEL_HS_MAX];
    size_t payload_len = 0;
    unsigned msg = ch->hs.msg;
    int rc =
        ww_noise_hs_read(&ch->hs, ch->hs_rec, ch->rec_len, payload, sizeof payload, &payload_len);
    if (rc == WW_ECRYPTO)
        return fail(ch, WW_EAUTH, "peer key of small order");
    if (rc != 0)
        return fail(ch, WW_EAUTH, "handshake message does not authenticate");
    if (msg == 0) /* responder: answer with message 2 at once */
        return make_hs_record(ch);
    rc = take_hello(ch, payload, payload_len);
    sodium_memzero(payload, sizeof payload);
    if (rc != 0)
        return rc;
    if (msg == 1 && (rc = make_hs_record(ch)) != 0) /* initiator: message 3 */
        return rc;
    return open_channel(ch);
}

/* One whole transport record in big: open it in place and deliver the frame. */
static int take_record(struct ww_channel *ch, int (*cb)(void *, const uint8_t *, size_t), void *ud)
{
    int rc = ww_noise_decrypt(&ch->rx, NULL, 0, ch->big, ch->rec_len, ch->big);
    if (rc == WW_ESTATE)
        return fail(ch, WW_ESTATE, "receive nonce counter exhausted");
    if (rc != 0)
        return fail(ch, WW_EDECRYPT,
                    "record does not authenticate (altered, replayed, reordered or cut)");
    rc = cb(ud, ch->big, ch->rec_len - WW_NOISE_TAGLEN);
    if (rc != 0)
        return fail(ch, rc < 0 ? rc : WW_EINVAL, "frame refused by the receiver");
    if (ch->big_cap > KEEP_BUF)
        release_big(ch);
    return 0;
}

static int feed(struct ww_channel *ch, const uint8_t *p, size_t len,
                int (*cb)(void *, const uint8_t *, size_t), void *ud)
{
    while (len > 0) {
        if (ch->prefix_have < 4) {
            /* The initiator speaks first: a byte before its message 1 is out of turn. */
            if (ch->state == WW_CHANNEL_HANDSHAKE && ch->role == WW_CHANNEL_INITIATOR &&
                ch->hs.msg == 0)
                return fail(ch, WW_ESTATE, "peer spoke before its turn");
            size_t take = 4 - ch->prefix_have < len ? 4 - ch->prefix_have : len;
            memcpy(ch->prefix + ch->prefix_have, p, take);
            ch->prefix_have += take;
            p += take;
            len -= take;
            if (ch->prefix_have < 4)
                break;
            int rc = check_len(ch, get_u32be(ch->prefix));
            if (rc != 0)
                return rc;
            continue;
        }
        uint8_t *dst = ch->state == WW_CHANNEL_OPEN ? ch->big : ch->hs_rec;
        size_t take = ch->rec_len - ch->rec_have < len ? ch->rec_len - ch->rec_have : len;
        memcpy(dst + ch->rec_have, p, take);
        ch->rec_have += take;
        p += take;
        len -= take;
        if (ch->rec_have < ch->rec_len)
            break;
        ch->prefix_have = 0;
        int rc = ch->state == WW_CHANNEL_OPEN ? take_record(ch, cb, ud) : take_hs_record(ch);
        if (rc != 0)
            return rc;
        if (ch->state == WW_CHANNEL_FAILED) /* failed from inside the callback */
            return ch->err;
    }
    return 0;
}

int ww_channel_feed(struct ww_channel *ch, const uint8_t *bytes, size_t len,
                    int (*cb)(void *ud, const uint8_t *frame, size_t len), void *ud)
{
    if (ch->state == WW_CHANNEL_FAILED)
        return ch->err;
    if (ch->in_feed)
        return WW_ESTATE;
    ch->in_feed = 1;
    int rc = feed(ch, bytes, len, cb, ud);
    ch->in_feed = 0;
    if (ch->state == WW_CHANNEL_FAILED) {
        release_big(ch);
        rc = ch->err;
    }
    return rc;
}

int ww_channel_eof(struct ww_channel *ch)
{
    if (ch->state == WW_CHANNEL_FAILED)
        return ch->err;
    if (ch->state != WW_CHANNEL_OPEN)
        return fail(ch, WW_ETRUNC, "stream ended during the handshake");
    if (ch->prefix_have != 0)
        return fail(ch, WW_ETRUNC, "stream ended inside a record");
    return 0;
}

int ww_channel_seal(struct ww_channel *ch, const uint8_t *frame, size_t len, struct ww_buf *out)
{
    if (ch->state == WW_CHANNEL_FAILED)
        return ch->err;
    if (ch->state != WW_CHANNEL_OPEN)
        return WW_ESTATE;
    if (len == 0)
        return WW_EINVAL;
    if (len > WW_MAX_FRAME)
        return WW_ETOOBIG;
    /* Nonce 2^64-1 is reserved by Noise: the connection ends before it would be used. */
    if (ch->tx.n == UINT64_MAX)
        return fail(ch, WW_ESTATE, "send nonce counter exhausted");

    size_t start = out->len;
    uint8_t prefix[4], tag[WW_NOISE_TAGLEN] = {0};
    put_u32be(prefix, (uint32_t)(len + WW_NOISE_TAGLEN));
    size_t hs_len = ch->hs_out_len;
    int rc = ww_buf_append(out, ch->hs_out, hs_len);
    if (rc == 0)
        rc = ww_buf_append(out, prefix, sizeof prefix);
    if (rc == 0)
        rc = ww_buf_append(out, frame, len);
    if (rc == 0)
        rc = ww_buf_append(out, tag, sizeof tag);
    if (rc != 0) {
        out->len = start;
        return rc;
    }
    uint8_t *body = out->p + start + hs_len + 4;
    rc = ww_noise_encrypt(&ch->tx, NULL, 0, body, len, body);
    if (rc != 0) {
        out->len = start;
        return fail(ch, rc, "cannot seal a record");
    }
    ch->hs_out_len = 0;
    return 0;
}

enum ww_channel_state ww_channel_get_state(const struct ww_channel *ch)
{
    return ch->state;
}

int ww_channel_error(const struct ww_channel *ch)
{
    return ch->state == WW_CHANNEL_FAILED ? ch->err : 0;
}

const char *ww_channel_reason(const struct ww_channel *ch)
{
    return ch->reason ? ch->reason : "";
}

int ww_channel_peer(const struct ww_channel *ch, struct ww_channel_peer *out)
{
    if (ch->state != WW_CHANNEL_OPEN)
        return WW_ESTATE;
    *out = ch->peer;
    return 0;
}

void ww_channel_close(struct ww_channel *ch)
{
    release_big(ch);
    sodium_memzero(ch, sizeof *ch);
    ch->state = WW_CHANNEL_FAILED;
    ch->err = WW_ESTATE;
    ch->reason = "closed";
}
