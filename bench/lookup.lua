-- wrk script: look up random users of the imported tenant by username or e-mail.
local token = os.getenv("PORTCULLIS_TOKEN")
local users = tonumber(os.getenv("BENCH_USERS") or "1000000")
local by = os.getenv("BENCH_BY") or "username"
math.randomseed(os.time())

request = function()
  local i = math.random(0, users - 1)
  local path
  if by == "email" then
    path = string.format("/admin/v1/tenants/bench/users?email=user%07d@example.com", i)
  else
    path = string.format("/admin/v1/tenants/bench/users?username=user%07d", i)
  end
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors=%d rps=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000))
end
