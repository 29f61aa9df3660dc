apply tests/golden/apply/inputs/types.rules --request tests/golden/apply/inputs/duration_off.request.json --kind run
