apply tests/golden/apply/inputs/skypilot_proto.rules --request tests/golden/apply/inputs/skypilot_object.json
