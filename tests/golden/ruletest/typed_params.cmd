test tests/golden/ruletest/typed_params.fixture.yaml
