#!/usr/bin/env bash
# bench/market-day/run.sh: a market day, compressed (issue 13, item 5; not
# a test).
#
#  1. starts stockpipe-broker (PARTITIONS), a PostgreSQL 15 cluster with
#     stockpipe (WORKERS live consumers), CREATE EXTENSION;
#  2. session: the producer's sim source publishes SYMBOLS symbols at RATE
#     quotes/s in total (one quote per symbol per second at the defaults,
#     8,000 and 8,000/s) for SECONDS; every second it samples the consumer
#     lag (messages: consumer_status; seconds: now() minus the newest stored
#     quote, whose ts is its publish time) and the RSS of every process;
#     at the end, CPU per 1,000 rows of each process, WAL bytes per row,
#     table and index bytes per row, all scaled to a trading day (6.5 h);
#  3. backlog: the server stopped, BACKLOG (1,000,000) quotes published,
#     the server started again: the RSS of every process while the
#     consumers work it off (target: each <= 64 MB) and the catch-up rate;
#  4. prints a summary block; stops everything it started.
#
# The baseline each figure is read against is printed with it: the rate
# published (the pipeline keeps up when the lag stays bounded), and
# PostgreSQL's own processes' CPU and RSS in the same run.
#
# Usage: bench/market-day/run.sh [--seconds N] [--symbols N] [--rate N]
#            [--workers N] [--partitions N] [--backlog N] [--keep]
# Environment: the same names in capitals (SECONDS_RUN for --seconds),
#            KEEP=1, KAFKA_OPTIONS (stockpipe.kafka_options, empty: the defaults).  Defaults: 600 s, 8,000 symbols, 8,000/s, 2 workers,
#            16 partitions, backlog 1,000,000.
set -euo pipefail
{ # read whole before running

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../scripts/lib.sh"

SECONDS_RUN=${SECONDS_RUN:-600}
SYMBOLS=${SYMBOLS:-8000}
RATE=${RATE:-8000}
WORKERS=${WORKERS:-2}
PARTITIONS=${PARTITIONS:-16}
BACKLOG=${BACKLOG:-1000000}
KEEP=${KEEP:-0}
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) SECONDS_RUN=${2:?}; shift 2 ;;
	--symbols) SYMBOLS=${2:?}; shift 2 ;;
	--rate) RATE=${2:?}; shift 2 ;;
	--workers) WORKERS=${2:?}; shift 2 ;;
	--partitions) PARTITIONS=${2:?}; shift 2 ;;
	--backlog) BACKLOG=${2:?}; shift 2 ;;
	--keep) KEEP=1; shift ;;
	-h | --help) sed -n '/^# Usage:/,/^#.*backlog 1,000,000/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
for v in "$SECONDS_RUN" "$SYMBOLS" "$RATE" "$WORKERS" "$PARTITIONS" "$BACKLOG"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: every option takes a positive whole number, not '$v'" >&2; exit 2; }
done

trap sp_bench_exit EXIT
trap 'exit 130' INT TERM
for cmd in psql stockpipe-producer "$SP_BIN/stockpipe-broker"; do
	command -v "$cmd" >/dev/null || sp_die "$cmd not found (run: make everything && make install-everything)"
done

DIR=$(sp_make_workdir)
PORT=$(sp_free_port)
q() { sp_psql -d stockpipe -c "$1"; }
seq -f 'M%04g' 1 "$SYMBOLS" >"$DIR/symbols"

sp_broker_start "$DIR" "$PARTITIONS" || sp_die "broker did not start"
sp_pg_init "$DIR" "$PORT" \
	"stockpipe.database = 'stockpipe'" \
	"stockpipe.kafka_brokers = '$SP_BROKER'" \
	"stockpipe.consumer_workers = $WORKERS" \
	"stockpipe.kafka_options = '${KAFKA_OPTIONS:-}'" \
	"shared_buffers = '512MB'" "max_wal_size = '8GB'" || sp_die "initdb failed"
sp_pg_start || { cat "$DIR/postgres.log" >&2; sp_die "PostgreSQL did not start"; }
createdb stockpipe
export PGDATABASE=stockpipe
q "CREATE EXTENSION stockpipe"
workers_up() { [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'stockpipe consumer'")" -ge $((WORKERS + 1)) ]; }
wait_for 30 "the consumers" workers_up || sp_die "the consumers did not start"

publish() {	# publish COUNT at RATE (0: as fast as it can)
	stockpipe-producer --source sim --symbols-file "$DIR/symbols" --rate "$2" --count "$1" --seed 7 \
		--brokers "$SP_BROKER" --stats-interval 0 2>>"$DIR/producer.log" &
	PRODUCER=$!
	SP_PIDS="$SP_PIDS $PRODUCER"
}
# name<TAB>pid of every process measured
procs() {
	q "SELECT coalesce(nullif(backend_type, ''), 'backend') || CASE WHEN backend_type = 'stockpipe consumer'
	          THEN ' (' || application_name || ')' ELSE '' END, pid
	     FROM pg_stat_activity WHERE pid <> pg_backend_pid()" | tr '|' '\t'
	printf 'postmaster\t%s\n' "$(as_pg head -1 "$DIR/pgdata/postmaster.pid")"
	printf 'stockpipe-broker\t%s\n' "$SP_BROKER_PID"
	return 0
}
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# RSS and its private part (RssAnon: a server process's RSS also counts the
# shared buffers it has touched), kB
rss_kb() { awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } END { print r + 0 ":" a + 0 }' "/proc/$1/status" 2>/dev/null || echo 0:0; }
# one line per second: t, lag (messages), lag (s), then name=rss_kb for each process
sample() {
	local t0=$1 name pid
	printf '%s\t%s\t%s' "$(echo "$(date +%s.%N) - $t0" | bc)" \
		"$(q "SELECT coalesce(sum(lag), 0) FROM stockpipe.consumer_status WHERE topic = 'stock_live'")" \
		"$(q "SELECT coalesce(extract(epoch FROM now() - max(ts)), 0) FROM stockpipe.latest_quote")"
	while IFS=$'\t' read -r name pid; do printf '\t%s=%s' "$name" "$(rss_kb "$pid")"; done <"$DIR/procs"
	printf '\n'
}
# the largest RSS and RssAnon (kB) of process NAME in a samples file
max_rss() {
	tr '\t' '\n' <"$1" | awk -F'[=:]' -v n="$2" '$1 == n { if ($2 > r) r = $2; if ($3 > a) a = $3 } END { print r + 0, a + 0 }'
}
STORED="SELECT coalesce(sum(rows_stored), 0) FROM stockpipe.kafka_offsets WHERE topic = 'stock_live'"
hz=$(getconf CLK_TCK)

# --- 2. the session
procs >"$DIR/procs"
while IFS=$'\t' read -r name pid; do printf '%s\t%s\t%s\n' "$name" "$pid" "$(ticks "$pid")"; done <"$DIR/procs" >"$DIR/cpu.before"
rows0=$(q "$STORED"); wal0=$(q "SELECT pg_current_wal_lsn()")
t0=$(date +%s.%N)
sp_log "session: $SYMBOLS symbols, $RATE quotes/s for ${SECONDS_RUN}s, $WORKERS workers, $PARTITIONS partitions"
publish $((RATE * SECONDS_RUN)) "$RATE"
printf 'stockpipe-producer\t%s\n' "$PRODUCER" >>"$DIR/procs"
printf 'stockpipe-producer\t%s\t0\n' "$PRODUCER" >>"$DIR/cpu.before"
while kill -0 "$PRODUCER" 2>/dev/null; do
	sample "$t0" >>"$DIR/session.tsv"
	ticks "$PRODUCER" >"$DIR/producer.ticks.new" && mv "$DIR/producer.ticks.new" "$DIR/producer.ticks"
	sleep 1
done
wait "$PRODUCER" || true
t1=$(date +%s.%N)
drained() { [ "$(q "SELECT coalesce(sum(lag), 0) FROM stockpipe.consumer_status WHERE topic = 'stock_live'")" = 0 ]; }
wait_for 300 "the consumers to drain" drained || sp_log "still lagging after 300 s"
t2=$(date +%s.%N)
rows=$(( $(q "$STORED") - rows0 ))
wal=$(q "SELECT pg_current_wal_lsn() - '$wal0'::pg_lsn")
elapsed=$(echo "$t1 - $t0" | bc)
published=$((RATE * SECONDS_RUN))

echo
echo "== bench/market-day: session, $SYMBOLS symbols at $RATE quotes/s for ${SECONDS_RUN}s ($(nproc) cores)"
printf 'published %d quotes in %.1f s (%.0f/s); stored %d rows; drained %.1f s after the producer ended\n' \
	"$published" "$elapsed" "$(echo "$published / $elapsed" | bc -l)" "$rows" "$(echo "$t2 - $t1" | bc)"
awk -F'\t' '{ print $2 }' "$DIR/session.tsv" | sort -n | awk '{ a[NR] = $1 } END {
	printf "consumer lag (messages): p50 %d, p99 %d, max %d (%d samples, one a second)\n",
		a[int(NR * 0.5 + 0.5)], a[int(NR * 0.99 + 0.5)], a[NR], NR }'
awk -F'\t' '{ print $3 }' "$DIR/session.tsv" | sort -n | awk '{ a[NR] = $1 } END {
	printf "consumer lag (s, now - newest stored quote): p50 %.3f, p99 %.3f, max %.3f\n",
		a[int(NR * 0.5 + 0.5)], a[int(NR * 0.99 + 0.5)], a[NR] }'
printf '%-44s %9s %12s %16s\n' "process" "% core" "cpu ms/1000 rows" "max RSS (anon) MB"
while IFS=$'\t' read -r name pid before; do
	after=$(ticks "$pid")
	# the producer has exited: its CPU as last sampled (its last second is missing)
	[ "$name" = stockpipe-producer ] && after=$(cat "$DIR/producer.ticks" 2>/dev/null || echo 0)
	d=$(( after - before )); [ "$d" -lt 0 ] && d=0
	read -r maxrss maxanon <<<"$(max_rss "$DIR/session.tsv" "$name")"
	printf '%-44s %9.2f %12.2f %9.1f (%5.1f)\n' "$name" "$(echo "100 * $d / $hz / $elapsed" | bc -l)" \
		"$(echo "1000 * 1000 * $d / $hz / $rows" | bc -l)" "$(echo "$maxrss / 1024" | bc -l)" "$(echo "$maxanon / 1024" | bc -l)"
done <"$DIR/cpu.before"
read -r heap idx <<<"$(q "SELECT sum(pg_table_size(i.inhrelid)), sum(pg_indexes_size(i.inhrelid))
                           FROM pg_inherits i WHERE i.inhparent = 'stockpipe.live_stock'::regclass" | tr '|' ' ')"
all=$(q "SELECT count(*) FROM stockpipe.live_stock")
day=$((RATE * 23400))
printf 'WAL: %.0f bytes/row (%.1f GB per trading day of %d rows)\n' "$(echo "$wal / $rows" | bc -l)" \
	"$(echo "$wal / $rows * $day / 10^9" | bc -l)" "$day"
printf 'live_stock: table %.1f + indexes %.1f bytes/row = %.1f GB + %.1f GB per trading day\n' \
	"$(echo "$heap / $all" | bc -l)" "$(echo "$idx / $all" | bc -l)" \
	"$(echo "$heap / $all * $day / 10^9" | bc -l)" "$(echo "$idx / $all * $day / 10^9" | bc -l)"
printf 'storage against days retained (stockpipe.live_retention; one partition a day):'
for d in 1 5 30 90 365; do printf ' %d d %.0f GB;' "$d" "$(echo "($heap + $idx) / $all * $day * $d / 10^9" | bc -l)"; done
echo

# --- 3. the backlog
# messages, not rows: published as fast as possible, quotes of one symbol
# may share a millisecond, and only the first of a (symbol, ts) is stored
CONSUMED="SELECT coalesce(sum(next_offset), 0) FROM stockpipe.kafka_offsets WHERE topic = 'stock_live'"
done0=$(q "$STORED"); msgs0=$(q "$CONSUMED")
sp_pg_stop fast
PRODUCER=
publish "$BACKLOG" 0
wait "$PRODUCER" || sp_die "publishing the backlog failed"
PRODUCER=
t0=$(date +%s.%N)	# the catch-up counts from the server's start
sp_pg_start || sp_die "PostgreSQL did not start again"
wait_for 30 "the consumers" workers_up || sp_die "the consumers did not start again"
procs >"$DIR/procs"
sample "$t0" >>"$DIR/backlog.tsv"
until [ "$(q "$CONSUMED")" -ge $((msgs0 + BACKLOG)) ]; do
	sample "$t0" >>"$DIR/backlog.tsv"
	[ "$(echo "$(date +%s.%N) - $t0 > 900" | bc)" = 1 ] && { sp_log "backlog not worked off in 900 s"; break; }
	sleep 0.5
done
t1=$(date +%s.%N)
echo "== backlog: $BACKLOG quotes published with the server down, then worked off"
printf 'worked off in %.1f s (%.0f messages/s; %d rows stored)\n' "$(echo "$t1 - $t0" | bc)" \
	"$(echo "($(q "$CONSUMED") - $msgs0) / ($t1 - $t0)" | bc -l)" "$(( $(q "$STORED") - done0 ))"
printf '%-44s %16s\n' "process" "max RSS (anon) MB"
while IFS=$'\t' read -r name pid; do
	read -r maxrss maxanon <<<"$(max_rss "$DIR/backlog.tsv" "$name")"
	printf '%-44s %9.1f (%5.1f)%s\n' "$name" "$(echo "$maxrss / 1024" | bc -l)" "$(echo "$maxanon / 1024" | bc -l)" \
		"$([ "$maxanon" -gt 65536 ] && echo '  private memory > 64 MB' || true)"
done <"$DIR/procs"
}
