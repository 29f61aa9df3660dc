#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# demo.sh - the main job (`make demo`): the example policies in rules/
# applied to dstack's real request bodies from tests/data/dstack, and the
# SkyPilot policies in rules/skypilot/ to SkyPilot's from tests/data/skypilot.
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
SKY=${RULES_SKYPILOT_DIR:-tests/data/skypilot}/requests

say "A SkyPilot launch rewritten by rules/skypilot/ (spot for GPUs, labels, autostop; --explain)"
"$RULEC" apply rules/skypilot/ --request "$SKY/13_resnet_distributed_launch.json" --explain \
    >/tmp/rules-demo.$$ 2>/tmp/rules-demo-err.$$
echo "exit status $? (0 = allowed); the changes:"
grep -E '^(task|config)\.' /tmp/rules-demo-err.$$
echo "the answer is SkyPilot's double-encoded {task, skypilot_config}: $(head -c 100 /tmp/rules-demo.$$)..."

say "A SkyPilot launch rejected by rules/skypilot/network.rules"
"$RULEC" apply rules/skypilot/ --request "$SKY/01_minimal_launch.json" >/tmp/rules-demo.$$ 2>/dev/null
echo "exit status $? (1 = rejected); the 400 text SkyPilot shows the user:"
cat /tmp/rules-demo.$$

say "Every real SkyPilot request through rules/skypilot/"
for f in "$SKY"/*.json; do
    out=$("$RULEC" apply rules/skypilot/ --request "$f" 2>/dev/null)
    case $? in
        0) verdict="allowed" ;;
        1) verdict="rejected: $(printf '%s' "$out" | cut -c1-90)" ;;
        *) verdict="error: $(printf '%s' "$out" | cut -c1-90)" ;;
    esac
    printf '%-62s %s\n' "$(basename "$f" .json)" "$verdict"
done
rm -f /tmp/rules-demo.$$ /tmp/rules-demo-err.$$
