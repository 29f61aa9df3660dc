apply rules/gpu-limits.rules --request tests/golden/apply/inputs/intern.request.json --kind run --param intern_max_gpus=2 --explain
