-- stockpipe--1.1.sql, part 1: ingestion.  The extension script is made by
-- concatenating the parts in sql/ in the order SQL_PARTS of the Makefile gives.
-- Every change here ships in an upgrade script too (sql/versions/).

\echo Use "CREATE EXTENSION stockpipe" to load this file. \quit

--
-- Ingested data.  The names live_stock and historical_stock_data are fixed:
-- Power BI reports and users' queries depend on them.
--

-- One row per (symbol, ts).  Partitioned by UTC day on ts so that retention
-- is a partition drop and time-range queries prune partitions; partitions
-- are created on demand by ensure_live_partitions().
CREATE TABLE live_stock (
	symbol		text NOT NULL,
	ts			timestamptz NOT NULL,
	price		double precision NOT NULL,
	volume		bigint,
	open		double precision,
	high		double precision,
	low			double precision,
	prev_close	double precision,
	currency	text,
	source		text,
	PRIMARY KEY (symbol, ts)
) PARTITION BY RANGE (ts);
COMMENT ON TABLE live_stock IS
	'Live quotes from Kafka topic stockpipe.live_topic; one row per (symbol, ts), the first one wins';

-- One row per (symbol, trade_date); a later bar for the same day replaces it.
CREATE TABLE historical_stock_data (
	symbol		text NOT NULL,
	trade_date	date NOT NULL,
	open		double precision,
	high		double precision,
	low			double precision,
	close		double precision NOT NULL,
	adj_close	double precision,
	volume		bigint,
	updated_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (symbol, trade_date)
);
COMMENT ON TABLE historical_stock_data IS
	'Daily bars from Kafka topic stockpipe.daily_topic; upserted on (symbol, trade_date)';

--
-- Exactly-once bookkeeping.  A batch's rows, its dead letters and the new
-- next_offset of every partition it covers commit in one transaction; on
-- assignment the consumers resume from here, not from Kafka's offsets.
--
CREATE TABLE kafka_offsets (
	topic			text NOT NULL,
	partition		integer NOT NULL CHECK (partition >= 0),
	next_offset		bigint NOT NULL CHECK (next_offset >= 0),
	messages		bigint NOT NULL DEFAULT 0,
	rows_stored		bigint NOT NULL DEFAULT 0,
	dead_letters	bigint NOT NULL DEFAULT 0,
	last_message_at	timestamptz,
	updated_at		timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (topic, partition)
);
COMMENT ON TABLE kafka_offsets IS
	'Next Kafka offset to read per (topic, partition), committed with the rows it covers';

-- Every message that could not be stored, with the reason.  The payload is
-- kept as raw bytes: it may not even be valid UTF-8.  At most
-- stockpipe.max_message_bytes of it are kept (payload_bytes says how long
-- it was), and rows older than stockpipe.dead_letter_retention are deleted
-- by upkeep(), so a flood of bad messages cannot grow the table without bound.
CREATE TABLE dead_letter (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	topic		text NOT NULL,
	partition	integer NOT NULL,
	kafka_offset bigint NOT NULL,
	key			bytea,
	payload		bytea,
	error		text NOT NULL,
	received_at	timestamptz NOT NULL DEFAULT now(),
	payload_bytes integer,
	UNIQUE (topic, partition, kafka_offset)
);
COMMENT ON TABLE dead_letter IS
	'Kafka messages that broke the message contract; payload is the raw bytes, cut at stockpipe.max_message_bytes';
COMMENT ON COLUMN dead_letter.payload_bytes IS
	'Size of the original payload; payload holds at most stockpipe.max_message_bytes of it';
-- upkeep()'s purge.
CREATE INDEX dead_letter_received_at_idx ON dead_letter (received_at);

-- pg_dump keeps these tables' rows (they are extension members).
SELECT pg_catalog.pg_extension_config_dump('live_stock', '');
SELECT pg_catalog.pg_extension_config_dump('historical_stock_data', '');
SELECT pg_catalog.pg_extension_config_dump('kafka_offsets', '');
SELECT pg_catalog.pg_extension_config_dump('dead_letter', '');
SELECT pg_catalog.pg_extension_config_dump('dead_letter_id_seq', '');

--
-- Partitions of live_stock: one per UTC day, named live_stock_pYYYYMMDD.
--
CREATE FUNCTION ensure_live_partitions(days date[])
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
REVOKE ALL ON FUNCTION ensure_live_partitions(date[]) FROM PUBLIC;

--
-- The message contract, callable from SQL: the very decoder the workers use.
--
CREATE FUNCTION decode_quote(payload bytea)
RETURNS live_stock
LANGUAGE c STRICT STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'stockpipe_decode_quote';
COMMENT ON FUNCTION decode_quote(bytea) IS
	'Decode a stock_live message as the consumer does; raises the error a bad message gets';

CREATE FUNCTION decode_bar(payload bytea)
RETURNS historical_stock_data
LANGUAGE c STRICT STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'stockpipe_decode_bar';
COMMENT ON FUNCTION decode_bar(bytea) IS
	'Decode a stock_daily message as the consumer does; raises the error a bad message gets';

CREATE FUNCTION message_error(topic text, payload bytea)
RETURNS text
LANGUAGE c STRICT STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'stockpipe_message_error';
COMMENT ON FUNCTION message_error(text, bytea) IS
	'NULL if the consumer would store this message of this topic, else the dead-letter error text';

--
-- Monitoring.
--
CREATE FUNCTION worker_info(
	OUT pid integer,
	OUT kind text,
	OUT worker_index integer,
	OUT state text,
	OUT started_at timestamptz,
	OUT assigned_partitions integer,
	OUT messages bigint,
	OUT batches bigint,
	OUT last_batch_at timestamptz,
	OUT last_error text,
	OUT last_error_at timestamptz)
RETURNS SETOF record
LANGUAGE c STRICT VOLATILE
AS 'MODULE_PATHNAME', 'stockpipe_worker_info';

CREATE FUNCTION partition_info(
	OUT topic text,
	OUT partition integer,
	OUT owner_pid integer,
	OUT high_watermark bigint,
	OUT watermark_at timestamptz)
RETURNS SETOF record
LANGUAGE c STRICT VOLATILE
AS 'MODULE_PATHNAME', 'stockpipe_partition_info';

-- Workers' errors may quote any user's data (an e-mail address, a job's
-- message): monitoring is for pg_monitor members, not PUBLIC.
REVOKE ALL ON FUNCTION worker_info(), partition_info() FROM PUBLIC;
GRANT USAGE ON SCHEMA stockpipe TO pg_monitor;
GRANT EXECUTE ON FUNCTION worker_info(), partition_info() TO pg_monitor;

CREATE VIEW workers AS
	SELECT * FROM worker_info();
COMMENT ON VIEW workers IS
	'stockpipe background workers: state, throughput and the last error';

-- Lag is the broker's high watermark (published by any consumer worker,
-- not only the partition's owner, so a stalled owner does not hide it)
-- minus the stored next offset.  stalled_for: while there is lag, how long
-- since the owner last stored a batch (or, with no owner, since the offset
-- last moved).
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
-- L30D summary: per symbol and as-of date, metrics over the 30 most recent
-- trading days up to that date in historical_stock_data.  One row per
-- (symbol, as_of): a refresh for a new as_of adds rows and keeps the old ones,
-- so dashboards can chart how the metrics moved (trend analysis).
--
-- Metric definitions (the "window" is the days_used most recent bars of the
-- symbol with trade_date <= as_of, days_used <= 30; a "trading day" is a day
-- that has a bar, so weekends and holidays simply do not count):
--
--   last_close, first_close  close of the newest / oldest bar of the window
--   change        last_close - first_close
--   return_30d    last_close / first_close - 1, a fraction (0.05 = +5 %):
--                 the close-to-close return over the window
--   change_pct    100 * return_30d, the same return in percent
--   avg/min/max_close  over the closes of the window
--   highest_high, lowest_low  max(high) / min(low) of the window; bars
--                 without high/low are ignored, NULL if none has one
--   avg_volume    average of the window's non-NULL volumes
--   volatility    annualised volatility of daily log returns, a fraction:
--                 stddev_samp(ln(close_t / close_t-1)) * sqrt(252), over
--                 the days_used - 1 returns between consecutive bars of
--                 the window; NULL with fewer than 2 returns
--   sma_5/10/20   average close of the newest 5 / 10 / 20 bars; NULL when
--                 the window has fewer bars
--
-- Ratios of a non-positive close (bad data) are NULL rather than an error
-- that would stop the refresh of every other symbol.
--
CREATE TABLE l30d_summary (
	symbol			text NOT NULL,
	as_of			date NOT NULL,
	days_used		integer NOT NULL CHECK (days_used BETWEEN 1 AND 30),
	window_start	date NOT NULL,
	window_end		date NOT NULL CHECK (window_end >= window_start AND window_end <= as_of),
	last_close		double precision NOT NULL,
	first_close		double precision NOT NULL,
	change			double precision NOT NULL,
	change_pct		double precision,
	avg_close		double precision NOT NULL,
	min_close		double precision NOT NULL,
	max_close		double precision NOT NULL,
	highest_high	double precision,
	lowest_low		double precision,
	avg_volume		double precision,
	volatility		double precision,
	sma_5			double precision,
	sma_10			double precision,
	sma_20			double precision,
	return_30d		double precision,
	computed_at		timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT l30d_summary_pkey PRIMARY KEY (symbol, as_of)
);
-- All symbols of one as_of: the refresh's clean-up of vanished symbols, and
-- dashboards that show the latest summary of every symbol.
CREATE INDEX l30d_summary_as_of_idx ON l30d_summary (as_of);
COMMENT ON TABLE l30d_summary IS
	'Per (symbol, as_of): metrics over the 30 most recent trading days <= as_of; filled by refresh_l30d()';
COMMENT ON COLUMN l30d_summary.days_used IS
	'Bars in the window: 30, or fewer for a symbol with a shorter history';
COMMENT ON COLUMN l30d_summary.window_end IS
	'Last trading day <= as_of';
COMMENT ON COLUMN l30d_summary.change_pct IS
	'100 * return_30d: (last_close / first_close - 1) in percent';
COMMENT ON COLUMN l30d_summary.return_30d IS
	'last_close / first_close - 1 as a fraction: the close-to-close return over the window';
COMMENT ON COLUMN l30d_summary.volatility IS
	'stddev_samp of daily log returns in the window * sqrt(252), a fraction; NULL with < 2 returns';

-- pg_dump keeps its rows (the history cannot be recomputed once old bars
-- are purged).
SELECT pg_catalog.pg_extension_config_dump('l30d_summary', '');

--
-- refresh_l30d: one set-based statement for every symbol.
--
-- The symbols come from a loose index scan of the primary key (a recursive
-- CTE that jumps from one symbol to the next: one index probe per symbol,
-- not a read of every bar), and each symbol's window is a LATERAL
-- "ORDER BY trade_date DESC LIMIT 30" that the same index answers with a
-- backward index scan of 30 entries.  The cost is thus O(symbols), not
-- O(bars): years of history do not slow it down.  With 500 symbols x 2,500
-- bars each (1.25 M rows) and 250,000 rows of summary history, a refresh
-- takes 50 to 75 ms; EXPLAIN ANALYZE of its statement (through auto_explain,
-- costs left out):
--
--   Aggregate (actual rows=1 loops=1)
--     CTE syms
--       ->  Recursive Union (actual rows=501 loops=1)
--             ->  Limit (actual rows=1 loops=1)
--                   ->  Index Only Scan using historical_stock_data_pkey on historical_stock_data h_1
--             ->  WorkTable Scan on syms s (actual rows=1 loops=501)
--                   Filter: (symbol IS NOT NULL)
--                   SubPlan 1
--                     ->  Limit (actual rows=1 loops=500)
--                           ->  Index Only Scan using historical_stock_data_pkey on historical_stock_data h
--                                 Index Cond: (symbol > s.symbol)
--     CTE fresh
--       ->  Insert on l30d_summary l (actual rows=500 loops=1)
--             Conflict Resolution: UPDATE
--             Conflict Arbiter Indexes: l30d_summary_pkey
--             ->  Nested Loop (actual rows=500 loops=1)
--                   ->  CTE Scan on syms s_1 (actual rows=500 loops=1)
--                         Filter: (symbol IS NOT NULL)
--                   ->  Aggregate (actual rows=1 loops=500)
--                         Filter: (count(*) > 0)
--                         ->  WindowAgg (actual rows=30 loops=500)
--                               ->  Sort (actual rows=30 loops=500)
--                                     Sort Key: h_2.trade_date
--                                     ->  WindowAgg (actual rows=30 loops=500)
--                                           ->  Limit (actual rows=30 loops=500)
--                                                 ->  Index Scan Backward using historical_stock_data_pkey on historical_stock_data h_2 (actual rows=30 loops=500)
--                                                       Index Cond: ((symbol = s_1.symbol) AND (trade_date <= '2023-06-16'::date))
--     CTE gone
--       ->  Delete on l30d_summary l_1 (actual rows=0 loops=1)
--             ->  Hash Anti Join (actual rows=0 loops=1)
--                   Hash Cond: (l_1.symbol = f.symbol)
--                   ->  Bitmap Heap Scan on l30d_summary l_1 (actual rows=500 loops=1)
--                         ->  Bitmap Index Scan on l30d_summary_as_of_idx
--                               Index Cond: (as_of = '2023-06-16'::date)
--                   ->  Hash (actual rows=500 loops=1)
--                         ->  CTE Scan on fresh f (actual rows=500 loops=1)
--     ->  CTE Scan on fresh (actual rows=500 loops=1)
--
-- Rerunning for the same as_of upserts the same values (only computed_at
-- moves) and deletes rows of that as_of whose symbol has no bar <= as_of
-- any more, so a rerun leaves exactly what a first run would.  Not
-- SECURITY DEFINER: it runs with the caller's rights (the scheduler runs
-- jobs as their owner).
--
--
-- as_of means one thing everywhere: a trading date of the market, i.e. the
-- date in stockpipe.market_timezone (never the session's time zone).
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
-- stockpipe--1.1.sql, part 3: the scheduler's tables and SQL API (issue 4;
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

-- The scheduler's next run of a job: job_next_run(), or NULL with a WARNING
-- when that fails for this job's row, so that one bad row can never stop
-- the scheduler (the job then has no next run, and the scheduler says so).
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

CREATE FUNCTION schedule(name text, schedule text, command text,
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
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT stockpipe._alter_job(current_user, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
$$;
COMMENT ON FUNCTION alter_job(text, text, text, text, boolean, boolean, boolean, integer, interval, interval) IS
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
GRANT SELECT ON market_holiday TO stockpipe_user;
-- Read within row-level security; written only through the functions.
GRANT SELECT ON job, job_run TO stockpipe_user;

REVOKE ALL ON FUNCTION schedule(text, text, text, text, boolean, boolean, boolean, integer, interval, interval),
	unschedule(text, boolean),
	alter_job(text, text, text, text, boolean, boolean, boolean, integer, interval, interval),
	run_job(text),
	_schedule(name, text, text, text, text, boolean, boolean, boolean, integer, interval, interval),
	_unschedule(name, text, boolean),
	_alter_job(name, text, text, text, text, boolean, boolean, boolean, integer, interval, interval),
	_run_job(name, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION schedule(text, text, text, text, boolean, boolean, boolean, integer, interval, interval),
	unschedule(text, boolean),
	alter_job(text, text, text, text, boolean, boolean, boolean, integer, interval, interval),
	run_job(text),
	_schedule(name, text, text, text, text, boolean, boolean, boolean, integer, interval, interval),
	_unschedule(name, text, boolean),
	_alter_job(name, text, text, text, text, boolean, boolean, boolean, integer, interval, interval),
	_run_job(name, text), job_not_found(text, name),
	schedule_next(text, timestamptz, text), schedule_check(text),
	job_next_run(text, timestamptz, text, boolean)
	TO stockpipe_user;
--
-- stockpipe--1.1.sql, part 4: price alerts (issue 4; docs/scheduler-design.md).
-- Rules say when to e-mail whom; check_alerts(), run every 5 seconds by the
-- built-in job alert_check, writes one alert_event row per firing; the
-- mailer worker (src/mailer.c) sends those rows (the outbox) over SMTP.
--
-- Choices:
--   * Conditions price_above / price_below compare the latest quote's price
--     with threshold (strictly greater / less); change_pct_above /
--     change_pct_below compare 100 * (price - prev_close) / prev_close with
--     threshold (in percent: -2 means "down more than 2 %"), prev_close from
--     the quote, else the last daily close before the quote's date in
--     stockpipe.market_timezone; above_l30d_high / below_l30d_low compare
--     the price with the newest l30d_summary row of the symbol (highest_high,
--     else max_close / lowest_low, else min_close).  The two l30d conditions
--     take no threshold: it must be NULL.  Price thresholds must be > 0.
--   * Edges: a rule fires when its condition holds and it is armed; it is
--     then disarmed until the condition is false again (re-armed).  A firing
--     within cooldown of last_fired_at only disarms, without an event.  A new
--     (or re-enabled) rule whose condition already holds fires at the first
--     check.  A condition that cannot be evaluated (no prev_close, no L30D
--     row) leaves the rule as it is.
--   * A rule is evaluated only when its symbol has a quote newer than the
--     one it last saw (last_quote_ts): checking twice against the same quote
--     changes nothing, and rules whose symbol got no new quote are not even
--     written, so a check every 5 s does not bloat alert_rule.
--   * Symbols must match the message contract (upper case, ^[A-Z0-9.^=-]{1,20}$):
--     'aapl' is an error, not silently 'AAPL'.
--   * E-mail addresses are checked strictly (email_problem()), by set_alert()
--     and by CHECK constraints of alert_rule and alert_event, so no address
--     written by any path can carry CR/LF or a second recipient into a header.
--   * drop_alert() of an unknown (or another role's) rule returns false;
--     enable_alert() of one is an error (42704).
--   * Users read their rules and events (row-level security) and write
--     them only through set_alert / drop_alert / enable_alert; only
--     check_alerts() writes the outbox.  What a user can make the system
--     send (docs/security.md): e-mails about their own rules, to addresses
--     in stockpipe.mail_allowed_domains (empty: any), at most
--     stockpipe.mail_rate_limit per role and hour (further firings are
--     recorded as 'suppressed', not sent); a role has at most 1000 rules;
--     cooldown is at most 30 days.
--

--
-- Why an e-mail address is refused, or NULL if it is fine: one address,
-- ASCII, no white space, CR/LF, commas, angle brackets or quotes, at most
-- 254 characters, local part of dot-atoms (at most 64 characters), domain
-- of DNS labels with at least one dot, or "localhost".
--
CREATE FUNCTION email_problem(email text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT CASE
	WHEN email ~ '[\r\n]' THEN 'it contains a line break (CR or LF)'
	WHEN email ~ '[<>]' THEN 'it contains an angle bracket; give the bare address, without a display name'
	WHEN email ~ ',' THEN 'it contains a comma; give one address'
	WHEN email ~ '[[:space:]]' THEN 'it contains white space'
	WHEN email ~ '["''`]' THEN 'it contains a quote'
	WHEN email ~ '[^!-~]' THEN 'it contains a character other than printable ASCII'
	WHEN octet_length(email) > 254 THEN 'it is longer than 254 characters'
	WHEN email !~ '^[^@]+@[^@]+$' THEN 'it must contain exactly one "@" with text on both sides'
	WHEN octet_length(split_part(email, '@', 1)) > 64 THEN 'its local part is longer than 64 characters'
	WHEN split_part(email, '@', 1) !~ '^[A-Za-z0-9!#$%&*+/=?^_{|}~-]+(\.[A-Za-z0-9!#$%&*+/=?^_{|}~-]+)*$'
		THEN 'its local part (before "@") has a character not allowed, or a misplaced dot'
	WHEN lower(split_part(email, '@', 2)) = 'localhost' THEN NULL
	WHEN split_part(email, '@', 2) !~ '^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$'
		THEN 'its domain (after "@") must be DNS labels separated by dots, such as example.com'
END
$$;
COMMENT ON FUNCTION email_problem(text) IS
	'Why stockpipe refuses an e-mail address, or NULL if it accepts it';

CREATE TABLE alert_rule (
	ruleid			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	owner			name NOT NULL DEFAULT current_user,
	symbol			text NOT NULL CHECK (symbol ~ '^[A-Z0-9.^=-]{1,20}$'),
	condition		text NOT NULL CHECK (condition IN ('price_above', 'price_below', 'change_pct_above',
													   'change_pct_below', 'above_l30d_high', 'below_l30d_low')),
	threshold		double precision,
	email			text NOT NULL CHECK (stockpipe.email_problem(email) IS NULL),
	cooldown		interval NOT NULL DEFAULT '15 minutes'
		CONSTRAINT alert_rule_cooldown_check CHECK (cooldown BETWEEN interval '0' AND interval '30 days'),
	enabled			boolean NOT NULL DEFAULT true,
	armed			boolean NOT NULL DEFAULT true,
	last_fired_at	timestamptz,
	last_checked_at	timestamptz,
	created_at		timestamptz NOT NULL DEFAULT now(),
	last_quote_ts	timestamptz,
	last_price		double precision,
	last_error		text,
	CONSTRAINT alert_rule_threshold_check CHECK (
		CASE WHEN condition IN ('above_l30d_high', 'below_l30d_low') THEN threshold IS NULL
			 ELSE coalesce(threshold > '-Infinity' AND threshold < 'Infinity', false) END)
);
COMMENT ON TABLE alert_rule IS
	'Alert rules: e-mail email when condition holds for symbol; fires on the edge, re-arms when false';
COMMENT ON COLUMN alert_rule.armed IS
	'false while the condition holds (after a firing, or a disarm within cooldown)';
COMMENT ON COLUMN alert_rule.last_checked_at IS
	'When the rule was last evaluated against a new quote';
COMMENT ON COLUMN alert_rule.last_quote_ts IS
	'ts of the quote the rule was last evaluated against';
COMMENT ON COLUMN alert_rule.last_price IS
	'price of the quote the rule was last evaluated against';
COMMENT ON COLUMN alert_rule.last_error IS
	'Why check_alerts() could not evaluate the rule and disabled it, if it did';

-- The e-mail outbox.
CREATE TABLE alert_event (
	eventid			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	ruleid			bigint REFERENCES alert_rule ON DELETE SET NULL,
	owner			name NOT NULL,
	symbol			text NOT NULL,
	condition		text NOT NULL,
	threshold		double precision,
	email			text NOT NULL CHECK (stockpipe.email_problem(email) IS NULL),
	price			double precision NOT NULL,
	quote_ts		timestamptz NOT NULL,
	prev_close		double precision,
	change_pct		double precision,
	created_at		timestamptz NOT NULL DEFAULT now(),
	status			text NOT NULL DEFAULT 'pending'
		CONSTRAINT alert_event_status_check CHECK (status IN ('pending', 'sent', 'failed', 'suppressed')),
	attempts		integer NOT NULL DEFAULT 0,
	next_attempt_at	timestamptz NOT NULL DEFAULT now(),
	last_error		text,
	sent_at			timestamptz
);
COMMENT ON TABLE alert_event IS
	'One row per alert firing: the e-mail outbox the mailer sends from (''suppressed'': over stockpipe.mail_rate_limit, not sent)';
-- The per-role hourly limit.
CREATE INDEX alert_event_owner_created_idx ON alert_event (owner, created_at);
-- The mailer's queue.
CREATE INDEX alert_event_pending_idx ON alert_event (next_attempt_at) WHERE status = 'pending';
-- A rule's events, and ON DELETE SET NULL when a rule is dropped.
CREATE INDEX alert_event_ruleid_idx ON alert_event (ruleid);

ALTER TABLE alert_rule ENABLE ROW LEVEL SECURITY;
CREATE POLICY alert_rule_owner ON alert_rule
	USING (owner = current_user)
	WITH CHECK (owner = current_user);

ALTER TABLE alert_event ENABLE ROW LEVEL SECURITY;
CREATE POLICY alert_event_owner ON alert_event
	USING (owner = current_user)
	WITH CHECK (owner = current_user);

SELECT pg_catalog.pg_extension_config_dump('alert_rule', '');
SELECT pg_catalog.pg_extension_config_dump('alert_rule_ruleid_seq', '');
SELECT pg_catalog.pg_extension_config_dump('alert_event', '');
SELECT pg_catalog.pg_extension_config_dump('alert_event_eventid_seq', '');

--
-- The SQL API: SECURITY INVOKER wrappers that pass current_user to internal
-- SECURITY DEFINER functions acting for that role alone (see the scheduler
-- part, acting_as()).
--

-- Whether mail may go to this address under stockpipe.mail_allowed_domains
-- (the mailer's own rule, src/mail.c).
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

CREATE FUNCTION set_alert(symbol text, condition text, threshold double precision, email text,
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

CREATE FUNCTION drop_alert(id bigint)
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

CREATE FUNCTION enable_alert(id bigint, enabled boolean DEFAULT true)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT stockpipe._enable_alert(current_user, $1, $2)
$$;
COMMENT ON FUNCTION enable_alert(bigint, boolean) IS
	'Enable or disable an alert rule of yours';

-- The caller's rules and their state.
CREATE VIEW my_alerts WITH (security_invoker = true) AS
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

--
-- check_alerts: one set-based statement for every enabled rule, run by the
-- built-in job alert_check as the extension's owner.
--
-- Per symbol with rules, the newest quote newer than the oldest last_quote_ts
-- of the symbol's rules is a backward scan of live_stock's primary key in an
-- ordered Append, newest day first, that stops at the first row: one index
-- probe per symbol when a new quote exists (one per partition when none
-- does).  Then one probe each for the previous close when the quote has
-- none, and for the newest L30D row.  Rules of symbols without a new quote
-- are not touched.  300 rules on 300 symbols, 30 daily partitions: about
-- 30 ms with 300 new quotes, 6 ms with none.
-- Rule updates and events commit together (the caller's transaction).  Two
-- checks at once take turns (a lock on alert_event, which only the owner
-- can take in that mode), so no quote fires twice.
--
-- Bounds: a firing beyond its role's stockpipe.mail_rate_limit in the last
-- hour is recorded as 'suppressed' (not mailed); one to an address outside
-- stockpipe.mail_allowed_domains as 'failed'.  The cooldown is compared as
-- an interval (now() - last_fired_at), which cannot overflow.
--
-- _check_alerts(only_rule) is that statement, for every rule or for one.
-- If the statement fails for every rule, check_alerts() evaluates each rule
-- alone and disables (with last_error) the rules that fail: one bad rule
-- never stops the others.
--
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

CREATE FUNCTION check_alerts()
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

--
-- Privileges.  Users read their own rules and events and the market data;
-- they write rules only through the functions above, and only
-- check_alerts() (the built-in job, as the extension's owner) writes the
-- outbox.
--
GRANT SELECT ON alert_rule, alert_event TO stockpipe_user;
GRANT SELECT ON my_alerts TO stockpipe_user;
GRANT SELECT ON live_stock, historical_stock_data, l30d_summary TO stockpipe_user;
REVOKE ALL ON FUNCTION set_alert(text, text, double precision, text, interval),
	drop_alert(bigint), enable_alert(bigint, boolean),
	_set_alert(name, text, text, double precision, text, interval),
	_drop_alert(name, bigint), _enable_alert(name, bigint, boolean),
	check_alerts(), _check_alerts(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION set_alert(text, text, double precision, text, interval),
	drop_alert(bigint), enable_alert(bigint, boolean),
	_set_alert(name, text, text, double precision, text, interval),
	_drop_alert(name, bigint), _enable_alert(name, bigint, boolean),
	email_problem(text), mail_domain_allowed(text)
	TO stockpipe_user;
--
-- stockpipe--1.1.sql, part 5: reporting views for BI tools (issue 5, items
-- 1-2; docs/powerbi.md).
--
-- Schema stockpipe_bi holds views shaped the way Power BI models like them:
-- one dimension (dim_symbol) and fact views keyed on symbol, with clean
-- column names and plain types (text, date, timestamptz, timestamp, bigint,
-- integer, boolean, double precision; no arrays, JSON or intervals).
-- Prices stay double precision, as stored: Power BI reads them as "Decimal
-- number" (a double) without rounding; numeric(18,4) would round and buy
-- nothing.
--
-- Role stockpipe_reader (NOLOGIN; created if missing, never dropped here)
-- may read these views and nothing else.  A login role granted it
-- (GRANT stockpipe_reader TO powerbi) is what Power BI connects as.  The
-- views run with their owner's rights (the superuser who created the
-- extension, who also owns the tables), so the reader needs no grant on
-- stockpipe.*, and the row-level security of alert_rule / alert_event,
-- which superusers bypass, does not empty the alert views.  What the views
-- show is therefore chosen here: no e-mail address of another role, no
-- SMTP error text (it may quote addresses), no Kafka payloads.
--
-- Speed on a year of data (regress test bi_views shows the plans):
--   * symbols are enumerated by loose index scans of the primary keys (a
--     recursive CTE that jumps from one symbol to the next: one probe per
--     symbol, and per partition of the last 7 days for live_stock, not a
--     read of every row; see stockpipe.bi_symbols);
--   * per-symbol facts (latest quote, first/last quote, previous close) are
--     LATERAL ... ORDER BY ... LIMIT 1 probes of the primary keys; on
--     live_stock an ordered Append over the day partitions stops at the
--     first partition that has a row;
--   * fact_intraday is a plain projection of live_stock: a filter on ts
--     prunes partitions, a filter on symbol uses the primary key.  (A filter
--     on day or ts_market cannot prune: filter on ts.)
--   * fact_daily's change_pct is a window over the symbol's bars, which a
--     filter on symbol narrows to one index range.
--

CREATE SCHEMA stockpipe_bi;
COMMENT ON SCHEMA stockpipe_bi IS
	'Reporting views for BI tools (Power BI): readable by stockpipe_reader';

-- The symbols the reporting views know (internal; not granted to
-- stockpipe_reader): every symbol with daily bars, and every symbol with a
-- quote in the last 7 days.  Each list is a loose index scan of a primary
-- key (a recursive CTE that jumps from one symbol to the next).
--
-- Why not every symbol of live_stock: a loose index scan of the
-- partitioned table probes every day partition for each symbol, 45,000
-- probes (0.6 s) for 500 symbols over 90 days, and a year of partitions
-- would take seconds: too slow for a page refreshed every few seconds.
-- The window "ts >= now() - 7 days and ts < now() + 1 day" is pruned when
-- the query starts, leaving about 8 partitions.  The producer publishes
-- daily bars of every symbol it polls, so in practice the first list has
-- every symbol and the second only adds one that is new today; a symbol
-- quoted only more than a week ago and without daily bars drops out.
CREATE VIEW stockpipe.bi_symbols AS
	WITH RECURSIVE daily AS (
		(SELECT h.symbol FROM stockpipe.historical_stock_data h ORDER BY h.symbol LIMIT 1)
		UNION ALL
		SELECT (SELECT h.symbol FROM stockpipe.historical_stock_data h
				 WHERE h.symbol > d.symbol ORDER BY h.symbol LIMIT 1)
		  FROM daily d
		 WHERE d.symbol IS NOT NULL
	),
	live AS (
		(SELECT l.symbol FROM stockpipe.live_stock l
		  WHERE l.ts >= now() - interval '7 days' AND l.ts < now() + interval '1 day'
		  ORDER BY l.symbol LIMIT 1)
		UNION ALL
		SELECT (SELECT l.symbol FROM stockpipe.live_stock l
				 WHERE l.symbol > v.symbol
				   AND l.ts >= now() - interval '7 days' AND l.ts < now() + interval '1 day'
				 ORDER BY l.symbol LIMIT 1)
		  FROM live v
		 WHERE v.symbol IS NOT NULL
	)
	SELECT daily.symbol FROM daily WHERE daily.symbol IS NOT NULL
	UNION
	SELECT live.symbol FROM live WHERE live.symbol IS NOT NULL;
COMMENT ON VIEW stockpipe.bi_symbols IS
	'Symbols of the stockpipe_bi views: those with daily bars or a quote in the last 7 days (loose index scans)';

--
-- Symbol dimension: one row per symbol that has live quotes or daily bars.
--
CREATE VIEW stockpipe_bi.dim_symbol AS
	SELECT s.symbol,
		   least(d.first_trade_date, (fq.ts AT TIME ZONE z.tz)::date) AS first_seen,
		   greatest(d.last_trade_date, (lq.ts AT TIME ZONE z.tz)::date) AS last_seen,
		   d.first_trade_date,
		   d.last_trade_date,
		   fq.ts AS first_quote_at,
		   lq.ts AS last_quote_at,
		   lq.currency,
		   lq.ts IS NOT NULL AS has_live,
		   d.last_trade_date IS NOT NULL AS has_daily
	  FROM stockpipe.bi_symbols s
	 CROSS JOIN (SELECT coalesce(nullif(current_setting('stockpipe.market_timezone', true), ''),
								 'America/New_York') AS tz) z
	  LEFT JOIN LATERAL (
		SELECT (SELECT h.trade_date FROM stockpipe.historical_stock_data h
				 WHERE h.symbol = s.symbol ORDER BY h.trade_date LIMIT 1) AS first_trade_date,
			   (SELECT h.trade_date FROM stockpipe.historical_stock_data h
				 WHERE h.symbol = s.symbol ORDER BY h.trade_date DESC LIMIT 1) AS last_trade_date
	  ) d ON true
	  LEFT JOIN LATERAL (
		SELECT l.ts FROM stockpipe.live_stock l
		 WHERE l.symbol = s.symbol ORDER BY l.ts LIMIT 1
	  ) fq ON true
	  LEFT JOIN LATERAL (
		SELECT l.ts, l.currency FROM stockpipe.live_stock l
		 WHERE l.symbol = s.symbol ORDER BY l.ts DESC LIMIT 1
	  ) lq ON true;
COMMENT ON VIEW stockpipe_bi.dim_symbol IS
	'One row per symbol: first/last market date seen, first/last quote, currency of the latest quote, whether it has live quotes and daily bars';

--
-- Latest quote per symbol (of stockpipe.bi_symbols), with the day's change
-- against the previous close: the quote's prev_close, else the last daily
-- close before the quote's market date (as the alert checks do).
--
CREATE VIEW stockpipe_bi.fact_latest_quote AS
	SELECT s.symbol,
		   q.ts,
		   (q.ts AT TIME ZONE z.tz) AS ts_market,
		   (q.ts AT TIME ZONE z.tz)::date AS day,
		   q.price,
		   q.volume,
		   q.open,
		   q.high,
		   q.low,
		   coalesce(q.prev_close, h.close) AS prev_close,
		   q.price - coalesce(q.prev_close, h.close) AS day_change,
		   CASE WHEN coalesce(q.prev_close, h.close) > 0
				THEN 100 * (q.price - coalesce(q.prev_close, h.close)) / coalesce(q.prev_close, h.close)
		   END AS day_change_pct,
		   q.currency,
		   q.source
	  FROM stockpipe.bi_symbols s
	 CROSS JOIN (SELECT coalesce(nullif(current_setting('stockpipe.market_timezone', true), ''),
								 'America/New_York') AS tz) z
	 CROSS JOIN LATERAL (
		SELECT l.ts, l.price, l.volume, l.open, l.high, l.low, l.prev_close, l.currency, l.source
		  FROM stockpipe.live_stock l
		 WHERE l.symbol = s.symbol
		 ORDER BY l.ts DESC
		 LIMIT 1
	 ) q
	  LEFT JOIN LATERAL (
		SELECT hs.close
		  FROM stockpipe.historical_stock_data hs
		 WHERE q.prev_close IS NULL
		   AND hs.symbol = s.symbol
		   AND hs.trade_date < (q.ts AT TIME ZONE z.tz)::date
		 ORDER BY hs.trade_date DESC
		 LIMIT 1
	  ) h ON true;
COMMENT ON VIEW stockpipe_bi.fact_latest_quote IS
	'Latest quote of every symbol with daily bars or a quote in the last 7 days; day_change and day_change_pct (percent) against the previous close';

--
-- Intraday series: every quote.  Filter on ts to prune day partitions.
--
CREATE VIEW stockpipe_bi.fact_intraday AS
	SELECT l.symbol,
		   l.ts,
		   (l.ts AT TIME ZONE z.tz) AS ts_market,
		   (l.ts AT TIME ZONE z.tz)::date AS day,
		   l.price,
		   l.volume
	  FROM stockpipe.live_stock l
	 CROSS JOIN (SELECT coalesce(nullif(current_setting('stockpipe.market_timezone', true), ''),
								 'America/New_York') AS tz) z;
COMMENT ON VIEW stockpipe_bi.fact_intraday IS
	'Every live quote: ts (UTC instant), ts_market and day in stockpipe.market_timezone; filter on ts to prune partitions';

--
-- Daily history: the bars, with the change against the previous bar's close.
--
CREATE VIEW stockpipe_bi.fact_daily AS
	SELECT h.symbol,
		   h.trade_date,
		   h.open,
		   h.high,
		   h.low,
		   h.close,
		   h.adj_close,
		   h.volume,
		   lag(h.close) OVER w AS prev_close,
		   h.close - lag(h.close) OVER w AS change,
		   CASE WHEN lag(h.close) OVER w > 0
				THEN 100 * (h.close - lag(h.close) OVER w) / lag(h.close) OVER w
		   END AS change_pct
	  FROM stockpipe.historical_stock_data h
	WINDOW w AS (PARTITION BY h.symbol ORDER BY h.trade_date);
COMMENT ON VIEW stockpipe_bi.fact_daily IS
	'Daily bars; prev_close is the close of the symbol''s previous bar, change_pct in percent';

--
-- L30D summary rows, every as_of (the trend of the metrics over time).
--
CREATE VIEW stockpipe_bi.fact_l30d AS
	SELECT m.symbol,
		   m.as_of,
		   m.days_used,
		   m.window_start,
		   m.window_end,
		   m.last_close,
		   m.first_close,
		   m.change,
		   m.change_pct,
		   m.return_30d,
		   m.avg_close,
		   m.min_close,
		   m.max_close,
		   m.highest_high,
		   m.lowest_low,
		   m.avg_volume,
		   m.volatility,
		   m.sma_5,
		   m.sma_10,
		   m.sma_20,
		   m.computed_at
	  FROM stockpipe.l30d_summary m;
COMMENT ON VIEW stockpipe_bi.fact_l30d IS
	'L30D summary per (symbol, as_of): 30-trading-day metrics; change_pct in percent, return_30d and volatility as fractions';

--
-- Alert rules of every role.  The e-mail address is shown only on the
-- current role's own rules (NULL on others').
--
CREATE VIEW stockpipe_bi.alert_rules AS
	SELECT r.ruleid,
		   r.owner::text AS owner,
		   r.symbol,
		   r.condition,
		   r.threshold,
		   CASE WHEN r.owner = current_user THEN r.email END AS email,
		   extract(epoch FROM r.cooldown)::integer AS cooldown_seconds,
		   r.enabled,
		   CASE WHEN NOT r.enabled THEN 'disabled'
				WHEN r.armed THEN 'armed'
				ELSE 'disarmed' END AS state,
		   r.last_fired_at,
		   r.last_price,
		   r.last_quote_ts,
		   r.created_at
	  FROM stockpipe.alert_rule r;
COMMENT ON VIEW stockpipe_bi.alert_rules IS
	'Alert rules of all roles; email only on the current role''s own rules; state armed / disarmed (condition holds) / disabled';

--
-- Fired alerts (the outbox), without addresses or SMTP error texts.
--
CREATE VIEW stockpipe_bi.fired_alerts AS
	SELECT e.eventid,
		   e.ruleid,
		   e.owner::text AS owner,
		   e.symbol,
		   e.condition,
		   e.threshold,
		   e.price,
		   e.quote_ts,
		   e.prev_close,
		   e.change_pct,
		   e.created_at AS fired_at,
		   e.status,
		   e.attempts,
		   e.sent_at
	  FROM stockpipe.alert_event e;
COMMENT ON VIEW stockpipe_bi.fired_alerts IS
	'One row per alert firing: the quote that fired it and the e-mail''s delivery status (pending / sent / failed); no addresses';

--
-- Privileges: stockpipe_reader reads stockpipe_bi and nothing else.
--
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'stockpipe_reader') THEN
		CREATE ROLE stockpipe_reader NOLOGIN;
		COMMENT ON ROLE stockpipe_reader IS
			'May read the reporting views of schema stockpipe_bi (grant it to a login role for Power BI)';
	END IF;
END;
$$;

REVOKE ALL ON SCHEMA stockpipe_bi FROM PUBLIC;
GRANT USAGE ON SCHEMA stockpipe_bi TO stockpipe_reader;
REVOKE ALL ON ALL TABLES IN SCHEMA stockpipe_bi FROM PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA stockpipe_bi TO stockpipe_reader;
