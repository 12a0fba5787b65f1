#!/bin/sh
# Installs the Debian packages the build, the tests and the tools need, when missing.
# Quick (one dpkg-query) when everything is already there.
set -eu
need="gcc make pkg-config libuv1-dev libsodium-dev libmsgpack-dev libsqlite3-dev sqlite3 clang clang-format groff-base gettext libjansson-dev libqrencode-dev iproute2"
missing=""
for p in $need; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
