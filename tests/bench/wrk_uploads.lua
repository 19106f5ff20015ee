-- wrk script for laogan's upload benchmark (tests/bench/upload_load.py).
--
-- Run with -t N -c N: one thread = one connection = one tablet, so each tablet's envelopes go out
-- strictly in sequence order, the next only after the previous receipt (as a real tablet does).
-- Thread k reads DIR/k.len (one body length per line) and DIR/k.bin (the bodies, concatenated),
-- pre-formats every request in init(), and serves them in order from request(). A body is
-- repeated until its response arrives (as a tablet resends the same bytes): wrk calls request()
-- once on thread 0 before connecting, to check for pipelining, and a reconnect asks again too; the
-- server answers a repeated (device, seq, bytes) with the original receipt.
--
-- Arguments after "--": DIR MODE
--   MODE "once"   stop a thread when its bodies run out (the real benchmark: every (device, seq) once)
--   MODE "cycle"  start again from the first body (only for measuring the generator against a
--                 trivial server that ignores bodies)
--   DIR "-"       no bodies: GET the URL's path (the /v1/health baseline)
-- done() prints one JSON line prefixed "WRKJSON ".

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  dir = args[1] or "-"
  mode = args[2] or "once"
  reqs = {}
  acked = 0
  bad = 0
  exhausted = 0
  if dir == "-" then
    reqs[1] = wrk.format("GET")
    mode = "cycle"
    return
  end
  local lf = assert(io.open(dir .. "/" .. id .. ".len", "r"))
  local lens = {}
  for line in lf:lines() do lens[#lens + 1] = tonumber(line) end
  lf:close()
  local bf = assert(io.open(dir .. "/" .. id .. ".bin", "rb"))
  local headers = { ["Content-Type"] = "application/vnd.laogan.envelope" }
  for i, n in ipairs(lens) do
    reqs[i] = wrk.format("POST", nil, headers, bf:read(n))
  end
  bf:close()
end

function request()
  if acked >= #reqs then
    if mode == "cycle" then
      acked = 0
    else
      exhausted = 1
      wrk.thread:stop()
      return reqs[#reqs]
    end
  end
  return reqs[acked + 1]
end

function response(status, headers, body)
  acked = acked + 1
  if status ~= 200 then
    bad = bad + 1
    if bad <= 3 then io.stderr:write("wrk: status " .. status .. " " .. string.sub(body or "", 1, 200) .. "\n") end
  end
end

function done(summary, latency, requests)
  local bad_total, exhausted_total = 0, 0
  for _, t in ipairs(threads) do
    bad_total = bad_total + (t:get("bad") or 0)
    exhausted_total = exhausted_total + (t:get("exhausted") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"non200":%d,"exhausted_threads":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d,' ..
    '"lat_mean_us":%.1f,"lat_p50_us":%d,"lat_p90_us":%d,"lat_p99_us":%d,"lat_p999_us":%d,"lat_max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, bad_total, exhausted_total,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
