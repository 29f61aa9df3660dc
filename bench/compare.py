#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""compare.py - checks that a competitor answered exactly as rulec did.

  compare.py OURS THEIRS [--numbers-by-value]

Both files hold one JSON response per line. Lines are compared as parsed
JSON values: object key order is ignored (pydantic's model_dump_json puts
declared fields before extra ones), everything else must match, including
the type of every number (2.0 is not 2) -- unless --numbers-by-value is
given, which jq needs: jq 1.6 keeps every number as a double and prints
2.0 as 2. Exits 1 on the first differences (up to 5 shown), 0 when every
line matches; prints how many lines also matched byte for byte.
"""
import json
import sys


def same(a, b, by_value):
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b if by_value else (type(a) is type(b) and a == b)
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], by_value) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y, by_value) for x, y in zip(a, b))
    return a == b


def first_diff(a, b, by_value, path="$"):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a or k not in b:
                return "%s.%s: %s vs %s" % (path, k, "missing" if k not in a else "present",
                                            "missing" if k not in b else "present")
            if not same(a[k], b[k], by_value):
                return first_diff(a[k], b[k], by_value, "%s.%s" % (path, k))
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if not same(x, y, by_value):
                return first_diff(x, y, by_value, "%s[%d]" % (path, i))
    return "%s: ours %s, theirs %s" % (path, json.dumps(a)[:200], json.dumps(b)[:200])


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    by_value = "--numbers-by-value" in sys.argv
    if len(args) != 2:
        sys.exit("usage: compare.py OURS THEIRS [--numbers-by-value]")
    with open(args[0], encoding="utf-8") as f:
        ours = f.read().splitlines()
    with open(args[1], encoding="utf-8") as f:
        theirs = f.read().splitlines()
    bad = []
    if len(ours) != len(theirs):
        bad.append("line counts differ: ours %d, theirs %d" % (len(ours), len(theirs)))
    exact = 0
    for i, (x, y) in enumerate(zip(ours, theirs), 1):
        if x == y:
            exact += 1
            continue
        try:
            a, b = json.loads(x), json.loads(y)
        except ValueError as e:
            bad.append("line %d: not JSON: %s" % (i, e))
            continue
        if not same(a, b, by_value):
            bad.append("line %d: %s" % (i, first_diff(a, b, by_value)))
        if len(bad) >= 5:
            break
    if bad:
        print("DIFFERENT: %s vs %s" % (args[0], args[1]))
        for b in bad:
            print("  " + b)
        sys.exit(1)
    print("same: %d lines (%d byte-identical)" % (len(ours), exact))


if __name__ == "__main__":
    main()
