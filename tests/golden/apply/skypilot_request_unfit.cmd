apply tests/golden/apply/inputs/skypilot_unfit.rules --request tests/data/skypilot/requests/01_minimal_launch.json
