#!/bin/sh
# Runs one build's test suite: the unit and integration tests, then every fuzz target
# replayed over its seed corpus and committed crashers. Prints one closing line
# "N passed, N failed" for the whole run; exits non-zero if anything failed.
set -u
build=$1
passed=0
failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "# tests in $build"
"$build/tests/unit_tests" -t 120 >"$out" 2>&1
rc=$?
grep -v '^[0-9]* passed, [0-9]* failed$' "$out"
line=$(grep '^[0-9]* passed, [0-9]* failed$' "$out" | tail -n 1)
if [ -n "$line" ]; then
    passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
    failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
fi
[ $rc -ne 0 ] && [ -z "$line" ] && failed=$((failed + 1))

for r in "$build"/tests/replay_*; do
    [ -x "$r" ] || continue
    name=${r##*/replay_}
    if "$r" tests/fuzz/corpus/"$name" tests/fuzz/crashers/"$name" >"$out" 2>&1; then
        echo "ok - replay $name ($(tail -n 1 "$out"))"
        passed=$((passed + 1))
    else
        cat "$out"
        echo "not ok - replay $name"
        failed=$((failed + 1))
    fi
done

# The short crash loop (Makefile: plain build only): WW_SOAK_KILLS kills, 0 lost.
if [ "${WW_SOAK_KILLS:-0}" -gt 0 ]; then
    if sh tests/soak/crash_loop.sh "$build/wegwijs" "$WW_SOAK_KILLS" >"$out" 2>&1; then
        echo "ok - crash loop ($(sed -n 's/^crash_loop: seed \([0-9]*\).*/seed \1/p' "$out"))"
        grep '^bench: ' "$out"
        passed=$((passed + 1))
    else
        cat "$out"
        echo "not ok - crash loop"
        failed=$((failed + 1))
    fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
