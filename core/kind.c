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

uint64_t ww_kind_erasable_mask(void)
{
    uint64_t mask = 0;
    for (size_t k = 1; k < sizeof table / sizeof table[0] && k < 64; k++)
        if (table[k] && table[k]->erasable)
            mask |= (uint64_t)1 << k;
    return mask;
}
