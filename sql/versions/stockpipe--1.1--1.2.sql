-- stockpipe 1.1 -> 1.2: one definition of each thing (issue 11).  Run by
-- ALTER EXTENSION stockpipe UPDATE; test/sql/upgrade.sql checks that the
-- result equals a fresh CREATE EXTENSION of 1.2, from 1.0 and from 1.1.
--
--   * message_fields(): the message fields and the columns they fill, as
--     the workers know them (contract/fields.h), for the regression test
--     that compares them with the tables;
--   * schedules follow cron(8) across DST changes (src/schedule.c): jobs
--     with "*" in the minute or hour field run by the wall clock; the
--     comment of schedule_next() and job_check()'s message say so;
--   * email_problem() is the mailer's own address rule (C), no longer a
--     second copy of it in SQL: ' and ` are refused as quotes by both, and
--     a domain whose last label is all digits by both.

\echo Use "ALTER EXTENSION stockpipe UPDATE TO '1.2'" to load this file. \quit

--
-- Ingestion
--
CREATE FUNCTION message_fields(
	OUT message text,
	OUT table_name text,
	OUT ordinal integer,
	OUT column_name text,
	OUT json_key text,
	OUT column_type text,
	OUT required boolean)
RETURNS SETOF record
LANGUAGE c STRICT STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'stockpipe_message_fields';
COMMENT ON FUNCTION message_fields() IS
	'The fields of the quote and bar messages and the table columns they fill, in column order';

--
-- Alerts
--
CREATE OR REPLACE FUNCTION email_problem(email text)
RETURNS text
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'stockpipe_email_problem';

--
-- Scheduler
--
COMMENT ON FUNCTION schedule_next(text, timestamptz, text) IS
	'First run of the schedule strictly after "after", in the time zone given; NULL if none within 10 years; an invalid schedule (30 February included) raises 22023';

CREATE OR REPLACE FUNCTION job_check()
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

	IF TG_OP = 'INSERT' OR NEW.schedule IS DISTINCT FROM OLD.schedule
	   OR NEW.timezone IS DISTINCT FROM OLD.timezone
	   OR NEW.skip_holidays IS DISTINCT FROM OLD.skip_holidays
	   OR NEW.enabled IS DISTINCT FROM OLD.enabled THEN
		-- raises the errors of a bad schedule or time zone
		first := stockpipe.job_next_run(NEW.schedule, now(), NEW.timezone, NEW.skip_holidays);
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
