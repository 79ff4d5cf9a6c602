// An open-loop load at a fixed offered rate, for bench/pixel.sh: request i
// is sent at START + i / RATE whatever the earlier answers' speed (wrk can
// only saturate; autocannon's rate is a per-connection quota per second,
// sent in a burst at each second's start). Latency runs from the time a
// request was due, not from when a connection was free, so a server that
// falls behind shows it (no coordinated omission). CONNECTIONS keep-alive
// sockets, one request at a time each, written and read as raw HTTP/1.1
// (Node's http client cost too much per request to offer 1000/s on a
// machine shared with the stack); no dependency to install.
//   node bench/fixed_rate.js URL RATE SECONDS CONNECTIONS RUN [REFERER] [METHOD]
// Every request is a first visit: a User-Agent never sent before (as
// bench/visitors.lua's "new" mode: nginx overwrites X-Real-IP), with the
// Referer when given (the page holding the pixel); METHOD POST sends the
// script's body-less POST (GET by default). Prints one JSON object:
// offered and achieved requests/s, p50/p90/p99/max latency in ms, errors,
// and how far the sender itself fell behind its schedule (late_ms, p99).
"use strict";
const net = require("node:net");
const { performance } = require("node:perf_hooks");

const [url, rateText, secondsText, connectionsText, run, referer, method = "GET"] = process.argv.slice(2);
const rate = Number(rateText);
const seconds = Number(secondsText);
const total = Math.max(1, Math.round(rate * seconds));
const target = new URL(url);
const port = Number(target.port || 80);
const head =
  `${method} ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n` +
  (method === "POST" ? "Content-Length: 0\r\n" : "") +
  (referer ? `Referer: ${referer}\r\n` : "") +
  "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) " +
  `Chrome/124.0.0.0 Safari/537.36 visitor/${run}-`;

const latencies = new Float64Array(total);
const lateness = new Float64Array(total);
let answered = 0;
let sent = 0;
let done = 0;
let non2xx = 0;
let errors = 0;
let lastAnswer = 0;
const waiting = []; // due requests without a free connection, oldest first
let waitingHead = 0;
const idle = [];
const start = performance.now() + 50;

function finish(due, ok) {
  const now = performance.now();
  if (ok) latencies[answered++] = now - due;
  lastAnswer = now;
  done += 1;
  if (done === total) report();
}

// One keep-alive connection: sends a request, reads its answer (headers,
// then Content-Length bytes or chunks up to the last), takes the next.
function connection() {
  const c = { socket: null, due: 0, busy: false, closing: false, buffer: Buffer.alloc(0) };
  const open = () => {
    c.socket = net.connect(port, target.hostname);
    c.socket.setNoDelay(true);
    c.socket.on("data", (data) => {
      c.buffer = c.buffer.length ? Buffer.concat([c.buffer, data]) : data;
      parse(c);
    });
    c.socket.on("error", () => {});
    c.socket.on("close", () => {
      // An idle connection the server closed is still in the idle list.
      const wasBusy = c.busy || c.closing;
      if (c.busy) {
        c.busy = false;
        errors += 1;
        finish(c.due, false);
      }
      c.closing = false;
      c.buffer = Buffer.alloc(0);
      if (done < total) open();
      if (wasBusy) next(c);
    });
  };
  open();
  return c;
}

function parse(c) {
  const end = c.buffer.indexOf("\r\n\r\n");
  if (end < 0) return;
  const headers = c.buffer.toString("latin1", 0, end);
  const status = Number(headers.slice(9, 12));
  const length = /\r\ncontent-length: *(\d+)/i.exec(headers);
  let size;
  if (length) {
    size = end + 4 + Number(length[1]);
    if (c.buffer.length < size) return;
  } else if (/\r\ntransfer-encoding: *chunked/i.test(headers)) {
    const last = c.buffer.indexOf("\r\n0\r\n\r\n", end);
    if (last < 0) return;
    size = last + 7;
  } else {
    size = end + 4;
  }
  c.buffer = c.buffer.subarray(size);
  c.busy = false;
  if (status < 200 || status >= 400) non2xx += 1;
  finish(c.due, status >= 200 && status < 400);
  if (/\r\nconnection: *close/i.test(headers)) {
    // The server's last answer on this connection (nginx's keepalive_requests).
    c.closing = true;
    c.socket.destroy();
  } else {
    next(c);
  }
}

function write(c, i) {
  c.busy = true;
  c.due = start + (i * 1000) / rate;
  c.socket.write(`${head}${i}\r\n\r\n`);
}

function next(c) {
  if (c.busy) return;
  if (waitingHead < waiting.length) write(c, waiting[waitingHead++]);
  else idle.push(c);
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function report() {
  clearInterval(ticker);
  const sorted = latencies.slice(0, answered).sort();
  const late = lateness.slice().sort();
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
  process.exit(0);
}

for (let n = 0; n < Number(connectionsText); n++) idle.push(connection());

// Every millisecond, send what has come due (or queue it for the next free
// connection).
const ticker = setInterval(() => {
  const now = performance.now();
  const due = Math.min(total, Math.floor(((now - start) * rate) / 1000) + 1);
  while (sent < due) {
    const i = sent++;
    lateness[i] = now - (start + (i * 1000) / rate);
    const c = idle.pop();
    if (c) write(c, i);
    else waiting.push(i);
  }
}, 1);
