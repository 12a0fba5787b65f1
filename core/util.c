/*
 * util.c - small helpers: hex, and a JSON writer with correct string escaping.
 * The JSON writer records the first error in j->rc and ignores later calls, so callers
 * check once at the end.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "store.h"

void ww_hex(const uint8_t *bin, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bin[i] >> 4];
        out[2 * i + 1] = digits[bin[i] & 15];
    }
    out[2 * len] = '\0';
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int ww_unhex(const char *hex, uint8_t *bin, size_t len)
{
    if (!hex || strlen(hex) != 2 * len)
        return WW_EINVAL;
    for (size_t i = 0; i < len; i++) {
        int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return WW_EINVAL;
        bin[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

struct ww_slice ww_slice_of(const char *t)
{
    struct ww_slice sl = {(const uint8_t *)(t ? t : ""), t ? strlen(t) : 0};
    return sl;
}

int ww_text_check(const char *t, size_t max, int required)
{
    if (!t || !*t)
        return required ? WW_EINVAL : 0;
    size_t n = strlen(t);
    if (n > max)
        return WW_ETOOBIG;
    return ww_text_valid((const uint8_t *)t, n) ? 0 : WW_EUTF8;
}

void ww_date_ref(uint32_t date, uint8_t ref[4])
{
    ref[0] = (uint8_t)(date >> 24);
    ref[1] = (uint8_t)(date >> 16);
    ref[2] = (uint8_t)(date >> 8);
    ref[3] = (uint8_t)date;
}

void ww_free_string(char *p)
{
    ww_free(p);
}

void ww_json_init(struct ww_json *j)
{
    ww_buf_init(&j->b, 64u << 20);
    j->rc = 0;
    j->first = 1;
}

static void put(struct ww_json *j, const void *p, size_t n)
{
    if (j->rc == 0)
        j->rc = ww_buf_append(&j->b, p, n);
}

static void comma(struct ww_json *j)
{
    if (!j->first)
        put(j, ",", 1);
    j->first = 0;
}

void ww_json_raw(struct ww_json *j, const char *s)
{
    put(j, s, strlen(s));
}

void ww_json_open(struct ww_json *j, char c)
{
    comma(j);
    put(j, &c, 1);
    j->first = 1;
}

void ww_json_close(struct ww_json *j, char c)
{
    put(j, &c, 1);
    j->first = 0;
}

static void string(struct ww_json *j, const char *s, size_t len)
{
    put(j, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(j, e, 2);
        } else if (c == '\n') {
            put(j, "\\n", 2);
        } else if (c == '\t') {
            put(j, "\\t", 2);
        } else if (c < 0x20 || c == 0x7f) {
            char e[8];
            snprintf(e, sizeof e, "\\u%04x", c);
            put(j, e, 6);
        } else {
            put(j, &s[i], 1);
        }
    }
    put(j, "\"", 1);
}

void ww_json_key(struct ww_json *j, const char *key)
{
    comma(j);
    string(j, key, strlen(key));
    put(j, ":", 1);
    j->first = 1; /* the value follows without a comma */
}

void ww_json_str(struct ww_json *j, const char *s, size_t len)
{
    comma(j);
    string(j, s ? s : "", s ? len : 0);
}

void ww_json_int(struct ww_json *j, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%lld", (long long)v);
    comma(j);
    put(j, num, (size_t)n);
}

void ww_json_hexval(struct ww_json *j, const uint8_t *bin, size_t len)
{
    char hex[2 * 64 + 1];
    if (len > 64)
        len = 64;
    ww_hex(bin, len, hex);
    ww_json_str(j, hex, 2 * len);
}
