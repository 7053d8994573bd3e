#!/usr/bin/env bash
# bench/bi/run.sh: the BI read benchmark of stockpipe at market scale (not a
# test; issue 13, item 4).
#
#  1. starts its own PostgreSQL 15 cluster (loopback, temporary folder) with
#     stockpipe preloaded and an idle stockpipe-broker for its consumers,
#     CREATE EXTENSION stockpipe, built-in jobs off;
#  2. fills the tables directly (no Kafka): SYMBOLS symbols x DAYS days of
#     quotes, PER_DAY per symbol and day evenly over the regular session
#     (13:30-20:00 UTC, 9:30-16:00 in New York), the last day yesterday (UTC),
#     inserted day by day in time order as the consumers store them (a
#     symbol's quotes of a day on many heap pages); and one daily bar per
#     symbol and day; then stockpipe.rebuild_latest_quote() (timed: the
#     upgrade to 1.2 fills latest_quote the same way) and ANALYZE;
#  3. creates the baseline, the views before latest_quote (those of the
#     1.1 release, in schema bench), and checks that old and new return the
#     same rows;
#  4. times each query RUNS times with pgbench (one client, simple protocol:
#     parsed and planned every time, all rows sent to the client), after 3
#     untimed runs, and prints median and p95 in ms, new and old:
#       latest   SELECT * FROM stockpipe_bi.fact_latest_quote (what Power BI
#                and the dashboard ask first);
#       dim      SELECT * FROM stockpipe_bi.dim_symbol;
#       session  one symbol's quotes of one day, as the dashboard's intraday
#                chart asks it (DASH_Q_INTRADAY of dashboard/src/queries.h,
#                the range as parameters);
#       symbols  the dashboard's symbol list (/api/symbols: DASH_Q_QUOTES of
#                dashboard/src/queries.h, every latest quote and the
#                daily-only symbols), the baseline being the query before
#                latest_bar and /api/sparks (bench/bi/before/: a sparkline
#                per symbol, dim_symbol by a loose index scan); with
#                jit = off, as the dashboard's sessions run; and its
#                daily-only part alone (DASH_Q_DAILY_ONLY), new and before;
#       sparks   /api/sparks (DASH_Q_SPARKS) for 50 and 200 symbols, at the
#                data's density, then again after one quote a second for
#                those symbols over the last two hours (SPARK_SYMBOLS x
#                7,200 more rows), against the GROUP BY per symbol of the
#                earlier sparkline (same symbols, same answer);
#  5. saves EXPLAIN (ANALYZE, BUFFERS) of one run of each into OUT and prints
#     a summary block; stops everything it started.
#
# Usage: bench/bi/run.sh [--symbols N] [--days D] [--per-day Q] [--runs R]
#            [--out DIR] [--keep]
# Environment: SYMBOLS (8000), DAYS (90), PER_DAY (13: one quote per symbol
#            every 30 minutes of the session), RUNS (25), OUT (bench/bi/results),
#            KEEP=1 (keep the work folder).
set -euo pipefail
{ # the whole script is read before it runs: editing it mid-run is safe

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../scripts/lib.sh"

SYMBOLS=${SYMBOLS:-8000}
DAYS=${DAYS:-90}
PER_DAY=${PER_DAY:-13}
RUNS=${RUNS:-25}
OUT=${OUT:-$HERE/results}
KEEP=${KEEP:-0}


while [ $# -gt 0 ]; do
	case $1 in
	--symbols) sp_need_count "$1" "${2:-}"; SYMBOLS=$2; shift 2 ;;
	--days) sp_need_count "$1" "${2:-}"; DAYS=$2; shift 2 ;;
	--per-day) sp_need_count "$1" "${2:-}"; PER_DAY=$2; shift 2 ;;
	--runs) sp_need_count "$1" "${2:-}"; RUNS=$2; shift 2 ;;
	--out) [ -n "${2:-}" ] || { echo "run.sh: --out needs a folder" >&2; sp_usage >&2; exit 2; }; OUT=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	-h | --help) sp_usage; exit 0 ;;
	*) echo "run.sh: unknown argument '$1'" >&2; sp_usage >&2; exit 2 ;;
	esac
done
for v in SYMBOLS DAYS PER_DAY RUNS; do
	sp_is_count "${!v}" || { echo "run.sh: $v must be a positive integer, not '${!v}'" >&2; exit 2; }
done
[ "$PER_DAY" -le 23400 ] || { echo "run.sh: --per-day is at most 23400 (one a second of the 6.5 h session)" >&2; exit 2; }
[ "$SYMBOLS" -le 999999 ] || { echo "run.sh: --symbols is at most 999999" >&2; exit 2; }

trap sp_bench_exit EXIT
trap 'exit 130' INT TERM

# --- prerequisites --------------------------------------------------------------
for cmd in psql cc "$SP_PGBIN/postgres" "$SP_PGBIN/pgbench" "$SP_BIN/stockpipe-broker"; do
	command -v "$cmd" >/dev/null || sp_die "$cmd not found (run: make everything && make install-everything in $SP_ROOT)"
done
[ -f "$("$SP_PGBIN/pg_config" --sharedir)/extension/stockpipe.control" ] ||
	sp_die "the stockpipe extension is not installed (run: make && make install in $SP_ROOT)"

DIR=$(sp_make_workdir)
PORT=$(sp_free_port)
mkdir -p "$OUT"
q() { sp_psql -d stockpipe -c "$1"; }
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# The dashboard's statements, as its program has them (the C string constants).
printf '#include <stdio.h>\n#include "queries.h"\nint main(void) { puts(DASH_Q_QUOTES); puts(DASH_Q_INTRADAY); puts(DASH_Q_DAILY_ONLY); puts(DASH_Q_SPARKS); return 0; }\n' |
	cc -x c -I "$SP_ROOT/dashboard/src" -o "$DIR/dash_queries" - || sp_die "cannot compile dashboard/src/queries.h"
"$DIR/dash_queries" >"$DIR/dash_queries.txt"
Q_SYMBOLS=$(sed -n 1p "$DIR/dash_queries.txt")
Q_INTRADAY=$(sed -n 2p "$DIR/dash_queries.txt")
Q_DAILY_ONLY=$(sed -n 3p "$DIR/dash_queries.txt")
Q_SPARKS=$(sed -n 4p "$DIR/dash_queries.txt")
# the baseline: the dashboard's queries before latest_bar and /api/sparks
Q_SYMBOLS_PREV=$(cat "$HERE/before/symbols.sql")
Q_DAILY_ONLY_PREV=$(cat "$HERE/before/daily_only.sql")
# the sparkline as /api/symbols computed it for every symbol before: a
# GROUP BY per symbol over its two hours of quotes; for the same symbols
Q_SPARKS_GROUPBY="SELECT coalesce(json_object_agg(q.symbol, sp.points), '{}')::text
 FROM (SELECT DISTINCT s.symbol FROM unnest(string_to_array(\$1::text, ',')) s(symbol)) r
 JOIN stockpipe_bi.fact_latest_quote q ON q.symbol = r.symbol
 CROSS JOIN LATERAL (SELECT json_agg(json_build_array(extract(epoch FROM b)::bigint, p) ORDER BY b) AS points FROM (
   SELECT date_bin('1 minute', i.ts, timestamptz 'epoch') AS b, (array_agg(i.price ORDER BY i.ts DESC))[1] AS p
   FROM stockpipe_bi.fact_intraday i
   WHERE i.symbol = q.symbol AND i.ts > q.ts - interval '2 hours' AND i.ts <= q.ts
   GROUP BY 1) m) sp"

PG_SETTINGS=(
	"shared_buffers = 1GB"
	"max_wal_size = 8GB"
	"checkpoint_timeout = 30min"
	"track_io_timing = on"
)

# --- 1. broker, cluster, extension ----------------------------------------------------
# The consumers wait on an idle broker of their own, with long fetches (as
# bench/l30d does); nothing is published: the tables are filled directly.
sp_broker_start "$DIR" 1 --topic stock_live --topic stock_daily || sp_die "broker did not start"
sp_pg_init "$DIR" "$PORT" "${PG_SETTINGS[@]}" \
	"stockpipe.database = 'stockpipe'" \
	"stockpipe.kafka_brokers = '$SP_BROKER'" \
	"stockpipe.kafka_options = 'fetch.wait.max.ms=1000'" || sp_die "initdb failed"
sp_pg_start || { cat "$DIR/postgres.log" >&2; sp_die "PostgreSQL did not start"; }
createdb stockpipe
export PGDATABASE=stockpipe
q "CREATE EXTENSION stockpipe; CREATE SCHEMA bench"
[ "$(q "SELECT to_regclass('stockpipe.latest_quote') IS NOT NULL")" = t ] ||
	sp_die "stockpipe.latest_quote does not exist: install the current extension"
# alert_check every 5 s, upkeep and the L30D refresh would run mid-measurement
q "SELECT count(stockpipe.alter_job(name, enabled => false)) FROM stockpipe.job WHERE builtin" >/dev/null
sp_log "workdir $DIR; cluster on port $PORT"

# --- 2. data ----------------------------------------------------------------------------
ROWS=$((SYMBOLS * DAYS * PER_DAY))
LAST_DAY=$(date -u -d yesterday +%F)
FIRST_DAY=$(date -u -d "$LAST_DAY - $((DAYS - 1)) days" +%F)
sp_log "quotes: $SYMBOLS symbols x $DAYS days ($FIRST_DAY..$LAST_DAY) x $PER_DAY = $ROWS rows; bars: $((SYMBOLS * DAYS)) rows"
t=$(date +%s.%N)
sp_psql >/dev/null <<EOF
SET synchronous_commit = off;
SET timezone = 'UTC';
SELECT stockpipe.ensure_live_partitions(array_agg(d::date))
  FROM generate_series('$FIRST_DAY'::date, '$LAST_DAY'::date, interval '1 day') d;
-- Symbols S000001...; a price per symbol that moves with the time of day.
CREATE TEMP TABLE syms AS
SELECT 'S' || lpad(s::text, 6, '0') AS symbol, s, 10 + (s * 7919) % 490 AS base
  FROM generate_series(1, $SYMBOLS) s;
-- Day by day, in time order (all symbols' quotes of a moment together), as
-- the consumers store them; one transaction per day.
CREATE PROCEDURE pg_temp.fill() LANGUAGE plpgsql AS \$\$
DECLARE
	d date;
BEGIN
	FOR d IN SELECT g::date FROM generate_series('$FIRST_DAY'::date, '$LAST_DAY'::date, interval '1 day') g LOOP
		INSERT INTO stockpipe.live_stock
			(symbol, ts, price, volume, open, high, low, prev_close, currency, source, exchange_tz, session)
		SELECT y.symbol,
			   d + time '13:30' + make_interval(secs => i * 23400.0 / $PER_DAY),
			   y.base * (1 + 0.01 * sin(i + y.s + (d - date '2000-01-01'))),
			   1000 * (i + 1), y.base, y.base * 1.02, y.base * 0.98, y.base * 0.995,
			   'USD', 'bench', 'America/New_York', 'regular'
		  FROM generate_series(0, $PER_DAY - 1) i, syms y
		 ORDER BY i, y.s;
		INSERT INTO stockpipe.historical_stock_data (symbol, trade_date, open, high, low, close, adj_close, volume)
		SELECT y.symbol, d, y.base, y.base * 1.02, y.base * 0.98, y.base * 1.001, y.base * 1.001, 1000 * $PER_DAY
		  FROM syms y;
		COMMIT;
	END LOOP;
END;
\$\$;
CALL pg_temp.fill();
EOF
FILL_S=$(printf '%.1f' "$(echo "$(date +%s.%N) - $t" | bc)")
t=$(date +%s.%N)
LQ_ROWS=$(q "SELECT stockpipe.rebuild_latest_quote()")
REBUILD_S=$(printf '%.2f' "$(echo "$(date +%s.%N) - $t" | bc)")
# latest_bar was kept by its triggers during the fill: the rebuild (what
# the upgrade to 1.2 runs) must give the same rows
q "CREATE TABLE bench.latest_bar_kept AS SELECT * FROM stockpipe.latest_bar"
t=$(date +%s.%N)
LB_ROWS=$(q "SELECT stockpipe.rebuild_latest_bar()")
REBUILD_LB_S=$(printf '%.2f' "$(echo "$(date +%s.%N) - $t" | bc)")
[ "$(q "SELECT (SELECT count(*) FROM (TABLE bench.latest_bar_kept EXCEPT TABLE stockpipe.latest_bar) a)
          + (SELECT count(*) FROM (TABLE stockpipe.latest_bar EXCEPT TABLE bench.latest_bar_kept) b)")" = 0 ] ||
	sp_die "latest_bar as its triggers kept it differs from rebuild_latest_bar()'s"
q "VACUUM ANALYZE" >/dev/null
SIZE=$(q "SELECT pg_size_pretty(pg_database_size(current_database()))")
[ "$(q "SELECT count(*) FROM stockpipe.live_stock")" = "$ROWS" ] || sp_die "live_stock does not have $ROWS rows"
sp_log "filled in ${FILL_S}s; rebuild_latest_quote(): $LQ_ROWS symbols in ${REBUILD_S}s; rebuild_latest_bar(): $LB_ROWS symbols in ${REBUILD_LB_S}s (the same rows as its triggers kept); database $SIZE"

# --- 3. baseline views, same rows ------------------------------------------------------
# The released 1.1 definitions (those of sql/versions/stockpipe--1.0.sql,
# which stockpipe--1.0--1.1.sql does not change; released scripts never
# change), renamed into schema bench: symbols by loose index scans of
# historical_stock_data and of live_stock's last 7 days, one LATERAL probe
# of live_stock's day partitions per symbol for its first and latest quote.
# (1.1's fact_latest_quote lacks exchange_tz and session: the rows are
# compared on its columns.)
for v in stockpipe.bi_symbols stockpipe_bi.dim_symbol stockpipe_bi.fact_latest_quote; do
	awk -v v="$v" '$0 == "CREATE VIEW " v " AS" { on = 1 } on && /^COMMENT ON VIEW/ { exit } on' \
		"$SP_ROOT/sql/versions/stockpipe--1.0.sql"
done | sed -e 's/stockpipe\.bi_symbols/bench.old_bi_symbols/' \
	-e 's/stockpipe_bi\.dim_symbol/bench.old_dim_symbol/' \
	-e 's/stockpipe_bi\.fact_latest_quote/bench.old_fact_latest_quote/' >"$DIR/old_views.sql"
[ "$(grep -c '^CREATE VIEW bench\.old_' "$DIR/old_views.sql")" = 3 ] || sp_die "cannot read the 1.1 views"
sp_psql -f "$DIR/old_views.sql" >/dev/null
for v in fact_latest_quote dim_symbol; do
	cols=$(q "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
	           WHERE attrelid = 'bench.old_$v'::regclass AND attnum > 0")
	diff=$(q "SELECT (SELECT count(*) FROM (SELECT $cols FROM stockpipe_bi.$v EXCEPT SELECT * FROM bench.old_$v) a)
	           + (SELECT count(*) FROM (SELECT * FROM bench.old_$v EXCEPT SELECT $cols FROM stockpipe_bi.$v) b)")
	n=$(q "SELECT count(*) FROM stockpipe_bi.$v")
	[ "$diff" = 0 ] || sp_die "$v: the new and the old view differ in $diff rows"
	sp_log "$v: $n rows, the same as the old view's"
done

# The views before latest_bar (bench/bi/before/views.sql): same rows.
sp_psql -f "$HERE/before/views.sql" >/dev/null
[ "$(q "SELECT (SELECT count(*) FROM (TABLE stockpipe_bi.dim_symbol EXCEPT TABLE bench.prev_dim_symbol) a)
          + (SELECT count(*) FROM (TABLE bench.prev_dim_symbol EXCEPT TABLE stockpipe_bi.dim_symbol) b)")" = 0 ] ||
	sp_die "dim_symbol differs from its definition before latest_bar"
DAILY_ONLY_ROWS=$(q "SELECT count(*) FROM ($Q_DAILY_ONLY) d")
[ "$DAILY_ONLY_ROWS" = "$(q "SELECT count(*) FROM ($Q_DAILY_ONLY_PREV) d")" ] ||
	sp_die "the daily-only rows differ from those of the query before latest_bar"

# One symbol's session: the middle symbol, the last day.
SYM=$(printf 'S%06d' $(((SYMBOLS + 1) / 2)))
FROM_TS="$LAST_DAY 13:30:00+00"
TO_TS="$LAST_DAY 20:00:00+00"
Q_SESSION=$(printf '%s' "$Q_INTRADAY" |
	sed -e "s/\\\$1/'$SYM'/g" -e "s/\\\$2/'$FROM_TS'/g" -e "s/\\\$3/'$TO_TS'/g")
SESSION_POINTS=$(q "$Q_SESSION" | grep -o '"t"' | wc -l)
sp_log "session of $SYM on $LAST_DAY: $SESSION_POINTS points"

# --- 4. timings ------------------------------------------------------------------------------
declare -A MED P95
# The dashboard reads the zone names once per session (DASH_Q_SESSION_ZONES,
# ~70 ms); here every session of the database starts with them.
q "DO \$\$ BEGIN EXECUTE format('ALTER DATABASE stockpipe SET stockpipe_dash.zones = %L',
     (SELECT jsonb_object_agg(name, 1)::text FROM pg_catalog.pg_timezone_names)); END \$\$"
# timed NAME SQL: RUNS runs with pgbench after 3 untimed ones; median and
# p95 of the per-run latencies (pgbench's log, microseconds).
timed() {
	local name=$1 sql=$2 ms
	# one line: pgbench reads a statement up to a semicolon at a line's end
	printf '%s;\n' "$(printf '%s' "$sql" | tr '\n' ' ')" >"$DIR/$name.pgb"
	"$SP_PGBIN/pgbench" -n -M simple -t 3 -f "$DIR/$name.pgb" stockpipe >/dev/null 2>&1 ||
		sp_die "pgbench failed on $name"
	rm -f "$DIR"/pgb_"$name".*
	(cd "$DIR" && "$SP_PGBIN/pgbench" -n -M simple -t "$RUNS" -l --log-prefix="pgb_$name" \
		-f "$DIR/$name.pgb" stockpipe >"$DIR/$name.pgbench" 2>&1) || sp_die "pgbench failed on $name"
	ms=$(awk '{ print $3 / 1000 }' "$DIR"/pgb_"$name".* | sort -n)
	MED[$name]=$(printf '%s\n' "$ms" | awk '{ a[NR] = $1 } END { printf "%.2f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
	P95[$name]=$(printf '%s\n' "$ms" | awk '{ a[NR] = $1 } END { i = int(NR * 0.95 + 0.999999); printf "%.2f", a[i] }')
	sp_log "$name: median ${MED[$name]} ms, p95 ${P95[$name]} ms ($RUNS runs)"
	# one EXPLAIN (ANALYZE, BUFFERS) of it (not of a transaction script)
	[ "${NO_EXPLAIN:-0}" = 1 ] && return 0
	printf 'EXPLAIN (ANALYZE, BUFFERS) %s;\n' "$sql" |
		psql -X -q -v ON_ERROR_STOP=1 -d stockpipe >"$OUT/explain_$name.txt" 2>&1 ||
		sp_die "EXPLAIN of $name failed: $(tail -3 "$OUT/explain_$name.txt")"
}

timed latest_new "SELECT * FROM stockpipe_bi.fact_latest_quote"
timed latest_old "SELECT * FROM bench.old_fact_latest_quote"
timed dim_new "SELECT * FROM stockpipe_bi.dim_symbol"
timed dim_old "SELECT * FROM bench.old_dim_symbol"
# fact_intraday has not changed: the session's baseline is the same query.
timed session "$Q_SESSION"
# The dashboard runs its session with jit = off (dashboard/src/db.c): JIT
# would compile this large plan for seconds.
export PGOPTIONS="-c jit=off"
timed symbols_new "$Q_SYMBOLS"
timed symbols_prev "$Q_SYMBOLS_PREV"
timed daily_only_new "$Q_DAILY_ONLY"
timed daily_only_prev "$Q_DAILY_ONLY_PREV"
timed dim_prev "SELECT * FROM bench.prev_dim_symbol"
# /api/sparks: the first 50 and 200 symbols (not the session's), as the
# page asks for the rows on its screen.
NSPARK=$((SYMBOLS < 200 ? SYMBOLS : 200))
sparks_list() { seq 1 "$1" | awk '{ printf "%sS%06d", (NR > 1 ? "," : ""), $1 }'; }
sparks_sql() { printf '%s' "$1" | sed -e "s/\\\$1/'$2'/g"; }
L50=$(sparks_list $((NSPARK < 50 ? NSPARK : 50)))
L200=$(sparks_list "$NSPARK")
SPARK_POINTS=$(q "SELECT sum(json_array_length(e.value)) FROM json_each(($(sparks_sql "$Q_SPARKS" "$L200"))::json) e")
[ "$(q "SELECT ($(sparks_sql "$Q_SPARKS" "$L200"))::jsonb = ($(sparks_sql "$Q_SPARKS_GROUPBY" "$L200"))::jsonb")" = t ] ||
	sp_die "DASH_Q_SPARKS and the GROUP BY sparkline differ"
timed sparks_50 "$(sparks_sql "$Q_SPARKS" "$L50")"
timed sparks_200 "$(sparks_sql "$Q_SPARKS" "$L200")"
timed sparks_gb_50 "$(sparks_sql "$Q_SPARKS_GROUPBY" "$L50")"
timed sparks_gb_200 "$(sparks_sql "$Q_SPARKS_GROUPBY" "$L200")"
# At market density: one quote a second for those symbols over the last
# two hours of the last day's session (18:00-20:00 UTC), after the rest
# (the other timings read the data as filled).
t=$(date +%s.%N)
sp_psql >/dev/null <<EOF2
SET synchronous_commit = off;
INSERT INTO stockpipe.live_stock (symbol, ts, price, volume, prev_close, currency, source, exchange_tz, session)
SELECT 'S' || lpad(s::text, 6, '0'), timestamptz '$LAST_DAY 18:00:00+00' + make_interval(secs => i),
	   100 + s + sin(i / 60.0), 1000 + i, 100 + s, 'USD', 'bench', 'America/New_York', 'regular'
  FROM generate_series(1, 7199) i, generate_series(1, $NSPARK) s
 ORDER BY i, s
ON CONFLICT DO NOTHING;
SELECT stockpipe.rebuild_latest_quote();
VACUUM ANALYZE stockpipe.live_stock;
EOF2
DENSE_S=$(printf '%.1f' "$(echo "$(date +%s.%N) - $t" | bc)")
SPARK_POINTS_DENSE=$(q "SELECT sum(json_array_length(e.value)) FROM json_each(($(sparks_sql "$Q_SPARKS" "$L200"))::json) e")
[ "$(q "SELECT ($(sparks_sql "$Q_SPARKS" "$L200"))::jsonb = ($(sparks_sql "$Q_SPARKS_GROUPBY" "$L200"))::jsonb")" = t ] ||
	sp_die "DASH_Q_SPARKS and the GROUP BY sparkline differ (dense)"
sp_log "dense: $NSPARK symbols x 7,199 quotes in ${DENSE_S}s; their sparklines: $SPARK_POINTS_DENSE points (before: $SPARK_POINTS)"
timed sparks_dense_50 "$(sparks_sql "$Q_SPARKS" "$L50")"
timed sparks_dense_200 "$(sparks_sql "$Q_SPARKS" "$L200")"
timed sparks_gb_dense_50 "$(sparks_sql "$Q_SPARKS_GROUPBY" "$L50")"
timed sparks_gb_dense_200 "$(sparks_sql "$Q_SPARKS_GROUPBY" "$L200")"
unset PGOPTIONS
# What latest_bar's triggers cost the daily consumer: one statement of
# 8,000 bars as its upsert (ON CONFLICT DO UPDATE), a new day's bars
# (inserts) and the day's bars revised (updates), with the triggers and
# without them (session_replication_role = replica), rolled back.
BARS="INSERT INTO stockpipe.historical_stock_data AS h (symbol, trade_date, open, high, low, close, adj_close, volume)
 SELECT 'S' || lpad(s::text, 6, '0'), @DAY@, 100, 102, 98, 100 + s % 7, 100 + s % 7, 1000 FROM generate_series(1, $SYMBOLS) s
 ON CONFLICT (symbol, trade_date) DO UPDATE SET open = excluded.open, high = excluded.high, low = excluded.low,
 close = excluded.close, adj_close = excluded.adj_close, volume = excluded.volume, updated_at = now()"
NEXT_DAY=$(date -u -d "$LAST_DAY + 1 day" +%F)
export NO_EXPLAIN=1
d_new="date '$NEXT_DAY'" d_rev="date '$LAST_DAY'"
timed bars_new "BEGIN; ${BARS//@DAY@/$d_new}; ROLLBACK"
timed bars_new_notrig "BEGIN; SET LOCAL session_replication_role = replica; ${BARS//@DAY@/$d_new}; ROLLBACK"
timed bars_rev "BEGIN; ${BARS//@DAY@/$d_rev}; ROLLBACK"
timed bars_rev_notrig "BEGIN; SET LOCAL session_replication_role = replica; ${BARS//@DAY@/$d_rev}; ROLLBACK"
unset NO_EXPLAIN

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'; }
row() { # name target new old
	printf '%-34s %9s %9s %9s %9s %9s  %s\n' "$1" "${MED[$3]}" "${P95[$3]}" \
		"${4:+${MED[$4]}}" "${4:+${P95[$4]}}" "${4:+$(ratio "${MED[$3]}" "${MED[$4]}")}" "$2"
}

# --- 5. summary ---------------------------------------------------------------------
{
	echo "== stockpipe BI benchmark (bench/bi) =="
	echo "data:        $SYMBOLS symbols x $DAYS days x $PER_DAY quotes = $ROWS live_stock rows ($DAYS day partitions),"
	echo "             $((SYMBOLS * DAYS)) daily bars; filled in ${FILL_S} s; database $SIZE"
	echo "latest_quote: $LQ_ROWS rows, rebuild_latest_quote() ${REBUILD_S} s"
	echo "latest_bar:  $LB_ROWS rows (kept by its triggers while filling), rebuild_latest_bar() ${REBUILD_LB_S} s"
	echo "daily-only:  $DAILY_ONLY_ROWS symbols; sparklines of $NSPARK symbols: $SPARK_POINTS points, $SPARK_POINTS_DENSE after one quote a second over 2 h"
	echo "session:     $SYM on $LAST_DAY: $SESSION_POINTS points"
	echo "runs:        $RUNS per query (pgbench, 1 client, simple protocol, after 3 untimed runs)"
	echo "load:        $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end ($(nproc) CPUs)"
	echo
	printf '%-34s %9s %9s %9s %9s %9s  %s\n' "query (ms)" "median" "p95" "old med" "old p95" "new/old" "target"
	row "fact_latest_quote" "<= 20 ms" latest_new latest_old
	row "dim_symbol" "" dim_new dim_old
	row "dim_symbol before latest_bar" "" dim_prev
	row "one symbol's session (intraday)" "<= 10 ms" session
	echo "dashboard (jit off; 'old' = before latest_bar and /api/sparks):"
	row "symbol list (/api/symbols)" "<= 50 ms" symbols_new symbols_prev
	row "  its daily-only part" "" daily_only_new daily_only_prev
	echo "the daily consumer's upsert of $SYMBOLS bars ('old' = latest_bar's triggers off):"
	row "  a new day (inserts)" "" bars_new bars_new_notrig
	row "  the day revised (updates)" "" bars_rev bars_rev_notrig
	echo "/api/sparks ('old' = GROUP BY per symbol, as before):"
	row "  50 symbols" "" sparks_50 sparks_gb_50
	row "  200 symbols" "" sparks_200 sparks_gb_200
	row "  50 symbols, 1 quote/s" "" sparks_dense_50 sparks_gb_dense_50
	row "  200 symbols, 1 quote/s" "" sparks_dense_200 sparks_gb_dense_200
	echo
	echo "EXPLAIN (ANALYZE, BUFFERS): $OUT/explain_*.txt"
} | tee "$OUT/summary.txt"
exit 0
}
