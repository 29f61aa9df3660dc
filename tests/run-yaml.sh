#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-yaml.sh - the YAML reader and printer against PyYAML (python3-yaml),
# the reader dstack and SkyPilot use (docs/yaml.md): every scalar of
# tests/data/yaml/scalars.txt read as PyYAML reads it, as a value and as a
# key, and written as a string that reads back as that string; every YAML
# file of tests/data (the corpus, SkyPilot's tasks, dstack's configurations)
# through rulec apply with no policy, read back by PyYAML exactly as the
# input reads, and as JSON as Python's json would write it; the same
# files, untouched, written back byte for byte; and through policies that
# set, add, remove and append at every depth (top level, nested, lists of
# mappings, flow mappings), read back by PyYAML as the decided tree, every
# comment outside the changed members' lines still there.
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

# 3. Untouched: the text itself, byte for byte (docs/yaml.md, "What is kept").
for f in tests/data/yaml/*.yaml tests/data/skypilot/yaml/*.yaml tests/data/dstack/yaml/*.yml; do
    apply "$f" yaml "$tmp/out.yaml" && { cmp -s "$f" "$tmp/out.yaml" && pass ||
        fail "$f through a policy that changes nothing is not byte for byte the same: $(diff "$f" "$tmp/out.yaml" | head -5)"; }
done

# 4. Edited. The policies write paths that dstack's and SkyPilot's files
# have (or lack, so that they are added); edge.yaml has flow mappings and
# lists of mappings with comments around them.
cat >"$tmp/set.rules" <<'EOF'
policy "set" target any;
on * { set max_price = 2.5; set resources.disk = "200GB"; set resources.cpu = 4; set name = "renamed"; }
EOF
cat >"$tmp/unset.rules" <<'EOF'
policy "unset" target any;
on * { unset resources.gpu; unset resources.cpu; unset envs; unset env; unset setup; unset name; unset volumes[0]; }
EOF
cat >"$tmp/append.rules" <<'EOF'
policy "append" target any;
on * { append commands "echo policy"; set tags.team = "ml"; default idle_duration = "1h"; set resources.accelerators = {A100: 8}; }
EOF
cat >"$tmp/each.rules" <<'EOF'
policy "each" target any;
on * {
    each v in volumes { set v.path = "/data"; unset v.name; }
    each g in replicas { set g.count = 2; append g.commands "c"; }
    each r in resources.any_of { set r.use_spot = true; }
}
EOF
cat >"$tmp/edge.yaml" <<'EOF'
# edge cases for the editor
name: edge   # the name
resources: {cpu: 2, gpu: 24GB}   # flow
volumes:
  - name: data   # first
    path: /old
  # between the volumes
  - {name: cache, path: /c}
  - plain-string
replicas:
- count: 1  # one
  commands: [a, b]
# before commands
commands:
  - echo hi   # hi
envs:
  A: 1
tags: {}
# the end
EOF
: >"$tmp/v4"
for f in "$tmp/edge.yaml" tests/data/skypilot/yaml/*.yaml tests/data/dstack/yaml/*.yml tests/data/yaml/roundtrip.yaml; do
    # A text with aliases is written from its values once changed
    # (docs/yaml.md): its comments are not expected back.
    comments=comments
    [ "$f" = tests/data/yaml/roundtrip.yaml ] && comments=
    for p in set unset append each; do
        "$RULEC" apply "$tmp/$p.rules" "$f" --target any --kind x --output yaml --explain >"$tmp/out.yaml" 2>"$tmp/explain" &&
            "$RULEC" apply "$tmp/$p.rules" "$f" --target any --kind x --output json >"$tmp/out.json" 2>"$tmp/err" ||
            { fail "rulec apply $p.rules $f: $(head -c 300 "$tmp/explain" "$tmp/err")"; continue; }
        # set and append always write (they add what is missing); on
        # edge.yaml every policy does.
        case "$p:$f" in set:* | append:* | *:"$tmp/edge.yaml")
            grep -q ' -> ' "$tmp/explain" || { fail "$p.rules changed nothing in $f"; continue; } ;;
        esac
        python3 tests/yaml_same.py edited "$f" "$tmp/out.yaml" "$tmp/out.json" "$tmp/explain" $comments >>"$tmp/v4" 2>&1
    done
done
verdicts "$tmp/v4"
# The check bites: a comment dropped from an edited text is reported.
"$RULEC" apply "$tmp/set.rules" "$tmp/edge.yaml" --target any --kind x --output yaml --explain 2>"$tmp/explain" |
    grep -v '^# before commands' >"$tmp/out.yaml"
"$RULEC" apply "$tmp/set.rules" "$tmp/edge.yaml" --target any --kind x --output json >"$tmp/out.json" 2>/dev/null
python3 tests/yaml_same.py edited "$tmp/edge.yaml" "$tmp/out.yaml" "$tmp/out.json" "$tmp/explain" comments |
    grep -q "^FAIL edge.yaml comments lost: '# before commands'" && pass || fail "a lost comment went unnoticed"
summary
