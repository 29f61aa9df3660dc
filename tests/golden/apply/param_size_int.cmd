apply tests/golden/apply/inputs/memory_cap.rules tests/golden/apply/inputs/small_task.spec.json --kind run --param max_memory=24
