#!/usr/bin/env bash
# The broker goes down for 20 s while the consumer works through a backlog,
# and comes back: the workers warn (rate-limited), retry, and lose nothing.
. "$(dirname "$0")/common.sh"

e2e_start "stockpipe.consumer_workers = 1" "stockpipe.batch_size = 500"

awk -v n=24000 -v base=$(( $(date +%s) - 24000 )) -f "$(dirname "$0")/gen_quotes.awk" >"$E2E_DIR/all.tsv"
head -n 2000 "$E2E_DIR/all.tsv" >"$E2E_DIR/before.tsv"
sed -n '2001,22000p' "$E2E_DIR/all.tsv" >"$E2E_DIR/backlog.tsv"
tail -n 2000 "$E2E_DIR/all.tsv" >"$E2E_DIR/after.tsv"
stored() { q "SELECT coalesce(sum(next_offset), 0) FROM stockpipe.kafka_offsets WHERE topic = 'stock_live'"; }

produce stock_live <"$E2E_DIR/before.tsv"
wait_for 30 "first 2,000 stored" query_is \
	"SELECT sum(next_offset) FROM stockpipe.kafka_offsets WHERE topic = 'stock_live'" 2000

# A backlog, and the broker goes down while it is being consumed.
produce stock_live <"$E2E_DIR/backlog.tsv"
kill -USR1 "$SP_BROKER_PID"
down_at=$SECONDS
sp_log "broker down with $(stored) of 22000 stored"

check "the workers report the outage in stockpipe.workers" wait_for 20 "last_error" query_is \
	"SELECT count(*) FROM stockpipe.workers WHERE kind IN ('live', 'daily') AND last_error_at > now() - interval '20 seconds'" 2
# The outage lasts 20 s whatever the test sees: that is the scenario.
while [ $((SECONDS - down_at)) -lt 20 ]; do sleep 1; done
during=$(stored)
kill -USR2 "$SP_BROKER_PID"
sp_log "broker up with $during of 22000 stored"

produce stock_live <"$E2E_DIR/after.tsv"
check "kcat published after the outage" test $? -eq 0
check "everything stored after the outage" wait_for 60 "all stored" query_is \
	"SELECT sum(next_offset) FROM stockpipe.kafka_offsets WHERE topic = 'stock_live'" 24000
check_eq "rows + dead letters = messages, none twice" "23760|240|24000" \
	"$(q "SELECT (SELECT count(*) FROM stockpipe.live_stock) || '|' || (SELECT count(*) FROM stockpipe.dead_letter) || '|' || (SELECT sum(messages) FROM stockpipe.kafka_offsets)")"
warnings=$(grep -c 'WARNING:  stockpipe stock_[a-z]* consumer' "$E2E_DIR/postgres.log")
check "outage warnings logged but rate-limited ($warnings in 20 s from 2 workers)" \
	test "$warnings" -ge 2 -a "$warnings" -le 4
check "no worker crashed or failed during the outage" bash -c "! grep -q 'terminated by signal\|ERROR:' '$E2E_DIR/postgres.log'"
exit $SP_TEST_FAILED
