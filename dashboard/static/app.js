// stockpipe-dash page: a watchlist fed by /api/symbols and the SSE stream,
// the selected symbol's intraday and daily charts, and recent alerts.
'use strict';
(() => {
  const LC = window.LightweightCharts;
  const $ = (sel) => document.querySelector(sel);
  const css = getComputedStyle(document.documentElement);
  const color = (v) => css.getPropertyValue(v).trim();
  const UP = color('--up'), DOWN = color('--down');

  const quotes = new Map();   // symbol -> latest quote object
  let selected = null;
  let intraday = null, daily = null;
  let alertsAt = 0;

  // ---- formatting
  const fmtPrice = (v) => v == null ? '—' : Number(v).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const fmtSigned = (v, d = 2) => v == null ? '—' : (v > 0 ? '+' : '') + Number(v).toFixed(d);
  const fmtVol = (v) => v == null ? '—' : Number(v).toLocaleString('en-US', { notation: 'compact', maximumFractionDigits: 1 });
  const fmtTime = (s) => s ? new Date(s).toISOString().replace('T', ' ').slice(0, 19) + 'Z' : '';
  const dir = (v) => v > 0 ? 'up' : v < 0 ? 'down' : '';
  const epoch = (s) => Math.floor(Date.parse(s) / 1000);

  async function getJSON(url) {
    const r = await fetch(url, { cache: 'no-store' });
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    return r.json();
  }

  // ---- charts
  const chartBase = () => ({
    autoSize: true,
    layout: { background: { type: 'solid', color: color('--panel') }, textColor: color('--dim'), fontSize: 12 },
    grid: { vertLines: { color: '#21262d' }, horzLines: { color: '#21262d' } },
    rightPriceScale: { borderColor: color('--line') },
    timeScale: { borderColor: color('--line') },
    crosshair: { mode: 0 },
  });

  function makeIntraday() {
    const chart = LC.createChart($('#intraday-chart'), { ...chartBase(), timeScale: { ...chartBase().timeScale, timeVisible: true, secondsVisible: true } });
    const line = chart.addSeries(LC.AreaSeries, {
      lineColor: color('--accent'), topColor: 'rgba(88,166,255,0.35)', bottomColor: 'rgba(88,166,255,0.02)', lineWidth: 2,
    });
    return { chart, line };
  }

  function makeDaily() {
    const chart = LC.createChart($('#daily-chart'), chartBase());
    const candles = chart.addSeries(LC.CandlestickSeries, {
      upColor: UP, downColor: DOWN, borderUpColor: UP, borderDownColor: DOWN, wickUpColor: UP, wickDownColor: DOWN,
    });
    candles.priceScale().applyOptions({ scaleMargins: { top: 0.05, bottom: 0.25 } });
    const volume = chart.addSeries(LC.HistogramSeries, { priceFormat: { type: 'volume' }, priceScaleId: 'vol', lastValueVisible: false, priceLineVisible: false });
    chart.priceScale('vol').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    const sma = {};
    for (const [k, c] of [['sma5', '#f0b429'], ['sma10', '#58a6ff'], ['sma20', '#d2a8ff']])
      sma[k] = chart.addSeries(LC.LineSeries, { color: c, lineWidth: 1, lastValueVisible: false, priceLineVisible: false, crosshairMarkerVisible: false });
    return { chart, candles, volume, sma, lines: [] };
  }

  // ---- watchlist
  function sparkSVG(values) {
    const w = 80, h = 22;
    if (!values || values.length < 2) return `<svg class="spark" viewBox="0 0 ${w} ${h}"></svg>`;
    const lo = Math.min(...values), hi = Math.max(...values), span = hi - lo || 1;
    const pts = values.map((v, i) => `${(i / (values.length - 1) * w).toFixed(1)},${(h - 2 - (v - lo) / span * (h - 4)).toFixed(1)}`).join(' ');
    const c = values[values.length - 1] >= values[0] ? UP : DOWN;
    return `<svg class="spark" viewBox="0 0 ${w} ${h}" preserveAspectRatio="none"><polyline fill="none" stroke="${c}" stroke-width="1.5" points="${pts}"/></svg>`;
  }

  function renderRow(q, flash) {
    const tbody = $('#symbols tbody');
    let tr = tbody.querySelector(`tr[data-symbol="${CSS.escape(q.symbol)}"]`);
    if (!tr) {
      tr = document.createElement('tr');
      tr.dataset.symbol = q.symbol;
      tr.innerHTML = '<td class="sym"></td><td class="num price"></td><td class="num chg"></td><td class="num pct"></td><td class="spk"></td>';
      tr.addEventListener('click', () => select(q.symbol));
      const after = [...tbody.children].find((r) => r.dataset.symbol > q.symbol);
      tbody.insertBefore(tr, after || null);
    }
    const d = dir(q.change);
    tr.querySelector('.sym').textContent = q.symbol;
    tr.querySelector('.price').textContent = fmtPrice(q.price);
    tr.querySelector('.chg').textContent = fmtSigned(q.change);
    tr.querySelector('.chg').className = `num chg ${d}`;
    tr.querySelector('.pct').textContent = q.change_pct == null ? '—' : fmtSigned(q.change_pct) + '%';
    tr.querySelector('.pct').className = `num pct ${d}`;
    tr.querySelector('.spk').innerHTML = sparkSVG(q.spark);
    tr.title = `last quote ${fmtTime(q.ts)}`;
    if (flash) { tr.classList.remove('flash'); void tr.offsetWidth; tr.classList.add('flash'); }
    tr.classList.toggle('selected', q.symbol === selected);
    $('#symbols-empty').hidden = quotes.size > 0;
  }

  function renderHeader() {
    const q = quotes.get(selected);
    $('#sel-symbol').textContent = selected || '—';
    if (!q) return;
    $('#sel-price').textContent = fmtPrice(q.price);
    const c = $('#sel-change');
    c.textContent = `${fmtSigned(q.change)} (${q.change_pct == null ? '—' : fmtSigned(q.change_pct) + '%'})`;
    c.className = `num ${dir(q.change)}`;
    $('#sel-time').textContent = fmtTime(q.ts);
  }

  function applyQuotes(list, flash) {
    for (const q of list) {
      quotes.set(q.symbol, q);
      renderRow(q, flash);
      if (q.symbol === selected && intraday && flash) {
        try { intraday.line.update({ time: epoch(q.ts), value: q.price }); } catch (e) { /* an older quote */ }
      }
    }
    renderHeader();
  }

  async function loadSymbols() {
    const list = await getJSON('/api/symbols');
    applyQuotes(list, false);
    if (!selected && list.length) select(list[0].symbol);
  }

  // ---- selection
  async function select(symbol) {
    selected = symbol;
    for (const tr of document.querySelectorAll('#symbols tbody tr'))
      tr.classList.toggle('selected', tr.dataset.symbol === symbol);
    renderHeader();
    const [id, dy] = await Promise.all([
      getJSON(`/api/intraday?symbol=${encodeURIComponent(symbol)}`),
      getJSON(`/api/daily?symbol=${encodeURIComponent(symbol)}`),
    ]);
    if (symbol !== selected) return;
    intraday.line.setData(id.points.map((p) => ({ time: p.t, value: p.p })));
    intraday.chart.timeScale().fitContent();
    drawDaily(dy);
    document.body.dataset.charts = symbol;   // for tests: charts drawn
  }

  function drawDaily(dy) {
    const bars = dy.bars;
    daily.candles.setData(bars.filter((b) => b.open != null && b.high != null && b.low != null)
      .map((b) => ({ time: b.date, open: b.open, high: b.high, low: b.low, close: b.close })));
    daily.volume.setData(bars.map((b) => ({ time: b.date, value: b.volume || 0,
      color: b.close >= (b.open ?? b.close) ? 'rgba(38,166,154,0.45)' : 'rgba(239,83,80,0.45)' })));
    for (const k of ['sma5', 'sma10', 'sma20'])
      daily.sma[k].setData(bars.filter((b) => b[k] != null).map((b) => ({ time: b.date, value: b[k] })));
    for (const l of daily.lines) daily.candles.removePriceLine(l);
    daily.lines = [];
    const s = dy.l30d;
    if (s) {
      if (s.highest_high != null) daily.lines.push(daily.candles.createPriceLine({ price: s.highest_high, color: '#8b949e', lineWidth: 1, lineStyle: 2, title: '30d high' }));
      if (s.lowest_low != null) daily.lines.push(daily.candles.createPriceLine({ price: s.lowest_low, color: '#8b949e', lineWidth: 1, lineStyle: 2, title: '30d low' }));
    }
    daily.chart.timeScale().fitContent();
    const rows = s ? [
      ['As of', s.as_of], ['Days used', s.days_used], ['Last close', fmtPrice(s.last_close)],
      ['30d change', `<span class="${dir(s.change)}">${fmtSigned(s.change)}${s.change_pct == null ? '' : ` (${fmtSigned(s.change_pct)}%)`}</span>`],
      ['30d high', fmtPrice(s.highest_high)], ['30d low', fmtPrice(s.lowest_low)],
      ['SMA 5', fmtPrice(s.sma_5)], ['SMA 10', fmtPrice(s.sma_10)], ['SMA 20', fmtPrice(s.sma_20)],
      ['Volatility', s.volatility == null ? '—' : (s.volatility * 100).toFixed(2) + '%'],
      ['Avg volume', fmtVol(s.avg_volume)],
    ] : [];
    $('#l30d').innerHTML = '<div class="head">Last 30 trading days</div>' +
      (rows.length ? rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('') : '<dt>No summary yet</dt><dd></dd>');
  }

  // ---- alerts
  async function loadAlerts() {
    const list = await getJSON('/api/alerts');
    const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    $('#alerts tbody').innerHTML = list.map((a) =>
      `<tr><td class="dim">${esc(fmtTime(a.created_at))}</td><td><b>${esc(a.symbol)}</b></td><td>${esc(a.condition.replaceAll('_', ' '))}</td>` +
      `<td class="num">${a.threshold == null ? '—' : fmtPrice(a.threshold)}</td><td class="num">${fmtPrice(a.price)}</td>` +
      `<td><span class="badge ${esc(a.status)}">${esc(a.status)}</span></td></tr>`).join('');
    $('#alerts-empty').hidden = list.length > 0;
  }

  // ---- live stream
  function setStatus(up, text) {
    $('#status').className = `status ${up ? 'up' : 'down'}`;
    $('#status-text').textContent = text;
  }

  function connect() {
    const es = new EventSource('/api/stream');
    es.addEventListener('open', () => { setStatus(true, 'live'); loadSymbols().catch(report); });
    es.addEventListener('quotes', (e) => {
      applyQuotes(JSON.parse(e.data), true);
      // A quote may have fired an alert; re-read them at most every 10 s.
      if (Date.now() - alertsAt > 10000) { alertsAt = Date.now(); loadAlerts().catch(report); }
    });
    es.addEventListener('reset', () => { setStatus(true, 'live'); loadSymbols().catch(report); loadAlerts().catch(report); if (selected) select(selected).catch(report); });
    es.addEventListener('status', (e) => { const s = JSON.parse(e.data); setStatus(s.database === 'up', s.database === 'up' ? 'live' : 'database down'); });
    es.addEventListener('error', () => setStatus(false, 'reconnecting…'));   // EventSource retries by itself
  }

  function report(err) { console.warn(String(err)); }

  function tick() { $('#clock').textContent = new Date().toISOString().slice(11, 19) + ' UTC'; }

  intraday = makeIntraday();
  daily = makeDaily();
  tick(); setInterval(tick, 1000);
  connect();
  loadAlerts().catch(report);
})();
