-- wrk script: the refresh token grant with rotation. Each thread starts with its share of the
-- tokens in BENCH_TOKENS (a file, one per line); each response's rotated token replaces the
-- spent one, so no token is ever presented twice (that would revoke its family).
local counter = 0
local threads = {}

setup = function(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

init = function(args)
  local all = {}
  for line in io.lines(os.getenv("BENCH_TOKENS")) do table.insert(all, line) end
  local count = tonumber(os.getenv("BENCH_THREADS") or "2")
  pool = {}
  for i, token in ipairs(all) do
    if (i - 1) % count == id then table.insert(pool, token) end
  end
  failures = 0
end

request = function()
  local token = table.remove(pool)
  if token == nil then token = "exhausted" end
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC"),
  }, "grant_type=refresh_token&refresh_token=" .. token)
end

response = function(status, headers, body)
  local token = body:match('"refresh_token":"([^"]+)"')
  if token then table.insert(pool, token) else failures = failures + 1 end
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d non2xx=%d rps=%.0f p50_ms=%.3f p99_ms=%.3f\n",
    summary.requests, summary.errors.status, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
