"""Summarises a pgbench run like bench/wrk_summary.py summarises wrk: reads
pgbench's output on stdin and its per-transaction logs (-l) named on the
command line; prints transactions/s, latency percentiles in milliseconds and
the failed transactions as one JSON object.
    pgbench ... -l --log-prefix=DIR/log | python3 bench/pgbench_summary.py DIR/log.*"""
import json
import re
import sys


def percentile(sorted_values, fraction):
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def summarise(output, log_paths):
    latencies = []
    for path in log_paths:
        with open(path) as log:
            # client_id transaction_no latency_us script_no epoch epoch_us
            latencies.extend(int(line.split()[2]) / 1000 for line in log if line.strip())
    latencies.sort()
    failed = re.search(r"number of failed transactions: (\d+)", output)
    return {
        "rps": float(re.search(r"tps = ([\d.]+)", output).group(1)),
        "p50": percentile(latencies, 0.50),
        "p99": percentile(latencies, 0.99),
        "max": latencies[-1],
        "non_2xx": int(failed.group(1)) if failed else 0,
        "socket_errors": 0,
    }


if __name__ == "__main__":
    print(json.dumps(summarise(sys.stdin.read(), sys.argv[1:])))
