apply tests/golden/apply/inputs/types.rules tests/golden/apply/inputs/duration_ok.json --kind run --explain
