apply rules/gpu-limits.rules tests/golden/apply/inputs/intern.request.json --kind run --param intern_max_gpus=two
