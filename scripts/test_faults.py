"""The fault suite (`make test-faults`, part of the test command): the stack
as the compose file builds it (three replicas of the binary behind the
project's nginx, scripts/topology.py) on a PostgreSQL cluster of its own,
under a bounded load, through each fault in turn:

    PostgreSQL frozen (SIGSTOP) for 20 s, and for 5 s
    PostgreSQL restarted
    a replica SIGKILLed, and one SIGKILLed while PostgreSQL is frozen
    a replica SIGTERMed while PostgreSQL is frozen for 2 s
    a batch failure injected (a trigger refuses some visits' rows)

Every request records a visit that can be told apart from every other: a
pixel or a count=1 badge hit of its own page, or `GET /` with a User-Agent
of its own (a visitor of its own). For each fault it prints the requests
sent, their answers (2xx, 503, other) and the visits counted, and asserts:
no answer but 200 or 503 (and only 200 for a SIGTERM), every 200's visit
counted, no visit counted twice, every answer within nginx's read timeout,
and only 200s once the fault is over (the stack recovers by itself). A 503
whose batch's COMMIT was already under way may still count: the table says
how many did.

    python3 scripts/test_faults.py --binary PATH --pg-data DIR --pg-port PORT
        --pg-bindir DIR [--report FILE]

--report writes the table into FILE's faults section (docs/operations.md).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
sys.path.insert(0, os.path.join(HERE, "lib"))
from harness import FIREFOX, Cluster, Failed, Server, binary_env, get, logger, poll  # noqa: E402
from report import machine, write_section  # noqa: E402

SITE = "faults.example"
DATABASE = "visitors"
REPLICAS = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
# nginx's proxy_read_timeout: no answer may take longer.
PROXY_READ_TIMEOUT = 15.0
WORKERS = 24
RATE = 150.0
# Before a fault, and after it: the part after must be all 200s.
STEADY = 2.0
RECOVERED_AFTER = 2.0
INJECT_EVERY = 20

log = logger("faults")


class Load:
    """WORKERS clients in a closed loop, RATE requests a second in all at
    most. Each request's visit is its own: a page of its own (pixel, badge)
    or a visitor of its own (`/`)."""

    def __init__(self, port, scenario):
        self.port, self.scenario = port, scenario
        # While set, every INJECT_EVERY-th request is a hit the database refuses.
        self.injecting = threading.Event()
        self.records = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.sequence = 0
        self.next_at = time.monotonic()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(WORKERS)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_):
        self.stopping.set()
        for thread in self.threads:
            thread.join()

    def take(self):
        """The next request's number, once the rate allows it."""
        with self.lock:
            self.sequence += 1
            number = self.sequence
            wait = self.next_at - time.monotonic()
            self.next_at = max(self.next_at, time.monotonic()) + 1.0 / RATE
        if wait > 0:
            time.sleep(wait)
        return number

    def request_of(self, number):
        """(kind, key, path, user agent): what request `number` sends."""
        key = f"/{self.scenario}/{number}"
        if self.injecting.is_set() and number % INJECT_EVERY == 0:
            key = f"/inject/{self.scenario}/{number}"
            return "pixel", key, f"/pixel/{SITE}.gif?p={key}", FIREFOX
        match number % 5:
            case 0 | 1 | 2:
                return "pixel", key, f"/pixel/{SITE}.gif?p={key}", FIREFOX
            case 3:
                return "badge", key, f"/badge/{SITE}.svg?count=1&p={key}", FIREFOX
            case _:
                return "page", key, "/", f"{FIREFOX} faults{key}"

    def run(self):
        while not self.stopping.is_set():
            number = self.take()
            kind, key, path, agent = self.request_of(number)
            started = time.monotonic()
            status, _ = get("127.0.0.1", self.port, path, {"User-Agent": agent}, timeout=30)
            with self.lock:
                self.records.append((kind, key, started, time.monotonic() - started, status))


class Suite:
    def __init__(self, args):
        self.cluster = Cluster(args.pg_data, args.pg_port, args.pg_bindir)
        self.binary = args.binary
        self.workdir = tempfile.mkdtemp(prefix="visitors-faults.")
        # dnsmasq, started as root, reads its hosts file as nobody.
        os.chmod(self.workdir, 0o755)
        self.rows = []
        self.replicas = []
        self.network = None

    def start(self):
        self.database_url = self.cluster.fresh(DATABASE)
        port = 0
        for index, address in enumerate(REPLICAS):
            name = f"replica-{index + 1}"
            env = binary_env(True, DATABASE_URL=self.database_url, ROCKET_ADDRESS=address,
                             ROCKET_PORT=str(port), ROCKET_IP_HEADER="X-Real-IP", INSTANCE_NAME=name)
            replica = Server(self.binary, env, os.path.join(self.workdir, f"{name}.log"), name)
            port = replica.start(within=60).port
            self.replicas.append(replica)
        command = [sys.executable, os.path.join(HERE, "topology.py"),
                   os.path.join(self.workdir, "network"), "--rate", "100000r/s",
                   "--burst", "100000", "--stop-on-eof", f"--proxy=lb=app:{port}"]
        command += [f"--host=app={address}" for address in REPLICAS]
        self.network = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)
        self.lb = json.loads(self.network.stdout.readline())["lb"]
        subprocess.run([self.binary, "sites", "add", SITE, "--public"], check=True,
                       env=binary_env(True, DATABASE_URL=self.database_url), stdout=subprocess.DEVNULL)
        log(f"3 replicas on port {port}, nginx on {self.lb}, PostgreSQL on {self.cluster.port}")

    def stop(self):
        for replica in self.replicas:
            replica.kill()
        if self.network:
            self.network.stdin.close()
            self.network.wait()

    def psql(self, sql):
        return self.cluster.psql(sql, DATABASE)

    def settled(self):
        """Whether no batch is in the database any more: once the load has
        stopped, the batches a fault held still commit or roll back."""
        return self.psql("SELECT count(*) = 0 FROM pg_stat_activity WHERE datname = current_database() "
                         "AND pid <> pg_backend_pid() AND state <> 'idle'") == "t"

    def counted(self, scenario):
        """Visits stored per page of the scenario (pixel and badge), and the
        scenario's `/` visits and its visitors counted more than once."""
        pages = {}
        rows = self.psql(
            "SELECT e.path, count(*) FROM visit_events e JOIN sites s ON s.id = e.site_id "
            f"WHERE s.domain = '{SITE}' AND (e.path LIKE '/{scenario}/%' "
            f"OR e.path LIKE '/inject/{scenario}/%') GROUP BY e.path")
        for line in rows.splitlines():
            path, count = line.rsplit("|", 1)
            pages[path] = int(count)
        return pages, int(self.psql("SELECT count(*) FROM visit_events WHERE site_id = 0"))

    def twice_counted_visitors(self):
        return int(self.psql("SELECT count(*) FROM visitors WHERE site_id = 0 AND visits > 1"))

    def scenario(self, name, label, fault, *, only_ok=False):
        log(label)
        _, root_before = self.counted(name)
        with Load(self.lb, name) as load:
            time.sleep(STEADY)
            fault(load)
            fault_over = time.monotonic()
            time.sleep(RECOVERED_AFTER + STEADY)
        poll(self.settled, 15, f"{label}: the batches held by the fault finishing")
        pages, root_after = self.counted(name)
        records = load.records
        ok = [r for r in records if r[4] == 200]
        unavailable = [r for r in records if r[4] == 503]
        other = [r for r in records if r[4] not in (200, 503)]
        problems = []
        if other:
            problems.append(f"{len(other)} answers neither 200 nor 503: "
                            + ", ".join(str(r[4]) for r in other[:3]))
        if only_ok and unavailable:
            kinds = sorted({r[0] for r in unavailable})
            problems.append(f"{len(unavailable)} requests answered 503 ({', '.join(kinds)})")
        twice = {path: n for path, n in pages.items() if n > 1}
        if twice:
            problems.append(f"pages counted twice: {sorted(twice)[:3]}")
        lost = [r for r in ok if r[0] != "page" and r[1] not in pages]
        if lost:
            problems.append(f"{len(lost)} pixel and badge hits answered 200 and not counted")
        injected = [path for path in pages if path.startswith("/inject/")]
        if injected:
            problems.append(f"{len(injected)} visits of a failed batch were stored")
        root_ok = sum(1 for r in ok if r[0] == "page")
        root_counted = root_after - root_before
        root_unavailable = sum(1 for r in unavailable if r[0] == "page")
        if not root_ok <= root_counted <= root_ok + root_unavailable:
            problems.append(f"GET /: {root_ok} answered 200, {root_unavailable} 503, "
                            f"{root_counted} counted")
        slowest = max(r[3] for r in records)
        if slowest >= PROXY_READ_TIMEOUT:
            problems.append(f"an answer took {slowest:.1f} s")
        late = [r for r in records if r[2] >= fault_over + RECOVERED_AFTER and r[4] != 200]
        if late:
            problems.append(f"{len(late)} failures {RECOVERED_AFTER:.0f} s after the fault ended")
        counted = len([p for p in pages if not p.startswith("/inject/")]) + root_counted
        unavailable_counted = (sum(1 for r in unavailable if r[0] != "page" and r[1] in pages)
                               + root_counted - root_ok)
        row = {"fault": label, "sent": len(records), "ok": len(ok), "unavailable": len(unavailable),
               "other": len(other), "counted": counted, "unavailable_counted": unavailable_counted,
               "slowest": slowest}
        self.rows.append(row)
        log(f"{label}: {row['sent']} sent, {row['ok']} 200, {row['unavailable']} 503, "
            f"{row['other']} other, {counted} counted ({unavailable_counted} of them answered 503), "
            f"slowest {slowest:.2f} s")
        if problems:
            raise Failed(f"{label}: " + "; ".join(problems))

    def freeze(self, seconds):
        def fault(_):
            self.cluster.freeze()
            time.sleep(seconds)
            self.cluster.thaw()
        return fault

    def restart(self, _):
        self.cluster.restart()

    def kill_replica_while_frozen(self, _):
        """The requests the replica holds wait for the database when it
        dies: nginx must not send them to another replica."""
        self.cluster.freeze()
        time.sleep(1)
        self.replicas[1].signal(signal.SIGKILL)
        self.replicas[1].wait(timeout=30)
        time.sleep(1)
        self.cluster.thaw()

    def kill_replica(self, _):
        self.replicas[1].signal(signal.SIGKILL)
        self.replicas[1].wait(timeout=30)

    def stop_replica_while_frozen(self, _):
        """A SIGTERM while the replica's requests wait for the database: it
        must answer them (they commit once PostgreSQL is back) before it
        exits, and exit cleanly. The freeze is shorter than the reads'
        deadline (3 s), so that every request can still be answered 200."""
        self.cluster.freeze()
        time.sleep(0.5)
        self.replicas[1].signal(signal.SIGTERM)
        time.sleep(1.5)
        self.cluster.thaw()
        code = self.replicas[1].wait(timeout=30)
        if code != 0:
            raise Failed(f"the replica exited with {code} on SIGTERM")

    @staticmethod
    def inject(load):
        load.injecting.set()
        time.sleep(3)
        load.injecting.clear()

    def install_injection(self):
        self.psql(
            "CREATE FUNCTION fault_injected() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'a failure injected by the fault suite'; END $$; "
            "CREATE TRIGGER fault_injection BEFORE INSERT ON visit_events FOR EACH ROW "
            "WHEN (NEW.path LIKE '/inject/%') EXECUTE FUNCTION fault_injected()")

    def run(self):
        self.scenario("frozen20", "PostgreSQL frozen (SIGSTOP) for 20 s", self.freeze(20))
        self.scenario("frozen5", "PostgreSQL frozen (SIGSTOP) for 5 s", self.freeze(5))
        self.scenario("restart", "PostgreSQL restarted (pg_ctl restart -m fast)", self.restart)
        self.scenario("sigkill", "a replica SIGKILLed", self.kill_replica)
        self.replicas[1].start()
        self.scenario("sigkillfrozen", "a replica SIGKILLed while PostgreSQL is frozen",
                      self.kill_replica_while_frozen)
        self.replicas[1].start()
        self.scenario("sigterm", "a replica SIGTERMed while PostgreSQL is frozen for 2 s",
                      self.stop_replica_while_frozen, only_ok=True)
        self.replicas[1].start()
        self.install_injection()
        self.scenario("injected", f"batch failures injected (for 3 s, every {INJECT_EVERY}th "
                      "visit's row refused by a trigger)", self.inject)
        twice = self.twice_counted_visitors()
        if twice:
            raise Failed(f"{twice} visitors of GET / were counted twice")

    def table(self):
        lines = [f"Measured {machine()}, `make test-faults`: 3 replicas (the debug build in the "
                 f"test command) behind nginx, {WORKERS} clients, at most {RATE:.0f} requests/s.",
                 "",
                 "| fault | requests | 200 | 503 | other | visits counted | of them answered 503 "
                 "| slowest answer |",
                 "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for row in self.rows:
            lines.append(f"| {row['fault']} | {row['sent']} | {row['ok']} | {row['unavailable']} | "
                         f"{row['other']} | {row['counted']} | {row['unavailable_counted']} | "
                         f"{row['slowest']:.1f} s |")
        return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--pg-data", required=True)
    parser.add_argument("--pg-port", required=True, type=int)
    parser.add_argument("--pg-bindir", required=True)
    parser.add_argument("--report")
    args = parser.parse_args()
    suite = Suite(args)
    try:
        suite.start()
        suite.run()
    except Failed as failure:
        print(suite.table(), flush=True)
        sys.exit(f"test-faults: FAILED: {failure} (logs in {suite.workdir})")
    finally:
        suite.stop()
    table = suite.table()
    print(table, flush=True)
    if args.report:
        write_section(args.report, "faults", table)


if __name__ == "__main__":
    main()
