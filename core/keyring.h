/*
 * keyring.h - the keys this device holds: taking them in from key.epoch and key.share
 * events, and opening event bodies with them.
 *
 * Invariant: a key enters the `keys` table only after it was unwrapped with this device's
 * own secret; nothing here trusts a key because an event names it.
 */
#ifndef WW_KEYRING_H
#define WW_KEYRING_H

#include <stdint.h>

#include "buf.h"
#include "kind.h"
#include "proto.h"

struct ww_store;

/* Stores every key of `k` wrapped for this device and notes it in ev->learned. */
int ww_keyring_take(struct ww_store *s, struct ww_event *ev, const struct ww_body_keys *k);
/* Records that the SELF key `key` of (member, epoch) is wrapped for `device`. */
int ww_keyring_recipient_put(struct ww_store *s, const uint8_t gid[16], const uint8_t member[16],
                             uint32_t epoch, const uint8_t key[32], const uint8_t device[32]);
/* The plaintext body of an encrypted event of the cached group into pt: 0, WW_ENOKEY when
 * this device holds no key that opens it, or another error. */
int ww_keyring_open(struct ww_store *s, const struct ww_envelope *env, struct ww_buf *pt);

#endif
