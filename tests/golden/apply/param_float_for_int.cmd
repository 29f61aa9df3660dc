apply rules/dev-idle.rules tests/golden/apply/inputs/dev.spec.yml --kind run --param dev-idle.max_idle=1.5
