apply tests/golden/apply/inputs/redos.rules tests/golden/apply/inputs/redos.json --kind run
