apply tests/golden/apply/inputs/each.rules tests/golden/apply/inputs/each_groups.json --kind run --explain
