#!/usr/bin/env bash
# bench/replication/run.sh: what a streaming standby costs ingestion,
# asynchronous against synchronous (not a test).  Issue 14, item 4.
#
# For each mode, in the same run and on fresh servers: stockpipe-broker, a
# primary PostgreSQL 15 with stockpipe preloaded (the settings of
# bench/ingest: synchronous_commit on, fsync on), a hot standby made with
# pg_basebackup streaming from it (cluster_name sb1), and
#   async: synchronous_standby_names empty (PostgreSQL's default);
#   sync:  synchronous_standby_names = 'sb1' (each commit waits for the
#          standby's flush: synchronous_commit = on);
# then
#  1. N quotes preloaded into the broker (bench/ingest/gen.awk, kcat), CREATE
#     EXTENSION, and the time until all N are stored: rows/s from the first
#     stored batch to the last (steady) and from CREATE EXTENSION;
#  2. produce->visible latency at RATE quotes/s for LATENCY_SECONDS
#     (bench/ingest/latency: LISTEN stockpipe_live on the primary);
#  3. checks: N rows, the standby caught up with them, pg_stat_replication's
#     sync_state is the mode's.
# Prints both modes side by side and sync / async.
#
# Usage: bench/replication/run.sh [--n N] [--rate R] [--latency-seconds S] [--keep]
# Environment: N (200000), RATE (1000), LATENCY_SECONDS (10), PARTITIONS (4), KEEP=1.
set -euo pipefail
{ # read whole before running

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../scripts/lib.sh"
INGEST=$HERE/../ingest

N=${N:-200000}
RATE=${RATE:-1000}
LATENCY_SECONDS=${LATENCY_SECONDS:-10}
PARTITIONS=${PARTITIONS:-4}
KEEP=${KEEP:-0}
while [ $# -gt 0 ]; do
	case $1 in
	--n) N=${2:?}; shift 2 ;;
	--rate) RATE=${2:?}; shift 2 ;;
	--latency-seconds) LATENCY_SECONDS=${2:?}; shift 2 ;;
	--keep) KEEP=1; shift ;;
	-h | --help) sed -n '/^# Usage:/,/^# Environment/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
for v in N RATE LATENCY_SECONDS PARTITIONS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: $v must be a positive integer, not '${!v}'" >&2; exit 2; }
done

DIRS=()
SB_DATA=""
bench_exit() {
	local rc=$? d
	[ -n "$SB_DATA" ] && [ -f "$SB_DATA/postmaster.pid" ] &&
		as_pg "$SP_PGBIN/pg_ctl" -D "$SB_DATA" -m immediate -w stop >/dev/null 2>&1
	sp_cleanup
	for d in "${DIRS[@]}"; do
		if [ "$KEEP" = 1 ]; then sp_log "kept $d"; else rm -rf "$d"; fi
	done
	exit $rc
}
trap bench_exit EXIT
trap 'exit 130' INT TERM

for cmd in kcat psql "$SP_PGBIN/pg_basebackup" "$SP_BIN/stockpipe-broker"; do
	command -v "$cmd" >/dev/null || sp_die "$cmd not found (run: make everything && make install-everything in $SP_ROOT)"
done
make -s -C "$INGEST" latency >/dev/null || sp_die "cannot build $INGEST/latency"

GEN=$(mktemp -d)
DIRS+=("$GEN")
awk -v n="$N" -v s=500 -v tsv="$GEN/quotes.tsv" -v csv="$GEN/quotes.csv" -f "$INGEST/gen.awk"
chmod 755 "$GEN"; chmod 644 "$GEN/quotes.tsv"

# run_mode MODE: one measurement on fresh servers; sets R_* for MODE.
run_mode() {
	local mode=$1 dir port sb_port t0 first done_t stored lat_out
	dir=$(sp_make_workdir); DIRS+=("$dir")
	port=$(sp_free_port); sb_port=$(sp_free_port)
	q() { sp_psql -d stockpipe -c "$1"; }
	sp_broker_start "$dir" "$PARTITIONS" --topic stock_live --topic stock_daily || sp_die "broker did not start"
	sp_pg_init "$dir" "$port" \
		"shared_buffers = 1GB" "max_wal_size = 4GB" "min_wal_size = 1GB" "checkpoint_timeout = 15min" \
		"synchronous_commit = on" "fsync = on" "full_page_writes = on" \
		"stockpipe.database = 'stockpipe'" "stockpipe.kafka_brokers = '$SP_BROKER'" \
		"stockpipe.quote_max_age = 2147483647" || sp_die "initdb failed"
	echo "local   replication  all  peer map=stockpipe" | as_pg tee -a "$dir/pgdata/pg_hba.conf" >/dev/null
	sp_pg_start || { cat "$dir/postgres.log" >&2; sp_die "PostgreSQL did not start"; }
	createdb stockpipe
	export PGDATABASE=stockpipe

	as_pg mkdir -m 700 "$dir/standby"
	SB_DATA=$dir/standby/pgdata
	as_pg "$SP_PGBIN/pg_basebackup" -D "$SB_DATA" -h "$dir" -p "$port" -U postgres -R -X stream -c fast \
		>"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; sp_die "pg_basebackup failed"; }
	printf "port = %s\ncluster_name = 'sb1'\n" "$sb_port" | as_pg tee -a "$SB_DATA/postgresql.conf" >/dev/null
	as_pg "$SP_PGBIN/pg_ctl" -D "$SB_DATA" -l "$dir/standby.log" -w -t 60 start >/dev/null ||
		{ cat "$dir/standby.log" >&2; sp_die "the standby did not start"; }
	streaming() { [ "$(q "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'sb1' AND state = 'streaming'")" = 1 ]; }
	wait_for 30 "the standby streaming" streaming || sp_die "the standby does not stream"
	if [ "$mode" = sync ]; then
		q "ALTER SYSTEM SET synchronous_standby_names = 'sb1'" >/dev/null
		q "SELECT pg_reload_conf()" >/dev/null
		is_sync() { [ "$(q "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'sb1'")" = sync ]; }
		wait_for 30 "sb1 synchronous" is_sync || sp_die "the standby did not become synchronous"
	fi

	sp_log "$mode: preloading $N quotes"
	kcat -P -b "$SP_BROKER" -t stock_live -K $'\t' -z lz4 \
		-X linger.ms=50 -X batch.size=1000000 -X batch.num.messages=10000 \
		-X queue.buffering.max.messages=1000000 -l "$GEN/quotes.tsv"

	sp_log "$mode: CREATE EXTENSION stockpipe, ingesting"
	t0=$(date +%s.%N)
	q "CREATE EXTENSION stockpipe"
	first=""
	while :; do
		stored=$(q "SELECT coalesce(sum(next_offset), 0) FROM stockpipe.kafka_offsets WHERE topic = 'stock_live'")
		[ -z "$first" ] && [ "$stored" -gt 0 ] && first=$(date +%s.%N) && first_rows=$stored
		[ "$stored" -ge "$N" ] && break
		[ "$(echo "$(date +%s.%N) - $t0 > 600" | bc)" = 1 ] && sp_die "$mode: only $stored of $N stored after 600 s"
		sleep 0.02
	done
	done_t=$(date +%s.%N)
	[ "$(q "SELECT count(*) FROM stockpipe.live_stock")" = "$N" ] || sp_die "$mode: live_stock does not hold $N rows"
	caught_up() { [ "$(PGPORT=$sb_port sp_psql -c "SELECT count(*) FROM stockpipe.live_stock" 2>/dev/null)" = "$N" ]; }
	wait_for 60 "the standby has the $N rows" caught_up || sp_die "$mode: the standby did not catch up"

	sp_log "$mode: latency at $RATE quotes/s for ${LATENCY_SECONDS}s"
	lat_out=$("$INGEST/latency" --brokers "$SP_BROKER" \
		--conninfo "host=$dir port=$port dbname=stockpipe user=postgres" \
		--rate "$RATE" --duration "$LATENCY_SECONDS" --warmup 2 --drain 5)
	lat() { sed -n "s/^latency_$1=//p" <<<"$lat_out"; }

	if [ "$first_rows" -lt "$N" ]; then
		eval "R_${mode}_steady=$(echo "($N - $first_rows) / ($done_t - $first)" | bc)"
	else
		eval "R_${mode}_steady=n/a"   # all stored in the first poll: use a larger --n
	fi
	eval "R_${mode}_total=$(echo "$N / ($done_t - $t0)" | bc)"
	eval "R_${mode}_p50=$(lat p50_ms) R_${mode}_p99=$(lat p99_ms) R_${mode}_max=$(lat max_ms) R_${mode}_lost=$(lat lost)"
	eval "R_${mode}_state=$(q "SELECT coalesce(sync_state, '?') FROM pg_stat_replication WHERE application_name = 'sb1'")"

	sp_log "$mode: stopping"
	as_pg "$SP_PGBIN/pg_ctl" -D "$SB_DATA" -m immediate -w stop >/dev/null
	SB_DATA=""
	sp_cleanup
}

run_mode async
run_mode sync

ratio() { [[ $1$2 =~ ^[0-9.]+$ ]] && echo "scale=2; $1 / $2" | bc || echo "-"; }
cat <<EOF

== bench/replication: $N quotes, $PARTITIONS partitions, 1 consumer worker, one streaming standby ($(nproc) cores)
                          async            sync        sync/async
sync_state                $R_async_state            $R_sync_state
rows/s steady             $R_async_steady          $R_sync_steady        $(ratio "$R_sync_steady" "$R_async_steady")
rows/s from CREATE EXT.   $R_async_total          $R_sync_total        $(ratio "$R_sync_total" "$R_async_total")
latency p50 ms ($RATE/s)   $R_async_p50            $R_sync_p50
latency p99 ms            $R_async_p99            $R_sync_p99
latency max ms            $R_async_max            $R_sync_max
lost                      $R_async_lost              $R_sync_lost
EOF
}
