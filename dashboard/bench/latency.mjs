// Publish-to-browser latency of stockpipe-dash, run by bench/dashboard.sh:
//   node latency.mjs URL BROKER N
// Publishes N quotes of symbol BENCH one after another, and for each one
// measures the time from starting kcat with it until the page's symbol list
// shows its price (observed on every animation frame, ~16 ms resolution).
// Prints p50, p99, max in ms.
// Env BENCH_GAP_MS (default 0): a pause between one quote shown and the
// next published.  Back to back (0), each quote comes right after the
// server's previous refresh, so the refresh rate limit (--max-refresh-rate,
// 10 a second: 100 ms apart) delays it; with a gap of 150 ms or more each
// quote is the first after a quiet spell, as a symbol's quotes are in
// practice, and is refreshed at once.
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, broker, nStr] = process.argv.slice(2);
const n = Number(nStr || 200);
const gapMs = Number(process.env.BENCH_GAP_MS || 0);
const profile = mkdtempSync(join(tmpdir(), 'dash-bench-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1440, height: 1000 },
});
// One kcat per quote: a long-running kcat reading a pipe was seen to hold
// messages for seconds, so each quote's time includes kcat's start-up and
// connection to the broker (a few ms on loopback), an upper bound.
const publish = (line) => { const k = spawn('kcat', ['-P', '-b', broker, '-t', 'stock_live', '-K', '\t', '-X', 'linger.ms=0'], { stdio: ['pipe', 'ignore', 'inherit'] }); k.stdin.end(line); };
try {
  const page = ctx.pages()[0];
  await page.goto(url);
  await page.waitForSelector('#symbols tr[data-symbol="BENCH"]', { timeout: 10000 });
  await page.waitForSelector('#status.up');
  const t0s = Math.floor(Date.now() / 1000) - n - 10;
  const lat = [];
  for (let i = 0; i < n; i++) {
    const price = (200 + i / 100).toFixed(2);
    const t0 = performance.now();
    publish(`BENCH\t{"symbol":"BENCH","ts":${t0s + i},"price":${price},"prev_close":199}\n`);
    await page.waitForFunction((p) => document.querySelector('#symbols tr[data-symbol="BENCH"] .price').textContent === p,
      Number(price).toLocaleString('en-US', { minimumFractionDigits: 2 }), { polling: 'raf', timeout: 10000 });
    lat.push(performance.now() - t0);
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
  }
  lat.sort((a, b) => a - b);
  const pct = (p) => lat[Math.min(lat.length - 1, Math.ceil(p / 100 * lat.length) - 1)].toFixed(0);
  console.log(`quotes=${n} gap_ms=${gapMs} p50_ms=${pct(50)} p99_ms=${pct(99)} max_ms=${lat[lat.length - 1].toFixed(0)}`);
} catch (e) {
  console.error(`failed: ${e.message}`);
  process.exitCode = 1;
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
