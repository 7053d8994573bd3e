-- bench/bi/before/views.sql: stockpipe.bi_symbols and stockpipe_bi.dim_symbol
-- as they were before stockpipe.latest_bar (1.2 before commit "latest_bar"),
-- in schema bench: the symbols with daily bars by a loose index scan of
-- historical_stock_data's primary key, their first and last trade dates by
-- one probe each.  bench/bi/run.sh times the dashboard's queries of that
-- time (symbols.sql, daily_only.sql) on them, as the baseline.
CREATE VIEW bench.prev_bi_symbols AS
	WITH RECURSIVE daily AS (
		(SELECT h.symbol FROM stockpipe.historical_stock_data h ORDER BY h.symbol LIMIT 1)
		UNION ALL
		SELECT (SELECT h.symbol FROM stockpipe.historical_stock_data h
				 WHERE h.symbol > d.symbol ORDER BY h.symbol LIMIT 1)
		  FROM daily d
		 WHERE d.symbol IS NOT NULL
	)
	SELECT daily.symbol FROM daily WHERE daily.symbol IS NOT NULL
	UNION
	SELECT q.symbol FROM stockpipe.latest_quote q WHERE q.ts >= now() - interval '7 days';

CREATE VIEW bench.prev_dim_symbol AS
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
	  FROM bench.prev_bi_symbols s
	 CROSS JOIN (SELECT coalesce(nullif(current_setting('stockpipe.market_timezone', true), ''),
								 'America/New_York') AS tz) z
	  LEFT JOIN LATERAL (
		SELECT (SELECT h.trade_date FROM stockpipe.historical_stock_data h
				 WHERE h.symbol = s.symbol ORDER BY h.trade_date LIMIT 1) AS first_trade_date,
			   (SELECT h.trade_date FROM stockpipe.historical_stock_data h
				 WHERE h.symbol = s.symbol ORDER BY h.trade_date DESC LIMIT 1) AS last_trade_date
	  ) d ON true
	  LEFT JOIN stockpipe.latest_quote lq ON lq.symbol = s.symbol;
