#!/usr/bin/env bash
# The broker goes down for 20 s mid-stream and comes back: the consumers warn
# (rate-limited), retry, and lose nothing.
. "$(dirname "$0")/common.sh"

e2e_start "stockpipe.consumer_workers = 1"

awk -v n=4000 -f "$(dirname "$0")/gen_quotes.awk" >"$E2E_DIR/all.tsv"
head -n 2000 "$E2E_DIR/all.tsv" >"$E2E_DIR/first.tsv"
tail -n 2000 "$E2E_DIR/all.tsv" >"$E2E_DIR/second.tsv"

produce stock_live <"$E2E_DIR/first.tsv"
wait_for 30 "first half stored" query_is \
	"SELECT sum(next_offset) FROM stockpipe.kafka_offsets WHERE topic = 'stock_live'" 2000

kill -USR1 "$SP_BROKER_PID"
down_at=$SECONDS
sp_log "broker down"
# Published while the broker is down: kcat keeps them and retries.
produce stock_live <"$E2E_DIR/second.tsv" &
feeder=$!

check "the worker reports the outage in stockpipe.workers" wait_for 20 "last_error" query_is \
	"SELECT count(*) > 0 FROM stockpipe.workers WHERE kind = 'live' AND last_error_at > now() - interval '20 seconds'" t
# The outage lasts 20 s whatever the test sees: that is the scenario.
while [ $((SECONDS - down_at)) -lt 20 ]; do sleep 1; done
kill -USR2 "$SP_BROKER_PID"
sp_log "broker up"

wait "$feeder"
check "kcat delivered the second half after the outage" test $? -eq 0
check "everything stored after the outage" wait_for 60 "all stored" query_is \
	"SELECT sum(next_offset) FROM stockpipe.kafka_offsets WHERE topic = 'stock_live'" 4000
check_eq "rows + dead letters = messages, none twice" "3960|40|4000" \
	"$(q "SELECT (SELECT count(*) FROM stockpipe.live_stock) || '|' || (SELECT count(*) FROM stockpipe.dead_letter) || '|' || (SELECT sum(messages) FROM stockpipe.kafka_offsets)")"
warnings=$(grep -c 'WARNING:  stockpipe stock_live consumer' "$E2E_DIR/postgres.log")
check "outage warnings were logged but rate-limited ($warnings for ~20 s, 3 workers at most)" \
	test "$warnings" -ge 1 -a "$warnings" -le 6
check "no worker crashed or failed during the outage" bash -c "! grep -q 'terminated by signal\|ERROR:' '$E2E_DIR/postgres.log'"
exit $SP_TEST_FAILED
