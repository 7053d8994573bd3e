-- Scheduler: schedules, time zones and DST, market holidays, the job API,
-- built-in jobs, row-level security.  (The regress cluster's scheduler
-- runs in database 'postgres', so nothing here is run by it.)
CREATE EXTENSION stockpipe;
SET timezone = 'UTC';
\set SHOW_CONTEXT never
CREATE ROLE regress_sched_alice IN ROLE stockpipe_user;
CREATE ROLE regress_sched_bob IN ROLE stockpipe_user;
CREATE ROLE regress_sched_nobody;

-- Cron fields, lists, ranges, steps and names; macros; intervals.
SELECT s, stockpipe.schedule_check(s)
  FROM unnest(ARRAY['*/15 * * * *', '0 9-17/2 * * MON-FRI', '0 0 1,15 * fri',
					'@hourly', '@daily', '@weekly', '@monthly', '5 seconds',
					' 59 23 31 DEC * ']) s;
SELECT s, stockpipe.schedule_next(s, '2026-11-27 19:30:01.5+00')
  FROM unnest(ARRAY['*/15 * * * *', '0 0 1,15 * fri', '@hourly', '@daily',
					'@weekly', '@monthly', '5 seconds', '59 seconds']) s;
-- Strictly after: a due time equal to "after" is not returned; a fraction
-- of a second after it is past it.
SELECT stockpipe.schedule_next('*/15 * * * *', '2026-11-27 19:30:00+00'),
	   stockpipe.schedule_next('*/15 * * * *', '2026-11-27 19:29:59.999999+00'),
	   stockpipe.schedule_next('5 seconds', '2026-11-27 19:30:05+00'),
	   stockpipe.schedule_next('5 seconds', '2026-11-27 19:30:04.999+00');

-- A daily 16:45 America/New_York job runs at 16:45 New York time on both
-- sides of the DST changes of 2026-03-08 and 2026-11-01: 21:45 UTC in
-- winter, 20:45 UTC in summer, exactly once per local day.
WITH RECURSIVE runs(n, t) AS (
	SELECT 1, stockpipe.schedule_next('45 16 * * *', '2026-03-06 12:00+00', 'America/New_York')
	UNION ALL
	SELECT n + 1, stockpipe.schedule_next('45 16 * * *', t, 'America/New_York') FROM runs WHERE n < 4
)
SELECT t, t AT TIME ZONE 'America/New_York' AS new_york FROM runs;
WITH RECURSIVE runs(n, t) AS (
	SELECT 1, stockpipe.schedule_next('45 16 * * *', '2026-10-30 12:00+00', 'America/New_York')
	UNION ALL
	SELECT n + 1, stockpipe.schedule_next('45 16 * * *', t, 'America/New_York') FROM runs WHERE n < 4
)
SELECT t, t AT TIME ZONE 'America/New_York' AS new_york FROM runs;
-- 02:30 does not exist on 2026-03-08 in New York: the run is at the gap's
-- end, 03:00 EDT.  01:30 occurs twice on 2026-11-01: it runs once, at the
-- first occurrence (EDT).
SELECT stockpipe.schedule_next('30 2 * * *', '2026-03-08 00:00+00', 'America/New_York') AS gap,
	   stockpipe.schedule_next('30 2 * * *', '2026-03-09 00:00+00', 'America/New_York') AS next_day;
SELECT stockpipe.schedule_next('30 1 * * *', '2026-11-01 00:00+00', 'America/New_York') AS repeated,
	   stockpipe.schedule_next('30 1 * * *', '2026-11-01 05:30+00', 'America/New_York') AS not_twice;
-- Wall-clock schedules ("*" or "*/S" in the minute or hour field) run
-- whenever the local clock shows a matching minute, as in cron(8): every 20
-- real minutes through the repeated 01:00-01:59 of 2026-11-01 in New York,
-- and 01:30 EST then 03:30 EDT on 2026-03-08 (02:30 is never shown, and
-- 03:00 does not match).  The same in Berlin, whose clock changes at 01:00
-- UTC: @hourly runs at 02:00 CEST and again at 02:00 CET.
WITH RECURSIVE runs(n, t) AS (
	SELECT 1, stockpipe.schedule_next('*/20 * * * *', '2026-11-01 04:50+00', 'America/New_York')
	UNION ALL
	SELECT n + 1, stockpipe.schedule_next('*/20 * * * *', t, 'America/New_York') FROM runs WHERE n < 7
)
SELECT t, t AT TIME ZONE 'America/New_York' AS new_york FROM runs;
WITH RECURSIVE runs(n, t) AS (
	SELECT 1, stockpipe.schedule_next('30 * * * *', '2026-03-08 05:00+00', 'America/New_York')
	UNION ALL
	SELECT n + 1, stockpipe.schedule_next('30 * * * *', t, 'America/New_York') FROM runs WHERE n < 4
)
SELECT t, t AT TIME ZONE 'America/New_York' AS new_york FROM runs;
WITH RECURSIVE runs(n, t) AS (
	SELECT 1, stockpipe.schedule_next('@hourly', '2026-10-24 23:30+00', 'Europe/Berlin')
	UNION ALL
	SELECT n + 1, stockpipe.schedule_next('@hourly', t, 'Europe/Berlin') FROM runs WHERE n < 3
)
SELECT t, t AT TIME ZONE 'Europe/Berlin' AS berlin FROM runs;
-- A fixed-time schedule written with a list ("0-59/20", not "*/20") keeps
-- the once-per-due-time rule: 02:00-02:40 run once, when the gap ends.
SELECT stockpipe.schedule_next('0-59/20 2 * * *', '2026-03-08 06:59+00', 'America/New_York') AS fixed_gap,
	   stockpipe.schedule_next('*/20 2 * * *', '2026-03-08 06:59+00', 'America/New_York') AS wall_clock_gap;
-- A valid wall-clock schedule whose every time falls in New York's gap
-- (02:00-02:59 on the second Sunday in March) never runs there: NULL.  It
-- runs in UTC, and written fixed-time it runs when the gap ends.
SELECT stockpipe.schedule_next('* 2 8-14 3 */7', '2026-01-01 00:00+00', 'America/New_York') IS NULL AS never_in_new_york,
	   stockpipe.schedule_next('* 2 8-14 3 */7', '2026-01-01 00:00+00', 'UTC') AS in_utc,
	   stockpipe.schedule_next('0 2 8-14 3 */7', '2026-01-01 00:00+00', 'America/New_York') AS fixed_time;
-- Interval schedules ignore the time zone; other zones work.
SELECT stockpipe.schedule_next('10 seconds', '2026-11-27 19:30:01+00', 'Asia/Kolkata'),
	   stockpipe.schedule_next('0 9 * * *', '2026-11-27 00:00+00', 'Asia/Kolkata'),
	   stockpipe.schedule_next('0 9 * * *', '2026-11-27 00:00+00', 'Europe/London');

-- Market holidays: NYSE full-day closures of 2025-2028 and Xetra's.
SELECT calendar, name, timezone, builtin FROM stockpipe.market_calendar ORDER BY calendar;
SELECT calendar, extract(year FROM day) AS year, count(*) FROM stockpipe.market_holiday
 GROUP BY 1, 2 ORDER BY 1, 2;
SELECT day, to_char(day, 'Dy') AS dow, name FROM stockpipe.market_holiday
 WHERE calendar = 'XNYS' AND (day BETWEEN '2026-01-01' AND '2026-12-31' OR day = '2025-01-09')
 ORDER BY day;
SELECT day, to_char(day, 'Dy') AS dow, name FROM stockpipe.market_holiday
 WHERE calendar = 'XETR' AND day BETWEEN '2027-01-01' AND '2027-12-31' ORDER BY day;
-- Every holiday is a weekday.
SELECT count(*) FROM stockpipe.market_holiday WHERE extract(isodow FROM day) > 5;
-- The L30D refresh (17:00 New York, weekdays) skips Thanksgiving 2026-11-26
-- and the weekend; without skip_holidays it runs on Thanksgiving.
SELECT stockpipe.job_next_run('0 17 * * 1-5', '2026-11-25 23:00+00', 'America/New_York', true) AS skipping,
	   stockpipe.job_next_run('0 17 * * 1-5', '2026-11-25 23:00+00', 'America/New_York', false) AS not_skipping,
	   stockpipe.job_next_run('0 17 * * 1-5', '2026-11-27 23:00+00', 'America/New_York', true) AS after_friday;
-- Christmas 2026 is a Friday, New Year 2027 too; 2027-07-05 is the observed
-- Independence Day.  Holiday dates are LOCAL dates of the job's zone.
SELECT stockpipe.job_next_run('0 17 * * 1-5', '2026-12-24 23:00+00', 'America/New_York', true),
	   stockpipe.job_next_run('0 17 * * 1-5', '2026-12-31 23:00+00', 'America/New_York', true),
	   stockpipe.job_next_run('0 17 * * 1-5', '2027-07-02 23:00+00', 'America/New_York', true);
-- 20:00 New York on 2026-11-25 is already 2026-11-26 in UTC: not a holiday
-- in New York.  A 5-second job jumps over the whole holiday.
SELECT stockpipe.job_next_run('0 20 * * *', '2026-11-25 12:00+00', 'America/New_York', true) AS ny_evening,
	   stockpipe.job_next_run('5 seconds', '2026-11-26 04:59:58+00', 'America/New_York', true) AS next_after_holiday,
	   stockpipe.job_next_run('5 seconds', '2026-11-26 04:59:50+00', 'America/New_York', true) AS before_midnight;
-- The table is editable: a new closure is skipped.
INSERT INTO stockpipe.market_holiday (day, name) VALUES ('2026-11-30', 'test closure');
SELECT stockpipe.job_next_run('0 17 * * 1-5', '2026-11-27 23:00+00', 'America/New_York', true);
DELETE FROM stockpipe.market_holiday WHERE day = '2026-11-30';
-- Each job skips its own exchange's holidays: at 17:30 Frankfurt on
-- weekdays, Easter Monday 2027 (2027-03-29) is a Xetra holiday, not an
-- NYSE one; Thanksgiving 2026 is the other way round.  Good Friday closes both.
SELECT stockpipe.job_next_run('30 17 * * 1-5', '2027-03-25 17:00+00', 'Europe/Berlin', true, 'XETR') AS xetra,
	   stockpipe.job_next_run('30 17 * * 1-5', '2027-03-25 17:00+00', 'Europe/Berlin', true, 'XNYS') AS nyse,
	   stockpipe.job_next_run('30 17 * * 1-5', '2026-11-25 17:00+00', 'Europe/Berlin', true, 'XETR') AS xetra_thanksgiving;
-- A calendar nobody filled has no holidays; NULL means XNYS.
SELECT stockpipe.job_next_run('0 17 * * 1-5', '2026-11-25 23:00+00', 'America/New_York', true, 'NONE') AS unknown,
	   stockpipe.job_next_run('0 17 * * 1-5', '2026-11-25 23:00+00', 'America/New_York', true, NULL) AS null_is_xnys;
-- A calendar's time zone must exist; its code is checked too.
INSERT INTO stockpipe.market_calendar (calendar, name, timezone) VALUES ('XLON', 'London', 'Europe/Londn');
INSERT INTO stockpipe.market_calendar (calendar, name, timezone) VALUES ('x lon', 'London', 'Europe/London');

-- Errors: SQLSTATE, message, detail and hint.
\set VERBOSITY sqlstate
SELECT stockpipe.schedule_next('61 * * * *', '2026-11-27 00:00+00');
\set VERBOSITY default
SELECT stockpipe.schedule_next('61 * * * *', '2026-11-27 00:00+00');
SELECT stockpipe.schedule_next('* * * *', '2026-11-27 00:00+00');
SELECT stockpipe.schedule_next('@yearlyish', '2026-11-27 00:00+00');
SELECT stockpipe.schedule_next('60 seconds', '2026-11-27 00:00+00');
SELECT stockpipe.schedule_next('', '2026-11-27 00:00+00');
-- A day that never occurs is an invalid schedule (22023), not a NULL.
\set VERBOSITY sqlstate
SELECT stockpipe.schedule_next('0 0 30 2 *', '2026-11-27 00:00+00');
\set VERBOSITY default
SELECT stockpipe.schedule_next('0 0 30 2 *', '2026-11-27 00:00+00');
SELECT stockpipe.schedule_check('0 0 * * MOO');
SELECT stockpipe.schedule_next('@daily', '2026-11-27 00:00+00', 'America/Gotham');
SELECT stockpipe.schedule_next('@daily', 'infinity');
SELECT stockpipe.schedule_next(NULL, '2026-11-27 00:00+00') IS NULL AS strict;
-- No run within the search horizon (here: past year 9999): NULL.
SELECT stockpipe.schedule_next('@daily', '9999-12-31 12:00+00') IS NULL AS no_next_run;

-- Built-in jobs, created by CREATE EXTENSION with a next run set.
SELECT jobid, name, schedule, timezone, command, skip_holidays, builtin, enabled,
	   owner = current_user AS mine, next_run_at IS NOT NULL AS next_run_set
  FROM stockpipe.job ORDER BY jobid;
-- Their next runs follow their schedules (computed at CREATE EXTENSION: the
-- 5-second job's may already be past, so only the daily ones are compared).
SELECT name, next_run_at = stockpipe.job_next_run(schedule, now(), timezone, skip_holidays) AS consistent
  FROM stockpipe.job WHERE schedule NOT LIKE '% seconds' ORDER BY jobid;

-- The job API.
SELECT stockpipe.schedule('vacuum_runs', '30 3 * * *', 'VACUUM stockpipe.job_run') AS jobid;
SELECT name, schedule, timezone, max_retries, retry_delay, timeout, catch_up, skip_holidays,
	   next_run_at = stockpipe.job_next_run(schedule, now(), timezone, skip_holidays) AS next_ok
  FROM stockpipe.job WHERE name = 'vacuum_runs';
-- Same name replaces, keeping the jobid.
SELECT stockpipe.schedule('vacuum_runs', '45 16 * * 1-5', 'VACUUM ANALYZE stockpipe.job_run',
						  timezone => 'America/New_York', catch_up => true, skip_holidays => true,
						  retries => 2, retry_delay => '30 seconds', timeout => '5 minutes') AS jobid;
SELECT jobid, name, schedule, command, timezone, max_retries, retry_delay, timeout, catch_up, skip_holidays,
	   next_run_at = stockpipe.job_next_run(schedule, now(), timezone, skip_holidays) AS next_ok
  FROM stockpipe.job WHERE name = 'vacuum_runs';
-- alter_job: NULL arguments leave settings unchanged.
SELECT stockpipe.alter_job('vacuum_runs', retries => 3);
SELECT stockpipe.alter_job('vacuum_runs', enabled => false);
SELECT schedule, command, max_retries, enabled, next_run_at FROM stockpipe.job WHERE name = 'vacuum_runs';
SELECT stockpipe.alter_job('vacuum_runs', enabled => true, schedule => '*/10 * * * *', timezone => 'UTC');
SELECT schedule, timezone, max_retries, enabled, skip_holidays,
	   next_run_at = stockpipe.job_next_run(schedule, now(), timezone, skip_holidays) AS next_ok
  FROM stockpipe.job WHERE name = 'vacuum_runs';
-- A job of another exchange: its calendar's holidays are skipped, and
-- changing the calendar recomputes the next run.
SELECT stockpipe.schedule('frankfurt_close', '45 17 * * 1-5', 'SELECT 1', timezone => 'Europe/Berlin',
						  skip_holidays => true, calendar => 'XETR') IS NOT NULL AS created;
SELECT calendar, next_run_at = stockpipe.job_next_run(schedule, now(), timezone, skip_holidays, 'XETR') AS next_ok
  FROM stockpipe.job WHERE name = 'frankfurt_close';
SELECT stockpipe.alter_job('frankfurt_close', calendar => 'XNYS') IS NOT NULL AS altered;
SELECT calendar, next_run_at = stockpipe.job_next_run(schedule, now(), timezone, skip_holidays, 'XNYS') AS next_ok
  FROM stockpipe.job WHERE name = 'frankfurt_close';
SELECT stockpipe.unschedule('frankfurt_close');
-- run_job queues a manual run for the scheduler.
SELECT stockpipe.run_job('vacuum_runs') AS runid;
SELECT r.runid, j.name, r.trigger, r.status, r.attempt, r.scheduled_at <= now() AS due
  FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid);
-- Bad arguments.
SELECT stockpipe.schedule('bad', '0 25 * * *', 'SELECT 1');
SELECT stockpipe.schedule('bad', '@daily', 'SELECT 1', timezone => 'New York');
SELECT stockpipe.schedule('bad', '0 0 30 2 *', 'SELECT 1');
SELECT stockpipe.schedule('bad', '@daily', 'SELECT 1', retries => 11);
SELECT stockpipe.schedule('bad', '@daily', 'SELECT 1', retries => -1);
SELECT stockpipe.schedule('bad', '@daily', 'SELECT 1', timeout => '0');
SELECT stockpipe.schedule('bad', '@daily', 'SELECT 1', timeout => '30 days');
SELECT stockpipe.schedule('bad', '@daily', 'SELECT 1', retry_delay => '-1 minute');
-- Every interval and count is bounded: a huge retry delay once stopped the
-- scheduler (its retry time overflowed), names and commands reach logs.
SELECT stockpipe.schedule('bad', '@daily', 'SELECT 1', retry_delay => '300000 years');
SELECT stockpipe.schedule('bad', '@daily', 'SELECT 1', timeout => '300000 years');
SELECT stockpipe.schedule(repeat('n', 65), '@daily', 'SELECT 1');
SELECT stockpipe.schedule(E'two\nlines', '@daily', 'SELECT 1');
SELECT stockpipe.schedule('bad', '@daily', 'SELECT ' || repeat('1', 65536));
SELECT stockpipe.schedule('', '@daily', 'SELECT 1');
SELECT stockpipe.schedule('bad', '@daily', ' ');
SELECT stockpipe.alter_job('vacuum_runs', schedule => 'sometimes');
SELECT stockpipe.schedule('bad', '@daily', 'SELECT 1', calendar => 'XLON');
SELECT stockpipe.alter_job('vacuum_runs', calendar => 'xnys');
SELECT count(*) FROM stockpipe.job WHERE name = 'bad';
-- Plain SQL on the table gets the same checks (a superuser's; users cannot
-- write it at all), and the table's constraints hold even without the trigger.
INSERT INTO stockpipe.job (name, schedule, command) VALUES ('direct', '*/0 * * * *', 'SELECT 1');
SET session_replication_role = replica;
\set VERBOSITY terse
INSERT INTO stockpipe.job (name, schedule, command, retry_delay)
VALUES ('direct', '@daily', 'SELECT 1', '300000 years');
\set VERBOSITY default
RESET session_replication_role;
-- Unknown job names.
SET ROLE regress_sched_alice;
SELECT stockpipe.alter_job('no_such_job', enabled => false);
SELECT stockpipe.run_job('no_such_job');
\set VERBOSITY sqlstate
SELECT stockpipe.unschedule('no_such_job');
\set VERBOSITY default
SELECT stockpipe.unschedule('no_such_job', if_exists => true);
-- Users read the calendars but cannot change them: a user who could delete
-- a holiday or move a calendar's zone would move other users' jobs.
SELECT count(*) > 0 AS can_read FROM stockpipe.market_calendar, stockpipe.market_holiday;
INSERT INTO stockpipe.market_calendar (calendar, name, timezone) VALUES ('XEVL', 'evil', 'UTC');
UPDATE stockpipe.market_calendar SET timezone = 'Asia/Tokyo' WHERE calendar = 'XNYS';
DELETE FROM stockpipe.market_holiday WHERE calendar = 'XNYS';
RESET ROLE;
-- unschedule removes the job and its history.
SELECT stockpipe.unschedule('vacuum_runs');
SELECT count(*) AS jobs, (SELECT count(*) FROM stockpipe.job_run) AS runs
  FROM stockpipe.job WHERE name = 'vacuum_runs';

-- upkeep creates live_stock partitions for the coming days and drops those
-- past stockpipe.live_retention; it purges old job runs.
SELECT stockpipe.ensure_live_partitions(ARRAY['2020-01-01']::date[]);
INSERT INTO stockpipe.job_run (jobid, trigger, scheduled_at, started_at, finished_at, status)
VALUES (3, 'schedule', '2020-01-01', '2020-01-01', '2020-01-01', 'succeeded'),
	   (3, 'schedule', now(), now(), now(), 'succeeded');
INSERT INTO stockpipe.dead_letter (topic, partition, kafka_offset, error, received_at)
VALUES ('stock_live', 0, 1, 'old', now() - interval '31 days'), ('stock_live', 0, 2, 'new', now());
SELECT stockpipe.upkeep() ~ '^[0-9]+ live_stock partitions created, 1 dropped; 1 job runs and 1 dead letters purged$' AS upkeep;
SELECT error FROM stockpipe.dead_letter;
SELECT count(*) AS old_partitions FROM pg_class WHERE relname = 'live_stock_p20200101';
SELECT count(*) = 8 AS next_8_days
  FROM generate_series(0, 7) i
  JOIN pg_class c ON c.relname = 'live_stock_p' || to_char((now() AT TIME ZONE 'UTC')::date + i, 'YYYYMMDD');
SELECT count(*) AS runs_left FROM stockpipe.job_run;
DELETE FROM stockpipe.job_run;

-- Row-level security: each role sees and changes only its own jobs.
SET ROLE regress_sched_alice;
SELECT stockpipe.schedule('report', '0 18 * * *', 'SELECT 1') AS alice_job \gset
SELECT stockpipe.run_job('report') AS alice_run \gset
-- A job has at most one run waiting: asking again returns it.
SELECT stockpipe.run_job('report') = :alice_run AS same_run;
SET ROLE regress_sched_bob;
SELECT stockpipe.schedule('report', '0 19 * * *', 'SELECT 2') <> :alice_job AS own_job;
SELECT name, owner, schedule FROM stockpipe.job ORDER BY jobid;
SELECT count(*) AS visible_runs FROM stockpipe.job_run;
-- Bob cannot see, change, delete or run Alice's job, nor add runs to it.
UPDATE stockpipe.job SET command = 'SELECT 666' WHERE jobid = :alice_job;
DELETE FROM stockpipe.job WHERE jobid = :alice_job;
INSERT INTO stockpipe.job_run (jobid, trigger, scheduled_at, status)
VALUES (:alice_job, 'manual', now(), 'scheduled');
-- Nor create a job that would run as Alice, or hand his job to her, not
-- even through the internal functions.
INSERT INTO stockpipe.job (name, schedule, command, owner)
VALUES ('spoof', '@daily', 'SELECT 1', 'regress_sched_alice');
UPDATE stockpipe.job SET owner = 'regress_sched_alice' WHERE name = 'report';
RESET ROLE;
SET SESSION AUTHORIZATION regress_sched_bob;
SELECT stockpipe._schedule('regress_sched_alice', 'spoof', '@daily', 'SELECT 1', 'UTC',
						   true, false, false, 0, '1 minute', '1 hour', 'XNYS');
SELECT stockpipe._run_job('regress_sched_alice', 'report');
RESET SESSION AUTHORIZATION;
SET ROLE regress_sched_bob;
-- A role has at most 100 jobs.
DO $$ BEGIN FOR i IN 1..99 LOOP PERFORM stockpipe.schedule('j' || i, '@daily', 'SELECT 1'); END LOOP; END $$;
SELECT stockpipe.schedule('one_too_many', '@daily', 'SELECT 1');
DO $$ BEGIN FOR i IN 1..99 LOOP PERFORM stockpipe.unschedule('j' || i); END LOOP; END $$;
-- The built-in jobs are not his either.
SELECT stockpipe.alter_job('upkeep', enabled => false);
SELECT stockpipe.unschedule('report');
SET ROLE regress_sched_alice;
SELECT name, owner, schedule, command FROM stockpipe.job ORDER BY jobid;
SELECT count(*) AS visible_runs FROM stockpipe.job_run;
-- Secrets stay hidden.
SHOW stockpipe.smtp_password;
-- A role without stockpipe_user cannot use the API.
SET ROLE regress_sched_nobody;
SELECT stockpipe.schedule('x', '@daily', 'SELECT 1');
RESET ROLE;
-- Superusers see every job.
SELECT name, CASE WHEN owner = current_user THEN '(superuser)' ELSE owner END AS owner
  FROM stockpipe.job ORDER BY jobid;
SELECT count(*) AS runs FROM stockpipe.job_run;

-- pg_dump keeps users' jobs, not the built-in ones (CREATE EXTENSION makes them).
SELECT c.relname, x.cond
  FROM pg_extension e,
	   unnest(e.extconfig, e.extcondition) AS x(oid, cond)
  JOIN pg_class c ON c.oid = x.oid
 WHERE e.extname = 'stockpipe' AND c.relname IN ('job', 'job_run', 'market_calendar', 'market_holiday')
 ORDER BY 1;

DROP EXTENSION stockpipe;
DROP ROLE regress_sched_alice, regress_sched_bob, regress_sched_nobody;
