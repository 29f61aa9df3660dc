apply tests/golden/apply/inputs/null_key.rules tests/golden/apply/inputs/task.spec.json --kind run
