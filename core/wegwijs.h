/*
 * wegwijs.h - libwegwijs, the public API.
 *
 * One device's view of its Wegwijs groups: its identity (an Ed25519 key pair in the data
 * folder), one SQLite store, and the operations of every role. A mobile app, the
 * `wegwijs` command and the hub all call this same API. Nothing here touches a socket.
 *
 * Conventions:
 *  - Functions return 0 or a negative code from ww_err.h; `*out` is written on success only.
 *  - Every call that writes an event can return its event hash (hash_out, may be NULL).
 *  - Strings are UTF-8 and NUL-terminated on the way in; ids are fixed-size byte arrays.
 *  - A struct passed to a callback, and every pointer inside it, is valid only for the
 *    duration of the callback. A callback must not call back into the same store.
 *  - Dates are local civil dates of the group's time zone, as days since 1970-01-01.
 *  - One struct ww_store is used by one thread at a time.
 */
#ifndef WEGWIJS_H
#define WEGWIJS_H

#include <stddef.h>
#include <stdint.h>

#include "ww_enums.h"
#include "ww_err.h"

#define WW_ID_LEN         16 /* group and member ids */
#define WW_KEY_LEN        32
#define WW_EVENT_HASH_LEN 32
#define WW_CODE_MAX       16 /* bytes of a challenge code */

struct ww_store;

/* ---- Opening a device ---------------------------------------------------------------- */

struct ww_options {
    /* Wall clock in milliseconds since 1970; NULL means the system clock. */
    int64_t (*now_ms)(void *ud);
    /* Randomness; NULL means libsodium's randombytes_buf. Tests pass a seeded generator. */
    void (*random)(void *ud, uint8_t *buf, size_t len);
    void *ud;
    /* Database file name inside the data folder; NULL means "wegwijs.db". ":memory:" keeps
     * the store in memory (the identity is still read from or written to the folder). */
    const char *db_name;
};

/*
 * Opens (and on first use creates) the device in `dir`: the identity file `identity.key`
 * (mode 0600) and the store. A store written by a newer version fails with WW_ENEWER, a
 * damaged one with WW_ECORRUPT; neither is changed. opt may be NULL.
 */
int ww_store_open(const char *dir, const struct ww_options *opt, struct ww_store **out);
void ww_store_close(struct ww_store *s); /* NULL is a no-op */
/* Folds the write-ahead log into the database file and truncates it. Call it when the
 * device is idle (an app going to the background, a hub between bursts); the store also
 * does it by itself every 32 MiB of log. WW_EBUSY when a reader holds the log. */
int ww_store_checkpoint(struct ww_store *s);
/* This device's public signing key: what a coach needs to add it to a group. */
void ww_store_device(const struct ww_store *s, uint8_t pk[WW_KEY_LEN]);
/*
 * The device identity for a secure channel, without handing out the secret: the X25519
 * public key converted from the device key, and X25519 with its secret half (for the
 * static-key operations of a handshake). WW_ECRYPTO for a low-order peer key.
 */
void ww_store_dh_pk(const struct ww_store *s, uint8_t pk[WW_KEY_LEN]);
int ww_store_dh(const struct ww_store *s, const uint8_t peer_pk[WW_KEY_LEN],
                uint8_t shared[WW_KEY_LEN]);
/* The hub's aggregator key pair is separate from the device identity: X25519, kept in
 * `aggregator.key` in the data folder, created on first call. */
int ww_store_aggregator_pk(struct ww_store *s, uint8_t pk[WW_KEY_LEN]);

/* ---- Groups and members -------------------------------------------------------------- */

struct ww_group_info {
    uint8_t id[WW_ID_LEN];
    const char *name;
    const char *tz;            /* IANA name, e.g. "Europe/Amsterdam" */
    uint32_t start_date;       /* the group's first day; week 1 starts here */
    uint32_t epoch;            /* current key epoch */
    int is_owner;              /* this device is the group's owner (created it, or handed it) */
    uint8_t owner[WW_KEY_LEN]; /* the owner device's key */
    int has_aggregator;
    uint8_t my_member[WW_ID_LEN];
    int my_role; /* 0 when this device is not (or no longer) a member */
    int has_hub; /* the owner named the group's hub (ww_group_hub_set) */
    uint8_t hub[WW_KEY_LEN];
    const char *hub_addr; /* "host:port", or "" */
};

/*
 * Creates a group with this device as its coach and owner. tz NULL means
 * "Europe/Amsterdam"; start_date 0 means today; aggregator_pk (X25519) may be NULL.
 * coach_alias (NULL or "": none) goes in the coach's member.profile, for the group alone.
 * recovery_code_out, unless NULL, receives the group's recovery code (see
 * ww_owner_recover), whose public key the group id commits to: show it to the coach once,
 * to write down; nothing keeps it. With NULL the group has no recovery key (the owner may
 * give it one later, ww_recovery_key_create).
 */
#define WW_RECOVERY_CODE_MAX 72 /* a recovery code as text, with its NUL */
int ww_group_create(struct ww_store *s, const char *name, const char *tz, uint32_t start_date,
                    const char *coach_alias, const uint8_t *aggregator_pk,
                    uint8_t group_out[WW_ID_LEN], char recovery_code_out[WW_RECOVERY_CODE_MAX]);
int ww_group_get(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                 void (*cb)(void *ud, const struct ww_group_info *g), void *ud);
int ww_groups_list(struct ww_store *s, void (*cb)(void *ud, const struct ww_group_info *g),
                   void *ud);
/* This device's member leaves the group (a student or senior: WW_EROLE for the coach): a
 * member.remove of its own member, which every replica applies as the owner's removal, cut
 * off at its time. Send it with a sync; the group's hub then serves this device no more,
 * and the owner's device starts a new key epoch when it learns of it (ww_removals_rekey). */
int ww_member_leave(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                    uint8_t hash_out[WW_EVENT_HASH_LEN]);
/* On the owner's device: starts a new key epoch when a member left since the last one, so
 * that nothing written after it opens with a key the leaver holds (sync calls it when a
 * batch changed the group's members; *wrote, may be NULL, says whether it wrote). */
int ww_removals_rekey(struct ww_store *s, const uint8_t group[WW_ID_LEN], int *wrote);
/* A learner's device that holds its member's SELF key (it wrote privately) sends it to the
 * member's devices that joined since and were vouched for (a device.join, or the member's own
 * device.add), so that a second device reads the member's private texts as soon as both have
 * synced, not only after the next private write. *wrote: a key.share was written. Called by
 * sync when a batch changed the group's devices. */
int ww_self_key_refresh(struct ww_store *s, const uint8_t group[WW_ID_LEN], int *wrote);

/*
 * The owner device names the hub the group syncs through: its device key, which a device
 * dialling it checks in the handshake, and where it listens ("host:port", or "" when the
 * devices are told otherwise). A hub serves only groups that named it. The newest naming
 * wins. WW_EROLE unless this is the owner device.
 */
int ww_group_hub_set(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                     const uint8_t hub[WW_KEY_LEN], const char *addr,
                     uint8_t hash_out[WW_EVENT_HASH_LEN]);
/*
 * The owner device hands the group over to another device of its own member (one it added
 * with ww_device_add, or that joined by a device code): that device is the owner from then
 * on, for every replica, and this one a coach device like another. WW_EROLE unless this is
 * the owner device; WW_ENOTFOUND when the device is not one of the owner's member's;
 * WW_EINVAL for this device itself.
 */
int ww_owner_handover(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                      const uint8_t device[WW_KEY_LEN], uint8_t hash_out[WW_EVENT_HASH_LEN]);
/*
 * The owner device gives a group made without one a recovery key, once (WW_EEXIST after,
 * and for a group made with one): code_out receives its secret as text, eight groups of
 * eight hex digits. Nothing keeps the secret: show it to the coach, to write down, and
 * forget it. (A recovery key set this way is an event of the owner's log, which a thief
 * holding the owner device could fork before any recovery; one made with the group cannot
 * be changed.)
 */
int ww_recovery_key_create(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                           char code_out[WW_RECOVERY_CODE_MAX]);
/*
 * A new device takes the group over from its lost owner device with the recovery code: it
 * must hold the group's log (a bundle from a member's device) and be no device of the
 * group yet (WW_EEXIST). It writes owner.recover (the lost device's events beyond what
 * this device holds of it are refused from then on, everywhere) and a new key epoch for
 * every device but the lost one; the new epoch's keys are the only ones it reads.
 * WW_EINVAL for a code that is no code, WW_EBADSIG for another group's code.
 */
int ww_owner_recover(struct ww_store *s, const uint8_t group[WW_ID_LEN], const char *code);
/* 1 when device is, or was, a device of the member of the group's owner device (the coach
 * who made or took over the group), else 0 (also on any failure). */
int ww_group_coach_device(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                          const uint8_t device[WW_KEY_LEN]);

struct ww_member_info {
    uint8_t id[WW_ID_LEN];
    int role;          /* WW_ROLE_* */
    const char *alias; /* "" where this device reads no profile of the member (PROTOCOL.md 6.27):
                        * on a hub, and for an erased member */
    int year;          /* 1..4; 0 for a coach, and where alias is "" */
    int track;         /* 1 BOL, 2 BBL; 0 none */
    int active;        /* 0 once removed */
    size_t n_devices;
    const uint8_t (*devices)[WW_KEY_LEN];
};

/*
 * Adds a member with one device (owner only). Refuses a fifth student (WW_ESTUDENTCAP),
 * a second senior (WW_ESENIORCAP), counting the places open invites hold (ww_invite_create),
 * and a device that is already a member (WW_EEXIST).
 * The new member's devices receive the current epoch's keys; alias, year and track go in the
 * member's profile (member.profile), which only the group's members can read.
 */
int ww_member_add(struct ww_store *s, const uint8_t group[WW_ID_LEN], int role, const char *alias,
                  int year, int track, const uint8_t device[WW_KEY_LEN],
                  uint8_t member_out[WW_ID_LEN]);
/* Adds another device to a member. The owner's device adds a device to any member, which
 * then receives the current GROUP key and the member's PAIR key. A member's own device
 * calls it for a device of its own member that the owner added (WW_ENOTFOUND before the
 * owner's device.add is held, WW_EROLE for another member's device): it vouches for it, and only a
 * device its member vouched for (or its first device) ever receives the member's SELF key (private
 * reflections). */
int ww_device_add(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                  const uint8_t member[WW_ID_LEN], const uint8_t device[WW_KEY_LEN],
                  uint8_t hash_out[WW_EVENT_HASH_LEN]);
/* Removes a member (owner only) and starts a new key epoch without their devices. */
int ww_member_remove(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                     const uint8_t member[WW_ID_LEN], uint8_t hash_out[WW_EVENT_HASH_LEN]);
int ww_members_list(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                    void (*cb)(void *ud, const struct ww_member_info *m), void *ud);

/* ---- Joining by invite ---------------------------------------------------------------- */

/*
 * An invite code is what a new student types or scans to join a group (PROTOCOL.md 9.9):
 * the hub's "host:port", a slash, then 48 letters and digits in groups of four, e.g.
 * "127.0.0.1:7420/AEBA-GCQK-...". The letters carry a secret, a fingerprint of the hub's
 * device key (checked in the handshake) and a checksum over all of it, so a mistyped code
 * is refused as such (WW_EBADCODE) instead of failing later.
 */
#define WW_INVITE_SECRET_LEN 16
#define WW_HUB_FP_LEN        10
#define WW_INVITE_CODE_MAX   320                      /* a code as text, with its NUL */
#define WW_INVITE_TTL_MS     (7 * 24 * 3600 * 1000LL) /* the default lifetime of an invite */

struct ww_invite_code {
    char addr[256];                       /* the hub's "host:port" */
    uint8_t secret[WW_INVITE_SECRET_LEN]; /* who knows it may redeem the invite once */
    uint8_t hub_fp[WW_HUB_FP_LEN];        /* ww_hub_fingerprint of the hub's device key */
    int device; /* a device invite (ww_device_invite): joins as another device of a member */
};
/* Reads a code as typed: letters in either case, dashes anywhere. WW_EBADCODE when it is
 * not a code or its checksum fails, WW_EVERSION for a code of a later version. */
int ww_invite_code_parse(const char *text, struct ww_invite_code *out);
/* Writes a code as text (at most WW_INVITE_CODE_MAX bytes with the NUL). */
int ww_invite_code_format(const struct ww_invite_code *c, char *out, size_t cap);
/* The invite's public key, derived from its secret: what invite.create publishes. */
void ww_invite_key(const uint8_t secret[WW_INVITE_SECRET_LEN], uint8_t invite[WW_KEY_LEN]);
/* The fingerprint of a hub's device key that a code carries. */
void ww_hub_fingerprint(const uint8_t hub[WW_KEY_LEN], uint8_t fp[WW_HUB_FP_LEN]);

/*
 * The owner makes an invite for one student (WW_ROLE_STUDENT) or the senior
 * (WW_ROLE_SENIOR), usable once until expires_ms (ms since 1970; 0: WW_INVITE_TTL_MS from
 * now). The group must have named its hub with an address (ww_group_hub_set; else
 * WW_ESTATE). Refused when the role's active members and open invites would exceed its cap
 * (WW_ESTUDENTCAP, WW_ESENIORCAP). code_out receives the code text (cap bytes, at least
 * WW_INVITE_CODE_MAX); invite_out (may be NULL) the invite's key, which names it.
 */
int ww_invite_create(struct ww_store *s, const uint8_t group[WW_ID_LEN], int role,
                     int64_t expires_ms, char *code_out, size_t cap,
                     uint8_t invite_out[WW_KEY_LEN]);
/*
 * A member's own device (one its member vouched for: the one it joined with, or one added
 * this way) invites another device of the same member, a school PC next to a phone: usable
 * once until expires_ms (0: WW_INVITE_TTL_MS from now). The code (a device code) goes to the
 * new device, which redeems it like any invite (ww_node_join, no alias); the owner's device
 * then admits it by a device.join, with no step by the coach, and the new device may hold
 * the member's private reflections, as the member asked. WW_EROLE from a device that is not
 * vouched for; WW_ESTATE when the group names no hub.
 */
#define WW_MEMBER_JOIN_DEVICES 4 /* a member's active devices after a device.join, at most */
int ww_device_invite(struct ww_store *s, const uint8_t group[WW_ID_LEN], int64_t expires_ms,
                     char *code_out, size_t cap, uint8_t invite_out[WW_KEY_LEN]);
/* The owner revokes an unused invite (WW_EUSED when used, WW_ENOTFOUND when unknown). */
int ww_invite_revoke(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                     const uint8_t invite[WW_KEY_LEN], uint8_t hash_out[WW_EVENT_HASH_LEN]);

enum ww_invite_state {
    WW_INVITE_OPEN = 1,    /* may be redeemed */
    WW_INVITE_USED = 2,    /* a member joined with it (member) */
    WW_INVITE_REVOKED = 3, /* the owner revoked it */
    WW_INVITE_EXPIRED = 4  /* not used before it expired (by this device's clock) */
};
struct ww_invite_info {
    uint8_t invite[WW_KEY_LEN];
    int role; /* 0: a device invite (ww_device_invite) */
    int64_t expires_ms;
    int state;                 /* enum ww_invite_state */
    uint8_t member[WW_ID_LEN]; /* USED: the member who joined with it; a device invite's
                                  member, always */
};
/* Every invite of the group, oldest first. */
int ww_invites_list(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                    void (*cb)(void *ud, const struct ww_invite_info *i), void *ud);

/*
 * A redemption: a device asks to join with an invite, proving it knows the secret by a
 * signature with the invite's key over its own device key and what it asks to be listed
 * as. Nobody can replay it for another device, and the hub that records it never holds a
 * key of the group. What it asks to be listed as (alias, year, track) travels sealed to the
 * invite's key (`profile`), which only the owner's device, which made the invite, opens:
 * the hub relays it without reading it.
 */
#define WW_PROFILE_SEALED_MAX 130 /* sealed: 48 + year, track and 1..80 bytes of alias */
struct ww_redemption {
    uint8_t group[WW_ID_LEN]; /* filled in by the hub (the code does not carry it) */
    uint8_t invite[WW_KEY_LEN];
    uint8_t device[WW_KEY_LEN]; /* the joining device */
    /* In the clear on the joining device, for ww_redemption_sign; NULL, 0, 0 elsewhere (a
     * hub, and the owner's device, which opens the profile in ww_redemption_admit). */
    const char *alias;  /* 1..80 bytes; a device invite's: "" */
    int year;           /* 1..4; a device invite's: 0 */
    int track;          /* 0 none, 1 BOL, 2 BBL; a device invite's: 0 */
    size_t profile_len; /* 0 for a device invite's */
    uint8_t profile[WW_PROFILE_SEALED_MAX];
    uint8_t sig[64];
};
/* The joining device signs its redemption: seals alias, year and track into profile (a
 * device invite's: none) and fills invite and sig from the secret. */
int ww_redemption_sign(const uint8_t secret[WW_INVITE_SECRET_LEN], struct ww_redemption *r);
/* 0 when the signature verifies for r's device, invite and profile; WW_EBADSIG otherwise. */
int ww_redemption_verify(const struct ww_redemption *r);
/* The group of an invite this store holds (WW_ENOTFOUND for none, or for a key that two
 * groups claim). */
int ww_invite_group(struct ww_store *s, const uint8_t invite[WW_KEY_LEN],
                    uint8_t group_out[WW_ID_LEN]);
/*
 * A hub records a redemption (r->group is filled in): the first valid one of an invite
 * wins, atomically; the same device again is no change. *admitted_out is 1 when the device
 * is a member of the group already. WW_ENOTFOUND (unknown invite), WW_EBADSIG, WW_EUSED
 * (another device redeemed it, or a member joined with it), WW_EREVOKED, WW_EEXPIRED.
 */
int ww_redemption_record(struct ww_store *s, struct ww_redemption *r, int *admitted_out);
/* The redemptions a hub recorded for a group and its owner has not admitted yet. */
int ww_redemptions_pending(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                           void (*cb)(void *ud, const struct ww_redemption *r), void *ud);
/* The owner device holds a redemption it cannot admit yet, of a device invite its member's
 * log has not brought (WW_ENOTFOUND from ww_redemption_admit), to admit it once that comes
 * (ww_redemptions_pending). Its signature must verify; at most WW_HELD_REDEMPTIONS a group,
 * each kept for 30 days at most. */
#define WW_HELD_REDEMPTIONS 64
int ww_redemption_hold(struct ww_store *s, const struct ww_redemption *r);
/* The owner device admits a redemption: checks its signature and the invite, then adds
 * the member with the invite and gives its device the keys (as ww_member_add); for a device
 * invite, the device to the member who made it (device.join, ww_device_invite). */
int ww_redemption_admit(struct ww_store *s, const struct ww_redemption *r,
                        uint8_t member_out[WW_ID_LEN]);

/* ---- Finding peers on the local network --------------------------------------------- */

/*
 * A device that listens for peers announces itself on the ward's network with a beacon
 * (PROTOCOL.md 9.10): a UDP datagram of WW_BEACON_LEN bytes, "WWB1", a random nonce, and
 * sealed under the group's discovery key its device key, TCP port and a ten-minute window.
 * The discovery key is derived from the group's GROUP key of an epoch, so only devices of
 * the group's members make or open one; to anyone else a beacon is random bytes, and two
 * beacons of one device, minutes or days apart, cannot be linked.
 */
#define WW_BEACON_LEN       82
#define WW_BEACON_NONCE_LEN 24
#define WW_BEACON_WINDOW_MS 600000 /* the window: unix time in ten-minute steps */

struct ww_beacon {
    uint32_t window;            /* unix ms / WW_BEACON_WINDOW_MS when it was made */
    uint8_t device[WW_KEY_LEN]; /* the sender's device key */
    uint16_t port;              /* the sender's TCP port (its address is the datagram's) */
};

/* The discovery key of a group from a GROUP key (BLAKE2b-256 keyed with it). */
void ww_discovery_derive(const uint8_t group_key[WW_KEY_LEN], uint8_t key[WW_KEY_LEN]);
/* The discovery key of the group's current epoch (back 0) or an earlier one (back 1: the
 * previous epoch), from the GROUP key this device holds. WW_EGROUP for a group it does not
 * know, WW_ENOTMEMBER unless it is an active member's device, WW_ENOKEY without that key. */
int ww_discovery_key(struct ww_store *s, const uint8_t group[WW_ID_LEN], uint32_t back,
                     uint8_t key[WW_KEY_LEN]);
/* 0 when device is a device of an active member of the group, WW_ENOTMEMBER when not. */
int ww_discovery_peer(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                      const uint8_t device[WW_KEY_LEN]);
/* The window now, by the store's clock. */
uint32_t ww_discovery_window(struct ww_store *s);
/* Seals a beacon; nonce (WW_BEACON_NONCE_LEN bytes) NULL means a fresh random one (always,
 * outside test vectors). */
void ww_beacon_seal(const uint8_t key[WW_KEY_LEN], const uint8_t *nonce, const struct ww_beacon *b,
                    uint8_t out[WW_BEACON_LEN]);
/* Opens a datagram as a beacon under key: WW_ETRUNC, WW_ETRAILING (length), WW_EVERSION
 * (not "WWB1") or WW_EDECRYPT (another key, or changed). *out is written only on success;
 * the window is for the caller to check. */
int ww_beacon_open(const uint8_t key[WW_KEY_LEN], const uint8_t *buf, size_t len,
                   struct ww_beacon *out);

/* ---- The day ----------------------------------------------------------------------- */

struct ww_challenge {
    const char *code; /* "W03", or the coach's own code */
    const char *title;
    const char *description;
    int canmeds;                /* 1..7, see proto.h enum ww_canmeds */
    int week_from, week_to;     /* internship weeks it suits */
    const char *assignment_ref; /* school assignment, "" if none */
    int signoff_role;           /* enum ww_signoff_role */
};

/* Defines or replaces a challenge in the group's library (coach). */
int ww_challenge_define(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                        const struct ww_challenge *c, uint8_t hash_out[WW_EVENT_HASH_LEN]);
/* Schedules a challenge for a date (coach); the last schedule for a date wins. */
int ww_challenge_schedule(struct ww_store *s, const uint8_t group[WW_ID_LEN], uint32_t date,
                          const char *code, uint8_t hash_out[WW_EVENT_HASH_LEN]);
/* Today's date in the group's time zone. Offline. */
int ww_day_today(struct ww_store *s, const uint8_t group[WW_ID_LEN], uint32_t *date_out);
/* The date in the group's time zone at which an event was written, from its HLC (the hlc
 * of a reflection, reaction or signal: milliseconds since 1970 in the upper 48 bits). */
int ww_day_of(struct ww_store *s, const uint8_t group[WW_ID_LEN], uint64_t hlc, uint32_t *date_out);

struct ww_day {
    uint32_t date;
    int week;      /* internship week, 1-based from the group's start */
    int scheduled; /* 1: the coach scheduled it; 0: from the rotation */
    int day_off;   /* this device's member marked "geen dienst" */
    struct ww_challenge challenge;
    size_t n_items; /* climate questions for the day: K1, K2 and rotating items */
    uint8_t items[4];
};
/* The challenge of a date for this device's member. Answered offline. */
int ww_day_get(struct ww_store *s, const uint8_t group[WW_ID_LEN], uint32_t date,
               void (*cb)(void *ud, const struct ww_day *d), void *ud);
/* Marks (off = 1) or unmarks a date as "geen dienst" for this device's member. */
int ww_day_off(struct ww_store *s, const uint8_t group[WW_ID_LEN], uint32_t date, int off,
               uint8_t hash_out[WW_EVENT_HASH_LEN]);

/* The starter library: the challenges every group can use (Dutch text). */
size_t ww_library_count(void);
const struct ww_challenge *ww_library_at(size_t i); /* NULL when i >= count */

/* The climate questions a day may ask (ww_day.items), with their texts. */
enum ww_vermogen {
    WW_VERM_ABSORPTIE = 1,
    WW_VERM_OPLEIDEND = 2,
    WW_VERM_VERBINDEND = 3,
    WW_VERM_LEREND = 4
};
enum ww_climate { WW_CLIMATE_OUTCOME = 0, WW_CLIMATE_VEILIG = 1, WW_CLIMATE_FACILITEREND = 2 };
struct ww_climate_item {
    uint8_t item;     /* wire number: 1 K1, 2 K2, 3..12 R1..R10 */
    const char *code; /* "K1", "R7" */
    const char *text_nl;
    const char *text_en;
    uint8_t vermogen; /* enum ww_vermogen */
    uint8_t climate;  /* enum ww_climate */
};
const struct ww_climate_item *ww_climate_item_get(uint8_t item); /* NULL when unknown */

/* 0 when `name` is a time zone this device can compute dates in (an IANA name found in
 * the system's zone files, or a POSIX TZ rule); WW_EINVAL otherwise. */
int ww_tz_check(const char *name);

/* ---- Reflections, reactions, signals, sign-offs ------------------------------------- */

struct ww_reflection {
    uint32_t date;
    const char *code;          /* NULL on input: the day's challenge */
    int status;                /* 1 gedaan, 2 deels, 3 niet */
    unsigned obstacles;        /* enum ww_obstacle bits; 0 when gedaan */
    const char *obstacle_note; /* may be NULL */
    const char *situatie, *taak, *actie, *resultaat, *reflectie; /* may be NULL */
    int share; /* 1 alleen ik, 2 mijn groep, 3 mijn coach */
    int draft;
    size_t n_answers; /* climate answers, item and 1..5 or 0 (n.v.t.) */
    uint8_t answer_item[8], answer_value[8];
    /* Filled in on output only: */
    uint8_t member[WW_ID_LEN];
    uint8_t hash[WW_EVENT_HASH_LEN];
    uint64_t hlc;
    int readable; /* 0: this device may not read the body */
};

/* Records (or replaces) this device's member's reflection for r->date. Climate answers go to
 * the aggregator only (and stay readable on this device). */
int ww_reflection_put(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                      const struct ww_reflection *r, uint8_t hash_out[WW_EVENT_HASH_LEN]);
/* Every reflection this device knows of, newest date first; member may be NULL for all. */
int ww_reflections_list(struct ww_store *s, const uint8_t group[WW_ID_LEN], const uint8_t *member,
                        void (*cb)(void *ud, const struct ww_reflection *r), void *ud);

struct ww_reaction {
    uint8_t hash[WW_EVENT_HASH_LEN];
    uint8_t target[WW_EVENT_HASH_LEN];
    uint8_t member[WW_ID_LEN];
    const char *text;
    uint64_t hlc;
};
/* Reacts to a reflection this device can read; the reaction has the reflection's audience. */
int ww_reaction_put(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                    const uint8_t target[WW_EVENT_HASH_LEN], const char *text,
                    uint8_t hash_out[WW_EVENT_HASH_LEN]);
/* Withdraws this device's member's own reaction, on every device that holds it. */
int ww_reaction_del(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                    const uint8_t reaction[WW_EVENT_HASH_LEN], uint8_t hash_out[WW_EVENT_HASH_LEN]);
int ww_reactions_list(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                      const uint8_t target[WW_EVENT_HASH_LEN],
                      void (*cb)(void *ud, const struct ww_reaction *r), void *ud);

struct ww_signal {
    uint8_t hash[WW_EVENT_HASH_LEN];
    uint8_t member[WW_ID_LEN]; /* who raised it */
    int category;              /* enum ww_signal_category */
    const char *text;
    int has_concerns;
    uint8_t concerns[WW_ID_LEN];
    int state;        /* 0 open, 1 besproken, 2 opgelost */
    const char *note; /* the coach's note, "" if none */
    uint64_t hlc;
};
/* A student or the senior raises a signal for the coach; concerns may be NULL. */
int ww_signal_raise(struct ww_store *s, const uint8_t group[WW_ID_LEN], int category,
                    const char *text, const uint8_t *concerns, uint8_t hash_out[WW_EVENT_HASH_LEN]);
/* The coach marks a signal discussed (1) or resolved (2). */
int ww_signal_resolve(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                      const uint8_t signal[WW_EVENT_HASH_LEN], int state, const char *note,
                      uint8_t hash_out[WW_EVENT_HASH_LEN]);
int ww_signals_list(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                    void (*cb)(void *ud, const struct ww_signal *sg), void *ud);

struct ww_signoff {
    uint8_t hash[WW_EVENT_HASH_LEN];
    uint8_t member[WW_ID_LEN];
    const char *code;
    uint32_t date;
    int level; /* 1 nooit, 2 oefenen, 3 voldoende, 4 goed */
    const char *note;
    uint64_t hlc;
};
/* The coach signs off a student's challenge on the development scale. */
int ww_signoff_put(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                   const uint8_t member[WW_ID_LEN], const char *code, uint32_t date, int level,
                   const char *note, uint8_t hash_out[WW_EVENT_HASH_LEN]);
int ww_signoffs_list(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                     void (*cb)(void *ud, const struct ww_signoff *so), void *ud);

/* ---- The coach's overview ----------------------------------------------------------- */

#define WW_OVERVIEW_MAX_DAYS 62

/* One learner on one date, as far as this device may read it. */
struct ww_overview_cell {
    uint32_t date;
    int worked;    /* up to today, not "geen dienst", and reflected, or a weekday since joining */
    int day_off;   /* marked "geen dienst" */
    int reflected; /* a reflection exists (readable or not) */
    int readable;  /* ... and this device reads it; 0: kept private from the coach */
    int draft;     /* the reflection is a draft (not counted as reflected) */
    char code[WW_CODE_MAX + 1]; /* the challenge reflected on ("" when unread) */
    int status;                 /* 1 gedaan, 2 deels, 3 niet; 0 when unread */
    unsigned obstacles;         /* what was in the way (enum ww_obstacle bits) */
    int reactions;              /* reactions on it this device can read */
    int signoff;                /* highest sign-off level of that date, 0 none */
};

struct ww_overview_row {
    uint8_t member[WW_ID_LEN];
    const char *alias;
    int role;
    size_t n_cells; /* one per date from `from` to `to` */
    const struct ww_overview_cell *cells;
    int worked, reflected; /* worked days in the range so far, and those reflected */
    int streak;            /* reflected worked days in a row, up to the last worked day */
    int missed_in_a_row;   /* unreflected worked days in a row, up to the last worked day */
    int alert;             /* somewhere in the range, 3 or more worked days in a row unreflected */
};

/* The coach's view of a group's learners from `from` to `to` (at most WW_OVERVIEW_MAX_DAYS
 * dates), one row per active learner; today does not count as missed before it ends.
 * Climate answers never appear here. WW_EROLE unless this device is the group's coach. */
int ww_overview(struct ww_store *s, const uint8_t group[WW_ID_LEN], uint32_t from, uint32_t to,
                void (*cb)(void *ud, const struct ww_overview_row *r), void *ud);

#define WW_HISTORY_MAX_DAYS 366

/*
 * One learner's path from `from` to `to` (at most WW_HISTORY_MAX_DAYS dates): one row with
 * the cells and counts of ww_overview, as far as this device may read them. A student or
 * the senior asks for its own path (member NULL, or its own id): everything it wrote, its
 * private reflections too. The coach names a learner and sees only what that learner
 * shared with the coach (a private reflection is a cell with readable 0). WW_EROLE for a
 * learner asking for another member or the coach naming none; WW_ENOTFOUND when member is
 * no active student or senior of the group. cb runs once.
 */
int ww_history(struct ww_store *s, const uint8_t group[WW_ID_LEN], const uint8_t *member,
               uint32_t from, uint32_t to, void (*cb)(void *ud, const struct ww_overview_row *r),
               void *ud);

/* A challenge tied to a school assignment that a learner did (gedaan or deels, as shared
 * with the coach) and that waits for the coach's sign-off; oldest first. */
struct ww_signoff_due {
    uint8_t member[WW_ID_LEN];
    const char *alias, *code, *title, *assignment_ref;
    uint32_t date;
};
int ww_signoffs_due(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                    void (*cb)(void *ud, const struct ww_signoff_due *d), void *ud);

/* ---- Climate: where a group's climate shares go (PROTOCOL.md 6.19, 6.23, 6.24) -------- */

/*
 * The owner names the group's two aggregators (A: its hub's aggregator key; B: an
 * independent service's, a different key) and the team and location the group belongs
 * to (either may be ""; a group without both is in no report). Every final reflection of
 * a learner then carries a climate.share: the day split into two shares, one sealed to
 * each. A device uses the keys only when its hub confirmed the same two when it joined
 * (ww_climate_pin): a coach alone cannot point the answers at a key of their own.
 */
int ww_group_climate_set(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                         const uint8_t agg_a[WW_KEY_LEN], const uint8_t agg_b[WW_KEY_LEN],
                         const char *team, const char *location);
enum ww_aggkeys_state {
    WW_AGGKEYS_NONE = 0, /* the group names no aggregators: nothing is shared */
    WW_AGGKEYS_UNPINNED, /* named, but no hub confirmed keys to this device: nothing shared */
    WW_AGGKEYS_PINNED,   /* named and confirmed alike: shares go out */
    WW_AGGKEYS_MISMATCH  /* named other keys than the hub confirmed: answers are refused */
};
struct ww_climate_info {
    int state;                                    /* enum ww_aggkeys_state */
    uint8_t agg_a[WW_KEY_LEN], agg_b[WW_KEY_LEN]; /* as the group names them */
    int has_pin;
    uint8_t pin_a[WW_KEY_LEN], pin_b[WW_KEY_LEN]; /* as the hub confirmed them */
    char team[81], location[81];
};
int ww_group_climate_get(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                         struct ww_climate_info *out);
/* Records the aggregator keys a group's hub confirmed over the secure channel (REDEEMED). */
int ww_climate_pin(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                   const uint8_t agg_a[WW_KEY_LEN], const uint8_t agg_b[WW_KEY_LEN]);

/* A hub as aggregator A (sync/net.c serves these to aggregator B, PROTOCOL.md 9.12). */
struct ww_agg_setup;
struct ww_agg;
struct ww_agg_summary;
/* A window's climate is final WW_CLIMATE_GRACE_DAYS days after the window ends: a share
 * stamped later is not kept (on every replica), and a hub serves and aggregates a window
 * only from then on, so that every fetch of it gives the same release (two releases that
 * differed by one student's answer would give that answer to aggregator B). With live, a
 * hub serves open windows too: for demonstrations and tests only. */
#define WW_CLIMATE_GRACE_DAYS 7
void ww_climate_live(struct ww_store *s, int live);
/* The groups served here that name a team and location, numbered into units. */
int ww_climate_setup(struct ww_store *s, struct ww_agg_setup *out);
/* The highest row id of the shares held: a snapshot's bound. */
int ww_climate_last(struct ww_store *s, uint64_t *out);
/* Up to max shares whose share A opens here, above row id `after` and up to `upto`, in
 * row id order; *next is the last id given when there may be more, else 0. */
int ww_climate_page(struct ww_store *s, uint64_t after, uint64_t upto, size_t max,
                    int (*cb)(void *ud, uint64_t id, const uint8_t *msg, size_t len), void *ud,
                    uint64_t *next);
/* An empty aggregator (which: 0 A, 1 B) with this store's aggregator key, over su. */
int ww_climate_agg_new(struct ww_store *s, const struct ww_agg_setup *su, uint32_t k, int which,
                       struct ww_agg **out);
/* Aggregator A over the shares up to `upto`, leaving out the ids in skip (those B could
 * not open), with this store's aggregator key. */
int ww_climate_aggregate(struct ww_store *s, const struct ww_agg_setup *su, uint32_t k,
                         uint64_t upto, const uint64_t *skip, size_t n_skip, struct ww_agg **out);
/* Aggregator A's coach-loop counts (PROTOCOL.md 6.19, "The coach loop") into its release:
 * per passing cell, over the members whose shares up to `upto` this hub serves in the
 * cell's window and groups, the signal.raise events their devices wrote, how many of those
 * have a signal.resolve, and the signoff.put events about them, each dated in the window
 * (the HLC's date in the group's time zone). Read from event headers only. */
int ww_climate_loop(struct ww_store *s, const struct ww_agg_setup *su, uint64_t upto,
                    struct ww_agg_summary *release);

/* ---- Sync health (PROTOCOL.md 6.22) ------------------------------------------------- */

/* What this device knows of its own syncs of a group. Times are ms since the epoch, 0 for
 * never. */
struct ww_sync_state {
    uint64_t hub_at;      /* last completed sync with the group's named hub */
    uint64_t peer_at;     /* ... with any other device */
    uint64_t reported_at; /* when this device last wrote its sync.report; 0 never */
    uint64_t unsent;      /* events this device wrote after its last sync with the hub */
    uint64_t waiting;     /* events received that wait for one they depend on (pending) */
};
int ww_sync_state(struct ww_store *s, const uint8_t group[WW_ID_LEN], struct ww_sync_state *out);

/* A sync of `group` with the device `peer` completed (sync calls it when a session is
 * caught up both ways). Records it, and when a report is due writes this device's
 * sync.report for the coach: *written (may be NULL) is then 1 and the caller sends it.
 * live: the connection already reported once (a report is then due at most every 15
 * minutes, or at once for a new erasure). The coach's device records, never reports. */
int ww_sync_done(struct ww_store *s, const uint8_t group[WW_ID_LEN], const uint8_t peer[WW_KEY_LEN],
                 int live, int *written);

/* One device of an active member, as the coach's device sees it. */
struct ww_device_health {
    uint8_t device[WW_KEY_LEN];
    uint8_t member[WW_ID_LEN];
    const char *alias;
    int role;
    int this_device;          /* the coach's device itself: its own record */
    int known;                /* this device, or one that sent a report */
    int reported;             /* a report of it arrived */
    uint64_t report_at;       /* when it wrote its newest report (ms) */
    uint64_t hub_at, peer_at; /* its last syncs as it reported them (ms; 0 never) */
    uint64_t missing;         /* events held here, reports aside, it lacked when it reported */
};

/* One erasure and, per device of an active member, whether it applied it: its report
 * lists the erasure's log up to the erasure (a signed receipt). */
struct ww_erasure_device {
    const uint8_t *device;
    const char *alias;
    int applied;
};
struct ww_erasure_receipts {
    uint8_t hash[WW_EVENT_HASH_LEN];
    uint8_t member[WW_ID_LEN]; /* whose data it erased */
    uint64_t at;               /* when it was written (ms) */
    size_t n_devices, n_applied;
    const struct ww_erasure_device *devices;
};

/* The coach's view of its group's sync health: cb once per device of an active member
 * (coach first, then by alias), then erasure_cb once per erasure, oldest first (either may
 * be NULL). WW_EROLE unless this device is the group's coach. */
int ww_devices_health(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                      void (*cb)(void *ud, const struct ww_device_health *d),
                      void (*erasure_cb)(void *ud, const struct ww_erasure_receipts *r), void *ud);

/* ---- What sync calls --------------------------------------------------------------- */

/* How much one author may add to a group's log at this node: a bucket of bytes per
 * (group, author) that each newly stored event fills by its length and that drains by
 * per_day bytes a day; it holds at most burst (PROTOCOL.md 9.13). The store keeps it, so a
 * reconnect or a restart does not refill it. A hub sets one; per_day 0 means none. */
struct ww_quota {
    uint64_t per_day;
    uint64_t burst;
};
/* Charges `bytes` newly stored from author in group, inside the caller's transaction.
 * WW_EQUOTA, with nothing charged and *room (if not NULL) set to what would still fit, when
 * the bucket would hold more than burst. */
int ww_quota_take(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                  const uint8_t author[WW_KEY_LEN], uint64_t bytes, const struct ww_quota *q,
                  uint64_t *room);

/* The group's version vector: for each author, the highest contiguous seq held and the tip
 * of the event held there (PROTOCOL.md 9.1). At most `max` items are written; *n_out is the
 * number of authors. */
int ww_sync_vv(struct ww_store *s, const uint8_t group[WW_ID_LEN], struct ww_vv_item *items,
               size_t max, size_t *n_out);

/*
 * The sealed events a peer with version vector `peer` lacks, in an order that respects
 * each author's sequence and causality (HLC), at most max_events and max_bytes in all
 * (at least one event is returned if any is missing). cb receives each sealed event.
 * *more_out is 1 when more remain after this batch. An entry whose tip (not zero) is not
 * that of the event held here at its seq names another branch of a fork: the peer gets
 * that author's events from seq 1 (PROTOCOL.md 9.3).
 */
int ww_sync_missing(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                    const struct ww_vv_item *peer, size_t n_peer, size_t max_events,
                    size_t max_bytes, void (*cb)(void *ud, const uint8_t *event, size_t len),
                    void *ud, int *more_out);

/* How many forks of this device's own log in the group the store has on record, into *n_out:
 * more than 0 once this device was restored from a backup, or its data folder copied, and
 * wrote on both copies (PROTOCOL.md 6.16 step 3). What it wrote on the losing branch was
 * written again where it could be (see `rewritten` in ww_apply_result); control events
 * were not, and the user should take them again. */
int ww_sync_own_forks(struct ww_store *s, const uint8_t group[WW_ID_LEN], uint64_t *n_out);

/* Sets the entry of the event's author in `vv` (n of at most max items) to that event, its
 * seq and tip: a sender pages through ww_sync_missing this way, each page going on right
 * after the events of the last one, also through the resend of a fork (whose events lie
 * at or below the entry's seq). An event of another group is WW_EGROUP and leaves vv
 * unchanged. */
int ww_sync_vv_advance(const uint8_t group[WW_ID_LEN], const uint8_t *event, size_t len,
                       struct ww_vv_item *vv, size_t *n, size_t max);

/*
 * Events on the wire in their compact form (PROTOCOL.md 7.1): what the receiver can
 * recompute or what the frame's events share is left out (the group, the author and prev
 * of an event that follows its author's previous event in the frame, the ct_hash of a body)
 * and filled back in, so the receiver stores every event exactly as it was signed. A state,
 * zeroed at the start of each frame, carries the previous event between calls.
 * WW_EGROUP for an event of another group; *out_len is set on success only.
 */
struct ww_runs_state {
    int has;
    uint8_t author[WW_KEY_LEN];
    uint64_t seq;
    uint8_t hash[WW_EVENT_HASH_LEN];
};
int ww_sync_compact(const uint8_t group[WW_ID_LEN], const uint8_t *event, size_t len,
                    struct ww_runs_state *st, uint8_t *out, size_t cap, size_t *out_len);
int ww_sync_expand(const uint8_t group[WW_ID_LEN], const uint8_t *compact, size_t len,
                   struct ww_runs_state *st, uint8_t *out, size_t cap, size_t *out_len);

struct ww_apply_result {
    size_t accepted;   /* new events stored and applied (released ones included) */
    size_t duplicates; /* already held, unchanged */
    size_t deferred;   /* valid so far, waiting for an event they depend on */
    size_t rejected;   /* refused or malformed; see first_error */
    size_t forks;      /* a different event for an (author, seq) already held */
    int first_error;   /* the first refusal's code, 0 if none */
    size_t first_error_index;
    /* Events of this device itself that lost a fork in this batch: it was restored from a
     * backup, or its data folder copied, and wrote on both copies (PROTOCOL.md 6.16 step
     * 3). `rewritten` of them were written again as new events of this device (their
     * content stays in the group); the others (control events, bodies it cannot read) are
     * kept only as evidence of the fork. */
    size_t own_lost;
    size_t rewritten;
};

/* What became of one event. */
enum ww_outcome_kind {
    WW_OUTCOME_APPLIED = 0,   /* stored and materialised: forward it */
    WW_OUTCOME_DUPLICATE = 1, /* held already */
    WW_OUTCOME_DEFERRED = 2,  /* kept aside until its cause arrives (reason says which) */
    WW_OUTCOME_FORK = 3,      /* another event holds its (author, seq): kept as evidence */
    WW_OUTCOME_REJECTED = 4,  /* a valid event that breaks a rule (reason) */
    WW_OUTCOME_MALFORMED = 5  /* not a valid, authentic event: a protocol violation */
};
#define WW_OUTCOME_RELEASED ((size_t)-1) /* index of an event released from pending */

struct ww_outcome {
    size_t index; /* in the batch, or WW_OUTCOME_RELEASED */
    int outcome;  /* enum ww_outcome_kind */
    int reason;   /* WW_E* for DEFERRED, REJECTED, MALFORMED; else 0 */
    int again;    /* DEFERRED: it was kept aside already (sent again), nothing new stored */
    /* The event as stored when applied (its body dropped if an erasure covers it), else as
     * received. The header fields are NULL/0 when it could not be decoded. */
    const uint8_t *event;
    size_t len;
    const uint8_t *group;  /* WW_ID_LEN bytes */
    const uint8_t *author; /* WW_KEY_LEN bytes */
    uint64_t seq;
    uint16_t kind;
    const uint8_t *hash; /* WW_EVENT_HASH_LEN bytes */
};
typedef void (*ww_outcome_cb)(void *ud, const struct ww_outcome *o);

/*
 * Applies a batch of sealed events from a peer. Each author's run is checked by its hash
 * links and one signature on its last event. An event that breaks a rule is rejected and
 * the store is left as it was for it; the rest of the batch goes on. Outside a
 * transaction the batch gets one of its own; inside one (ww_store_begin) it joins it, so
 * a hub can commit the batches of many connections at once. Returns 0 unless the store
 * itself failed (then nothing of the batch is kept: in the caller's transaction, the
 * caller must roll back).
 */
int ww_sync_apply(struct ww_store *s, const uint8_t *const *events, const size_t *lens, size_t n,
                  struct ww_apply_result *res);
/* ww_sync_apply with the outcome of every event, and of every deferred event the batch
 * released, reported to cb in order (cb may be NULL). Outcomes become final when the
 * transaction commits. */
int ww_sync_apply_each(struct ww_store *s, const uint8_t *const *events, const size_t *lens,
                       size_t n, struct ww_apply_result *res, ww_outcome_cb cb, void *ud);

/* Transactions the caller controls: begin, then any number of ww_sync_apply* and authoring
 * calls (each runs inside it; one that fails undoes only its own writes), then commit or
 * rollback. ww_store_begin inside a transaction opens a nested one (a savepoint): its
 * commit keeps its writes for the outer one to commit, its rollback undoes only them. */
int ww_store_begin(struct ww_store *s);
int ww_store_commit(struct ww_store *s);
void ww_store_rollback(struct ww_store *s);

/* ---- Data rights ------------------------------------------------------------------- */

/* Everything this device holds about one member, as a JSON document (UTF-8, NUL-ended).
 * *json_out is allocated; release it with ww_free_string(). */
int ww_member_export(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                     const uint8_t member[WW_ID_LEN], char **json_out);
void ww_free_string(char *p);
/* Erases a member's bodies everywhere (the owner, or the member's own device): an event that
 * every replica applies by dropping the ciphertext of the member's events; the chain of
 * hashes and signatures still verifies. */
int ww_member_erase(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                    const uint8_t member[WW_ID_LEN], uint8_t hash_out[WW_EVENT_HASH_LEN]);

/* ---- Small helpers ----------------------------------------------------------------- */

int ww_date_parse(const char *iso, uint32_t *date_out);  /* "2026-11-22" */
void ww_date_format(uint32_t date, char out[11]);        /* "2026-11-22" + NUL */
void ww_hex(const uint8_t *bin, size_t len, char *out);  /* out has 2 * len + 1 bytes */
int ww_unhex(const char *hex, uint8_t *bin, size_t len); /* exactly 2 * len hex digits */

#endif
