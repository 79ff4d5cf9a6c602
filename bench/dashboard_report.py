"""Writes bench/dashboard.sh's results (one site's dashboard among 100, at 10
thousand and 10 million visits) into docs/performance.md, between
<!-- dashboard:start --> and <!-- dashboard:end -->, with the ratios
10 million / 10 thousand.
    python3 bench/dashboard_report.py RESULTS.jsonl docs/performance.md"""
import os
import sys

sys.dont_write_bytecode = True  # no bench/__pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import report  # noqa: E402


def dashboard_table(rows):
    lines = [
        "| visits stored (100 sites) | stats cache | request | requests/s | p50 ms | p99 ms | non-2xx |",
        "|---:|---|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        r = row["result"]
        cache = f"{row['cache_ms']} ms" if row["cache_ms"] else "off"
        lines.append(
            f"| {row['events']:,} | {cache} | `GET {row['target']}` | {r['rps']:.0f} | "
            f"{r['p50']:.2f} | {r['p99']:.2f} | {r['non_2xx'] + r['socket_errors']} |")
    by_key = {(row["events"], row["cache_ms"], row["target"]): row["result"] for row in rows}
    sizes = sorted({row["events"] for row in rows})
    lines.append("")
    if len(sizes) >= 2:
        small_n, large_n = sizes[0], sizes[-1]
        for (cache_ms, target) in sorted({(row["cache_ms"], row["target"]) for row in rows}, reverse=True):
            small = by_key.get((small_n, cache_ms, target))
            large = by_key.get((large_n, cache_ms, target))
            if not (small and large):
                continue
            ratio = large["p50"] / small["p50"]
            throughput = large["rps"] / small["rps"]
            cache = f"cache {cache_ms} ms" if cache_ms else "cache off"
            verdict = "met" if ratio <= 2 else "**NOT met**"
            lines.append(
                f"- `GET {target}`, {cache}: p50 at {large_n:,} / p50 at {small_n:,} = "
                f"**{ratio:.2f}×** ({large['p50']:.2f} / {small['p50']:.2f} ms; target ≤ 2×: {verdict}), "
                f"requests/s {throughput:.2f}× ({large['rps']:.0f} / {small['rps']:.0f})")
    else:
        lines.append(f"- Only {sizes[0]:,} visits measured: no ratio.")
    loads = sorted({(row["events"], row["load_seconds"]) for row in rows})
    lines.append("- Loading (generate + rebuild rollups + vacuum): " +
                 ", ".join(f"{events:,} visits in {seconds} s" for events, seconds in loads))
    return "\n".join(lines)


def main():
    report("dashboard", dashboard_table, *sys.argv[1:3])


if __name__ == "__main__":
    main()
