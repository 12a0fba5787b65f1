/*
 * lost.h - this device's own events that lost a fork, written again (see lost.c).
 *
 * A batch collects them (at most WW_MAX_LOST with their bytes; more are only counted), and
 * once the batch is applied, in its transaction, ww_lost_rewrite drops from pending those
 * that wait behind a lost one and writes the readable content of each again as a new event
 * of this device, unless a newer event of ours says the same already. The control plane is
 * never written again.
 */
#ifndef WW_LOST_H
#define WW_LOST_H

#include <stddef.h>
#include <stdint.h>

#include "wegwijs.h"

struct ww_store;
struct ww_lost;

/* Adds one of our events (once), allocating *l on the first. */
int ww_lost_add(struct ww_lost **l, const uint8_t *raw, size_t len, const uint8_t hash[32]);
/* Whether the event of this hash is among them (l may be NULL). */
int ww_lost_has(const struct ww_lost *l, const uint8_t hash[32]);
/* How many are kept with their bytes (l may be NULL). */
size_t ww_lost_count(const struct ww_lost *l);
/* Forgets those after the first n (a take-over that was undone). */
void ww_lost_trim(struct ww_lost *l, size_t n);
void ww_lost_free(struct ww_lost *l);
/* Writes them again as new events of this device where it can; res->own_lost and
 * res->rewritten say how many were lost and written again. */
int ww_lost_rewrite(struct ww_store *s, struct ww_lost *l, struct ww_apply_result *res);

#endif
