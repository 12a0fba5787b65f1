#!/bin/sh
# Runs each libFuzzer target for a bounded time with its committed seed corpus.
# Usage: run.sh BUILD_DIR SECONDS NAME...
# New crashes land in tests/fuzz/crashers/NAME/ so they can be committed and replayed.
set -u
build=$1
secs=$2
shift 2
status=0
for name in "$@"; do
    corpus=tests/fuzz/corpus/$name
    crashers=tests/fuzz/crashers/$name
    work=$(mktemp -d)
    mkdir -p "$corpus" "$crashers"
    log=$work/log
    "$build/fuzz_$name" -max_total_time="$secs" -malloc_limit_mb=64 -rss_limit_mb=2048 \
        -max_len=70000 -timeout=10 -print_final_stats=1 -artifact_prefix="$crashers/" \
        "$work" "$corpus" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    took=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    echo "fuzz: $name executions=${execs:-?} exec_per_s=${took:-?} seconds=$secs rc=$rc"
    if [ $rc -ne 0 ]; then
        tail -n 40 "$log"
        status=1
    fi
    rm -rf "$work"
done
exit $status
