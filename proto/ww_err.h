/*
 * ww_err.h - the one list of Wegwijs error codes.
 *
 * Every function in the library that can fail in more than one way returns 0 or a
 * negative code from this list. libuv codes (negative errno values) pass through
 * unchanged; our own codes start at WW_E_BASE so the two never collide. SQLite,
 * libsodium and msgpack-c results are translated where they are called.
 *
 * Each entry carries an English text (logs, developers) and a Dutch one (the users'
 * default language); ww_strerror_lang() picks one.
 */
#ifndef WW_ERR_H
#define WW_ERR_H

#define WW_E_BASE (-30000)

/* X(NAME, english, dutch) */
#define WW_ERRORS(X)                                                                               \
    X(EINVAL, "invalid argument", "ongeldige invoer")                                              \
    X(ENOMEM, "out of memory", "onvoldoende geheugen")                                             \
    X(ETRUNC, "input is truncated", "invoer is afgebroken")                                        \
    X(ETOOBIG, "input exceeds a limit", "invoer is te groot")                                      \
    X(ETYPE, "unexpected type in input", "onverwacht type in invoer")                              \
    X(ENONCANON, "input is not canonically encoded", "invoer is niet canoniek gecodeerd")          \
    X(EUTF8, "text is not valid UTF-8 or contains control characters",                             \
      "tekst is geen geldige UTF-8 of bevat stuurtekens")                                          \
    X(EDEPTH, "input is nested too deeply", "invoer is te diep genest")                            \
    X(ETRAILING, "trailing bytes after input", "extra bytes na de invoer")                         \
    X(EVERSION, "unsupported format version", "niet-ondersteunde formaatversie")                   \
    X(EUNKNOWN, "unknown kind", "onbekende soort")                                                 \
    X(ERANGE, "value out of range", "waarde buiten bereik")                                        \
    X(EBADSIG, "signature does not verify", "handtekening klopt niet")                             \
    X(EBADHASH, "hash does not match", "hash klopt niet")                                          \
    X(ECHAIN, "event does not follow its author's previous event",                                 \
      "gebeurtenis sluit niet aan op de vorige van dezelfde auteur")                               \
    X(EFORK, "two different events with the same author and sequence number",                      \
      "twee verschillende gebeurtenissen met dezelfde auteur en volgnummer")                       \
    X(EEPOCH, "unknown key epoch", "onbekende sleutelperiode")                                     \
    X(ENOTMEMBER, "author is not a member of the group", "auteur is geen lid van de groep")        \
    X(EROLE, "this role may not do that", "deze rol mag dat niet")                                 \
    X(ESTUDENTCAP, "the group already has four students", "de groep heeft al vier studenten")      \
    X(ESENIORCAP, "the group already has a senior student", "de groep heeft al een ouderejaars")   \
    X(ENOKEY, "no key to read this", "geen sleutel om dit te lezen")                               \
    X(EDECRYPT, "decryption failed", "ontsleutelen mislukt")                                       \
    X(ECRYPTO, "cryptographic operation failed", "cryptografische bewerking mislukt")              \
    X(EGROUP, "unknown group", "onbekende groep")                                                  \
    X(ENOTFOUND, "not found", "niet gevonden")                                                     \
    X(EEXIST, "already exists", "bestaat al")                                                      \
    X(ESTATE, "not possible in the current state", "niet mogelijk in de huidige toestand")         \
    X(ESTORE, "store error", "fout in de opslag")                                                  \
    X(ENEWER, "store was written by a newer version",                                              \
      "opslag is door een nieuwere versie gemaakt")                                                \
    X(ECORRUPT, "store is corrupt", "opslag is beschadigd")                                        \
    X(EFULL, "disk is full", "schijf is vol")                                                      \
    X(EBUSY, "store is busy", "opslag is bezet")                                                   \
    X(EIO, "input/output error", "invoer-/uitvoerfout")                                            \
    X(EPERM, "permission denied", "geen toegang")                                                  \
    X(EAUTH, "authentication failed", "authenticatie mislukt")                                     \
    X(EDENIED, "the other side does not sync this group with this device",                         \
      "de andere kant synchroniseert deze groep niet met dit apparaat")                            \
    X(EUSED, "the invite was already used", "de uitnodiging is al gebruikt")                       \
    X(EEXPIRED, "the invite has expired", "de uitnodiging is verlopen")                            \
    X(EREVOKED, "the invite was revoked", "de uitnodiging is ingetrokken")                         \
    X(EBADCODE, "the invite code is mistyped or incomplete",                                       \
      "de uitnodigingscode is verkeerd getypt of onvolledig")                                      \
    X(EAGGKEY, "the group names other climate keys than its hub confirmed",                        \
      "de groep noemt andere sleutels voor de klimaatvragen dan de hub bevestigde")                \
    X(EQUOTA, "the hub takes no more events from this author for now; sync again tomorrow",        \
      "de hub neemt voorlopig niets meer aan van deze auteur; synchroniseer morgen opnieuw")

enum ww_err {
    WW_E_FIRST_ = WW_E_BASE,
#define WW_ERR_ENUM(name, en, nl) WW_##name,
    WW_ERRORS(WW_ERR_ENUM)
#undef WW_ERR_ENUM
        WW_E_LAST_
};

enum ww_lang { WW_LANG_NL = 0, WW_LANG_EN = 1 };

/* Text for any code: ours, or a negative errno from libuv or the C library. Never NULL. */
const char *ww_strerror(int rc);
const char *ww_strerror_lang(int rc, enum ww_lang lang);
/* The code's name ("WW_ECHAIN", "ENOENT"), for logs and tests. Never NULL. */
const char *ww_err_name(int rc);

#endif
