apply rules/example.rules tests/golden/apply/inputs/task.spec.json --kind run --output yaml
