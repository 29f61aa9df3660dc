check --color=always tests/golden/color/diagnostics.rules
