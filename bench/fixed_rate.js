// An open-loop load at a fixed offered rate, for bench/pixel.sh: request i
// is sent at START + i / RATE whatever the earlier answers' speed (wrk can
// only saturate; autocannon's rate is a per-connection quota per second,
// sent in a burst at each second's start). Latency runs from the time a
// request was due, not from when a connection was free, so a server that
// falls behind shows it (no coordinated omission). Node's own http client,
// keep-alive, at most CONNECTIONS sockets; no dependency to install.
//   node bench/fixed_rate.js URL RATE SECONDS CONNECTIONS RUN [REFERER]
// Every request is a first visit: a User-Agent never sent before (as
// bench/visitors.lua's "new" mode: nginx overwrites X-Real-IP), with the
// Referer when given (the page holding the pixel). Prints one JSON object:
// offered and achieved requests/s, p50/p90/p99/max latency in ms, errors,
// and how far the sender itself fell behind its schedule (late_ms, p99).
"use strict";
const http = require("node:http");
const { performance } = require("node:perf_hooks");

const [url, rateText, secondsText, connectionsText, run, referer] = process.argv.slice(2);
const rate = Number(rateText);
const seconds = Number(secondsText);
const total = Math.max(1, Math.round(rate * seconds));
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(connectionsText) });
const target = new URL(url);

const latencies = [];
const lateness = [];
let sent = 0;
let done = 0;
let non2xx = 0;
let errors = 0;
let lastAnswer = 0;
const start = performance.now() + 50;

function finish(due, ok) {
  const now = performance.now();
  if (ok) latencies.push(now - due);
  lastAnswer = now;
  done += 1;
  if (done === total) report();
}

function send(i) {
  const due = start + (i * 1000) / rate;
  lateness.push(performance.now() - due);
  const headers = {
    "User-Agent":
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) " +
      `Chrome/124.0.0.0 Safari/537.36 visitor/${run}-${i}`,
  };
  if (referer) headers.Referer = referer;
  const request = http.get(
    { host: target.hostname, port: target.port, path: target.pathname + target.search, agent, headers },
    (response) => {
      if (response.statusCode < 200 || response.statusCode >= 400) non2xx += 1;
      response.resume();
      response.on("end", () => finish(due, response.statusCode < 400));
    },
  );
  request.setTimeout(10000, () => request.destroy(new Error("timeout")));
  request.on("error", () => {
    errors += 1;
    finish(due, false);
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function report() {
  clearInterval(ticker);
  const sorted = Float64Array.from(latencies).sort();
  const late = Float64Array.from(lateness).sort();
  console.log(
    JSON.stringify({
      offered_rps: rate,
      rps: done / Math.max(seconds, (lastAnswer - start) / 1000),
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted.length ? sorted[sorted.length - 1] : 0,
      non_2xx: non2xx,
      socket_errors: errors,
      late_ms_p99: Math.max(0, percentile(late, 99)),
    }),
  );
  agent.destroy();
}

// Every millisecond, send what has come due.
const ticker = setInterval(() => {
  const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
  while (sent < due) send(sent++);
}, 1);
