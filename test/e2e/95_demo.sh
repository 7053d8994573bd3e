#!/usr/bin/env bash
# The whole pipeline as a newcomer starts it: scripts/demo.sh in a temporary
# folder on free ports, replaying the recorded Yahoo data.  Quotes flow into
# live_stock, daily bars into historical_stock_data, the L30D job fills
# l30d_summary, an example alert's e-mail reaches the local SMTP server, the
# dashboard serves the latest price; re-running is harmless; stop leaves
# nothing running.
. "$(dirname "$0")/common.sh"

E2E_DIR=$(sp_make_workdir)
export STOCKPIPE_DEMO_DIR=$E2E_DIR/demo STOCKPIPE_OFFLINE=1
export STOCKPIPE_PG_PORT=$(sp_free_port) STOCKPIPE_DASH_PORT=$(sp_free_port) STOCKPIPE_SMTP_PORT=$(sp_free_port)
D=$STOCKPIPE_DEMO_DIR
demo() { bash "$SP_ROOT/scripts/demo.sh" "$@"; }
dq() { psql -X -At -h "$D" -p "$STOCKPIPE_PG_PORT" -U postgres -d stockpipe -c "$1" 2>/dev/null; }
dq_is() { [ "$(dq "$1")" = "$2" ]; }
stop_demo() { demo stop >/dev/null 2>&1; }
trap 'stop_demo; e2e_exit' EXIT

demo >"$E2E_DIR/demo.out" 2>&1
check "scripts/demo.sh exits 0" test $? -eq 0
check "it says it replays the recorded data" grep -q 'replaying the recorded real market data' "$E2E_DIR/demo.out"
check "it prints the dashboard URL, psql command and .pbids file" bash -c \
	"grep -q 'http://127.0.0.1:$STOCKPIPE_DASH_PORT/' '$E2E_DIR/demo.out' && grep -q 'psql -h $D' '$E2E_DIR/demo.out' && grep -q 'stockpipe.pbids' '$E2E_DIR/demo.out'"
check ".pbids file written" /usr/bin/python3 -m json.tool "$D/stockpipe.pbids"

n1=$(dq "SELECT count(*) FROM stockpipe.live_stock")
check "quotes keep flowing into live_stock" wait_for 30 "more quotes" bash -c \
	"[ \"\$(psql -X -At -h '$D' -p '$STOCKPIPE_PG_PORT' -U postgres -d stockpipe -c 'SELECT count(*) FROM stockpipe.live_stock')\" -gt '${n1:-0}' ]"
check "daily bars in historical_stock_data" wait_for 30 "556 bars" dq_is \
	"SELECT count(*) FROM stockpipe.historical_stock_data" 556
check "the L30D job filled l30d_summary" wait_for 60 "l30d rows" dq_is \
	"SELECT count(DISTINCT symbol) FROM stockpipe.l30d_summary" 4
check "an example alert's e-mail reached the local SMTP server" wait_for 90 "an e-mail" bash -c \
	"ls '$D'/mail/*.eml >/dev/null 2>&1"
check_eq "the outbox says sent" t "$(dq "SELECT count(*) > 0 FROM stockpipe.alert_event WHERE status = 'sent'")"
latest=$(dq "SELECT price FROM stockpipe.live_stock WHERE symbol = 'AAPL' ORDER BY ts DESC LIMIT 1")
check "the dashboard serves the latest AAPL price ($latest)" wait_for 20 "dashboard" bash -c \
	"curl -sf 'http://127.0.0.1:$STOCKPIPE_DASH_PORT/api/symbols' | grep -q '\"symbol\" : \"AAPL\"'"
check "the dashboard page loads" bash -c "curl -sf 'http://127.0.0.1:$STOCKPIPE_DASH_PORT/' | grep -qi '<html'"

demo status >"$E2E_DIR/status.out" 2>&1
check "status shows lag, jobs and the outbox" bash -c \
	"grep -q 'stock_live' '$E2E_DIR/status.out' && grep -q 'l30d_refresh' '$E2E_DIR/status.out' && grep -q 'sent' '$E2E_DIR/status.out'"

pids_before=$(pgrep -f "$D" | sort | tr '\n' ' ')
demo >"$E2E_DIR/demo2.out" 2>&1
check "re-running scripts/demo.sh exits 0" test $? -eq 0
check_eq "re-running leaves the same processes running" "$pids_before" "$(pgrep -f "$D" | sort | tr '\n' ' ')"

demo stop >"$E2E_DIR/stop.out" 2>&1
check "scripts/demo.sh stop exits 0" test $? -eq 0
no_demo_left() { ! pgrep -f "$D" >/dev/null; }
check "nothing of the demo is left running" wait_for 20 "no demo process" no_demo_left
check "its ports are free again" bash -c "! curl -s 'http://127.0.0.1:$STOCKPIPE_DASH_PORT/' >/dev/null && ! pg_isready -q -h 127.0.0.1 -p $STOCKPIPE_PG_PORT"
exit $SP_TEST_FAILED
