#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""py_plain.py - the policies as an admin would hand-write them in Python:
functions over plain dicts, the json module, one request per line.

  py_plain.py --policy example|rules --kind KIND < requests.ndjson > responses.ndjson

Answers exactly as `rulec apply POLICY --request - --kind KIND --ndjson`
does: {"spec": rewritten, "error": null}, or {"spec": <the spec as it came>,
"error": "msg; msg"} when any check fails. Every policy runs even after a
failed check, in rulec's order (priority, then name), and warnings go to
standard error as rulec prints them. The semantics the rules language pins
down (truthiness, comparisons only between numbers or strings, writes that
create missing maps) are written out where these policies need them.
"""
import argparse
import json
import re
import sys

# ---- helpers: the language's semantics, as far as these policies need them
_NUM = (int, float)


def truthy(v):
    return not (v is None or v is False or v == "" or v == [] or v == {}
                or (type(v) in _NUM and v == 0))


def is_num(v):
    return type(v) in _NUM


def gt(a, b):
    return ((is_num(a) and is_num(b)) or (type(a) is str and type(b) is str)) and a > b


def ge(a, b):
    return ((is_num(a) and is_num(b)) or (type(a) is str and type(b) is str)) and a >= b


def fmt(v):
    """A value in a message: strings as they are, the rest as compact JSON."""
    return v if type(v) is str else json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def get(d, *keys):
    """Reads a path; anything missing or not a map on the way reads as None."""
    for k in keys:
        if type(d) is not dict:
            return None
        d = d.get(k)
    return d


def obj(d, *keys):
    """The map at a path for writing, creating (or replacing) non-maps."""
    for k in keys:
        v = d.get(k)
        if type(v) is not dict:
            v = d[k] = {}
        d = v
    return d


def any_in(coll, pred):
    if type(coll) is list:
        return any(pred(x) for x in coll)
    if type(coll) is dict:
        return any(pred(x) for x in coll.values())
    return False


def vmin(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if (is_num(a) and is_num(b)) or (type(a) is str and type(b) is str):
        return b if b < a else a
    return None


# ---- the policies -------------------------------------------------------
class Ctx:
    __slots__ = ("user", "project", "errors", "warnings")

    def __init__(self, user, project):
        self.user, self.project = user, project
        self.errors, self.warnings = [], []


def example(spec, ctx, kind):
    if kind == "run":
        conf = obj(spec, "configuration")
        conf["max_price"] = 2.0
        conf["max_duration"] = 86400
        tags = conf.get("tags")
        if tags is None:
            conf["tags"] = {"team": "my_team"}
        elif type(tags) is dict:
            tags["team"] = "my_team"
        if truthy(conf.get("privileged")):
            ctx.errors.append("Running privileged containers is forbidden")
        if conf.get("type") == "service":
            conf["https"] = True
    elif kind == "gateway":
        ctx.errors.append("gateways are created by the platform team")


BACKENDS = ["aws", "gcp"]
REGIONS = ["us-east-1", "us-west-2", "europe-west4"]


def placement(spec, ctx, kind):
    if kind in ("run", "fleet"):
        backends = get(spec, "configuration", "backends")
        if any_in(backends, lambda b: b not in BACKENDS):
            ctx.errors.append("backends %s are not all allowed (allowed: %s)" % (fmt(backends), fmt(BACKENDS)))
        regions = get(spec, "configuration", "regions")
        if any_in(regions, lambda r: r not in REGIONS):
            ctx.errors.append("regions %s are not all allowed (allowed: %s)" % (fmt(regions), fmt(REGIONS)))
        conf = obj(spec, "configuration")
        if conf.get("backends") is None:
            conf["backends"] = list(BACKENDS)
        if conf.get("regions") is None:
            conf["regions"] = list(REGIONS)
    elif kind in ("volume", "gateway"):
        backend = get(spec, "configuration", "backend")
        if backend not in BACKENDS:
            ctx.errors.append("backend %s is not allowed (allowed: %s)" % (fmt(backend), fmt(BACKENDS)))
        region = get(spec, "configuration", "region")
        if region is not None and region not in REGIONS:
            ctx.errors.append("region %s is not allowed (allowed: %s)" % (fmt(region), fmt(REGIONS)))


def list_of(spec, field):
    """The elements `each g in configuration.FIELD` visits: a list's items (nothing else)."""
    v = get(spec, "configuration", field)
    return v if isinstance(v, list) else []


def privileged(spec, ctx, kind):
    if kind != "run":
        return
    if get(spec, "configuration", "docker") is True:
        ctx.errors.append("docker: true runs the container privileged (Docker-in-Docker), which is forbidden")
    for g in list_of(spec, "replicas"):
        if isinstance(g, dict) and g.get("privileged") is True:
            ctx.errors.append("replica group %s asks for a privileged container, which is forbidden"
                              % fmt(g.get("name")))
        if isinstance(g, dict) and g.get("docker") is True:
            ctx.errors.append("replica group %s sets docker: true (a privileged container), which is forbidden"
                              % fmt(g.get("name")))


INTERN = re.compile(r"^intern-")
CONTRACTOR = re.compile(r"^(contractor|ext)-", re.I)


def close_at(count, cap):
    """`match count.min > 0 or count.max > 0 { set count.max = min(count.max ?? CAP, CAP); }`:
    a range that asks for GPUs is closed at the cap (`count` is the map at the
    path, or anything else, which asks for nothing)."""
    if gt(get(count, "min"), 0) or gt(get(count, "max"), 0):
        cmax = count.get("max")
        count["max"] = vmin(cap if cmax is None else cmax, cap)


def group_caps(spec, ctx, cap, who, unit):
    """`each g in replicas` and `each g in groups`: a message per group over the cap,
    and each group's range closed at it."""
    for field, what in (("replicas", "replica group"), ("groups", "node group")):
        for g in list_of(spec, field):
            gmin = get(g, "resources", "gpu", "count", "min")
            if gt(gmin, cap):
                ctx.errors.append("%s may request at most %d %s (%s %s asks for %s)"
                                  % (who, cap, unit, what, fmt(get(g, "name")), fmt(gmin)))
            close_at(get(g, "resources", "gpu", "count"), cap)


def first(*vals):
    """`a ?? b ?? c`: the first that is not None."""
    return next((v for v in vals if v is not None), None)


def length(v):
    """`len(x)` as far as these specs need it (null, a list, a map, a string)."""
    return 0 if v is None else len(v)


def gpus(g):
    return first(get(g, "resources", "gpu", "count", "max"), get(g, "resources", "gpu", "count", "min"), 0)


MAX_TOTAL = 16
TOTAL_MSG = "runs may use at most %d GPUs in total across their replica and node groups" % MAX_TOTAL


def gpu_total(spec, ctx):
    """The total at full scale, on the ranges as closed: over the groups when there
    are any (replicas x GPUs, nodes x GPUs), else the run's own replicas (a
    service) or nodes (anything else) x its GPUs. (The corpus's terms are all
    numbers; the rules language stops the decision on one that is not.)"""
    conf = get(spec, "configuration")
    if get(conf, "type") == "service":
        if type(get(conf, "replicas")) is list or length(get(conf, "groups")) > 0:
            total = sum(first(get(g, "count", "max"), get(g, "count", "min"), get(g, "count")) * gpus(g)
                        for f in ("replicas", "groups") for g in list_of(spec, f))
            if total > MAX_TOTAL:
                ctx.errors.append(TOTAL_MSG)
        else:
            r = first(get(conf, "replicas", "max"), get(conf, "replicas", "min"), get(conf, "replicas"), 1)
            n = gpus(conf)
            if r * n > MAX_TOTAL:
                ctx.errors.append("runs may use at most %d GPUs in total (up to %s replicas x %s GPUs)"
                                  % (MAX_TOTAL, fmt(r), fmt(n)))
    elif length(get(conf, "groups")) > 0:
        if sum(first(get(g, "nodes"), 1) * gpus(g) for g in list_of(spec, "groups")) > MAX_TOTAL:
            ctx.errors.append(TOTAL_MSG)
    else:
        nodes = first(get(conf, "nodes"), 1)
        n = gpus(conf)
        if nodes * n > MAX_TOTAL:
            ctx.errors.append("runs may use at most %d GPUs in total (%s nodes x %s GPUs)"
                              % (MAX_TOTAL, fmt(nodes), fmt(n)))


def gpu_limits(spec, ctx, kind):
    if kind != "run":
        return
    if INTERN.search(ctx.user):
        cap, who, unit = 1, "interns", "GPU"
    elif CONTRACTOR.search(ctx.user):
        cap, who, unit = 4, "contractors", "GPUs"
    else:
        cap, who, unit = 8, "runs", "GPUs"
    gmin = get(spec, "configuration", "resources", "gpu", "count", "min")
    if gt(gmin, cap):
        ctx.errors.append("%s may request at most %d %s (asked for %s)" % (who, cap, unit, fmt(gmin)))
    group_caps(spec, ctx, cap, who, unit)
    close_at(get(spec, "configuration", "resources", "gpu", "count"), cap)
    gpu_total(spec, ctx)


APPROVED = ["docker.io/library/", "nvcr.io/nvidia/", "ghcr.io/dstackai/", "python:", "rocm/",
            "runpod/", "lmsysorg/", "vllm/"]


def registry(spec, ctx, kind):
    if kind != "run":
        return
    image = get(spec, "configuration", "image")
    if image is not None and not (type(image) is str and image.startswith(tuple(APPROVED))):
        ctx.errors.append("image %s is not from an approved registry (approved: %s)" % (fmt(image), fmt(APPROVED)))
    if type(image) is str and image.endswith(":latest"):
        ctx.warnings.append(("image %s uses the floating :latest tag; pin a version for reproducible runs"
                             % image, "registry", 11))


MAX_IDLE = 7200


def dev_idle(spec, ctx, kind):
    if kind != "run" or get(spec, "configuration", "type") != "dev-environment":
        return
    idle = get(spec, "configuration", "inactivity_duration")
    if not ge(idle, 0) or idle is False:
        obj(spec, "configuration")["inactivity_duration"] = MAX_IDLE
    elif gt(idle, MAX_IDLE):
        ctx.warnings.append(("inactivity_duration %ss is above the %ss limit; using %ss"
                             % (fmt(idle), MAX_IDLE, MAX_IDLE), "dev-idle", 12))
        obj(spec, "configuration")["inactivity_duration"] = MAX_IDLE


def project_defaults(spec, ctx, kind):
    if kind != "run":
        return
    conf = obj(spec, "configuration")
    if conf.get("max_duration") is None:
        conf["max_duration"] = 259200 if ctx.project == "research" else 28800
    if gt(get(spec, "configuration", "resources", "gpu", "count", "min"), 0):
        if conf.get("utilization_policy") is None:
            conf["utilization_policy"] = {"min_gpu_utilization": 10, "time_window": 3600}


POLICIES = {
    "example": [example],
    # rules/ in rulec's order: priority, then name.
    "rules": [example, privileged, placement, gpu_limits, registry, dev_idle, project_defaults],
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--policy", choices=sorted(POLICIES), required=True)
    ap.add_argument("--kind", required=True)
    a = ap.parse_args()
    policies, kind = POLICIES[a.policy], a.kind
    out, err = sys.stdout, sys.stderr
    loads, dumps = json.loads, json.dumps
    for line in sys.stdin:
        body = loads(line)
        spec = body["spec"]
        user, project = body.get("user"), body.get("project")
        ctx = Ctx(user if type(user) is str else "", project if type(project) is str else "")
        for p in policies:
            p(spec, ctx, kind)
        for text, pol, ln in ctx.warnings:
            err.write("warning: %s (%s:%d)\n" % (text, pol, ln))
        if ctx.errors:
            # Rejected: the spec goes back exactly as it came.
            resp = {"spec": loads(line)["spec"], "error": "; ".join(ctx.errors)}
        else:
            resp = {"spec": spec, "error": None}
        out.write(dumps(resp, separators=(",", ":"), ensure_ascii=False))
        out.write("\n")


if __name__ == "__main__":
    main()
