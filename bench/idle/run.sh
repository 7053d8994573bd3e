#!/usr/bin/env bash
# bench/idle/run.sh: what the whole pipeline costs while nothing happens
# (not a test).  Issue 13, item 6.
#
#  1. starts stockpipe-broker, a PostgreSQL 15 cluster with stockpipe
#     preloaded (2 live consumers, the daily consumer, the scheduler, the
#     mailer with an SMTP URL set), CREATE EXTENSION, one alert rule;
#     stockpipe-producer outside its market hours (fixed schedule, a window
#     that excludes now; no daily fetch); stockpipe-dash with one browser
#     stream open (curl on /api/stream);
#  2. after WARMUP seconds, measures over SECONDS (300): the CPU time
#     (utime + stime, /proc/PID/stat) of every process -- each stockpipe
#     worker, PostgreSQL's own background processes (the baseline: what an
#     idle PostgreSQL costs anyway), the broker, the producer, the dashboard
#     -- and what the database wrote: rows inserted into each table
#     (pg_stat_user_tables), job runs, WAL bytes;
#  3. prints CPU % of one core per process and in total, and rows and WAL
#     per day at that rate.
#
# Usage: bench/idle/run.sh [--seconds N] [--warmup N] [--keep]
# Environment: SECONDS_RUN (300), WARMUP (10), KEEP=1.
set -euo pipefail
{ # read whole before running

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../scripts/lib.sh"

SECONDS_RUN=${SECONDS_RUN:-300}
WARMUP=${WARMUP:-10}
KEEP=${KEEP:-0}
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) SECONDS_RUN=${2:?}; shift 2 ;;
	--warmup) WARMUP=${2:?}; shift 2 ;;
	--keep) KEEP=1; shift ;;
	-h | --help) sed -n '/^# Usage:/,/^# Environment/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
[[ $SECONDS_RUN =~ ^[1-9][0-9]*$ && $WARMUP =~ ^[0-9]+$ ]] || { echo "run.sh: --seconds and --warmup take whole seconds" >&2; exit 2; }

trap sp_bench_exit EXIT
trap 'exit 130' INT TERM

for cmd in psql stockpipe-producer "$SP_BIN/stockpipe-broker" "$SP_ROOT/dashboard/stockpipe-dash"; do
	command -v "$cmd" >/dev/null || sp_die "$cmd not found (run: make everything && make install-everything)"
done

DIR=$(sp_make_workdir)
PORT=$(sp_free_port)
q() { sp_psql -d stockpipe -c "$1"; }

sp_broker_start "$DIR" 4 || sp_die "broker did not start"
sp_pg_init "$DIR" "$PORT" \
	"stockpipe.database = 'stockpipe'" \
	"stockpipe.kafka_brokers = '$SP_BROKER'" \
	"stockpipe.smtp_url = 'smtp://127.0.0.1:1'" \
	"stockpipe.mail_from = 'alerts@example.com'" || sp_die "initdb failed"
sp_pg_start || { cat "$DIR/postgres.log" >&2; sp_die "PostgreSQL did not start"; }
createdb stockpipe
export PGDATABASE=stockpipe
q "CREATE EXTENSION stockpipe"
q "SELECT stockpipe.set_alert('AAPL', 'price_above', 1000, 'trader@example.com')" >/dev/null
sp_psql <<'SQL'
CREATE ROLE stockpipe_dash LOGIN;
GRANT stockpipe_reader TO stockpipe_dash;
SQL
sp_pg_allow_login stockpipe_dash >/dev/null

# The producer: a fixed window that excludes now in New York, whatever DST.
ny_hour=$(TZ=America/New_York date +%H)
hours=$([ "${ny_hour#0}" -lt 11 ] || [ "${ny_hour#0}" -gt 15 ] && echo 13:00-14:00 || echo 02:00-03:00)
stockpipe-producer --symbols AAPL,MSFT,NVDA --schedule fixed --market-hours "$hours" --no-daily \
	--yahoo-url http://127.0.0.1:1 --brokers "$SP_BROKER" 2>"$DIR/producer.log" &
PRODUCER=$!
SP_PIDS="$SP_PIDS $PRODUCER"
dport=$(sp_free_port)
"$SP_ROOT/dashboard/stockpipe-dash" --listen "127.0.0.1:$dport" --static "$SP_ROOT/dashboard/static" \
	--dsn "host=$DIR port=$PORT dbname=stockpipe user=stockpipe_dash" 2>"$DIR/dash.log" &
DASH=$!
SP_PIDS="$SP_PIDS $DASH"
wait_for 10 "stockpipe-dash" curl -sf "http://127.0.0.1:$dport/healthz" || sp_die "stockpipe-dash did not start"
curl -sN "http://127.0.0.1:$dport/api/stream" >/dev/null 2>&1 &
SP_PIDS="$SP_PIDS $!"

workers_up() { [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type IN ('stockpipe consumer', 'stockpipe scheduler', 'stockpipe mailer')")" -ge 4 ]; }
wait_for 30 "the stockpipe workers" workers_up || sp_die "the stockpipe workers did not start"
sp_log "warm-up ${WARMUP}s, then ${SECONDS_RUN}s of idle"
sleep "$WARMUP"

# name<TAB>pid of every process measured
procs() {
	q "SELECT coalesce(nullif(backend_type, ''), 'backend') || CASE WHEN backend_type = 'stockpipe consumer'
	          THEN ' (' || application_name || ')' ELSE '' END, pid
	     FROM pg_stat_activity WHERE pid <> pg_backend_pid()" | tr '|' '\t'
	printf 'postmaster\t%s\n' "$(as_pg head -1 "$DIR/pgdata/postmaster.pid")"
	# CPU of the server's processes that ended (each job run is a new
	# worker process): the postmaster's cutime + cstime
	printf 'stockpipe job runs and other ended server processes\t-%s\n' "$(as_pg head -1 "$DIR/pgdata/postmaster.pid")"
	printf 'stockpipe-broker\t%s\n' "$SP_BROKER_PID"
	printf 'stockpipe-producer\t%s\n' "$PRODUCER"
	printf 'stockpipe-dash\t%s\n' "$DASH"
}
# utime + stime of PID; of -PID: cutime + cstime (its ended children)
ticks() {
	case $1 in
	-*) awk '{ print $16 + $17 }' "/proc/${1#-}/stat" 2>/dev/null || echo 0 ;;
	*) awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0 ;;
	esac
}
STATS="SELECT coalesce(sum(n_tup_ins), 0) FROM pg_stat_user_tables"
procs >"$DIR/procs"
while IFS=$'\t' read -r name pid; do printf '%s\t%s\t%s\n' "$name" "$pid" "$(ticks "$pid")"; done <"$DIR/procs" >"$DIR/before"
q "SELECT pg_stat_clear_snapshot()" >/dev/null
PER_TABLE="SELECT schemaname || '.' || relname, n_tup_ins FROM pg_stat_user_tables ORDER BY 1"
q "$PER_TABLE" >"$DIR/tables.before"
ins0=$(q "$STATS"); runs0=$(q "SELECT count(*) FROM stockpipe.job_run"); wal0=$(q "SELECT pg_current_wal_lsn()")
t0=$(date +%s.%N)
sleep "$SECONDS_RUN"
t1=$(date +%s.%N)
ins1=$(q "$STATS"); runs1=$(q "SELECT count(*) FROM stockpipe.job_run")
wal=$(q "SELECT pg_current_wal_lsn() - '$wal0'::pg_lsn")
q "$PER_TABLE" >"$DIR/tables.after"
tables=$(join -t '|' "$DIR/tables.before" "$DIR/tables.after" |
	awk -F'|' '$3 > $2 { printf "%s%s %d", sep, $1, $3 - $2; sep = ", " }')
hz=$(getconf CLK_TCK)
elapsed=$(echo "$t1 - $t0" | bc)

echo
echo "== bench/idle: ${SECONDS_RUN} s with no quotes ($(nproc) cores, load before $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-52s %10s %8s\n' "process" "cpu s" "% core"
total=0; pgown=0; sp=0
while IFS=$'\t' read -r name pid before; do
	after=$(ticks "$pid")
	d=$(( after - before )); [ "$d" -lt 0 ] && d=0
	printf '%-52s %10.2f %8.3f\n' "$name" "$(echo "$d / $hz" | bc -l)" "$(echo "100 * $d / $hz / $elapsed" | bc -l)"
	total=$((total + d))
	case $name in
	stockpipe*) sp=$((sp + d)) ;;
	*) pgown=$((pgown + d)) ;;
	esac
done <"$DIR/before"
printf '%-52s %10.2f %8.3f\n' "TOTAL" "$(echo "$total / $hz" | bc -l)" "$(echo "100 * $total / $hz / $elapsed" | bc -l)"
printf '%-52s %10.2f %8.3f\n' "  stockpipe's processes" "$(echo "$sp / $hz" | bc -l)" "$(echo "100 * $sp / $hz / $elapsed" | bc -l)"
printf '%-52s %10.2f %8.3f\n' "  PostgreSQL's own (baseline)" "$(echo "$pgown / $hz" | bc -l)" "$(echo "100 * $pgown / $hz / $elapsed" | bc -l)"
per_day() { echo "$1 * 86400 / $elapsed" | bc -l | xargs printf '%.0f'; }
echo "rows inserted: $((ins1 - ins0)) ($(per_day $((ins1 - ins0)))/day): ${tables:-none}"
echo "job runs: $((runs1 - runs0)) ($(per_day $((runs1 - runs0)))/day)"
echo "WAL: $wal bytes ($(per_day "$wal") bytes/day)"
}
