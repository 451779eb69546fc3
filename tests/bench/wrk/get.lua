-- Anonymous GETs, each connection a new visitor (no cookies), browsers of several languages
-- (the page's own language is in its address). Prints one JSON line when done.
local accept_languages = {"es-ES,es;q=0.9", "en-GB,en;q=0.8", "ru-RU,ru;q=0.9"}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  local language = accept_languages[(id % #accept_languages) + 1]
  wrk.headers["Accept-Language"] = language
end

function done(summary, latency, requests)
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "max": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max))
end
