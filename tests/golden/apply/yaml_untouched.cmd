apply tests/golden/apply/inputs/noop_any.rules tests/data/yaml/roundtrip.yaml --target any --kind x
