apply tests/golden/apply/inputs/skypilot.rules tests/golden/apply/inputs/skypilot_task.json --target skypilot --kind lanch
