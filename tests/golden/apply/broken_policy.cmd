apply rules/example.rules tests/golden/apply/inputs/broken.rules tests/golden/apply/inputs/redos.json --kind run
