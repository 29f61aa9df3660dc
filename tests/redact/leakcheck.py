#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""leakcheck.py - does a log or an explanation hold a secret? For
tests/run-redact.sh. A secret leaks when any 4-byte window of it, in any
ASCII case, is in the checked text (so upper(), lower() and pieces count),
or when the whole value is (also for shorter ones). Exit 0 = no leak; else
one line naming the secret (its first 3 bytes) and where.

  leakcheck.py declog LOG SECRETS     the decision log: messages and changed
                                      paths by window, whole lines by value
  leakcheck.py text FILE SECRETS      any text, by window
  leakcheck.py explain FILE SECRETS   rulec apply --explain's lines in a
                                      standard error that also holds the
                                      requester's warnings (not checked)
  leakcheck.py evaluate FILE SECRETS  a /v1/evaluate body: all but "spec"
SECRETS holds one secret per line."""
import json
import re
import sys


def windows(s):
    s = s.lower()
    return {s[i:i + 4] for i in range(len(s) - 3)} if len(s) >= 4 else set()


def leaks(text, secrets, where):
    low = text.lower()
    for s in secrets:
        if s.lower() in low:
            return f"{where}: holds the secret {s[:3]}... whole"
        for w in windows(s):
            if w in low:
                return f"{where}: holds {w!r} of the secret {s[:3]}..."
    return None


def fail(msg):
    print(msg)
    sys.exit(1)


def main():
    mode, path, secrets_path = sys.argv[1:4]
    secrets = [line.rstrip("\n") for line in open(secrets_path) if line.strip()]
    raw = open(path, encoding="utf-8", errors="replace").read()
    if mode == "text":
        problem = leaks(raw, secrets, path)
    elif mode == "explain":
        lines = [l for l in raw.splitlines()
                 if re.fullmatch(r"\S+: .* -> .*  \(\S+:\d+\)", l) or l == "no changes" or l.startswith("(rejected")]
        if not lines:
            fail(f"{path}: no explanation")
        problem = leaks("\n".join(lines), secrets, path)
    elif mode == "evaluate":
        body = json.loads(raw)
        body.pop("spec", None)
        problem = leaks(json.dumps(body, ensure_ascii=False), secrets, "the explanation")
    elif mode == "declog":
        problem = None
        lines = raw.splitlines()
        if not lines:
            fail("the decision log is empty")
        for i, line in enumerate(lines, 1):
            entry = json.loads(line)
            texts = [m["text"] for m in entry["messages"]] + entry["changed"]
            problem = leaks("\n".join(texts), secrets, f"line {i}") or \
                next((f"line {i}: holds the secret {s[:3]}..." for s in secrets if s in line), None)
            if problem:
                break
    else:
        fail(f"unknown mode {mode}")
    if problem:
        fail(problem)


main()
