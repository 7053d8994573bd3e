// stockpipe-dash: what the page says about a symbol's market (pure
// functions, no DOM: dashboard/test/market_test.mjs tests them in Node).
// The rule is documented in docs/dashboard.md, "Market state".
'use strict';
(function (root) {
  // A quote at most this old (or this far ahead of the clock) is "fresh":
  // the feed polls every few seconds, so two minutes without a quote
  // means it stopped, whatever the reason (market closed, feed down).
  const FRESH_S = 120;
  const SESSIONS = { regular: 'open', pre: 'pre', post: 'post' };

  // "12 s", "5 min", "3 h 20 min", "2 d 4 h": the age of a quote.
  function fmtAge(s) {
    s = Math.max(0, Math.round(s));
    if (s < 60) return `${s} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} min`;
    const h = Math.floor(m / 60);
    if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
    const d = Math.floor(h / 24);
    return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
  }

  // The state of quote q (a row of /api/symbols) at nowMs (the server's
  // clock, in ms): {state, label, detail, age_s}.
  //   state: open | pre | post (a fresh quote of that session), live (a
  //   fresh quote whose feed does not say the session), closed (no quote
  //   for FRESH_S s, or none at all), ahead (the quote's time is more than
  //   FRESH_S s after the clock: a replay running faster than real time,
  //   or a wrong clock).
  function state(q, nowMs) {
    if (!q || q.ts == null) {
      return { state: 'closed', label: 'closed', age_s: null,
        detail: q && q.daily_only ? `no quotes: daily bars only${q.bar_date ? `, last ${q.bar_date}` : ''}` : 'no quotes' };
    }
    const age = (nowMs - Date.parse(q.ts)) / 1000;
    if (age > FRESH_S) return { state: 'closed', label: 'closed', age_s: age, detail: `last quote ${fmtAge(age)} ago` };
    if (age < -FRESH_S) return { state: 'ahead', label: 'ahead of clock', age_s: age, detail: `last quote ${fmtAge(-age)} ahead of the clock` };
    const s = SESSIONS[q.session];
    if (s) return { state: s, label: s, age_s: age, detail: `${q.session} session, last quote ${fmtAge(Math.abs(age))} ${age < 0 ? 'ahead' : 'ago'}` };
    return { state: 'live', label: 'live', age_s: age, detail: `quotes arriving; the feed does not say which session` };
  }

  // "UTC-05:00" for -18000 s.
  function fmtOffset(sec) {
    if (sec == null) return '';
    const a = Math.abs(sec), sign = sec < 0 ? '-' : '+';
    const hh = String(Math.floor(a / 3600)).padStart(2, '0'), mm = String(Math.floor(a % 3600 / 60)).padStart(2, '0');
    return `UTC${sign}${hh}:${mm}`;
  }

  // The zone's abbreviation at the quote's instant ("EST", "EDT", or
  // "GMT+1" where the browser knows no letters), else its UTC offset as
  // the server computed it.  tz is a name PostgreSQL validated.
  function zoneAbbrev(q) {
    try {
      const part = new Intl.DateTimeFormat('en-US', { timeZone: q.tz, timeZoneName: 'short' })
        .formatToParts(new Date(q.ts)).find((p) => p.type === 'timeZoneName');
      if (part && part.value) return part.value;
    } catch (e) { /* a zone the browser does not know */ }
    return fmtOffset(q.utc_offset);
  }

  // The badge of a quote's source: the page says when it is not market data
  // as it happens.
  function sourceBadge(source) {
    return source === 'replay' ? 'replay' : source === 'sim' ? 'simulated' : null;
  }

  root.DashMarket = { FRESH_S, fmtAge, state, fmtOffset, zoneAbbrev, sourceBadge };
})(typeof window !== 'undefined' ? window : globalThis);
