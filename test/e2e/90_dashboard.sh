#!/usr/bin/env bash
# The live web dashboard, stockpipe-dash, against the real pipeline (broker,
# extension, server) in headless Chromium driven by playwright-core: the page
# loads without console errors, lists the stored quotes, shows a quote
# published to Kafka during the test within 2 s, draws the selected symbol's
# charts; the JSON endpoints validate their parameters.  The screenshot is
# kept in results/dashboard/ (printed).
. "$(dirname "$0")/common.sh"

DASH_DIR=$SP_ROOT/dashboard
ARTIFACTS=${SP_ARTIFACTS:-$SP_ROOT/results/dashboard}
mkdir -p "$ARTIFACTS"
[ -x "$DASH_DIR/stockpipe-dash" ] && [ -d "$DASH_DIR/node_modules/playwright-core" ] &&
	[ -f "$DASH_DIR/static/lightweight-charts.standalone.production.js" ] ||
	make -C "$DASH_DIR" -s all check-deps >/dev/null || exit 1

e2e_start

# A login that may read the stockpipe_bi reporting views and nothing else:
# no grant on stockpipe.*, no BYPASSRLS (the views run with their owner's
# rights, so /api/alerts still lists every owner's firings).
sp_psql <<'SQL'
CREATE ROLE stockpipe_dash LOGIN;
GRANT stockpipe_reader TO stockpipe_dash;
SQL
sp_pg_allow_login stockpipe_dash

# Quotes: one a minute over the last 10 minutes for three symbols; NVDA
# carries no prev_close, so its day change comes from yesterday's bar.
now=$(date +%s)
quote() { # SYMBOL TS PRICE [PREV_CLOSE]
	printf '%s\t{"symbol":"%s","ts":%s,"price":%s,"volume":%s,"currency":"USD"%s}\n' \
		"$1" "$1" "$2" "$3" "$(($2 % 100000))" "${4:+,\"prev_close\":$4}"
}
{
	for i in $(seq 10 -1 1); do
		t=$((now - i * 60))
		quote AAPL $t "$(awk -v i=$i 'BEGIN { printf "%.2f", 190 + (10 - i) * 0.25 }')" 188.00
		quote MSFT $t "$(awk -v i=$i 'BEGIN { printf "%.2f", 420 - (10 - i) * 0.5 }')" 421.00
		quote NVDA $t "$(awk -v i=$i 'BEGIN { printf "%.2f", 140 + (10 - i) * 0.1 }')"
	done
} | produce stock_live
# Daily bars: 40 calendar days up to yesterday for AAPL and NVDA.
bar() { printf '%s\t{"symbol":"%s","date":"%s","open":%s,"high":%s,"low":%s,"close":%s,"adj_close":%s,"volume":%s}\n' "$1" "$1" "$2" "$3" "$4" "$5" "$6" "$6" "$7"; }
{
	for i in $(seq 40 -1 1); do
		d=$(date -u -d "@$((now - i * 86400))" +%F)
		read -r o h l c < <(awk -v i=$i 'BEGIN { c = 180 + (40 - i) * 0.3 + (i % 3) - 1; printf "%.2f %.2f %.2f %.2f", c - 0.8 + (i % 2) * 1.6, c + 1.5, c - 1.7, c }')
		bar AAPL "$d" "$o" "$h" "$l" "$c" $((1000000 + i * 20000))
		bar NVDA "$d" 137 142 136 139.5 2000000
	done
	bar IBM "$(date -u -d "@$((now - 86400))" +%F)" 220 225 219 224 900000   # bars only
} | produce stock_daily
wait_for 30 "30 quotes stored" query_is "SELECT count(*) FROM stockpipe.live_stock" 30
wait_for 30 "81 bars stored" query_is "SELECT count(*) FROM stockpipe.historical_stock_data" 81
q "SELECT stockpipe.refresh_l30d()" >/dev/null
q "INSERT INTO stockpipe.alert_event (owner, symbol, condition, threshold, email, price, quote_ts)
   VALUES ('postgres', 'MSFT', 'price_below', 416, 'trader@example.com', 415.5, now())" >/dev/null

port=$(sp_free_port)
BASE=http://127.0.0.1:$port
"$DASH_DIR/stockpipe-dash" --listen "127.0.0.1:$port" --static "$DASH_DIR/static" --max-clients 5 \
	--dsn "host=$PGHOST port=$PGPORT dbname=stockpipe user=stockpipe_dash" 2>"$E2E_DIR/dash.log" &
DASH_PID=$!
SP_PIDS="$SP_PIDS $DASH_PID"
check "stockpipe-dash serves" wait_for 10 "stockpipe-dash" curl -sf "$BASE/healthz"

# --- JSON endpoints
# http URL -> "STATUS CONTENT-TYPE", body in $E2E_DIR/body
http() { curl -s -o "$E2E_DIR/body" -w '%{http_code} %{content_type}' "$BASE$1"; }
header() { curl -s -D - -o /dev/null "$BASE$1" | tr -d '\r' | awk -v h="$2" 'tolower($1) == tolower(h) ":" { sub(/^[^:]*: /, ""); print }'; }
check_eq "/api/symbols: 200 JSON" "200 application/json; charset=utf-8" "$(http /api/symbols)"
# /api/symbols answers columns ({now, symbol: [...], price: [...], ...}): as rows for the checks
rows() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); k=[c for c in d if c != "now"]; json.dump([dict(zip(k, v), now=d["now"]) for v in zip(*(d[c] for c in k))], sys.stdout)' "$E2E_DIR/body" >"$E2E_DIR/rows"; }
rows
check_eq "/api/symbols: 16 columns of 4, by symbol, and the server's clock" "AAPL IBM MSFT NVDA|16 [4]|True" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); c=[v for k, v in d.items() if k != "now"]; print(" ".join(d["symbol"]) + "|%d %s|%s" % (len(c), sorted({len(v) for v in c}), "T" in d["now"]))' "$E2E_DIR/body")"
check_eq "/api/symbols: latest quote, day change" "AAPL 192.25 4.25 188|MSFT 415.5 -5.5 421|NVDA 140.9 1.4 139.5" \
	"$(python3 -c 'import json,sys; print("|".join("%s %s %s %s" % (q["symbol"], q["price"], round(q["change"], 4), q["prev_close"]) for q in json.load(open(sys.argv[1])) if q["ts"]))' "$E2E_DIR/rows")"
check_eq "/api/symbols: a symbol with daily bars only is listed, its last close" "IBM True 224 $(date -u -d "@$((now - 86400))" +%F)" \
	"$(python3 -c 'import json,sys; print(" ".join("%s %s %s %s" % (q["symbol"], q["daily_only"], q["price"], q["bar_date"]) for q in json.load(open(sys.argv[1])) if not q["ts"]))' "$E2E_DIR/rows")"
check_eq "/api/symbols: source, session, the zone checked (the market's: the quotes carry none)" "None None America/New_York market" \
	"$(python3 -c 'import json,sys; q=json.load(open(sys.argv[1]))[0]; print(q["source"], q["session"], q["tz"], q["tz_from"])' "$E2E_DIR/rows")"
check_eq "/api/symbols: no sparklines (/api/sparks has them)" "False" \
	"$(python3 -c 'import json,sys; print(any("spark" in q for q in json.load(open(sys.argv[1]))))' "$E2E_DIR/rows")"
check_eq "/api/sparks: 200 JSON" "200 application/json; charset=utf-8" "$(http '/api/sparks?symbols=AAPL,IBM,ZZZZ,AAPL')"
check_eq "/api/sparks: a point a minute over 10 minutes, the last the latest price; none for bars only or unknown" \
	"AAPL 10 192.25 60" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); a=d["AAPL"]; print(" ".join(d), len(a), a[-1][1], a[1][0] - a[0][0])' "$E2E_DIR/body")"
check_eq "/api/sparks: no symbols: 400 JSON" '400 application/json; charset=utf-8 {"error":"symbols required: a comma-separated list of symbols"}' \
	"$(http '/api/sparks') $(cat "$E2E_DIR/body")"
check_eq "/api/sparks: empty list: 400" "400" "$(http '/api/sparks?symbols=' | cut -d' ' -f1)"
check_eq "/api/sparks: a malformed symbol: 400" "400" "$(http '/api/sparks?symbols=AAPL,aapl%27%3B--' | cut -d' ' -f1)"
check_eq "/api/sparks: an empty entry: 400" "400" "$(http '/api/sparks?symbols=AAPL,,MSFT' | cut -d' ' -f1)"
check_eq "/api/sparks: 200 symbols: 200" "200" "$(http "/api/sparks?symbols=$(seq -f 'S%04g' -s, 1 200 | sed 's/,$//')" | cut -d' ' -f1)"
check_eq "/api/sparks: 201 symbols: 400 JSON" '400 {"error":"too many symbols: at most 200 per request"}' \
	"$(http "/api/sparks?symbols=$(seq -f 'S%04g' -s, 1 201 | sed 's/,$//')" | cut -d' ' -f1) $(cat "$E2E_DIR/body")"
check_eq "/api/symbols: Cache-Control no-store" "no-store" "$(header /api/symbols Cache-Control)"
check_eq "unknown symbol: 404 JSON" '404 application/json; charset=utf-8 {"error":"unknown symbol"}' \
	"$(http '/api/intraday?symbol=ZZZZ') $(cat "$E2E_DIR/body")"
check_eq "malformed symbol: 404" "404" "$(http '/api/daily?symbol=aapl%27%3B--' | cut -d' ' -f1)"
check_eq "missing symbol: 400" "400" "$(http '/api/daily' | cut -d' ' -f1)"
check_eq "from after to: 400 JSON" "400 application/json; charset=utf-8" \
	"$(http '/api/intraday?symbol=AAPL&from=2026-11-27T20:00:00Z&to=2026-11-27T19:00:00Z')"
check_eq "range over 31 days: 400" "400" "$(http '/api/intraday?symbol=AAPL&from=2026-01-01&to=2026-03-01' | cut -d' ' -f1)"
check_eq "not a time: 400" "400" "$(http '/api/intraday?symbol=AAPL&from=yesterday' | cut -d' ' -f1)"
check_eq "impossible date: 400" "400" "$(http '/api/intraday?symbol=AAPL&from=2026-02-30T00:00:00Z&to=2026-03-02T00:00:00Z' | cut -d' ' -f1)"
from=$(date -u -d "@$((now - 330))" +%FT%TZ); to=$(date -u -d "@$((now - 90))" +%FT%TZ)
http "/api/intraday?symbol=AAPL&from=$from&to=$to" >/dev/null
check_eq "/api/intraday: the points in the range" "4" \
	"$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["points"]))' "$E2E_DIR/body")"
check_eq "/api/intraday: a symbol with bars only has an empty series" '200 {"symbol":"IBM","from":null,"to":null,"points":[]}' \
	"$(http '/api/intraday?symbol=IBM' | cut -d' ' -f1) $(cat "$E2E_DIR/body")"
check_eq "/api/daily: 200 JSON" "200 application/json; charset=utf-8" "$(http '/api/daily?symbol=AAPL')"
check_eq "/api/daily: bars, SMA 20 from the 20th bar, L30D summary" "40 21 30" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["bars"]), sum(b["sma20"] is not None for b in d["bars"]), d["l30d"]["days_used"])' "$E2E_DIR/body")"
check_eq "/api/alerts: the event, without e-mail address" "200 MSFT no" \
	"$(http /api/alerts | cut -d' ' -f1) $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["symbol"])' "$E2E_DIR/body") $(grep -q '@' "$E2E_DIR/body" && echo yes || echo no)"
check_eq "the login reads the stockpipe_bi views only, not stockpipe.*" "denied" \
	"$(sp_psql -d stockpipe -U stockpipe_dash -c 'SELECT 1 FROM stockpipe.live_stock LIMIT 1' >/dev/null 2>&1 && echo allowed || echo denied)"
check_eq "page: text/html, no-cache" "text/html; charset=utf-8 no-cache" "$(header / Content-Type) $(header / Cache-Control)"
check_eq "chart library: JavaScript, cached" "text/javascript; charset=utf-8 public, max-age=3600" \
	"$(header /static/lightweight-charts.standalone.production.js Content-Type) $(header /static/lightweight-charts.standalone.production.js Cache-Control)"
check_eq "path traversal: 404" "404" "$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "$BASE/static/../src/main.c")"
check_eq "POST: 405" "405" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/api/symbols")"
check_eq "/api/stream: event stream, no-store" "text/event-stream; charset=utf-8 no-store" \
	"$(curl -s -m 1 -D - -o /dev/null "$BASE/api/stream" | tr -d '\r' | awk 'tolower($1) == "content-type:" || tolower($1) == "cache-control:" { sub(/^[^:]*: /, ""); printf "%s%s", sep, $0; sep = " " }')"

# SSE client bound (--max-clients 5): a sixth stream gets 503.
sse_pids=""
for _ in 1 2 3 4 5; do curl -s -N "$BASE/api/stream" >/dev/null & sse_pids="$sse_pids $!"; done
sleep 0.5
check_eq "sixth SSE client: 503" "503" "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$BASE/api/stream")"
kill $sse_pids 2>/dev/null; wait $sse_pids 2>/dev/null
stream_opens() { [ "$(curl -s -m 0.5 -o /dev/null -w '%{http_code}' "$BASE/api/stream")" = 200 ]; }
check "closed streams free their places within 3 s" wait_for 3 "places freed" stream_opens

# A stream sees a published quote.
curl -s -N -m 5 "$BASE/api/stream" >"$E2E_DIR/sse.out" &
sse=$!
sleep 0.3
quote MSFT $((now - 30)) 416.75 421.00 | produce stock_live
wait $sse
check "SSE pushes the published quote" grep -q '^data: \[{"symbol":"MSFT".*"price":416.75' "$E2E_DIR/sse.out"

# --- the browser (the server sends keep-alives every 15 s; the test stays
# below the 5-client bound since the earlier streams have ended)
quote AAPL $((now - 5)) 193.57 188.00 >"$E2E_DIR/live_quote"
DASH_PUBLISH="kcat -P -b '$SP_BROKER' -t stock_live -K \$'\\t' -z lz4 -X linger.ms=5 <'$E2E_DIR/live_quote'" \
DASH_EXPECT="AAPL=193.57" \
	node "$DASH_DIR/test/browser.mjs" "$BASE/" "$ARTIFACTS" >"$E2E_DIR/browser.out" 2>&1
sed 's/^/# /' "$E2E_DIR/browser.out"
res() { sed -n "s/^$1=//p" "$E2E_DIR/browser.out"; }
check_eq "browser: no exception" "" "$(res exception)"
check_eq "browser: no console errors or warnings" "none" "$(res console_errors)"
check_eq "browser: the symbol list shows the stored quotes (price, %, colour, sparkline)" \
	"AAPL:192.25:+2.26%:up:1 IBM:224.00:—:flat:0 MSFT:416.75:-1.01%:down:1 NVDA:140.90:+1.00%:up:1" "$(res rows)"
check_eq "browser: a quote published to Kafka shows within 2 s ($(res live_ms) ms)" "yes" "$(res live_within_2s)"
check_eq "browser: the page extends the quote's sparkline itself (its last point)" "193.57" "$(res spark_last)"
check_eq "browser: sparklines asked for the rows on screen, in one request" "1" "$(res sparks_requests)"
check_eq "browser: the selected symbol" "AAPL" "$(res selected)"
check_eq "browser: intraday chart drawn" "yes" "$(res intraday_drawn)"
check_eq "browser: daily chart drawn" "yes" "$(res daily_drawn)"
check_eq "browser: L30D 30-day high shown" "$(q "SELECT to_char(highest_high, 'FM999,990.00') FROM stockpipe.l30d_summary WHERE symbol = 'AAPL'")" "$(res l30d_high)"
check_eq "browser: recent alerts" "MSFT" "$(res alerts)"
check_eq "browser: no e-mail address on the page" "no" "$(res page_text_has_at)"
check_eq "browser: no overlapping panels" "none" "$(res overlaps)"
check "browser: screenshot saved" test -s "$ARTIFACTS/dashboard.png"
echo "# screenshot: $ARTIFACTS/dashboard.png"

# --- PostgreSQL restart: the server reconnects and re-LISTENs.
sp_pg_stop fast
check_eq "database down: 503" "503" "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/api/symbols")"
sp_pg_start
check "reconnects after a PostgreSQL restart" wait_for 20 "reconnect" curl -sf "$BASE/healthz"
# (The consumer workers take a while to get their partitions back after the
# restart; the stream must push the quote whenever it is committed.)
curl -s -N -m 60 "$BASE/api/stream" >"$E2E_DIR/sse2.out" &
sse=$!
sleep 0.3
quote NVDA $((now - 2)) 141.25 | produce stock_live
check "after the restart the stream still pushes quotes" wait_for 45 "NVDA quote on the stream" \
	grep -q '"symbol":"NVDA".*"price":141.25' "$E2E_DIR/sse2.out"
kill $sse 2>/dev/null; wait $sse 2>/dev/null

# --- graceful shutdown with a stream open
curl -s -N "$BASE/api/stream" >/dev/null &
sse=$!
sleep 0.3
kill -TERM "$DASH_PID"
rc=0; wait "$DASH_PID" || rc=$?
check_eq "SIGTERM: exits 0 with a stream open" 0 "$rc"
check "SIGTERM: logged a clean stop" grep -q 'stockpipe-dash: stopped' "$E2E_DIR/dash.log"
wait $sse 2>/dev/null
check "a stream is ended, not left hanging" true
exit $SP_TEST_FAILED
