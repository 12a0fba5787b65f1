/*
 * kind.h - what each event kind means to a replica: one row per kind.
 *
 * A row says who may write the kind (roles, owner only), to which audiences, with what
 * `ref`, whether an erasure drops its body, and holds the kind's own functions: the rule
 * its body must follow (check), what it materialises (apply), what an unreadable copy
 * still changes (apply_unread) and what an erasure of a member removes (erase_sql). The
 * rows live beside their code in one file per kind family (kind_control.c, kind_day.c,
 * kind_social.c); kind.c gathers them into the table apply.c reads, so apply.c has no
 * switch over kinds.
 *
 * Invariant: apply functions depend only on the event and on state that every replica
 * derives identically, never on arrival order: records are last-writer-wins by
 * (hlc, author) through WW_LWW, sets are keyed by event hash.
 */
#ifndef WW_KIND_H
#define WW_KIND_H

#include <stdint.h>

#include "group.h"
#include "proto.h"

struct ww_store;

#define WW_ROLE_BIT(r) (1u << (r))
#define WW_AUD_BIT(a)  (1u << (a))
#define WW_ANY_ROLE                                                                                \
    (WW_ROLE_BIT(WW_ROLE_COACH) | WW_ROLE_BIT(WW_ROLE_STUDENT) | WW_ROLE_BIT(WW_ROLE_SENIOR))
#define WW_LEARNER  (WW_ROLE_BIT(WW_ROLE_STUDENT) | WW_ROLE_BIT(WW_ROLE_SENIOR))
#define WW_REF_DATE 4 /* the ref of a dated record: its date, u32 big-endian */

/* The last-writer-wins rule of every record, as the WHERE of an upsert on table t: the
 * newer (hlc, author) wins; equal ones are the same event. Spelled once, used everywhere. */
#define WW_LWW(t)                                                                                  \
    " WHERE excluded.hlc > " t ".hlc OR (excluded.hlc = " t ".hlc AND excluded.author > " t        \
    ".author)"

/* Keys an event made readable on this device: apply.c materialises what they open. */
struct ww_key_learned {
    uint8_t audience;
    uint8_t subject[16];
    uint32_t epoch;
};

/* One event on its way into the store. */
struct ww_event {
    const struct ww_envelope *env;
    const uint8_t *hash;             /* event hash */
    const struct ww_devinfo *author; /* the author device's membership (copied) */
    const struct ww_body *body;      /* NULL when this device cannot read it */
    /* Filled by apply functions of control kinds: */
    int control;  /* the group's control state changed: deferred events may now apply */
    int rederive; /* held events left the log: derive the group again (apply.c) */
    size_t n_learned;
    struct ww_key_learned learned[WW_MAX_WRAPS];
};

struct ww_kind_rule {
    uint8_t roles;      /* WW_ROLE_BIT of the roles that may write it */
    uint8_t audiences;  /* WW_AUD_BIT of the audiences it may be written to */
    uint8_t owner_only; /* only the group's owner device */
    uint8_t ref_len;    /* the exact length of its header ref */
    uint8_t erasable;   /* an erasure of its author member (or subject) drops its body */
    uint8_t about_ref;  /* it is about the member its 16-byte ref names, not its author's:
                         * an erasure of that member alone drops its body, whatever its hlc */
    /* The rules its readable body must follow, before anything is written: 0 or a WW_E*
     * code. For a PLAIN body that code rejects the event; an encrypted body that fails is
     * held unread, as on a device without its key. WW_ENOTMEMBER from a PLAIN body: it
     * names a device this author may address only once another author's control event
     * (a device.add) arrives, so the event waits (pending) rather than being rejected.
     * NULL: no rule beyond the codec's. */
    int (*check)(struct ww_store *s, const struct ww_event *ev);
    /* Materialises a readable body. NULL: nothing to materialise. */
    int (*apply)(struct ww_store *s, struct ww_event *ev);
    /* What a copy this device cannot read still changes. NULL: nothing. */
    int (*apply_unread)(struct ww_store *s, struct ww_event *ev);
    /* Removes what it materialised for member ?2 of group ?1 up to hlc ?3. NULL: nothing. */
    const char *erase_sql;
};

/* The row of a known kind, or NULL for 0 and kinds this version does not know. */
const struct ww_kind_rule *ww_kind_rule(uint16_t kind);
/* Bit k set for every erasable kind k. */
uint64_t ww_kind_erasable_mask(void);
/* Bit k set for every kind k that is about the member in its ref (about_ref). */
uint64_t ww_kind_about_ref_mask(void);
/* The member an event is about, as the log indexes it and an erasure finds it: the ref of
 * an about_ref kind, else the header's subject (zero for PLAIN and GROUP). */
const uint8_t *ww_event_about(const struct ww_header *h);

/* The rows, each defined in its family's file. */
#define WW_KIND_DECLARE(num, NAME, name, wire, member)                                             \
    extern const struct ww_kind_rule ww_kind_##name;
WW_KINDS(WW_KIND_DECLARE)
#undef WW_KIND_DECLARE

/* The climate row of (member, date): answers as item, value pairs (len bytes). The row the
 * aggregator derives from climate.put, and the author device's own copy, share it. */
int ww_climate_store(struct ww_store *s, const uint8_t gid[16], const uint8_t member[16],
                     uint32_t date, uint64_t hlc, const uint8_t author[32], const uint8_t *answers,
                     size_t len);

/* The day's climate.share of a learner's final reflection (climate.c), inside the
 * reflection's transaction: nothing when the group names no aggregators or this device has
 * no matching pin; WW_EAGGKEY for answers when the pin differs. asked: the day's items. */
struct ww_reflection;
int ww_climate_share_put(struct ww_store *s, const uint8_t gid[16], const uint8_t member[16],
                         const struct ww_reflection *r, uint16_t asked);
/* Writes the climate.share of `date` carrying m, in a transaction of its own or as a
 * savepoint of the caller's: the one way a share message becomes an event. */
struct ww_share_msg;
int ww_climate_share_emit(struct ww_store *s, const uint8_t gid[16], uint32_t date,
                          const struct ww_share_msg *m);

/* The date in a dated record's ref. */
uint32_t ww_ref_date(const struct ww_header *h);
/* What the recovery key signs in an owner.recover (PROTOCOL.md 6.29): BLAKE2b-256 of the
 * context, the group, the recovering device, the owner device it replaces, its cut-off and
 * the other devices retired with theirs. */
void ww_recover_digest(const uint8_t group[16], const uint8_t device[32],
                       const struct ww_body_owner_recover *r, uint8_t out[32]);

#endif
