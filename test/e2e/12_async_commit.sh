#!/usr/bin/env bash
# Live batches commit without waiting for their WAL flush
# (stockpipe.live_synchronous_commit = off, the default).  This test makes
# the crash that this allows: the WAL writer is stopped (SIGSTOP), quotes
# are stored and seen, and every server process is killed (SIGKILL) before
# anything wrote their commit records out.  After crash recovery, with Kafka
# out of reach, the rows and their offsets in kafka_offsets must both be
# gone (never one without the other); once Kafka is back the consumers read
# them again and each is stored exactly once.  With the setting on, the same
# crash loses nothing.
. "$(dirname "$0")/common.sh"

# Nothing else may write the WAL out between the batch and the kill: no
# autovacuum, no background writer, no checkpoint, no built-in job.
e2e_start "autovacuum = off" "bgwriter_lru_maxpages = 0" "checkpoint_timeout = '1h'"
q "SELECT count(stockpipe.alter_job(name, enabled => false)) FROM stockpipe.job WHERE builtin" >/dev/null

base=$(( $(date +%s) - 3600 ))
rows() { q "SELECT count(*) FROM stockpipe.live_stock"; }
offsets() { q "SELECT coalesce(sum(next_offset), 0) FROM stockpipe.kafka_offsets WHERE topic = 'stock_live'"; }
pm_pid() { head -1 "$E2E_DIR/pgdata/postmaster.pid"; }

# Publish 99 valid quotes (first = $1), wait until the consumers stored
# them, then kill every server process with the WAL writer stopped.
# Kafka is out of reach when the server comes back (ALTER SYSTEM, read at
# start), so what recovery restored can be counted before any replay.
crash_after_batch() {
	local first=$1 want=$2 pm ww kids
	q "ALTER SYSTEM SET stockpipe.kafka_brokers = '127.0.0.1:1'" >/dev/null
	pm=$(pm_pid)
	ww=$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'walwriter'")
	check "the WAL writer is running (pid $ww)" test -n "$ww"
	kill -STOP "$ww"
	awk -v n=99 -v first="$first" -v base="$base" -f "$(dirname "$0")/gen_quotes.awk" | produce stock_live
	wait_for 60 "$want rows" query_is "SELECT count(*) FROM stockpipe.live_stock" "$want"
	check_eq "the quotes were stored and visible before the crash" "$want" "$(rows)"
	kids=$(pgrep -P "$pm" | tr '\n' ' ')
	# shellcheck disable=SC2086
	kill -KILL "$pm" $kids
	wait_for 30 "the server's processes to exit" bash -c "! kill -0 $pm $kids 2>/dev/null"
	sp_pg_start 2>/dev/null	# "another server might be running": the killed one
}

# Kafka again: reset the brokers and reload; the workers reconnect.
kafka_back() {
	q "ALTER SYSTEM RESET stockpipe.kafka_brokers" >/dev/null
	q "SELECT pg_reload_conf()" >/dev/null
}

# A first batch, flushed for sure by a checkpoint: the ground both phases build on.
awk -v n=99 -v first=200 -v base="$base" -f "$(dirname "$0")/gen_quotes.awk" | produce stock_live
wait_for 60 "the first 99 rows" query_is "SELECT count(*) FROM stockpipe.live_stock" 99
q "CHECKPOINT" >/dev/null

# --- the default: asynchronous commit ------------------------------------------------------
check_eq "stockpipe.live_synchronous_commit is off by default" off \
	"$(q "SHOW stockpipe.live_synchronous_commit")"
crash_after_batch 0 198
check_eq "after the crash: the unflushed batch's rows are gone" 99 "$(rows)"
check_eq "... and so are its offsets (kafka_offsets counts 99 messages)" 99 "$(offsets)"
check_eq "... and so are its latest_quote updates (no first_ts from it)" 0 \
	"$(q "SELECT count(*) FROM stockpipe.latest_quote WHERE first_ts < to_timestamp($base + 200)")"
kafka_back
wait_for 60 "the lost batch read again" query_is "SELECT count(*) FROM stockpipe.live_stock" 198
check_eq "after replay: 198 rows, 198 messages counted" "198|198" "$(rows)|$(offsets)"
check_eq "latest_quote.first_ts comes from the replayed batch again" 50 \
	"$(q "SELECT count(*) FROM stockpipe.latest_quote WHERE first_ts < to_timestamp($base + 200)")"
check_eq "no (symbol, ts) twice" 0 \
	"$(q "SELECT count(*) FROM (SELECT symbol, ts FROM stockpipe.live_stock GROUP BY 1, 2 HAVING count(*) > 1) d")"
check "the log shows the crash recovery" grep -q "database system was interrupted" "$E2E_DIR/postgres.log"

# --- on: each batch waits for its flush -----------------------------------------------------
q "ALTER SYSTEM SET stockpipe.live_synchronous_commit = on" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
wait_for 10 "the setting" query_is "SHOW stockpipe.live_synchronous_commit" on
crash_after_batch 100 297
check_eq "with live_synchronous_commit on, the crash loses no row" 297 "$(rows)"
check_eq "... and no offset" 297 "$(offsets)"
kafka_back
wait_for 30 "the workers connected again" query_is \
	"SELECT count(*) > 0 FROM stockpipe.consumer_status WHERE topic = 'stock_live' AND high_watermark IS NOT NULL" t
check_eq "nothing stored twice after reconnecting (rows, messages, rows_stored)" "297|297|297" \
	"$(rows)|$(offsets)|$(q "SELECT sum(rows_stored) FROM stockpipe.kafka_offsets WHERE topic = 'stock_live'")"
check "no ERROR in the server log" bash -c "! grep -q 'ERROR' '$E2E_DIR/postgres.log'"
exit $SP_TEST_FAILED
