#!/bin/sh
# demo.sh - the main job (`make demo`): the example policies in rules/
# applied to dstack's real request bodies from tests/data/dstack.
set -u
BUILD=${BUILD:-build}
RULEC=${RULEC:-$BUILD/rulec}
SPECS=${RULES_SPECS_DIR:-tests/data/dstack}/requests

say() { printf '\n== %s\n' "$*"; }

say "rulec check rules/*.rules"
"$RULEC" check rules/*.rules && echo "all policies check clean"

say "A service spec rewritten by rules/example.rules (changes on stderr, --explain)"
"$RULEC" apply rules/example.rules --request "$SPECS/synthetic_service_full.request.json" \
    --kind run --explain >/tmp/rules-demo.$$ 2>&1
status=$?
sed -n '/"configuration": {/,/"profile"/p' /tmp/rules-demo.$$ | grep -E '"(type|https|max_price|max_duration|tags|team)"|^configuration' | head -20
grep -E '^configuration' /tmp/rules-demo.$$
echo "exit status $status (0 = allowed)"

say "A privileged task rejected by rules/example.rules"
"$RULEC" apply rules/example.rules --request "$SPECS/synthetic_task_misc.request.json" --kind run \
    >/tmp/rules-demo.$$
echo "exit status $? (1 = rejected); the response carries the message:"
grep '"error"' /tmp/rules-demo.$$

say "A gateway rejected"
"$RULEC" apply rules/example.rules --request "$SPECS/docs_gateway_aws.request.json" --kind gateway \
    >/tmp/rules-demo.$$
echo "exit status $?"
grep '"error"' /tmp/rules-demo.$$

say "Every real request through the whole policy set in rules/"
for f in "$SPECS"/*.json; do
    kind=$(sh tests/kind-of.sh "$f")
    out=$("$RULEC" apply rules/ --request "$f" --kind "$kind" --explain 2>/tmp/rules-demo.$$)
    st=$?
    changes=$(grep -c ' -> ' /tmp/rules-demo.$$)
    case $st in
        0) verdict="allowed, $changes changes" ;;
        1) verdict="rejected: $(printf '%s' "$out" | sed -n 's/^  "error": "\(.*\)"$/\1/p' | sed 's/\\"/"/g' | cut -c1-90)" ;;
        *) verdict="error: $(head -1 /tmp/rules-demo.$$)" ;;
    esac
    printf '%-62s %-8s %s\n' "$(basename "$f" .request.json)" "$kind" "$verdict"
done
rm -f /tmp/rules-demo.$$
