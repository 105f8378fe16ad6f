-- Password logins through the flow API (issue 4): each connection starts a flow, then signs in
-- with the password; the flow ends in an authorization code (a first-party client: no
-- consent). Run with as many threads as connections (-t N -c N): each thread keeps one flow.
local client_id = os.getenv("CLIENT_ID")
local start_body = '{"response_type":"code","client_id":"' .. client_id ..
  '","redirect_uri":"https://app.example.com/cb","scope":"openid",' ..
  '"code_challenge":"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM","code_challenge_method":"S256"}'
local login_body = '{"method":"password","identifier":"alice","password":"correct horse battery staple"}'
local threads = {}
local flow, token = nil, nil
logins, refused, other = 0, 0, 0

function setup(thread)
  table.insert(threads, thread)
end

function request()
  if flow == nil then
    return wrk.format("POST", "/t/bench/flows/login", { ["Content-Type"] = "application/json" }, start_body)
  end
  return wrk.format("POST", "/t/bench/flows/" .. flow,
    { ["Content-Type"] = "application/json", ["Portcullis-Flow-Token"] = token }, login_body)
end

function response(status, headers, body)
  if flow == nil then
    if status == 201 then
      flow = body:match('"id":"([^"]+)"')
      token = body:match('"flow_token":"([^"]+)"')
    else
      other = other + 1
    end
    return
  end
  if status == 200 and body:find('"step":"complete"', 1, true) then
    logins = logins + 1
    flow = nil
  elseif status == 429 or status == 503 then
    refused = refused + 1
  else
    other = other + 1
    flow = nil
  end
end

function done(summary, latency, requests)
  local l, r, o = 0, 0, 0
  for _, thread in ipairs(threads) do
    l = l + thread:get("logins")
    r = r + thread:get("refused")
    o = o + thread:get("other")
  end
  local seconds = summary.duration / 1e6
  io.write(string.format("RESULT logins=%d per_second=%.1f refused_429_503=%d other=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n",
    l, l / seconds, r, o, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
