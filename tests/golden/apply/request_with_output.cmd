apply rules/example.rules --request tests/data/dstack/requests/synthetic_task_limits.request.json --kind run --output yaml
