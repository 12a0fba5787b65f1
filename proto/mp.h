/*
 * mp.h - the msgpack subset of the wire format: a bounded reader and a limited writer.
 *
 * Private to proto/ (and its tests). The reader is a cursor over a borrowed buffer that
 * never allocates and accepts only canonical msgpack (the form msgpack-c's packer emits:
 * smallest integer, string, binary and container headers; no float, no ext, no 0xc1;
 * map keys strictly ascending by their encoded bytes). Every length and count it returns
 * has been checked against the bytes that remain. The writer wraps msgpack-c's packer
 * around a struct ww_buf, with a hard limit on what one encode may append.
 */
#ifndef WW_MP_H
#define WW_MP_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "buf.h"
#include "proto.h"

/* Evaluates a call returning 0 or a WW_E* code and returns the code from the caller. */
#define WW_TRY(expr)                                                                               \
    do {                                                                                           \
        int try_rc_ = (expr);                                                                      \
        if (try_rc_ != 0)                                                                          \
            return try_rc_;                                                                        \
    } while (0)

/* ---- Reader ---------------------------------------------------------------------------- */

struct ww_mp_reader {
    const uint8_t *buf;
    size_t len;
    size_t pos; /* invariant: pos <= len */
};

void ww_mp_reader_init(struct ww_mp_reader *r, const uint8_t *buf, size_t len);
size_t ww_mp_remaining(const struct ww_mp_reader *r);
/* 0 when every byte has been consumed, else WW_ETRAILING. */
int ww_mp_finish(const struct ww_mp_reader *r);

/*
 * Each read consumes one value only on success. Common errors: WW_ETRUNC when the input
 * ends inside the value, WW_ENONCANON for a header not in its smallest form, WW_ETYPE for
 * a value of another type (and for float, ext and 0xc1 anywhere).
 */

/* An array header. WW_ETOOBIG when the count exceeds max; WW_ETRUNC when the count exceeds
 * the bytes that remain (each element takes at least one byte). */
int ww_mp_read_array(struct ww_mp_reader *r, uint32_t max, uint32_t *n);
/* A non-negative integer. A negative one is WW_ERANGE; a negative-integer encoding of a
 * non-negative value is WW_ENONCANON. */
int ww_mp_read_uint(struct ww_mp_reader *r, uint64_t *out);
/* As ww_mp_read_uint, and WW_ERANGE above max. */
int ww_mp_read_uint_max(struct ww_mp_reader *r, uint64_t max, uint64_t *out);
/* A bin of at most max bytes (WW_ETOOBIG), borrowed from the input. */
int ww_mp_read_bin(struct ww_mp_reader *r, size_t max, struct ww_slice *out);
/* A bin of exactly n bytes copied to dst: longer is WW_ETOOBIG, shorter WW_ERANGE. */
int ww_mp_read_bin_exact(struct ww_mp_reader *r, size_t n, uint8_t *dst);
/* A bin of 0 or n bytes: *present says which; when present it is copied to dst. */
int ww_mp_read_bin_opt(struct ww_mp_reader *r, size_t n, uint8_t *dst, int *present);
/* A str of at most max bytes (WW_ETOOBIG) that passes ww_text_valid (else WW_EUTF8). */
int ww_mp_read_str(struct ww_mp_reader *r, size_t max, struct ww_slice *out);
/* 1 (and consumes it) when the next value is nil; else 0 and consumes nothing. */
int ww_mp_take_nil(struct ww_mp_reader *r);
/*
 * Validates and consumes one value of any allowed type. depth is the number of containers
 * that enclose it, so a container read here sits at depth + 1, which must not exceed
 * WW_MAX_DEPTH (WW_EDEPTH). Strings are checked with ww_text_valid; map keys must be
 * strictly ascending by their encoded bytes (WW_ENONCANON). Recursion is bounded by the
 * depth limit and the work by the input length.
 */
int ww_mp_skip(struct ww_mp_reader *r, int depth);

/*
 * The header of a struct: an array of at least `known` fields (fewer is WW_ETYPE) and at
 * most WW_MAX_EXT_FIELDS more (WW_ETOOBIG). *n_ext receives the number of extra fields.
 */
int ww_mp_read_fields(struct ww_mp_reader *r, uint32_t known, uint32_t *n_ext);
/* Checks a field count already read: the same rules as ww_mp_read_fields. */
int ww_mp_split_fields(uint32_t n, uint32_t known, uint32_t *n_ext);
/* Validates n unknown trailing fields of a struct whose array sits at `depth` and keeps
 * them raw in out. */
int ww_mp_read_ext(struct ww_mp_reader *r, uint32_t n, int depth, struct ww_ext *out);

/* ---- Checks shared by encoders and decoders --------------------------------------------- */

/* An ext as an encoder receives it: n <= WW_MAX_EXT_FIELDS, raw exactly n valid values for a
 * struct at `depth` (raw empty when n is 0). */
int ww_mp_check_ext(const struct ww_ext *e, int depth);
/* A text field: WW_ETOOBIG above max, WW_ERANGE below min, WW_EUTF8 when not valid text,
 * WW_EINVAL for a non-empty slice without bytes. */
int ww_mp_check_text(struct ww_slice s, size_t min, size_t max);
/* 1 when all n bytes are zero. */
int ww_mp_all_zero(const uint8_t *p, size_t n);

/* ---- Writer ---------------------------------------------------------------------------- */

struct ww_mp_writer {
    msgpack_packer pk;
    struct ww_buf *out;
    size_t start; /* out->len when the writer was started */
    size_t limit; /* at most this many bytes appended */
    int rc;       /* first error; every later write is skipped */
};

/* Starts appending to out; the encoded value may take at most limit bytes (WW_ETOOBIG). */
void ww_mp_writer_init(struct ww_mp_writer *w, struct ww_buf *out, size_t limit);
void ww_mp_put_array(struct ww_mp_writer *w, uint32_t n);
void ww_mp_put_uint(struct ww_mp_writer *w, uint64_t v);
void ww_mp_put_bin(struct ww_mp_writer *w, const void *p, size_t n);
void ww_mp_put_str(struct ww_mp_writer *w, struct ww_slice s);
void ww_mp_put_nil(struct ww_mp_writer *w);
/* Appends already-encoded msgpack as is (unknown trailing fields). */
void ww_mp_put_raw(struct ww_mp_writer *w, const void *p, size_t n);
/* Returns the first error, if any, after truncating out back to where it started, so a
 * failed encode leaves out as it found it. */
int ww_mp_writer_finish(struct ww_mp_writer *w);

#endif
