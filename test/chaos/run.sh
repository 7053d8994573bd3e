#!/usr/bin/env bash
# test/chaos/run.sh SEED [short|long]: a chaos test of the whole pipeline.
#
# Starts, on 127.0.0.1 in a fresh folder: stockpipe-broker, PostgreSQL with
# stockpipe (two live consumer workers, the daily one, the scheduler, the
# mailer), the SMTP sink of the end-to-end tests, stockpipe-producer in its
# simulation source at a high rate, and a kcat feeder of malformed messages,
# quotes of a past day and repeated (symbol, ts) quotes at a known rate.  A
# login role has alert rules that fire (and two that must fail: a recipient
# the SMTP server refuses, a domain not allowed) and a job that sleeps.
#
# While it runs, it injects the faults that chaos.py draws from SEED (same
# seed, same faults, same order, same pauses and durations): SIGKILL of a
# consumer worker, the scheduler, the mailer or a job worker; SIGKILL of the
# postmaster, then a restart; pg_ctl -m immediate and -m fast restarts; the
# server down for more than 60 s (missed runs, catch-up); the broker down
# and up (SIGUSR1/SIGUSR2); the SMTP server killed and restarted on the same
# port and folder; the producer killed and restarted; the live_stock
# partition of a past day that still receives quotes dropped (as upkeep
# does) during ingestion.
#
# Then it stops the producer and the feeder, waits (with deadlines) until
# the consumers have caught up and the outbox is empty, and checks from the
# data alone, in TAP lines: live_stock = the valid quotes that reached the
# broker (read back with kcat, judged by the server's own decoder, compared
# by content both ways); dead_letter = the invalid ones; kafka_offsets =
# the broker's high watermarks; one e-mail per alert event; each job due in
# the period ran once per scheduled time (alert_check: but for times left
# out after no quote was stored and no rule created); no worker in a crash
# loop.
#
# The seed is printed first and in every failure line: `test/chaos/run.sh
# SEED PROFILE` replays the same faults.  The short profile (about 50,000
# messages, 8 faults) takes a few minutes; the long one (1,000,000 messages,
# 30 faults) is bench/chaos/run.sh.  SP_KEEP=1 keeps the folder; it is kept
# anyway when a check failed.
set -u

usage() { echo "usage: test/chaos/run.sh SEED [short|long]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
SEED=$1
PROFILE=${2:-short}
[[ $SEED =~ ^[0-9]{1,9}$ ]] || usage
case $PROFILE in short|long) ;; *) usage ;; esac

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../scripts/lib.sh"
PY=/usr/bin/python3
HELPER=$HERE/chaos.py
SINK=$SP_ROOT/test/e2e/smtp_sink.py

if [ "$PROFILE" = short ]; then
	TARGET=${CHAOS_MESSAGES:-50000}   # messages in the broker, about
	RATE=${CHAOS_RATE:-}              # producer, quotes a second (default: from the plan)
	FEED_RATE=${CHAOS_FEED_RATE:-20}  # kcat feeder, messages a second
	PARTS=8
	CATCHUP_S=300
else
	TARGET=${CHAOS_MESSAGES:-1000000}
	RATE=${CHAOS_RATE:-}
	FEED_RATE=${CHAOS_FEED_RATE:-40}
	PARTS=32                           # the broker keeps 5 MB a partition
	CATCHUP_S=900
fi
NSYMBOLS=50
SYMBOLS=$(for i in $(seq 0 $((NSYMBOLS - 1))); do printf 'SIM%02d,' "$i"; done)
SYMBOLS=${SYMBOLS%,}
QUIET_S=10          # the end: no worker may restart within this window

T0=$SECONDS
echo "# chaos test: seed $SEED, profile $PROFILE (replay: test/chaos/run.sh $SEED $PROFILE)"

# TAP lines; a failure names the seed.
t_ok() { ok "$*"; }
t_fail() { not_ok "$* [seed $SEED $PROFILE]"; }
t_check() { local what=$1; shift; if "$@"; then t_ok "$what"; else t_fail "$what"; fi; }
t_eq() { if [ "$2" = "$3" ]; then t_ok "$1"; else t_fail "$1 (expected '$2', got '$3')"; fi; }
note() { echo "# $*"; }

now_ms() { date +%s%3N; }
elapsed() { echo "$((SECONDS - T0))s"; }

# --- Processes ----------------------------------------------------------------

DIR=""
PRODUCER_PID=""
FEEDER_PID=""
KCAT_PID=""
SMTP_PID=""
BROKER_TIMER=""     # brings the broker back up at the end of an outage
ORPHANS=""          # children of a killed postmaster that did not exit

chaos_exit() {
	local p
	for p in $BROKER_TIMER $PRODUCER_PID $FEEDER_PID $KCAT_PID $SMTP_PID; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	for p in $ORPHANS; do
		[ -d "/proc/$p" ] && as_root kill -9 "$p" 2>/dev/null
	done
	sp_cleanup
	if [ -n "$DIR" ]; then
		if [ "$SP_TEST_FAILED" != 0 ] || [ -n "${SP_KEEP:-}" ]; then
			echo "# logs and data kept in $DIR"
		else
			rm -rf "$DIR"
		fi
	fi
}
trap chaos_exit EXIT
trap 'exit 130' INT TERM

# Abort: the pipeline cannot be checked any more (e.g. the server does not
# come back).  Shows the end of the server log.
abort() {
	t_fail "$*"
	[ -f "$DIR/postgres.log" ] && tail -n 30 "$DIR/postgres.log" | sed 's/^/#   /'
	exit 1
}

q() { sp_psql -c "$1" 2>>"$DIR/psql.err"; }
query_is() { [ "$(q "$1")" = "$2" ]; }
pg_ready() { sp_psql -c "SELECT 1" >/dev/null 2>&1; }

STATIC_WORKERS="'stockpipe consumer', 'stockpipe scheduler', 'stockpipe mailer'"
# All 5 static workers run, started after epoch-ms $1.
workers_back() {
	query_is "SELECT count(*) FROM pg_stat_activity
	           WHERE backend_type IN ($STATIC_WORKERS) AND backend_start > to_timestamp($1 / 1000.0)" 5
}
# After a crash or a restart that began at epoch-ms $1: wait for the server
# and its workers.
wait_recovered() {
	wait_for 120 "server accepting connections" pg_ready || abort "server accepts connections again after $2"
	wait_for 120 "static workers running" workers_back "$1" || abort "all 5 static workers run again after $2"
}

# Batches of 200 ms: fewer, larger message sets.  The development broker
# serves many small ones slowly (a read-back of 1,000,000 messages in sets
# of 2 took 5 minutes) and keeps 5 MB of them a partition.
producer_start() {
	PRODUCER_RUNS=$((PRODUCER_RUNS + 1))
	stockpipe-producer --source sim --symbols "$SYMBOLS" --rate "$RATE" \
		--brokers "$SP_BROKER" --seed $((SEED * 1000 + PRODUCER_RUNS)) \
		--stats-interval 30s --flush-timeout 30s \
		-X compression.codec=lz4 -X linger.ms=200 >>"$DIR/producer.log" 2>&1 &
	PRODUCER_PID=$!
	PRODUCER_UP_AT=""
}
producer_stop() {   # SIGNAL
	[ -n "$PRODUCER_PID" ] || return 0
	kill -"$1" "$PRODUCER_PID" 2>/dev/null
	wait "$PRODUCER_PID" 2>/dev/null
	PRODUCER_PID=""
}

feeder_start() {
	rm -f "$DIR/feed.fifo"
	mkfifo "$DIR/feed.fifo"
	kcat -P -b "$SP_BROKER" -t stock_live -K $'\t' -z lz4 -X linger.ms=20 \
		-X enable.idempotence=true <"$DIR/feed.fifo" 2>>"$DIR/kcat.log" &
	KCAT_PID=$!
	FEEDER_RUNS=$((FEEDER_RUNS + 1))
	"$PY" "$HELPER" feed "$SEED.$FEEDER_RUNS" "$FEED_RATE" "$OLD_DAY" "$DIR/feed.counts.$FEEDER_RUNS" "$FEEDER_RUNS" \
		>"$DIR/feed.fifo" 2>>"$DIR/feeder.log" &
	FEEDER_PID=$!
}
feeder_stop() {
	FEEDER_PAUSED=0
	[ -n "$FEEDER_PID" ] && kill "$FEEDER_PID" 2>/dev/null
	[ -n "$FEEDER_PID" ] && wait "$FEEDER_PID" 2>/dev/null
	FEEDER_PID=""
	# kcat sees the end of its input, delivers what it holds and exits
	if [ -n "$KCAT_PID" ]; then
		wait_for 90 "kcat feeder delivered its messages" bash -c "! [ -d /proc/$KCAT_PID ]" ||
			{ kill "$KCAT_PID" 2>/dev/null; t_fail "the kcat feeder delivered everything within 90 s"; }
		wait "$KCAT_PID" 2>/dev/null
		KCAT_RC=$?
		KCAT_PID=""
	fi
}

smtp_start() {
	rm -f "$DIR/smtp.ready"
	"$PY" "$SINK" --port "$SMTP_PORT" --dir "$MAIL_DIR" --ready-file "$DIR/smtp.ready" \
		--reject nobody@example.com >>"$DIR/smtp.log" 2>&1 &
	SMTP_PID=$!
	SMTP_UP_AT=""
	wait_for 15 "SMTP sink on port $SMTP_PORT" test -s "$DIR/smtp.ready" || abort "the SMTP sink starts on port $SMTP_PORT"
}

# The processes around the server must be running unless a fault stopped
# them; one that exited by itself is noted, counted and started again.
SELF_EXITS=""
watch_processes() {
	if [ -n "$PRODUCER_PID" ] && ! [ -d "/proc/$PRODUCER_PID" ]; then
		wait "$PRODUCER_PID" 2>/dev/null
		local rc=$?
		SELF_EXITS="$SELF_EXITS producer($rc)"
		note "the producer exited by itself with status $rc at $(elapsed): $(tail -n 3 "$DIR/producer.log" | tr '\n' ' ')"
		producer_start
	fi
	if [ -n "$FEEDER_PID" ] && { ! [ -d "/proc/$FEEDER_PID" ] || ! [ -d "/proc/$KCAT_PID" ]; }; then
		feeder_stop
		if [ -n "$BROKER_UP_AT" ] || [ "$(now_ms)" -lt $((BROKER_LAST_UP_MS + 10000)) ]; then
			# kcat gives up when all brokers are down: the feed resumes once it is up
			FEEDER_PAUSED=1
		else
			SELF_EXITS="$SELF_EXITS feeder"
			note "the kcat feeder stopped by itself at $(elapsed): $(tail -n 3 "$DIR/kcat.log" "$DIR/feeder.log" | tr '\n' ' ')"
		fi
	fi
	if [ -z "$FEEDER_PID" ] && [ "$FEEDER_PAUSED" = 1 ] && [ -z "$BROKER_UP_AT" ]; then
		FEEDER_PAUSED=0
		feeder_start
	fi
	if [ -n "$SMTP_PID" ] && ! [ -d "/proc/$SMTP_PID" ]; then
		SELF_EXITS="$SELF_EXITS smtp"
		note "the SMTP sink exited by itself at $(elapsed)"
		smtp_start
	fi
	[ -d "/proc/$SP_BROKER_PID" ] || abort "the broker keeps running (it holds the only copy of the messages)"
}

# --- Fault bookkeeping --------------------------------------------------------

declare -A FAULTS_DONE=()
KILL9=0             # SIGKILLs of postmaster children: each is one "terminated by signal 9"
BROKER_UP_AT=""     # epoch ms: when an outage ends (empty: none going on)
SMTP_UP_AT=""
PRODUCER_UP_AT=""

# fault_done SEQ KIND START_MS DETAIL [END_MS]: one line of faults.tsv (times in ms).
fault_done() {
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${5:-$(now_ms)}" "$4" >>"$DIR/faults.tsv"
	FAULTS_DONE[$2]=$(( ${FAULTS_DONE[$2]:-0} + 1 ))
}

# The broker comes back on time through a timer of its own, even while the
# driver waits for the server (a fast shutdown, say): here the outage is
# recorded, or ended early when another one begins.
broker_up() {
	local end=$BROKER_UP_AT
	if [ -d "/proc/$BROKER_TIMER" ]; then
		kill "$BROKER_TIMER" 2>/dev/null
		kill -USR2 "$SP_BROKER_PID"
		end=$(now_ms)
	fi
	wait "$BROKER_TIMER" 2>/dev/null
	BROKER_LAST_UP_MS=$end
	fault_done "$BROKER_SEQ" broker_outage "$BROKER_DOWN_MS" "$BROKER_DETAIL" "$end"
	BROKER_UP_AT=""
	sp_log "broker up"
}
smtp_up() {
	smtp_start
	fault_done "$SMTP_SEQ" smtp_outage "$SMTP_DOWN_MS" "$SMTP_DETAIL"
	sp_log "SMTP sink up"
}
producer_up() {
	producer_start
	fault_done "$PRODUCER_SEQ" producer_restart "$PRODUCER_DOWN_MS" "$PRODUCER_DETAIL"
	sp_log "producer up"
}

# Ends the outages whose time has come (all of them with "all").
restore_due() {
	local n
	n=$(now_ms)
	[ -n "$BROKER_UP_AT" ] && { [ "${1:-}" = all ] || [ "$n" -ge "$BROKER_UP_AT" ]; } && broker_up
	[ -n "$SMTP_UP_AT" ] && { [ "${1:-}" = all ] || [ "$n" -ge "$SMTP_UP_AT" ]; } && smtp_up
	[ -n "$PRODUCER_UP_AT" ] && { [ "${1:-}" = all ] || [ "$n" -ge "$PRODUCER_UP_AT" ]; } && producer_up
	return 0
}

# pace_until EPOCH_MS: wait, ending outages on time and watching processes.
pace_until() {
	local n d
	while :; do
		restore_due
		watch_processes
		n=$(now_ms)
		[ "$n" -ge "$1" ] && return 0
		d=$(( $1 - n ))
		[ "$d" -gt 500 ] && d=500
		sleep "$(printf '0.%03d' "$d")"
	done
}
ms_of() { awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }'; }

# pid of a running process of pg_stat_activity matching FILTER, waiting up to
# 30 s for one (a worker may be restarting).
worker_pid() {
	local pid="" deadline=$((SECONDS + 30))
	while [ -z "$pid" ] && [ $SECONDS -lt $deadline ]; do
		pid=$(q "SELECT pid FROM pg_stat_activity WHERE $1 ORDER BY application_name, pid LIMIT 1 OFFSET ${2:-0}")
		[ -n "$pid" ] || sleep 0.2
	done
	echo "$pid"
}

# SIGKILL of one postmaster child: the server resets (crash recovery).
kill_child() {   # SEQ KIND FILTER [OFFSET]
	local seq=$1 kind=$2 start pid
	start=$(now_ms)
	pid=$(worker_pid "$3" "${4:-0}")
	if [ -z "$pid" ]; then
		t_fail "fault $seq $kind: found a process to kill ($3)"
		return
	fi
	local what
	what=$(q "SELECT backend_type || ' / ' || application_name FROM pg_stat_activity WHERE pid = $pid")
	if ! as_root kill -9 "$pid"; then
		t_fail "fault $seq $kind: SIGKILL of pid $pid ($what)"
		return
	fi
	KILL9=$((KILL9 + 1))
	wait_for 30 "pid $pid gone" bash -c "! [ -d /proc/$pid ]"
	wait_recovered "$start" "$kind"
	fault_done "$seq" "$kind" "$start" "SIGKILL pid $pid ($what)"
}

# The postmaster's children still running, as "pid:backend type".
pg_children() {
	local pm p
	pm=$(head -n 1 "$SP_PGDIR/pgdata/postmaster.pid" 2>/dev/null) || return 0
	for p in $(pgrep -P "$pm"); do
		printf ' %s:%s' "$p" "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | sed 's/^postgres: //; s/ *$//')"
	done
}

# broker_state: "down" or "up", for messages.
broker_state() { if [ -n "$BROKER_UP_AT" ] && [ "$(now_ms)" -lt "$BROKER_UP_AT" ]; then echo down; else echo up; fi; }

pg_down_up() {   # SEQ KIND MODE DOWN_SECONDS
	local seq=$1 kind=$2 mode=$3 down=$4 start stopper n=0 slow="" broker
	start=$(now_ms)
	broker=$(broker_state)
	as_pg "$SP_PGBIN/pg_ctl" -D "$SP_PGDIR/pgdata" -m "$mode" -w -t 60 stop >/dev/null 2>&1 &
	stopper=$!
	# The workers handle SIGTERM: 5 s after it, none of them is left.
	while [ -d "/proc/$stopper" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
	[ -d "/proc/$stopper" ] && slow=$(pg_children | tr ' ' '\n' | grep stockpipe | tr '\n' ' ')
	if [ -n "$slow" ]; then
		t_fail "fault $seq $kind: every stockpipe worker exits within 5 s of pg_ctl stop -m $mode (still running: ${slow% }; the broker was $broker)"
	fi
	if ! wait "$stopper"; then
		# stop in immediate mode and go on, so that the data is checked
		t_fail "fault $seq $kind: pg_ctl stop -m $mode completes within 60 s (still running:$(pg_children); the broker was $broker)"
		sp_pg_stop immediate || abort "pg_ctl stop -m immediate after a failed -m $mode"
	fi
	sleep "$down"
	sp_pg_start || abort "pg_ctl start after $kind"
	wait_recovered "$start" "$kind"
	fault_done "$seq" "$kind" "$start" "pg_ctl -m $mode, down ${down}s"
}

kill_postmaster() {   # SEQ DOWN_SECONDS
	local seq=$1 down=$2 start pm kids p alive=""
	start=$(now_ms)
	pm=$(head -n 1 "$SP_PGDIR/pgdata/postmaster.pid")
	kids=$(pgrep -P "$pm" | tr '\n' ' ')
	as_root kill -9 "$pm"
	gone() { local p; for p in $kids; do [ -d "/proc/$p" ] && return 1; done; return 0; }
	if ! wait_for 10 "children of the killed postmaster exit" gone; then
		for p in $kids; do [ -d "/proc/$p" ] && alive="$alive $p($(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null))"; done
		t_fail "fault $seq kill_postmaster: every child exits within 10 s of the postmaster's death (left:$alive; the broker was $(broker_state))"
		for p in $kids; do [ -d "/proc/$p" ] && { ORPHANS="$ORPHANS $p"; as_root kill -9 "$p"; }; done
	fi
	sleep "$down"
	sp_pg_start || abort "pg_ctl start after the postmaster was killed"
	wait_recovered "$start" kill_postmaster
	fault_done "$seq" kill_postmaster "$start" "SIGKILL postmaster $pm and ${down}s down"
}

partition_drop() {   # SEQ
	local seq=$1 start out rows
	start=$(now_ms)
	local part="live_stock_p${OLD_DAY//-/}"
	# As upkeep does, but the offsets stored when the rows went are read in
	# the same transaction: quotes of that day at lower offsets are gone
	# with the partition, later ones must be in a new one.
	out=$(sp_psql -F ' ' <<-SQL 2>>"$DIR/psql.err"
		BEGIN;
		SET LOCAL lock_timeout = '30s';
		LOCK TABLE stockpipe.live_stock IN ACCESS EXCLUSIVE MODE;
		SELECT 'rows', count(*) FROM stockpipe.live_stock
		 WHERE ts >= '$OLD_DAY'::date::timestamp AT TIME ZONE 'UTC'
		   AND ts < ('$OLD_DAY'::date + 1)::timestamp AT TIME ZONE 'UTC';
		SELECT 'exists', to_regclass('stockpipe.$part') IS NOT NULL;
		DROP TABLE IF EXISTS stockpipe.$part;
		SELECT 'offset', partition, next_offset FROM stockpipe.kafka_offsets WHERE topic = 'stock_live';
		COMMIT;
	SQL
	)
	if [ $? -ne 0 ] || ! grep -q '^exists ' <<<"$out"; then
		t_fail "fault $seq partition_drop: DROP TABLE stockpipe.$part committed"
		return
	fi
	rows=$(awk '$1 == "rows" { print $2 }' <<<"$out")
	if grep -q '^exists t' <<<"$out"; then
		awk -v s="$seq" -v d="$OLD_DAY" '$1 == "offset" { print s "\t" d "\t" $2 "\t" $3 }' <<<"$out" >>"$DIR/drops.tsv"
	fi
	fault_done "$seq" partition_drop "$start" "DROP TABLE stockpipe.$part ($rows rows, existed: $(awk '$1 == "exists" { print $2 }' <<<"$out"))"
}

# run_fault SEQ KIND ARG1 ARG2
run_fault() {
	local seq=$1 kind=$2 a1=$3 a2=$4 start
	start=$(now_ms)
	sp_log "fault $seq/$NFAULTS: $kind $a1 $a2"
	case $kind in
		kill_consumer)
			kill_child "$seq" "$kind" "backend_type = 'stockpipe consumer' AND application_name LIKE 'stockpipe live consumer%'" "$a1" ;;
		kill_scheduler) kill_child "$seq" "$kind" "backend_type = 'stockpipe scheduler'" ;;
		kill_mailer) kill_child "$seq" "$kind" "backend_type = 'stockpipe mailer'" ;;
		kill_job)   # a run of the sleeper (7 s) that started less than 4 s ago
			kill_child "$seq" "$kind" "backend_type = 'stockpipe job' AND application_name LIKE 'stockpipe job sleeper run %'
			                           AND backend_start > now() - interval '4 seconds'" ;;
		kill_postmaster) kill_postmaster "$seq" "$a1" ;;
		restart_immediate) pg_down_up "$seq" "$kind" immediate "$a1" ;;
		restart_fast) pg_down_up "$seq" "$kind" fast "$a1" ;;
		long_outage) pg_down_up "$seq" "$kind" "$a2" "$a1" ;;
		broker_outage)
			[ -n "$BROKER_UP_AT" ] && broker_up
			kill -USR1 "$SP_BROKER_PID"
			( trap 'kill $timer 2>/dev/null; exit 0' TERM
			  sleep "$a1" & timer=$!
			  wait "$timer" && kill -USR2 "$SP_BROKER_PID" ) &
			BROKER_TIMER=$!
			BROKER_SEQ=$seq BROKER_DOWN_MS=$start BROKER_DETAIL="broker down ${a1}s"
			BROKER_UP_AT=$((start + $(ms_of "$a1"))) ;;
		smtp_outage)
			[ -n "$SMTP_UP_AT" ] && smtp_up
			kill -"$a2" "$SMTP_PID" 2>/dev/null
			wait "$SMTP_PID" 2>/dev/null
			SMTP_PID=""
			SMTP_SEQ=$seq SMTP_DOWN_MS=$start SMTP_DETAIL="SMTP sink SIG$a2, down ${a1}s"
			SMTP_UP_AT=$((start + $(ms_of "$a1"))) ;;
		producer_restart)
			[ -n "$PRODUCER_UP_AT" ] && producer_up
			producer_stop "$a2"
			PRODUCER_SEQ=$seq PRODUCER_DOWN_MS=$start PRODUCER_DETAIL="producer SIG$a2, down ${a1}s"
			PRODUCER_UP_AT=$((start + $(ms_of "$a1"))) ;;
		partition_drop) partition_drop "$seq" ;;
		*) abort "unknown fault kind $kind" ;;
	esac
}

# --- Start --------------------------------------------------------------------

DIR=$(sp_make_workdir)
MAIL_DIR=$DIR/mail
mkdir -p "$MAIL_DIR"
: >"$DIR/faults.tsv"
: >"$DIR/drops.tsv"
PRODUCER_RUNS=0
FEEDER_RUNS=0
FEEDER_PAUSED=0
BROKER_LAST_UP_MS=0
KCAT_RC=0
# A past UTC day inside the consumers' window, whose partition gets dropped.
OLD_DAY=$(date -u -d '2 days ago' +%F)

"$PY" "$HELPER" plan "$SEED" "$PROFILE" >"$DIR/plan" || abort "chaos.py plan"
NFAULTS=$(wc -l <"$DIR/plan")
# The producer's rate: about TARGET messages over the run's estimated length
# (the pauses, plus what each fault takes: an outage of the server its
# duration, a crash the recovery; outages around the server overlap).
if [ -z "$RATE" ]; then
	est=$(awk '{ t += $1; c = 1 }
	           $2 ~ /^kill_(consumer|scheduler|mailer|job)$/ { c = 6 }
	           $2 == "kill_postmaster" || $2 ~ /^restart_/ || $2 == "long_outage" { c = $3 + 8 }
	           { t += c } END { printf "%d", t + 25 }' "$DIR/plan")
	RATE=$((TARGET * 95 / 100 / est))
	[ "$RATE" -ge 100 ] || RATE=100
fi
note "faults: $(awk '{ printf "%s%s", sep, $2; sep = " " }' "$DIR/plan")"

sp_broker_start "$DIR" "$PARTS" || abort "stockpipe-broker starts"
SMTP_PORT=$(sp_free_port)
sp_pg_init "$DIR" "$(sp_free_port)" \
	"stockpipe.database = 'stockpipe'" \
	"stockpipe.kafka_brokers = '$SP_BROKER'" \
	"stockpipe.consumer_workers = 2" \
	"stockpipe.smtp_url = 'smtp://127.0.0.1:$SMTP_PORT'" \
	"stockpipe.mail_from = 'alerts@stockpipe.test'" \
	"stockpipe.mail_rate_limit = 100000" \
	"track_commit_timestamp = on" || abort "initdb"
sp_pg_start || abort "PostgreSQL starts"
createdb stockpipe || abort "createdb"
export PGDATABASE=stockpipe
q "CREATE EXTENSION stockpipe" >/dev/null || abort "CREATE EXTENSION stockpipe"
smtp_start

# A user with alert rules and a job, who logs in as users do.
q "CREATE ROLE trader LOGIN; GRANT stockpipe_user TO trader" >/dev/null
sp_pg_allow_login trader || abort "login as trader"
as_trader() { sp_psql -U trader -c "$1" 2>>"$DIR/psql.err"; }
# A job that sleeps: there is a job worker to kill, and with catch_up a
# run missed while the server was down runs once.
as_trader "SELECT stockpipe.schedule('sleeper', '10 seconds', 'SELECT pg_sleep(7)', catch_up => true)" >/dev/null ||
	abort "trader schedules a job"

producer_start
feeder_start
rows_of() { query_is "SELECT count(DISTINCT symbol) >= $1 FROM stockpipe.live_stock WHERE symbol LIKE 'SIM%'" t; }
wait_for 60 "quotes of every simulated symbol stored" rows_of "$NSYMBOLS" || abort "the first quotes are stored"

# Rules that fire: above and below the current price of 8 symbols, no
# cooldown, so every crossing the checks see is an e-mail.  Two more must
# fail: the SMTP server refuses nobody@example.com for good, and other.test
# is not in mail_allowed_domains (set after the rule).
while IFS='|' read -r sym price; do
	as_trader "SELECT stockpipe.set_alert('$sym', 'price_above', $price, 'trader@example.com', cooldown => '0')
	           UNION ALL SELECT stockpipe.set_alert('$sym', 'price_below', $price, 'desk@example.com', cooldown => '0')" >/dev/null ||
		abort "trader sets alert rules"
done < <(q "SELECT DISTINCT ON (symbol) symbol, price FROM stockpipe.live_stock
             WHERE symbol IN ('SIM00', 'SIM01', 'SIM02', 'SIM03', 'SIM04', 'SIM05', 'SIM06', 'SIM07')
             ORDER BY symbol, ts DESC")
as_trader "SELECT stockpipe.set_alert(symbol, 'price_above', price, 'nobody@example.com', cooldown => '0'),
                  stockpipe.set_alert(symbol, 'price_below', price, 'ops@other.test', cooldown => '0')
             FROM (SELECT price, symbol FROM stockpipe.live_stock WHERE symbol = 'SIM08' ORDER BY ts DESC LIMIT 1) s" >/dev/null ||
	abort "trader sets the rules that must fail"
q "ALTER SYSTEM SET stockpipe.mail_allowed_domains = 'example.com'" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
note "$(q "SELECT count(*) FROM stockpipe.alert_rule") alert rules, producer at $RATE quotes/s, feeder at $FEED_RATE messages/s, $PARTS partitions"

# --- Faults -------------------------------------------------------------------

FAULTS_START_MS=$(now_ms)
seq=0
while read -r gap kind a1 a2; do
	seq=$((seq + 1))
	pace_until $(( $(now_ms) + $(ms_of "$gap") ))
	run_fault "$seq" "$kind" "$a1" "$a2"
	note "[$(elapsed)] fault $seq/$NFAULTS: $kind ($a1 $a2)"
done <"$DIR/plan"

# Let the outages end, on time; then produce until about TARGET messages
# are in the broker.
pace_until $(( $(now_ms) + 5000 ))
while [ -n "$BROKER_UP_AT$SMTP_UP_AT$PRODUCER_UP_AT" ]; do pace_until $(( $(now_ms) + 500 )); done
hw_total() {
	local t
	t=$(kcat -Q -b "$SP_BROKER" $(for p in $(seq 0 $((PARTS - 1))); do printf -- '-t stock_live:%d:-1 ' "$p"; done) 2>/dev/null |
		awk '/offset/ { s += $NF; n++ } END { if (n) print s }')
	echo "${t:-0}"
}
enough() { [ "$(hw_total)" -ge "$TARGET" ]; }
topup_deadline=$((SECONDS + TARGET / RATE + 120))
until enough || [ $SECONDS -ge $topup_deadline ]; do pace_until $(( $(now_ms) + 1000 )); done
producer_stop TERM
feeder_stop
FAULTS_END_MS=$(now_ms)
sp_log "producer and feeder stopped at $(hw_total) messages"

# --- Catching up --------------------------------------------------------------

kcat -Q -b "$SP_BROKER" $(for p in $(seq 0 $((PARTS - 1))); do printf -- '-t stock_live:%d:-1 ' "$p"; done) 2>>"$DIR/kcat.log" |
	sed -nE 's/^stock_live \[([0-9]+)\] offset ([0-9]+)$/\1\t\2/p' | sort -n >"$DIR/hw.tsv"
HW=$(awk '{ s += $2 } END { print s + 0 }' "$DIR/hw.tsv")
[ "$(wc -l <"$DIR/hw.tsv")" -eq "$PARTS" ] || abort "kcat -Q gives the high watermark of all $PARTS partitions"
note "[$(elapsed)] $HW messages in the broker; waiting for the consumers"

caught_up() {
	query_is "SELECT coalesce(sum(next_offset), 0) FROM stockpipe.kafka_offsets WHERE topic = 'stock_live'" "$HW" &&
		query_is "SELECT count(*) FILTER (WHERE lag = 0) FROM stockpipe.consumer_status
		           WHERE topic = 'stock_live' AND high_watermark IS NOT NULL" "$PARTS"
}
catchup_start=$SECONDS
t_check "the consumers caught up: next offsets add up to the broker's $HW messages, lag 0 on all $PARTS partitions" \
	wait_for "$CATCHUP_S" "consumers caught up" caught_up
note "caught up $((SECONDS - catchup_start)) s after the producer stopped"

# The last quotes are seen by an alert check that starts after their batch
# committed (alert_check runs only when quotes were stored since its last
# run, so not necessarily after now), and the outbox empties.
alert_checked() {
	query_is "SELECT count(*) > 0 FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid)
	           WHERE j.name = 'alert_check' AND r.status = 'succeeded'
	             AND r.started_at > (SELECT max(pg_xact_commit_timestamp(xmin)) FROM stockpipe.live_stock)" t
}
outbox_empty() { query_is "SELECT count(*) FROM stockpipe.alert_event WHERE status = 'pending'" 0; }
wait_for 60 "an alert check after the catch-up" alert_checked
t_check "the outbox is empty: every alert e-mail sent or given up" wait_for 300 "outbox empty" outbox_empty

# No restarts in a quiet window: the same worker processes throughout.
static_pids() { q "SELECT string_agg(backend_type || ':' || pid, ' ' ORDER BY backend_type, pid) FROM pg_stat_activity WHERE backend_type IN ($STATIC_WORKERS)"; }
log_lines_before=$(wc -l <"$DIR/postgres.log")
pids_before=$(static_pids)
sleep "$QUIET_S"   # the observation window of the crash-loop check
pids_after=$(static_pids)

# --- Checks -------------------------------------------------------------------

# The messages, read back from the broker.
kcat -C -b "$SP_BROKER" -t stock_live -o beginning -e -q -X fetch.wait.max.ms=10 \
	-f '%p %o %K %S\n%k%s\n' 2>>"$DIR/kcat.log" |
	"$PY" "$HELPER" readback >"$DIR/messages.copy" 2>>"$DIR/readback.log"
"$PY" "$HELPER" mails "$MAIL_DIR" >"$DIR/mails.copy"
{
	echo "CREATE SCHEMA chaos;"
	echo "CREATE TABLE chaos.msg (p int, o bigint, key bytea, payload bytea);"
	echo "CREATE TABLE chaos.hw (p int, hw bigint);"
	echo "CREATE TABLE chaos.drop_snap (seq int, day date, p int, next_offset bigint);"
	echo "CREATE TABLE chaos.fault (seq int, kind text, start_ms bigint, end_ms bigint, detail text);"
	echo "CREATE TABLE chaos.mail (file text, alert_key text, rcpt text, to_hdr text, subject text, mtime double precision);"
	echo "\\copy chaos.msg FROM '$DIR/messages.copy'"
	echo "\\copy chaos.hw FROM '$DIR/hw.tsv'"
	echo "\\copy chaos.drop_snap FROM '$DIR/drops.tsv'"
	echo "\\copy chaos.fault FROM '$DIR/faults.tsv'"
	echo "\\copy chaos.mail FROM '$DIR/mails.copy'"
	# The Message-ID names the crossing: <alert-RULE-QUOTEUS@...> (src/mail.h,
	# sp_alert_key); here it is the event of that rule and quote.
	echo "ALTER TABLE chaos.mail ADD eventid bigint;"
	echo "UPDATE chaos.mail m SET eventid = e.eventid FROM stockpipe.alert_event e
	       WHERE m.alert_key = CASE WHEN e.ruleid IS NOT NULL
	                                THEN e.ruleid || '-' || (extract(epoch FROM e.quote_ts) * 1000000)::bigint
	                                ELSE 'e' || e.eventid END;"
	echo "ALTER TABLE chaos.fault ADD started_at timestamptz, ADD ended_at timestamptz;"
	echo "UPDATE chaos.fault SET started_at = to_timestamp(start_ms / 1000.0), ended_at = to_timestamp(end_ms / 1000.0);"
	# The server's decoder judges every message: its error, or the row it makes.
	echo "CREATE TABLE chaos.eval AS
	        SELECT p, o, key, payload, err, CASE WHEN err IS NULL THEN stockpipe.decode_quote(payload) END AS q
	          FROM (SELECT m.*, stockpipe.message_error('stock_live', coalesce(m.payload, ''::bytea)) AS err
	                  FROM chaos.msg m) s;"
	# What live_stock must hold: the first (lowest offset) valid quote of each
	# (symbol, ts), less those of a dropped day stored before the drop.
	echo "CREATE TABLE chaos.expected AS
	        SELECT DISTINCT ON ((q).symbol, (q).ts)
	               (q).symbol, (q).ts, (q).price, (q).volume, (q).open, (q).high, (q).low,
	               (q).prev_close, (q).currency, (q).source
	          FROM chaos.eval e
	         WHERE err IS NULL
	           AND NOT EXISTS (SELECT 1
	                             FROM (SELECT DISTINCT ON (day, p) day, p, next_offset
	                                     FROM chaos.drop_snap ORDER BY day, p, seq DESC) s
	                            WHERE s.day = ((e.q).ts AT TIME ZONE 'UTC')::date AND s.p = e.p
	                              AND e.o < s.next_offset)
	         ORDER BY (q).symbol, (q).ts, p, o;"
	echo "CREATE TABLE chaos.live AS
	        SELECT symbol, ts, price, volume, open, high, low, prev_close, currency, source FROM stockpipe.live_stock;"
	echo "ANALYZE chaos.eval, chaos.expected, chaos.live;"
} | sp_psql -v ON_ERROR_STOP=1 >/dev/null 2>>"$DIR/psql.err" || abort "loading the read-back messages into the chaos schema ($(tail -n 2 "$DIR/psql.err" | tr '\n' ' '))"

# show SQL: up to 5 rows, as comment lines.
show() { q "$1 LIMIT 5" | sed 's/^/#     /'; }

# 1. The broker still has every message it took (nothing dropped by its
#    retention), so the read-back is complete.
t_eq "read back every message from the broker: offsets 0..high watermark-1 of every partition" \
	"$HW|$HW|0" \
	"$(q "SELECT count(*) || '|' || count(DISTINCT (p, o)) || '|' ||
	           (SELECT count(*) FROM chaos.hw h WHERE h.hw <> (SELECT count(*) FROM chaos.msg m WHERE m.p = h.p)
	                                              OR h.hw - 1 <> coalesce((SELECT max(o) FROM chaos.msg m WHERE m.p = h.p), -1))
	      FROM chaos.msg")"
t_eq "each symbol's valid quotes are in one partition (first-wins is defined by offsets)" 0 \
	"$(q "SELECT count(*) FROM (SELECT (q).symbol FROM chaos.eval WHERE err IS NULL GROUP BY 1 HAVING count(DISTINCT p) > 1) x")"

# 2. live_stock by content, both ways.
COLS="symbol, ts, price, volume, open, high, low, prev_close, currency, source"
missing=$(q "SELECT count(*) FROM (SELECT * FROM chaos.expected EXCEPT SELECT * FROM chaos.live) x")
extra=$(q "SELECT count(*) FROM (SELECT * FROM chaos.live EXCEPT SELECT * FROM chaos.expected) x")
EXPECTED_ROWS=$(q "SELECT count(*) FROM chaos.expected")
LIVE_ROWS=$(q "SELECT count(*) FROM chaos.live")
if [ "$missing" = 0 ] && [ "$extra" = 0 ] && [ "$EXPECTED_ROWS" = "$LIVE_ROWS" ]; then
	t_ok "live_stock holds exactly the $EXPECTED_ROWS valid (symbol, ts) quotes from the broker, each once, values equal"
else
	t_fail "live_stock holds exactly the valid quotes from the broker: $missing missing or different, $extra extra or different, $LIVE_ROWS rows for $EXPECTED_ROWS expected"
	note "  expected, not in live_stock ($COLS):"
	show "SELECT * FROM chaos.expected EXCEPT SELECT * FROM chaos.live ORDER BY 1, 2"
	note "  in live_stock, not expected:"
	show "SELECT * FROM chaos.live EXCEPT SELECT * FROM chaos.expected ORDER BY 1, 2"
fi
REPEATS=$(q "SELECT count(*) - count(DISTINCT ((q).symbol, (q).ts)) FROM chaos.eval WHERE err IS NULL")
if [ -s "$DIR/drops.tsv" ]; then
	t_eq "quotes of the dropped day stored after the drop are in a new partition" \
		"$(q "SELECT count(*) FROM chaos.expected WHERE ts >= '$OLD_DAY'::date::timestamp AT TIME ZONE 'UTC' AND ts < ('$OLD_DAY'::date + 1)::timestamp AT TIME ZONE 'UTC'")" \
		"$(q "SELECT count(*) FROM stockpipe.live_stock_p${OLD_DAY//-/}" 2>/dev/null || echo none)"
fi

# 3. dead_letter: the invalid messages, by (partition, offset), each once,
#    with the decoder's error, the key and the payload (cut at 64 kB).
DEAD=$(q "SELECT count(*) FROM chaos.eval WHERE err IS NOT NULL")
dl_missing=$(q "SELECT count(*) FROM (SELECT p, o FROM chaos.eval WHERE err IS NOT NULL
                                      EXCEPT SELECT partition, kafka_offset FROM stockpipe.dead_letter WHERE topic = 'stock_live') x")
dl_extra=$(q "SELECT count(*) FROM (SELECT partition, kafka_offset FROM stockpipe.dead_letter WHERE topic = 'stock_live'
                                    EXCEPT SELECT p, o FROM chaos.eval WHERE err IS NOT NULL) x")
dl_rows=$(q "SELECT count(*) FROM stockpipe.dead_letter")
if [ "$dl_missing" = 0 ] && [ "$dl_extra" = 0 ] && [ "$dl_rows" = "$DEAD" ]; then
	t_ok "dead_letter holds exactly the $DEAD invalid messages (topic, partition, offset), each once"
else
	t_fail "dead_letter holds exactly the invalid messages: $dl_missing missing, $dl_extra extra, $dl_rows rows for $DEAD invalid"
	show "SELECT 'missing', p, o, err FROM chaos.eval WHERE err IS NOT NULL AND (p, o) NOT IN (SELECT partition, kafka_offset FROM stockpipe.dead_letter)"
	show "SELECT 'extra', partition, kafka_offset, error FROM stockpipe.dead_letter WHERE (partition, kafka_offset) NOT IN (SELECT p, o FROM chaos.eval WHERE err IS NOT NULL)"
fi
DL_CONTENT="SELECT p, o, err, coalesce(key, ''::bytea), substr(coalesce(payload, ''::bytea), 1, 65536), length(coalesce(payload, ''::bytea))
              FROM chaos.eval WHERE err IS NOT NULL
            EXCEPT
            SELECT partition, kafka_offset, error, coalesce(key, ''::bytea), coalesce(payload, ''::bytea), payload_bytes
              FROM stockpipe.dead_letter WHERE topic = 'stock_live'"
t_eq "each dead letter has the decoder's error, the key and the payload (first 64 kB, and its size)" 0 \
	"$(q "SELECT count(*) FROM ($DL_CONTENT) x")"
[ "$(q "SELECT count(*) FROM ($DL_CONTENT) x")" = 0 ] || show "SELECT p, o, err FROM ($DL_CONTENT) x"

# 4. kafka_offsets: the broker's high watermark, and every message counted once.
off_bad=$(q "SELECT string_agg(format('[%s] hw %s next %s messages %s rows %s/%s dead %s/%s', h.p, h.hw, o.next_offset,
                                      o.messages, o.rows_stored, e.valid, o.dead_letters, e.invalid), '; ')
               FROM chaos.hw h
               LEFT JOIN stockpipe.kafka_offsets o ON o.topic = 'stock_live' AND o.partition = h.p
               LEFT JOIN (SELECT p, count(*) FILTER (WHERE err IS NULL) AS valid,
                                 count(*) FILTER (WHERE err IS NOT NULL) AS invalid
                            FROM chaos.eval GROUP BY p) e ON e.p = h.p
              WHERE coalesce(o.next_offset, 0) <> h.hw OR coalesce(o.messages, 0) <> h.hw
                 OR coalesce(o.rows_stored, 0) <> coalesce(e.valid, 0)
                 OR coalesce(o.dead_letters, 0) <> coalesce(e.invalid, 0)")
if [ -z "$off_bad" ]; then
	t_ok "kafka_offsets: next_offset = the broker's high watermark on all $PARTS partitions; messages, rows and dead letters counted once"
else
	t_fail "kafka_offsets: next_offset = high watermark and counters exact: $off_bad"
fi

# 5. Alerts and e-mails.
EVENTS=$(q "SELECT count(*) FROM stockpipe.alert_event")
MAILS=$(q "SELECT count(*) FROM chaos.mail")
note "alert events by status: $(q "SELECT string_agg(status || ' ' || n, ', ' ORDER BY status) FROM (SELECT status, count(*) n FROM stockpipe.alert_event GROUP BY 1) s"); $MAILS e-mail files"
t_check "alert rules fired (some events)" test "${EVENTS:-0}" -gt 0
t_eq "every alert event of a deliverable rule is sent; the others failed or were suppressed with the expected reason" "" \
	"$(q "SELECT string_agg(format('event %s to %s: %s (%s)', eventid, email, status, last_error), '; ' ORDER BY eventid)
	        FROM stockpipe.alert_event
	       WHERE NOT CASE
	             WHEN status = 'suppressed' THEN last_error LIKE 'not sent: role % reached stockpipe.mail_rate_limit%'
	             WHEN email = 'nobody@example.com' THEN status = 'failed' AND last_error LIKE '%SMTP reply to RCPT: 550 5.1.1%'
	             WHEN email = 'ops@other.test' THEN status = 'failed' AND last_error LIKE 'not sent: the domain of the address is not in stockpipe.mail_allowed_domains'
	             ELSE status = 'sent' END")"
dups=$(q "SELECT string_agg(format('event %s: %s copies (%s)', eventid, n, files), '; ' ORDER BY eventid)
            FROM (SELECT eventid, count(*) n, string_agg(file || ' at ' || to_char(to_timestamp(mtime), 'HH24:MI:SS.MS'), ', ' ORDER BY file) files,
                         min(mtime) t1, max(mtime) t2
                    FROM chaos.mail WHERE eventid IS NOT NULL GROUP BY eventid HAVING count(*) > 1) d")
if [ -z "$dups" ]; then
	t_ok "no alert e-mail delivered twice ($MAILS e-mails, one Message-ID each)"
else
	t_fail "no alert e-mail delivered twice: $(q "SELECT count(*) FROM (SELECT eventid FROM chaos.mail WHERE eventid IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d") events resent: $dups"
	note "  faults between the copies (a crash between the SMTP send and the outbox update resends, src/mailer.c):"
	show "SELECT DISTINCT m.eventid, f.seq, f.kind, f.detail
	        FROM (SELECT eventid, min(mtime) t1, max(mtime) t2 FROM chaos.mail WHERE eventid IS NOT NULL GROUP BY 1 HAVING count(*) > 1) m
	        JOIN chaos.fault f ON f.start_ms / 1000.0 <= m.t2 AND f.end_ms / 1000.0 >= m.t1 - 1 ORDER BY 1, 2"
fi
t_eq "every sent event has its e-mail (Message-ID <alert-RULE-QUOTEUS@...>), to its address, with its symbol" "" \
	"$(q "SELECT string_agg(format('event %s: %s', e.eventid, coalesce(m.problem, 'no e-mail')), '; ' ORDER BY e.eventid)
	        FROM stockpipe.alert_event e
	        LEFT JOIN LATERAL (SELECT CASE WHEN bool_and(mm.rcpt = e.email AND mm.to_hdr = e.email
	                                                     AND mm.subject LIKE '[stockpipe] ' || e.symbol || ' ' || e.condition || ' %')
	                                       THEN NULL ELSE 'wrong envelope or headers' END AS problem, count(*) n
	                             FROM chaos.mail mm WHERE mm.eventid = e.eventid) m ON true
	       WHERE e.status = 'sent' AND (m.n = 0 OR m.problem IS NOT NULL)")"
t_eq "no e-mail for an event not sent, and none that is not an alert event" "" \
	"$(q "SELECT string_agg(format('%s (event %s)', m.file, coalesce(m.eventid::text, m.alert_key, 'none')), ', ')
	        FROM chaos.mail m LEFT JOIN stockpipe.alert_event e ON e.eventid = m.eventid
	       WHERE e.eventid IS NULL OR e.status <> 'sent'")"
# From the data: each event is a stored quote that satisfies the rule, once
# per (rule, quote), and a rule fired again only after a quote re-armed it.
t_eq "each alert event is a stored quote meeting its rule's condition, one event per (rule, quote)" "" \
	"$(q "SELECT string_agg(format('event %s', e.eventid), ', ')
	        FROM stockpipe.alert_event e
	       WHERE NOT EXISTS (SELECT 1 FROM stockpipe.live_stock l
	                          WHERE l.symbol = e.symbol AND l.ts = e.quote_ts AND l.price = e.price)
	          OR NOT CASE e.condition WHEN 'price_above' THEN e.price > e.threshold
	                                  WHEN 'price_below' THEN e.price < e.threshold END
	          OR (SELECT count(*) FROM stockpipe.alert_event x WHERE x.ruleid = e.ruleid AND x.quote_ts = e.quote_ts) > 1")"
t_eq "between two events of a rule, a stored quote re-armed it (no double firing)" "" \
	"$(q "SELECT string_agg(format('rule %s events %s and %s', ruleid, prev_id, eventid), '; ')
	        FROM (SELECT e.*, lag(e.eventid) OVER w AS prev_id, lag(e.quote_ts) OVER w AS prev_ts
	                FROM stockpipe.alert_event e WINDOW w AS (PARTITION BY e.ruleid ORDER BY e.quote_ts)) e
	       WHERE prev_ts IS NOT NULL
	         AND NOT EXISTS (SELECT 1 FROM stockpipe.live_stock l
	                          WHERE l.symbol = e.symbol AND l.ts > e.prev_ts AND l.ts < e.quote_ts
	                            AND NOT CASE e.condition WHEN 'price_above' THEN l.price > e.threshold
	                                                     ELSE l.price < e.threshold END)")"

# 6. Jobs: each job's runs for its scheduled times form an unbroken chain
#    from its creation to its next run (each time once), missed times only
#    while the server was down more than 60 s (skipped, or one catch-up run
#    with catch_up), and no run left 'running' by a crash.  The built-in
#    alert_check's chain may leave out times, but only times before which
#    no quote was stored (by the commit time of its batch, kept by
#    track_commit_timestamp) and no rule created since its previous run.
JOBS="('alert_check', 'upkeep', 'l30d_refresh', 'sleeper')"
RUNS_SQL="SELECT j.name, j.jobid, j.schedule, j.timezone, j.skip_holidays, j.calendar, j.catch_up, j.created_at, j.next_run_at,
                 r.runid, r.trigger, r.scheduled_at, r.status, r.message, r.finished_at, r.started_at,
                 (r.trigger = 'catch-up' OR coalesce(r.message, '') LIKE 'missed:%') AS missed,
                 lead(r.scheduled_at) OVER w AS next_at,
                 row_number() OVER w AS n, count(*) OVER (PARTITION BY j.jobid) AS total
            FROM stockpipe.job j JOIN stockpipe.job_run r USING (jobid)
           WHERE j.name IN $JOBS AND r.trigger IN ('schedule', 'catch-up')
          WINDOW w AS (PARTITION BY j.jobid ORDER BY r.scheduled_at, r.runid)"
SCHED_RUNS=$(q "SELECT count(*) FROM ($RUNS_SQL) r")
t_eq "no job has two runs for one scheduled time" "" \
	"$(q "SELECT string_agg(format('%s at %s: runs %s', name, scheduled_at, runs), '; ')
	        FROM (SELECT name, scheduled_at, string_agg(runid::text, ',') runs FROM ($RUNS_SQL) r
	               GROUP BY name, scheduled_at HAVING count(*) > 1) d")"
t_eq "each job ran at each scheduled time since its creation, in order, up to its next run" "" \
	"$(q "WITH r AS ($RUNS_SQL)
	      SELECT string_agg(problem, '; ') FROM (
	        SELECT format('%s: first run at %s, due %s', name, scheduled_at,
	                      stockpipe.job_next_run(schedule, created_at, timezone, skip_holidays, calendar)) AS problem
	          FROM r WHERE n = 1 AND scheduled_at <> stockpipe.job_next_run(schedule, created_at, timezone, skip_holidays, calendar)
	        UNION ALL
	        SELECT format('%s: after %s came %s, due %s', name, scheduled_at, next_at,
	                      stockpipe.job_next_run(schedule, scheduled_at, timezone, skip_holidays, calendar))
	          FROM r WHERE next_at IS NOT NULL AND NOT missed AND name <> 'alert_check'
	           AND next_at <> stockpipe.job_next_run(schedule, scheduled_at, timezone, skip_holidays, calendar)
	        UNION ALL
	        SELECT format('%s: after the missed %s came %s', name, scheduled_at, next_at)
	          FROM r WHERE next_at IS NOT NULL AND missed AND next_at < scheduled_at + interval '60 seconds'
	        UNION ALL
	        SELECT format('%s: last run at %s, next_run_at %s', name, scheduled_at, next_run_at)
	          FROM r WHERE n = total AND NOT missed AND name <> 'alert_check'
	           AND next_run_at IS DISTINCT FROM stockpipe.job_next_run(schedule, scheduled_at, timezone, skip_holidays, calendar)
	        UNION ALL
	        SELECT format('%s: no run, though due at %s', j.name, j.next_run_at)
	          FROM stockpipe.job j
	         WHERE j.name IN $JOBS AND j.next_run_at < now() - interval '5 seconds'
	           AND NOT EXISTS (SELECT 1 FROM stockpipe.job_run x WHERE x.jobid = j.jobid AND x.trigger IN ('schedule', 'catch-up'))
	      ) p")"
# alert_check: from each run that was not missed, the times of its schedule
# up to its next run (or its next_run_at after its last run) must reach it,
# and each time left out between them must follow a quiet interval: no
# batch of quotes committed from 1 s after that run started to 1 s before
# the time left out, no rule created since that run started (the scheduler
# reads the counters within milliseconds of both; the second of slack on
# each side is for the commit and its counter bump falling on either side
# of that read).
LEFT_OUT=$(q "SELECT count(*) FROM (WITH RECURSIVE r AS ($RUNS_SQL),
	        a AS (SELECT r.*, coalesce(r.next_at, r.next_run_at) AS upto FROM r
	               WHERE r.name = 'alert_check' AND NOT r.missed AND (r.next_at IS NOT NULL OR r.n = r.total)),
	        chain AS (SELECT a.runid, a.upto, a.schedule, a.timezone, a.skip_holidays, a.calendar,
	                         stockpipe.job_next_run(a.schedule, a.scheduled_at, a.timezone, a.skip_holidays, a.calendar) AS t
	                    FROM a
	                  UNION ALL
	                  SELECT c.runid, c.upto, c.schedule, c.timezone, c.skip_holidays, c.calendar,
	                         stockpipe.job_next_run(c.schedule, c.t, c.timezone, c.skip_holidays, c.calendar)
	                    FROM chain c WHERE c.t < c.upto)
	      SELECT 1 FROM chain c WHERE c.t < c.upto) x")
t_eq "alert_check ran at each scheduled time after its previous run, in order, up to its next run, but for times left out after no quote was stored and no rule created ($LEFT_OUT left out)" "" \
	"$(q "WITH RECURSIVE r AS ($RUNS_SQL),
	        a AS (SELECT r.*, coalesce(r.next_at, r.next_run_at) AS upto,
	                     coalesce(r.started_at, r.scheduled_at) AS since FROM r
	               WHERE r.name = 'alert_check' AND NOT r.missed AND (r.next_at IS NOT NULL OR r.n = r.total)),
	        chain AS (SELECT a.runid, a.since, a.upto, a.schedule, a.timezone, a.skip_holidays, a.calendar,
	                         stockpipe.job_next_run(a.schedule, a.scheduled_at, a.timezone, a.skip_holidays, a.calendar) AS t
	                    FROM a
	                  UNION ALL
	                  SELECT c.runid, c.since, c.upto, c.schedule, c.timezone, c.skip_holidays, c.calendar,
	                         stockpipe.job_next_run(c.schedule, c.t, c.timezone, c.skip_holidays, c.calendar)
	                    FROM chain c WHERE c.t < c.upto),
	        commits AS MATERIALIZED (SELECT pg_xact_commit_timestamp(x::xid) AS at
	                                   FROM (SELECT DISTINCT xmin::text AS x FROM stockpipe.live_stock) s)
	      SELECT string_agg(problem, '; ') FROM (
	        SELECT format('alert_check: after %s came %s, not a time of its schedule', a.scheduled_at, a.upto) AS problem
	          FROM a WHERE NOT EXISTS (SELECT 1 FROM chain c WHERE c.runid = a.runid AND c.t = a.upto)
	        UNION ALL
	        SELECT format('alert_check: %s left out, though quotes were stored at %s after run %s', c.t, m.at, c.runid)
	          FROM chain c CROSS JOIN LATERAL (SELECT min(k.at) AS at FROM commits k
	                                            WHERE k.at > c.since + interval '1 second'
	                                              AND k.at < c.t - interval '1 second') m
	         WHERE c.t < c.upto AND m.at IS NOT NULL
	        UNION ALL
	        SELECT format('alert_check: %s left out, though rule %s was created at %s after run %s', c.t, ru.ruleid, ru.created_at, c.runid)
	          FROM chain c JOIN stockpipe.alert_rule ru ON ru.created_at > c.since AND ru.created_at < c.t - interval '1 second'
	         WHERE c.t < c.upto
	      ) p")"
LONG_OUTAGES=$(q "SELECT count(*) FROM chaos.fault WHERE kind = 'long_outage'")
# (a fault of the server that kept the scheduler away 60 s or more: the long
# outages, and any restart that took that long)
t_eq "runs missed only while the server was down over 60 s: 'skipped', or one 'catch-up' run with catch_up" "" \
	"$(q "WITH r AS ($RUNS_SQL)
	      SELECT string_agg(format('%s run %s (%s %s at %s)', name, runid, trigger, status, scheduled_at), '; ')
	        FROM r
	       WHERE missed AND (NOT EXISTS (SELECT 1 FROM chaos.fault f
	                                      WHERE f.kind NOT IN ('broker_outage', 'smtp_outage', 'producer_restart', 'partition_drop')
	                                        AND f.ended_at - f.started_at >= interval '60 seconds'
	                                        AND r.scheduled_at BETWEEN f.started_at AND f.ended_at)
	                         OR (catch_up AND trigger <> 'catch-up')
	                         OR (NOT catch_up AND status <> 'skipped'))")"
if [ "$LONG_OUTAGES" -gt 0 ]; then
	t_eq "each server outage over 60 s gave alert_check one missed run and sleeper one catch-up run" "" \
		"$(q "WITH r AS ($RUNS_SQL)
		      SELECT string_agg(format('outage %s: %s %s', f.seq, j.name, coalesce(x.n, 0)), '; ')
		        FROM chaos.fault f CROSS JOIN (VALUES ('alert_check'), ('sleeper')) j(name)
		        LEFT JOIN LATERAL (SELECT count(*) n FROM r WHERE r.name = j.name AND r.missed
		                              AND r.scheduled_at BETWEEN f.started_at AND f.ended_at) x ON true
		       WHERE f.kind = 'long_outage' AND coalesce(x.n, 0) <> 1")"
fi
t_eq "every run ended as a run ends: succeeded, skipped while the job still ran, or failed by a fault (none 'running' without its worker)" "" \
	"$(q "SELECT string_agg(format('%s run %s %s %s: %s', j.name, r.runid, r.trigger, r.status, coalesce(r.message, '')), '; ')
	        FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid)
	       WHERE NOT CASE r.status
	             WHEN 'succeeded' THEN true
	             WHEN 'skipped' THEN r.message LIKE 'missed:%' OR r.message LIKE '%still running%'
	             WHEN 'failed' THEN r.message IN ('server stopped while the run was in progress',
	                                              'the run was interrupted (server crash, scheduler restart, or its worker was killed) and its worker is gone',
	                                              'the job worker exited without recording an outcome (terminated, crashed, or could not connect); see the server log')
	             WHEN 'running' THEN EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = r.pid AND a.backend_type = 'stockpipe job')
	                             AND r.started_at > pg_postmaster_start_time()
	             WHEN 'scheduled' THEN r.scheduled_at > now() - interval '30 seconds'
	             ELSE false END")"
note "job runs: $(q "SELECT string_agg(format('%s %s %s', j.name, r.status, n), ', ' ORDER BY j.name, r.status)
                     FROM (SELECT jobid, status, count(*) n FROM stockpipe.job_run GROUP BY 1, 2) r JOIN stockpipe.job j USING (jobid)")"

# 7. Workers: all there, not restarting.
t_eq "every worker kind runs: 2 live consumers, the daily consumer, the scheduler, the mailer" \
	"daily 1, live 2, mailer 1, scheduler 1" \
	"$(q "SELECT string_agg(kind || ' ' || n, ', ' ORDER BY kind)
	        FROM (SELECT kind, count(*) n FROM stockpipe.workers w
	               WHERE EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = w.pid) GROUP BY kind) s")"
t_check "no worker restarted in a ${QUIET_S} s window at the end (the same 5 processes: $pids_after)" \
	test -n "$pids_before" -a "$pids_before" = "$pids_after" -a "$(tr ' ' '\n' <<<"$pids_after" | grep -c :)" = 5
worker_exits=$(tail -n +"$((log_lines_before + 1))" "$DIR/postgres.log" | grep -c 'background worker "stockpipe.*exited\|terminated by signal')
t_eq "the server log shows no worker exit in that window" 0 "$worker_exits"
signal9=$(grep -c 'was terminated by signal 9' "$DIR/postgres.log")
t_eq "the log shows one 'terminated by signal 9' per SIGKILL of a worker, and no other crash" "$KILL9|0" \
	"$signal9|$(grep -cE 'terminated by signal (6|11|7|4|8)|PANIC:' "$DIR/postgres.log")"
t_eq "the producer, the feeder and the SMTP sink only stopped when a fault stopped them" "" "${SELF_EXITS# }"

# --- Summary ------------------------------------------------------------------

FEED=$(cat "$DIR"/feed.counts.* 2>/dev/null | awk '{ s[$1] += $2 } END { for (k in s) printf "%s %d, ", k, s[k] }')
SIM=$(q "SELECT count(*) FROM chaos.eval WHERE (q).source = 'sim'")
note "summary: seed $SEED, profile $PROFILE: $HW messages ($SIM from the producer's sim source; kcat feeder ${FEED%, }), $PARTS partitions;" \
	"faults $(( $(wc -l <"$DIR/faults.tsv") )): $(for k in "${!FAULTS_DONE[@]}"; do printf '%s %s\n' "$k" "${FAULTS_DONE[$k]}"; done | sort | paste -sd, | sed 's/,/, /g');" \
	"rows checked $EXPECTED_ROWS (live_stock, $REPEATS repeated (symbol, ts)), dead letters checked $DEAD;" \
	"alert events $EVENTS, e-mails checked $MAILS; scheduled job runs checked $SCHED_RUNS; elapsed $(elapsed)"
awk -F'\t' '{ printf "#   fault %s %s: %s (%.1f s)\n", $1, $2, $5, ($4 - $3) / 1000 }' "$DIR/faults.tsv"
exit "$SP_TEST_FAILED"
