-- The install script (stockpipe--VERSION.sql), part 1: ingestion.  The extension script is made by
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
	exchange_tz	text,
	session		text,
	PRIMARY KEY (symbol, ts)
) PARTITION BY RANGE (ts);
COMMENT ON TABLE live_stock IS
	'Live quotes from Kafka topic stockpipe.live_topic; one row per (symbol, ts), the first one wins';
COMMENT ON COLUMN live_stock.exchange_tz IS
	'Time zone of the symbol''s exchange (IANA name, as the feed gives it), when the message carries it';
COMMENT ON COLUMN live_stock.session IS
	'Trading period the quote was taken in: pre, regular or post (NULL when the feed does not say)';

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

--
-- The latest quote of each symbol, kept by the consumers in the same
-- transaction as the batch that stores it (src/writer.c): what BI tools and
-- the dashboard ask first, read from one small table instead of probing
-- every day partition of live_stock for every symbol (issue 13, item 4;
-- bench/bi).  The consumers write one row per distinct symbol of a batch,
-- the batch's newest quote of it, and only when it is newer than the row's;
-- only quotes actually stored count (a duplicate (symbol, ts), which
-- live_stock ignores, changes nothing here either).  Columns: those of
-- live_stock (LIKE: every message field; a column added to live_stock
-- later is added here too, test/sql/latest_quote.sql checks the list
-- against message_fields()), and first_ts, the symbol's oldest quote.
--
-- Retention: when upkeep drops old live_stock partitions, a symbol keeps
-- its row here (its last quote is kept, and first_ts still says when its
-- first quote was stored), so a symbol that went quiet still has a latest
-- quote.  Rows written to live_stock other than by the consumers, or
-- deleted from it, are not followed: rebuild_latest_quote() makes the table
-- from live_stock again.  fillfactor 50 leaves room on each page so that
-- the consumers' updates are HOT (no index entry per update).
--
CREATE TABLE latest_quote (
	LIKE live_stock,
	first_ts	timestamptz NOT NULL,
	PRIMARY KEY (symbol),
	CONSTRAINT latest_quote_first_ts_check CHECK (first_ts <= ts)
) WITH (fillfactor = 50);
COMMENT ON TABLE latest_quote IS
	'Latest stored quote of each symbol (the live_stock row with the greatest ts) and its first quote time; kept by the consumers with each batch';
COMMENT ON COLUMN latest_quote.first_ts IS
	'Time of the symbol''s oldest stored quote (kept when upkeep drops old live_stock partitions)';

-- pg_dump keeps these tables' rows (they are extension members).
SELECT pg_catalog.pg_extension_config_dump('live_stock', '');
SELECT pg_catalog.pg_extension_config_dump('historical_stock_data', '');
SELECT pg_catalog.pg_extension_config_dump('kafka_offsets', '');
SELECT pg_catalog.pg_extension_config_dump('dead_letter', '');
SELECT pg_catalog.pg_extension_config_dump('dead_letter_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('latest_quote', '');

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
-- latest_quote made again from live_stock: after rows were written to or
-- deleted from live_stock other than by the consumers, or to forget the
-- symbols whose quotes upkeep has dropped.  The table is locked against the
-- consumers' writes (not against readers) meanwhile; a consumer's batch
-- that committed before the lock is read from live_stock, one that commits
-- after it updates the new rows.  One scan of live_stock (minimum and
-- maximum ts per symbol), then one primary-key probe per symbol for its
-- newest row.  Owner only (superuser).
--
CREATE FUNCTION rebuild_latest_quote()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n	bigint;
BEGIN
	LOCK TABLE stockpipe.latest_quote IN EXCLUSIVE MODE;
	DELETE FROM stockpipe.latest_quote;
	INSERT INTO stockpipe.latest_quote
		(symbol, ts, price, volume, open, high, low, prev_close, currency, source,
		 exchange_tz, session, first_ts)
	SELECT l.symbol, l.ts, l.price, l.volume, l.open, l.high, l.low, l.prev_close,
		   l.currency, l.source, l.exchange_tz, l.session, m.first_ts
	  FROM (SELECT s.symbol, min(s.ts) AS first_ts, max(s.ts) AS last_ts
			  FROM stockpipe.live_stock s GROUP BY s.symbol) m
	  JOIN stockpipe.live_stock l ON l.symbol = m.symbol AND l.ts = m.last_ts;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END;
$$;
COMMENT ON FUNCTION rebuild_latest_quote() IS
	'Make stockpipe.latest_quote again from live_stock (after direct writes to live_stock); returns the number of symbols';
REVOKE ALL ON FUNCTION rebuild_latest_quote() FROM PUBLIC;

--
-- The latest daily bar of each symbol, with its first bar's date and the
-- bar before the last: what the symbol dimension (stockpipe.bi_symbols,
-- stockpipe_bi.dim_symbol) and the dashboard's symbols with daily bars
-- only (stockpipe_bi.fact_latest_bar) read, one scan of a table of one row
-- per symbol instead of a loose index scan of historical_stock_data and
-- probes of each symbol's bars (issue 13, item 4; bench/bi).
--
-- Kept by statement-level triggers on historical_stock_data, in the same
-- transaction as every write to it: the consumers' batches (one upsert
-- statement per batch), bars loaded or deleted by hand, a restore (its
-- COPY fires them: the table is not dumped, it is made again from the
-- bars).  Each statement recomputes the rows of the symbols it touched
-- from historical_stock_data (index probes; daily bars arrive about once a
-- day per symbol, so the cost is that of the batch's symbols, not of the
-- table).  No built-in job deletes bars; a DELETE is followed too, and
-- TRUNCATE empties the table.  rebuild_latest_bar() makes it again from
-- historical_stock_data (after triggers were disabled, say).  fillfactor
-- 50, as latest_quote: a refresh's updates stay on their page (HOT), so
-- that a table rewritten by every batch of a backfill stays small.
--
CREATE TABLE latest_bar (
	symbol				text PRIMARY KEY,
	first_trade_date	date NOT NULL,
	trade_date			date NOT NULL,
	close				double precision NOT NULL,
	volume				bigint,
	prev_trade_date		date,
	prev_close			double precision,
	CONSTRAINT latest_bar_dates_check
		CHECK (first_trade_date <= trade_date AND prev_trade_date < trade_date)
) WITH (fillfactor = 50);
COMMENT ON TABLE latest_bar IS
	'Latest daily bar of each symbol (historical_stock_data''s row with the greatest trade_date), the bar before it and the first bar''s date; kept by triggers on historical_stock_data';
COMMENT ON COLUMN latest_bar.prev_close IS
	'Close of the bar before the latest (NULL when the symbol has one bar)';

-- The rows of the given symbols made again from historical_stock_data
-- (deleted when a symbol has no bar left).  Internal: called by the
-- triggers below, which serialize the callers (see _latest_bar_trigger()).
CREATE FUNCTION _refresh_latest_bar(symbols text[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM stockpipe.latest_bar b
	 WHERE b.symbol = ANY (symbols)
	   AND NOT EXISTS (SELECT FROM stockpipe.historical_stock_data h WHERE h.symbol = b.symbol);
	INSERT INTO stockpipe.latest_bar AS b
		(symbol, first_trade_date, trade_date, close, volume, prev_trade_date, prev_close)
	SELECT s.symbol, f.trade_date, l.trade_date, l.close, l.volume, p.trade_date, p.close
	  FROM (SELECT DISTINCT u.symbol FROM unnest(symbols) u(symbol) WHERE u.symbol IS NOT NULL) s
	  JOIN LATERAL (SELECT h.trade_date FROM stockpipe.historical_stock_data h
					 WHERE h.symbol = s.symbol ORDER BY h.trade_date LIMIT 1) f ON true
	  JOIN LATERAL (SELECT h.trade_date, h.close, h.volume FROM stockpipe.historical_stock_data h
					 WHERE h.symbol = s.symbol ORDER BY h.trade_date DESC LIMIT 1) l ON true
	  LEFT JOIN LATERAL (SELECT h.trade_date, h.close FROM stockpipe.historical_stock_data h
						  WHERE h.symbol = s.symbol AND h.trade_date < l.trade_date
						  ORDER BY h.trade_date DESC LIMIT 1) p ON true
	ON CONFLICT (symbol) DO UPDATE
	   SET first_trade_date = excluded.first_trade_date, trade_date = excluded.trade_date,
		   close = excluded.close, volume = excluded.volume,
		   prev_trade_date = excluded.prev_trade_date, prev_close = excluded.prev_close
	 WHERE (b.first_trade_date, b.trade_date, b.close, b.volume, b.prev_trade_date, b.prev_close)
		   IS DISTINCT FROM (excluded.first_trade_date, excluded.trade_date, excluded.close,
							 excluded.volume, excluded.prev_trade_date, excluded.prev_close);
END;
$$;
COMMENT ON FUNCTION _refresh_latest_bar(text[]) IS
	'Internal: make the latest_bar rows of these symbols again from historical_stock_data';
REVOKE ALL ON FUNCTION _refresh_latest_bar(text[]) FROM PUBLIC;

-- The triggers' function.  Two transactions writing bars of one symbol at
-- once would each see only their own new bar: the table lock (which no
-- reader takes) makes them take turns, and the refresh, a statement run
-- after the lock is granted, sees the other's committed bars (READ
-- COMMITTED, as the consumers run).  SECURITY DEFINER: a role allowed to
-- write historical_stock_data need not be allowed to write latest_bar.
CREATE FUNCTION _latest_bar_trigger()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	LOCK TABLE stockpipe.latest_bar IN SHARE ROW EXCLUSIVE MODE;
	IF TG_OP = 'TRUNCATE' THEN
		DELETE FROM stockpipe.latest_bar;
	ELSIF TG_OP = 'INSERT' THEN
		PERFORM stockpipe._refresh_latest_bar((SELECT array_agg(DISTINCT n.symbol) FROM new_bars n));
	ELSIF TG_OP = 'UPDATE' THEN
		PERFORM stockpipe._refresh_latest_bar((SELECT array_agg(DISTINCT c.symbol) FROM
			(SELECT n.symbol FROM new_bars n UNION SELECT o.symbol FROM old_bars o) c));
	ELSE
		PERFORM stockpipe._refresh_latest_bar((SELECT array_agg(DISTINCT o.symbol) FROM old_bars o));
	END IF;
	RETURN NULL;
END;
$$;
COMMENT ON FUNCTION _latest_bar_trigger() IS
	'Internal: keeps stockpipe.latest_bar after each statement that writes historical_stock_data';
REVOKE ALL ON FUNCTION _latest_bar_trigger() FROM PUBLIC;

CREATE TRIGGER latest_bar_insert AFTER INSERT ON historical_stock_data
	REFERENCING NEW TABLE AS new_bars
	FOR EACH STATEMENT EXECUTE FUNCTION _latest_bar_trigger();
CREATE TRIGGER latest_bar_update AFTER UPDATE ON historical_stock_data
	REFERENCING OLD TABLE AS old_bars NEW TABLE AS new_bars
	FOR EACH STATEMENT EXECUTE FUNCTION _latest_bar_trigger();
CREATE TRIGGER latest_bar_delete AFTER DELETE ON historical_stock_data
	REFERENCING OLD TABLE AS old_bars
	FOR EACH STATEMENT EXECUTE FUNCTION _latest_bar_trigger();
CREATE TRIGGER latest_bar_truncate AFTER TRUNCATE ON historical_stock_data
	FOR EACH STATEMENT EXECUTE FUNCTION _latest_bar_trigger();

--
-- latest_bar made again from historical_stock_data: one pass over the bars
-- in primary-key order.  Locked against the triggers (a batch that commits
-- meanwhile refreshes its symbols after this).  Owner only.
--
CREATE FUNCTION rebuild_latest_bar()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n	bigint;
BEGIN
	LOCK TABLE stockpipe.latest_bar IN EXCLUSIVE MODE;
	DELETE FROM stockpipe.latest_bar;
	INSERT INTO stockpipe.latest_bar
		(symbol, first_trade_date, trade_date, close, volume, prev_trade_date, prev_close)
	SELECT x.symbol, x.first_trade_date, x.trade_date, x.close, x.volume, x.prev_trade_date, x.prev_close
	  FROM (SELECT h.symbol, h.trade_date, h.close, h.volume,
				   lead(h.trade_date) OVER w AS prev_trade_date,
				   lead(h.close) OVER w AS prev_close,
				   min(h.trade_date) OVER (PARTITION BY h.symbol) AS first_trade_date,
				   row_number() OVER w AS rn
			  FROM stockpipe.historical_stock_data h
			WINDOW w AS (PARTITION BY h.symbol ORDER BY h.trade_date DESC)) x
	 WHERE x.rn = 1;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END;
$$;
COMMENT ON FUNCTION rebuild_latest_bar() IS
	'Make stockpipe.latest_bar again from historical_stock_data; returns the number of symbols';
REVOKE ALL ON FUNCTION rebuild_latest_bar() FROM PUBLIC;

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

-- The fields of each message and the columns they fill, as the workers
-- know them (contract/fields.h): the regression test compares this list
-- with the tables.
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
