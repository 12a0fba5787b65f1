/*
 * cli.h - what the files of the `wegwijs` command share: the run context, exit codes,
 * argument parsing helpers, messages and the verbs.
 *
 * Invariants: every verb returns an exit code (enum cli_exit) and has printed exactly one
 * "wegwijs: ..." line on stderr when that code is not CLI_OK. Nothing on the
 * command line is trusted: numbers, ids, dates and words are checked here before the
 * library sees them, and texts are checked by the library.
 */
#ifndef WW_CLI_H
#define WW_CLI_H

#include <jansson.h>
#include <libintl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "wegwijs.h"

/* The exit status, documented in the man page and `wegwijs help`. Library codes map onto
 * these through one table (cli_exit_of in msg.c). */
enum cli_exit {
    CLI_OK = 0,
    CLI_FAIL = 1,     /* anything else: out of memory, cannot write the output */
    CLI_USAGE = 2,    /* the command line's shape: unknown verb or option, missing argument */
    CLI_INPUT = 3,    /* a value that is not valid: id, date, number, word, text, file */
    CLI_DENIED = 4,   /* not allowed: the role, membership or a permission refuses it */
    CLI_NOTFOUND = 5, /* no device, unknown group, member, event or challenge */
    CLI_CONFLICT = 6, /* already there, full, or contrary to what the store holds */
    CLI_NET = 7,      /* the network: cannot connect, listen or finish a sync */
    CLI_STORE = 8,    /* the store: corrupt, busy, full disk, newer version, I/O */
};

/* One run of the command. The store is opened on demand by cli_open. */
struct cli {
    const char *data; /* the device's data folder; NULL when none could be found */
    struct ww_store *store;
    char *default_data; /* owns data when it came from the environment */
    int json;           /* --json: print one JSON document (json.c) instead of text */
};

/* ---- Messages (msg.c) ---------------------------------------------------------------- */

/* Texts are English msgids translated by GNU gettext (po/nl.po); N_ marks a text for
 * xgettext where it cannot be translated yet (a static initialiser). */
#define _(s)  gettext(s)
#define N_(s) s

/* Chooses the language (Dutch unless en) and binds the catalogue; before any message. */
void msg_set_lang(enum ww_lang lang);
enum ww_lang msg_lang(void);
/* put_msg writes text (already translated) to f with {1}, {2}, {3} replaced by a1..a3 (NULL
 * prints nothing); say_to does the same and ends the line. Never a printf format, so a
 * value holding '%' or '{' prints as it is. */
void put_msg(FILE *f, const char *text, const char *a1, const char *a2, const char *a3);
/* put_msg with n arguments for {1}..{9}. */
void put_msgv(FILE *f, const char *text, const char *const *args, size_t n);
void say_to(FILE *f, const char *text, const char *a1, const char *a2, const char *a3);
void say(const char *text);
void say1(const char *text, const char *a1);
void say2(const char *text, const char *a1, const char *a2);
void say3(const char *text, const char *a1, const char *a2, const char *a3);
/* Prints "wegwijs: <message>" on stderr and returns CLI_USAGE (the command line's shape). */
int usage_error(const char *text, const char *a1, const char *a2);
/* Prints "wegwijs: <message>" on stderr and returns CLI_INPUT (a value is not valid). */
int input_error(const char *text, const char *a1, const char *a2);
int input_error3(const char *text, const char *a1, const char *a2, const char *a3);
/* The exit status for a library code: a WW_E* code through the table, an errno value
 * (libuv, the C library) as CLI_FAIL. */
int cli_exit_of(int rc);
/* Prints "wegwijs: <message>: <library error text>" on stderr; returns cli_exit_of(rc). */
int lib_error(int rc, const char *what, const char *a1);
/* Says, on stderr, that `lost` of this device's own events lost a fork (it wrote on an older
 * copy of its data) and `rewritten` of them were written again; nothing when lost is 0. */
void own_lost_note(uint64_t lost, uint64_t rewritten);
/* lib_error for a network step: a failure that is not the library's own exits CLI_NET. */
int net_error(int rc, const char *what, const char *a1);
/* Prints "wegwijs: <message>" on stderr and returns code. */
int fail(int code, const char *text, const char *a1, const char *a2);
int fail3(int code, const char *text, const char *a1, const char *a2, const char *a3);

/* Display names of enumerated values in the current language ("?" when out of range). */
const char *role_name(int role);
const char *track_name(int track);
const char *status_name(int status);
const char *share_name(int share);
const char *obstacle_name(unsigned bit_index);
const char *category_name(int category);
const char *signal_state_name(int state);
const char *level_name(int level);
const char *canmeds_name(int canmeds);
const char *signoff_role_name(int role);

/* ---- Arguments (args.c) ---------------------------------------------------------------- */

#define ARGS_MAX_OPTS 64
#define ARGS_MAX_POS  8

struct opt_spec {
    const char *name; /* without the leading "--" */
    int has_value;
    int repeatable;
};

struct args {
    size_t n_pos;
    const char *pos[ARGS_MAX_POS];
    size_t n_opts;
    struct {
        size_t spec;
        const char *value; /* "" for a flag */
    } opts[ARGS_MAX_OPTS];
    const struct opt_spec *spec;
};

/* Splits argv into positional arguments and the options in spec (an array ended by a NULL
 * name). "--name value" and "--name=value" are accepted; "--" ends the options. Checks the
 * number of positional arguments. Returns CLI_OK, or CLI_USAGE after printing why. */
int args_parse(const struct opt_spec *spec, int argc, char **argv, size_t min_pos, size_t max_pos,
               struct args *out);
/* The (last) value of an option, NULL when absent. */
const char *args_get(const struct args *a, const char *name);
size_t args_count(const struct args *a, const char *name);
const char *args_at(const struct args *a, const char *name, size_t i);

/* A printable, shortened copy of hostile input for an error message. */
const char *quoted(const char *s, char buf[48]);

/* Each parser prints its own error and returns CLI_INPUT, or returns CLI_OK. */
int parse_group(const char *s, uint8_t out[WW_ID_LEN]);
int parse_member(const char *s, uint8_t out[WW_ID_LEN]);
int parse_key(const char *s, uint8_t out[WW_KEY_LEN]);
int parse_event(const char *s, uint8_t out[WW_EVENT_HASH_LEN]);
int parse_date(const char *s, uint32_t *out);
/* "HOST:PORT" (port 1..65535; an IPv6 host in brackets) into host (at most cap bytes) and
 * port (net.c). */
int parse_addr(const char *arg, char *host, size_t cap, int *port);
int parse_int(const char *s, const char *what, long lo, long hi, long *out);
/* An optional '-' and decimal digits, nothing else (strtol alone also takes spaces and '+'),
 * within the range of long. 0, or -1 without printing anything. */
int strict_long(const char *s, long *out);

/* Words for values, Dutch and English, matched without regard to ASCII case. */
enum word_kind {
    WORD_ROLE,
    WORD_TRACK,
    WORD_STATUS,
    WORD_SHARE,
    WORD_OBSTACLE,
    WORD_CATEGORY,
    WORD_SIGNAL_STATE,
    WORD_LEVEL,
    WORD_CANMEDS,
    WORD_SIGNOFF_ROLE,
};
/* Parses a word (or, for CANMEDS and SIGNOFF_ROLE, a number) of the given kind. */
int parse_word(enum word_kind kind, const char *s, const char *option, int *out);

/* ---- Shared verb helpers (device.c) ----------------------------------------------------- */

/* mkdir -p with mode 0700; 0 or a negative errno. */
int make_dirs(const char *path);
/* Reports that the store in path cannot be opened; a code the table does not place (an
 * errno value) counts as CLI_STORE. */
int store_error(int rc, const char *path);
/* Checks that there is a data folder; prints how to name one and returns CLI_USAGE if not. */
int cli_need_data(struct cli *c);
/* Opens the device in c->data; fails when it was never initialised (unless create). */
int cli_open(struct cli *c, int create);
/* Parses the group argument and checks that this device knows the group. */
int cli_group(struct cli *c, const char *arg, uint8_t gid[WW_ID_LEN]);
/* Today's date in the group's time zone, or the --date value when given. */
int cli_date_or_today(struct cli *c, const uint8_t gid[WW_ID_LEN], const char *arg, uint32_t *out);

/* Prints why and returns CLI_INPUT when from comes after to or the range holds more than
 * max_days dates; CLI_OK otherwise. */
int check_range(uint32_t from, uint32_t to, uint32_t max_days);
/* The short name of a date's weekday ("ma", "Mo") in the current language. */
const char *weekday_name(uint32_t date);
/* Characters (not bytes) in a UTF-8 string, for aligning columns; NULL is 0. */
size_t text_width(const char *s);
/* Prints s on stdout followed by spaces up to width characters. */
void print_padded(const char *s, size_t width);

/* Members of a group, for printing names next to ids. */
struct roster_entry {
    uint8_t id[WW_ID_LEN];
    int role;
    int year, track, active;
    size_t n_devices;
    uint8_t first_device[WW_KEY_LEN];
    char alias[96];
};
struct roster {
    size_t n;
    struct roster_entry *e;
    int rc;
};
int roster_load(struct cli *c, const uint8_t gid[WW_ID_LEN], struct roster *r);
void roster_free(struct roster *r);
/* The member's alias, its placeholder (member_name) when it has none here, or "?" when the
 * member is unknown. */
const char *roster_alias(const struct roster *r, const uint8_t id[WW_ID_LEN]);
/* A member's name as shown: its alias, or, where this device reads no profile of it (a hub,
 * a device that joined after it, an erased member), "lid 3f2a" from its id. */
#define MEMBER_NAME_MAX 96
const char *member_name(const char *alias, const uint8_t id[WW_ID_LEN], char out[MEMBER_NAME_MAX]);
const struct roster_entry *roster_find(const struct roster *r, const uint8_t id[WW_ID_LEN]);

/* Writes s escaped for HTML text and quoted attributes; control characters other than
 * newline and tab are dropped (overview.c). */
void html_put(FILE *f, const char *s);

/* Prints text after prefix, indenting the lines after the first by indent spaces. */
void print_text(const char *prefix, const char *text, int indent);

/* Hex forms of ids; the buffers are sized for the longest (an event hash). */
struct hexbuf {
    char s[2 * WW_EVENT_HASH_LEN + 1];
};
const char *hex_of(const uint8_t *bin, size_t len, struct hexbuf *b);

/* ---- JSON output (json.c; the shape is docs/JSON.md) ----------------------------------- */

#define JSON_SHAPE_VERSION 1

/* {"version": 1, "command": command}; NULL when out of memory. */
json_t *json_doc(const char *command);
/* For a listing verb under --json: *doc = {"version", "command", "group" (when gid is not
 * NULL), key: []} and *items that array, for the callbacks to fill. Both NULL without
 * --json. CLI_OK, or CLI_FAIL after saying why. */
int json_list(struct cli *c, const char *command, const uint8_t *gid, const char *key, json_t **doc,
              json_t **items);
/* Prints {"version", "command", ...fields} (fields is released); as json_print. */
int json_result(const char *command, json_t *fields);
/* Prints doc on stdout and releases it; CLI_OK, or CLI_FAIL after saying why. */
int json_print(json_t *doc);
/* Values, never NULL but when out of memory: hex ids, dates, texts (null for NULL or ""), the
 * fixed English word of an enumerated value, obstacle words, a challenge object. */
json_t *j_hex(const uint8_t *bin, size_t len);
json_t *j_date(uint32_t date);
json_t *j_text(const char *s);
/* A name as member_name shows it, for --json: the alias, or null for the placeholder. */
json_t *j_alias(const char *name, const uint8_t id[WW_ID_LEN]);
json_t *j_enum(enum word_kind kind, int value);
json_t *j_obstacles(unsigned bits);
json_t *j_challenge(const struct ww_challenge *ch);

/* ---- QR codes (qr.c) -------------------------------------------------------------------- */

/* Prints text as a QR code of Unicode half blocks in black on white (ANSI colours). */
int qr_print(FILE *f, const char *text);

/* ---- Verbs ----------------------------------------------------------------------------- */

int verb_init(struct cli *c, int argc, char **argv);
int verb_id(struct cli *c, int argc, char **argv);
int verb_group(struct cli *c, int argc, char **argv);
int verb_groups(struct cli *c, int argc, char **argv);
int verb_member(struct cli *c, int argc, char **argv);
int verb_members(struct cli *c, int argc, char **argv);
int verb_device(struct cli *c, int argc, char **argv);
int verb_today(struct cli *c, int argc, char **argv);
int verb_status(struct cli *c, int argc, char **argv);
int verb_leave(struct cli *c, int argc, char **argv);
int verb_recover(struct cli *c, int argc, char **argv);
int verb_remove(struct cli *c, int argc, char **argv);
int verb_devices(struct cli *c, int argc, char **argv);
int verb_day(struct cli *c, int argc, char **argv);
int verb_dayoff(struct cli *c, int argc, char **argv);
int verb_library(struct cli *c, int argc, char **argv);
int verb_challenge(struct cli *c, int argc, char **argv);
int verb_reflect(struct cli *c, int argc, char **argv);
int verb_reflections(struct cli *c, int argc, char **argv);
int verb_react(struct cli *c, int argc, char **argv);
int verb_reactions(struct cli *c, int argc, char **argv);
int verb_unreact(struct cli *c, int argc, char **argv);
int verb_hub(struct cli *c, int argc, char **argv);
int verb_sync(struct cli *c, int argc, char **argv);
int verb_signal(struct cli *c, int argc, char **argv);
int verb_signals(struct cli *c, int argc, char **argv);
int verb_signoff(struct cli *c, int argc, char **argv);
int verb_signoffs(struct cli *c, int argc, char **argv);
int verb_overview(struct cli *c, int argc, char **argv);
int verb_history(struct cli *c, int argc, char **argv);
int verb_feed(struct cli *c, int argc, char **argv);
int verb_export(struct cli *c, int argc, char **argv);
int verb_erase(struct cli *c, int argc, char **argv);
int verb_bundle(struct cli *c, int argc, char **argv);
int verb_demo(struct cli *c, int argc, char **argv);
int verb_invite(struct cli *c, int argc, char **argv);
int verb_invites(struct cli *c, int argc, char **argv);
int verb_join(struct cli *c, int argc, char **argv);
int verb_climate(struct cli *c, int argc, char **argv);

/* A reflection as a --json item (reflection.c): what this device may read, nothing else. */
json_t *json_reflection(const struct roster *roster, const struct ww_reflection *r);
/* A readable reflection's challenge, obstacles and texts, one indented line each. */
void print_reflection_text(const struct ww_reflection *r);
/* A signal as a --json item, and its text, concerns and note as indented lines (signal.c). */
json_t *json_signal(const struct roster *roster, const struct ww_signal *sg);
void print_signal_text(const struct roster *roster, const struct ww_signal *sg);

/* Prints one day (shared by `today`, `day` and `demo`). Returns a library code. */
int print_day(struct ww_store *s, const uint8_t gid[WW_ID_LEN], uint32_t date);

#endif
