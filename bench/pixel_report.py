"""Writes bench/pixel.sh's results into docs/performance.md, between
<!-- pixel:start --> and <!-- pixel:end -->, with the machine and the date:
the pixel, the script's hit and GET / as new visitors at saturation, the
proxy ceiling, the ratios, and p50/p99 at a fixed offered rate of half of
each maximum.
    python3 bench/pixel_report.py RESULTS.jsonl docs/performance.md
With --sitting, a sitting of several binaries (bench/sitting.sh with
BENCH=pixel, each run twice) between <!-- pixel-sitting:start --> and
<!-- pixel-sitting:end -->: each scenario's figures per binary and run, and
what the last binary costs the pixel against the one labelled "before".
    python3 bench/pixel_report.py --sitting docs/performance.md LABEL=RESULTS.jsonl..."""
import json
import statistics
import os
import sys

sys.dont_write_bytecode = True  # no bench/__pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import machine, report, write_section  # noqa: E402

ROUTES = {
    "pixel": "`GET /pixel/site-1.example.gif?p=/x` new visitors",
    "script hit": "`POST /hit/site-1.example?p=/x&r=…&w=laptop&utm_…` new visitors (the script)",
    "GET /": "`GET /` new visitors",
    "proxy ceiling": "proxy ceiling (the pixel's requests, nginx behind nginx `return 200`)",
}


def errors(result):
    return result["non_2xx"] + result["socket_errors"]


def pixel_table(rows):
    settings = next(row for row in rows if row["kind"] == "settings")
    saturated = {row["scenario"]: row["result"] for row in rows if row["kind"] == "saturated"}
    fixed = {row["scenario"]: row["result"] for row in rows if row["kind"] == "fixed_rate"}
    counted = next((row for row in rows if row["kind"] == "counted"), None)
    lines = [
        f"{settings['connections']} connections, {settings['seconds']} s per run after a warm-up, "
        f"through nginx in front of three replicas; PostgreSQL `{settings['postgres']}`; nginx rate "
        f"limit raised to `NGINX_RATE_LIMIT={settings['rate_limit']}`, "
        f"`NGINX_RATE_BURST={settings['rate_burst']}`.",
        "",
        "| scenario | load | offered /s | requests/s | p50 ms | p99 ms | max ms | errors | sender late p99 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario, r in saturated.items():
        lines.append(
            f"| {ROUTES.get(scenario, scenario)} | wrk, saturated | – | {r['rps']:.0f} | {r['p50']:.2f} | "
            f"{r['p99']:.2f} | {r['max']:.2f} | {errors(r)} | – |")
    for scenario, r in fixed.items():
        lines.append(
            f"| {ROUTES.get(scenario, scenario)} | fixed rate (open loop) | {r['offered_rps']} | "
            f"{r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['max']:.2f} | {errors(r)} | "
            f"{r['late_ms_p99']:.1f} |")
    page, proxy = (saturated[name]["rps"] for name in ("GET /", "proxy ceiling"))
    lines.append("")
    if "pixel" not in saturated:
        # A build without sites (0.1.0) has no pixel and no script.
        lines.append(f"- Share of the proxy ceiling ({proxy:.0f}/s): `GET /` **{page / proxy:.0%}**")
        return "\n".join(lines)
    pixel = saturated["pixel"]["rps"]
    ratio = pixel / page
    lines += [
        f"- Pixel / `GET /`, new visitors at saturation: **{ratio:.2f}×** ({pixel:.0f} / {page:.0f}; "
        f"expected > 1, no page to render: {'met' if ratio > 1 else '**NOT met**'})",
        f"- Share of the proxy ceiling ({proxy:.0f}/s): pixel **{pixel / proxy:.0%}**, "
        f"`GET /` **{page / proxy:.0%}**",
    ]
    if "script hit" in saturated:
        script = saturated["script hit"]["rps"]
        lines.append(f"- The script's hit / the pixel, new visitors at saturation: **{script / pixel:.2f}×** "
                     f"({script:.0f} / {pixel:.0f}; source, screen and campaign stored beside the page)")
    for scenario in ("pixel", "script hit", "GET /"):
        r = fixed.get(scenario)
        if r:
            held = r["rps"] / r["offered_rps"]
            lines.append(
                f"- {ROUTES[scenario]} at {r['offered_rps']}/s offered (half its maximum): "
                f"p50 **{r['p50']:.2f} ms**, p99 **{r['p99']:.2f} ms**, {held:.0%} of the rate achieved, "
                f"{errors(r)} errors, the sender's own lateness p99 {r['late_ms_p99']:.1f} ms"
                + ("" if held >= 0.95 else
                   " (**rate not held**: the sender, one Node process on the same cores, or the "
                   "stack fell behind; the latencies then measure that backlog)"))
    if counted is not None:
        lines.append(f"- Visitors of site-1.example counted by the run: {counted['site_visitors']:,} "
                     "(every pixel request a new visitor; ten counted hits checked before the load); "
                     f"raw visits with a country: {counted.get('with_country', 0):,}")
    return "\n".join(lines)


def by_scenario(path):
    """({scenario: saturated result}, {scenario: fixed-rate result}) of a run."""
    with open(path) as results:
        rows = [json.loads(line) for line in results if line.strip()]
    return ({row["scenario"]: row["result"] for row in rows if row["kind"] == "saturated"},
            {row["scenario"]: row["result"] for row in rows if row["kind"] == "fixed_rate"})


def sitting_table(runs):
    labels = list(dict.fromkeys(label for label, _ in runs))
    by_label = {label: [by_scenario(path) for name, path in runs if name == label] for label in labels}

    def cells(label, kind, scenario, field, digits):
        values = [run[kind][scenario][field] for run in by_label[label] if scenario in run[kind]]
        return " · ".join(f"{value:.{digits}f}" for value in values) or "–"

    lines = [f"Measured {machine()}, `BENCH=pixel bench/sitting.sh`: each binary twice, in the order "
             "given and then the reverse, through nginx in front of three replicas, new visitors.",
             "",
             "| scenario | figure | " + " | ".join(labels) + " |",
             "|---|---|" + "---:|" * len(labels)]
    for scenario in ("pixel", "script hit", "GET /", "proxy ceiling"):
        lines.append(f"| {ROUTES[scenario]} | saturated req/s | "
                     + " | ".join(cells(label, 0, scenario, "rps", 0) for label in labels) + " |")
    for scenario in ("pixel", "script hit", "GET /"):
        for field in ("p50", "p99"):
            lines.append(f"| {ROUTES[scenario]} | {field} ms at half the maximum | "
                         + " | ".join(cells(label, 1, scenario, field, 2) for label in labels) + " |")
    after = labels[-1]

    def mean(label, scenario):
        values = [run[0][scenario]["rps"] for run in by_label[label] if scenario in run[0]]
        return statistics.mean(values) if values else None

    lines.append("")
    for label in labels[:-1]:
        # Against "before" the budget; against a release, whether a
        # regression shows.
        for scenario in ("pixel", "GET /"):
            theirs, ours = mean(label, scenario), mean(after, scenario)
            if theirs is None or ours is None:
                continue
            ratio = ours / theirs
            verdict = (f"at most 10 % slower: {'met' if ratio >= 0.9 else '**NOT met**'}" if label == "before"
                       else f"{'no regression' if ratio >= 0.9 else '**slower than this release**'}")
            lines.append(f"- {ROUTES[scenario]}, {after} / {label} at saturation, means of the runs: "
                         f"**{ratio:.2f}×** ({verdict})")
    return "\n".join(lines)


def main():
    if sys.argv[1] == "--sitting":
        runs = [tuple(pair.split("=", 1)) for pair in sys.argv[3:]]
        write_section(sys.argv[2], "pixel-sitting", sitting_table(runs))
    else:
        report("pixel", pixel_table, *sys.argv[1:3])


if __name__ == "__main__":
    main()
