/*
 * challenge.c - the day and its challenge: `today`, `day`, `dayoff`, `library` and
 * `challenge define|add|schedule|list`.
 *
 * The day is answered offline by the library: the coach's schedule or the rotation, the
 * climate questions for the date, and this device's "geen dienst" mark.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void print_day_cb(void *ud, const struct ww_day *d)
{
    (void)ud;
    char date[11];
    ww_date_format(d->date, date);
    if (d->week > 0)
        printf("%s: %s, %s %d\n", _("Date"), date, _("internship week"), d->week);
    else
        printf("%s: %s, %s\n", _("Date"), date, _("before the internship starts"));
    const struct ww_challenge *ch = &d->challenge;
    printf("%s %s: %s\n", _("Challenge"), ch->code ? ch->code : "?", ch->title ? ch->title : "");
    print_text("  ", ch->description, 2);
    printf("  %s: %s\n", _("CanMEDS role"), canmeds_name(ch->canmeds));
    printf("  %s: %s\n", _("Scheduled by the coach"), d->scheduled ? _("yes") : _("no"));
    if (ch->assignment_ref && *ch->assignment_ref)
        printf("  %s: %s\n", _("School assignment"), ch->assignment_ref);
    if (ch->signoff_role > 0)
        printf("  %s: %s\n", _("Signed off by"), signoff_role_name(ch->signoff_role));
    if (d->day_off)
        say(_("No shift: you marked this day as no shift"));
    say(_("Climate questions (1 strongly disagree .. 5 strongly agree, or na):"));
    for (size_t i = 0; i < d->n_items && i < sizeof d->items; i++) {
        const struct ww_climate_item *it = ww_climate_item_get(d->items[i]);
        if (it)
            printf("  %-3s %s\n", it->code, msg_lang() == WW_LANG_EN ? it->text_en : it->text_nl);
    }
}

int print_day(struct ww_store *s, const uint8_t gid[WW_ID_LEN], uint32_t date)
{
    return ww_day_get(s, gid, date, print_day_cb, NULL);
}

/* The day as the members of a --json document. */
static void json_day_cb(void *ud, const struct ww_day *d)
{
    json_t *doc = ud, *climate = json_array();
    for (size_t i = 0; climate && i < d->n_items && i < sizeof d->items; i++) {
        const struct ww_climate_item *it = ww_climate_item_get(d->items[i]);
        if (it)
            json_array_append_new(climate,
                                  json_pack("{s:s, s:o, s:o}", "code", it->code, "text_nl",
                                            j_text(it->text_nl), "text_en", j_text(it->text_en)));
    }
    json_object_set_new(doc, "date", j_date(d->date));
    json_object_set_new(doc, "week", d->week > 0 ? json_integer(d->week) : json_null());
    json_object_set_new(doc, "scheduled", json_boolean(d->scheduled));
    json_object_set_new(doc, "day_off", json_boolean(d->day_off));
    json_object_set_new(doc, "challenge", j_challenge(&d->challenge));
    json_object_set_new(doc, "climate", climate);
}

static int show_day(struct cli *c, const char *group_arg, const char *date_arg)
{
    uint8_t gid[WW_ID_LEN];
    uint32_t date = 0;
    int rc = CLI_OK;
    if (date_arg)
        rc = parse_date(date_arg, &date);
    if (rc == CLI_OK)
        rc = cli_group(c, group_arg, gid);
    if (rc == CLI_OK && !date_arg)
        rc = cli_date_or_today(c, gid, NULL, &date);
    if (rc != CLI_OK)
        return rc;
    json_t *doc = NULL;
    if (c->json) {
        doc = json_doc(date_arg ? "day" : "today");
        if (doc)
            json_object_set_new(doc, "group", j_hex(gid, WW_ID_LEN));
        if (!doc)
            return fail(CLI_FAIL, _("out of memory"), NULL, NULL);
        rc = ww_day_get(c->store, gid, date, json_day_cb, doc);
    } else {
        rc = print_day(c->store, gid, date);
    }
    if (rc != 0) {
        json_decref(doc);
        return lib_error(rc, _("cannot read the day"), NULL);
    }
    return doc ? json_print(doc) : CLI_OK;
}

int verb_today(struct cli *c, int argc, char **argv)
{
    struct args a;
    int rc = args_parse(NULL, argc, argv, 1, 1, &a);
    return rc == CLI_OK ? show_day(c, a.pos[0], NULL) : rc;
}

int verb_day(struct cli *c, int argc, char **argv)
{
    struct args a;
    int rc = args_parse(NULL, argc, argv, 2, 2, &a);
    return rc == CLI_OK ? show_day(c, a.pos[0], a.pos[1]) : rc;
}

int verb_dayoff(struct cli *c, int argc, char **argv)
{
    static const struct opt_spec spec[] = {{"undo", 0, 0}, {NULL, 0, 0}};
    struct args a;
    uint8_t gid[WW_ID_LEN];
    uint32_t date = 0;
    int rc = args_parse(spec, argc, argv, 1, 2, &a);
    if (rc == CLI_OK && a.n_pos == 2)
        rc = parse_date(a.pos[1], &date);
    if (rc == CLI_OK)
        rc = cli_group(c, a.pos[0], gid);
    if (rc == CLI_OK && a.n_pos == 1)
        rc = cli_date_or_today(c, gid, NULL, &date);
    if (rc != CLI_OK)
        return rc;
    int off = args_get(&a, "undo") ? 0 : 1;
    if ((rc = ww_day_off(c->store, gid, date, off, NULL)) != 0)
        return lib_error(rc, _("cannot mark the day"), NULL);
    char d[11];
    ww_date_format(date, d);
    say1(off ? _("{1} is marked as no shift") : _("{1} is no longer marked as no shift"), d);
    return CLI_OK;
}

int verb_library(struct cli *c, int argc, char **argv)
{
    struct args a;
    int rc = args_parse(NULL, argc, argv, 0, 0, &a);
    if (rc != CLI_OK)
        return rc;
    json_t *doc = NULL, *items = NULL;
    if ((rc = json_list(c, "library", NULL, "challenges", &doc, &items)) != CLI_OK)
        return rc;
    for (size_t i = 0; i < ww_library_count(); i++) {
        const struct ww_challenge *ch = ww_library_at(i);
        if (items) {
            json_array_append_new(items, j_challenge(ch));
            continue;
        }
        char weeks[16];
        snprintf(weeks, sizeof weeks, "%d-%d", ch->week_from, ch->week_to);
        printf("%-4s %s %-5s  %s  (%s)\n", ch->code, _("weeks"), weeks, ch->title,
               canmeds_name(ch->canmeds));
    }
    return doc ? json_print(doc) : CLI_OK;
}

/* "A-B" or "A", 1 <= A <= B <= 52. */
static int parse_weeks(const char *s, int *from, int *to)
{
    char q[48], first[8];
    long a = 0, b = 0;
    const char *dash = strchr(s, '-');
    int ok;
    if (dash) {
        size_t n = (size_t)(dash - s);
        ok = n > 0 && n < sizeof first;
        if (ok) {
            memcpy(first, s, n);
            first[n] = '\0';
            ok = strict_long(first, &a) == 0 && strict_long(dash + 1, &b) == 0;
        }
    } else {
        ok = strict_long(s, &a) == 0;
        b = a;
    }
    if (!ok || a < 1 || b > 52 || a > b)
        return input_error(_("invalid weeks '{1}' (expected A-B with 1 <= A <= B <= 52)"),
                           quoted(s, q), NULL);
    *from = (int)a;
    *to = (int)b;
    return CLI_OK;
}

static int challenge_define(struct cli *c, int argc, char **argv)
{
    static const struct opt_spec spec[] = {
        {"code", 1, 0},  {"title", 1, 0},      {"description", 1, 0}, {"canmeds", 1, 0},
        {"weeks", 1, 0}, {"assignment", 1, 0}, {"signoff", 1, 0},     {NULL, 0, 0}};
    static const char *const required[] = {"code", "title", "description", "canmeds", "weeks"};
    struct args a;
    uint8_t gid[WW_ID_LEN];
    int rc = args_parse(spec, argc, argv, 1, 1, &a);
    if (rc != CLI_OK)
        return rc;
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!args_get(&a, required[i]))
            return usage_error(_("option '--{1}' is missing; see 'wegwijs help'"), required[i],
                               NULL);
    struct ww_challenge ch;
    memset(&ch, 0, sizeof ch);
    ch.code = args_get(&a, "code");
    ch.title = args_get(&a, "title");
    ch.description = args_get(&a, "description");
    ch.assignment_ref = args_get(&a, "assignment");
    if (!ch.assignment_ref)
        ch.assignment_ref = "";
    const char *v;
    if ((rc = parse_word(WORD_CANMEDS, args_get(&a, "canmeds"), "--canmeds", &ch.canmeds)))
        return rc;
    if ((rc = parse_weeks(args_get(&a, "weeks"), &ch.week_from, &ch.week_to)) != CLI_OK)
        return rc;
    if ((v = args_get(&a, "signoff")) &&
        (rc = parse_word(WORD_SIGNOFF_ROLE, v, "--signoff", &ch.signoff_role)))
        return rc;
    if (!*ch.code)
        return input_error(_("{1} must not be empty"), _("the code"), NULL);
    if ((rc = cli_group(c, a.pos[0], gid)) != CLI_OK)
        return rc;
    if ((rc = ww_challenge_define(c->store, gid, &ch, NULL)) != 0)
        return lib_error(rc, _("cannot define the challenge"), NULL);
    say1(_("challenge {1} defined"), ch.code);
    return CLI_OK;
}

static int challenge_schedule(struct cli *c, int argc, char **argv)
{
    struct args a;
    uint8_t gid[WW_ID_LEN];
    uint32_t date = 0;
    int rc = args_parse(NULL, argc, argv, 3, 3, &a);
    if (rc == CLI_OK)
        rc = parse_date(a.pos[1], &date);
    if (rc == CLI_OK)
        rc = cli_group(c, a.pos[0], gid);
    if (rc != CLI_OK)
        return rc;
    if ((rc = ww_challenge_schedule(c->store, gid, date, a.pos[2], NULL)) != 0)
        return lib_error(rc, _("cannot schedule the challenge"), NULL);
    char d[11];
    ww_date_format(date, d);
    say2(_("challenge {1} scheduled on {2}"), a.pos[2], d);
    return CLI_OK;
}

#define LIST_MAX_DAYS 92

struct list_row {
    json_t *items; /* --json: the array of days; NULL for text */
};

static void list_day_cb(void *ud, const struct ww_day *d)
{
    struct list_row *l = ud;
    const struct ww_challenge *ch = &d->challenge;
    if (l->items) {
        json_array_append_new(l->items,
                              json_pack("{s:o, s:o, s:b, s:o}", "date", j_date(d->date), "week",
                                        d->week > 0 ? json_integer(d->week) : json_null(),
                                        "scheduled", d->scheduled, "challenge", j_challenge(ch)));
        return;
    }
    char date[11];
    ww_date_format(d->date, date);
    printf("%s %s  %s %-8s %s%s\n", weekday_name(d->date), date, d->scheduled ? "*" : " ",
           ch->code ? ch->code : "?", ch->title ? ch->title : "",
           ch->assignment_ref && *ch->assignment_ref ? "  [" : "");
    if (ch->assignment_ref && *ch->assignment_ref) {
        fputs(ch->assignment_ref, stdout);
        puts("]");
    }
}

/* `challenge list GROUP [--from DATE] [--to DATE]`: the challenge of each date (default:
 * today and the 13 days after it), the coach's schedule marked, the rotation otherwise. */
static int challenge_list(struct cli *c, int argc, char **argv)
{
    static const struct opt_spec spec[] = {{"from", 1, 0}, {"to", 1, 0}, {NULL, 0, 0}};
    struct args a;
    uint8_t gid[WW_ID_LEN];
    uint32_t from = 0, to = 0;
    int rc = args_parse(spec, argc, argv, 1, 1, &a);
    if (rc == CLI_OK && args_get(&a, "from"))
        rc = parse_date(args_get(&a, "from"), &from);
    if (rc == CLI_OK && args_get(&a, "to"))
        rc = parse_date(args_get(&a, "to"), &to);
    if (rc == CLI_OK)
        rc = cli_group(c, a.pos[0], gid);
    if (rc == CLI_OK && !args_get(&a, "from"))
        rc = cli_date_or_today(c, gid, NULL, &from);
    if (rc == CLI_OK && !args_get(&a, "to"))
        to = from + 13;
    if (rc == CLI_OK)
        rc = check_range(from, to, LIST_MAX_DAYS);
    struct list_row l = {NULL};
    json_t *doc = NULL;
    if (rc == CLI_OK)
        rc = json_list(c, "challenge list", gid, "days", &doc, &l.items);
    if (rc != CLI_OK)
        return rc;
    for (uint32_t d = from; d <= to; d++) {
        if ((rc = ww_day_get(c->store, gid, d, list_day_cb, &l)) != 0) {
            json_decref(doc);
            return lib_error(rc, _("cannot read the day"), NULL);
        }
    }
    if (doc)
        return json_print(doc);
    say(_("(* scheduled by the coach; otherwise the day's challenge from the rotation)"));
    return CLI_OK;
}

int verb_challenge(struct cli *c, int argc, char **argv)
{
    if (argc < 2)
        return usage_error(_("'{1}' needs a subcommand: {2}; see 'wegwijs help'"), "challenge",
                           "define, add, schedule, list");
    /* `add` is the same as `define`: the word a coach looks for first. */
    if (!strcmp(argv[1], "define") || !strcmp(argv[1], "add"))
        return challenge_define(c, argc - 1, argv + 1);
    if (!strcmp(argv[1], "list"))
        return challenge_list(c, argc - 1, argv + 1);
    if (!strcmp(argv[1], "schedule"))
        return challenge_schedule(c, argc - 1, argv + 1);
    char q[48];
    return usage_error(_("unknown command '{1} {2}'; see 'wegwijs help'"), "challenge",
                       quoted(argv[1], q));
}
