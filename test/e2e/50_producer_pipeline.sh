#!/usr/bin/env bash
# The whole ingestion path with real parts: a local HTTP server replaying
# recorded Yahoo responses → stockpipe-producer → stockpipe-broker → the
# extension's workers → live_stock and historical_stock_data.  The stored
# values must equal the fixtures', computed here independently, prices at
# the instrument's tick (meta.priceHint decimals).
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

# What the fixtures say, computed without the producer's code.  Prices are
# stored as the exchange printed them: the fixture's value rounded to its
# meta.priceHint decimals, half away from zero on its decimal text (the
# float32's where Yahoo's float32 is that precise; docs/producer.md), and
# compared as float8 text, so that a stored 225.6699981689453 fails.
/usr/bin/python3 - "$FIXTURES" >"$E2E_DIR/expected" <<'EOF'
import json, math, struct, sys, datetime
from decimal import Decimal, ROUND_HALF_UP
F = sys.argv[1] + "/"
live = {"AAPL": "chart_AAPL_1d_1m.json", "MSFT": "chart_MSFT_daily_2021-02-01_to_2022-01-31.json",
        "NVDA": "chart_NVDA_daily_2021-02-01_to_2022-01-31.json",
        "WSU.DE": "chart_WSU.DE_daily_2023-08-04_to_2023-08-09.json"}
daily = {"AAPL": "chart_AAPL_daily_2020-08-31_to_2020-11-06.json", **{k: v for k, v in live.items() if k != "AAPL"}}
def hint(m):
    h = m.get("priceHint")
    return int(h) if isinstance(h, (int, float)) and 0 <= h <= 8 and h == int(h) else 2
def f32(v):
    return struct.unpack("f", struct.pack("f", v))[0]
def tick(v, h):
    """V at H decimals as float8 prints it (shortest, no trailing .0); "" for none"""
    if v is None:
        return ""
    t = repr(float(v))
    if 1.2e-38 < v < 3.4e38 and f32(v) == v and 2.0 ** (math.frexp(v)[1] - 24) <= 10.0 ** -(h + 1):
        t = next(s for s in ("%.*g" % (p, v) for p in range(1, 10)) if f32(float(s)) == v)
    t = repr(float(Decimal(t).quantize(Decimal(1).scaleb(-h), rounding=ROUND_HALF_UP)))
    return t[:-2] if t.endswith(".0") else t
for s in sorted(live):
    m = json.load(open(F + live[s]))["chart"]["result"][0]["meta"]
    print("live|%s|%d|%s" % (s, m["regularMarketTime"], tick(m["regularMarketPrice"], hint(m))))
for s in sorted(daily):
    r = json.load(open(F + daily[s]))["chart"]["result"][0]
    q = r["indicators"]["quote"][0]
    adj = r["indicators"]["adjclose"][0]["adjclose"]
    off, h = r["meta"]["gmtoffset"], hint(r["meta"])
    for i, t in enumerate(r["timestamp"]):
        if q["close"][i] is not None:
            print("daily|%s|%s|%s" % (s, datetime.datetime.utcfromtimestamp(t + off).date(), "|".join(
                tick(x[i], h) for x in (q["open"], q["high"], q["low"], q["close"], adj))))
EOF
ndaily=$(grep -c '^daily|' "$E2E_DIR/expected")

check "4 quotes stored" wait_for 30 "live rows" query_is "SELECT count(*) FROM stockpipe.live_stock" 4
check "$ndaily daily bars stored" wait_for 30 "daily rows" query_is \
	"SELECT count(*) FROM stockpipe.historical_stock_data" "$ndaily"

q "SELECT 'live|' || symbol || '|' || extract(epoch FROM ts)::bigint || '|' || price
     FROM stockpipe.live_stock ORDER BY symbol" >"$E2E_DIR/actual"
q "SELECT concat_ws('|', 'daily', symbol, trade_date, coalesce(open::text, ''),
                   coalesce(high::text, ''), coalesce(low::text, ''), close,
                   coalesce(adj_close::text, ''))
     FROM stockpipe.historical_stock_data ORDER BY symbol, trade_date" >>"$E2E_DIR/actual"
check "stored quotes and bars equal the fixtures' values at priceHint precision" \
	diff -u "$E2E_DIR/expected" "$E2E_DIR/actual"
check_eq "AAPL quote carries day volume, previous close and currency" "33638504|226.78|USD|yahoo" \
	"$(q "SELECT volume || '|' || prev_close || '|' || currency || '|' || source FROM stockpipe.live_stock WHERE symbol = 'AAPL'")"
check_eq "no dead letters" 0 "$(q "SELECT count(*) FROM stockpipe.dead_letter")"
exit $SP_TEST_FAILED
