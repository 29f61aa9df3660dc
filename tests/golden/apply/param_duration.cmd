apply rules/dev-idle.rules tests/golden/apply/inputs/dev.spec.yml --kind run --param max_idle=1h
