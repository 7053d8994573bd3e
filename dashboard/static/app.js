// stockpipe-dash page: a watchlist fed by /api/symbols and the SSE stream,
// the selected symbol's intraday and daily charts, and recent alerts.  The
// watchlist's two-hour sparklines come from /api/sparks for the rows on
// screen only (asked in batches as rows scroll into view), and the page
// extends them itself with each streamed quote: neither the symbol list nor
// the stream carries them, so that 8,000 symbols cost 8,000 rows, not
// 8,000 sparklines.  It
// says what it shows: each symbol's market state and data age (market.js),
// the time of its last quote in its exchange's zone, a badge on replayed or
// simulated data, and "no quotes" / "no daily bars" instead of an empty chart.
'use strict';
(() => {
  const LC = window.LightweightCharts;
  const M = window.DashMarket;
  const $ = (sel) => document.querySelector(sel);
  const css = getComputedStyle(document.documentElement);
  const color = (v) => css.getPropertyValue(v).trim();
  const UP = color('--up'), DOWN = color('--down');

  const quotes = new Map();   // symbol -> latest quote object
  // symbol -> its sparkline, [[minute start (epoch s), last price], ...]
  // oldest first, once /api/sparks answered for it ([] when it has none)
  const sparks = new Map();
  const onScreen = new Set();      // symbols whose rows are visible
  const sparksWanted = new Set();  // on screen, not loaded, not asked yet
  const SPARKS_MAX = 200;          // symbols per /api/sparks request (the server's bound)
  const SPARK_S = 7200;            // the window: two hours up to the latest quote
  let sparksTimer = null, sparksEpoch = 0;
  let selected = null;
  let intraday = null, daily = null;
  let alertsAt = 0;
  // The server's clock minus the browser's (ms), from the quotes' "now":
  // data ages are counted on the server's clock, not a browser's that may
  // be off.
  let skewMs = 0;
  const serverNow = () => Date.now() + skewMs;

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
    return { chart, line, offset: 0 };
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
    // Bars with a close only (no open, high, low: a previous close the feed
    // gave alone) are dots, not candles: nothing is made up for them.
    const closes = chart.addSeries(LC.LineSeries, { color: '#e6edf3', lineVisible: false, pointMarkersVisible: true,
      pointMarkersRadius: 3, lastValueVisible: false, priceLineVisible: false, crosshairMarkerVisible: false });
    return { chart, candles, closes, volume, sma, lines: [] };
  }

  // ---- sparklines
  // A row that scrolls into view asks for its sparkline (batched: one
  // request per SPARKS_MAX symbols, 100 ms after the scrolling settles).
  const observer = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const sym = e.target.dataset.symbol;
      if (!e.isIntersecting) { onScreen.delete(sym); continue; }
      onScreen.add(sym);
      if (sparks.has(sym)) drawSpark(e.target, sym);
      else wantSpark(sym);
    }
  }, { rootMargin: '200px 0px' });

  function wantSpark(sym) {
    sparksWanted.add(sym);
    if (!sparksTimer) sparksTimer = setTimeout(loadSparks, 100);
  }

  async function loadSparks() {
    sparksTimer = null;
    const epochAt = sparksEpoch;
    const list = [...sparksWanted].filter((s) => onScreen.has(s) && !sparks.has(s));
    sparksWanted.clear();
    for (let i = 0; i < list.length; i += SPARKS_MAX) {
      const batch = list.slice(i, i + SPARKS_MAX);
      let got;
      try {
        got = await getJSON(`/api/sparks?symbols=${batch.map(encodeURIComponent).join(',')}`);
      } catch (err) { report(err); continue; }   // asked again when the rows come into view again
      if (epochAt !== sparksEpoch) return;       // the list was reloaded meanwhile
      for (const sym of batch) {
        // A quote streamed meanwhile may be newer than the answer's last point.
        const pts = got[sym] || [];
        const q = quotes.get(sym);
        sparks.set(sym, pts);
        if (q && q.ts) extendSpark(sym, q);
        const tr = rowOf(sym);
        if (tr && onScreen.has(sym)) drawSpark(tr, sym);
      }
    }
  }

  // The streamed quote q into its symbol's loaded sparkline: the last price
  // of its minute (replaced, or a new point), and the points older than
  // two hours before it dropped, as the server computes them.
  function extendSpark(sym, q) {
    const pts = sparks.get(sym);
    if (!pts || !q.ts) return false;
    const at = Date.parse(q.ts) / 1000, minute = Math.floor(at / 60) * 60;
    const last = pts[pts.length - 1];
    if (last && last[0] === minute) last[1] = q.price;
    else if (!last || last[0] < minute) pts.push([minute, q.price]);
    else return false;   // an older quote than the line's last: not the newest price of its minute
    while (pts.length && pts[0][0] + 60 <= at - SPARK_S) pts.shift();
    return true;
  }

  function drawSpark(tr, sym) {
    const pts = sparks.get(sym) || [];
    tr.querySelector('.spk').innerHTML = sparkSVG(pts.map((p) => p[1]));
    tr.dataset.spark = pts.length;   // for tests: the points drawn, the last price
    tr.dataset.sparkLast = pts.length ? String(pts[pts.length - 1][1]) : '';
  }

  // Reloaded list (first load, reconnect, reset): quotes may have been
  // missed, so the sparklines on screen are asked for again.
  function resetSparks() {
    sparksEpoch++;
    sparks.clear();
    for (const sym of onScreen) wantSpark(sym);
  }

  const rowsBySymbol = new Map();   // symbol -> its <tr> (8,000 rows: no selector search per quote)
  const rowOf = (sym) => rowsBySymbol.get(sym);

  // ---- watchlist
  function sparkSVG(values) {
    const w = 80, h = 22;
    if (!values || values.length < 2) return `<svg class="spark" viewBox="0 0 ${w} ${h}"></svg>`;
    const lo = Math.min(...values), hi = Math.max(...values), span = hi - lo || 1;
    const pts = values.map((v, i) => `${(i / (values.length - 1) * w).toFixed(1)},${(h - 2 - (v - lo) / span * (h - 4)).toFixed(1)}`).join(' ');
    const c = values[values.length - 1] >= values[0] ? UP : DOWN;
    return `<svg class="spark" viewBox="0 0 ${w} ${h}" preserveAspectRatio="none"><polyline fill="none" stroke="${c}" stroke-width="1.5" points="${pts}"/></svg>`;
  }

  // The market cell of a row, or the header's: state and data age.
  function renderState(el, ageEl, q) {
    const st = M.state(q, serverNow());
    el.textContent = st.label;
    el.className = `mstate ${st.state}`;
    el.title = st.detail;
    if (ageEl) ageEl.textContent = q && q.daily_only ? 'daily bars only' : fmtAgeOf(st);
    return st;
  }

  // A data age as shown: "12 s", or "in 5 min" for a quote ahead of the
  // clock (a second of clock jitter counts as none).
  const fmtAgeOf = (st) => st.age_s == null ? '' : st.age_s < -1 ? `in ${M.fmtAge(-st.age_s)}` : M.fmtAge(st.age_s);
  const STATE_WHY = {
    closed: 'no quote for more than 2 min: closed', ahead: 'the quote is ahead of the clock',
    live: 'quotes arriving; the feed does not say which session',
    open: 'regular session, as the feed says', pre: 'pre-market session, as the feed says', post: 'after-hours session, as the feed says',
  };

  function renderRow(q, flash) {
    const tbody = $('#symbols tbody');
    let tr = rowOf(q.symbol);
    if (!tr) {
      tr = document.createElement('tr');
      tr.dataset.symbol = q.symbol;
      tr.innerHTML = '<td class="sym"><span class="name"></span><span class="src-badge" hidden></span></td><td class="num price"></td>' +
        '<td class="num chg"></td><td class="num pct"></td><td class="mkt"><span class="mstate"></span><span class="age"></span></td><td class="spk"></td>';
      tr.addEventListener('click', () => select(q.symbol));
      // In order; the list arrives sorted, so mostly at the end.
      const last = tbody.lastElementChild;
      const after = !last || last.dataset.symbol < q.symbol ? null
        : [...tbody.children].find((r) => r.dataset.symbol > q.symbol);
      tbody.insertBefore(tr, after || null);
      rowsBySymbol.set(q.symbol, tr);
      observer.observe(tr);
    }
    const d = dir(q.change);
    tr.querySelector('.name').textContent = q.symbol;
    const badge = M.sourceBadge(q.source), b = tr.querySelector('.src-badge');
    b.hidden = !badge;
    b.textContent = badge || '';
    b.className = `src-badge ${badge || ''}`;
    tr.dataset.source = q.source || '';
    tr.dataset.dailyOnly = q.daily_only ? 'yes' : 'no';
    tr.querySelector('.price').textContent = fmtPrice(q.price);
    tr.querySelector('.chg').textContent = fmtSigned(q.change);
    tr.querySelector('.chg').className = `num chg ${d}`;
    tr.querySelector('.pct').textContent = q.change_pct == null ? '—' : fmtSigned(q.change_pct) + '%';
    tr.querySelector('.pct').className = `num pct ${d}`;
    if (extendSpark(q.symbol, q) && onScreen.has(q.symbol)) drawSpark(tr, q.symbol);
    renderState(tr.querySelector('.mstate'), tr.querySelector('.age'), q);
    tr.title = q.daily_only ? `no quotes; last daily close ${q.bar_date || '—'} (change against the bar before)`
      : `last quote ${quoteTime(q)}`;
    if (flash) { tr.classList.remove('flash'); void tr.offsetWidth; tr.classList.add('flash'); }
    tr.classList.toggle('selected', q.symbol === selected);
    $('#symbols-empty').hidden = quotes.size > 0;
  }

  // "2026-12-01 11:30:00 EST (America/New_York)": the quote's time in its
  // exchange's zone, or in the market's zone when the feed gives none
  // PostgreSQL knows (the server chose and checked the zone).
  function quoteTime(q) {
    if (!q.ts) return '';
    const why = q.tz_from === 'exchange' ? 'exchange' : q.tz_from === 'unknown' ? "market's zone: the feed's exchange zone is unknown" : "market's zone";
    return `${q.local_time} ${M.zoneAbbrev(q)} (${q.tz}, ${why})`;
  }

  function renderHeader() {
    const q = quotes.get(selected);
    $('#sel-symbol').textContent = selected || '—';
    if (!q) return;
    $('#sel-price').textContent = fmtPrice(q.price);
    const c = $('#sel-change');
    c.textContent = `${fmtSigned(q.change)} (${q.change_pct == null ? '—' : fmtSigned(q.change_pct) + '%'})`;
    c.className = `num ${dir(q.change)}`;
    const badge = M.sourceBadge(q.source);
    $('#sel-badge').hidden = !badge;
    $('#sel-badge').textContent = badge || '';
    $('#sel-badge').className = `src-badge ${badge || ''}`;
    const st = renderState($('#sel-state'), null, q);
    $('#sel-time').textContent = q.daily_only ? `No quotes: daily bars only; last close ${q.bar_date || '—'}.`
      : `Last quote ${quoteTime(q)}.`;
    $('#sel-age').textContent = st.age_s == null ? '' : `Data age: ${fmtAgeOf(st)} (${STATE_WHY[st.state]}).`;
  }

  // What the feed is: a badge in the header when any symbol's quotes are
  // replayed or simulated.
  function renderFeed() {
    const kinds = new Set([...quotes.values()].map((q) => M.sourceBadge(q.source)).filter(Boolean));
    const f = $('#feed-badge');
    f.hidden = kinds.size === 0;
    f.textContent = [kinds.has('replay') ? 'replay of recorded data' : null, kinds.has('simulated') ? 'simulated symbols' : null]
      .filter(Boolean).join(' · ');
    f.title = 'Not live market data: quotes whose source is replay are recorded prices with their dates moved onto the present; simulated ones are a random walk.';
  }

  function applyQuotes(list, flash) {
    for (const q of list) {
      quotes.set(q.symbol, q);
      renderRow(q, flash);
      if (q.now) skewMs = Date.parse(q.now) - Date.now();
      if (q.symbol === selected && intraday && flash && q.ts) {
        try { intraday.line.update({ time: epoch(q.ts) + intraday.offset, value: q.price }); $('#intraday-empty').hidden = true; } catch (e) { /* an older quote */ }
      }
    }
    renderHeader();
    renderFeed();
  }

  // /api/symbols answers columns ({now, symbol: [...], price: [...], ...}:
  // cheaper for the server to build than 8,000 objects): rows again here.
  function rowsOf(cols) {
    const keys = Object.keys(cols).filter((k) => k !== 'now');
    return (cols.symbol || []).map((_, i) => {
      const q = { now: cols.now };
      for (const k of keys) q[k] = cols[k][i];
      return q;
    });
  }

  async function loadSymbols() {
    const list = rowsOf(await getJSON('/api/symbols'));
    resetSparks();
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
    // lightweight-charts shows times as UTC: shifted by the quote's UTC
    // offset, its axis reads in the zone the header names.
    const q = quotes.get(symbol);
    intraday.offset = q && q.utc_offset != null ? q.utc_offset : 0;
    $('#intraday-zone').textContent = q && q.ts ? `Intraday, times in ${M.zoneAbbrev(q)}` : 'Intraday';
    intraday.line.setData(id.points.map((p) => ({ time: p.t + intraday.offset, value: p.p })));
    intraday.chart.timeScale().fitContent();
    $('#intraday-chart').dataset.points = id.points.length;
    const ie = $('#intraday-empty');
    ie.hidden = id.points.length > 0;
    ie.textContent = `No quotes for ${symbol}: ${dy.bars.length ? 'daily bars only.' : 'nothing stored yet.'}`;
    drawDaily(dy);
    document.body.dataset.charts = symbol;   // for tests: charts drawn
  }

  function drawDaily(dy) {
    const bars = dy.bars;
    const full = (b) => b.open != null && b.high != null && b.low != null;
    daily.candles.setData(bars.filter(full).map((b) => ({ time: b.date, open: b.open, high: b.high, low: b.low, close: b.close })));
    daily.closes.setData(bars.filter((b) => !full(b)).map((b) => ({ time: b.date, value: b.close })));
    const de = $('#daily-empty'), dc = $('#daily-chart');
    de.hidden = bars.length > 0;
    de.textContent = `No daily bars for ${dy.symbol}.`;
    dc.dataset.bars = bars.length;
    dc.dataset.closeOnly = bars.filter((b) => !full(b)).length;
    daily.volume.setData(bars.filter((b) => b.volume != null).map((b) => ({ time: b.date, value: b.volume,
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

  // Every second: the clock, and the data ages and market states (a quote
  // grows old without any event).
  function tick() {
    $('#clock').textContent = new Date(serverNow()).toISOString().slice(11, 19) + ' UTC';
    for (const tr of document.querySelectorAll('#symbols tbody tr')) {
      const q = quotes.get(tr.dataset.symbol);
      if (q) renderState(tr.querySelector('.mstate'), tr.querySelector('.age'), q);
    }
    renderHeader();
  }

  intraday = makeIntraday();
  daily = makeDaily();
  tick(); setInterval(tick, 1000);
  connect();
  loadAlerts().catch(report);
})();
