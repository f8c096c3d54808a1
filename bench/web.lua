-- wrk script for the web benchmark (BENCHMARKS.md): 50 connections act as signed-in
-- antenna agents, half opening household pages, half searching (by RSU id, CNIE or phone).
-- Paths come from bench/web-paths.txt (one per line), the session cookie from SANAD_COOKIE.
local paths = {}
local cookie = os.getenv("SANAD_COOKIE")

function init(args)
  for line in io.lines(args[1] or "bench/web-paths.txt") do
    paths[#paths + 1] = line
  end
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
  local path = paths[math.random(#paths)]
  return wrk.format("GET", path, { ["Cookie"] = "sanad_session=" .. cookie })
end

local errors = 0
function response(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("non-2xx/3xx: %d; p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n",
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
