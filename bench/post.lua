-- SPDX-License-Identifier: Apache-2.0
-- post.lua - wrk script: POSTs dstack REST plugin request bodies in turn.
--
--   wrk -s bench/post.lua URL -- BODY.json...
--
-- Every thread loads the bodies named after "--" and cycles through them.
-- At the end one JSON line gives the counts and the latency percentiles
-- (microseconds) for the runner.
local bodies = {}
local next_i = 0

function init(args)
  for _, path in ipairs(args) do
    local f = assert(io.open(path, "rb"))
    bodies[#bodies + 1] = f:read("*a")
    f:close()
  end
  assert(#bodies > 0, "post.lua: give request body files after --")
  next_i = math.random(#bodies) - 1
end

function request()
  next_i = next_i % #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[next_i])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nBENCH {"requests": %d, "duration_us": %d, "bytes": %d, "errors": %d, "non2xx": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
