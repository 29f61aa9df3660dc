apply tests/golden/apply/inputs/kept_set.rules tests/golden/apply/inputs/commented.dstack.yml --kind run
