/*
 * qr.c - an invite code as a QR code on a terminal, for a phone's camera: libqrencode makes
 * the symbol, and each two rows of modules print as one line of Unicode half blocks, black
 * on white whatever the terminal's colours, with the quiet zone the standard asks for.
 */
#include <qrencode.h>

#include "cli.h"

#define QUIET 4 /* light modules around the symbol (ISO/IEC 18004) */

/* Whether module (x, y) of the symbol with its quiet zone is dark. */
static int dark(const QRcode *q, int x, int y)
{
    x -= QUIET;
    y -= QUIET;
    if (x < 0 || y < 0 || x >= q->width || y >= q->width)
        return 0;
    return q->data[y * q->width + x] & 1;
}

int qr_print(FILE *f, const char *text)
{
    QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!q)
        return CLI_FAIL;
    int side = q->width + 2 * QUIET;
    /* One line per two rows: the upper half block shows the upper module, the lower half
     * the lower one; the foreground is the dark colour. */
    static const char *const cell[4] = {" ", "\xe2\x96\x84", "\xe2\x96\x80", "\xe2\x96\x88"};
    for (int y = 0; y < side; y += 2) {
        fputs("\x1b[30;107m", f);
        for (int x = 0; x < side; x++)
            fputs(cell[dark(q, x, y) << 1 | dark(q, x, y + 1)], f);
        fputs("\x1b[0m\n", f);
    }
    QRcode_free(q);
    return ferror(f) ? CLI_FAIL : CLI_OK;
}
