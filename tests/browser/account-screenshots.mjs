// The README's pictures of the pages behind sign-in, taken by
// scripts/screenshot.sh (and the browser test's smoke run): "Your sites" and
// example.org's settings page, each at 1280 and 390 px wide, signed in as an
// owner of example.org in real Chromium (Debian's, driven by
// playwright-core); it fails if a page is wider than the screen. Not a
// test of its own: node --test does not pick this file up.
//   node account-screenshots.mjs BASE_URL OUTPUT_DIR EMAIL PASSWORD
import { chromium } from 'playwright-core';

const [base, dir, email, password] = process.argv.slice(2);
const flags = (process.env.CHROMIUM_FLAGS ?? '--no-sandbox').split(' ').filter(Boolean);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: flags });
try {
  for (const [width, suffix] of [[1280, ''], [390, '-phone']]) {
    const context = await browser.newContext({ viewport: { width, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.fill('#email', email);
    await page.fill('#password', password);
    await Promise.all([page.waitForURL(`${base}/account`), page.click('main button[type=submit]')]);
    for (const [path, name] of [['/account/sites', 'sites'], ['/account/sites/example.org', 'site-settings']]) {
      const response = await page.goto(`${base}${path}`);
      if (response.status() !== 200) throw new Error(`${path} answered ${response.status()}`);
      // Nothing wider than the screen: no sideways scrolling on a phone.
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      if (wide > width) throw new Error(`${path} is ${wide} px wide at ${width} px`);
      await page.screenshot({ path: `${dir}/screenshot-${name}${suffix}.png`, fullPage: true });
    }
    await context.close();
  }
} finally {
  await browser.close();
}
