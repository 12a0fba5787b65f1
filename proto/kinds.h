/*
 * kinds.h - the one list of event kinds this version knows.
 *
 * Each X(...) line names one kind: its wire number, its enum suffix (WW_KIND_<NAME>), its
 * lowercase name (the stem of its codec functions in body.c, of its fuzz target
 * tests/fuzz/fuzz_body_<name>.c and of its seed folder tests/fuzz/corpus/body_<name>/),
 * its dotted wire name as in docs/PROTOCOL.md, and the member of `union` in struct ww_body
 * that holds its decoded fields.
 *
 * Invariants: lines are in ascending number order with no gaps, starting at 1, so the last
 * line is WW_KIND_MAX_KNOWN and a table indexed by kind has no holes; numbers are wire
 * values and are never reused or renumbered; tests/unit/test_kinds.c fails when a kind lacks
 * its wire name, vector, fuzz target or seeds.
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
    X(16, ERASE, erase, "erase", erase)                                                            \
    X(17, REACTION_DEL, reaction_del, "reaction.del", reaction_del)                                \
    X(18, GROUP_HUB, group_hub, "group.hub", group_hub)                                            \
    X(19, INVITE_CREATE, invite_create, "invite.create", invite_create)                            \
    X(20, INVITE_REVOKE, invite_revoke, "invite.revoke", invite_revoke)                            \
    X(21, SYNC_REPORT, sync_report, "sync.report", sync_report)                                    \
    X(22, CLIMATE_SHARE, climate_share, "climate.share", climate_share)                            \
    X(23, GROUP_CLIMATE, group_climate, "group.climate", group_climate)                            \
    X(24, DEVICE_INVITE, device_invite, "device.invite", device_invite)                            \
    X(25, DEVICE_JOIN, device_join, "device.join", device_join)                                    \
    X(26, OWNER_HANDOVER, owner_handover, "owner.handover", owner_handover)                        \
    X(27, RECOVERY_KEY, recovery_key, "recovery.key", recovery_key)                                \
    X(28, OWNER_RECOVER, owner_recover, "owner.recover", owner_recover)                            \
    X(29, MEMBER_PROFILE, member_profile, "member.profile", member_profile)

#endif
