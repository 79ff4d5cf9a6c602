"""What the process-level test suites (scripts/test_faults.py,
scripts/test_upgrade.py) share: a PostgreSQL cluster of their own, a
`visitors serve` process found by the port it logs, plain HTTP GETs, and
the User-Agents their traffic uses."""
import http.client
import os
import re
import signal
import subprocess
import time

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/126.0.0.0 Safari/537.36")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


class Failed(Exception):
    pass


def logger(prefix):
    def log(message):
        print(f"--- {prefix}: {message}", flush=True)
    return log


def get(host, port, path, headers=None, timeout=20):
    """(status, body) of a GET; the error's text instead of a status when
    the connection fails."""
    try:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return response.status, body
    except (OSError, http.client.HTTPException) as error:
        return f"{type(error).__name__}: {error}", b""


class Cluster:
    """A running cluster in `data` on 127.0.0.1:`port` (started by
    scripts/lib/postgres.sh), with user postgres and trust authentication."""

    def __init__(self, data, port, bindir):
        self.data, self.port, self.bindir = data, port, bindir

    def url(self, database):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def tool(self, name):
        return os.path.join(self.bindir, name)

    def psql(self, sql, database="postgres"):
        result = subprocess.run(
            [self.tool("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", self.url(database),
             "-c", sql], check=True, capture_output=True, text=True)
        return result.stdout.strip()

    def fresh(self, database):
        """An empty database of that name; its URL."""
        self.drop(database)
        self.psql(f"CREATE DATABASE {database}")
        return self.url(database)

    def drop(self, database):
        self.psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")

    def as_owner(self, *command):
        prefix = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        subprocess.run(prefix + list(command), check=True, stdout=subprocess.DEVNULL)

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
        self.as_owner(self.tool("pg_ctl"), "-D", self.data, "-m", "fast", "-w", "restart")


def binary_env(profiled, **settings):
    """The environment of a `visitors` process: PATH, the settings, and the
    coverage profile's location when it is this build (`profiled`)."""
    kept = ("PATH", "LLVM_PROFILE_FILE") if profiled else ("PATH",)
    env = {key: value for key, value in os.environ.items() if key in kept}
    env.update(ROCKET_CLI_COLORS="false", METRICS_PORT="0", **settings)
    return env


class Server:
    """`visitors serve` with `env`, on the port it was given or, with
    ROCKET_PORT=0, the one it logs; start() returns once /readyz is 200."""

    def __init__(self, binary, env, log_path, name):
        self.binary, self.env, self.log_path, self.name = binary, env, log_path, name
        self.host = env.get("ROCKET_ADDRESS", "127.0.0.1")
        self.port = int(env.get("ROCKET_PORT", "0"))
        self.process = None

    def start(self, within=90):
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen([self.binary, "serve"], env=self.env, stdout=out,
                                            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Failed(f"{self.name} exited at start: see {self.log_path}")
            if self.port == 0:
                # Some releases colour their log even into a file.
                with open(self.log_path, errors="replace") as text:
                    plain = re.sub(r"\x1b\[[0-9;]*m", "", text.read())
                found = re.search(r"\blistening.*?\bport\"?[=:](\d+)", plain)
                self.port = int(found.group(1)) if found else 0
            if self.port and self.get("/readyz", timeout=2)[0] == 200:
                return self
            time.sleep(0.05)
        raise Failed(f"{self.name} was not ready within {within} s")

    def get(self, path, headers=None, timeout=20):
        return get(self.host, self.port, path, headers, timeout)

    def signal(self, number):
        self.process.send_signal(number)

    def wait(self, timeout):
        return self.process.wait(timeout=timeout)

    def stop(self):
        """SIGTERM, as a deploy stops it (its coverage profile is written)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def poll(condition, within, what, every=0.05):
    """condition()'s first true value within `within` seconds, else Failed."""
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise Failed(f"{what}: not within {within} s")
        time.sleep(every)
