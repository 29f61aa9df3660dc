apply rules/example.rules tests/data/dstack/yaml/t2.yml --kind fleet
