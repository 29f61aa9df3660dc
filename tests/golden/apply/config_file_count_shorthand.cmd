apply rules/example.rules tests/golden/apply/inputs/shorthand.dstack.yml --kind run
