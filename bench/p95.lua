-- wrk reports p50/p75/p90/p99; performance.md's goals speak of p95.
done = function(summary, latency, requests)
  io.write(string.format("BENCH p50=%.2f p95=%.2f p99=%.2f\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
