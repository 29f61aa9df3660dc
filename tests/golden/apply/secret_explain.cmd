apply tests/golden/apply/inputs/secret_explain.rules tests/golden/apply/inputs/secret_explain.json --kind run --explain
