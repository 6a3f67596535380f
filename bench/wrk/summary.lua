-- Prints wrk's summary as one machine-readable line ("JSON {...}") after the human report.
-- Latencies are in microseconds; errors.status counts non-2xx/3xx responses.
function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
      '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "max": %d}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
