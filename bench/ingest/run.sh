#!/usr/bin/env bash
# bench/ingest/run.sh: the ingestion benchmark of stockpipe (not a test).
#
#  1. starts its own stockpipe-broker and PostgreSQL 15 cluster (loopback,
#     temporary folder), preloads N quotes into stock_live and checks that
#     the broker holds all N (low watermarks 0, high watermarks sum to N);
#  2. CREATE EXTENSION stockpipe: the consumer workers, already running and
#     waiting for it, start consuming; rows/s until every message is stored
#     (sum(next_offset) = N) is measured with server timestamps;
#  3. baseline: PostgreSQL's own COPY of the same N rows (CSV file read by
#     the server) into an identical empty table (same columns, primary key
#     and day partitions); rows/s and the ratio ingest / COPY (targets:
#     >= 0.9 steady, >= 0.8 from CREATE EXTENSION);
#  4. produce->visible latency at 1,000 and at 10,000 quotes/s, default
#     settings (latency.c: librdkafka producer + LISTEN stockpipe_live),
#     p50/p90/p99/max and lost quotes (targets: p99 <= 10 ms at 1,000/s,
#     <= 25 ms at 10,000/s);
#  5. prints a summary block and stops everything it started.
#
# Usage: bench/ingest/run.sh [--n N] [--workers W] [--partitions P]
#            [--batch-size B] [--latency-seconds S] [--rate R] [--rate2 R]
#            [--profile] [--keep]
# Environment: N, WORKERS, PARTITIONS, BATCH_SIZE, LATENCY_SECONDS, RATE
#            (default 1000), RATE2 (default 10000), PROFILE=1, KEEP=1,
#            LINGER2 (producer linger.ms of the RATE2 pass, default 5),
#            TIMEOUT (s, default 900), SYMBOLS (default 500),
#            LATENCY2=0 (skip the second latency pass), KAFKA_OPTIONS,
#            LAT_DUMP=FILE (every quote's send time and latency, first pass).
set -euo pipefail
{ # the whole script is read before it runs: editing it mid-run is safe

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../scripts/lib.sh"

N=${N:-1000000}
WORKERS=${WORKERS:-1}
PARTITIONS=${PARTITIONS:-16}
BATCH_SIZE=${BATCH_SIZE:-}
LATENCY_SECONDS=${LATENCY_SECONDS:-20}
RATE=${RATE:-1000}
RATE2=${RATE2:-10000}
LINGER2=${LINGER2:-5}
PROFILE=${PROFILE:-0}
KEEP=${KEEP:-0}
TIMEOUT=${TIMEOUT:-900}
SYMBOLS=${SYMBOLS:-500}
LATENCY2=${LATENCY2:-1}
KAFKA_OPTIONS=${KAFKA_OPTIONS:-}

SP_USAGE_END=LATENCY2=0

while [ $# -gt 0 ]; do
	case $1 in
	--n) sp_need_count "$1" "${2:-}"; N=$2; shift 2 ;;
	--workers) sp_need_count "$1" "${2:-}"; WORKERS=$2; shift 2 ;;
	--partitions) sp_need_count "$1" "${2:-}"; PARTITIONS=$2; shift 2 ;;
	--batch-size) sp_need_count "$1" "${2:-}"; BATCH_SIZE=$2; shift 2 ;;
	--latency-seconds) sp_need_count "$1" "${2:-}"; LATENCY_SECONDS=$2; shift 2 ;;
	--rate) sp_need_count "$1" "${2:-}"; RATE=$2; shift 2 ;;
	--rate2) sp_need_count "$1" "${2:-}"; RATE2=$2; shift 2 ;;
	--profile) PROFILE=1; shift ;;
	--keep) KEEP=1; shift ;;
	-h | --help) sp_usage; exit 0 ;;
	*) echo "run.sh: unknown argument '$1'" >&2; sp_usage >&2; exit 2 ;;
	esac
done
for v in N WORKERS PARTITIONS LATENCY_SECONDS RATE RATE2 TIMEOUT; do
	sp_is_count "${!v}" || { echo "run.sh: $v must be a positive integer, not '${!v}'" >&2; exit 2; }
done
[ -z "$BATCH_SIZE" ] || sp_is_count "$BATCH_SIZE" || { echo "run.sh: BATCH_SIZE must be a positive integer" >&2; exit 2; }

PERF_PID=""
cleanup() {
	local rc=$?
	if [ -n "$PERF_PID" ]; then kill -INT "$PERF_PID" 2>/dev/null || true; wait "$PERF_PID" 2>/dev/null || true; fi
	sp_cleanup
	if [ -n "${DIR:-}" ] && [ "$KEEP" != 1 ]; then rm -rf "$DIR"; fi
	[ -n "${DIR:-}" ] && [ "$KEEP" = 1 ] && sp_log "kept $DIR"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- prerequisites --------------------------------------------------------------
for cmd in kcat psql "$SP_PGBIN/postgres" "$SP_BIN/stockpipe-broker"; do
	command -v "$cmd" >/dev/null || sp_die "$cmd not found (run: make everything && make install-everything in $SP_ROOT)"
done
[ -f "$("$SP_PGBIN/pg_config" --sharedir)/extension/stockpipe.control" ] ||
	sp_die "the stockpipe extension is not installed (run: make everything && make install-everything in $SP_ROOT)"
make -s -C "$HERE" latency >/dev/null || sp_die "cannot build $HERE/latency"

DIR=$(sp_make_workdir)
PORT=$(sp_free_port)
q() { sp_psql -d stockpipe -c "$1"; }

# Benchmark settings of the cluster (printed in the summary).
PG_SETTINGS=(
	"shared_buffers = 1GB"
	"max_wal_size = 4GB"
	"min_wal_size = 1GB"
	"checkpoint_timeout = 15min"
	"wal_compression = off"
	"synchronous_commit = on"
	"fsync = on"
	"full_page_writes = on"
	"autovacuum = on"
	"track_io_timing = on"
	"log_checkpoints = on"
)
SP_SETTINGS=(
	"stockpipe.database = 'stockpipe'"
	"stockpipe.consumer_workers = $WORKERS"
	# gen.awk's quotes carry fixed dates (2026-11-26/27): accept any age
	"stockpipe.quote_max_age = 2147483647"
)
[ -n "$BATCH_SIZE" ] && SP_SETTINGS+=("stockpipe.batch_size = $BATCH_SIZE")
[ -n "$KAFKA_OPTIONS" ] && SP_SETTINGS+=("stockpipe.kafka_options = '$KAFKA_OPTIONS'")

# --- 1. broker, cluster, preload ------------------------------------------------------
sp_log "workdir $DIR; generating $N quotes ($SYMBOLS symbols)"
awk -v n="$N" -v s="$SYMBOLS" -v tsv="$DIR/quotes.tsv" -v csv="$DIR/quotes.csv" -f "$HERE/gen.awk"
chmod 644 "$DIR/quotes.tsv" "$DIR/quotes.csv"

sp_broker_start "$DIR" "$PARTITIONS" --topic stock_live --topic stock_daily || sp_die "broker did not start"
sp_log "broker $SP_BROKER, $PARTITIONS partitions"
sp_pg_init "$DIR" "$PORT" \
	"${PG_SETTINGS[@]}" "${SP_SETTINGS[@]}" \
	"stockpipe.kafka_brokers = '$SP_BROKER'" \
	"shared_preload_libraries = 'stockpipe,pg_stat_statements'" \
	"pg_stat_statements.track = all" \
	"pg_stat_statements.track_utility = on" || sp_die "initdb failed"
sp_pg_start || { cat "$DIR/postgres.log" >&2; sp_die "PostgreSQL did not start"; }
createdb stockpipe
export PGDATABASE=stockpipe
q "CREATE EXTENSION pg_stat_statements; CREATE SCHEMA bench"

sp_log "preloading $N quotes into stock_live (kcat, lz4)"
t=$(date +%s.%N)
kcat -P -b "$SP_BROKER" -t stock_live -K $'\t' -z lz4 \
	-X linger.ms=50 -X batch.size=1000000 -X batch.num.messages=10000 \
	-X queue.buffering.max.messages=1000000 -l "$DIR/quotes.tsv"
PRELOAD_S=$(printf '%.2f' "$(echo "$(date +%s.%N) - $t" | bc)")

watermarks() { # $1 = -2 (low) or -1 (high): sum over partitions
	local args=() p
	for ((p = 0; p < PARTITIONS; p++)); do args+=(-t "stock_live:$p:$1"); done
	kcat -Q -b "$SP_BROKER" "${args[@]}" | awk '{ s += $4; n++ } END { print s + 0, n + 0 }'
}
read -r LOW_SUM LOW_N <<<"$(watermarks -2)"
read -r HIGH_SUM HIGH_N <<<"$(watermarks -1)"
[ "$LOW_N" = "$PARTITIONS" ] && [ "$HIGH_N" = "$PARTITIONS" ] || sp_die "could not read all watermarks"
[ "$LOW_SUM" = 0 ] || sp_die "the broker dropped messages (low watermarks sum to $LOW_SUM): use more partitions"
[ "$HIGH_SUM" = "$N" ] || sp_die "the broker holds $HIGH_SUM messages, not $N"
sp_log "broker holds all $N messages (high watermarks sum to $HIGH_SUM, low to 0)"

# How fast the broker alone hands the messages out (the ceiling of any consumer).
t=$(date +%s.%N)
got=$(kcat -C -b "$SP_BROKER" -t stock_live -o beginning -e -q -f '\n' | wc -l)
BROKER_S=$(echo "$(date +%s.%N) - $t" | bc)
[ "$got" = "$N" ] || sp_die "kcat read back $got messages, not $N"
BROKER_RPS=$(echo "$N / $BROKER_S" | bc)

# --- 2. ingestion -----------------------------------------------------------------------
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
worker_pids() { q "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE backend_type = 'stockpipe consumer' AND application_name LIKE 'stockpipe live%'"; }
wal_lsn() { q "SELECT pg_current_wal_lsn()"; }

have_workers() { [ -n "$(worker_pids)" ]; }
wait_for 60 "live consumer workers" have_workers || true
WPIDS=$(worker_pids)
[ -n "$WPIDS" ] || sp_die "no live consumer worker is running"
declare -A W0
for p in $WPIDS; do W0[$p]=$(cpu_ticks "$p"); done
q "CREATE TABLE bench.timeline (t timestamptz, stored bigint)"
q "CHECKPOINT"
q "SELECT pg_stat_statements_reset(), pg_stat_reset_shared('wal')" >/dev/null
LSN0=$(wal_lsn)

if [ "$PROFILE" = 1 ]; then
	perf record -q -g -o "$DIR/perf.ingest.data" -p "$(echo "$WPIDS" | tr ' ' ',')" >/dev/null 2>&1 &
	PERF_PID=$!
	sleep 0.5
fi

sp_log "CREATE EXTENSION stockpipe: ingestion starts ($WORKERS worker(s))"
sp_psql -d stockpipe >"$DIR/ingest.out" 2>&1 <<EOF
SELECT clock_timestamp() AS t_create \gset
CREATE EXTENSION stockpipe;
INSERT INTO bench.timeline VALUES (:'t_create', 0);
DO \$\$
DECLARE
	n bigint;
	deadline timestamptz := clock_timestamp() + interval '$TIMEOUT seconds';
BEGIN
	LOOP
		SELECT coalesce(sum(next_offset), 0) INTO n
		  FROM stockpipe.kafka_offsets WHERE topic = 'stock_live';
		INSERT INTO bench.timeline VALUES (clock_timestamp(), n);
		COMMIT;
		EXIT WHEN n >= $N OR clock_timestamp() > deadline;
		PERFORM pg_sleep(0.02);
	END LOOP;
END
\$\$;
EOF
LSN1=$(wal_lsn)
if [ -n "$PERF_PID" ]; then kill -INT "$PERF_PID"; wait "$PERF_PID" || true; PERF_PID=""; fi
W_CPU=0
for p in $WPIDS; do W_CPU=$((W_CPU + $(cpu_ticks "$p") - ${W0[$p]})); done
CLK_TCK=$(getconf CLK_TCK)

STORED=$(q "SELECT max(stored) FROM bench.timeline")
[ "$STORED" = "$N" ] || sp_die "ingestion did not finish within ${TIMEOUT}s: $STORED of $N stored"
# t_create = CREATE EXTENSION; t_first = first sample with rows; t_done = all N.
read -r ING_TOTAL_S ING_STEADY_S FIRST_ROWS <<<"$(q "
	WITH c AS (SELECT min(t) AS t0 FROM bench.timeline),
	     f AS (SELECT t, stored FROM bench.timeline WHERE stored > 0 ORDER BY t LIMIT 1),
	     d AS (SELECT min(t) AS t FROM bench.timeline WHERE stored >= $N)
	SELECT round(extract(epoch FROM d.t - c.t0), 3), round(extract(epoch FROM d.t - f.t), 3), f.stored
	  FROM c, f, d" | tr '|' ' ')"
ING_RPS=$(echo "$N / $ING_TOTAL_S" | bc)
ING_STEADY_RPS=$(echo "($N - $FIRST_ROWS) / $ING_STEADY_S" | bc)

# Everything stored, exactly once, lag 0.
ROWS=$(q "SELECT count(*) FROM stockpipe.live_stock")
DEAD=$(q "SELECT count(*) FROM stockpipe.dead_letter")
LAG=$(q "SELECT coalesce(sum(lag), -1) || '/' || count(*) FROM stockpipe.consumer_status WHERE topic = 'stock_live'")
BATCHES=$(q "SELECT sum(batches) || ' ' || sum(messages) FROM stockpipe.workers WHERE kind = 'live'")
read -r NBATCH NMSG <<<"$BATCHES"
AVG_BATCH=$(( NBATCH > 0 ? NMSG / NBATCH : 0 ))
ING_WAL=$(q "SELECT pg_wal_lsn_diff('$LSN1', '$LSN0')")
ING_WAL_STATS=$(q "SELECT wal_records || ' records, ' || wal_fpi || ' FPI, ' || pg_size_pretty(wal_bytes) || ', ' || wal_buffers_full || ' wal_buffers_full' FROM pg_stat_wal")
ING_CKPT=$(grep -cE 'checkpoint starting: (time|wal)' "$DIR/postgres.log" || true)
q "SELECT round(total_exec_time::numeric, 0) AS ms, calls, rows, round(mean_exec_time::numeric, 2) AS mean_ms,
          left(regexp_replace(query, '\s+', ' ', 'g'), 90) AS query
     FROM pg_stat_statements WHERE query !~* 'timeline|pg_sleep|pg_stat_statements|kafka_offsets WHERE topic = .stock_live. *\$'
    ORDER BY total_exec_time DESC LIMIT 6" >"$DIR/ingest.pgss"
sp_log "ingest: $N rows in ${ING_TOTAL_S}s = $ING_RPS rows/s (steady $ING_STEADY_RPS rows/s)"

# --- 3. COPY baseline ---------------------------------------------------------------------
# The same table: columns, defaults, NOT NULLs, primary key, and the day
# partitions live_stock got, with the same bounds.
q "CREATE TABLE bench.copy_live (LIKE stockpipe.live_stock INCLUDING ALL) PARTITION BY RANGE (ts)"
q "SELECT format('CREATE TABLE bench.%I PARTITION OF bench.copy_live %s;',
                 replace(c.relname, 'live_stock', 'copy_live'), pg_get_expr(c.relpartbound, c.oid))
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'stockpipe.live_stock'::regclass" | sp_psql -d stockpipe >/dev/null
NPARTS=$(q "SELECT count(*) FROM pg_inherits WHERE inhparent = 'bench.copy_live'::regclass")
PK_SAME=$(q "SELECT (SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'bench.copy_live'::regclass AND indisprimary) ~ '\(symbol, ts\)'")
[ "$PK_SAME" = t ] || sp_die "bench.copy_live has no (symbol, ts) primary key"
# Settle first (untimed): without this, autovacuum of the 1M new live_stock
# rows competes with COPY for the CPUs and the disk.
q "VACUUM (ANALYZE) stockpipe.live_stock"
q "CHECKPOINT"
q "SELECT pg_stat_statements_reset(), pg_stat_reset_shared('wal')" >/dev/null
sp_log "COPY baseline: $N rows from $DIR/quotes.csv into bench.copy_live ($NPARTS partitions)"
COPY_OUT=$(sp_psql -d stockpipe <<EOF
SELECT pg_current_wal_lsn() AS lsn0 \gset
SELECT 'cpu0=' || (split_part(pg_read_file('/proc/' || pg_backend_pid() || '/stat'), ' ', 14)::int + split_part(pg_read_file('/proc/' || pg_backend_pid() || '/stat'), ' ', 15)::int);
SELECT clock_timestamp() AS t0 \gset
COPY bench.copy_live (symbol, ts, price, volume, open, high, low, prev_close, currency, source)
	FROM '$DIR/quotes.csv' WITH (FORMAT csv);
SELECT 'copy_s=' || round(extract(epoch FROM clock_timestamp() - :'t0'), 3);
SELECT 'cpu1=' || (split_part(pg_read_file('/proc/' || pg_backend_pid() || '/stat'), ' ', 14)::int + split_part(pg_read_file('/proc/' || pg_backend_pid() || '/stat'), ' ', 15)::int);
SELECT 'copy_wal=' || pg_wal_lsn_diff(pg_current_wal_lsn(), :'lsn0');
EOF
)
COPY_S=$(sed -n 's/^copy_s=//p' <<<"$COPY_OUT")
COPY_WAL=$(sed -n 's/^copy_wal=//p' <<<"$COPY_OUT")
COPY_CPU=$(( $(sed -n 's/^cpu1=//p' <<<"$COPY_OUT") - $(sed -n 's/^cpu0=//p' <<<"$COPY_OUT") ))
COPY_ROWS=$(q "SELECT count(*) FROM bench.copy_live")
[ "$COPY_ROWS" = "$N" ] || sp_die "COPY stored $COPY_ROWS rows, not $N"
COPY_RPS=$(echo "$N / $COPY_S" | bc)
COPY_WAL_STATS=$(q "SELECT wal_records || ' records, ' || wal_fpi || ' FPI, ' || pg_size_pretty(wal_bytes) || ', ' || wal_buffers_full || ' wal_buffers_full' FROM pg_stat_wal")
SAME_ROWS=$(q "SELECT count(*) FROM (SELECT * FROM stockpipe.live_stock EXCEPT SELECT * FROM bench.copy_live) d")
RATIO=$(echo "scale=3; $ING_RPS / $COPY_RPS" | bc)
RATIO_STEADY=$(echo "scale=3; $ING_STEADY_RPS / $COPY_RPS" | bc)
sp_log "COPY: $N rows in ${COPY_S}s = $COPY_RPS rows/s; ratio $RATIO (steady $RATIO_STEADY)"

# --- 3b. (--profile) the writer's statement replayed from SQL --------------------------------
STMT_OC_RPS="" STMT_PLAIN_RPS="" STMT_WAL=""
if [ "$PROFILE" = 1 ]; then
	sp_log "replaying the rows through the writer's INSERT ... unnest statement from SQL"
	STMT_OUT=$(sp_psql -d stockpipe -v batch="${BATCH_SIZE:-10000}" -f "$HERE/statements.sql")
	STMT_OC_RPS=$(echo "$N / $(sed -n 1p <<<"$STMT_OUT")" | bc)
	STMT_PLAIN_RPS=$(echo "$N / $(sed -n 2p <<<"$STMT_OUT")" | bc)
	STMT_WAL=$(sed -n 3p <<<"$STMT_OUT" | tr '|' ' ')
fi

q "VACUUM (ANALYZE) bench.copy_live"	# same reason: a quiet server for the latency runs
q "CHECKPOINT"

# --- 4. latency -------------------------------------------------------------------------------
sp_log "latency: $RATE quotes/s for ${LATENCY_SECONDS}s (+2 s warm-up)"
LAT_OUT=$("$HERE/latency" --brokers "$SP_BROKER" \
	--conninfo "host=$DIR port=$PORT dbname=stockpipe user=postgres" \
	--rate "$RATE" --duration "$LATENCY_SECONDS" --warmup 2 --drain 5 \
	${LAT_DUMP:+--dump "$LAT_DUMP"})
lat() { sed -n "s/^latency_$1=//p" <<<"$LAT_OUT"; }

# Again at RATE2 (10,000 quotes/s), same stockpipe settings, the producer
# lingering LINGER2 ms (5, stockpipe-producer's linger.ms).  With linger 0
# every quote is a message set of its own, and the dev broker (librdkafka's
# mock) answers a fetch with one message set per partition: at 10,000/s
# that caps delivery below the rate, whatever the consumer does.
LAT2_OUT=""
if [ "$LATENCY2" = 1 ]; then
	q "CHECKPOINT" >/dev/null
	sp_log "latency: $RATE2 quotes/s for ${LATENCY_SECONDS}s (+2 s warm-up)"
	LAT2_OUT=$("$HERE/latency" --brokers "$SP_BROKER" \
		--conninfo "host=$DIR port=$PORT dbname=stockpipe user=postgres" \
		--rate "$RATE2" --duration "$LATENCY_SECONDS" --warmup 2 --drain 5 --prefix LB \
		--linger-ms "$LINGER2")
fi
lat2() { sed -n "s/^latency_$1=//p" <<<"$LAT2_OUT"; }
LAT_DEAD=$(q "SELECT count(*) FROM stockpipe.dead_letter")

# --- 5. summary ---------------------------------------------------------------------------------
PGVER=$(q "SELECT version()")
MEM=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
COMMIT=$(git -C "$SP_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$SP_ROOT" diff --quiet HEAD -- src sql 2>/dev/null || COMMIT="$COMMIT (src/ or sql/ modified)"
SETTINGS=$(q "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ' ' ORDER BY name) FROM pg_settings
               WHERE name IN ('shared_buffers','max_wal_size','synchronous_commit','fsync','full_page_writes','wal_buffers',
                              'checkpoint_timeout','wal_level','stockpipe.batch_size','stockpipe.batch_max_wait',
                              'stockpipe.consumer_workers')")
mb() { echo "scale=1; $1 / 1048576" | bc; }

if [ "$PROFILE" = 1 ] && [ -f "$DIR/perf.ingest.data" ]; then
	echo "=== perf profile of the consumer worker(s) during ingestion (self time, >= 1%) ==="
	perf report -i "$DIR/perf.ingest.data" --no-children --sort symbol --percent-limit 1 --stdio -g none 2>/dev/null |
		grep -v '^#' | grep -v '^$' | head -40
	echo
fi

cat <<EOF
=== stockpipe ingestion benchmark ===
machine:      $(nproc) CPUs ($CPU), $MEM memory, $(uname -r)
postgresql:   $PGVER
stockpipe:    commit $COMMIT; installed stockpipe.so built $(date -u -r "$("$SP_PGBIN/pg_config" --pkglibdir)/stockpipe.so" '+%F %T UTC')
settings:     ${PG_SETTINGS[*]/%/;}
              $SETTINGS
              (synchronous_commit ON, fsync ON: every batch commit waits for its WAL flush)
broker:       stockpipe-broker (librdkafka mock), $PARTITIONS partitions, lz4; preload ${PRELOAD_S}s;
              kcat reads all $N back at $BROKER_RPS msg/s (broker ceiling)
data:         $N quotes, $SYMBOLS symbols, 10 columns, 2 day partitions, PK (symbol, ts)

ingest:       $N rows in ${ING_TOTAL_S} s from CREATE EXTENSION = $ING_RPS rows/s
              steady (first committed batch -> last) ${ING_STEADY_S} s = $ING_STEADY_RPS rows/s
              $WORKERS worker(s), $NBATCH batches, avg $AVG_BATCH msgs/batch; worker CPU $(echo "scale=1; $W_CPU / $CLK_TCK" | bc) s
              WAL $(mb "$ING_WAL") MB ($ING_WAL_STATS); checkpoints during run: $ING_CKPT
              check: live_stock $ROWS rows, dead letters $DEAD, lag/partitions $LAG
COPY:         $N rows in ${COPY_S} s = $COPY_RPS rows/s (server-side CSV, clock_timestamp around COPY)
              backend CPU $(echo "scale=1; $COPY_CPU / $CLK_TCK" | bc) s; WAL $(mb "$COPY_WAL") MB ($COPY_WAL_STATS)
              rows differing from live_stock: $SAME_ROWS
ratio:        ingest/COPY = $RATIO (from CREATE EXTENSION), $RATIO_STEADY (steady)   targets >= 0.8, >= 0.9
latency:      $(lat count) quotes at $(lat send_rate)/s (sent $(lat sent), $(lat warmup) warm-up not counted, warm-up max $(lat warmup_max_ms) ms)
              p50 $(lat p50_ms) ms  p90 $(lat p90_ms) ms  p99 $(lat p99_ms) ms  p99.9 $(lat p999_ms) ms  max $(lat max_ms) ms  mean $(lat mean_ms) ms   target p99 <= 10 ms
              lost (never notified) $(lat lost); delivery errors $(lat delivery_errors); notifications $(lat notifications); dead letters $LAT_DEAD
              (stockpipe's default settings$([ -n "$KAFKA_OPTIONS" ] && echo ", but stockpipe.kafka_options = '$KAFKA_OPTIONS'"))
latency 2:    $(if [ -n "$LAT2_OUT" ]; then echo "$(lat2 count) quotes at $(lat2 send_rate)/s, p50 $(lat2 p50_ms) ms  p90 $(lat2 p90_ms) ms  p99 $(lat2 p99_ms) ms  p99.9 $(lat2 p999_ms) ms  max $(lat2 max_ms) ms  lost $(lat2 lost)   target p99 <= 25 ms"; else echo "not run"; fi)
              (producer linger.ms = $LINGER2)
$([ -n "$STMT_OC_RPS" ] && echo "replay:       writer's INSERT ... unnest ... ON CONFLICT DO NOTHING from SQL: $STMT_OC_RPS rows/s;
              same INSERT without ON CONFLICT: $STMT_PLAIN_RPS rows/s ($STMT_WAL); arrays prebuilt, one commit per batch")
top statements during ingestion (pg_stat_statements: total ms | calls | rows | mean ms | query):
$(sed 's/^/              /' "$DIR/ingest.pgss")
EOF
exit 0
}
