/*
 * bundle.c - `bundle export` and `bundle import`: a group's events carried from device to
 * device as a file (USB stick, AirDrop, e-mail) until network sync exists.
 *
 * The bundle format, version 1. Integers are big-endian.
 *
 *     bundle := magic record*
 *     magic  := the 8 bytes "WWBNDL1\n"
 *     record := length:u32  event:byte[length]        1 <= length <= 65536
 *
 * Each event is one sealed event exactly as ww_sync_missing hands it out, in the order it
 * gives (each author's sequence, causes before effects). The file ends right after the
 * last record. The bundle adds no integrity of its own: every event carries its author's
 * signature and hash chain, which ww_sync_apply checks like any peer's batch, so a bundle
 * can travel over any untrusted channel.
 *
 * Reading treats the file as hostile. It must be a regular file of at most 256 MiB that
 * starts with the magic; every record length must be in range and lie inside the file.
 * The whole framing is checked before the first event is applied, so a damaged, truncated
 * or forged bundle is refused without changing the store. Events are then read again in a
 * bounded loop and applied in batches of at most 256.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define BUNDLE_MAGIC        "WWBNDL1\n"
#define BUNDLE_MAGIC_LEN    8
#define BUNDLE_MAX_EVENT    (64u << 10)
#define BUNDLE_MAX_FILE     (256ull << 20)
#define BUNDLE_MAX_FILE_MIB "256"
#define BUNDLE_BATCH        256
/* Every record takes at least 5 bytes, so no bundle within the size limit holds more. */
#define BUNDLE_MAX_EVENTS ((size_t)(BUNDLE_MAX_FILE / 5))

static void put_u32(uint8_t out[4], uint32_t v)
{
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t in[4])
{
    return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
}

static const char *num(size_t v, char buf[24])
{
    snprintf(buf, 24, "%zu", v);
    return buf;
}

/* ---- Export ---------------------------------------------------------------------------- */

struct writer {
    FILE *f;
    size_t n;
    unsigned long long bytes;
    int err;     /* errno of the first failed write */
    int too_big; /* the bundle would pass BUNDLE_MAX_FILE */
};

static void write_event(void *ud, const uint8_t *event, size_t len)
{
    struct writer *w = ud;
    if (w->err || w->too_big)
        return;
    if (len == 0 || len > BUNDLE_MAX_EVENT) {
        w->err = EINVAL; /* the store never holds such an event; refuse to write one */
        return;
    }
    if (w->bytes + 4 + len > BUNDLE_MAX_FILE) {
        w->too_big = 1;
        return;
    }
    uint8_t head[4];
    put_u32(head, (uint32_t)len);
    if (fwrite(head, 1, 4, w->f) != 4 || fwrite(event, 1, len, w->f) != len) {
        w->err = errno ? errno : EIO;
        return;
    }
    w->n++;
    w->bytes += 4 + len;
}

static int bundle_export(struct cli *c, int argc, char **argv)
{
    struct args a;
    uint8_t gid[WW_ID_LEN];
    char q[48];
    int rc = args_parse(NULL, argc, argv, 2, 2, &a);
    if (rc == CLI_OK)
        rc = cli_group(c, a.pos[0], gid);
    if (rc != CLI_OK)
        return rc;
    const char *path = a.pos[1];
    if (!*path)
        return input_error(_("{1} must not be empty"), _("the file name"), NULL);

    /* Write next to the target and rename at the end: a failed export leaves no half file
     * that an import could mistake for a whole one. */
    size_t len = strlen(path);
    char *tmp = malloc(len + sizeof ".XXXXXX");
    if (!tmp)
        return fail(CLI_FAIL, _("out of memory"), NULL, NULL);
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".XXXXXX", sizeof ".XXXXXX");
    int fd = mkstemp(tmp);
    if (fd < 0) {
        rc = fail(CLI_FAIL, _("cannot write bundle '{1}': {2}"), quoted(path, q), strerror(errno));
        goto err_after_tmp;
    }
    struct writer w = {fdopen(fd, "wb"), 0, BUNDLE_MAGIC_LEN, 0, 0};
    if (!w.f) {
        rc = fail(CLI_FAIL, _("cannot write bundle '{1}': {2}"), quoted(path, q), strerror(errno));
        close(fd);
        goto err_after_file;
    }
    if (fwrite(BUNDLE_MAGIC, 1, BUNDLE_MAGIC_LEN, w.f) != BUNDLE_MAGIC_LEN)
        w.err = errno ? errno : EIO;

    /*
     * One call streams every event straight from the store to the file, so nothing is held
     * in memory. (A sender that pages instead advances its peer vector with
     * ww_sync_vv_advance.) The limits make `more` mean exactly "the group does not fit in
     * one bundle".
     */
    int more = 0;
    rc = ww_sync_missing(c->store, gid, NULL, 0, BUNDLE_MAX_EVENTS,
                         (size_t)(BUNDLE_MAX_FILE - BUNDLE_MAGIC_LEN), write_event, &w, &more);
    if (rc != 0) {
        fclose(w.f);
        lib_error(rc, _("cannot make the bundle"), NULL);
        rc = CLI_FAIL;
        goto err_after_file;
    }
    if (w.too_big || more) {
        fclose(w.f);
        rc = fail(CLI_FAIL, _("the group does not fit in a bundle of {1} MiB"), BUNDLE_MAX_FILE_MIB,
                  NULL);
        goto err_after_file;
    }
    if (!w.err && fflush(w.f) != 0)
        w.err = errno ? errno : EIO;
    if (!w.err && fsync(fileno(w.f)) != 0)
        w.err = errno;
    if (fclose(w.f) != 0 && !w.err)
        w.err = errno ? errno : EIO;
    if (!w.err && rename(tmp, path) != 0)
        w.err = errno;
    if (w.err) {
        rc = fail(CLI_FAIL, _("cannot write bundle '{1}': {2}"), quoted(path, q), strerror(w.err));
        goto err_after_file;
    }
    free(tmp);
    if (c->json)
        return json_result("bundle export",
                           json_pack("{s:o, s:o, s:I}", "group", j_hex(gid, WW_ID_LEN), "file",
                                     j_text(path), "events", (json_int_t)w.n));
    char n[24];
    say2(_("{1} events written to {2}"), num(w.n, n), path);
    return CLI_OK;

err_after_file:
    unlink(tmp);
err_after_tmp:
    free(tmp);
    return rc;
}

/* ---- Import ---------------------------------------------------------------------------- */

struct totals {
    size_t events, accepted, duplicates, deferred, rejected, forks, own_lost, rewritten;
    int first_error;
};

static int read_exact(FILE *f, void *buf, size_t n)
{
    return fread(buf, 1, n, f) == n ? 0 : -1;
}

/*
 * Checks the framing of the whole file without keeping any event: magic, then records whose
 * lengths are in range and end inside the file. Returns CLI_OK or an error already printed.
 */
static int check_framing(FILE *f, const char *path, unsigned long long size, size_t *n_out)
{
    char q[48], a[24], b[24];
    uint8_t magic[BUNDLE_MAGIC_LEN];
    if (size < BUNDLE_MAGIC_LEN || read_exact(f, magic, BUNDLE_MAGIC_LEN) != 0 ||
        memcmp(magic, BUNDLE_MAGIC, BUNDLE_MAGIC_LEN) != 0)
        return fail(CLI_INPUT, _("'{1}' is not a Wegwijs bundle"), quoted(path, q), NULL);
    unsigned long long pos = BUNDLE_MAGIC_LEN;
    size_t n = 0;
    while (pos < size) {
        uint8_t head[4];
        if (size - pos < 4 || read_exact(f, head, 4) != 0)
            return fail(CLI_INPUT,
                        _("bundle '{1}' is truncated: event {2} runs past the end of the file"),
                        quoted(path, q), num(n + 1, a));
        uint32_t len = get_u32(head);
        if (len == 0 || len > BUNDLE_MAX_EVENT)
            return fail3(CLI_INPUT,
                         _("bundle '{1}' is damaged: event {2} has an invalid length ({3} bytes)"),
                         quoted(path, q), num(n + 1, a), num(len, b));
        if (len > size - pos - 4)
            return fail(CLI_INPUT,
                        _("bundle '{1}' is truncated: event {2} runs past the end of the file"),
                        quoted(path, q), num(n + 1, a));
        if (fseeko(f, (off_t)len, SEEK_CUR) != 0)
            return fail(CLI_FAIL, _("cannot read bundle '{1}': {2}"), quoted(path, q),
                        strerror(errno));
        pos += 4 + len;
        n++;
    }
    *n_out = n;
    return CLI_OK;
}

static int apply_batch(struct cli *c, uint8_t **events, size_t *lens, size_t n, struct totals *t)
{
    struct ww_apply_result res;
    memset(&res, 0, sizeof res);
    int rc = ww_sync_apply(c->store, (const uint8_t *const *)events, lens, n, &res);
    for (size_t i = 0; i < n; i++) {
        free(events[i]);
        events[i] = NULL;
    }
    if (rc != 0) {
        return lib_error(rc, _("cannot import the bundle"), NULL);
    }
    t->accepted += res.accepted;
    t->duplicates += res.duplicates;
    t->deferred += res.deferred;
    t->rejected += res.rejected;
    t->forks += res.forks;
    t->own_lost += res.own_lost;
    t->rewritten += res.rewritten;
    if (!t->first_error && res.first_error)
        t->first_error = res.first_error;
    return CLI_OK;
}

/* Reads the records again, now keeping them, and applies them in batches. The file was
 * checked, but it may have changed since: every length is checked again. */
static int apply_records(struct cli *c, FILE *f, const char *path, size_t n_records,
                         struct totals *t)
{
    char q[48];
    uint8_t *events[BUNDLE_BATCH] = {0};
    size_t lens[BUNDLE_BATCH], n = 0;
    int rc = CLI_OK;
    if (fseeko(f, BUNDLE_MAGIC_LEN, SEEK_SET) != 0)
        return fail(CLI_FAIL, _("cannot read bundle '{1}': {2}"), quoted(path, q), strerror(errno));
    for (size_t i = 0; i < n_records && rc == CLI_OK; i++) {
        uint8_t head[4];
        uint32_t len = 0;
        if (read_exact(f, head, 4) == 0)
            len = get_u32(head);
        uint8_t *ev = len && len <= BUNDLE_MAX_EVENT ? malloc(len) : NULL;
        if (!ev || read_exact(f, ev, len) != 0) {
            free(ev);
            rc = len && len <= BUNDLE_MAX_EVENT && !ev
                     ? fail(CLI_FAIL, _("out of memory"), NULL, NULL)
                     : fail(CLI_INPUT, _("bundle '{1}' changed while it was read"), quoted(path, q),
                            NULL);
            break;
        }
        events[n] = ev;
        lens[n] = len;
        n++;
        t->events++;
        if (n == BUNDLE_BATCH) {
            rc = apply_batch(c, events, lens, n, t);
            n = 0;
        }
    }
    if (rc == CLI_OK && n > 0)
        rc = apply_batch(c, events, lens, n, t);
    for (size_t i = 0; i < BUNDLE_BATCH; i++)
        free(events[i]);
    return rc;
}

/* The owner's duties after events came in, as after a sync: a member who left is removed
 * with its cut-offs and the keys are renewed (ww_removals_rekey). */
struct owned {
    size_t n;
    uint8_t gid[64][WW_ID_LEN];
};

static void owned_cb(void *ud, const struct ww_group_info *g)
{
    struct owned *o = ud;
    if (g->is_owner && o->n < sizeof o->gid / sizeof o->gid[0])
        memcpy(o->gid[o->n++], g->id, WW_ID_LEN);
}

static int owner_duties(struct cli *c)
{
    struct owned o;
    o.n = 0;
    int rc = ww_groups_list(c->store, owned_cb, &o);
    for (size_t i = 0; rc == 0 && i < o.n; i++)
        rc = ww_removals_rekey(c->store, o.gid[i], NULL);
    return rc == 0 ? CLI_OK : lib_error(rc, _("cannot renew the group's keys"), NULL);
}

static int bundle_import(struct cli *c, int argc, char **argv)
{
    struct args a;
    char q[48];
    int rc = args_parse(NULL, argc, argv, 1, 1, &a);
    if (rc == CLI_OK)
        rc = cli_open(c, 0);
    if (rc != CLI_OK)
        return rc;
    const char *path = a.pos[0];
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below. */
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        return fail(errno == ENOENT ? CLI_NOTFOUND : CLI_FAIL, _("cannot open bundle '{1}': {2}"),
                    quoted(path, q), strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = fail(CLI_FAIL, _("cannot read bundle '{1}': {2}"), quoted(path, q), strerror(errno));
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return fail(CLI_INPUT, _("'{1}' is not a regular file"), quoted(path, q), NULL);
    }
    if (st.st_size < 0 || (unsigned long long)st.st_size > BUNDLE_MAX_FILE) {
        close(fd);
        return fail(CLI_INPUT, _("bundle '{1}' is larger than {2} MiB"), quoted(path, q),
                    BUNDLE_MAX_FILE_MIB);
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        rc = fail(errno == ENOENT ? CLI_NOTFOUND : CLI_FAIL, _("cannot open bundle '{1}': {2}"),
                  quoted(path, q), strerror(errno));
        close(fd);
        return rc;
    }
    size_t n_records = 0;
    struct totals t;
    memset(&t, 0, sizeof t);
    rc = check_framing(f, path, (unsigned long long)st.st_size, &n_records);
    if (rc == CLI_OK)
        rc = apply_records(c, f, path, n_records, &t);
    fclose(f);
    if (rc == CLI_OK && t.accepted)
        rc = owner_duties(c);
    if (rc != CLI_OK)
        return rc;

    char n[24];
    if (c->json) {
        rc = json_result(
            "bundle import",
            json_pack("{s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "file", j_text(path),
                      "events", (json_int_t)t.events, "accepted", (json_int_t)t.accepted,
                      "duplicates", (json_int_t)t.duplicates, "deferred", (json_int_t)t.deferred,
                      "rejected", (json_int_t)t.rejected, "forks", (json_int_t)t.forks, "own_lost",
                      (json_int_t)t.own_lost, "rewritten", (json_int_t)t.rewritten, "first_error",
                      t.first_error ? json_string(ww_err_name(t.first_error)) : json_null()));
        if (rc != CLI_OK)
            return rc;
    } else {
        say2(_("{1} events read from {2}"), num(t.events, n), path);
        printf("%s: %zu\n", _("accepted"), t.accepted);
        printf("%s: %zu\n", _("duplicates"), t.duplicates);
        printf("%s: %zu\n", _("deferred"), t.deferred);
        printf("%s: %zu\n", _("rejected"), t.rejected);
        printf("%s: %zu\n", _("forks"), t.forks);
        if (t.first_error)
            printf("%s: %s\n", _("first error"), ww_strerror_lang(t.first_error, msg_lang()));
    }
    own_lost_note(t.own_lost, t.rewritten);
    if (t.rejected)
        return fail(CLI_INPUT, _("{1} event(s) rejected: {2}"), num(t.rejected, n),
                    ww_strerror_lang(t.first_error, msg_lang()));
    if (t.forks)
        return fail(CLI_CONFLICT, _("{1} event(s) conflict with what this device already holds"),
                    num(t.forks, n), NULL);
    return CLI_OK;
}

int verb_bundle(struct cli *c, int argc, char **argv)
{
    if (argc < 2)
        return usage_error(_("'{1}' needs a subcommand: {2}; see 'wegwijs help'"), "bundle",
                           "export, import");
    if (!strcmp(argv[1], "export"))
        return bundle_export(c, argc - 1, argv + 1);
    if (!strcmp(argv[1], "import"))
        return bundle_import(c, argc - 1, argv + 1);
    char q[48];
    return usage_error(_("unknown command '{1} {2}'; see 'wegwijs help'"), "bundle",
                       quoted(argv[1], q));
}
