#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""json_same.py - whether two files hold the same JSON value, by a reader
other than the project's own (Python's json module), exactly: objects member
by member in the same order, ints and floats apart (1 is not 1.0), numbers
by their exact decimal value and sign (no rounding to doubles: 1e400 and
123456789012345678901234567890 compare as written), strings by code point.

  json_same.py EXPECTED ACTUAL

Exit 0 when the same, 1 when not (saying where), 2 when a file does not
read as JSON. tests/run-jsonstrict.sh uses it to check that what rulec
prints reads back equal to what it was given.
"""
import decimal
import json
import sys


def number(text):
    """A float's exact value; text beyond Decimal's exponent range compares
    as written."""
    try:
        return decimal.Decimal(text)
    except decimal.InvalidOperation:
        return ("number", text)


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return json.loads(data.decode("utf-8"), object_pairs_hook=lambda pairs: ("object", pairs),
                      parse_float=number, parse_int=int,
                      parse_constant=lambda c: (_ for _ in ()).throw(ValueError("not JSON: " + c)))


def diff(a, b, where):
    """The first place a and b differ, or None."""
    if type(a) is not type(b):
        return "%s: %r vs %r" % (where, a, b)
    if isinstance(a, tuple) and a[0] == "object":
        pa, pb = a[1], b[1]
        if [k for k, _ in pa] != [k for k, _ in pb]:
            return "%s: keys %r vs %r" % (where, [k for k, _ in pa], [k for k, _ in pb])
        for (k, va), (_, vb) in zip(pa, pb):
            d = diff(va, vb, "%s.%s" % (where, k))
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return "%s: %d items vs %d" % (where, len(a), len(b))
        for i, (va, vb) in enumerate(zip(a, b)):
            d = diff(va, vb, "%s[%d]" % (where, i))
            if d:
                return d
        return None
    if isinstance(a, decimal.Decimal):
        same = a == b and a.is_signed() == b.is_signed()
    else:
        same = a == b
    return None if same else "%s: %r vs %r" % (where, a, b)


def main():
    try:
        a, b = load(sys.argv[1]), load(sys.argv[2])
    except (OSError, ValueError, UnicodeDecodeError, RecursionError) as e:
        print("json_same: %s" % e)
        return 2
    d = diff(a, b, "$")
    if d:
        print("json_same: differ at " + d)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
