--
-- The install script (stockpipe--VERSION.sql), part 3: the scheduler's tables and SQL API (issue 4;
-- docs/scheduler-design.md).  The scheduler worker (src/scheduler.c) and the
-- job run workers (src/jobrun.c) act on these tables; users read them
-- within row-level security and write them only through the functions
-- below (docs/security.md).
--
-- Choices:
--   * A job's schedule and time zone are checked whenever a row of job is
--     inserted or changes them (a trigger), whoever writes it: a bad row can
--     never reach the scheduler.  The same trigger keeps next_run_at: it is
--     computed from now() when a job is created, or when its schedule, time
--     zone, skip_holidays or enabled changes; NULL while disabled.
--   * schedule_next() raises 22023 for a schedule the parser refuses, day
--     fields that never meet ("0 0 30 2 *") included, as schedule_check()
--     and schedule() do.  It returns NULL only for a valid schedule with no
--     run within ten years in the zone given (a schedule with "*" in the
--     minute or hour field whose every time falls in DST gaps, such as
--     "* 2 8-14 3 */7" in America/New_York) or past year 9999;
--     schedule() and alter_job() reject such a schedule.
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
	'First run of the schedule strictly after "after", in the time zone given; NULL if none within 10 years; an invalid schedule (30 February included) raises 22023';

CREATE FUNCTION schedule_check(schedule text)
RETURNS text
LANGUAGE c STRICT IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'stockpipe_schedule_check';
COMMENT ON FUNCTION schedule_check(text) IS
	'The schedule in normalised form, or the error a bad schedule gets';

--
-- Exchange calendars: a job with skip_holidays skips the full-day closures
-- of its own calendar (job.calendar; XNYS unless said otherwise), so a job
-- about Frankfurt symbols follows Frankfurt's holidays.  A job's next run
-- must be known in advance, which Yahoo's trading periods (today's only)
-- cannot tell: hence published tables, editable (add calendars, special
-- closures, next years).  Rows the script inserts have builtin = true;
-- pg_dump keeps the others.  Codes are ISO 10383 market identifiers.
--
CREATE TABLE market_calendar (
	calendar	text PRIMARY KEY
		CONSTRAINT market_calendar_code_check CHECK (calendar ~ '^[A-Z0-9]{2,10}$'),
	name		text NOT NULL,
	timezone	text NOT NULL,
	builtin		boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE market_calendar IS
	'Exchange calendars (ISO 10383 codes) whose closures jobs with skip_holidays skip; the time zone dates the warning that a calendar runs out';

-- A calendar's time zone must be one PostgreSQL knows: the scheduler dates
-- the calendar's end with it.
CREATE FUNCTION market_calendar_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_timezone_names z WHERE z.name = NEW.timezone) THEN
		RAISE EXCEPTION 'time zone "%" of calendar "%" is not known', NEW.timezone, NEW.calendar
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use a name from pg_timezone_names, such as ''America/New_York''.';
	END IF;
	RETURN NEW;
END;
$$;
REVOKE ALL ON FUNCTION market_calendar_check() FROM PUBLIC;

-- The built-in calendars go in before the trigger exists: their zones are
-- known, and pg_timezone_names reads every zone file (about 60 ms a row,
-- which was half of CREATE EXTENSION's time).
INSERT INTO market_calendar (calendar, name, timezone, builtin) VALUES
	('XNYS', 'New York Stock Exchange', 'America/New_York', true),
	('XETR', 'Xetra (Deutsche Börse, Frankfurt)', 'Europe/Berlin', true);

CREATE TRIGGER market_calendar_check BEFORE INSERT OR UPDATE ON market_calendar
	FOR EACH ROW EXECUTE FUNCTION market_calendar_check();

CREATE TABLE market_holiday (
	day			date NOT NULL,
	name		text NOT NULL,
	builtin		boolean NOT NULL DEFAULT false,
	calendar	text NOT NULL DEFAULT 'XNYS' REFERENCES market_calendar ON UPDATE CASCADE,
	PRIMARY KEY (calendar, day)
);
COMMENT ON TABLE market_holiday IS
	'Days an exchange is closed; jobs with skip_holidays of that calendar do not run on them (local date of the job''s time zone)';

-- NYSE full-day closures: the exchange's published calendars for 2025-2027,
-- 2028 by its rule 7.2.
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
	('2027-12-24', 'Christmas Day (observed)', true),
	-- 2028 by NYSE rule 7.2 (New Year's Day falls on a Saturday: no closure)
	('2028-01-17', 'Martin Luther King, Jr. Day', true),
	('2028-02-21', 'Washington''s Birthday', true),
	('2028-04-14', 'Good Friday', true),
	('2028-05-29', 'Memorial Day', true),
	('2028-06-19', 'Juneteenth National Independence Day', true),
	('2028-07-04', 'Independence Day', true),
	('2028-09-04', 'Labor Day', true),
	('2028-11-23', 'Thanksgiving Day', true),
	('2028-12-25', 'Christmas Day', true);

-- Xetra non-trading days (weekdays only): Deutsche Börse's published
-- calendars for 2025-2027, 2028 by the same rule (New Year's Day, Good
-- Friday, Easter Monday, 1 May, 24-26 and 31 December).
INSERT INTO market_holiday (calendar, day, name, builtin) VALUES
	('XETR', '2025-01-01', 'New Year''s Day', true),
	('XETR', '2025-04-18', 'Good Friday', true),
	('XETR', '2025-04-21', 'Easter Monday', true),
	('XETR', '2025-05-01', 'Labour Day', true),
	('XETR', '2025-12-24', 'Christmas Eve', true),
	('XETR', '2025-12-25', 'Christmas Day', true),
	('XETR', '2025-12-26', 'Boxing Day', true),
	('XETR', '2025-12-31', 'New Year''s Eve', true),
	('XETR', '2026-01-01', 'New Year''s Day', true),
	('XETR', '2026-04-03', 'Good Friday', true),
	('XETR', '2026-04-06', 'Easter Monday', true),
	('XETR', '2026-05-01', 'Labour Day', true),
	('XETR', '2026-12-24', 'Christmas Eve', true),
	('XETR', '2026-12-25', 'Christmas Day', true),
	('XETR', '2026-12-31', 'New Year''s Eve', true),
	('XETR', '2027-01-01', 'New Year''s Day', true),
	('XETR', '2027-03-26', 'Good Friday', true),
	('XETR', '2027-03-29', 'Easter Monday', true),
	('XETR', '2027-12-24', 'Christmas Eve', true),
	('XETR', '2027-12-31', 'New Year''s Eve', true),
	('XETR', '2028-04-14', 'Good Friday', true),
	('XETR', '2028-04-17', 'Easter Monday', true),
	('XETR', '2028-05-01', 'Labour Day', true),
	('XETR', '2028-12-25', 'Christmas Day', true),
	('XETR', '2028-12-26', 'Boxing Day', true);

--
-- next run, skipping market holidays when asked.
--
-- A run whose LOCAL date (in the job's time zone) is a holiday of the
-- calendar (default XNYS; an unknown calendar has no holidays) is
-- skipped together with every other run of that local day: the search goes
-- on from the next local midnight, so an every-5-seconds job costs one step
-- per holiday, not 17,280.  At most 1,000 holidays in a row are skipped
-- (then NULL), so a schedule that only ever falls on holidays ends.
--
CREATE FUNCTION job_next_run(schedule text, after timestamptz,
							 timezone text DEFAULT 'UTC', skip_holidays boolean DEFAULT false,
							 calendar text DEFAULT 'XNYS')
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
		IF NOT EXISTS (SELECT FROM stockpipe.market_holiday h
						WHERE h.calendar = COALESCE($5, 'XNYS') AND h.day = d) THEN
			RETURN t;
		END IF;
		t := stockpipe.schedule_next($1,
				((d + 1)::timestamp AT TIME ZONE $3) - interval '1 microsecond', $3);
	END LOOP;
	RETURN NULL;
END;
$$;
COMMENT ON FUNCTION job_next_run(text, timestamptz, text, boolean, text) IS
	'schedule_next(), skipping runs whose local date is a market_holiday of the calendar when skip_holidays';

-- The scheduler's next run of a job: job_next_run(), or NULL with a WARNING
-- when that fails for this job's row, so that one bad row can never stop
-- the scheduler (the job then has no next run, and the scheduler says so).
CREATE FUNCTION next_run_or_null(jobid bigint, schedule text, after timestamptz,
								 timezone text, skip_holidays boolean, calendar text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN stockpipe.job_next_run($2, $3, $4, $5, $6);
EXCEPTION WHEN OTHERS THEN
	RAISE WARNING 'stockpipe scheduler: no next run for job %: %', $1, SQLERRM;
	RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION next_run_or_null(bigint, text, timestamptz, text, boolean, text) FROM PUBLIC;

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
	retry_delay		interval NOT NULL DEFAULT '1 minute'
		CONSTRAINT job_retry_delay_check CHECK (retry_delay BETWEEN interval '0' AND interval '1 day'),
	timeout			interval NOT NULL DEFAULT '1 hour'
		CONSTRAINT job_timeout_check CHECK (timeout BETWEEN interval '1 second' AND interval '24 days'),
	next_run_at		timestamptz,
	builtin			boolean NOT NULL DEFAULT false,
	created_at		timestamptz NOT NULL DEFAULT now(),
	calendar		text NOT NULL DEFAULT 'XNYS' REFERENCES market_calendar ON UPDATE CASCADE,
	CONSTRAINT job_owner_name_key UNIQUE (owner, name)
);
COMMENT ON TABLE job IS
	'Scheduled jobs; each runs as its owner in its own background worker';
COMMENT ON COLUMN job.next_run_at IS
	'Next scheduled time; NULL while disabled';
COMMENT ON COLUMN job.calendar IS
	'The exchange calendar (market_calendar) whose holidays skip_holidays skips';
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
	-- The name goes into worker names, logs and e-mails: short, one line.
	IF length(NEW.name) > 64 OR NEW.name ~ '[[:cntrl:]]' THEN
		RAISE EXCEPTION 'job name must have at most 64 characters and no control characters'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The name has %s characters.', length(NEW.name)),
				  HINT = 'Name the job, e.g. ''nightly_vacuum''.';
	END IF;
	IF NEW.command IS NULL OR btrim(NEW.command) = '' THEN
		RAISE EXCEPTION 'command of job "%" must not be empty', NEW.name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Give the SQL the job runs, e.g. ''VACUUM stockpipe.job_run''.';
	END IF;
	IF octet_length(NEW.command) > 65536 THEN
		RAISE EXCEPTION 'command of job "%" is longer than 65536 bytes', NEW.name
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The command has %s bytes.', octet_length(NEW.command)),
				  HINT = 'Put long SQL in a function and schedule a call of it.';
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
	IF NEW.retry_delay IS NULL OR NEW.retry_delay < interval '0' OR NEW.retry_delay > interval '1 day' THEN
		RAISE EXCEPTION 'retry_delay of job "%" must be between 0 and 1 day', NEW.name
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

	IF NEW.calendar IS NULL
	   OR NOT EXISTS (SELECT FROM stockpipe.market_calendar c WHERE c.calendar = NEW.calendar) THEN
		RAISE EXCEPTION 'calendar "%" of job "%" does not exist', NEW.calendar, NEW.name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'SELECT calendar, name FROM stockpipe.market_calendar lists the calendars (XNYS: New York, XETR: Frankfurt).';
	END IF;

	IF TG_OP = 'INSERT' OR NEW.schedule IS DISTINCT FROM OLD.schedule
	   OR NEW.timezone IS DISTINCT FROM OLD.timezone
	   OR NEW.skip_holidays IS DISTINCT FROM OLD.skip_holidays
	   OR NEW.calendar IS DISTINCT FROM OLD.calendar
	   OR NEW.enabled IS DISTINCT FROM OLD.enabled THEN
		-- raises the errors of a bad schedule or time zone
		first := stockpipe.job_next_run(NEW.schedule, now(), NEW.timezone, NEW.skip_holidays,
										NEW.calendar);
		IF first IS NULL THEN
			RAISE EXCEPTION 'schedule "%" of job "%" never runs', NEW.schedule, NEW.name
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = 'No run falls within the next 10 years in its time zone, or every one falls on a market holiday.',
					  HINT = 'A schedule with * in the minute or hour field runs only at times the local clock shows: times skipped by a DST change do not run.';
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
SELECT pg_catalog.pg_extension_config_dump('market_calendar', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('market_holiday', 'WHERE NOT builtin');

--
-- The SQL API.
--
-- Users write job and job_run only through these functions.  Each public
-- function is a SECURITY INVOKER wrapper that passes current_user -- the
-- role calling it -- to an internal SECURITY DEFINER function (named _...),
-- which acts for that role alone.  An internal function may be called
-- directly, but only for a role the session could SET ROLE to anyway
-- (acting_as()), so it grants nothing a role does not already have.
--

-- The role an internal function acts for; an error unless the session's
-- user is a member of it.
CREATE FUNCTION acting_as(caller name)
RETURNS name
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF caller IS NULL OR NOT EXISTS (SELECT FROM pg_roles r WHERE r.rolname = caller)
	   OR NOT pg_has_role(session_user, caller, 'MEMBER') THEN
		RAISE EXCEPTION 'permission denied to act for role "%"', coalesce(caller::text, 'NULL')
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('Session user %s is not a member of that role.', session_user),
				  HINT = 'Call the stockpipe functions without a leading underscore; they act for the current role.';
	END IF;
	RETURN caller;
END;
$$;
COMMENT ON FUNCTION acting_as(name) IS
	'caller, if the session''s user may act as that role (is a member of it); else an error';
REVOKE ALL ON FUNCTION acting_as(name) FROM PUBLIC;

-- Create a job, or replace the caller's job of that name (same jobid).
CREATE FUNCTION _schedule(caller name, name text, schedule text, command text,
						  timezone text, enabled boolean, catch_up boolean,
						  skip_holidays boolean, retries integer,
						  retry_delay interval, timeout interval, calendar text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	who		name := stockpipe.acting_as($1);
	id		bigint;
BEGIN
	IF NOT EXISTS (SELECT FROM stockpipe.job j WHERE j.owner = who AND j.name = $2)
	   AND (SELECT count(*) FROM stockpipe.job j WHERE j.owner = who) >= 100 THEN
		RAISE EXCEPTION 'role "%" has 100 jobs already', who
			USING ERRCODE = 'program_limit_exceeded',
				  HINT = 'Drop jobs you no longer need with stockpipe.unschedule().';
	END IF;
	INSERT INTO stockpipe.job AS j (name, schedule, command, timezone, owner, enabled, catch_up,
									skip_holidays, max_retries, retry_delay, timeout, calendar)
	VALUES ($2, $3, $4, $5, who, $6, $7, $8, $9, $10, $11, $12)
	ON CONFLICT ON CONSTRAINT job_owner_name_key DO UPDATE SET
		schedule = EXCLUDED.schedule,
		command = EXCLUDED.command,
		timezone = EXCLUDED.timezone,
		enabled = EXCLUDED.enabled,
		catch_up = EXCLUDED.catch_up,
		skip_holidays = EXCLUDED.skip_holidays,
		max_retries = EXCLUDED.max_retries,
		retry_delay = EXCLUDED.retry_delay,
		timeout = EXCLUDED.timeout,
		calendar = EXCLUDED.calendar
	RETURNING j.jobid INTO id;
	RETURN id;
END;
$$;

CREATE FUNCTION schedule(name text, schedule text, command text,
						 timezone text DEFAULT 'UTC',
						 enabled boolean DEFAULT true,
						 catch_up boolean DEFAULT false,
						 skip_holidays boolean DEFAULT false,
						 retries integer DEFAULT 0,
						 retry_delay interval DEFAULT '1 minute',
						 timeout interval DEFAULT '1 hour',
						 calendar text DEFAULT 'XNYS')
RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT stockpipe._schedule(current_user, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
$$;
COMMENT ON FUNCTION schedule(text, text, text, text, boolean, boolean, boolean, integer, interval, interval, text) IS
	'Create a job of the current role, or replace the one of that name; returns its jobid';

-- The error for a job name the caller has no job of.
CREATE FUNCTION job_not_found(name text, owner name DEFAULT current_user)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RAISE EXCEPTION 'job "%" does not exist', $1
		USING ERRCODE = 'undefined_object',
			  DETAIL = format('Role %s has no job of that name.', $2),
			  HINT = 'SELECT name FROM stockpipe.job lists your jobs.';
END;
$$;
REVOKE ALL ON FUNCTION job_not_found(text, name) FROM PUBLIC;

CREATE FUNCTION _unschedule(caller name, name text, if_exists boolean)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	who		name := stockpipe.acting_as($1);
BEGIN
	DELETE FROM stockpipe.job j WHERE j.owner = who AND j.name = $2;
	IF FOUND THEN
		RETURN true;
	END IF;
	IF NOT coalesce($3, false) THEN
		PERFORM stockpipe.job_not_found($2, who);
	END IF;
	RETURN false;
END;
$$;

CREATE FUNCTION unschedule(name text, if_exists boolean DEFAULT false)
RETURNS boolean
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT stockpipe._unschedule(current_user, $1, $2)
$$;
COMMENT ON FUNCTION unschedule(text, boolean) IS
	'Delete the current role''s job of that name and its history; an unknown name is an error unless if_exists';

-- Change some settings of a job; NULL leaves a setting as it is.
CREATE FUNCTION _alter_job(caller name, name text, schedule text, command text,
						   timezone text, enabled boolean, catch_up boolean,
						   skip_holidays boolean, retries integer,
						   retry_delay interval, timeout interval, calendar text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	who		name := stockpipe.acting_as($1);
	id		bigint;
BEGIN
	UPDATE stockpipe.job j SET
		schedule = coalesce($3, j.schedule),
		command = coalesce($4, j.command),
		timezone = coalesce($5, j.timezone),
		enabled = coalesce($6, j.enabled),
		catch_up = coalesce($7, j.catch_up),
		skip_holidays = coalesce($8, j.skip_holidays),
		max_retries = coalesce($9, j.max_retries),
		retry_delay = coalesce($10, j.retry_delay),
		timeout = coalesce($11, j.timeout),
		calendar = coalesce($12, j.calendar)
	 WHERE j.owner = who AND j.name = $2
	RETURNING j.jobid INTO id;
	IF id IS NULL THEN
		PERFORM stockpipe.job_not_found($2, who);
	END IF;
	RETURN id;
END;
$$;

CREATE FUNCTION alter_job(name text,
						  schedule text DEFAULT NULL,
						  command text DEFAULT NULL,
						  timezone text DEFAULT NULL,
						  enabled boolean DEFAULT NULL,
						  catch_up boolean DEFAULT NULL,
						  skip_holidays boolean DEFAULT NULL,
						  retries integer DEFAULT NULL,
						  retry_delay interval DEFAULT NULL,
						  timeout interval DEFAULT NULL,
						  calendar text DEFAULT NULL)
RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT stockpipe._alter_job(current_user, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
$$;
COMMENT ON FUNCTION alter_job(text, text, text, text, boolean, boolean, boolean, integer, interval, interval, text) IS
	'Change settings of the current role''s job; NULL arguments leave settings unchanged; returns its jobid';

-- Run a job now, asynchronously: the scheduler starts the run.  A job has
-- at most one run waiting to start: asking again returns that run.
CREATE FUNCTION _run_job(caller name, name text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	who		name := stockpipe.acting_as($1);
	id		bigint;
	run		bigint;
BEGIN
	SELECT j.jobid INTO id FROM stockpipe.job j
	 WHERE j.owner = who AND j.name = $2
	   FOR UPDATE;
	IF id IS NULL THEN
		PERFORM stockpipe.job_not_found($2, who);
	END IF;
	SELECT min(r.runid) INTO run FROM stockpipe.job_run r
	 WHERE r.jobid = id AND r.status = 'scheduled' AND r.scheduled_at <= now();
	IF run IS NOT NULL THEN
		RAISE NOTICE 'job "%" already has run % waiting to start', $2, run;
		RETURN run;
	END IF;
	INSERT INTO stockpipe.job_run (jobid, trigger, scheduled_at, status)
	VALUES (id, 'manual', now(), 'scheduled')
	RETURNING runid INTO run;
	RETURN run;
END;
$$;

CREATE FUNCTION run_job(name text)
RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT stockpipe._run_job(current_user, $1)
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
	dead_keep	interval;
	dead_purged	bigint;
	old_timeout	text := current_setting('lock_timeout');
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
	SELECT make_interval(secs => s.setting::double precision) INTO dead_keep
	  FROM pg_settings s WHERE s.name = 'stockpipe.dead_letter_retention';
	live_keep := coalesce(live_keep, interval '90 days');
	runs_keep := coalesce(runs_keep, interval '30 days');
	dead_keep := coalesce(dead_keep, interval '30 days');

	created := stockpipe.ensure_live_partitions(
		ARRAY(SELECT today + i FROM generate_series(0, 7) i));

	-- Partitions ensure_live_partitions() made (live_stock_pYYYYMMDD, one
	-- UTC day each) whose whole day is older than the retention.  Same lock
	-- as ensure_live_partitions(): no race with a consumer creating one.
	LOCK TABLE stockpipe.live_stock IN SHARE UPDATE EXCLUSIVE MODE;
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
		-- Dropping a partition must lock live_stock against everyone: wait
		-- at most 5 s (a waiting DROP would block ingestion behind a long
		-- report), else leave it for the next upkeep.
		BEGIN
			PERFORM set_config('lock_timeout', '5s', true);
			EXECUTE format('DROP TABLE stockpipe.%I', part.relname);
			dropped := dropped + 1;
		EXCEPTION WHEN lock_not_available THEN
			RAISE WARNING 'upkeep: live_stock partition % not dropped: live_stock is in use', part.relname
				USING HINT = 'It is dropped by a later upkeep run.';
		END;
		PERFORM set_config('lock_timeout', old_timeout, true);
	END LOOP;

	DELETE FROM stockpipe.job_run r WHERE r.finished_at < now() - runs_keep;
	GET DIAGNOSTICS purged = ROW_COUNT;

	DELETE FROM stockpipe.dead_letter d WHERE d.received_at < now() - dead_keep;
	GET DIAGNOSTICS dead_purged = ROW_COUNT;

	RETURN format('%s live_stock partitions created, %s dropped; %s job runs and %s dead letters purged',
				  created, dropped, purged, dead_purged);
END;
$$;
COMMENT ON FUNCTION upkeep() IS
	'Create live_stock partitions for the next 7 days, drop those older than stockpipe.live_retention, purge job runs older than stockpipe.job_history_retention and dead letters older than stockpipe.dead_letter_retention';
REVOKE ALL ON FUNCTION upkeep() FROM PUBLIC;

--
-- Built-in jobs, owned by the role that creates the extension; editable
-- like any other job.  (check_alerts() is created by the next part.)
--
INSERT INTO job (name, schedule, command, timezone, skip_holidays, builtin) VALUES
	('l30d_refresh', '0 17 * * 1-5',
	 'SELECT stockpipe.refresh_l30d()',
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
GRANT SELECT ON market_calendar, market_holiday TO stockpipe_user;
-- Read within row-level security; written only through the functions.
GRANT SELECT ON job, job_run TO stockpipe_user;

REVOKE ALL ON FUNCTION schedule(text, text, text, text, boolean, boolean, boolean, integer, interval, interval, text),
	unschedule(text, boolean),
	alter_job(text, text, text, text, boolean, boolean, boolean, integer, interval, interval, text),
	run_job(text),
	_schedule(name, text, text, text, text, boolean, boolean, boolean, integer, interval, interval, text),
	_unschedule(name, text, boolean),
	_alter_job(name, text, text, text, text, boolean, boolean, boolean, integer, interval, interval, text),
	_run_job(name, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION schedule(text, text, text, text, boolean, boolean, boolean, integer, interval, interval, text),
	unschedule(text, boolean),
	alter_job(text, text, text, text, boolean, boolean, boolean, integer, interval, interval, text),
	run_job(text),
	_schedule(name, text, text, text, text, boolean, boolean, boolean, integer, interval, interval, text),
	_unschedule(name, text, boolean),
	_alter_job(name, text, text, text, text, boolean, boolean, boolean, integer, interval, interval, text),
	_run_job(name, text), job_not_found(text, name),
	schedule_next(text, timestamptz, text), schedule_check(text),
	job_next_run(text, timestamptz, text, boolean, text)
	TO stockpipe_user;
