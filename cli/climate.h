/*
 * climate.h - the praktijkopleider's climate report: a struct ww_agg_report (the split
 * aggregation of wegwijs_agg.h) rendered as text, JSON, CSV or a self-contained HTML page
 * (climate_report.c), and the `climate` verb (climate.c).
 *
 * The renderer shows what the report holds and nothing more: the disclosure rules were
 * applied where the report was computed. A suppressed cell (shown == 0, or invalid) and a
 * suppressed category are printed as such, never as a zero; means have one decimal,
 * percentages are banded where the report says so, a trend appears only where trend_shown.
 */
#ifndef WW_CLIMATE_H
#define WW_CLIMATE_H

#include "cli.h"
#include "wegwijs_agg.h"

/* The name of a team or location (level is enum ww_agg_level). */
struct climate_unit {
    uint8_t level;
    uint32_t unit;
    const char *name;
};

/* What the report is about: the units' names (a unit without one is shown as "team N" or
 * "location N"), the region's name (NULL: "region"), and whether the data are generated,
 * which every output then says. */
struct climate_names {
    const struct climate_unit *units;
    size_t n;
    const char *region;
    int generated;
};

/* Each returns CLI_OK, or an exit code after printing why (climate_json: NULL when out of
 * memory). The command of the JSON document is `command` ("climate demo"). */
int climate_print_text(FILE *out, const struct ww_agg_report *r, const struct climate_names *nm);
json_t *climate_json(const char *command, const struct ww_agg_report *r,
                     const struct climate_names *nm);
int climate_print_csv(FILE *out, const struct ww_agg_report *r, const struct climate_names *nm);
int climate_write_html(const char *path, const struct ww_agg_report *r,
                       const struct climate_names *nm);

#endif
