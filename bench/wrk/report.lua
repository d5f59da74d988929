-- What every bench script ends with: wrk's summary as one JSON line on stdout ("WRK_JSON {...}"), which
-- bench/wrk.js reads instead of wrk's human-readable text. Latencies are in microseconds in wrk and in
-- milliseconds here. Counters that a script keeps per thread (e.g. redeemed pairs) are summed over threads.
local report = {}
local threads = {}

function report.setup(thread)
  table.insert(threads, thread)
end

function report.done(summary, latency, counters)
  local errors = summary.errors
  local fields = {
    string.format('"requests":%d', summary.requests),
    string.format('"seconds":%.3f', summary.duration / 1e6),
    string.format('"p50Ms":%.3f', latency:percentile(50) / 1000),
    string.format('"p99Ms":%.3f', latency:percentile(99) / 1000),
    string.format('"maxMs":%.3f', latency.max / 1000),
    -- wrk counts a status of 400 and above here ("Non-2xx or 3xx responses").
    string.format('"non2xx":%d', errors.status),
    string.format('"socketErrors":%d', errors.connect + errors.read + errors.write + errors.timeout),
  }
  for _, name in ipairs(counters or {}) do
    local total = 0
    for _, thread in ipairs(threads) do
      total = total + (thread:get(name) or 0)
    end
    table.insert(fields, string.format('"%s":%d', name, total))
  end
  io.write("WRK_JSON {" .. table.concat(fields, ",") .. "}\n")
end

return report
