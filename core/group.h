/*
 * group.h - what this device knows of a group's control state: its owner, epoch,
 * aggregator key, member devices and the keys this device holds, cached between calls.
 *
 * Invariant: the cache describes the store as it is: every control event invalidates its
 * group's entry; a rollback, or a write by another connection (data_version), makes every
 * entry stale at once (the store's generation moves on), without store.c calling here.
 */
#ifndef WW_GROUP_H
#define WW_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct ww_store;

#define WW_MAX_GROUP_DEVICES 48 /* devices in one group, all members together */
/* The removed_epoch of a member who left (member.remove by its own device): removed, with
 * no epoch limit of its own; its removed_hlc cuts it off. */
#define WW_LEFT_EPOCH (UINT32_MAX - 1)

/* One device of a member of the group. */
struct ww_devinfo {
    uint8_t device[WW_PK_LEN];
    uint8_t member[WW_MEMBER_ID_LEN];
    int role;
    uint32_t added_epoch;
    uint32_t removed_epoch; /* UINT32_MAX while active */
    uint64_t removed_hlc;   /* a member who left: its leave's hlc; else UINT64_MAX */
    uint64_t cutoff;        /* the last seq an owner's removal keeps; UINT64_MAX if none */
    uint8_t pin[32];        /* the hash of event `cutoff` (zero when none or 0) */
    int vouched;            /* added by its own member: may hold the member's SELF key */
};

struct ww_keyinfo {
    uint8_t audience;
    uint8_t subject[WW_MEMBER_ID_LEN];
    uint32_t epoch;
    uint8_t key[32];
};

#define WW_CACHE_DEVICES 64 /* > WW_MAX_GROUP_DEVICES: the cache always holds them all */
#define WW_CACHE_KEYS    256
#define WW_CACHE_GROUPS  16 /* groups kept at once; a hub switches between many */

struct ww_group_cache {
    int valid;
    uint64_t generation; /* the store's generation when it was loaded */
    uint64_t used;       /* the store's tick when last used: the least recent goes first */
    uint8_t gid[WW_GROUP_ID_LEN];
    int exists;
    uint8_t owner[WW_PK_LEN];
    uint32_t epoch;
    int has_agg;
    uint8_t agg_pk[32];
    int has_erasures; /* any erasure in this group: only then are events checked against them */
    int has_recovery; /* recovery.key: its public key */
    uint8_t recovery[32];
    size_t n_devices;
    struct ww_devinfo devices[WW_CACHE_DEVICES];
    size_t n_keys; /* keys this device holds for the group (a cache; may be partial) */
    struct ww_keyinfo keys[WW_CACHE_KEYS];
    int keys_complete; /* n_keys holds every key in the table */
};

/* Makes s->cache the group's entry, loading it unless it is held and current. Outside a
 * transaction it first checks whether another connection wrote (PRAGMA data_version). */
int ww_cache_load(struct ww_store *s, const uint8_t gid[WW_GROUP_ID_LEN]);
/* The group of s->cache changed (a control event or a key): reload it on next use. */
void ww_cache_invalidate(struct ww_store *s);
const struct ww_devinfo *ww_cache_device(struct ww_store *s, const uint8_t device[WW_PK_LEN]);
/* The key for (audience, subject, epoch) of the cached group, or NULL; _nth gives the n-th
 * of several (two devices of one member may each have made a SELF key). */
const uint8_t *ww_cache_key(struct ww_store *s, uint8_t audience, const uint8_t *subject,
                            uint32_t epoch);
const uint8_t *ww_cache_key_nth(struct ww_store *s, uint8_t audience, const uint8_t *subject,
                                uint32_t epoch, size_t n);
/* Whether dev, not the owner, is an active device of the owner's member that the member
 * vouched for: one an owner.handover still on its way may make the owner, whose owner's
 * work therefore waits rather than being refused (PROTOCOL.md 6.16 step 7). */
int ww_cache_may_own(struct ww_store *s, const struct ww_devinfo *dev);
/* The id of the group c creates with author as its creator (PROTOCOL.md 6.1). */
void ww_group_id(const uint8_t author[32], const struct ww_body_group_create *c, uint8_t gid[16]);
/* The group of the last ww_cache_load: the only way other modules read the cache. */
const struct ww_group_cache *ww_cache_cur(const struct ww_store *s);
/* This device's membership in the cached group: NULL when not a member. */
const struct ww_devinfo *ww_cache_me(struct ww_store *s);
/* Loads the group and checks that this device is an active member whose role is in
 * `roles` (a mask of 1 << WW_ROLE_*): WW_EGROUP, WW_ENOTMEMBER or WW_EROLE otherwise.
 * out (may be NULL) receives the membership. */
int ww_cache_acting(struct ww_store *s, const uint8_t gid[WW_GROUP_ID_LEN], unsigned roles,
                    struct ww_devinfo *out);

#endif
