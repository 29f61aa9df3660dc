apply rules/example.rules --request ../shared/specs/dstack/requests/synthetic_service_full.request.json --kind run --explain
