#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-yaml.sh - the YAML reader and printer against PyYAML (python3-yaml),
# the reader dstack and SkyPilot use (docs/yaml.md): every scalar of
# tests/data/yaml/scalars.txt read as PyYAML reads it, as a value and as a
# key, and written as a string that reads back as that string; every YAML
# file of tests/data (the corpus, SkyPilot's tasks, dstack's configurations)
# through rulec apply with no policy, read back by PyYAML exactly as the
# input reads, and as JSON as Python's json would write it.
set -u
BUILD=${BUILD:-build}
RULEC=${RULEC:-$BUILD/rulec}
SUITE=yaml; . "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cp tests/golden/apply/inputs/noop_any.rules "$tmp/noop.rules"
apply() {  # apply FILE FORMAT OUT: rulec apply with no policy
    "$RULEC" apply "$tmp/noop.rules" "$1" --target any --kind x --output "$2" >"$3" 2>"$tmp/err" ||
        { fail "rulec apply $1 --output $2: $(head -c 300 "$tmp/err")"; return 1; }
}
verdicts() {  # counts the PASS/FAIL lines of yaml_same.py
    while read -r verdict rest; do
        if [ "$verdict" = PASS ]; then pass; else fail "$rest"; fi
    done <"$1"
    grep -q . "$1" || fail "no verdicts: yaml_same.py failed"
}

# 1. Scalars (in a list under "v": a spec is a mapping). PyYAML cannot load `=` or `<<` as a value (no constructor
# for their tags): those are checked as strings only.
list=tests/data/yaml/scalars.txt
python3 - "$list" "$tmp" <<'PY'
import json, sys, yaml
texts = [l.rstrip("\n") for l in open(sys.argv[1], encoding="utf-8") if l.strip() and not l.startswith("#")]
def loads(t):
    try:
        return [yaml.safe_load(f"- {t}\n")[0]]
    except yaml.YAMLError:
        return []
values = [t for t in texts if loads(t)]
out = sys.argv[2]
open(out + "/values.txt", "w", encoding="utf-8").write("".join(t + "\n" for t in values))
open(out + "/values.yaml", "w", encoding="utf-8").write("v:\n" + "".join(f"- {t}\n" for t in values))
# As keys: all but floats (a float key keeps its text, json would respell it).
# One mapping each: several texts are one key (~ and null are both None).
open(out + "/keys.yaml", "w", encoding="utf-8").write(
    "v:\n" + "".join(f"- {t}: {i}\n" for i, t in enumerate(values) if not isinstance(loads(t)[0], float)))
json.dump({"v": texts}, open(out + "/strings.json", "w"))
open(out + "/strings.txt", "w", encoding="utf-8").write("".join(t + "\n" for t in texts))
PY
apply "$tmp/values.yaml" json "$tmp/values.json" &&
apply "$tmp/values.yaml" yaml "$tmp/values.out.yaml" &&
apply "$tmp/keys.yaml" json "$tmp/keys.json" &&
apply "$tmp/strings.json" yaml "$tmp/strings.yaml" &&
    python3 tests/yaml_same.py scalars "$tmp/values.txt" "$tmp/values.json" "$tmp/values.out.yaml" "$tmp/keys.json" \
        "$tmp/strings.txt" "$tmp/strings.yaml" >"$tmp/v1" 2>&1
verdicts "$tmp/v1"

# 2. Whole files.
: >"$tmp/v2"
for f in tests/data/yaml/*.yaml tests/data/skypilot/yaml/*.yaml tests/data/dstack/yaml/*.yml; do
    apply "$f" yaml "$tmp/out.yaml" && apply "$f" json "$tmp/out.json" &&
        python3 tests/yaml_same.py roundtrip "$f" "$tmp/out.yaml" "$tmp/out.json" >>"$tmp/v2" 2>&1
done
verdicts "$tmp/v2"
summary
