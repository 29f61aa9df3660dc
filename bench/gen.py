#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""gen.py - builds the benchmark inputs from dstack's real request bodies.

Writes, into OUTDIR:
  verify-<kind>.ndjson   every request of that kind, once per (user, project)
                         context, for the equivalence check before timing;
  batch-run.ndjson       N run requests (the bodies dstack posts to
                         /apply_policies/on_run_apply), cycling through the
                         real bodies and the contexts;
  bodies-run/NNN.json    the run bodies one per file (for wrk and the servers).

The spec inside each body is the real one, untouched; only the envelope's
user and project rotate, so that the regexes on $user and the per-project
defaults of rules/ take every branch. Bodies are re-serialized compactly
(one per line) with their floats as written (8.0 stays 8.0).
"""
import json
import os
import sys

CONTEXTS = [("alice", "main"), ("intern-bob", "main"), ("Contractor-carol", "research"),
            ("ext-dave", "research")]


def kind_of(spec):
    t = (spec.get("configuration") or {}).get("type")
    return t if t in ("fleet", "volume", "gateway") else "run"


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: gen.py REQUESTS_DIR OUTDIR N")
    src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    names = sorted(f for f in os.listdir(src) if f.endswith(".json"))
    if not names:
        sys.exit("gen.py: no request bodies in %s" % src)
    bodies = {}
    for f in names:
        with open(os.path.join(src, f), encoding="utf-8") as fh:
            body = json.load(fh)
        bodies.setdefault(kind_of(body["spec"]), []).append((f, body))
    os.makedirs(out, exist_ok=True)

    def line(body, user, project):
        b = dict(body)
        b["user"], b["project"] = user, project
        return json.dumps(b, separators=(",", ":"), ensure_ascii=False) + "\n"

    for kind, items in sorted(bodies.items()):
        with open(os.path.join(out, "verify-%s.ndjson" % kind), "w", encoding="utf-8") as fh:
            for _, body in items:
                for user, project in CONTEXTS:
                    fh.write(line(body, user, project))
    runs = bodies.get("run", [])
    with open(os.path.join(out, "batch-run.ndjson"), "w", encoding="utf-8") as fh:
        for i in range(n):
            _, body = runs[i % len(runs)]
            user, project = CONTEXTS[(i // len(runs)) % len(CONTEXTS)]
            fh.write(line(body, user, project))
    bdir = os.path.join(out, "bodies-run")
    os.makedirs(bdir, exist_ok=True)
    for i, (f, body) in enumerate(runs):
        user, project = CONTEXTS[i % len(CONTEXTS)]
        with open(os.path.join(bdir, "%03d.json" % i), "w", encoding="utf-8") as fh:
            fh.write(line(body, user, project))
    print("gen.py: %d request bodies (%s); batch of %d run requests in %s"
          % (len(names), ", ".join("%s %d" % (k, len(v)) for k, v in sorted(bodies.items())), n, out))


if __name__ == "__main__":
    main()
