test tests/golden/ruletest/malformed
