#!/usr/bin/env node
// Headless-Chromium half of tests/serve.rs: opens a page of a running
// `herald serve` and reports what it shows, while the Rust test edits files.
//
// usage: node live.mjs --url URL --node-modules DIR [--chromium PATH] [--timeout MS]
//
// Prints `ok ready` once the page is open and its live-reload stream is
// connected. Then reads one JSON command per line on stdin and answers each
// with one line, `ok ...` or `fail ...`:
//
//   {"text": "...", "overlay": false}
//       wait until the page shows the text and no error overlay
//   {"text": "...", "overlay": true, "overlayText": ["file.md:3", ...]}
//       wait until the overlay is shown, holding every overlayText string,
//       over a page that still shows the text
//   {"bodyColor": "rgb(1, 2, 3)"}
//       wait until the body's computed colour is that (a stylesheet swap)
//   {"quit": true}
//
// The script never clicks, reloads or navigates: whatever changes in the
// page is the dev server's doing. Each wait polls until a deadline.
//
// "N page loads" counts the documents a step saw that the previous step did
// not end on. Each document is told apart by an id the script stores in it,
// not by Playwright's `load` events: a reload's text can show before its
// `load` event reaches this script, which then counted it in the next step.
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';

const opt = { url: null, nodeModules: null, chromium: '/usr/bin/chromium', timeout: '30000' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const key = argv[i].replace(/^--/, '').replace(/-(.)/g, (_, c) => c.toUpperCase());
  if (!(key in opt)) { console.log(`fail unknown argument ${argv[i]}`); process.exit(2); }
  opt[key] = argv[++i];
}
if (!opt.url || !opt.nodeModules) {
  console.log('fail usage: live.mjs --url URL --node-modules DIR [--chromium PATH]');
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(opt.nodeModules), 'noop.js'));
const { chromium } = require('playwright-core');
const TIMEOUT = Number(opt.timeout);

const browser = await chromium.launch({
  executablePath: opt.chromium,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage();
page.on('console', (m) => console.error(`[page ${m.type()}] ${m.text()}`));
page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));

/** What the page shows now; null while it is between documents. */
async function state() {
  try {
    return await page.evaluate(() => {
      // A fresh document has no id yet: it gets one on first look.
      window.__heraldTestDoc ??= `${performance.timeOrigin}-${Math.random()}`;
      const overlay = document.getElementById('herald-error-overlay');
      const main = document.querySelector('main');
      return {
        doc: window.__heraldTestDoc,
        complete: document.readyState === 'complete',
        live: document.documentElement.dataset.heraldLive || '',
        text: main ? main.innerText : document.body ? document.body.innerText : '',
        overlay: overlay ? overlay.innerText : null,
        bodyColor: document.body ? getComputedStyle(document.body).color : '',
      };
    });
  } catch {
    return null; // navigating: the old document is gone, the new not ready
  }
}

/**
 * Polls until `ok(state)` holds in a fully loaded document, or the deadline
 * passes. `docs` collects the id of every document seen.
 */
async function waitUntil(ok, docs = new Set()) {
  const deadline = Date.now() + TIMEOUT;
  let last = null;
  while (Date.now() < deadline) {
    const s = await state();
    if (s) {
      last = s;
      docs.add(s.doc);
      if (s.complete && ok(s)) return { ok: true, last };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { ok: false, last };
}

async function finish(code) {
  await browser.close().catch(() => {});
  process.exit(code);
}

await page.goto(opt.url, { waitUntil: 'load', timeout: TIMEOUT });
let shown; // the document the last step ended on
{
  const r = await waitUntil((s) => s.live === 'connected');
  if (!r.ok) { console.log(`fail the live-reload stream never connected: ${JSON.stringify(r.last)}`); await finish(1); }
  shown = r.last.doc;
  console.log('ok ready');
}

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const cmd = JSON.parse(line);
  if (cmd.quit) break;
  const docs = new Set([shown]);
  const r = await waitUntil((s) => {
    if (cmd.bodyColor) return s.bodyColor === cmd.bodyColor;
    if (!s.text.includes(cmd.text)) return false;
    if (!cmd.overlay) return s.overlay === null;
    return s.overlay !== null && (cmd.overlayText || []).every((t) => s.overlay.includes(t));
  }, docs);
  if (r.ok) {
    const what = cmd.bodyColor ? 'colour shown' : cmd.overlay ? 'overlay shown' : 'text shown';
    // Every document but the one the step began on; a reload ends on a new
    // one, so even a reload quicker than one poll counts.
    const loads = docs.size - 1;
    shown = r.last.doc;
    console.log(`ok ${what} (${loads} page loads)`);
  } else {
    console.log(`fail waited ${TIMEOUT} ms for ${line}; the page shows ${JSON.stringify(r.last)}`);
    await finish(1);
  }
}
await finish(0);
