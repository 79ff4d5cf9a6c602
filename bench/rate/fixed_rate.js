// A fixed offered rate of new visitors (autocannon's overallRate: requests
// are sent at RATE per second in total, whatever the answers' speed, as
// long as CONNECTIONS suffice), printed as one JSON object like
// bench/wrk_summary.py's: achieved requests/s, p50/p90/p99/max latency in
// ms, errors.
//   node bench/rate/fixed_rate.js URL RATE SECONDS CONNECTIONS RUN [REFERER]
// Every request is a first visit: a User-Agent never sent before (as
// bench/visitors.lua's "new" mode; nginx overwrites X-Real-IP), and a
// Referer when given (the page holding the pixel).
"use strict";
const autocannon = require("autocannon");

const [url, rate, seconds, connections, run, referer] = process.argv.slice(2);
let counter = 0;
const target = new URL(url);

const instance = autocannon(
  {
    url,
    overallRate: Number(rate),
    duration: Number(seconds),
    connections: Number(connections),
    pipelining: 1,
    timeout: 10,
    requests: [
      {
        method: "GET",
        path: target.pathname + target.search,
        setupRequest(request) {
          counter += 1;
          request.headers = {
            "user-agent":
              "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) " +
              `Chrome/124.0.0.0 Safari/537.36 visitor/${run}-rate-${counter}`,
            ...(referer ? { referer } : {}),
          };
          return request;
        },
      },
    ],
  },
  (error, result) => {
    if (error) {
      console.error(error);
      process.exit(1);
    }
    const l = result.latency;
    const rps = result.requests.total / (result.duration || Number(seconds));
    console.log(
      JSON.stringify({
        offered_rps: Number(rate),
        rps,
        p50: l.p50,
        p90: l.p90,
        p99: l.p99,
        max: l.max,
        non_2xx: result.non2xx,
        socket_errors: result.errors + result.timeouts,
      }),
    );
  },
);
process.once("SIGINT", () => instance.stop());
