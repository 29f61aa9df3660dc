apply tests/golden/apply/inputs/each_env.rules tests/golden/apply/inputs/each_env.json --kind run --explain
