/*
 * msg.c - the messages of the `wegwijs` command: choosing the language, GNU gettext, filling
 * in placeholders, error lines and exit codes, and the names of enumerated values.
 *
 * The texts in the code are English msgids; po/nl.po holds the Dutch. Dutch is the default.
 * The language is chosen once at start-up (msg_set_lang) and is made to work without any
 * locale generated on the machine: LC_MESSAGES is C.UTF-8 (never plain "C", for which
 * glibc ignores LANGUAGE) and LANGUAGE names the catalogue. Texts are filled in by plain
 * placeholder substitution, never through printf, so a value that happens to contain '%'
 * or '{' is printed as it is.
 */
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define DOMAIN "wegwijs"
#ifndef WW_LOCALEDIR
#define WW_LOCALEDIR "/usr/local/share/locale"
#endif

static enum ww_lang lang = WW_LANG_NL;

/* The catalogues: "locale" next to the binary when it holds ours (the build tree), else the
 * folder compiled in (where `make install` puts them). */
static void bind_catalogue(void)
{
    static char dir[PATH_MAX];
    char exe[PATH_MAX], probe[PATH_MAX + 64];
    const char *where = WW_LOCALEDIR;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = n > 0 ? (exe[n] = '\0', strrchr(exe, '/')) : NULL;
    if (slash) {
        *slash = '\0';
        snprintf(probe, sizeof probe, "%s/locale/nl/LC_MESSAGES/" DOMAIN ".mo", exe);
        if (access(probe, R_OK) == 0 &&
            (size_t)snprintf(dir, sizeof dir, "%s/locale", exe) < sizeof dir)
            where = dir;
    }
    bindtextdomain(DOMAIN, where);
    bind_textdomain_codeset(DOMAIN, "UTF-8");
}

void msg_set_lang(enum ww_lang l)
{
    static int bound;
    lang = l == WW_LANG_EN ? WW_LANG_EN : WW_LANG_NL;
    if (!bound) {
        bound = 1;
        if (!setlocale(LC_MESSAGES, "C.UTF-8") && !setlocale(LC_MESSAGES, "C.utf8"))
            setlocale(LC_MESSAGES, "");
        bind_catalogue();
    }
    setenv("LANGUAGE", lang == WW_LANG_EN ? "en" : "nl", 1);
    textdomain(DOMAIN); /* also drops what gettext cached for the language before */
}

enum ww_lang msg_lang(void)
{
    return lang;
}

void put_msgv(FILE *f, const char *text, const char *const *args, size_t n)
{
    const char *t = text;
    while (*t) {
        if (t[0] == '{' && t[1] >= '1' && t[1] <= '9' && t[2] == '}') {
            size_t k = (size_t)(t[1] - '1');
            if (k < n && args[k])
                fputs(args[k], f);
            t += 3;
        } else {
            fputc(*t, f);
            t++;
        }
    }
}

void put_msg(FILE *f, const char *text, const char *a1, const char *a2, const char *a3)
{
    const char *args[3] = {a1, a2, a3};
    put_msgv(f, text, args, 3);
}

void say_to(FILE *f, const char *text, const char *a1, const char *a2, const char *a3)
{
    put_msg(f, text, a1, a2, a3);
    fputc('\n', f);
}

void say(const char *text)
{
    say_to(stdout, text, NULL, NULL, NULL);
}

void say1(const char *text, const char *a1)
{
    say_to(stdout, text, a1, NULL, NULL);
}

void say2(const char *text, const char *a1, const char *a2)
{
    say_to(stdout, text, a1, a2, NULL);
}

void say3(const char *text, const char *a1, const char *a2, const char *a3)
{
    say_to(stdout, text, a1, a2, a3);
}

/* Prints "wegwijs: <message>" on stderr, after what stdout already holds. */
static int error_line(int code, const char *text, const char *a1, const char *a2, const char *a3)
{
    fflush(stdout);
    fputs("wegwijs: ", stderr);
    say_to(stderr, text, a1, a2, a3);
    return code;
}

int usage_error(const char *text, const char *a1, const char *a2)
{
    return error_line(CLI_USAGE, text, a1, a2, NULL);
}

int input_error3(const char *text, const char *a1, const char *a2, const char *a3)
{
    return error_line(CLI_INPUT, text, a1, a2, a3);
}

int input_error(const char *text, const char *a1, const char *a2)
{
    return error_line(CLI_INPUT, text, a1, a2, NULL);
}

int fail3(int code, const char *text, const char *a1, const char *a2, const char *a3)
{
    return error_line(code, text, a1, a2, a3);
}

int fail(int code, const char *text, const char *a1, const char *a2)
{
    return error_line(code, text, a1, a2, NULL);
}

/* The one table from library codes to exit codes; a code not listed is CLI_FAIL. */
static const struct {
    int rc, code;
} exit_table[] = {
    {WW_EINVAL, CLI_INPUT},        {WW_ETRUNC, CLI_INPUT},
    {WW_ETOOBIG, CLI_INPUT},       {WW_ETYPE, CLI_INPUT},
    {WW_ENONCANON, CLI_INPUT},     {WW_EUTF8, CLI_INPUT},
    {WW_EDEPTH, CLI_INPUT},        {WW_ETRAILING, CLI_INPUT},
    {WW_EVERSION, CLI_INPUT},      {WW_EUNKNOWN, CLI_INPUT},
    {WW_ERANGE, CLI_INPUT},        {WW_EBADSIG, CLI_INPUT},
    {WW_EBADHASH, CLI_INPUT},      {WW_ECHAIN, CLI_INPUT},
    {WW_EEPOCH, CLI_INPUT},        {WW_EDECRYPT, CLI_INPUT},
    {WW_ENOTMEMBER, CLI_DENIED},   {WW_EROLE, CLI_DENIED},
    {WW_EDENIED, CLI_DENIED},      {WW_EUSED, CLI_CONFLICT},
    {WW_EEXPIRED, CLI_CONFLICT},   {WW_EREVOKED, CLI_CONFLICT},
    {WW_EBADCODE, CLI_INPUT},      {WW_ENOKEY, CLI_DENIED},
    {WW_EPERM, CLI_DENIED},        {WW_EAUTH, CLI_DENIED},
    {WW_EGROUP, CLI_NOTFOUND},     {WW_EAGGKEY, CLI_DENIED},
    {WW_EQUOTA, CLI_DENIED},       {WW_ENOTFOUND, CLI_NOTFOUND},
    {WW_EFORK, CLI_CONFLICT},      {WW_ESTUDENTCAP, CLI_CONFLICT},
    {WW_ESENIORCAP, CLI_CONFLICT}, {WW_EEXIST, CLI_CONFLICT},
    {WW_ESTATE, CLI_CONFLICT},     {WW_ESTORE, CLI_STORE},
    {WW_ENEWER, CLI_STORE},        {WW_ECORRUPT, CLI_STORE},
    {WW_EFULL, CLI_STORE},         {WW_EBUSY, CLI_STORE},
    {WW_EIO, CLI_STORE},
};

int cli_exit_of(int rc)
{
    for (size_t i = 0; i < sizeof exit_table / sizeof exit_table[0]; i++)
        if (exit_table[i].rc == rc)
            return exit_table[i].code;
    return CLI_FAIL;
}

void own_lost_note(uint64_t lost, uint64_t rewritten)
{
    if (lost == 0)
        return;
    char n[24], m[24];
    snprintf(n, sizeof n, "%llu", (unsigned long long)lost);
    snprintf(m, sizeof m, "%llu", (unsigned long long)rewritten);
    fflush(stdout);
    fputs("wegwijs: ", stderr);
    say_to(stderr,
           _("this device wrote on an older copy of its data (a backup or a copied folder): {1} "
             "of its events clashed with what the group already held; {2} of them were written "
             "again. Group management (members, devices, keys, invites) was not: check it and "
             "do it again if needed"),
           n, m, NULL);
}

int lib_error(int rc, const char *what, const char *a1)
{
    fflush(stdout);
    fputs("wegwijs: ", stderr);
    put_msg(stderr, what, a1, NULL, NULL);
    fprintf(stderr, ": %s", ww_strerror_lang(rc, lang));
    if (rc == WW_ETOOBIG)
        fprintf(stderr, "; %s", _("make the text shorter"));
    fputc('\n', stderr);
    return cli_exit_of(rc);
}

/* ---- Names of values ------------------------------------------------------------------ */

static const char *pick(const char *const *names, size_t n, long i)
{
    if (i < 0 || (size_t)i >= n || !names[i])
        return "?";
    return _(names[i]);
}

#define PICK(names, i) pick(names, sizeof names / sizeof names[0], (long)(i))

const char *role_name(int role)
{
    static const char *const names[] = {NULL, N_("coach"), N_("student"), N_("senior")};
    return PICK(names, role);
}

const char *track_name(int track)
{
    static const char *const names[] = {N_("-"), N_("bol"), N_("bbl")};
    return PICK(names, track);
}

const char *status_name(int status)
{
    static const char *const names[] = {NULL, N_("done"), N_("partly"), N_("not done")};
    return PICK(names, status);
}

const char *share_name(int share)
{
    static const char *const names[] = {NULL, N_("private"), N_("group"), N_("coach")};
    return PICK(names, share);
}

const char *obstacle_name(unsigned bit_index)
{
    static const char *const names[] = {
        N_("no opportunity"),          N_("no time with the supervisor"), N_("did not dare"),
        N_("did not fit the clients"), N_("other tasks came first"),      N_("no shift or ill"),
    };
    return PICK(names, bit_index);
}

const char *category_name(int category)
{
    static const char *const names[] = {
        NULL,
        N_("workload"),
        N_("guidance"),
        N_("team climate and safety"),
        N_("learning and assignments"),
        N_("wellbeing"),
        N_("other"),
    };
    return PICK(names, category);
}

const char *signal_state_name(int state)
{
    static const char *const names[] = {N_("open"), N_("discussed"), N_("resolved")};
    return PICK(names, state);
}

const char *level_name(int level)
{
    static const char *const names[] = {NULL, N_("never"), N_("practising"), N_("sufficient"),
                                        N_("good")};
    return PICK(names, level);
}

const char *canmeds_name(int canmeds)
{
    static const char *const names[] = {
        NULL,
        N_("Care provider"),
        N_("Communicator"),
        N_("Collaboration partner"),
        N_("Reflective EBP professional"),
        N_("Health promoter"),
        N_("Organiser"),
        N_("Professional and quality promoter"),
    };
    return PICK(names, canmeds);
}

const char *signoff_role_name(int role)
{
    static const char *const names[] = {N_("nobody"), N_("workplace supervisor"),
                                        N_("practice educator"), N_("student coach")};
    return PICK(names, role);
}
