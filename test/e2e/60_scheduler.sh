#!/usr/bin/env bash
# The scheduler and its job run workers (issue 4, items 3, 4 and 7): jobs run
# repeatedly as their owner, failures are retried then given up, timeouts
# cancel, a job never overlaps itself, run_job() runs a disabled job, a run
# interrupted by a server stop is marked failed, a dropped owner fails its
# runs without harming the scheduler, and new daily bars trigger exactly one
# L30D refresh.
. "$(dirname "$0")/common.sh"

e2e_start "stockpipe.l30d_debounce = '1s'" "stockpipe.job_history_retention = '1d'"

# A non-superuser owner, with rights on a table its jobs write to.
q "CREATE ROLE jobber LOGIN; GRANT stockpipe_user TO jobber;
   CREATE TABLE public.tick (ts timestamptz NOT NULL DEFAULT now(), who name NOT NULL DEFAULT current_user);
   GRANT SELECT, INSERT ON public.tick TO jobber" >/dev/null
sp_pg_allow_login jobber
# as_jobber SQL: run SQL as jobber.
as_jobber() { sp_psql -U jobber -c "$1" 2>/dev/null; }
# runs JOB [WHERE...]: "status|attempt|trigger" of the job's runs, oldest first.
runs() {
	q "SELECT string_agg(r.status || '|' || r.attempt || '|' || r.trigger, ' ' ORDER BY r.runid)
	     FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid) WHERE j.name = '$1' ${2:-}"
}
count_runs() {
	q "SELECT count(*) FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid) WHERE j.name = '$1' ${2:-}"
}
at_least() { [ "$(q "$1")" -ge "$2" ]; }
scheduler_pid() { q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'stockpipe scheduler'"; }

has_scheduler() { [ -n "$(scheduler_pid)" ]; }
wait_for 30 "scheduler running" has_scheduler
check "scheduler runs as a background worker" has_scheduler
scheduler_pid_before=$(scheduler_pid)

# --- A repeating job runs as its owner, every 2 seconds.
as_jobber "SELECT stockpipe.schedule('tick', '2 seconds', 'INSERT INTO public.tick DEFAULT VALUES')" >/dev/null
wait_for 30 "3 succeeded runs of tick" at_least \
	"SELECT count(*) FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid) WHERE j.name = 'tick' AND r.status = 'succeeded'" 3
check "repeating job has 3+ succeeded runs" at_least \
	"SELECT count(*) FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid) WHERE j.name = 'tick' AND r.status = 'succeeded'" 3
check_eq "repeating job ran as its owner, not as a superuser" "jobber" \
	"$(q "SELECT string_agg(DISTINCT who::text, ',') FROM public.tick")"
check_eq "succeeded run records the command's result" "INSERT 0 1" \
	"$(q "SELECT DISTINCT message FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid) WHERE j.name = 'tick' AND r.status = 'succeeded'")"
check_eq "the owner sees its runs through row-level security" "t" \
	"$(as_jobber "SELECT count(*) >= 3 FROM stockpipe.job_run WHERE status = 'succeeded'")"
as_jobber "SELECT stockpipe.unschedule('tick')" >/dev/null

# --- A failing job is retried twice, one second apart, then given up.
as_jobber "SELECT stockpipe.schedule('fail', '0 0 1 1 *', 'SELECT 1/0', retries => 2, retry_delay => '1 second')" >/dev/null
as_jobber "SELECT stockpipe.run_job('fail')" >/dev/null
wait_for 30 "3 failed runs of fail" query_is \
	"SELECT count(*) FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid) WHERE j.name = 'fail' AND r.status = 'failed'" 3
# Prove no fourth attempt comes: watch a bounded window of 3 retry delays.
sleep 3
check_eq "failing job: attempts 1, 2, 3 all failed, then no more" \
	"failed|1|manual failed|2|retry failed|3|retry" "$(runs fail)"
check_eq "failed run records the error" "division by zero" \
	"$(q "SELECT DISTINCT message FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid) WHERE j.name = 'fail'")"
check_eq "retries wait retry_delay after the failure" "t" \
	"$(q "SELECT bool_and(r.scheduled_at >= p.finished_at + interval '1 second')
	        FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid)
	        JOIN stockpipe.job_run p ON p.jobid = r.jobid AND p.attempt = r.attempt - 1
	       WHERE j.name = 'fail' AND r.trigger = 'retry'")"

# A command that cannot run in one transaction fails cleanly, with the reason.
as_jobber "SELECT stockpipe.schedule('txn', '0 0 1 1 *', 'COMMIT')" >/dev/null
runid=$(as_jobber "SELECT stockpipe.run_job('txn')")
wait_for 10 "COMMIT job failed" query_is "SELECT status FROM stockpipe.job_run WHERE runid = $runid" failed
check "a command with COMMIT fails with the reason" grep -q "^the job's command cannot run in a job: SPI_ERROR_TRANSACTION" \
	<<<"$(q "SELECT message FROM stockpipe.job_run WHERE runid = $runid")"

# --- A run longer than the job's timeout is cancelled and recorded 'timed out'.
as_jobber "SELECT stockpipe.schedule('slow', '0 0 1 1 *', 'SELECT pg_sleep(10)', timeout => '1 second')" >/dev/null
as_jobber "SELECT stockpipe.run_job('slow')" >/dev/null
wait_for 8 "slow run timed out" query_is "$(printf "SELECT count(*) FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid) WHERE j.name = 'slow' AND r.status = 'timed out'")" 1
check_eq "job over its timeout is recorded 'timed out' within seconds" "timed out|true" \
	"$(q "SELECT r.status || '|' || (r.finished_at - r.started_at < interval '4 seconds')
	        FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid) WHERE j.name = 'slow'")"
check "timed-out run says why" grep -q "timeout of 00:00:01" <<<"$(q "SELECT message FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid) WHERE j.name = 'slow'")"

# --- A command that swallows its statement timeout is ended by the
# scheduler (timeout + 5 s grace).
stubborn='DO $d$BEGIN PERFORM pg_sleep(10); EXCEPTION WHEN query_canceled THEN PERFORM pg_sleep(60); END$d$'
as_jobber "SELECT stockpipe.schedule('stubborn', '0 0 1 1 *', \$c\$$stubborn\$c\$, timeout => '1 second')" >/dev/null
runid=$(as_jobber "SELECT stockpipe.run_job('stubborn')")
wait_for 15 "stubborn run timed out" query_is "SELECT status FROM stockpipe.job_run WHERE runid = $runid" "timed out"
check "scheduler times out a run that ignores its statement timeout" grep -q "^cancelled by the scheduler" \
	<<<"$(q "SELECT message FROM stockpipe.job_run WHERE runid = $runid")"
wait_for 10 "stubborn worker terminated" query_is \
	"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'stockpipe job stubborn run $runid'" 0
check_eq "scheduler terminated the worker of the timed-out run" "0" \
	"$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'stockpipe job stubborn run $runid'")"

# --- A job worker killed mid-run: its run is failed, not left 'running'.
as_jobber "SELECT stockpipe.schedule('victim', '0 0 1 1 *', 'SELECT pg_sleep(60)')" >/dev/null
runid=$(as_jobber "SELECT stockpipe.run_job('victim')")
wait_for 10 "victim run in progress" query_is \
	"SELECT count(*) FROM stockpipe.job_run r JOIN pg_stat_activity a ON a.pid = r.pid WHERE r.runid = $runid" 1
q "SELECT pg_terminate_backend(pid) FROM stockpipe.job_run WHERE runid = $runid" >/dev/null
wait_for 10 "terminated run failed" query_is "SELECT status FROM stockpipe.job_run WHERE runid = $runid" failed
check "a terminated job worker's run is failed with the reason" grep -q "^the job worker exited without recording an outcome" \
	<<<"$(q "SELECT message FROM stockpipe.job_run WHERE runid = $runid")"

# --- A due time missed by more than 60 s (as when the server was down):
# catch_up runs it once, otherwise it is recorded skipped.  Simulated by
# moving next_run_at back.
as_jobber "SELECT stockpipe.schedule('catchup', '0 0 1 1 *', 'SELECT 1', catch_up => true)" >/dev/null
as_jobber "SELECT stockpipe.schedule('nocatchup', '0 0 1 1 *', 'SELECT 1')" >/dev/null
q "UPDATE stockpipe.job SET next_run_at = now() - interval '10 minutes' WHERE name IN ('catchup', 'nocatchup')" >/dev/null
wait_for 10 "catch-up run succeeded" query_is "$(printf "SELECT count(*) FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid) WHERE j.name = 'catchup' AND r.status = 'succeeded'")" 1
wait_for 10 "missed run skipped" query_is "$(printf "SELECT count(*) FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid) WHERE j.name = 'nocatchup'")" 1
check_eq "missed run with catch_up: one catch-up run" "succeeded|1|catch-up" "$(runs catchup)"
check_eq "missed run without catch_up: recorded skipped" "skipped|1|schedule" "$(runs nocatchup)"
check_eq "after a missed run, the next run is in the future" "true|true" \
	"$(q "SELECT string_agg((next_run_at > now())::text, '|' ORDER BY name) FROM stockpipe.job WHERE name IN ('catchup', 'nocatchup')")"

# --- A job never overlaps itself: every 2 s, each run takes 5 s.
as_jobber "SELECT stockpipe.schedule('overlap', '2 seconds', 'SELECT pg_sleep(5)')" >/dev/null
max_running=0
deadline=$((SECONDS + 12))
while [ $SECONDS -lt $deadline ]; do
	n=$(count_runs overlap "AND r.status = 'running'")
	[ "${n:-0}" -gt "$max_running" ] && max_running=$n
	sleep 0.2
done
check_eq "overlapping job: never two runs at once (12 s observed)" "1" "$max_running"
check "overlapping job: runs due meanwhile are recorded skipped" at_least \
	"SELECT count(*) FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid) WHERE j.name = 'overlap' AND r.status = 'skipped' AND r.message LIKE '%still running%'" 1
check "overlapping job: a run completed" at_least \
	"SELECT count(*) FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid) WHERE j.name = 'overlap' AND r.status = 'succeeded'" 1
as_jobber "SELECT stockpipe.unschedule('overlap')" >/dev/null

# --- run_job() runs a disabled job at once.
as_jobber "SELECT stockpipe.schedule('manual', '0 0 1 1 *', 'INSERT INTO public.tick DEFAULT VALUES', enabled => false)" >/dev/null
runid=$(as_jobber "SELECT stockpipe.run_job('manual')")
wait_for 10 "manual run succeeded" query_is "SELECT status FROM stockpipe.job_run WHERE runid = $runid" succeeded
check_eq "run_job() runs a disabled job at once" "succeeded|manual" \
	"$(q "SELECT status || '|' || trigger FROM stockpipe.job_run WHERE runid = $runid")"

# --- A job whose owner was dropped fails; the scheduler carries on.
q "CREATE ROLE ghost LOGIN; GRANT stockpipe_user TO ghost" >/dev/null
sp_pg_allow_login ghost
sp_psql -U ghost -c "SELECT stockpipe.schedule('haunt', '2 seconds', 'SELECT 1')" >/dev/null 2>&1
q "DROP ROLE ghost" >/dev/null
wait_for 15 "2 failed runs of haunt" at_least \
	"SELECT count(*) FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid) WHERE j.name = 'haunt' AND r.status = 'failed'" 2
check_eq "dropped owner: runs fail with a clear message, never succeed" 'role "ghost" does not exist|0' \
	"$(q "SELECT string_agg(DISTINCT message, ',') FILTER (WHERE status = 'failed') || '|' || count(*) FILTER (WHERE status = 'succeeded')
	        FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid) WHERE j.name = 'haunt'")"
runid=$(as_jobber "SELECT stockpipe.run_job('manual')")
wait_for 10 "manual run after the dropped owner" query_is "SELECT status FROM stockpipe.job_run WHERE runid = $runid" succeeded
check_eq "scheduler keeps working after a dropped owner (same process)" "succeeded|$scheduler_pid_before" \
	"$(q "SELECT status FROM stockpipe.job_run WHERE runid = $runid")|$(scheduler_pid)"
check_eq "dropped owner warned once in the log" "1" \
	"$(grep -c 'job "haunt" run [0-9]* failed: role "ghost" does not exist' "$E2E_DIR/postgres.log")"
q "DELETE FROM stockpipe.job WHERE name = 'haunt'" >/dev/null

# --- A run interrupted by a server stop is marked failed at the next start.
as_jobber "SELECT stockpipe.schedule('long', '0 0 1 1 *', 'SELECT pg_sleep(60)')" >/dev/null
runid=$(as_jobber "SELECT stockpipe.run_job('long')")
wait_for 10 "long run in progress" query_is \
	"SELECT count(*) FROM stockpipe.job_run r JOIN pg_stat_activity a ON a.pid = r.pid WHERE r.runid = $runid AND r.status = 'running'" 1
check_eq "a running job shows in pg_stat_activity as its owner, with its name" "jobber|stockpipe job long run $runid" \
	"$(q "SELECT a.usename || '|' || a.application_name FROM stockpipe.job_run r JOIN pg_stat_activity a ON a.pid = r.pid WHERE r.runid = $runid")"
# History older than stockpipe.job_history_retention (1 day here) goes at
# the scheduler's first tick after the restart below, then hourly.
q "INSERT INTO stockpipe.job_run (jobid, trigger, scheduled_at, started_at, finished_at, status)
   SELECT jobid, 'manual', now() - d, now() - d, now() - d, 'succeeded'
     FROM stockpipe.job, (VALUES (interval '2 days'), (interval '2 hours')) v(d) WHERE name = 'manual'" >/dev/null
sp_pg_stop immediate
sp_pg_start || { cat "$E2E_DIR/postgres.log" >&2; exit 1; }
wait_for 30 "interrupted run marked failed" query_is "SELECT status FROM stockpipe.job_run WHERE runid = $runid" failed
check_eq "run left 'running' by a server stop is failed after restart" \
	"failed|server stopped while the run was in progress|true" \
	"$(q "SELECT status || '|' || message || '|' || (finished_at IS NOT NULL) FROM stockpipe.job_run WHERE runid = $runid")"

wait_for 10 "old history purged" query_is \
	"SELECT count(*) FROM stockpipe.job_run WHERE finished_at < now() - interval '1 day'" 0
check_eq "history purge: runs older than job_history_retention deleted, newer kept" "0|1" \
	"$(q "SELECT count(*) FILTER (WHERE finished_at < now() - interval '1 day') || '|' ||
	            count(*) FILTER (WHERE finished_at BETWEEN now() - interval '3 hours' AND now() - interval '1 hour')
	       FROM stockpipe.job_run")"

# --- New daily bars trigger one L30D refresh, once they stop arriving.
bar() { printf '%s\t{"symbol":"%s","date":"%s","open":%s,"high":%s,"low":%s,"close":%s,"adj_close":%s,"volume":%s}\n' "$1" "$1" "$2" "$3" "$4" "$5" "$6" "$6" "$7"; }
{
	bar AAPL 2026-11-24 99 101 98 100 1000
	bar AAPL 2026-11-25 100 102 99 101 1000
	bar AAPL 2026-11-27 101 103 100 102 2000
	bar MSFT 2026-11-27 400 410 395 405 3000
} | produce stock_daily
wait_for 30 "4 daily bars stored" query_is "SELECT count(*) FROM stockpipe.historical_stock_data" 4
wait_for 30 "event-triggered l30d_refresh succeeded" query_is \
	"SELECT count(*) FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid) WHERE j.name = 'l30d_refresh' AND r.trigger = 'event' AND r.status = 'succeeded'" 1
# Prove no second refresh follows for the same burst: watch 3 debounce periods.
sleep 3
check_eq "new daily bars: exactly one event-triggered l30d_refresh run" "succeeded|1|event" "$(runs l30d_refresh "AND r.trigger = 'event'")"
check_eq "l30d_summary filled by the refresh" "AAPL|3 MSFT|1" \
	"$(q "SELECT string_agg(symbol || '|' || days_used, ' ' ORDER BY symbol) FROM stockpipe.l30d_summary")"

# --- No free background worker slot: the run stays 'scheduled', the log
# says so once, and it starts once slots are free again.  The static
# workers alone fill max_worker_processes.
static=$(q "SELECT count(*) FROM pg_stat_activity
	     WHERE backend_type IN ('logical replication launcher') OR (backend_type LIKE 'stockpipe %' AND backend_type <> 'stockpipe job')")
sp_pg_stop fast
echo "max_worker_processes = $static" | as_pg tee -a "$E2E_DIR/pgdata/postgresql.conf" >/dev/null
sp_pg_start || { cat "$E2E_DIR/postgres.log" >&2; exit 1; }
wait_for 30 "scheduler running" has_scheduler
runid=$(as_jobber "SELECT stockpipe.run_job('manual')")
wait_for 15 "no-slot warning" grep -q "no background worker slot is free" "$E2E_DIR/postgres.log"
# Watch a bounded window of 3 ticks: the run must not start, nor be given up.
sleep 3
check_eq "no free worker slot: the run waits, still scheduled" "scheduled" \
	"$(q "SELECT status FROM stockpipe.job_run WHERE runid = $runid")"
check_eq "no free worker slot: said once in the log" "1" \
	"$(grep -c "no background worker slot is free" "$E2E_DIR/postgres.log")"
sp_pg_stop fast
echo "max_worker_processes = 40" | as_pg tee -a "$E2E_DIR/pgdata/postgresql.conf" >/dev/null
sp_pg_start || { cat "$E2E_DIR/postgres.log" >&2; exit 1; }
wait_for 30 "waiting run succeeded" query_is "SELECT status FROM stockpipe.job_run WHERE runid = $runid" succeeded
check_eq "no free worker slot: the run starts once slots are free" "succeeded" \
	"$(q "SELECT status FROM stockpipe.job_run WHERE runid = $runid")"

# --- A holiday calendar that ends within a year is said, once a day, for
# each calendar enabled skip_holidays jobs use (and only those).
# (Relative to the market's date, so the test holds on any date.)
q "DELETE FROM stockpipe.market_holiday WHERE day > stockpipe.market_date() + 100" >/dev/null
as_jobber "SELECT stockpipe.schedule('holiday_aware', '0 12 * * 1-5', 'SELECT 1', skip_holidays => true)" >/dev/null
as_jobber "SELECT stockpipe.schedule('frankfurt_aware', '0 12 * * 1-5', 'SELECT 1', timezone => 'Europe/Berlin', skip_holidays => true, calendar => 'XETR')" >/dev/null
warned_before=$(grep -c "the market holiday calendar XETR ends on" "$E2E_DIR/postgres.log")
sp_pg_stop fast
sp_pg_start || { cat "$E2E_DIR/postgres.log" >&2; exit 1; }
wait_for 30 "calendar warning" bash -c "[ \$(grep -c 'the market holiday calendar XETR ends on' '$E2E_DIR/postgres.log') -gt $warned_before ]"
for cal in XNYS XETR; do
	check_eq "a holiday calendar ending within a year is warned about, with its last day ($cal)" \
		"$(q "SELECT max(day) FROM stockpipe.market_holiday WHERE calendar = '$cal'")" \
		"$(grep -o "the market holiday calendar $cal ends on [0-9-]*" "$E2E_DIR/postgres.log" | tail -1 | awk '{print $NF}')"
done
check "the warning says which jobs rely on it and how to extend it" \
	grep -q "job(s) with skip_holidays rely on calendar XETR (Xetra (Deutsche Börse, Frankfurt)) in stockpipe.market_holiday" "$E2E_DIR/postgres.log"
# A calendar no enabled job uses is not mentioned: after the XETR job is
# disabled, the next start warns about XNYS only.
as_jobber "SELECT stockpipe.alter_job('frankfurt_aware', enabled => false)" >/dev/null
xnys_before=$(grep -c "the market holiday calendar XNYS ends on" "$E2E_DIR/postgres.log")
xetr_before=$(grep -c "the market holiday calendar XETR ends on" "$E2E_DIR/postgres.log")
sp_pg_stop fast
sp_pg_start || { cat "$E2E_DIR/postgres.log" >&2; exit 1; }
wait_for 30 "calendar warning (XNYS)" bash -c "[ \$(grep -c 'the market holiday calendar XNYS ends on' '$E2E_DIR/postgres.log') -gt $xnys_before ]"
check_eq "a calendar no enabled job relies on is not warned about" "$xetr_before" \
	"$(grep -c "the market holiday calendar XETR ends on" "$E2E_DIR/postgres.log")"

check "no server crash, no scheduler ERROR in the log" \
	bash -c "! grep -E 'terminated by signal|stockpipe scheduler.*ERROR|ERROR:.*stockpipe scheduler' '$E2E_DIR/postgres.log'"
exit $SP_TEST_FAILED
