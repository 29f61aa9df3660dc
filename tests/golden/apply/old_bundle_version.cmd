apply tests/golden/apply/inputs/version2.rbc tests/golden/apply/inputs/redos.json --kind run
