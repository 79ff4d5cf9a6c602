"""Writes bench/pixel.sh's results into docs/performance.md, between
<!-- pixel:start --> and <!-- pixel:end -->, with the machine and the date:
the pixel and GET / as new visitors at saturation, the proxy ceiling, the
ratios, and p50/p99 at a fixed offered rate of half of each maximum.
    python3 bench/pixel_report.py RESULTS.jsonl docs/performance.md"""
import os
import sys

sys.dont_write_bytecode = True  # no bench/__pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import report  # noqa: E402

ROUTES = {
    "pixel": "`GET /pixel/site-1.example.gif?p=/x` new visitors",
    "GET /": "`GET /` new visitors",
    "proxy ceiling": "proxy ceiling (the pixel's requests, nginx behind nginx `return 200`)",
}


def errors(result):
    return result["non_2xx"] + result["socket_errors"]


def pixel_table(rows):
    settings = next(row for row in rows if row["kind"] == "settings")
    saturated = {row["scenario"]: row["result"] for row in rows if row["kind"] == "saturated"}
    fixed = {row["scenario"]: row["result"] for row in rows if row["kind"] == "fixed_rate"}
    counted = next((row["site_visitors"] for row in rows if row["kind"] == "counted"), None)
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
    pixel, page, proxy = (saturated[name]["rps"] for name in ("pixel", "GET /", "proxy ceiling"))
    ratio = pixel / page
    lines += [
        "",
        f"- Pixel / `GET /`, new visitors at saturation: **{ratio:.2f}×** ({pixel:.0f} / {page:.0f}; "
        f"expected > 1, no page to render: {'met' if ratio > 1 else '**NOT met**'})",
        f"- Share of the proxy ceiling ({proxy:.0f}/s): pixel **{pixel / proxy:.0%}**, "
        f"`GET /` **{page / proxy:.0%}**",
    ]
    for scenario in ("pixel", "GET /"):
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
        lines.append(f"- Visitors of site-1.example counted by the run: {counted:,} "
                     "(every pixel request a new visitor; ten counted hits checked before the load)")
    return "\n".join(lines)


def main():
    report("pixel", pixel_table, *sys.argv[1:3])


if __name__ == "__main__":
    main()
