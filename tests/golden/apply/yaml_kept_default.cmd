apply tests/golden/apply/inputs/kept_default.rules tests/golden/apply/inputs/commented.dstack.yml --kind run
