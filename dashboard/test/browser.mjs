// Browser check of stockpipe-dash, run by test/e2e/90_dashboard.sh:
//   node browser.mjs URL ARTIFACT_DIR
// Env: DASH_PUBLISH  shell command publishing one quote to Kafka
//      DASH_EXPECT   "SYMBOL=PRICE" the page must show after DASH_PUBLISH
// Prints "key=value" result lines for the shell's checks; the screenshot
// goes to ARTIFACT_DIR/dashboard.png.
import { chromium } from 'playwright-core';
import { execSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, artifacts] = process.argv.slice(2);
const out = (k, v) => console.log(`${k}=${String(v).replace(/\n/g, ' ')}`);
const profile = mkdtempSync(join(tmpdir(), 'dash-chromium-'));

// A fresh profile (playwright passes it to Chromium as --user-data-dir).
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1440, height: 1000 },
});
const errors = [];
let sparksRequests = 0;
try {
  const page = browser.pages()[0] || await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('request', (r) => { if (new URL(r.url()).pathname === '/api/sparks') sparksRequests++; });
  page.on('requestfailed', (r) => { if (!r.url().endsWith('/api/stream')) errors.push(`requestfailed: ${r.url()}`); });

  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('#symbols tbody tr', { timeout: 10000 });
  await page.waitForSelector('#status.up', { timeout: 10000 });
  // The sparklines of the rows on screen arrive from /api/sparks after the list.
  await page.waitForFunction(() => document.querySelectorAll('#symbols tbody tr:not([data-spark])').length === 0,
    null, { timeout: 5000 });
  out('sparks_requests', sparksRequests);
  const rows = await page.$$eval('#symbols tbody tr', (trs) => trs.map((tr) =>
    [tr.dataset.symbol, tr.querySelector('.price').textContent, tr.querySelector('.pct').textContent,
      tr.querySelector('.chg').className.includes('up') ? 'up' : tr.querySelector('.chg').className.includes('down') ? 'down' : 'flat',
      tr.querySelectorAll('svg.spark polyline').length].join(':')));
  out('rows', rows.join(' '));

  // A quote published now must show within 2 s.
  const [sym, price] = process.env.DASH_EXPECT.split('=');
  const t0 = Date.now();
  execSync(process.env.DASH_PUBLISH, { stdio: 'inherit', shell: '/bin/bash' });
  let live = 'timeout';
  try {
    await page.waitForFunction(([s, p]) => {
      const td = document.querySelector(`#symbols tr[data-symbol="${s}"] .price`);
      return td && td.textContent === p;
    }, [sym, price], { timeout: 2000, polling: 20 });
    live = Date.now() - t0;
  } catch (e) { /* live stays 'timeout' */ }
  out('live_ms', live);
  out('live_within_2s', typeof live === 'number' && live <= 2000 ? 'yes' : 'no');
  // ... and its sparkline ends with it (the page extends it: no request).
  try {
    await page.waitForFunction(([s, p]) => {
      const tr = document.querySelector(`#symbols tr[data-symbol="${s}"]`);
      return tr && tr.dataset.sparkLast === p;
    }, [sym, price], { timeout: 2000, polling: 20 });
  } catch (e) { /* reported below */ }
  out('spark_last', await page.$eval(`#symbols tr[data-symbol="${sym}"]`, (tr) => tr.dataset.sparkLast || 'none'));

  // Select the symbol: both charts draw.
  await page.click(`#symbols tr[data-symbol="${sym}"]`);
  await page.waitForFunction((s) => document.body.dataset.charts === s, sym, { timeout: 5000 });
  await page.waitForTimeout(500);   // let the charts paint
  const painted = await page.evaluate(() => {
    // A chart is drawn when one of its canvases has pixels other than the background.
    const check = (id) => [...document.querySelectorAll(`#${id} canvas`)].some((c) => {
      if (!c.width || !c.height) return false;
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const seen = new Set();
      for (let i = 0; i < d.length; i += 64) { seen.add(`${d[i]},${d[i + 1]},${d[i + 2]},${d[i + 3]}`); if (seen.size > 3) return true; }
      return false;
    });
    return { intraday: check('intraday-chart'), daily: check('daily-chart') };
  });
  out('intraday_drawn', painted.intraday ? 'yes' : 'no');
  out('daily_drawn', painted.daily ? 'yes' : 'no');
  out('selected', await page.$eval('#sel-symbol', (e) => e.textContent));
  out('l30d_high', await page.$eval('#l30d', (e) => { const dt = [...e.querySelectorAll('dt')].find((d) => d.textContent === '30d high'); return dt ? dt.nextElementSibling.textContent : 'none'; }));
  out('alerts', await page.$$eval('#alerts tbody tr', (trs) => trs.map((tr) => tr.children[1].textContent).join(',')));
  out('page_text_has_at', (await page.textContent('body')).includes('@') ? 'yes' : 'no');

  // Layout: no two panels overlap.
  const overlaps = await page.evaluate(() => {
    const boxes = [...document.querySelectorAll('.panel')].map((e) => [e.id || e.className, e.getBoundingClientRect()]);
    const bad = [];
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const [a, ra] = boxes[i], [b, rb] = boxes[j];
      if (ra.left < rb.right && rb.left < ra.right && ra.top < rb.bottom && rb.top < ra.bottom) bad.push(`${a}/${b}`);
    }
    return bad.join(',') || 'none';
  });
  out('overlaps', overlaps);
  await page.screenshot({ path: join(artifacts, 'dashboard.png'), fullPage: true });
  out('screenshot', join(artifacts, 'dashboard.png'));
} catch (e) {
  out('exception', e.message);
} finally {
  out('console_errors', errors.length ? errors.join(' | ') : 'none');
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
