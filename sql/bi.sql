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
-- Speed at market scale (8,000 symbols, 90 day partitions; bench/bi):
--   * the latest quote of each symbol (and its first quote time) is a row
--     of stockpipe.latest_quote, which the consumers keep in the same
--     transaction as each batch (sql/ingest.sql, src/writer.c): the latest
--     quotes are one scan of a table of one row per symbol, not one probe
--     of live_stock's day partitions per symbol;
--   * the symbols with daily bars, their first and last trade dates and
--     their latest bar are rows of stockpipe.latest_bar, which triggers on
--     historical_stock_data keep in the same transaction as each write
--     (sql/ingest.sql): one scan of a table of one row per symbol, not a
--     loose index scan of historical_stock_data and probes per symbol;
--   * the previous close of a quote without one is a LATERAL ... ORDER BY
--     ... LIMIT 1 probe of historical_stock_data's primary key;
--   * fact_intraday is a plain projection of live_stock: a filter on ts
--     prunes partitions, a filter on symbol uses the primary key.  (A filter
--     on day or ts_market cannot prune: filter on ts.)
--   * fact_daily's change_pct is a window over the symbol's bars, which a
--     filter on symbol narrows to one index range;
--   * fact_latest_quote and dim_symbol read the market's zone once (OFFSET 0
--     keeps the planner from copying current_setting() into every row's
--     AT TIME ZONE): 17.7 against 23.1 ms for 8,000 rows (pgbench).
--

CREATE SCHEMA stockpipe_bi;
COMMENT ON SCHEMA stockpipe_bi IS
	'Reporting views for BI tools (Power BI): readable by stockpipe_reader';

-- The symbols the reporting views know (internal; not granted to
-- stockpipe_reader): every symbol with daily bars (a row of
-- stockpipe.latest_bar), and every symbol with a quote in the last 7 days
-- (stockpipe.latest_quote).
--
-- Why not every symbol of latest_quote: it keeps the last quote of a
-- symbol whose quotes upkeep has dropped (a delisted one, say).  The
-- producer publishes daily bars of every symbol it polls, so in practice
-- the first list has every symbol and the second only adds one that is new
-- today; a symbol quoted only more than a week ago and without daily bars
-- drops out (as it did when this list was read from live_stock).
CREATE VIEW stockpipe.bi_symbols AS
	SELECT b.symbol FROM stockpipe.latest_bar b
	UNION
	SELECT q.symbol FROM stockpipe.latest_quote q WHERE q.ts >= now() - interval '7 days';
COMMENT ON VIEW stockpipe.bi_symbols IS
	'Symbols of the stockpipe_bi views: those with daily bars (latest_bar) or a quote in the last 7 days (latest_quote)';

--
-- Symbol dimension: one row per symbol that has live quotes or daily bars.
--
CREATE VIEW stockpipe_bi.dim_symbol AS
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

--
-- Latest quote per symbol (of stockpipe.bi_symbols: a symbol with a quote
-- in the last 7 days or with daily bars), with the day's change against
-- the previous close: the quote's prev_close, else the last daily close
-- before the quote's market date (as the alert checks do).  The quotes are
-- the rows of stockpipe.latest_quote; the daily bars are probed only for a
-- symbol quoted more than 7 days ago (whether it has any: a scalar
-- subquery ordered like the primary key, so one index probe, where an
-- EXISTS may be planned as a scan or a hash of every bar) or a quote
-- without prev_close.
--
CREATE VIEW stockpipe_bi.fact_latest_quote AS
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

-- latest_quote and latest_bar are read like live_stock and
-- historical_stock_data: stockpipe_user may read them (sql/alerts.sql
-- grants those), nobody but the owner writes them.
GRANT SELECT ON stockpipe.latest_quote TO stockpipe_user;
GRANT SELECT ON stockpipe.latest_bar TO stockpipe_user;

REVOKE ALL ON SCHEMA stockpipe_bi FROM PUBLIC;
GRANT USAGE ON SCHEMA stockpipe_bi TO stockpipe_reader;
REVOKE ALL ON ALL TABLES IN SCHEMA stockpipe_bi FROM PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA stockpipe_bi TO stockpipe_reader;
