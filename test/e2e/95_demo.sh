#!/usr/bin/env bash
# The whole pipeline as a newcomer starts it: scripts/demo.sh in a temporary
# folder on free ports, replaying the recorded Yahoo data moved onto the
# present.  Whatever the hour and the day: AAPL's recorded session arrives
# in live_stock as today's (or the latest) session, point after point, with
# its recorded prices; the daily bars end on the trading day before, AAPL's
# quotes' prev_close is that bar's close; symbols without a recorded session
# get no quotes, the simulated ones say so; the L30D job works on the moved
# bars; an example alert's e-mail reaches the local SMTP server; the
# dashboard serves the latest price, and its page in headless Chromium has
# every panel filled (symbols with a replay badge, intraday, daily, L30D,
# alerts) and no absurd day change (screenshot copied to
# /tmp/stockpipe-demo-dashboard.png); re-running is harmless; stop leaves
# nothing running.
. "$(dirname "$0")/common.sh"

E2E_DIR=$(sp_make_workdir)
export STOCKPIPE_DEMO_DIR=$E2E_DIR/demo STOCKPIPE_OFFLINE=1
export STOCKPIPE_PG_PORT=$(sp_free_port) STOCKPIPE_DASH_PORT=$(sp_free_port) STOCKPIPE_SMTP_PORT=$(sp_free_port)
# a recorded minute every 3 s: the replay still runs when the demo is re-run below
export STOCKPIPE_REPLAY_SPEED=20
FIXTURES=${STOCKPIPE_FIXTURES:-$SP_ROOT/../shared/fixtures/yahoo}
D=$STOCKPIPE_DEMO_DIR
demo() { bash "$SP_ROOT/scripts/demo.sh" "$@"; }
dq() { psql -X -At -h "$D" -p "$STOCKPIPE_PG_PORT" -U postgres -d stockpipe -c "$1" 2>/dev/null; }
dq_is() { [ "$(dq "$1")" = "$2" ]; }
dq_gt() { [ "$(dq "$1")" -gt "$2" ]; }
stop_demo() { demo stop >/dev/null 2>&1; }
trap 'stop_demo; e2e_exit' EXIT

# The session a recorded one is replayed as, computed here from the
# extension's holiday table: today's once it has begun (09:30 New York),
# else the latest trading day.  And the trading day before a date.
TRADING="extract(isodow FROM d) < 6 AND NOT EXISTS (SELECT FROM stockpipe.market_holiday h WHERE h.calendar = 'XNYS' AND h.day = d::date)"
session_day() {
	dq "SELECT max(d)::date FROM (SELECT now() AT TIME ZONE 'America/New_York' AS l) n,
		generate_series(n.l::date - 10, n.l::date, interval '1 day') g(d)
		WHERE $TRADING AND (d::date < n.l::date OR n.l::time >= '09:30')"
}
prev_day() {
	dq "SELECT max(d)::date FROM generate_series(date '$1' - 10, date '$1' - 1, interval '1 day') g(d) WHERE $TRADING"
}

demo >"$E2E_DIR/demo.out" 2>&1
check "scripts/demo.sh exits 0" test $? -eq 0
T1=$(session_day)
check "it says it replays the recorded data" grep -q 'replaying the recorded real market data' "$E2E_DIR/demo.out"
check "it says what moved where" grep -q 'replay of recorded data from 2021-02-01..2024-10-02, shifted to' "$E2E_DIR/demo.out"
check "it prints the dashboard URL, psql command and .pbids file" bash -c \
	"grep -q 'http://127.0.0.1:$STOCKPIPE_DASH_PORT/' '$E2E_DIR/demo.out' && grep -q 'psql -h $D' '$E2E_DIR/demo.out' && grep -q 'stockpipe.pbids' '$E2E_DIR/demo.out'"
check ".pbids file written" /usr/bin/python3 -m json.tool "$D/stockpipe.pbids"
check_eq "quotes need no stale-age exception any more" "-1" "$(dq "SELECT current_setting('stockpipe.quote_max_age')")"

# AAPL's session, as today's or the latest, filling as we watch
check "AAPL's replayed session has more than one point" wait_for 60 "AAPL quotes" dq_gt \
	"SELECT count(*) FROM stockpipe.live_stock WHERE symbol = 'AAPL'" 1
T=$(dq "SELECT min((ts AT TIME ZONE 'America/New_York')::date) FROM stockpipe.live_stock WHERE symbol = 'AAPL'")
T2=$(session_day)
check "AAPL's quotes are of the current or latest session ($T; expected $T1 or $T2)" \
	bash -c "[ -n '$T' ] && { [ '$T' = '$T1' ] || [ '$T' = '$T2' ]; }"
check_eq "every AAPL quote on that day" 0 \
	"$(dq "SELECT count(*) FROM stockpipe.live_stock WHERE symbol = 'AAPL' AND (ts AT TIME ZONE 'America/New_York')::date <> '$T'")"
n1=$(dq "SELECT count(*) FROM stockpipe.live_stock WHERE symbol = 'AAPL'")
check "the intraday chart keeps filling" wait_for 30 "more AAPL quotes" dq_gt \
	"SELECT count(*) FROM stockpipe.live_stock WHERE symbol = 'AAPL'" "${n1:-0}"
check "AAPL's first quote at 09:30 New York, as recorded" dq_is \
	"SELECT to_char(min(ts) AT TIME ZONE 'America/New_York', 'HH24:MI') FROM stockpipe.live_stock WHERE symbol = 'AAPL'" "09:30"
# the recorded values at the recorded precision (10^-priceHint: rounded or not, both pass)
as_recorded() {
	dq "SELECT to_char(ts AT TIME ZONE 'America/New_York', 'HH24:MI'), price FROM stockpipe.live_stock
		WHERE symbol = 'AAPL' ORDER BY ts" | /usr/bin/python3 -c '
import datetime, json, sys, zoneinfo
ny = zoneinfo.ZoneInfo("America/New_York")
r = json.load(open(sys.argv[1]))["chart"]["result"][0]
tol = 10 ** -r["meta"].get("priceHint", 2)
rec = {}
for t, c in zip(r["timestamp"], r["indicators"]["quote"][0]["close"]):
    local = datetime.datetime.fromtimestamp(t, ny)
    if c is not None and local.date() == datetime.date(2024, 10, 2):
        rec[local.strftime("%H:%M")] = c
rows = [l.split("|") for l in sys.stdin.read().split()]
bad = [r for r in rows if r[0] not in rec or abs(float(r[1]) - rec[r[0]]) >= tol]
print("%d quotes, %d not as recorded: %s" % (len(rows), len(bad), bad[:3]))
sys.exit(0 if rows and not bad else 1)' "$FIXTURES/chart_AAPL_1d_1m.json"
}
check "AAPL's prices are the recorded ones, minute for minute" as_recorded
check_eq "its quotes' source is replay" "replay" \
	"$(dq "SELECT string_agg(DISTINCT source, ',') FROM stockpipe.live_stock WHERE symbol = 'AAPL'")"

# the daily bars, moved trading day for trading day
P=$(prev_day "$T")
check "daily bars in historical_stock_data" wait_for 30 "508 bars up to $P" dq_is \
	"SELECT count(*) FROM stockpipe.historical_stock_data WHERE trade_date <= '$P'" 508
check_eq "the last bar of each recorded symbol is the trading day before the session ($P)" \
	"AAPL|$P MSFT|$P NVDA|$P WSU.DE|$P" \
	"$(dq "SELECT symbol || '|' || max(trade_date) FROM stockpipe.historical_stock_data WHERE trade_date < '$T'
		GROUP BY symbol ORDER BY symbol" | tr '\n' ' ' | sed 's/ $//')"
check_eq "AAPL's quotes' prev_close is that bar's close" "t" \
	"$(dq "SELECT bool_and(l.prev_close = h.close) FROM stockpipe.live_stock l,
		stockpipe.historical_stock_data h WHERE l.symbol = 'AAPL' AND h.symbol = 'AAPL' AND h.trade_date = '$P'")"
check_eq "... the close recorded before the session, 226.21" "226.21" \
	"$(dq "SELECT round(close::numeric, 2) FROM stockpipe.historical_stock_data WHERE symbol = 'AAPL' AND trade_date = '$P'")"
check_eq "no bar lands on a weekend or a holiday" 0 \
	"$(dq "SELECT count(*) FROM stockpipe.historical_stock_data WHERE NOT (extract(isodow FROM trade_date) < 6
		AND NOT EXISTS (SELECT FROM stockpipe.market_holiday h WHERE h.calendar = 'XNYS' AND h.day = trade_date))")"
msft_as_recorded() {
	dq "SELECT close, volume FROM stockpipe.historical_stock_data WHERE symbol = 'MSFT' ORDER BY trade_date" |
		/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["chart"]["result"][0]
q = r["indicators"]["quote"][0]
tol = 10 ** -r["meta"].get("priceHint", 2)
rec = [(c, v) for c, v in zip(q["close"], q["volume"]) if c is not None]
rows = [l.split("|") for l in sys.stdin.read().split()]
ok = len(rows) == len(rec) and all(abs(float(a) - c) < tol and int(b) == v for (a, b), (c, v) in zip(rows, rec))
print("%d bars, recorded %d" % (len(rows), len(rec)))
sys.exit(0 if ok else 1)' "$FIXTURES/chart_MSFT_daily_2021-02-01_to_2022-01-31.json"
}
check "MSFT's 252 closes and volumes are the recorded ones, in order" msft_as_recorded

# no invented quotes under a real name; more live symbols are simulated and say so
check_eq "no quotes for the symbols without a recorded session" 0 \
	"$(dq "SELECT count(*) FROM stockpipe.live_stock WHERE symbol IN ('MSFT', 'NVDA', 'WSU.DE')")"
check "simulated symbols arrive" wait_for 30 "SIM quotes" dq_gt \
	"SELECT count(*) FROM stockpipe.live_stock WHERE symbol LIKE 'SIM%'" 0
check_eq "only AAPL (replay) and SIMnn (sim) are live" "AAPL|replay SIM01|sim SIM02|sim SIM03|sim" \
	"$(dq "SELECT DISTINCT symbol || '|' || source FROM stockpipe.live_stock ORDER BY 1" | tr '\n' ' ' | sed 's/ $//')"

check "the L30D job filled l30d_summary" wait_for 60 "l30d rows" dq_is \
	"SELECT count(DISTINCT symbol) FROM stockpipe.l30d_summary" 4
check_eq "L30D of the moved bars: MSFT's window ends on $P, over 30 days" "$P|30" \
	"$(dq "SELECT window_end || '|' || days_used FROM stockpipe.l30d_summary WHERE symbol = 'MSFT' ORDER BY as_of DESC LIMIT 1")"
# at 20x, the replayed session's first alert (AAPL more than 1 % down from 09:52) comes ~66 s in
check "an example alert's e-mail reached the local SMTP server" wait_for 180 "an e-mail" bash -c \
	"ls '$D'/mail/*.eml >/dev/null 2>&1"
check_eq "the outbox says sent" t "$(dq "SELECT count(*) > 0 FROM stockpipe.alert_event WHERE status = 'sent'")"
latest=$(dq "SELECT price FROM stockpipe.live_stock WHERE symbol = 'AAPL' ORDER BY ts DESC LIMIT 1")
check "the dashboard serves the latest AAPL price ($latest)" wait_for 20 "dashboard" bash -c \
	"curl -sf 'http://127.0.0.1:$STOCKPIPE_DASH_PORT/api/symbols' | grep -q '\"AAPL\"'"
check "the dashboard page loads" bash -c "curl -sf 'http://127.0.0.1:$STOCKPIPE_DASH_PORT/' | grep -qi '<html'"

# The page as a newcomer sees it, in headless Chromium driven by
# playwright-core (as 90_dashboard.sh): every panel filled, each condition
# within a deadline (dashboard/test/demo_page.mjs).
DASH_DIR=$SP_ROOT/dashboard
SHOT=$E2E_DIR/demo-dashboard.png
[ -d "$DASH_DIR/node_modules/playwright-core" ] || make -C "$DASH_DIR" -s check-deps >/dev/null
DEMO_DAILY_ONLY=MSFT node "$DASH_DIR/test/demo_page.mjs" "http://127.0.0.1:$STOCKPIPE_DASH_PORT/" "$SHOT" \
	>"$E2E_DIR/page.out" 2>&1
sed 's/^/# /' "$E2E_DIR/page.out"
page() { sed -n "s/^$1=//p" "$E2E_DIR/page.out"; }
check_eq "page: no exception" "" "$(page exception)"
check_eq "page: no console errors" "none" "$(page console_errors)"
check_eq "page: AAPL and MSFT (daily bars only) listed" "yes" "$(page symbols_listed)"
check_eq "page: every symbol with quotes or daily bars listed" "AAPL,MSFT,NVDA,SIM01,SIM02,SIM03,WSU.DE" "$(page symbols)"
check_eq "page: MSFT's row: daily bars only, closed" "yes:closed" "$(page daily_only_row | cut -d: -f1,2)"
check "page: the header says it is a replay ($(page feed_badge))" bash -c "[[ '$(page feed_badge)' == *'replay of recorded data'* ]]"
check_eq "page: AAPL's row has the replay badge" "replay" "$(page aapl_badge)"
# each row: SYMBOL:STATE:AGE (the age may say "daily_bars_only")
states_ok() {
	local r
	for r in $(page states); do
		[[ $r =~ ^[A-Z0-9.]+:(open|pre|post|live|closed|ahead_of_clock):.+$ ]] || { echo "bad: $r"; return 1; }
	done
	[ -n "$(page states)" ]
}
check "page: every row shows a market state and a data age ($(page states))" states_ok
check_eq "page: no day change beyond ±30 % ($(page pcts))" "none" "$(page pct_absurd)"
check "page: day changes shown (on $(page pct_shown) rows)" test "$(page pct_shown)" -ge 4
check "page: AAPL's intraday chart has more than one point ($(page aapl_intraday_points))" \
	test "$(page aapl_intraday_points)" -gt 1 -a "$(page aapl_intraday_drawn)" = yes
check "page: AAPL's daily chart draws its bars, close-only ones too ($(page aapl_daily_bars): bars:close-only)" \
	test "$(page aapl_daily_bars | cut -d: -f1)" -ge 1 -a "$(page aapl_daily_drawn)" = yes -a "$(page aapl_daily_empty_note)" = hidden
check_eq "page: MSFT's daily chart: its 252 bars drawn" "252 yes" "$(page msft_daily_bars) $(page msft_daily_drawn)"
check_eq "page: MSFT's intraday chart says why it is empty" "No quotes for MSFT: daily bars only." "$(page msft_intraday_says)"
check_eq "page: the L30D panel is filled (MSFT: 30 days used)" "30" "$(page msft_l30d_days)"
check "page: ... and for AAPL (days used: $(page aapl_l30d_days))" test "$(page aapl_l30d_days)" != none
check_eq "page: the alerts panel shows the demo's alerts ($(page alert_rows))" "yes" "$(page alerts)"
check "page: screenshot saved" test -s "$SHOT"
cp "$SHOT" /tmp/stockpipe-demo-dashboard.png 2>/dev/null
echo "# screenshot: $SHOT (copied to /tmp/stockpipe-demo-dashboard.png)"

demo status >"$E2E_DIR/status.out" 2>&1
check "status shows lag, jobs and the outbox" bash -c \
	"grep -q 'stock_live' '$E2E_DIR/status.out' && grep -q 'l30d_refresh' '$E2E_DIR/status.out' && grep -q 'sent' '$E2E_DIR/status.out'"
check "status says it is a replay, from which dates to which" \
	grep -q "replay of recorded data from 2021-02-01..2024-10-02, shifted to .*$T" "$E2E_DIR/status.out"
check "status says which symbols are simulated" grep -q "simulated: SIM01,SIM02,SIM03" "$E2E_DIR/status.out"

# the demo's processes: those naming its folder, and the producers (which do not)
demo_pids() { { pgrep -f "$D"; cat "$D/producer.pid" "$D/producer-sim.pid" 2>/dev/null; } | sort -u | tr '\n' ' '; }
producers=$(cat "$D/producer.pid" "$D/producer-sim.pid" 2>/dev/null | tr '\n' ' ')
pids_before=$(demo_pids)
demo >"$E2E_DIR/demo2.out" 2>&1
check "re-running scripts/demo.sh exits 0" test $? -eq 0
check_eq "re-running leaves the same processes running" "$pids_before" "$(demo_pids)"

demo stop >"$E2E_DIR/stop.out" 2>&1
check "scripts/demo.sh stop exits 0" test $? -eq 0
no_demo_left() {
	! pgrep -f "$D" >/dev/null || return 1
	for p in $producers; do ! kill -0 "$p" 2>/dev/null || return 1; done
}
check "nothing of the demo is left running" wait_for 20 "no demo process" no_demo_left
check "its ports are free again" bash -c "! curl -s 'http://127.0.0.1:$STOCKPIPE_DASH_PORT/' >/dev/null && ! pg_isready -q -h 127.0.0.1 -p $STOCKPIPE_PG_PORT"
exit $SP_TEST_FAILED
