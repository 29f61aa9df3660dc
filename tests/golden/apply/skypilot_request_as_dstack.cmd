apply tests/golden/apply/inputs/skypilot_proto.rules --request tests/data/skypilot/requests/04_file_mounts_env_launch.json --target dstack --kind run
