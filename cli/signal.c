/*
 * signal.c - what passes between a learner and the coach: `signal raise|resolve`,
 * `signals`, `signoff` and `signoffs`.
 *
 * Signals and sign-offs are readable by the learner they concern and the coach only; the
 * library decides who may write which, and this file reports its refusal (a coach raising
 * a signal, a student signing off) in the user's language.
 */
#include <string.h>

#include "cli.h"

static int signal_raise(struct cli *c, int argc, char **argv)
{
    static const struct opt_spec spec[] = {
        {"category", 1, 0}, {"text", 1, 0}, {"concerns", 1, 0}, {NULL, 0, 0}};
    struct args a;
    uint8_t gid[WW_ID_LEN], concerns[WW_ID_LEN];
    int rc = args_parse(spec, argc, argv, 1, 1, &a);
    if (rc != CLI_OK)
        return rc;
    const char *cat_arg = args_get(&a, "category"), *text = args_get(&a, "text"),
               *concerns_arg = args_get(&a, "concerns");
    if (!cat_arg)
        return usage_error(_("option '--{1}' is missing; see 'wegwijs help'"), "category", NULL);
    if (!text)
        return usage_error(_("option '--{1}' is missing; see 'wegwijs help'"), "text", NULL);
    int category = 0;
    if ((rc = parse_word(WORD_CATEGORY, cat_arg, "--category", &category)) != CLI_OK)
        return rc;
    if (!*text)
        return input_error(_("{1} must not be empty"), _("the text"), NULL);
    if (concerns_arg && (rc = parse_member(concerns_arg, concerns)) != CLI_OK)
        return rc;
    if ((rc = cli_group(c, a.pos[0], gid)) != CLI_OK)
        return rc;
    uint8_t hash[WW_EVENT_HASH_LEN];
    rc = ww_signal_raise(c->store, gid, category, text, concerns_arg ? concerns : NULL, hash);
    if (rc != 0)
        return lib_error(rc, _("cannot raise the signal"), NULL);
    if (c->json)
        return json_result("signal raise", json_pack("{s:o, s:o}", "group", j_hex(gid, WW_ID_LEN),
                                                     "id", j_hex(hash, WW_EVENT_HASH_LEN)));
    struct hexbuf h;
    printf("%s\n", hex_of(hash, WW_EVENT_HASH_LEN, &h));
    return CLI_OK;
}

static int signal_resolve(struct cli *c, int argc, char **argv)
{
    static const struct opt_spec spec[] = {{"state", 1, 0}, {"note", 1, 0}, {NULL, 0, 0}};
    struct args a;
    uint8_t gid[WW_ID_LEN], signal[WW_EVENT_HASH_LEN];
    int rc = args_parse(spec, argc, argv, 2, 2, &a);
    if (rc != CLI_OK)
        return rc;
    const char *state_arg = args_get(&a, "state");
    if (!state_arg)
        return usage_error(_("option '--{1}' is missing; see 'wegwijs help'"), "state", NULL);
    int state = 0;
    if ((rc = parse_word(WORD_SIGNAL_STATE, state_arg, "--state", &state)) != CLI_OK)
        return rc;
    if ((rc = parse_event(a.pos[1], signal)) != CLI_OK)
        return rc;
    if ((rc = cli_group(c, a.pos[0], gid)) != CLI_OK)
        return rc;
    if ((rc = ww_signal_resolve(c->store, gid, signal, state, args_get(&a, "note"), NULL)) != 0)
        return lib_error(rc, _("cannot resolve the signal"), NULL);
    say1(_("signal set to '{1}'"), signal_state_name(state));
    return CLI_OK;
}

int verb_signal(struct cli *c, int argc, char **argv)
{
    if (argc < 2)
        return usage_error(_("'{1}' needs a subcommand: {2}; see 'wegwijs help'"), "signal",
                           "raise, resolve");
    if (!strcmp(argv[1], "raise"))
        return signal_raise(c, argc - 1, argv + 1);
    if (!strcmp(argv[1], "resolve"))
        return signal_resolve(c, argc - 1, argv + 1);
    char q[48];
    return usage_error(_("unknown command '{1} {2}'; see 'wegwijs help'"), "signal",
                       quoted(argv[1], q));
}

struct signal_list {
    const struct roster *roster;
    size_t n;
    json_t *json;
};

json_t *json_signal(const struct roster *roster, const struct ww_signal *sg)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                     j_hex(sg->hash, WW_EVENT_HASH_LEN), "member", j_hex(sg->member, WW_ID_LEN),
                     "alias", j_alias(roster_alias(roster, sg->member), sg->member), "category",
                     j_enum(WORD_CATEGORY, sg->category), "state",
                     j_enum(WORD_SIGNAL_STATE, sg->state), "text", j_text(sg->text), "concerns",
                     sg->has_concerns ? j_hex(sg->concerns, WW_ID_LEN) : json_null(), "note",
                     j_text(sg->note));
}

void print_signal_text(const struct roster *roster, const struct ww_signal *sg)
{
    struct hexbuf m;
    print_text("  ", sg->text, 2);
    if (sg->has_concerns)
        printf("  %s: %s %s\n", _("concerns"), hex_of(sg->concerns, WW_ID_LEN, &m),
               roster_alias(roster, sg->concerns));
    if (sg->note && *sg->note) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "  %s: ", _("note"));
        print_text(prefix, sg->note, 4);
    }
}

static void print_signal(void *ud, const struct ww_signal *sg)
{
    struct signal_list *l = ud;
    struct hexbuf h, m;
    if (l->json) {
        json_array_append_new(l->json, json_signal(l->roster, sg));
        l->n++;
        return;
    }
    printf("%s  %s  %s  %s  %s\n", hex_of(sg->hash, WW_EVENT_HASH_LEN, &h),
           category_name(sg->category), signal_state_name(sg->state),
           hex_of(sg->member, WW_ID_LEN, &m), roster_alias(l->roster, sg->member));
    print_signal_text(l->roster, sg);
    l->n++;
}

int verb_signals(struct cli *c, int argc, char **argv)
{
    struct args a;
    uint8_t gid[WW_ID_LEN];
    int rc = args_parse(NULL, argc, argv, 1, 1, &a);
    if (rc == CLI_OK)
        rc = cli_group(c, a.pos[0], gid);
    struct roster roster;
    struct signal_list l = {&roster, 0, NULL};
    json_t *doc = NULL;
    if (rc == CLI_OK)
        rc = json_list(c, "signals", gid, "signals", &doc, &l.json);
    if (rc == CLI_OK && (rc = roster_load(c, gid, &roster)) != CLI_OK)
        json_decref(doc);
    if (rc != CLI_OK)
        return rc;
    rc = ww_signals_list(c->store, gid, print_signal, &l);
    roster_free(&roster);
    if (rc != 0) {
        json_decref(doc);
        return lib_error(rc, _("cannot list the signals"), NULL);
    }
    if (doc)
        return json_print(doc);
    if (l.n == 0)
        say(_("(no signals)"));
    return CLI_OK;
}

int verb_signoff(struct cli *c, int argc, char **argv)
{
    static const struct opt_spec spec[] = {
        {"level", 1, 0}, {"date", 1, 0}, {"note", 1, 0}, {NULL, 0, 0}};
    struct args a;
    uint8_t gid[WW_ID_LEN], member[WW_ID_LEN];
    int rc = args_parse(spec, argc, argv, 3, 3, &a);
    if (rc != CLI_OK)
        return rc;
    const char *level_arg = args_get(&a, "level"), *date_arg = args_get(&a, "date");
    if (!level_arg)
        return usage_error(_("option '--{1}' is missing; see 'wegwijs help'"), "level", NULL);
    int level = 0;
    if ((rc = parse_word(WORD_LEVEL, level_arg, "--level", &level)) != CLI_OK)
        return rc;
    uint32_t date = 0;
    if (date_arg && (rc = parse_date(date_arg, &date)) != CLI_OK)
        return rc;
    if ((rc = parse_member(a.pos[1], member)) != CLI_OK)
        return rc;
    if (!*a.pos[2])
        return input_error(_("{1} must not be empty"), _("the code"), NULL);
    if ((rc = cli_group(c, a.pos[0], gid)) != CLI_OK)
        return rc;
    if (!date_arg && (rc = cli_date_or_today(c, gid, NULL, &date)) != CLI_OK)
        return rc;
    rc = ww_signoff_put(c->store, gid, member, a.pos[2], date, level, args_get(&a, "note"), NULL);
    if (rc != 0)
        return lib_error(rc, _("cannot sign off"), NULL);
    char q[48], d[11];
    ww_date_format(date, d);
    say3(_("{1} signed off for {2}: {3}"), quoted(a.pos[2], q), d, level_name(level));
    return CLI_OK;
}

struct signoff_list {
    const struct roster *roster;
    size_t n;
    json_t *json;
};

static void print_signoff(void *ud, const struct ww_signoff *so)
{
    struct signoff_list *l = ud;
    struct hexbuf h, m;
    if (l->json) {
        json_array_append_new(
            l->json, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                               j_hex(so->hash, WW_EVENT_HASH_LEN), "date", j_date(so->date),
                               "member", j_hex(so->member, WW_ID_LEN), "alias",
                               j_alias(roster_alias(l->roster, so->member), so->member), "code",
                               j_text(so->code), "level", j_enum(WORD_LEVEL, so->level), "note",
                               j_text(so->note)));
        l->n++;
        return;
    }
    char date[11];
    ww_date_format(so->date, date);
    printf("%s  %s  %s  %s  %s  %s\n", date, hex_of(so->member, WW_ID_LEN, &m),
           roster_alias(l->roster, so->member), so->code ? so->code : "?", level_name(so->level),
           hex_of(so->hash, WW_EVENT_HASH_LEN, &h));
    if (so->note && *so->note) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "  %s: ", _("note"));
        print_text(prefix, so->note, 4);
    }
    l->n++;
}

int verb_signoffs(struct cli *c, int argc, char **argv)
{
    struct args a;
    uint8_t gid[WW_ID_LEN];
    int rc = args_parse(NULL, argc, argv, 1, 1, &a);
    if (rc == CLI_OK)
        rc = cli_group(c, a.pos[0], gid);
    struct roster roster;
    struct signoff_list l = {&roster, 0, NULL};
    json_t *doc = NULL;
    if (rc == CLI_OK)
        rc = json_list(c, "signoffs", gid, "signoffs", &doc, &l.json);
    if (rc == CLI_OK && (rc = roster_load(c, gid, &roster)) != CLI_OK)
        json_decref(doc);
    if (rc != CLI_OK)
        return rc;
    rc = ww_signoffs_list(c->store, gid, print_signoff, &l);
    roster_free(&roster);
    if (rc != 0) {
        json_decref(doc);
        return lib_error(rc, _("cannot list the sign-offs"), NULL);
    }
    if (doc)
        return json_print(doc);
    if (l.n == 0)
        say(_("(no sign-offs)"));
    return CLI_OK;
}
