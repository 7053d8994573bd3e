#!/usr/bin/env bash
# scripts/demo.sh: set up and run the stockpipe pipeline on this machine.
#
#   scripts/demo.sh          install what is missing, build, start everything
#   scripts/demo.sh status   what runs, consumer lag, last quotes, dead letters
#   scripts/demo.sh stop     stop everything the demo started
#
# It starts, on loopback only: a development Kafka broker (stockpipe-broker),
# a PostgreSQL 15 cluster with stockpipe preloaded (in .demo/ of the checkout,
# or $STOCKPIPE_DEMO_DIR), stockpipe-producer, a local SMTP catcher for the
# alert e-mails and the live dashboard (stockpipe-dash); it adds example
# alert rules and writes a .pbids file for Power BI.  When Yahoo Finance is
# reachable and the New York market is open, the producer polls it;
# otherwise (offline, at night, on a weekend or a holiday) the demo replays
# the real recorded market data in ../shared/fixtures/yahoo, its dates moved
# onto the present (the producer's --replay-shift auto: the recorded AAPL
# session becomes today's or the latest session, filling as you watch; the
# daily bars end on the trading day before), and says so.  Symbols with no
# recorded session get no quotes: the live ones beside AAPL are simulated,
# under names that say so (SIM01...).  Re-running it is safe: what already
# runs is left running.
#
# Settings (environment): STOCKPIPE_PG_PORT (default 54329),
# STOCKPIPE_DASH_PORT (default 8080), STOCKPIPE_SMTP_PORT (default 2525),
# STOCKPIPE_SYMBOLS (default AAPL,MSFT,NVDA,AMZN,GOOG; Yahoo only),
# STOCKPIPE_DEMO_DIR, STOCKPIPE_OFFLINE=1 (replay without trying Yahoo),
# STOCKPIPE_ONLINE=1 (Yahoo even when the market is closed),
# STOCKPIPE_REPLAY_SPEED (default 60: one recorded minute a second),
# STOCKPIPE_SIM_SYMBOLS (default SIM01,SIM02,SIM03; empty for none).
set -euo pipefail

. "$(dirname "$0")/lib.sh"

PG_PORT=${STOCKPIPE_PG_PORT:-54329}
DASH_PORT=${STOCKPIPE_DASH_PORT:-8080}
SMTP_PORT=${STOCKPIPE_SMTP_PORT:-2525}
SYMBOLS=${STOCKPIPE_SYMBOLS:-AAPL,MSFT,NVDA,AMZN,GOOG}
FIXTURES=${STOCKPIPE_FIXTURES:-$SP_ROOT/../shared/fixtures/yahoo}
YAHOO_URL=https://query2.finance.yahoo.com
REPLAY_SPEED=${STOCKPIPE_REPLAY_SPEED:-60}
SIM_SYMBOLS=${STOCKPIPE_SIM_SYMBOLS-SIM01,SIM02,SIM03}
# The recorded real data the replay uses: AAPL's one-minute session of
# 2024-10-02 (with the close before it) and four symbols' daily bars.
REPLAY_FILES=chart_AAPL_1d_1m.json,chart_AAPL_daily_2020-08-31_to_2020-11-06.json
REPLAY_FILES+=,chart_MSFT_daily_2021-02-01_to_2022-01-31.json,chart_NVDA_daily_2021-02-01_to_2022-01-31.json
REPLAY_FILES+=,chart_WSU.DE_daily_2023-08-04_to_2023-08-09.json

# The cluster must live where the postgres user can reach it.
choose_dir() {
	local d=${STOCKPIPE_DEMO_DIR:-$SP_ROOT/.demo}
	mkdir -p "$d"
	if ! as_root runuser -u postgres -- test -x "$(dirname "$d")"; then
		d=/var/lib/stockpipe-demo
		sp_log "the postgres user cannot reach $SP_ROOT; using $d"
		mkdir -p "$d"
	fi
	chmod 755 "$d"
	as_root chown postgres:postgres "$d"
	echo "$d"
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_daemon() { # NAME LOGFILE COMMAND...: start in the background, remember its pid
	local name=$1 log=$2; shift 2
	nohup "$@" >>"$log" 2>&1 </dev/null &
	echo $! >"$DIR/$name.pid"
}

stop_daemon() {
	local f=$DIR/$1.pid
	if pid_alive "$f"; then
		kill "$(cat "$f")" 2>/dev/null || true
		wait_for 15 "$1 to stop" bash -c "! kill -0 $(cat "$f") 2>/dev/null" || kill -9 "$(cat "$f")" 2>/dev/null || true
		echo "stopped $1"
	fi
	rm -f "$f"
}

pg_running() { [ -f "$DIR/pgdata/postmaster.pid" ] && as_pg "$SP_PGBIN/pg_ctl" -D "$DIR/pgdata" status >/dev/null 2>&1; }

port_taken() { /usr/bin/python3 -c "import socket,sys; s=socket.socket(); sys.exit(0 if s.connect_ex(('127.0.0.1', $1)) == 0 else 1)"; }

psql_demo() { psql -X -q -h "$DIR" -p "$PG_PORT" -U postgres -d stockpipe "$@"; }

# "t" when the New York market is in session now: a weekday that is not one
# of the extension's market holidays, 09:30 to 16:00.
market_open() {
	psql_demo -At -c "SELECT extract(isodow FROM l) < 6 AND l::time >= '09:30' AND l::time < '16:00'
		AND NOT EXISTS (SELECT FROM stockpipe.market_holiday h WHERE h.calendar = 'XNYS' AND h.day = l::date)
		FROM (SELECT now() AT TIME ZONE 'America/New_York' AS l) n"
}

# The recorded files the replay uses, comma-separated paths.
replay_paths() {
	local f out=
	for f in ${REPLAY_FILES//,/ }; do
		[ -r "$FIXTURES/$f" ] || sp_die "recorded data $FIXTURES/$f is missing"
		out+=${out:+,}$FIXTURES/$f
	done
	echo "$out"
}

do_start() {
	"$SP_ROOT/scripts/install-deps.sh" demo
	sp_log "building and installing stockpipe"
	sp_build

	# 1. the broker (in memory: a new one listens on a new port)
	if ! pid_alive "$DIR/broker.pid"; then
		rm -f "$DIR/broker.addr"
		start_daemon broker "$DIR/broker.log" "$SP_BIN/stockpipe-broker" --partitions 4 --address-file "$DIR/broker.addr"
		wait_for 10 "stockpipe-broker" test -s "$DIR/broker.addr" || sp_die "stockpipe-broker did not start; see $DIR/broker.log"
	fi
	BROKER=$(cat "$DIR/broker.addr")

	# 2. PostgreSQL with stockpipe preloaded
	if [ ! -f "$DIR/pgdata/PG_VERSION" ]; then
		sp_log "creating a PostgreSQL cluster in $DIR/pgdata"
		sp_pg_init "$DIR" "$PG_PORT" "stockpipe.database = 'stockpipe'" \
			"stockpipe.kafka_brokers = '$BROKER'" "stockpipe.consumer_workers = 2"
	fi
	SP_PGDIR=$DIR
	if ! pg_running; then
		port_taken "$PG_PORT" && sp_die "port $PG_PORT is taken; set STOCKPIPE_PG_PORT to a free port"
		as_pg "$SP_PGBIN/pg_ctl" -D "$DIR/pgdata" -l "$DIR/postgres.log" -o "-p $PG_PORT" -w start >/dev/null ||
			sp_die "PostgreSQL did not start; see $DIR/postgres.log"
	fi
	export PGHOST=$DIR PGPORT=$PG_PORT PGUSER=postgres
	[ -f "$DIR/pgpass" ] && export PGPASSFILE=$DIR/pgpass
	# The replay moves its dates onto the present: the consumers' usual time
	# window holds (a demo folder of an earlier release accepted any age).
	psql -X -q -d postgres -c "ALTER SYSTEM SET stockpipe.kafka_brokers = '$BROKER'" \
		-c "ALTER SYSTEM RESET stockpipe.quote_max_age" -c "SELECT pg_reload_conf()" >/dev/null
	psql -X -q -At -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'stockpipe'" | grep -q 1 || createdb stockpipe
	# a demo folder of an earlier release is upgraded in place
	psql_demo -c "CREATE EXTENSION IF NOT EXISTS stockpipe" -c "ALTER EXTENSION stockpipe UPDATE"

	# alert e-mails go to a local SMTP catcher, one file per message
	if ! pid_alive "$DIR/smtp.pid"; then
		port_taken "$SMTP_PORT" && sp_die "port $SMTP_PORT is taken; set STOCKPIPE_SMTP_PORT to a free port"
		mkdir -p "$DIR/mail"
		rm -f "$DIR/smtp.ready"
		start_daemon smtp "$DIR/smtp.log" /usr/bin/python3 "$SP_ROOT/test/e2e/smtp_sink.py" \
			--port "$SMTP_PORT" --dir "$DIR/mail" --ready-file "$DIR/smtp.ready"
		wait_for 10 "SMTP catcher" test -e "$DIR/smtp.ready" || sp_die "the SMTP catcher did not start; see $DIR/smtp.log"
	fi
	psql -X -q -d postgres -c "ALTER SYSTEM SET stockpipe.smtp_url = 'smtp://127.0.0.1:$SMTP_PORT'" \
		-c "ALTER SYSTEM SET stockpipe.mail_from = 'stockpipe-demo@localhost'" -c "SELECT pg_reload_conf()" >/dev/null

	# example alert rules, once (the replayed AAPL session of 2024-10-02 opens
	# at 225.70, falls more than 1 % under its previous close, 226.21, from
	# 09:52 to 10:02, and is back above 225 from 10:26)
	if [ "$(psql_demo -At -c "SELECT count(*) FROM stockpipe.alert_rule")" = 0 ]; then
		psql_demo -c "SELECT stockpipe.set_alert('AAPL', 'price_above', 225, 'trader@example.com')" \
			-c "SELECT stockpipe.set_alert('AAPL', 'price_below', 220, 'trader@example.com')" \
			-c "SELECT stockpipe.set_alert('NVDA', 'change_pct_above', 2, 'trader@example.com')" \
			-c "SELECT stockpipe.set_alert('AAPL', 'change_pct_below', -1, 'trader@example.com')" >/dev/null
	fi

	# the dashboard reads as a login granted the read-only role
	psql_demo -c "DO \$\$ BEGIN
		IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'stockpipe_dash') THEN
			CREATE ROLE stockpipe_dash LOGIN;
		END IF; END \$\$" -c "GRANT stockpipe_reader TO stockpipe_dash"
	# ... through the socket, as this user (peer authentication's map)
	as_root grep -q " stockpipe_dash\$" "$DIR/pgdata/pg_ident.conf" || sp_pg_allow_login stockpipe_dash
	"$SP_ROOT/scripts/pbids.sh" --host 127.0.0.1 --port "$PG_PORT" --database stockpipe \
		--out "$DIR/stockpipe.pbids" >/dev/null

	# 3. the producer: Yahoo when reachable and the market is open, else the
	#    recorded real data moved onto the present
	if ! pid_alive "$DIR/producer.pid"; then
		if [ -n "${STOCKPIPE_OFFLINE:-}" ]; then
			why="STOCKPIPE_OFFLINE is set"
		elif ! curl -s -o /dev/null -m 5 "$YAHOO_URL/v8/finance/chart/AAPL?range=1d&interval=1m"; then
			why="Yahoo Finance is not reachable from here"
		elif [ -z "${STOCKPIPE_ONLINE:-}" ] && [ "$(market_open)" != t ]; then
			why="the New York market is closed now"
		else
			why=
		fi
		if [ -z "$why" ]; then
			echo "Yahoo Finance ($YAHOO_URL), symbols $SYMBOLS" >"$DIR/source"
			start_daemon producer "$DIR/producer.log" stockpipe-producer --brokers "$BROKER" --symbols "$SYMBOLS"
		else
			sp_log "$why: replaying the recorded real market data, moved onto today's dates"
			local seen
			seen=$(stat -c %s "$DIR/producer.log" 2>/dev/null || echo 0)
			start_daemon producer "$DIR/producer.log" stockpipe-producer --brokers "$BROKER" \
				--source "replay:$(replay_paths)" --replay-shift auto --speed "$REPLAY_SPEED"
			# what the producer moved where, in its own words (this run's log lines)
			wait_for 10 "the replay's plan" bash -c \
				"tail -c +$((seen + 1)) '$DIR/producer.log' | grep -q 'INFO  replay of recorded data'" ||
				sp_log "the replay did not start; see $DIR/producer.log"
			{
				tail -c +$((seen + 1)) "$DIR/producer.log" | grep "INFO  replay of recorded data" |
					tail -1 | sed 's/^.*INFO  //'
				echo "  ($why; the recorded Yahoo data of $FIXTURES at ${REPLAY_SPEED}x real time: values as recorded, only the dates moved; quotes' source = replay)"
			} >"$DIR/source"
			if [ -n "$SIM_SYMBOLS" ] && ! pid_alive "$DIR/producer-sim.pid"; then
				# more live symbols, simulated, under names no market uses
				start_daemon producer-sim "$DIR/producer-sim.log" stockpipe-producer --brokers "$BROKER" \
					--source sim --symbols "$SIM_SYMBOLS" --rate 2
				echo "  simulated: $SIM_SYMBOLS (a random walk, source = sim: not market data)" >>"$DIR/source"
			fi
		fi
	fi

	if ! pid_alive "$DIR/dash.pid"; then
		port_taken "$DASH_PORT" && sp_die "port $DASH_PORT is taken; set STOCKPIPE_DASH_PORT to a free port"
		start_daemon dash "$DIR/dash.log" stockpipe-dash --listen "127.0.0.1:$DASH_PORT" \
			--dsn "host=$DIR port=$PG_PORT dbname=stockpipe user=stockpipe_dash"
		wait_for 10 "the dashboard" curl -sf "http://127.0.0.1:$DASH_PORT/healthz" ||
			sp_log "the dashboard did not answer; see $DIR/dash.log"
	fi

	wait_for 60 "the first quote in live_stock" bash -c \
		"[ \"\$(psql -X -At -h '$DIR' -p '$PG_PORT' -U postgres -d stockpipe -c 'SELECT count(*) > 0 FROM stockpipe.live_stock')\" = t ]" ||
		sp_log "no quote yet: see $DIR/postgres.log and $DIR/producer.log"

	cat <<EOF

stockpipe is running.
  quotes from:  $(cat "$DIR/source")
  Kafka broker: $BROKER (stockpipe-broker, development only, in memory)
  PostgreSQL:   psql -h $DIR -p $PG_PORT -U postgres stockpipe
                (as $(id -un), or as postgres: peer authentication on the socket)
                PGPASSFILE=$DIR/pgpass psql -h 127.0.0.1 -p $PG_PORT -U postgres stockpipe
                (TCP needs the password, kept in $DIR/pgpass, readable by $(id -un) only)
  dashboard:    http://127.0.0.1:$DASH_PORT/
  Power BI:     $DIR/stockpipe.pbids (log in as a role granted stockpipe_reader)
  alert e-mails: caught by a local SMTP server in $DIR/mail/
  try:          SELECT * FROM stockpipe.live_stock ORDER BY ts DESC LIMIT 5;
                SELECT * FROM stockpipe.consumer_status;
                SELECT * FROM stockpipe.my_alerts;
  logs:         $DIR/postgres.log $DIR/producer.log $DIR/broker.log $DIR/dash.log
  status:       scripts/demo.sh status
  stop:         scripts/demo.sh stop
EOF
}

do_status() {
	pid_alive "$DIR/broker.pid" && echo "broker:     running ($(cat "$DIR/broker.addr"))" || echo "broker:     stopped"
	if pid_alive "$DIR/producer.pid"; then
		echo "producer:   running: $(cat "$DIR/source" 2>/dev/null)"
	elif grep -E "INFO  (replay: done|replay of recorded data)" "$DIR/producer.log" 2>/dev/null |
		tail -1 | grep -q "replay: done"; then
		echo "producer:   finished the replay (it does not loop; scripts/demo.sh stop, then start, replays again):"
		echo "            $(cat "$DIR/source" 2>/dev/null)"
	else
		echo "producer:   stopped"
	fi
	# how far the replay is (none of these lines before its first progress report)
	grep -E "INFO  replay: (at|done|stopped) " "$DIR/producer.log" 2>/dev/null | tail -1 |
		sed 's/^.*INFO  /            /' || true
	if pid_alive "$DIR/producer-sim.pid"; then
		echo "simulator:  running ($SIM_SYMBOLS, source sim: not market data)"
	fi
	SP_PGDIR=$DIR
	if ! pg_running; then
		echo "PostgreSQL: stopped"
		return 0
	fi
	echo "PostgreSQL: running on port $PG_PORT"
	psql_demo -c "SELECT kind, worker_index, state, messages, last_batch_at, last_error FROM stockpipe.workers ORDER BY 1, 2" \
		-c "SELECT topic, partition, next_offset, lag, rows_stored, dead_letters, last_message_at FROM stockpipe.consumer_status ORDER BY 1, 2" \
		-c "SELECT DISTINCT ON (symbol) symbol, ts, price, prev_close, volume, source FROM stockpipe.live_stock ORDER BY symbol, ts DESC" \
		-c "SELECT symbol, count(*) AS daily_bars, min(trade_date) AS first, max(trade_date) AS last FROM stockpipe.historical_stock_data GROUP BY 1 ORDER BY 1" \
		-c "SELECT count(*) AS dead_letters FROM stockpipe.dead_letter" \
		-c "SELECT j.name, j.schedule, j.next_run_at, r.status AS last_status, r.finished_at AS last_finished
		      FROM stockpipe.job j LEFT JOIN LATERAL (SELECT status, finished_at FROM stockpipe.job_run
		      WHERE jobid = j.jobid ORDER BY runid DESC LIMIT 1) r ON true ORDER BY j.jobid" \
		-c "SELECT status, count(*), max(last_error) AS last_error FROM stockpipe.alert_event GROUP BY status"
	pid_alive "$DIR/dash.pid" && echo "dashboard:  http://127.0.0.1:$DASH_PORT/" || echo "dashboard:  stopped"
}

do_stop() {
	stop_daemon dash
	stop_daemon producer
	stop_daemon producer-sim
	stop_daemon yahoo-mirror   # started by earlier releases
	stop_daemon smtp
	SP_PGDIR=$DIR
	if pg_running; then
		as_pg "$SP_PGBIN/pg_ctl" -D "$DIR/pgdata" -m fast -w stop >/dev/null && echo "stopped PostgreSQL"
	fi
	stop_daemon broker
}

DIR=$(choose_dir)
case "${1:-start}" in
	start) do_start ;;
	status) do_status ;;
	stop) do_stop ;;
	*) echo "usage: scripts/demo.sh [start|status|stop]" >&2; exit 2 ;;
esac
