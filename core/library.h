/*
 * library.h - the starter challenge library and the climate questions (their public face
 * is in wegwijs.h: ww_library_count, ww_library_at, ww_climate_item_get).
 *
 * The starter library is our own Dutch text: small, safe challenges done under
 * supervision, without client names, for internship weeks 1-4 (introduction) and 5+.
 * A group's coach can add or replace challenges (events); the rotation picks from the
 * starter library together with those.
 */
#ifndef WW_LIBRARY_H
#define WW_LIBRARY_H

#include <stddef.h>
#include <stdint.h>

#include "wegwijs.h"

const struct ww_challenge *ww_library_find(const char *code); /* NULL when absent */

/*
 * The rotation: which of the n candidate challenges serves `date` for a group that started
 * on `start`. Candidates whose [week_from, week_to] contains the date's week are preferred;
 * if none does, the introduction set (week_from <= 4) serves weeks 1-4 and the later set
 * (week_from >= 5) serves the rest; if that is empty too, all candidates. Among the chosen
 * ones, ordered by code, the pick advances by one per day. Returns n when n is 0.
 * Deterministic: every device computes the same challenge for the same day.
 */
size_t ww_rotation_pick(const struct ww_challenge *const *c, size_t n, uint32_t start,
                        uint32_t date);

/* The day's questions: K1, K2, then one or two rotating items chosen by the date for the
 * whole team (not per student), from the set for the week (1-4: settling-in items; 5+:
 * the rest), R10 once a week. Writes at most 4 items; returns how many. */
size_t ww_climate_items_for(int week, uint32_t date, uint8_t out[4]);

#endif
