#!/usr/bin/env bash
# bench/l30d/run.sh: the L30D refresh benchmark of stockpipe (not a test).
#
#  1. starts its own stockpipe-broker (idle: the daily consumer just waits on
#     it) and PostgreSQL 15 cluster (loopback, temporary folder) with
#     stockpipe preloaded, CREATE EXTENSION stockpipe, and disables the
#     built-in jobs so that nothing else runs during the measurements;
#  2. fills historical_stock_data with SYMBOLS x BARS daily bars (weekdays up
#     to END, a random walk per symbol), inserted day by day as the daily
#     consumer would store them;
#  3. keeps the last 2 x RUNS + 2 trading days for the timed runs and fills
#     l30d_summary with about HISTORY rows of history by calling
#     stockpipe.refresh_l30d(d) for the trading days before them, oldest
#     first, each committed, as the daily job would have;
#  4. prints EXPLAIN ANALYZE (costs left out) of the statement refresh_l30d
#     runs, through auto_explain (log_nested_statements), refreshing the
#     first kept day;
#  5. times refresh_l30d(d) for the following kept days, each a new as_of
#     as in the daily run (inserts SYMBOLS rows), server clock around the
#     call and its commit: RUNS days in one session after an untimed run in
#     it ("warm"), then RUNS days each in a new session, as the scheduler's
#     run workers do ("cold"); then RUNS reruns of the last day (upserts,
#     warm); min/median/max ms;
#  6. baseline, measured the same way over the same days (warm and cold): a
#     naive equivalent -- one INSERT ... ON CONFLICT with the same metrics
#     and the same clean-up, the windows picked by row_number() over every
#     bar <= as_of and a GROUP BY -- into a copy of l30d_summary with the
#     same history; checks that it computes the same rows as refresh_l30d;
#     ratio naive / refresh_l30d (medians);
#  7. prints a summary block and stops everything it started.
#
# Usage: bench/l30d/run.sh [--symbols N] [--bars M] [--history ROWS] [--runs R]
#            [--end YYYY-MM-DD] [--keep]
# Environment: SYMBOLS (500), BARS (2500), HISTORY (250000), RUNS (5),
#            END (2026-11-27: the last bar is on the last weekday <= END),
#            KEEP=1 (keep the work folder).
set -euo pipefail
{ # the whole script is read before it runs: editing it mid-run is safe

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../scripts/lib.sh"

SYMBOLS=${SYMBOLS:-500}
BARS=${BARS:-2500}
HISTORY=${HISTORY:-250000}
RUNS=${RUNS:-5}
END=${END:-2026-11-27}
KEEP=${KEEP:-0}


while [ $# -gt 0 ]; do
	case $1 in
	--symbols) sp_need_count "$1" "${2:-}"; SYMBOLS=$2; shift 2 ;;
	--bars) sp_need_count "$1" "${2:-}"; BARS=$2; shift 2 ;;
	--history) [[ ${2:-} =~ ^[0-9]+$ ]] || { echo "run.sh: --history needs a number of rows" >&2; exit 2; }
		HISTORY=$2; shift 2 ;;
	--runs) sp_need_count "$1" "${2:-}"; RUNS=$2; shift 2 ;;
	--end) END=${2:-}; shift 2 ;;
	--keep) KEEP=1; shift ;;
	-h | --help) sp_usage; exit 0 ;;
	*) echo "run.sh: unknown argument '$1'" >&2; sp_usage >&2; exit 2 ;;
	esac
done
for v in SYMBOLS BARS RUNS; do
	sp_is_count "${!v}" || { echo "run.sh: $v must be a positive integer, not '${!v}'" >&2; exit 2; }
done
[[ $HISTORY =~ ^[0-9]+$ ]] || { echo "run.sh: HISTORY must be a number of rows" >&2; exit 2; }
[ "$BARS" -ge $((2 * RUNS + 3)) ] || { echo "run.sh: --bars must be at least 2 x runs + 3 = $((2 * RUNS + 3))" >&2; exit 2; }
date -u -d "$END" +%F >/dev/null 2>&1 || { echo "run.sh: --end needs a date, not '$END'" >&2; exit 2; }
END=$(date -u -d "$END" +%F)

trap sp_bench_exit EXIT
trap 'exit 130' INT TERM

# --- prerequisites --------------------------------------------------------------
for cmd in psql "$SP_PGBIN/postgres" "$SP_BIN/stockpipe-broker"; do
	command -v "$cmd" >/dev/null || sp_die "$cmd not found (run: make && make install in $SP_ROOT)"
done
[ -f "$("$SP_PGBIN/pg_config" --sharedir)/extension/stockpipe.control" ] ||
	sp_die "the stockpipe extension is not installed (run: make && make install in $SP_ROOT)"
[ -f "$("$SP_PGBIN/pg_config" --pkglibdir)/auto_explain.so" ] ||
	sp_die "auto_explain is not installed (it comes with the postgresql-15 package)"

DIR=$(sp_make_workdir)
PORT=$(sp_free_port)
q() { sp_psql -d stockpipe -c "$1"; }
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# Benchmark settings of the cluster (printed in the summary); everything
# else is PostgreSQL's default (synchronous_commit on, fsync on, JIT on).
PG_SETTINGS=(
	"shared_buffers = 1GB"
	"max_wal_size = 4GB"
	"checkpoint_timeout = 15min"
)

# --- 1. broker, cluster, extension ----------------------------------------------------
# No live consumer (stockpipe.consumer_workers = 0).  The daily consumer
# always runs: it gets its own idle broker (pointed at a port nobody listens
# on, it could meet another test's broker there later), and long fetches
# (fetch.wait.max.ms=1000), so that it polls once a second rather than 100
# times (< 1 % of a CPU for it and the broker together).
sp_broker_start "$DIR" 1 --topic stock_live --topic stock_daily || sp_die "broker did not start"
sp_pg_init "$DIR" "$PORT" "${PG_SETTINGS[@]}" \
	"stockpipe.database = 'stockpipe'" \
	"stockpipe.consumer_workers = 0" \
	"stockpipe.kafka_brokers = '$SP_BROKER'" \
	"stockpipe.kafka_options = 'fetch.wait.max.ms=1000'" || sp_die "initdb failed"
sp_pg_start || { cat "$DIR/postgres.log" >&2; sp_die "PostgreSQL did not start"; }
createdb stockpipe
export PGDATABASE=stockpipe
q "CREATE EXTENSION stockpipe; CREATE SCHEMA bench"
[ "$(q "SELECT to_regprocedure('stockpipe.refresh_l30d(date)') IS NOT NULL")" = t ] ||
	sp_die "stockpipe.refresh_l30d(date) does not exist: $(q "SELECT string_agg(oid::regprocedure::text, ', ') FROM pg_proc WHERE proname = 'refresh_l30d'")"
# The built-in jobs (alert_check every 5 s, l30d_refresh at 17:00 New York,
# upkeep) would run in the middle of the measurements: off.
q "SELECT count(stockpipe.alter_job(name, enabled => false)) FROM stockpipe.job WHERE builtin" >/dev/null
sp_log "workdir $DIR; cluster on port $PORT, broker $SP_BROKER"

# --- 2. bars ----------------------------------------------------------------------------------
# The BARS weekdays up to END; per symbol a random walk of daily log returns
# (sd 1 %) from a start price between 10 and 500.  Inserted ordered by
# (trade_date, symbol): each day's bars of all symbols together, as they
# arrive, so a symbol's 30 newest bars are spread over many heap pages.
sp_log "bars: $SYMBOLS symbols x $BARS weekdays up to $END = $((SYMBOLS * BARS)) rows"
t=$(date +%s.%N)
sp_psql >/dev/null <<EOF
SET work_mem = '512MB';
SELECT setseed(0.42);
CREATE TEMP TABLE days AS
SELECT d::date AS trade_date
  FROM generate_series('$END'::date - ($BARS * 7 / 5 + 14), '$END'::date, interval '1 day') d
 WHERE extract(isodow FROM d) < 6
 ORDER BY d DESC LIMIT $BARS;
CREATE TEMP TABLE syms AS
SELECT i, format('S%s', lpad(i::text, greatest(4, length('$SYMBOLS')), '0')) AS symbol,
       10 + random() * 490 AS p0
  FROM generate_series(1, $SYMBOLS) i;
INSERT INTO stockpipe.historical_stock_data
	(symbol, trade_date, open, high, low, close, adj_close, volume)
SELECT symbol, trade_date,
       round((close * (1 + (random() - 0.5) * 0.01))::numeric, 4),
       round((close * (1 + random() * 0.015))::numeric, 4),
       round((close * (1 - random() * 0.015))::numeric, 4),
       round(close::numeric, 4), round(close::numeric, 4),
       (100000 + random() * 5000000)::bigint
  FROM (SELECT s.symbol, d.trade_date,
               s.p0 * exp(sum((random() + random() + random() - 1.5) * 0.02)
                          OVER (PARTITION BY s.i ORDER BY d.trade_date)) AS close
          FROM syms s CROSS JOIN days d) b
 ORDER BY trade_date, symbol;
EOF
BARS_S=$(printf '%.1f' "$(echo "$(date +%s.%N) - $t" | bc)")
read -r NBARS NSYM FIRST_DAY LAST_DAY <<<"$(q "SELECT count(*), count(DISTINCT symbol), min(trade_date), max(trade_date) FROM stockpipe.historical_stock_data" | tr '|' ' ')"
[ "$NBARS" = $((SYMBOLS * BARS)) ] || sp_die "historical_stock_data has $NBARS rows, not $((SYMBOLS * BARS))"
q "VACUUM (ANALYZE) stockpipe.historical_stock_data"

# The days of the timed runs: the last 2 x RUNS + 2 trading days.
#   PLAN_DAY: the EXPLAIN run; WARM_DAYS: an untimed run + RUNS timed runs in
#   one session; COLD_DAYS: RUNS runs, each in a new session; the reruns are
#   of the last one.
mapfile -t KEPT < <(q "SELECT trade_date FROM (SELECT DISTINCT trade_date FROM stockpipe.historical_stock_data
                        ORDER BY 1 DESC LIMIT $((2 * RUNS + 2))) d ORDER BY 1")
PLAN_DAY=${KEPT[0]}
WARM_DAYS=("${KEPT[@]:1:RUNS+1}")
COLD_DAYS=("${KEPT[@]:RUNS+2:RUNS}")
LAST=${KEPT[2 * RUNS + 1]}

# --- 3. summary history -------------------------------------------------------------------------
# One refresh per trading day before PLAN_DAY, oldest first, each committed:
# the rows, their order and the indexes are those a year or two of daily
# refreshes leave.
HDAYS=$(( (HISTORY + SYMBOLS - 1) / SYMBOLS ))
MAXH=$((BARS - ${#KEPT[@]}))
[ "$HDAYS" -le "$MAXH" ] || { sp_log "only $MAXH trading days before $PLAN_DAY: history of $MAXH days, not $HDAYS"; HDAYS=$MAXH; }
sp_log "summary history: refresh_l30d for the $HDAYS trading days before $PLAN_DAY"
t=$(date +%s.%N)
if [ "$HDAYS" -gt 0 ]; then
	sp_psql <<EOF
DO \$\$
DECLARE
	d date;
BEGIN
	FOR d IN SELECT t FROM (SELECT DISTINCT trade_date AS t FROM stockpipe.historical_stock_data
	                         WHERE trade_date < '$PLAN_DAY' ORDER BY t DESC LIMIT $HDAYS) x ORDER BY t
	LOOP
		PERFORM stockpipe.refresh_l30d(d);
		COMMIT;
	END LOOP;
END
\$\$;
EOF
fi
HIST_S=$(printf '%.1f' "$(echo "$(date +%s.%N) - $t" | bc)")
read -r NHIST HFIRST HLAST <<<"$(q "SELECT count(*), min(as_of), max(as_of) FROM stockpipe.l30d_summary" | tr '|' ' ')"
q "VACUUM (ANALYZE) stockpipe.l30d_summary"
q "CHECKPOINT"

SIZES=$(q "SELECT 'historical_stock_data ' || pg_size_pretty(pg_table_size('stockpipe.historical_stock_data'))
                  || ' + index ' || pg_size_pretty(pg_indexes_size('stockpipe.historical_stock_data'))
                  || '; l30d_summary ' || pg_size_pretty(pg_table_size('stockpipe.l30d_summary'))
                  || ' + indexes ' || pg_size_pretty(pg_indexes_size('stockpipe.l30d_summary'))")

# --- the statements timed (@AS_OF@: the day) --------------------------------------------------------
REFRESH_SQL="SELECT stockpipe.refresh_l30d('@AS_OF@') AS v"

# The naive equivalent: the same metrics and the same upsert + clean-up,
# but the windows are found by numbering every bar <= as_of of every symbol
# (row_number() over the whole table) and keeping the 30 newest; one GROUP BY.
NAIVE_SQL=$(cat <<'EOF'
WITH fresh AS (
	INSERT INTO bench.l30d_naive AS l (
		symbol, as_of, days_used, window_start, window_end,
		last_close, first_close, change, change_pct,
		avg_close, min_close, max_close, highest_high, lowest_low,
		avg_volume, volatility, sma_5, sma_10, sma_20, return_30d, computed_at)
	SELECT m.symbol, '@AS_OF@'::date, m.days_used, m.window_start, m.window_end,
	       m.last_close, m.first_close, m.last_close - m.first_close, 100 * m.return_30d,
	       m.avg_close, m.min_close, m.max_close, m.highest_high, m.lowest_low,
	       m.avg_volume, m.volatility * sqrt(252::double precision),
	       m.sma_5, m.sma_10, m.sma_20, m.return_30d, now()
	  FROM (SELECT w.symbol,
	               count(*)::integer AS days_used,
	               min(w.trade_date) AS window_start,
	               max(w.trade_date) AS window_end,
	               max(w.close) FILTER (WHERE w.newest = 1) AS last_close,
	               max(w.close) FILTER (WHERE w.oldest = 1) AS first_close,
	               CASE WHEN max(w.close) FILTER (WHERE w.oldest = 1) > 0
	                    THEN max(w.close) FILTER (WHERE w.newest = 1)
	                         / max(w.close) FILTER (WHERE w.oldest = 1) - 1 END AS return_30d,
	               avg(w.close) AS avg_close, min(w.close) AS min_close, max(w.close) AS max_close,
	               max(w.high) AS highest_high, min(w.low) AS lowest_low,
	               avg(w.volume)::double precision AS avg_volume,
	               stddev_samp(ln(CASE WHEN w.close > 0 AND w.prev_close > 0
	                                   THEN w.close / w.prev_close END)) AS volatility,
	               CASE WHEN count(*) >= 5 THEN avg(w.close) FILTER (WHERE w.newest <= 5) END AS sma_5,
	               CASE WHEN count(*) >= 10 THEN avg(w.close) FILTER (WHERE w.newest <= 10) END AS sma_10,
	               CASE WHEN count(*) >= 20 THEN avg(w.close) FILTER (WHERE w.newest <= 20) END AS sma_20
	          FROM (SELECT n.*,
	                       row_number() OVER (PARTITION BY n.symbol ORDER BY n.trade_date) AS oldest,
	                       lag(n.close) OVER (PARTITION BY n.symbol ORDER BY n.trade_date) AS prev_close
	                  FROM (SELECT h.symbol, h.trade_date, h.high, h.low, h.close, h.volume,
	                               row_number() OVER (PARTITION BY h.symbol ORDER BY h.trade_date DESC) AS newest
	                          FROM stockpipe.historical_stock_data h
	                         WHERE h.trade_date <= '@AS_OF@') n
	                 WHERE n.newest <= 30) w
	         GROUP BY w.symbol) m
	ON CONFLICT (symbol, as_of) DO UPDATE SET
		days_used = EXCLUDED.days_used, window_start = EXCLUDED.window_start,
		window_end = EXCLUDED.window_end, last_close = EXCLUDED.last_close,
		first_close = EXCLUDED.first_close, change = EXCLUDED.change,
		change_pct = EXCLUDED.change_pct, avg_close = EXCLUDED.avg_close,
		min_close = EXCLUDED.min_close, max_close = EXCLUDED.max_close,
		highest_high = EXCLUDED.highest_high, lowest_low = EXCLUDED.lowest_low,
		avg_volume = EXCLUDED.avg_volume, volatility = EXCLUDED.volatility,
		sma_5 = EXCLUDED.sma_5, sma_10 = EXCLUDED.sma_10, sma_20 = EXCLUDED.sma_20,
		return_30d = EXCLUDED.return_30d, computed_at = EXCLUDED.computed_at
	RETURNING l.symbol
),
gone AS (
	DELETE FROM bench.l30d_naive l
	 WHERE l.as_of = '@AS_OF@'
	   AND NOT EXISTS (SELECT FROM fresh f WHERE f.symbol = l.symbol)
)
SELECT count(*) AS v FROM fresh
EOF
)

# The time of a run is taken by the server (clock_timestamp) around the
# statement and its commit.  run_sql TEMPLATE DAY: the psql lines of one
# timed run, which print "ms value" (value: what the statement returned).
at() { printf '%s' "${1//@AS_OF@/$2}"; }
run_sql() {
	printf '%s\n' "SELECT clock_timestamp() AS t0 \\gset" "$(at "$1" "$2") \\gset" \
		"SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 1), :'v';"
}
# warm DAY0 DAY...: one session; an untimed run of TEMPLATE for DAY0, then
# one timed run per DAY (catalog caches loaded, the function compiled).
warm() {
	local d=$1
	shift
	{
		printf '%s\n' "$(at "$TEMPLATE" "$d") \\gset"
		for d in "$@"; do run_sql "$TEMPLATE" "$d"; done
	} | sp_psql -F ' '
}
# cold DAY...: one timed run of TEMPLATE per DAY, each in a new session, as
# the scheduler runs a job (a new background worker each time).
cold() {
	local d
	for d in "$@"; do run_sql "$TEMPLATE" "$d" | sp_psql -F ' '; done
}
# stats MS...: "min median max" (median of an even count: mean of the two middle ones)
stats() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.1f %.1f %.1f\n", v[1], m, v[NR] }'
}
# series NAME TEMPLATE warm|cold DAYS...: the runs; checks that each returned
# NSYM; sets NAME_MS (the times) and NAME_STATS ("min median max").
series() {
	local name=$1 out ms v all=()
	TEMPLATE=$2
	sp_log "timing: $name"
	out=$("${@:3}")
	while read -r ms v; do
		[ "$v" = "$NSYM" ] || sp_die "$name: the statement returned '$v', not $NSYM"
		all+=("$ms")
	done <<<"$out"
	[ "${#all[@]}" = "$RUNS" ] || sp_die "$name: ${#all[@]} runs, not $RUNS"
	sp_log "  ${all[*]} ms"
	printf -v "${name}_MS" '%s' "${all[*]}"
	printf -v "${name}_STATS" '%s' "$(stats "${all[@]}")"
}

# --- 4. the plan --------------------------------------------------------------------------------------
# auto_explain in this session only: the plans of the statements run inside
# refresh_l30d come back as NOTICEs; the one of the INSERT into l30d_summary
# is kept and its "(cost=...)" parts are left out (= EXPLAIN (ANALYZE, COSTS OFF)).
sp_log "EXPLAIN ANALYZE of refresh_l30d('$PLAN_DAY') through auto_explain"
sp_psql -o /dev/null >"$DIR/plan.raw" 2>&1 <<EOF
\set VERBOSITY terse
\set SHOW_CONTEXT never
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_analyze = on;
SET auto_explain.log_timing = on;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_level = notice;
SET client_min_messages = notice;
$(at "$REFRESH_SQL" "$PLAN_DAY");
EOF
PLAN=$(awk '
	/^NOTICE:/ { if (keep) exit; dur = $0; sub(/^NOTICE: +/, "", dur); sub(/ +plan:.*/, "", dur); qt = ""; body = 0; next }
	!body && /\(actual / { body = 1; if (qt ~ /INSERT INTO stockpipe\.l30d_summary/) { keep = 1; print "(auto_explain: " dur ")" } }
	!body { qt = qt " " $0 }
	keep && body { print }
' "$DIR/plan.raw" | sed -E 's/  \(cost=[^)]*\)//')
[ -n "$PLAN" ] || { cat "$DIR/plan.raw" >&2; sp_die "no plan of the refresh statement in auto_explain's output"; }

# The baseline's table: same columns, constraints and indexes, same rows.
q "CREATE TABLE bench.l30d_naive (LIKE stockpipe.l30d_summary INCLUDING ALL)"
q "INSERT INTO bench.l30d_naive SELECT * FROM stockpipe.l30d_summary ORDER BY as_of, symbol"
q "VACUUM (ANALYZE) bench.l30d_naive"
q "VACUUM (ANALYZE) stockpipe.l30d_summary"
q "CHECKPOINT"

# --- 5. refresh_l30d timed ------------------------------------------------------------------------------
series NEW "$REFRESH_SQL" warm "${WARM_DAYS[@]}"
series NEWCOLD "$REFRESH_SQL" cold "${COLD_DAYS[@]}"
RERUN_DAYS=()
for ((i = 0; i <= RUNS; i++)); do RERUN_DAYS+=("$LAST"); done
series RERUN "$REFRESH_SQL" warm "${RERUN_DAYS[@]}"

# --- 6. naive baseline ------------------------------------------------------------------------------------
NAIVE_PLAN=$(sp_psql -c "EXPLAIN (COSTS OFF) $(at "$NAIVE_SQL" "$PLAN_DAY")")
series NAIVE "$NAIVE_SQL" warm "${WARM_DAYS[@]}"
series NAIVECOLD "$NAIVE_SQL" cold "${COLD_DAYS[@]}"

# Same rows?  (floating-point sums may differ in the last bits: relative 1e-9)
DIFF=$(sp_psql <<EOF
CREATE FUNCTION bench.near(a float8, b float8) RETURNS boolean LANGUAGE sql IMMUTABLE
AS 'SELECT (a IS NULL AND b IS NULL) OR abs(a - b) <= 1e-9 * greatest(1, abs(a), abs(b))';
SELECT count(*) FILTER (WHERE n.symbol IS NULL OR s.symbol IS NULL
	OR (s.days_used, s.window_start, s.window_end) IS DISTINCT FROM (n.days_used, n.window_start, n.window_end)
	OR NOT (bench.near(s.last_close, n.last_close) AND bench.near(s.first_close, n.first_close)
	    AND bench.near(s.change, n.change) AND bench.near(s.change_pct, n.change_pct)
	    AND bench.near(s.avg_close, n.avg_close) AND bench.near(s.min_close, n.min_close)
	    AND bench.near(s.max_close, n.max_close) AND bench.near(s.highest_high, n.highest_high)
	    AND bench.near(s.lowest_low, n.lowest_low) AND bench.near(s.avg_volume, n.avg_volume)
	    AND bench.near(s.volatility, n.volatility) AND bench.near(s.sma_5, n.sma_5)
	    AND bench.near(s.sma_10, n.sma_10) AND bench.near(s.sma_20, n.sma_20)
	    AND bench.near(s.return_30d, n.return_30d)))
	|| ' of ' || count(*)
  FROM (SELECT * FROM stockpipe.l30d_summary WHERE as_of > '$PLAN_DAY') s
  FULL JOIN (SELECT * FROM bench.l30d_naive WHERE as_of > '$PLAN_DAY') n USING (symbol, as_of);
EOF
)

# --- 7. summary ---------------------------------------------------------------------------------------------
med() { awk '{ print $2 }' <<<"$1"; }
ratio() { echo "scale=1; $(med "$1") / $(med "$2")" | bc | sed 's/^\./0./'; }
RATIO=$(ratio "$NAIVE_STATS" "$NEW_STATS")
RATIO_COLD=$(ratio "$NAIVECOLD_STATS" "$NEWCOLD_STATS")
fmt() { read -r mn md mx <<<"$1"; printf 'min %8s  median %8s  max %8s ms' "$mn" "$md" "$mx"; }
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
PGVER=$(q "SELECT version()")
MEM=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
COMMIT=$(git -C "$SP_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$SP_ROOT" diff --quiet HEAD -- src sql 2>/dev/null || COMMIT="$COMMIT (src/ or sql/ modified)"
EXTVER=$(q "SELECT extversion FROM pg_extension WHERE extname = 'stockpipe'")
SETTINGS=$(q "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ' ' ORDER BY name) FROM pg_settings
               WHERE name IN ('shared_buffers','work_mem','synchronous_commit','jit','random_page_cost')")

cat <<EOF
=== stockpipe L30D refresh benchmark ===
machine:      $(nproc) CPUs ($CPU), $MEM memory, $(uname -r)
              load average $LOAD0 at start, $LOAD1 at end
postgresql:   $PGVER
stockpipe:    extension $EXTVER, commit $COMMIT; installed stockpipe.so built $(date -u -r "$("$SP_PGBIN/pg_config" --pkglibdir)/stockpipe.so" '+%F %T UTC')
settings:     $SETTINGS (built-in jobs disabled, no live consumer)
data:         historical_stock_data: $NBARS bars = $NSYM symbols x $BARS weekdays $FIRST_DAY .. $LAST_DAY (loaded in ${BARS_S} s)
              l30d_summary: $NHIST rows of history, as_of $HFIRST .. $HLAST ($HDAYS refreshes in ${HIST_S} s, first to last)
              $SIZES

EXPLAIN ANALYZE of the statement of refresh_l30d('$PLAN_DAY'), a new as_of (auto_explain, costs left out; timing adds overhead):
$(sed 's/^/    /' <<<"$PLAN")

times, ms (server clock around the call and its commit; $RUNS runs each):
  each run refreshes a new as_of (inserts $NSYM rows, as the daily run does): ${WARM_DAYS[1]} .. ${WARM_DAYS[RUNS]} warm
  (one session, after an untimed run for ${WARM_DAYS[0]} in it), ${COLD_DAYS[0]} .. $LAST cold (each in a new session,
  as the scheduler runs the daily job); reruns: $LAST again (upserts), warm
refresh_l30d, new as_of, warm     $(fmt "$NEW_STATS")   ($NEW_MS)
refresh_l30d, new as_of, cold     $(fmt "$NEWCOLD_STATS")   ($NEWCOLD_MS)
refresh_l30d, rerun, warm         $(fmt "$RERUN_STATS")   ($RERUN_MS)
baseline: naive, new as_of, warm  $(fmt "$NAIVE_STATS")   ($NAIVE_MS)
baseline: naive, new as_of, cold  $(fmt "$NAIVECOLD_STATS")   ($NAIVECOLD_MS)
  naive = the same metrics, upsert and clean-up in one statement, the windows found with
  row_number() over every bar <= as_of and a GROUP BY, into bench.l30d_naive (a copy of
  l30d_summary with the same history), same days; rows differing from refresh_l30d's: $DIFF
ratio:        naive / refresh_l30d (medians, new as_of) = ${RATIO}x warm, ${RATIO_COLD}x cold
naive plan (EXPLAIN, costs off):
$(sed 's/^/    /' <<<"$NAIVE_PLAN")
EOF
exit 0
}
