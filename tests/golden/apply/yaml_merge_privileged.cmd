apply rules/example.rules tests/golden/apply/inputs/merged_privileged.yml --kind run
