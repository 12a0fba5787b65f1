/*
 * text.c - the one rule for text on the wire: strict UTF-8 without control characters.
 *
 * Accepted: well-formed UTF-8 (RFC 3629: shortest form only, no UTF-16 surrogates
 * U+D800..U+DFFF, nothing above U+10FFFF) whose code points are not C0 controls other than
 * tab (U+0009) and line feed (U+000A), and not DEL (U+007F). Everything else is rejected,
 * including carriage return and NUL, so a text field never needs escaping or trimming.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto.h"

/* 1 when b is a continuation byte 10xxxxxx. */
static int cont(uint8_t b)
{
    return (b & 0xc0) == 0x80;
}

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* 1 when all 8 bytes of w are printable ASCII (0x20..0x7e): the common case, 8 at a time. */
static int printable8(uint64_t w)
{
    uint64_t below_space = (w - 0x20 * ONES) & ~w & HIGHS; /* some byte < 0x20 */
    uint64_t x = w ^ (0x7f * ONES);
    uint64_t del = (x - ONES) & ~x & HIGHS; /* some byte == 0x7f */
    return ((w & HIGHS) | below_space | del) == 0;
}

/* Walks the bytes once, checking each sequence's lead byte and the range of its first
 * continuation byte, which rules out overlongs, surrogates and code points above U+10FFFF. */
int ww_text_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint64_t w;
        if (len - i >= 8 && (memcpy(&w, s + i, 8), printable8(w))) {
            i += 8;
            continue;
        }
        uint8_t c = s[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
                return 0;
            i++;
            continue;
        }
        size_t need;
        uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the first continuation byte */
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0)
                lo = 0xa0; /* below is overlong */
            else if (c == 0xed)
                hi = 0x9f; /* above is a surrogate */
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0)
                lo = 0x90; /* below is overlong */
            else if (c == 0xf4)
                hi = 0x8f; /* above is beyond U+10FFFF */
        } else {
            return 0; /* 0x80-0xc1 (continuation or overlong lead) or 0xf5-0xff */
        }
        if (len - i - 1 < need)
            return 0;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t k = 2; k <= need; k++)
            if (!cont(s[i + k]))
                return 0;
        i += need + 1;
    }
    return 1;
}
