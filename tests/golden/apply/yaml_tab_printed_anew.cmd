apply rules/example.rules tests/golden/apply/inputs/tab_comment.dstack.yml --kind run
