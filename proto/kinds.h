/*
 * kinds.h - the one list of event kinds.
 */
#ifndef WW_KINDS_H
#define WW_KINDS_H

/* X(NUM, NAME, name, "wire.name", body_struct_member) */
#define WW_KINDS(X)                                                                                \
    X(1, GROUP_CREATE, group_create, "group.create", group_create)                                 \
    X(2, MEMBER_ADD, member_add, "member.add", member_add)                                         \
    X(3, MEMBER_REMOVE, member_remove, "member.remove", member_remove)                             \
    X(4, DEVICE_ADD, device_add, "device.add", device_add)                                         \
    X(5, KEY_EPOCH, key_epoch, "key.epoch", keys)                                                  \
    X(6, KEY_SHARE, key_share, "key.share", keys)                                                  \
    X(7, CHALLENGE_DEFINE, challenge_define, "challenge.define", challenge_define)                 \
    X(8, CHALLENGE_SCHEDULE, challenge_schedule, "challenge.schedule", challenge_schedule)         \
    X(9, DAY_OFF, day_off, "day.off", day_off)                                                     \
    X(10, REFLECTION_PUT, reflection_put, "reflection.put", reflection)                            \
    X(11, CLIMATE_PUT, climate_put, "climate.put", climate)                                        \
    X(12, REACTION_PUT, reaction_put, "reaction.put", reaction)                                    \
    X(13, SIGNAL_RAISE, signal_raise, "signal.raise", signal_raise)                                \
    X(14, SIGNAL_RESOLVE, signal_resolve, "signal.resolve", signal_resolve)                        \
    X(15, SIGNOFF_PUT, signoff_put, "signoff.put", signoff)                                        \
    X(16, ERASE, erase, "erase", erase)

#endif
