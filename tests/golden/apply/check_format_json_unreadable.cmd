check --format json tests/golden/apply/inputs/no_such_file.rules tests/golden/apply/inputs/broken.rules
