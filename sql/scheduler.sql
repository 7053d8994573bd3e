--
-- stockpipe--1.0.sql, part 3: the scheduler's tables and SQL API (issue 4;
-- docs/scheduler-design.md).  The scheduler worker (src/scheduler.c) and the
-- job run workers (src/jobrun.c) act on these tables; users act through the
-- functions below, or on the tables directly, within row-level security.
--
-- Choices:
--   * A job's schedule and time zone are checked whenever a row of job is
--     inserted or changes them (a trigger), whoever writes it: a bad row can
--     never reach the scheduler.  The same trigger keeps next_run_at: it is
--     computed from now() when a job is created, or when its schedule, time
--     zone, skip_holidays or enabled changes; NULL while disabled.
--   * schedule_next() returns NULL when a schedule has no run within ten
--     years ("0 0 30 2 *"); schedule() and alter_job() reject such a
--     schedule.
--   * Jobs are named per owner: the API finds a job by (current_user, name),
--     superusers included; superusers reach other roles' jobs through the
--     table (row-level security does not restrict them).
--   * unschedule() of an unknown name is an error (42704) unless
--     if_exists => true, which returns false instead.
--   * run_job() runs disabled jobs too: it is an explicit request.
--

--
-- Schedules, callable from SQL: the very code the scheduler runs.
--
CREATE FUNCTION schedule_next(schedule text, after timestamptz, timezone text DEFAULT 'UTC')
RETURNS timestamptz
LANGUAGE c STRICT STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'stockpipe_schedule_next';
COMMENT ON FUNCTION schedule_next(text, timestamptz, text) IS
	'First run of the schedule strictly after "after", in the time zone given; NULL if none within 10 years';

CREATE FUNCTION schedule_check(schedule text)
RETURNS text
LANGUAGE c STRICT IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'stockpipe_schedule_check';
COMMENT ON FUNCTION schedule_check(text) IS
	'The schedule in normalised form, or the error a bad schedule gets';

--
-- NYSE full-day closures; editable (add special closures, extend years).
-- Rows the script inserts have builtin = true; pg_dump keeps the others.
--
CREATE TABLE market_holiday (
	day			date PRIMARY KEY,
	name		text NOT NULL,
	builtin		boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE market_holiday IS
	'Days the market is closed; jobs with skip_holidays do not run on them (local date of the job''s time zone)';

INSERT INTO market_holiday (day, name, builtin) VALUES
	('2025-01-01', 'New Year''s Day', true),
	('2025-01-09', 'National Day of Mourning for President Jimmy Carter', true),
	('2025-01-20', 'Martin Luther King, Jr. Day', true),
	('2025-02-17', 'Washington''s Birthday', true),
	('2025-04-18', 'Good Friday', true),
	('2025-05-26', 'Memorial Day', true),
	('2025-06-19', 'Juneteenth National Independence Day', true),
	('2025-07-04', 'Independence Day', true),
	('2025-09-01', 'Labor Day', true),
	('2025-11-27', 'Thanksgiving Day', true),
	('2025-12-25', 'Christmas Day', true),
	('2026-01-01', 'New Year''s Day', true),
	('2026-01-19', 'Martin Luther King, Jr. Day', true),
	('2026-02-16', 'Washington''s Birthday', true),
	('2026-04-03', 'Good Friday', true),
	('2026-05-25', 'Memorial Day', true),
	('2026-06-19', 'Juneteenth National Independence Day', true),
	('2026-07-03', 'Independence Day (observed)', true),
	('2026-09-07', 'Labor Day', true),
	('2026-11-26', 'Thanksgiving Day', true),
	('2026-12-25', 'Christmas Day', true),
	('2027-01-01', 'New Year''s Day', true),
	('2027-01-18', 'Martin Luther King, Jr. Day', true),
	('2027-02-15', 'Washington''s Birthday', true),
	('2027-03-26', 'Good Friday', true),
	('2027-05-31', 'Memorial Day', true),
	('2027-06-18', 'Juneteenth National Independence Day (observed)', true),
	('2027-07-05', 'Independence Day (observed)', true),
	('2027-09-06', 'Labor Day', true),
	('2027-11-25', 'Thanksgiving Day', true),
	('2027-12-24', 'Christmas Day (observed)', true);

--
-- next run, skipping market holidays when asked.
--
-- A run whose LOCAL date (in the job's time zone) is a market holiday is
-- skipped together with every other run of that local day: the search goes
-- on from the next local midnight, so an every-5-seconds job costs one step
-- per holiday, not 17,280.  At most 1,000 holidays in a row are skipped
-- (then NULL), so a schedule that only ever falls on holidays ends.
--
CREATE FUNCTION job_next_run(schedule text, after timestamptz,
							 timezone text DEFAULT 'UTC', skip_holidays boolean DEFAULT false)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t		timestamptz;
	d		date;
BEGIN
	t := stockpipe.schedule_next($1, $2, $3);
	IF NOT coalesce($4, false) THEN
		RETURN t;
	END IF;
	FOR i IN 1..1000 LOOP
		IF t IS NULL THEN
			RETURN NULL;
		END IF;
		d := (t AT TIME ZONE $3)::date;
		IF NOT EXISTS (SELECT FROM stockpipe.market_holiday h WHERE h.day = d) THEN
			RETURN t;
		END IF;
		t := stockpipe.schedule_next($1,
				((d + 1)::timestamp AT TIME ZONE $3) - interval '1 microsecond', $3);
	END LOOP;
	RETURN NULL;
END;
$$;
COMMENT ON FUNCTION job_next_run(text, timestamptz, text, boolean) IS
	'schedule_next(), skipping runs whose local date is in market_holiday when skip_holidays';

--
-- Jobs and their runs.
--
CREATE TABLE job (
	jobid			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name			text NOT NULL,
	schedule		text NOT NULL,
	command			text NOT NULL,
	timezone		text NOT NULL DEFAULT 'UTC',
	owner			name NOT NULL DEFAULT current_user,
	enabled			boolean NOT NULL DEFAULT true,
	catch_up		boolean NOT NULL DEFAULT false,
	skip_holidays	boolean NOT NULL DEFAULT false,
	max_retries		integer NOT NULL DEFAULT 0 CHECK (max_retries BETWEEN 0 AND 10),
	retry_delay		interval NOT NULL DEFAULT '1 minute',
	timeout			interval NOT NULL DEFAULT '1 hour',
	next_run_at		timestamptz,
	builtin			boolean NOT NULL DEFAULT false,
	created_at		timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT job_owner_name_key UNIQUE (owner, name)
);
COMMENT ON TABLE job IS
	'Scheduled jobs; each runs as its owner in its own background worker';
COMMENT ON COLUMN job.next_run_at IS
	'Next scheduled time; NULL while disabled';
-- The scheduler's tick: enabled jobs that are due.
CREATE INDEX job_next_run_at_idx ON job (next_run_at) WHERE enabled;

CREATE TABLE job_run (
	runid			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	jobid			bigint NOT NULL REFERENCES job ON DELETE CASCADE,
	trigger			text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'retry', 'catch-up', 'event')),
	scheduled_at	timestamptz NOT NULL,
	started_at		timestamptz,
	finished_at		timestamptz,
	status			text NOT NULL CHECK (status IN ('scheduled', 'running', 'succeeded', 'failed',
													'skipped', 'timed out')),
	attempt			integer NOT NULL DEFAULT 1,
	pid				integer,
	message			text
);
COMMENT ON TABLE job_run IS
	'One row per run of a job: scheduled, running, then its outcome';
-- The scheduler's tick: runs waiting to start and runs in progress.
CREATE INDEX job_run_active_idx ON job_run (status, scheduled_at)
	WHERE status IN ('scheduled', 'running');
-- A job's history (newest first), and the cascade when a job is dropped.
CREATE INDEX job_run_jobid_idx ON job_run (jobid, runid);
-- The history purge.
CREATE INDEX job_run_finished_at_idx ON job_run (finished_at);

--
-- Every row of job is checked, whoever writes it (API or plain SQL): the
-- scheduler never meets a schedule or time zone it cannot use.  Also keeps
-- next_run_at (see the header).  Runs before the table's constraints, so a
-- bad value gets the error below, with a hint, not a constraint violation.
--
CREATE FUNCTION job_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	first	timestamptz;
BEGIN
	IF NEW.name IS NULL OR btrim(NEW.name) = '' THEN
		RAISE EXCEPTION 'job name must not be empty'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Name the job, e.g. ''nightly_vacuum''.';
	END IF;
	IF NEW.command IS NULL OR btrim(NEW.command) = '' THEN
		RAISE EXCEPTION 'command of job "%" must not be empty', NEW.name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Give the SQL the job runs, e.g. ''VACUUM stockpipe.job_run''.';
	END IF;
	IF NEW.schedule IS NULL THEN
		RAISE EXCEPTION 'schedule of job "%" must not be NULL', NEW.name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use 5 cron fields (minute hour day-of-month month day-of-week), @hourly, @daily, @weekly, @monthly or ''N seconds'' (1-59).';
	END IF;
	IF NEW.timezone IS NULL THEN
		RAISE EXCEPTION 'time zone of job "%" must not be NULL', NEW.name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use a name from pg_timezone_names, such as ''America/New_York'' or ''UTC''.';
	END IF;
	IF NEW.max_retries IS NULL OR NEW.max_retries NOT BETWEEN 0 AND 10 THEN
		RAISE EXCEPTION 'retries of job "%" must be between 0 and 10', NEW.name
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('retries is %s.', coalesce(NEW.max_retries::text, 'NULL')),
				  HINT = 'retries is the number of extra attempts after a failure or a timeout.';
	END IF;
	IF NEW.retry_delay IS NULL OR NEW.retry_delay < interval '0' THEN
		RAISE EXCEPTION 'retry_delay of job "%" must not be negative', NEW.name
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('retry_delay is %s.', coalesce(NEW.retry_delay::text, 'NULL')),
				  HINT = 'Give an interval such as ''1 minute''.';
	END IF;
	IF NEW.timeout IS NULL OR NEW.timeout < interval '1 second' OR NEW.timeout > interval '24 days' THEN
		RAISE EXCEPTION 'timeout of job "%" must be between 1 second and 24 days', NEW.name
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('timeout is %s.', coalesce(NEW.timeout::text, 'NULL')),
				  HINT = 'The timeout becomes the run''s statement_timeout; give an interval such as ''10 minutes''.';
	END IF;

	IF TG_OP = 'INSERT' OR NEW.schedule IS DISTINCT FROM OLD.schedule
	   OR NEW.timezone IS DISTINCT FROM OLD.timezone
	   OR NEW.skip_holidays IS DISTINCT FROM OLD.skip_holidays
	   OR NEW.enabled IS DISTINCT FROM OLD.enabled THEN
		-- raises the errors of a bad schedule or time zone
		first := stockpipe.job_next_run(NEW.schedule, now(), NEW.timezone, NEW.skip_holidays);
		IF first IS NULL THEN
			RAISE EXCEPTION 'schedule "%" of job "%" never runs', NEW.schedule, NEW.name
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = 'No run falls within the next 10 years.',
					  HINT = 'Check the day of the month and the month, e.g. there is no 30 February.';
		END IF;
		IF NOT NEW.enabled THEN
			NEW.next_run_at := NULL;
		ELSIF TG_OP = 'UPDATE' OR NEW.next_run_at IS NULL THEN
			NEW.next_run_at := first;
		END IF;
	END IF;
	RETURN NEW;
END;
$$;
REVOKE ALL ON FUNCTION job_check() FROM PUBLIC;

CREATE TRIGGER job_check BEFORE INSERT OR UPDATE ON job
	FOR EACH ROW EXECUTE FUNCTION job_check();

--
-- Row-level security: a role sees and changes only its own jobs and their
-- runs; it cannot create a job that would run as another role.  Superusers
-- (and the tables' owner) are not restricted.
--
ALTER TABLE job ENABLE ROW LEVEL SECURITY;
CREATE POLICY job_owner ON job
	USING (owner = current_user)
	WITH CHECK (owner = current_user);

ALTER TABLE job_run ENABLE ROW LEVEL SECURITY;
CREATE POLICY job_run_owner ON job_run
	USING (jobid IN (SELECT j.jobid FROM job j))
	WITH CHECK (jobid IN (SELECT j.jobid FROM job j));

-- pg_dump keeps users' jobs and the history; the built-in jobs come back
-- with CREATE EXTENSION.
SELECT pg_catalog.pg_extension_config_dump('job', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('job_jobid_seq', '');
SELECT pg_catalog.pg_extension_config_dump('job_run', '');
SELECT pg_catalog.pg_extension_config_dump('job_run_runid_seq', '');
SELECT pg_catalog.pg_extension_config_dump('market_holiday', 'WHERE NOT builtin');

--
-- The SQL API.  SECURITY INVOKER: everything happens with the caller's
-- rights, within row-level security.
--

-- Create a job, or replace the caller's job of that name (same jobid).
CREATE FUNCTION schedule(name text, schedule text, command text,
						 timezone text DEFAULT 'UTC',
						 enabled boolean DEFAULT true,
						 catch_up boolean DEFAULT false,
						 skip_holidays boolean DEFAULT false,
						 retries integer DEFAULT 0,
						 retry_delay interval DEFAULT '1 minute',
						 timeout interval DEFAULT '1 hour')
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id		bigint;
BEGIN
	INSERT INTO stockpipe.job AS j (name, schedule, command, timezone, enabled, catch_up,
									skip_holidays, max_retries, retry_delay, timeout)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
	ON CONFLICT ON CONSTRAINT job_owner_name_key DO UPDATE SET
		schedule = EXCLUDED.schedule,
		command = EXCLUDED.command,
		timezone = EXCLUDED.timezone,
		enabled = EXCLUDED.enabled,
		catch_up = EXCLUDED.catch_up,
		skip_holidays = EXCLUDED.skip_holidays,
		max_retries = EXCLUDED.max_retries,
		retry_delay = EXCLUDED.retry_delay,
		timeout = EXCLUDED.timeout
	RETURNING j.jobid INTO id;
	RETURN id;
END;
$$;
COMMENT ON FUNCTION schedule(text, text, text, text, boolean, boolean, boolean, integer, interval, interval) IS
	'Create a job of the current role, or replace the one of that name; returns its jobid';

-- The error for a job name the caller has no job of.
CREATE FUNCTION job_not_found(name text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RAISE EXCEPTION 'job "%" does not exist', $1
		USING ERRCODE = 'undefined_object',
			  DETAIL = format('Role %s has no job of that name.', current_user),
			  HINT = 'SELECT name FROM stockpipe.job lists your jobs.';
END;
$$;
REVOKE ALL ON FUNCTION job_not_found(text) FROM PUBLIC;

CREATE FUNCTION unschedule(name text, if_exists boolean DEFAULT false)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM stockpipe.job j WHERE j.owner = current_user AND j.name = $1;
	IF FOUND THEN
		RETURN true;
	END IF;
	IF NOT coalesce($2, false) THEN
		PERFORM stockpipe.job_not_found($1);
	END IF;
	RETURN false;
END;
$$;
COMMENT ON FUNCTION unschedule(text, boolean) IS
	'Delete the current role''s job of that name and its history; an unknown name is an error unless if_exists';

-- Change some settings of a job; NULL leaves a setting as it is.
CREATE FUNCTION alter_job(name text,
						  schedule text DEFAULT NULL,
						  command text DEFAULT NULL,
						  timezone text DEFAULT NULL,
						  enabled boolean DEFAULT NULL,
						  catch_up boolean DEFAULT NULL,
						  skip_holidays boolean DEFAULT NULL,
						  retries integer DEFAULT NULL,
						  retry_delay interval DEFAULT NULL,
						  timeout interval DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id		bigint;
BEGIN
	UPDATE stockpipe.job j SET
		schedule = coalesce($2, j.schedule),
		command = coalesce($3, j.command),
		timezone = coalesce($4, j.timezone),
		enabled = coalesce($5, j.enabled),
		catch_up = coalesce($6, j.catch_up),
		skip_holidays = coalesce($7, j.skip_holidays),
		max_retries = coalesce($8, j.max_retries),
		retry_delay = coalesce($9, j.retry_delay),
		timeout = coalesce($10, j.timeout)
	 WHERE j.owner = current_user AND j.name = $1
	RETURNING j.jobid INTO id;
	IF id IS NULL THEN
		PERFORM stockpipe.job_not_found($1);
	END IF;
	RETURN id;
END;
$$;
COMMENT ON FUNCTION alter_job(text, text, text, text, boolean, boolean, boolean, integer, interval, interval) IS
	'Change settings of the current role''s job; NULL arguments leave settings unchanged; returns its jobid';

-- Run a job now, asynchronously: the scheduler starts the run.
CREATE FUNCTION run_job(name text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id		bigint;
	run		bigint;
BEGIN
	SELECT j.jobid INTO id FROM stockpipe.job j
	 WHERE j.owner = current_user AND j.name = $1;
	IF id IS NULL THEN
		PERFORM stockpipe.job_not_found($1);
	END IF;
	INSERT INTO stockpipe.job_run (jobid, trigger, scheduled_at, status)
	VALUES (id, 'manual', now(), 'scheduled')
	RETURNING runid INTO run;
	RETURN run;
END;
$$;
COMMENT ON FUNCTION run_job(text) IS
	'Queue a run of the current role''s job now (the scheduler starts it); returns its runid';

--
-- Upkeep, run daily by the built-in job "upkeep".
--
-- Settings are read from pg_settings, whose "setting" is the raw number of
-- seconds (current_setting() gives '90d', which is no interval literal).
--
CREATE FUNCTION upkeep()
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	live_keep	interval;
	runs_keep	interval;
	today		date := (now() AT TIME ZONE 'UTC')::date;
	created		integer;
	dropped		integer := 0;
	purged		bigint;
	part		record;
BEGIN
	SELECT make_interval(secs => s.setting::double precision) INTO live_keep
	  FROM pg_settings s WHERE s.name = 'stockpipe.live_retention';
	SELECT make_interval(secs => s.setting::double precision) INTO runs_keep
	  FROM pg_settings s WHERE s.name = 'stockpipe.job_history_retention';
	live_keep := coalesce(live_keep, interval '90 days');
	runs_keep := coalesce(runs_keep, interval '30 days');

	created := stockpipe.ensure_live_partitions(
		ARRAY(SELECT today + i FROM generate_series(0, 7) i));

	-- Partitions ensure_live_partitions() made (live_stock_pYYYYMMDD, one
	-- UTC day each) whose whole day is older than the retention.  Same lock
	-- as ensure_live_partitions(): no race with a consumer creating one.
	PERFORM pg_advisory_xact_lock('stockpipe.live_stock'::regclass::oid::bigint);
	FOR part IN
		SELECT c.relname,
			   (to_date(substr(c.relname, 13), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC' AS upper_bound
		  FROM pg_inherits i
		  JOIN pg_class c ON c.oid = i.inhrelid
		  JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE i.inhparent = 'stockpipe.live_stock'::regclass
		   AND n.nspname = 'stockpipe'
		   AND c.relname ~ '^live_stock_p[0-9]{8}$'
		 ORDER BY c.relname
	LOOP
		CONTINUE WHEN part.upper_bound >= now() - live_keep;
		EXECUTE format('DROP TABLE stockpipe.%I', part.relname);
		dropped := dropped + 1;
	END LOOP;

	DELETE FROM stockpipe.job_run r WHERE r.finished_at < now() - runs_keep;
	GET DIAGNOSTICS purged = ROW_COUNT;

	RETURN format('%s live_stock partitions created, %s dropped; %s job runs purged',
				  created, dropped, purged);
END;
$$;
COMMENT ON FUNCTION upkeep() IS
	'Create live_stock partitions for the next 7 days, drop those older than stockpipe.live_retention, purge job runs older than stockpipe.job_history_retention';
REVOKE ALL ON FUNCTION upkeep() FROM PUBLIC;

--
-- Built-in jobs, owned by the role that creates the extension; editable
-- like any other job.  (check_alerts() is created by the next part.)
--
INSERT INTO job (name, schedule, command, timezone, skip_holidays, builtin) VALUES
	('l30d_refresh', '0 17 * * 1-5',
	 'SELECT stockpipe.refresh_l30d((now() AT TIME ZONE ''America/New_York'')::date)',
	 'America/New_York', true, true),
	('alert_check', '5 seconds', 'SELECT stockpipe.check_alerts()', 'UTC', false, true),
	('upkeep', '15 0 * * *', 'SELECT stockpipe.upkeep()', 'UTC', false, true);

--
-- Privileges: stockpipe_user (created if missing, never dropped here) may
-- use the API and the tables, within row-level security.
--
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'stockpipe_user') THEN
		CREATE ROLE stockpipe_user NOLOGIN;
		COMMENT ON ROLE stockpipe_user IS
			'May manage its own stockpipe jobs and alert rules (row-level security)';
	END IF;
END;
$$;

GRANT USAGE ON SCHEMA stockpipe TO stockpipe_user;
GRANT SELECT ON market_holiday TO stockpipe_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON job, job_run TO stockpipe_user;

REVOKE ALL ON FUNCTION schedule(text, text, text, text, boolean, boolean, boolean, integer, interval, interval),
	unschedule(text, boolean),
	alter_job(text, text, text, text, boolean, boolean, boolean, integer, interval, interval),
	run_job(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION schedule(text, text, text, text, boolean, boolean, boolean, integer, interval, interval),
	unschedule(text, boolean),
	alter_job(text, text, text, text, boolean, boolean, boolean, integer, interval, interval),
	run_job(text), job_not_found(text),
	schedule_next(text, timestamptz, text), schedule_check(text),
	job_next_run(text, timestamptz, text, boolean)
	TO stockpipe_user;
