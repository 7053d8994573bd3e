#!/usr/bin/env bash
# How the consumer workers behave as PostgreSQL citizens: they wait calmly
# for CREATE EXTENSION, show up in pg_stat_activity, NOTIFY after each live
# batch, resume from the offsets stored in the table (not Kafka's), follow a
# reloaded topic setting, and report a missing topic without crashing.
. "$(dirname "$0")/common.sh"

E2E_DIR=$(sp_make_workdir)
sp_broker_start "$E2E_DIR" 2 --absent-topic no_such_topic || exit 1
# The quotes below carry fixed dates: accept any age.
sp_pg_init "$E2E_DIR" "$(sp_free_port)" \
	"stockpipe.database = 'stockpipe'" \
	"stockpipe.kafka_brokers = '$SP_BROKER'" \
	"stockpipe.quote_max_age = 2147483647" || exit 1
sp_pg_start || exit 1
createdb stockpipe
export PGDATABASE=stockpipe

# 1. No extension yet: the workers wait, without exiting and restarting.
workers_waiting() {
	query_is "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'stockpipe consumer'
	          AND query = 'waiting for CREATE EXTENSION stockpipe'" 2
}
check "workers wait for CREATE EXTENSION" wait_for 20 "workers waiting" workers_waiting
pids_before=$(q "SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity WHERE backend_type = 'stockpipe consumer'")
stable=1
for _ in $(seq 1 14); do # 7 s: longer than the 5 s restart delay
	[ "$(q "SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity WHERE backend_type = 'stockpipe consumer'")" = "$pids_before" ] || stable=0
	sleep 0.5
done
check "workers did not restart while waiting" test $stable -eq 1
check_eq "one 'waiting' log line per consumer worker" 2 "$(grep 'stockpipe consumer' "$E2E_DIR/postgres.log" | grep -c 'waiting for CREATE EXTENSION stockpipe in database "stockpipe"')"
check_eq "pg_stat_activity names the workers" "stockpipe daily consumer 0,stockpipe live consumer 0" \
	"$(q "SELECT string_agg(application_name, ',' ORDER BY application_name) FROM pg_stat_activity WHERE backend_type = 'stockpipe consumer'")"

# An older version of the extension: they wait for ALTER EXTENSION UPDATE,
# saying so, then start by themselves.
sp_psql -c "CREATE EXTENSION stockpipe VERSION '1.0'"
workers_waiting_update() {
	query_is "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'stockpipe consumer'
	          AND query = 'waiting for ALTER EXTENSION stockpipe UPDATE'" 2
}
check "with extension 1.0 the workers wait for ALTER EXTENSION UPDATE" wait_for 20 "workers waiting" workers_waiting_update
check "... and say so with a hint" grep -q 'HINT:  Run ALTER EXTENSION stockpipe UPDATE in database "stockpipe"' "$E2E_DIR/postgres.log"
check_eq "... without restarting" "$pids_before" \
	"$(q "SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity WHERE backend_type = 'stockpipe consumer'")"
sp_psql -c "ALTER EXTENSION stockpipe UPDATE"
workers_consuming() {
	query_is "SELECT count(*) FROM stockpipe.workers WHERE kind IN ('live', 'daily') AND state = 'consuming'" 2
}
check "after ALTER EXTENSION UPDATE they start consuming" wait_for 30 "workers consuming" workers_consuming

# 2. NOTIFY stockpipe_live after a committed batch, with the batch's symbols.
{
	echo "LISTEN stockpipe_live;"
	for _ in $(seq 1 200); do echo "SELECT pg_sleep(0.1);"; done
} | psql -X -q >"$E2E_DIR/listen.out" 2>&1 &
listener=$!
SP_PIDS="$SP_PIDS $listener"
wait_for 10 "listener ready" query_is \
	"SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'" 1
printf 'AAPL\t{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","price":189.23}\n' | produce stock_live
check "NOTIFY stockpipe_live carries the symbol" wait_for 20 "notification" \
	grep -q 'Asynchronous notification "stockpipe_live" with payload "AAPL"' "$E2E_DIR/listen.out"
kill "$listener" 2>/dev/null

# 3. A quote repeating a stored (symbol, ts) keeps the first row.
printf 'AAPL\t{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","price":999}\nAAPL\t{"symbol":"AAPL","ts":"2026-11-27T19:30:05Z","price":190}\n' |
	produce stock_live
wait_for 20 "3 live messages" query_is \
	"SELECT sum(next_offset) FROM stockpipe.kafka_offsets WHERE topic = 'stock_live'" 3
check_eq "a duplicate (symbol, ts) keeps the first row" "189.23 190" \
	"$(q "SELECT string_agg(price::text, ' ' ORDER BY ts) FROM stockpipe.live_stock WHERE symbol = 'AAPL'")"
latest_aapl() {
	q "SELECT price || ' ' || to_char(ts AT TIME ZONE 'UTC', 'HH24:MI:SS') || ' ' ||
	   to_char(first_ts AT TIME ZONE 'UTC', 'HH24:MI:SS') FROM stockpipe.latest_quote WHERE symbol = 'AAPL'"
}
check_eq "latest_quote: the newest stored quote, not the ignored duplicate (price, ts, first_ts)" \
	"190 19:30:05 19:30:01" "$(latest_aapl)"

# 4. Resume from the table: rewind the stored offsets and empty the table;
# after a restart the rows come back although Kafka's committed offsets are
# past them (all four in one batch with a duplicate inside: COPY falls back to
# INSERT ... ON CONFLICT).
printf 'MSFT\t{"symbol":"MSFT","ts":"2026-11-27T19:30:02Z","price":400}\n' | produce stock_live
wait_for 20 "3 rows" query_is "SELECT count(*) FROM stockpipe.live_stock" 3
sp_pg_stop fast
sp_pg_start
sp_psql -c "DELETE FROM stockpipe.live_stock; UPDATE stockpipe.kafka_offsets SET next_offset = 0 WHERE topic = 'stock_live'"
sp_pg_stop fast
sp_pg_start
check "after a restart the workers resume from stockpipe.kafka_offsets" wait_for 30 "rows back" \
	query_is "SELECT count(*) FROM stockpipe.live_stock" 3
check_eq "the replayed duplicate still keeps the first row" "189.23 190" \
	"$(q "SELECT string_agg(price::text, ' ' ORDER BY ts) FROM stockpipe.live_stock WHERE symbol = 'AAPL'")"
check_eq "the replay (INSERT ... ON CONFLICT path) leaves latest_quote as it was" \
	"190 19:30:05 19:30:01" "$(latest_aapl)"
check_eq "latest_quote has MSFT's quote" "400" \
	"$(q "SELECT price FROM stockpipe.latest_quote WHERE symbol = 'MSFT'")"

# 5. SIGHUP: a new topic setting is followed without a restart.
live_pid=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'stockpipe live consumer 0'")
sp_psql -c "ALTER SYSTEM SET stockpipe.live_topic = 'stock_live_b'" -c "SELECT pg_reload_conf()"
printf 'NVDA\t{"symbol":"NVDA","ts":"2026-11-27T19:30:03Z","price":150}\n' |
	kcat -P -b "$SP_BROKER" -t stock_live_b -K $'\t' -X allow.auto.create.topics=true 2>/dev/null ||
	printf 'NVDA\t{"symbol":"NVDA","ts":"2026-11-27T19:30:03Z","price":150}\n' | produce stock_live_b
check "after pg_reload_conf the worker consumes the new topic" wait_for 30 "row from new topic" \
	query_is "SELECT count(*) FROM stockpipe.live_stock WHERE symbol = 'NVDA'" 1
check_eq "same worker process after the reload" "$live_pid" \
	"$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'stockpipe live consumer 0'")"

# 6. A topic that does not exist: a warning and last_error, no crash.
sp_psql -c "ALTER SYSTEM SET stockpipe.live_topic = 'no_such_topic'" -c "SELECT pg_reload_conf()"
check "a missing topic is reported in stockpipe.workers" wait_for 30 "last_error mentions topic" query_is \
	"SELECT count(*) FROM stockpipe.workers WHERE kind = 'live' AND last_error ILIKE '%no_such_topic%'" 1
check_eq "still the same worker process" "$live_pid" \
	"$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'stockpipe live consumer 0'")"
check "no worker crashed or failed" bash -c "! grep -q 'terminated by signal\|ERROR:' '$E2E_DIR/postgres.log'"
exit $SP_TEST_FAILED
