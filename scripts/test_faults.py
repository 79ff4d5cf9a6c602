"""The fault suite (`make test-faults`, part of the test command): the stack
as the compose file builds it (three replicas of the binary behind the
project's nginx, scripts/topology.py) on a PostgreSQL cluster of its own,
under a bounded load, through each fault in turn:

    PostgreSQL frozen (SIGSTOP) for 20 s, and for 5 s
    PostgreSQL restarted
    a replica SIGKILLed, and one SIGKILLed while PostgreSQL is frozen
    a replica SIGTERMed
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
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
from report import machine, write_section  # noqa: E402

SITE = "faults.example"
REPLICAS = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
# nginx's proxy_read_timeout: no answer may take longer.
PROXY_READ_TIMEOUT = 15.0
WORKERS = 24
RATE = 150.0
# Before a fault, and after it: the part after must be all 200s.
STEADY = 2.0
RECOVERED_AFTER = 2.0
INJECT_EVERY = 20


class Failed(Exception):
    pass


def log(message):
    print(f"--- faults: {message}", flush=True)


class Cluster:
    """The suite's own PostgreSQL, which it freezes and restarts."""

    def __init__(self, data, port, bindir):
        self.data, self.port, self.bindir = data, port, bindir
        self.url = f"postgres://postgres@127.0.0.1:{port}/visitors"

    def as_owner(self, *command):
        prefix = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        subprocess.run(prefix + list(command), check=True, stdout=subprocess.DEVNULL)

    def psql(self, sql, database="visitors"):
        result = subprocess.run(
            [os.path.join(self.bindir, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
             f"postgres://postgres@127.0.0.1:{self.port}/{database}", "-c", sql],
            check=True, capture_output=True, text=True)
        return result.stdout.strip()

    def processes(self):
        """The postmaster and every process it started."""
        with open(os.path.join(self.data, "postmaster.pid")) as pid_file:
            postmaster = int(pid_file.readline())
        children = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as stat:
                        parent = int(stat.read().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                if parent == postmaster:
                    children.append(int(entry))
        return [postmaster] + children

    def freeze(self):
        for pid in self.processes():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self):
        for pid in self.processes():
            os.kill(pid, signal.SIGCONT)

    def restart(self):
        # pg_ctl restart keeps the options the server was started with.
        self.as_owner(os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "fast", "-w",
                      "restart")


class Replica:
    """One `visitors serve` on its own address, all on one port."""

    def __init__(self, binary, address, name, port, database_url, workdir):
        self.binary, self.address, self.name, self.port = binary, address, name, port
        self.database_url = database_url
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.process = None

    def start(self):
        env = {key: value for key, value in os.environ.items()
               if key in ("PATH", "LLVM_PROFILE_FILE")}
        env.update(DATABASE_URL=self.database_url, ROCKET_ADDRESS=self.address,
                   ROCKET_PORT=str(self.port), ROCKET_IP_HEADER="X-Real-IP",
                   INSTANCE_NAME=self.name, ROCKET_CLI_COLORS="false",
                   METRICS_PORT="0")
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen([self.binary, "serve"], env=env, stdout=out,
                                            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Failed(f"{self.name} exited at start: see {self.log_path}")
            if self.port == 0:
                with open(self.log_path) as text:
                    found = re.search(r"listening.*?\bport\"?[=:](\d+)", text.read())
                if found:
                    self.port = int(found.group(1))
            if self.port and answers(self.address, self.port, "/readyz"):
                return
            time.sleep(0.05)
        raise Failed(f"{self.name} was not ready within 60 s")

    def signal(self, number):
        self.process.send_signal(number)

    def wait(self, timeout):
        return self.process.wait(timeout=timeout)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def answers(host, port, path):
    try:
        connection = http.client.HTTPConnection(host, port, timeout=2)
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except OSError:
        return False


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
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                connection.request("GET", path, headers={"User-Agent": agent})
                response = connection.getresponse()
                response.read()
                status = response.status
                connection.close()
            except (OSError, http.client.HTTPException) as error:
                status = f"{type(error).__name__}: {error}"
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
        self.cluster.psql("CREATE DATABASE visitors", database="postgres")
        port = 0
        for index, address in enumerate(REPLICAS):
            replica = Replica(self.binary, address, f"replica-{index + 1}", port,
                              self.cluster.url, self.workdir)
            replica.start()
            port = replica.port
            self.replicas.append(replica)
        command = [sys.executable, os.path.join(HERE, "topology.py"),
                   os.path.join(self.workdir, "network"), "--rate", "100000r/s",
                   "--burst", "100000", "--stop-on-eof", f"--proxy=lb=app:{port}"]
        command += [f"--host=app={address}" for address in REPLICAS]
        self.network = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)
        self.lb = json.loads(self.network.stdout.readline())["lb"]
        env = {"PATH": os.environ["PATH"], "DATABASE_URL": self.cluster.url}
        env.update({k: v for k, v in os.environ.items() if k == "LLVM_PROFILE_FILE"})
        subprocess.run([self.binary, "sites", "add", SITE, "--public"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        log(f"3 replicas on port {port}, nginx on {self.lb}, PostgreSQL on {self.cluster.port}")

    def stop(self):
        for replica in self.replicas:
            replica.stop()
        if self.network:
            self.network.stdin.close()
            self.network.wait()

    def counted(self, scenario):
        """Visits stored per page of the scenario (pixel and badge), and the
        scenario's `/` visits and its visitors counted more than once."""
        pages = {}
        rows = self.cluster.psql(
            "SELECT e.path, count(*) FROM visit_events e JOIN sites s ON s.id = e.site_id "
            f"WHERE s.domain = '{SITE}' AND (e.path LIKE '/{scenario}/%' "
            f"OR e.path LIKE '/inject/{scenario}/%') GROUP BY e.path")
        for line in rows.splitlines():
            path, count = line.rsplit("|", 1)
            pages[path] = int(count)
        return pages, int(self.cluster.psql("SELECT count(*) FROM visit_events WHERE site_id = 0"))

    def twice_counted_visitors(self):
        return int(self.cluster.psql("SELECT count(*) FROM visitors WHERE site_id = 0 AND visits > 1"))

    def scenario(self, name, label, fault, *, only_ok=False):
        log(label)
        _, root_before = self.counted(name)
        with Load(self.lb, name) as load:
            time.sleep(STEADY)
            fault(load)
            fault_over = time.monotonic()
            time.sleep(RECOVERED_AFTER + STEADY)
        # Batches the fault held finish once PostgreSQL answers again.
        time.sleep(1.0)
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
            problems.append(f"{len(unavailable)} requests answered 503")
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

    def kill_replica(self, number):
        def fault(_):
            replica = self.replicas[1]
            replica.signal(number)
            code = replica.wait(timeout=30)
            if number == signal.SIGTERM and code != 0:
                raise Failed(f"the replica exited with {code} on SIGTERM")
        return fault

    @staticmethod
    def inject(load):
        load.injecting.set()
        time.sleep(3)
        load.injecting.clear()

    def install_injection(self):
        self.cluster.psql(
            "CREATE FUNCTION fault_injected() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'a failure injected by the fault suite'; END $$; "
            "CREATE TRIGGER fault_injection BEFORE INSERT ON visit_events FOR EACH ROW "
            "WHEN (NEW.path LIKE '/inject/%') EXECUTE FUNCTION fault_injected()")

    def run(self):
        self.scenario("frozen20", "PostgreSQL frozen (SIGSTOP) for 20 s", self.freeze(20))
        self.scenario("frozen5", "PostgreSQL frozen (SIGSTOP) for 5 s", self.freeze(5))
        self.scenario("restart", "PostgreSQL restarted (pg_ctl restart -m fast)", self.restart)
        self.scenario("sigkill", "a replica SIGKILLed", self.kill_replica(signal.SIGKILL))
        self.replicas[1].start()
        self.scenario("sigkillfrozen", "a replica SIGKILLed while PostgreSQL is frozen",
                      self.kill_replica_while_frozen)
        self.replicas[1].start()
        self.scenario("sigterm", "a replica SIGTERMed", self.kill_replica(signal.SIGTERM),
                      only_ok=True)
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
