#!/usr/bin/env bash
# Attacks on a running pipeline (issue 9, items 1-5), each performed for
# real and shown refused or harmless:
#   1. a non-superuser database owner, and a role with only CREATE on the
#      database, plant operators and functions where the workers (running as
#      the bootstrap superuser) would once resolve them: nobody becomes a
#      superuser, and the planted code is never even called;
#   2. one role's 40 long jobs do not take every worker slot (the built-in
#      alert check keeps running); a role past VALID UNTIL runs nothing;
#   3. Kafka messages dated on 1,000 different days, or in year 9999, create
#      no partitions beyond the time window and stop no worker; a partition
#      dropped under a consumer is made again; a huge bad message is kept cut;
#   4. a user cannot plant e-mails in the outbox; mail goes only to allowed
#      domains and at most stockpipe.mail_rate_limit an hour per role;
#   5. a role with no grants holding advisory locks on stockpipe's table OIDs
#      blocks nothing; a stalled consumer shows in consumer_status.
. "$(dirname "$0")/common.sh"

e2e_start "stockpipe.smtp_url = 'smtp://127.0.0.1:9'" \
	"stockpipe.consumer_workers = 2" \
	"stockpipe.batch_max_wait = '10ms'"

consumer_pids() {
	q "SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity WHERE backend_type = 'stockpipe consumer'"
}
no_superuser_but_postgres() {
	query_is "SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolsuper" "postgres"
}
# attack_calls: how often the planted code ran, by whom.
attack_calls() { q "SELECT coalesce(string_agg(who, ',' ORDER BY at), 'none') FROM public.attack_log"; }

wait_for 30 "consumers running" query_is \
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'stockpipe consumer'" 3

# --- 0. Who can connect at all -------------------------------------------
# Peer authentication on the socket (only this script's user and postgres
# map to the superuser), SCRAM passwords on TCP: a local OS user is nobody.
nobody_psql() { runuser -u nobody -- env -u PGPASSFILE psql -X -At -w -d stockpipe "$@" -c "SELECT 1" 2>&1; }
check "another OS user cannot log in as postgres on the socket" eval \
	'nobody_psql -h "$PGHOST" -U postgres | grep -q "Peer authentication failed"'
check "... nor as any other role" eval 'nobody_psql -h "$PGHOST" -U stockpipe_user | grep -q "Peer authentication failed"'
check "on TCP without the password: refused" eval \
	'nobody_psql -h 127.0.0.1 -U postgres | grep -q "password"'
check "the password file is readable by its owner only" test "$(stat -c %a "$PGPASSFILE")" = 600
check_eq "on TCP with the password: in" "1" \
	"$(psql -X -At -w -h 127.0.0.1 -d stockpipe -c "SELECT 1" 2>&1)"

# --- 1. Planted operators and functions ---------------------------------
sp_psql >/dev/null <<'SQL'
CREATE TABLE public.attack_log (who text, at timestamptz DEFAULT clock_timestamp());
GRANT INSERT ON public.attack_log TO PUBLIC;
CREATE ROLE dbowner LOGIN;
ALTER DATABASE stockpipe OWNER TO dbowner;
CREATE ROLE creator LOGIN;
GRANT CREATE ON DATABASE stockpipe TO creator;
SQL
sp_pg_allow_login dbowner
sp_pg_allow_login creator

# (a) The database owner's operator ">"(float8, integer) in public: the
# mailer's "prev_close > 0" would pick it over pg_catalog's (an exact match
# wins over one needing a cast).
sp_psql -U dbowner >/dev/null <<'SQL'
CREATE FUNCTION public.evil_gt(float8, integer) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.attack_log (who) VALUES ('gt:' || current_user);
	BEGIN EXECUTE 'ALTER ROLE dbowner SUPERUSER'; EXCEPTION WHEN OTHERS THEN NULL; END;
	RETURN $1 > $2::float8;
END $$;
CREATE OPERATOR public.> (LEFTARG = float8, RIGHTARG = integer, FUNCTION = public.evil_gt);
SQL
q "INSERT INTO stockpipe.alert_event (owner, symbol, condition, threshold, email, price, quote_ts, prev_close)
   VALUES ('postgres', 'AAPL', 'price_above', 1, 'ops@example.com', 2, now(), 1.5)" >/dev/null
check "mailer tried to send the planted-operator bait" wait_for 30 "mailer attempt" query_is \
	"SELECT attempts > 0 FROM stockpipe.alert_event" t
check "mailer: the database owner did not become a superuser" no_superuser_but_postgres
check_eq "mailer: the planted operator was never called" "none" "$(attack_calls)"

# (b) The owner's public.unnest(integer[]): the consumers call unnest() on an
# integer[] of partitions when they (re)start.
sp_psql -U dbowner >/dev/null <<'SQL'
CREATE FUNCTION public.unnest(integer[]) RETURNS SETOF integer LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.attack_log (who) VALUES ('unnest:' || current_user);
	BEGIN EXECUTE 'ALTER ROLE dbowner SUPERUSER'; EXCEPTION WHEN OTHERS THEN NULL; END;
	RETURN QUERY SELECT * FROM pg_catalog.unnest($1);
END $$;
SQL
# (c) A role with only CREATE on the database: a schema named after the
# workers' role ("$user" comes first in the default search_path).
sp_psql -U creator >/dev/null <<'SQL'
CREATE SCHEMA postgres;
CREATE FUNCTION postgres.unnest(integer[]) RETURNS SETOF integer LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.attack_log (who) VALUES ('user-schema unnest:' || current_user);
	BEGIN EXECUTE 'ALTER ROLE creator SUPERUSER'; EXCEPTION WHEN OTHERS THEN NULL; END;
	RETURN QUERY SELECT * FROM pg_catalog.unnest($1);
END $$;
CREATE FUNCTION postgres.evil_gt(float8, integer) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.attack_log (who) VALUES ('user-schema gt:' || current_user);
	BEGIN EXECUTE 'ALTER ROLE creator SUPERUSER'; EXCEPTION WHEN OTHERS THEN NULL; END;
	RETURN $1 > $2::float8;
END $$;
CREATE OPERATOR postgres.> (LEFTARG = float8, RIGHTARG = integer, FUNCTION = postgres.evil_gt);
SQL
# Restart every worker so that each resolves its statements afresh.
before=$(consumer_pids)
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type LIKE 'stockpipe %'" >/dev/null
consumers_restarted() {
	query_is "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'stockpipe consumer'" 3 &&
		[ "$(consumer_pids)" != "$before" ]
}
check "workers restarted" wait_for 30 "consumers back" consumers_restarted
now=$(date +%s)
for i in 1 2 3 4 5 6 7 8; do
	printf 'SYM%d\t{"symbol":"SYM%d","ts":%d,"price":10}\n' "$i" "$i" $((now - i))
done | produce stock_live
printf 'IBM\t{"symbol":"IBM","date":"%s","close":200}\n' "$(date -u +%F)" | produce stock_daily
check "consumers stored quotes and a bar after the restart" wait_for 30 "9 rows" query_is \
	"SELECT (SELECT count(*) FROM stockpipe.live_stock) + (SELECT count(*) FROM stockpipe.historical_stock_data)" 9
q "UPDATE stockpipe.alert_event SET next_attempt_at = now()" >/dev/null
check "mailer tried again after its restart" wait_for 30 "second attempt" query_is \
	"SELECT attempts > 1 FROM stockpipe.alert_event" t
check "consumers, mailer, scheduler: no role became a superuser" no_superuser_but_postgres
check_eq "consumers, mailer, scheduler: no planted function or operator was called" "none" "$(attack_calls)"
q "DROP SCHEMA postgres CASCADE; DROP FUNCTION public.unnest(integer[]); DROP OPERATOR public.>(float8, integer);
   DELETE FROM stockpipe.alert_event" >/dev/null 2>&1

# --- 2. Jobs ---------------------------------------------------------------
q "CREATE ROLE greedy LOGIN; GRANT stockpipe_user TO greedy;
   CREATE ROLE lapsed LOGIN VALID UNTIL '2001-01-01'; GRANT stockpipe_user TO lapsed" >/dev/null
sp_pg_allow_login greedy
sp_psql -U greedy >/dev/null <<'SQL'
DO $$ BEGIN
	FOR i IN 1..40 LOOP
		PERFORM stockpipe.schedule('sleep' || i, '0 0 1 1 *', 'SELECT pg_sleep(4)');
		PERFORM stockpipe.run_job('sleep' || i);
	END LOOP;
END $$;
SQL
alert_checks() { q "SELECT count(*) FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid) WHERE j.name = 'alert_check' AND r.status = 'succeeded'"; }
# alert_check runs only when quotes were stored since its last run: tick
# publishes a quote of TICK, at most one a second, to keep it checking.
TICK_N=0
TICK_AT=-1
tick() {
	[ "$SECONDS" -ne "$TICK_AT" ] || return 0
	TICK_AT=$SECONDS
	TICK_N=$((TICK_N + 1))
	printf 'TICK\t{"symbol":"TICK","ts":%d,"price":1}\n' $((now - 3600 + TICK_N)) | produce stock_live
}
greedy_running() { q "SELECT count(*) FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid) WHERE j.owner = 'greedy' AND r.status = 'running'"; }
checks_before=$(alert_checks)
max_running=0
deadline=$((SECONDS + 12))
while [ $SECONDS -lt $deadline ]; do
	n=$(greedy_running)
	[ "$n" -gt "$max_running" ] && max_running=$n
	tick
	sleep 0.2
done
check "40 queued jobs of one role: at most max_job_runs_per_role (2) run at once" test "$max_running" -le 2
check "40 queued jobs of one role: they do run, 2 at a time" test "$max_running" -eq 2
check "the built-in alert check kept running meanwhile (quotes arriving)" test "$(alert_checks)" -ge $((checks_before + 2))
sp_psql -U greedy -c "DO \$\$ BEGIN FOR i IN 1..40 LOOP PERFORM stockpipe.unschedule('sleep' || i); END LOOP; END \$\$" >/dev/null
# A role past its VALID UNTIL runs nothing.
sp_psql -c "SET ROLE lapsed; SELECT stockpipe.schedule('late', '0 0 1 1 *', 'SELECT 1'); SELECT stockpipe.run_job('late')" >/dev/null
wait_for 20 "lapsed run" query_is \
	"SELECT count(*) FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid) WHERE j.name = 'late' AND r.status = 'failed'" 1
check_eq "a job of a role past VALID UNTIL fails with the reason" \
	'failed|role "lapsed" is past its VALID UNTIL time' \
	"$(q "SELECT r.status || '|' || r.message FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid) WHERE j.name = 'late'")"

# --- 3. Hostile messages ------------------------------------------------------
parts() { q "SELECT count(*) FROM pg_inherits WHERE inhparent = 'stockpipe.live_stock'::regclass"; }
parts_before=$(parts)
pids_before=$(consumer_pids)
msgs_before=$(q "SELECT coalesce(sum(messages), 0) FROM stockpipe.kafka_offsets WHERE topic = 'stock_live'")
now=$(date +%s)
{
	for i in $(seq 0 999); do
		printf 'DAYS\t{"symbol":"DAYS","ts":%d,"price":1}\n' $((now - i * 86400 - 3600))
	done
	printf 'AAPL\t{"symbol":"AAPL","ts":"9999-12-31T00:00:00Z","price":99999}\n'
	printf 'AAPL\t{"symbol":"AAPL","ts":"0001-01-01T00:00:00Z","price":1}\n'
} | produce stock_live
check "1,002 hostile quotes consumed" wait_for 60 "1002 more messages" query_is \
	"SELECT sum(messages) FROM stockpipe.kafka_offsets WHERE topic = 'stock_live'" $((msgs_before + 1002))
in_window=$(q "SELECT count(*) FROM stockpipe.live_stock WHERE symbol = 'DAYS'")
check "quotes within quote_max_age (90 days) stored, older ones dead letters" \
	test "$in_window" -ge 89 -a "$in_window" -le 91
check_eq "every other hostile quote is a dead letter with the reason" "$((1002 - in_window))" \
	"$(q "SELECT count(*) FROM stockpipe.dead_letter WHERE error ~ 'stockpipe.(quote_max_age|message_max_future)'")"
check "partitions made: at most the window's days (<= 93 new)" test $(($(parts) - parts_before)) -le 93
check_eq "no consumer crashed or restarted" "$pids_before" "$(consumer_pids)"
check_eq "a quote dated 9999-12-31 is not AAPL's latest quote" "" \
	"$(q "SELECT price FROM stockpipe.live_stock WHERE symbol = 'AAPL'")"
# A partition dropped (as upkeep does) under a consumer that wrote to it:
# yesterday's (UTC), which the quotes above reached.
noon=$((now / 86400 * 86400 - 86400 + 43200))
yday=$(date -u -d "@$noon" +%Y%m%d)
q "DROP TABLE stockpipe.live_stock_p$yday" >/dev/null
printf 'DAYS\t{"symbol":"DAYS","ts":%d,"price":2}\n' $noon | produce stock_live
check "a quote for a dropped partition's day is stored (partition made again)" wait_for 30 "row" query_is \
	"SELECT count(*) FROM stockpipe.live_stock WHERE symbol = 'DAYS' AND price = 2" 1
check_eq "... without a consumer restart" "$pids_before" "$(consumer_pids)"
# A 200 kB bad message costs at most max_message_bytes.
head -c 200000 /dev/zero | tr '\0' 'x' | sed 's/^/BIG\t/' | produce stock_live
wait_for 30 "big dead letter" query_is "SELECT count(*) FROM stockpipe.dead_letter WHERE payload_bytes = 200000" 1
check_eq "a 200 kB bad message is kept cut to max_message_bytes, its size noted" "65536|200000" \
	"$(q "SELECT octet_length(payload) || '|' || payload_bytes FROM stockpipe.dead_letter WHERE payload_bytes = 200000")"

# --- 4. The outbox is no relay -------------------------------------------------
q "CREATE ROLE spammer LOGIN; GRANT stockpipe_user TO spammer" >/dev/null
sp_pg_allow_login spammer
check_eq "a user cannot insert into the outbox" "permission denied for table alert_event" \
	"$(sp_psql -U spammer -c "INSERT INTO stockpipe.alert_event (owner, symbol, condition, email, price, quote_ts)
	   VALUES ('spammer', 'X', 'price_above', 'victim@example.com', 1, now())" 2>&1 | sed 's/^ERROR: *//')"
check_eq "a user cannot run the checker" "permission denied for function check_alerts" \
	"$(sp_psql -U spammer -c "SELECT stockpipe.check_alerts()" 2>&1 | sed 's/^ERROR: *//')"
sp_psql -U spammer -c "SELECT stockpipe.set_alert('R' || i, 'price_above', 1, 'me@elsewhere.org', '0') FROM generate_series(1, 5) i" >/dev/null
sp_psql -c "ALTER SYSTEM SET stockpipe.mail_allowed_domains = 'example.com'" \
	-c "ALTER SYSTEM SET stockpipe.mail_rate_limit = 3" -c "SELECT pg_reload_conf()" >/dev/null
wait_for 10 "settings reloaded" query_is "SHOW stockpipe.mail_rate_limit" 3
check "set_alert refuses a domain outside mail_allowed_domains" eval \
	"sp_psql -U spammer -c \"SELECT stockpipe.set_alert('R1', 'price_above', 1, 'x@evil.org')\" 2>&1 | grep -q 'may not be sent'"
sp_psql -U spammer -c "SELECT stockpipe.set_alert('R' || i, 'price_above', 1, 'me@example.com', '0') FROM generate_series(1, 5) i" >/dev/null
now=$(date +%s)
for i in 1 2 3 4 5; do printf 'R%d\t{"symbol":"R%d","ts":%d,"price":5}\n' $i $i $now; done | produce stock_live
check "10 firings recorded" wait_for 30 "10 events" query_is "SELECT count(*) FROM stockpipe.alert_event WHERE owner = 'spammer'" 10
check_eq "rule to a domain no longer allowed: failed, not sent; over the hourly limit: suppressed" \
	"failed:5 pending:3 suppressed:2" \
	"$(q "SELECT string_agg(status || ':' || n, ' ' ORDER BY status) FROM (SELECT CASE WHEN status = 'sent' THEN 'pending' ELSE status END AS status, count(*) n FROM stockpipe.alert_event WHERE owner = 'spammer' GROUP BY 1) s")"
sp_psql -c "ALTER SYSTEM RESET stockpipe.mail_allowed_domains" \
	-c "ALTER SYSTEM RESET stockpipe.mail_rate_limit" -c "SELECT pg_reload_conf()" >/dev/null

# --- 5. Locks and monitoring ----------------------------------------------------
q "CREATE ROLE nogrants LOGIN" >/dev/null
sp_pg_allow_login nogrants
{
	echo "SELECT pg_advisory_lock(x) FROM (VALUES (16384::bigint)) v(x);"
	q "SELECT 'SELECT pg_advisory_lock(' || oid::bigint || ');' FROM pg_class WHERE relnamespace = 'stockpipe'::regnamespace AND relkind IN ('r', 'p')"
	echo "SELECT pg_sleep(30);"
} | sp_psql -U nogrants >/dev/null 2>&1 &
SP_PIDS="$SP_PIDS $!"
wait_for 10 "advisory locks held" query_is "SELECT count(*) > 5 FROM pg_locks WHERE locktype = 'advisory'" t
printf 'LOCKD\t{"symbol":"LOCKD","ts":%d,"price":3}\n' $((now - 20 * 86400)) | produce stock_live
check "advisory locks on stockpipe's OIDs do not block a new partition" wait_for 20 "LOCKD stored" query_is \
	"SELECT count(*) FROM stockpipe.live_stock WHERE symbol = 'LOCKD'" 1
checks_before=$(alert_checks)
more_alert_checks() { tick; [ "$(alert_checks)" -ge $((checks_before + 2)) ]; }
check "... nor the alert check" wait_for 20 "alert checks" more_alert_checks
# A stalled consumer: live_stock locked by a superuser's transaction.
echo "BEGIN; LOCK TABLE stockpipe.live_stock IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(8); COMMIT;" |
	sp_psql >/dev/null 2>&1 &
locker=$!
SP_PIDS="$SP_PIDS $locker"
wait_for 10 "lock held" query_is "SELECT count(*) FROM pg_locks WHERE relation = 'stockpipe.live_stock'::regclass AND mode = 'AccessExclusiveLock' AND granted" 1
now=$(date +%s)
for i in $(seq 1 20); do printf 'STALL%d\t{"symbol":"STALL%d","ts":%d,"price":4}\n' $i $i $now; done | produce stock_live
check "consumer_status shows the lag and how long the owner has been stalled" wait_for 15 "stall visible" query_is \
	"SELECT sum(lag) > 0 AND max(stalled_for) > interval '2 seconds' FROM stockpipe.consumer_status WHERE topic = 'stock_live'" t
wait "$locker"
check "after the lock is gone the lag drains to 0" wait_for 30 "lag 0" query_is \
	"SELECT sum(lag) FROM stockpipe.consumer_status WHERE topic = 'stock_live'" 0
check_eq "... and stalled_for is empty again" "" \
	"$(q "SELECT max(stalled_for) FROM stockpipe.consumer_status WHERE topic = 'stock_live'")"

exit $SP_TEST_FAILED
