check rules/
