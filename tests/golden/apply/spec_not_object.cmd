apply rules/example.rules tests/golden/apply/inputs/list.json --kind run
