#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""fastapi_server.py - the competitor to rulesd: the same policies in a
FastAPI + uvicorn server, the stack of dstack's own example plugin server,
answering dstack's REST plugin protocol (POST /apply_policies/on_run_apply
and friends, {"user","project","spec"} in, {"spec","error"} out).

  python3 fastapi_server.py --port PORT --policy example|rules --mode models|dicts

--mode models parses the body into pydantic models (the ones in
py_pydantic.py; Debian's FastAPI brings pydantic 1.10) and dumps the
response from them, as dstack's plugin server does; --mode dicts is the
fastest plain-Python variant (json module and py_plain.py's functions).
One uvicorn worker, no access log. Bodies are parsed from the raw request
so a rejected spec can go back exactly as it came.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import uvicorn  # noqa: E402
from fastapi import FastAPI, Request  # noqa: E402
from fastapi.responses import Response  # noqa: E402

import py_plain  # noqa: E402
import py_pydantic  # noqa: E402


def make_app(policy, mode):
    app = FastAPI()
    for kind in ("run", "fleet", "volume", "gateway"):
        route = "/apply_policies/on_%s_apply" % kind
        if mode == "models":
            Req, Resp = py_pydantic.request_models(py_pydantic.SPECS[kind])
            hook = "on_%s_apply" % kind
            applies = [getattr(p, hook) for p in py_pydantic.POLICIES[policy] if hasattr(p, hook)]
            v2 = py_pydantic.V2

            def handler(raw, Req=Req, Resp=Resp, applies=applies, v2=v2):
                req = Req.model_validate_json(raw) if v2 else Req.parse_raw(raw)
                errors, warnings = [], []
                for apply in applies:
                    apply(req.user, req.project, req.spec, errors, warnings)
                if errors:
                    orig = Req.model_validate_json(raw) if v2 else Req.parse_raw(raw)
                    resp = Resp(spec=orig.spec, error="; ".join(errors))
                else:
                    resp = Resp(spec=req.spec, error=None)
                return resp.model_dump_json(exclude_unset=True) if v2 else resp.json(exclude_unset=True)
        else:
            policies = py_plain.POLICIES[policy]

            def handler(raw, kind=kind, policies=policies):
                body = json.loads(raw)
                spec = body["spec"]
                user, project = body.get("user"), body.get("project")
                ctx = py_plain.Ctx(user if type(user) is str else "", project if type(project) is str else "")
                for p in policies:
                    p(spec, ctx, kind)
                if ctx.errors:
                    resp = {"spec": json.loads(raw)["spec"], "error": "; ".join(ctx.errors)}
                else:
                    resp = {"spec": spec, "error": None}
                return json.dumps(resp, separators=(",", ":"), ensure_ascii=False)

        async def endpoint(request: Request, handler=handler):
            return Response(handler(await request.body()), media_type="application/json")

        app.add_api_route(route, endpoint, methods=["POST"])
    return app


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--policy", choices=["example", "rules"], default="example")
    ap.add_argument("--mode", choices=["models", "dicts"], default="models")
    a = ap.parse_args()
    uvicorn.run(make_app(a.policy, a.mode), host="127.0.0.1", port=a.port, log_level="warning",
                access_log=False)


if __name__ == "__main__":
    main()
