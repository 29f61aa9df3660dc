apply tests/golden/apply/inputs/skypilot_proto.rules --request tests/data/skypilot/requests/01_minimal_launch.json --kind launch
