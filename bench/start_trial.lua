-- wrk script for bench.start_trial: every request starts a trial for a new customer (a unique
-- company name, admin email domain per thread and counter), and every answer is checked: an error
-- is a non-200 status, a GraphQL error or a userError (a success carries `"userErrors":[]`).
-- Arguments after `--`: run id, bearer token. `done()` prints one `result` line for the caller.
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  run, token, n, errors, first_error = args[1], args[2], 0, 0, ""
  headers = {["Content-Type"] = "application/json", ["Accept"] = "application/json",
             ["Authorization"] = "Bearer " .. token}
  query = 'mutation($input: StartTrialInput!) { startTrial(input: $input) { '
       .. 'trial { id state customer { id } } userErrors { code field message } } }'
end

function request()
  n = n + 1
  local key = run .. "-" .. tid .. "-" .. n
  local body = '{"query":"' .. query .. '","variables":{"input":{"companyName":"Bench ' .. key .. '",'
    .. '"adminEmail":"admin@bench-' .. key .. '.example","businessVertical":"Retail","country":"NO",'
    .. '"supportedLocationConfirmed":true,"services":["MESSAGING","MEETINGS"],"licenseCount":50,"durationDays":90}}}'
  return wrk.format("POST", "/graphql", headers, body)
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, '"userErrors":[]', 1, true) or string.find(body, '"errors":', 1, true) then
    errors = errors + 1
    if first_error == "" then first_error = status .. ": " .. string.sub(body, 1, 200) end
  end
end

function done(summary, latency, requests)
  local errors, first = 0, ""
  for _, thread in ipairs(threads) do
    errors = errors + thread:get("errors")
    if first == "" then first = thread:get("first_error") end
  end
  local socket = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("result requests=%d seconds=%.3f p50=%.1f p95=%.1f p99=%.1f errors=%d socket_errors=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, errors, socket))
  if first ~= "" then io.write("first_error " .. first .. "\n") end
end
