apply rules/example.rules tests/golden/apply/inputs/faithful.spec.json --kind run --explain
