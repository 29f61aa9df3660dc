check --format sarif tests/golden/apply/no_such_folder/
