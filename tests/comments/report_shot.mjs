#!/usr/bin/env node
// Opens the report file in headless Chromium, light and dark, at 1280 px, takes a full-page
// screenshot of each, and says what the page holds. Run by tests/comments/report.rs.
//
// usage: node report_shot.mjs --page FILE --out DIR --node-modules DIR [--chromium PATH]
//
// Prints one line of JSON: {requests: [URLs other than the file], charts, rows, sorted: [totals
// after clicking "likes"], shots: [files]}
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const argv = process.argv.slice(2);
const opt = {};
for (let i = 0; i < argv.length; i += 2) opt[argv[i].replace(/^--/, '')] = argv[i + 1];
const require = createRequire(path.join(path.resolve(opt['node-modules']), 'noop.js'));
const { chromium } = require('playwright-core');
const browser = await chromium.launch({
  executablePath: opt.chromium || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
const result = { requests: [], shots: [] };
try {
  for (const scheme of ['light', 'dark']) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: scheme });
    await context.route('**/*', (route) => {
      const u = route.request().url();
      if (u.startsWith('file://')) return route.continue();
      result.requests.push(u);
      return route.abort();
    });
    const page = await context.newPage();
    await page.goto(pathToFileURL(path.resolve(opt.page)).href);
    const shot = path.join(opt.out, `report-1280-${scheme}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    result.shots.push(shot);
    if (scheme === 'light') {
      result.charts = await page.$$eval('svg.chart', (s) => s.length);
      result.rows = await page.$$eval('#entries tbody tr', (r) => r.length);
      await page.click('#entries th:nth-child(4) button'); // likes, ascending
      result.sorted = await page.$$eval('#entries tbody tr', (rs) => rs.map((r) => Number(r.cells[3].textContent)));
    }
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
