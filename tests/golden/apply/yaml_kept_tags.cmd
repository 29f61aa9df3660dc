apply tests/golden/apply/inputs/kept_tags.rules tests/golden/apply/inputs/commented.dstack.yml --kind run
