apply rules/example.rules --request ../shared/specs/dstack/requests/docs_gateway_aws.request.json --kind gateway
