#!/bin/sh
# run.sh - what `make run` calls: run.sh BINARY [ARGS...].
#
# Without arguments, the main job: the studentcoach hub on 127.0.0.1 (port $WEGWIJS_PORT,
# default 7420) with its store in ./wegwijs-data/hub. The first time, it puts a demo group
# on it: a coach, three students and a senior, each a device of its own in
# ./wegwijs-data/NAME, who write a week of challenges, reflections, reactions, a signal
# and a sign-off and sync them through the hub, as real devices do. It then prints how to
# join as a new student from a second terminal, and keeps the hub running until Ctrl-C.
#
# With arguments it passes them to the command unchanged.
set -eu
if [ $# -lt 1 ]; then
    echo "usage: sh cli/run.sh BINARY [ARGS...]" >&2
    exit 2
fi
bin=$1
shift
if [ $# -gt 0 ]; then
    exec "$bin" "$@"
fi

data=./wegwijs-data
port=${WEGWIJS_PORT:-7420}
addr=127.0.0.1:$port
mkdir -p "$data"
ww() { dev=$1; shift; "$bin" --data "$data/$dev" "$@"; }

# The praktijkopleider's tool: aggregator B of the climate, and the one device that may
# fetch the hub's climate report. Its two keys are the last words of `climate key`.
ww praktijkopleider climate key >"$data/praktijkopleider.keys"
podev=$(sed -n 1p "$data/praktijkopleider.keys" | awk '{ print $NF }')
aggb=$(sed -n 2p "$data/praktijkopleider.keys" | awk '{ print $NF }')

# The hub first: every device syncs through it. Its first line names the address, the
# second is its device key alone, which the coach names as the group's hub; the third ends
# with its climate key A.
# --climate-live: a demonstration hub serves this week's climate at once; a real hub waits
# until a window is final (a week after it ends), so that no two fetches differ by one day.
"$bin" --data "$data/hub" hub --listen "$addr" --aggregator-b "$aggb" \
    --climate-reader "$podev" --climate-live >"$data/hub.out" 2>>"$data/hub.log" &
hub=$!
trap 'kill $hub 2>/dev/null; wait $hub 2>/dev/null; exit 0' INT TERM
i=0
until grep -q "$addr" "$data/hub.out" 2>/dev/null && [ "$(wc -l <"$data/hub.out")" -ge 3 ]; do
    i=$((i + 1))
    if [ $i -gt 50 ] || ! kill -0 $hub 2>/dev/null; then
        echo "wegwijs: de hub start niet; zie $data/hub.log" >&2
        exit 1
    fi
    sleep 0.1
done
hubkey=$(sed -n 2p "$data/hub.out")
agga=$(sed -n 3p "$data/hub.out" | awk '{ print $NF }')

if [ ! -s "$data/demo-group" ]; then
    day() { date -d "$1 days" +%F; }
    for d in coach sara noor daan lisa; do
        ww $d init >/dev/null
    done
    key() { ww "$1" id | head -n 1; }
    # The recovery code goes to a file of the demo, not to paper: it is a demo.
    ww coach group create "Afdeling Zonnebloem" --alias "Anna (coach)" --start "$(day -6)" \
        >"$data/demo-create" 2>/dev/null
    g=$(head -n 1 "$data/demo-create")
    sed -n 2p "$data/demo-create" >"$data/demo-recovery-code"
    rm -f "$data/demo-create"
    ww coach member add "$g" --role student --alias Sara --year 1 --track bol --device "$(key sara)" >/dev/null
    ww coach member add "$g" --role student --alias Noor --year 2 --track bbl --device "$(key noor)" >/dev/null
    ww coach member add "$g" --role student --alias Daan --year 1 --track bbl --device "$(key daan)" >/dev/null
    ww coach member add "$g" --role senior --alias Lisa --year 3 --track bol --device "$(key lisa)" >/dev/null
    ww coach challenge schedule "$g" "$(day 0)" L02 >/dev/null
    # The hub serves the group because the coach names it, not on probation.
    ww coach group hub "$g" "$hubkey" "$addr" >/dev/null
    ww coach sync --quiet
    for d in sara noor daan lisa; do
        ww $d sync "$addr" --group "$g" --quiet
    done
    # A week of work, written offline on each device.
    for back in -5 -4 -3 -2 -1; do
        dt=$(day $back)
        ww sara reflect "$g" --date "$dt" --status gedaan --share groep \
            --situatie "Ochtendzorg bij een bewoner met mijn werkbegeleider." \
            --actie "Ik vroeg eerst wat de bewoner zelf wilde doen." \
            --reflectie "Volgende keer vraag ik dat ook bij de andere bewoners." \
            --answer K1=4 --answer K2=4 >/dev/null
        ww noor reflect "$g" --date "$dt" --status deels --obstacle geen-tijd-begeleider \
            --share coach --situatie "Het was druk op de afdeling." \
            --reflectie "Ik wil dit morgen opnieuw proberen." --answer K1=3 --answer K2=2 >/dev/null
    done
    ww daan dayoff "$g" "$(day -2)" >/dev/null
    ww daan reflect "$g" --date "$(day -1)" --status niet --obstacle andere-taken \
        --reflectie "Er kwam een opname tussendoor." >/dev/null
    ww lisa signal raise "$g" --category werkdruk \
        --text "De groep krijgt deze week weinig tijd van de werkbegeleiders." >/dev/null
    for d in sara noor daan lisa; do
        ww $d sync --quiet
    done
    ww coach sync --quiet
    ref=$(ww coach reflections "$g" | awk '$5 == "groep" { print $6; exit }')
    if [ -n "$ref" ]; then
        ww noor react "$g" "$ref" "Herkenbaar, goed dat je het vroeg!" >/dev/null
        ww noor sync --quiet
    fi
    sig=$(ww coach signals "$g" | awk 'NR == 1 { print $1 }')
    if [ -n "$sig" ]; then
        ww coach signal resolve "$g" "$sig" --state besproken \
            --note "Besproken met de teamleider." >/dev/null || true
    fi
    sara_id=$(ww coach members "$g" | awk '/Sara/ { print $1; exit }')
    ww coach signoff "$g" "$sara_id" W03 --level voldoende --date "$(day -1)" \
        --note "Goed gedaan." >/dev/null || true
    # Climate: the group's answers count for team Zonnebloem through aggregators A (the
    # hub) and B (the praktijkopleider's tool). The demo devices were added by the coach,
    # so no hub confirmed those keys to them: their answers stay on them; a student who
    # joins by invite shares.
    ww coach group climate "$g" "$agga" "$aggb" --team Zonnebloem --location Demo >/dev/null
    ww coach sync --quiet
    for d in sara noor daan lisa; do
        ww $d sync --quiet
    done
    echo "$g" >"$data/demo-group"
fi
g=$(cat "$data/demo-group")
# A demo made before the hub was named, or on another port: name it (again) here.
if ! ww coach groups | grep -q "hub: $hubkey $addr\$"; then
    ww coach group hub "$g" "$hubkey" "$addr" >/dev/null
    ww coach sync --quiet
fi

# The coach's device stays connected and admits whoever redeems one of its invites at once.
ww coach sync --watch --quiet 2>>"$data/coach.log" &
coach=$!
trap 'kill $coach $hub 2>/dev/null; wait $coach $hub 2>/dev/null; exit 0' INT TERM
# An invite for the free student place (an open one from an earlier run is revoked first).
for inv in $(ww coach invites "$g" | awk '$3 == "open" { print $1 }'); do
    ww coach invite revoke "$g" "$inv" >/dev/null || true
done
code=$(ww coach invite "$g" --role student 2>>"$data/coach.log" | head -n 1)
if [ -z "$code" ]; then
    code="(geen: de groep heeft al vier studenten; zie $data/coach.log)"
fi

cat <<EOF

De hub draait op $addr met de demogroep "Afdeling Zonnebloem" ($g):
de coach (Anna), drie studenten (Sara, Noor, Daan) en een ouderejaars (Lisa), elk met een
eigen apparaat in $data/. Er is plek voor nog een student; het apparaat van de coach is
verbonden en laat je toe zodra je aansluit.

Meedoen als nieuwe student, in een tweede terminal:

  $bin --data ./ik join $code --alias Jij
  $bin --data ./ik today $g              # de challenge van vandaag
  $bin --data ./ik sync                  # later: synchroniseren via de hub van de groep

(De uitnodiging is eenmalig en 7 dagen geldig; een nieuwe maakt de coach met
 $bin --data $data/coach invite $g)

Kijken als coach:  $bin --data $data/coach overview $g
Kijken als praktijkopleider (één groep is te klein: elke cel blijft verborgen):
  $bin --data $data/praktijkopleider climate fetch $addr $hubkey
  $bin climate demo              # een gegenereerde regio, zonder netwerk
Stoppen: Ctrl-C.
EOF
wait $hub
