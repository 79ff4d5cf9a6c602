"""Writes a sitting of bench/stack.sh (bench/sitting.sh: several binaries,
each run twice, in one order and then the reverse) into docs/performance.md,
between <!-- sitting:start --> and <!-- sitting:end -->: per scenario the
requests/s, p99 and commits per visit of every binary in both of its runs,
the CPU split of the new-visitor runs, what a new visitor cost each binary,
and the write path's targets. Runs direct to a replica only
(STACK_ROUTES=direct) leave the nginx rows and targets out.
    python3 bench/sitting_report.py docs/performance.md LABEL=RESULTS.jsonl..."""
import json
import os
import statistics
import sys

sys.dont_write_bytecode = True  # no bench/__pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import CPU_GROUPS, commits_per_visit, machine, target, visit_costs, write_section  # noqa: E402

WRITES = ("GET / new visitors", "GET / returning visitors", "GET / one visitor")
SHARED = ("GET / new visitors, one User-Agent", "direct")
PIXEL = [("pixel new visitors, one User-Agent", "direct"), ("pixel new visitors, one User-Agent, spike", "direct"),
         ("pixel one visitor", "direct")]
SCENARIOS = [(s, "direct") for s in WRITES] + [SHARED] + PIXEL + [(s, "nginx") for s in WRITES] + [
    ("GET /version", "direct"),
    ("GET /version", "nginx"),
    ("GET /version", "proxy ceiling"),
    ("app statement, 30 per transaction", "pgbench"),
]


def loads(path):
    """{(scenario, route): record} of one run; each record carries the
    run's seconds per scenario."""
    with open(path) as results:
        rows = [json.loads(line) for line in results if line.strip()]
    seconds = next(row for row in rows if row["kind"] == "settings")["seconds"]
    found = {}
    for row in rows:
        if row["kind"] == "load":
            row["result"]["rps"] *= row.get("visits", 1)
            found[(row["scenario"], row["route"])] = dict(row, seconds=seconds)
    return found


def cells(runs, value):
    return " · ".join(value(run) for run in runs)


def spread(values):
    """How far a binary's runs differ: (max - min) / mean."""
    return (max(values) - min(values)) / statistics.mean(values)


def sitting_table(runs):
    labels = list(dict.fromkeys(label for label, _ in runs))
    by_label = {label: [run for name, run in runs if name == label] for label in labels}
    routes = [route for route in ("direct", "nginx")
              if all(("GET / new visitors", route) in run for _, run in runs)]
    header = (["scenario", "via"] + [f"{label} req/s" for label in labels]
              + [f"{label} p99 ms" for label in labels] + [f"{label} commits per visit" for label in labels])
    lines = ["| " + " | ".join(header) + " |", "|---|---|" + "---:|" * (3 * len(labels))]
    for key in [key for key in SCENARIOS if any(key in run for _, run in runs)]:
        row = [key[0], key[1]]
        row += [cells(by_label[label], lambda run: f"{run[key]['result']['rps']:.0f}" if key in run else "–")
                for label in labels]
        row += [cells(by_label[label], lambda run: f"{run[key]['result']['p99']:.1f}" if key in run else "–")
                for label in labels]
        row += [cells(by_label[label], lambda run: commits_per_visit(run[key])
                      if key in run and key[1] != "proxy ceiling" and key[0] != "GET /version" else "–")
                for label in labels]
        lines.append("| " + " | ".join(row) + " |")

    lines += ["", "CPU split of the new-visitor runs (" + " / ".join(CPU_GROUPS) + "), both runs:", ""]
    for route in routes:
        for label in labels:
            splits = [" / ".join(f"{run[('GET / new visitors', route)]['cpu'][g]:.0%}" for g in CPU_GROUPS)
                      for run in by_label[label]]
            lines.append(f"- {route}, {label}: " + " · ".join(splits))

    def rps(run, scenario, route):
        return run[(scenario, route)]["result"]["rps"]

    def p99(run, scenario, route):
        return run[(scenario, route)]["result"]["p99"]

    # What a new visitor cost each binary (bench/report.py's visit_costs).
    lines += ["", "What a new visitor cost, both runs (replicas' CPU µs per request / PostgreSQL CPU µs, "
              "WAL bytes, rows written and index entries written per visit):", ""]
    for key in (("GET / new visitors", "direct"), SHARED, *PIXEL[:2]):
        for label in labels:
            costs = [visit_costs(run[key], run[key]["seconds"]) for run in by_label[label] if key in run]
            shown = [f"{app:.0f} / {postgres:.0f} µs, {wal:.0f} B, {rows:.1f} rows, {entries:.1f} entries"
                     for _, _, wal, rows, entries, app, postgres in filter(None, costs)]
            if shown:
                lines.append(f"- {key[0]}, {key[1]}, {label}: " + " · ".join(shown))

    lines += ["", "| target (same run) | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    targets = []
    for route in routes:
        targets.append((f"one visitor ≥ 80 % of new-visitor requests/s, {route}", lambda run, r=route: (
            f"{rps(run, 'GET / one visitor', r) / rps(run, 'GET / new visitors', r):.0%}",
            rps(run, "GET / one visitor", r) >= 0.8 * rps(run, "GET / new visitors", r))))
        targets.append((f"one-visitor p99 ≤ 2× new-visitor p99, {route}", lambda run, r=route: (
            f"{p99(run, 'GET / one visitor', r) / p99(run, 'GET / new visitors', r):.1f}×",
            p99(run, "GET / one visitor", r) <= 2 * p99(run, "GET / new visitors", r))))
    statement = ("app statement, 30 per transaction", "pgbench")
    if all(statement in run for runs in by_label.values() for run in runs):
        targets.append(("new visitors direct ≥ 35 % of the app statement, 30 per transaction", lambda run: (
            f"{rps(run, 'GET / new visitors', 'direct') / rps(run, *statement):.0%}",
            rps(run, "GET / new visitors", "direct") >= 0.35 * rps(run, *statement))))
    for name, measure in targets:
        row = [name]
        for label in labels:
            shown = [measure(run) for run in by_label[label]]
            row.append(" · ".join(text for text, _ in shown) + " ("
                       + ", ".join(target(ok) for _, ok in shown) + ")")
        lines.append("| " + " | ".join(row) + " |")

    # The last binary against each other one, means of the runs: against
    # "before" the change's cost, against a release whether a regression
    # shows.
    lines.append("")
    for key in (("GET / new visitors", "direct"), SHARED, ("GET / new visitors", "nginx"), ("GET / one visitor", "direct")):
        if not all(key in run for runs in by_label.values() for run in runs):
            continue
        mean = {label: statistics.mean(run[key]["result"]["rps"] for run in by_label[label]) for label in labels}
        lines.append(f"- {key[0]}, {key[1]}: " + "; ".join(
            f"{labels[-1]} / {label} **{mean[labels[-1]] / mean[label]:.2f}×**" for label in labels[:-1]))

    # Issue 30: the last binary's pixel against the first one's page (the
    # first is the oldest release of the sitting), new visitors sharing a
    # User-Agent.
    first_runs, last_runs = by_label[labels[0]], by_label[labels[-1]]
    if all(SHARED in run for run in first_runs) and all(PIXEL[0] in run for run in last_runs):
        ratio = (statistics.mean(rps(run, *PIXEL[0]) for run in last_runs)
                 / statistics.mean(rps(run, *SHARED) for run in first_runs))
        lines.append(f"- {labels[-1]}'s pixel against {labels[0]}'s `GET /`, new visitors with one User-Agent, "
                     f"direct: **{ratio:.2f}×** (target ≥ 2.0×: {target(ratio >= 2)})")

    # Through nginx: the new-visitor rate of each binary as a share of the
    # proxy ceiling measured in the same run, which takes out most of what
    # the machine's load does to both; "beyond noise" is a difference of the
    # means larger than the runs of either binary differ from each other.
    if "nginx" not in routes:
        return "\n".join(lines)
    first, last = labels[0], labels[-1]
    shares = {label: [rps(run, "GET / new visitors", "nginx") / rps(run, "GET /version", "proxy ceiling")
                      for run in by_label[label]] for label in labels}
    change = statistics.mean(shares[last]) / statistics.mean(shares[first]) - 1
    noise = max(spread(shares[first]), spread(shares[last]))
    lines += [
        "",
        "- New visitors through nginx as a share of the same run's proxy ceiling: "
        + "; ".join(f"{label} " + " · ".join(f"{s:.1%}" for s in shares[label]) for label in labels)
        + f". {last} against {first}: {change:+.0%}, the runs of one binary differ by up to {noise:.0%} "
        f"(target, no worse beyond noise: {target(change >= -noise)})",
    ]
    return "\n".join(lines)


def main():
    doc_path, *pairs = sys.argv[1:]
    runs = [(label, loads(path)) for label, path in (pair.split("=", 1) for pair in pairs)]
    write_section(doc_path, "sitting", f"Measured {machine()}.\n\n" + sitting_table(runs))


if __name__ == "__main__":
    main()
