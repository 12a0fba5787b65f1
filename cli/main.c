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
    fputs(msg(M_HELP_1), stdout);
    fputs(msg(M_HELP_2), stdout);
    fputs(msg(M_HELP_3), stdout);
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
    {"sync", verb_sync},         {"help", verb_help},
};

/* "nl" or "en" (any case); -1 for anything else. */
static int lang_of(const char *s)
{
    if (!strcasecmp(s, "nl"))
        return WW_LANG_NL;
    if (!strcasecmp(s, "en"))
        return WW_LANG_EN;
    return -1;
}

/* The environment's language: WEGWIJS_LANG=en (or en_GB and the like) means English. */
static void lang_from_env(void)
{
    const char *env = getenv("WEGWIJS_LANG");
    if (env && !strncasecmp(env, "en", 2))
        msg_set_lang(WW_LANG_EN);
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
        if ((v = option_value(argc, argv, &i, "--data", &missing))) {
            if (!*v)
                return input_error(M_E_EMPTY_DATA, NULL, NULL);
            c->data = v;
        } else if ((v = option_value(argc, argv, &i, "--lang", &missing))) {
            if (lang_of(v) < 0)
                return input_error(M_E_BAD_LANG, quoted(v, q), NULL);
            msg_set_lang((enum ww_lang)lang_of(v));
        } else if (missing) {
            return usage_error(M_E_OPTION_VALUE, argv[i] + 2, NULL);
        } else {
            return usage_error(M_E_UNKNOWN_OPTION, quoted(argv[i], q), NULL);
        }
    }
    if (i >= argc)
        return verb_help(c, 0, NULL);
    if (!c->data)
        c->data = c->default_data = default_data();
    /* "wegwijs VERB ... --help" shows the help rather than an unknown-option error. */
    for (int k = i + 1; k < argc && strcmp(argv[k], "--") != 0; k++)
        if (!strcmp(argv[k], "--help"))
            return verb_help(c, 0, NULL);
    for (size_t k = 0; k < sizeof verbs / sizeof verbs[0]; k++)
        if (!strcmp(argv[i], verbs[k].name))
            return verbs[k].run(c, argc - i, argv + i);
    return usage_error(M_E_UNKNOWN_VERB, quoted(argv[i], q), NULL);
}

int main(int argc, char **argv)
{
    lang_from_env();
    struct cli c = {NULL, NULL, NULL};
    int rc = argc > 0 ? run(argc, argv, &c) : CLI_USAGE;
    ww_store_close(c.store);
    free(c.default_data);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fputs("wegwijs: ", stderr);
        say_to(stderr, M_E_WRITE_OUT, NULL, NULL, NULL);
        if (rc == CLI_OK)
            rc = CLI_FAIL;
    }
    return rc;
}
