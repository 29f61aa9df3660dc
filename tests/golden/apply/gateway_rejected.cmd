apply rules/example.rules --request tests/data/dstack/requests/docs_gateway_aws.request.json --kind gateway
