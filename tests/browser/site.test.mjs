// A site's pixel and badge on a page of another origin, in real Chromium
// (Debian's, driven by playwright-core). A static page served here, on its
// own port, under the host name blog.example (mapped to 127.0.0.1 inside
// Chromium, so that the Referer the browser sends names the site's host),
// holds the app's pixel and badge: the visit counts for the site and its
// page, the badge shows the new number, and the same pixel on a page of a
// foreign host (evil.example) counts nothing.
// Run by scripts/browser-test.sh, which starts the app and sets DASHBOARD_URL,
// DATABASE_URL (the app's database) and VISITORS_BIN (the app's binary).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const app = process.env.DASHBOARD_URL;
const SITE = 'blog.example';
const FOREIGN = 'evil.example';
// The same no-network flags as scripts/lib/dashboard.sh's screenshots; both
// host names lead to the page server here, never to a DNS server.
const flags = [
  ...(process.env.CHROMIUM_FLAGS ?? '--no-sandbox').split(' ').filter(Boolean),
  `--host-resolver-rules=MAP ${SITE} 127.0.0.1, MAP ${FOREIGN} 127.0.0.1`,
];
// Headless Chromium's own User-Agent says "HeadlessChrome", which the app
// records as a bot, never as a visitor: the reader is a desktop Chrome.
const READER = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
// Another browser, so that a hit of the foreign page, were it counted, would
// be a new visitor as well as a new visit.
const STRANGER = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';

// The pixel and the badge exactly as a site's author pastes them.
const pixel = (path) => `<img src="${app}/pixel/${SITE}.gif?p=${path}" alt="" width="1" height="1">`;
const badge = (query) => `<img id="badge" src="${app}/badge/${SITE}.svg?${query}" alt="visitors">`;
const html = (body) => `<!doctype html><meta charset="utf-8"><title>A post</title>${body}`;
const PAGES = {
  // The badge here may be drawn before or after the pixel's visit commits.
  '/post.html': html(`<h1>A post</h1>${pixel('/post')}${badge('metric=visitors&range=24h')}`),
  '/badge.html': html(badge('metric=visitors&range=24h')),
  '/counted.html': html(badge('metric=visits&count=1')),
};

let browser;
let server;
let port;
before(async () => {
  assert.ok(app, 'DASHBOARD_URL names the app to test');
  assert.ok(process.env.VISITORS_BIN && process.env.DATABASE_URL, 'VISITORS_BIN and DATABASE_URL name the app and its database');
  // The site exists before Chromium asks for anything: the app remembers an
  // unknown domain for a few seconds.
  const { stdout } = await promisify(execFile)(process.env.VISITORS_BIN, ['sites', 'add', SITE, '--public']);
  console.log(stdout.trim());
  server = createServer((request, response) => {
    const body = PAGES[new URL(request.url, 'http://localhost').pathname];
    response.writeHead(body ? 200 : 404, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(body ?? 'not found');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = server.address().port;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: flags });
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

// Asks for the site's stats until done(stats) holds (10 s at most), and
// returns them.
async function statsWhen(description, done) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const stats = await siteStats();
    if (done(stats)) {
      return stats;
    }
    if (Date.now() > deadline) {
      assert.fail(`${description}; the site's stats are ${JSON.stringify(stats)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// What the browser sent and received of one of the app's images.
async function seen(response) {
  return {
    status: response.status(),
    contentType: response.headers()['content-type'],
    // The host the request came from, as the browser told it.
    refererHost: new URL(await response.request().headerValue('referer')).hostname,
    body: await response.text(),
  };
}

// Opens http://HOST:PORT/FILE in a new browser context with USER_AGENT and
// returns, once the page has loaded (its images too), what Chromium saw of
// the pixel and the badge (those the page holds), and how wide it drew the
// badge.
async function load(host, file, userAgent) {
  const context = await browser.newContext({ userAgent });
  try {
    const page = await context.newPage();
    const from = (what) => (PAGES[file].includes(`${app}/${what}/`)
      ? page.waitForResponse((r) => r.url().startsWith(`${app}/${what}/`)).then(seen)
      : Promise.resolve(null));
    const [pixelSeen, badgeSeen] = [from('pixel'), from('badge')];
    const response = await page.goto(`http://${host}:${port}${file}`);
    assert.equal(response.status(), 200);
    const loaded = { pixel: await pixelSeen, badge: await badgeSeen };
    if (loaded.badge) {
      loaded.badgeWidth = await page.$eval('#badge', (img) => (img.complete ? img.naturalWidth : 0));
    }
    return loaded;
  } finally {
    await context.close();
  }
}

// The number a badge shows, checked in its title and its text alike, and
// that Chromium drew it at the width the SVG says.
function assertBadge(loaded, label, number) {
  const { status, contentType, body: svg } = loaded.badge;
  assert.equal(status, 200);
  assert.match(contentType, /^image\/svg\+xml/);
  assert.ok(svg.includes(`aria-label="${label}: ${number}"`), svg);
  assert.ok(svg.includes(`>${number}</text>`), svg);
  const width = Number(svg.match(/<svg[^>]* width="(\d+)"/)[1]);
  assert.ok(loaded.badgeWidth > 0, 'the badge is drawn');
  assert.equal(loaded.badgeWidth, width, 'the badge is drawn at its own width');
}

test(`the pixel on a page of ${SITE} counts the visit for the site and its page`, async () => {
  const loaded = await load(SITE, '/post.html', READER);
  assert.equal(loaded.pixel.status, 200);
  assert.equal(loaded.pixel.refererHost, SITE, 'the browser names the page\'s host');
  const stats = await statsWhen('one visitor of /post', (s) => s.unique_visitors === 1
    && s.pages.some((p) => p.name === '/post'));
  assert.equal(stats.visits, 1);
  assert.deepEqual(stats.pages.map((p) => [p.name, p.unique_visitors]), [['/post', 1]]);
  assert.ok(loaded.badgeWidth > 0, 'the badge beside the pixel is drawn');
});

test(`the badge on a page of ${SITE} shows the new numbers, and counts a visit with count=1`, async () => {
  const shown = await load(SITE, '/badge.html', READER);
  assertBadge(shown, 'visitors', 1);

  const { visits } = await siteStats();
  const counted = await load(SITE, '/counted.html', READER);
  assert.equal(counted.badge.refererHost, SITE);
  assertBadge(counted, 'visits', visits + 1);
  const stats = await statsWhen(`${visits + 1} visits`, (s) => s.visits === visits + 1);
  assert.equal(stats.unique_visitors, 1, 'the same reader');
});

test(`the same pixel on a page of ${FOREIGN} counts nothing`, async () => {
  const before = await siteStats();
  const loaded = await load(FOREIGN, '/post.html', STRANGER);
  // The image all the same, so that no page shows a broken one.
  assert.equal(loaded.pixel.status, 200);
  assert.equal(loaded.pixel.contentType, 'image/gif');
  assert.equal(loaded.pixel.refererHost, FOREIGN);
  // The app answers a hit once it is committed (or refused): nothing can
  // arrive later, so there is nothing to wait for.
  const after = await siteStats();
  const counts = (s) => ({ unique_visitors: s.unique_visitors, visits: s.visits, bot_visits: s.bot_visits, pages: s.pages });
  assert.deepEqual(counts(after), counts(before));
});
