/*
 * main.c - the `wegwijs` command: global options, the language, and dispatch to one verb
 * per user action.
 *
 *     wegwijs [--data DIR] [--lang nl|en] VERB [ARGUMENTS]
 *
 * Exit status: see enum cli_exit in cli.h (0 success). Global options come
 * before the verb; the verb parses the rest. The store, when a verb opened one, is closed
 * here, and stdout is flushed and checked, so a full disk or closed pipe is an error too.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"

struct verb {
    const char *name;
    int (*run)(struct cli *c, int argc, char **argv);
};

static int verb_help(struct cli *c, int argc, char **argv)
{
    (void)c;
    (void)argc;
    (void)argv;
    fputs(
        _("Usage: wegwijs [--data DIR] [--lang nl|en] [--json] COMMAND [ARGUMENTS]\n"
          "\n"
          "Wegwijs: daily challenges, reflections and signals for nursing internship groups.\n"
          "Everything lives on this device, in the data folder: --data DIR, else $WEGWIJS_HOME, "
          "else\n"
          "$XDG_DATA_HOME/wegwijs, else ~/.local/share/wegwijs. Language: --lang or $WEGWIJS_LANG\n"
          "(nl or en). Ids and keys are hexadecimal, dates YYYY-MM-DD. Dutch and English words "
          "for\n"
          "values are both accepted. --json: one JSON document instead of text, for every\n"
          "command that prints data (the shape: docs/JSON.md, man wegwijs).\n"
          "\n"
          "Device\n"
          "  init                        create this device (if it does not exist), print its key\n"
          "  id                          print this device's key\n"
          "\n"
          "Group and members (coach)\n"
          "  group create NAME [--tz ZONE] [--start DATE] [--alias COACHNAME]\n"
          "  group hub GROUP KEY [ADDR:PORT]   name the group's hub: its key and address (owner)\n"
          "  group owner GROUP KEY       hand the group over to another device of yours (owner;\n"
          "             add it first with 'device add' or a device code)\n"
          "  group recovery GROUP        make the recovery code of a group that has none (owner)\n"
          "  recover GROUP CODE          a new device takes the group over from the lost owner\n"
          "             device with its recovery code (import a member's bundle of it first)\n"
          "  group climate GROUP A B [--team T --location L]   name the climate aggregators\n"
          "             (A: the hub's, B: the organisation's) and the group's team (owner)\n"
          "  groups                      your groups: id, name, your role, key epoch, hub\n"
          "  member add GROUP --role student|senior|coach --alias NAME --device KEY\n"
          "             [--year 1..4] [--track bol|bbl]   (year: student 1, senior 3 by default)\n"
          "  member remove GROUP MEMBER   (also: remove GROUP MEMBER)\n"
          "  device add GROUP MEMBER KEY\n"
          "  members GROUP\n"),
        stdout);
    fputs(
        _("\n"
          "The day\n"
          "  today GROUP                 date, internship week, challenge and climate questions\n"
          "  day GROUP DATE              the same for another day\n"
          "  dayoff GROUP [DATE] [--undo]    mark a day as no shift (or undo that)\n"
          "  library                     the starter library's challenges\n"
          "  challenge define GROUP --code C --title T --description D --canmeds "
          "1..7|care-provider|...\n"
          "             --weeks A-B [--assignment REF] [--signoff 0..3|supervisor|...]\n"
          "  challenge schedule GROUP DATE CODE\n"
          "  challenge list GROUP [--from DATE] [--to DATE]   each day's challenge (default:\n"
          "             today and the next 13 days; * scheduled by the coach)\n"
          "\n"
          "Reflecting (student, senior)\n"
          "  reflect GROUP --status done|partly|not [--date DATE] [--obstacle REASON]...\n"
          "             [--obstacle-note T] [--situatie T] [--taak T] [--actie T] [--resultaat T]\n"
          "             [--reflectie T] [--share me|group|coach] [--draft] [--answer "
          "ITEM=VALUE]...\n"
          "      REASON: no-chance, no-supervisor, did-not-dare, not-fitting, other-tasks,\n"
          "             absent (only with partly or not)\n"
          "      sharing: without --share the reflection stays private (me)\n"
          "      without --status: asks the STARR questions one by one on a terminal, or reads\n"
          "             the answers from stdin, one per line in that order\n"
          "      answer: K1=4, R7=na, ... (1 strongly disagree .. 5 strongly agree, or na)\n"
          "  reflections GROUP [MEMBER]  reflections: date, member, status, sharing, event, text\n"
          "  react GROUP EVENT TEXT\n"
          "  unreact GROUP REACTION\n"
          "  reactions GROUP [EVENT]\n"
          "  feed GROUP [--days N | --from DATE --to DATE] [--limit N]   what the group\n"
          "             shared that this device reads, newest first, with the reactions\n"
          "             (and your signals; the coach's: all); default the newest 20\n"
          "  history GROUP [--from DATE] [--to DATE] [--member MEMBER]   your own path per\n"
          "             worked day (default the last 4 weeks); the coach names a learner\n"
          "             with --member and sees what that learner shared with the coach\n"),
        stdout);
    fputs(_("\n"
            "Joining by invite\n"
            "  invite GROUP [--role student|senior] [--days 1..30] [--qr|--no-qr]   (coach) print\n"
            "             an invite code (and on a terminal, or with --qr, a QR code of it):\n"
            "             single use, for one role, valid 7 days unless --days\n"
            "  invite GROUP --device [--days 1..30]   (any member) a code for another device\n"
            "             of your own; it joins with 'join CODE' alone and, once your device\n"
            "             synced, reads your private reflections too\n"
            "  invites GROUP               the group's invites: open, used, revoked, expired\n"
            "  invite revoke GROUP INVITE  revoke an unused invite (coach)\n"
            "  join CODE --alias NAME [--year 1..4] [--track bol|bbl] [--watch] [--quiet]\n"
            "             join a group with an invite code: waits until the coach's device\n"
            "             admits this device, then syncs (a new device needs no init;\n"
            "             a device code takes no --alias, --year or --track)\n"
            "  leave GROUP [--quiet]       leave the group (student, senior): tells the hub,\n"
            "             which serves this device no more; the coach's device starts new keys\n"),
          stdout);
    fputs(_("\n"
            "Climate across groups (praktijkopleider)\n"
            "  climate key                 this tool's device key and aggregator key B, for\n"
            "             the hub's operator and the coaches\n"
            "  climate fetch ADDR:PORT KEY [ADDR:PORT KEY]... [--k 5..] [--html FILE | --csv]\n"
            "             the region's report from these hubs: this tool is aggregator B and\n"
            "             adds its release to each hub's (cells of fewer than k students stay\n"
            "             hidden)\n"
            "  climate demo [--groups 12..100] [--weeks 8..20] [--html FILE | --csv]   the\n"
            "             climate report of a generated region (3 hubs, default 30 groups,\n"
            "             16 weeks), computed by the real split aggregation\n"),
          stdout);
    fputs(
        _("\n"
          "Signals and sign-off\n"
          "  signal raise GROUP --category workload|guidance|safety|learning|wellbeing|other "
          "--text T\n"
          "             [--concerns MEMBER]   (prints the event id)\n"
          "  signal resolve GROUP EVENT --state discussed|resolved [--note T]   (coach)\n"
          "  signals GROUP\n"
          "  signoff GROUP MEMBER CODE --level never|practising|sufficient|good [--date DATE] "
          "[--note T]\n"
          "  signoffs GROUP\n"
          "  overview GROUP [--from DATE] [--to DATE] [--html FILE]   (coach) the learners'\n"
          "             days at a glance, open signals, sign-offs due (default: this week)\n"
          "\n"
          "Network\n"
          "  hub [--listen ADDR:PORT] [--closed] [--coach KEY]... [--log FILE]   run the hub\n"
          "             (default 127.0.0.1:7420; --coach: serve only the groups of these coaches'\n"
          "             devices; --log: log to FILE, which SIGHUP opens again)\n"
          "             [--aggregator-b KEY] [--climate-reader KEY]...   climate: confirm this\n"
          "             aggregator B to joining devices; let these devices fetch climate\n"
          "             [--climate-live]   serve climate of windows not final yet (a demo)\n"
          "             [--quota MIB]   what one device may add to a group here: MIB a day,\n"
          "             16 days of it at once (default 2; 0: no limit)\n"
          "  sync [ADDR:PORT] [--group GROUP]... [--watch] [--listen ADDR:PORT] [--quiet]\n"
          "             [--verbose]   (--verbose: one line per connection on stderr)\n"
          "                              sync with a hub or another device; without ADDR:PORT\n"
          "                              with the hub each group named, its key checked\n"
          "             [--discover [--beacon-to ADDR:PORT] [--beacon-on ADDR:PORT]]   (with\n"
          "             --watch --listen) find the group's devices on the local network by\n"
          "             beacons (default: to 255.255.255.255:7421, on 0.0.0.0:7421)\n"
          "  status [GROUP]              your groups: role, last sync with the hub and with\n"
          "             another device, what this device has not sent yet\n"
          "  devices GROUP               (coach) per member device: its last syncs, the events\n"
          "             it still lacks, and which devices applied each erasure\n"
          "\n"
          "Data\n"
          "  export GROUP MEMBER         everything this device knows about a member, as JSON\n"
          "  erase GROUP MEMBER          erase a member's texts on every device\n"
          "  bundle export GROUP FILE    write a group's events to a file\n"
          "  bundle import FILE          read a bundle from another device\n"
          "  demo                        walkthrough: four devices in subfolders of the data "
          "folder\n"
          "  help                        this text\n"
          "\n"
          "Exit status: 0 success, 1 other failure, 2 usage error, 3 invalid input,\n"
          "4 not allowed, 5 not found, 6 conflict, 7 network failure, 8 store failure.\n"),
        stdout);
    return CLI_OK;
}

static const struct verb verbs[] = {
    {"init", verb_init},         {"id", verb_id},
    {"group", verb_group},       {"groups", verb_groups},
    {"member", verb_member},     {"members", verb_members},
    {"device", verb_device},     {"today", verb_today},
    {"day", verb_day},           {"dayoff", verb_dayoff},
    {"library", verb_library},   {"challenge", verb_challenge},
    {"reflect", verb_reflect},   {"reflections", verb_reflections},
    {"react", verb_react},       {"reactions", verb_reactions},
    {"unreact", verb_unreact},   {"signal", verb_signal},
    {"signals", verb_signals},   {"signoff", verb_signoff},
    {"signoffs", verb_signoffs}, {"export", verb_export},
    {"erase", verb_erase},       {"bundle", verb_bundle},
    {"demo", verb_demo},         {"hub", verb_hub},
    {"sync", verb_sync},         {"overview", verb_overview},
    {"invite", verb_invite},     {"invites", verb_invites},
    {"join", verb_join},         {"help", verb_help},
    {"status", verb_status},     {"devices", verb_devices},
    {"feed", verb_feed},         {"history", verb_history},
    {"leave", verb_leave},       {"remove", verb_remove},
    {"recover", verb_recover},   {"climate", verb_climate},
};

/* The commands that print data, and so have a --json form (docs/JSON.md). */
static int has_json(int argc, char **argv)
{
    static const char *const with_json[] = {
        "init",          "id",          "groups",       "members",        "today",
        "day",           "library",     "reflections",  "reactions",      "signals",
        "signoffs",      "export",      "reflect",      "react",          "sync",
        "group create",  "member add",  "signal raise", "bundle export",  "bundle import",
        "overview",      "status",      "devices",      "invite",         "invites",
        "join",          "feed",        "history",      "challenge list", "climate demo",
        "climate fetch", "climate key",
    };
    char two[64];
    snprintf(two, sizeof two, "%s %s", argv[0], argc > 1 ? argv[1] : "");
    for (size_t i = 0; i < sizeof with_json / sizeof with_json[0]; i++)
        if (!strcmp(with_json[i], argv[0]) || !strcmp(with_json[i], two))
            return 1;
    return 0;
}

/* "nl" or "en" (any case); -1 for anything else. */
static int lang_of(const char *s)
{
    if (!strcasecmp(s, "nl"))
        return WW_LANG_NL;
    if (!strcasecmp(s, "en"))
        return WW_LANG_EN;
    return -1;
}

/* The environment's language: $WEGWIJS_LANG, else the locale's messages category
 * ($LC_ALL, else $LC_MESSAGES, else $LANG): English when it starts with "en" (en, en_GB,
 * en_US.UTF-8), else Dutch. */
static void lang_from_env(void)
{
    static const char *const vars[] = {"WEGWIJS_LANG", "LC_ALL", "LC_MESSAGES", "LANG"};
    enum ww_lang l = WW_LANG_NL;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) {
            l = strncasecmp(v, "en", 2) == 0 ? WW_LANG_EN : WW_LANG_NL;
            break;
        }
    }
    msg_set_lang(l);
}

/* The value of a global option at argv[*i]: "--name=value" or "--name value". NULL when
 * argv[*i] is not that option. *missing is set when the value is absent. */
static const char *option_value(int argc, char **argv, int *i, const char *name, int *missing)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

/* A non-empty value of an environment variable, or NULL. */
static const char *env_value(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* dir + "/" + name in a new string (name may be NULL); NULL when out of memory. */
static char *join_path(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = name ? strlen(name) : 0;
    char *p = malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    p[a] = '\0';
    if (name) {
        p[a] = '/';
        memcpy(p + a + 1, name, b + 1);
    }
    return p;
}

/* The data folder when --data does not name one: $WEGWIJS_HOME, else $XDG_DATA_HOME/wegwijs
 * (an absolute XDG_DATA_HOME only, as the XDG spec says), else ~/.local/share/wegwijs. NULL
 * when there is no home folder either; cli_open then says to use --data. */
static char *default_data(void)
{
    const char *v;
    if ((v = env_value("WEGWIJS_HOME")))
        return join_path(v, NULL);
    if ((v = env_value("XDG_DATA_HOME")) && v[0] == '/')
        return join_path(v, "wegwijs");
    const char *home = env_value("HOME");
    if (!home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw && pw->pw_dir && *pw->pw_dir ? pw->pw_dir : NULL;
    }
    return home ? join_path(home, ".local/share/wegwijs") : NULL;
}

static int run(int argc, char **argv, struct cli *c)
{
    char q[48];
    int i = 1;
    /* The language first, so that every later message is in it. */
    for (int k = 1; k < argc && argv[k][0] == '-'; k++) {
        int missing = 0;
        const char *v = option_value(argc, argv, &k, "--lang", &missing);
        if (v && lang_of(v) >= 0)
            msg_set_lang((enum ww_lang)lang_of(v));
        else if (!v && !missing)
            option_value(argc, argv, &k, "--data", &missing); /* skips its value */
    }
    for (; i < argc && argv[i][0] == '-'; i++) {
        int missing = 0;
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return verb_help(c, 0, NULL);
        if (!strcmp(argv[i], "--json")) {
            c->json = 1;
        } else if ((v = option_value(argc, argv, &i, "--data", &missing))) {
            if (!*v)
                return input_error(_("the data folder must not be empty"), NULL, NULL);
            c->data = v;
        } else if ((v = option_value(argc, argv, &i, "--lang", &missing))) {
            if (lang_of(v) < 0)
                return input_error(_("unknown language '{1}' (use nl or en)"), quoted(v, q), NULL);
            msg_set_lang((enum ww_lang)lang_of(v));
        } else if (missing) {
            return usage_error(_("option '--{1}' needs a value"), argv[i] + 2, NULL);
        } else {
            return usage_error(_("unknown option '{1}'; see 'wegwijs help'"), quoted(argv[i], q),
                               NULL);
        }
    }
    if (i >= argc)
        return verb_help(c, 0, NULL);
    if (!c->data)
        c->data = c->default_data = default_data();
    /* "wegwijs VERB ... --help" shows the help rather than an unknown-option error;
     * "--json" may come after the verb too. */
    for (int k = i + 1; k < argc && strcmp(argv[k], "--") != 0; k++) {
        if (!strcmp(argv[k], "--help"))
            return verb_help(c, 0, NULL);
        if (!strcmp(argv[k], "--json")) {
            c->json = 1;
            memmove(argv + k, argv + k + 1, (size_t)(argc - k) * sizeof *argv);
            argc--;
            k--;
        }
    }
    for (size_t k = 0; k < sizeof verbs / sizeof verbs[0]; k++) {
        if (strcmp(argv[i], verbs[k].name) != 0)
            continue;
        if (c->json && !has_json(argc - i, argv + i))
            return usage_error(_("'{1}' has no --json output; see 'wegwijs help'"), argv[i], NULL);
        return verbs[k].run(c, argc - i, argv + i);
    }
    return usage_error(_("unknown command '{1}'; see 'wegwijs help'"), quoted(argv[i], q), NULL);
}

int main(int argc, char **argv)
{
    lang_from_env();
    struct cli c = {NULL, NULL, NULL, 0};
    int rc = argc > 0 ? run(argc, argv, &c) : CLI_USAGE;
    ww_store_close(c.store);
    free(c.default_data);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fputs("wegwijs: ", stderr);
        say_to(stderr, _("cannot write the output"), NULL, NULL, NULL);
        if (rc == CLI_OK)
            rc = CLI_FAIL;
    }
    return rc;
}
