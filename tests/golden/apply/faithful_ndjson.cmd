apply rules/example.rules --request tests/golden/apply/inputs/faithful.ndjson --kind run --ndjson
