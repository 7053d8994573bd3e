-- Reporting views for BI tools (schema stockpipe_bi) and the read-only role
-- stockpipe_reader: each view's rows for known data, what the reader may
-- and may not do, and plans that prune partitions and use the indexes.
CREATE EXTENSION stockpipe;
SET timezone = 'UTC';
SHOW stockpipe.market_timezone;
\set SHOW_CONTEXT never

-- The schema, its views and their column types (no arrays, JSON, intervals).
SELECT c.relname, c.relkind, pg_get_userbyid(c.relowner) = current_user AS owned_by_creator
  FROM pg_class c WHERE c.relnamespace = 'stockpipe_bi'::regnamespace ORDER BY 1;
SELECT c.relname, count(*) AS columns,
	   string_agg(DISTINCT format_type(a.atttypid, a.atttypmod), ', ') AS types
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
 WHERE c.relnamespace = 'stockpipe_bi'::regnamespace
 GROUP BY 1 ORDER BY 1;
-- The extension created the role: NOLOGIN, no special attributes.
SELECT rolname, rolcanlogin, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolbypassrls
  FROM pg_roles WHERE rolname = 'stockpipe_reader';

-- Known data: days in June 2025 (EDT, UTC-4 in the market time zone).
SELECT stockpipe.ensure_live_partitions(ARRAY['2025-06-04', '2025-06-05', '2025-06-06']::date[]);
INSERT INTO stockpipe.historical_stock_data (symbol, trade_date, open, high, low, close, adj_close, volume) VALUES
	('AAPL', '2025-06-02', 199, 201, 198, 200, 199.5, 1000),
	('AAPL', '2025-06-03', 200, 203, 199, 202, 201.5, 1100),
	('AAPL', '2025-06-04', 202, 202.5, 200, 201, 200.5, 900),
	('MSFT', '2025-06-03', 398, 401, 397, 400, 400, 2000),
	('MSFT', '2025-06-04', 401, 411, 400, 410, 410, 2100),
	('IBM', '2025-06-04', 249, 251, 248, 250, NULL, NULL);
INSERT INTO stockpipe.live_stock (symbol, ts, price, volume, open, high, low, prev_close, currency, source) VALUES
	('AAPL', '2025-06-05 13:30:00+00', 201.5, 100, 201.2, 201.5, 201.2, 201, 'USD', 'yahoo'),
	('AAPL', '2025-06-05 19:59:59+00', 203, 5000, 201.2, 203.5, 200.8, 201, 'USD', 'yahoo'),
	-- after hours: 21:00 in New York on June 5th, June 6th in UTC
	('AAPL', '2025-06-06 01:00:00+00', 204, 5100, 201.2, 204, 200.8, 201, 'USD', 'yahoo'),
	('MSFT', '2025-06-04 15:00:00+00', 409, 700, 401, 409, 400, 400, 'USD', 'yahoo'),
	-- no prev_close in the quote: the daily close before June 5th (410)
	('MSFT', '2025-06-05 14:00:00+00', 405, 300, 408, 408, 404, NULL, 'USD', 'yahoo'),
	-- quoted only long ago and without daily bars: in fact_intraday, not in dim_symbol
	('OLDCO', '2025-06-05 12:00:00+00', 10, 1, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT stockpipe.refresh_l30d('2025-06-03'), stockpipe.refresh_l30d('2025-06-04');
-- The consumers keep stockpipe.latest_quote with each batch; rows written
-- to live_stock by hand, as here, need a rebuild (test/sql/latest_quote.sql).
SELECT stockpipe.rebuild_latest_quote() AS symbols_quoted;

SELECT * FROM stockpipe_bi.dim_symbol ORDER BY symbol;
SELECT symbol, ts, ts_market, day, price, volume, open, high, low, prev_close,
	   round(day_change::numeric, 4) AS day_change, round(day_change_pct::numeric, 4) AS day_change_pct,
	   currency, source
  FROM stockpipe_bi.fact_latest_quote ORDER BY symbol;
SELECT * FROM stockpipe_bi.fact_intraday ORDER BY symbol, ts;
SELECT symbol, trade_date, open, high, low, close, adj_close, volume, prev_close, change,
	   round(change_pct::numeric, 4) AS change_pct
  FROM stockpipe_bi.fact_daily ORDER BY symbol, trade_date;
SELECT symbol, as_of, days_used, window_start, window_end, last_close, first_close, change,
	   round(change_pct::numeric, 4) AS change_pct, avg_close, min_close, max_close,
	   highest_high, lowest_low, avg_volume, sma_5
  FROM stockpipe_bi.fact_l30d ORDER BY symbol, as_of;

-- A symbol quoted in the last 7 days, without daily bars, is known too.
SELECT stockpipe.ensure_live_partitions(ARRAY[(now() AT TIME ZONE 'UTC')::date - 1,
											  (now() AT TIME ZONE 'UTC')::date])
	   >= 0 AS partitions_ready;
INSERT INTO stockpipe.live_stock (symbol, ts, price, prev_close, currency)
VALUES ('NEWCO', now() - interval '1 hour', 12.5, 10, 'EUR');
SELECT stockpipe.rebuild_latest_quote() AS symbols_quoted;
SELECT symbol, has_live, has_daily, currency FROM stockpipe_bi.dim_symbol WHERE symbol = 'NEWCO';
SELECT symbol, price, day_change, day_change_pct, currency FROM stockpipe_bi.fact_latest_quote WHERE symbol = 'NEWCO';
-- (those partitions would make the plans below depend on the date)
DO $$
DECLARE
	p regclass;
BEGIN
	FOR p IN SELECT i.inhrelid::regclass FROM pg_inherits i
			  WHERE i.inhparent = 'stockpipe.live_stock'::regclass
				AND i.inhrelid::regclass::text !~ '^stockpipe\.live_stock_p2025060[456]$' LOOP
		EXECUTE format('DROP TABLE %s', p);
	END LOOP;
END;
$$;
SELECT count(*) AS partitions FROM pg_inherits WHERE inhparent = 'stockpipe.live_stock'::regclass;
-- (latest_quote keeps NEWCO's quote when its partition goes, as it does
-- when upkeep drops partitions; a rebuild forgets it)
SELECT count(*) AS newco_kept FROM stockpipe.latest_quote WHERE symbol = 'NEWCO';
SELECT stockpipe.rebuild_latest_quote() AS symbols_quoted;

-- Alert rules and events of two roles.
CREATE ROLE regress_bi_alice IN ROLE stockpipe_user;
CREATE ROLE regress_bi_bob IN ROLE stockpipe_user;
-- what Power BI logs in as
CREATE ROLE regress_bi_powerbi LOGIN IN ROLE stockpipe_reader;
INSERT INTO stockpipe.alert_rule (owner, symbol, condition, threshold, email, cooldown, enabled, armed,
								  last_fired_at, last_price, last_quote_ts, created_at)
OVERRIDING SYSTEM VALUE VALUES
	('regress_bi_alice', 'AAPL', 'price_above', 203, 'alice@example.com', '15 minutes', true, false,
	 '2025-06-05 20:00:03+00', 203, '2025-06-05 19:59:59+00', '2025-06-01 12:00+00'),
	('regress_bi_alice', 'NVDA', 'below_l30d_low', NULL, 'alice@example.com', '0', false, true,
	 NULL, NULL, NULL, '2025-06-01 12:01+00'),
	('regress_bi_bob', 'MSFT', 'change_pct_below', -1, 'bob@example.com', '1 hour', true, true,
	 NULL, 405, '2025-06-05 14:00:00+00', '2025-06-01 12:02+00');
-- (ruleids are 1, 2, 3: a fresh extension)
INSERT INTO stockpipe.alert_event (ruleid, owner, symbol, condition, threshold, email, price, quote_ts,
								   prev_close, change_pct, created_at, status, attempts, last_error, sent_at) VALUES
	(1, 'regress_bi_alice', 'AAPL', 'price_above', 203, 'alice@example.com', 203.5, '2025-06-05 19:59:58+00',
	 201, 1.2438, '2025-06-05 20:00:03+00', 'sent', 1, NULL, '2025-06-05 20:00:04+00'),
	(3, 'regress_bi_bob', 'MSFT', 'change_pct_below', -1, 'bob@example.com', 405, '2025-06-05 14:00:00+00',
	 410, -1.2195, '2025-06-05 14:00:02+00', 'pending', 2, '550 <bob@example.com>: mailbox unavailable', NULL);

-- The superuser sees the views whole; e-mail only on its own rules (none).
SELECT * FROM stockpipe_bi.alert_rules ORDER BY ruleid;
SELECT * FROM stockpipe_bi.fired_alerts ORDER BY eventid;
-- No column of the alert views carries an address or an SMTP error.
SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
 WHERE c.relnamespace = 'stockpipe_bi'::regnamespace AND a.attnum > 0
   AND a.attname IN ('email', 'last_error', 'payload', 'key') ORDER BY 1, 2;

--
-- The reader: reads every view, whole (the views run with their owner's
-- rights; the owner is a superuser, so the row-level security of the alert
-- tables does not empty them) ...
--
SET ROLE regress_bi_powerbi;
SELECT 'dim_symbol' AS view, count(*) FROM stockpipe_bi.dim_symbol
UNION ALL SELECT 'fact_latest_quote', count(*) FROM stockpipe_bi.fact_latest_quote
UNION ALL SELECT 'fact_intraday', count(*) FROM stockpipe_bi.fact_intraday
UNION ALL SELECT 'fact_daily', count(*) FROM stockpipe_bi.fact_daily
UNION ALL SELECT 'fact_l30d', count(*) FROM stockpipe_bi.fact_l30d
UNION ALL SELECT 'alert_rules', count(*) FROM stockpipe_bi.alert_rules
UNION ALL SELECT 'fired_alerts', count(*) FROM stockpipe_bi.fired_alerts;
SELECT symbol, price, round(day_change_pct::numeric, 4) AS day_change_pct
  FROM stockpipe_bi.fact_latest_quote ORDER BY symbol;
-- ... sees nobody else's e-mail address ...
SELECT ruleid, owner, symbol, email, state FROM stockpipe_bi.alert_rules ORDER BY ruleid;
SELECT count(*) AS rules_with_an_address FROM stockpipe_bi.alert_rules WHERE email IS NOT NULL;
-- ... and nothing else: not the tables, not the internal views, no writes,
-- no new objects, no secrets.
\set VERBOSITY terse
SELECT count(*) FROM stockpipe.live_stock;
SELECT count(*) FROM stockpipe.historical_stock_data;
SELECT count(*) FROM stockpipe.alert_rule;
SELECT count(*) FROM stockpipe.bi_symbols;
SELECT count(*) FROM stockpipe.latest_quote;
UPDATE stockpipe.latest_quote SET price = 1;
SELECT stockpipe.rebuild_latest_quote();
SELECT stockpipe.refresh_l30d('2025-06-04');
INSERT INTO stockpipe_bi.fact_l30d (symbol, as_of, days_used, window_start, window_end, last_close,
									first_close, change, avg_close, min_close, max_close, computed_at)
VALUES ('AAPL', '2025-06-05', 1, '2025-06-05', '2025-06-05', 1, 1, 0, 1, 1, 1, now());
UPDATE stockpipe_bi.alert_rules SET threshold = 1;
UPDATE stockpipe_bi.fact_l30d SET last_close = 0;
DELETE FROM stockpipe_bi.fired_alerts;
INSERT INTO stockpipe.live_stock (symbol, ts, price) VALUES ('AAPL', '2025-06-05 15:00+00', 1);
CREATE TABLE stockpipe_bi.mine (x int);
CREATE VIEW stockpipe_bi.mine AS SELECT 1;
SHOW stockpipe.smtp_password;
SHOW stockpipe.kafka_options;
\set VERBOSITY default
RESET ROLE;

-- A role that owns alert rules and is also a reader sees its own
-- addresses, not the other role's; through the view it sees every rule,
-- through the table only its own (row-level security).
GRANT stockpipe_reader TO regress_bi_alice;
SET ROLE regress_bi_alice;
SELECT ruleid, owner, email FROM stockpipe_bi.alert_rules ORDER BY ruleid;
SELECT ruleid, owner, email FROM stockpipe.alert_rule ORDER BY ruleid;
RESET ROLE;

--
-- Plans.  More rows, so that the planner's choices are those of real data.
--
INSERT INTO stockpipe.live_stock (symbol, ts, price, volume, prev_close)
SELECT 'X' || lpad(s::text, 2, '0'), d + make_interval(secs => 13.5 * 3600 + i * 4), 50 + s, i, 50
  FROM generate_series(1, 40) s, (VALUES ('2025-06-04'::timestamptz), ('2025-06-05')) v(d),
	   generate_series(0, 299) i;
INSERT INTO stockpipe.historical_stock_data (symbol, trade_date, close)
SELECT 'X' || lpad(s::text, 2, '0'), d, 50 + s
  FROM generate_series(1, 40) s, generate_series('2024-06-05'::date, '2025-06-05', '1 day') d;
SELECT sum(stockpipe.refresh_l30d(d::date)) AS l30d_rows
  FROM generate_series('2025-04-01'::date, '2025-06-04', '1 day') d;
SELECT stockpipe.rebuild_latest_quote() AS symbols_quoted;
ANALYZE stockpipe.live_stock, stockpipe.historical_stock_data, stockpipe.l30d_summary,
	stockpipe.latest_quote;
SET ROLE regress_bi_powerbi;

-- Intraday: a time range reads only its day partitions, a symbol uses the
-- primary key.
EXPLAIN (COSTS OFF)
SELECT ts, price FROM stockpipe_bi.fact_intraday
 WHERE symbol = 'AAPL' AND ts >= '2025-06-05 13:30+00' AND ts < '2025-06-05 20:00+00';
EXPLAIN (COSTS OFF)
SELECT symbol, max(price) FROM stockpipe_bi.fact_intraday
 WHERE ts >= '2025-06-05 00:00+00' AND ts < '2025-06-06 00:00+00' GROUP BY symbol;
-- Latest quotes: a scan of stockpipe.latest_quote (one row per symbol),
-- no probe of live_stock; the daily bars only for a quote without
-- prev_close, latest_bar only for a symbol quoted more than 7 days ago
-- (whether it has bars).
EXPLAIN (COSTS OFF)
SELECT * FROM stockpipe_bi.fact_latest_quote;
-- The symbol dimension: the symbols with daily bars and their dates are
-- rows of latest_bar, with those of latest_quote quoted in the last 7 days.
EXPLAIN (COSTS OFF)
SELECT * FROM stockpipe_bi.dim_symbol;
-- The dashboard's symbols with daily bars only: latest_bar without a
-- latest quote, an anti-join of two tables of one row per symbol.
EXPLAIN (COSTS OFF)
SELECT symbol, trade_date, close FROM stockpipe_bi.fact_latest_bar WHERE NOT has_live;
-- Daily history of a symbol: one index range, then the window.
EXPLAIN (COSTS OFF)
SELECT trade_date, close, change_pct FROM stockpipe_bi.fact_daily
 WHERE symbol = 'AAPL' AND trade_date >= '2025-06-01';
-- The newest L30D rows: the as_of index.
EXPLAIN (COSTS OFF)
SELECT symbol, change_pct FROM stockpipe_bi.fact_l30d WHERE as_of = '2025-06-04';
RESET ROLE;

DROP EXTENSION stockpipe;
-- The role stays (other databases may use it); the schema goes.
SELECT count(*) AS reader_role FROM pg_roles WHERE rolname = 'stockpipe_reader';
SELECT count(*) AS bi_schema FROM pg_namespace WHERE nspname = 'stockpipe_bi';
DROP ROLE regress_bi_alice, regress_bi_bob, regress_bi_powerbi;
