#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""yaml_same.py - tests/run-yaml.sh's comparisons with PyYAML (python3-yaml),
the reader dstack and SkyPilot use. Prints one PASS/FAIL line per check.

  yaml_same.py scalars LIST VALUES.json VALUES.yaml KEYS.json STRINGS STRINGS.yaml
      LIST: scalars, one a line. VALUES.json, VALUES.yaml: the library's
      JSON and YAML of the sequence of those scalars; KEYS.json: of the mapping with them (floats
      aside) as keys; STRINGS: more texts, one a line; STRINGS.yaml: the
      library's YAML of them given as JSON strings.
  yaml_same.py roundtrip IN.yaml OUT.yaml OUT.json
      PyYAML reads OUT.yaml exactly as it reads IN.yaml (values, types, key
      order); OUT.json is what Python's json would make of it.
"""
import datetime
import json
import math
import sys

import yaml

INT64 = 2 ** 63


def scalars(path):
    out = []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line and not line.startswith("#"):
            out.append(line)
    return out


def expected(v, text, json_out=False):
    """What the library should make of a value PyYAML read from text. Its
    YAML output must read back as the same value; its JSON output shows a
    date as its text (JSON has no dates), infinities and NaN as null (nor
    those), and an integer beyond 64 bits written with underscores as the
    nearest float (its text is not JSON's)."""
    if not json_out:
        return v
    if isinstance(v, (datetime.date, datetime.datetime)):
        return text
    if isinstance(v, int) and not isinstance(v, bool) and not -INT64 <= v < INT64 and "_" in text:
        return float(v)
    if isinstance(v, float) and (math.isinf(v) or math.isnan(v)):
        return None
    return v


def same_value(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, float) and a == 0.0:
        return math.copysign(1, a) == math.copysign(1, b)
    return a == b


def json_key(k, text):
    """The key Python's json gives a PyYAML key, as the library spells it."""
    if k is None:
        return "null"
    if k is True or k is False:
        return "true" if k else "false"
    if isinstance(k, int):
        return str(k) if -INT64 <= k < INT64 else text
    if isinstance(k, (datetime.date, datetime.datetime)):
        return text
    if isinstance(k, float):
        return text  # kept as written
    return k


def cmd_scalars(list_path, values_path, values_yaml, keys_path, strings_list, strings_path):
    texts = scalars(list_path)
    theirs = yaml.safe_load("".join(f"- {t}\n" for t in texts))
    # What the library read, as its JSON shows it, and as its YAML reads back.
    for what, ours, json_out in (("values", json.load(open(values_path))["v"], True),
                                 ("values as YAML", yaml.safe_load(open(values_yaml, encoding="utf-8"))["v"], False)):
        if len(ours) != len(texts) or len(theirs) != len(texts):
            print(f"FAIL {what}: {len(ours)} read, {len(theirs)} by PyYAML, {len(texts)} texts")
            continue
        bad = [f"{t!r}: PyYAML {expected(p, t, json_out)!r}, library {o!r}"
               for t, p, o in zip(texts, theirs, ours) if not same_value(expected(p, t, json_out), o)]
        print(f"FAIL {what}: {'; '.join(bad[:8])}" if bad else f"PASS {what} ({len(texts)} scalars)")

    # As keys, one mapping each (floats aside: a float key keeps its text,
    # Python's json would respell it).
    keys = json.load(open(keys_path), object_pairs_hook=lambda p: p)[0][1]
    theirs = yaml.safe_load("".join(f"- {t}: {i}\n" for i, t in enumerate(texts)
                                    if not isinstance(yaml.safe_load(f"- {t}")[0], float)))
    want = [json_key(k, texts[v]) for m in theirs for k, v in m.items()]
    got = [item[0][0] for item in keys]
    if got != want:
        diff = [f"{w!r} vs {g!r}" for w, g in zip(want, got) if w != g]
        print(f"FAIL keys: {len(got)} keys, {len(want)} wanted; {'; '.join(diff[:8])}")
    else:
        print(f"PASS keys ({len(got)})")

    # Every text written as a string reads back as that string.
    texts = scalars(strings_list)
    back = yaml.safe_load(open(strings_path, encoding="utf-8"))["v"]
    bad = [f"{t!r} read back as {b!r}" for t, b in zip(texts, back) if not (type(b) is str and b == t)]
    if len(back) != len(texts):
        bad.insert(0, f"{len(back)} strings read back, {len(texts)} written")
    print(f"FAIL strings: {'; '.join(bad[:8])}" if bad else f"PASS strings ({len(texts)})")


def compare(a, b, path, problems):
    if type(a) is not type(b):
        problems.append(f"{path}: {type(a).__name__} {a!r:.60} became {type(b).__name__} {b!r:.60}")
    elif isinstance(a, dict):
        if list(a) != list(b):
            problems.append(f"{path}: keys {list(a)} became {list(b)}")
        for k in a:
            if k in b:
                compare(a[k], b[k], f"{path}.{k}", problems)
    elif isinstance(a, list):
        if len(a) != len(b):
            problems.append(f"{path}: {len(a)} items became {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            compare(x, y, f"{path}[{i}]", problems)
    elif not same_value(a, b):
        problems.append(f"{path}: {a!r:.60} became {b!r:.60}")


def to_json(v):
    """What Python's json.dumps makes of a PyYAML document (keys as json
    spells them), read back: the library's JSON output must equal it."""
    if isinstance(v, dict):
        return {json_key(k, str(k)): to_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [to_json(x) for x in v]
    if isinstance(v, float) and (math.isinf(v) or math.isnan(v)):
        return None  # JSON has no inf or nan: the library prints null
    if isinstance(v, datetime.datetime):
        return v.isoformat()
    if isinstance(v, datetime.date):
        return v.isoformat()
    return v


def cmd_roundtrip(in_path, out_yaml, out_json):
    src = yaml.safe_load(open(in_path, encoding="utf-8"))
    back = yaml.safe_load(open(out_yaml, encoding="utf-8"))
    problems = []
    compare(src, back, "", problems)
    name = in_path.rsplit("/", 1)[-1]
    print(f"FAIL {name} yaml: {'; '.join(problems[:6])}" if problems else f"PASS {name} yaml")
    ours = json.load(open(out_json))
    want = to_json(src)
    problems = []
    compare(want, ours, "", problems)
    print(f"FAIL {name} json: {'; '.join(problems[:6])}" if problems else f"PASS {name} json")


if __name__ == "__main__":
    {"scalars": cmd_scalars, "roundtrip": cmd_roundtrip}[sys.argv[1]](*sys.argv[2:])
