/*
 * args.c - the command line, treated as hostile input: option splitting, and strict parsers
 * for numbers, hex ids, dates and the words that name values.
 *
 * Every parser either writes its result and returns CLI_OK, or prints one error line that
 * quotes the offending argument (made printable and short) and returns CLI_USAGE.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

/* ---- Options -------------------------------------------------------------------------- */

static const struct opt_spec *find_spec(const struct opt_spec *spec, const char *name, size_t len,
                                        size_t *index)
{
    for (size_t i = 0; spec[i].name; i++) {
        if (strlen(spec[i].name) == len && memcmp(spec[i].name, name, len) == 0) {
            *index = i;
            return &spec[i];
        }
    }
    return NULL;
}

int args_parse(const struct opt_spec *spec, int argc, char **argv, size_t min_pos, size_t max_pos,
               struct args *out)
{
    static const struct opt_spec none[] = {{NULL, 0, 0}};
    char q[48];
    const char *verb = argc > 0 ? argv[0] : "";
    memset(out, 0, sizeof *out);
    out->spec = spec ? spec : none;
    int only_pos = 0;
    if (max_pos > ARGS_MAX_POS)
        max_pos = ARGS_MAX_POS;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && a[0] == '-' && a[1] == '-') {
            if (a[2] == '\0') {
                only_pos = 1;
                continue;
            }
            const char *name = a + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name), index = 0;
            const struct opt_spec *s = find_spec(out->spec, name, len, &index);
            if (!s)
                return usage_error(_("unknown option '{1}'; see 'wegwijs help'"), quoted(a, q),
                                   NULL);
            const char *value = "";
            if (s->has_value) {
                if (eq)
                    value = eq + 1;
                else if (i + 1 < argc)
                    value = argv[++i];
                else
                    return usage_error(_("option '--{1}' needs a value"), s->name, NULL);
            } else if (eq) {
                return usage_error(_("option '--{1}' takes no value"), s->name, NULL);
            }
            if (!s->repeatable && args_count(out, s->name) > 0)
                return usage_error(_("option '--{1}' is given twice"), s->name, NULL);
            if (out->n_opts == ARGS_MAX_OPTS)
                return usage_error(_("too many options"), NULL, NULL);
            out->opts[out->n_opts].spec = index;
            out->opts[out->n_opts].value = value;
            out->n_opts++;
            continue;
        }
        if (out->n_pos == max_pos)
            return usage_error(_("too many arguments for '{1}'; see 'wegwijs help'"), verb, NULL);
        out->pos[out->n_pos++] = a;
    }
    if (out->n_pos < min_pos)
        return usage_error(_("too few arguments for '{1}'; see 'wegwijs help'"), verb, NULL);
    return CLI_OK;
}

const char *args_get(const struct args *a, const char *name)
{
    const char *v = NULL;
    for (size_t i = 0; i < a->n_opts; i++)
        if (!strcmp(a->spec[a->opts[i].spec].name, name))
            v = a->opts[i].value;
    return v;
}

size_t args_count(const struct args *a, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < a->n_opts; i++)
        n += !strcmp(a->spec[a->opts[i].spec].name, name);
    return n;
}

const char *args_at(const struct args *a, const char *name, size_t k)
{
    for (size_t i = 0; i < a->n_opts; i++)
        if (!strcmp(a->spec[a->opts[i].spec].name, name) && k-- == 0)
            return a->opts[i].value;
    return NULL;
}

/* ---- Values ------------------------------------------------------------------------------ */

/* Keeps printable ASCII, replaces everything else by '?', and shortens long input: enough to
 * recognise what was typed, never enough to disturb a terminal. */
const char *quoted(const char *s, char buf[48])
{
    size_t n = 0;
    if (!s)
        s = "";
    for (; *s && n < 40; s++)
        buf[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    if (*s) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

static int parse_hex(const char *s, uint8_t *out, size_t len, const char *err)
{
    char q[48];
    if (ww_unhex(s, out, len) != 0)
        return input_error(err, quoted(s, q), NULL);
    return CLI_OK;
}

int parse_group(const char *s, uint8_t out[WW_ID_LEN])
{
    return parse_hex(s, out, WW_ID_LEN,
                     _("invalid group id '{1}' (expected 32 hexadecimal digits)"));
}

int parse_member(const char *s, uint8_t out[WW_ID_LEN])
{
    return parse_hex(s, out, WW_ID_LEN,
                     _("invalid member id '{1}' (expected 32 hexadecimal digits)"));
}

int parse_key(const char *s, uint8_t out[WW_KEY_LEN])
{
    return parse_hex(s, out, WW_KEY_LEN,
                     _("invalid device key '{1}' (expected 64 hexadecimal digits)"));
}

int parse_event(const char *s, uint8_t out[WW_EVENT_HASH_LEN])
{
    return parse_hex(s, out, WW_EVENT_HASH_LEN,
                     _("invalid event id '{1}' (expected 64 hexadecimal digits)"));
}

int parse_date(const char *s, uint32_t *out)
{
    char q[48];
    uint32_t d;
    if (ww_date_parse(s, &d) != 0)
        return input_error(_("invalid date '{1}' (expected an existing date YYYY-MM-DD)"),
                           quoted(s, q), NULL);
    *out = d;
    return CLI_OK;
}

int strict_long(const char *s, long *out)
{
    if (!s)
        return -1;
    const char *p = s[0] == '-' ? s + 1 : s;
    if (*p < '0' || *p > '9')
        return -1;
    errno = 0;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (errno != 0 || !end || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

int parse_int(const char *s, const char *what, long lo, long hi, long *out)
{
    char q[48], range[48];
    long v;
    if (strict_long(s, &v) != 0 || v < lo || v > hi) {
        snprintf(range, sizeof range, "%ld..%ld", lo, hi);
        return input_error3(_("invalid value '{1}' for {2} (expected a whole number {3})"),
                            quoted(s, q), what, range);
    }
    *out = v;
    return CLI_OK;
}

/* ---- Words ------------------------------------------------------------------------------- */

struct word {
    const char *w;
    int v;
};

static const struct word w_role[] = {
    {"student", WW_ROLE_STUDENT}, {"ouderejaars", WW_ROLE_SENIOR}, {"senior", WW_ROLE_SENIOR},
    {"coach", WW_ROLE_COACH},     {"studentcoach", WW_ROLE_COACH}, {NULL, 0}};
static const struct word w_track[] = {{"bol", WW_TRACK_BOL}, {"bbl", WW_TRACK_BBL}, {NULL, 0}};
static const struct word w_status[] = {{"gedaan", WW_STATUS_DONE},  {"done", WW_STATUS_DONE},
                                       {"deels", WW_STATUS_PARTLY}, {"partly", WW_STATUS_PARTLY},
                                       {"niet", WW_STATUS_NOT},     {"not", WW_STATUS_NOT},
                                       {"not-done", WW_STATUS_NOT}, {NULL, 0}};
static const struct word w_share[] = {{"ik", WW_SHARE_SELF},     {"me", WW_SHARE_SELF},
                                      {"self", WW_SHARE_SELF},   {"prive", WW_SHARE_SELF},
                                      {"privé", WW_SHARE_SELF},  {"private", WW_SHARE_SELF},
                                      {"groep", WW_SHARE_GROUP}, {"group", WW_SHARE_GROUP},
                                      {"coach", WW_SHARE_COACH}, {NULL, 0}};
/* Obstacles are parsed to their bit index. */
static const struct word w_obstacle[] = {{"geen-gelegenheid", 0},
                                         {"no-chance", 0},
                                         {"no-opportunity", 0},
                                         {"geen-tijd-begeleider", 1},
                                         {"no-supervisor", 1},
                                         {"durfde-niet", 2},
                                         {"did-not-dare", 2},
                                         {"paste-niet", 3},
                                         {"not-fitting", 3},
                                         {"andere-taken", 4},
                                         {"other-tasks", 4},
                                         {"geen-dienst", 5},
                                         {"ziek", 5},
                                         {"absent", 5},
                                         {"ill", 5},
                                         {NULL, 0}};
static const struct word w_category[] = {
    {"werkdruk", WW_SIGCAT_WORKLOAD},    {"workload", WW_SIGCAT_WORKLOAD},
    {"begeleiding", WW_SIGCAT_GUIDANCE}, {"guidance", WW_SIGCAT_GUIDANCE},
    {"sfeer", WW_SIGCAT_SAFETY},         {"veiligheid", WW_SIGCAT_SAFETY},
    {"safety", WW_SIGCAT_SAFETY},        {"leren", WW_SIGCAT_LEARNING},
    {"learning", WW_SIGCAT_LEARNING},    {"welzijn", WW_SIGCAT_WELLBEING},
    {"wellbeing", WW_SIGCAT_WELLBEING},  {"overig", WW_SIGCAT_OTHER},
    {"other", WW_SIGCAT_OTHER},          {NULL, 0}};
static const struct word w_signal_state[] = {{"besproken", WW_SIGNAL_DISCUSSED},
                                             {"discussed", WW_SIGNAL_DISCUSSED},
                                             {"opgelost", WW_SIGNAL_RESOLVED},
                                             {"resolved", WW_SIGNAL_RESOLVED},
                                             {NULL, 0}};
static const struct word w_level[] = {{"nooit", WW_LEVEL_NEVER},
                                      {"never", WW_LEVEL_NEVER},
                                      {"oefenen", WW_LEVEL_PRACTISING},
                                      {"practising", WW_LEVEL_PRACTISING},
                                      {"practicing", WW_LEVEL_PRACTISING},
                                      {"voldoende", WW_LEVEL_SUFFICIENT},
                                      {"sufficient", WW_LEVEL_SUFFICIENT},
                                      {"goed", WW_LEVEL_GOOD},
                                      {"good", WW_LEVEL_GOOD},
                                      {NULL, 0}};
static const struct word w_canmeds[] = {{"zorgverlener", WW_CANMEDS_ZV},
                                        {"care-provider", WW_CANMEDS_ZV},
                                        {"zv", WW_CANMEDS_ZV},
                                        {"communicator", WW_CANMEDS_CO},
                                        {"co", WW_CANMEDS_CO},
                                        {"samenwerkingspartner", WW_CANMEDS_SW},
                                        {"collaborator", WW_CANMEDS_SW},
                                        {"collaboration-partner", WW_CANMEDS_SW},
                                        {"sw", WW_CANMEDS_SW},
                                        {"reflectieve-professional", WW_CANMEDS_RP},
                                        {"reflectieve-ebp-professional", WW_CANMEDS_RP},
                                        {"reflective-professional", WW_CANMEDS_RP},
                                        {"rp", WW_CANMEDS_RP},
                                        {"gezondheidsbevorderaar", WW_CANMEDS_GB},
                                        {"health-promoter", WW_CANMEDS_GB},
                                        {"gb", WW_CANMEDS_GB},
                                        {"organisator", WW_CANMEDS_OR},
                                        {"organiser", WW_CANMEDS_OR},
                                        {"organizer", WW_CANMEDS_OR},
                                        {"or", WW_CANMEDS_OR},
                                        {"professional", WW_CANMEDS_PK},
                                        {"kwaliteitsbevorderaar", WW_CANMEDS_PK},
                                        {"pk", WW_CANMEDS_PK},
                                        {NULL, 0}};
static const struct word w_signoff_role[] = {{"geen", WW_SIGNOFF_NONE},
                                             {"none", WW_SIGNOFF_NONE},
                                             {"werkbegeleider", WW_SIGNOFF_WERKBEGELEIDER},
                                             {"supervisor", WW_SIGNOFF_WERKBEGELEIDER},
                                             {"praktijkopleider", WW_SIGNOFF_PRAKTIJKOPLEIDER},
                                             {"practice-educator", WW_SIGNOFF_PRAKTIJKOPLEIDER},
                                             {"studentcoach", WW_SIGNOFF_STUDENTCOACH},
                                             {"student-coach", WW_SIGNOFF_STUDENTCOACH},
                                             {"coach", WW_SIGNOFF_STUDENTCOACH},
                                             {NULL, 0}};

struct word_table {
    const struct word *words;
    const char *hint;
    long num_lo, num_hi; /* numbers accepted too when lo <= hi */
};

static const struct word_table tables[] = {
    [WORD_ROLE] = {w_role, N_("student, senior, coach"), 1, 0},
    [WORD_TRACK] = {w_track, N_("bol, bbl"), 1, 0},
    [WORD_STATUS] = {w_status, N_("done, partly, not"), 1, 0},
    [WORD_SHARE] = {w_share, N_("me, group, coach"), 1, 0},
    [WORD_OBSTACLE] =
        {w_obstacle, N_("no-chance, no-supervisor, did-not-dare, not-fitting, other-tasks, absent"),
         1, 0},
    [WORD_CATEGORY] = {w_category, N_("workload, guidance, safety, learning, wellbeing, other"), 1,
                       0},
    [WORD_SIGNAL_STATE] = {w_signal_state, N_("discussed, resolved"), 1, 0},
    [WORD_LEVEL] = {w_level, N_("never, practising, sufficient, good"), 1, 0},
    [WORD_CANMEDS] = {w_canmeds,
                      N_("1..7, care-provider, communicator, collaborator, "
                         "reflective-professional, health-promoter, organiser, professional"),
                      1, 7},
    [WORD_SIGNOFF_ROLE] = {w_signoff_role, N_("0..3, none, supervisor, practice-educator, coach"),
                           0, 3},
};

int parse_word(enum word_kind kind, const char *s, const char *option, int *out)
{
    char q[48];
    const struct word_table *t = &tables[kind];
    if (s) {
        for (size_t i = 0; t->words[i].w; i++) {
            if (!strcasecmp(t->words[i].w, s)) {
                *out = t->words[i].v;
                return CLI_OK;
            }
        }
        long v;
        if (t->num_lo <= t->num_hi && strict_long(s, &v) == 0 && v >= t->num_lo && v <= t->num_hi) {
            *out = (int)v;
            return CLI_OK;
        }
    }
    return input_error3(_("invalid value '{1}' for {2} (choose from: {3})"), quoted(s, q), option,
                        _(t->hint));
}
