apply rules/example.rules --request tests/data/dstack/requests/synthetic_task_misc.request.json --kind run --explain
