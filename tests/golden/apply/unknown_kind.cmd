apply rules/example.rules tests/data/dstack/requests/synthetic_task_limits.request.json --kind flet
