-- stockpipe.latest_bar: the latest daily bar of each symbol, kept by
-- statement triggers on historical_stock_data (every writer: the
-- consumers' upserts, test/e2e/40 checks that path; bars written by hand as
-- here; deletes, TRUNCATE), and made again by rebuild_latest_bar().  What
-- the reporting views read from it, and that nobody but the owner writes it.
CREATE EXTENSION stockpipe;
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- It equals what historical_stock_data says, both ways.
CREATE TEMP VIEW expected AS
	SELECT l.symbol, f.first_trade_date, l.trade_date, l.close, l.volume,
		   (SELECT h.trade_date FROM stockpipe.historical_stock_data h WHERE h.symbol = l.symbol
			   AND h.trade_date < l.trade_date ORDER BY h.trade_date DESC LIMIT 1) AS prev_trade_date,
		   (SELECT h.close FROM stockpipe.historical_stock_data h WHERE h.symbol = l.symbol
			   AND h.trade_date < l.trade_date ORDER BY h.trade_date DESC LIMIT 1) AS prev_close
	  FROM (SELECT DISTINCT ON (symbol) symbol, trade_date, close, volume
			  FROM stockpipe.historical_stock_data ORDER BY symbol, trade_date DESC) l
	  JOIN (SELECT symbol, min(trade_date) AS first_trade_date
			  FROM stockpipe.historical_stock_data GROUP BY symbol) f USING (symbol);
CREATE TEMP VIEW differs AS
	SELECT (SELECT count(*) FROM (SELECT * FROM stockpipe.latest_bar EXCEPT SELECT * FROM expected) a)
		 + (SELECT count(*) FROM (SELECT * FROM expected EXCEPT SELECT * FROM stockpipe.latest_bar) b) AS rows_differ;

-- Bars of three days, inserted one statement at a time, oldest first.
INSERT INTO stockpipe.historical_stock_data (symbol, trade_date, close, volume)
VALUES ('A', '2025-06-04', 10, 100), ('B', '2025-06-04', 20, 200);
SELECT * FROM stockpipe.latest_bar ORDER BY symbol;
INSERT INTO stockpipe.historical_stock_data (symbol, trade_date, close, volume)
VALUES ('A', '2025-06-05', 11, 110), ('A', '2025-06-06', 12, 120), ('B', '2025-06-05', 19, 190);
SELECT * FROM stockpipe.latest_bar ORDER BY symbol;
-- The consumers' upsert: a revised bar of the day (an UPDATE through ON
-- CONFLICT), a new day, and a bar loaded late, before the first.
INSERT INTO stockpipe.historical_stock_data AS h (symbol, trade_date, close, volume)
VALUES ('A', '2025-06-06', 12.5, 125), ('B', '2025-06-06', 21, 210), ('C', '2025-06-03', 5, NULL),
	   ('A', '2025-06-02', 9, 90)
ON CONFLICT (symbol, trade_date) DO UPDATE SET close = excluded.close, volume = excluded.volume;
SELECT * FROM stockpipe.latest_bar ORDER BY symbol;
SELECT * FROM differs;
-- A plain UPDATE, one that moves a bar to another symbol, and deletes
-- (the latest bar; every bar of a symbol).
UPDATE stockpipe.historical_stock_data SET close = 18 WHERE symbol = 'B' AND trade_date = '2025-06-05';
UPDATE stockpipe.historical_stock_data SET symbol = 'D' WHERE symbol = 'A' AND trade_date = '2025-06-02';
SELECT * FROM stockpipe.latest_bar ORDER BY symbol;
DELETE FROM stockpipe.historical_stock_data WHERE symbol = 'B' AND trade_date = '2025-06-06';
DELETE FROM stockpipe.historical_stock_data WHERE symbol = 'C';
SELECT * FROM stockpipe.latest_bar ORDER BY symbol;
SELECT * FROM differs;

-- The reporting views read it: A is quoted, B and D have bars only.
SELECT stockpipe.ensure_live_partitions(ARRAY[current_date]);
INSERT INTO stockpipe.live_stock (symbol, ts, price) VALUES ('A', now() - interval '1 minute', 13);
SELECT stockpipe.rebuild_latest_quote() AS symbols_quoted;
SELECT symbol, first_trade_date, last_trade_date, has_live, has_daily
  FROM stockpipe_bi.dim_symbol ORDER BY symbol;
SELECT * FROM stockpipe_bi.fact_latest_bar ORDER BY symbol;
-- the last bar of fact_daily, the same change
SELECT symbol, trade_date, close, prev_close, change, change_pct FROM (
	SELECT DISTINCT ON (symbol) * FROM stockpipe_bi.fact_daily ORDER BY symbol, trade_date DESC) d
EXCEPT
SELECT symbol, trade_date, close, prev_close, change, change_pct FROM stockpipe_bi.fact_latest_bar;

-- Rebuild: after the triggers were bypassed (session_replication_role =
-- replica, as a data-only restore with --disable-triggers does).
SET session_replication_role = replica;
INSERT INTO stockpipe.historical_stock_data (symbol, trade_date, close) VALUES ('E', '2025-06-06', 50);
RESET session_replication_role;
SELECT * FROM differs;
SELECT stockpipe.rebuild_latest_bar() AS symbols;
SELECT * FROM differs;
-- TRUNCATE empties it.
TRUNCATE stockpipe.historical_stock_data;
SELECT count(*) AS rows_after_truncate FROM stockpipe.latest_bar;

--
-- Nobody but the owner writes it or runs its functions.  A stockpipe_user
-- reads it (as it reads historical_stock_data); a reader of the BI views
-- reads fact_latest_bar only.
--
INSERT INTO stockpipe.historical_stock_data (symbol, trade_date, close) VALUES ('A', '2025-06-06', 1);
CREATE ROLE regress_lb_user IN ROLE stockpipe_user;
CREATE ROLE regress_lb_reader IN ROLE stockpipe_reader;
\set VERBOSITY terse
SET ROLE regress_lb_user;
SELECT count(*) AS rows_seen FROM stockpipe.latest_bar;
INSERT INTO stockpipe.latest_bar (symbol, first_trade_date, trade_date, close) VALUES ('EVIL', now(), now(), 1);
UPDATE stockpipe.latest_bar SET close = 0;
DELETE FROM stockpipe.latest_bar;
TRUNCATE stockpipe.latest_bar;
BEGIN;
LOCK TABLE stockpipe.latest_bar IN SHARE ROW EXCLUSIVE MODE;
ROLLBACK;
SELECT stockpipe.rebuild_latest_bar();
SELECT stockpipe._refresh_latest_bar(ARRAY['A']);
RESET ROLE;
SET ROLE regress_lb_reader;
SELECT count(*) FROM stockpipe.latest_bar;
SELECT symbol, close, has_live FROM stockpipe_bi.fact_latest_bar;
RESET ROLE;

DROP VIEW differs, expected;
DROP EXTENSION stockpipe;
DROP ROLE regress_lb_user, regress_lb_reader;
