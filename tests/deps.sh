#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# deps.sh - installs the Debian packages the build and tests need, if any
# are missing (`make deps`), and any named as arguments (`make fuzz` adds
# clang and its libFuzzer runtime: docs/fuzzing.md). Says exactly what is
# missing when it cannot.
set -u
# The Python package's suite (tests/run-python.sh) needs pytest, PyYAML,
# jsonschema, pip and setuptools: docs/python.md says why each.
PKGS="gcc make pkg-config flex bison libyaml-dev libpcre2-dev nettle-dev libcmocka-dev libmicrohttpd-dev libcurl4-openssl-dev libsystemd-dev curl python3 python3-yaml python3-jsonschema vim scdoc man-db openssl systemd python3-pytest python3-pip python3-setuptools $*"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "deps: all present"
    exit 0
fi
echo "deps: missing:$missing"
if [ "$(id -u)" != 0 ]; then
    echo "deps: run as root (or: sudo apt-get install$missing)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || { echo "deps: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
    echo "deps: apt-get install failed for:$missing" >&2
    exit 1
}
echo "deps: installed:$missing"
