"""Asks for URL again and again, one request at a time, for SECONDS and at
least MIN_REQUESTS times: for answers too slow for wrk's runs to hold many
(a dashboard counted from millions of raw visits). Prints requests/s,
latency percentiles (nearest rank) in milliseconds, the count, the non-2xx
answers, the failed connections and the answers that left the period
before out (`previous_left_out`) as one JSON object, as
bench/wrk_summary.py does.
    python3 bench/sample.py URL SECONDS MIN_REQUESTS"""
import json
import math
import sys
import time
import urllib.error
import urllib.request


def percentile(sorted_values, share):
    return sorted_values[max(0, math.ceil(share * len(sorted_values)) - 1)]


def main():
    url, seconds, least = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    latencies, failed, lost, incomplete = [], 0, 0, 0
    started = time.monotonic()
    while time.monotonic() - started < seconds or len(latencies) < least:
        sent = time.monotonic()
        try:
            with urllib.request.urlopen(url, timeout=120) as answer:
                incomplete += json.loads(answer.read()).get("previous_left_out", False)
        except urllib.error.HTTPError as error:
            error.read()
            failed += 1
        except OSError:
            lost += 1
        latencies.append((time.monotonic() - sent) * 1000)
    latencies.sort()
    print(json.dumps({
        "rps": len(latencies) / (time.monotonic() - started),
        "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99), "max": latencies[-1],
        "requests": len(latencies), "non_2xx": failed, "socket_errors": lost, "incomplete": incomplete,
    }))


if __name__ == "__main__":
    main()
