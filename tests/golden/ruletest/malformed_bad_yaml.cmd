test tests/golden/ruletest/malformed/bad_yaml.fixture.yaml
