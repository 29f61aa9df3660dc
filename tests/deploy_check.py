#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""deploy_check.py - checks deploy/ (Dockerfile, Kubernetes manifests) against
what rulesd actually serves, for tests/run-deploy.sh. The facts come from the
sources, never from a copy: the default port from server/config.c, the
routes from server/handler.c's table, the version from vm/rulevm.h, the
libraries from the built rulesd (readelf) and the Debian packages that ship
them (dpkg -S). The manifests cannot be run here; this is what can be
checked without a cluster or Docker.

    deploy_check.py BUILD_DIR    one line per check: "pass: ..." or "fail: ..."

It also writes the container configurations it finds (the image's
deploy/rulesd.yaml and the ConfigMap's rulesd.yaml) to BUILD_DIR-relative
paths given by the environment (DEPLOY_OUT), for run-deploy.sh to start
rulesd with them.
"""
import os
import re
import subprocess
import sys

import yaml

failures = 0


def check(ok, what):
    global failures
    print(("pass: " if ok else "fail: ") + what)
    if not ok:
        failures += 1


def read(path):
    with open(path) as f:
        return f.read()


def port_of(listen):
    m = re.fullmatch(r"(\[[^\]]*\]|[^:]*)(?::(\d+))?", listen)
    return m.group(1).strip("[]"), int(m.group(2)) if m.group(2) else None


def main():
    build = sys.argv[1]
    out = os.environ.get("DEPLOY_OUT", ".")

    # ---- what rulesd serves, from its sources ----
    config_c = read("server/config.c")
    default_port = int(re.search(r"cfg\.port = (\d+);", config_c).group(1))
    routes = dict(re.findall(r'\{"(/[^"]*)", (EP_\w+),', read("server/handler.c")))
    health = [p for p, ep in routes.items() if ep == "EP_HEALTH"]
    check(len(health) == 1, "server/handler.c has one health route: %s" % health)
    ver = read("vm/rulevm.h")
    version = ".".join(re.search(r"#define RV_VERSION_%s +(\d+)" % k, ver).group(1)
                       for k in ("MAJOR", "MINOR", "PATCH"))
    example = yaml.safe_load(read("server/rulesd.example.yaml"))
    check(port_of(example["listen"])[1] == default_port,
          "rulesd.example.yaml listens on the default port %d" % default_port)

    # ---- the image ----
    docker = read("deploy/Dockerfile")
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", docker, re.M)
    check(len(stages) == 2 and stages[0][1] == "build", "Dockerfile: two stages, the first named build: %s" % stages)
    check(all(re.fullmatch(r"debian:(\$\{DEBIAN\}|[a-z]+)-slim", s[0]) for s in stages),
          "Dockerfile: both stages on Debian slim: %s" % [s[0] for s in stages])
    check(re.search(r"^ARG DEBIAN=[a-z]+$", docker, re.M) is not None, "Dockerfile: ARG DEBIAN names a release")
    user = re.findall(r"^USER\s+(\d+)(?::(\d+))?\s*$", docker, re.M)
    check(len(user) == 1 and int(user[0][0]) != 0, "Dockerfile: USER is a numeric non-root user: %s" % user)
    uid = int(user[0][0]) if user else -1
    expose = [int(p) for p in re.findall(r"^EXPOSE\s+(\d+)", docker, re.M)]
    check(expose == [default_port], "Dockerfile: EXPOSE %s is rulesd's port %d" % (expose, default_port))
    hc = re.search(r"^HEALTHCHECK .*\\\n\s*CMD .*http://127\.0\.0\.1:(\d+)(/\S*)", docker, re.M)
    check(hc is not None and int(hc.group(1)) == default_port and hc.group(2) in health,
          "Dockerfile: HEALTHCHECK asks %s" % (hc.groups(),) if hc else "Dockerfile: no HEALTHCHECK asking 127.0.0.1")
    image_cfg = yaml.safe_load(read("deploy/rulesd.yaml"))
    host, port = port_of(image_cfg["listen"])
    check(host == "0.0.0.0" and port == default_port,
          "deploy/rulesd.yaml listens on every interface, port %d: %s" % (default_port, image_cfg["listen"]))
    check("COPY deploy/rulesd.yaml /etc/rulesd/rulesd.yaml" in docker and
          re.search(r"^ENV RULESD_CONFIG=/etc/rulesd/rulesd\.yaml$", docker, re.M) is not None,
          "Dockerfile: the image's configuration is deploy/rulesd.yaml, named by RULESD_CONFIG")
    baked = re.search(r"^COPY rules/\*\.rules (\S+)$", docker, re.M)
    check(baked is not None and image_cfg["policies"] == [baked.group(1)],
          "Dockerfile: the policies it copies are the ones deploy/rulesd.yaml names")
    # Every library rulesd links comes from a package the runtime stage
    # installs (or from libc6, in every image).
    runtime = docker[docker.rindex("FROM "):]
    installed = set(re.findall(r"[a-z0-9][a-z0-9.+-]+", re.search(r"apt-get install -y --no-install-recommends ([^&]*)&&",
                                                                    runtime, re.S).group(1).replace("\\", " ")))
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]",
                        subprocess.run(["readelf", "-d", os.path.join(build, "rulesd")], capture_output=True,
                                       text=True).stdout)
    libpaths = {}
    for line in subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout.splitlines():
        m = re.match(r"\s*(\S+) \(libc6,x86-64\S*\) => (\S+)", line)
        if m:
            libpaths.setdefault(m.group(1), m.group(2))
    # The image's rulesd is built without sanitizers (checked here); a
    # sanitizer build's runtimes are not the image's business.
    check("SANITIZE" not in docker, "Dockerfile: the image's rulesd is built without sanitizers")
    needed = [lib for lib in needed if not re.match(r"lib(a|ub|l|t|hwa)san\.so", lib)]
    missing, wanted = [], set()
    for lib in needed:
        # dpkg knows a file by the path it installed (/lib or /usr/lib, a
        # link or its target): try each.
        path = libpaths.get(lib, lib)
        pkg = ""
        for p in (path, os.path.realpath(path), "*/" + os.path.basename(os.path.realpath(path))):
            pkg = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True).stdout.split(":")[0]
            if pkg:
                break
        wanted.add(pkg)
        if pkg != "libc6" and pkg not in installed:
            missing.append("%s (%s)" % (lib, pkg or "no package"))
    check(needed and not missing, "Dockerfile: the runtime stage installs every library rulesd links (%d): missing %s"
          % (len(needed), missing))
    extra = installed - wanted - {"ca-certificates", "curl"}
    check(not extra, "Dockerfile: the runtime stage installs nothing rulesd does not link but certificates and "
                     "curl (for HEALTHCHECK): %s" % sorted(extra))

    # ---- the manifests ----
    docs = {}
    for name in sorted(os.listdir("deploy/k8s")):
        for d in yaml.safe_load_all(read(os.path.join("deploy/k8s", name))):
            if d is None:
                continue
            docs.setdefault(d["kind"], []).append((name, d))
    kust = docs.pop("Kustomization")[0][1]
    files = sorted(f for f in os.listdir("deploy/k8s") if f != "kustomization.yaml")
    check(sorted(kust["resources"]) == files, "kustomization.yaml lists every manifest: %s" % kust["resources"])
    for kind in ("Deployment", "Service", "ConfigMap", "PodDisruptionBudget", "HorizontalPodAutoscaler"):
        check(kind in docs, "deploy/k8s has a %s" % kind)
    dep = docs["Deployment"][0][1]
    pod = dep["spec"]["template"]
    labels = pod["metadata"]["labels"]
    check(dep["spec"]["selector"]["matchLabels"].items() <= labels.items(), "Deployment: its selector matches its pods")
    check(dep["spec"]["replicas"] >= 2, "Deployment: several replicas (%d)" % dep["spec"]["replicas"])
    c = pod["spec"]["containers"][0]
    check(c["image"].endswith(":" + version), "Deployment: the image is version %s: %s" % (version, c["image"]))
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    maps = {d["metadata"]["name"]: d for _, d in docs["ConfigMap"]}
    cfg_arg = c["args"][c["args"].index("--config") + 1]
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}

    def configmap_file(path):
        """The ConfigMap key a path in the container reads, or None."""
        d, f = os.path.dirname(path), os.path.basename(path)
        if d not in mounts:
            return None
        cm = maps.get(volumes[mounts[d]].get("configMap", {}).get("name"))
        return cm["data"].get(f) if cm else None

    text = configmap_file(cfg_arg)
    check(text is not None, "Deployment: --config %s is a key of a mounted ConfigMap" % cfg_arg)
    cfg = yaml.safe_load(text or "{}")
    host, port = port_of(cfg.get("listen", "127.0.0.1"))
    port = port or default_port
    check(host == "0.0.0.0", "ConfigMap: rulesd listens on every interface of the pod (%s)" % cfg.get("listen"))
    check(list(ports.values()) == [port], "Deployment: containerPort %s is the port rulesd.yaml listens on (%d)"
          % (ports, port))
    src = cfg.get("policies", {})
    check(isinstance(src, dict) and src.get("url", "").startswith("https://"), "ConfigMap: policies from an https URL")
    for k in src.get("trusted_keys", []):
        check(configmap_file(k) is not None, "ConfigMap: trusted key %s is a key of a mounted ConfigMap" % k)
    check(uid == pod["spec"]["securityContext"].get("runAsUser") and pod["spec"]["securityContext"].get("runAsNonRoot"),
          "Deployment: runs as the image's user %d, non-root" % uid)
    sc = c.get("securityContext", {})
    check(sc.get("readOnlyRootFilesystem") and sc.get("allowPrivilegeEscalation") is False and
          sc.get("capabilities", {}).get("drop") == ["ALL"], "Deployment: read-only root, no privileges")
    res = c.get("resources", {}).get("requests", {})
    check("cpu" in res and "memory" in res, "Deployment: CPU and memory requests (the HPA scales on CPU): %s" % res)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        g = c.get(probe, {}).get("httpGet", {})
        p = g.get("port")
        check(g.get("path") in health and (ports.get(p) == port or p == port),
              "Deployment: %s asks %s on port %s, rulesd's health route" % (probe, g.get("path"), p))
    sp = c.get("startupProbe", {})
    wait = src.get("poll", {}).get("startup_timeout_ms", 60000) / 1000
    check(sp.get("periodSeconds", 10) * sp.get("failureThreshold", 3) >= wait,
          "Deployment: the startup probe waits at least policies.poll.startup_timeout_ms (%g s)" % wait)
    svc = docs["Service"][0][1]
    check(svc["spec"]["selector"].items() <= labels.items(), "Service: its selector matches the pods")
    tp = svc["spec"]["ports"][0]["targetPort"]
    check(ports.get(tp) == port or tp == port, "Service: targetPort %s is rulesd's port" % tp)
    pdb = docs["PodDisruptionBudget"][0][1]
    check(pdb["spec"]["selector"]["matchLabels"].items() <= labels.items() and
          ("maxUnavailable" in pdb["spec"] or "minAvailable" in pdb["spec"]), "PodDisruptionBudget: selects the pods")
    hpa = docs["HorizontalPodAutoscaler"][0][1]
    ref = hpa["spec"]["scaleTargetRef"]
    check(ref["kind"] == "Deployment" and ref["name"] == dep["metadata"]["name"], "HPA: scales the Deployment")
    metrics = hpa["spec"]["metrics"]
    check(any(m["type"] == "Resource" and m["resource"]["name"] == "cpu" for m in metrics), "HPA: on CPU")
    check(hpa["spec"]["minReplicas"] >= 2 and hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"],
          "HPA: at least two replicas")

    # The configurations, for run-deploy.sh to start rulesd with.
    with open(os.path.join(out, "configmap-rulesd.yaml"), "w") as f:
        f.write(text or "")
    with open(os.path.join(out, "health-path"), "w") as f:
        f.write(health[0] if health else "")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
