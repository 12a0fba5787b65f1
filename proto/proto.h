/*
 * proto.h - the Wegwijs wire format: every byte that crosses a device boundary.
 *
 * Pure functions: bytes in, typed structs out, and back. No I/O, no SQLite, no keys.
 * docs/PROTOCOL.md is the normative description; this header is its C face.
 *
 * Invariants every decoder keeps:
 *  - Canonical: one value has exactly one encoding (smallest integer, string, binary and
 *    container headers; fixed field order). Anything else is WW_ENONCANON, so a decode
 *    that succeeds re-encodes to exactly the input bytes.
 *  - Bounded: every length and count is checked against the bytes that remain and
 *    against the field's limit before it is used. Decoding never allocates.
 *  - Borrowed: every struct ww_slice in a decoded struct points into the input buffer and
 *    is valid only while that buffer is.
 *  - Extensible: a struct is a msgpack array of its known fields in order; a newer
 *    version may append fields. Trailing fields this version does not know are kept,
 *    raw, in `ext` and written back by the encoder, so forwarding loses nothing.
 */
#ifndef WW_PROTO_H
#define WW_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "kinds.h"
#include "ww_enums.h"
#include "ww_err.h"

#define WW_PROTO_VERSION 1

/* Sizes of fixed binary fields. */
#define WW_GROUP_ID_LEN  16
#define WW_MEMBER_ID_LEN 16
#define WW_PK_LEN        32 /* Ed25519 public key of a device */
#define WW_HASH_LEN      32 /* BLAKE2b-256 */
#define WW_SIG_LEN       64 /* Ed25519 signature */
#define WW_SEALED_LEN    80 /* crypto_box_seal of a 32-byte key: 48 + 32 */
#define WW_SEAL_OVERHEAD 48 /* what crypto_box_seal adds: an ephemeral key and a tag */
#define WW_REF_MAX       16 /* header `ref`: the record an event writes */

/* Limits. Each is also stated in PROTOCOL.md. */
#define WW_MAX_FRAME      (1u << 20)  /* one decoded sync frame */
#define WW_MAX_EVENT      (64u << 10) /* one sealed event (envelope) */
#define WW_MAX_BODY       (48u << 10) /* one event body, plaintext or ciphertext */
#define WW_MAX_DEPTH      8           /* msgpack nesting, including unknown trailing fields */
#define WW_MAX_BATCH      256         /* events in one batch frame */
#define WW_MAX_AGG_PAGE   256         /* climate shares in one AGG_SHARES frame */
#define WW_MAX_AGG_SKIP   4096        /* share ids one AGG_GATE leaves out */
#define WW_MAX_VV         64          /* authors in one version vector / ack */
#define WW_MAX_WRAPS      64          /* key wraps in one key.epoch / key.share */
#define WW_MAX_DEVICES    8           /* devices listed in one member.add */
#define WW_MAX_CUTOFFS    48          /* devices one member.remove cuts off (a group's devices) */
#define WW_MAX_SEQ        ((1ull << 40) - 1) /* the highest seq an event may have */
#define WW_MAX_ANSWERS    8                  /* climate answers in one climate.put */
#define WW_MAX_EXT_FIELDS 16                 /* unknown trailing fields kept per struct */
#define WW_MAX_DATE       2932896u           /* days since 1970-01-01 of 9999-12-31 */

/* A redemption's sealed profile (PROTOCOL.md 9.9): year, track and a 1..WW_MAX_NAME alias
 * sealed to the invite's key; a device code's redemption has none (bin 0). */
#define WW_REDEEM_PROFILE_MIN (WW_SEAL_OVERHEAD + 2 + 1)
#define WW_REDEEM_PROFILE_MAX (WW_SEAL_OVERHEAD + 2 + WW_MAX_NAME)

/* String limits in bytes (UTF-8). */
#define WW_MAX_NAME       80  /* group name, member alias */
#define WW_MAX_TZ         64  /* IANA time zone name */
#define WW_MAX_CODE       16  /* challenge code, e.g. "W03" */
#define WW_MAX_TITLE      120 /* challenge title */
#define WW_MAX_DESC       600 /* challenge description */
#define WW_MAX_REF_TEXT   64  /* school assignment reference */
#define WW_MAX_STARR_S    400 /* situatie */
#define WW_MAX_STARR_T    300 /* taak */
#define WW_MAX_STARR_A    400 /* actie */
#define WW_MAX_STARR_R    300 /* resultaat */
#define WW_MAX_STARR_R2   400 /* reflectie */
#define WW_MAX_OBSTACLE   200 /* free text on what was in the way */
#define WW_MAX_REACTION   280
#define WW_MAX_SIGNAL     500
#define WW_MAX_NOTE       500
#define WW_MAX_ERROR_TEXT 200
#define WW_MAX_ADDR       255 /* a hub's "host:port" */
#define WW_MAX_HELD       64  /* logs listed in one sync.report */

/* A borrowed byte range. A string slice is UTF-8 and not NUL-terminated. */
struct ww_slice {
    const uint8_t *p;
    size_t len;
};

/* Unknown trailing fields of one struct, kept as their raw canonical msgpack. */
struct ww_ext {
    struct ww_slice raw;
    uint32_t n;
};

/* ---- Event kinds, audiences, roles ---------------------------------------------------- */

/* WW_KIND_<NAME> = NUM for every line of WW_KINDS (kinds.h). The lines are numbered 1..N
 * without gaps, so counting them gives the highest known kind; a header may still carry any
 * kind up to 65535 from a newer version. */
#define WW_KIND_ENUM_(num, NAME, name, wire, member) WW_KIND_##NAME = num,
#define WW_KIND_ONE_(num, NAME, name, wire, member)  +1
enum ww_kind { WW_KINDS(WW_KIND_ENUM_) WW_KIND_MAX_KNOWN = 0 WW_KINDS(WW_KIND_ONE_) };
#undef WW_KIND_ENUM_
#undef WW_KIND_ONE_

/* Who can read an event body. PLAIN bodies are signed but not encrypted. */
enum ww_audience {
    WW_AUD_PLAIN = 0, /* control plane: every forwarder must be able to check the rules */
    WW_AUD_GROUP = 1, /* all members of the group */
    WW_AUD_PAIR = 2,  /* one member (header.subject) and the coach */
    WW_AUD_SELF = 3,  /* one member (header.subject) alone */
    WW_AUD_AGG = 4    /* the aggregator service key alone (climate answers) */
};

/* ---- Event header and envelope --------------------------------------------------------- */

/*
 * The signed header of an event. Encoded as an array of 11 fields in this order.
 * prev is encoded as bin 0 when seq == 1 (and then is all zero here), else bin 32.
 * subject is bin 16 for PAIR and SELF audiences, bin 0 otherwise.
 */
struct ww_header {
    uint8_t version; /* WW_PROTO_VERSION */
    uint8_t group[WW_GROUP_ID_LEN];
    uint8_t author[WW_PK_LEN];         /* device signing key */
    uint64_t seq;                      /* 1, 2, 3, ... per author per group */
    uint8_t prev[WW_HASH_LEN];         /* event hash of (author, seq - 1) */
    uint64_t hlc;                      /* hybrid logical clock: ms << 16 | counter */
    uint32_t epoch;                    /* key epoch the body is encrypted under */
    uint16_t kind;                     /* enum ww_kind, or a kind from a newer version */
    uint8_t audience;                  /* enum ww_audience */
    uint8_t subject[WW_MEMBER_ID_LEN]; /* PAIR / SELF: the member; else zero */
    uint8_t ref[WW_REF_MAX];           /* the record this event writes (LWW key) */
    uint8_t ref_len;
    struct ww_ext ext;
};

/*
 * A sealed event as stored and forwarded: array [header, ct_hash, sig, body].
 * body is bin (ciphertext; plaintext msgpack when audience is PLAIN) or nil once erased.
 */
struct ww_envelope {
    struct ww_header h;
    struct ww_slice header_bytes; /* the encoded header as it stands in the input */
    uint8_t ct_hash[WW_HASH_LEN];
    uint8_t sig[WW_SIG_LEN];
    struct ww_slice body; /* empty when erased */
    int erased;
    struct ww_ext ext;
};

int ww_header_encode(const struct ww_header *h, struct ww_buf *out);
int ww_header_decode(const uint8_t *buf, size_t len, struct ww_header *out);
/* Encodes h (re-encoding it), ct_hash, sig and body; header_bytes is ignored. */
int ww_envelope_encode(const struct ww_envelope *env, struct ww_buf *out);
int ww_envelope_decode(const uint8_t *buf, size_t len, struct ww_envelope *out);

/*
 * The compact form of an envelope, as RUNS frames carry it (PROTOCOL.md 7.1): the same
 * array with some fields written as empty bins, for the receiver to fill back in: the
 * group (the frame names it), the author and prev (the event before it in the frame, by
 * the same author, has them), and ct_hash (the hash of the body). The receiver rebuilds
 * the envelope exactly as signed. header_bytes of a compact decode are the compact ones.
 */
#define WW_ELIDE_GROUP  1u
#define WW_ELIDE_AUTHOR 2u
#define WW_ELIDE_PREV   4u /* only when seq > 1 */
#define WW_ELIDE_CT     8u /* only with a body */
#define WW_ELIDE_ALL    15u
int ww_envelope_encode_compact(const struct ww_envelope *env, unsigned elide, struct ww_buf *out);
/* *elided: which fields came elided (zero in out). */
int ww_envelope_decode_compact(const uint8_t *buf, size_t len, unsigned *elided,
                               struct ww_envelope *out);

/* ---- Event bodies ---------------------------------------------------------------------- */

struct ww_wrap {
    uint8_t audience;                  /* GROUP, PAIR or SELF */
    uint8_t subject[WW_MEMBER_ID_LEN]; /* PAIR / SELF: the member; else zero (bin 0) */
    uint8_t device[WW_PK_LEN];         /* who can open it */
    uint8_t sealed[WW_SEALED_LEN];     /* crypto_box_seal(key, device's X25519 key) */
};

/* The group id is BLAKE2b-128("wegwijs/group/v1" || author || salt || recovery), recovery
 * left out when absent: only the device that holds the author key can create that group,
 * and no event can give it another recovery key (PROTOCOL.md 6.1). */
struct ww_body_group_create {
    uint8_t salt[16];
    struct ww_slice name;
    struct ww_slice tz;              /* "" means Europe/Amsterdam */
    uint32_t start_date;             /* first day of week 1 (days since 1970-01-01) */
    uint8_t coach[WW_MEMBER_ID_LEN]; /* the creating coach's member id */
    uint8_t agg_pk[32];              /* aggregator X25519 key; bin 0 when absent */
    int has_agg;
    uint8_t recovery[WW_PK_LEN]; /* the group's recovery key (Ed25519); bin 0 when absent */
    int has_recovery;
};

/* Only what the control plane checks: the member's name, year and track are its profile
 * (member.profile), which the group alone can read. */
struct ww_body_member_add {
    uint8_t member[WW_MEMBER_ID_LEN];
    uint8_t role;       /* enum ww_role */
    uint32_t n_devices; /* 1..WW_MAX_DEVICES */
    uint8_t devices[WW_MAX_DEVICES][WW_PK_LEN];
    /* Optional trailing field: the invite this member redeemed (invite.create's key). It is
     * written only when present or followed by unknown fields (then bin 0 when absent). */
    uint8_t invite[WW_PK_LEN];
    int has_invite;
    int invite_field; /* the field is encoded (bin 0 when absent); the decoder sets it */
};

/* A seq of one device's log: lists of them are strictly ascending by device key. */
struct ww_device_seq {
    uint8_t device[WW_PK_LEN];
    uint64_t seq;
};

/* A cut-off: a device's last event that stands, by seq and hash (PROTOCOL.md 6.3). */
struct ww_device_pin {
    uint8_t device[WW_PK_LEN];
    uint64_t seq;              /* 0..WW_MAX_SEQ */
    uint8_t hash[WW_HASH_LEN]; /* the hash of event seq; zero when seq is 0 */
};

/* A member's profile, for the group's eyes (audience GROUP); the header's ref is `member`. */
struct ww_body_member_profile {
    uint8_t member[WW_MEMBER_ID_LEN];
    struct ww_slice alias; /* 0..WW_MAX_NAME */
    uint8_t year;          /* study year 1..4; 0 for a coach */
    uint8_t track;         /* enum ww_track */
};

struct ww_body_member_ref { /* erase */
    uint8_t member[WW_MEMBER_ID_LEN];
};

struct ww_body_member_remove {
    uint8_t member[WW_MEMBER_ID_LEN];
    /* The owner's removal: one per device of the member, ascending by device key; a
     * member's own leave: none. */
    uint32_t n_cutoffs;                           /* 0..WW_MAX_CUTOFFS */
    struct ww_device_pin cutoffs[WW_MAX_CUTOFFS]; /* the last event of each that is kept */
};

struct ww_body_device_add {
    uint8_t member[WW_MEMBER_ID_LEN];
    uint8_t device[WW_PK_LEN];
};

struct ww_body_keys { /* key.epoch, key.share */
    uint32_t epoch;
    uint32_t n_wraps; /* 1..WW_MAX_WRAPS */
    struct ww_wrap wraps[WW_MAX_WRAPS];
};

struct ww_body_challenge_define {
    struct ww_slice code; /* 1..WW_MAX_CODE, [A-Za-z0-9_-] */
    struct ww_slice title;
    struct ww_slice description;
    uint8_t canmeds;   /* enum ww_canmeds */
    uint8_t week_from; /* 1..52 */
    uint8_t week_to;   /* week_from..52 */
    struct ww_slice assignment_ref;
    uint8_t signoff_role; /* enum ww_signoff_role */
};

struct ww_body_challenge_schedule {
    uint32_t date; /* days since 1970-01-01, local date of the group */
    struct ww_slice code;
};

struct ww_body_day_off {
    uint32_t date;
    uint8_t off; /* 1: geen dienst; 0: undo */
};

struct ww_body_reflection {
    uint32_t date;
    struct ww_slice code;
    uint8_t status;    /* enum ww_status */
    uint8_t obstacles; /* enum ww_obstacle bits; 0 when status is DONE */
    struct ww_slice obstacle_note;
    struct ww_slice situatie, taak, actie, resultaat, reflectie;
    uint8_t share; /* enum ww_share */
    uint8_t draft; /* 0 or 1 */
};

struct ww_answer {
    uint8_t item;  /* climate item number, see PROTOCOL.md */
    uint8_t value; /* 1..5, or 0 for "n.v.t." */
};

struct ww_body_climate {
    uint32_t date;
    uint32_t n_answers; /* 1..WW_MAX_ANSWERS, items strictly ascending */
    struct ww_answer answers[WW_MAX_ANSWERS];
};

struct ww_body_reaction {
    uint8_t target[WW_HASH_LEN]; /* event hash of the reflection reacted to */
    struct ww_slice text;        /* 1..WW_MAX_REACTION */
};

/* Withdraws the author's own reaction.put; see PROTOCOL.md 6.12. */
struct ww_body_reaction_del {
    uint8_t target[WW_HASH_LEN]; /* event hash of the reaction.put withdrawn */
};

/* The hub the group syncs through, named by the owner device; see PROTOCOL.md 6.18. */
struct ww_body_group_hub {
    uint8_t hub[WW_PK_LEN]; /* the hub's device key, proven in the handshake */
    struct ww_slice addr;   /* "host:port" where it listens; 0..WW_MAX_ADDR bytes */
};

/* An invite the owner made for one role (PROTOCOL.md 6.20): the public half of a key pair
 * derived from the secret in the invite code, the role it admits and until when. */
struct ww_body_invite_create {
    uint8_t invite[WW_PK_LEN]; /* Ed25519 public key derived from the invite secret */
    uint8_t role;              /* WW_ROLE_STUDENT or WW_ROLE_SENIOR */
    uint64_t expires_ms;       /* ms since 1970: unusable from then on (compared with hlc ms) */
};

struct ww_body_invite_revoke {
    uint8_t invite[WW_PK_LEN];
};

/* A member's own device invites another device of its member (PROTOCOL.md 6.25). */
struct ww_body_device_invite {
    uint8_t invite[WW_PK_LEN]; /* Ed25519 public key derived from the invite secret */
    uint64_t expires_ms;       /* ms since 1970: unusable from then on (compared with hlc ms) */
    uint8_t proof[WW_SIG_LEN]; /* the invite key's signature over the group and the member */
};

/* The owner admits the device that redeemed a member's device invite (PROTOCOL.md 6.26). */
struct ww_body_device_join {
    uint8_t member[WW_MEMBER_ID_LEN];
    uint8_t device[WW_PK_LEN];
    uint8_t invite[WW_PK_LEN];
    uint8_t sig[WW_SIG_LEN]; /* the device's redemption, signed with the invite's key */
};

/* The owner hands the group's control log on to another device of its member (PROTOCOL.md
 * 6.27). */
struct ww_body_owner_handover {
    uint8_t device[WW_PK_LEN];
};

/* The group's recovery key (PROTOCOL.md 6.28): its secret is on paper, never on a device. */
struct ww_body_recovery_key {
    uint8_t pk[WW_PK_LEN];
};

/* A new device takes the group over from a lost owner device with the recovery key
 * (PROTOCOL.md 6.29). */
struct ww_body_owner_recover {
    uint8_t from[WW_PK_LEN];  /* the owner device it replaces */
    uint64_t cutoff;          /* the last seq of `from` that stands, 0..WW_MAX_SEQ */
    uint8_t tip[WW_HASH_LEN]; /* the hash of that event; zero when cutoff is 0 */
    /* The member's other devices it retires too, each with its last event that stands. */
    uint32_t n_others; /* 0..WW_MAX_CUTOFFS */
    struct ww_device_pin others[WW_MAX_CUTOFFS];
    uint8_t sig[WW_SIG_LEN]; /* by the recovery key, over what PROTOCOL.md 6.29 says */
};

/* What a device held when it last synced (PROTOCOL.md 6.22): its sync health and, through
 * the logs it holds, its receipt for every erasure among them. */
struct ww_body_sync_report {
    uint64_t hub_at;  /* ms since the epoch of its last completed sync with the hub; 0 never */
    uint64_t peer_at; /* ... with another device; 0 never */
    uint32_t n_held;  /* 0..WW_MAX_HELD */
    struct ww_device_seq held[WW_MAX_HELD]; /* each log's author and the highest seq held, 1.. */
};

/* One day's climate as two sealed shares (PROTOCOL.md 6.23): the share message of 6.19,
 * opaque here (core/share.c decodes it). */
#define WW_MAX_SHARE_MSG 1600
struct ww_body_climate_share {
    uint32_t date;
    struct ww_slice msg; /* 1..WW_MAX_SHARE_MSG bytes */
};

/* Where a group's climate shares go and which unit it belongs to (PROTOCOL.md 6.24). */
struct ww_body_group_climate {
    uint8_t agg_a[WW_PK_LEN]; /* aggregator A's X25519 key (the hub's) */
    uint8_t agg_b[WW_PK_LEN]; /* aggregator B's, a different key */
    struct ww_slice team;     /* 0..WW_MAX_NAME; empty: not in a team */
    struct ww_slice location; /* 0..WW_MAX_NAME; empty: not in a location */
};

struct ww_body_signal_raise {
    uint8_t category;     /* enum ww_signal_category */
    struct ww_slice text; /* 1..WW_MAX_SIGNAL */
    uint8_t concerns[WW_MEMBER_ID_LEN];
    int has_concerns; /* bin 0 when absent */
};

struct ww_body_signal_resolve {
    uint8_t signal[WW_HASH_LEN]; /* event hash of the signal.raise */
    uint8_t state;               /* enum ww_signal_state */
    struct ww_slice note;
};

struct ww_body_signoff {
    uint8_t member[WW_MEMBER_ID_LEN];
    struct ww_slice code;
    uint32_t date;
    uint8_t level; /* enum ww_level */
    struct ww_slice note;
};

struct ww_body {
    uint16_t kind;
    union {
        struct ww_body_group_create group_create;
        struct ww_body_member_add member_add;
        struct ww_body_member_remove member_remove;
        struct ww_body_device_add device_add;
        struct ww_body_keys keys; /* key.epoch and key.share */
        struct ww_body_challenge_define challenge_define;
        struct ww_body_challenge_schedule challenge_schedule;
        struct ww_body_day_off day_off;
        struct ww_body_reflection reflection;
        struct ww_body_climate climate;
        struct ww_body_reaction reaction;
        struct ww_body_signal_raise signal_raise;
        struct ww_body_signal_resolve signal_resolve;
        struct ww_body_signoff signoff;
        struct ww_body_member_ref erase;
        struct ww_body_reaction_del reaction_del;
        struct ww_body_group_hub group_hub;
        struct ww_body_invite_create invite_create;
        struct ww_body_invite_revoke invite_revoke;
        struct ww_body_sync_report sync_report;
        struct ww_body_climate_share climate_share;
        struct ww_body_group_climate group_climate;
        struct ww_body_device_invite device_invite;
        struct ww_body_device_join device_join;
        struct ww_body_owner_handover owner_handover;
        struct ww_body_recovery_key recovery_key;
        struct ww_body_owner_recover owner_recover;
        struct ww_body_member_profile member_profile;
    } u;
    struct ww_ext ext;
};

/* WW_EUNKNOWN for a kind this version does not know (the event is still valid). */
int ww_body_encode(const struct ww_body *b, struct ww_buf *out);
int ww_body_decode(uint16_t kind, const uint8_t *buf, size_t len, struct ww_body *out);
const char *ww_kind_name(uint16_t kind); /* "reflection.put"; "unknown" */

/* ---- Sync frames ----------------------------------------------------------------------- */

enum ww_frame_type {
    WW_FRAME_HS_INIT = 1, /* handshake 1: client ephemeral key */
    WW_FRAME_HS_RESP = 2, /* handshake 2: server ephemeral + static key, signature */
    WW_FRAME_HS_FIN = 3,  /* handshake 3: client static key, signature */
    WW_FRAME_VV = 4,      /* "this is what I have" for one group */
    WW_FRAME_BATCH = 5,   /* sealed events of one group */
    WW_FRAME_ACK = 6,     /* "I now have" for one group, after applying */
    WW_FRAME_ERROR = 7,   /* code and text; the sender closes after it */
    WW_FRAME_PING = 8,
    WW_FRAME_PONG = 9,
    WW_FRAME_RUNS = 10,        /* BATCH with compact events (WW_CAP_COMPACT) */
    WW_FRAME_REDEEM = 11,      /* device -> hub: redeem an invite (WW_CAP_INVITE) */
    WW_FRAME_REDEEMED = 12,    /* hub -> device: recorded (waiting) or admitted */
    WW_FRAME_REDEMPTION = 13,  /* hub -> owner device: a redemption to admit */
    WW_FRAME_AGG_GET = 14,     /* aggregator B -> hub: a page of climate shares (WW_CAP_AGG) */
    WW_FRAME_AGG_SHARES = 15,  /* hub -> B: the setup and a page of shares */
    WW_FRAME_AGG_GATE = 16,    /* B -> hub: B's gate, and the shares B could not open */
    WW_FRAME_AGG_RELEASE = 17, /* hub -> B: A's gate and A's release */
    WW_FRAME_MAX_KNOWN = 17
};

/* Capability bits in the handshake. */
#define WW_CAP_SYNC    0x1u /* speaks VV / BATCH / ACK */
#define WW_CAP_AGG     0x2u /* serves aggregates (a hub) */
#define WW_CAP_COMPACT 0x4u /* takes RUNS frames: batches of compact events */
#define WW_CAP_INVITE  0x8u /* speaks REDEEM / REDEEMED / REDEMPTION */

/* REDEEMED states. */
#define WW_REDEEM_WAITING  1 /* recorded: waiting for the owner device to admit it */
#define WW_REDEEM_ADMITTED 2 /* the device is a member: open the group */

struct ww_frame {
    uint8_t type;
    union {
        struct {
            uint8_t version;
            uint32_t caps;
            uint8_t eph[32];
        } hs_init;
        struct {
            uint8_t version;
            uint32_t caps;
            uint8_t eph[32];
            uint8_t static_pk[WW_PK_LEN];
            uint8_t sig[WW_SIG_LEN];
        } hs_resp;
        struct {
            uint8_t static_pk[WW_PK_LEN];
            uint8_t sig[WW_SIG_LEN];
        } hs_fin;
        struct { /* VV and ACK; entries strictly ascending by author */
            uint8_t group[WW_GROUP_ID_LEN];
            uint32_t n;
            struct ww_vv_item e[WW_MAX_VV];
        } vv;
        struct { /* BATCH and RUNS */
            uint8_t group[WW_GROUP_ID_LEN];
            uint32_t n;                       /* 1..WW_MAX_BATCH */
            struct ww_slice ev[WW_MAX_BATCH]; /* each a sealed event, 1..WW_MAX_EVENT */
            uint8_t more;                     /* 1: the sender has more for this group */
        } batch;
        struct {
            uint16_t code;
            struct ww_slice text;
        } error;
        struct {
            uint64_t nonce;
        } ping;  /* PING and PONG */
        struct { /* REDEEM (group and device not encoded), REDEMPTION (all fields) */
            uint8_t group[WW_GROUP_ID_LEN];
            uint8_t invite[WW_PK_LEN];
            uint8_t device[WW_PK_LEN];
            struct ww_slice profile; /* bin 0, or WW_REDEEM_PROFILE_MIN..MAX sealed bytes */
            uint8_t sig[WW_SIG_LEN];
        } redeem;
        struct {
            uint8_t group[WW_GROUP_ID_LEN];
            uint8_t invite[WW_PK_LEN];
            uint8_t state; /* WW_REDEEM_WAITING or WW_REDEEM_ADMITTED */
            uint8_t has_aggs;
            uint8_t aggs[2][WW_PK_LEN]; /* the aggregator keys the hub confirms (bin 0 or 64) */
        } redeemed;
        struct {
            uint64_t after, upto; /* share ids above after, up to upto (0: the hub's newest) */
        } agg_get;
        struct {
            uint64_t upto;         /* the snapshot's bound */
            struct ww_slice setup; /* the encoded setup on the first page, else empty */
            uint32_t n;            /* 0..WW_MAX_AGG_PAGE */
            struct ww_slice msg[WW_MAX_AGG_PAGE]; /* each u64be(id) || a share message */
            uint8_t more;
        } agg_shares;
        struct {
            uint64_t upto;
            struct ww_slice skip; /* u64be ids, ascending, at most WW_MAX_AGG_SKIP */
            struct ww_slice gate; /* the encoded summary */
        } agg_gate;
        struct {
            struct ww_slice gate, release; /* encoded summaries */
        } agg_release;
    } u;
    struct ww_ext ext;
};

/* Error codes carried in an ERROR frame (wire values, stable across versions). */
enum ww_wire_error {
    WW_WIRE_PROTOCOL = 1, /* malformed or unexpected frame */
    WW_WIRE_VERSION = 2,  /* no common version */
    WW_WIRE_AUTH = 3,     /* handshake failed */
    WW_WIRE_DENIED = 4,   /* not allowed to sync this group */
    WW_WIRE_LIMIT = 5,    /* a limit was exceeded */
    WW_WIRE_BUSY = 6,     /* try again later */
    WW_WIRE_INTERNAL = 7,
    WW_WIRE_INVITE_USED = 8,    /* the invite was redeemed by another device */
    WW_WIRE_INVITE_EXPIRED = 9, /* the invite expired */
    WW_WIRE_INVITE_REVOKED = 10,
    WW_WIRE_INVITE_UNKNOWN = 11, /* no such invite here, or the proof does not verify */
    WW_WIRE_QUOTA = 12           /* an author is over the quota of the receiving hub */
};

int ww_frame_encode(const struct ww_frame *f, struct ww_buf *out);
int ww_frame_decode(const uint8_t *buf, size_t len, struct ww_frame *out);

/* ---- Handshake payload ------------------------------------------------------------------ */

/* The payload each side sends inside the transport handshake (PROTOCOL.md 8.2), encoded
 * as array [version, caps, device_pk, ext...] of at most WW_MAX_HELLO bytes. */
#define WW_MAX_HELLO 256

struct ww_hello {
    uint8_t version;              /* 1..255: the highest protocol version the sender speaks */
    uint32_t caps;                /* WW_CAP_* bits the sender offers; unknown bits ignored */
    uint8_t device_pk[WW_PK_LEN]; /* the sender's Ed25519 device key */
    struct ww_ext ext;
};

int ww_hello_encode(const struct ww_hello *h, struct ww_buf *out);
int ww_hello_decode(const uint8_t *buf, size_t len, struct ww_hello *out);

/* ---- Text ---------------------------------------------------------------------------- */

/* 1 if s is valid UTF-8 (no overlong forms, no surrogates, <= U+10FFFF) with no C0 control
 * characters other than tab and newline, and no DEL; else 0. */
int ww_text_valid(const uint8_t *s, size_t len);

#endif
