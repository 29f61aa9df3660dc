apply tests/golden/apply/inputs/skypilot_proto.rules --request tests/data/skypilot/requests/12_admin_policy_task_exec.json
