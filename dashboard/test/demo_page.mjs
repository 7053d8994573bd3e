// The demo's page in headless Chromium, run by test/e2e/95_demo.sh after
// scripts/demo.sh started everything:
//   node demo_page.mjs URL SCREENSHOT_PATH
// Env: DEMO_DAILY_ONLY  a symbol with daily bars only (default MSFT)
//      DEMO_DEADLINE_S  how long each condition may take to hold (default 60)
// Prints "key=value" lines for the shell's checks (as browser.mjs does) and
// saves the screenshot with AAPL selected.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, shot] = process.argv.slice(2);
const dailyOnly = process.env.DEMO_DAILY_ONLY || 'MSFT';
const deadline = 1000 * Number(process.env.DEMO_DEADLINE_S || 60);
const out = (k, v) => console.log(`${k}=${String(v).replace(/\n/g, ' ')}`);
const profile = mkdtempSync(join(tmpdir(), 'dash-demo-chromium-'));

const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1500, height: 1100 },
});
const errors = [];

// Wait for fn(arg) in the page to be true; "yes", or "no" at the deadline.
async function holds(page, fn, arg) {
  try { await page.waitForFunction(fn, arg, { timeout: deadline, polling: 250 }); return 'yes'; } catch (e) { return 'no'; }
}

// A chart is drawn when one of its canvases has pixels of more than a few
// colours (as browser.mjs checks).
const drawn = (id) => [...document.querySelectorAll(`#${id} canvas`)].some((c) => {
  if (!c.width || !c.height) return false;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const seen = new Set();
  for (let i = 0; i < d.length; i += 64) { seen.add(`${d[i]},${d[i + 1]},${d[i + 2]},${d[i + 3]}`); if (seen.size > 3) return true; }
  return false;
});

async function selectSymbol(page, sym) {
  await page.click(`#symbols tr[data-symbol="${sym}"]`);
  await page.waitForFunction((s) => document.body.dataset.charts === s, sym, { timeout: deadline });
  await page.waitForTimeout(500);   // let the charts paint
}

const l30dDays = (page) => page.$eval('#l30d', (e) => {
  const dt = [...e.querySelectorAll('dt')].find((d) => d.textContent === 'Days used');
  return dt ? dt.nextElementSibling.textContent : 'none';
});

try {
  const page = browser.pages()[0] || await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.goto(url, { waitUntil: 'load' });

  // the symbol list: AAPL (replayed quotes) and a symbol with daily bars only
  out('symbols_listed', await holds(page, (s) =>
    !!document.querySelector('#symbols tr[data-symbol="AAPL"]') && !!document.querySelector(`#symbols tr[data-symbol="${s}"]`), dailyOnly));
  out('symbols', await page.$$eval('#symbols tbody tr', (trs) => trs.map((tr) => tr.dataset.symbol).join(',')));
  out('daily_only_row', await page.$eval(`#symbols tr[data-symbol="${dailyOnly}"]`,
    (tr) => `${tr.dataset.dailyOnly}:${tr.querySelector('.mstate').textContent}:${tr.querySelector('.price').textContent}`).catch(() => 'none'));
  out('stream_up', await holds(page, () => !!document.querySelector('#status.up')));

  // the page says it is a replay: the header's badge, and AAPL's row
  out('feed_badge', await page.$eval('#feed-badge', (e) => e.hidden ? 'hidden' : e.textContent));
  out('aapl_badge', await page.$eval('#symbols tr[data-symbol="AAPL"] .src-badge', (e) => e.hidden ? 'hidden' : e.textContent).catch(() => 'none'));
  // every row has a market state and a data age (or "daily bars only")
  out('states', await page.$$eval('#symbols tbody tr', (trs) => trs.map((tr) =>
    `${tr.dataset.symbol}:${tr.querySelector('.mstate').textContent}:${tr.querySelector('.age').textContent}`.replace(/ /g, '_')).join(' ')));
  // every day change shown, within ±30 %
  const pcts = await page.$$eval('#symbols tbody tr', (trs) => trs.map((tr) => [tr.dataset.symbol, tr.querySelector('.pct').textContent]));
  out('pcts', pcts.map(([s, p]) => `${s}:${p}`).join(' '));
  out('pct_absurd', pcts.filter(([, p]) => p !== '—' && !(Math.abs(parseFloat(p)) <= 30)).map(([s, p]) => `${s}:${p}`).join(' ') || 'none');
  out('pct_shown', pcts.filter(([, p]) => p !== '—').length);

  // the daily-only symbol: daily bars drawn, L30D filled, "no quotes" said
  await selectSymbol(page, dailyOnly);
  out('msft_daily_bars', await page.$eval('#daily-chart', (e) => e.dataset.bars));
  out('msft_daily_drawn', await page.evaluate(drawn, 'daily-chart') ? 'yes' : 'no');
  out('msft_l30d_days', await l30dDays(page));
  out('msft_intraday_says', await page.$eval('#intraday-empty', (e) => e.hidden ? 'hidden' : e.textContent));

  // alerts: the demo's rules fire during the replayed session
  out('alerts', await holds(page, () => document.querySelectorAll('#alerts tbody tr').length > 0));
  out('alert_rows', await page.$$eval('#alerts tbody tr', (trs) => trs.map((tr) => `${tr.children[1].textContent}:${tr.children[2].textContent}`).join(',')));

  // AAPL last, for the screenshot: intraday with more than one point, its
  // close-only daily bar drawn, L30D
  await selectSymbol(page, 'AAPL');
  out('aapl_intraday_points', await holds(page, () => Number(document.querySelector('#intraday-chart').dataset.points) > 1)
    .then(() => page.$eval('#intraday-chart', (e) => e.dataset.points)));
  out('aapl_intraday_drawn', await page.evaluate(drawn, 'intraday-chart') ? 'yes' : 'no');
  out('aapl_daily_bars', await page.$eval('#daily-chart', (e) => `${e.dataset.bars}:${e.dataset.closeOnly}`));
  out('aapl_daily_drawn', await page.evaluate(drawn, 'daily-chart') ? 'yes' : 'no');
  out('aapl_daily_empty_note', await page.$eval('#daily-empty', (e) => e.hidden ? 'hidden' : e.textContent));
  out('aapl_l30d_days', await l30dDays(page));
  out('aapl_header', await page.$eval('#intraday-panel .panel-head', (e) => e.textContent.replace(/\s+/g, ' ').trim()));
  out('aapl_info', await page.$eval('#sel-info', (e) => e.textContent.replace(/\s+/g, ' ').trim()));
  await page.waitForTimeout(300);
  await page.screenshot({ path: shot, fullPage: true });
  out('screenshot', shot);
} catch (e) {
  out('exception', e.message);
} finally {
  out('console_errors', errors.length ? errors.join(' | ') : 'none');
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
