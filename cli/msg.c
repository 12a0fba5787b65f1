/*
 * msg.c - the message table of the `wegwijs` command and the names of enumerated values,
 * in Dutch (the default) and English.
 *
 * The language is chosen once at start-up (msg_set_lang). Texts are filled in by plain
 * placeholder substitution, never through printf, so a value that happens to contain '%'
 * or '{' is printed as it is.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct msg_text {
    const char *nl, *en;
};

static const struct msg_text table[M_COUNT_] = {
#define CLI_MSG_ROW(id, nl, en) [id] = {nl, en},
    CLI_MESSAGES(CLI_MSG_ROW)
#undef CLI_MSG_ROW
};

static enum ww_lang lang = WW_LANG_NL;

void msg_set_lang(enum ww_lang l)
{
    lang = l == WW_LANG_EN ? WW_LANG_EN : WW_LANG_NL;
}

enum ww_lang msg_lang(void)
{
    return lang;
}

const char *msg(enum msg_id id)
{
    if ((int)id < 0 || id >= M_COUNT_)
        return "?";
    return lang == WW_LANG_EN ? table[id].en : table[id].nl;
}

void put_msg(FILE *f, enum msg_id id, const char *a1, const char *a2, const char *a3)
{
    const char *args[3] = {a1, a2, a3};
    const char *t = msg(id);
    while (*t) {
        if (t[0] == '{' && t[1] >= '1' && t[1] <= '3' && t[2] == '}') {
            const char *a = args[t[1] - '1'];
            if (a)
                fputs(a, f);
            t += 3;
        } else {
            fputc(*t, f);
            t++;
        }
    }
}

void say_to(FILE *f, enum msg_id id, const char *a1, const char *a2, const char *a3)
{
    put_msg(f, id, a1, a2, a3);
    fputc('\n', f);
}

void say(enum msg_id id)
{
    say_to(stdout, id, NULL, NULL, NULL);
}

void say1(enum msg_id id, const char *a1)
{
    say_to(stdout, id, a1, NULL, NULL);
}

void say2(enum msg_id id, const char *a1, const char *a2)
{
    say_to(stdout, id, a1, a2, NULL);
}

void say3(enum msg_id id, const char *a1, const char *a2, const char *a3)
{
    say_to(stdout, id, a1, a2, a3);
}

/* Prints "wegwijs: <message>" on stderr, after what stdout already holds. */
static int error_line(int code, enum msg_id id, const char *a1, const char *a2, const char *a3)
{
    fflush(stdout);
    fputs("wegwijs: ", stderr);
    say_to(stderr, id, a1, a2, a3);
    return code;
}

int usage_error(enum msg_id id, const char *a1, const char *a2)
{
    return error_line(CLI_USAGE, id, a1, a2, NULL);
}

int input_error3(enum msg_id id, const char *a1, const char *a2, const char *a3)
{
    return error_line(CLI_INPUT, id, a1, a2, a3);
}

int input_error(enum msg_id id, const char *a1, const char *a2)
{
    return error_line(CLI_INPUT, id, a1, a2, NULL);
}

int fail3(int code, enum msg_id id, const char *a1, const char *a2, const char *a3)
{
    return error_line(code, id, a1, a2, a3);
}

int fail(int code, enum msg_id id, const char *a1, const char *a2)
{
    return error_line(code, id, a1, a2, NULL);
}

/* The one table from library codes to exit codes; a code not listed is CLI_FAIL. */
static const struct {
    int rc, code;
} exit_table[] = {
    {WW_EINVAL, CLI_INPUT},         {WW_ETRUNC, CLI_INPUT},
    {WW_ETOOBIG, CLI_INPUT},        {WW_ETYPE, CLI_INPUT},
    {WW_ENONCANON, CLI_INPUT},      {WW_EUTF8, CLI_INPUT},
    {WW_EDEPTH, CLI_INPUT},         {WW_ETRAILING, CLI_INPUT},
    {WW_EVERSION, CLI_INPUT},       {WW_EUNKNOWN, CLI_INPUT},
    {WW_ERANGE, CLI_INPUT},         {WW_EBADSIG, CLI_INPUT},
    {WW_EBADHASH, CLI_INPUT},       {WW_ECHAIN, CLI_INPUT},
    {WW_EEPOCH, CLI_INPUT},         {WW_EDECRYPT, CLI_INPUT},
    {WW_ENOTMEMBER, CLI_DENIED},    {WW_EROLE, CLI_DENIED},
    {WW_ENOKEY, CLI_DENIED},        {WW_EPERM, CLI_DENIED},
    {WW_EAUTH, CLI_DENIED},         {WW_EGROUP, CLI_NOTFOUND},
    {WW_ENOTFOUND, CLI_NOTFOUND},   {WW_EFORK, CLI_CONFLICT},
    {WW_ESTUDENTCAP, CLI_CONFLICT}, {WW_ESENIORCAP, CLI_CONFLICT},
    {WW_EEXIST, CLI_CONFLICT},      {WW_ESTATE, CLI_CONFLICT},
    {WW_ESTORE, CLI_STORE},         {WW_ENEWER, CLI_STORE},
    {WW_ECORRUPT, CLI_STORE},       {WW_EFULL, CLI_STORE},
    {WW_EBUSY, CLI_STORE},          {WW_EIO, CLI_STORE},
};

int cli_exit_of(int rc)
{
    for (size_t i = 0; i < sizeof exit_table / sizeof exit_table[0]; i++)
        if (exit_table[i].rc == rc)
            return exit_table[i].code;
    return CLI_FAIL;
}

int lib_error(int rc, enum msg_id what, const char *a1)
{
    fflush(stdout);
    fputs("wegwijs: ", stderr);
    put_msg(stderr, what, a1, NULL, NULL);
    fprintf(stderr, ": %s", ww_strerror_lang(rc, lang));
    if (rc == WW_ETOOBIG)
        fprintf(stderr, "; %s", msg(M_HINT_TOO_BIG));
    fputc('\n', stderr);
    return cli_exit_of(rc);
}

/* ---- Names of values ------------------------------------------------------------------ */

struct name_pair {
    const char *nl, *en;
};

static const char *pick(const struct name_pair *names, size_t n, long i)
{
    if (i < 0 || (size_t)i >= n || !names[i].nl)
        return "?";
    return lang == WW_LANG_EN ? names[i].en : names[i].nl;
}

#define PICK(names, i) pick(names, sizeof names / sizeof names[0], (long)(i))

const char *role_name(int role)
{
    static const struct name_pair names[] = {
        {NULL, NULL}, {"coach", "coach"}, {"student", "student"}, {"ouderejaars", "senior"}};
    return PICK(names, role);
}

const char *track_name(int track)
{
    static const struct name_pair names[] = {{"-", "-"}, {"bol", "bol"}, {"bbl", "bbl"}};
    return PICK(names, track);
}

const char *status_name(int status)
{
    static const struct name_pair names[] = {
        {NULL, NULL}, {"gedaan", "done"}, {"deels", "partly"}, {"niet", "not done"}};
    return PICK(names, status);
}

const char *share_name(int share)
{
    static const struct name_pair names[] = {
        {NULL, NULL}, {"privé", "private"}, {"groep", "group"}, {"coach", "coach"}};
    return PICK(names, share);
}

const char *obstacle_name(unsigned bit_index)
{
    static const struct name_pair names[] = {
        {"geen gelegenheid", "no opportunity"},
        {"geen tijd bij begeleider", "no time with the supervisor"},
        {"durfde het niet", "did not dare"},
        {"paste niet bij de cliënten", "did not fit the clients"},
        {"andere taken gingen voor", "other tasks came first"},
        {"geen dienst of ziek", "no shift or ill"},
    };
    return PICK(names, bit_index);
}

const char *category_name(int category)
{
    static const struct name_pair names[] = {
        {NULL, NULL},
        {"werkdruk", "workload"},
        {"begeleiding", "guidance"},
        {"sfeer en veiligheid", "team climate and safety"},
        {"leren en schoolopdrachten", "learning and assignments"},
        {"welzijn", "wellbeing"},
        {"overig", "other"},
    };
    return PICK(names, category);
}

const char *signal_state_name(int state)
{
    static const struct name_pair names[] = {
        {"open", "open"}, {"besproken", "discussed"}, {"opgelost", "resolved"}};
    return PICK(names, state);
}

const char *level_name(int level)
{
    static const struct name_pair names[] = {{NULL, NULL},
                                             {"nooit", "never"},
                                             {"oefenen", "practising"},
                                             {"voldoende", "sufficient"},
                                             {"goed", "good"}};
    return PICK(names, level);
}

const char *canmeds_name(int canmeds)
{
    static const struct name_pair names[] = {
        {NULL, NULL},
        {"Zorgverlener", "Care provider"},
        {"Communicator", "Communicator"},
        {"Samenwerkingspartner", "Collaboration partner"},
        {"Reflectieve EBP-professional", "Reflective EBP professional"},
        {"Gezondheidsbevorderaar", "Health promoter"},
        {"Organisator", "Organiser"},
        {"Professional en kwaliteitsbevorderaar", "Professional and quality promoter"},
    };
    return PICK(names, canmeds);
}

const char *signoff_role_name(int role)
{
    static const struct name_pair names[] = {{"niemand", "nobody"},
                                             {"werkbegeleider", "workplace supervisor"},
                                             {"praktijkopleider", "practice educator"},
                                             {"studentcoach", "student coach"}};
    return PICK(names, role);
}
