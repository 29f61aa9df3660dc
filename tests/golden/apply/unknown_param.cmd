apply rules/gpu-limits.rules tests/data/dstack/requests/synthetic_service_full.request.json --kind run --param nosuch=1
