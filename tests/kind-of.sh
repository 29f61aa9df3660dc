#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kind-of.sh FILE - the dstack kind of a REST plugin request body, from its
# configuration's type (fleet, volume and gateway are their own kinds; task,
# service and dev-environment are runs). File names do not decide it: a
# gateway body need not say "gateway" in its name.
exec python3 -c '
import json, sys
t = (json.load(open(sys.argv[1])).get("spec") or {}).get("configuration", {}).get("type")
print(t if t in ("fleet", "volume", "gateway") else "run")' "$1"
