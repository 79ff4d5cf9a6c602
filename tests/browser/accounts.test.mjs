// Running a site from the browser, in real Chromium (Debian's, driven by
// playwright-core), against an app of this test's own: it starts the binary
// behind a small proxy of its own port, so that PUBLIC_URL, from which the
// snippets and links are built, is where the browser reaches it.
// First-run setup with the code the app printed; sign-in; a site added; its
// snippet copied into a page of another origin, which then counts; the site
// made private, its private link opened in a fresh profile, a new link made
// and the old one refused; a viewer added by invitation, who reads its
// dashboard but cannot change it; sign out everywhere.
// Run by scripts/browser-test.sh, which sets DATABASE_URL (a database the
// app may share) and VISITORS_BIN.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, request as forward } from 'node:http';
import { chromium } from 'playwright-core';

const SITE = 'shop.example';
const flags = [
  ...(process.env.CHROMIUM_FLAGS ?? '--no-sandbox').split(' ').filter(Boolean),
  `--host-resolver-rules=MAP ${SITE} 127.0.0.1`,
];
// Headless Chromium says "HeadlessChrome", which counts as a bot: the
// visitor of the site's page is a desktop Chrome.
const READER = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const OWNER = { email: 'owner@example.org', password: 'a long enough password' };
const VIEWER = { email: 'viewer@example.org', password: 'another long password' };

let browser;
let app;
let appLog = '';
let proxy;
let publicUrl;
let sitePages;
let sitePort;
let snippet = '';

// Resolves with the first match of PATTERN in the app's log (10 s at most).
function logged(pattern) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 10_000;
    const look = () => {
      const found = appLog.match(pattern);
      if (found) {
        resolve(found);
      } else if (Date.now() > deadline || app.exitCode !== null) {
        reject(new Error(`no ${pattern} in the app's log:\n${appLog}`));
      } else {
        setTimeout(look, 20);
      }
    };
    look();
  });
}

before(async () => {
  assert.ok(process.env.VISITORS_BIN && process.env.DATABASE_URL, 'VISITORS_BIN and DATABASE_URL name the binary and a database');
  let appPort;
  proxy = createServer((incoming, answer) => {
    const upstream = forward({ host: '127.0.0.1', port: appPort, path: incoming.url, method: incoming.method, headers: incoming.headers }, (response) => {
      answer.writeHead(response.statusCode, response.headers);
      response.pipe(answer);
    });
    upstream.on('error', () => answer.writeHead(502).end());
    incoming.pipe(upstream);
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  publicUrl = `http://127.0.0.1:${proxy.address().port}`;
  app = spawn(process.env.VISITORS_BIN, ['serve'], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: process.env.DATABASE_URL,
      PUBLIC_URL: publicUrl,
      ROCKET_ADDRESS: '127.0.0.1',
      ROCKET_PORT: '0',
      METRICS_PORT: '0',
      ROCKET_CLI_COLORS: 'false',
      LOG_FORMAT: 'text',
      INSTANCE_NAME: 'accounts-test',
      VISITOR_SECRET: 'a visitor secret for the accounts test',
      // An instrumented build (the coverage run) writes its profile here.
      ...(process.env.LLVM_PROFILE_FILE ? { LLVM_PROFILE_FILE: process.env.LLVM_PROFILE_FILE } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  app.stdout.on('data', (chunk) => { appLog += chunk; });
  app.stderr.on('data', (chunk) => { appLog += chunk; });
  appPort = Number((await logged(/listening.*?\bport"?[=:](\d+)/))[1]);
  // The site's page, on an origin of its own, holding whatever snippet the
  // owner copied.
  sitePages = createServer((incoming, answer) => {
    answer.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    answer.end(`<!doctype html><meta charset="utf-8"><title>Shop</title><h1>Shop</h1>${snippet}`);
  });
  await new Promise((resolve) => sitePages.listen(0, '127.0.0.1', resolve));
  sitePort = sitePages.address().port;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: flags });
});

after(async () => {
  await browser?.close();
  app?.kill();
  proxy?.close();
  sitePages?.close();
});

// A fresh browser profile: no cookies, nothing cached.
async function profile(userAgent) {
  const context = await browser.newContext(userAgent ? { userAgent } : {});
  return { context, page: await context.newPage() };
}

async function signIn(page, who) {
  await page.goto(`${publicUrl}/login`);
  await page.fill('#email', who.email);
  await page.fill('#password', who.password);
  await Promise.all([page.waitForURL(`${publicUrl}/account`), page.click('button[type=submit]')]);
}

// The site's numbers, read with its private link's token.
async function siteStats(token) {
  const response = await fetch(`${publicUrl}/api/sites/${SITE}/stats?range=24h&token=${token}`);
  assert.equal(response.status, 200);
  return response.json();
}

test('a site is set up, shared and handed to a viewer from the browser alone', async () => {
  // First run: the code the app printed claims the instance.
  const code = (await logged(/enter the setup code ([2-9A-Z]{4}(?:-[2-9A-Z]{4}){3})/))[1];
  assert.match(appLog, new RegExp(`open ${publicUrl}/setup`));
  const owner = await profile();
  // With no account yet, the account page leads to the setup, by the sign-in.
  await owner.page.goto(`${publicUrl}/account`);
  assert.equal(new URL(owner.page.url()).pathname, '/setup');
  await owner.page.fill('#code', code);
  await owner.page.fill('#email', OWNER.email);
  await owner.page.fill('#password', OWNER.password);
  await owner.page.fill('#password_again', OWNER.password);
  await Promise.all([owner.page.waitForURL(`${publicUrl}/account`), owner.page.click('button[type=submit]')]);
  assert.match(await owner.page.textContent('main'), /Signed in as owner@example\.org, this instance's admin/);

  // Signed in elsewhere too, for "sign out everywhere" at the end.
  const laptop = await profile();
  await signIn(laptop.page, OWNER);

  // A public site, its snippet copied into a page of its own origin.
  await owner.page.goto(`${publicUrl}/account/sites`);
  await owner.page.fill('#domain', SITE);
  await owner.page.check('input[name=public]');
  await Promise.all([owner.page.waitForURL(new RegExp(`/account/sites/${SITE}\\?done=added$`)), owner.page.click('text=Add the site')]);
  snippet = await owner.page.inputValue('#pixel');
  assert.ok(snippet.startsWith(`<img src="${publicUrl}/pixel/${SITE}.gif?p=%2F"`), snippet);
  const reader = await profile(READER);
  const pixelLoaded = reader.page.waitForResponse((r) => r.url().startsWith(`${publicUrl}/pixel/`));
  await reader.page.goto(`http://${SITE}:${sitePort}/`);
  assert.equal((await pixelLoaded).status(), 200);
  await reader.context.close();
  const publicStats = await (await fetch(`${publicUrl}/api/sites/${SITE}/stats?range=24h`)).json();
  assert.equal(publicStats.unique_visitors, 1, JSON.stringify(publicStats));

  // Made private: the public address is gone, the private link opens it.
  await owner.page.uncheck('input[name=public]');
  await Promise.all([owner.page.waitForURL(/done=saved$/), owner.page.click('text=Save the settings')]);
  const link = await owner.page.inputValue('#private-link');
  const token = new URL(link).searchParams.get('token');
  assert.equal((await siteStats(token)).unique_visitors, 1);
  const stranger = await profile();
  assert.equal((await stranger.page.goto(`${publicUrl}/sites/${SITE}`)).status(), 404);
  assert.equal((await stranger.page.goto(link)).status(), 200);
  assert.match(await stranger.page.textContent('h1'), new RegExp(SITE));

  // A new link: the old one is refused, the new one opens it.
  await Promise.all([owner.page.waitForURL(/done=link$/), owner.page.click('text=Make a new private link')]);
  const newLink = await owner.page.inputValue('#private-link');
  assert.notEqual(newLink, link);
  assert.equal((await stranger.page.goto(link)).status(), 404);
  assert.equal((await stranger.page.goto(newLink)).status(), 200);
  await stranger.context.close();

  // A viewer, by invitation: reads the private dashboard, changes nothing.
  await owner.page.check('input[name=role][value=viewer]');
  await owner.page.click('text=Make an invitation link');
  const invitation = await owner.page.inputValue('#invitation');
  assert.ok(invitation.startsWith(`${publicUrl}/invite/`), invitation);
  const viewer = await profile();
  await viewer.page.goto(invitation);
  assert.match(await viewer.page.textContent('main'), new RegExp(`invited to ${SITE} as its viewer`));
  await viewer.page.fill('#email', VIEWER.email);
  await viewer.page.fill('#password', VIEWER.password);
  await viewer.page.fill('#password_again', VIEWER.password);
  await Promise.all([viewer.page.waitForURL(/\/account\/sites\?done=joined$/), viewer.page.click('button[type=submit]')]);
  assert.match(await viewer.page.textContent('main'), /viewer/);
  assert.equal(await viewer.page.locator(`a[href="/account/sites/${SITE}"]`).count(), 0, 'no settings link for a viewer');
  assert.equal((await viewer.page.goto(`${publicUrl}/sites/${SITE}`)).status(), 200);
  assert.equal((await viewer.page.goto(`${publicUrl}/account/sites/${SITE}`)).status(), 404);
  // The owner's form, sent with the viewer's own session and form token
  // (the pages allow no script, so from outside the page, with its cookies).
  const listed = await (await viewer.context.request.get(`${publicUrl}/account/sites`)).text();
  const viewerToken = listed.match(/name="csrf" value="([0-9a-f]{64})"/)[1];
  const forged = (await viewer.context.request.post(`${publicUrl}/account/sites/${SITE}/link`, {
    form: { csrf: viewerToken },
    maxRedirects: 0,
  })).status();
  assert.equal(forged, 404, 'a viewer cannot make a new link');
  assert.equal((await statsByLink(newLink)), 1, 'the link still works: nothing changed');
  await viewer.context.close();

  // Sign out everywhere: this session and the laptop's both end.
  await owner.page.goto(`${publicUrl}/account`);
  await Promise.all([owner.page.waitForURL(/\/login\?done=everywhere$/), owner.page.click('text=Sign out everywhere')]);
  for (const signedOut of [owner.page, laptop.page]) {
    await signedOut.goto(`${publicUrl}/account`);
    assert.equal(new URL(signedOut.url()).pathname, '/login');
  }
  await owner.context.close();
  await laptop.context.close();
});

// The site's unique visitors, read with a private link's token.
async function statsByLink(link) {
  return (await siteStats(new URL(link).searchParams.get('token'))).unique_visitors;
}
