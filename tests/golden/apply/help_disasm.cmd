disasm --help
