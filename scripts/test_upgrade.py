"""The upgrade test (`make test-upgrade`, part of the test command): from
every release in releases.txt to this build, on a PostgreSQL cluster of
its own whose clock it sets (scripts/test-upgrade.sh starts it under
libfaketime, reading the offset from the --clock file).

For each release it builds that version's binary from git (cached by
commit), lets it create its schema on an empty database, and drives it
with a fixed traffic script through its own HTTP interface, over forty
days of the database's clock: visits of the instance's page by people and
a crawler, with referrers, some of them returning days, hours or minutes
later; and where the release has sites, a public site with pixel and
badge hits. It reads every number the release's API shows, for every
range; takes a backup with scripts/backup.sh (as the deploy does before
migrating); then starts this build on that database, which migrates it,
and checks that every one of those numbers is the same in this build's
API, and that new visits add to them exactly in every range (a returning
person is still recognised). Last, scripts/restore.sh restores the backup
into a new database and the release starts on it again: the rollback of
docs/operations.md, which must show the numbers from before.

Every release reads its numbers at noon of a day of its own (60 days
after the previous release's), so no range's window crosses a day or an
hour between two readings. The numbers that depend only on the clock are
left out: `from`, `to`, `generated_at` and `current_visitors`, and the
empty buckets of a series.

    python3 scripts/test_upgrade.py --current BINARY --pg-data DIR --pg-port PORT
        --pg-bindir DIR --clock FILE
"""
import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
from harness import CHROME, FIREFOX, GOOGLEBOT, IPHONE, Cluster, Failed, Server, binary_env, logger, poll  # noqa: E402,E501

ROOT = os.path.dirname(HERE)
RELEASES = os.path.join(ROOT, "releases.txt")
CACHE = os.environ.get("VISITORS_RELEASES_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "visitors", "releases")
LOCAL_COMPOSE = f"{sys.executable} {os.path.join(ROOT, 'tests', 'fixtures', 'local_compose.py')}"
RANGES = ["1h", "24h", "7d", "30d", "all"]
CLOCK_FIELDS = {"from", "to", "generated_at", "current_visitors"}
SITE = "upgrade.example"
DAY = 86400

# The traffic script: (seconds before the reading, requests). A request is
# ("page", address, User-Agent, Referer): the instance's own page; or
# ("pixel" | "badge", address, User-Agent, path): a hit of the site's page
# (a count=1 badge), skipped by a release without sites.
HISTORY = [
    (40 * DAY, [("page", "203.0.113.1", FIREFOX, "https://news.example.com/item"),
                ("page", "203.0.113.2", CHROME, "https://search.example.org/?q=counter"),
                ("pixel", "198.51.100.1", FIREFOX, "/"),
                ("pixel", "198.51.100.2", IPHONE, "/about")]),
    (20 * DAY, [("page", "203.0.113.1", FIREFOX, None),
                ("page", "203.0.113.3", IPHONE, None),
                ("page", "203.0.113.9", GOOGLEBOT, None),
                ("pixel", "198.51.100.1", FIREFOX, "/about"),
                ("badge", "198.51.100.3", CHROME, "/")]),
    (8 * DAY, [("page", "203.0.113.1", FIREFOX, "https://news.example.com/other"),
               ("page", "203.0.113.4", CHROME, None),
               ("pixel", "198.51.100.2", IPHONE, "/posts/1")]),
    (2 * DAY, [("page", "203.0.113.3", IPHONE, "https://news.example.com/other"),
               ("page", "203.0.113.2", CHROME, None),
               ("pixel", "198.51.100.1", FIREFOX, "/"),
               ("pixel", "198.51.100.4", CHROME, "/posts/1")]),
    (3 * 3600, [("page", "203.0.113.1", FIREFOX, None),
                ("page", "203.0.113.5", CHROME, None),
                ("badge", "198.51.100.2", IPHONE, "/"),
                ("pixel", "198.51.100.3", CHROME, "/about")]),
    (15 * 60, [("page", "203.0.113.4", CHROME, None),
               ("page", "203.0.113.6", IPHONE, "https://search.example.org/?q=visitors"),
               ("page", "203.0.113.9", GOOGLEBOT, None),
               ("pixel", "198.51.100.1", FIREFOX, "/posts/1"),
               ("badge", "198.51.100.5", FIREFOX, "/")]),
]
# Seen in the last phase, so in every range: their next visit adds a visit
# and no visitor anywhere.
RETURNING_PAGE = ("203.0.113.4", CHROME)
RETURNING_SITE = ("198.51.100.1", FIREFOX)

log = logger("upgrade")


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


class Clock:
    """The database server's clock: real time plus the offset in the file
    its processes read at every reading (libfaketime)."""

    def __init__(self, path, cluster):
        self.path, self.cluster = path, cluster

    def set(self, at):
        """Moves the server's clock to `at` (a UTC datetime) and waits until
        a new connection reads it."""
        offset = round(at.timestamp() - time.time())
        with open(self.path + ".new", "w") as new:
            new.write(f"{offset:+d}\n")
        os.chmod(self.path + ".new", 0o644)
        os.replace(self.path + ".new", self.path)
        poll(lambda: abs(float(self.cluster.psql("SELECT extract(epoch FROM now())"))
                         - (time.time() + offset)) < 5,
             10, f"the database's clock at {at:%Y-%m-%d %H:%M}")


def serve(binary, database_url, workdir, name, current=False):
    env = binary_env(current, DATABASE_URL=database_url, ROCKET_ADDRESS="127.0.0.1", ROCKET_PORT="0",
                     ROCKET_IP_HEADER="X-Real-IP", STATS_CACHE_MS="0", LOG_FORMAT="text",
                     VISITOR_SECRET_FILE=os.path.join(workdir, f"{name}.secret"))
    return Server(binary, env, os.path.join(workdir, f"{name}.log"), name).start()


def send(server, address, agent, referer=None, path="/"):
    headers = {"X-Real-IP": address, "User-Agent": agent}
    if referer:
        headers["Referer"] = referer
    status, body = server.get(path, headers)
    if status != 200:
        raise Failed(f"GET {path} answered {status}")
    return body


def request(server, kind, address, agent, detail):
    if kind == "page":
        return send(server, address, agent, detail)
    if kind == "pixel":
        return send(server, address, agent, f"https://www.{SITE}{detail}", f"/pixel/{SITE}.gif?p={detail}")
    return send(server, address, agent, f"https://{SITE}{detail}", f"/badge/{SITE}.svg?count=1&p={detail}")


def has_sites(binary):
    return "sites" in subprocess.run([binary, "--help"], capture_output=True, text=True).stdout


def drive(server, binary, clock, reading):
    """The fixed traffic script, through the release's own interface, each
    phase at its time before `reading`."""
    sites = has_sites(binary)
    if sites:
        clock.set(reading - datetime.timedelta(seconds=HISTORY[0][0]))
        subprocess.run([binary, "sites", "add", SITE, "--host", f"www.{SITE}", "--public"],
                       env=server.env, check=True, capture_output=True)
    for before, requests in HISTORY:
        clock.set(reading - datetime.timedelta(seconds=before))
        for kind, *visit in requests:
            if kind == "page" or sites:
                request(server, kind, *visit)
    clock.set(reading)


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


def new_visits_add_exactly(server, binary, before):
    """Three new people and a returning one on the instance's page, two new
    ones and a returning one on the site's: every range's unique visitors
    and visits grow by exactly that (the returning ones were seen in every
    range already), and the returning person's count goes on."""
    address, agent = RETURNING_PAGE
    times = sum(1 for _, requests in HISTORY for r in requests if r[:3] == ("page", address, agent))
    for i in range(3):
        send(server, f"192.0.2.{i + 10}", FIREFOX)
    page = send(server, address, agent).decode()
    seen = re.search(r"You have visited this page <strong>(\d+)</strong>", page)
    if not seen or int(seen.group(1)) != times + 1:
        raise Failed(f"the returning visitor was not recognised: {seen and seen.group(0)}")
    growth = {"/api/stats": (3, 4)}
    if has_sites(binary):
        for i in range(2):
            request(server, "pixel", f"192.0.2.{i + 20}", IPHONE, "/new")
        request(server, "pixel", *RETURNING_SITE, "/new")
        growth[f"/api/sites/{SITE}/stats"] = (2, 3)
    after = numbers_of(server, binary)
    for api, (visitors, visits) in growth.items():
        for range_ in RANGES:
            for key, grown in [("unique_visitors", visitors), ("visits", visits)]:
                path = f"{api}?range={range_}.{key}"
                if after[path] != before[path] + grown:
                    raise Failed(f"after new visits, {path}: {before[path]} + {grown} expected, "
                                 f"{after[path]} shown")


def upgrade_from(version, commit, reading, current, cluster, clock, workdir):
    binary = release_binary(version, commit)
    name = "upgrade_" + version.replace(".", "_")
    url = cluster.fresh(name)
    old = serve(binary, url, workdir, f"{version}-before")
    try:
        drive(old, binary, clock, reading)
        before = numbers_of(old, binary)
    finally:
        old.stop()
    backup = os.path.join(workdir, f"{name}.dump")
    compose = dict(os.environ, COMPOSE=LOCAL_COMPOSE, LOCAL_COMPOSE_PG=f"{cluster.bindir} {cluster.port} {name}")
    subprocess.run([os.path.join(ROOT, "scripts", "backup.sh"), backup], env=compose, check=True,
                   stdout=subprocess.DEVNULL)

    new = serve(current, url, workdir, f"{version}-upgraded", current=True)
    try:
        after = numbers_of(new, binary)
        compared = compare(before, after, f"{version} → this build")
        new_visits_add_exactly(new, binary, after)
    finally:
        new.stop()

    # Rolling back: the backup taken before the upgrade, and the release.
    restored = f"{name}_restored"
    compose["LOCAL_COMPOSE_PG"] = f"{cluster.bindir} {cluster.port} {restored}"
    subprocess.run([os.path.join(ROOT, "scripts", "restore.sh"), backup], env=compose, check=True,
                   stdout=subprocess.DEVNULL)
    rolled_back = serve(binary, cluster.url(restored), workdir, f"{version}-rolled-back")
    try:
        compare(before, numbers_of(rolled_back, binary), f"{version} restored from its pre-upgrade backup")
    finally:
        rolled_back.stop()
    cluster.drop(name)
    cluster.drop(restored)
    return compared


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--current", required=True)
    parser.add_argument("--pg-data", required=True)
    parser.add_argument("--pg-port", required=True, type=int)
    parser.add_argument("--pg-bindir", required=True)
    parser.add_argument("--clock", required=True, help="the offset file the server's libfaketime reads")
    args = parser.parse_args()
    cluster = Cluster(args.pg_data, args.pg_port, args.pg_bindir)
    clock = Clock(args.clock, cluster)
    workdir = tempfile.mkdtemp(prefix="visitors-upgrade.")
    noon = datetime.datetime.now(datetime.timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0)
    try:
        for index, (version, commit) in enumerate(releases()):
            reading = noon + datetime.timedelta(days=60 * index)
            compared = upgrade_from(version, commit, reading, args.current, cluster, clock, workdir)
            log(f"{version} → this build: {compared} numbers compared, all equal; new visits added "
                f"exactly in every range; the pre-upgrade backup (scripts/backup.sh) restored "
                f"(scripts/restore.sh) and served by {version} with the same numbers")
    except Failed as failure:
        sys.exit(f"test-upgrade: FAILED: {failure} (logs in {workdir})")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
