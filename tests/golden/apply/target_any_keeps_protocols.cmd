apply --target any tests/golden/apply/inputs/sky_star.rules tests/golden/apply/inputs/noop_any.rules tests/golden/apply/inputs/small_task.spec.json --kind run
