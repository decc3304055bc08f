#!/usr/bin/env node
// Browser checks of a `herald report` HTML file, run by tests/report.rs.
//
// usage: node browser.mjs --file REPORT.html --node-modules DIR --out DIR
//
// Opens the file from disk in headless Chromium (light, then dark colorScheme)
// at 1280 px, blocks and reports any request that is not the file itself,
// runs axe-core, and writes report-offline-1280-light.png / report-offline-1280-dark.png into
// --out. Exit 0 when clean, 1 with a report.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const argv = process.argv.slice(2);
const opt = { file: null, nodeModules: null, out: null };
for (let i = 0; i < argv.length; i++) {
  const key = argv[i].replace(/^--/, '').replace(/-(.)/g, (_, c) => c.toUpperCase());
  if (!(key in opt)) { console.error(`unknown argument ${argv[i]}`); process.exit(2); }
  opt[key] = argv[++i];
}
if (!opt.file || !opt.nodeModules || !opt.out) {
  console.error('usage: browser.mjs --file REPORT.html --node-modules DIR --out DIR');
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(opt.nodeModules), 'noop.js'));
const { chromium } = require('playwright-core');
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const url = pathToFileURL(path.resolve(opt.file)).href;
fs.mkdirSync(opt.out, { recursive: true });

const problems = [];
let browser;
try {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
} catch (e) {
  console.log(`FAIL could not launch Chromium: ${e.message.split('\n')[0]}`);
  process.exit(1);
}
for (const scheme of ['light', 'dark']) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: scheme });
  const page = await ctx.newPage();
  await page.route('**/*', (route) => {
    if (route.request().url() === url) return route.continue();
    problems.push(`${scheme}: outside request ${route.request().url()}`);
    return route.abort();
  });
  page.on('pageerror', (e) => problems.push(`${scheme}: script error ${e.message}`));
  await page.goto(url);
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  for (const v of result.violations) {
    problems.push(`${scheme}: axe ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`);
  }
  await page.screenshot({ path: path.join(opt.out, `report-offline-1280-${scheme}.png`), fullPage: true });
  await ctx.close();
}
await browser.close();
if (problems.length) {
  for (const p of problems) console.log(`FAIL ${p}`);
  process.exit(1);
}
console.log('ok');
