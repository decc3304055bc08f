#!/usr/bin/env node
// Browser checks of a built Herald site, run by tests/theme.rs.
//
// usage: node browser.mjs MODE --site DIR --port PORT --node-modules DIR [--out DIR] [--entry PATH]
//
// MODE is one of
//   axe          every page, light and dark (colorScheme): axe-core finds no violation
//   overflow     every page at 320 and 375 px wide: nothing is wider than the viewport
//   screenshots  the home page and the entry page --entry at 375 and 1280 px, light and
//                dark, full page, into --out (e.g. home-375-light.png)
//
// The site must have been built with base URL http://127.0.0.1:PORT: this script
// serves DIR there with a small static server (node's http module). Requests to
// any other host are blocked and reported. Exit 0 when clean, 1 with a report.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

// ------------------------------------------------------------------ args
const argv = process.argv.slice(2);
const mode = argv.shift();
const opt = { site: null, port: null, nodeModules: null, out: null, entry: null };
for (let i = 0; i < argv.length; i++) {
  const key = argv[i].replace(/^--/, '').replace(/-(.)/g, (_, c) => c.toUpperCase());
  if (!(key in opt)) { console.error(`unknown argument ${argv[i]}`); process.exit(2); }
  opt[key] = argv[++i];
}
if (!['axe', 'overflow', 'screenshots'].includes(mode) || !opt.site || !opt.port || !opt.nodeModules) {
  console.error('usage: browser.mjs axe|overflow|screenshots --site DIR --port PORT --node-modules DIR [--out DIR] [--entry PATH]');
  process.exit(2);
}
const site = path.resolve(opt.site);
const require = createRequire(path.join(path.resolve(opt.nodeModules), 'noop.js'));
const { chromium } = require('playwright-core');
const axePath = require.resolve('axe-core/axe.min.js');
const base = `http://127.0.0.1:${opt.port}`;

// ----------------------------------------------------------- page list
function walk(dir, acc = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, acc);
    else if (e.name.endsWith('.html')) acc.push(p);
  }
  return acc;
}
const pages = [];
const aliases = [];
for (const f of walk(site)) {
  let u = '/' + path.relative(site, f).split(path.sep).join('/');
  if (u.endsWith('/index.html')) u = u.slice(0, -'index.html'.length);
  // Alias pages redirect at once (meta refresh): they are checked by following them.
  const refresh = /<meta http-equiv="refresh" content="0; url=([^"]+)">/.exec(fs.readFileSync(f, 'utf8'));
  if (refresh) aliases.push({ path: u, to: new URL(refresh[1].replace(/&amp;/g, '&'), base).href });
  else pages.push(u);
}

// --------------------------------------------------------------- server
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp',
  '.gif': 'image/gif', '.xml': 'application/xml', '.json': 'application/json', '.txt': 'text/plain; charset=utf-8',
  '.ico': 'image/x-icon', '.woff2': 'font/woff2',
};
const server = http.createServer((req, res) => {
  let p = decodeURIComponent(new URL(req.url, base).pathname);
  let file = path.join(site, p);
  if (!file.startsWith(site)) { res.writeHead(403).end(); return; }
  if (p.endsWith('/')) file = path.join(file, 'index.html');
  fs.stat(file, (err, st) => {
    if (!err && st.isDirectory()) { res.writeHead(301, { Location: p + '/' }).end(); return; }
    if (err) {
      res.writeHead(404, { 'Content-Type': 'text/html; charset=utf-8' });
      fs.createReadStream(path.join(site, '404.html')).on('error', () => res.end()).pipe(res);
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
});
await new Promise((resolve, reject) => {
  server.on('error', reject);
  server.listen(Number(opt.port), '127.0.0.1', resolve);
});

// -------------------------------------------------------------- browser
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
let browser;
try {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args });
} catch (e) {
  console.log(`FAIL could not launch Chromium: ${e.message.split('\n')[0]}`);
  server.close();
  process.exit(1);
}
const problems = [];
const external = new Set();

// A page in a fresh context with this viewport and colour scheme; blocks other hosts.
async function open(u, { width, scheme, height = 800 }) {
  const context = await browser.newContext({
    viewport: { width, height }, colorScheme: scheme, locale: 'en-GB', timezoneId: 'UTC',
    reducedMotion: 'reduce', deviceScaleFactor: 1,
  });
  const page = await context.newPage();
  const errors = [];
  // Only requests to other hosts are intercepted (and blocked).
  const others = new RegExp(`^(?!${base.replace(/[.]/g, '\\.')}/)[a-z]+://`);
  await page.route(others, (route) => {
    external.add(`${route.request().url()} (from ${u})`);
    return route.abort('blockedbyclient');
  });
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400 && r.url() !== base + u) errors.push(`HTTP ${r.status()} for ${r.url()}`); });
  page.on('requestfailed', (r) => {
    const why = r.failure() ? r.failure().errorText : 'failed';
    if (!why.includes('BLOCKED_BY_CLIENT')) errors.push(`request failed: ${r.url()} (${why})`);
  });
  const resp = await page.goto(base + u, { waitUntil: 'load', timeout: 30000 });
  if (!resp || resp.status() !== 200) errors.push(`HTTP ${resp ? resp.status() : 'no response'} for the page itself`);
  return { context, page, errors };
}

async function axe(page) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: axePath });
  // Every rule axe runs by default: WCAG 2.0/2.1/2.2 A and AA plus best practices.
  return page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${(n.failureSummary || '').split('\n').slice(0, 2).join(' ').trim()}`) })));
}

// Elements that stick out of the viewport on the right (or left).
async function overflow(page) {
  return page.evaluate(() => {
    const w = window.innerWidth;
    const doc = document.documentElement.scrollWidth;
    const wide = [];
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if ((r.right > w + 0.5 || r.left < -0.5) && r.width > 0 && getComputedStyle(el).position !== 'absolute') {
        const name = el.tagName.toLowerCase() + (el.id ? `#${el.id}` : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '');
        wide.push(`${name} (${Math.round(r.left)}..${Math.round(r.right)})`);
      }
    }
    return { doc, w, wide: wide.slice(0, 5) };
  });
}

const CONCURRENCY = Number(process.env.THEME_BROWSER_JOBS || 3);
const pool = async (items, n, fn) => {
  const queue = [...items];
  await Promise.all(Array.from({ length: n }, async () => { while (queue.length) await fn(queue.shift()); }));
};

const t0 = Date.now();
let checked = 0;
try {
  if (mode === 'axe') {
    // Each page is loaded once, checked in light, switched to dark (the
    // prefers-color-scheme media feature) and checked again.
    await pool(pages, CONCURRENCY, async (u) => {
      const { context, page, errors } = await open(u, { width: 1280, scheme: 'light' });
      try {
        for (const scheme of ['light', 'dark']) {
          await page.emulateMedia({ colorScheme: scheme });
          const dark = await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches);
          if (dark !== (scheme === 'dark')) problems.push(`${u}: could not switch to the ${scheme} scheme`);
          for (const v of await axe(page)) {
            problems.push(`${u} [${scheme}] axe ${v.impact} ${v.id}: ${v.help}\n      ${v.nodes.slice(0, 4).join('\n      ')}`);
          }
          checked++;
        }
        for (const e of errors) problems.push(`${u} ${e}`);
      } finally { await context.close(); }
    });
    // Alias pages: each must land on its target page.
    await pool(aliases, CONCURRENCY, async ({ path: u, to }) => {
      const { context, page } = await open(u, { width: 1280, scheme: 'light' });
      try {
        await page.waitForURL(to, { timeout: 10000 });
      } catch {
        problems.push(`${u}: the alias page did not redirect to ${to} (at ${page.url()})`);
      } finally { await context.close(); }
      checked++;
    });
  } else if (mode === 'overflow') {
    await pool(pages, CONCURRENCY, async (u) => {
      const { context, page, errors } = await open(u, { width: 320, scheme: 'light' });
      try {
        for (const width of [320, 375]) {
          await page.setViewportSize({ width, height: 800 });
          const o = await overflow(page);
          if (o.doc > o.w) problems.push(`${u} at ${width}px: the page is ${o.doc}px wide (scrollWidth > innerWidth ${o.w}); too wide: ${o.wide.join(', ')}`);
          checked++;
        }
        for (const e of errors) problems.push(`${u}: ${e}`);
      } finally { await context.close(); }
    });
  } else {
    if (!opt.out || !opt.entry) throw new Error('screenshots need --out DIR and --entry PATH');
    fs.mkdirSync(opt.out, { recursive: true });
    const shots = [];
    for (const [name, u] of [['home', '/'], ['entry', opt.entry]]) {
      for (const width of [375, 1280]) {
        for (const scheme of ['light', 'dark']) {
          const { context, page, errors } = await open(u, { width, scheme, height: width < 500 ? 812 : 900 });
          try {
            const o = await overflow(page);
            if (o.doc > o.w) problems.push(`${u} at ${width}px ${scheme}: scrollWidth ${o.doc} > innerWidth ${o.w}; too wide: ${o.wide.join(', ')}`);
            for (const e of errors) problems.push(`${u} ${scheme}: ${e}`);
            const file = path.join(opt.out, `${name}-${width}-${scheme}.png`);
            await page.screenshot({ path: file, fullPage: true });
            shots.push(file);
          } finally { await context.close(); }
          checked++;
        }
      }
    }
    console.log(`screenshots:\n  ${shots.join('\n  ')}`);
  }
} catch (e) {
  problems.push(`the check itself failed: ${e.stack || e}`);
} finally {
  await browser.close();
  server.close();
}
for (const x of external) problems.push(`request to another host blocked: ${x}`);
const secs = ((Date.now() - t0) / 1000).toFixed(1);
if (problems.length) {
  console.log(`FAIL ${mode}: ${problems.length} problems in ${checked} checks (${secs}s)`);
  for (const p of problems) console.log(`  - ${p}`);
  process.exit(1);
}
console.log(`OK ${mode}: ${checked} checks (${pages.length} pages, ${aliases.length} aliases), ${secs}s`);
