apply tests/golden/apply/inputs/corrupt.rbc tests/golden/apply/inputs/redos.json --kind run
