-- Tables, partitions, monitoring views and settings.
CREATE EXTENSION IF NOT EXISTS stockpipe;
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
-- This database is not stockpipe.database: its workers run elsewhere.
SELECT count(*) FROM stockpipe.kafka_offsets;

-- Settings are checked when set.
SET stockpipe.kafka_options = 'no.such.property=1';
SET stockpipe.kafka_options = 'security.protocol';
SET stockpipe.kafka_options = 'security.protocol=SASL_SSL; sasl.mechanisms=PLAIN';
SHOW stockpipe.kafka_options;
SET stockpipe.live_topic = 'bad topic';
SET stockpipe.kafka_brokers = 'a:9092; b:9092';
SET stockpipe.batch_size = 0;
SET stockpipe.database = 'other';

-- pg_dump keeps the tables' rows.
SELECT unnest(extconfig)::regclass FROM pg_extension WHERE extname = 'stockpipe' ORDER BY 1::text;

DROP EXTENSION stockpipe;
