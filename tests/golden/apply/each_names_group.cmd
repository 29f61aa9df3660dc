apply tests/golden/apply/inputs/each.rules tests/golden/apply/inputs/each_privileged.json --kind run
