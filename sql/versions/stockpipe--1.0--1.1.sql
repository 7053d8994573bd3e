-- stockpipe 1.0 -> 1.1: hardening (issue 9).  Run by ALTER EXTENSION
-- stockpipe UPDATE; test/sql/upgrade.sql checks that the result equals a
-- fresh CREATE EXTENSION of 1.1 and that data survives.
--
--   * users write job, job_run, alert_rule only through the API functions
--     (SECURITY INVOKER wrappers over SECURITY DEFINER functions that act
--     for the calling role alone); only check_alerts() writes alert_event;
--   * bounded inputs: retry_delay <= 1 day, cooldown <= 30 days, job names
--     and commands, jobs and rules per role; per-role mail rate limit and
--     domain allow-list; one bad alert rule cannot stop the others;
--   * locks that only stockpipe's owner can take, instead of advisory locks;
--   * dead letters keep a bounded payload and are purged; lag and stalled
--     consumers in consumer_status; monitoring for pg_monitor only;
--   * as_of of the L30D summary is the market's date (market_date()).

\echo Use "ALTER EXTENSION stockpipe UPDATE TO '1.1'" to load this file. \quit

--
-- Ingestion
--
ALTER TABLE dead_letter ADD COLUMN payload_bytes integer;
COMMENT ON TABLE dead_letter IS
	'Kafka messages that broke the message contract; payload is the raw bytes, cut at stockpipe.max_message_bytes';
COMMENT ON COLUMN dead_letter.payload_bytes IS
	'Size of the original payload; payload holds at most stockpipe.max_message_bytes of it';
CREATE INDEX dead_letter_received_at_idx ON dead_letter (received_at);

CREATE OR REPLACE FUNCTION ensure_live_partitions(days date[])
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	d		date;
	created	integer := 0;
	part	text;
BEGIN
	-- Consumers of several workers (and upkeep) may race for the same new
	-- day: take turns.  A table lock that needs privileges on live_stock
	-- beyond SELECT, so no other role can take or block it (an advisory
	-- lock on a key anyone can compute could be); it does not conflict
	-- with inserts or reads.
	LOCK TABLE stockpipe.live_stock IN SHARE UPDATE EXCLUSIVE MODE;
	FOREACH d IN ARRAY days LOOP
		CONTINUE WHEN d IS NULL;
		part := 'live_stock_p' || to_char(d, 'YYYYMMDD');
		CONTINUE WHEN to_regclass(format('stockpipe.%I', part)) IS NOT NULL;
		-- Made, then attached: ATTACH PARTITION needs only the lock above on
		-- live_stock, where CREATE TABLE ... PARTITION OF would wait for
		-- (and then block) every reader, so a long report cannot stall
		-- ingestion.
		EXECUTE format('CREATE TABLE stockpipe.%I (LIKE stockpipe.live_stock)', part);
		EXECUTE format(
			'ALTER TABLE stockpipe.live_stock ATTACH PARTITION stockpipe.%I'
			' FOR VALUES FROM (%L) TO (%L)',
			part,
			(d::timestamp AT TIME ZONE 'UTC'),
			((d + 1)::timestamp AT TIME ZONE 'UTC'));
		created := created + 1;
	END LOOP;
	RETURN created;
END;
$$;
COMMENT ON FUNCTION ensure_live_partitions(date[]) IS
	'Create the live_stock partitions of the given UTC days that do not exist yet';

ALTER FUNCTION decode_quote(bytea) STABLE;
ALTER FUNCTION decode_bar(bytea) STABLE;

DROP VIEW consumer_status;
DROP FUNCTION partition_info();
CREATE FUNCTION partition_info(
	OUT topic text,
	OUT partition integer,
	OUT owner_pid integer,
	OUT high_watermark bigint,
	OUT watermark_at timestamptz)
RETURNS SETOF record
LANGUAGE c STRICT VOLATILE
AS 'MODULE_PATHNAME', 'stockpipe_partition_info';

REVOKE ALL ON FUNCTION worker_info(), partition_info() FROM PUBLIC;
GRANT USAGE ON SCHEMA stockpipe TO pg_monitor;
GRANT EXECUTE ON FUNCTION worker_info(), partition_info() TO pg_monitor;

CREATE VIEW consumer_status AS
	SELECT coalesce(o.topic, p.topic) AS topic,
		   coalesce(o.partition, p.partition) AS partition,
		   o.next_offset,
		   p.high_watermark,
		   greatest(p.high_watermark - coalesce(o.next_offset, 0), 0) AS lag,
		   coalesce(o.rows_stored, 0) AS rows_stored,
		   coalesce(o.dead_letters, 0) AS dead_letters,
		   o.last_message_at,
		   o.updated_at,
		   p.owner_pid,
		   w.state AS owner_state,
		   w.last_batch_at AS owner_last_batch_at,
		   p.watermark_at,
		   CASE WHEN p.high_watermark - coalesce(o.next_offset, 0) > 0
				THEN now() - coalesce(greatest(w.last_batch_at, w.started_at), o.updated_at)
		   END AS stalled_for
	  FROM kafka_offsets o
	  FULL JOIN partition_info() p
		ON p.topic = o.topic AND p.partition = o.partition
	  LEFT JOIN worker_info() w ON w.pid = p.owner_pid;
COMMENT ON VIEW consumer_status IS
	'Per Kafka (topic, partition): stored next offset, high watermark, lag, rows and dead letters, owner worker, how long it has been stalled';

REVOKE ALL ON workers, consumer_status FROM PUBLIC;
GRANT SELECT ON workers, consumer_status TO pg_monitor;

--
-- L30D: as_of is the market's date.
--
CREATE FUNCTION market_date(at timestamptz DEFAULT now())
RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT (at AT TIME ZONE coalesce(nullif(current_setting('stockpipe.market_timezone', true), ''),
								 'America/New_York'))::date
$$;
COMMENT ON FUNCTION market_date(timestamptz) IS
	'The market''s date (in stockpipe.market_timezone) at the given time, by default now';

DROP FUNCTION refresh_l30d(date);
CREATE FUNCTION refresh_l30d(as_of date DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	refreshed	integer;
BEGIN
	as_of := coalesce(as_of, stockpipe.market_date());
	IF NOT isfinite(as_of) THEN
		RAISE EXCEPTION 'as_of must be a finite date'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('as_of is %s.', coalesce(as_of::text, 'NULL')),
				  HINT = 'Call refresh_l30d() for the market''s date today, or pass a date such as ''2026-11-27''.';
	END IF;

	-- Two refreshes of the same as_of at once (the scheduler's and a manual
	-- one) would each delete what the other just inserted: take turns.  The
	-- lock needs write privileges on l30d_summary, so no other role can
	-- take it (an advisory lock could be) and readers do not block it.
	LOCK TABLE stockpipe.l30d_summary IN SHARE ROW EXCLUSIVE MODE;

	WITH RECURSIVE syms AS (
		(SELECT h.symbol FROM stockpipe.historical_stock_data h
		  ORDER BY h.symbol LIMIT 1)
		UNION ALL
		SELECT (SELECT h.symbol FROM stockpipe.historical_stock_data h
				 WHERE h.symbol > s.symbol ORDER BY h.symbol LIMIT 1)
		  FROM syms s
		 WHERE s.symbol IS NOT NULL
	),
	fresh AS (
		INSERT INTO stockpipe.l30d_summary AS l (
			symbol, as_of, days_used, window_start, window_end,
			last_close, first_close, change, change_pct,
			avg_close, min_close, max_close, highest_high, lowest_low,
			avg_volume, volatility, sma_5, sma_10, sma_20, return_30d,
			computed_at)
		SELECT s.symbol, refresh_l30d.as_of, m.days_used,
			   m.window_start, m.window_end,
			   m.last_close, m.first_close,
			   m.last_close - m.first_close,
			   100 * r.return_30d,
			   m.avg_close, m.min_close, m.max_close,
			   m.highest_high, m.lowest_low, m.avg_volume,
			   m.volatility * sqrt(252::double precision),
			   m.sma_5, m.sma_10, m.sma_20, r.return_30d,
			   now()
		  FROM syms s
		 CROSS JOIN LATERAL (
			SELECT count(*)::integer AS days_used,
				   min(w.trade_date) AS window_start,
				   max(w.trade_date) AS window_end,
				   max(w.close) FILTER (WHERE w.newest = 1) AS last_close,
				   max(w.close) FILTER (WHERE w.oldest = 1) AS first_close,
				   avg(w.close) AS avg_close,
				   min(w.close) AS min_close,
				   max(w.close) AS max_close,
				   max(w.high) AS highest_high,
				   min(w.low) AS lowest_low,
				   avg(w.volume)::double precision AS avg_volume,
				   stddev_samp(ln(CASE WHEN w.close > 0 AND w.prev_close > 0
									   THEN w.close / w.prev_close END)) AS volatility,
				   CASE WHEN count(*) >= 5
						THEN avg(w.close) FILTER (WHERE w.newest <= 5) END AS sma_5,
				   CASE WHEN count(*) >= 10
						THEN avg(w.close) FILTER (WHERE w.newest <= 10) END AS sma_10,
				   CASE WHEN count(*) >= 20
						THEN avg(w.close) FILTER (WHERE w.newest <= 20) END AS sma_20
			  FROM (SELECT b.*,
						   row_number() OVER (ORDER BY b.trade_date DESC) AS newest,
						   row_number() OVER (ORDER BY b.trade_date) AS oldest,
						   lag(b.close) OVER (ORDER BY b.trade_date) AS prev_close
					  FROM (SELECT h.trade_date, h.high, h.low, h.close, h.volume
							  FROM stockpipe.historical_stock_data h
							 WHERE h.symbol = s.symbol
							   AND h.trade_date <= refresh_l30d.as_of
							 ORDER BY h.trade_date DESC
							 LIMIT 30) b
				   ) w
			HAVING count(*) > 0
		 ) m
		 CROSS JOIN LATERAL (
			SELECT CASE WHEN m.first_close > 0
						THEN m.last_close / m.first_close - 1 END AS return_30d
		 ) r
		 WHERE s.symbol IS NOT NULL
		-- (ON CONSTRAINT: a column list would clash with the parameter as_of)
		ON CONFLICT ON CONSTRAINT l30d_summary_pkey DO UPDATE SET
			days_used = EXCLUDED.days_used,
			window_start = EXCLUDED.window_start,
			window_end = EXCLUDED.window_end,
			last_close = EXCLUDED.last_close,
			first_close = EXCLUDED.first_close,
			change = EXCLUDED.change,
			change_pct = EXCLUDED.change_pct,
			avg_close = EXCLUDED.avg_close,
			min_close = EXCLUDED.min_close,
			max_close = EXCLUDED.max_close,
			highest_high = EXCLUDED.highest_high,
			lowest_low = EXCLUDED.lowest_low,
			avg_volume = EXCLUDED.avg_volume,
			volatility = EXCLUDED.volatility,
			sma_5 = EXCLUDED.sma_5,
			sma_10 = EXCLUDED.sma_10,
			sma_20 = EXCLUDED.sma_20,
			return_30d = EXCLUDED.return_30d,
			computed_at = EXCLUDED.computed_at
		RETURNING l.symbol
	),
	-- Same snapshot as the insert: these are rows of an earlier run whose
	-- symbol has no bar <= as_of now (its bars were deleted).
	gone AS (
		DELETE FROM stockpipe.l30d_summary l
		 WHERE l.as_of = refresh_l30d.as_of
		   AND NOT EXISTS (SELECT FROM fresh f WHERE f.symbol = l.symbol)
	)
	SELECT count(*) INTO refreshed FROM fresh;

	RETURN refreshed;
END;
$$;
COMMENT ON FUNCTION refresh_l30d(date) IS
	'Compute l30d_summary rows of every symbol for as_of (default: the market''s date, stockpipe.market_date()); returns the number of symbols';

REVOKE ALL ON FUNCTION refresh_l30d(date) FROM PUBLIC;

--
-- Scheduler
--
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

CREATE FUNCTION next_run_or_null(jobid bigint, schedule text, after timestamptz,
								 timezone text, skip_holidays boolean)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN stockpipe.job_next_run($2, $3, $4, $5);
EXCEPTION WHEN OTHERS THEN
	RAISE WARNING 'stockpipe scheduler: no next run for job %: %', $1, SQLERRM;
	RETURN NULL;
END;
$$;

REVOKE ALL ON FUNCTION next_run_or_null(bigint, text, timestamptz, text, boolean) FROM PUBLIC;

UPDATE job SET retry_delay = interval '1 day' WHERE retry_delay > interval '1 day';
UPDATE job SET command = 'SELECT stockpipe.refresh_l30d()'
 WHERE builtin AND name = 'l30d_refresh'
   AND command = 'SELECT stockpipe.refresh_l30d((now() AT TIME ZONE ''America/New_York'')::date)';
ALTER TABLE job ADD CONSTRAINT job_retry_delay_check
	CHECK (retry_delay BETWEEN interval '0' AND interval '1 day');
ALTER TABLE job ADD CONSTRAINT job_timeout_check
	CHECK (timeout BETWEEN interval '1 second' AND interval '24 days');

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

CREATE FUNCTION _schedule(caller name, name text, schedule text, command text,
						  timezone text, enabled boolean, catch_up boolean,
						  skip_holidays boolean, retries integer,
						  retry_delay interval, timeout interval)
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
									skip_holidays, max_retries, retry_delay, timeout)
	VALUES ($2, $3, $4, $5, who, $6, $7, $8, $9, $10, $11)
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

CREATE OR REPLACE FUNCTION schedule(name text, schedule text, command text,
						 timezone text DEFAULT 'UTC',
						 enabled boolean DEFAULT true,
						 catch_up boolean DEFAULT false,
						 skip_holidays boolean DEFAULT false,
						 retries integer DEFAULT 0,
						 retry_delay interval DEFAULT '1 minute',
						 timeout interval DEFAULT '1 hour')
RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT stockpipe._schedule(current_user, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
$$;
COMMENT ON FUNCTION schedule(text, text, text, text, boolean, boolean, boolean, integer, interval, interval) IS
	'Create a job of the current role, or replace the one of that name; returns its jobid';

DROP FUNCTION job_not_found(text);
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

CREATE OR REPLACE FUNCTION unschedule(name text, if_exists boolean DEFAULT false)
RETURNS boolean
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT stockpipe._unschedule(current_user, $1, $2)
$$;
COMMENT ON FUNCTION unschedule(text, boolean) IS
	'Delete the current role''s job of that name and its history; an unknown name is an error unless if_exists';

CREATE FUNCTION _alter_job(caller name, name text, schedule text, command text,
						   timezone text, enabled boolean, catch_up boolean,
						   skip_holidays boolean, retries integer,
						   retry_delay interval, timeout interval)
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
		timeout = coalesce($11, j.timeout)
	 WHERE j.owner = who AND j.name = $2
	RETURNING j.jobid INTO id;
	IF id IS NULL THEN
		PERFORM stockpipe.job_not_found($2, who);
	END IF;
	RETURN id;
END;
$$;

CREATE OR REPLACE FUNCTION alter_job(name text,
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
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT stockpipe._alter_job(current_user, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
$$;
COMMENT ON FUNCTION alter_job(text, text, text, text, boolean, boolean, boolean, integer, interval, interval) IS
	'Change settings of the current role''s job; NULL arguments leave settings unchanged; returns its jobid';

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

CREATE OR REPLACE FUNCTION run_job(name text)
RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT stockpipe._run_job(current_user, $1)
$$;
COMMENT ON FUNCTION run_job(text) IS
	'Queue a run of the current role''s job now (the scheduler starts it); returns its runid';

CREATE OR REPLACE FUNCTION upkeep()
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

REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON job, job_run FROM stockpipe_user;
REVOKE ALL ON FUNCTION
	_schedule(name, text, text, text, text, boolean, boolean, boolean, integer, interval, interval),
	_unschedule(name, text, boolean),
	_alter_job(name, text, text, text, text, boolean, boolean, boolean, integer, interval, interval),
	_run_job(name, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	_schedule(name, text, text, text, text, boolean, boolean, boolean, integer, interval, interval),
	_unschedule(name, text, boolean),
	_alter_job(name, text, text, text, text, boolean, boolean, boolean, integer, interval, interval),
	_run_job(name, text), job_not_found(text, name)
	TO stockpipe_user;

--
-- Alerts
--
ALTER TABLE alert_rule ADD COLUMN last_error text;
COMMENT ON COLUMN alert_rule.last_error IS
	'Why check_alerts() could not evaluate the rule and disabled it, if it did';
UPDATE alert_rule SET cooldown = interval '30 days' WHERE cooldown > interval '30 days';
ALTER TABLE alert_rule DROP CONSTRAINT alert_rule_cooldown_check;
ALTER TABLE alert_rule ADD CONSTRAINT alert_rule_cooldown_check
	CHECK (cooldown BETWEEN interval '0' AND interval '30 days');
ALTER TABLE alert_event DROP CONSTRAINT alert_event_status_check;
ALTER TABLE alert_event ADD CONSTRAINT alert_event_status_check
	CHECK (status IN ('pending', 'sent', 'failed', 'suppressed'));
COMMENT ON TABLE alert_event IS
	'One row per alert firing: the e-mail outbox the mailer sends from (''suppressed'': over stockpipe.mail_rate_limit, not sent)';
CREATE INDEX alert_event_owner_created_idx ON alert_event (owner, created_at);

CREATE FUNCTION mail_domain_allowed(email text)
RETURNS boolean
LANGUAGE c STRICT STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'stockpipe_mail_domain_allowed';
COMMENT ON FUNCTION mail_domain_allowed(text) IS
	'Whether stockpipe.mail_allowed_domains lets alert e-mails go to this address';

CREATE FUNCTION _set_alert(caller name, symbol text, condition text, threshold double precision,
						   email text, cooldown interval)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	who		name := stockpipe.acting_as($1);
	problem	text;
	id		bigint;
BEGIN
	IF $2 IS NULL OR $2 !~ '^[A-Z0-9.^=-]{1,20}$' THEN
		RAISE EXCEPTION 'invalid symbol "%"', coalesce(left($2, 40), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A symbol has 1 to 20 characters among A-Z, 0-9, ".", "-", "^" and "=".',
				  HINT = 'Write it as the quotes do, in upper case: ''AAPL'', ''BRK-B'', ''^GSPC'', ''EURUSD=X''.';
	END IF;
	IF $3 IS NULL OR $3 NOT IN ('price_above', 'price_below', 'change_pct_above',
								'change_pct_below', 'above_l30d_high', 'below_l30d_low') THEN
		RAISE EXCEPTION 'invalid alert condition "%"', coalesce(left($3, 40), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use price_above, price_below, change_pct_above, change_pct_below, above_l30d_high or below_l30d_low.';
	END IF;
	IF $3 IN ('above_l30d_high', 'below_l30d_low') THEN
		IF $4 IS NOT NULL THEN
			RAISE EXCEPTION 'condition % takes no threshold', $3
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = 'It compares the price with the newest 30-day high or low of stockpipe.l30d_summary.',
					  HINT = 'Pass NULL as the threshold.';
		END IF;
	ELSIF $4 IS NULL OR NOT ($4 > '-Infinity' AND $4 < 'Infinity') THEN
		RAISE EXCEPTION 'condition % needs a finite threshold', $3
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('threshold is %s.', coalesce($4::text, 'NULL')),
				  HINT = CASE WHEN $3 LIKE 'change_pct%'
							  THEN 'Give a change in percent against the previous close, e.g. 5 or -3.'
							  ELSE 'Give a price, e.g. 190.' END;
	ELSIF $3 LIKE 'price%' AND $4 <= 0 THEN
		RAISE EXCEPTION 'condition % needs a positive price as threshold', $3
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('threshold is %s.', $4),
				  HINT = 'Give a price, e.g. 190.';
	END IF;
	problem := CASE WHEN $5 IS NULL THEN 'it is NULL' ELSE stockpipe.email_problem($5) END;
	IF problem IS NOT NULL THEN
		RAISE EXCEPTION 'invalid e-mail address "%"', coalesce(left(translate($5, E'\r\n', '  '), 300), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The address is refused because %s.', problem),
				  HINT = 'Give one plain address such as ''alice@example.com''.';
	END IF;
	IF NOT stockpipe.mail_domain_allowed($5) THEN
		RAISE EXCEPTION 'alert e-mails may not be sent to "%"', $5
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('Its domain is not in stockpipe.mail_allowed_domains (%s).',
								  current_setting('stockpipe.mail_allowed_domains', true)),
				  HINT = 'Use an address of an allowed domain, or ask an administrator to allow it.';
	END IF;
	IF $6 IS NULL OR $6 < interval '0' OR $6 > interval '30 days' THEN
		RAISE EXCEPTION 'cooldown must be between 0 and 30 days'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('cooldown is %s.', coalesce($6::text, 'NULL')),
				  HINT = 'Give an interval such as ''15 minutes'', or ''0'' for none.';
	END IF;
	IF (SELECT count(*) FROM stockpipe.alert_rule r WHERE r.owner = who) >= 1000 THEN
		RAISE EXCEPTION 'role "%" has 1000 alert rules already', who
			USING ERRCODE = 'program_limit_exceeded',
				  HINT = 'Drop rules you no longer need with stockpipe.drop_alert().';
	END IF;

	INSERT INTO stockpipe.alert_rule AS r (owner, symbol, condition, threshold, email, cooldown)
	VALUES (who, $2, $3, $4, $5, $6)
	RETURNING r.ruleid INTO id;
	RETURN id;
END;
$$;

CREATE OR REPLACE FUNCTION set_alert(symbol text, condition text, threshold double precision, email text,
						  cooldown interval DEFAULT '15 minutes')
RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT stockpipe._set_alert(current_user, $1, $2, $3, $4, $5)
$$;
COMMENT ON FUNCTION set_alert(text, text, double precision, text, interval) IS
	'Create an alert rule of the current role; returns its ruleid';

CREATE FUNCTION _drop_alert(caller name, id bigint)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	who		name := stockpipe.acting_as($1);
BEGIN
	DELETE FROM stockpipe.alert_rule r WHERE r.ruleid = $2 AND r.owner = who;
	RETURN FOUND;
END;
$$;

CREATE OR REPLACE FUNCTION drop_alert(id bigint)
RETURNS boolean
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT stockpipe._drop_alert(current_user, $1)
$$;
COMMENT ON FUNCTION drop_alert(bigint) IS
	'Delete an alert rule (its sent and pending events stay); false if there is no such rule of yours';

CREATE FUNCTION _enable_alert(caller name, id bigint, enabled boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	who		name := stockpipe.acting_as($1);
BEGIN
	IF $3 IS NULL THEN
		RAISE EXCEPTION 'enabled must be true or false'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- Re-enabled: evaluated afresh, like a new rule (cooldown still applies).
	UPDATE stockpipe.alert_rule r SET
		enabled = $3,
		armed = CASE WHEN $3 AND NOT r.enabled THEN true ELSE r.armed END,
		last_quote_ts = CASE WHEN $3 AND NOT r.enabled THEN NULL ELSE r.last_quote_ts END,
		last_error = CASE WHEN $3 AND NOT r.enabled THEN NULL ELSE r.last_error END
	 WHERE r.ruleid = $2 AND r.owner = who;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'alert rule % does not exist', $2
			USING ERRCODE = 'undefined_object',
				  DETAIL = format('Role %s has no alert rule with that id.', who),
				  HINT = 'SELECT * FROM stockpipe.my_alerts lists your rules.';
	END IF;
END;
$$;

CREATE OR REPLACE FUNCTION enable_alert(id bigint, enabled boolean DEFAULT true)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT stockpipe._enable_alert(current_user, $1, $2)
$$;
COMMENT ON FUNCTION enable_alert(bigint, boolean) IS
	'Enable or disable an alert rule of yours';

CREATE OR REPLACE VIEW my_alerts WITH (security_invoker = true) AS
	SELECT r.ruleid, r.symbol, r.condition, r.threshold, r.email, r.cooldown, r.enabled,
		   CASE WHEN NOT r.enabled THEN 'disabled'
				WHEN r.armed THEN 'armed'
				ELSE 'disarmed' END AS state,
		   r.last_fired_at, r.last_price, r.last_quote_ts, r.last_checked_at,
		   (SELECT count(*) FROM alert_event e WHERE e.ruleid = r.ruleid) AS events,
		   r.created_at, r.last_error
	  FROM alert_rule r
	 WHERE r.owner = current_user;
COMMENT ON VIEW my_alerts IS
	'The current role''s alert rules: state armed / disarmed (the condition holds) / disabled, last firing, last quote seen';

CREATE FUNCTION _check_alerts(only_rule bigint)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	mtz		text := coalesce(nullif(current_setting('stockpipe.market_timezone', true), ''),
							 'America/New_York');
	hourly	integer := coalesce(nullif(current_setting('stockpipe.mail_rate_limit', true), '')::integer, 100);
	fired	integer;
BEGIN
	WITH syms AS (
		SELECT r.symbol, min(coalesce(r.last_quote_ts, '-infinity')) AS since
		  FROM stockpipe.alert_rule r
		 WHERE r.enabled AND (only_rule IS NULL OR r.ruleid = only_rule)
		 GROUP BY r.symbol
	),
	quote AS (
		SELECT s.symbol, q.ts, q.price,
			   coalesce(q.prev_close, h.close) AS prev_close,
			   l.high_30d, l.low_30d
		  FROM syms s
		 CROSS JOIN LATERAL (
			SELECT ls.ts, ls.price, ls.prev_close
			  FROM stockpipe.live_stock ls
			 WHERE ls.symbol = s.symbol AND ls.ts > s.since
			 ORDER BY ls.ts DESC
			 LIMIT 1) q
		  LEFT JOIN LATERAL (
			SELECT hs.close
			  FROM stockpipe.historical_stock_data hs
			 WHERE q.prev_close IS NULL
			   AND hs.symbol = s.symbol
			   AND hs.trade_date < (q.ts AT TIME ZONE mtz)::date
			 ORDER BY hs.trade_date DESC
			 LIMIT 1) h ON true
		  LEFT JOIN LATERAL (
			SELECT coalesce(su.highest_high, su.max_close) AS high_30d,
				   coalesce(su.lowest_low, su.min_close) AS low_30d
			  FROM stockpipe.l30d_summary su
			 WHERE su.symbol = s.symbol
			 ORDER BY su.as_of DESC
			 LIMIT 1) l ON true
	),
	evaluated AS (
		SELECT r.ruleid, q.ts, q.price, q.prev_close, c.change_pct,
			   CASE r.condition
					WHEN 'price_above' THEN q.price > r.threshold
					WHEN 'price_below' THEN q.price < r.threshold
					WHEN 'change_pct_above' THEN c.change_pct > r.threshold
					WHEN 'change_pct_below' THEN c.change_pct < r.threshold
					WHEN 'above_l30d_high' THEN q.price > q.high_30d
					WHEN 'below_l30d_low' THEN q.price < q.low_30d
			   END AS holds,
			   r.armed, r.last_fired_at, r.cooldown
		  FROM stockpipe.alert_rule r
		  JOIN quote q ON q.symbol = r.symbol
		 CROSS JOIN LATERAL (
			SELECT CASE WHEN q.prev_close > 0
						THEN (q.price - q.prev_close) / q.prev_close * 100 END AS change_pct) c
		 WHERE r.enabled
		   AND (only_rule IS NULL OR r.ruleid = only_rule)
		   AND (r.last_quote_ts IS NULL OR q.ts > r.last_quote_ts)
	),
	decided AS (
		SELECT e.*,
			   coalesce(e.holds AND e.armed
						AND (e.last_fired_at IS NULL OR now() - e.last_fired_at >= e.cooldown),
						false) AS fire
		  FROM evaluated e
	),
	changed AS (
		UPDATE stockpipe.alert_rule r SET
			armed = CASE WHEN d.holds IS NULL THEN r.armed ELSE NOT d.holds END,
			last_fired_at = CASE WHEN d.fire THEN now() ELSE r.last_fired_at END,
			last_checked_at = now(),
			last_quote_ts = d.ts,
			last_price = d.price
		  FROM decided d
		 WHERE r.ruleid = d.ruleid
		RETURNING r.ruleid, r.owner, r.symbol, r.condition, r.threshold, r.email,
				  d.fire, d.price, d.ts, d.prev_close, d.change_pct
	),
	firing AS (
		SELECT a.*,
			   row_number() OVER (PARTITION BY a.owner, a.allowed ORDER BY a.ruleid) AS nth,
			   (SELECT count(*) FROM stockpipe.alert_event x
				 WHERE x.owner = a.owner AND x.created_at > now() - interval '1 hour'
				   AND x.status IN ('pending', 'sent')) AS last_hour
		  FROM (SELECT c.*, stockpipe.mail_domain_allowed(c.email) AS allowed
				  FROM changed c
				 WHERE c.fire) a
	),
	events AS (
		INSERT INTO stockpipe.alert_event (ruleid, owner, symbol, condition, threshold, email,
										   price, quote_ts, prev_close, change_pct, status, last_error)
		SELECT f.ruleid, f.owner, f.symbol, f.condition, f.threshold, f.email,
			   f.price, f.ts, f.prev_close, f.change_pct,
			   CASE WHEN NOT f.allowed THEN 'failed'
					WHEN f.last_hour + f.nth > hourly THEN 'suppressed'
					ELSE 'pending' END,
			   CASE WHEN NOT f.allowed
					THEN 'not sent: the domain of the address is not in stockpipe.mail_allowed_domains'
					WHEN f.last_hour + f.nth > hourly
					THEN format('not sent: role %s reached stockpipe.mail_rate_limit (%s e-mails an hour)',
								f.owner, hourly) END
		  FROM firing f
		RETURNING 1
	)
	SELECT count(*) INTO fired FROM events;

	RETURN fired;
END;
$$;
COMMENT ON FUNCTION _check_alerts(bigint) IS
	'check_alerts() for every enabled rule (NULL) or for one; returns the number of alert events created';

CREATE OR REPLACE FUNCTION check_alerts()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	fired	integer := 0;
	rule	bigint;
	msg		text;
BEGIN
	LOCK TABLE stockpipe.alert_event IN SHARE ROW EXCLUSIVE MODE;
	BEGIN
		RETURN stockpipe._check_alerts(NULL);
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
		RAISE WARNING 'stockpipe: checking all alert rules at once failed: %', msg
			USING HINT = 'Each rule is now checked alone; rules that fail are disabled with the reason in last_error.';
	END;
	FOR rule IN SELECT r.ruleid FROM stockpipe.alert_rule r WHERE r.enabled ORDER BY r.ruleid LOOP
		BEGIN
			fired := fired + stockpipe._check_alerts(rule);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
			UPDATE stockpipe.alert_rule r
			   SET enabled = false, last_error = left(msg, 500), last_checked_at = now()
			 WHERE r.ruleid = rule;
			RAISE WARNING 'stockpipe: alert rule % disabled: %', rule, msg;
		END;
	END LOOP;
	RETURN fired;
END;
$$;
COMMENT ON FUNCTION check_alerts() IS
	'Evaluate the enabled alert rules against the newest quotes; returns the number of alert events created';

REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON alert_rule, alert_event FROM stockpipe_user;
REVOKE ALL ON FUNCTION check_alerts() FROM stockpipe_user;
REVOKE ALL ON FUNCTION
	_set_alert(name, text, text, double precision, text, interval),
	_drop_alert(name, bigint), _enable_alert(name, bigint, boolean),
	_check_alerts(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	_set_alert(name, text, text, double precision, text, interval),
	_drop_alert(name, bigint), _enable_alert(name, bigint, boolean),
	mail_domain_allowed(text)
	TO stockpipe_user;
