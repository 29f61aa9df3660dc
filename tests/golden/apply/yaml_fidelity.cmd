apply tests/golden/apply/inputs/touch_any.rules tests/data/yaml/roundtrip.yaml --target any --kind x
