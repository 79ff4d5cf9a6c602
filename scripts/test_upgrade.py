"""The upgrade test (`make test-upgrade`, part of the test command): from
every release in releases.txt to this build, on a PostgreSQL of its own.

For each release it builds that version's binary from git (cached by
commit), lets it create its schema on an empty database, and drives it
with a fixed traffic script through its own HTTP interface: visits of the
instance's page by people and a crawler, with referrers; and where the
release has sites, a public site with pixel and badge hits. It reads every
number the release's API shows, for every range; takes a backup
(pg_dump, as the deploy does before migrating); then starts this build on
that database, which migrates it, and checks that every one of those
numbers is the same in this build's API, and that new visits add to them
exactly (a returning person is still recognised). Last, it restores the
backup into a new database and starts the release on it again: the
rollback of docs/operations.md, which must show the numbers from before.

The numbers that depend only on the clock are left out: `from`, `to`,
`generated_at`, `current_visitors` (the last five minutes) and the empty
buckets of a series (a range moves on by a minute between two readings).

    python3 scripts/test_upgrade.py --current BINARY --server URL --pg-bindir DIR
"""
import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASES = os.path.join(ROOT, "releases.txt")
CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                     "visitors", "releases")
RANGES = ["1h", "24h", "7d", "30d", "all"]
CLOCK_FIELDS = {"from", "to", "generated_at", "current_visitors"}
SITE = "upgrade.example"

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/126.0.0.0 Safari/537.36")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
# (address, User-Agent, Referer): the instance's visits, in order.
PAGE_VISITS = [
    ("203.0.113.1", FIREFOX, "https://news.example.com/item"),
    ("203.0.113.1", FIREFOX, None),
    ("203.0.113.2", CHROME, "https://search.example.org/?q=counter"),
    ("203.0.113.3", IPHONE, None),
    ("203.0.113.3", IPHONE, "https://news.example.com/other"),
    ("203.0.113.4", GOOGLEBOT, None),
    ("203.0.113.5", CHROME, None),
    ("203.0.113.1", FIREFOX, None),
]
# (address, User-Agent, path): a site's pixel hits, then its count=1 badges.
PIXEL_HITS = [
    ("198.51.100.1", FIREFOX, "/"),
    ("198.51.100.1", FIREFOX, "/about"),
    ("198.51.100.2", IPHONE, "/"),
    ("198.51.100.3", CHROME, "/posts/1"),
    ("198.51.100.2", IPHONE, "/posts/1"),
]
BADGE_HITS = [("198.51.100.4", FIREFOX, "/"), ("198.51.100.1", FIREFOX, "/")]


class Failed(Exception):
    pass


def log(message):
    print(f"--- upgrade: {message}", flush=True)


def releases():
    """(version, commit) of every line of releases.txt."""
    with open(RELEASES) as listed:
        rows = [line.split() for line in listed if line.strip() and not line.startswith("#")]
    return [(version, commit) for version, commit in rows]


def release_binary(version, commit):
    """The release's binary, built once per commit (a debug build, which is
    the quickest, from `git archive` of the commit) and kept in CACHE."""
    cached = os.path.join(CACHE, commit, "visitors")
    if os.access(cached, os.X_OK):
        return cached
    source = os.path.join(ROOT, "target", "releases", f"src-{version}")
    shutil.rmtree(source, ignore_errors=True)
    os.makedirs(source)
    archive = subprocess.run(["git", "-C", ROOT, "archive", commit], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", source], input=archive.stdout, check=True)
    log(f"building {version} ({commit[:8]})")
    target = os.path.join(ROOT, "target", "releases", "target")
    env = dict(os.environ, CARGO_TARGET_DIR=target, SQLX_OFFLINE="true",
               CARGO_PROFILE_DEV_DEBUG="false")
    # Not instrumented for coverage (cargo-llvm-cov's wrapper and its
    # variables): it is not this build's code.
    for name in list(env):
        if name in ("RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "RUSTC_WRAPPER", "LLVM_PROFILE_FILE",
                    "CARGO_BUILD_TARGET_DIR") or "CARGO_LLVM_COV" in name:
            del env[name]
    started = time.monotonic()
    subprocess.run(["cargo", "build", "--locked", "--quiet"], cwd=source, env=env, check=True)
    os.makedirs(os.path.dirname(cached), exist_ok=True)
    shutil.copy(os.path.join(target, "debug", "visitors"), cached + ".new")
    os.replace(cached + ".new", cached)
    log(f"built {version} in {time.monotonic() - started:.0f} s")
    return cached


class Server:
    """A binary's `visitors serve` on 127.0.0.1 and a port it picks."""

    def __init__(self, binary, database_url, workdir, name, current=False):
        self.log_path = os.path.join(workdir, f"{name}.log")
        # Only this build writes a coverage profile.
        kept = ("PATH", "LLVM_PROFILE_FILE") if current else ("PATH",)
        env = {key: value for key, value in os.environ.items() if key in kept}
        env.update(DATABASE_URL=database_url, ROCKET_ADDRESS="127.0.0.1", ROCKET_PORT="0",
                   ROCKET_IP_HEADER="X-Real-IP", STATS_CACHE_MS="0", METRICS_PORT="0",
                   VISITOR_SECRET_FILE=os.path.join(workdir, f"{name}.secret"),
                   ROCKET_CLI_COLORS="false", LOG_FORMAT="text")
        self.env = env
        with open(self.log_path, "wb") as out:
            self.process = subprocess.Popen([binary, "serve"], env=env, stdout=out, stderr=subprocess.STDOUT)
        self.port = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Failed(f"{name} exited at start: {open(self.log_path).read()[-2000:]}")
            if self.port is None:
                # Some releases colour their log even into a file.
                text = re.sub(r"\x1b\[[0-9;]*m", "", open(self.log_path).read())
                found = re.search(r"\blistening.*?\bport=(\d+)", text)
                self.port = found and int(found.group(1))
            if self.port and self.get("/readyz")[0] == 200:
                return
            time.sleep(0.05)
        raise Failed(f"{name} was not ready within 90 s")

    def get(self, path, headers=None):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
            connection.request("GET", path, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read()
        except OSError as error:
            return str(error), b""

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def visit(server, address, agent, referer=None, path="/"):
    headers = {"X-Real-IP": address, "User-Agent": agent}
    if referer:
        headers["Referer"] = referer
    status, body = server.get(path, headers)
    if status != 200:
        raise Failed(f"GET {path} answered {status}")
    return body


def has_sites(binary):
    return "sites" in subprocess.run([binary, "--help"], capture_output=True, text=True).stdout


def drive(server, binary, database_url):
    """The fixed traffic script, through the release's own interface."""
    for address, agent, referer in PAGE_VISITS:
        visit(server, address, agent, referer)
    if not has_sites(binary):
        return
    subprocess.run([binary, "sites", "add", SITE, "--host", f"www.{SITE}", "--public"],
                   env=server.env, check=True, capture_output=True)
    for address, agent, path in PIXEL_HITS:
        visit(server, address, agent, f"https://www.{SITE}{path}", f"/pixel/{SITE}.gif?p={path}")
    for address, agent, path in BADGE_HITS:
        visit(server, address, agent, f"https://{SITE}{path}", f"/badge/{SITE}.svg?count=1&p={path}")


def flatten(value, path=""):
    """{path: number} of every number in an API answer, lists of named
    entries keyed by name, series by their start; clock-only fields and
    empty buckets left out."""
    numbers = {}
    if isinstance(value, dict):
        if "start" in value and not (value.get("visits") or value.get("unique_visitors")
                                     or value.get("imported")):
            return numbers
        for key, item in value.items():
            if key not in CLOCK_FIELDS:
                numbers.update(flatten(item, f"{path}.{key}"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            name = (item.get("name") or item.get("start") or index) if isinstance(item, dict) else index
            numbers.update(flatten(item, f"{path}[{name}]"))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        numbers[path] = value
    return numbers


def numbers_of(server, binary):
    """Every number the API shows, for every range: the instance's, and the
    site's where there are sites."""
    apis = ["/api/stats"] + ([f"/api/sites/{SITE}/stats"] if has_sites(binary) else [])
    numbers = {}
    for api in apis:
        for range_ in RANGES:
            status, body = server.get(f"{api}?range={range_}")
            if status != 200:
                raise Failed(f"{api}?range={range_} answered {status}")
            numbers.update(flatten(json.loads(body), f"{api}?range={range_}"))
    return numbers


def compare(before, after, what):
    """Fails with every number of `before` that `after` shows differently."""
    changed = [f"{path}: {value} before, {after.get(path, 'missing')} after"
               for path, value in sorted(before.items()) if after.get(path) != value]
    if changed:
        raise Failed(f"{what}: {len(changed)} of {len(before)} numbers changed:\n    "
                     + "\n    ".join(changed[:20]))
    return len(before)


def new_visits_add_exactly(server, before):
    """Three new people and a returning one: the all-time numbers grow by
    exactly that, and the returning one's count goes on."""
    returning = PAGE_VISITS[0]
    times = sum(1 for v in PAGE_VISITS if v[:2] == returning[:2])
    for i in range(3):
        visit(server, f"192.0.2.{i + 10}", FIREFOX)
    page = visit(server, returning[0], returning[1]).decode()
    seen = re.search(r"You have visited this page <strong>(\d+)</strong>", page)
    if not seen or int(seen.group(1)) != times + 1:
        raise Failed(f"the returning visitor was not recognised: {seen and seen.group(0)}")
    after = numbers_of_instance(server)
    for key, grown in [("unique_visitors", 3), ("visits", 4)]:
        path = f"/api/stats?range=all.{key}"
        if after[path] != before[path] + grown:
            raise Failed(f"{path}: {before[path]} + {grown} expected, {after[path]} shown")


def numbers_of_instance(server):
    status, body = server.get("/api/stats?range=all")
    if status != 200:
        raise Failed(f"/api/stats answered {status}")
    return flatten(json.loads(body), "/api/stats?range=all")


class Cluster:
    def __init__(self, server, bindir):
        self.server, self.bindir = server, bindir

    def url(self, name):
        return re.sub(r"/[^/]*$", f"/{name}", self.server)

    def psql(self, sql):
        subprocess.run([os.path.join(self.bindir, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                        self.server, "-c", sql], check=True, capture_output=True)

    def fresh(self, name):
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.psql(f"CREATE DATABASE {name}")
        return self.url(name)

    def drop(self, name):
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def upgrade_from(version, commit, current, cluster, workdir):
    binary = release_binary(version, commit)
    name = "upgrade_" + version.replace(".", "_")
    url = cluster.fresh(name)
    old = Server(binary, url, workdir, f"{version}-before")
    try:
        drive(old, binary, url)
        before = numbers_of(old, binary)
    finally:
        old.stop()
    backup = os.path.join(workdir, f"{name}.dump")
    subprocess.run([os.path.join(cluster.bindir, "pg_dump"), "-Fc", "-f", backup, url], check=True)

    new = Server(current, url, workdir, f"{version}-upgraded", current=True)
    try:
        compared = compare(before, numbers_of(new, binary), f"{version} → this build")
        new_visits_add_exactly(new, numbers_of_instance(new))
    finally:
        new.stop()

    # Rolling back: the backup taken before the upgrade, and the release.
    restored = cluster.fresh(f"{name}_restored")
    subprocess.run([os.path.join(cluster.bindir, "pg_restore"), "--no-owner", "--exit-on-error",
                    "--single-transaction", "-d", restored, backup], check=True)
    rolled_back = Server(binary, restored, workdir, f"{version}-rolled-back")
    try:
        compare(before, numbers_of(rolled_back, binary), f"{version} restored from its pre-upgrade backup")
    finally:
        rolled_back.stop()
    cluster.drop(name)
    cluster.drop(f"{name}_restored")
    return compared


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--current", required=True)
    parser.add_argument("--server", required=True, help="postgres://… of a server to create databases on")
    parser.add_argument("--pg-bindir", required=True)
    args = parser.parse_args()
    cluster = Cluster(args.server, args.pg_bindir)
    workdir = tempfile.mkdtemp(prefix="visitors-upgrade.")
    try:
        for version, commit in releases():
            compared = upgrade_from(version, commit, args.current, cluster, workdir)
            log(f"{version} → this build: {compared} numbers compared, all equal; new visits added "
                f"exactly; the pre-upgrade backup restored and served by {version} with the same numbers")
    except Failed as failure:
        sys.exit(f"test-upgrade: FAILED: {failure} (logs in {workdir})")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
