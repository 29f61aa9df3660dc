apply rules/example.rules --request ../shared/specs/dstack/requests/synthetic_task_misc.request.json --kind run
