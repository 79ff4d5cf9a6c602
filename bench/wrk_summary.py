"""Reads wrk's --latency output on stdin; prints requests/s, latency
percentiles in milliseconds and the error counts as one JSON object."""
import json
import re
import sys

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def millis(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


def summarise(output):
    summary = {"non_2xx": 0, "socket_errors": 0}
    for line in output.splitlines():
        words = line.split()
        if re.fullmatch(r"(50|75|90|99)%", words[0] if words else ""):
            summary["p" + words[0].rstrip("%")] = millis(words[1])
        elif line.strip().startswith("Latency") and len(words) >= 4:
            summary["max"] = millis(words[3])
        elif line.startswith("Requests/sec:"):
            summary["rps"] = float(words[1])
        elif line.strip().startswith("Non-2xx or 3xx responses:"):
            summary["non_2xx"] = int(words[-1])
        elif line.strip().startswith("Socket errors:"):
            summary["socket_errors"] = sum(int(n) for n in re.findall(r"\d+", line))
    return summary


if __name__ == "__main__":
    print(json.dumps(summarise(sys.stdin.read())))
