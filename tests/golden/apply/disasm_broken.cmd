disasm tests/golden/apply/inputs/broken.rules
