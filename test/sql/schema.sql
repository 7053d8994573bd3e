-- Tables, partitions, monitoring views and settings.
CREATE EXTENSION stockpipe;
SET timezone = 'UTC';

-- live_stock partitions are created per UTC day, once.
SELECT stockpipe.ensure_live_partitions(ARRAY['2026-11-27', '2026-11-28', '2026-11-27']::date[]);
SELECT stockpipe.ensure_live_partitions(ARRAY['2026-11-27']::date[]);
SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bounds
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'stockpipe.live_stock'::regclass ORDER BY 1;

-- A duplicate (symbol, ts) keeps the first row.
INSERT INTO stockpipe.live_stock (symbol, ts, price) VALUES ('AAPL', '2026-11-27 19:30:01+00', 1)
  ON CONFLICT DO NOTHING;
INSERT INTO stockpipe.live_stock (symbol, ts, price) VALUES ('AAPL', '2026-11-27 19:30:01+00', 2)
  ON CONFLICT DO NOTHING;
SELECT symbol, ts, price FROM stockpipe.live_stock;

-- Dashboard queries prune partitions and use the primary key.
SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT price FROM stockpipe.live_stock
 WHERE symbol = 'AAPL' AND ts >= '2026-11-28 00:00+00' AND ts < '2026-11-28 12:00+00';
EXPLAIN (COSTS OFF)
SELECT price FROM stockpipe.live_stock WHERE symbol = 'AAPL' ORDER BY ts DESC LIMIT 1;
RESET enable_seqscan;

-- Monitoring views exist with the documented columns.
SELECT attname FROM pg_attribute
 WHERE attrelid = 'stockpipe.consumer_status'::regclass AND attnum > 0 ORDER BY attnum;
SELECT attname FROM pg_attribute
 WHERE attrelid = 'stockpipe.workers'::regclass AND attnum > 0 ORDER BY attnum;
-- The workers run in stockpipe.database ('postgres' here), where the
-- extension does not exist: they wait for it, calmly.
DO $$
BEGIN
  FOR i IN 1..100 LOOP
    EXIT WHEN (SELECT count(*) FILTER (WHERE state = 'waiting for extension') = count(*)
                  AND count(*) = 5 FROM stockpipe.workers);
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
SELECT kind, worker_index, state, assigned_partitions, last_error FROM stockpipe.workers ORDER BY 1, 2;
SELECT count(*) FROM stockpipe.consumer_status;

-- Settings are checked when set (reloadable ones through ALTER SYSTEM).
ALTER SYSTEM SET stockpipe.kafka_options = 'no.such.property=1';
ALTER SYSTEM SET stockpipe.kafka_options = 'security.protocol';
ALTER SYSTEM SET stockpipe.kafka_options = 'security.protocol=SASL_SSL; sasl.mechanisms';
ALTER SYSTEM SET stockpipe.kafka_options = 'security.protocol=SASL_SSL; sasl.mechanisms=PLAIN;';
ALTER SYSTEM RESET stockpipe.kafka_options;
ALTER SYSTEM SET stockpipe.live_topic = 'bad topic';
ALTER SYSTEM SET stockpipe.kafka_brokers = 'a:9092; b:9092';
ALTER SYSTEM SET stockpipe.kafka_brokers = '';
ALTER SYSTEM SET stockpipe.batch_size = 0;
ALTER SYSTEM SET stockpipe.batch_max_wait = '20s';
SET stockpipe.batch_size = 100;
SET stockpipe.database = 'other';
-- Passwords may sit in kafka_options and the SMTP URL: only superusers see
-- them, and the files of secrets.
CREATE ROLE stockpipe_regress_user;
GRANT stockpipe_user TO stockpipe_regress_user;
SET ROLE stockpipe_regress_user;
SHOW stockpipe.kafka_options;
SHOW stockpipe.smtp_url;
SHOW stockpipe.smtp_password_file;
SHOW stockpipe.kafka_options_file;
-- Workers' errors may quote other users' data: monitoring is pg_monitor's.
SELECT count(*) FROM stockpipe.worker_info();
SELECT count(*) FROM stockpipe.workers;
SELECT count(*) FROM stockpipe.consumer_status;
RESET ROLE;
GRANT pg_monitor TO stockpipe_regress_user;
SET ROLE stockpipe_regress_user;
SELECT count(*) > 0 AS monitor_sees_workers FROM stockpipe.workers;
RESET ROLE;
DROP ROLE stockpipe_regress_user;

-- Settings that bound what users and messages can do are checked.
ALTER SYSTEM SET stockpipe.mail_allowed_domains = 'example.com, bad domain!';
ALTER SYSTEM SET stockpipe.smtp_password_file = 'relative/path';
ALTER SYSTEM SET stockpipe.message_max_future = '400d';
ALTER SYSTEM SET stockpipe.max_job_runs = 0;

-- pg_dump keeps the tables' rows.
SELECT unnest(extconfig)::regclass FROM pg_extension WHERE extname = 'stockpipe' ORDER BY 1;

DROP EXTENSION stockpipe;
