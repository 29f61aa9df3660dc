# SPDX-License-Identifier: Apache-2.0
# policy.jq - the policies as a jq program over NDJSON request bodies:
#
#   jq -c --arg policy example|rules --arg kind KIND -f bench/policy.jq
#
# Answers each {"user","project","spec"} line with {"spec","error"} exactly as
# `rulec apply --request - --ndjson` does (a rejected spec comes back as it
# came). jq 1.6 keeps numbers as doubles and prints 2.0 as 2, so outputs
# are compared with rulec's as values (compare.py --numbers-by-value).
# Warnings are not printed (jq 1.6 has no plain-text stderr).

def truthy: . != null and . != false and . != 0 and . != "" and . != [] and . != {};
def cmp_ok($b): (type == "number" and ($b | type) == "number")
              or (type == "string" and ($b | type) == "string");
def gt($b): cmp_ok($b) and . > $b;
def ge($b): cmp_ok($b) and . >= $b;
def fmt: if type == "string" then . else tojson end;
# Reads a path; a non-map on the way reads as null.
def rd($p): reduce $p[] as $k (.; if type == "object" then .[$k] else null end);
# Writes a path, creating (or replacing) non-maps on the way.
def wr($p; $v):
  (if type == "object" then . else {} end)
  | if ($p | length) == 1 then .[$p[0]] = $v
    else .[$p[0]] |= wr($p[1:]; $v) end;
def dflt($p; $v): if rd($p) == null then wr($p; $v) else . end;
def anyin(f): if type == "array" or type == "object" then any(.[]; f) else false end;
def vmin($a; $b):
  if $a == null then $b elif $b == null then $a
  elif ($a | cmp_ok($b)) then (if $b < $a then $b else $a end) else null end;
def forbid($m): .errors += [$m];

# State: {spec, errors, user, project}.
def example:
  if $kind == "run" then
    .spec |= (wr(["configuration", "max_price"]; 2.0)
              | wr(["configuration", "max_duration"]; 86400)
              | .configuration.tags |= (if . == null then {team: "my_team"}
                                        elif type == "object" then . + {team: "my_team"}
                                        else . end))
    | if (.spec | rd(["configuration", "privileged"]) | truthy)
      then forbid("Running privileged containers is forbidden") else . end
    | if (.spec | rd(["configuration", "type"])) == "service"
      then .spec |= wr(["configuration", "https"]; true) else . end
  elif $kind == "gateway" then forbid("gateways are created by the platform team")
  else . end;

def placement:
  ["aws", "gcp"] as $backends
  | ["us-east-1", "us-west-2", "europe-west4"] as $regions
  | if $kind == "run" or $kind == "fleet" then
      (.spec | rd(["configuration", "backends"])) as $b
      | (.spec | rd(["configuration", "regions"])) as $r
      | if ($b | anyin(. as $x | $backends | index([$x]) | not))
        then forbid("backends \($b | fmt) are not all allowed (allowed: \($backends | fmt))") else . end
      | if ($r | anyin(. as $x | $regions | index([$x]) | not))
        then forbid("regions \($r | fmt) are not all allowed (allowed: \($regions | fmt))") else . end
      | .spec |= (dflt(["configuration", "backends"]; $backends) | dflt(["configuration", "regions"]; $regions))
    elif $kind == "volume" or $kind == "gateway" then
      (.spec | rd(["configuration", "backend"])) as $b
      | (.spec | rd(["configuration", "region"])) as $r
      | if ($backends | index([$b])) == null
        then forbid("backend \($b | fmt) is not allowed (allowed: \($backends | fmt))") else . end
      | if $r != null and (($regions | index([$r])) == null)
        then forbid("region \($r | fmt) is not allowed (allowed: \($regions | fmt))") else . end
    else . end;

# The elements `each g in configuration.FIELD` visits: a list's items (nothing else).
def groups($f): (.spec | rd(["configuration", $f])) | if type == "array" then . else [] end;

def privileged:
  if $kind != "run" then . else
    (groups("replicas")) as $reps
    | if (.spec | rd(["configuration", "docker"])) == true
      then forbid("docker: true runs the container privileged (Docker-in-Docker), which is forbidden") else . end
    | reduce $reps[] as $g (.;
        if ($g | type == "object" and .privileged == true)
        then forbid("replica group \($g.name | fmt) asks for a privileged container, which is forbidden") else . end
        | if ($g | type == "object" and .docker == true)
          then forbid("replica group \($g.name | fmt) sets docker: true (a privileged container), which is forbidden") else . end)
  end;

# `match count.min > 0 or count.max > 0 { set count.max = min(count.max ?? CAP, CAP); }`
# at a count's path: a range that asks for GPUs is closed at the cap.
def close_at($cnt; $cap):
  if ((rd($cnt + ["min"]) | gt(0)) or (rd($cnt + ["max"]) | gt(0)))
  then wr($cnt + ["max"]; vmin(rd($cnt + ["max"]) // $cap; $cap)) else . end;

# `each g in replicas` and `each g in groups`: a message per group over the
# cap, and each group's range closed at it.
def group_caps($cap; $who; $unit):
  reduce (["replicas", "replica group"], ["groups", "node group"]) as [$f, $what] (.;
    (.spec | rd(["configuration", $f])) as $list
    | if ($list | type) != "array" then . else
        reduce range(0; $list | length) as $i (.;
          (.spec | rd(["configuration", $f]) | .[$i]) as $g
          | ($g | rd(["resources", "gpu", "count", "min"])) as $m
          | (if ($m | gt($cap))
             then forbid("\($who) may request at most \($cap) \($unit) (\($what) \($g | rd(["name"]) | fmt) asks for \($m | fmt))")
             else . end)
          | if ($g | type) == "object"
            then .spec.configuration[$f][$i] |= close_at(["resources", "gpu", "count"]; $cap) else . end)
      end);

# `len(x)` as far as these specs need it (null, list, map, string).
def count_of: if . == null then 0 elif type == "string" then explode | length else length end;
def gpus: rd(["resources", "gpu", "count", "max"]) // rd(["resources", "gpu", "count", "min"]) // 0;
def repl: rd(["count", "max"]) // rd(["count", "min"]) // rd(["count"]);

# The total at full scale: over the groups when there are any, else the
# run's own replicas (a service) or nodes (anything else) x its GPUs.
def gpu_total:
  16 as $t
  | (.spec | rd(["configuration"])) as $c
  | def total_msg: "runs may use at most \($t) GPUs in total across their replica and node groups";
    def lst($f): $c | rd([$f]) | if type == "array" then . else [] end;
    if ($c | rd(["type"])) == "service" then
      if ($c | rd(["replicas"]) | type) == "array" or ($c | rd(["groups"]) | count_of) > 0 then
        if ([lst("replicas")[] | repl * gpus] | add // 0) + ([lst("groups")[] | repl * gpus] | add // 0) > $t
        then forbid(total_msg) else . end
      else
        ($c | rd(["replicas", "max"]) // rd(["replicas", "min"]) // rd(["replicas"]) // 1) as $r
        | ($c | gpus) as $g
        | if $r * $g > $t
          then forbid("runs may use at most \($t) GPUs in total (up to \($r | fmt) replicas x \($g | fmt) GPUs)")
          else . end
      end
    elif ($c | rd(["groups"]) | count_of) > 0 then
      if ([lst("groups")[] | (rd(["nodes"]) // 1) * gpus] | add // 0) > $t then forbid(total_msg) else . end
    else
      ($c | rd(["nodes"]) // 1) as $n
      | ($c | gpus) as $g
      | if $n * $g > $t
        then forbid("runs may use at most \($t) GPUs in total (\($n | fmt) nodes x \($g | fmt) GPUs)")
        else . end
    end;

def class_caps($cap; $who; $unit):
  ["configuration", "resources", "gpu", "count"] as $cnt
  | (.spec | rd($cnt + ["min"])) as $min
  | (if ($min | gt($cap))
     then forbid("\($who) may request at most \($cap) \($unit) (asked for \($min | fmt))") else . end)
  | group_caps($cap; $who; $unit)
  | .spec |= close_at($cnt; $cap);

def gpu_limits:
  if $kind != "run" then . else
    (if (.user | test("^intern-")) then class_caps(1; "interns"; "GPU")
     elif (.user | test("^(contractor|ext)-"; "i")) then class_caps(4; "contractors"; "GPUs")
     else class_caps(8; "runs"; "GPUs") end)
    | gpu_total
  end;

def registry:
  ["docker.io/library/", "nvcr.io/nvidia/", "ghcr.io/dstackai/", "python:", "rocm/",
   "runpod/", "lmsysorg/", "vllm/"] as $approved
  | if $kind != "run" then . else
      (.spec | rd(["configuration", "image"])) as $img
      | if $img != null and (($img | type) != "string" or ([$approved[] as $p | $img | startswith($p)] | any | not))
        then forbid("image \($img | fmt) is not from an approved registry (approved: \($approved | fmt))")
        else . end
    end;

def dev_idle:
  7200 as $max
  | if $kind == "run" and (.spec | rd(["configuration", "type"])) == "dev-environment" then
      (.spec | rd(["configuration", "inactivity_duration"])) as $idle
      | if ($idle | ge(0) | not) or $idle == false then .spec |= wr(["configuration", "inactivity_duration"]; $max)
        elif ($idle | gt($max)) then .spec |= wr(["configuration", "inactivity_duration"]; $max)
        else . end
    else . end;

def project_defaults:
  if $kind != "run" then . else
    (if .project == "research" then 259200 else 28800 end) as $md
    | .spec |= dflt(["configuration", "max_duration"]; $md)
    | if (.spec | rd(["configuration", "resources", "gpu", "count", "min"]) | gt(0))
      then .spec |= dflt(["configuration", "utilization_policy"]; {min_gpu_utilization: 10, time_window: 3600})
      else . end
  end;

. as $req
| ((.user | strings) // "") as $user
| ((.project | strings) // "") as $project
| {spec: .spec, errors: [], user: $user, project: $project}
| if $policy == "example" then example
  else example | privileged | placement | gpu_limits | registry | dev_idle | project_defaults end
| if (.errors | length) > 0 then {spec: $req.spec, error: (.errors | join("; "))}
  else {spec: .spec, error: null} end
