#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""run.py - the benchmark runner behind `make bench` and `make bench-smoke`.

  python3 bench/run.py            everything; writes bench/RESULTS.md
  python3 bench/run.py --smoke    a seconds-long version; writes
                                  $BUILD/bench/RESULTS-smoke.md
  python3 bench/run.py --report-only [--smoke]
                                  rewrites the report from the last run's
                                  $BUILD/bench/results*.json, timing nothing

Before timing anything it checks that every competitor (jq, plain Python,
pydantic 2, and in part 3 the FastAPI server and rulesd) answers every
input exactly as `rulec apply --ndjson` does, and that the floor server
answers each body with as many bytes as rulesd; any difference stops the
run with exit status 1. A tool that is missing is installed with apt-get when
running as root (Debian packages used only by the benchmarks), otherwise
the run stops naming it. Figures are medians over repeated runs with their
min-max spread; comparisons are ratios of medians measured in the same run.
Competitor runs are interleaved so that a burst of load on this shared
machine hits them alike.

Environment: BUILD (default build), RULES_SPECS_DIR (default
tests/data/dstack), BENCH_N (batch size, default 20000: issue 11's batch).
"""
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(ROOT)
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ in bench/
BUILD = os.environ.get("BUILD", "build")
SPECS = os.environ.get("RULES_SPECS_DIR", "tests/data/dstack")
REQUESTS = os.path.join(SPECS, "requests")
SMOKE = "--smoke" in sys.argv
REPORT_ONLY = "--report-only" in sys.argv  # re-render the report from results.json
OUT = os.path.join(BUILD, "bench")
DATA = os.path.join(OUT, "data")
RULEC = os.path.join(BUILD, "rulec")
RULESD = os.path.join(BUILD, "rulesd")
BENCH_VM = os.path.join(BUILD, "bench", "bench_vm")
JSON_FLOOR = os.path.join(BUILD, "bench", "json_floor")
FLOOR_SERVER = os.path.join(BUILD, "bench", "floor_server")
# The big spec of the per-value comparison: the 3 KB spec grown to this.
BIG_SPEC_BYTES = 3 * 1024 * 1024
# The rejection path: sets of this many policies, each rejecting a task.
REJECT_SETS = [100, 1000]
# The run spec the VM target is stated for: a 3 KB service spec.
SPEC_3KB = "synthetic_service_full.request.json"
POLICIES = {"example": "rules/example.rules", "rules": "rules/"}
KINDS = ["run", "fleet", "volume", "gateway"]

if SMOKE:
    CFG = dict(n=2000, batch_reps=1, inproc_iters=300, inproc_reps=3, scale=[1, 10, 100],
               compile_reps=1, scale_iters=300, scale_reps=3, wrk_secs=1, wrk_reps=1,
               callgrind=False, size_iters=(300, 2), size_reps=3, floor_iters=30, floor_reps=3,
               reject_n=500, reject_reps=1)
else:
    CFG = dict(n=int(os.environ.get("BENCH_N", "20000")), batch_reps=5, inproc_iters=5000,
               inproc_reps=9, scale=[1, 10, 100, 1000, 10000], compile_reps=3,
               scale_iters=3000, scale_reps=7, wrk_secs=10, wrk_reps=3, callgrind=True,
               size_iters=(3000, 10), size_reps=7, floor_iters=300, floor_reps=5,
               reject_n=2000, reject_reps=5)

LOG = []


def say(msg):
    print("bench: " + msg, flush=True)


def fail(msg):
    print("bench: FAILED: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


# ---- tools ------------------------------------------------------------------
def py_has(python, code):
    try:
        r = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60)
    except OSError:
        return None
    return (r.stdout.strip() or "yes") if r.returncode == 0 else None


def apt_install(pkgs, why):
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        fail("missing %s (%s); install them: apt-get install %s" % (", ".join(pkgs), why, " ".join(pkgs)))
    say("installing %s (%s)" % (" ".join(pkgs), why))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + pkgs,
                       env=env, capture_output=True, text=True)
    if r.returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
        r = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + pkgs,
                           env=env, capture_output=True, text=True)
    if r.returncode != 0:
        fail("apt-get install %s failed:\n%s" % (" ".join(pkgs), r.stderr[-2000:]))


def ensure_tools(need_server):
    """Finds (or installs) every tool; returns the interpreters to use."""
    for exe in (RULEC, BENCH_VM):
        if not os.access(exe, os.X_OK):
            fail("%s is not built (run: make bench)" % exe)
    if not os.path.isdir(REQUESTS):
        fail("no request bodies in %s (set RULES_SPECS_DIR)" % REQUESTS)
    missing = []
    if not os.access(GNU_TIME, os.X_OK):
        missing.append("time")
    if not shutil.which("jq"):
        missing.append("jq")
    if need_server:
        if not shutil.which("wrk"):
            missing.append("wrk")
        if not py_has("/usr/bin/python3", "import fastapi, uvicorn"):
            missing += ["python3-fastapi", "python3-uvicorn"]
    if CFG["callgrind"] and not shutil.which("valgrind"):
        missing.append("valgrind")
    if missing:
        apt_install(missing, "needed by the benchmarks")
    # pydantic 2: whichever python3 has it (the image's pyenv python does).
    cands = []
    for p in (shutil.which("python3"), "/usr/bin/python3"):
        if p and p not in cands:
            cands.append(p)
    pyd = None
    for p in cands:
        v = py_has(p, "import pydantic; print(pydantic.VERSION)")
        if v and v.startswith("2."):
            pyd = (p, v)
            break
    if not pyd:
        fail("no python3 with pydantic 2 (tried %s); Debian ships pydantic 1 only, so install "
             "pydantic 2 into one of them (pip install 'pydantic>=2')" % ", ".join(cands))
    return {"plain": cands[0], "pydantic": pyd[0], "pydantic_version": pyd[1]}


def version(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return (r.stdout + r.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


# ---- running and timing -----------------------------------------------------
GNU_TIME = "/usr/bin/time"


def run_timed(argv, stdin_path=None, stdout_path=None, env=None, cpu=None):
    """Runs a command; returns (exit status, wall seconds, peak RSS in KiB),
    and appends its CPU seconds (user + system, of GNU time and the command
    it waited for) to the list cpu when given. The peak comes from GNU time:
    the child's own ru_maxrss would include this runner's pages, which the
    fork copies before the exec."""
    fin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    fout = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    rss_file = os.path.join(OUT, "rss.tmp")
    try:
        t0 = time.perf_counter()
        p = subprocess.Popen([GNU_TIME, "-f", "%M", "-o", rss_file] + argv, stdin=fin, stdout=fout,
                             stderr=subprocess.DEVNULL, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        if cpu is not None:
            cpu.append(ru.ru_utime + ru.ru_stime)
    finally:
        if stdin_path:
            fin.close()
        if stdout_path:
            fout.close()
    try:
        with open(rss_file) as f:
            rss = int(f.read().split()[-1])
    except (OSError, ValueError, IndexError):
        rss = 0
    return p.returncode, wall, rss


def run_cpu(argv, stdout_path):
    """Runs a command; returns (exit status, CPU seconds: user + system).
    The kernel accounts a child's CPU time to the microsecond, which makes
    short runs comparable on a machine other jobs share."""
    with open(stdout_path, "wb") as fout:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fout, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
    return os.waitstatus_to_exitcode(status), ru.ru_utime + ru.ru_stime


def stats(xs):
    xs = sorted(xs)
    return {"median": statistics.median(xs), "min": xs[0], "max": xs[-1], "n": len(xs)}


def compare(ours, theirs, by_value=False):
    argv = [sys.executable, "bench/compare.py", ours, theirs] + (["--numbers-by-value"] if by_value else [])
    r = subprocess.run(argv, capture_output=True, text=True)
    return r.returncode == 0, (r.stdout + r.stderr).strip()


def competitors(py):
    """Batch competitors: name -> (argv builder, compare by value?)."""
    return {
        "jq": (lambda pol, kind: ["jq", "-c", "--arg", "policy", pol, "--arg", "kind", kind,
                                  "-f", "bench/policy.jq"], True),
        "python": (lambda pol, kind: [py["plain"], "bench/py_plain.py", "--policy", pol, "--kind", kind],
                   False),
        "pydantic": (lambda pol, kind: [py["pydantic"], "bench/py_pydantic.py", "--policy", pol,
                                        "--kind", kind], False),
    }


# wrk connections: 16 for throughput; 1 for the latency dstack sees, as it
# calls its plugin once per apply and waits for the answer; 64 (rulesd and
# the floor server only) for many clients at once.
WRK_CONNS = [16, 1, 64]
FASTAPI_CONNS = (16, 1)
# Issue 11: rulesd's CPU per request at most this many times the floor
# server's (bench/floor_server.c).
FLOOR_TARGET = 1.3


def rulec_argv(pol, kind, req):
    return [RULEC, "apply", POLICIES[pol], "--request", req, "--kind", kind, "--ndjson"]


# ---- checks -------------------------------------------------------------------
def verify_batch(py):
    """Every competitor, every policy, every kind: identical answers."""
    rows = []
    bad = []
    for pol in POLICIES:
        for kind in KINDS:
            inp = os.path.join(DATA, "verify-%s.ndjson" % kind)
            ours = os.path.join(OUT, "verify-%s-%s.rulec" % (pol, kind))
            st, _, _ = run_timed(rulec_argv(pol, kind, inp), stdout_path=ours)
            if st != 0:
                fail("rulec apply failed on %s (exit %d)" % (inp, st))
            with open(ours) as f:
                lines = f.read().splitlines()
            nrej = sum(1 for l in lines if not l.endswith('"error":null}'))
            for name, (argv, by_value) in competitors(py).items():
                theirs = os.path.join(OUT, "verify-%s-%s.%s" % (pol, kind, name))
                st, _, _ = run_timed(argv(pol, kind), stdin_path=inp, stdout_path=theirs)
                ok, msg = compare(ours, theirs, by_value)
                if st != 0:
                    ok, msg = False, "exit status %d" % st
                rows.append((pol, kind, name, len(lines), nrej, ok, msg))
                if not ok:
                    bad.append("%s / %s / %s: %s" % (pol, kind, name, msg))
    for b in bad:
        print("bench: DIFFERENT: " + b, file=sys.stderr)
    if bad:
        fail("%d competitor outputs differ from rulec's; nothing was timed" % len(bad))
    return rows


# ---- part 1: in process -------------------------------------------------------
def bench_vm(policy_args, requests, iters, reps, compile_reps):
    argv = [BENCH_VM, "--iters", str(iters), "--reps", str(reps), "--compile-reps", str(compile_reps),
            "--policy"] + policy_args + ["--request"] + requests
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        fail("bench_vm failed: %s" % r.stderr.strip()[-2000:])
    return json.loads(r.stdout)


def callgrind(policy_args, request, toggle=None):
    """Instructions (Ir) per call of the library's entry points, and the
    functions with the highest self cost, from one callgrind run."""
    out = os.path.join(OUT, "callgrind.%s.out" % (toggle or "all"))
    iters = 1000
    argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out]
    if toggle:
        argv.append("--toggle-collect=" + toggle)
    argv += [BENCH_VM, "--no-baseline", "--iters", str(iters), "--reps", "1", "--compile-reps", "1",
             "--policy"] + policy_args + ["--request", request]
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        return None
    calls = iters + iters // 10 + 10  # measured + warm-up decisions
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", out], capture_output=True, text=True).stdout
    incl = {}
    for line in ann.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\([\s\d.]+%\)\s+\S*:(rv_vm_parse|rv_vm_eval|rv_vm_print|rv_vm_reset)\s", line)
        if m and m.group(2) not in incl:
            incl[m.group(2)] = int(m.group(1).replace(",", "")) / calls
    ann = subprocess.run(["callgrind_annotate", out], capture_output=True, text=True).stdout
    total, top = None, []
    for line in ann.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(.*)$", line)
        if not m:
            continue
        ir, pct, what = int(m.group(1).replace(",", "")), float(m.group(2)), m.group(3)
        if "PROGRAM TOTALS" in what:
            total = ir
            continue
        fn = what.split(":")[-1].split(" [")[0] if ":" in what else what
        lib = re.search(r"\[(.*)\]", what)
        lib = os.path.basename(lib.group(1)) if lib else ""
        if len(top) < 12:
            top.append((pct, fn, lib, ir / calls))
    return {"per_call": incl, "total_per_decision": (total or 0) / calls, "top": top}


def callgrind_compile(policy_dir):
    """Self cost by function of one `rulec compile`, and the front end's
    inclusive shares."""
    out = os.path.join(OUT, "callgrind.compile.out")
    r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, RULEC, "compile",
                        policy_dir, "-o", os.path.join(OUT, "cg-compile.rbc")], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    res = {"top": [], "incl": {}}
    ann = subprocess.run(["callgrind_annotate", out], capture_output=True, text=True).stdout
    for line in ann.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(.*)$", line)
        if m and "PROGRAM TOTALS" not in m.group(3) and len(res["top"]) < 10:
            what = m.group(3)
            res["top"].append((float(m.group(2)), what.split(":")[-1].split(" [")[0]))
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", out], capture_output=True, text=True).stdout
    for line in ann.splitlines():
        m = re.match(r"\s*[\d,]+\s+\(\s*([\d.]+)%\)\s+\S*:(rc_parse_file|rc_check|rc_codegen_map|"
                     r"rv_bundle_write|rv_program_load|rv_crc32)\s", line)
        if m and m.group(2) not in res["incl"]:
            res["incl"][m.group(2)] = float(m.group(1))
    return res


def true_mallocs(policy_args, request):
    """malloc calls per decision, all of them (the hook's count says what the
    library asks of its allocator; this one, what the whole process does):
    memcheck's heap count at two iteration counts."""
    counts = []
    for iters in (100, 200):
        argv = ["valgrind", "--tool=memcheck", BENCH_VM, "--no-baseline", "--iters", str(iters), "--reps", "1",
                "--compile-reps", "1", "--policy"] + policy_args + ["--request", request]
        r = subprocess.run(argv, capture_output=True, text=True)
        m = re.search(r"total heap usage: ([\d,]+) allocs", r.stderr)
        if not m:
            return None
        counts.append(int(m.group(1).replace(",", "")))
    return (counts[1] - counts[0]) / 110.0  # 100 more measured + 10 more warm-up decisions


# ---- part 1b-1d: JSON, spec size, rejections -----------------------------------
def big_request(path):
    """The 3 KB run request grown to about 3 MB: its configuration repeated
    in a list beside it, so the mix of values (keys, strings, numbers,
    nested objects) stays the same and only the size changes."""
    if os.path.exists(path):
        return path
    with open(os.path.join(REQUESTS, SPEC_3KB)) as f:
        body = json.load(f)
    conf = body["spec"]["configuration"]
    bulk = body["spec"]["x_bulk"] = []
    while len(json.dumps(body, separators=(",", ":"))) < BIG_SPEC_BYTES:
        bulk.extend([conf] * 50)
    with open(path, "w") as f:
        json.dump(body, f, separators=(",", ":"))
    return path


def bench_size():
    """Per JSON value, a whole decision on the 3 MB request against the 3 KB
    one, example policy, timed with the thread's CPU clock (bench_vm
    --cpu-time): a decision of the big one spans many scheduler ticks, and
    the time other tenants take must not count."""
    big = big_request(os.path.join(DATA, "big-3mb.request.json"))
    small = os.path.join(REQUESTS, SPEC_3KB)
    out = {}
    for name, path, iters in (("3KB", small, CFG["size_iters"][0]), ("3MB", big, CFG["size_iters"][1])):
        argv = [BENCH_VM, "--cpu-time", "--iters", str(iters), "--reps", str(CFG["size_reps"]),
                "--compile-reps", "1", "--policy", POLICIES["example"], "--request", path]
        r = subprocess.run(argv, capture_output=True, text=True)
        if r.returncode != 0:
            fail("bench_vm --cpu-time failed: %s" % r.stderr.strip()[-2000:])
        out[name] = json.loads(r.stdout)["specs"][0]
    return out


def bench_floor():
    """The JSON parsers side by side (bench/json_floor.cpp), or None when it
    is not built (no simdjson)."""
    if not os.access(JSON_FLOOR, os.X_OK):
        return None
    reqs = sorted(os.path.join(REQUESTS, f) for f in os.listdir(REQUESTS) if f.endswith(".json"))
    r = subprocess.run([JSON_FLOOR, "--iters", str(CFG["floor_iters"]), "--reps", str(CFG["floor_reps"])] + reqs,
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail("json_floor failed: %s" % r.stderr.strip()[-2000:])
    return json.loads(r.stdout)


def reject_sets():
    """For each size N: N policies that each reject a task with a message of
    their own, and N alike that reject a service instead (so a task passes
    them all), compiled to bundles (compiling is not what is timed)."""
    sets = {}
    for n in REJECT_SETS:
        for mode, kind in (("reject", "task"), ("allow", "service")):
            d = os.path.join(OUT, "reject", "%d-%s" % (n, mode))
            bundle = d + ".rbc"
            if not os.path.exists(bundle):
                shutil.rmtree(d, ignore_errors=True)
                os.makedirs(d)
                for i in range(n):
                    with open(os.path.join(d, "r%05d.rules" % i), "w") as f:
                        f.write('policy "r%05d";\non run {\n    forbid-if configuration.type == "%s":\n'
                                '        "policy r%05d does not take a %s of this kind";\n}\n' % (i, kind, i, kind))
                st, _, _ = run_timed([RULEC, "compile", d, "-o", bundle])
                if st != 0:
                    fail("rulec compile %s failed" % d)
            sets[(n, mode)] = bundle
    return sets


def bench_reject():
    """The rejection path of `rulec apply --ndjson`: a batch of one task
    request through N rejecting policies (N messages joined into one
    answer) against N policies that let it pass, for N = 100 and 1,000, in
    CPU time. Linear joining means a message costs no more among 1,000 than
    among 100."""
    sets = reject_sets()
    with open(os.path.join(REQUESTS, "synthetic_task_limits.request.json")) as f:
        line = json.dumps(json.load(f), separators=(",", ":"))
    batch = os.path.join(DATA, "reject-batch.ndjson")
    with open(batch, "w") as f:
        f.write((line + "\n") * CFG["reject_n"])
    times = {k: [] for k in sets}
    for rep in range(CFG["reject_reps"]):
        for key in sorted(sets):
            out = os.path.join(OUT, "reject-%d-%s.out" % key)
            st, cpu = run_cpu([RULEC, "apply", sets[key], "--request", batch, "--kind", "run", "--ndjson"], out)
            if st != 0:
                fail("rulec apply with %d %s policies failed (exit %d)" % (key[0], key[1], st))
            if rep == 0:
                with open(out) as f:
                    first = json.loads(f.readline())
                want = key[0] if key[1] == "reject" else 0
                got = len(first["error"].split("; ")) if first["error"] else 0
                if got != want:
                    fail("%d %s policies: %d messages in the answer, want %d" % (key[0], key[1], got, want))
            times[key].append(cpu / CFG["reject_n"] * 1e6)
    res = {"%d-%s" % k: stats(v) for k, v in times.items()}
    res["raw"] = {"%d-%s" % k: v for k, v in times.items()}
    return res


# ---- part 3: servers ------------------------------------------------------------
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, secs=20):
    end = time.time() + secs
    while time.time() < end:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def post_all(port, path, ndjson, out):
    with open(ndjson, "rb") as f, open(out, "w") as o:
        for line in f:
            req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=line.rstrip(b"\n"),
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    o.write(r.read().decode().strip() + "\n")
            except urllib.error.HTTPError as e:
                o.write(e.read().decode().strip() + "\n")


def wrk(port, path, bodies, secs, conns):
    argv = ["wrk", "-t1", "-c%d" % conns, "-d%ds" % secs, "--timeout", "5s", "-s", "bench/post.lua",
            "http://127.0.0.1:%d%s" % (port, path), "--"] + bodies
    r = subprocess.run(argv, capture_output=True, text=True, timeout=secs + 60)
    m = re.search(r"^BENCH (\{.*\})$", r.stdout, re.M)
    if not m:
        fail("wrk gave no result: %s %s" % (r.stdout[-500:], r.stderr[-500:]))
    res = json.loads(m.group(1))
    res["rps"] = res["requests"] / (res["duration_us"] / 1e6)
    return res


def cpu_secs(pid):
    """User + system CPU time a process has used so far."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def peak_rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def rulesd_start(pol, port):
    """Starts rulesd on loopback with the policy; returns the process, or
    None with the reason when it is not there or does not start."""
    if not os.access(RULESD, os.X_OK):
        return None, "%s is not built" % RULESD
    argv = [RULESD, "--listen", "127.0.0.1", "--port", str(port), "--policy", POLICIES[pol]]
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=open(os.path.join(OUT, "rulesd.log"), "ab"))
    if not wait_port(port, p):
        stop(p)
        return None, "rulesd did not start (see %s/rulesd.log)" % OUT
    return p, None


def fastapi_start(py_fastapi, pol, mode, port):
    p = subprocess.Popen([py_fastapi, "bench/fastapi_server.py", "--port", str(port), "--policy", pol,
                          "--mode", mode], stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(OUT, "fastapi.log"), "ab"))
    if not wait_port(port, p):
        stop(p)
        fail("the FastAPI server did not start (see %s/fastapi.log)" % OUT)
    return p


def floor_start(rulesd_port, path, bodies, port):
    """Starts bench/floor_server answering each body wrk will post with as
    many bytes as rulesd answers it (bodies told apart by length, which
    the runner checks is enough), and checks that it does. Returns the
    process, or None with the reason."""
    if not os.access(FLOOR_SERVER, os.X_OK):
        return None, "%s is not built (make bench builds it with rulesd)" % FLOOR_SERVER
    sizes = {}
    for b in bodies:
        with open(b, "rb") as f:
            data = f.read()  # as post.lua sends it, final newline included
        n = len(post_one(rulesd_port, path, data))
        if sizes.setdefault(len(data), n) != n:
            return None, ("two wrk bodies of %d bytes get answers of different lengths from rulesd: the "
                          "floor server cannot tell them apart" % len(data))
    table = os.path.join(OUT, "floor-sizes.txt")
    with open(table, "w") as f:
        f.write("".join("%d %d\n" % kv for kv in sorted(sizes.items())))
    p = subprocess.Popen([FLOOR_SERVER, "--port", str(port), "--sizes", table], stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(OUT, "floor.log"), "ab"))
    if not wait_port(port, p):
        stop(p)
        return None, "the floor server did not start (see %s/floor.log)" % OUT
    for b in bodies:
        with open(b, "rb") as f:
            data = f.read()
        got = len(post_one(port, path, data))
        if got != sizes[len(data)]:
            stop(p)
            return None, "the floor server answered %s with %d bytes, rulesd with %d" % (b, got, sizes[len(data)])
    return p, None


def post_one(port, path, data):
    """POSTs one body; returns the answer's body (any status)."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=data,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read()
    except urllib.error.HTTPError as e:
        return e.read()


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()




# ---- part 4: generated policy sets ----------------------------------------------
def gen_policies(n, regex, applying_every=1000):
    """n policies; policy i applies to runs when i % 1000 == 0 (so 1,000
    policies hold one that applies), the others to made-up kinds (their
    target is "any", which takes any kind name; the ones for runs are
    checked against dstack's schemas, like every real policy)."""
    d = os.path.join(OUT, "scale", "%d-%s" % (n, "regex" if regex else "plain"))
    if os.path.isdir(d) and len(os.listdir(d)) == n:
        return d
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for i in range(n):
        kind = "run" if i % applying_every == 0 else "kind%d" % (i % 97)
        body = [
            'policy "gen-%05d" priority %d%s;' % (i, i % 50, "" if kind == "run" else " target any"),
            "param max_gpus = %d;" % (i % 8 + 1),
            "on %s {" % kind,
            "    set configuration.max_price = 2.0;",
            "    default configuration.max_duration = 1d;",
            '    append-tags { team: "team-%d" };' % i,
            "    forbid-if configuration.resources.gpu.count.min > $max_gpus:",
            '        "at most {$max_gpus} GPUs (asked for {configuration.resources.gpu.count.min})";',
            '    match configuration.type == "service" {',
            "        set configuration.https = true;",
            "    }",
        ]
        if regex:
            body += [
                "    match $user =~ /^(team-%d|ops)-[a-z]+$/i {" % i,
                "        set configuration.priority = %d;" % (i % 100),
                "    }",
                '    forbid-if configuration.image =~ /^registry-%d\\.example\\.com\\// :' % i,
                '        "images from registry-%d are not allowed";' % i,
            ]
        body.append("}")
        with open(os.path.join(d, "p%05d.rules" % i), "w") as f:
            f.write("\n".join(body) + "\n")
    return d


# ---- formatting -------------------------------------------------------------------
def us(ns):
    return "%.2f" % (ns / 1000.0)


def spread_us(s):
    return "%s (%s–%s)" % (us(s["median"]), us(s["min"]), us(s["max"]))


def fmt_rate(s):
    return "{:,.0f} ({:,.0f}–{:,.0f})".format(s["median"], s["min"], s["max"])


def paired(ours, theirs, higher_is_better=True):
    """rulec's ratio to a competitor from runs made back to back: the median
    (min-max) of the per-repetition ratios, robust to load that drifts."""
    rs = [(a / b if higher_is_better else b / a) for a, b in zip(ours, theirs)]
    return stats(rs) if rs else None


def fmt_ratio(r):
    return "%.1f× (%.1f–%.1f)" % (r["median"], r["min"], r["max"]) if r["n"] > 1 else "%.1f×" % r["median"]


def batch_ratio(bb, name):
    if "raw" in bb[name]:
        return paired(bb["rulec"]["raw"], bb[name]["raw"], higher_is_better=False)
    r = bb["rulec"]["rate"]["median"] / bb[name]["rate"]["median"]
    return {"median": r, "min": r, "max": r, "n": 1}


def server_ratio(s, name):
    if "raw_rps" in s[name]:
        return paired(s["rulesd"]["raw_rps"], s[name]["raw_rps"])
    r = s["rulesd"]["rps"]["median"] / s[name]["rps"]["median"]
    return {"median": r, "min": r, "max": r, "n": 1}


def floor_ratio(s):
    """rulesd's CPU per request over the floor server's, paired by
    repetition (back-to-back runs), or None when either is missing."""
    if "floor" not in s or not s["rulesd"].get("cpu_us") or not s["floor"].get("cpu_us"):
        return None
    pairs = [(a, b) for a, b in zip(s["rulesd"].get("raw_cpu_us", []), s["floor"].get("raw_cpu_us", [])) if a and b]
    if not pairs:
        r = s["rulesd"]["cpu_us"]["median"] / s["floor"]["cpu_us"]["median"]
        return {"median": r, "min": r, "max": r, "n": 1}
    return stats([a / b for a, b in pairs])


def fmt_ratio_2(r):
    return "%.2f× (%.2f–%.2f)" % (r["median"], r["min"], r["max"]) if r["n"] > 1 else "%.2f×" % r["median"]


def batch_cpu_ratio(bb, name):
    """rulec's ratio in CPU time (user + system) from the same runs, or
    None for results written before CPU time was kept."""
    if not bb["rulec"].get("cpu") or not bb[name].get("cpu"):
        return None
    return paired(bb["rulec"]["cpu"], bb[name]["cpu"], higher_is_better=False)


def met(ok):
    return "**met**" if ok else "**missed**"


def main():
    os.makedirs(DATA, exist_ok=True)
    need_server = os.access(RULESD, os.X_OK) or not SMOKE
    py = ensure_tools(need_server)
    started = datetime.datetime.now(datetime.timezone.utc)
    t_start = time.time()
    say("%s run; batch of %d; outputs in %s" % ("smoke" if SMOKE else "full", CFG["n"], OUT))

    r = subprocess.run([sys.executable, "bench/gen.py", REQUESTS, DATA, str(CFG["n"])],
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail("gen.py: " + r.stderr)
    say(r.stdout.strip())
    run_bodies = sorted(os.path.join(DATA, "bodies-run", f) for f in os.listdir(os.path.join(DATA, "bodies-run")))
    req_files = sorted(os.path.join(REQUESTS, f) for f in os.listdir(REQUESTS) if f.endswith(".json"))

    # ---- equivalence first ----
    say("checking every competitor's answers against rulec's")
    vrows = verify_batch(py)
    say("all %d competitor outputs identical to rulec's" % len(vrows))

    res = {"verify": vrows}
    # ---- part 1 ----
    say("part 1: in process")
    inproc = {}
    for pol in POLICIES:
        inproc[pol] = bench_vm([POLICIES[pol]], req_files, CFG["inproc_iters"], CFG["inproc_reps"], 1)
    res["inproc"] = inproc
    cg = {}
    if CFG["callgrind"]:
        say("part 1: callgrind and memcheck on the 3 KB run spec")
        spec3 = os.path.join(REQUESTS, SPEC_3KB)
        for pol in POLICIES:
            cg[pol] = {"all": callgrind([POLICIES[pol]], spec3),
                       "eval": callgrind([POLICIES[pol]], spec3, "rv_vm_eval"),
                       "mallocs": true_mallocs([POLICIES[pol]], spec3)}

    say("part 1: a 3 MB spec against the 3 KB one, per value")
    res["size"] = bench_size()
    say("part 1: JSON parsers side by side")
    res["floor"] = bench_floor()
    say("part 1: the rejection path, 100 and 1,000 messages")
    res["reject"] = bench_reject()

    # ---- part 2 ----
    say("part 2: batch of %d requests" % CFG["n"])
    batch_in = os.path.join(DATA, "batch-run.ndjson")
    batch_bytes = os.path.getsize(batch_in)
    batch = {}
    comps = competitors(py)
    for pol in POLICIES:
        times = {"rulec": []}
        rss = {"rulec": []}
        cpus = {"rulec": []}
        for name in comps:
            times[name], rss[name], cpus[name] = [], [], []
        ours = os.path.join(OUT, "batch-%s.rulec" % pol)
        for rep in range(CFG["batch_reps"]):
            st, wall, mem = run_timed(rulec_argv(pol, "run", batch_in), stdout_path=ours, cpu=cpus["rulec"])
            if st != 0:
                fail("rulec batch failed (exit %d)" % st)
            times["rulec"].append(wall)
            rss["rulec"].append(mem)
            for name, (argv, by_value) in comps.items():
                theirs = os.path.join(OUT, "batch-%s.%s" % (pol, name))
                st, wall, mem = run_timed(argv(pol, "run"), stdin_path=batch_in, stdout_path=theirs,
                                          cpu=cpus[name])
                if st != 0:
                    fail("%s batch failed (exit %d)" % (name, st))
                if rep == 0:
                    ok, msg = compare(ours, theirs, by_value)
                    if not ok:
                        fail("%s's batch answers differ from rulec's: %s" % (name, msg))
                times[name].append(wall)
                rss[name].append(mem)
            say("  %s rep %d/%d: %s" % (pol, rep + 1, CFG["batch_reps"],
                                         ", ".join("%s %.2fs" % (k, v[-1]) for k, v in times.items())))
        batch[pol] = {k: {"secs": stats(v), "rate": stats([CFG["n"] / t for t in v]), "raw": v,
                          "cpu": cpus[k], "rss_kb": max(rss[k])} for k, v in times.items()}
    res["batch"] = batch

    # ---- part 3 ----
    say("part 3: servers")
    server = {}
    server_note = None
    if not shutil.which("wrk"):
        server_note = "wrk is not installed"
    else:
        py_fastapi = "/usr/bin/python3"
        pol = "example"
        servers = [("rulesd", None), ("floor", None), ("fastapi-models", "models"), ("fastapi-dicts", "dicts")]
        procs = {}
        ports = {}
        try:
            for name, mode in servers:
                port = free_port()
                if name == "rulesd":
                    p, why = rulesd_start(pol, port)
                    if not p:
                        server_note = why
                        break
                elif name == "floor":
                    # Started once rulesd's answer sizes are known (below).
                    continue
                else:
                    p = fastapi_start(py_fastapi, pol, mode, port)
                procs[name], ports[name] = p, port
            if not server_note:
                path = "/apply_policies/on_run_apply"
                ours = os.path.join(OUT, "verify-%s-run.rulec" % pol)
                for name in procs:
                    out = os.path.join(OUT, "server-%s.out" % name)
                    post_all(ports[name], path, os.path.join(DATA, "verify-run.ndjson"), out)
                    ok, msg = compare(ours, out)
                    if not ok:
                        fail("%s's answers differ from rulec's: %s" % (name, msg))
                say("  servers answer as rulec does")
                port = free_port()
                p, why = floor_start(ports["rulesd"], path, run_bodies, port)
                if not p:
                    fail(why)
                procs["floor"], ports["floor"] = p, port
                say("  the floor server answers every body with as many bytes as rulesd; timing with wrk")
                order = [name for name, _ in servers if name in procs]
                for conns in WRK_CONNS:
                    names = [n for n in order if conns in FASTAPI_CONNS or not n.startswith("fastapi")]
                    runs = {name: [] for name in names}
                    for rep in range(CFG["wrk_reps"]):
                        for name in names:
                            c0 = cpu_secs(procs[name].pid)
                            x = wrk(ports[name], path, run_bodies, CFG["wrk_secs"], conns)
                            c1 = cpu_secs(procs[name].pid)
                            x["cpu_us"] = (c1 - c0) * 1e6 / x["requests"] if c0 is not None and c1 and x["requests"] else None
                            runs[name].append(x)
                            say("  %d conns, rep %d, %s: %.0f req/s, p99 %.2f ms, CPU %s µs/req" % (
                                conns, rep + 1, name, x["rps"], x["p99_us"] / 1000,
                                "%.1f" % x["cpu_us"] if x["cpu_us"] else "?"))
                    for name in names:
                        rs = runs[name]
                        cpu = [x["cpu_us"] for x in rs if x["cpu_us"]]
                        server.setdefault(conns, {})[name] = {
                            "rps": stats([x["rps"] for x in rs]),
                            "p50_ms": stats([x["p50_us"] / 1000 for x in rs]),
                            "p99_ms": stats([x["p99_us"] / 1000 for x in rs]),
                            "cpu_us": stats(cpu) if cpu else None,
                            "raw_cpu_us": [x["cpu_us"] for x in rs],
                            "errors": sum(x["errors"] + x["non2xx"] for x in rs),
                            "rss_kb": peak_rss_kb(procs[name].pid),
                            "raw_rps": [x["rps"] for x in rs]}
        finally:
            for p in procs.values():
                stop(p)
    res["server"], res["server_note"] = server, server_note

    # ---- part 4 ----
    say("part 4: scaling")
    scale = []
    spec3 = os.path.join(REQUESTS, SPEC_3KB)
    for regex in (False, True):
        for n in CFG["scale"]:
            d = gen_policies(n, regex)
            reps = CFG["compile_reps"]
            r = bench_vm([d], [spec3], CFG["scale_iters"], CFG["scale_reps"], reps)
            bundle = os.path.join(OUT, "scale-%d.rbc" % n)
            cw = []
            for _ in range(reps):
                st, wall, mem = run_timed([RULEC, "compile", d, "-o", bundle])
                if st != 0:
                    fail("rulec compile %s failed" % d)
                cw.append((wall, mem))
            scale.append({"n": n, "regex": regex, "bench": r, "rulec_compile_s": stats([w for w, _ in cw]),
                          "rulec_rss_kb": max(m for _, m in cw), "applying": (n - 1) // 1000 + 1})
            say("  %5d policies%s: compile %.1f ms, eval %.2f us" % (
                n, " with regexes" if regex else "", r["compile_ms"]["total"]["median"],
                r["specs"][0]["eval"]["median"] / 1000))
    res["scale"] = scale
    if CFG["callgrind"]:
        big = [s for s in scale if s["n"] == 1000 and not s["regex"]]
        if big:
            cg["scale1000"] = callgrind([gen_policies(1000, False)], spec3, "rv_vm_eval")
        say("part 4: callgrind of rulec compile, %d policies" % max(CFG["scale"]))
        cg["compile"] = callgrind_compile(gen_policies(max(CFG["scale"]), False))
    res["callgrind"] = cg

    elapsed = time.time() - t_start
    res["meta"] = {"py": py, "started": started.isoformat(), "elapsed": elapsed, "batch_bytes": batch_bytes,
                   "load": os.getloadavg(), "cfg": CFG}
    with open(results_path(), "w") as f:
        json.dump(res, f, indent=1, default=str)
    write_report(res)


def results_path():
    return os.path.join(OUT, "results-smoke.json" if SMOKE else "results.json")


def write_report(res):
    m = res["meta"]
    text = report(res, m["py"], datetime.datetime.fromisoformat(m["started"]), m["elapsed"], m["batch_bytes"])
    dest = os.path.join(OUT, "RESULTS-smoke.md") if SMOKE else "bench/RESULTS.md"
    with open(dest, "w") as f:
        f.write(text)
    say("wrote %s (the run took %.0f s)" % (dest, m["elapsed"]))


def report_only():
    global CFG
    try:
        with open(results_path()) as f:
            res = json.load(f)
    except (OSError, ValueError) as e:
        fail("no results to report (%s): run the benchmark first" % e)
    # JSON turned the server table's integer keys into strings.
    res["server"] = {int(k): v for k, v in (res.get("server") or {}).items()}
    if "meta" not in res:  # written by an older runner
        st = datetime.datetime.fromtimestamp(os.path.getmtime(results_path()), datetime.timezone.utc)
        res["meta"] = {"py": ensure_tools(False), "started": st.isoformat(), "elapsed": 0,
                       "batch_bytes": os.path.getsize(os.path.join(DATA, "batch-run.ndjson")),
                       "load": None, "cfg": CFG}
    CFG = dict(CFG, **res["meta"].get("cfg", {}))
    write_report(res)


# ---- the report --------------------------------------------------------------------
def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = "%.0f GiB" % (int(f.readline().split()[1]) / 1048576)
    except OSError:
        pass
    return cpu, os.cpu_count(), mem, os.getloadavg()


def report(res, py, started, elapsed, batch_bytes):
    cpu, ncpu, mem, load = machine()
    load = res.get("meta", {}).get("load") or load
    L = []
    w = L.append
    w("# Benchmarks: rules against what users would pick instead\n")
    w("Written by `%s` (bench/run.py); do not edit by hand. Reproduce with `%s`.\n"
      % ("make bench-smoke" if SMOKE else "make bench", "make bench-smoke" if SMOKE else "make bench"))
    w("- **Date**: %s (run took %.0f s)" % (started.strftime("%Y-%m-%d %H:%M UTC"), elapsed))
    w("- **Machine**: %s, %d cores, %s RAM; %s; load average at the end %.2f / %.2f / %.2f "
      "(the machine is shared: figures are medians with their min–max spread over repeated runs, "
      "and every comparison is a ratio measured within this one run)"
      % (cpu, ncpu, mem, platform.platform(), load[0], load[1], load[2]))
    w("- **Tools**: %s; %s; jq: %s; plain Python: %s (%s); pydantic competitor: %s, pydantic %s; "
      "FastAPI server: /usr/bin/python3, FastAPI %s, uvicorn %s, pydantic %s; wrk: %s"
      % (version(["cc", "--version"]), "rulec built with -O2", version(["jq", "--version"]),
         py["plain"], version([py["plain"], "--version"]), py["pydantic"], py["pydantic_version"],
         py_has("/usr/bin/python3", "import fastapi; print(fastapi.__version__)") or "-",
         py_has("/usr/bin/python3", "import uvicorn; print(uvicorn.__version__)") or "-",
         py_has("/usr/bin/python3", "import pydantic; print(pydantic.VERSION)") or "-",
         version(["wrk", "-v"]) if shutil.which("wrk") else "-"))
    # Counted, not written down: the corpus and rules/ change.
    kinds = {}
    for f in os.listdir(REQUESTS):
        t = ((json.load(open(os.path.join(REQUESTS, f))).get("spec") or {}).get("configuration") or {}).get("type")
        k = t if t in ("fleet", "volume", "gateway") else "run"
        kinds[k] = kinds.get(k, 0) + 1
    npol = len([f for f in os.listdir("rules") if f.endswith(".rules")])
    w("- **Workload**: the seed's example policy (`rules/example.rules`) and the %d-policy set "
      "`rules/`, over the %d real request bodies in `%s` (%s). "
      "Batches cycle through the run bodies with the envelope's user/project rotating over "
      "alice/main, intern-bob/main, Contractor-carol/research and ext-dave/research, so every branch "
      "of `gpu-limits` and `project-defaults` is taken; the specs themselves are untouched."
      % (npol, sum(kinds.values()), REQUESTS,
         ", ".join("%d %s%s" % (kinds[k], k, "s" if kinds[k] != 1 else "") for k in KINDS if k in kinds)))
    w("")

    # targets (filled below, printed first)
    targets = []
    ip = res["inproc"]
    spec3 = {pol: [s for s in ip[pol]["specs"] if s["name"] == SPEC_3KB][0] for pol in ip}
    for pol in ip:
        e = spec3[pol]["eval"]["median"]
        targets.append(("VM share of a decision on a 3 KB run spec < 0.5 µs (%s)" % pol,
                        "%s µs" % us(e), e < 500))
    b = res["batch"]
    if "example" in b:
        # Issue 11's batch targets: 20,000 real requests, the example policy.
        for name, want, what in (("jq", 15, "jq 1.6"), ("python", 6, "plain Python json")):
            r = batch_ratio(b["example"], name)
            targets.append(("Issue 11: `rulec apply --ndjson` on %s requests ≥ %d× %s (example)"
                            % ("{:,}".format(CFG["n"]), want, what), fmt_ratio(r), r["median"] >= want))
    for pol in b:
        for name, want in (("jq", 20), ("python", 10), ("pydantic", 50)):
            r = batch_ratio(b[pol], name)
            targets.append(("Batch ≥ %d× %s (%s)" % (want, name, pol), fmt_ratio(r), r["median"] >= want))
    srv = res["server"]
    if srv:
        hi = srv[WRK_CONNS[0]]
        for name in ("fastapi-models", "fastapi-dicts"):
            r = server_ratio(hi, name)
            targets.append(("Server ≥ 20× FastAPI throughput (%s, %d connections)" % (name, WRK_CONNS[0]),
                            fmt_ratio(r), r["median"] >= 20))
        for conns in FASTAPI_CONNS:
            p99 = srv[conns]["rulesd"]["p99_ms"]["median"]
            targets.append(("Server p99 < 2 ms (%d connection%s)" % (conns, "s" if conns > 1 else ""),
                            "%.2f ms" % p99, p99 < 2))
        for conns in sorted(srv):
            r = floor_ratio(srv[conns])
            if r:
                targets.append(("Issue 11: rulesd CPU per request ≤ %.1f× the floor server's (%d connection%s)"
                                % (FLOOR_TARGET, conns, "s" if conns > 1 else ""),
                                "%s (%.1f µs against %.1f µs)" % (fmt_ratio_2(r), srv[conns]["rulesd"]["cpu_us"]["median"],
                                                                  srv[conns]["floor"]["cpu_us"]["median"]),
                                r["median"] <= FLOOR_TARGET))
    else:
        targets.append(("Server ≥ 20× FastAPI; p99 < 2 ms", "not measured: %s" % res["server_note"], None))
    sc = {(s["n"], s["regex"]): s for s in res["scale"]}
    if (1000, False) in sc:
        for regex in (False, True):
            one = sc[(1, regex)]["bench"]["specs"][0]["eval"]["median"]
            k = sc[(1000, regex)]["bench"]["specs"][0]["eval"]["median"]
            targets.append(("1,000 policies (one applies) ≤ 2× one policy, eval%s" % (" (regexes)" if regex else ""),
                            "%.1f×" % (k / one), k / one <= 2))
    if (10000, False) in sc:
        for regex in (False, True):
            s = sc[(10000, regex)]
            t = s["bench"]["compile_ms"]["total"]["median"]
            wall = s["rulec_compile_s"]["median"]
            targets.append(("Compile 10,000 policies < 1 s%s" % (" (regexes)" if regex else ""),
                            "%.0f ms in process, %.2f s `rulec compile`" % (t, wall), wall < 1 and t < 1000))
    for pol in ip:
        cr = cjson_ratio(ip[pol]["specs"])
        targets.append(("Whole decision (parse + evaluate + print) ≤ 0.3× cJSON parse + print, "
                        "dstack corpus (%s)" % pol,
                        "%.2f× (%.2f µs against %.2f µs)" % (cr["ratio"], cr["ours_us"], cr["cjson_us"])
                        if cr else "not measured: cJSON (libcjson-dev) is not installed",
                        cr["ratio"] <= 0.3 if cr else None))
    if res.get("size"):
        r, pv = size_ratio(res["size"])
        targets.append(("Per JSON value, a 3 MB spec ≤ 1.3× a 3 KB spec (whole decision, CPU time)",
                        "%.2f× (%.1f ns against %.1f ns)" % (r, pv["3MB"]["total"], pv["3KB"]["total"]), r <= 1.3))
    if res.get("reject"):
        _, per_msg, growth = reject_figures(res["reject"])
        targets.append(("Rejection path linear: per message, 1,000 messages ≤ 1.3× 100 (`rulec apply --ndjson`)",
                        "%.2f× (%.3f µs against %.3f µs a message)" % (growth, per_msg[1000], per_msg[100]),
                        growth <= 1.3))
    w("## Targets\n")
    w("| target | measured | |")
    w("|---|---|---|")
    for name, val, ok in targets:
        w("| %s | %s | %s |" % (name, val, "not measured" if ok is None else met(ok)))
    w("")

    # ---- checks ----
    w("## Equivalence (checked before anything was timed)\n")
    w("Every competitor answered every request exactly as `rulec apply --ndjson` did, for both "
      "policies and every kind; the timed %s-line batches were compared again line by line. "
      % "{:,}".format(CFG["n"]) +
      "Answers are compared as parsed JSON values: key order is ignored (pydantic's `model_dump_json` "
      "puts declared fields before extra ones; plain Python is byte-identical), number types are "
      "compared strictly (2.0 ≠ 2) except for jq, which keeps every number as a double and prints "
      "2.0 as 2. The pydantic competitor dumps with `exclude_unset=True`, since dstack's models would "
      "otherwise add defaults (e.g. `nodes`) that are not in the request.\n")
    w("| policy | kind | competitor | requests | rejected | result |")
    w("|---|---|---|---|---|---|")
    for pol, kind, name, n, nrej, ok, msg in res["verify"]:
        w("| %s | %s | %s | %d | %d | %s |" % (pol, kind, name, n, nrej, msg))
    w("")

    # ---- part 1 ----
    w("## 1. In process (library API, one VM, one thread)\n")
    w("`build/bench/bench_vm`: each request body (compact JSON, as dstack posts it) is parsed "
      "(`rv_vm_parse`), evaluated (`rv_vm_eval`), answered (`{\"spec\",\"error\"}` built and "
      "`rv_vm_print`ed compactly) and the VM reset, %d times per repetition, %d repetitions; each "
      "phase is timed with the clock's own cost (%.0f ns) taken out. Microseconds: median "
      "(min–max over repetitions). Allocations are calls of the `rv_config.alloc` hook per decision "
      "in steady state.\n" % (CFG["inproc_iters"], CFG["inproc_reps"], ip["example"]["clock_overhead_ns"]))
    for pol in ip:
        w("### Policy: %s (%d polic%s)\n" % (POLICIES[pol], ip[pol]["policies"],
                                              "y" if ip[pol]["policies"] == 1 else "ies"))
        w("| request | kind | body B | parse µs | eval µs | print µs | total µs | cJSON parse + print µs | VM instr | ns/instr | allocs (hook) | outcome |")
        w("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for s in ip[pol]["specs"]:
            ns_i = "%.1f" % (s["eval"]["median"] / s["instructions"]) if s["instructions"] else "—"
            w("| %s | %s | %d | %s | %s | %s | %s | %s | %d | %s | %s | %s |" % (
                s["name"].replace(".request.json", ""), s["kind"], s["body_bytes"], spread_us(s["parse"]),
                spread_us(s["eval"]), spread_us(s["print"]), spread_us(s["total"]),
                spread_us(s["cjson_parse_print"]) if "cjson_parse_print" in s else "—", s["instructions"],
                ns_i, "/".join("%g" % s["allocs"][p] for p in ("parse", "eval", "print", "reset")),
                "allowed" if s["allowed"] else "rejected"))
        tot = [s["total"]["median"] for s in ip[pol]["specs"]]
        par = [s["parse"]["median"] for s in ip[pol]["specs"]]
        ev = [s["eval"]["median"] for s in ip[pol]["specs"]]
        pr = [s["print"]["median"] for s in ip[pol]["specs"]]
        cr = cjson_ratio(ip[pol]["specs"])
        w("\nOver all %d requests: median decision %s µs, of which parse %.0f%%, eval %.0f%%, print %.0f%% "
          "(sums of medians). Allocations are given as parse/eval/print/reset.%s\n"
          % (len(tot), us(statistics.median(tot)), 100 * sum(par) / sum(tot), 100 * sum(ev) / sum(tot),
             100 * sum(pr) / sum(tot),
             (" A whole decision takes %.2f µs on average where cJSON takes %.2f µs just to parse and print "
              "the same body (`cJSON_ParseWithLength`, `cJSON_PrintUnformatted`, timed in the same "
              "repetitions): **%.2f×**." % (cr["ours_us"], cr["cjson_us"], cr["ratio"])) if cr else
             " (cJSON is not installed: no baseline.)"))
    cg = res.get("callgrind") or {}
    if cg:
        w("### Instruction counts (callgrind, noise-free) on `%s`\n" % SPEC_3KB)
        w("| policy | rv_vm_parse | rv_vm_eval | rv_vm_print | whole decision | VM instructions | "
          "machine instr per VM instr | malloc calls per decision (the whole process) |")
        w("|---|---|---|---|---|---|---|---|")
        for pol in POLICIES:
            c = cg.get(pol)
            if not c or not c["all"]:
                continue
            pc = c["all"]["per_call"]
            vi = spec3[pol]["instructions"]
            w("| %s | %.0f | %.0f | %.0f | %.0f | %d | %.0f | %s |" % (
                pol, pc.get("rv_vm_parse", 0), pc.get("rv_vm_eval", 0), pc.get("rv_vm_print", 0),
                c["all"]["total_per_decision"], vi, pc.get("rv_vm_eval", 0) / vi if vi else 0,
                "%.0f" % c["mallocs"] if c["mallocs"] is not None else "?"))
        w("")
    if res.get("size"):
        r, pv = size_ratio(res["size"])
        sz = res["size"]
        w("### A 3 MB spec against the 3 KB one\n")
        w("`%s` grown to %.1f MB by a list of copies of its configuration (so the mix of values stays "
          "the same), both decided with the example policy by `bench_vm --cpu-time`: the thread's CPU time, "
          "since a decision of the big one spans many scheduler ticks of this shared machine. "
          "Nanoseconds per JSON value (containers included), medians of %d repetitions.\n"
          % (SPEC_3KB, sz["3MB"]["body_bytes"] / 1048576, CFG["size_reps"]))
        w("| spec | bytes | values | parse | eval | print | whole decision |")
        w("|---|---|---|---|---|---|---|")
        for k in ("3KB", "3MB"):
            w("| %s | {:,} | {:,} | %.1f | %.2f | %.1f | %.1f |".format(sz[k]["body_bytes"], sz[k]["values"])
              % (k, pv[k]["parse"], pv[k]["eval"], pv[k]["print"], pv[k]["total"]))
        w("\nPer value, the 3 MB spec costs **%.2f×** the 3 KB one.\n" % r)
    fl = res.get("floor")
    if fl:
        t = fl["ns_per_document"]
        w("### The JSON parsers side by side\n")
        w("`bench/json_floor.cpp` (docs/json.md says what it decided): the same %d request bodies, "
          "printed compactly (%.0f bytes on average), nanoseconds per document, median (min–max) of %d "
          "repetitions.\n" % (fl["documents"], fl["bytes_per_document"], fl["reps"]))
        w("| what | parse | parse + print |")
        w("|---|---|---|")
        rows = [("memcpy of the document", "memcpy", None),
                ("librulevm (`rv_vm_parse`, `rv_vm_print`)", "rulevm_parse", "rulevm_parse_print"),
                ("cJSON (`cJSON_ParseWithLength`, `cJSON_PrintUnformatted`)", "cjson_parse", "cjson_parse_print"),
                ("simdjson DOM (`dom::parser::parse`, `minify`)", "simdjson_parse", "simdjson_parse_print")]
        for label, a, b in rows:
            if a not in t:
                continue
            cell = lambda k: "{:,.0f} ({:,.0f}–{:,.0f})".format(t[k]["median"], t[k]["min"], t[k]["max"]) if k else ""
            w("| %s | %s | %s |" % (label, cell(a), cell(b)))
        w("")
    if res.get("reject"):
        us_, per_msg, growth = reject_figures(res["reject"])
        w("### The rejection path\n")
        w("`rulec apply BUNDLE --request FILE --kind run --ndjson` on %s copies of one task request, "
          "through N compiled policies that each reject it with a message of their own (the answer "
          "joins all N with `; `) or N alike that let it pass; CPU time (user + system) per request, "
          "median of %d interleaved runs.\n" % ("{:,}".format(CFG["reject_n"]), CFG["reject_reps"]))
        w("| policies | rejecting µs/request | passing µs/request | rejection's extra per message µs |")
        w("|---|---|---|---|")
        for n in REJECT_SETS:
            w("| {:,} | %.1f | %.1f | %.3f |".format(n) % (us_["%d-reject" % n], us_["%d-allow" % n], per_msg[n]))
        w("\nA message costs **%.2f×** as much among 1,000 as among 100 (1.0 is linear); 1,000 rejecting "
          "policies cost %.1f× a request they all let pass.\n"
          % (growth, us_["1000-reject"] / us_["1000-allow"]))

    # ---- part 2 ----
    w("## 2. Batch: %s requests as NDJSON\n" % "{:,}".format(CFG["n"]))
    w("One process per run reading the %.0f MB NDJSON file and writing one response line per request "
      "to a file; wall time over %d interleaved runs. `rulec apply POLICY --request FILE --kind run "
      "--ndjson` against `jq -c -f bench/policy.jq`, `bench/py_plain.py` (json module, plain dicts) "
      "and `bench/py_pydantic.py` (pydantic %s models, `model_validate_json` / `model_dump_json`), "
      "each answering as dstack's `/apply_policies/on_run_apply` does. rulec's ratio is the median "
      "(min–max) of the ratios of back-to-back runs, which cancels most of the load other jobs put "
      "on the machine; the targets are stated on it (wall time, start-up included). The same runs' "
      "CPU time (user + system) gives the second ratio, which other jobs' load hardly moves.\n"
      % (batch_bytes / 1e6, CFG["batch_reps"], py["pydantic_version"]))
    for pol in res["batch"]:
        bb = res["batch"][pol]
        w("### Policy: %s\n" % POLICIES[pol])
        w("| engine | decisions/s median (min–max) | µs/decision | CPU µs/decision | peak RSS | rulec's ratio | "
          "rulec's ratio, CPU time |")
        w("|---|---|---|---|---|---|---|")
        for name in ("rulec", "jq", "python", "pydantic"):
            x = bb[name]
            rc = None if name == "rulec" else batch_cpu_ratio(bb, name)
            w("| %s | %s | %.1f | %s | %.0f MB | %s | %s |" % (
                name, fmt_rate(x["rate"]), 1e6 / x["rate"]["median"],
                "%.1f" % (1e6 * statistics.median(x["cpu"]) / CFG["n"]) if x.get("cpu") else "?",
                x["rss_kb"] / 1024, "—" if name == "rulec" else fmt_ratio(batch_ratio(bb, name)),
                "—" if name == "rulec" else fmt_ratio(rc) if rc else "?"))
        w("")
    # ---- part 3 ----
    w("## 3. Server\n")
    if not res["server"]:
        w("Not measured: %s. (`make bench` builds and measures `rulesd` once it exists.)\n" % res["server_note"])
    else:
        w("The servers on 127.0.0.1 with the example policy, after their answers to every run request were "
          "checked against rulec's: `rulesd --listen 127.0.0.1 --port P --policy rules/example.rules` "
          "(defaults otherwise: one worker thread per CPU), the floor server `bench/floor_server.c` (below) "
          "and `bench/fastapi_server.py` under uvicorn "
          "(one worker, no access log, as dstack's example plugin server runs). `wrk -t1 -cC -d%ds -s "
          "bench/post.lua` POSTs the %d run bodies in turn to `/apply_policies/on_run_apply`, %d interleaved "
          "runs per server; C = %s (64: rulesd and the floor only). wrk, the server and other engineers' "
          "builds share the 2 cores, which "
          "is what the tail latencies mostly measure. `fastapi-models` parses into pydantic models "
          "as dstack's example plugin server does (Debian's FastAPI brings pydantic 1.10); "
          "`fastapi-dicts` is the fastest plain-Python variant. *CPU µs/req* is the server process's "
          "user+system time per answered request (all its threads, from `/proc/PID/stat` before and "
          "after each wrk run). Ratios are the median (min–max) of the ratios of "
          "back-to-back runs.\n" % (
              CFG["wrk_secs"], len(os.listdir(os.path.join(DATA, "bodies-run"))), CFG["wrk_reps"],
              ", ".join(str(c) for c in WRK_CONNS)))
        w("| server | connections | requests/s | p50 ms | p99 ms | CPU µs/req | errors | peak RSS | rulesd's ratio (req/s) |")
        w("|---|---|---|---|---|---|---|---|---|")
        for conns in [c for c in WRK_CONNS if c in res["server"]]:
            s = res["server"][conns]
            for name in s:
                x = s[name]
                w("| %s | %d | %s | %.2f (%.2f–%.2f) | %.2f (%.2f–%.2f) | %s | %d | %s | %s |" % (
                    name, conns, fmt_rate(x["rps"]), x["p50_ms"]["median"], x["p50_ms"]["min"],
                    x["p50_ms"]["max"], x["p99_ms"]["median"], x["p99_ms"]["min"], x["p99_ms"]["max"],
                    "%.1f" % x["cpu_us"]["median"] if x["cpu_us"] else "?", x["errors"],
                    "%.0f MB" % (x["rss_kb"] / 1024) if x["rss_kb"] else "?",
                    "—" if name == "rulesd" else fmt_ratio(server_ratio(s, name))))
        w("")
        fl_rows = [(c, res["server"][c], floor_ratio(res["server"][c])) for c in sorted(res["server"])]
        fl_rows = [row for row in fl_rows if row[2]]
        if fl_rows:
            w("### rulesd against the floor server\n")
            w("`bench/floor_server.c` runs libmicrohttpd exactly as rulesd does (`server/http.c`: "
              "`MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC`, a pool of one polling "
              "thread per CPU, each with its own share of the connections; rulesd's timeout, connection "
              "limit and backlog), reads every POST body in full and answers it with a fixed body exactly "
              "as long as rulesd's answer to the same request (checked before timing), built as rulesd "
              "builds its answers. What rulesd spends per request beyond it is rulesd's own work: "
              "the decision (parse, evaluate, print), the connection table, request ids, logging and "
              "metrics. Issue 11's target: rulesd's CPU per request at most %.1f× the floor's.\n" % FLOOR_TARGET)
            w("| connections | rulesd req/s | floor req/s | rulesd p99 ms | floor p99 ms | rulesd CPU µs/req | "
              "floor CPU µs/req | CPU per request, rulesd ÷ floor | |")
            w("|---|---|---|---|---|---|---|---|---|")
            for conns, s, r in fl_rows:
                a, b = s["rulesd"], s["floor"]
                w("| %d | %s | %s | %.2f | %.2f | %.1f | %.1f | %s | %s |" % (
                    conns, fmt_rate(a["rps"]), fmt_rate(b["rps"]), a["p99_ms"]["median"], b["p99_ms"]["median"],
                    a["cpu_us"]["median"], b["cpu_us"]["median"], fmt_ratio_2(r), met(r["median"] <= FLOOR_TARGET)))
            w("")
    # ---- part 4 ----
    w("## 4. Scaling with generated policy sets\n")
    w("`bench/run.py` generates N policies (`%s/scale/N-*`), each with a parameter, writes, a tag, a "
      "`forbid-if` with a message template and a `match`; the regex variant adds a `$user =~ /…/i` match "
      "and an `image =~ /…/` forbid (2 regexes per policy). Policy *i* applies to runs when i %% 1000 = 0, "
      "the rest to 97 made-up kinds: 1 applies up to 1,000 policies, 10 of 10,000. Compile = parse, "
      "check and code generation + bundle writing + loading (verify, regex compile and JIT), in process "
      "(median of %d); `rulec compile` is the whole command (reading files, writing the bundle; wall "
      "time, including about 1 ms for starting it under GNU time, which also gives the peak RSS). "
      "The decision is the 3 KB run spec.\n" % (OUT, CFG["compile_reps"]))
    w("| policies | regexes | applying | compile ms (front/write/load) | `rulec compile` s | rulec peak RSS | eval µs | decision µs | eval vs 1 policy |")
    w("|---|---|---|---|---|---|---|---|---|")
    for s in res["scale"]:
        c = s["bench"]["compile_ms"]
        sp = s["bench"]["specs"][0]
        one = sc[(1, s["regex"])]["bench"]["specs"][0]["eval"]["median"]
        w("| {:,} | {} | {} | {:.1f} ({:.1f}/{:.1f}/{:.1f}) | {:.3f} | {:.0f} MB | {} | {} | {:.1f}× |".format(
            s["n"], "yes" if s["regex"] else "no", s["applying"], c["total"]["median"], c["front"]["median"],
            c["write"]["median"], c["load"]["median"], s["rulec_compile_s"]["median"], s["rulec_rss_kb"] / 1024,
            spread_us(sp["eval"]), spread_us(sp["total"]), sp["eval"]["median"] / one))
    w("")
    w("Peak memory: `rulec` in the batch runs %s; `rulec compile` of the largest set %.0f MB%s.\n" % (
        ", ".join("%.0f MB (%s)" % (res["batch"][p]["rulec"]["rss_kb"] / 1024, p) for p in res["batch"]),
        max(s["rulec_rss_kb"] for s in res["scale"]) / 1024,
        "; `rulesd` after the wrk runs %.0f MB" % (res["server"][WRK_CONNS[0]]["rulesd"]["rss_kb"] / 1024)
        if res["server"] and res["server"][WRK_CONNS[0]]["rulesd"]["rss_kb"] else ""))

    # ---- where the time goes ----
    w("## Where the time goes\n")
    if cg:
        for key, title in (("example", "a whole decision, example policy"),
                           ("rules", "a whole decision, rules/ set")):
            c = cg.get(key)
            if c and c["all"]:
                w("**Callgrind, %s** (`%s`; self cost per decision, top functions):\n" % (title, SPEC_3KB))
                w("| share | instructions | function | object |")
                w("|---|---|---|---|")
                for pct, fn, lib, ir in c["all"]["top"][:10]:
                    w("| %.1f%% | %.0f | `%s` | %s |" % (pct, ir, fn, lib))
                w("")
        for key, title in (("example", "inside rv_vm_eval, example policy"),
                           ("rules", "inside rv_vm_eval, rules/ set"),
                           ("scale1000", "inside rv_vm_eval, 1,000 generated policies (one applies)")):
            c = cg.get(key, {}).get("eval") if key != "scale1000" else cg.get("scale1000")
            if c:
                w("**Callgrind, %s** (%.0f instructions per decision):\n" % (title, c["total_per_decision"]))
                w("| share | instructions | function |")
                w("|---|---|---|")
                for pct, fn, lib, ir in c["top"][:8]:
                    w("| %.1f%% | %.0f | `%s` |" % (pct, ir, fn))
                w("")
    cc = cg.get("compile") if cg else None
    if cc:
        w("**Callgrind, `rulec compile` of the %s-policy set** (self cost, top functions; inclusive: "
          "%s):\n" % ("{:,}".format(max(s["n"] for s in res["scale"])),
                      ", ".join("`%s` %.0f%%" % (k, v) for k, v in cc["incl"].items())))
        w("| share | function |")
        w("|---|---|")
        for pct, fn in cc["top"][:8]:
            w("| %.1f%% | `%s` |" % (pct, fn))
        w("")
    w(analysis(res, spec3))
    return "\n".join(L) + "\n"


def cjson_ratio(specs):
    """A whole decision over all requests against cJSON parsing and printing
    the same bodies, sums of medians measured in the same repetitions; None
    without cJSON."""
    if not specs or any("cjson_parse_print" not in s for s in specs):
        return None
    ours = sum(s["total"]["median"] for s in specs)
    theirs = sum(s["cjson_parse_print"]["median"] for s in specs)
    return {"ours_us": ours / len(specs) / 1000, "cjson_us": theirs / len(specs) / 1000,
            "ratio": ours / theirs}


def size_ratio(size):
    """ns per JSON value at 3 MB over at 3 KB, and the per-value figures."""
    pv = {k: {p: size[k][p]["median"] / size[k]["values"] for p in ("parse", "eval", "print", "total")}
          for k in size}
    return pv["3MB"]["total"] / pv["3KB"]["total"], pv


def reject_figures(rj):
    """Per request µs at each size; the extra a rejection costs per message
    (rejecting set minus passing set, over N), and its growth from 100 to
    1,000 messages (1.0 is linear)."""
    us = {k: v["median"] for k, v in rj.items() if k != "raw"}
    per_msg = {n: (us["%d-reject" % n] - us["%d-allow" % n]) / n for n in REJECT_SETS}
    return us, per_msg, per_msg[REJECT_SETS[-1]] / per_msg[REJECT_SETS[0]]


def top_share(c, fn):
    """A function's share of a callgrind profile, in percent (0 if absent)."""
    return sum(pct for pct, f, _, _ in (c or {}).get("top", []) if f == fn)


def analysis(res, spec3):
    """The summary of the profiles, with this run's figures in it. Each
    point says what the measurements show, so it stays true as the code
    changes."""
    sp = spec3["rules"]
    tot = sp["total"]["median"]
    pct = {k: 100 * sp[k]["median"] / tot for k in ("parse", "eval", "print")}
    cg = res.get("callgrind") or {}
    mallocs = (cg.get("rules") or {}).get("mallocs")
    alltop = ((cg.get("rules") or {}).get("all") or {})
    alloc_share = sum(top_share(alltop, f) for f in ("_int_malloc", "_int_free", "malloc", "free",
                                                      "malloc_consolidate", "unlink_chunk.constprop.0",
                                                      "cfree@GLIBC_2.2.5"))
    hook = sp["allocs"]["parse"]

    def tops(c, n=3):
        return ", ".join("`%s` %.0f%%" % (f, p) for p, f, _, _ in (c or {}).get("top", [])[:n])

    L = ["### Summary of the profiles, and the next steps\n"]
    w = L.append
    crs = {pol: cjson_ratio(res["inproc"][pol]["specs"]) for pol in res["inproc"]}
    ev_share = 100 * sum(x["eval"]["median"] for x in res["inproc"]["rules"]["specs"]) / \
        sum(x["total"]["median"] for x in res["inproc"]["rules"]["specs"])
    fl = (res.get("floor") or {}).get("ns_per_document", {})
    w("- **Reading the spec is still most of a decision.** On `%s` with the rules/ set, `rv_vm_parse` is "
      "%.0f%% of a decision, `rv_vm_eval` %.0f%% and printing the answer %.0f%%. `vm/doc_json.c` reads the "
      "text in one strict pass straight into the VM's arena (docs/json.md): the hook sees %g allocations "
      "per parse in steady state%s.%s What is left is the work itself: a string scan eight bytes at a "
      "step, a node per value, the duplicate-key check of each object, and the copies of the text that "
      "let untouched values print as they came in."
      % (SPEC_3KB, pct["parse"], pct["eval"], pct["print"], hook,
         (", and memcheck counts %.0f `malloc` calls per decision in the whole process" % mallocs)
         if mallocs is not None else "",
         (" Over the corpus a whole decision costs %.2f× (example policy) and %.2f× (rules/, whose "
          "policies' evaluation is %.0f%% of its decisions) what cJSON, the library's former parser, takes "
          "just to parse and print the same body%s."
          % (crs["example"]["ratio"], crs["rules"]["ratio"], ev_share,
             ("; the JSON path alone (`json_floor`: parse and print) is %.2f× cJSON's"
              % (fl["rulevm_parse_print"]["median"] / fl["cjson_parse_print"]["median"]))
             if "cjson_parse_print" in fl else "")) if crs.get("example") and crs.get("rules") else ""))
    w("- **Printing** copies what no policy changed: numbers and strings from their text, and (as "
      "rulesd and this benchmark print answers, with `RV_VERBATIM`) whole objects and arrays no policy "
      "touched, putting back the quotes the reader overwrote eight bytes at a step. What remains is "
      "laying out the objects on the way to a change (here `configuration`, about 70 members) and the "
      "canonical text of computed values.")

    ex3 = spec3["example"]
    ev_ex, ev_ru = ex3["eval"], spec3["rules"]["eval"]
    evtop = (cg.get("example") or {}).get("eval")
    evtop_r = (cg.get("rules") or {}).get("eval")
    find_share = top_share(evtop, "rv_object_find") + sum(
        top_share(evtop, f) for f in ("__memcmp_avx2_movbe", "__memcmp_evex_movbe"))
    cg_ex = (evtop or {}).get("total_per_decision")
    text = ("- **Evaluation** of the example policy on the 3 KB spec takes %s µs (%s–%s over "
            "repetitions; target 0.5 µs: %s)%s, and %s µs for the policies of rules/ (%d VM "
            "instructions, with two regex matches on `$user` and a quantifier over 8 registries). "
            % (us(ev_ex["median"]), us(ev_ex["min"]), us(ev_ex["max"]),
               "met" if ev_ex["median"] < 500 else "missed",
               (" -- %.0f machine instructions per decision under callgrind, %.0f per VM instruction"
                % (cg_ex, cg_ex / ex3["instructions"])) if cg_ex else "",
               us(ev_ru["median"]), sp["instructions"]))
    lookups = find_share + top_share(evtop, "find_member")
    if evtop and top_share(evtop, "rv_object_find") >= 15:
        text += ("%.0f%% of the example's instructions inside `rv_vm_eval` go to `rv_object_find`: a "
                 "linear scan with `memcmp` over the ~70 keys of `configuration` per path step. **Fix**: "
                 "look keys up by hash, or remember the member index per path step." % find_share)
    elif evtop:
        text += ("Key lookups (`find_member` with its per-segment hints, `rv_object_find`, `memcmp`) "
                 "are %.0f%% of the example's instructions inside `rv_vm_eval`; the largest self costs "
                 "are %s for the example and %s for rules/. At %s machine instructions per decision "
                 "the VM's share is small next to parsing; the remaining per-instruction cost is the "
                 "dispatch loop and the undo/change logging of every write (`record_change`, "
                 "`rv_program_line`: a binary search per change that could wait until a change is "
                 "reported)." % (lookups, tops(evtop), tops(evtop_r),
                                 "{:,.0f}".format(cg_ex) if cg_ex else "a few thousand"))
    w(text)

    sc = {(x["n"], x["regex"]): x for x in res["scale"]}
    big = max(n for n, _ in sc)
    one = sc[(1, False)]["bench"]["specs"][0]["eval"]["median"]
    bigx = sc[(big, False)]["bench"]["specs"][0]["eval"]["median"]
    k1 = sc.get((1000, False))
    r1k = k1["bench"]["specs"][0]["eval"]["median"] / one if k1 else None
    s1k = cg.get("scale1000")
    if r1k is not None and r1k <= 2:
        w("- **Policy selection** no longer grows with the set: a decision walks the per-kind run list "
          "built at load, so 1,000 policies of which one applies cost %.1fx one policy, and %s policies "
          "(%d apply) %.2f µs against %.2f µs for one -- the extra is the policies that do apply."
          % (r1k, "{:,}".format(big), sc[(big, False)]["applying"], bigx / 1000, one / 1000))
    elif r1k is not None:
        w("- **Policy selection grows with the set**: 1,000 policies of which one applies cost %.1fx one "
          "policy; %s policies (%d apply) %.2f µs against %.2f µs for one. Top of the 1,000-policy eval "
          "profile: %s. **Fix**: index the policies by kind at load time so a decision visits only the "
          "ones that apply." % (r1k, "{:,}".format(big), sc[(big, False)]["applying"], bigx / 1000,
                                 one / 1000, tops(s1k, 4)))

    c_big = sc[(big, False)]["bench"]["compile_ms"]
    c_bigr = sc[(big, True)]["bench"]["compile_ms"]
    cc = cg.get("compile") or {}
    quad = sum(p for p, f in cc.get("top", []) if f.startswith("__strcmp") or f == "rc_compile_map")
    crc = sum(p for p, f in cc.get("top", []) if f == "rv_crc32")
    text = ("- **Compiling %s policies** takes %.0f ms (%.0f ms with regexes) in process: front end "
            "(parse, check, code generation) %.0f ms, bundle writing %.0f ms, loading %.0f ms (%.0f ms with "
            "regexes, where PCRE2 compiles and JITs every regex at load; JIT-ing on first match would "
            "cut that when few policies apply). "
            % ("{:,}".format(big), c_big["total"]["median"], c_bigr["total"]["median"],
               c_big["front"]["median"], c_big["write"]["median"], c_big["load"]["median"],
               c_bigr["load"]["median"]))
    if cc and quad >= 10:
        text += ("`rc_compile_map`'s repeated-name check and its `strcmp` calls are %.0f%% of the "
                 "instructions of `rulec compile` (O(n²)): sort by name and compare neighbours. " % quad)
    if cc:
        text += ("Top self costs of `rulec compile`: %s. " % ", ".join(
            "`%s` %.0f%%" % (f, p) for p, f in cc["top"][:5]))
    if crc:
        text += ("`rv_crc32` (%.0f%%) is a table-driven CRC one byte per step, run three times over the "
                 "same bytes -- by the writer over the bundle, by the loader over the bundle and again "
                 "over each policy's section; slicing-by-8 makes it several times cheaper, and the "
                 "per-policy checksums can come out of the same pass. " % crc)
    text += ("The rest is the bison/flex front end (`yyparse`, `yylex`, `yy_lac` for LAC error "
             "reporting) and the checker's `split_template`.")
    w(text)

    srv = res.get("server") or {}
    rd = (srv.get(WRK_CONNS[0]) or {}).get("rulesd")
    dec_us = statistics.median(s["total"]["median"] for s in res["inproc"]["example"]["specs"] if s["kind"] == "run") / 1000
    ex_b = (res.get("batch") or {}).get("example") or {}
    batch_cpu = (1e6 * statistics.median(ex_b["rulec"]["cpu"]) / CFG["n"]) if ex_b.get("rulec", {}).get("cpu") else None
    w("- **Batch ratios** are bounded by parse and print, not by the VM nor by rulec around them: the "
      "competitors' parsers (CPython's `json` in C, pydantic-core in Rust, jq's in C) are within a small "
      "factor of ours, so only a faster parser moves those ratios much further.%s"
      % ((" `rulec apply --ndjson` spends %.1f µs of CPU per request of the batch (example policy; start-up, "
          "reading and writing included) against a median in-process decision of %.1f µs on the same run "
          "specs (part 1). It reads its input a megabyte at a time and hands each line to the parser where "
          "it lies, writes its answers a block at a time, and does nothing per line that was not asked for "
          "(no terminal check, no secret scan without `--explain`); before that (getline and stdio's 4 KiB "
          "blocks, an `isatty` per line) its batch took 1.6× the wall time (137 ms against 86 ms for the "
          "20,000 requests, measured side by side when it changed), most of the difference in system "
          "calls." % (batch_cpu, dec_us)) if batch_cpu else ""))
    fl = {c: floor_ratio(srv[c]) for c in srv}
    fl16 = fl.get(16)
    if rd and rd.get("cpu_us") and fl16:
        fcpu = srv[16]["floor"]["cpu_us"]["median"]
        w("- **rulesd against the floor**: with 16 connections rulesd spends %.1f µs of CPU per request and "
          "the floor server %.1f µs (ratio %.2f; %s with 1, 16 and 64 connections; target %.1f×). The floor's "
          "cost is loopback TCP, thread wake-ups and libmicrohttpd, which rulesd pays alike; rulesd's %.1f µs "
          "more is about one decision (a median in-process decision on these run specs takes %.1f µs in "
          "part 1, parsing most of it). A perf profile of both under wrk (taken separately, 16 connections, "
          "example policy) agreed: the kernel's share was the same in both (about 6 µs per request: TCP on "
          "loopback, context switches); rulesd's own code was 22%% of its CPU, almost all of it the decision "
          "(`rv_json_parse`, `read_key` and `close_container` 14%%, printing 2.6%%, evaluation under 1%%), and "
          "its request handling around the decision (connection table, request id, clock reads, header "
          "checks) about 3%%. libmicrohttpd zeroes its 32 KiB connection pool between requests (`memset`, "
          "2-4%% of either server's CPU). So the ratio is set by the parser's speed against the "
          "kernel's per-request cost: reaching %.1f× means a decision of at most %.1f µs here.%s"
          % (srv[16]["rulesd"]["cpu_us"]["median"], fcpu, fl16["median"],
             ", ".join("%.2f" % fl[c]["median"] for c in sorted(fl) if fl[c]), FLOOR_TARGET,
             srv[16]["rulesd"]["cpu_us"]["median"] - fcpu, dec_us, FLOOR_TARGET, (FLOOR_TARGET - 1) * fcpu,
             "" if all(fl[c] and fl[c]["median"] <= FLOOR_TARGET for c in fl) else " Missed at %s connections."
             % " and ".join(str(c) for c in sorted(fl) if fl[c] and fl[c]["median"] > FLOOR_TARGET)))
    w("- **Tail latency** with 16 and 64 connections is mostly queueing for the 2 shared cores (wrk, the "
      "server and other jobs).")
    return "\n".join(L) + "\n"

if __name__ == "__main__":
    report_only() if REPORT_ONLY else main()
