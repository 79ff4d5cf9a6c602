"""Writes a benchmark's results into docs/performance.md, between the
markers of its section, with the machine and the date.
    python3 bench/report.py stack|prune RESULTS.jsonl docs/performance.md"""
import datetime
import json
import os
import platform
import re
import sys


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as meminfo:
        memory_kib = int(meminfo.readline().split()[1])
    today = datetime.date.today().isoformat()
    return (f"{today}, {os.cpu_count()} cores ({model}), {memory_kib // 1024 // 1024} GiB, "
            f"{platform.system()} {platform.release()}")


def target(ok):
    return "met" if ok else "**NOT met**"


def counted(row):
    """What PostgreSQL counted over the measured run, as differences: write
    transactions, visits, and (from runs that read them) WAL bytes, rows
    written and index entries written."""
    before, after = row["counters"]
    return [b - a for a, b in zip(before, after)]


def commits_per_visit(row):
    """Transactions that wrote per visit recorded, over the measured run."""
    commits, visits, *_ = counted(row)
    return f"{commits / visits:.3f}" if visits else "–"


def visit_costs(row, seconds):
    """The run's costs per visit, or None when it recorded none: its rate,
    write commits, WAL bytes, rows and index entries per visit, the
    replicas' CPU µs per request and PostgreSQL's per visit."""
    commits, visits, *written = counted(row)
    if not visits or len(written) < 3:
        return None
    wal, rows, entries = written
    cores = os.cpu_count()
    requests = row["result"]["rps"] * seconds
    return (visits / seconds, commits / visits, wal / visits, rows / visits, entries / visits,
            row["cpu"]["app"] * cores * seconds / requests * 1e6,
            row["cpu"]["postgres"] * cores * seconds / visits * 1e6)


CPU_GROUPS = ("app", "nginx", "postgres", "load generator", "other", "idle")


def cpu_split(shares):
    return " | ".join(f"{shares[group]:.0%}" for group in CPU_GROUPS)


def stack_table(rows):
    settings = next(row for row in rows if row["kind"] == "settings")
    loads = [row for row in rows if row["kind"] == "load"]
    rss_mib = [kib / 1024 for kib in next(row for row in rows if row["kind"] == "memory")["rss_kib"]]
    startup = next(row for row in rows if row["kind"] == "startup")["seconds"]
    lines = [
        f"{settings['connections']} connections, {settings['seconds']} s per run after a warm-up; "
        f"PostgreSQL `{settings['postgres']}`; nginx rate limit raised to "
        f"`NGINX_RATE_LIMIT={settings['rate_limit']}`, `NGINX_RATE_BURST={settings['rate_burst']}` "
        f"(all load comes from one address).",
        "",
        "| scenario | via | requests (pgbench: visits) /s | p50 ms | p99 ms | max ms | non-2xx (pgbench: failed) "
        "| write commits per visit | CPU: replicas | nginx | PostgreSQL | load generator | other | idle |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in loads:
        r = row["result"]
        # pgbench counts transactions; a transaction of the app's statement
        # may record several visits.
        r["rps"] *= row.get("visits", 1)
        lines.append(
            f"| {row['scenario']} | {row['route']} | {r['rps']:.0f} | {r['p50']:.2f} | "
            f"{r['p99']:.2f} | {r['max']:.2f} | {r['non_2xx'] + r['socket_errors']} | "
            f"{commits_per_visit(row)} | {cpu_split(row['cpu'])} |")
    costs = [(row, visit_costs(row, settings["seconds"])) for row in loads if row["route"] != "pgbench"]
    lines += [
        "",
        "What each visit cost, from the same runs (the replicas' CPU per request and PostgreSQL's per "
        "visit from the CPU split above; rows and index entries written from `pg_stat_user_tables`):",
        "",
        "| scenario | via | visits/s | write commits | WAL bytes | rows written | index entries | "
        "replicas' CPU µs per request | PostgreSQL CPU µs |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {row['scenario']} | {row['route']} | {rate:.0f} | {commits:.3f} | {wal:.0f} | {rows:.1f} | "
            f"{entries:.1f} | {app:.0f} | {postgres:.0f} |"
            for row, cost in costs if cost
            for rate, commits, wal, rows, entries, app, postgres in [cost]
        ],
    ]
    rps = {(row["scenario"], row["route"]): row["result"] for row in loads}
    new = rps[("GET / new visitors", "nginx")]
    stats = rps[("GET /api/stats?range=24h", "nginx")]["rps"]
    version = rps[("GET /version", "nginx")]["rps"]
    version_direct = rps[("GET /version", "direct")]["rps"]
    proxy = rps[("GET /version", "proxy ceiling")]["rps"]
    errors = new["non_2xx"] + new["socket_errors"]
    new_direct = rps[("GET / new visitors", "direct")]["rps"]
    lines += ["", f"- New visitors through nginx: {errors} non-2xx (target 0: {target(errors == 0)}), "
              f"p99 {new['p99']:.1f} ms (target < 50 ms: {target(new['p99'] < 50)})"]
    # The ceilings run this checkout's statements, which a release binary's
    # older schema cannot (bench/stack.sh skips them there).
    if ("app statement, 30 per transaction", "pgbench") in rps:
        ceiling = rps[("visitor upsert ceiling", "pgbench")]["rps"]
        batched = rps[("app statement, 30 per transaction", "pgbench")]["rps"]
        share = new["rps"] / ceiling
        lines += [
            f"- New visitors through nginx: **{share:.0%}** of the single-upsert ceiling "
            f"({new['rps']:.0f} / {ceiling:.0f}; target ≥ 70 %: {target(share >= 0.7)})",
            f"- New visitors direct to one replica: **{new_direct / batched:.0%}** of the app statement "
            f"with 30 visits per transaction ({new_direct:.0f} / {batched:.0f}; target ≥ 35 %: "
            f"{target(new_direct >= 0.35 * batched)})",
        ]
    lines += [
        f"- Stats (24 h) through nginx: **{stats / version:.0%}** of `/version` through nginx "
        f"({stats:.0f} / {version:.0f}; target ≥ 50 %: {target(stats / version >= 0.5)})",
        *[
            f"- One visitor on every request, {route}: **{one['rps'] / fresh['rps']:.0%}** of the "
            f"new-visitor requests/s ({one['rps']:.0f} / {fresh['rps']:.0f}; target ≥ 80 %: "
            f"{target(one['rps'] >= 0.8 * fresh['rps'])}), p99 {one['p99']:.1f} ms = "
            f"{one['p99'] / fresh['p99']:.1f}× the new-visitor p99 (target ≤ 2×: "
            f"{target(one['p99'] <= 2 * fresh['p99'])})"
            for route in ("direct", "nginx")
            for one, fresh in [(rps[("GET / one visitor", route)], rps[("GET / new visitors", route)])]
        ],
        # Issue 30: the pixel against a constant route of the same replica.
        *[
            f"- {scenario}, direct: **{rps[(scenario, 'direct')]['rps'] / version_direct:.0%}** of "
            f"`GET /version` direct ({rps[(scenario, 'direct')]['rps']:.0f} / {version_direct:.0f}; "
            f"target ≥ {share * 100:.0f} %: {target(rps[(scenario, 'direct')]['rps'] >= share * version_direct)})"
            for scenario, share in (("pixel new visitors, one User-Agent", 0.45), ("pixel one visitor", 0.8))
            if (scenario, "direct") in rps
        ],
        f"- `/version` through nginx: **{version / proxy:.0%}** of the proxy ceiling "
        f"({version:.0f} / {proxy:.0f}; target ≥ 60 %: {target(version / proxy >= 0.6)})",
        "- Resident memory per replica after the run: "
        + ", ".join(f"{mib:.1f} MiB" for mib in rss_mib)
        + f" (target < 64 MiB: {target(max(rss_mib) < 64)})",
        f"- Start-up to ready on the filled database: {startup:.2f} s "
        f"(target < 1 s: {target(startup < 1)})",
    ]
    return "\n".join(lines)


def prune_table(rows):
    lines = [
        "| raw visits past 90 days | younger, kept | deleted | batches | prune s | visits/s | slowest batch ms | `visitors prune` wall s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['events']:,} | {r['kept']:,} | {r['deleted']:,} | {r['batches']} | "
                     f"{r['seconds']:.2f} | {r['deleted'] / r['seconds']:,.0f} | {r['slowest_batch_ms']} | "
                     f"{r['wall_seconds']:.2f} |")
    lines += ["", f"- Loading (generate + vacuum): {rows[-1]['load_seconds']} s"]
    return "\n".join(lines)


def write_section(doc_path, section, body):
    """Replaces the text between <!-- SECTION:start --> and <!-- SECTION:end -->."""
    start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    with open(doc_path) as doc:
        text = doc.read()
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        sys.exit(f"{doc_path} has no {start} … {end} section")
    text = pattern.sub(lambda _: f"{start}\n{body}\n{end}", text)
    with open(doc_path, "w") as doc:
        doc.write(text)


def report(section, table, results_path, doc_path):
    """Writes the table of a benchmark's results, with the machine, into its section."""
    with open(results_path) as results:
        rows = [json.loads(line) for line in results if line.strip()]
    write_section(doc_path, section, f"Measured {machine()}.\n\n" + table(rows))


def main():
    section, results_path, doc_path = sys.argv[1:4]
    report(section, {"stack": stack_table, "prune": prune_table}[section], results_path, doc_path)


if __name__ == "__main__":
    main()
