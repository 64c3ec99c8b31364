-- wrk reports p50/p75/p90/p99; performance.md's goals speak of p95.
-- BENCH_BODY set: the requests are form POSTs with that body (the feedback answer).
-- BENCH_SPREAD_ADDRESSES set: each request comes "from" another client address through the
-- trusted proxy (X-Forwarded-For; the app runs with TRUSTED_PROXIES=1), so the rate limits
-- are on and paid for, as in production, without one address's limit refusing the load.
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

if os.getenv("BENCH_SPREAD_ADDRESSES") == "1" then
  local counter = 0
  request = function()
    counter = counter + 1
    wrk.headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.random(0, 255), math.floor(counter / 250) % 250,
      counter % 250 + 1)
    return wrk.format()
  end
end

done = function(summary, latency, requests)
  io.write(string.format("BENCH p50=%.2f p95=%.2f p99=%.2f\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
