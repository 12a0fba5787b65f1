/*
 * fuzz_tzif.c - the TZif footer reader and POSIX rule parser on hostile file bytes. Whatever
 * they accept must give offsets within a day and a local date for any instant.
 */
#include <stdint.h>
#include <stdlib.h>

#include "day.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ww_tz tz;
    if (ww_tzif_parse(data, size, &tz) != 0)
        return 0;
    static const int64_t instants[] = {0, 1795417200, 1774746000, 1792890000, 253402300799};
    for (size_t i = 0; i < sizeof instants / sizeof instants[0]; i++) {
        int32_t off = ww_tz_offset(&tz, instants[i]);
        if (off < -26 * 3600 || off > 26 * 3600)
            abort();
        (void)ww_tz_date(&tz, instants[i] * 1000);
    }
    return 0;
}
