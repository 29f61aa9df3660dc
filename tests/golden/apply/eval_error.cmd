apply tests/golden/apply/inputs/types.rules tests/golden/apply/inputs/duration_off.json --kind run
