compile rules/example.rules
