apply rules/example.rules tests/data/dstack/requests/synthetic_service_full.request.json
