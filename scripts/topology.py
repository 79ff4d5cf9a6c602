"""The stack's network on this machine, as the compose file builds it, for the
topology tests and the stack benchmark (one harness for both): dnsmasq
answering service names with several addresses (as Docker's DNS answers for
a scaled service) and nginx with the project's template in front of them.
The callers start the app replicas themselves (on 127.0.0.1, .2, .3 and one
port).

    python3 scripts/topology.py DIR [--host NAME=ADDRESS ...]
        [--proxy NAME=UPSTREAM ...] [--constant NAME ...]
        [--rate 10r/s] [--burst 20] [--server-conf FILE ...]

--proxy starts the project's nginx (nginx/templates/) in front of UPSTREAM
(`app:8000`, or `@NAME` for the constant server NAME), --constant an nginx that answers every request at once
(bench/constant.conf.template, the proxy's ceiling); --server-conf adds a
file to the proxies' server.d/ (where a deployment adds its own settings).
Once everything
answers, one JSON line goes to stdout: {"dns": PORT, "NAME": PORT, ...}.
It then runs until it gets SIGTERM (or, with --stop-on-eof, until stdin
closes: a test that dies takes it along), stops what it started and deletes
DIR. nginx and dnsmasq cannot be told to pick a free port, so
each gets one that was free a moment ago, and another when it exits because
something took it meanwhile."""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import render_nginx  # noqa: E402

CONSTANT_TEMPLATE = os.path.join(HERE, "..", "bench", "constant.conf.template")
ATTEMPTS = 5
START_TIMEOUT = 10


def free_port():
    """A port free for TCP and UDP on 127.0.0.1 a moment ago."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port


def start(command, ready):
    """Starts COMMAND until ready() holds; a process that exits meanwhile is
    started again on another port. Returns (process, port)."""
    for _ in range(ATTEMPTS):
        port = free_port()
        process = subprocess.Popen(command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while process.poll() is None and time.monotonic() < deadline:
            if ready(port):
                return process, port
            time.sleep(0.01)
        if process.poll() is None:
            process.terminate()
            sys.exit(f"{command(port)[0]} did not answer within {START_TIMEOUT} s")
    sys.exit(f"{command(0)[0]} could not listen on any of {ATTEMPTS} ports")


def accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def answers(port):
    """nginx is up when its own /lb-health (or any path of the constant one) answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lb-health", timeout=1):
            return True
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--host", action="append", default=[])
    parser.add_argument("--proxy", action="append", default=[])
    parser.add_argument("--constant", action="append", default=[])
    parser.add_argument("--rate", default="10r/s")
    parser.add_argument("--burst", default="20")
    parser.add_argument("--server-conf", action="append", default=[])
    parser.add_argument("--stop-on-eof", action="store_true",
                        help="also stop when stdin closes (the caller went away)")
    args = parser.parse_args()

    os.makedirs(args.dir, exist_ok=True)
    started = []
    ports = {}

    def stop(*_):
        for process in reversed(started):
            # SIGTERM: nginx's master then stops its workers too.
            process.terminate()
        for process in started:
            process.wait()
        shutil.rmtree(args.dir, ignore_errors=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    hosts = os.path.join(args.dir, "hosts")
    with open(hosts, "w") as out:
        for entry in args.host:
            name, address = entry.split("=", 1)
            out.write(f"{address} {name}\n")
    dnsmasq = shutil.which("dnsmasq") or os.environ.get("DNSMASQ_BIN", "dnsmasq")
    process, ports["dns"] = start(
        lambda port: [dnsmasq, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                      "--no-hosts", "--bind-interfaces", "--listen-address=127.0.0.1",
                      "--pid-file=", f"--port={port}", f"--addn-hosts={hosts}"],
        accepts,
    )
    started.append(process)

    nginx = os.environ.get("NGINX_BIN") or shutil.which("nginx") or "nginx"
    # The constant servers first: a proxy's upstream `@NAME` is one of them,
    # by its host name and the port it got.
    servers = [(name, CONSTANT_TEMPLATE, None) for name in args.constant]
    servers += [(name, render_nginx.TEMPLATE, upstream) for name, upstream in
                (entry.split("=", 1) for entry in args.proxy)]
    for name, template, upstream in servers:
        directory = os.path.join(args.dir, name)

        def command(port, directory=directory, template=template, upstream=upstream):
            variables = {"NGINX_LISTEN_PORT": str(port)}
            if upstream and upstream.startswith("@"):
                upstream = f"{upstream[1:]}:{ports[upstream[1:]]}"
            if upstream:
                variables.update(NGINX_APP_UPSTREAM=upstream, NGINX_RESOLVER=f"127.0.0.1:{ports['dns']}",
                                 NGINX_RATE_LIMIT=args.rate, NGINX_RATE_BURST=args.burst)
            render_nginx.write(template, directory, variables)
            if upstream:
                os.makedirs(os.path.join(directory, "server.d"), exist_ok=True)
                for extra in args.server_conf:
                    shutil.copy(extra, os.path.join(directory, "server.d"))
            return [nginx, "-p", directory, "-c", os.path.join(directory, "nginx.conf")]

        process, ports[name] = start(command, answers)
        started.append(process)

    print(json.dumps(ports), flush=True)
    if args.stop_on_eof:
        threading.Thread(target=lambda: (sys.stdin.read(), stop()), daemon=True).start()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
