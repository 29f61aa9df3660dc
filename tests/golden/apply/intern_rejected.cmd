apply rules/gpu-limits.rules --request tests/golden/apply/inputs/intern.request.json --kind run
