-- Form POSTs as browsers send them from the site's own pages: Origin and Sec-Fetch-Site
-- headers (the forms carry no token; see statements/crossorigin.py), a urlencoded body.
--
--   wrk ... -s post.lua -- MODE ORIGIN SECONDS PREFIX [PATHS_FILE THREADS]
--
-- MODE "sign": every request signs with a new email address PREFIX<thread>-<n>@bench.invalid,
-- from the sign URL given to wrk in each of the site's languages in turn (/es/, /en/, /ru/).
-- MODE "confirm": every request confirms one path from PATHS_FILE; thread i of THREADS takes
-- lines i, i + THREADS, ... and starts again from its first line when it runs out.
-- After SECONDS no request is sent any more, so the ones in flight finish before wrk stops
-- (run wrk a few seconds longer): every request sent is then answered and counted, and the
-- rows in the database can be compared with the responses one for one.
-- Prints one JSON line when done, with the count of each status.
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

local function read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    if line ~= "" then table.insert(lines, line) end
  end
  return lines
end

local mode, origin, prefix, paths, sign_paths, stop_at
local n = 0
statuses = {}  -- global: done() reads it from each thread
local language_names = {"es", "en", "ru"}

function init(args)
  mode, origin, prefix = args[1], args[2], args[4]
  stop_at = os.time() + tonumber(args[3])
  if mode == "confirm" then
    local all, total = read_lines(args[5]), tonumber(args[6])
    paths = {}
    for i = id, #all, total do table.insert(paths, all[i]) end
    if #paths == 0 then paths = all end
  else
    sign_paths = {}
    for _, language in ipairs(language_names) do
      table.insert(sign_paths, (wrk.path:gsub("^/%a%a/", "/" .. language .. "/")))
    end
  end
end

function delay()
  if os.time() >= stop_at then return 3600000 end  -- longer than any run: never sent
  return 0
end

function request()
  n = n + 1
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Origin"] = origin,
    ["Sec-Fetch-Site"] = "same-origin",
  }
  local body, path
  if mode == "sign" then
    local who = prefix .. id .. "-" .. n
    path = sign_paths[((n + id) % #sign_paths) + 1]
    body = "kind=individual&individual-full_name=Bench+Signer+" .. who ..
      "&individual-email=" .. who .. "%40bench.invalid" ..
      "&individual-country=KZ&individual-city=Almaty&individual-consent=on"
  else
    path = paths[((n - 1) % #paths) + 1]
    body = ""
  end
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, count in pairs(counts) do
      totals[status] = (totals[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(totals) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "max": %d}, ' ..
    '"statuses": {%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, table.concat(parts, ", ")))
end
