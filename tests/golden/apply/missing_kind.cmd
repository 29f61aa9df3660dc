apply rules/example.rules ../shared/specs/dstack/requests/synthetic_service_full.request.json
