#!/bin/sh
# Style checks that a compiler cannot make: formatting, banned functions, layering.
set -u
status=0
files=$(git ls-files '*.c' '*.h')

if ! clang-format --dry-run --Werror $files >/dev/null 2>&1; then
    echo "lint: clang-format differs; run 'make fmt'. First differences:"
    clang-format --dry-run $files 2>&1 | head -20
    status=1
fi

banned='\b(sprintf|strcpy|strcat|strncpy|gets|atoi|atol|strtok)[[:space:]]*\('
if grep -nE "$banned" $files; then
    echo "lint: banned function above"
    status=1
fi

lib=$(git ls-files 'proto/*.c' 'core/*.c' 'sync/*.c' | grep -v '^proto/alloc.c$')
if grep -nE '\b(malloc|calloc|realloc|free)[[:space:]]*\(' $lib | grep -vE 'ww_(malloc|calloc|realloc|free)|sodium_|sqlite3_'; then
    echo "lint: raw allocation outside proto/alloc.c"
    status=1
fi
if grep -nE '\b(printf|exit)[[:space:]]*\(' $lib; then
    echo "lint: printf/exit outside cli/"
    status=1
fi

# Arrows point down only: cli -> sync -> core -> proto.
check_layer() {
    dir=$1
    shift
    for bad in "$@"; do
        if grep -nE "#include \"($bad)" $(git ls-files "$dir/*.c" "$dir/*.h"); then
            echo "lint: $dir must not include from $bad"
            status=1
        fi
    done
}
check_layer proto 'wegwijs.h|store.h|core/|sync/|cli/'
# sync/ sees core only through its public header.
check_layer sync 'store.h|day.h|library.h|core/|cli/'
grep -nE '#include <(sqlite3|sodium|uv)\.h>' $(git ls-files 'proto/*') && {
    echo "lint: proto/ is pure encode/decode"
    status=1
}
grep -nE '#include <uv\.h>' $(git ls-files 'core/*') && {
    echo "lint: core/ never touches a socket"
    status=1
}
# The command is a client of the public API alone (the Makefile compiles it that way too).
if grep -nE '#include "' $(git ls-files 'cli/*.c' 'cli/*.h') |
    grep -vE '#include "(cli|climate|msg|wegwijs|wegwijs_agg|wegwijs_sync|ww_err|ww_enums)\.h"'; then
    echo "lint: cli/ includes only the public headers (wegwijs.h, ww_err.h, ww_enums.h)"
    status=1
fi
[ $status -eq 0 ] && echo "lint: ok"
exit $status
