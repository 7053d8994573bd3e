// Unit test of static/market.js (the page's market state rule), run by
// `make check` with Node: TAP lines "ok N - ..." as test/unit/tap.h prints
// them, exit status 1 when one failed.
import { readFileSync } from 'node:fs';
import { runInThisContext } from 'node:vm';

runInThisContext(readFileSync(new URL('../static/market.js', import.meta.url), 'utf8'));
const M = globalThis.DashMarket;
let n = 0, failed = 0;
function check(ok, what) { n++; if (!ok) failed++; console.log(`${ok ? '' : 'not '}ok ${n} - ${what}`); }
function eq(got, want, what) {
  const ok = JSON.stringify(got) === JSON.stringify(want);
  check(ok, what);
  if (!ok) console.log(`#   got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

const now = Date.parse('2026-12-02T15:00:00Z');
const at = (s) => new Date(now - s * 1000).toISOString();
const st = (q) => M.state(q, now);

// fresh quotes: the session says the state
eq(st({ ts: at(10), session: 'regular' }).state, 'open', 'regular session, 10 s old: open');
eq(st({ ts: at(10), session: 'pre' }).state, 'pre', 'pre session: pre');
eq(st({ ts: at(10), session: 'post' }).state, 'post', 'post session: post');
eq(st({ ts: at(120), session: 'regular' }).state, 'open', '120 s old is still fresh');
eq(st({ ts: at(-60), session: 'regular' }).state, 'open', 'a minute ahead of the clock is fresh');
eq(st({ ts: at(10), session: null }).state, 'live', 'fresh, no session: live (not open)');
eq(st({ ts: at(10), session: 'weird' }).state, 'live', 'an unknown session counts as none');
eq(st({ ts: at(10), session: null }).detail, 'quotes arriving; the feed does not say which session', '... and says it does not know');
// stale quotes: closed, with the age
eq(st({ ts: at(121), session: 'regular' }).state, 'closed', '121 s old: closed, whatever the session');
eq(st({ ts: at(300), session: 'regular' }).detail, 'last quote 5 min ago', '... saying how long ago');
eq(st({ ts: at(3 * 3600 + 20 * 60) }).detail, 'last quote 3 h 20 min ago', 'hours and minutes');
eq(st({ ts: at(50 * 3600) }).detail, 'last quote 2 d 2 h ago', 'days and hours');
// ahead of the clock (a replay faster than real time)
eq(st({ ts: at(-600), session: 'regular' }).state, 'ahead', '10 min ahead of the clock: ahead, not open');
eq(st({ ts: at(-600) }).detail, 'last quote 10 min ahead of the clock', '... saying by how much');
// no quote
eq(st({ ts: null, daily_only: true, bar_date: '2026-12-01' }),
  { state: 'closed', label: 'closed', age_s: null, detail: 'no quotes: daily bars only, last 2026-12-01' }, 'daily bars only: closed, says so');
eq(st(null).state, 'closed', 'no row: closed');
eq(st({ ts: at(5), session: 'regular' }).age_s, 5, 'age in seconds');
// formatting
eq([0, 59, 60, 3599, 3600, 7260, 48 * 3600].map(M.fmtAge), ['0 s', '59 s', '1 min', '59 min', '1 h', '2 h 1 min', '2 d'], 'fmtAge');
eq(M.fmtAge(-5), '0 s', 'fmtAge never negative');
eq([-18000, 3600, 19800, 0, null].map(M.fmtOffset), ['UTC-05:00', 'UTC+01:00', 'UTC+05:30', 'UTC+00:00', ''], 'fmtOffset');
eq(M.zoneAbbrev({ tz: 'America/New_York', ts: '2026-07-01T12:00:00Z', utc_offset: -14400 }), 'EDT', 'New York in July: EDT');
eq(M.zoneAbbrev({ tz: 'America/New_York', ts: '2026-12-01T12:00:00Z', utc_offset: -18000 }), 'EST', 'New York in December: EST');
eq(M.zoneAbbrev({ tz: 'Not/AZone', ts: '2026-12-01T12:00:00Z', utc_offset: 3600 }), 'UTC+01:00', 'a zone the browser does not know: the offset');
eq([M.sourceBadge('replay'), M.sourceBadge('sim'), M.sourceBadge('yahoo'), M.sourceBadge(null)], ['replay', 'simulated', null, null], 'source badges');

console.log(`1..${n}`);
if (failed) console.log(`# ${failed} of ${n} failed`);
process.exit(failed ? 1 : 0);
