"""Runs a load generator and writes how the machine's CPU time was split
while it ran: the named process trees, the load generator itself, the rest
of the machine (other processes, interrupts) and idle, as shares of all
cores.
    python3 bench/usage.py OUT.json NAME=PID[,PID...]... -- COMMAND [ARGS...]
A tree is the process and its descendants; a descendant that exits during
the run (a pgbench backend) is still counted, in its parent's reaped
children's time. The command's output passes through."""
import json
import os
import subprocess
import sys


def jiffies(fields):
    # utime, stime, cutime, cstime: the process's time and its reaped
    # children's, in clock ticks.
    return sum(int(value) for value in fields[11:15])


def processes():
    """{pid: (parent pid, clock ticks)} of every process now."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the fields
        # follow its last ")".
        fields = text[text.rindex(")") + 2:].split()
        found[int(entry)] = (int(fields[1]), jiffies(fields))
    return found


def tree_ticks(roots):
    table = processes()
    children = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    seen, stack = set(), [pid for pid in roots if pid in table]
    while stack:
        pid = stack.pop()
        if pid not in seen:
            seen.add(pid)
            stack.extend(children.get(pid, []))
    return sum(table[pid][1] for pid in seen)


def machine_ticks():
    """(all ticks, idle ticks) over all cores, from /proc/stat."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest time is in user).
    total = sum(values[:8])
    return total, values[3] + values[4]


def snapshot(groups):
    total, idle = machine_ticks()
    return total, idle, {name: tree_ticks(pids) for name, pids in groups.items()}


def main():
    separator = sys.argv.index("--")
    out, specs, command = sys.argv[1], sys.argv[2:separator], sys.argv[separator + 1:]
    groups = {}
    for spec in specs:
        name, pids = spec.split("=", 1)
        groups[name] = [int(pid) for pid in pids.split(",") if pid]
    hz = os.sysconf("SC_CLK_TCK")
    total0, idle0, groups0 = snapshot(groups)
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    total1, idle1, groups1 = snapshot(groups)
    total = max(total1 - total0, 1)
    shares = {name: (groups1[name] - groups0[name]) / total for name in groups}
    shares["load generator"] = (usage.ru_utime + usage.ru_stime) * hz / total
    shares["idle"] = (idle1 - idle0) / total
    shares["other"] = max(0.0, 1 - sum(shares.values()))
    with open(out, "w") as output:
        json.dump(shares, output)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
