-- stockpipe.latest_quote: the newest stored quote of each symbol, which the
-- consumers keep with each batch (src/writer.c; test/e2e/10 and 40 check
-- that path) and rebuild_latest_quote() makes from live_stock.  Its
-- columns, the rebuild, what retention does to it, and that nobody but the
-- owner can write it.
CREATE EXTENSION stockpipe;
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- Every field of the quote message is a column, of the same type as in
-- live_stock (the consumers' upsert names them from contract/fields.h): a
-- field added to live_stock and not here shows up below.
SELECT f.column_name, f.column_type
  FROM stockpipe.message_fields() f WHERE f.message = 'quote'
EXCEPT
SELECT a.attname, format_type(a.atttypid, a.atttypmod)
  FROM pg_attribute a WHERE a.attrelid = 'stockpipe.latest_quote'::regclass AND a.attnum > 0;
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
  FROM pg_attribute a WHERE a.attrelid = 'stockpipe.latest_quote'::regclass AND a.attnum > 0
   AND a.attname NOT IN (SELECT column_name FROM stockpipe.message_fields() WHERE message = 'quote');
SELECT reloptions FROM pg_class WHERE oid = 'stockpipe.latest_quote'::regclass;

-- Quotes of three days, one symbol (C) only on the oldest day.
SELECT stockpipe.ensure_live_partitions(ARRAY['2025-06-04', '2025-06-05', '2025-06-06']::date[]);
INSERT INTO stockpipe.live_stock (symbol, ts, price, volume, prev_close, currency, source, session)
SELECT s, d + make_interval(mins => 30 * i), 100 * k + i, 10 * i, 100 * k, 'USD', 'sim', 'regular'
  FROM unnest(ARRAY['A', 'B'], ARRAY[1, 2]) AS x(s, k),
	   (VALUES ('2025-06-04 13:30+00'::timestamptz), ('2025-06-05 13:30+00'), ('2025-06-06 13:30+00')) v(d),
	   generate_series(0, 12) i;
INSERT INTO stockpipe.live_stock (symbol, ts, price) VALUES ('C', '2025-06-04 15:00+00', 7);
-- Empty until rebuilt: only the consumers keep it.
SELECT count(*) AS before_rebuild FROM stockpipe.latest_quote;
SELECT stockpipe.rebuild_latest_quote() AS symbols;
SELECT * FROM stockpipe.latest_quote ORDER BY symbol;
-- It equals the newest row of each symbol, both ways.
CREATE TEMP VIEW newest AS
	SELECT DISTINCT ON (symbol) symbol, ts, price, volume, open, high, low, prev_close, currency,
		   source, exchange_tz, session
	  FROM stockpipe.live_stock ORDER BY symbol, ts DESC;
SELECT count(*) AS only_in_latest_quote FROM (
	SELECT symbol, ts, price, volume, open, high, low, prev_close, currency, source, exchange_tz, session
	  FROM stockpipe.latest_quote EXCEPT SELECT * FROM newest) d;
SELECT count(*) AS only_in_live_stock FROM (
	SELECT * FROM newest EXCEPT
	SELECT symbol, ts, price, volume, open, high, low, prev_close, currency, source, exchange_tz, session
	  FROM stockpipe.latest_quote) d;

-- Retention: dropping the oldest day partition keeps every symbol's row
-- (C's last quote too, and first_ts); a rebuild forgets C and moves
-- first_ts to the oldest quote still stored.
DROP TABLE stockpipe.live_stock_p20250604;
SELECT symbol, ts, first_ts FROM stockpipe.latest_quote ORDER BY symbol;
SELECT stockpipe.rebuild_latest_quote() AS symbols;
SELECT symbol, ts, first_ts FROM stockpipe.latest_quote ORDER BY symbol;

-- The reporting views read it: B has daily bars, A is quoted only long ago
-- (more than 7 days) without bars, so only B is a symbol of the views.
INSERT INTO stockpipe.historical_stock_data (symbol, trade_date, close) VALUES ('B', '2025-06-05', 201);
SELECT symbol, ts, price, prev_close, day_change FROM stockpipe_bi.fact_latest_quote ORDER BY symbol;
SELECT symbol, first_seen, last_seen, first_quote_at, last_quote_at, currency, has_live, has_daily
  FROM stockpipe_bi.dim_symbol ORDER BY symbol;

--
-- Nobody but the owner writes it.  A stockpipe_user reads it (as it reads
-- live_stock); a reader of the BI views does not even read it.
--
CREATE ROLE regress_lq_user IN ROLE stockpipe_user;
CREATE ROLE regress_lq_reader IN ROLE stockpipe_reader;
\set VERBOSITY terse
SET ROLE regress_lq_user;
SELECT count(*) AS rows_seen FROM stockpipe.latest_quote;
INSERT INTO stockpipe.latest_quote (symbol, ts, price, first_ts) VALUES ('EVIL', now(), 1, now());
UPDATE stockpipe.latest_quote SET price = 0;
DELETE FROM stockpipe.latest_quote;
TRUNCATE stockpipe.latest_quote;
SELECT stockpipe.rebuild_latest_quote();
RESET ROLE;
SET ROLE regress_lq_reader;
SELECT count(*) FROM stockpipe.latest_quote;
INSERT INTO stockpipe.latest_quote (symbol, ts, price, first_ts) VALUES ('EVIL', now(), 1, now());
RESET ROLE;
\set VERBOSITY default
SELECT count(*) AS still_two, count(*) FILTER (WHERE symbol = 'EVIL') AS evil, min(price) > 0 AS prices_kept
  FROM stockpipe.latest_quote;
SELECT has_function_privilege('stockpipe_user', 'stockpipe.rebuild_latest_quote()', 'EXECUTE') AS user_may_rebuild,
	   has_table_privilege('stockpipe_user', 'stockpipe.latest_quote', 'INSERT, UPDATE, DELETE, TRUNCATE') AS user_may_write,
	   has_table_privilege('stockpipe_reader', 'stockpipe.latest_quote', 'SELECT') AS reader_may_read;

DROP VIEW newest;
DROP EXTENSION stockpipe;
DROP ROLE regress_lq_user, regress_lq_reader;
