// The optional script on a single-page app of another origin, in real
// Chromium (Debian's, driven by playwright-core), under a strict
// Content-Security-Policy (the script's origin in script-src, connect-src
// and img-src; no inline script, no eval). One reader loads the app from a
// campaign's link, moves through it with pushState and replaceState, goes
// back and forward, leaves and comes back from the back-forward cache, and
// clicks an outbound link that sends an event; another reads the same page
// without JavaScript (its <noscript> pixel counts); a third comes from
// Google to a page that loads the script's versioned address, and reloads;
// a fourth moves through a hash-routed app (data-hash). The site's API then
// shows exactly the page views, sources, campaign values and events that
// happened, once each.
// Run by scripts/browser-test.sh (DASHBOARD_URL, DATABASE_URL, VISITORS_BIN).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const app = process.env.DASHBOARD_URL;
const SITE = 'spa.example';
const ELSEWHERE = 'elsewhere.example';
const flags = [
  ...(process.env.CHROMIUM_FLAGS ?? '--no-sandbox').split(' ').filter(Boolean),
  `--host-resolver-rules=MAP ${SITE} 127.0.0.1, MAP ${ELSEWHERE} 127.0.0.1`,
];
// Three readers, three visitors (HeadlessChrome would be a bot).
const READER = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const NO_JS_READER = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
const SEARCHER = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';
const HASH_READER = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0';

let browser;
let server;
let port;
// The script's versioned address: /script/ and its SHA-256's first 16 hex
// digits.
let versioned;

// Every page of the app: the script as the README gives it (its versioned
// address under /v/, with data-hash under /app/), its <noscript> pixel, and
// an outbound link that is also an event.
function page(path) {
  const script = path.startsWith('/v/') ? versioned : `${app}/script.js`;
  const hash = path.startsWith('/app/') ? ' data-hash' : '';
  return `<!doctype html><meta charset="utf-8"><title>An app</title>
<script defer src="${script}" data-site="${SITE}"${hash}></script>
<noscript><img src="${app}/pixel/${SITE}.gif?p=/" alt="" width="1" height="1"></noscript>
<h1>An app</h1>
<a id="next" href="/other.html">Another page</a>
<a id="away" href="http://${ELSEWHERE}:${port}/away" data-visitors-event="Outbound">Elsewhere</a>`;
}

before(async () => {
  assert.ok(app, 'DASHBOARD_URL names the app to test');
  const { stdout } = await promisify(execFile)(process.env.VISITORS_BIN, ['sites', 'add', SITE, '--public']);
  console.log(stdout.trim());
  const latest = Buffer.from(await (await fetch(`${app}/script.js`)).arrayBuffer());
  versioned = `${app}/script/${createHash('sha256').update(latest).digest('hex').slice(0, 16)}.js`;
  const origin = new URL(app).origin;
  server = createServer((request, response) => {
    const host = (request.headers.host ?? '').split(':')[0];
    const body = host === SITE
      ? page(new URL(request.url, 'http://localhost').pathname)
      : '<!doctype html><title>Elsewhere</title><p>Elsewhere</p>';
    response.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      // What the README says the script needs, and nothing more.
      'Content-Security-Policy': `default-src 'none'; script-src ${origin}; connect-src ${origin}; img-src ${origin}`,
    });
    response.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = server.address().port;
  // Playwright turns the back-forward cache off by default.
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: flags,
    ignoreDefaultArgs: ['--disable-back-forward-cache'],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

async function siteStats() {
  const response = await fetch(`${app}/api/sites/${SITE}/stats?range=24h`);
  assert.equal(response.status, 200);
  return response.json();
}

// What the panels show, for comparing: {name: [visitors, visits]}.
const table = (entries) => Object.fromEntries(entries.map((e) => [e.name, [e.unique_visitors, e.visits ?? null]]));

// The hits the pages sent to the app, as the browser saw them leave.
function hitsOf(context) {
  const hits = [];
  context.on('request', (request) => {
    if (request.url().startsWith(`${app}/hit/`) || request.url().startsWith(`${app}/pixel/`)) {
      hits.push(request.url());
    }
  });
  return hits;
}

// Asks for the site's stats until done(stats) holds (10 s at most): each
// step of the test waits for its hit to be counted before the next.
async function counted(description, done) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const stats = await siteStats();
    if (done(stats)) {
      return stats;
    }
    if (Date.now() > deadline) {
      assert.fail(`${description}; the site's stats are ${JSON.stringify(stats)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const views = (n) => counted(`${n} page views`, (s) => s.visits === n);

test('a single-page app, a page without JavaScript and a reload count exactly what happened', async () => {
  const context = await browser.newContext({ userAgent: READER, viewport: { width: 1280, height: 800 } });
  const hits = hitsOf(context);
  const tab = await context.newPage();
  const errors = [];
  tab.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
  const base = `http://${SITE}:${port}`;
  await tab.goto(`${base}/index.html?utm_source=newsletter&utm_medium=email&utm_campaign=launch&other=dropped`, {
    referer: 'https://news.ycombinator.com/item?id=1',
  });
  await views(1);
  await tab.evaluate(() => history.pushState({}, '', '/a'));
  await views(2);
  await tab.evaluate(() => history.pushState({}, '', '/b'));
  await views(3);
  await tab.evaluate(() => history.replaceState({}, '', '/c'));
  await views(4);
  await tab.evaluate(() => history.replaceState({ same: true }, '', '/c'));
  // History is /index.html, /a, /c: back to /a, forward to /c.
  await tab.goBack({ waitUntil: 'commit' });
  await views(5);
  await tab.goForward({ waitUntil: 'commit' });
  await views(6);
  await tab.evaluate(() => { window.stillThisDocument = true; });
  // A link within the app that loads a page, then back: /c comes out of
  // the back-forward cache.
  await Promise.all([tab.waitForURL(`${base}/other.html`), tab.click('#next')]);
  await views(7);
  await tab.goBack({ waitUntil: 'commit' });
  await tab.waitForFunction(() => window.stillThisDocument === true);
  await views(8);
  // An outbound link: its event leaves with the page.
  await Promise.all([tab.waitForURL(`http://${ELSEWHERE}:${port}/away`), tab.click('#away')]);
  await counted('the Outbound event', (s) => s.events.length === 1);
  assert.deepEqual(errors, [], 'no CSP violation, no error');
  assert.equal(hits.length, 9, hits.join(' '));
  assert.ok(hits.every((url) => url.startsWith(`${app}/hit/${SITE}?`)), `only the script's endpoint: ${hits.join(' ')}`);
  assert.ok(!hits.some((url) => url.includes('other=')), 'a parameter the server does not keep is not sent');
  await context.close();

  // No JavaScript: the <noscript> pixel counts the page.
  const still = await browser.newContext({ userAgent: NO_JS_READER, javaScriptEnabled: false });
  const pixelHits = hitsOf(still);
  await (await still.newPage()).goto(`${base}/index.html`);
  await views(9);
  assert.deepEqual(pixelHits, [`${app}/pixel/spa.example.gif?p=/`]);
  await still.close();

  // From a search, then a reload: two views, one Google visitor.
  const searching = await browser.newContext({ userAgent: SEARCHER });
  const searchHits = hitsOf(searching);
  const searchTab = await searching.newPage();
  await searchTab.goto(`${base}/v/index.html`, { referer: 'https://www.google.de/' });
  await views(10);
  await searchTab.reload();
  await views(11);
  await searching.close();
  assert.equal(searchHits.length, 2);
  assert.ok(searchHits.every((url) => url.startsWith(`${app}/hit/${SITE}?`)), searchHits.join(' '));

  // A hash-routed app: each route is a page of its own.
  const hashing = await browser.newContext({ userAgent: HASH_READER });
  const hashTab = await hashing.newPage();
  await hashTab.goto(`${base}/app/#/about`);
  await views(12);
  await hashTab.evaluate(() => { location.hash = '#/users'; });
  const stats = await views(13);
  await hashing.close();

  assert.equal(stats.unique_visitors, 4);
  assert.equal(stats.visits, 13, 'eight views in the app, the page without JavaScript, a view and its reload, two hash routes');
  assert.deepEqual(table(stats.pages), {
    '/index.html': [1, 1],
    '/v/index.html': [1, 2],
    '/app/about': [1, 1],
    '/app/users': [1, 1],
    '/a': [1, 2],
    '/b': [1, 1],
    '/c': [1, 3],
    '/other.html': [1, 1],
    '/': [1, 1],
  });
  assert.deepEqual(table(stats.sources), { newsletter: [1, null], Google: [1, null], 'Direct / none': [1, null] },
    'the hash-routed app was opened directly');
  assert.deepEqual(table(stats.campaigns.utm_source), { newsletter: [1, null] });
  assert.deepEqual(table(stats.campaigns.utm_medium), { email: [1, null] });
  assert.deepEqual(table(stats.campaigns.utm_campaign), { launch: [1, null] });
  assert.deepEqual(table(stats.events), { Outbound: [1, 1] });
  assert.deepEqual(table(stats.screens), { laptop: [3, null] }, 'the three readers with JavaScript, 1280 px wide');
});
