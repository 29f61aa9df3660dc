check --target dstak rules/
