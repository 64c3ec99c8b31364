-- wrk reports p50/p75/p90/p99; performance.md's goals speak of p95.
-- BENCH_BODY set: the requests are form POSTs with that body (the feedback answer).
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

done = function(summary, latency, requests)
  io.write(string.format("BENCH p50=%.2f p95=%.2f p99=%.2f\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
