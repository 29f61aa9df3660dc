fmt --color=always tests/golden/color/broken.rules
