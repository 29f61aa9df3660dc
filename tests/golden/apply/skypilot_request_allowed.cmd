apply tests/golden/apply/inputs/skypilot_proto.rules --request tests/data/skypilot/requests/07_nccl_efa_jobs_launch.json --explain
