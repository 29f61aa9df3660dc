"""Stand-in for dstack (tests/python/standins/README.md): only what a plugin touches."""
