-- stockpipe 1.1 -> 1.2: one definition of each thing (issue 11).  Run by
-- ALTER EXTENSION stockpipe UPDATE; test/sql/upgrade.sql checks that the
-- result equals a fresh CREATE EXTENSION of 1.2, from 1.0 and from 1.1.
--
--   * live_stock.exchange_tz and live_stock.session: two optional fields of
--     the quote message, so that readers know each symbol's market (also at
--     the end of stockpipe_bi.fact_latest_quote);
--   * message_fields(): the message fields and the columns they fill, as
--     the workers know them (contract/fields.h), for the regression test
--     that compares them with the tables;
--   * market_holiday gains NYSE's 2028 holidays (the scheduler now warns
--     once a day when the calendar ends within a year);
--   * schedules follow cron(8) across DST changes (src/schedule.c): jobs
--     with "*" in the minute or hour field run by the wall clock; the
--     comment of schedule_next() and job_check()'s message say so;
--   * email_problem() is the mailer's own address rule (C), no longer a
--     second copy of it in SQL: ' and ` are refused as quotes by both, and
--     a domain whose last label is all digits by both.
--   * webhook channels for alerts (issue 12): alert_channel (generic JSON,
--     Slack, Teams; the URL a secret), alert_rule.channels, the webhook
--     outbox alert_delivery filled by check_alerts(), set_channel(),
--     drop_channel(), set_alert_channels(), set_alert(..., channels) with
--     e-mail optional, my_channels.
--   * deterministic alerts (issue 14): check_alerts() evaluates every new
--     quote in ts order, cooldown in quote time (alert_rule.
--     last_fired_quote_ts), one event per (rule, quote) (unique key).
--   * latest_quote (issue 13, item 4): the newest stored quote of each
--     symbol, kept by the consumers in each batch's transaction and filled
--     here from live_stock; rebuild_latest_quote(); fact_latest_quote,
--     dim_symbol and bi_symbols read it instead of probing every day
--     partition of live_stock per symbol (same columns).
--   * latest_bar (issue 13, item 4): the latest daily bar of each symbol,
--     kept by statement triggers on historical_stock_data and filled here;
--     _refresh_latest_bar(), _latest_bar_trigger(), rebuild_latest_bar();
--     bi_symbols and dim_symbol read it instead of a loose index scan of
--     historical_stock_data (same columns); the new view
--     stockpipe_bi.fact_latest_bar (the dashboard's symbols with daily bars
--     only).
--   * idle cost (issue 13, item 6): _alert_rules_changed(), called by
--     _set_alert(), _enable_alert() and _check_alerts(), so that the
--     scheduler runs the built-in alert_check only when quotes were stored,
--     rules changed or the last check left quotes for the next one.

\echo Use "ALTER EXTENSION stockpipe UPDATE TO '1.2'" to load this file. \quit

--
-- Ingestion
--
-- Two optional fields of the quote message: the exchange's time zone and
-- the trading period (contract/fields.h).  Added at the end of the table,
-- as in sql/ingest.sql; the partitions get them from the parent.
ALTER TABLE live_stock ADD COLUMN exchange_tz text, ADD COLUMN session text;
COMMENT ON COLUMN live_stock.exchange_tz IS
	'Time zone of the symbol''s exchange (IANA name, as the feed gives it), when the message carries it';
COMMENT ON COLUMN live_stock.session IS
	'Trading period the quote was taken in: pre, regular or post (NULL when the feed does not say)';

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

SELECT pg_catalog.pg_extension_config_dump('latest_quote', '');

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

-- Filled from the quotes already stored (the consumers wait for this
-- version before they write again).
SELECT rebuild_latest_quote();

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

-- Filled from the bars already stored.
SELECT rebuild_latest_bar();

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
-- Alerts: webhook channels (issue 12).  A rule goes to an e-mail address
-- (now optional when it has channels) and to the role's channels; each
-- firing makes one alert_delivery row per channel, posted by the mailer.
--
CREATE FUNCTION webhook_url_problem(url text)
RETURNS text
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'stockpipe_webhook_url_problem';
COMMENT ON FUNCTION webhook_url_problem(text) IS
	'Why stockpipe refuses a webhook URL, or NULL if it accepts it (the reason never quotes the URL)';

CREATE FUNCTION webhook_host_problem(url text)
RETURNS text
LANGUAGE c STRICT STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'stockpipe_webhook_host_problem';
COMMENT ON FUNCTION webhook_host_problem(text) IS
	'Why stockpipe.webhook_allowed_hosts does not let alert webhooks go to the host of this URL, or NULL';

CREATE TABLE alert_channel (
	channelid		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	owner			name NOT NULL DEFAULT current_user,
	name			text NOT NULL
		CONSTRAINT alert_channel_name_check CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
	kind			text NOT NULL
		CONSTRAINT alert_channel_kind_check CHECK (kind IN ('webhook', 'slack', 'teams')),
	url				text NOT NULL
		CONSTRAINT alert_channel_url_check CHECK (stockpipe.webhook_url_problem(url) IS NULL),
	created_at		timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT alert_channel_owner_name_key UNIQUE (owner, name)
);
COMMENT ON TABLE alert_channel IS
	'Webhook channels of alert rules (webhook: JSON POST, slack, teams); url is a secret, readable by superusers only';

ALTER TABLE alert_rule
	ALTER COLUMN email DROP NOT NULL,
	ADD COLUMN channels text[] NOT NULL DEFAULT '{}',
	ADD CONSTRAINT alert_rule_destination_check CHECK (email IS NOT NULL OR cardinality(channels) > 0),
	ADD CONSTRAINT alert_rule_channels_check CHECK (
		cardinality(channels) <= 20 AND array_position(channels, NULL) IS NULL);
COMMENT ON COLUMN alert_rule.channels IS
	'Names of the owner''s webhook channels (alert_channel) the rule also goes to';

ALTER TABLE alert_event
	ALTER COLUMN email DROP NOT NULL,
	DROP CONSTRAINT alert_event_status_check,
	ADD CONSTRAINT alert_event_status_check
		CHECK (status IN ('pending', 'sent', 'failed', 'suppressed', 'none'));
COMMENT ON TABLE alert_event IS
	'One row per alert firing: the e-mail outbox the mailer sends from (''suppressed'': over stockpipe.mail_rate_limit, not sent; ''none'': the rule has no e-mail address)';

-- The webhook outbox: one row per (event, channel), made with the event.
CREATE TABLE alert_delivery (
	deliveryid		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	eventid			bigint NOT NULL REFERENCES alert_event ON DELETE CASCADE,
	channelid		bigint REFERENCES alert_channel ON DELETE SET NULL,
	owner			name NOT NULL,
	channel			text NOT NULL,
	kind			text NOT NULL,
	status			text NOT NULL DEFAULT 'pending'
		CONSTRAINT alert_delivery_status_check CHECK (status IN ('pending', 'sent', 'failed', 'suppressed')),
	attempts		integer NOT NULL DEFAULT 0,
	next_attempt_at	timestamptz NOT NULL DEFAULT now(),
	http_status		integer,
	last_error		text,
	created_at		timestamptz NOT NULL DEFAULT now(),
	sent_at			timestamptz,
	CONSTRAINT alert_delivery_event_channel_key UNIQUE (eventid, channelid)
);
COMMENT ON TABLE alert_delivery IS
	'One row per alert firing and webhook channel: the webhook outbox the mailer posts from';
COMMENT ON COLUMN alert_delivery.channel IS
	'The channel''s name when the alert fired';
COMMENT ON COLUMN alert_delivery.http_status IS
	'HTTP status of the last answer, NULL if none came';
-- The mailer's queue.
CREATE INDEX alert_delivery_pending_idx ON alert_delivery (next_attempt_at) WHERE status = 'pending';
-- ON DELETE SET NULL when a channel is dropped.
CREATE INDEX alert_delivery_channelid_idx ON alert_delivery (channelid);

ALTER TABLE alert_channel ENABLE ROW LEVEL SECURITY;
CREATE POLICY alert_channel_owner ON alert_channel
	USING (owner = current_user)
	WITH CHECK (owner = current_user);

ALTER TABLE alert_delivery ENABLE ROW LEVEL SECURITY;
CREATE POLICY alert_delivery_owner ON alert_delivery
	USING (owner = current_user)
	WITH CHECK (owner = current_user);

SELECT pg_catalog.pg_extension_config_dump('alert_channel', '');
SELECT pg_catalog.pg_extension_config_dump('alert_channel_channelid_seq', '');
SELECT pg_catalog.pg_extension_config_dump('alert_delivery', '');
SELECT pg_catalog.pg_extension_config_dump('alert_delivery_deliveryid_seq', '');

-- set_alert() takes channels, and e-mail becomes optional: new signatures.
DROP FUNCTION set_alert(text, text, double precision, text, interval);
DROP FUNCTION _set_alert(name, text, text, double precision, text, interval);

CREATE FUNCTION _set_channel(caller name, name text, kind text, url text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- An error raised here is logged without the statement, which holds the URL.
SET log_min_error_statement = panic
AS $$
DECLARE
	who		name := stockpipe.acting_as($1);
	problem	text;
	id		bigint;
BEGIN
	IF $2 IS NULL OR $2 !~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$' THEN
		RAISE EXCEPTION 'invalid channel name "%"', coalesce(left(translate($2, E'\r\n', '  '), 80), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A channel name has 1 to 63 characters among letters, digits, "_", "." and "-", and starts with a letter or digit.',
				  HINT = 'For example ''ops-slack''.';
	END IF;
	IF $3 IS NULL OR $3 NOT IN ('webhook', 'slack', 'teams') THEN
		RAISE EXCEPTION 'invalid channel kind "%"', coalesce(left(translate($3, E'\r\n', '  '), 40), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use webhook (a JSON POST), slack or teams (their incoming webhooks).';
	END IF;
	problem := CASE WHEN $4 IS NULL THEN 'it is NULL' ELSE stockpipe.webhook_url_problem($4) END;
	IF problem IS NOT NULL THEN
		RAISE EXCEPTION 'invalid webhook URL for channel "%"', $2
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The URL is refused because %s.', problem),
				  HINT = 'Give the incoming-webhook URL as the chat service shows it, e.g. https://hooks.slack.com/services/...';
	END IF;
	problem := stockpipe.webhook_host_problem($4);
	IF problem IS NOT NULL THEN
		RAISE EXCEPTION 'alert webhooks may not be sent to the host of channel "%"', $2
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = problem,
				  HINT = 'Use another host, or ask an administrator to add this one to stockpipe.webhook_allowed_hosts.';
	END IF;
	IF NOT EXISTS (SELECT FROM stockpipe.alert_channel c WHERE c.owner = who AND c.name = $2)
	   AND (SELECT count(*) FROM stockpipe.alert_channel c WHERE c.owner = who) >= 20 THEN
		RAISE EXCEPTION 'role "%" has 20 webhook channels already', who
			USING ERRCODE = 'program_limit_exceeded',
				  HINT = 'Drop channels you no longer need with stockpipe.drop_channel().';
	END IF;

	INSERT INTO stockpipe.alert_channel AS c (owner, name, kind, url)
	VALUES (who, $2, $3, $4)
	ON CONFLICT ON CONSTRAINT alert_channel_owner_name_key
	DO UPDATE SET kind = excluded.kind, url = excluded.url
	RETURNING c.channelid INTO id;
	RETURN id;
END;
$$;

CREATE FUNCTION set_channel(name text, kind text, url text)
RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT stockpipe._set_channel(current_user, $1, $2, $3)
$$;
COMMENT ON FUNCTION set_channel(text, text, text) IS
	'Create a webhook channel of the current role (kind webhook, slack or teams), or replace its kind and URL; returns its channelid';

CREATE FUNCTION _drop_channel(caller name, name text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	who		name := stockpipe.acting_as($1);
	id		bigint;
	orphans	text;
BEGIN
	SELECT c.channelid INTO id FROM stockpipe.alert_channel c WHERE c.owner = who AND c.name = $2;
	IF id IS NULL THEN
		RETURN false;
	END IF;
	SELECT string_agg(r.ruleid::text, ', ' ORDER BY r.ruleid) INTO orphans
	  FROM stockpipe.alert_rule r
	 WHERE r.owner = who AND r.email IS NULL AND r.channels = ARRAY[$2];
	IF orphans IS NOT NULL THEN
		RAISE EXCEPTION 'channel "%" is the only destination of alert rules %', $2, orphans
			USING ERRCODE = 'dependent_objects_still_exist',
				  HINT = 'Give those rules another channel with stockpipe.set_alert_channels(), or drop them, first.';
	END IF;
	UPDATE stockpipe.alert_rule r SET channels = array_remove(r.channels, $2)
	 WHERE r.owner = who AND $2 = ANY (r.channels);
	UPDATE stockpipe.alert_delivery d
	   SET status = 'failed', last_error = 'not sent: the channel was dropped'
	 WHERE d.channelid = id AND d.status = 'pending';
	DELETE FROM stockpipe.alert_channel c WHERE c.channelid = id;
	RETURN true;
END;
$$;

CREATE FUNCTION drop_channel(name text)
RETURNS boolean
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT stockpipe._drop_channel(current_user, $1)
$$;
COMMENT ON FUNCTION drop_channel(text) IS
	'Delete a webhook channel of yours, remove it from your rules and fail its pending deliveries; false if there is no such channel of yours';

CREATE FUNCTION _alert_channels(who name, channels text[])
RETURNS text[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	list	text[] := '{}';
	ch		text;
BEGIN
	IF array_position($2, NULL) IS NOT NULL THEN
		RAISE EXCEPTION 'channel names must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	FOREACH ch IN ARRAY coalesce($2, '{}') LOOP
		IF NOT EXISTS (SELECT FROM stockpipe.alert_channel c WHERE c.owner = $1 AND c.name = ch) THEN
			RAISE EXCEPTION 'webhook channel "%" does not exist', left(translate(ch, E'\r\n', '  '), 80)
				USING ERRCODE = 'undefined_object',
					  DETAIL = format('Role %s has no channel of that name.', $1),
					  HINT = 'SELECT * FROM stockpipe.my_channels lists yours; stockpipe.set_channel() creates one.';
		END IF;
		IF ch <> ALL (list) THEN
			list := list || ch;
		END IF;
	END LOOP;
	IF cardinality(list) > 20 THEN
		RAISE EXCEPTION 'an alert rule has at most 20 channels'
			USING ERRCODE = 'program_limit_exceeded',
				  DETAIL = format('%s were given.', cardinality(list));
	END IF;
	RETURN list;
END;
$$;

-- Tells the scheduler, when the calling transaction commits, that a rule
-- was created or re-enabled, or that a check left quotes for the next one:
-- the built-in alert_check runs only when quotes were stored or this was
-- called since its last run (src/wake.c, src/scheduler.c).  Only the
-- SECURITY DEFINER functions below and _check_alerts() (as the owner) call
-- it.
CREATE FUNCTION _alert_rules_changed()
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'stockpipe_alert_rules_changed';
COMMENT ON FUNCTION _alert_rules_changed() IS
	'Have the scheduler run the built-in alert_check when the calling transaction commits (called by _set_alert, _enable_alert and _check_alerts)';
REVOKE ALL ON FUNCTION _alert_rules_changed() FROM PUBLIC;

CREATE FUNCTION _set_alert(caller name, symbol text, condition text, threshold double precision,
						   email text, cooldown interval, channels text[])
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
	-- without channels, an e-mail address is required
	problem := CASE WHEN $5 IS NOT NULL THEN stockpipe.email_problem($5)
					WHEN cardinality($7) > 0 THEN NULL
					ELSE 'it is NULL' END;
	IF problem IS NOT NULL THEN
		RAISE EXCEPTION 'invalid e-mail address "%"', coalesce(left(translate($5, E'\r\n', '  '), 300), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The address is refused because %s.', problem),
				  HINT = CASE WHEN $5 IS NULL
							  THEN 'Give one plain address such as ''alice@example.com'', or channels => ARRAY[''name''] of your webhook channels.'
							  ELSE 'Give one plain address such as ''alice@example.com''.' END;
	END IF;
	IF $5 IS NOT NULL AND NOT stockpipe.mail_domain_allowed($5) THEN
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

	INSERT INTO stockpipe.alert_rule AS r (owner, symbol, condition, threshold, email, cooldown, channels)
	VALUES (who, $2, $3, $4, $5, $6, stockpipe._alert_channels(who, $7))
	RETURNING r.ruleid INTO id;
	-- checked against the newest quote at the next alert_check
	PERFORM stockpipe._alert_rules_changed();
	RETURN id;
END;
$$;

CREATE FUNCTION set_alert(symbol text, condition text, threshold double precision, email text,
						  cooldown interval DEFAULT '15 minutes', channels text[] DEFAULT NULL)
RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT stockpipe._set_alert(current_user, $1, $2, $3, $4, $5, $6)
$$;
COMMENT ON FUNCTION set_alert(text, text, double precision, text, interval, text[]) IS
	'Create an alert rule of the current role, to an e-mail address (NULL: none) and webhook channels of yours; returns its ruleid';

CREATE FUNCTION _set_alert_channels(caller name, id bigint, channels text[])
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	who		name := stockpipe.acting_as($1);
	list	text[] := stockpipe._alert_channels(who, $3);
	mail	text;
BEGIN
	SELECT r.email INTO mail FROM stockpipe.alert_rule r WHERE r.ruleid = $2 AND r.owner = who;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'alert rule % does not exist', $2
			USING ERRCODE = 'undefined_object',
				  DETAIL = format('Role %s has no alert rule with that id.', who),
				  HINT = 'SELECT * FROM stockpipe.my_alerts lists your rules.';
	END IF;
	IF mail IS NULL AND cardinality(list) = 0 THEN
		RAISE EXCEPTION 'alert rule % would have no destination', $2
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'It has no e-mail address.',
				  HINT = 'Give at least one channel, or drop the rule.';
	END IF;
	UPDATE stockpipe.alert_rule r SET channels = list WHERE r.ruleid = $2 AND r.owner = who;
END;
$$;

CREATE FUNCTION set_alert_channels(id bigint, channels text[])
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT stockpipe._set_alert_channels(current_user, $1, $2)
$$;
COMMENT ON FUNCTION set_alert_channels(bigint, text[]) IS
	'Set the webhook channels of an alert rule of yours (channel names; empty: e-mail only)';

-- Deterministic alerts (issue 14): every quote counts, in ts order; the
-- cooldown is counted in quote time from last_fired_quote_ts; one event
-- per (rule, quote), so that a promoted standby that re-reads quotes finds
-- the crossings the old primary found, and mails them under the same
-- Message-ID.  The cooldown of a rule that fired before the update starts
-- from the quote of its last event.
ALTER TABLE alert_rule ADD COLUMN last_fired_quote_ts timestamptz;
COMMENT ON COLUMN alert_rule.last_fired_quote_ts IS
	'ts of the quote of the rule''s last firing: cooldown is counted from it, in quote time';
UPDATE alert_rule r
   SET last_fired_quote_ts = (SELECT max(e.quote_ts) FROM alert_event e WHERE e.ruleid = r.ruleid)
 WHERE r.last_fired_at IS NOT NULL;
DROP INDEX alert_event_ruleid_idx;
ALTER TABLE alert_event ADD CONSTRAINT alert_event_ruleid_quote_ts_key UNIQUE (ruleid, quote_ts);

CREATE OR REPLACE FUNCTION _check_alerts(only_rule bigint)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
	mtz		text := coalesce(nullif(current_setting('stockpipe.market_timezone', true), ''),
							 'America/New_York');
	hourly	integer := coalesce(nullif(current_setting('stockpipe.mail_rate_limit', true), '')::integer, 100);
	fired	integer;
	backlog	boolean;
BEGIN
	WITH RECURSIVE rules AS (
		SELECT r.ruleid, r.symbol, r.condition, r.threshold, r.armed, r.cooldown,
			   r.last_fired_quote_ts,
			   coalesce(r.last_quote_ts,
						(SELECT ls.ts - interval '1 microsecond' FROM stockpipe.live_stock ls
						  WHERE ls.symbol = r.symbol ORDER BY ls.ts DESC LIMIT 1)) AS since
		  FROM stockpipe.alert_rule r
		 WHERE r.enabled AND (only_rule IS NULL OR r.ruleid = only_rule)
	),
	syms AS (
		SELECT r.symbol, min(r.since) AS since, l.high_30d, l.low_30d
		  FROM rules r
		  LEFT JOIN LATERAL (
			SELECT coalesce(su.highest_high, su.max_close) AS high_30d,
				   coalesce(su.lowest_low, su.min_close) AS low_30d
			  FROM stockpipe.l30d_summary su
			 WHERE su.symbol = r.symbol
			 ORDER BY su.as_of DESC
			 LIMIT 1) l ON true
		 WHERE r.since IS NOT NULL
		 GROUP BY r.symbol, l.high_30d, l.low_30d
	),
	quote AS (
		SELECT s.symbol, q.ts, q.price, coalesce(q.prev_close, h.close) AS prev_close,
			   s.high_30d, s.low_30d
		  FROM syms s
		 CROSS JOIN LATERAL (
			SELECT ls.ts, ls.price, ls.prev_close
			  FROM stockpipe.live_stock ls
			 WHERE ls.symbol = s.symbol AND ls.ts > s.since
			 ORDER BY ls.ts
			 LIMIT 1000) q
		  LEFT JOIN LATERAL (
			SELECT hs.close
			  FROM stockpipe.historical_stock_data hs
			 WHERE q.prev_close IS NULL
			   AND hs.symbol = s.symbol
			   AND hs.trade_date < (q.ts AT TIME ZONE mtz)::date
			 ORDER BY hs.trade_date DESC
			 LIMIT 1) h ON true
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
			   END AS holds
		  FROM rules r
		  JOIN quote q ON q.symbol = r.symbol AND q.ts > r.since
		 CROSS JOIN LATERAL (
			SELECT CASE WHEN q.prev_close > 0
						THEN (q.price - q.prev_close) / q.prev_close * 100 END AS change_pct) c
	),
	-- The crossings: evaluable quotes that hold while the rule is armed.
	crossing AS (
		SELECT x.ruleid, x.ts, row_number() OVER (PARTITION BY x.ruleid ORDER BY x.ts) AS n
		  FROM (SELECT e.ruleid, e.ts, e.holds,
					   coalesce(NOT lag(e.holds) OVER (PARTITION BY e.ruleid ORDER BY e.ts), r.armed) AS armed
				  FROM evaluated e JOIN rules r ON r.ruleid = e.ruleid
				 WHERE e.holds IS NOT NULL) x
		 WHERE x.holds AND x.armed
	),
	-- Which crossings fire: the first outside cooldown of the last firing,
	-- then the next outside cooldown of that one, and so on.
	walk AS (
		SELECT c.ruleid, c.n, c.ts, f.fire,
			   CASE WHEN f.fire THEN c.ts ELSE r.last_fired_quote_ts END AS last_fired
		  FROM crossing c JOIN rules r ON r.ruleid = c.ruleid
		 CROSS JOIN LATERAL (
			SELECT r.last_fired_quote_ts IS NULL
				   OR c.ts - r.last_fired_quote_ts >= r.cooldown AS fire) f
		 WHERE c.n = 1
		UNION ALL
		SELECT c.ruleid, c.n, c.ts, f.fire,
			   CASE WHEN f.fire THEN c.ts ELSE w.last_fired END
		  FROM walk w
		  JOIN crossing c ON c.ruleid = w.ruleid AND c.n = w.n + 1
		  JOIN rules r ON r.ruleid = c.ruleid
		 CROSS JOIN LATERAL (
			SELECT w.last_fired IS NULL OR c.ts - w.last_fired >= r.cooldown AS fire) f
	),
	fires AS (
		SELECT w.ruleid, w.ts FROM walk w WHERE w.fire
	),
	-- Each evaluated rule's state after its last new quote.
	state AS (
		SELECT e.ruleid,
			   max(e.ts) AS last_ts,
			   (array_agg(e.price ORDER BY e.ts DESC))[1] AS last_price,
			   (array_agg(e.holds ORDER BY e.ts DESC) FILTER (WHERE e.holds IS NOT NULL))[1] AS last_holds,
			   (SELECT max(f.ts) FROM fires f WHERE f.ruleid = e.ruleid) AS last_fire
		  FROM evaluated e
		 GROUP BY e.ruleid
	),
	changed AS (
		UPDATE stockpipe.alert_rule r SET
			armed = CASE WHEN s.last_holds IS NULL THEN r.armed ELSE NOT s.last_holds END,
			last_fired_at = CASE WHEN s.last_fire IS NOT NULL THEN now() ELSE r.last_fired_at END,
			last_fired_quote_ts = coalesce(s.last_fire, r.last_fired_quote_ts),
			last_checked_at = now(),
			last_quote_ts = s.last_ts,
			last_price = s.last_price
		  FROM state s
		 WHERE r.ruleid = s.ruleid
		RETURNING r.ruleid, r.owner, r.symbol, r.condition, r.threshold, r.email, r.channels
	),
	-- A firing counts against the hourly limit when it goes somewhere: to
	-- an allowed address or to a channel.
	firing AS (
		SELECT a.*,
			   row_number() OVER (PARTITION BY a.owner, a.counted ORDER BY a.ts, a.ruleid) AS nth,
			   (SELECT count(*) FROM stockpipe.alert_event x
				 WHERE x.owner = a.owner AND x.created_at > now() - interval '1 hour'
				   AND (x.status IN ('pending', 'sent', 'none')
						OR EXISTS (SELECT FROM stockpipe.alert_delivery y
									WHERE y.eventid = x.eventid AND y.status IN ('pending', 'sent'))))
				   AS last_hour
		  FROM (SELECT c.*, e.price, e.ts, e.prev_close, e.change_pct,
					   m.allowed, m.allowed OR m.targets > 0 AS counted
				  FROM changed c
				  JOIN fires f ON f.ruleid = c.ruleid
				  JOIN evaluated e ON e.ruleid = f.ruleid AND e.ts = f.ts
				 CROSS JOIN LATERAL (
					SELECT c.email IS NOT NULL AND stockpipe.mail_domain_allowed(c.email) AS allowed,
						   (SELECT count(*) FROM stockpipe.alert_channel ch
							 WHERE ch.owner = c.owner AND ch.name = ANY (c.channels)) AS targets) m) a
	),
	limited AS (
		SELECT f.*, f.counted AND f.last_hour + f.nth > hourly AS over,
			   format('not sent: role %s reached stockpipe.mail_rate_limit (%s alerts an hour)',
					  f.owner, hourly) AS over_error
		  FROM firing f
	),
	events AS (
		INSERT INTO stockpipe.alert_event (ruleid, owner, symbol, condition, threshold, email,
										   price, quote_ts, prev_close, change_pct, status, last_error)
		SELECT f.ruleid, f.owner, f.symbol, f.condition, f.threshold, f.email,
			   f.price, f.ts, f.prev_close, f.change_pct,
			   CASE WHEN f.email IS NULL THEN CASE WHEN f.over THEN 'suppressed' ELSE 'none' END
					WHEN NOT f.allowed THEN 'failed'
					WHEN f.over THEN 'suppressed'
					ELSE 'pending' END,
			   CASE WHEN f.email IS NULL THEN CASE WHEN f.over THEN f.over_error END
					WHEN NOT f.allowed
					THEN 'not sent: the domain of the address is not in stockpipe.mail_allowed_domains'
					WHEN f.over THEN f.over_error END
		  FROM limited f
		 ORDER BY f.ts, f.ruleid
		RETURNING eventid, ruleid, quote_ts
	),
	-- One delivery per channel of the rule, in the event's transaction.
	deliveries AS (
		INSERT INTO stockpipe.alert_delivery (eventid, channelid, owner, channel, kind, status, last_error)
		SELECT e.eventid, ch.channelid, f.owner, ch.name, ch.kind,
			   CASE WHEN f.over THEN 'suppressed' ELSE 'pending' END,
			   CASE WHEN f.over THEN f.over_error END
		  FROM events e
		  JOIN limited f ON f.ruleid = e.ruleid AND f.ts = e.quote_ts
		  JOIN stockpipe.alert_channel ch ON ch.owner = f.owner AND ch.name = ANY (f.channels)
		RETURNING 1
	)
	SELECT (SELECT count(*) FROM events),
		   EXISTS (SELECT 1 FROM quote q GROUP BY q.symbol HAVING count(*) >= 1000)
	  INTO fired, backlog;

	-- A symbol may have more new quotes than the 1000 taken: the next check
	-- must run even if no quote arrives meanwhile.
	IF backlog THEN
		PERFORM stockpipe._alert_rules_changed();
	END IF;
	RETURN fired;
END;
$$;

CREATE OR REPLACE VIEW my_alerts WITH (security_invoker = true) AS
	SELECT r.ruleid, r.symbol, r.condition, r.threshold, r.email, r.cooldown, r.enabled,
		   CASE WHEN NOT r.enabled THEN 'disabled'
				WHEN r.armed THEN 'armed'
				ELSE 'disarmed' END AS state,
		   r.last_fired_at, r.last_price, r.last_quote_ts, r.last_checked_at,
		   (SELECT count(*) FROM alert_event e WHERE e.ruleid = r.ruleid) AS events,
		   r.created_at, r.last_error, r.channels
	  FROM alert_rule r
	 WHERE r.owner = current_user;

-- The caller's channels, the URL redacted to scheme://host[:port]/...: a
-- view with its owner's rights (users cannot read alert_channel.url), so
-- it filters on current_user itself, and a security barrier, so that no
-- function of the caller sees other roles' rows first.
CREATE VIEW my_channels WITH (security_barrier = true) AS
	SELECT c.channelid, c.name, c.kind,
		   substring(c.url FROM '^[a-z]+://[^/?]*') || '/...' AS url_redacted,
		   (SELECT count(*) FROM alert_rule r
			 WHERE r.owner = c.owner AND c.name = ANY (r.channels)) AS rules,
		   d.sent, d.pending, d.failed, d.last_error,
		   c.created_at
	  FROM alert_channel c
	  LEFT JOIN LATERAL (
		SELECT count(*) FILTER (WHERE x.status = 'sent') AS sent,
			   count(*) FILTER (WHERE x.status = 'pending') AS pending,
			   count(*) FILTER (WHERE x.status = 'failed') AS failed,
			   (array_agg(x.last_error ORDER BY x.deliveryid DESC)
					FILTER (WHERE x.last_error IS NOT NULL))[1] AS last_error
		  FROM alert_delivery x
		 WHERE x.channelid = c.channelid) d ON true
	 WHERE c.owner = current_user;
COMMENT ON VIEW my_channels IS
	'The current role''s webhook channels, URL redacted to scheme://host/..., with their rules and deliveries';

REVOKE ALL ON FUNCTION set_alert(text, text, double precision, text, interval, text[]),
	drop_alert(bigint), enable_alert(bigint, boolean),
	_set_alert(name, text, text, double precision, text, interval, text[]),
	_drop_alert(name, bigint), _enable_alert(name, bigint, boolean),
	check_alerts(), _check_alerts(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION set_alert(text, text, double precision, text, interval, text[]),
	drop_alert(bigint), enable_alert(bigint, boolean),
	_set_alert(name, text, text, double precision, text, interval, text[]),
	_drop_alert(name, bigint), _enable_alert(name, bigint, boolean),
	email_problem(text), mail_domain_allowed(text)
	TO stockpipe_user;
-- Webhook channels: everything but the URL, and the deliveries, within
-- row-level security.
GRANT SELECT (channelid, owner, name, kind, created_at) ON alert_channel TO stockpipe_user;
GRANT SELECT ON alert_delivery, my_channels TO stockpipe_user;
REVOKE ALL ON FUNCTION set_channel(text, text, text), drop_channel(text),
	set_alert_channels(bigint, text[]),
	_set_channel(name, text, text, text), _drop_channel(name, text),
	_set_alert_channels(name, bigint, text[]), _alert_channels(name, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION set_channel(text, text, text), drop_channel(text),
	set_alert_channels(bigint, text[]),
	_set_channel(name, text, text, text), _drop_channel(name, text),
	_set_alert_channels(name, bigint, text[]),
	webhook_url_problem(text), webhook_host_problem(text)
	TO stockpipe_user;

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

INSERT INTO market_holiday (day, name, builtin) VALUES
	('2028-01-17', 'Martin Luther King, Jr. Day', true),
	('2028-02-21', 'Washington''s Birthday', true),
	('2028-04-14', 'Good Friday', true),
	('2028-05-29', 'Memorial Day', true),
	('2028-06-19', 'Juneteenth National Independence Day', true),
	('2028-07-04', 'Independence Day', true),
	('2028-09-04', 'Labor Day', true),
	('2028-11-23', 'Thanksgiving Day', true),
	('2028-12-25', 'Christmas Day', true)
ON CONFLICT (day) DO NOTHING;

--
-- Exchange calendars: skip_holidays skips the holidays of the job's own
-- exchange calendar (job.calendar, XNYS by default); Xetra (XETR) built in.
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

ALTER TABLE market_holiday
	ADD COLUMN calendar text NOT NULL DEFAULT 'XNYS' REFERENCES market_calendar ON UPDATE CASCADE;
ALTER TABLE market_holiday DROP CONSTRAINT market_holiday_pkey, ADD PRIMARY KEY (calendar, day);
COMMENT ON TABLE market_holiday IS
	'Days an exchange is closed; jobs with skip_holidays of that calendar do not run on them (local date of the job''s time zone)';

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
	('XETR', '2028-12-26', 'Boxing Day', true)
ON CONFLICT (calendar, day) DO NOTHING;

SELECT pg_catalog.pg_extension_config_dump('market_calendar', 'WHERE NOT builtin');
GRANT SELECT ON market_calendar TO stockpipe_user;

ALTER TABLE job
	ADD COLUMN calendar text NOT NULL DEFAULT 'XNYS' REFERENCES market_calendar ON UPDATE CASCADE;
COMMENT ON COLUMN job.calendar IS
	'The exchange calendar (market_calendar) whose holidays skip_holidays skips';

DROP FUNCTION next_run_or_null(bigint, text, timestamptz, text, boolean);
DROP FUNCTION job_next_run(text, timestamptz, text, boolean);
DROP FUNCTION schedule(text, text, text, text, boolean, boolean, boolean, integer, interval, interval);
DROP FUNCTION _schedule(name, text, text, text, text, boolean, boolean, boolean, integer, interval, interval);
DROP FUNCTION alter_job(text, text, text, text, boolean, boolean, boolean, integer, interval, interval);
DROP FUNCTION _alter_job(name, text, text, text, text, boolean, boolean, boolean, integer, interval, interval);

--
-- next run, skipping the calendar's holidays when asked.
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

REVOKE ALL ON FUNCTION schedule(text, text, text, text, boolean, boolean, boolean, integer, interval, interval, text),
	alter_job(text, text, text, text, boolean, boolean, boolean, integer, interval, interval, text),
	_schedule(name, text, text, text, text, boolean, boolean, boolean, integer, interval, interval, text),
	_alter_job(name, text, text, text, text, boolean, boolean, boolean, integer, interval, interval, text)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION schedule(text, text, text, text, boolean, boolean, boolean, integer, interval, interval, text),
	alter_job(text, text, text, text, boolean, boolean, boolean, integer, interval, interval, text),
	_schedule(name, text, text, text, text, boolean, boolean, boolean, integer, interval, interval, text),
	_alter_job(name, text, text, text, text, boolean, boolean, boolean, integer, interval, interval, text),
	job_next_run(text, timestamptz, text, boolean, text)
	TO stockpipe_user;

--
-- Reporting views
--
-- The symbols, the latest quotes and the symbol dimension read
-- latest_quote and latest_bar (same columns as in 1.1: Power BI reports
-- depend on them).
CREATE OR REPLACE VIEW stockpipe.bi_symbols AS
	SELECT b.symbol FROM stockpipe.latest_bar b
	UNION
	SELECT q.symbol FROM stockpipe.latest_quote q WHERE q.ts >= now() - interval '7 days';
COMMENT ON VIEW stockpipe.bi_symbols IS
	'Symbols of the stockpipe_bi views: those with daily bars (latest_bar) or a quote in the last 7 days (latest_quote)';

CREATE OR REPLACE VIEW stockpipe_bi.dim_symbol AS
	SELECT s.symbol,
		   least(d.first_trade_date, (lq.first_ts AT TIME ZONE z.tz)::date) AS first_seen,
		   greatest(d.last_trade_date, (lq.ts AT TIME ZONE z.tz)::date) AS last_seen,
		   d.first_trade_date,
		   d.last_trade_date,
		   lq.first_ts AS first_quote_at,
		   lq.ts AS last_quote_at,
		   lq.currency,
		   lq.ts IS NOT NULL AS has_live,
		   d.last_trade_date IS NOT NULL AS has_daily
	  FROM stockpipe.bi_symbols s
	 CROSS JOIN (SELECT coalesce(nullif(current_setting('stockpipe.market_timezone', true), ''),
								 'America/New_York') AS tz OFFSET 0) z	-- once, not per row
	  LEFT JOIN (SELECT b.symbol, b.first_trade_date, b.trade_date AS last_trade_date
				   FROM stockpipe.latest_bar b) d ON d.symbol = s.symbol
	  LEFT JOIN stockpipe.latest_quote lq ON lq.symbol = s.symbol;
COMMENT ON VIEW stockpipe_bi.dim_symbol IS
	'One row per symbol: first/last market date seen, first/last quote, currency of the latest quote, whether it has live quotes and daily bars';

CREATE OR REPLACE VIEW stockpipe_bi.fact_latest_quote AS
	SELECT q.symbol,
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
		   q.source,
		   q.exchange_tz,
		   q.session
	  FROM stockpipe.latest_quote q
	 CROSS JOIN (SELECT coalesce(nullif(current_setting('stockpipe.market_timezone', true), ''),
								 'America/New_York') AS tz OFFSET 0) z	-- once, not per row
	  LEFT JOIN LATERAL (
		SELECT hs.close
		  FROM stockpipe.historical_stock_data hs
		 WHERE q.prev_close IS NULL
		   AND hs.symbol = q.symbol
		   AND hs.trade_date < (q.ts AT TIME ZONE z.tz)::date
		 ORDER BY hs.trade_date DESC
		 LIMIT 1
	  ) h ON true
	 WHERE q.ts >= now() - interval '7 days'
		OR EXISTS (SELECT FROM stockpipe.latest_bar b WHERE b.symbol = q.symbol);
COMMENT ON VIEW stockpipe_bi.fact_latest_quote IS
	'Latest quote of every symbol with daily bars or a quote in the last 7 days; day_change and day_change_pct (percent) against the previous close';

--
-- Latest daily bar per symbol (every symbol with daily bars), with the
-- change against the bar before (as fact_daily computes it for that bar),
-- the first bar's date, and whether the symbol has a latest quote
-- (has_live; as dim_symbol's): the rows of stockpipe.latest_bar.
--
CREATE VIEW stockpipe_bi.fact_latest_bar AS
	SELECT b.symbol,
		   b.trade_date,
		   b.close,
		   b.volume,
		   b.prev_close,
		   b.close - b.prev_close AS change,
		   CASE WHEN b.prev_close > 0 THEN 100 * (b.close - b.prev_close) / b.prev_close END AS change_pct,
		   b.first_trade_date,
		   lq.symbol IS NOT NULL AS has_live
	  FROM stockpipe.latest_bar b
	  LEFT JOIN stockpipe.latest_quote lq ON lq.symbol = b.symbol;
COMMENT ON VIEW stockpipe_bi.fact_latest_bar IS
	'Latest daily bar of every symbol with bars: close, volume, change and change_pct (percent) against the bar before, first bar''s date, whether it has live quotes';

GRANT SELECT ON stockpipe_bi.fact_latest_bar TO stockpipe_reader;

-- latest_quote and latest_bar are read like live_stock and
-- historical_stock_data: stockpipe_user may read them (sql/alerts.sql
-- grants those), nobody but the owner writes them.
GRANT SELECT ON stockpipe.latest_quote TO stockpipe_user;
GRANT SELECT ON stockpipe.latest_bar TO stockpipe_user;

--
-- Idle cost (issue 13, item 6): re-enabling a rule has the scheduler run
-- the built-in alert_check at its next due time (_alert_rules_changed(),
-- called by _set_alert() and _check_alerts() above too): it runs only when
-- quotes were stored or rules changed since its last run.
--
CREATE OR REPLACE FUNCTION _enable_alert(caller name, id bigint, enabled boolean)
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
	-- a re-enabled rule is checked against the newest quote at the next
	-- alert_check (enabling an enabled rule changes nothing: no matter)
	IF $3 THEN
		PERFORM stockpipe._alert_rules_changed();
	END IF;
END;
$$;

--
-- The workers are woken when the extension's scripts commit
--
CREATE FUNCTION wake_workers()
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'stockpipe_wake_workers';
COMMENT ON FUNCTION wake_workers() IS
	'Wake stockpipe''s workers when the calling transaction commits (the extension scripts call it last)';
REVOKE ALL ON FUNCTION wake_workers() FROM PUBLIC;

SELECT stockpipe.wake_workers();
