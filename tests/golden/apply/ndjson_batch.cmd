apply rules/example.rules --request tests/golden/apply/inputs/batch.ndjson --kind run --ndjson
