# SPDX-License-Identifier: Apache-2.0
"""_version.py - the package version: RV_VERSION_MAJOR.MINOR.PATCH of vm/rulevm.h
(tests/run-version.sh checks that they agree)."""
__version__ = "0.3.0"
