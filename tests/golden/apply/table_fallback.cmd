apply tests/golden/apply/inputs/tables.rules tests/golden/apply/inputs/task.spec.json --kind run --project sandbox --explain
