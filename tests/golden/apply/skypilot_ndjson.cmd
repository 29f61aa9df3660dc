apply tests/golden/apply/inputs/skypilot_proto.rules --request tests/golden/apply/inputs/skypilot_batch.ndjson --ndjson
