-- The upgrade paths: CREATE EXTENSION stockpipe VERSION '1.0' (the script
-- of the release, kept in sql/versions/), data and users' rules and jobs
-- made through the 1.0 API, ALTER EXTENSION stockpipe UPDATE; the result
-- must equal a fresh CREATE EXTENSION of the current version in every
-- catalog fact test/upgrade/catalog.sql lists (objects, definitions,
-- privileges, policies, comments, dump configuration, built-in rows), and
-- the data must still be there and usable through the new API.
\set VERBOSITY terse
\set regress_db :DBNAME
SET client_min_messages = warning;
CREATE DATABASE stockpipe_upgrade_fresh;
CREATE DATABASE stockpipe_upgrade_old;
CREATE DATABASE stockpipe_upgrade_11;
CREATE ROLE regress_upgrade_alice LOGIN;
RESET client_min_messages;

\c stockpipe_upgrade_fresh
CREATE EXTENSION stockpipe;
SELECT extversion FROM pg_extension WHERE extname = 'stockpipe';
\set catvar cat_fresh
\i test/upgrade/catalog.sql

\c stockpipe_upgrade_old
CREATE EXTENSION stockpipe VERSION '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'stockpipe';
SET timezone = 'UTC';
GRANT stockpipe_user TO regress_upgrade_alice;
SELECT stockpipe.ensure_live_partitions(ARRAY['2026-11-27']::date[]);
INSERT INTO stockpipe.live_stock (symbol, ts, price, prev_close)
VALUES ('AAPL', '2026-11-27 15:00+00', 190.5, 188);
INSERT INTO stockpipe.historical_stock_data (symbol, trade_date, close)
VALUES ('AAPL', '2026-11-26', 188);
INSERT INTO stockpipe.dead_letter (topic, partition, kafka_offset, payload, error)
VALUES ('stock_live', 0, 7, '\x7b7d', 'symbol is missing');
SET ROLE regress_upgrade_alice;
SELECT stockpipe.set_alert('AAPL', 'price_above', 200, 'alice@example.com', '1 hour') AS alice_rule \gset
SELECT stockpipe.schedule('report', '0 18 * * 1-5', 'SELECT 1', retry_delay => '2 minutes') > 0 AS scheduled;
RESET ROLE;

ALTER EXTENSION stockpipe UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'stockpipe';
\set catvar cat_upgraded
\i test/upgrade/catalog.sql

-- Both lists below must be empty.
SELECT line AS only_after_upgrade
  FROM unnest(string_to_array(:'cat_upgraded', E'\n')) AS line
EXCEPT SELECT unnest(string_to_array(:'cat_fresh', E'\n'))
ORDER BY 1;
SELECT line AS only_in_fresh_install
  FROM unnest(string_to_array(:'cat_fresh', E'\n')) AS line
EXCEPT SELECT unnest(string_to_array(:'cat_upgraded', E'\n'))
ORDER BY 1;
SELECT count(*) > 100 AS catalog_compared
  FROM unnest(string_to_array(:'cat_fresh', E'\n'));

-- The data survived, and the current API works on it.
SELECT symbol, ts, price FROM stockpipe.live_stock;
-- 1.2's latest_quote is filled from the quotes already stored.
SELECT symbol, ts, price, prev_close, first_ts FROM stockpipe.latest_quote;
SELECT symbol, trade_date, close FROM stockpipe.historical_stock_data;
SELECT kafka_offset, error, payload_bytes FROM stockpipe.dead_letter;
SET ROLE regress_upgrade_alice;
SELECT ruleid = :alice_rule AS same_rule, symbol, condition, threshold, cooldown, state FROM stockpipe.my_alerts;
SELECT name, schedule, retry_delay, calendar FROM stockpipe.job WHERE name = 'report';
SELECT stockpipe.alter_job('report', retry_delay => '5 minutes') > 0 AS altered;
SELECT stockpipe.alter_job('report', skip_holidays => true, calendar => 'XETR') > 0 AS on_xetra;
INSERT INTO stockpipe.job_run (jobid, trigger, scheduled_at, status)
SELECT jobid, 'manual', now(), 'scheduled' FROM stockpipe.job WHERE name = 'report';
RESET ROLE;
SELECT command FROM stockpipe.job WHERE builtin AND name = 'l30d_refresh';

-- From the previous release, 1.1, alone: the same catalog again.
\c stockpipe_upgrade_11
CREATE EXTENSION stockpipe VERSION '1.1';
ALTER EXTENSION stockpipe UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'stockpipe';
\set catvar cat_from_11
\i test/upgrade/catalog.sql
SELECT line AS only_after_upgrade_from_11
  FROM unnest(string_to_array(:'cat_from_11', E'\n')) AS line
EXCEPT SELECT unnest(string_to_array(:'cat_fresh', E'\n'))
ORDER BY 1;
SELECT line AS only_in_fresh_install_not_from_11
  FROM unnest(string_to_array(:'cat_fresh', E'\n')) AS line
EXCEPT SELECT unnest(string_to_array(:'cat_from_11', E'\n'))
ORDER BY 1;

\c :regress_db
SET client_min_messages = warning;
DROP DATABASE stockpipe_upgrade_fresh;
DROP DATABASE stockpipe_upgrade_old;
DROP DATABASE stockpipe_upgrade_11;
DROP ROLE regress_upgrade_alice;
