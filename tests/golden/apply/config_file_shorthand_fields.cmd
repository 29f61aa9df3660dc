apply rules/ tests/golden/apply/inputs/shorthand_fields.dstack.yml --kind run --user intern-bob
