/*
 * ww_enums.h - the small enumerations and types shared by the wire format and the public
 * API. Their numeric values are wire values: never renumber, only add.
 */
#ifndef WW_ENUMS_H
#define WW_ENUMS_H

#include <stdint.h>

enum ww_role { WW_ROLE_COACH = 1, WW_ROLE_STUDENT = 2, WW_ROLE_SENIOR = 3 };
enum ww_track { WW_TRACK_NONE = 0, WW_TRACK_BOL = 1, WW_TRACK_BBL = 2 };
enum ww_status { WW_STATUS_DONE = 1, WW_STATUS_PARTLY = 2, WW_STATUS_NOT = 3 };
enum ww_share { WW_SHARE_SELF = 1, WW_SHARE_GROUP = 2, WW_SHARE_COACH = 3 };
/* What was in the way (bit mask in reflection.put). */
enum ww_obstacle {
    WW_OBST_NO_CHANCE = 1 << 0,     /* geen gelegenheid */
    WW_OBST_NO_SUPERVISOR = 1 << 1, /* geen tijd bij begeleider */
    WW_OBST_DID_NOT_DARE = 1 << 2,  /* durfde het niet */
    WW_OBST_NOT_FITTING = 1 << 3,   /* paste niet bij de cliënten */
    WW_OBST_OTHER_TASKS = 1 << 4,   /* andere taken gingen voor */
    WW_OBST_ABSENT = 1 << 5,        /* geen dienst / ziek */
    WW_OBST_ALL = (1 << 6) - 1
};
enum ww_signal_category {
    WW_SIGCAT_WORKLOAD = 1,  /* werkdruk */
    WW_SIGCAT_GUIDANCE = 2,  /* begeleiding */
    WW_SIGCAT_SAFETY = 3,    /* sfeer en veiligheid in het team */
    WW_SIGCAT_LEARNING = 4,  /* leren en schoolopdrachten */
    WW_SIGCAT_WELLBEING = 5, /* welzijn */
    WW_SIGCAT_OTHER = 6,     /* overig */
    WW_SIGCAT_MAX = 6
};
enum ww_signal_state { WW_SIGNAL_DISCUSSED = 1, WW_SIGNAL_RESOLVED = 2 };
/* Development scale for sign-off (Nooit / Oefenen / Voldoende / Goed). */
enum ww_level {
    WW_LEVEL_NEVER = 1,
    WW_LEVEL_PRACTISING = 2,
    WW_LEVEL_SUFFICIENT = 3,
    WW_LEVEL_GOOD = 4
};
enum ww_signoff_role {
    WW_SIGNOFF_NONE = 0,
    WW_SIGNOFF_WERKBEGELEIDER = 1,
    WW_SIGNOFF_PRAKTIJKOPLEIDER = 2,
    WW_SIGNOFF_STUDENTCOACH = 3
};
/* CanMEDS roles, numbered as in the V&V 2020 profile. */
enum ww_canmeds {
    WW_CANMEDS_ZV = 1,
    WW_CANMEDS_CO = 2,
    WW_CANMEDS_SW = 3,
    WW_CANMEDS_RP = 4,
    WW_CANMEDS_GB = 5,
    WW_CANMEDS_OR = 6,
    WW_CANMEDS_PK = 7
};

#define WW_TIP_LEN 8 /* bytes of an event hash in a version-vector entry's tip */

/* One entry of a version vector: for one author, the highest seq such that every event
 * 1..seq is held, and the first WW_TIP_LEN bytes of the hash of the event held at that
 * seq (the tip), so that a peer holding another event there sees the fork. The same type
 * on the wire (VV frames carry the tip, ACK frames do not) and in the API; a tip of zero
 * bytes is never compared (an ACK's entries, a vector made by hand). */
struct ww_vv_item {
    uint8_t author[32]; /* the author's Ed25519 device key */
    uint64_t seq;
    uint8_t tip[WW_TIP_LEN];
};

#endif
