# scripts/lib.sh: shell functions shared by scripts/test.sh, scripts/demo.sh,
# the end-to-end tests and the benchmarks.  Source it; it defines functions
# and a few variables, and runs nothing by itself.
#
# Every server it starts listens on loopback only, in a folder it creates,
# and is stopped by sp_cleanup (install it with `trap sp_cleanup EXIT`).

SP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SP_PGBIN=${SP_PGBIN:-/usr/lib/postgresql/15/bin}
SP_BIN=${SP_BIN:-$SP_ROOT/bin}

sp_log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
sp_die() { sp_log "ERROR: $*"; exit 1; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Packages: scripts/install-deps.sh (test.sh and demo.sh run it).

# Build and install the extension and the programs (make everything).
sp_build() {
	make -C "$SP_ROOT" -s PG_CONFIG="$SP_PGBIN/pg_config" everything >/dev/null
	as_root make -C "$SP_ROOT" -s PG_CONFIG="$SP_PGBIN/pg_config" install-everything >/dev/null
}

# Run a command as the postgres OS user (initdb and postgres refuse root).
as_pg() {
	if [ "$(id -un)" = postgres ]; then "$@"; else as_root runuser -u postgres -- "$@"; fi
}

# A folder the postgres user owns, for data directories and logs.
sp_make_workdir() {
	local d
	d=$(mktemp -d "${TMPDIR:-/tmp}/stockpipe.XXXXXX")
	chmod 755 "$d"
	as_root chown postgres:postgres "$d"
	echo "$d"
}

# A TCP port nobody listens on (the kernel picks it).
sp_free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND until it succeeds.
wait_for() {
	local timeout=$1 what=$2; shift 2
	local deadline=$((SECONDS + timeout))
	until "$@" >/dev/null 2>&1; do
		if [ $SECONDS -ge $deadline ]; then
			sp_log "timed out after ${timeout}s waiting for: $what"
			return 1
		fi
		sleep 0.1
	done
}

# sp_broker_start DIR PARTITIONS [FLAGS...]: start stockpipe-broker; sets SP_BROKER
# (bootstrap address) and SP_BROKER_PID.
sp_broker_start() {
	local dir=$1 parts=${2:-4}; shift 2
	rm -f "$dir/broker.addr"
	"$SP_BIN/stockpipe-broker" --partitions "$parts" --address-file "$dir/broker.addr" "$@" \
		>"$dir/broker.out" 2>"$dir/broker.log" &
	SP_BROKER_PID=$!
	SP_PIDS="${SP_PIDS:-} $SP_BROKER_PID"
	wait_for 10 "stockpipe-broker address" test -s "$dir/broker.addr" || return 1
	SP_BROKER=$(cat "$dir/broker.addr")
}

# sp_pg_init DIR PORT [conf lines...]: create a cluster in DIR/pgdata.
#
# Nobody gets in without proving who they are: on the Unix socket, peer
# authentication maps the operating-system user running this script (and
# postgres) to the database superuser postgres, and nobody else to anyone;
# on TCP (127.0.0.1), SCRAM passwords.  The superuser's password is random
# and kept in DIR/pgpass, readable by this script's user only, which libpq
# reads through PGPASSFILE.  sp_pg_allow_login lets this user log in as
# another role.
sp_pg_init() {
	local dir=$1 port=$2 password me
	shift 2
	me=$(id -un)
	password=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
	( umask 077; printf '%s\n' "$password" >"$dir/initdb.pw" )
	as_root chown postgres "$dir/initdb.pw"
	as_pg "$SP_PGBIN/initdb" -D "$dir/pgdata" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
		--pwfile="$dir/initdb.pw" -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		{ rm -f "$dir/initdb.pw"; cat "$dir/initdb.log" >&2; return 1; }
	rm -f "$dir/initdb.pw"
	{
		echo "local   all  all                 peer map=stockpipe"
		echo "host    all  all  127.0.0.1/32   scram-sha-256"
		echo "host    all  all  ::1/128        scram-sha-256"
	} | as_pg tee "$dir/pgdata/pg_hba.conf" >/dev/null
	{
		echo "stockpipe  postgres  postgres"
		[ "$me" != postgres ] && echo "stockpipe  $me  postgres"
	} | as_pg tee "$dir/pgdata/pg_ident.conf" >/dev/null
	( umask 077; printf '127.0.0.1:%s:*:postgres:%s\nlocalhost:%s:*:postgres:%s\n' \
		"$port" "$password" "$port" "$password" >"$dir/pgpass" )
	{
		echo "listen_addresses = '127.0.0.1'"
		echo "port = $port"
		echo "unix_socket_directories = '$dir'"
		echo "shared_preload_libraries = 'stockpipe'"
		echo "max_worker_processes = 40"
		echo "log_line_prefix = '%m [%p] %b '"
		echo "password_encryption = 'scram-sha-256'"
		printf '%s\n' "$@"
	} | as_pg tee -a "$dir/pgdata/postgresql.conf" >/dev/null
	SP_PGDIR=$dir
	export PGHOST=$dir PGPORT=$port PGUSER=postgres PGPASSFILE=$dir/pgpass
}

# sp_pg_allow_login ROLE [PASSWORD]: let this script's user connect as ROLE
# on the socket (peer map); with PASSWORD, also give ROLE that password and
# put it in PGPASSFILE for TCP.  The cluster must be running.
sp_pg_allow_login() {
	local role=$1 password=${2:-}
	echo "stockpipe  $(id -un)  $role" | as_pg tee -a "$SP_PGDIR/pgdata/pg_ident.conf" >/dev/null
	if [ -n "$password" ]; then
		printf '%s\n' "ALTER ROLE :\"role\" PASSWORD :'pw';" |
			psql -X -q -d postgres -v ON_ERROR_STOP=1 -v role="$role" -v pw="$password" >/dev/null || return 1
		printf '127.0.0.1:%s:*:%s:%s\n' "$PGPORT" "$role" "$password" >>"$PGPASSFILE"
	fi
	psql -X -q -d postgres -c "SELECT pg_reload_conf()" >/dev/null
	wait_for 10 "login as $role" psql -X -q -d postgres -U "$role" -c "SELECT 1"
}

# sp_pg_start: start the cluster.  With SP_FAKE_TIME set (a time date(1)
# understands, e.g. "2026-12-02 02:30 UTC"), the server's clock is moved
# there by libfaketime and runs on from it: tests pin the hour instead of
# depending on when they run.
sp_pg_start() {
	local fake=()
	if [ -n "${SP_FAKE_TIME:-}" ]; then
		fake=(env "LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
			"FAKETIME=$(printf '%+d' $(( $(date -u -d "$SP_FAKE_TIME" +%s) - $(date -u +%s) )))"
			"FAKETIME_DONT_FAKE_MONOTONIC=1")
	fi
	as_pg "${fake[@]}" "$SP_PGBIN/pg_ctl" -D "$SP_PGDIR/pgdata" -l "$SP_PGDIR/postgres.log" -w -t 60 start >/dev/null
}

# sp_pg_stop [MODE]: fast by default; immediate simulates a crash.
sp_pg_stop() {
	as_pg "$SP_PGBIN/pg_ctl" -D "$SP_PGDIR/pgdata" -m "${1:-fast}" -w -t 60 stop >/dev/null
}

sp_psql() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }

# sp_cleanup: stop everything this shell started.
sp_cleanup() {
	local p
	if [ -n "${SP_PGDIR:-}" ] && [ -f "$SP_PGDIR/pgdata/postmaster.pid" ]; then
		as_pg "$SP_PGBIN/pg_ctl" -D "$SP_PGDIR/pgdata" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	for p in ${SP_PIDS:-}; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	SP_PIDS=""
	return 0
}

# The benchmarks' option checks.  sp_usage: the script's "# Usage:" comment
# block, up to the line that matches SP_USAGE_END (default KEEP=1).
# sp_need_count OPTION VALUE: VALUE is a positive whole number, else say so,
# show the usage and exit 2.
sp_usage() { sed -n "/^# Usage:/,/^#.*${SP_USAGE_END:-KEEP=1}/p" "$0" | sed 's/^# \{0,1\}//'; }
sp_is_count() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }
sp_need_count() {
	sp_is_count "${2:-}" || { echo "$(basename "$0"): $1 needs a positive integer, not '${2:-}'" >&2; sp_usage >&2; exit 2; }
}

# sp_bench_exit: the EXIT trap of the benchmarks: stop everything, remove
# the work folder $DIR unless KEEP=1 (then say where it is), keep the
# script's exit status.
sp_bench_exit() {
	local rc=$?
	sp_cleanup
	if [ -n "${DIR:-}" ] && [ "${KEEP:-0}" != 1 ]; then rm -rf "$DIR"; fi
	[ -n "${DIR:-}" ] && [ "${KEEP:-0}" = 1 ] && sp_log "kept $DIR"
	exit $rc
}

# TAP-style results, counted by scripts/test.sh.
SP_TEST_FAILED=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; SP_TEST_FAILED=1; }
# check DESCRIPTION COMMAND...: ok if COMMAND succeeds.
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi
}
