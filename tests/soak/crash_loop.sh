#!/bin/sh
# crash_loop.sh - kill -9 soak of real processes: a hub and five devices (a coach, three
# students, a senior) that write and sync through it, while a random one of them is killed
# with SIGKILL at a random moment and restarted, KILLS times over. Then every device syncs
# and the run checks what the group holds:
#
#   - every event a device reported as written (reflect, react and signal raise print the
#     event id once it is committed) is held by every device and by the hub;
#   - no event is held twice, none waits for a cause, no fork was recorded;
#   - the materialised state that does not depend on who can read a body is the same on
#     every device and the hub, and every device lists the same reflections once each;
#   - PRAGMA integrity_check is "ok" on every store.
#
# Then the hub is lost: its folder is deleted while the devices are offline, a fresh hub
# starts, every device syncs with it, and it must hold every event again.
#
#   usage: sh tests/soak/crash_loop.sh BINARY [KILLS] [SEED]
#   env:   SOAK_TIME      the time limit in seconds (default 60 + KILLS / 2)
#          SOAK_KEEP      keep the work folder (it is always kept when a check fails)
#          SOAK_SABOTAGE  delete one reported event from one store before the checks: the
#                         run must then fail (a check of the checks)
#
# Prints "bench: crash_loop_kills N", "bench: crash_loop_events_lost N",
# "bench: crash_loop_integrity_failures N", "bench: lost_hub_events_missing N" (plus the
# seed and what else it found), and
# exits non-zero on any loss or failure, or when the kills did not all happen in time.
# A device is its data folder: "killing the device" kills the wegwijs process running on it
# at that moment (a write, a sync, or a sync --watch), and its next command restarts it.
# The hub is restarted on the same port. The seed fixes every choice; timing does not
# repeat exactly. Every process started here is stopped on exit.
set -u

# A small generator for shell arithmetic (64-bit): rnd N sets r to 0..N-1.
rnd() {
    rs=$(((rs * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff))
    r=$(((rs >> 17) % $1))
}
ms_sleep() { sleep "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))"; }
day() { date -u -d "$1 days" +%F; }

# ---- The devices --------------------------------------------------------------------------
# One worker per device: an endless round of writes and syncs, each one wegwijs process
# whose pid is in $work/$d.pid while it runs. A write that exits 0 printed its event id:
# that id goes to $work/written (id, device).
worker() {
    n=0
    while [ ! -e "$work/stop" ]; do
        n=$((n + 1))
        a=$(cat "$work/hub.addr")
        rnd 100
        act=$r
        if [ "$d" = coach ] && [ $act -lt 45 ]; then
            act=$((act + 45)) # the coach neither reflects nor raises signals
        fi
        out="$work/$d.cmd.out"
        watch=0
        case $act in
            [0-9] | [1-3][0-9]) # 0..39: a reflection on one of the last ten days
                rnd 10
                dt=$(day "-$r")
                rnd 3
                case $r in 0) sh=groep ;; 1) sh=coach ;; *) sh=ik ;; esac
                set -- reflect "$g" --status gedaan --date "$dt" --share "$sh" \
                    --situatie "soak-$d-$n" --reflectie "tekst $n van $d"
                ;;
            4[0-4]) # a signal
                set -- signal raise "$g" --category werkdruk --text "signaal-$d-$n"
                ;;
            4[5-9] | 5[0-9]) # a reaction to a reflection someone wrote
                rnd 20
                t=$(grep ' groep$' "$work/written" 2>/dev/null | tail -n 20 |
                    awk -v k=$r 'NR == 1 || NR == k + 1 { id = $1 } END { print id }')
                if [ -z "$t" ]; then
                    set -- sync "$a" --quiet
                else
                    set -- react "$g" "$t" "reactie-$d-$n"
                fi
                ;;
            6[0-4])
                if [ "$d" = coach ]; then
                    rnd 14
                    set -- challenge schedule "$g" "$(day "$r")" W0$((r % 9 + 1))
                else
                    rnd 10
                    set -- dayoff "$g" "$(day "-$r")"
                fi
                ;;
            6[5-9] | 7[0-9] | 8[0-9]) # a sync
                set -- sync "$a" --quiet
                ;;
            *) # a sync that stays connected for a while, then is told to stop
                set -- sync "$a" --watch --quiet
                watch=1
                ;;
        esac
        "$bin" --data "$work/$d" "$@" >"$out" 2>>"$work/$d.err" &
        p=$!
        echo "$p" >"$work/$d.pid"
        if [ $watch = 1 ]; then
            rnd 800
            ms_sleep $((200 + r))
            kill -TERM "$p" 2>/dev/null
        fi
        wait "$p"
        rc=$?
        : >"$work/$d.pid"
        if [ $rc -eq 0 ] && { [ "$1" = reflect ] || [ "$1" = react ] || [ "$1" = signal ]; }; then
            id=$(grep -E '^[0-9a-f]{64}$' "$out" | tail -n 1)
            if [ -n "$id" ]; then
                tag=" $1"
                [ "$1" = reflect ] && tag=" $sh"
                echo "$id $d$tag" >>"$work/written"
            else
                echo "crash_loop: $d: $1 exited 0 without an event id" >>"$work/anomalies"
            fi
        fi
    done
}

if [ "${1:-}" = --worker ]; then
    bin=$2 work=$3 g=$4 d=$5 rs=$6
    worker
    exit 0
fi

if [ $# -lt 1 ]; then
    echo "usage: sh tests/soak/crash_loop.sh BINARY [KILLS] [SEED]" >&2
    exit 2
fi
case $1 in /*) bin=$1 ;; *) bin=$(pwd)/$1 ;; esac
kills_wanted=${2:-50}
seed=${3:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
limit=${SOAK_TIME:-$((60 + kills_wanted / 2))}
command -v sqlite3 >/dev/null || {
    echo "crash_loop: sqlite3 (the command) is needed" >&2
    exit 2
}
[ -x "$bin" ] || {
    echo "crash_loop: no binary $bin" >&2
    exit 2
}
echo "crash_loop: seed $seed, $kills_wanted kills, at most ${limit} s"
start_s=$(date +%s)

work=$(mktemp -d "${TMPDIR:-/tmp}/wwsoak.XXXXXX")
hub_pid=""
workers=""
cleanup() {
    touch "$work/stop" 2>/dev/null
    for p in $workers; do kill -KILL "-$p" 2>/dev/null; done
    [ -n "$hub_pid" ] && kill -KILL "$hub_pid" 2>/dev/null
    wait 2>/dev/null
    if [ "${keep:-0}" = 1 ] || [ -n "${SOAK_KEEP:-}" ]; then
        echo "crash_loop: the work folder is kept: $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

rs=$seed

# One command on a device, from this script; none may take more than a minute.
ww() {
    d=$1
    shift
    timeout -s KILL 60 "$bin" --data "$work/$d" "$@"
}

# ---- The hub ------------------------------------------------------------------------------
hub_port=0
hub_start() {
    : >"$work/hub.out"
    "$bin" --data "$work/hub" hub --listen "127.0.0.1:$hub_port" >"$work/hub.out" \
        2>>"$work/hub.log" &
    hub_pid=$!
    i=0
    until [ "$(wc -l <"$work/hub.out" 2>/dev/null)" -ge 2 ]; do
        i=$((i + 1))
        if [ $i -gt 200 ] || ! kill -0 "$hub_pid" 2>/dev/null; then
            wait "$hub_pid" 2>/dev/null
            hub_pid=""
            return 1
        fi
        sleep 0.02
    done
    hub_port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/hub.out" | head -n 1)
    echo "127.0.0.1:$hub_port" >"$work/hub.addr.tmp"
    mv "$work/hub.addr.tmp" "$work/hub.addr"
    hub_key=$(sed -n 2p "$work/hub.out") # the hub's device key, which the group names
}
# The same port again; should another process have taken it, a new one.
hub_restart() {
    hub_start && return 0
    hub_port=0
    hub_start
}

# ---- The group ----------------------------------------------------------------------------
devs="coach s1 s2 s3 senior"
for d in $devs; do
    ww $d init >/dev/null || exit 1
done
key() { ww "$1" id | head -n 1; }
g=$(ww coach group create "Afdeling Zonnebloem" --alias Anna --start "$(day -20)" | head -n 1)
[ -n "$g" ] || exit 1
for d in s1 s2 s3; do
    ww coach member add "$g" --role student --alias "$d" --device "$(key $d)" >/dev/null || exit 1
done
ww coach member add "$g" --role senior --alias Sam --device "$(key senior)" >/dev/null || exit 1
hub_start || {
    echo "crash_loop: the hub does not start: $(cat "$work/hub.log")" >&2
    exit 1
}
addr=$(cat "$work/hub.addr")
# The group names its hub, which then holds all of it (not just a probation's worth).
ww coach group hub "$g" "$hub_key" "$addr" >/dev/null || exit 1
ww coach sync "$addr" --quiet || exit 1
for d in s1 s2 s3 senior; do
    ww $d sync "$addr" --group "$g" --quiet || exit 1
done
ww coach sync "$addr" --quiet || exit 1

# Each worker is a process group of its own (setsid), so that one kill takes it and its
# command.
k=0
for d in $devs; do
    k=$((k + 1))
    setsid sh "$0" --worker "$bin" "$work" "$g" $d $((seed + k * 7919)) 2>>"$work/$d.err" &
    workers="$workers $!"
done

# ---- The kills ----------------------------------------------------------------------------
kills=0
hub_kills=0
over=0
while [ $kills -lt "$kills_wanted" ]; do
    if [ $(($(date +%s) - start_s)) -ge "$limit" ]; then
        over=1
        break
    fi
    rnd 400
    ms_sleep $((20 + r)) # a random moment
    rnd 6
    if [ $r -eq 5 ]; then
        kill -KILL "$hub_pid" 2>/dev/null && kills=$((kills + 1)) && hub_kills=$((hub_kills + 1))
        wait "$hub_pid" 2>/dev/null
        hub_pid=""
        rnd 300
        ms_sleep "$r" # devices find the hub gone for a moment
        hub_restart || {
            echo "crash_loop: the hub does not restart: $(tail -n 5 "$work/hub.log")" >&2
            keep=1
            exit 1
        }
    else
        set -- $devs
        shift $r
        d=$1
        p=$(cat "$work/$d.pid" 2>/dev/null)
        # The pid file may be stale for an instant: kill only our own command on that folder.
        if [ -n "$p" ] && { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | grep -qF "$work/$d " &&
            kill -KILL "$p" 2>/dev/null; then
            kills=$((kills + 1))
        fi
    fi
done
touch "$work/stop"
for p in $workers; do
    i=0
    while kill -0 "$p" 2>/dev/null && [ $i -lt 500 ]; do
        sleep 0.02
        i=$((i + 1))
    done
    kill -KILL "-$p" 2>/dev/null
done
wait $workers 2>/dev/null
workers=""
[ -n "$hub_pid" ] && kill -0 "$hub_pid" 2>/dev/null || hub_restart || exit 1
loop_s=$(($(date +%s) - start_s))

# ---- Everyone syncs -----------------------------------------------------------------------
# sync_all ROUNDS WHAT: every device syncs with the hub, ROUNDS times round; then the hub
# stops.
sync_all() {
    addr=$(cat "$work/hub.addr")
    round=0
    while [ $round -lt "$1" ]; do
        round=$((round + 1))
        for d in $devs; do
            ww $d sync "$addr" --quiet 2>>"$work/$d.err" ||
                echo "crash_loop: $2 sync $round of $d failed" >>"$work/anomalies"
        done
    done
    kill -TERM "$hub_pid" 2>/dev/null
    wait "$hub_pid" 2>/dev/null
    hub_pid=""
}
sync_all 3 final

# SOAK_SABOTAGE=1 proves the checks bite: one reported event goes from one store.
if [ -n "${SOAK_SABOTAGE:-}" ]; then
    id=$(tail -n 1 "$work/written" | cut -d' ' -f1)
    sqlite3 "$work/s2/wegwijs.db" "DELETE FROM events WHERE hash = x'$id'"
fi

# ---- The checks ---------------------------------------------------------------------------
q() { sqlite3 -readonly -batch -noheader "$work/$1/wegwijs.db" "$2"; }
# Materialised state that every member's device must agree on whether or not it can read
# the body: the columns a body it cannot open leaves empty (text, readable, ...) are left
# out. The hub reads no body: it must agree on the control plane alone, which names no one
# (a member's alias, year and track are its profile, for the group alone). Signals are read
# by the coach and their author only: the coach must hold every one reported.
control_sql="
SELECT 'g', hex(gid), name, tz, start_date, hex(owner), hex(coach), epoch FROM groups ORDER BY 2;
SELECT 'm', hex(gid), hex(member), role, added_epoch, removed_epoch FROM members ORDER BY 2, 3;
SELECT 'd', hex(gid), hex(device), hex(member) FROM devices ORDER BY 2, 3;"
state_sql="$control_sql
SELECT 'p', hex(gid), hex(member), alias, year, track FROM members ORDER BY 2, 3;
SELECT 's', hex(gid), date, code, hlc, hex(author) FROM schedule ORDER BY 2, 3;
SELECT 'o', hex(gid), hex(member), date, off, hlc, hex(author) FROM days_off ORDER BY 2, 3, 4;
SELECT 'r', hex(gid), hex(member), date, hlc, hex(author), seq, hex(hash), audience
  FROM reflections ORDER BY 2, 3, 4;
SELECT 'x', hex(gid), hex(hash), hex(target), hex(member), hlc FROM reactions ORDER BY 2, 3;"
integrity=0
for d in $devs hub; do
    ok=$(q $d "PRAGMA integrity_check" 2>&1)
    if [ "$ok" != ok ]; then
        integrity=$((integrity + 1))
        echo "crash_loop: integrity_check on $d: $ok"
    fi
    q $d "SELECT lower(hex(hash)) FROM events ORDER BY 1" >"$work/$d.events"
    if [ $d = hub ]; then
        q $d "$control_sql" >"$work/$d.state"
        q coach "$control_sql" >"$work/coach.control"
    else
        q $d "$state_sql" >"$work/$d.state"
    fi
    ww $d reflections "$g" 2>/dev/null |
        awk 'length($NF) == 64 && $1 ~ /^[0-9]/ { print $NF }' | sort >"$work/$d.listed"
done
written=$(wc -l <"$work/written" 2>/dev/null || echo 0)
cut -d' ' -f1 "$work/written" 2>/dev/null | sort >"$work/written.ids"
lost=0
twice=0
other=0
: >"$work/lost"
for d in $devs hub; do
    comm -23 "$work/written.ids" "$work/$d.events" >>"$work/lost"
    n=$(uniq -d "$work/$d.events" | wc -l)
    m=$(uniq -d "$work/$d.listed" | wc -l)
    twice=$((twice + n + m))
    w=$(q $d "SELECT (SELECT count(*) FROM pending) + (SELECT count(*) FROM forks)")
    if [ "$w" != 0 ]; then
        other=$((other + 1))
        echo "crash_loop: $d holds $w events waiting or forked"
    fi
    for f in events state; do
        ref=$f
        [ $d = hub ] && [ $f = state ] && ref=control
        if ! cmp -s "$work/coach.$ref" "$work/$d.$f"; then
            other=$((other + 1))
            echo "crash_loop: $d's $f differ from the coach's:"
            diff "$work/coach.$ref" "$work/$d.$f" | head -n 6
        fi
    done
    if [ $d != hub ] && ! cmp -s "$work/coach.listed" "$work/$d.listed"; then
        other=$((other + 1))
        echo "crash_loop: $d lists other reflections than the coach"
    fi
done
awk '$3 == "signal" { print $1 }' "$work/written" 2>/dev/null | sort >"$work/signals.ids"
q coach "SELECT lower(hex(hash)) FROM signals ORDER BY 1" >"$work/coach.signals"
n=$(comm -23 "$work/signals.ids" "$work/coach.signals" | wc -l)
if [ "$n" -ne 0 ]; then
    other=$((other + 1))
    echo "crash_loop: the coach lacks $n of the signals reported as raised"
fi
lost=$(sort -u "$work/lost" | wc -l)

# A lost hub: its folder goes while every device is offline; a fresh hub on a new port
# gets everything back from the devices, which forward what they hold.
rm -rf "$work/hub"
hub_port=0
hub_start || exit 1
# The fresh hub has a key of its own: the coach names it (the hub holds the group on
# probation until the coach's log, which every device sends first, reaches the naming).
ww coach group hub "$g" "$hub_key" "$(cat "$work/hub.addr")" >/dev/null || exit 1
sync_all 2 "fresh hub"
q hub "SELECT lower(hex(hash)) FROM events ORDER BY 1" >"$work/hub.rebuilt"
q coach "SELECT lower(hex(hash)) FROM events ORDER BY 1" >"$work/coach.renamed" # + the naming
rebuilt_missing=$(comm -23 "$work/coach.events" "$work/hub.rebuilt" | wc -l)
w=$(q hub "SELECT count(*) FROM pending")
if [ "$rebuilt_missing" -ne 0 ] || [ "$w" != 0 ] || ! cmp -s "$work/coach.renamed" "$work/hub.rebuilt"; then
    other=$((other + 1))
    echo "crash_loop: the rebuilt hub lacks $rebuilt_missing events, waits for $w"
fi
if [ -s "$work/lost" ]; then
    echo "crash_loop: events reported as written but missing:"
    sort "$work/lost" | uniq -c | head -n 10
fi
reflections=$(wc -l <"$work/coach.listed")
held=$(wc -l <"$work/coach.events")
[ -s "$work/anomalies" ] && sort "$work/anomalies" | uniq -c | head -n 10
total_s=$(($(date +%s) - start_s))

echo "crash_loop: $kills kills ($hub_kills of the hub) in ${loop_s} s; $written events" \
    "reported as written, $held held by each store, $reflections reflections listed;" \
    "${total_s} s in all"
echo "bench: crash_loop_kills $kills"
echo "bench: crash_loop_events_lost $lost"
echo "bench: crash_loop_integrity_failures $integrity"
echo "bench: crash_loop_duplicates $twice"
echo "bench: crash_loop_divergences $other"
echo "bench: lost_hub_events_missing $rebuilt_missing"
status=0
if [ $over = 1 ]; then
    echo "crash_loop: the time limit of ${limit} s was reached after $kills of $kills_wanted kills"
    status=1
fi
if [ "$written" -eq 0 ] || [ "$reflections" -eq 0 ]; then
    echo "crash_loop: nothing was written: the run proves nothing"
    status=1
fi
[ $((lost + integrity + twice + other + rebuilt_missing)) -eq 0 ] || status=1
[ $status -eq 0 ] || keep=1
exit $status
