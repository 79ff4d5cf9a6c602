// The dashboard as people see it, in real Chromium (Debian's, driven by
// playwright-core): at a phone's and a desktop's width, the chart's text is
// at least 11 CSS px, its plot is tall enough, its labels do not overlap,
// and nothing on the page overflows the viewport sideways.
// Run by scripts/browser-test.sh, which starts the app and sets DASHBOARD_URL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const base = process.env.DASHBOARD_URL;
// The same no-network flags as scripts/lib/dashboard.sh's screenshots.
const flags = (process.env.CHROMIUM_FLAGS ?? '--no-sandbox').split(' ').filter(Boolean);
const MIN_TEXT_PX = 11;

let browser;
before(async () => {
  assert.ok(base, 'DASHBOARD_URL names the dashboard to test');
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: flags });
});
after(() => browser?.close());

// What is measured in the page: sizes in CSS px, as the reader sees them.
function measure() {
  const visible = (e) => getComputedStyle(e).display !== 'none' && e.getBoundingClientRect().width > 0;
  const charts = [...document.querySelectorAll('figure.chart svg')].filter(visible);
  const svg = charts[0];
  // SVG text is sized in viewBox units; the screen's scale turns them into px.
  const scale = svg.getScreenCTM().a;
  const texts = (selector) => [...svg.querySelectorAll(selector)].map((t) => {
    const r = t.getBoundingClientRect();
    return {
      text: t.textContent,
      px: parseFloat(getComputedStyle(t).fontSize) * scale,
      box: { left: r.left, right: r.right, top: r.top, bottom: r.bottom },
    };
  });
  const lines = [...svg.querySelectorAll('line')].map((l) => l.getBoundingClientRect());
  const viewport = document.documentElement.clientWidth;
  const overflowing = [...document.body.querySelectorAll('*')]
    .filter(visible)
    .map((e) => ({ e, r: e.getBoundingClientRect() }))
    .filter(({ r }) => r.right > viewport + 0.5 || r.left < -0.5)
    .map(({ e, r }) => `${e.tagName.toLowerCase()}.${e.getAttribute('class') ?? ''} ${r.left}..${r.right}`);
  return {
    visibleCharts: charts.length,
    layout: svg.getAttribute('class'),
    chartWidth: svg.getBoundingClientRect().width,
    plotHeight: Math.max(...lines.map((r) => r.bottom)) - Math.min(...lines.map((r) => r.top)),
    xLabels: texts('text.x-label'),
    yLabels: texts('text.y-label'),
    legend: texts('text.legend'),
    scrollWidth: document.documentElement.scrollWidth,
    viewport,
    overflowing,
  };
}

const overlaps = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

for (const [width, minPlot] of [[320, 160], [390, 160], [768, 160], [1280, 160]]) {
  test(`the 24 h dashboard at ${width} px`, async () => {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    try {
      const response = await page.goto(`${base}/?range=24h`);
      assert.equal(response.status(), 200);
      const m = await page.evaluate(measure);
      const px = (list) => list.map((t) => t.px.toFixed(1));
      console.log(`${width} px: ${m.layout}, chart ${m.chartWidth.toFixed(0)} px wide, plot ${m.plotHeight.toFixed(0)} px tall; `
        + `x labels ${px(m.xLabels)} px, y labels ${px(m.yLabels)} px, legend ${px(m.legend)} px`);

      assert.equal(m.visibleCharts, 1, 'one drawing of the chart is shown');
      assert.equal(m.layout, width < 768 ? 'chart-narrow' : 'chart-wide');
      assert.ok(m.xLabels.length >= 2 && m.legend.length === 2 && m.yLabels.length === 3);
      for (const t of [...m.xLabels, ...m.yLabels, ...m.legend]) {
        assert.ok(t.px >= MIN_TEXT_PX, `"${t.text}" is ${t.px.toFixed(1)} px`);
      }
      assert.ok(m.plotHeight >= minPlot, `plot ${m.plotHeight} px tall`);
      for (const group of [m.xLabels, m.legend]) {
        group.forEach((a, i) => group.slice(i + 1).forEach((b) => {
          assert.ok(!overlaps(a.box, b.box), `"${a.text}" overlaps "${b.text}"`);
        }));
      }
      assert.ok(m.scrollWidth <= m.viewport, `the page is ${m.scrollWidth} px wide in ${m.viewport}`);
      assert.deepEqual(m.overflowing, [], 'elements past the viewport');
    } finally {
      await page.close();
    }
  });
}

// A site's dashboard (example.org, with a made-up week of sources,
// campaigns, countries, goals and events) with JavaScript off: every panel
// is there, nothing overflows a phone's width, and the Campaigns panel's
// tabs switch by CSS alone.
for (const width of [320, 390, 1280]) {
  test(`a site's panels at ${width} px without JavaScript`, async () => {
    const context = await browser.newContext({ viewport: { width, height: 900 }, javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      const response = await page.goto(`${base}/sites/example.org?range=7d`);
      assert.equal(response.status(), 200);
      const titles = await page.$$eval('.breakdown h2', (h) => h.map((e) => e.textContent));
      for (const panel of ['Pages', 'Sources', 'Campaigns', 'Countries', 'Goals', 'Events', 'Screens']) {
        assert.ok(titles.includes(panel), `${panel} in ${titles}`);
      }
      const visibleTab = () => page.$$eval('#campaigns .tab-panel', (panels) => panels
        .map((p, i) => [i, getComputedStyle(p).display !== 'none'])
        .filter(([, shown]) => shown).map(([i]) => i));
      assert.deepEqual(await visibleTab(), [0], 'the first field shown');
      await page.click('label[for="campaign-utm_campaign"]');
      assert.deepEqual(await visibleTab(), [2], 'the campaign field shown after a click');
      const campaigns = await page.$$eval('#campaigns .tab-panel:nth-of-type(3) td:first-child',
        (cells) => cells.map((c) => c.textContent));
      assert.ok(campaigns.includes('launch'), `campaigns: ${campaigns}`);
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
