#!/usr/bin/env node
// Loads a built entry page with hostile comments in headless Chromium and reports whether
// any script ran. Run by tests/comments/browser.rs.
//
// usage: node browser.mjs --page FILE --hostile FILE --node-modules DIR [--chromium PATH]
//
// Prints one line of JSON:
//   { control: {pwned, title}   the raw hostile HTML loaded unsanitized: proves the payloads are live
//     page: {pwned, title, dialogs, scripts, handlers, jsLinks, comments} }  the rendered page
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const argv = process.argv.slice(2);
const opt = {};
for (let i = 0; i < argv.length; i += 2) opt[argv[i].replace(/^--/, '')] = argv[i + 1];
const require = createRequire(path.join(path.resolve(opt['node-modules']), 'noop.js'));
const { chromium } = require('playwright-core');

const browser = await chromium.launch({
  executablePath: opt.chromium || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const result = {};
try {
  const context = await browser.newContext({ javaScriptEnabled: true });
  // Nothing leaves the machine: any request other than the page itself is refused.
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith('file://') || u.startsWith('about:')) return route.continue();
    return route.abort();
  });
  const probe = async (page) => {
    const dialogs = [];
    page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
    return dialogs;
  };

  // Control: the hostile HTML as a page of its own, unsanitized.
  const control = await context.newPage();
  const cd = await probe(control);
  await control.setContent(`<!doctype html><title>clean</title><body>${fs.readFileSync(opt.hostile, 'utf8')}</body>`);
  await control.waitForTimeout(300);
  result.control = await control.evaluate(() => ({ pwned: window.__pwned ?? null, title: document.title }));
  result.control.dialogs = cd;

  // The rendered page: load, wait, hover and click everything in the comment section.
  const page = await context.newPage();
  const pd = await probe(page);
  await page.goto(pathToFileURL(path.resolve(opt.page)).href);
  await page.waitForTimeout(300);
  const title = await page.title();
  // The hostile comments are the oldest, so they come first; hover over their content.
  for (const el of (await page.$$('#comments .comment__content *')).slice(0, 40)) {
    await el.hover({ force: true, timeout: 200 }).catch(() => {});
  }
  for (const a of await page.$$('#comments a[href^="javascript"], #comments button, #comments [onclick]')) {
    await a.click({ force: true, timeout: 200 }).catch(() => {});
  }
  await page.waitForTimeout(200);
  result.page = await page.evaluate((title0) => {
    const c = document.querySelector('#comments');
    const all = c ? [...c.querySelectorAll('*')] : [];
    return {
      pwned: window.__pwned ?? null,
      title: document.title,
      titleAtLoad: title0,
      scripts: all.filter((e) => ['SCRIPT', 'IFRAME', 'OBJECT', 'EMBED', 'svg', 'STYLE', 'FORM', 'IMG'].includes(e.tagName)).length,
      handlers: all.filter((e) => [...e.attributes].some((a) => a.name.startsWith('on') || a.name === 'style')).length,
      jsLinks: all.filter((e) => /^\s*(javascript|data):/i.test(e.getAttribute('href') || '')).length,
      comments: c ? c.querySelectorAll('.u-comment').length : 0,
    };
  }, title);
  result.page.dialogs = pd;
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
