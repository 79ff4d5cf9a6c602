"""The stack in real containers: checks 1-12 of `make test-compose`.

Run by scripts/test-compose.sh, which provides the engine, Compose v2 and the
base images. Every check is named, runs on its own clock and fails with one
clear message; the run stops at the first failure (later checks build on the
stack the earlier ones leave). Waits poll for a condition with a deadline,
loads are bounded in rate and duration. Traffic goes only to 127.0.0.1 and to
the containers of this project.

    python3 scripts/test_compose.py PROJECT
"""
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import http.client as httpclient
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT = sys.argv[1] if len(sys.argv) > 1 else "visitors-test"
RESTART_LOOP_FILE = os.path.join(ROOT, "docker", "test", "restart-loop.yml")
ADMIN_TOKEN = secrets.token_hex(16)
BUILD_NUMBER = "4242"
VCS_REF = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True,
                         text=True).stdout.strip() or "0"
# Every compose call of checks 1-10 sees the same environment (else `up`
# would recreate containers). No .env is read: --env-file /dev/null.
# HTTP_PORT "127.0.0.1:" makes the port "127.0.0.1::80": Docker picks a free
# one, read back with `docker compose port`.
STACK_ENV = {
    "HTTP_PORT": "127.0.0.1:",
    "PROMETHEUS_PORT": "0",
    "BUILD_NUMBER": BUILD_NUMBER,
    "VCS_REF": VCS_REF,
    "ADMIN_TOKEN": ADMIN_TOKEN,
    # Set as an operator would: every link the app prints must start with it.
    "PUBLIC_URL": "https://count.example.test",
}
# Each replica's metrics listener (METRICS_PORT's default), which Prometheus scrapes.
METRICS_PORT = 9464
RESULTS = []
FIGURES = {}


class CheckFailed(Exception):
    pass


def log(message):
    print(message, flush=True)


# --- docker and compose -----------------------------------------------------

def run(args, env=None, check=True, timeout=900, quiet=False):
    full_env = dict(os.environ)
    full_env.update(env or {})
    result = subprocess.run(args, cwd=ROOT, env=full_env, capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise CheckFailed(f"`{' '.join(args)}` exited {result.returncode}: "
                          f"{(result.stderr or result.stdout).strip()[-2000:]}")
    return result


def compose_args(*args, files=(), profile=None):
    cmd = ["docker", "compose", "-p", PROJECT, "--env-file", "/dev/null", "-f", "docker-compose.yml"]
    for f in files:
        cmd += ["-f", f]
    if profile:
        cmd += ["--profile", profile]
    return cmd + list(args)


def compose(*args, files=(), profile=None, env=None, check=True, timeout=900):
    return run(compose_args(*args, files=files, profile=profile),
               env=STACK_ENV if env is None else env, check=check, timeout=timeout)


def containers(service=None, all_states=False):
    args = ["ps", "-q"] + (["-a"] if all_states else []) + ([service] if service else [])
    out = run(compose_args(*args), env=STACK_ENV, check=False).stdout
    return [line for line in out.split() if line]


def inspect(container_id):
    out = run(["docker", "inspect", container_id]).stdout
    return json.loads(out)[0]


def service_of(info):
    return info["Config"]["Labels"].get("com.docker.compose.service")


def ip_of(info):
    nets = info["NetworkSettings"]["Networks"]
    return next(iter(nets.values()))["IPAddress"]


def health(info):
    state = info["State"]
    return state.get("Health", {}).get("Status", state["Status"])


def wait_for(what, condition, timeout, interval=0.5):
    """Polls condition() until it returns something truthy; fails after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = condition()
        except (OSError, httpclient.HTTPException, CheckFailed) as error:
            last = None
            reason = error
        if last:
            return last
        time.sleep(interval)
    raise CheckFailed(f"{what}: not within {timeout} s" + (f" ({reason})" if 'reason' in locals() else ""))


def all_healthy(expected_apps):
    ids = containers()
    infos = [inspect(i) for i in ids]
    apps = [i for i in infos if service_of(i) == "app"]
    # lb starts only once the replicas are healthy: wait for all three services.
    if len(apps) != expected_apps or {service_of(i) for i in infos} < {"app", "db", "lb"}:
        return None
    if all(health(i) == "healthy" for i in infos):
        return infos
    return None


def wait_healthy(expected_apps, timeout=180):
    return wait_for(f"every container healthy with {expected_apps} app replicas",
                    lambda: all_healthy(expected_apps), timeout, interval=1)


def lb_port():
    out = compose("port", "lb", "80").stdout.strip()
    return int(out.rsplit(":", 1)[1])


# --- HTTP -------------------------------------------------------------------

def http(host, port, path, method="GET", headers=None, timeout=10, body=None):
    """(status, headers dict lower-cased, body bytes)."""
    conn = httpclient.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def via_lb(path, **kwargs):
    return http("127.0.0.1", lb_port_cached(), path, **kwargs)


_LB_PORT = []


def lb_port_cached():
    if not _LB_PORT:
        _LB_PORT.append(lb_port())
    return _LB_PORT[0]


def total_visits(host=None, port=None):
    status, _, body = (http(host, port, "/api/stats?range=all") if host
                       else via_lb("/api/stats?range=all"))
    if status != 200:
        raise CheckFailed(f"/api/stats answered {status}")
    stats = json.loads(body)
    return stats["visits"] + stats["bot_visits"]


class Load:
    """GETs through nginx at a fixed rate (under nginx's per-client limit of
    10/s) for at most `duration` seconds or until stop(): bounded in time
    and count. Records (start, seconds, status or error, X-Served-By)."""

    def __init__(self, path="/", rate=8.0, duration=120.0):
        self.path, self.interval, self.duration = path, 1.0 / rate, duration
        self.records = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = lb_port_cached()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self._stop.set()
        self._thread.join()

    def _one(self, lock):
        start = time.monotonic()
        try:
            status, headers, _ = http("127.0.0.1", self.port, self.path, timeout=20,
                                      headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) test-compose"})
            served = headers.get("x-served-by")
        except (OSError, httpclient.HTTPException) as error:
            status, served = f"{type(error).__name__}: {error}", None
        with lock:
            self.records.append((start, time.monotonic() - start, status, served))

    def _run(self):
        lock = threading.Lock()
        workers = []
        end = time.monotonic() + self.duration
        next_at = time.monotonic()
        while not self._stop.is_set() and time.monotonic() < end:
            worker = threading.Thread(target=self._one, args=(lock,), daemon=True)
            worker.start()
            workers.append(worker)
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))
        for worker in workers:
            worker.join()

    def failures(self, since=None):
        return [r for r in self.records if r[2] != 200 and (since is None or r[0] >= since)]

    def served_since(self, since):
        return {r[3] for r in list(self.records) if r[0] >= since and r[2] == 200}


def no_failures(load, what):
    failed = load.failures()
    if failed:
        sample = ", ".join(str(r[2]) for r in failed[:5])
        raise CheckFailed(f"{len(failed)} of {len(load.records)} requests failed during {what}: {sample}")


def short_ids(ids):
    return {i[:12] for i in ids}


# --- the checks ---------------------------------------------------------------

def check_1_up():
    """`docker compose up -d --build`, no .env: every service healthy, only lb publishes."""
    start = time.monotonic()
    compose("up", "-d", "--build", timeout=1800)
    FIGURES["up --build"] = time.monotonic() - start
    up_started = time.monotonic()
    infos = wait_healthy(3)
    FIGURES["up to healthy after the build"] = time.monotonic() - up_started
    services = sorted({service_of(i) for i in infos})
    if services != ["app", "db", "lb"]:
        raise CheckFailed(f"services running: {services}, expected app, db, lb")
    for info in infos:
        published = {port: bindings for port, bindings in (info["NetworkSettings"]["Ports"] or {}).items()
                     if bindings}
        if service_of(info) == "lb":
            if list(published) != ["80/tcp"]:
                raise CheckFailed(f"lb publishes {published}, expected only 80/tcp")
        elif published:
            raise CheckFailed(f"{service_of(info)} publishes {published}: only lb may")
    return f"3 app replicas, db and lb healthy; lb alone published, on 127.0.0.1:{lb_port_cached()}"


def check_2_endpoints():
    """Through nginx: /, /version, /healthz, /readyz, /api/stats; /metrics 404 there and on a replica's port,
    200 on its metrics listener; `visitors sites add` in a replica prints PUBLIC_URL's snippet; the image's
    country database is in use (/privacy names it) and /script.js is served."""
    for path in ["/", "/healthz", "/readyz", "/api/stats", "/version"]:
        status, _, _ = via_lb(path)
        if status != 200:
            raise CheckFailed(f"GET {path} through nginx answered {status}")
    version = json.loads(via_lb("/version")[2])
    with open(os.path.join(ROOT, "version.txt")) as f:
        expected = f"{f.read().strip()}+{BUILD_NUMBER}"
    if version.get("version") != expected or version.get("build") != int(BUILD_NUMBER) \
            or version.get("commit") != VCS_REF:
        raise CheckFailed(f"/version says {version}, expected version {expected}, build {BUILD_NUMBER}, "
                          f"commit {VCS_REF}")
    image = inspect(containers("app")[0])["Config"]["Image"]
    label = json.loads(run(["docker", "image", "inspect", image]).stdout)[0]["Config"]["Labels"] \
        .get("org.opencontainers.image.version")
    if label != version["version"]:
        raise CheckFailed(f"image label org.opencontainers.image.version is {label!r}, /version says "
                          f"{version['version']!r}")
    if not re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?", label):
        raise CheckFailed(f"image version label {label!r} is not SemVer")
    replica = ip_of(inspect(containers("app")[0]))
    for spelling in ("/metrics", "/metrics/", "//metrics", "/%6Detrics"):
        for where, (status, _, body) in (("nginx", via_lb(spelling)),
                                          ("the replica's port 8000", http(replica, 8000, spelling))):
            if status != 404 or b"visitors_" in body:
                raise CheckFailed(f"{spelling} through {where} answered {status}, expected 404")
    status, _, body = http(replica, METRICS_PORT, "/metrics")
    if status != 200 or b"visitors_build_info" not in body:
        raise CheckFailed(f"/metrics on replica {replica}'s metrics listener answered {status}")
    added = compose("exec", "-T", "app", "visitors", "sites", "add", "check-2.example", "--public").stdout
    snippet = f'<img src="{STACK_ENV["PUBLIC_URL"]}/pixel/check-2.example.gif'
    if snippet not in added:
        raise CheckFailed(f"`visitors sites add` in a replica printed no snippet of PUBLIC_URL: {added!r}")
    status, headers, _ = via_lb("/static/no-such-file.css")
    if status != 404 or "max-age=31536000" in headers.get("cache-control", ""):
        raise CheckFailed(f"/static/ 404 through nginx: {status}, Cache-Control {headers.get('cache-control')!r}")
    privacy = via_lb("/privacy")[2].decode()
    countries = re.search(r"looked up from the client's address in (geo-whois-asn-country\.mmdb \([^)]*\))",
                          privacy)
    if not countries:
        raise CheckFailed("/privacy names no country database: the image's is not in use")
    status, headers, script = via_lb("/script.js")
    if status != 200 or b"sendBeacon" not in script:
        raise CheckFailed(f"/script.js through nginx answered {status}")
    return (f"all 200, /version {version['version']} = image label, /metrics 404 via nginx and port 8000, 200 "
            f"on a replica's metrics listener, the snippet starts with PUBLIC_URL, /static/ 404 not cached, "
            f"countries from {countries.group(1)}, /script.js {len(script)} bytes")


def check_3_replicas_share():
    """Requests reach every replica; a visit through one is counted through the others."""
    ids = short_ids(containers("app"))
    seen = set()

    def every_replica():
        status, headers, _ = via_lb("/healthz")
        seen.add(headers.get("x-served-by"))
        return ids <= seen

    wait_for(f"responses from every replica {sorted(ids)} (seen {sorted(seen)})", every_replica, 15, 0.05)
    infos = [inspect(i) for i in containers("app")]
    before = {i["Id"][:12]: total_visits(ip_of(i), 8000) for i in infos}
    status, headers, _ = via_lb("/", headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) check-3"})
    if status != 200:
        raise CheckFailed(f"GET / answered {status}")
    recorder = headers.get("x-served-by")

    def counted_everywhere():
        return all(total_visits(ip_of(i), 8000) == before[i["Id"][:12]] + 1 for i in infos)

    wait_for(f"the visit recorded by {recorder} counted by every replica", counted_everywhere, 10)
    return f"{len(seen)} distinct X-Served-By; a visit through {recorder} counted by all {len(infos)}"


def check_4_scale():
    """--scale app=5 then =2 under a bounded load: no failure, traffic follows the replicas in 15 s."""
    with Load(rate=8, duration=150) as load:
        time.sleep(1)
        compose("up", "-d", "--no-recreate", "--scale", "app=5")
        wait_healthy(5, timeout=120)
        ids = short_ids(containers("app"))
        scaled = time.monotonic()
        wait_for(f"traffic from all 5 replicas {sorted(ids)}",
                 lambda: load.served_since(scaled) >= ids, 15, 0.5)
        FIGURES["scale-up: all 5 serving after healthy"] = time.monotonic() - scaled
        down_start = time.monotonic()
        compose("up", "-d", "--no-recreate", "--scale", "app=2")
        down_done = time.monotonic()
        ids = short_ids(containers("app"))
        if len(ids) != 2:
            raise CheckFailed(f"{len(ids)} app containers after --scale app=2")

        def only_current():
            since = time.monotonic() - 2
            served = load.served_since(since)
            return served and served <= ids and since > down_done

        wait_for(f"traffic only from {sorted(ids)}", only_current, 15, 0.5)
        FIGURES["scale-down: only the 2 left serving after `up` returned"] = time.monotonic() - down_done
        time.sleep(1)
    no_failures(load, "--scale app=5 and app=2")
    during = [r for r in load.records if down_start <= r[0] <= down_done + 2]
    slowest = max(r[1] for r in during)
    FIGURES["slowest request during the scale-down"] = slowest
    FIGURES["scale-down duration"] = down_done - down_start
    return (f"{len(load.records)} requests, 0 failed; slowest during scale-down {slowest * 1000:.0f} ms "
            f"({len(during)} requests in that window)")


def check_5_sigkill():
    """A replica's process SIGKILLed under load: no failed request, the engine restarts it."""
    compose("up", "-d", "--no-recreate", "--scale", "app=3")
    wait_healthy(3)
    victim = containers("app")[0]
    info = inspect(victim)
    restarts = info["RestartCount"]
    with Load(rate=8, duration=90) as load:
        time.sleep(2)
        os.kill(info["State"]["Pid"], signal.SIGKILL)
        killed = time.monotonic()
        wait_for("the killed replica restarted by the engine",
                 lambda: inspect(victim)["RestartCount"] > restarts, 30, 0.2)
        wait_for("the restarted replica healthy", lambda: health(inspect(victim)) == "healthy", 60, 0.5)
        back = time.monotonic() - killed
        time.sleep(2)
    no_failures(load, "the SIGKILL")
    return f"{len(load.records)} requests, 0 failed; restarted by the engine (RestartCount +1) and healthy again in {back:.1f} s"


def check_6_health_switch():
    """POST /admin/fail-health: unhealthy, exit 4 within HEALTH_FAIL_EXIT_AFTER, restarted, healthy;
    pages and probes through nginx answer 200 throughout."""
    victim = containers("app")[0]
    info = inspect(victim)
    exit_after = 30
    events = subprocess.Popen(["docker", "events", "--filter", f"container={victim}", "--format",
                               "{{json .}}"], stdout=subprocess.PIPE, text=True)
    seen = []
    threading.Thread(target=lambda: [seen.append(json.loads(line)) for line in events.stdout],
                     daemon=True).start()
    try:
        probe_records = []
        stop = threading.Event()

        def probe():
            port = lb_port_cached()
            while not stop.is_set():
                for path in ("/healthz", "/readyz"):
                    try:
                        status = http("127.0.0.1", port, path, timeout=10)[0]
                    except (OSError, httpclient.HTTPException) as error:
                        status = str(error)
                    probe_records.append((path, status))
                stop.wait(0.1)

        prober = threading.Thread(target=probe, daemon=True)
        with Load(rate=4, duration=90) as load:
            prober.start()
            time.sleep(1)
            status, _, body = http(ip_of(info), 8000, "/admin/fail-health", method="POST",
                                   headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
            if status != 200:
                raise CheckFailed(f"POST /admin/fail-health answered {status}: {body[:200]!r}")
            failed_at = time.monotonic()

            def status_is(word, attr="status"):
                return lambda: any(e.get("status", "").startswith(word) for e in seen)

            wait_for("Docker reporting the replica unhealthy", status_is("health_status: unhealthy"),
                     exit_after + 10, 0.2)
            unhealthy = time.monotonic() - failed_at
            die = wait_for("the replica exiting", lambda: next((e for e in seen if e.get("status") == "die"),
                                                               None), exit_after + 10, 0.2)
            died = time.monotonic() - failed_at
            code = die.get("Actor", {}).get("Attributes", {}).get("exitCode")
            if code != "4":
                raise CheckFailed(f"the replica exited with code {code}, expected 4")
            if died > exit_after + 3:
                raise CheckFailed(f"the replica exited {died:.1f} s after the switch, "
                                  f"HEALTH_FAIL_EXIT_AFTER is {exit_after}")
            wait_for("the engine restarting it", status_is("start"), 20, 0.2)
            wait_for("the restarted replica healthy", status_is("health_status: healthy"), 60, 0.5)
            healthy = time.monotonic() - failed_at
            time.sleep(1)
            stop.set()
            prober.join()
        no_failures(load, "the health switch")
        bad_probes = [r for r in probe_records if r[1] != 200]
        if bad_probes:
            raise CheckFailed(f"{len(bad_probes)} of {len(probe_records)} probes through nginx failed: "
                              f"{bad_probes[:5]}")
    finally:
        events.terminate()
        events.wait()
    FIGURES["health switch: unhealthy after"] = unhealthy
    FIGURES["health switch: exit 4 after"] = died
    return (f"unhealthy at {unhealthy:.1f} s, exit 4 at {died:.1f} s, healthy again at {healthy:.1f} s; "
            f"{len(load.records)} pages and {len(probe_records)} /healthz+/readyz through nginx, all 200")


def check_7_restart_loop():
    """A replica failing at every start: at most 5 restarts, then it stays exited; the stack serves."""
    compose("up", "-d", "--no-deps", "app-broken", files=[RESTART_LOOP_FILE])
    broken = containers_of_file("app-broken")

    def gave_up():
        info = inspect(broken)
        state = info["State"]
        return state["Status"] == "exited" and info["RestartCount"] >= 5 and info

    info = wait_for("the failing replica giving up", gave_up, 60, 0.2)
    # The engine's next delay would be 3.2 s: it stays exited past that.
    time.sleep(5)
    info = inspect(broken)
    if info["RestartCount"] != 5 or info["State"]["Status"] != "exited":
        raise CheckFailed(f"restart count {info['RestartCount']}, state {info['State']['Status']}: "
                          f"expected 5 and exited")
    code = info["State"]["ExitCode"]
    for path in ("/", "/healthz", "/readyz"):
        status = via_lb(path)[0]
        if status != 200:
            raise CheckFailed(f"GET {path} answered {status} next to the failing replica")
    compose("rm", "-sf", "app-broken", files=[RESTART_LOOP_FILE])
    return f"exit code {code}, restarted 5 times, then exited for good; /, /healthz, /readyz still 200"


def containers_of_file(service):
    out = compose("ps", "-aq", service, files=[RESTART_LOOP_FILE]).stdout.split()
    if len(out) != 1:
        raise CheckFailed(f"expected one {service} container, found {len(out)}")
    return out[0]


def check_8_persistence():
    """Totals unchanged across `down` and `up -d`; `down -v` removes them."""
    before = total_visits()
    if before == 0:
        raise CheckFailed("no visits recorded before the restart")
    compose("down")
    compose("up", "-d")
    _LB_PORT.clear()
    wait_healthy(3)
    after = wait_for("/api/stats through the new stack", lambda: total_visits() or None, 30, 1)
    if after != before:
        raise CheckFailed(f"{before} visits before `down`, {after} after `up -d`")
    compose("down", "-v")
    volumes = run(["docker", "volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={PROJECT}"]
                  ).stdout.split()
    if volumes:
        raise CheckFailed(f"volumes left after `down -v`: {volumes}")
    return f"{before} visits before `down` and after `up -d`; `down -v` left no volume"


def check_9_concurrent_migrations():
    """Three replicas migrating one empty database at once all become healthy."""
    start = time.monotonic()
    compose("up", "-d")
    _LB_PORT.clear()
    wait_healthy(3)
    took = time.monotonic() - start
    FIGURES["up -d to healthy, empty database"] = took
    visits = total_visits()
    if visits != 0:
        raise CheckFailed(f"{visits} visits on what should be an empty database after `down -v`")
    return f"3 replicas healthy {took:.0f} s after `up -d` on an empty volume; 0 visits (so `down -v` emptied it)"


def prometheus_up_targets(port):
    status, _, body = http("127.0.0.1", port, "/api/v1/targets?state=active")
    if status != 200:
        return None
    targets = json.loads(body)["data"]["activeTargets"]
    return {t["labels"]["instance"] for t in targets if t["health"] == "up" and t["labels"]["job"] == "app"}


def check_10_prometheus():
    """Monitoring profile (Prometheus only): one up target per replica via Docker DNS; follows --scale."""
    compose("--profile", "monitoring", "up", "-d", "--no-deps", "prometheus")
    port = int(compose("--profile", "monitoring", "port", "prometheus", "9090").stdout.strip().rsplit(":", 1)[1])
    wait_for("Prometheus ready", lambda: http("127.0.0.1", port, "/-/ready")[0] == 200, 60, 1)
    expected = {f"{ip_of(inspect(i))}:{METRICS_PORT}" for i in containers("app")}
    start = time.monotonic()
    wait_for(f"Prometheus targets {sorted(expected)} up",
             lambda: prometheus_up_targets(port) == expected, 90, 2)
    first = time.monotonic() - start
    compose("up", "-d", "--no-recreate", "--scale", "app=4")
    wait_healthy(4)
    expected = {f"{ip_of(inspect(i))}:{METRICS_PORT}" for i in containers("app")}
    start = time.monotonic()
    wait_for(f"Prometheus targets {sorted(expected)} up after --scale app=4",
             lambda: prometheus_up_targets(port) == expected, 90, 2)
    followed = time.monotonic() - start
    compose("--profile", "monitoring", "rm", "-sf", "prometheus")
    compose("up", "-d", "--no-recreate", "--scale", "app=3")
    return f"3 targets up after {first:.0f} s; 4 after --scale app=4 in {followed:.0f} s"


def quick_start_commands():
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    commands = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    return [c for c in commands if c.startswith("docker compose")]


def check_11_quick_start():
    """The README's Quick start, literally: `docker compose up --build`, the page, the simulate command."""
    commands = quick_start_commands()
    if len(commands) < 2 or commands[0] != "docker compose up --build":
        raise CheckFailed(f"the Quick start's commands changed: {commands}")
    # As a user would, with no .env and no variable but the project name, a
    # free port (a user's own stack may hold 8080) and, as in CI, the build
    # number and commit of check 1, so that `--build` reuses its image
    # instead of compiling the crate again for an empty BUILD_NUMBER.
    env = {"COMPOSE_PROJECT_NAME": PROJECT, "HTTP_PORT": "127.0.0.1:",
           "BUILD_NUMBER": BUILD_NUMBER, "VCS_REF": VCS_REF}
    compose("down")
    full_env = dict(os.environ)
    full_env.update(env)
    foreground = subprocess.Popen(commands[0].split() + [], cwd=ROOT, env=full_env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _LB_PORT.clear()
        global STACK_ENV
        saved, STACK_ENV = STACK_ENV, env
        try:
            wait_healthy(3, timeout=600)
            status, _, body = via_lb("/")
            if status != 200 or b"<html" not in body.lower():
                raise CheckFailed(f"the page answered {status}")
            before = total_visits()
            for command in commands[1:]:
                result = run(command.split(), env=env, timeout=120)
                log(f"    {command}: {result.stdout.strip()}")
            after = wait_for("the simulated visits counted", lambda: (total_visits() > before) and total_visits(),
                             10, 1)
            sent = re.search(r"(\d+) succeeded, (\d+) failed", result.stdout)
            if not sent or sent.group(2) != "0":
                raise CheckFailed(f"simulate: {result.stdout.strip()}")
        finally:
            STACK_ENV = saved
        foreground.send_signal(signal.SIGINT)
        try:
            foreground.wait(60)
        except subprocess.TimeoutExpired:
            raise CheckFailed("`docker compose up --build` did not stop on Ctrl-C within 60 s")
        left = [c for c in containers() if inspect(c)["State"]["Status"] == "running"]
        if left:
            raise CheckFailed(f"{len(left)} containers still running after Ctrl-C")
    finally:
        if foreground.poll() is None:
            foreground.kill()
    return (f"up --build, the page 200, `{commands[1]}`: {sent.group(1)} visits sent, {after - before} "
            f"counted; Ctrl-C stopped every container")


RANGES = ["1h", "24h", "7d", "30d", "all"]


def stats_of_every_range():
    """/api/stats of every range through nginx, without what depends only on
    the clock (`to`, `generated_at`, `from`, the previous period's bounds
    and buckets, and the empty buckets: a window may move on by a minute
    between two readings)."""
    stats = {}
    for range_ in RANGES:
        status, _, body = via_lb(f"/api/stats?range={range_}")
        if status != 200:
            raise CheckFailed(f"/api/stats?range={range_} answered {status}")
        numbers = json.loads(body)
        for key in ("to", "generated_at", "from"):
            numbers.pop(key, None)
            numbers.get("previous", {}).pop(key, None)
        numbers.get("previous", {}).pop("series", None)
        numbers["series"] = {p["start"]: p for p in numbers["series"]
                             if p["visits"] or p["unique_visitors"]}
        stats[range_] = numbers
    return stats


def check_12_backup_restore():
    """scripts/backup.sh of a stack with traffic, restored by scripts/restore.sh into a fresh
    database (`down -v`, `up -d`): /api/stats of every range identical."""
    compose("up", "-d")
    _LB_PORT.clear()
    wait_healthy(3)
    agents = ["Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
              "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
              "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
              "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"]
    # 18 visits of 15 visitors (User-Agents): returning ones, a crawler, referred ones.
    for i in range(18):
        headers = {"User-Agent": f"{agents[i % 3]} check-12/{i % 5}"}
        if i % 4 == 0:
            headers["Referer"] = "https://news.example.com/item"
        status = via_lb("/", headers=headers)[0]
        if status != 200:
            raise CheckFailed(f"GET / answered {status}")
        time.sleep(0.15)
    # Past every replica's 1 s stats cache.
    time.sleep(1.5)
    before = stats_of_every_range()
    if before["all"]["visits"] == 0 or not before["1h"]["referrers"]:
        raise CheckFailed(f"no traffic to back up: {before['all']}")

    dump = os.path.join(ROOT, "target", "test-compose", f"{PROJECT}.dump")
    script_env = dict(STACK_ENV, COMPOSE=" ".join(compose_args()))
    start = time.monotonic()
    backup = run(["scripts/backup.sh", dump], env=script_env, timeout=120)
    FIGURES["backup"] = time.monotonic() - start
    try:
        compose("down", "-v")
        compose("up", "-d")
        _LB_PORT.clear()
        wait_healthy(3)
        if total_visits() != 0:
            raise CheckFailed("the stack after `down -v` is not empty")
        start = time.monotonic()
        restore = run(["scripts/restore.sh", dump], env=script_env, timeout=300)
        wait_healthy(3)
        FIGURES["restore until every replica healthy"] = time.monotonic() - start
        time.sleep(1.5)
        after = stats_of_every_range()
    finally:
        if os.path.exists(dump):
            os.remove(dump)
    for range_ in RANGES:
        if after[range_] != before[range_]:
            raise CheckFailed(f"/api/stats?range={range_} after the restore: {after[range_]}, "
                              f"before the backup: {before[range_]}")
    restored = next((line for line in restore.stdout.splitlines() if " restored " in line), "?")
    return (f"{backup.stdout.strip().splitlines()[-1]}; {restored}; "
            f"every range's /api/stats identical ({before['all']['visits']} visits, "
            f"{before['all']['unique_visitors']} unique visitors in all)")


CHECKS = [check_1_up, check_2_endpoints, check_3_replicas_share, check_4_scale, check_5_sigkill,
          check_6_health_switch, check_7_restart_loop, check_8_persistence, check_9_concurrent_migrations,
          check_10_prometheus, check_11_quick_start, check_12_backup_restore]


def main():
    only = os.environ.get("TEST_COMPOSE_ONLY")
    failed = None
    for check in CHECKS:
        number = check.__name__.split("_")[1]
        if only and number not in only.split(","):
            continue
        title = check.__doc__.strip().splitlines()[0]
        log(f"--- check {number}: {title}")
        start = time.monotonic()
        try:
            detail = check()
            outcome = "ok"
        except CheckFailed as error:
            detail, outcome = str(error), "FAILED"
        except Exception as error:  # an unexpected error is a failure of that check, named
            detail, outcome = f"{type(error).__name__}: {error}", "FAILED"
        took = time.monotonic() - start
        RESULTS.append((number, outcome, took, detail))
        log(f"    {outcome} ({took:.0f} s): {detail}")
        if outcome != "ok":
            failed = number
            break
    log("--- test-compose summary")
    for number, outcome, took, detail in RESULTS:
        log(f"check {number:>2}: {outcome:6} {took:6.1f} s  {detail}")
    for name, value in FIGURES.items():
        log(f"figure: {name}: {value:.2f} s")
    if failed:
        log(f"test-compose: check {failed} failed (later checks not run)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
