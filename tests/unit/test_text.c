/*
 * test_text.c - the text rule's fast path agrees with a plain byte-by-byte reference on
 * random mixes of printable ASCII, controls, DEL and UTF-8 at every alignment.
 */
#include <sodium.h>
#include <string.h>

#include "proto.h"
#include "runner.h"

/* The rule, one byte at a time, as written in PROTOCOL.md. */
static int reference(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint32_t c = s[i], cp;
        size_t need;
        if (c < 0x80) {
            if ((c < 0x20 && c != 9 && c != 10) || c == 0x7f)
                return 0;
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            need = 1, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            need = 2, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            need = 3, cp = c & 0x07;
        } else {
            return 0;
        }
        if (len - i - 1 < need)
            return 0;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        static const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min[need] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += need + 1;
    }
    return 1;
}

TEST(text_fast_path_matches_reference)
{
    static const char *const pieces[] = {"abcdefgh",     "Zorg ",
                                         "\t",           "\n",
                                         "\r",           "\x7f",
                                         "\x01",         "\xc3\xa9",
                                         "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                         "\xc3",         "\xed\xa0\x80",
                                         "\xc0\xaf",     "\xf4\x90\x80\x80",
                                         " ~",           "\x80",
                                         "\xff"};
    uint8_t seed[32] = {42}, buf[96];
    long valid = 0, invalid = 0;
    for (int round = 0; round < 20000; round++) {
        uint8_t r[40];
        seed[0] = (uint8_t)round, seed[1] = (uint8_t)(round >> 8);
        randombytes_buf_deterministic(r, sizeof r, seed);
        size_t n = 0, pad = r[0] % 9;
        memset(buf, 'a', pad); /* shift the text against 8-byte boundaries */
        n = pad;
        /* Mostly printable, now and then something else. */
        for (size_t k = 1; k < 1 + (size_t)(r[1] % 20) && n < 80; k++) {
            const char *p = r[k + 1] % 4 ? pieces[r[k + 1] % 2] : pieces[r[k + 1] % 17];
            size_t l = strlen(p);
            if (n + l > sizeof buf)
                break;
            memcpy(buf + n, p, l);
            n += l;
        }
        int want = reference(buf, n);
        ASSERT_EQ(ww_text_valid(buf, n), want);
        want ? valid++ : invalid++;
    }
    ASSERT_GT(valid, 2000);
    ASSERT_GT(invalid, 2000);
}
