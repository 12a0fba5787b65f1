/*
 * err.c - texts and names for the error codes in ww_err.h.
 */
#include <string.h>

#include "ww_err.h"

static const char *const texts_en[] = {
#define WW_ERR_TEXT(name, en, nl) en,
    WW_ERRORS(WW_ERR_TEXT)
#undef WW_ERR_TEXT
};

static const char *const texts_nl[] = {
#define WW_ERR_TEXT(name, en, nl) nl,
    WW_ERRORS(WW_ERR_TEXT)
#undef WW_ERR_TEXT
};

static const char *const names[] = {
#define WW_ERR_NAME(name, en, nl) "WW_" #name,
    WW_ERRORS(WW_ERR_NAME)
#undef WW_ERR_NAME
};

static int index_of(int rc)
{
    if (rc > WW_E_FIRST_ && rc < WW_E_LAST_)
        return rc - WW_E_FIRST_ - 1;
    return -1;
}

const char *ww_strerror_lang(int rc, enum ww_lang lang)
{
    if (rc == 0)
        return lang == WW_LANG_EN ? "success" : "gelukt";
    int i = index_of(rc);
    if (i >= 0)
        return lang == WW_LANG_EN ? texts_en[i] : texts_nl[i];
    if (rc < 0 && rc > -4096)
        return strerror(-rc); /* errno values from the C library or libuv */
    return lang == WW_LANG_EN ? "unknown error" : "onbekende fout";
}

const char *ww_strerror(int rc)
{
    return ww_strerror_lang(rc, WW_LANG_EN);
}

const char *ww_err_name(int rc)
{
    int i = index_of(rc);
    if (i >= 0)
        return names[i];
    if (rc == 0)
        return "OK";
    return "ERRNO";
}
