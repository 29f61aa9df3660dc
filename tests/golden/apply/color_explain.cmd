apply --color=always rules/example.rules --request tests/data/dstack/requests/synthetic_service_full.request.json --kind run --explain
