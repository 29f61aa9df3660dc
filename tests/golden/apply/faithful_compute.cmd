apply --target any tests/golden/apply/inputs/faithful.rules tests/golden/apply/inputs/faithful_any.json --kind spec --explain
