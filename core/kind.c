/*
 * kind.c - the table of event kinds (kind.h), generated from proto's one list WW_KINDS:
 * a kind without a row in core is a link error, not a silent gap.
 */
#include <stddef.h>

#include "kind.h"

#define WW_KIND_ROW(num, NAME, name, wire, member) [num] = &ww_kind_##name,
static const struct ww_kind_rule *const table[] = {WW_KINDS(WW_KIND_ROW)};
#undef WW_KIND_ROW

const struct ww_kind_rule *ww_kind_rule(uint16_t kind)
{
    return kind < sizeof table / sizeof table[0] ? table[kind] : NULL;
}

/* Bit k set for every kind k whose row has the flag at byte offset `flag` set. */
static uint64_t mask_of(size_t flag)
{
    uint64_t mask = 0;
    for (size_t k = 1; k < sizeof table / sizeof table[0] && k < 64; k++)
        if (table[k] && ((const uint8_t *)table[k])[flag])
            mask |= (uint64_t)1 << k;
    return mask;
}

uint64_t ww_kind_erasable_mask(void)
{
    return mask_of(offsetof(struct ww_kind_rule, erasable));
}

uint64_t ww_kind_about_ref_mask(void)
{
    return mask_of(offsetof(struct ww_kind_rule, about_ref));
}

const uint8_t *ww_event_about(const struct ww_header *h)
{
    const struct ww_kind_rule *k = ww_kind_rule(h->kind);
    return k && k->about_ref && h->ref_len == 16 ? h->ref : h->subject;
}
