#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# deps.sh - the benchmarks' own Debian packages (`make bench` runs it first):
# the baselines the JSON figures are stated against, never needed to build or
# test. g++ and libsimdjson-dev build bench/json_floor.cpp (simdjson, the
# fastest JSON parser Debian packages, as the floor); libcjson-dev gives
# bench_vm and json_floor the cJSON baseline (what the library used before:
# the speed targets are ratios to it). Installs what is missing when run as
# root; otherwise says what is missing, and the runner reports those figures
# as not measured. (run.py installs the tools it runs itself: jq, wrk, ...)
set -u
PKGS="g++ libcjson-dev libsimdjson-dev"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "bench: missing:$missing (apt-get install$missing); those baselines will not be measured" >&2
    exit 0
fi
echo "bench: installing$missing (the benchmarks' baselines)"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; } ||
    echo "bench: apt-get install$missing failed; those baselines will not be measured" >&2
exit 0
