#!/usr/bin/env node
// Time from saving a one-line Markdown edit to the reloaded page showing it,
// in headless Chromium, against a running `herald serve`. Not a test: run
// it through bench/serve-latency.sh, which starts the server.
//
// usage: node serve-latency.mjs --url PAGE_URL --file ENTRY.md [--edits 9]
//          [--edit body|title] [--pause MS] [--node-modules DIR] [--chromium PATH]
//
// For each edit: note the wall clock, write the entry with one line changed
// (a new token), and wait until the open page shows the token. An init
// script records the moment each new document is parsed (DOMContentLoaded);
// latency = that moment − the moment before the write. The moment the
// browser began the reload (performance.timeOrigin) splits it into the
// server's share (watching, rebuilding, telling the page) and the browser's
// (loading the new page). Prints every sample and the medians, as JSON on
// the last line.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const home = process.env.SITE_CHECK_HOME || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'site-check');
const opt = { url: null, file: null, edits: '9', edit: 'body', nodeModules: path.join(home, 'node/node_modules'), chromium: '/usr/bin/chromium', pause: '400' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const key = argv[i].replace(/^--/, '').replace(/-(.)/g, (_, c) => c.toUpperCase());
  if (!(key in opt)) { console.error(`unknown argument ${argv[i]}`); process.exit(2); }
  opt[key] = argv[++i];
}
if (!opt.url || !opt.file) { console.error('usage: serve-latency.mjs --url URL --file ENTRY.md [--edits N]'); process.exit(2); }
const require = createRequire(path.join(path.resolve(opt.nodeModules), 'noop.js'));
const { chromium } = require('playwright-core');

const browser = await chromium.launch({
  executablePath: opt.chromium,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage();
await page.addInitScript(() => {
  document.addEventListener('DOMContentLoaded', () => {
    window.__parsedAt = Date.now();
    window.__navStart = Math.round(performance.timeOrigin);
  });
});
await page.goto(opt.url, { waitUntil: 'load' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(fn, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try { const v = await page.evaluate(fn); if (v) return v; } catch { /* navigating */ }
    await sleep(5);
  }
  throw new Error('timed out');
}
await until(() => document.documentElement.dataset.heraldLive === 'connected', 30000);

const original = fs.readFileSync(opt.file, 'utf8');
const samples = [];
const reloadStarts = [];
try {
  for (let i = 0; i < Number(opt.edits); i++) {
    const token = `latency-probe-${process.pid}-${i}-${Date.now()}`;
    // `body`: a line of text (the fast path); `title`: the title line, which
    // moves the entry in lists, so only the full rebuild shows it.
    const text = opt.edit === 'title'
      ? original.replace(/^title = "(.*)"$/m, `title = "$1 ${token}"`)
      : `${original.trimEnd()}\n\nOne line edited: ${token}.\n`;
    if (text === original) throw new Error('found no line to edit');
    await sleep(Number(opt.pause));
    const t0 = Date.now();
    fs.writeFileSync(opt.file, text);
    const [parsedAt, navStart] = await until(new Function(`return document.body && document.body.innerText.includes(${JSON.stringify(token)}) && window.__parsedAt && [window.__parsedAt, window.__navStart]`), 60000);
    samples.push(parsedAt - t0);
    reloadStarts.push(navStart - t0);
    console.log(`edit ${i + 1}: ${parsedAt - t0} ms (reload began after ${navStart - t0} ms)`);
  }
} finally {
  fs.writeFileSync(opt.file, original);
  await browser.close();
}
const sorted = [...samples].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)];
const rs = [...reloadStarts].sort((a, b) => a - b);
console.log(JSON.stringify({ url: opt.url, edits: samples.length, median_ms: median, reload_began_median_ms: rs[Math.floor(rs.length / 2)], min_ms: sorted[0], max_ms: sorted[sorted.length - 1], samples_ms: samples }));
