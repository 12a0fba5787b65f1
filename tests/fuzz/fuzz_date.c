/*
 * fuzz_date.c - ww_date_parse on hostile text: whatever it accepts formats back to exactly
 * the same ten characters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wegwijs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[64];
    if (size >= sizeof text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    uint32_t date;
    if (ww_date_parse(text, &date) != 0)
        return 0;
    char back[11];
    ww_date_format(date, back);
    if (strlen(text) != 10 || memcmp(back, text, 10) != 0)
        abort();
    return 0;
}
