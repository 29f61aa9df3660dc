# SPDX-License-Identifier: Apache-2.0
"""Stand-in for dstack (tests/python/standins/README.md): only what a plugin touches."""
