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
  yaml_same.py edited IN.yaml OUT.yaml OUT.json EXPLAIN [comments]
      IN.yaml went through policies that changed it: OUT.yaml and OUT.json
      are rulec apply's YAML and JSON output, EXPLAIN its --explain lines.
      PyYAML reads OUT.yaml as the decided tree OUT.json holds; with
      "comments", every comment line of IN.yaml outside the lines of a
      changed or removed member (EXPLAIN's paths) and outside block scalars
      is in OUT.yaml as often as in IN.yaml.
"""
import re
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


def last_line(node):
    """The line a node's text ends on (a block collection's end mark is the
    next token's start, so its last value's)."""
    if isinstance(node, yaml.MappingNode) and node.value and node.flow_style is not True:
        return last_line(node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and node.value and node.flow_style is not True:
        return last_line(node.value[-1])
    m = node.end_mark
    return m.line - 1 if m.column == 0 and m.line > node.start_mark.line else m.line


def find(node, segs):
    """The (first line, last line) of the member or item at segs, or None."""
    lines = None
    for seg in segs:
        if isinstance(node, yaml.MappingNode) and isinstance(seg, str):
            hit = [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == seg]
            if not hit:
                return None
            k, node = hit[0]
            lines = (k.start_mark.line, last_line(node))
        elif isinstance(node, yaml.SequenceNode) and isinstance(seg, int) and -len(node.value) <= seg < len(node.value):
            node = node.value[seg]
            lines = (node.start_mark.line, last_line(node))
        else:
            return None
    return lines


def path_segments(path):
    segs = []
    for name, index, quoted in re.findall(r'([^.\[\]]+)|\[(-?\d+)\]|\["((?:[^"\\]|\\.)*)"\]', path):
        segs.append(int(index) if index else json.loads(f'"{quoted}"') if quoted else name)
    return segs


def comment_lines(text, root):
    """Full-line comments outside block scalars: {line number: text}."""
    inside = set()
    stack = [root] if root is not None else []
    while stack:
        n = stack.pop()
        if isinstance(n, yaml.ScalarNode):
            if n.style in ("|", ">"):
                inside.update(range(n.start_mark.line, last_line(n) + 1))
        elif isinstance(n, yaml.MappingNode):
            stack.extend(x for kv in n.value for x in kv)
        else:
            stack.extend(n.value)
    return {i: l.strip() for i, l in enumerate(text.splitlines()) if l.strip().startswith("#") and i not in inside}


def cmd_edited(in_path, out_yaml, out_json, explain, *what):
    name = in_path.rsplit("/", 1)[-1]
    back = yaml.safe_load(open(out_yaml, encoding="utf-8"))
    problems = []
    compare(json.load(open(out_json)), to_json(back), "", problems)
    print(f"FAIL {name} edited: {'; '.join(problems[:6])}" if problems else f"PASS {name} edited")
    if "comments" not in what:
        return
    text = open(in_path, encoding="utf-8").read()
    root = yaml.compose(text)
    changed = set()
    for line in open(explain, encoding="utf-8"):
        if " -> " not in line or ": " not in line:
            continue
        lines = find(root, path_segments(line.split(": ", 1)[0]))
        if lines:
            changed.update(range(lines[0], lines[1] + 1))
    want = {}
    for i, c in comment_lines(text, root).items():
        if i not in changed:
            want[c] = want.get(c, 0) + 1
    have = {}
    for l in open(out_yaml, encoding="utf-8").read().splitlines():
        if l.strip().startswith("#"):
            have[l.strip()] = have.get(l.strip(), 0) + 1
    lost = [f"{c!r} ({n - have.get(c, 0)} of {n})" for c, n in want.items() if have.get(c, 0) < n]
    kept = sum(want.values())
    print(f"FAIL {name} comments lost: {'; '.join(lost[:6])}" if lost else f"PASS {name} comments ({kept} kept)")


if __name__ == "__main__":
    {"scalars": cmd_scalars, "roundtrip": cmd_roundtrip, "edited": cmd_edited}[sys.argv[1]](*sys.argv[2:])
