/*
 * invite.h - joining by invite, inside core: what member.add asks of an invite, and the
 * member.add that redeems one (docs/PROTOCOL.md 6.20, 6.21 and 9.9).
 *
 * Invariant: the invites of a group come from the owner's log alone, like its members, so
 * every replica sees the same invites, in the same order, at every member.add. A device
 * invite comes from its member's log, its proof binding its key to that member; the
 * device.join that uses it, from the owner's, waits for it (pending).
 */
#ifndef WW_INVITE_H
#define WW_INVITE_H

#include <stdint.h>

#include "kind.h"

/* The members a group may have of a learner role (PROTOCOL.md 6.16). */
#define WW_ROLE_CAP(r) ((r) == WW_ROLE_STUDENT ? 4 : 1)

/* The places a role holds at ms: its active members plus its open invites (not used, not
 * revoked, expiring after ms), and of those the open invites. */
int ww_invite_places(struct ww_store *s, const uint8_t *gid, int role, int64_t ms, int *held,
                     int *open);
/* A member.add that names an invite: the invite exists, admits the member's role, was not
 * revoked, had not expired at the member.add's hlc and was not used before.
 * WW_ENOTFOUND, WW_EROLE, WW_EREVOKED, WW_EEXPIRED or WW_EUSED. */
int ww_invite_check_use(struct ww_store *s, const struct ww_event *ev);
/* The member.add applied: its invite is used (and the hub's record of its redemption,
 * personal data it no longer needs, is dropped). */
int ww_invite_mark_used(struct ww_store *s, const struct ww_event *ev);
/* A device.join (owner's): the member's device invite exists (WW_ENOTMEMBER, so that the
 * event waits, while the member's log has not brought it), is unused (WW_EUSED), had not
 * expired at the device.join's hlc (WW_EEXPIRED), and the device's redemption signature
 * verifies (WW_EBADSIG). */
int ww_device_invite_check_join(struct ww_store *s, const struct ww_event *ev);
/* The device.join applied: its invite is used and the hub's redemption dropped. */
int ww_device_invite_mark_used(struct ww_store *s, const struct ww_event *ev);
/* group.c: the owner admits a device that redeemed a member's device invite: device.join,
 * then the keys for the device, in one transaction. */
int ww_device_join(struct ww_store *s, const uint8_t group[16], const uint8_t member[16],
                   const uint8_t device[32], const uint8_t invite[32], const uint8_t sig[64]);
/* group.c: ww_member_add with the invite it redeems (NULL: none), in one transaction. */
int ww_member_add_invite(struct ww_store *s, const uint8_t group[16], int role, const char *alias,
                         int year, int track, const uint8_t device[32], const uint8_t *invite,
                         uint8_t member_out[16]);

#endif
