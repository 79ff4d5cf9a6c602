"""Writes bench/explore.sh's results (one big site's dashboard, uncached,
unfiltered and filtered, at each size) into docs/performance.md, between
<!-- explore:start --> and <!-- explore:end -->, with issue 28's targets.
    python3 bench/explore_report.py RESULTS.jsonl docs/performance.md"""
import os
import sys

sys.dont_write_bytecode = True  # no bench/__pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import report, target  # noqa: E402

FILTERED = ("page", "page and country")
# Targets: p50 and p99 ceilings in ms, and the growth of p50 from the first
# size to the last.
CEILINGS = {"unfiltered": (50, None, 1.5), "30 days against the 30 before": (50, None, 1.5)}
CEILINGS.update({kind: (1000, 2000, 3.0) for kind in FILTERED})


def failures(result):
    """Answers that were not 2xx, failed connections, and dashboards without
    the period before (it could not be counted in time)."""
    return result["non_2xx"] + result["socket_errors"] + result.get("incomplete", 0)


def complete(result):
    return failures(result) == 0


def explore_table(rows):
    floors = {row["views"]: row["milliseconds"] for row in rows if row["kind"] == "floor"}
    rows = [row for row in rows if row["kind"] != "floor"]
    lines = [
        "| site-1 page views | view | requests | p50 ms | p99 ms | max ms | not answered in full |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        r = row["result"]
        lines.append(
            f"| {row['site_views']:,} | {row['kind']} | {r['requests']} | {r['p50']:.1f} | "
            f"{r['p99']:.1f} | {r['max']:.1f} | {failures(r)} |")
    sizes = sorted({row["views"] for row in rows})
    by_key = {(row["views"], row["kind"]): row["result"] for row in rows}
    lines.append("")
    first, last = sizes[0], sizes[-1]
    for kind, (p50_ceiling, p99_ceiling, growth_ceiling) in CEILINGS.items():
        large = by_key.get((last, kind))
        if not large:
            continue
        answered = complete(large)
        verdicts = [f"p50 {large['p50']:.1f} ms (≤ {p50_ceiling}: "
                    f"{target(answered and large['p50'] <= p50_ceiling)})"]
        if p99_ceiling:
            verdicts.append(f"p99 {large['p99']:.1f} ms (≤ {p99_ceiling}: "
                            f"{target(answered and large['p99'] <= p99_ceiling)})")
        small = by_key.get((first, kind))
        if small and first != last:
            growth = large["p50"] / small["p50"]
            verdicts.append(f"p50 at {last:,} / at {first:,} = **{growth:.2f}×** (≤ {growth_ceiling}×: "
                            f"{target(answered and complete(small) and growth <= growth_ceiling)})")
        for size, result in {first: small, last: large}.items():
            if result and not complete(result):
                verdicts.append(f"at {size:,}, {failures(result)} of {result['requests']} requests "
                                "not answered in full")
        lines.append(f"- {kind}, at {last:,}: " + "; ".join(verdicts))
    lines.append("- The floor under reading raw visits, PostgreSQL alone counting the page filter's unique "
                 "visitors over the three months once: " + ", ".join(
                     f"{floors[views] / 1000:.2f} s at {views:,}" for views in sorted(floors)))
    loads = sorted({(row["views"], row["load_seconds"], row["database_bytes"]) for row in rows})
    lines.append("- Loading (generate in SQL + rebuild the counters + vacuum): " + ", ".join(
        f"{views:,} page views in {seconds} s ({size / 2**30:.1f} GiB)" for views, seconds, size in loads))
    return "\n".join(lines)


def main():
    report("explore", explore_table, *sys.argv[1:3])


if __name__ == "__main__":
    main()
