#!/usr/bin/env bash
# 100,000 live quotes through kcat → stockpipe-broker → two consumer workers,
# 1% of them malformed in 13 ways.  While they flow, one consumer worker is
# killed with SIGKILL, PostgreSQL is restarted in immediate mode, then in fast
# mode (SIGTERM to the workers).  In the
# end every message must be a row or a dead letter exactly once.
. "$(dirname "$0")/common.sh"

N=100000
e2e_start "stockpipe.consumer_workers = 2" "stockpipe.batch_size = 2000"

# One quote a second, ending about now (inside the consumers' time window).
base=$(( $(date +%s) - N ))
awk -v n=$N -v base=$base -f "$(dirname "$0")/gen_quotes.awk" >"$E2E_DIR/quotes.tsv"

# Feed the broker in 50 chunks so that the stream lasts a while.
(
	split -l $((N / 50)) -d -a 2 "$E2E_DIR/quotes.tsv" "$E2E_DIR/chunk."
	for f in "$E2E_DIR"/chunk.*; do
		produce stock_live <"$f" || exit 1
	done
) &
feeder=$!

rows() { q "SELECT count(*) FROM stockpipe.live_stock"; }
rows_at_least() { local r; r=$(rows) && [ -n "$r" ] && [ "$r" -ge "$1" ]; }

wait_for 60 "20,000 rows" rows_at_least 20000
victim=$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'stockpipe consumer'
             AND application_name = 'stockpipe live consumer 0'")
check "a live consumer worker is running (pid $victim)" test -n "$victim"
[ -n "$victim" ] && kill -9 "$victim"
sp_log "killed consumer worker $victim at $(rows) rows"

wait_for 90 "50,000 rows" rows_at_least 50000
sp_log "immediate restart at $(rows) rows"
sp_pg_stop immediate
sp_pg_start

# SIGTERM (fast shutdown) mid-stream: the batch in flight commits whole or not at all.
wait_for 90 "75,000 rows" rows_at_least 75000
sp_log "fast restart (SIGTERM to the workers) at $(rows) rows"
sp_pg_stop fast
sp_pg_start

wait "$feeder"
check "kcat published all $N messages" test $? -eq 0

wait_for 120 "all messages stored" query_is \
	"SELECT sum(next_offset) FROM stockpipe.kafka_offsets WHERE topic = 'stock_live'" $N

check_eq "live_stock has exactly 99,000 rows" 99000 "$(rows)"
check_eq "dead_letter has exactly 1,000 rows" 1000 "$(q "SELECT count(*) FROM stockpipe.dead_letter")"
check_eq "no (symbol, ts) twice" 0 \
	"$(q "SELECT count(*) FROM (SELECT symbol, ts FROM stockpipe.live_stock GROUP BY 1, 2 HAVING count(*) > 1) d")"
check_eq "each message counted once (messages / rows / dead letters)" "$N|99000|1000" \
	"$(q "SELECT sum(messages), sum(rows_stored), sum(dead_letters) FROM stockpipe.kafka_offsets")"
check_eq "no dead letter for an offset twice" 0 \
	"$(q "SELECT count(*) FROM (SELECT partition, kafka_offset FROM stockpipe.dead_letter GROUP BY 1, 2 HAVING count(*) > 1) d")"
check_eq "12 distinct dead-letter errors (13 faults; two share a text)" 12 "$(q "SELECT count(DISTINCT error) FROM stockpipe.dead_letter")"
check_eq "dead letters keep key and raw payload" 1000 \
	"$(q "SELECT count(*) FROM stockpipe.dead_letter WHERE key IS NOT NULL AND payload IS NOT NULL AND topic = 'stock_live'")"
check_eq "the over-long payload is kept up to max_message_bytes, with its size" "65536|70053" \
	"$(q "SELECT max(length(payload)) || '|' || max(payload_bytes) FROM stockpipe.dead_letter")"
check_eq "stored values equal the published ones" "109.98|9980" \
	"$(q "SELECT price, volume FROM stockpipe.live_stock WHERE symbol = 'SYM48' AND ts = to_timestamp($base + 998)")"

# latest_quote, kept by the consumers in each batch's transaction, through
# the kill and both restarts: the newest row of each symbol, compared by
# content both ways.
newest="(SELECT DISTINCT ON (symbol) symbol, ts, price, volume, open, high, low, prev_close, currency,
          source, exchange_tz, session FROM stockpipe.live_stock ORDER BY symbol, ts DESC)"
latest="SELECT symbol, ts, price, volume, open, high, low, prev_close, currency, source, exchange_tz,
          session FROM stockpipe.latest_quote"
check_eq "latest_quote has one row per symbol of live_stock" \
	"$(q "SELECT count(DISTINCT symbol) FROM stockpipe.live_stock")" "$(q "SELECT count(*) FROM stockpipe.latest_quote")"
check_eq "latest_quote = the newest live_stock row of each symbol (latest_quote EXCEPT newest)" 0 \
	"$(q "SELECT count(*) FROM ($latest EXCEPT $newest) d")"
check_eq "... and newest EXCEPT latest_quote" 0 "$(q "SELECT count(*) FROM ($newest EXCEPT $latest) d")"
check_eq "latest_quote.first_ts = the oldest live_stock row of each symbol" 0 \
	"$(q "SELECT count(*) FROM stockpipe.latest_quote q JOIN (SELECT symbol, min(ts) AS m FROM stockpipe.live_stock
	      GROUP BY symbol) l USING (symbol) WHERE q.first_ts IS DISTINCT FROM l.m")"

wait_for 30 "lag 0 on every partition" query_is \
	"SELECT count(*) FILTER (WHERE lag = 0) || '/' || count(*) FROM stockpipe.consumer_status WHERE topic = 'stock_live' AND high_watermark IS NOT NULL" \
	"4/4"
check_eq "consumer_status: high watermark known and lag 0 on all 4 partitions" "4|4|0" \
	"$(q "SELECT count(*) || '|' || count(high_watermark) || '|' || sum(lag) FROM stockpipe.consumer_status WHERE topic = 'stock_live'")"
check_eq "two live workers and one daily worker in stockpipe.workers" "daily|1 live|2" \
	"$(q "SELECT kind || '|' || count(*) FROM stockpipe.workers WHERE kind IN ('live', 'daily') GROUP BY kind ORDER BY kind" | tr '\n' ' ' | sed 's/ $//')"
check "partitions by day were created" query_is \
	"SELECT count(*) >= 2 FROM pg_inherits WHERE inhparent = 'stockpipe.live_stock'::regclass" t
check "the log shows the crash recovery" grep -q "terminated by signal 9" "$E2E_DIR/postgres.log"
exit $SP_TEST_FAILED
