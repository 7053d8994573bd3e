-- statements.sql: where does the writer's time go?  (run.sh --profile)
--
-- Replays the N rows of bench.copy_live through the writer's statement shape,
-- from SQL, in batches of :batch rows, one transaction (one commit, one WAL
-- flush) per batch, into fresh tables identical to live_stock:
--   oc    INSERT ... SELECT * FROM unnest($1..$10) ON CONFLICT (symbol, ts) DO NOTHING
--         (what src/writer.c runs)
--   plain the same INSERT without ON CONFLICT
-- The arrays are built beforehand (not timed), as the worker passes them
-- ready-made.  Prints rows/s of each; compare with the COPY figure.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE TABLE bench.arrays AS
SELECT rn / :batch AS b, array_agg(symbol ORDER BY rn) AS symbol, array_agg(ts ORDER BY rn) AS ts,
	   array_agg(price ORDER BY rn) AS price, array_agg(volume ORDER BY rn) AS volume,
	   array_agg(open ORDER BY rn) AS open, array_agg(high ORDER BY rn) AS high,
	   array_agg(low ORDER BY rn) AS low, array_agg(prev_close ORDER BY rn) AS prev_close,
	   array_agg(currency ORDER BY rn) AS currency, array_agg(source ORDER BY rn) AS source
  FROM (SELECT *, (row_number() OVER () - 1) AS rn FROM bench.copy_live) s
 GROUP BY 1;

CREATE PROCEDURE bench.replay(target text, on_conflict boolean, INOUT seconds float8 DEFAULT 0)
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	t0 timestamptz;
	sql text := format('INSERT INTO bench.%I (symbol, ts, price, volume, open, high, low, prev_close, currency, source) '
					   'SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)%s',
					   target, CASE WHEN on_conflict THEN ' ON CONFLICT (symbol, ts) DO NOTHING' ELSE '' END);
BEGIN
	seconds := 0;
	FOR r IN SELECT * FROM bench.arrays ORDER BY b LOOP
		t0 := clock_timestamp();
		EXECUTE sql USING r.symbol, r.ts, r.price, r.volume, r.open, r.high, r.low,
			r.prev_close, r.currency, r.source;
		COMMIT;
		seconds := seconds + extract(epoch FROM clock_timestamp() - t0);
	END LOOP;
END
$$;

DO $$
DECLARE
	t text;
	p record;
BEGIN
	FOREACH t IN ARRAY ARRAY['oc', 'plain'] LOOP
		EXECUTE format('CREATE TABLE bench.%I (LIKE stockpipe.live_stock INCLUDING ALL) PARTITION BY RANGE (ts)', t);
		FOR p IN SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
				   FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
				  WHERE i.inhparent = 'stockpipe.live_stock'::regclass LOOP
			EXECUTE format('CREATE TABLE bench.%I PARTITION OF bench.%I %s',
						   replace(p.relname, 'live_stock', t), t, p.bound);
		END LOOP;
	END LOOP;
END
$$;

CHECKPOINT;
SELECT pg_current_wal_lsn() AS l0 \gset
CALL bench.replay('oc', true, NULL);
SELECT pg_current_wal_lsn() AS l1 \gset
CHECKPOINT;
SELECT pg_current_wal_lsn() AS l2 \gset
CALL bench.replay('plain', false, NULL);
SELECT pg_current_wal_lsn() AS l3 \gset
SELECT 'wal_oc_mb=' || round(pg_wal_lsn_diff(:'l1', :'l0') / 1048576.0, 1),
	   'wal_plain_mb=' || round(pg_wal_lsn_diff(:'l3', :'l2') / 1048576.0, 1);
