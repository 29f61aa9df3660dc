apply rules/example.rules tests/golden/apply/inputs/nosuchfile.json --kind run
