test --color always rules/example.test.yaml
