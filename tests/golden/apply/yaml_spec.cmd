apply rules/example.rules tests/golden/apply/inputs/service.spec.yml --kind run --explain
