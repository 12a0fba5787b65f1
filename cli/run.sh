#!/bin/sh
# run.sh - what `make run` calls: run.sh BINARY [ARGS...].
# Without arguments it runs the guided walkthrough in ./wegwijs-data; otherwise it passes
# the arguments to the command unchanged.
set -u
if [ $# -lt 1 ]; then
    echo "usage: sh cli/run.sh BINARY [ARGS...]" >&2
    exit 2
fi
bin=$1
shift
if [ $# -eq 0 ]; then
    exec "$bin" --data ./wegwijs-data demo
fi
exec "$bin" "$@"
