apply rules/ tests/golden/apply/inputs/gpu_shorthand.dstack.yml --kind run --user intern-bob --project main
