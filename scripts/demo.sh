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
# reachable the producer polls it; when it is not, the demo replays the real
# recorded market data in ../shared/fixtures/yahoo instead and says so.
# Re-running it is safe: what already runs is left running.
#
# Settings (environment): STOCKPIPE_PG_PORT (default 54329),
# STOCKPIPE_DASH_PORT (default 8080), STOCKPIPE_SMTP_PORT (default 2525),
# STOCKPIPE_SYMBOLS (default AAPL,MSFT,NVDA,AMZN,GOOG), STOCKPIPE_DEMO_DIR,
# STOCKPIPE_OFFLINE=1 (replay the recorded data without trying Yahoo).
set -euo pipefail

. "$(dirname "$0")/lib.sh"

PG_PORT=${STOCKPIPE_PG_PORT:-54329}
DASH_PORT=${STOCKPIPE_DASH_PORT:-8080}
SMTP_PORT=${STOCKPIPE_SMTP_PORT:-2525}
SYMBOLS=${STOCKPIPE_SYMBOLS:-AAPL,MSFT,NVDA,AMZN,GOOG}
FIXTURES=${STOCKPIPE_FIXTURES:-$SP_ROOT/../shared/fixtures/yahoo}
YAHOO_URL=https://query2.finance.yahoo.com

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
	# The offline replay's quotes keep their recorded times: accept any age.
	psql -X -q -d postgres -c "ALTER SYSTEM SET stockpipe.kafka_brokers = '$BROKER'" \
		-c "ALTER SYSTEM SET stockpipe.quote_max_age = 2147483647" -c "SELECT pg_reload_conf()" >/dev/null
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

	# example alert rules, once
	if [ "$(psql_demo -At -c "SELECT count(*) FROM stockpipe.alert_rule")" = 0 ]; then
		psql_demo -c "SELECT stockpipe.set_alert('AAPL', 'price_above', 225, 'trader@example.com')" \
			-c "SELECT stockpipe.set_alert('AAPL', 'price_below', 220, 'trader@example.com')" \
			-c "SELECT stockpipe.set_alert('NVDA', 'change_pct_above', 2, 'trader@example.com')" >/dev/null
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

	# 3. the producer: Yahoo when reachable, else the recorded real data
	if ! pid_alive "$DIR/producer.pid"; then
		if [ -z "${STOCKPIPE_OFFLINE:-}" ] &&
			curl -s -o /dev/null -m 5 "$YAHOO_URL/v8/finance/chart/AAPL?range=1d&interval=1m"; then
			SOURCE="Yahoo Finance ($YAHOO_URL), symbols $SYMBOLS"
			start_daemon producer "$DIR/producer.log" stockpipe-producer --brokers "$BROKER" --symbols "$SYMBOLS"
		else
			SOURCE="recorded Yahoo data from $FIXTURES (Yahoo is not reachable from here)"
			sp_log "Yahoo Finance is not reachable: replaying the recorded real market data instead"
			start_daemon yahoo-mirror "$DIR/yahoo-mirror.log" /usr/bin/python3 "$SP_ROOT/producer/test/fake_yahoo.py" \
				--fixtures "$FIXTURES" --port-file "$DIR/yahoo-mirror.port"
			wait_for 10 "local Yahoo mirror" test -s "$DIR/yahoo-mirror.port"
			# daily bars of the recorded symbols, once
			stockpipe-producer --once --always --symbols AAPL,MSFT,NVDA,WSU.DE --brokers "$BROKER" \
				--yahoo-url "http://127.0.0.1:$(cat "$DIR/yahoo-mirror.port")" --stats-interval 0 \
				>>"$DIR/producer.log" 2>&1 || sp_log "daily bars: see $DIR/producer.log"
			# the recorded 2024-10-02 AAPL session, one minute per second
			start_daemon producer "$DIR/producer.log" stockpipe-producer --brokers "$BROKER" \
				--source "replay:$FIXTURES/chart_AAPL_1d_1m.json" --speed 60
		fi
		echo "$SOURCE" >"$DIR/source"
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
	pid_alive "$DIR/producer.pid" && echo "producer:   running ($(cat "$DIR/source" 2>/dev/null))" || echo "producer:   stopped"
	SP_PGDIR=$DIR
	if ! pg_running; then
		echo "PostgreSQL: stopped"
		return 0
	fi
	echo "PostgreSQL: running on port $PG_PORT"
	psql_demo -c "SELECT kind, worker_index, state, messages, last_batch_at, last_error FROM stockpipe.workers ORDER BY 1, 2" \
		-c "SELECT topic, partition, next_offset, lag, rows_stored, dead_letters, last_message_at FROM stockpipe.consumer_status ORDER BY 1, 2" \
		-c "SELECT DISTINCT ON (symbol) symbol, ts, price, volume FROM stockpipe.live_stock ORDER BY symbol, ts DESC" \
		-c "SELECT count(*) AS daily_bars, count(DISTINCT symbol) AS symbols FROM stockpipe.historical_stock_data" \
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
	stop_daemon yahoo-mirror
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
