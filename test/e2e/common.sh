# test/e2e/common.sh: set-up shared by the end-to-end tests.  Each test gets
# its own stockpipe-broker and PostgreSQL cluster in a fresh folder, so tests
# never see each other's rows, and everything is stopped when it exits.

. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

# Stop everything; keep the folder (logs, data) only when a check failed
# or SP_KEEP is set.
e2e_exit() {
	sp_cleanup
	if [ -n "${E2E_DIR:-}" ]; then
		if [ "$SP_TEST_FAILED" != 0 ] || [ -n "${SP_KEEP:-}" ]; then
			echo "# logs and data kept in $E2E_DIR"
		else
			rm -rf "$E2E_DIR"
		fi
	fi
}
trap e2e_exit EXIT

# e2e_start [EXTRA_CONF_LINES...]: broker + cluster + database + extension.
e2e_start() {
	E2E_DIR=$(sp_make_workdir)
	sp_broker_start "$E2E_DIR" 4 || exit 1
	sp_pg_init "$E2E_DIR" "$(sp_free_port)" \
		"stockpipe.database = 'stockpipe'" \
		"stockpipe.kafka_brokers = '$SP_BROKER'" \
		"$@" || exit 1
	sp_pg_start || { cat "$E2E_DIR/postgres.log" >&2; exit 1; }
	createdb stockpipe
	export PGDATABASE=stockpipe
	sp_psql -c "CREATE EXTENSION stockpipe"
}

q() { sp_psql -c "$1" 2>/dev/null; }

# kcat producing lines "KEY<TAB>JSON" from stdin to TOPIC.
produce() { kcat -P -b "$SP_BROKER" -t "$1" -K $'\t' -z lz4 -X linger.ms=5; }

# e2e_rows_equal SQL N: true once the query returns N (for wait_for).
query_is() { [ "$(q "$1")" = "$2" ]; }

# e2e_standby_start: a hot standby of the cluster e2e_start made, by
# pg_basebackup -R (streaming replication, asynchronous), in
# $E2E_DIR/standby on port SB_PORT; stopped at exit.  qs SQL queries it;
# sb_ctl ARGS runs pg_ctl on it.
e2e_standby_start() {
	SB=$E2E_DIR/standby
	SB_PORT=$(sp_free_port)
	echo "local   replication  all  peer map=stockpipe" | as_pg tee -a "$E2E_DIR/pgdata/pg_hba.conf" >/dev/null
	q "SELECT pg_reload_conf()" >/dev/null
	as_pg mkdir -m 700 "$SB"
	as_pg "$SP_PGBIN/pg_basebackup" -D "$SB/pgdata" -h "$E2E_DIR" -p "$PGPORT" -U postgres -R -X stream -c fast \
		>"$E2E_DIR/basebackup.log" 2>&1 || { cat "$E2E_DIR/basebackup.log" >&2; return 1; }
	echo "port = $SB_PORT" | as_pg tee -a "$SB/pgdata/postgresql.conf" >/dev/null
	trap 'e2e_standby_stop; e2e_exit' EXIT
	sb_ctl start || { cat "$E2E_DIR/standby.log" >&2; return 1; }
}
sb_ctl() { as_pg "$SP_PGBIN/pg_ctl" -D "$SB/pgdata" -l "$E2E_DIR/standby.log" -w -t 60 "$@" >/dev/null; }
e2e_standby_stop() {
	if [ -n "${SB:-}" ] && [ -f "$SB/pgdata/postmaster.pid" ]; then sb_ctl -m immediate stop 2>/dev/null; fi
	return 0
}
qs() { PGPORT=$SB_PORT q "$1"; }
