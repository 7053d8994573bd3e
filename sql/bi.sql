--
-- The install script (stockpipe--VERSION.sql), part 5: reporting views for BI tools (issue 5, items
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
		   q.source,
		   q.exchange_tz,
		   q.session
	  FROM stockpipe.bi_symbols s
	 CROSS JOIN (SELECT coalesce(nullif(current_setting('stockpipe.market_timezone', true), ''),
								 'America/New_York') AS tz) z
	 CROSS JOIN LATERAL (
		SELECT l.ts, l.price, l.volume, l.open, l.high, l.low, l.prev_close, l.currency, l.source,
			   l.exchange_tz, l.session
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
