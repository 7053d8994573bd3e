#!/usr/bin/env bash
# The whole ingestion path with real parts: a local HTTP server replaying
# recorded Yahoo responses → stockpipe-producer → stockpipe-broker → the
# extension's workers → live_stock and historical_stock_data.  The stored
# values must equal the fixtures', computed here independently.
. "$(dirname "$0")/common.sh"

FIXTURES=${SP_FIXTURES:-$SP_ROOT/../shared/fixtures/yahoo}
SYMBOLS=AAPL,MSFT,NVDA,WSU.DE

# The recorded quotes keep their recorded times (2020-2024): accept any age.
e2e_start "stockpipe.quote_max_age = 2147483647"
/usr/bin/python3 "$SP_ROOT/producer/test/fake_yahoo.py" --fixtures "$FIXTURES" \
	--port-file "$E2E_DIR/yahoo.port" >"$E2E_DIR/yahoo.log" 2>&1 &
SP_PIDS="$SP_PIDS $!"
wait_for 10 "fake Yahoo server" test -s "$E2E_DIR/yahoo.port"

stockpipe-producer --once --always --symbols "$SYMBOLS" \
	--yahoo-url "http://127.0.0.1:$(cat "$E2E_DIR/yahoo.port")" \
	--brokers "$SP_BROKER" --stats-interval 0 2>"$E2E_DIR/producer.log"
check "stockpipe-producer --once exits 0" test $? -eq 0

# What the fixtures say, computed without the producer's code.
/usr/bin/python3 - "$FIXTURES" >"$E2E_DIR/expected" <<'EOF'
import json, sys, datetime
F = sys.argv[1] + "/"
live = {"AAPL": "chart_AAPL_1d_1m.json", "MSFT": "chart_MSFT_daily_2021-02-01_to_2022-01-31.json",
        "NVDA": "chart_NVDA_daily_2021-02-01_to_2022-01-31.json",
        "WSU.DE": "chart_WSU.DE_daily_2023-08-04_to_2023-08-09.json"}
daily = {"AAPL": "chart_AAPL_daily_2020-08-31_to_2020-11-06.json", **{k: v for k, v in live.items() if k != "AAPL"}}
for s in sorted(live):
    m = json.load(open(F + live[s]))["chart"]["result"][0]["meta"]
    print("live|%s|%d|%.2f" % (s, m["regularMarketTime"], m["regularMarketPrice"]))
for s in sorted(daily):
    r = json.load(open(F + daily[s]))["chart"]["result"][0]
    q = r["indicators"]["quote"][0]
    off = r["meta"]["gmtoffset"]
    bars = [(datetime.datetime.utcfromtimestamp(t + off).date(), c)
            for t, c in zip(r["timestamp"], q["close"]) if c is not None]
    print("daily|%s|%d|%s|%s|%.4f" % (s, len(bars), min(b[0] for b in bars),
                                      max(b[0] for b in bars), sum(b[1] for b in bars)))
EOF
ndaily=$(awk -F'|' '$1 == "daily" { n += $3 } END { print n }' "$E2E_DIR/expected")

check "4 quotes stored" wait_for 30 "live rows" query_is "SELECT count(*) FROM stockpipe.live_stock" 4
check "$ndaily daily bars stored" wait_for 30 "daily rows" query_is \
	"SELECT count(*) FROM stockpipe.historical_stock_data" "$ndaily"

q "SELECT 'live|' || symbol || '|' || extract(epoch FROM ts)::bigint || '|' || to_char(price, 'FM999990.00')
     FROM stockpipe.live_stock ORDER BY symbol" >"$E2E_DIR/actual"
q "SELECT 'daily|' || symbol || '|' || count(*) || '|' || min(trade_date) || '|' || max(trade_date) || '|' ||
          to_char(sum(close), 'FM9999990.0000')
     FROM stockpipe.historical_stock_data GROUP BY symbol ORDER BY symbol" >>"$E2E_DIR/actual"
check "stored quotes and bars equal the fixtures' values" diff -u "$E2E_DIR/expected" "$E2E_DIR/actual"
check_eq "AAPL quote carries day volume, previous close and currency" "33638504|226.78|USD|yahoo" \
	"$(q "SELECT volume || '|' || prev_close || '|' || currency || '|' || source FROM stockpipe.live_stock WHERE symbol = 'AAPL'")"
check_eq "no dead letters" 0 "$(q "SELECT count(*) FROM stockpipe.dead_letter")"
exit $SP_TEST_FAILED
