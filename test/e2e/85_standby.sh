#!/usr/bin/env bash
# stockpipe on a hot standby (PostgreSQL's own streaming replication, made
# with pg_basebackup), then the standby promoted after a clean stop of the
# primary (a switchover):
#  - on the standby: the extension loads, one LOG line says the workers wait
#    for promotion, no stockpipe process runs (nothing writes, polls or
#    restarts); consumer_status and the stockpipe_bi views answer, with the
#    primary's rows; the dashboard pointed at it polls for changes (a standby
#    has no LISTEN/NOTIFY) and shows a quote the primary stored meanwhile;
#  - after `pg_ctl promote`: every worker starts by itself within seconds;
#    quotes published then are stored once each (by content), the dashboard
#    still connected shows them.
# (The crash failover with a lagging standby: 86_failover.sh.)
. "$(dirname "$0")/common.sh"

DASH_DIR=$SP_ROOT/dashboard
[ -x "$DASH_DIR/stockpipe-dash" ] || make -C "$SP_ROOT" -s dashboard >/dev/null || exit 1

e2e_start "stockpipe.consumer_workers = 2"
# A read-only login for the dashboard (replicated to the standby with the
# rest; pg_ident.conf is copied by the base backup).
sp_psql <<'SQL'
CREATE ROLE stockpipe_dash LOGIN;
GRANT stockpipe_reader TO stockpipe_dash;
SQL
sp_pg_allow_login stockpipe_dash

now=$(date +%s)
quote() { printf '%s\t{"symbol":"%s","ts":%s,"price":%s,"currency":"USD"}\n' "$1" "$1" "$2" "$3"; }
for i in $(seq 20 -1 1); do quote AAPL $((now - i)) "190.$i"; quote MSFT $((now - i)) "420.$i"; done | produce stock_live
wait_for 30 "40 quotes stored on the primary" query_is "SELECT count(*) FROM stockpipe.live_stock" 40

# --- the standby
e2e_standby_start || exit 1
check_eq "the standby is in recovery" t "$(qs "SELECT pg_is_in_recovery()")"

# quotes stored on the primary after the base backup reach the standby
for i in $(seq 5); do quote NVDA $((now + i)) "140.$i"; done | produce stock_live
wait_for 30 "45 quotes on the primary" query_is "SELECT count(*) FROM stockpipe.live_stock" 45
sb_rows_are() { [ "$(qs "SELECT count(*) FROM stockpipe.live_stock")" = "$1" ]; }
check "the standby replays the quotes the primary stores (45)" wait_for 30 "45 quotes on the standby" sb_rows_are 45
check "one LOG line on the standby says the workers start at promotion" \
	wait_for 10 "standby notice" grep -q "stockpipe: this server is a standby in recovery; its workers" "$E2E_DIR/standby.log"
check_eq "... said once" 1 "$(grep -c "this server is a standby in recovery" "$E2E_DIR/standby.log")"
check_eq "no stockpipe process runs on the standby (nothing writes, polls or restarts)" 0 \
	"$(qs "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'stockpipe%'")"
check_eq "stockpipe.consumer_status answers on the standby" t \
	"$(qs "SELECT count(*) >= 0 FROM stockpipe.consumer_status")"
check_eq "the kafka offsets on the standby are the primary's" \
	"$(q "SELECT string_agg(topic || ':' || partition || '=' || next_offset, ',' ORDER BY topic, partition) FROM stockpipe.kafka_offsets")" \
	"$(qs "SELECT string_agg(topic || ':' || partition || '=' || next_offset, ',' ORDER BY topic, partition) FROM stockpipe.kafka_offsets")"
LATEST="SELECT string_agg(symbol || ' ' || price, ', ' ORDER BY symbol) FROM stockpipe_bi.fact_latest_quote"
check_eq "stockpipe_bi.fact_latest_quote on the standby equals the primary's" "$(q "$LATEST")" "$(qs "$LATEST")"
check_eq "... AAPL 190.1, MSFT 420.1, NVDA 140.5" "AAPL 190.1, MSFT 420.1, NVDA 140.5" "$(qs "$LATEST")"
check "writing on the standby is refused (read-only)" \
	bash -c "! PGPORT=$SB_PORT psql -X -q -c \"SELECT stockpipe.set_alert('AAPL', 'price_above', 1, 'a@example.com')\" 2>/dev/null"

# --- the dashboard on the standby
port=$(sp_free_port)
BASE=http://127.0.0.1:$port
"$DASH_DIR/stockpipe-dash" --listen "127.0.0.1:$port" --static "$DASH_DIR/static" \
	--dsn "host=$E2E_DIR port=$SB_PORT dbname=stockpipe user=stockpipe_dash" 2>"$E2E_DIR/dash.log" &
SP_PIDS="$SP_PIDS $!"
check "stockpipe-dash serves from the standby" wait_for 10 "stockpipe-dash" curl -sf "$BASE/healthz"
check "... and says it polls a standby for changes" \
	bash -c "curl -s '$BASE/healthz' | grep -q '\"updates\":\"polling (standby)\"'"
check "... its log says so" grep -q "a standby in recovery: no notifications there" "$E2E_DIR/dash.log"
symbols() { curl -s "$BASE/api/symbols" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join("%s=%s" % q for q in zip(d["symbol"], d["price"])))'; }
check_eq "/api/symbols on the standby: the latest quotes" "AAPL=190.1 MSFT=420.1 NVDA=140.5" "$(symbols)"
quote AAPL $((now + 30)) 191.5 | produce stock_live
shows() { [ "$(symbols)" = "$1" ]; }
check "a quote the primary stores shows on the standby's dashboard within 5 s (polled)" \
	wait_for 5 "dashboard on the standby" shows "AAPL=191.5 MSFT=420.1 NVDA=140.5"

# --- switchover: the primary stops cleanly, the standby is promoted
sp_pg_stop fast
t0=$(date +%s.%N)
sb_ctl promote
check_eq "the promoted server is out of recovery" f "$(qs "SELECT pg_is_in_recovery()")"
workers() { qs "SELECT string_agg(backend_type, ',' ORDER BY backend_type) FROM pg_stat_activity WHERE backend_type IN ('stockpipe consumer', 'stockpipe scheduler', 'stockpipe mailer')"; }
all_workers() { [ "$(workers)" = "stockpipe consumer,stockpipe consumer,stockpipe consumer,stockpipe mailer,stockpipe scheduler" ]; }
check "every worker starts by itself after promotion (2 live consumers, the daily one, scheduler, mailer)" \
	wait_for 20 "workers on the promoted server" all_workers
sp_log "workers up $(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)") s after pg_ctl promote"
for i in $(seq 10); do quote META $((now + i)) "600.$i"; done | produce stock_live
check "quotes published after the promotion are stored on the new primary (56)" wait_for 60 "56 quotes" sb_rows_are 56
check_eq "... each once, nothing before them stored again (by content)" \
	"AAPL 21 META 10 MSFT 20 NVDA 5" \
	"$(qs "SELECT string_agg(symbol || ' ' || n, ' ' ORDER BY symbol) FROM (SELECT symbol, count(*) n FROM stockpipe.live_stock GROUP BY symbol HAVING count(*) = count(DISTINCT ts)) s")"
check_eq "no dead letter" 0 "$(qs "SELECT count(*) FROM stockpipe.dead_letter")"
check "the dashboard, still on that server, shows them" \
	wait_for 10 "dashboard after promotion" shows "AAPL=191.5 META=600.1 MSFT=420.1 NVDA=140.5"
check "no stockpipe worker error on the promoted server" \
	bash -c "! grep -E 'terminated by signal|stockpipe.*ERROR|ERROR:.*stockpipe' '$E2E_DIR/standby.log'"
exit $SP_TEST_FAILED
