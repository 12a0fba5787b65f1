/*
 * overview.c - the coach's view of a group: `overview GROUP [--from DATE] [--to DATE]
 * [--html FILE]`.
 *
 * One row per learner, one column per date, each cell one mark (gedaan, deels, niet, privé,
 * geen dienst, niet gereflecteerd, vrije dag or still to come) with a reaction and a
 * sign-off shown next to it; per learner the counts and an alert; then the open signals,
 * oldest first, and the challenges waiting for a sign-off. The library decides what the
 * coach may read (ww_overview); climate answers are never part of it. The rows are copied
 * first, then printed as text, JSON or a self-contained HTML page, in which every text is
 * escaped (html_put).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* What one cell shows; the order of the legend. */
enum mark { MARK_DONE, MARK_PARTLY, MARK_NOT, MARK_PRIVATE, MARK_DAYOFF, MARK_MISSED, MARK_FREE };

static const struct {
    char symbol;
    const char *json;   /* the fixed English word of docs/JSON.md */
    const char *legend; /* msgid */
} marks[] = {
    [MARK_DONE] = {'+', "done", N_("done")},
    [MARK_PARTLY] = {'~', "partly", N_("partly")},
    [MARK_NOT] = {'-', "not", N_("not")},
    [MARK_PRIVATE] = {'p', "private", N_("private")},
    [MARK_DAYOFF] = {'o', "day-off", N_("no shift")},
    [MARK_MISSED] = {'!', "missed", N_("not reflected")},
    [MARK_FREE] = {'.', "free", N_("day off or still to come")},
};

static enum mark mark_of(const struct ww_overview_cell *cell)
{
    if (cell->reflected && !cell->draft) {
        if (!cell->readable)
            return MARK_PRIVATE;
        if (cell->status >= 1 && cell->status <= 3)
            return (enum mark)(MARK_DONE + cell->status - 1);
        return MARK_PRIVATE;
    }
    if (cell->day_off)
        return MARK_DAYOFF;
    return cell->worked ? MARK_MISSED : MARK_FREE;
}

/* A learner's row, copied out of the library's callback. */
struct row {
    uint8_t member[WW_ID_LEN];
    char *alias;
    int role;
    struct ww_overview_cell *cells;
    int worked, reflected, streak, missed_in_a_row, alert;
};

struct open_signal {
    uint8_t hash[WW_EVENT_HASH_LEN], member[WW_ID_LEN];
    int category;
    char *text;
};

struct due {
    uint8_t member[WW_ID_LEN];
    char *alias, *code, *title, *assignment;
    uint32_t date;
};

struct ov {
    uint32_t from, to;
    size_t n_days;
    char group_name[128];
    size_t n_rows, n_signals, n_due;
    struct row *rows;
    struct open_signal *signals;
    struct due *due;
    int oom;
};

static char *dup_text(const char *s, int *oom)
{
    char *d = strdup(s ? s : "");
    if (!d)
        *oom = 1;
    return d;
}

/* Grows *arr by one element of size sz (zeroed); NULL and *oom set when out of memory. */
static void *grow(void *arr_ptr, size_t *n, size_t sz, int *oom)
{
    void **arr = arr_ptr;
    void *p = realloc(*arr, (*n + 1) * sz);
    if (!p) {
        *oom = 1;
        return NULL;
    }
    *arr = p;
    char *slot = (char *)p + *n * sz;
    memset(slot, 0, sz);
    (*n)++;
    return slot;
}

static void take_row(void *ud, const struct ww_overview_row *r)
{
    struct ov *o = ud;
    if (o->oom || r->n_cells != o->n_days)
        return;
    struct row *w = grow(&o->rows, &o->n_rows, sizeof *w, &o->oom);
    if (!w)
        return;
    memcpy(w->member, r->member, WW_ID_LEN);
    char name[MEMBER_NAME_MAX];
    w->alias = dup_text(member_name(r->alias, r->member, name), &o->oom);
    w->role = r->role;
    w->cells = calloc(o->n_days, sizeof *w->cells);
    if (!w->cells) {
        o->oom = 1;
        return;
    }
    memcpy(w->cells, r->cells, o->n_days * sizeof *w->cells);
    w->worked = r->worked;
    w->reflected = r->reflected;
    w->streak = r->streak;
    w->missed_in_a_row = r->missed_in_a_row;
    w->alert = r->alert;
}

static void take_signal(void *ud, const struct ww_signal *sg)
{
    struct ov *o = ud;
    if (o->oom || sg->state != 0)
        return;
    struct open_signal *s = grow(&o->signals, &o->n_signals, sizeof *s, &o->oom);
    if (!s)
        return;
    memcpy(s->hash, sg->hash, WW_EVENT_HASH_LEN);
    memcpy(s->member, sg->member, WW_ID_LEN);
    s->category = sg->category;
    s->text = dup_text(sg->text, &o->oom);
}

static void take_due(void *ud, const struct ww_signoff_due *d)
{
    struct ov *o = ud;
    if (o->oom)
        return;
    struct due *w = grow(&o->due, &o->n_due, sizeof *w, &o->oom);
    if (!w)
        return;
    memcpy(w->member, d->member, WW_ID_LEN);
    char name[MEMBER_NAME_MAX];
    w->alias = dup_text(member_name(d->alias, d->member, name), &o->oom);
    w->code = dup_text(d->code, &o->oom);
    w->title = dup_text(d->title, &o->oom);
    w->assignment = dup_text(d->assignment_ref, &o->oom);
    w->date = d->date;
}

static void take_group(void *ud, const struct ww_group_info *g)
{
    struct ov *o = ud;
    snprintf(o->group_name, sizeof o->group_name, "%s", g->name ? g->name : "");
}

static void ov_free(struct ov *o)
{
    for (size_t i = 0; i < o->n_rows; i++) {
        free(o->rows[i].alias);
        free(o->rows[i].cells);
    }
    for (size_t i = 0; i < o->n_signals; i++)
        free(o->signals[i].text);
    for (size_t i = 0; i < o->n_due; i++) {
        free(o->due[i].alias);
        free(o->due[i].code);
        free(o->due[i].title);
        free(o->due[i].assignment);
    }
    free(o->rows);
    free(o->signals);
    free(o->due);
}

/* The open signals come newest first from the library; the overview shows the oldest first. */
static const struct open_signal *signal_at(const struct ov *o, size_t i)
{
    return &o->signals[o->n_signals - 1 - i];
}

/* The short name of a date's weekday in the current language (days since 1970-01-01, a
 * Thursday). */
const char *weekday_name(uint32_t date)
{
    static const char *const names[] = {N_("Mo"), N_("Tu"), N_("We"), N_("Th"),
                                        N_("Fr"), N_("Sa"), N_("Su")};
    return _(names[(date + 3) % 7]);
}

/* The first line of a text, at most 60 bytes, cut on a UTF-8 character boundary. */
static void first_line_of(const char *s, char out[64])
{
    size_t n = strcspn(s ? s : "", "\r\n");
    if (n > 60) {
        n = 60;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out, s ? s : "", n);
    out[n] = '\0';
}

/* ---- Text ------------------------------------------------------------------------------- */

static void print_text_overview(const struct ov *o, const struct roster *roster)
{
    char from[11], to[11], line[64];
    ww_date_format(o->from, from);
    ww_date_format(o->to, to);
    say3(_("Overview of {1}, {2} to {3}"), o->group_name, from, to);
    size_t aw = text_width(_("learner"));
    for (size_t i = 0; i < o->n_rows; i++)
        if (text_width(o->rows[i].alias) > aw)
            aw = text_width(o->rows[i].alias);
    fputs(_("learner"), stdout);
    printf("%*s", (int)(aw - text_width(_("learner"))), "");
    for (uint32_t d = o->from; d <= o->to; d++) {
        char date[11];
        ww_date_format(d, date);
        printf("  %s%s", weekday_name(d), date + 8);
    }
    putchar('\n');
    for (size_t i = 0; i < o->n_rows; i++) {
        const struct row *r = &o->rows[i];
        fputs(r->alias, stdout);
        printf("%*s", (int)(aw - text_width(r->alias)), "");
        /* Six characters a date, as the heading; no spaces at the end of the line. */
        char cells[6 * WW_OVERVIEW_MAX_DAYS + 1];
        size_t n = 0;
        for (size_t k = 0; k < o->n_days && k < WW_OVERVIEW_MAX_DAYS; k++) {
            const struct ww_overview_cell *cell = &r->cells[k];
            n += (size_t)snprintf(cells + n, sizeof cells - n, "  %c%c%c ",
                                  marks[mark_of(cell)].symbol, cell->reactions ? 'r' : ' ',
                                  cell->signoff ? '*' : ' ');
        }
        while (n > 0 && cells[n - 1] == ' ')
            n--;
        printf("%.*s\n", (int)n, cells);
    }
    fputs(_("Legend:"), stdout);
    for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++)
        printf("  %c %s", marks[m].symbol, _(marks[m].legend));
    printf("  r %s  * %s\n", _("reaction"), _("signed off"));
    for (size_t i = 0; i < o->n_rows; i++) {
        const struct row *r = &o->rows[i];
        char w[16], rf[16], s[16], m[16];
        snprintf(w, sizeof w, "%d", r->worked);
        snprintf(rf, sizeof rf, "%d", r->reflected);
        snprintf(s, sizeof s, "%d", r->streak);
        snprintf(m, sizeof m, "%d", r->missed_in_a_row);
        const char *args[] = {r->alias, w, rf, s, m};
        put_msgv(stdout, _("{1}: {2} worked days, {3} reflected, streak {4}, missed in a row {5}"),
                 args, 5);
        putchar('\n');
        if (r->alert) {
            fputs("  ", stdout);
            say(_("alert: 3 worked days in a row not reflected"));
        }
    }
    say(_("Open signals (oldest first):"));
    if (o->n_signals == 0)
        say(_("  (none)"));
    for (size_t i = 0; i < o->n_signals; i++) {
        const struct open_signal *sg = signal_at(o, i);
        first_line_of(sg->text, line);
        printf("  %s  %s  %s\n", roster_alias(roster, sg->member), category_name(sg->category),
               line);
    }
    say(_("Waiting for sign-off:"));
    if (o->n_due == 0)
        say(_("  (none)"));
    for (size_t i = 0; i < o->n_due; i++) {
        const struct due *d = &o->due[i];
        char date[11];
        ww_date_format(d->date, date);
        printf("  %s  %s  %s  %s  %s\n", date, d->alias, d->code, d->title, d->assignment);
    }
}

/* ---- JSON ------------------------------------------------------------------------------- */

/* One date of a learner as a JSON object (docs/JSON.md, `overview`). */
static json_t *json_cell(const struct ww_overview_cell *c, enum mark m)
{
    return json_pack("{s:o, s:s, s:b, s:b, s:b, s:b, s:o, s:o, s:o, s:i, s:o}", "date",
                     j_date(c->date), "mark", marks[m].json, "worked", c->worked, "day_off",
                     c->day_off, "reflected", c->reflected && !c->draft, "private",
                     c->reflected && !c->readable, "code", j_text(c->code), "status",
                     j_enum(WORD_STATUS, c->status), "obstacles", j_obstacles(c->obstacles),
                     "reactions", c->reactions, "signoff", j_enum(WORD_LEVEL, c->signoff));
}

static json_t *json_overview(const struct ov *o, const uint8_t gid[WW_ID_LEN],
                             const struct roster *roster)
{
    json_t *doc = json_doc("overview");
    json_t *learners = json_array(), *signals = json_array(), *due = json_array();
    if (!doc || !learners || !signals || !due)
        goto err_after_arrays;
    for (size_t i = 0; i < o->n_rows; i++) {
        const struct row *r = &o->rows[i];
        json_t *days = json_array();
        for (size_t k = 0; days && k < o->n_days; k++) {
            const struct ww_overview_cell *c = &r->cells[k];
            json_array_append_new(days, json_cell(c, mark_of(c)));
        }
        json_array_append_new(learners, json_pack("{s:o, s:o, s:o, s:i, s:i, s:i, s:i, s:b, s:o}",
                                                  "member", j_hex(r->member, WW_ID_LEN), "alias",
                                                  j_alias(r->alias, r->member), "role",
                                                  j_enum(WORD_ROLE, r->role), "worked", r->worked,
                                                  "reflected", r->reflected, "streak", r->streak,
                                                  "missed_in_a_row", r->missed_in_a_row, "alert",
                                                  r->alert, "days", days ? days : json_null()));
    }
    for (size_t i = 0; i < o->n_signals; i++) {
        const struct open_signal *sg = signal_at(o, i);
        json_array_append_new(
            signals,
            json_pack("{s:o, s:o, s:o, s:o, s:o}", "id", j_hex(sg->hash, WW_EVENT_HASH_LEN),
                      "member", j_hex(sg->member, WW_ID_LEN), "alias",
                      j_alias(roster_alias(roster, sg->member), sg->member), "category",
                      j_enum(WORD_CATEGORY, sg->category), "text", j_text(sg->text)));
    }
    for (size_t i = 0; i < o->n_due; i++) {
        const struct due *d = &o->due[i];
        json_array_append_new(due, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "date",
                                             j_date(d->date), "member", j_hex(d->member, WW_ID_LEN),
                                             "alias", j_alias(d->alias, d->member), "code",
                                             j_text(d->code), "title", j_text(d->title),
                                             "assignment", j_text(d->assignment)));
    }
    if (json_object_set_new(doc, "group", j_hex(gid, WW_ID_LEN)) ||
        json_object_set_new(doc, "from", j_date(o->from)) ||
        json_object_set_new(doc, "to", j_date(o->to)) ||
        json_object_set_new(doc, "learners", learners) ||
        json_object_set_new(doc, "signals", signals) ||
        json_object_set_new(doc, "signoffs_due", due)) {
        json_decref(doc);
        return NULL;
    }
    return doc;
err_after_arrays:
    json_decref(doc);
    json_decref(learners);
    json_decref(signals);
    json_decref(due);
    return NULL;
}

/* ---- HTML ------------------------------------------------------------------------------- */

/* Writes s with the five characters that mean something in HTML (text or a quoted
 * attribute) replaced by their entities, and control characters other than newline and tab
 * dropped, so no stored text can add markup or script to the page. */
void html_put(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        switch (ch) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            if (ch >= 0x20 || ch == '\n' || ch == '\t')
                fputc(ch, f);
        }
    }
}

static const char html_style[] =
    "body{font-family:sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse}th,td{border:1px solid #bbb;padding:.3em .5em;"
    "text-align:center}th.l,td.l{text-align:left}"
    ".done{background:#b7e1b0}.partly{background:#f6e3a1}.not{background:#f2b8b0}"
    ".private{background:#d7d2ec}.day-off{background:#e4e4e4}.missed{background:#fff;"
    "color:#b00;font-weight:bold}.free{background:#f7f7f7;color:#999}.alert{color:#b00}";

static void html_cell(FILE *f, const struct ww_overview_cell *c)
{
    enum mark m = mark_of(c);
    fprintf(f, "<td class=\"%s\" title=\"", marks[m].json);
    html_put(f, _(marks[m].legend));
    if (c->code[0]) {
        fputs(": ", f);
        html_put(f, c->code);
    }
    fprintf(f, "\">%c%s%s</td>", marks[m].symbol, c->reactions ? " r" : "", c->signoff ? " *" : "");
}

static int write_html(const struct ov *o, const struct roster *roster, const char *path)
{
    char q[48], from[11], to[11], line[64];
    FILE *f = fopen(path, "w");
    if (!f)
        return fail(CLI_FAIL, _("cannot write '{1}': {2}"), quoted(path, q), strerror(errno));
    ww_date_format(o->from, from);
    ww_date_format(o->to, to);
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\"><title>",
            msg_lang() == WW_LANG_EN ? "en" : "nl");
    html_put(f, o->group_name);
    fprintf(f, "</title><style>%s</style></head><body>\n<h1>", html_style);
    html_put(f, o->group_name);
    fprintf(f, "</h1>\n<p>%s &ndash; %s</p>\n<table>\n<tr><th class=\"l\">", from, to);
    html_put(f, _("learner"));
    fputs("</th>", f);
    for (uint32_t d = o->from; d <= o->to; d++) {
        char date[11];
        ww_date_format(d, date);
        fputs("<th>", f);
        html_put(f, weekday_name(d));
        fprintf(f, "<br>%s</th>", date + 5);
    }
    fputs("<th>", f);
    html_put(f, _("worked"));
    fputs("</th><th>", f);
    html_put(f, _("reflected"));
    fputs("</th><th>", f);
    html_put(f, _("streak"));
    fputs("</th></tr>\n", f);
    for (size_t i = 0; i < o->n_rows; i++) {
        const struct row *r = &o->rows[i];
        fputs("<tr><td class=\"l\">", f);
        html_put(f, r->alias);
        if (r->alert) {
            fputs("<br><span class=\"alert\">", f);
            html_put(f, _("alert: 3 worked days in a row not reflected"));
            fputs("</span>", f);
        }
        fputs("</td>", f);
        for (size_t k = 0; k < o->n_days; k++)
            html_cell(f, &r->cells[k]);
        fprintf(f, "<td>%d</td><td>%d</td><td>%d</td></tr>\n", r->worked, r->reflected, r->streak);
    }
    fputs("</table>\n<p>", f);
    for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++) {
        fprintf(f, "<span class=\"%s\">%c</span> ", marks[m].json, marks[m].symbol);
        html_put(f, _(marks[m].legend));
        fputs(" &middot; ", f);
    }
    fputs("r ", f);
    html_put(f, _("reaction"));
    fputs(" &middot; * ", f);
    html_put(f, _("signed off"));
    fputs("</p>\n<h2>", f);
    html_put(f, _("Open signals (oldest first):"));
    fputs("</h2>\n<ul>\n", f);
    for (size_t i = 0; i < o->n_signals; i++) {
        const struct open_signal *sg = signal_at(o, i);
        first_line_of(sg->text, line);
        fputs("<li>", f);
        html_put(f, roster_alias(roster, sg->member));
        fputs(" &middot; ", f);
        html_put(f, category_name(sg->category));
        fputs(" &middot; ", f);
        html_put(f, line);
        fputs("</li>\n", f);
    }
    fputs("</ul>\n<h2>", f);
    html_put(f, _("Waiting for sign-off:"));
    fputs("</h2>\n<ul>\n", f);
    for (size_t i = 0; i < o->n_due; i++) {
        const struct due *d = &o->due[i];
        char date[11];
        ww_date_format(d->date, date);
        fprintf(f, "<li>%s &middot; ", date);
        html_put(f, d->alias);
        fputs(" &middot; ", f);
        html_put(f, d->code);
        fputs(" ", f);
        html_put(f, d->title);
        fputs(" &middot; ", f);
        html_put(f, d->assignment);
        fputs("</li>\n", f);
    }
    fputs("</ul>\n</body></html>\n", f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return fail(CLI_FAIL, _("cannot write '{1}': {2}"), quoted(path, q),
                    strerror(bad ? EIO : errno));
    return CLI_OK;
}

/* ---- The verb --------------------------------------------------------------------------- */

/* The range: the current week (Monday to Sunday) by default, a week from --from or up to
 * --to when only one is given; at most WW_OVERVIEW_MAX_DAYS dates. */
static int overview_range(struct cli *c, const uint8_t gid[WW_ID_LEN], const char *from_arg,
                          const char *to_arg, uint32_t *from, uint32_t *to)
{
    int rc;
    if (from_arg && (rc = parse_date(from_arg, from)) != CLI_OK)
        return rc;
    if (to_arg && (rc = parse_date(to_arg, to)) != CLI_OK)
        return rc;
    if (!from_arg && !to_arg) {
        uint32_t today;
        if ((rc = cli_date_or_today(c, gid, NULL, &today)) != CLI_OK)
            return rc;
        *from = today - (today + 3) % 7;
        *to = *from + 6;
    } else if (!to_arg) {
        *to = *from + 6;
    } else if (!from_arg) {
        *from = *to >= 6 ? *to - 6 : 0;
    }
    return check_range(*from, *to, WW_OVERVIEW_MAX_DAYS);
}

int verb_overview(struct cli *c, int argc, char **argv)
{
    static const struct opt_spec spec[] = {
        {"from", 1, 0}, {"to", 1, 0}, {"html", 1, 0}, {NULL, 0, 0}};
    struct args a;
    uint8_t gid[WW_ID_LEN];
    int rc = args_parse(spec, argc, argv, 1, 1, &a);
    if (rc != CLI_OK)
        return rc;
    const char *html = args_get(&a, "html");
    if (html && !*html)
        return input_error(_("{1} must not be empty"), _("the file name"), NULL);
    if ((rc = cli_group(c, a.pos[0], gid)) != CLI_OK)
        return rc;
    struct ov o;
    memset(&o, 0, sizeof o);
    rc = overview_range(c, gid, args_get(&a, "from"), args_get(&a, "to"), &o.from, &o.to);
    if (rc != CLI_OK)
        return rc;
    o.n_days = o.to - o.from + 1;
    struct roster roster;
    if ((rc = ww_overview(c->store, gid, o.from, o.to, take_row, &o)) != 0)
        return lib_error(rc, _("cannot show the overview"), NULL);
    if ((rc = ww_signals_list(c->store, gid, take_signal, &o)) == 0 &&
        (rc = ww_signoffs_due(c->store, gid, take_due, &o)) == 0)
        rc = ww_group_get(c->store, gid, take_group, &o);
    if (rc != 0 || o.oom) {
        ov_free(&o);
        return rc != 0 ? lib_error(rc, _("cannot show the overview"), NULL)
                       : fail(CLI_FAIL, _("out of memory"), NULL, NULL);
    }
    if ((rc = roster_load(c, gid, &roster)) != CLI_OK) {
        ov_free(&o);
        return rc;
    }
    if (html)
        rc = write_html(&o, &roster, html);
    if (rc == CLI_OK && c->json) {
        json_t *doc = json_overview(&o, gid, &roster);
        rc = doc ? json_print(doc) : fail(CLI_FAIL, _("out of memory"), NULL, NULL);
    } else if (rc == CLI_OK && !html) {
        print_text_overview(&o, &roster);
    } else if (rc == CLI_OK) {
        char q[48];
        say1(_("overview written to {1}"), quoted(html, q));
    }
    roster_free(&roster);
    ov_free(&o);
    return rc;
}

/* ---- history: one learner's own path ---------------------------------------------------- */

struct path {
    uint32_t from, to, today;
    struct ov o;           /* ww_history's one row, copied by take_row */
    const struct row *row; /* o.rows[0] */
};

/* The dates a path shows: worked days, "geen dienst" and reflected ones. */
static int path_shows(const struct ww_overview_cell *c)
{
    return c->worked || c->day_off || (c->reflected && !c->draft);
}

/* Today, not reflected yet, is still to come rather than missed. */
static enum mark path_mark(const struct path *p, const struct ww_overview_cell *c)
{
    enum mark m = mark_of(c);
    return m == MARK_MISSED && c->date == p->today ? MARK_FREE : m;
}

/* The challenge of a date as the day gives it (the schedule or the rotation). */
struct day_challenge {
    char code[WW_CODE_MAX + 1];
    char title[128];
};

static void take_day(void *ud, const struct ww_day *d)
{
    struct day_challenge *dc = ud;
    snprintf(dc->code, sizeof dc->code, "%s", d->challenge.code ? d->challenge.code : "");
    snprintf(dc->title, sizeof dc->title, "%s", d->challenge.title ? d->challenge.title : "");
}

/* The code and title a shown date names: the reflected challenge when this device reads
 * the reflection, else the day's; the title when the day or the starter library knows the
 * code. Fills one day_challenge per date. */
static int path_challenges(struct cli *c, const uint8_t gid[WW_ID_LEN], const struct path *p,
                           struct day_challenge *out)
{
    for (uint32_t d = p->from; d <= p->to; d++) {
        const struct ww_overview_cell *cell = &p->row->cells[d - p->from];
        struct day_challenge *dc = &out[d - p->from];
        if (!path_shows(cell))
            continue;
        int rc = ww_day_get(c->store, gid, d, take_day, dc);
        if (rc != 0)
            return lib_error(rc, _("cannot show the history"), NULL);
        if (!cell->code[0] || !strcmp(cell->code, dc->code))
            continue;
        snprintf(dc->code, sizeof dc->code, "%s", cell->code);
        dc->title[0] = '\0';
        for (size_t i = 0; i < ww_library_count(); i++)
            if (!strcmp(ww_library_at(i)->code, cell->code))
                snprintf(dc->title, sizeof dc->title, "%s", ww_library_at(i)->title);
    }
    return CLI_OK;
}

static void print_text_history(const struct path *p, const struct day_challenge *dc)
{
    char from[11], to[11];
    ww_date_format(p->from, from);
    ww_date_format(p->to, to);
    say3(_("Learning path of {1}, {2} to {3}"), p->row->alias, from, to);
    const char *head[] = {
        _("date"),      _("day"),        _("challenge"),          _("how it went"),
        _("reactions"), _("signed off"), _("what was in the way")};
    size_t w[6] = {10, 0, 0, 0, 0, 0};
    for (size_t k = 0; k < 6; k++)
        if (text_width(head[k]) > w[k])
            w[k] = text_width(head[k]);
    for (uint32_t d = p->from; d <= p->to; d++) {
        const struct ww_overview_cell *c = &p->row->cells[d - p->from];
        if (!path_shows(c))
            continue;
        size_t cw[] = {0,
                       text_width(weekday_name(d)),
                       text_width(dc[d - p->from].code),
                       text_width(_(marks[path_mark(p, c)].legend)),
                       0,
                       text_width(c->signoff ? level_name(c->signoff) : "-")};
        for (size_t k = 1; k < 6; k++)
            if (cw[k] > w[k])
                w[k] = cw[k];
    }
    for (size_t k = 0; k < 6; k++) {
        print_padded(head[k], w[k] + 2);
    }
    printf("%s\n", head[6]);
    size_t shown = 0;
    for (uint32_t d = p->from; d <= p->to; d++) {
        const struct ww_overview_cell *c = &p->row->cells[d - p->from];
        if (!path_shows(c))
            continue;
        char date[11], reactions[16];
        ww_date_format(d, date);
        snprintf(reactions, sizeof reactions, "%d", c->reactions);
        print_padded(date, w[0] + 2);
        print_padded(weekday_name(d), w[1] + 2);
        print_padded(dc[d - p->from].code[0] ? dc[d - p->from].code : "-", w[2] + 2);
        print_padded(_(marks[path_mark(p, c)].legend), w[3] + 2);
        print_padded(reactions, w[4] + 2);
        const char *obstacles[6];
        size_t n_obstacles = 0;
        for (unsigned bit = 0; bit < 6; bit++)
            if (c->obstacles & (1u << bit))
                obstacles[n_obstacles++] = obstacle_name(bit);
        if (n_obstacles == 0) {
            printf("%s\n", c->signoff ? level_name(c->signoff) : "-");
            shown++;
            continue;
        }
        print_padded(c->signoff ? level_name(c->signoff) : "-", w[5] + 2);
        for (size_t i = 0; i < n_obstacles; i++)
            printf("%s%s", i ? ", " : "", obstacles[i]);
        putchar('\n');
        shown++;
    }
    if (shown == 0)
        say(_("  (no worked days)"));
    char wk[16], rf[16], s[16], m[16];
    snprintf(wk, sizeof wk, "%d", p->row->worked);
    snprintf(rf, sizeof rf, "%d", p->row->reflected);
    snprintf(s, sizeof s, "%d", p->row->streak);
    snprintf(m, sizeof m, "%d", p->row->missed_in_a_row);
    const char *args[] = {p->row->alias, wk, rf, s, m};
    put_msgv(stdout, _("{1}: {2} worked days, {3} reflected, streak {4}, missed in a row {5}"),
             args, 5);
    putchar('\n');
}

static json_t *json_history(const struct path *p, const struct day_challenge *dc,
                            const uint8_t gid[WW_ID_LEN])
{
    json_t *days = json_array();
    for (uint32_t d = p->from; days && d <= p->to; d++) {
        const struct ww_overview_cell *c = &p->row->cells[d - p->from];
        if (!path_shows(c))
            continue;
        json_t *day = json_cell(c, path_mark(p, c));
        if (day) {
            json_object_set_new(day, "code", j_text(dc[d - p->from].code));
            json_object_set_new(day, "title", j_text(dc[d - p->from].title));
        }
        json_array_append_new(days, day);
    }
    json_t *doc = json_doc("history");
    if (doc &&
        json_object_update_new(
            doc, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:i, s:i, s:i, s:i, s:b, s:o}", "group",
                           j_hex(gid, WW_ID_LEN), "member", j_hex(p->row->member, WW_ID_LEN),
                           "alias", j_alias(p->row->alias, p->row->member), "role",
                           j_enum(WORD_ROLE, p->row->role), "from", j_date(p->from), "to",
                           j_date(p->to), "worked", p->row->worked, "reflected", p->row->reflected,
                           "streak", p->row->streak, "missed_in_a_row", p->row->missed_in_a_row,
                           "alert", p->row->alert, "days", days ? days : json_null())) != 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

static void take_role(void *ud, const struct ww_group_info *g)
{
    *(int *)ud = g->my_role;
}

/* The range of a path: the four weeks up to today by default, from --from up to today, or
 * the four weeks up to --to; at most WW_HISTORY_MAX_DAYS dates. */
static int history_range(const char *from_arg, const char *to_arg, struct path *p)
{
    int rc;
    p->to = p->today;
    if (to_arg && (rc = parse_date(to_arg, &p->to)) != CLI_OK)
        return rc;
    p->from = p->to >= 27 ? p->to - 27 : 0;
    if (from_arg && (rc = parse_date(from_arg, &p->from)) != CLI_OK)
        return rc;
    return check_range(p->from, p->to, WW_HISTORY_MAX_DAYS);
}

int verb_history(struct cli *c, int argc, char **argv)
{
    static const struct opt_spec spec[] = {
        {"from", 1, 0}, {"to", 1, 0}, {"member", 1, 0}, {NULL, 0, 0}};
    struct args a;
    uint8_t gid[WW_ID_LEN], member[WW_ID_LEN];
    int rc = args_parse(spec, argc, argv, 1, 1, &a);
    if (rc != CLI_OK)
        return rc;
    const char *member_arg = args_get(&a, "member");
    if (member_arg && (rc = parse_member(member_arg, member)) != CLI_OK)
        return rc;
    struct path p;
    memset(&p, 0, sizeof p);
    if ((rc = cli_group(c, a.pos[0], gid)) != CLI_OK ||
        (rc = cli_date_or_today(c, gid, NULL, &p.today)) != CLI_OK ||
        (rc = history_range(args_get(&a, "from"), args_get(&a, "to"), &p)) != CLI_OK)
        return rc;
    int role = 0;
    if ((rc = ww_group_get(c->store, gid, take_role, &role)) != 0)
        return lib_error(rc, _("cannot show the history"), NULL);
    if (role == WW_ROLE_COACH && !member_arg)
        return usage_error(_("the coach names the learner: --member MEMBER"), NULL, NULL);
    if (role != WW_ROLE_COACH && member_arg)
        return fail(CLI_DENIED,
                    _("only the coach names a learner with --member; your own "
                      "history needs no --member"),
                    NULL, NULL);
    p.o.n_days = (size_t)(p.to - p.from) + 1;
    rc = ww_history(c->store, gid, member_arg ? member : NULL, p.from, p.to, take_row, &p.o);
    if (rc == WW_ENOTFOUND) {
        char q[48];
        rc = fail(CLI_NOTFOUND, _("{1} is no student or senior of this group"),
                  quoted(member_arg, q), NULL);
    } else if (rc != 0) {
        rc = lib_error(rc, _("cannot show the history"), NULL);
    } else if (p.o.oom || p.o.n_rows != 1) {
        rc = fail(CLI_FAIL, _("out of memory"), NULL, NULL);
    } else {
        p.row = &p.o.rows[0];
    }
    struct day_challenge *dc = NULL;
    if (rc == 0 && !(dc = calloc((size_t)(p.to - p.from) + 1, sizeof *dc)))
        rc = fail(CLI_FAIL, _("out of memory"), NULL, NULL);
    if (rc == 0)
        rc = path_challenges(c, gid, &p, dc);
    if (rc == 0 && c->json) {
        json_t *doc = json_history(&p, dc, gid);
        rc = doc ? json_print(doc) : fail(CLI_FAIL, _("out of memory"), NULL, NULL);
    } else if (rc == 0) {
        print_text_history(&p, dc);
    }
    free(dc);
    ov_free(&p.o);
    return rc;
}
