-- wrk script: AuthZEN access evaluations (one per request, or BENCH_BATCH per request through
-- /evaluations) of `doc:d…#viewer` for random users over the benchmark graph of
-- crates/portcullis-authz/benches/check.rs.
local batch = tonumber(os.getenv("BENCH_BATCH") or "1")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or "")

local function one()
  return string.format('{"resource":{"type":"doc","id":"d%d"},"subject":{"type":"user","id":"u%d"}}',
    math.random(0, 399999), math.random(0, 49999))
end

request = function()
  if batch == 1 then
    local body = string.format('{"subject":{"type":"user","id":"u%d"},"action":{"name":"viewer"},"resource":{"type":"doc","id":"d%d"}}',
      math.random(0, 49999), math.random(0, 399999))
    return wrk.format(nil, nil, nil, body)
  end
  local items = {}
  for i = 1, batch do items[i] = one() end
  local body = '{"action":{"name":"viewer"},"evaluations":[' .. table.concat(items, ",") .. ']}'
  return wrk.format(nil, nil, nil, body)
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d non2xx=%d rps=%.0f evaluations_per_s=%.0f p50_ms=%.3f p99_ms=%.3f\n",
    summary.requests, summary.errors.status, summary.requests / (summary.duration / 1e6),
    batch * summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
