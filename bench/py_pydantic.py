#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""py_pydantic.py - the policies as a dstack ApplyPolicy over pydantic v2
models, parsing and dumping each spec the way dstack's REST plugin does
(model_validate_json of the request body, model_dump_json of the response).

  py_pydantic.py --policy example|rules --kind KIND < requests.ndjson > responses.ndjson

The models are a subset of dstack's RunSpec / FleetSpec / VolumeSpec /
GatewaySpec: the fields the policies touch are typed as dstack types them
(configuration is a union discriminated by "type"); every model allows
extra fields, so everything else round-trips untouched, and the response
is dumped with exclude_unset so that fields absent from the body stay
absent. Needs pydantic 2.
"""
import argparse
import json
import re
import sys
from typing import Annotated, Any, Dict, List, Literal, Optional, Union

import pydantic
from pydantic import BaseModel, Field

try:
    from pydantic import ConfigDict
except ImportError:  # pydantic 1
    ConfigDict = None

# The batch competitor is pydantic 2 (main() insists); the models also load
# under pydantic 1.10, which Debian's FastAPI server (fastapi_server.py) uses.
V2 = pydantic.VERSION.startswith("2.")


class M(BaseModel):
    if V2:
        model_config = ConfigDict(extra="allow")
    else:
        class Config:
            extra = "allow"
            smart_union = True  # 1.10: pick the exact type, as 2 does


class IntRange(M):
    min: Optional[int] = None
    max: Optional[int] = None


class FloatRange(M):
    min: Optional[float] = None
    max: Optional[float] = None


class CPUSpec(M):
    arch: Optional[str] = None
    count: Optional[IntRange] = None


class GPUSpec(M):
    vendor: Optional[str] = None
    name: Optional[List[str]] = None
    count: Optional[IntRange] = None
    memory: Optional[FloatRange] = None
    total_memory: Optional[FloatRange] = None
    compute_capability: Optional[Any] = None


class DiskSpec(M):
    size: Optional[FloatRange] = None


class ResourcesSpec(M):
    cpu: Optional[CPUSpec] = None
    memory: Optional[FloatRange] = None
    shm_size: Optional[float] = None
    gpu: Optional[GPUSpec] = None
    disk: Optional[DiskSpec] = None


class UtilizationPolicy(M):
    min_gpu_utilization: int
    time_window: Union[int, str]


Duration = Optional[Union[Literal["off"], int, bool, str]]


class BaseRunConfiguration(M):
    name: Optional[str] = None
    image: Optional[str] = None
    user: Optional[str] = None
    privileged: bool = False
    entrypoint: Optional[str] = None
    working_dir: Optional[str] = None
    home_dir: str = "/root"
    registry_auth: Optional[Dict[str, Any]] = None
    python: Optional[str] = None
    nvcc: Optional[bool] = None
    env: Union[List[str], Dict[str, Any]] = Field(default_factory=dict)
    shell: Optional[str] = None
    resources: ResourcesSpec = Field(default_factory=ResourcesSpec)
    priority: Optional[int] = None
    volumes: List[Any] = Field(default_factory=list)
    backends: Optional[List[str]] = None
    regions: Optional[List[str]] = None
    availability_zones: Optional[List[str]] = None
    instance_types: Optional[List[str]] = None
    spot_policy: Optional[str] = None
    retry: Optional[Union[bool, Dict[str, Any]]] = None
    max_duration: Duration = None
    stop_duration: Duration = None
    max_price: Optional[float] = None
    idle_duration: Duration = None
    utilization_policy: Optional[UtilizationPolicy] = None
    tags: Optional[Dict[str, str]] = None


class DevEnvironmentConfiguration(BaseRunConfiguration):
    type: Literal["dev-environment"] = "dev-environment"
    ide: Optional[str] = None
    inactivity_duration: Duration = None


class TaskConfiguration(BaseRunConfiguration):
    type: Literal["task"] = "task"
    nodes: int = 1
    commands: List[str] = Field(default_factory=list)


class ServiceConfiguration(BaseRunConfiguration):
    type: Literal["service"] = "service"
    port: Any = None
    https: Union[bool, Literal["auto"], None] = True
    auth: bool = True
    replicas: Any = None
    commands: List[str] = Field(default_factory=list)


AnyRunConfiguration = Annotated[
    Union[DevEnvironmentConfiguration, TaskConfiguration, ServiceConfiguration],
    Field(discriminator="type")]


class Profile(M):
    name: Optional[str] = None
    default: bool = False


class RunSpec(M):
    run_name: Optional[str] = None
    repo_id: Optional[str] = None
    repo_data: Optional[Any] = None
    repo_code_hash: Optional[str] = None
    working_dir: Optional[str] = None
    configuration_path: Optional[str] = None
    configuration: AnyRunConfiguration
    profile: Optional[Profile] = None
    ssh_key_pub: Optional[str] = None


class FleetConfiguration(M):
    type: Literal["fleet"] = "fleet"
    name: Optional[str] = None
    nodes: Any = None
    backends: Optional[List[str]] = None
    regions: Optional[List[str]] = None
    resources: Optional[ResourcesSpec] = None
    max_price: Optional[float] = None
    tags: Optional[Dict[str, str]] = None


class FleetSpec(M):
    configuration: FleetConfiguration
    configuration_path: Optional[str] = None
    profile: Optional[Profile] = None


class VolumeConfiguration(M):
    type: Literal["volume"] = "volume"
    name: Optional[str] = None
    backend: str
    region: str
    size: Optional[float] = None
    tags: Optional[Dict[str, str]] = None


class VolumeSpec(M):
    configuration: VolumeConfiguration
    configuration_path: Optional[str] = None


class GatewayConfiguration(M):
    type: Literal["gateway"] = "gateway"
    name: Optional[str] = None
    backend: str
    region: str
    domain: Optional[str] = None
    public_ip: bool = True
    tags: Optional[Dict[str, str]] = None


class GatewaySpec(M):
    configuration: GatewayConfiguration
    configuration_path: Optional[str] = None


def request_models(spec_type):
    """dstack's rest_plugin.{Run,Fleet,...}SpecRequest / ...SpecResponse."""
    req = pydantic.create_model(spec_type.__name__ + "Request", user=(str, ...), project=(str, ...),
                                spec=(spec_type, ...))
    resp = pydantic.create_model(spec_type.__name__ + "Response", spec=(spec_type, ...),
                                 error=(Optional[str], None))
    return req, resp


SPECS = {"run": RunSpec, "fleet": FleetSpec, "volume": VolumeSpec, "gateway": GatewaySpec}


# ---- the policies, as ApplyPolicy methods would write them ----------------
def _num(v):
    return type(v) in (int, float)


def _gpu_count(spec):
    r = spec.configuration.resources
    return r.gpu.count if r is not None and r.gpu is not None else None


class ExamplePolicy:
    def on_run_apply(self, user, project, spec, errors, warnings):
        conf = spec.configuration
        conf.max_price = 2.0
        conf.max_duration = 86400
        if conf.tags is None:
            conf.tags = {}
        conf.tags["team"] = "my_team"
        if conf.privileged:
            errors.append("Running privileged containers is forbidden")
        if isinstance(conf, ServiceConfiguration):
            conf.https = True

    def on_gateway_apply(self, user, project, spec, errors, warnings):
        errors.append("gateways are created by the platform team")


BACKENDS = ["aws", "gcp"]
REGIONS = ["us-east-1", "us-west-2", "europe-west4"]


def _js(v):
    return "[" + ",".join('"%s"' % x for x in v) + "]"


class PlacementPolicy:
    def _run_or_fleet(self, spec, errors):
        conf = spec.configuration
        if conf.backends and any(b not in BACKENDS for b in conf.backends):
            errors.append("backends %s are not all allowed (allowed: %s)" % (_js(conf.backends), _js(BACKENDS)))
        if conf.regions and any(r not in REGIONS for r in conf.regions):
            errors.append("regions %s are not all allowed (allowed: %s)" % (_js(conf.regions), _js(REGIONS)))
        if conf.backends is None:
            conf.backends = list(BACKENDS)
        if conf.regions is None:
            conf.regions = list(REGIONS)

    def _volume_or_gateway(self, spec, errors):
        conf = spec.configuration
        if conf.backend not in BACKENDS:
            errors.append("backend %s is not allowed (allowed: %s)" % (conf.backend, _js(BACKENDS)))
        if conf.region is not None and conf.region not in REGIONS:
            errors.append("region %s is not allowed (allowed: %s)" % (conf.region, _js(REGIONS)))

    def on_run_apply(self, user, project, spec, errors, warnings):
        self._run_or_fleet(spec, errors)

    on_fleet_apply = on_run_apply

    def on_volume_apply(self, user, project, spec, errors, warnings):
        self._volume_or_gateway(spec, errors)

    on_gateway_apply = on_volume_apply


def _groups(conf, field):
    """The elements `each g in configuration.FIELD` visits: a list's items (extra fields stay raw JSON)."""
    v = getattr(conf, field, None)
    return v if isinstance(v, list) else []


def _fmt(v):
    return v if type(v) is str else json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def _num_over(v, cap):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v > cap


def _group_caps(conf, errors, cap, who, unit):
    """`each g in replicas` and `each g in groups`: a message per group over the cap,
    and each group's range that asks for GPUs closed at it (the groups stay raw JSON)."""
    for field, what in (("replicas", "replica group"), ("groups", "node group")):
        for g in _groups(conf, field):
            c = g.get("resources") if isinstance(g, dict) else None
            c = c.get("gpu") if isinstance(c, dict) else None
            c = c.get("count") if isinstance(c, dict) else None
            gmin = c.get("min") if isinstance(c, dict) else None
            if _num_over(gmin, cap):
                errors.append("%s may request at most %d %s (%s %s asks for %s)"
                              % (who, cap, unit, what, _fmt(g.get("name")), _fmt(gmin)))
            if isinstance(c, dict) and (_num_over(gmin, 0) or _num_over(c.get("max"), 0)):
                c["max"] = cap if c.get("max") is None else min(c["max"], cap)


class PrivilegedPolicy:
    def on_run_apply(self, user, project, spec, errors, warnings):
        conf = spec.configuration
        if getattr(conf, "docker", None) is True:
            errors.append("docker: true runs the container privileged (Docker-in-Docker), which is forbidden")
        for g in _groups(conf, "replicas"):
            if isinstance(g, dict) and g.get("privileged") is True:
                errors.append("replica group %s asks for a privileged container, which is forbidden"
                              % _fmt(g.get("name")))
            if isinstance(g, dict) and g.get("docker") is True:
                errors.append("replica group %s sets docker: true (a privileged container), which is forbidden"
                              % _fmt(g.get("name")))


INTERN = re.compile(r"^intern-")
CONTRACTOR = re.compile(r"^(contractor|ext)-", re.I)


def _first(*vals):
    """`a ?? b ?? c`: the first that is not None."""
    return next((v for v in vals if v is not None), None)


def _dig(d, *keys):
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def _gpus(g):
    return _first(_dig(g, "resources", "gpu", "count", "max"), _dig(g, "resources", "gpu", "count", "min"), 0)


def _len(v):
    """`len(x)` as far as these specs need it (null, a list, a map, a string)."""
    return 0 if v is None else len(v)


MAX_TOTAL = 16
TOTAL_MSG = "runs may use at most %d GPUs in total across their replica and node groups" % MAX_TOTAL


def _gpu_total(conf, count, errors):
    """The total at full scale, on the ranges as closed: over the groups when there
    are any (replicas x GPUs, nodes x GPUs; the groups stay raw JSON), else the
    run's own replicas (a service) or nodes (anything else) x its GPUs."""
    top = _first(count.max, count.min, 0) if count is not None else 0
    groups = getattr(conf, "groups", None)
    if isinstance(conf, ServiceConfiguration):
        if isinstance(conf.replicas, list) or _len(groups) > 0:
            total = sum(_first(_dig(g, "count", "max"), _dig(g, "count", "min"), _dig(g, "count")) * _gpus(g)
                        for f in ("replicas", "groups") for g in _groups(conf, f))
            if total > MAX_TOTAL:
                errors.append(TOTAL_MSG)
        else:
            r = conf.replicas
            r = _first(_dig(r, "max"), _dig(r, "min"), r, 1)
            if r * top > MAX_TOTAL:
                errors.append("runs may use at most %d GPUs in total (up to %s replicas x %s GPUs)"
                              % (MAX_TOTAL, _fmt(r), _fmt(top)))
    elif _len(groups) > 0:
        if sum(_first(_dig(g, "nodes"), 1) * _gpus(g) for g in _groups(conf, "groups")) > MAX_TOTAL:
            errors.append(TOTAL_MSG)
    else:
        # A task's nodes (the model's default, 1, where it was left out); a dev
        # environment has none.
        nodes = _first(getattr(conf, "nodes", None), 1)
        if nodes * top > MAX_TOTAL:
            errors.append("runs may use at most %d GPUs in total (%s nodes x %s GPUs)"
                          % (MAX_TOTAL, _fmt(nodes), _fmt(top)))


class GpuLimitsPolicy:
    def on_run_apply(self, user, project, spec, errors, warnings):
        if INTERN.search(user):
            cap, who, unit = 1, "interns", "GPU"
        elif CONTRACTOR.search(user):
            cap, who, unit = 4, "contractors", "GPUs"
        else:
            cap, who, unit = 8, "runs", "GPUs"
        count = _gpu_count(spec)
        gmin = count.min if count is not None else None
        if gmin is not None and gmin > cap:
            errors.append("%s may request at most %d %s (asked for %d)" % (who, cap, unit, gmin))
        _group_caps(spec.configuration, errors, cap, who, unit)
        # A range that asks for GPUs is closed at the cap; no GPU block is invented.
        if count is not None and ((gmin or 0) > 0 or (count.max or 0) > 0):
            count.max = cap if count.max is None else min(count.max, cap)
        _gpu_total(spec.configuration, count, errors)


APPROVED = ("docker.io/library/", "nvcr.io/nvidia/", "ghcr.io/dstackai/", "python:", "rocm/",
            "runpod/", "lmsysorg/", "vllm/")


class RegistryPolicy:
    def on_run_apply(self, user, project, spec, errors, warnings):
        image = spec.configuration.image
        if image is not None and not image.startswith(APPROVED):
            errors.append("image %s is not from an approved registry (approved: %s)" % (image, _js(APPROVED)))
        if image is not None and image.endswith(":latest"):
            warnings.append(("image %s uses the floating :latest tag; pin a version for reproducible runs"
                             % image, "registry", 11))


MAX_IDLE = 7200


class DevIdlePolicy:
    def on_run_apply(self, user, project, spec, errors, warnings):
        conf = spec.configuration
        if not isinstance(conf, DevEnvironmentConfiguration):
            return
        idle = conf.inactivity_duration
        if not _num(idle) or idle < 0:
            conf.inactivity_duration = MAX_IDLE
        elif idle > MAX_IDLE:
            warnings.append(("inactivity_duration %ds is above the %ds limit; using %ds"
                             % (idle, MAX_IDLE, MAX_IDLE), "dev-idle", 12))
            conf.inactivity_duration = MAX_IDLE


class ProjectDefaultsPolicy:
    def on_run_apply(self, user, project, spec, errors, warnings):
        conf = spec.configuration
        if conf.max_duration is None:
            conf.max_duration = 259200 if project == "research" else 28800
        count = _gpu_count(spec)
        if count is not None and count.min is not None and count.min > 0 and conf.utilization_policy is None:
            conf.utilization_policy = UtilizationPolicy(min_gpu_utilization=10, time_window=3600)


POLICIES = {
    "example": [ExamplePolicy()],
    "rules": [ExamplePolicy(), PrivilegedPolicy(), PlacementPolicy(), GpuLimitsPolicy(), RegistryPolicy(),
              DevIdlePolicy(), ProjectDefaultsPolicy()],
}


def main():
    if not V2:
        sys.exit("py_pydantic.py: needs pydantic 2, found %s" % pydantic.VERSION)
    ap = argparse.ArgumentParser()
    ap.add_argument("--policy", choices=sorted(POLICIES), required=True)
    ap.add_argument("--kind", choices=sorted(SPECS), required=True)
    a = ap.parse_args()
    Request, Response = request_models(SPECS[a.kind])
    hook = "on_%s_apply" % a.kind
    policies = [getattr(p, hook) for p in POLICIES[a.policy] if hasattr(p, hook)]
    out, err = sys.stdout, sys.stderr
    for line in sys.stdin:
        req = Request.model_validate_json(line)
        errors, warnings = [], []
        for apply in policies:
            apply(req.user, req.project, req.spec, errors, warnings)
        for text, pol, ln in warnings:
            err.write("warning: %s (%s:%d)\n" % (text, pol, ln))
        if errors:
            # Rejected: answer with the spec as it came.
            resp = Response(spec=Request.model_validate_json(line).spec, error="; ".join(errors))
        else:
            resp = Response(spec=req.spec, error=None)
        # exclude_unset: a field the body left out stays out (dstack's
        # models would add their defaults, which no longer round-trips).
        out.write(resp.model_dump_json(exclude_unset=True))
        out.write("\n")


if __name__ == "__main__":
    main()
