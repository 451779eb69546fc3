-- Form POSTs as browsers send them: the csrftoken cookie and the form's token from a page the
-- visitor loaded (pairs read from a file), an Origin header, a urlencoded body.
--
--   wrk ... -s post.lua -- MODE PAIRS_FILE ORIGIN SECONDS PREFIX [PATHS_FILE THREADS]
--
-- MODE "sign": every request signs with a new email address PREFIX<thread>-<n>@bench.invalid.
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

local mode, pairs_list, origin, prefix, paths, languages, stop_at
local n = 0
statuses = {}  -- global: done() reads it from each thread
local language_names = {"es", "en", "ru"}

function init(args)
  mode, origin, prefix = args[1], args[3], args[5]
  stop_at = os.time() + tonumber(args[4])
  pairs_list = {}
  for _, line in ipairs(read_lines(args[2])) do
    local secret, token = line:match("^(%S+)%s+(%S+)$")
    table.insert(pairs_list, {secret = secret, token = token})
  end
  if mode == "confirm" then
    local all, total = read_lines(args[6]), tonumber(args[7])
    paths = {}
    for i = id, #all, total do table.insert(paths, all[i]) end
    if #paths == 0 then paths = all end
  end
  languages = language_names
end

function delay()
  if os.time() >= stop_at then return 3600000 end  -- longer than any run: never sent
  return 0
end

function request()
  n = n + 1
  local pair = pairs_list[((n + id) % #pairs_list) + 1]
  local headers = {
    ["Cookie"] = "csrftoken=" .. pair.secret,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Origin"] = origin,
    ["Accept-Language"] = languages[((n + id) % #languages) + 1],
  }
  local body, path
  if mode == "sign" then
    local who = prefix .. id .. "-" .. n
    path = wrk.path
    body = "csrfmiddlewaretoken=" .. pair.token ..
      "&kind=individual&individual-full_name=Bench+Signer+" .. who ..
      "&individual-email=" .. who .. "%40bench.invalid" ..
      "&individual-country=KZ&individual-city=Almaty&individual-consent=on"
  else
    path = paths[((n - 1) % #paths) + 1]
    body = "csrfmiddlewaretoken=" .. pair.token
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
