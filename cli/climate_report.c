/*
 * climate_report.c - a region's climate report (struct ww_agg_report) as text, JSON, CSV
 * and a self-contained HTML page with one inline SVG line chart per category.
 *
 * The units are printed region first, then per location the location and its teams, each
 * with its 4-week windows oldest first; a window is named by its dates. What a cell does
 * not show is printed as suppressed ("not enough respondents to show", or "invalid" when
 * its combined totals were impossible), never as a number. Every text in the page goes
 * through html_put (overview.c); the page has no script and loads nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "climate.h"

/* The fixed words of docs/JSON.md and the CSV, and the display names (msgids). */
static const char *const cat_word[WW_AGG_CATS] = {"absorptie", "opleidend", "verbindend",
                                                  "lerend",    "veilig",    "faciliterend"};
static const char *const cat_label[WW_AGG_CATS] = {
    N_("absorptive capacity"), N_("educating capacity"), N_("connecting capacity"),
    N_("learning capacity"),   N_("safe climate"),       N_("facilitating climate")};
static const char *level_word(uint8_t level)
{
    static const char *const words[] = {"team", "location", "region"};
    return level <= WW_AGG_REGION ? words[level] : "?";
}
static const char *const reason_word[WW_AGG_REASONS] = {
    "no-chance", "no-supervisor", "did-not-dare", "not-fitting", "other-tasks", "absent"};

/* ---- Shared helpers ---------------------------------------------------------------------- */

/* A message template with {1}..{n} filled in, into out (cut at cap). */
static void fmt_msg(char *out, size_t cap, const char *text, const char *const *args, size_t n)
{
    FILE *f = fmemopen(out, cap, "w");
    out[0] = '\0';
    if (!f)
        return;
    setvbuf(f, NULL, _IONBF, 0);
    put_msgv(f, text, args, n);
    fclose(f);
    out[cap - 1] = '\0';
}

/* Tenths as a decimal: 37 "3.7", -6 "-0.6"; with sign, a leading '+' for positive values. */
static const char *tenths(int v, int sign, char buf[16])
{
    unsigned a = v < 0 ? (unsigned)-(long)v : (unsigned)v;
    snprintf(buf, 16, "%s%u.%u", v < 0 ? "-" : (sign && v > 0 ? "+" : ""), a / 10, a % 10);
    return buf;
}

/* A percentage, or its 10-point band when banded: "23%", "20-30%" (100% is no band). */
static const char *percent(int pct, int banded, char buf[16])
{
    pct = pct < 0 ? 0 : pct > 100 ? 100 : pct; /* whatever the report holds */
    if (banded && pct < 100)
        snprintf(buf, 16, "%d-%d%%", pct, pct + 10);
    else
        snprintf(buf, 16, "%d%%", pct);
    return buf;
}

static int is_suppressed(const struct ww_agg_cell *c)
{
    return !c->shown || c->invalid;
}

/* The first and last date of a window (docs/ARCHITECTURE.md: day 4 + 28 w). */
static void window_dates(uint32_t w, char from[11], char to[11])
{
    uint32_t first = 4 + WW_AGG_WINDOW_DAYS * w;
    ww_date_format(first, from);
    ww_date_format(first + WW_AGG_WINDOW_DAYS - 1, to);
}

static const char *unit_name(const struct climate_names *nm, const struct ww_agg_cell *c,
                             char buf[64])
{
    if (c->level == WW_AGG_REGION)
        return nm && nm->region ? nm->region : _("region");
    for (size_t i = 0; nm && i < nm->n; i++)
        if (nm->units[i].level == c->level && nm->units[i].unit == c->unit && nm->units[i].name)
            return nm->units[i].name;
    char num[16];
    snprintf(num, sizeof num, "%u", (unsigned)c->unit);
    const char *args[] = {num};
    fmt_msg(buf, 64, c->level == WW_AGG_TEAM ? _("team {1}") : _("location {1}"), args, 1);
    return buf;
}

/* The order of every output: the region, then per location the location and its teams;
 * windows oldest first. */
static int rank_of(const struct ww_agg_cell *c)
{
    return c->level == WW_AGG_REGION ? 0 : c->level == WW_AGG_LOCATION ? 1 : 2;
}

static int cell_cmp(const void *pa, const void *pb)
{
    const struct ww_agg_cell *a = *(const struct ww_agg_cell *const *)pa;
    const struct ww_agg_cell *b = *(const struct ww_agg_cell *const *)pb;
    int ra = rank_of(a) > 0, rb = rank_of(b) > 0;
    if (ra != rb)
        return ra - rb;
    if (a->location != b->location)
        return a->location < b->location ? -1 : 1;
    if (rank_of(a) != rank_of(b))
        return rank_of(a) - rank_of(b);
    if (a->unit != b->unit)
        return a->unit < b->unit ? -1 : 1;
    return a->window < b->window ? -1 : a->window > b->window;
}

/* The cells in printing order; NULL when out of memory (or none). */
static const struct ww_agg_cell **sorted_cells(const struct ww_agg_report *r)
{
    const struct ww_agg_cell **s = calloc(r->n + 1, sizeof *s);
    if (!s)
        return NULL;
    for (size_t i = 0; i < r->n; i++)
        s[i] = &r->cells[i];
    qsort(s, r->n, sizeof *s, cell_cmp);
    return s;
}

static int same_unit(const struct ww_agg_cell *a, const struct ww_agg_cell *b)
{
    return a->level == b->level && a->unit == b->unit && a->location == b->location;
}

static const char *suppressed_text(const struct ww_agg_cell *c)
{
    return c->invalid ? _("invalid: the combined totals were impossible")
                      : _("not enough respondents to show");
}

/* The invitation an alert becomes, into buf; NULL when the category has no alert. */
static const char *alert_text(const struct ww_agg_stat *s, int cat, int drop, char *buf, size_t cap)
{
    char v[16];
    const char *args[] = {_(cat_label[cat]), v};
    if (drop && s->alert_drop) {
        tenths(-s->trend10, 0, v);
        fmt_msg(buf, cap,
                _("invitation to a team conversation: {1} fell by {2} points against the "
                  "previous window"),
                args, 2);
        return buf;
    }
    if (!drop && s->alert_low) {
        percent(s->low_pct, s->banded, v);
        fmt_msg(buf, cap,
                _("invitation to a team conversation: {2} of the answers on the {1} items are "
                  "low (1 or 2)"),
                args, 2);
        return buf;
    }
    return NULL;
}

static const char *generated_text(void)
{
    return _("Generated demo data: no real students, groups or answers.");
}

/* ---- Text -------------------------------------------------------------------------------- */

static size_t label_width(void)
{
    size_t w = 0;
    for (int cat = 0; cat < WW_AGG_CATS; cat++)
        if (text_width(_(cat_label[cat])) > w)
            w = text_width(_(cat_label[cat]));
    return w;
}

static void text_padded(FILE *out, const char *s, size_t width)
{
    fputs(s, out);
    for (size_t w = text_width(s); w < width; w++)
        fputc(' ', out);
}

static void text_participation(FILE *out, const struct ww_agg_cell *c)
{
    char p[3][16], line[512];
    if (!c->status_shown) {
        const char *args[] = {_("not enough respondents to show")};
        fmt_msg(line, sizeof line, _("participation: {1}"), args, 1);
        fprintf(out, "    %s\n", line);
        return;
    }
    const char *args[] = {percent(c->status_pct[0], c->status_banded, p[0]),
                          percent(c->status_pct[1], c->status_banded, p[1]),
                          percent(c->status_pct[2], c->status_banded, p[2])};
    fmt_msg(line, sizeof line, _("participation: done {1}, partly {2}, not {3}"), args, 3);
    fprintf(out, "    %s\n    %s", line, _("what was in the way (of partly and not):"));
    for (unsigned b = 0; b < WW_AGG_REASONS; b++)
        fprintf(out, "%s %s %s", b ? "," : "", obstacle_name(b),
                percent(c->reason_pct[b], c->status_banded, p[0]));
    fputc('\n', out);
}

/* The coach loop as two lines of text: signals and how many the coach answered, then
 * sign-offs per student. */
static void loop_lines(const struct ww_agg_cell *c, char lines[2][512])
{
    char v[5][16];
    snprintf(v[0], 16, "%u", (unsigned)c->signals);
    snprintf(v[1], 16, "%u", (unsigned)c->responded);
    percent(c->responded_pct, c->students < 20, v[2]);
    snprintf(v[3], 16, "%u", (unsigned)c->signoffs);
    tenths(c->signoffs10, 0, v[4]);
    const char *args[] = {v[0], v[1], v[2], v[3], v[4]};
    fmt_msg(lines[0], 512,
            c->signals ? _("coach loop: {1} signals, {2} answered by the coach ({3})")
                       : _("coach loop: no signals"),
            args, 3);
    fmt_msg(lines[1], 512, _("sign-offs: {4} ({5} per student)"), args, 5);
}

static void text_loop(FILE *out, const struct ww_agg_cell *c)
{
    char lines[2][512];
    loop_lines(c, lines);
    fprintf(out, "    %s\n    %s\n", lines[0], lines[1]);
}

static void text_cell(FILE *out, const struct ww_agg_cell *c, size_t lw)
{
    char from[11], to[11], line[512];
    window_dates(c->window, from, to);
    const char *dates[] = {from, to};
    fmt_msg(line, sizeof line, _("{1} to {2}"), dates, 2);
    if (is_suppressed(c)) {
        fprintf(out, "  %s: %s\n", line, suppressed_text(c));
        return;
    }
    char st[16], gr[16], en[16];
    snprintf(st, sizeof st, "%u", (unsigned)c->students);
    snprintf(gr, sizeof gr, "%u", (unsigned)c->groups);
    snprintf(en, sizeof en, "%u", (unsigned)c->enrolled);
    const char *counts[] = {st, gr, en};
    fprintf(out, "  %s: ", line);
    put_msgv(out, _("{1} students from {2} groups ({3} enrolled)"), counts, 3);
    fputc('\n', out);
    for (int cat = 0; cat < WW_AGG_CATS; cat++) {
        const struct ww_agg_stat *s = &c->cat[cat];
        fputs("    ", out);
        text_padded(out, _(cat_label[cat]), lw + 2);
        if (!s->shown) {
            fprintf(out, "%s\n", _("not enough respondents to show"));
            continue;
        }
        char m[16], l[16], t[16];
        const char *args[] = {tenths(s->mean10, 0, m), percent(s->low_pct, s->banded, l),
                              tenths(s->trend10, 1, t)};
        put_msgv(out, _("mean {1}  low (1-2) {2}"), args, 2);
        if (s->trend_shown)
            put_msgv(out, _("  trend {3}"), args, 3);
        fputc('\n', out);
    }
    text_participation(out, c);
    text_loop(out, c);
    for (int cat = 0; cat < WW_AGG_CATS; cat++)
        for (int drop = 1; drop >= 0; drop--)
            if (c->cat[cat].shown && alert_text(&c->cat[cat], cat, drop, line, sizeof line))
                fprintf(out, "    ! %s\n", line);
}

int climate_print_text(FILE *out, const struct ww_agg_report *r, const struct climate_names *nm)
{
    const struct ww_agg_cell **s = sorted_cells(r);
    if (!s)
        return fail(CLI_FAIL, _("out of memory"), NULL, NULL);
    char k[16], name[64];
    snprintf(k, sizeof k, "%u", (unsigned)r->k);
    say_to(out, _("Climate report (at least {1} students per cell)"), k, NULL, NULL);
    if (nm && nm->generated)
        fprintf(out, "%s\n", generated_text());
    size_t lw = label_width();
    for (size_t i = 0; i < r->n; i++) {
        if (i == 0 || !same_unit(s[i], s[i - 1]))
            fprintf(out, "\n== %s ==\n", unit_name(nm, s[i], name));
        text_cell(out, s[i], lw);
    }
    if (r->n == 0)
        say_to(out, _("  (no cells)"), NULL, NULL, NULL);
    free(s);
    return CLI_OK;
}

/* ---- JSON -------------------------------------------------------------------------------- */

static json_t *j_tenths(int v)
{
    return json_real((double)v / 10.0);
}

static json_t *json_stat(const struct ww_agg_stat *s, int cat)
{
    if (!s->shown)
        return json_pack("{s:s, s:b}", "category", cat_word[cat], "shown", 0);
    return json_pack("{s:s, s:b, s:i, s:o, s:i, s:b, s:o, s:b, s:b}", "category", cat_word[cat],
                     "shown", 1, "answers", (json_int_t)s->answers, "mean", j_tenths(s->mean10),
                     "low_pct", s->low_pct, "banded", s->banded, "trend",
                     s->trend_shown ? j_tenths(s->trend10) : json_null(), "alert_drop",
                     s->alert_drop, "alert_low", s->alert_low);
}

static json_t *json_participation(const struct ww_agg_cell *c)
{
    if (!c->status_shown)
        return json_pack("{s:b}", "shown", 0);
    json_t *reasons = json_object();
    for (unsigned b = 0; reasons && b < WW_AGG_REASONS; b++)
        json_object_set_new(reasons, reason_word[b], json_integer(c->reason_pct[b]));
    return json_pack("{s:b, s:b, s:i, s:i, s:i, s:o}", "shown", 1, "banded", c->status_banded,
                     "done_pct", c->status_pct[0], "partly_pct", c->status_pct[1], "not_pct",
                     c->status_pct[2], "reasons_pct", reasons ? reasons : json_null());
}

static json_t *json_loop(const struct ww_agg_cell *c)
{
    return json_pack("{s:i, s:i, s:o, s:b, s:i, s:o}", "signals", (json_int_t)c->signals,
                     "answered", (json_int_t)c->responded, "answered_pct",
                     c->signals ? json_integer(c->responded_pct) : json_null(), "banded",
                     c->students < 20, "signoffs", (json_int_t)c->signoffs, "signoffs_per_student",
                     j_tenths(c->signoffs10));
}

static json_t *json_window(const struct ww_agg_cell *c)
{
    char from[11], to[11];
    window_dates(c->window, from, to);
    if (is_suppressed(c))
        return json_pack("{s:i, s:s, s:s, s:b, s:b}", "window", (json_int_t)c->window, "from", from,
                         "to", to, "shown", 0, "invalid", c->invalid);
    json_t *cats = json_array();
    for (int cat = 0; cats && cat < WW_AGG_CATS; cat++)
        json_array_append_new(cats, json_stat(&c->cat[cat], cat));
    return json_pack("{s:i, s:s, s:s, s:b, s:b, s:i, s:i, s:i, s:i, s:o, s:o, s:o}", "window",
                     (json_int_t)c->window, "from", from, "to", to, "shown", 1, "invalid", 0,
                     "students", (json_int_t)c->students, "groups", (json_int_t)c->groups,
                     "enrolled", (json_int_t)c->enrolled, "days", (json_int_t)c->n_days,
                     "categories", cats ? cats : json_null(), "participation",
                     json_participation(c), "coach_loop", json_loop(c));
}

json_t *climate_json(const char *command, const struct ww_agg_report *r,
                     const struct climate_names *nm)
{
    const struct ww_agg_cell **s = sorted_cells(r);
    json_t *doc = json_doc(command), *units = json_array(), *unit = NULL, *windows = NULL;
    if (!s || !doc || !units)
        goto fail;
    for (size_t i = 0; i < r->n; i++) {
        const struct ww_agg_cell *c = s[i];
        if (i == 0 || !same_unit(c, s[i - 1])) {
            char name[64];
            windows = json_array();
            unit = json_pack("{s:s, s:i, s:i, s:s, s:o}", "level", level_word(c->level), "unit",
                             (json_int_t)c->unit, "location", (json_int_t)c->location, "name",
                             unit_name(nm, c, name), "windows", windows ? windows : json_null());
            if (!unit || json_array_append_new(units, unit) != 0)
                goto fail;
        }
        if (!windows || json_array_append_new(windows, json_window(c)) != 0)
            goto fail;
    }
    free(s);
    if (json_object_set_new(doc, "generated", json_boolean(nm && nm->generated)) ||
        json_object_set_new(doc, "k", json_integer(r->k)) ||
        json_object_set_new(doc, "units", units))
        goto fail_doc;
    return doc;
fail:
    free(s);
    json_decref(units);
fail_doc:
    json_decref(doc);
    return NULL;
}

/* ---- CSV --------------------------------------------------------------------------------- */

/* One quoted field; a name that a spreadsheet would take for a formula gets a leading '. */
static void csv_text(FILE *f, const char *s)
{
    fputc('"', f);
    if (s && (*s == '=' || *s == '+' || *s == '-' || *s == '@'))
        fputc('\'', f);
    for (; s && *s; s++) {
        if (*s == '"')
            fputc('"', f);
        if ((unsigned char)*s >= 0x20)
            fputc(*s, f);
    }
    fputc('"', f);
}

int climate_print_csv(FILE *out, const struct ww_agg_report *r, const struct climate_names *nm)
{
    const struct ww_agg_cell **s = sorted_cells(r);
    if (!s)
        return fail(CLI_FAIL, _("out of memory"), NULL, NULL);
    fputs("generated,level,unit,location,name,window,from,to,category,suppressed,invalid,"
          "students,answers,mean,low_pct,banded,trend,alert_drop,alert_low,signals,answered,"
          "answered_pct,signoffs,signoffs_per_student\n",
          out);
    for (size_t i = 0; i < r->n; i++) {
        const struct ww_agg_cell *c = s[i];
        char from[11], to[11], name[64], m[16], t[16];
        window_dates(c->window, from, to);
        for (int cat = 0; cat < WW_AGG_CATS; cat++) {
            const struct ww_agg_stat *st = &c->cat[cat];
            int hidden = is_suppressed(c) || !st->shown;
            fprintf(out, "%d,%s,%u,%u,", nm && nm->generated, level_word(c->level),
                    (unsigned)c->unit, (unsigned)c->location);
            csv_text(out, unit_name(nm, c, name));
            fprintf(out, ",%u,%s,%s,%s,%d,%d,", (unsigned)c->window, from, to, cat_word[cat],
                    hidden, c->invalid);
            if (hidden)
                fputs(",,,,,,,", out);
            else
                fprintf(out, "%u,%u,%s,%d,%d,%s,%d,%d", (unsigned)c->students,
                        (unsigned)st->answers, tenths(st->mean10, 0, m), st->low_pct, st->banded,
                        st->trend_shown ? tenths(st->trend10, 0, t) : "", st->alert_drop,
                        st->alert_low);
            if (is_suppressed(c)) {
                fputs(",,,,,\n", out);
                continue;
            }
            char pct[16] = "";
            if (c->signals)
                snprintf(pct, sizeof pct, "%d", c->responded_pct);
            fprintf(out, ",%u,%u,%s,%u,%s\n", (unsigned)c->signals, (unsigned)c->responded, pct,
                    (unsigned)c->signoffs, tenths(c->signoffs10, 0, t));
        }
    }
    free(s);
    return CLI_OK;
}

/* ---- HTML -------------------------------------------------------------------------------- */

static const char html_style[] =
    "body{font-family:sans-serif;margin:1.5em;color:#222;max-width:72em}"
    ".generated{background:#fff3c4;border:1px solid #d9b800;padding:.5em 1em;font-weight:bold}"
    "table{border-collapse:collapse;margin-bottom:1.5em}th,td{border:1px solid #bbb;"
    "padding:.25em .5em;text-align:right}th.l,td.l{text-align:left}"
    ".sup{color:#777;font-style:italic;text-align:left}.alert{color:#a40}"
    ".sw{display:inline-block;width:1.6em;height:.35em;margin-right:.3em;vertical-align:middle}"
    "ul.legend{list-style:none;padding:0;columns:3}svg{font-size:11px}";

static const char *const palette[] = {"#1b5e20", "#0d47a1", "#b71c1c", "#e65100", "#4a148c",
                                      "#006064", "#827717", "#3e2723", "#ad1457", "#37474f"};

/* The chart's geometry: the plot area inside the SVG. */
#define SVG_W  720
#define SVG_H  260
#define PLOT_L 40
#define PLOT_R 700
#define PLOT_T 12
#define PLOT_B 200

struct chart {
    const struct ww_agg_cell **cells; /* sorted */
    size_t n;
    uint32_t *windows; /* the distinct windows, ascending */
    size_t n_windows;
    size_t *unit_start; /* index of each unit's first cell */
    size_t n_units;
};

static double chart_x(const struct chart *ch, uint32_t window)
{
    size_t i = 0;
    while (i + 1 < ch->n_windows && ch->windows[i] != window)
        i++;
    if (ch->n_windows < 2)
        return (PLOT_L + PLOT_R) / 2.0;
    return PLOT_L + (double)i * (PLOT_R - PLOT_L) / (double)(ch->n_windows - 1);
}

static double chart_y(int mean10)
{
    return PLOT_B - (double)(mean10 - 10) * (PLOT_B - PLOT_T) / 40.0;
}

static int chart_build(const struct ww_agg_report *r, struct chart *ch)
{
    memset(ch, 0, sizeof *ch);
    ch->n = r->n;
    ch->cells = sorted_cells(r);
    ch->windows = calloc(r->n + 1, sizeof *ch->windows);
    ch->unit_start = calloc(r->n + 1, sizeof *ch->unit_start);
    if (!ch->cells || !ch->windows || !ch->unit_start)
        return -1;
    for (size_t i = 0; i < r->n; i++) {
        if (i == 0 || !same_unit(ch->cells[i], ch->cells[i - 1]))
            ch->unit_start[ch->n_units++] = i;
        size_t j = 0;
        while (j < ch->n_windows && ch->windows[j] < ch->cells[i]->window)
            j++;
        if (j < ch->n_windows && ch->windows[j] == ch->cells[i]->window)
            continue;
        memmove(ch->windows + j + 1, ch->windows + j, (ch->n_windows - j) * sizeof *ch->windows);
        ch->windows[j] = ch->cells[i]->window;
        ch->n_windows++;
    }
    ch->unit_start[ch->n_units] = r->n;
    return 0;
}

static void chart_free(struct chart *ch)
{
    free(ch->cells);
    free(ch->windows);
    free(ch->unit_start);
}

/* One unit's line in a category: segments between shown windows, a gap and an x below the
 * axis where the window is suppressed. */
static void svg_unit(FILE *f, const struct chart *ch, size_t u, int cat, const char *name)
{
    const char *colour = palette[u % (sizeof palette / sizeof palette[0])];
    const struct ww_agg_cell *first = ch->cells[ch->unit_start[u]];
    const char *dash = first->level == WW_AGG_TEAM ? " stroke-dasharray=\"5 3\"" : "";
    double width = first->level == WW_AGG_REGION ? 3 : first->level == WW_AGG_LOCATION ? 2 : 1.5;
    fprintf(f, "<g><title>");
    html_put(f, name);
    fprintf(f, "</title><path fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\"%s d=\"", colour,
            width, dash);
    int pen = 0; /* 1: the previous window was drawn and adjacent */
    uint32_t prev = 0;
    for (size_t i = ch->unit_start[u]; i < ch->unit_start[u + 1]; i++) {
        const struct ww_agg_cell *c = ch->cells[i];
        if (is_suppressed(c) || !c->cat[cat].shown) {
            pen = 0;
            continue;
        }
        int adjacent = pen && c->window == prev + 1;
        fprintf(f, "%c%.1f %.1f ", adjacent ? 'L' : 'M', chart_x(ch, c->window),
                chart_y(c->cat[cat].mean10));
        pen = 1;
        prev = c->window;
    }
    fputs("\"/>", f);
    for (size_t i = ch->unit_start[u]; i < ch->unit_start[u + 1]; i++) {
        const struct ww_agg_cell *c = ch->cells[i];
        double x = chart_x(ch, c->window);
        if (is_suppressed(c) || !c->cat[cat].shown) {
            double y = PLOT_B + 14;
            fprintf(f,
                    "<path class=\"suppressed\" stroke=\"%s\" stroke-width=\"1.5\" d=\"M%.1f "
                    "%.1f l6 6 m0 -6 l-6 6\"><title>",
                    colour, x - 3, y - 3);
            html_put(f, name);
            fputs(": ", f);
            html_put(f, suppressed_text(c));
            fputs("</title></path>", f);
            continue;
        }
        char m[16];
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>", x,
                chart_y(c->cat[cat].mean10), colour);
        html_put(f, name);
        fprintf(f, ": %s</title></circle>", tenths(c->cat[cat].mean10, 0, m));
    }
    fputs("</g>\n", f);
}

static void svg_chart(FILE *f, const struct chart *ch, int cat, const struct climate_names *nm)
{
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
            SVG_W, SVG_H, SVG_W, SVG_H);
    html_put(f, _(cat_label[cat]));
    fputs("\">\n", f);
    for (int v = 1; v <= 5; v++)
        fprintf(f,
                "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%d</text>\n",
                PLOT_L, PLOT_R, chart_y(v * 10), chart_y(v * 10), PLOT_L - 6, chart_y(v * 10) + 4,
                v);
    for (size_t i = 0; i < ch->n_windows; i++) {
        char from[11], to[11];
        window_dates(ch->windows[i], from, to);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                chart_x(ch, ch->windows[i]), PLOT_B + 40, from);
    }
    for (size_t u = 0; u < ch->n_units; u++) {
        char name[64];
        svg_unit(f, ch, u, cat, unit_name(nm, ch->cells[ch->unit_start[u]], name));
    }
    fputs("</svg>\n", f);
}

static void html_legend(FILE *f, const struct chart *ch, const struct climate_names *nm)
{
    fputs("<ul class=\"legend\">\n", f);
    for (size_t u = 0; u < ch->n_units; u++) {
        char name[64];
        fprintf(f, "<li><span class=\"sw\" style=\"background:%s\"></span>",
                palette[u % (sizeof palette / sizeof palette[0])]);
        html_put(f, unit_name(nm, ch->cells[ch->unit_start[u]], name));
        fputs("</li>\n", f);
    }
    fputs("</ul>\n<p>", f);
    html_put(f, _("A line breaks where a window is suppressed; the x below the axis marks it:"));
    fputs(" <svg width=\"12\" height=\"12\" viewBox=\"0 0 12 12\"><path stroke=\"#222\" "
          "d=\"M3 3 l6 6 m0 -6 l-6 6\"/></svg> ",
          f);
    html_put(f, _("not enough respondents to show"));
    fputs(". ", f);
    html_put(f, _("Dashed lines are teams, thick lines the region."));
    fputs("</p>\n", f);
}

static void html_alerts(FILE *f, const struct chart *ch, const struct climate_names *nm)
{
    char line[512], name[64], from[11], to[11];
    size_t n = 0;
    fputs("<h2>", f);
    html_put(f, _("Invitations to a team conversation"));
    fputs("</h2>\n<ul>\n", f);
    for (size_t i = 0; i < ch->n; i++) {
        const struct ww_agg_cell *c = ch->cells[i];
        for (int cat = 0; !is_suppressed(c) && cat < WW_AGG_CATS; cat++)
            for (int drop = 1; drop >= 0; drop--) {
                if (!c->cat[cat].shown || !alert_text(&c->cat[cat], cat, drop, line, sizeof line))
                    continue;
                window_dates(c->window, from, to);
                fputs("<li class=\"alert\">", f);
                html_put(f, unit_name(nm, c, name));
                fprintf(f, ", %s &#8211; %s: ", from, to);
                html_put(f, line);
                fputs("</li>\n", f);
                n++;
            }
    }
    if (n == 0) {
        fputs("<li>", f);
        html_put(f, _("  (none)"));
        fputs("</li>\n", f);
    }
    fputs("</ul>\n", f);
}

static void html_status(FILE *f, const struct ww_agg_cell *c)
{
    char l[16];
    if (!c->status_shown) {
        fputs("<td class=\"sup\">", f);
        html_put(f, _("not enough respondents to show"));
        fputs("</td>", f);
        return;
    }
    fprintf(f, "<td class=\"l\">%s / ", percent(c->status_pct[0], c->status_banded, l));
    fprintf(f, "%s / ", percent(c->status_pct[1], c->status_banded, l));
    fprintf(f, "%s<br/><small>", percent(c->status_pct[2], c->status_banded, l));
    for (unsigned b = 0; b < WW_AGG_REASONS; b++) {
        html_put(f, obstacle_name(b));
        fprintf(f, " %s%s", percent(c->reason_pct[b], c->status_banded, l),
                b + 1 < WW_AGG_REASONS ? "; " : "");
    }
    fputs("</small></td>", f);
}

static void html_loop(FILE *f, const struct ww_agg_cell *c)
{
    char lines[2][512];
    loop_lines(c, lines);
    fputs("<td class=\"l\">", f);
    html_put(f, lines[0]);
    fputs("<br/><small>", f);
    html_put(f, lines[1]);
    fputs("</small></td>", f);
}

static void html_unit_table(FILE *f, const struct chart *ch, size_t u,
                            const struct climate_names *nm)
{
    char name[64], from[11], to[11], m[16], l[16], t[16];
    fputs("<h3>", f);
    html_put(f, unit_name(nm, ch->cells[ch->unit_start[u]], name));
    fputs("</h3>\n<table>\n<tr><th class=\"l\">", f);
    html_put(f, _("window"));
    fputs("</th><th>", f);
    html_put(f, _("students"));
    fputs("</th>", f);
    for (int cat = 0; cat < WW_AGG_CATS; cat++) {
        fputs("<th>", f);
        html_put(f, _(cat_label[cat]));
        fputs("</th>", f);
    }
    fputs("<th class=\"l\">", f);
    html_put(f, _("done / partly / not"));
    fputs("</th><th class=\"l\">", f);
    html_put(f, _("coach loop and sign-offs"));
    fputs("</th></tr>\n", f);
    for (size_t i = ch->unit_start[u]; i < ch->unit_start[u + 1]; i++) {
        const struct ww_agg_cell *c = ch->cells[i];
        window_dates(c->window, from, to);
        fprintf(f, "<tr><td class=\"l\">%s &#8211; %s</td>", from, to);
        if (is_suppressed(c)) {
            fprintf(f, "<td class=\"sup\" colspan=\"%d\">", WW_AGG_CATS + 3);
            html_put(f, suppressed_text(c));
            fputs("</td></tr>\n", f);
            continue;
        }
        fprintf(f, "<td>%u</td>", (unsigned)c->students);
        for (int cat = 0; cat < WW_AGG_CATS; cat++) {
            const struct ww_agg_stat *s = &c->cat[cat];
            if (!s->shown) {
                fputs("<td class=\"sup\">", f);
                html_put(f, _("not enough respondents to show"));
                fputs("</td>", f);
                continue;
            }
            fprintf(f, "<td%s>%s<br/><small>",
                    s->alert_drop || s->alert_low ? " class=\"alert\"" : "",
                    tenths(s->mean10, 0, m));
            html_put(f, _("low"));
            fprintf(f, " %s", percent(s->low_pct, s->banded, l));
            if (s->trend_shown) {
                fputs("<br/>", f);
                html_put(f, _("trend"));
                fprintf(f, " %s", tenths(s->trend10, 1, t));
            }
            fputs("</small></td>", f);
        }
        html_status(f, c);
        html_loop(f, c);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

int climate_write_html(const char *path, const struct ww_agg_report *r,
                       const struct climate_names *nm)
{
    char q[48], k[16];
    struct chart ch;
    if (chart_build(r, &ch) != 0) {
        chart_free(&ch);
        return fail(CLI_FAIL, _("out of memory"), NULL, NULL);
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        chart_free(&ch);
        return fail(CLI_FAIL, _("cannot write '{1}': {2}"), quoted(path, q), strerror(errno));
    }
    snprintf(k, sizeof k, "%u", (unsigned)r->k);
    const char *args[] = {k};
    char title[128];
    fmt_msg(title, sizeof title, _("Climate report (at least {1} students per cell)"), args, 1);
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\"/><title>",
            msg_lang() == WW_LANG_EN ? "en" : "nl");
    html_put(f, title);
    fprintf(f, "</title><style>%s</style></head><body>\n<h1>", html_style);
    html_put(f, title);
    fputs("</h1>\n", f);
    if (nm && nm->generated) {
        fputs("<p class=\"generated\">", f);
        html_put(f, generated_text());
        fputs("</p>\n", f);
    }
    html_alerts(f, &ch, nm);
    for (int cat = 0; cat < WW_AGG_CATS; cat++) {
        fputs("<h2>", f);
        html_put(f, _(cat_label[cat]));
        fputs("</h2>\n", f);
        svg_chart(f, &ch, cat, nm);
    }
    html_legend(f, &ch, nm);
    fputs("<h2>", f);
    html_put(f, _("Per unit and window"));
    fputs("</h2>\n", f);
    for (size_t u = 0; u < ch.n_units; u++)
        html_unit_table(f, &ch, u, nm);
    if (nm && nm->generated) {
        fputs("<p class=\"generated\">", f);
        html_put(f, generated_text());
        fputs("</p>\n", f);
    }
    fputs("</body></html>\n", f);
    chart_free(&ch);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return fail(CLI_FAIL, _("cannot write '{1}': {2}"), quoted(path, q),
                    strerror(bad ? EIO : errno));
    return CLI_OK;
}
