// Filters as a reader uses them, in real Chromium with JavaScript off: on
// example.org's dashboard (scripts/lib/history.sql's week), click a page's
// row, then a country's, then remove the page's chip, then ask for a week of
// days with the date inputs. After each step the address holds the filters,
// the page shows them as chips, and its numbers and panels equal the JSON
// API's for the same address; the filtered address, opened afresh as a
// bookmark would be, shows the same page.
// Run by scripts/browser-test.sh, which starts the app and sets DASHBOARD_URL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const base = process.env.DASHBOARD_URL;
const flags = (process.env.CHROMIUM_FLAGS ?? '--no-sandbox').split(' ').filter(Boolean);

let browser;
before(async () => {
  assert.ok(base, 'DASHBOARD_URL names the dashboard to test');
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: flags });
});
after(() => browser?.close());

const panel = (page, title) => page.locator('section.breakdown', {
  has: page.locator('h2', { hasText: new RegExp(`^${title}$`) }),
});

// What the page shows: its numbers, chips and two panels' rows.
async function shown(page) {
  const rows = (title) => panel(page, title).locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [
    tr.querySelector('td').textContent.replace(/\s*\(\d+ times?\)$/, ''),
    Number(tr.querySelector('td.num').textContent),
  ]));
  return {
    uniqueVisitors: Number(await page.textContent('#range-unique-visitors')),
    visits: Number(await page.textContent('#range-visits')),
    chips: await page.locator('#filters li .filter').allTextContents(),
    pages: await rows('Pages'),
    browsers: await rows('Browsers'),
  };
}

// The JSON of the page's own address, and what the page should show of it.
async function expected(url) {
  const { pathname, search } = new URL(url);
  const response = await fetch(`${base}/api${pathname}/stats${search}`);
  assert.equal(response.status, 200);
  const stats = await response.json();
  const rows = (entries) => entries.map((e) => [e.name, e.unique_visitors]);
  return {
    uniqueVisitors: stats.unique_visitors,
    visits: stats.visits,
    filters: stats.filters.map((f) => `${f.negated ? '!' : ''}${f.dimension}:${f.value}`),
    pages: rows(stats.pages),
    browsers: rows(stats.browsers),
  };
}

async function assertAgrees(page, filters) {
  const seen = await shown(page);
  const json = await expected(page.url());
  assert.deepEqual(json.filters, filters, `the address ${page.url()} holds the filters`);
  assert.equal(seen.chips.length, filters.length, `chips: ${seen.chips}`);
  assert.equal(seen.uniqueVisitors, json.uniqueVisitors, 'unique visitors');
  assert.equal(seen.visits, json.visits, 'visits');
  assert.deepEqual(seen.pages, json.pages, 'the Pages panel');
  assert.deepEqual(seen.browsers, json.browsers, 'the Browsers panel');
  return seen;
}

for (const width of [390, 1280]) {
  test(`click a page, a country, remove a chip, ask for days at ${width} px`, async () => {
    const context = await browser.newContext({ viewport: { width, height: 900 }, javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      assert.equal((await page.goto(`${base}/sites/example.org?range=7d`)).status(), 200);
      const whole = await assertAgrees(page, []);

      const pageLink = panel(page, 'Pages').locator('tbody a').first();
      const path = await pageLink.textContent();
      await Promise.all([page.waitForURL(/f=page/), pageLink.click()]);
      const byPage = await assertAgrees(page, [`page:${path}`]);
      assert.match(byPage.chips[0], new RegExp(`^Page is ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
      assert.ok(byPage.uniqueVisitors < whole.uniqueVisitors, 'one page has fewer visitors than the site');

      const countryLink = panel(page, 'Countries').locator('tbody a').first();
      await Promise.all([page.waitForURL(/f=country/), countryLink.click()]);
      const both = await assertAgrees(page, [`page:${path}`, expectCountry(page.url())]);
      assert.ok(both.uniqueVisitors <= byPage.uniqueVisitors, 'a second filter narrows');

      const bookmark = page.url();
      const fresh = await browser.newContext({ viewport: { width, height: 900 }, javaScriptEnabled: false });
      try {
        const again = await fresh.newPage();
        assert.equal((await again.goto(bookmark)).status(), 200);
        assert.deepEqual(await shown(again), both, 'the bookmark shows the same page');
      } finally {
        await fresh.close();
      }

      const remove = page.locator('#filters li', { hasText: 'Page is' }).locator('a.remove');
      await Promise.all([page.waitForURL((url) => !url.search.includes('f=page')), remove.click()]);
      await assertAgrees(page, [expectCountry(page.url())]);

      // Any days, from the plain date inputs (no script): the filter stays.
      const today = new Date().toISOString().slice(0, 10);
      const weekAgo = new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10);
      await page.fill('form.days input[name="from"]', weekAgo);
      await page.fill('form.days input[name="to"]', today);
      await Promise.all([page.waitForURL(/from=/), page.click('form.days button')]);
      assert.equal(new URL(page.url()).searchParams.get('to'), today);
      await assertAgrees(page, [expectCountry(page.url())]);

      const { scrollWidth, viewport } = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        viewport: document.documentElement.clientWidth,
      }));
      assert.ok(scrollWidth <= viewport, `the page is ${scrollWidth} px wide in ${viewport}`);
    } finally {
      await context.close();
    }
  });
}

// The country filter the address holds, as the JSON names it.
function expectCountry(url) {
  const country = new URL(url).searchParams.getAll('f').find((f) => f.startsWith('country:'));
  assert.ok(country, `a country filter in ${url}`);
  return country;
}
