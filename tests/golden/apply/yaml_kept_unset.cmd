apply tests/golden/apply/inputs/kept_unset.rules tests/golden/apply/inputs/commented.dstack.yml --kind run
