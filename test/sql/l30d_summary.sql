-- L30D summary: stockpipe.refresh_l30d() and stockpipe.l30d_summary, checked
-- against values computed independently (by the Python below) for a known
-- data set.
CREATE EXTENSION stockpipe;
SET timezone = 'UTC';
SET DateStyle = 'ISO, YMD';


--
-- The data set and the expected values.  This Python (python3, standard
-- library only) prints the bars inserted below, then the expected windows,
-- then the expected metrics:
--
-- import datetime as dt, math, statistics as st
--
-- def weekdays(start, n, skip=()):
--     d, out = start, []
--     while len(out) < n:
--         if d.weekday() < 5 and d not in skip:
--             out.append(d)
--         d += dt.timedelta(days=1)
--     return out
--
-- bars = []  # (symbol, trade_date, high, low, close, volume)
-- # AAA: 40 trading days from Mon 2026-01-05, none on the holidays 01-19 and 02-16
-- for i, d in enumerate(weekdays(dt.date(2026, 1, 5), 40,
--                                {dt.date(2026, 1, 19), dt.date(2026, 2, 16)}), 1):
--     c = round(100 + 8 * math.sin(0.7 * i) + 0.3 * i, 2)
--     hi, lo = round(c + 0.5 + 0.25 * (i % 4), 2), round(c - 0.4 - 0.3 * (i % 3), 2)
--     vol = 1000000 + (i * 7919 % 50000) * 10
--     if i == 37: hi = lo = None      # a bar without high and low
--     if i == 33: vol = None          # a bar without volume
--     bars.append(('AAA', d, hi, lo, c, vol))
-- # BBB: 3 bars only, across a weekend
-- for d, c, v in [(dt.date(2026, 2, 26), 50.0, 1000), (dt.date(2026, 2, 27), 52.5, 3000),
--                 (dt.date(2026, 3, 2), 49.75, 2000)]:
--     bars.append(('BBB', d, c + 1, c - 1, c, v))
-- # CCC: an arithmetic series, 25 weekdays from Mon 2026-01-26 (no holidays skipped)
-- for i, d in enumerate(weekdays(dt.date(2026, 1, 26), 25), 1):
--     c = 20 + 0.5 * i
--     bars.append(('CCC', d, c + 1, c - 1, c, 1000 * i))
-- # DDD: 2 old bars with nothing but a close
-- bars += [('DDD', dt.date(2025, 12, 18), None, None, 10.0, None),
--          ('DDD', dt.date(2025, 12, 19), None, None, 11.0, None)]
--
-- def metrics(sym, as_of):
--     w = sorted((b for b in bars if b[0] == sym and b[1] <= as_of), key=lambda b: b[1])[-30:]
--     if not w:
--         return None
--     c = [b[4] for b in w]
--     n = len(c)
--     rets = [math.log(c[k] / c[k - 1]) for k in range(1, n)]
--     hi = [b[2] for b in w if b[2] is not None]
--     lo = [b[3] for b in w if b[3] is not None]
--     vol = [b[5] for b in w if b[5] is not None]
--     mean = lambda xs: math.fsum(xs) / len(xs)
--     r = c[-1] / c[0] - 1
--     return (n, w[0][1], w[-1][1]), dict(
--         last_close=c[-1], first_close=c[0], change=c[-1] - c[0], change_pct=100 * r,
--         avg_close=mean(c), min_close=min(c), max_close=max(c),
--         highest_high=max(hi) if hi else None, lowest_low=min(lo) if lo else None,
--         avg_volume=mean(vol) if vol else None,
--         volatility=st.stdev(rets) * math.sqrt(252) if len(rets) >= 2 else None,
--         sma_5=mean(c[-5:]) if n >= 5 else None, sma_10=mean(c[-10:]) if n >= 10 else None,
--         sma_20=mean(c[-20:]) if n >= 20 else None, return_30d=r)
--
-- sql = lambda v: 'NULL' if v is None else repr(v)
-- print(',\n'.join("  ('%s', '%s', %s, %s, %s, %s)" % (b[0], b[1], sql(b[2]), sql(b[3]), sql(b[4]), sql(b[5]))
--                  for b in bars) + ';')
-- dates, vals = [], []
-- for as_of in (dt.date(2026, 2, 16), dt.date(2026, 3, 7)):
--     for sym in ('AAA', 'BBB', 'CCC', 'DDD'):
--         m = metrics(sym, as_of)
--         if m:
--             dates.append("  ('%s', '%s', %d, '%s', '%s')" % ((sym, as_of) + m[0]))
--             vals += ["  ('%s', '%s', '%s', %s)" % (sym, as_of, k, sql(v)) for k, v in m[1].items()]
-- print(',\n'.join(dates) + ';')
-- print(',\n'.join(vals) + ';')
--
INSERT INTO stockpipe.historical_stock_data (symbol, trade_date, high, low, close, volume) VALUES
  ('AAA', '2026-01-05', 106.2, 104.75, 105.45, 1079190),
  ('AAA', '2026-01-06', 109.48, 107.48, 108.48, 1158380),
  ('AAA', '2026-01-07', 109.06, 107.41, 107.81, 1237570),
  ('AAA', '2026-01-08', 104.38, 103.18, 103.88, 1316760),
  ('AAA', '2026-01-09', 99.44, 97.69, 98.69, 1395950),
  ('AAA', '2026-01-12', 95.83, 94.43, 94.83, 1475140),
  ('AAA', '2026-01-13', 95.49, 93.54, 94.24, 1054330),
  ('AAA', '2026-01-14', 97.85, 96.35, 97.35, 1133520),
  ('AAA', '2026-01-15', 103.58, 102.43, 102.83, 1212710),
  ('AAA', '2026-01-16', 109.26, 107.56, 108.26, 1291900),
  ('AAA', '2026-01-20', 112.46, 110.21, 111.21, 1371090),
  ('AAA', '2026-01-21', 110.94, 110.04, 110.44, 1450280),
  ('AAA', '2026-01-22', 107.2, 105.75, 106.45, 1029470),
  ('AAA', '2026-01-23', 102.27, 100.27, 101.27, 1108660),
  ('AAA', '2026-01-26', 98.71, 97.06, 97.46, 1187850),
  ('AAA', '2026-01-27', 97.47, 96.27, 96.97, 1267040),
  ('AAA', '2026-01-28', 100.9, 99.15, 100.15, 1346230),
  ('AAA', '2026-01-29', 106.67, 105.27, 105.67, 1425420),
  ('AAA', '2026-01-30', 112.31, 110.36, 111.06, 1004610),
  ('AAA', '2026-02-02', 114.42, 112.92, 113.92, 1083800),
  ('AAA', '2026-02-03', 113.82, 112.67, 113.07, 1162990),
  ('AAA', '2026-02-04', 110.02, 108.32, 109.02, 1242180),
  ('AAA', '2026-02-05', 105.09, 102.84, 103.84, 1321370),
  ('AAA', '2026-02-06', 100.6, 99.7, 100.1, 1400560),
  ('AAA', '2026-02-09', 100.44, 98.99, 99.69, 1479750),
  ('AAA', '2026-02-10', 103.96, 101.96, 102.96, 1058940),
  ('AAA', '2026-02-11', 109.75, 108.1, 108.5, 1138130),
  ('AAA', '2026-02-12', 114.36, 113.16, 113.86, 1217320),
  ('AAA', '2026-02-13', 117.39, 115.64, 116.64, 1296510),
  ('AAA', '2026-02-17', 116.69, 115.29, 115.69, 1375700),
  ('AAA', '2026-02-18', 112.85, 110.9, 111.6, 1454890),
  ('AAA', '2026-02-19', 106.92, 105.42, 106.42, 1034080),
  ('AAA', '2026-02-20', 103.49, 102.34, 102.74, NULL),
  ('AAA', '2026-02-23', 103.43, 101.73, 102.43, 1192460),
  ('AAA', '2026-02-24', 107.02, 104.77, 105.77, 1271650),
  ('AAA', '2026-02-25', 111.84, 110.94, 111.34, 1350840),
  ('AAA', '2026-02-26', NULL, NULL, 116.65, 1430030),
  ('AAA', '2026-02-27', 120.36, 118.36, 119.36, 1009220),
  ('AAA', '2026-03-02', 119.57, 117.92, 118.32, 1088410),
  ('AAA', '2026-03-03', 114.67, 113.47, 114.17, 1167600),
  ('BBB', '2026-02-26', 51.0, 49.0, 50.0, 1000),
  ('BBB', '2026-02-27', 53.5, 51.5, 52.5, 3000),
  ('BBB', '2026-03-02', 50.75, 48.75, 49.75, 2000),
  ('CCC', '2026-01-26', 21.5, 19.5, 20.5, 1000),
  ('CCC', '2026-01-27', 22.0, 20.0, 21.0, 2000),
  ('CCC', '2026-01-28', 22.5, 20.5, 21.5, 3000),
  ('CCC', '2026-01-29', 23.0, 21.0, 22.0, 4000),
  ('CCC', '2026-01-30', 23.5, 21.5, 22.5, 5000),
  ('CCC', '2026-02-02', 24.0, 22.0, 23.0, 6000),
  ('CCC', '2026-02-03', 24.5, 22.5, 23.5, 7000),
  ('CCC', '2026-02-04', 25.0, 23.0, 24.0, 8000),
  ('CCC', '2026-02-05', 25.5, 23.5, 24.5, 9000),
  ('CCC', '2026-02-06', 26.0, 24.0, 25.0, 10000),
  ('CCC', '2026-02-09', 26.5, 24.5, 25.5, 11000),
  ('CCC', '2026-02-10', 27.0, 25.0, 26.0, 12000),
  ('CCC', '2026-02-11', 27.5, 25.5, 26.5, 13000),
  ('CCC', '2026-02-12', 28.0, 26.0, 27.0, 14000),
  ('CCC', '2026-02-13', 28.5, 26.5, 27.5, 15000),
  ('CCC', '2026-02-16', 29.0, 27.0, 28.0, 16000),
  ('CCC', '2026-02-17', 29.5, 27.5, 28.5, 17000),
  ('CCC', '2026-02-18', 30.0, 28.0, 29.0, 18000),
  ('CCC', '2026-02-19', 30.5, 28.5, 29.5, 19000),
  ('CCC', '2026-02-20', 31.0, 29.0, 30.0, 20000),
  ('CCC', '2026-02-23', 31.5, 29.5, 30.5, 21000),
  ('CCC', '2026-02-24', 32.0, 30.0, 31.0, 22000),
  ('CCC', '2026-02-25', 32.5, 30.5, 31.5, 23000),
  ('CCC', '2026-02-26', 33.0, 31.0, 32.0, 24000),
  ('CCC', '2026-02-27', 33.5, 31.5, 32.5, 25000),
  ('DDD', '2025-12-18', NULL, NULL, 10.0, NULL),
  ('DDD', '2025-12-19', NULL, NULL, 11.0, NULL);

CREATE TEMP TABLE expected_window (symbol text, as_of date, days_used int, window_start date, window_end date);
INSERT INTO expected_window VALUES
  ('AAA', '2026-02-16', 29, '2026-01-05', '2026-02-13'),
  ('CCC', '2026-02-16', 16, '2026-01-26', '2026-02-16'),
  ('DDD', '2026-02-16', 2, '2025-12-18', '2025-12-19'),
  ('AAA', '2026-03-07', 30, '2026-01-20', '2026-03-03'),
  ('BBB', '2026-03-07', 3, '2026-02-26', '2026-03-02'),
  ('CCC', '2026-03-07', 25, '2026-01-26', '2026-02-27'),
  ('DDD', '2026-03-07', 2, '2025-12-18', '2025-12-19');

CREATE TEMP TABLE expected_metric (symbol text, as_of date, metric text, value double precision);
INSERT INTO expected_metric VALUES
  ('AAA', '2026-02-16', 'last_close', 116.64),
  ('AAA', '2026-02-16', 'first_close', 105.45),
  ('AAA', '2026-02-16', 'change', 11.189999999999998),
  ('AAA', '2026-02-16', 'change_pct', 10.611664295874812),
  ('AAA', '2026-02-16', 'avg_close', 104.96896551724137),
  ('AAA', '2026-02-16', 'min_close', 94.24),
  ('AAA', '2026-02-16', 'max_close', 116.64),
  ('AAA', '2026-02-16', 'highest_high', 117.39),
  ('AAA', '2026-02-16', 'lowest_low', 93.54),
  ('AAA', '2026-02-16', 'avg_volume', 1239574.1379310344),
  ('AAA', '2026-02-16', 'volatility', 0.5938163265251934),
  ('AAA', '2026-02-16', 'sma_5', 108.33),
  ('AAA', '2026-02-16', 'sma_10', 108.16),
  ('AAA', '2026-02-16', 'sma_20', 106.527),
  ('AAA', '2026-02-16', 'return_30d', 0.10611664295874812),
  ('CCC', '2026-02-16', 'last_close', 28.0),
  ('CCC', '2026-02-16', 'first_close', 20.5),
  ('CCC', '2026-02-16', 'change', 7.5),
  ('CCC', '2026-02-16', 'change_pct', 36.585365853658544),
  ('CCC', '2026-02-16', 'avg_close', 24.25),
  ('CCC', '2026-02-16', 'min_close', 20.5),
  ('CCC', '2026-02-16', 'max_close', 28.0),
  ('CCC', '2026-02-16', 'highest_high', 29.0),
  ('CCC', '2026-02-16', 'lowest_low', 19.5),
  ('CCC', '2026-02-16', 'avg_volume', 8500.0),
  ('CCC', '2026-02-16', 'volatility', 0.030717608210280592),
  ('CCC', '2026-02-16', 'sma_5', 27.0),
  ('CCC', '2026-02-16', 'sma_10', 25.75),
  ('CCC', '2026-02-16', 'sma_20', NULL),
  ('CCC', '2026-02-16', 'return_30d', 0.36585365853658547),
  ('DDD', '2026-02-16', 'last_close', 11.0),
  ('DDD', '2026-02-16', 'first_close', 10.0),
  ('DDD', '2026-02-16', 'change', 1.0),
  ('DDD', '2026-02-16', 'change_pct', 10.000000000000009),
  ('DDD', '2026-02-16', 'avg_close', 10.5),
  ('DDD', '2026-02-16', 'min_close', 10.0),
  ('DDD', '2026-02-16', 'max_close', 11.0),
  ('DDD', '2026-02-16', 'highest_high', NULL),
  ('DDD', '2026-02-16', 'lowest_low', NULL),
  ('DDD', '2026-02-16', 'avg_volume', NULL),
  ('DDD', '2026-02-16', 'volatility', NULL),
  ('DDD', '2026-02-16', 'sma_5', NULL),
  ('DDD', '2026-02-16', 'sma_10', NULL),
  ('DDD', '2026-02-16', 'sma_20', NULL),
  ('DDD', '2026-02-16', 'return_30d', 0.10000000000000009),
  ('AAA', '2026-03-07', 'last_close', 114.17),
  ('AAA', '2026-03-07', 'first_close', 111.21),
  ('AAA', '2026-03-07', 'change', 2.960000000000008),
  ('AAA', '2026-03-07', 'change_pct', 2.661631148278043),
  ('AAA', '2026-03-07', 'avg_close', 108.22566666666667),
  ('AAA', '2026-03-07', 'min_close', 96.97),
  ('AAA', '2026-03-07', 'max_close', 119.36),
  ('AAA', '2026-03-07', 'highest_high', 120.36),
  ('AAA', '2026-03-07', 'lowest_low', 96.27),
  ('AAA', '2026-03-07', 'avg_volume', 1240244.1379310344),
  ('AAA', '2026-03-07', 'volatility', 0.5755011326300026),
  ('AAA', '2026-03-07', 'sma_5', 115.968),
  ('AAA', '2026-03-07', 'sma_10', 110.88),
  ('AAA', '2026-03-07', 'sma_20', 109.6085),
  ('AAA', '2026-03-07', 'return_30d', 0.02661631148278043),
  ('BBB', '2026-03-07', 'last_close', 49.75),
  ('BBB', '2026-03-07', 'first_close', 50.0),
  ('BBB', '2026-03-07', 'change', -0.25),
  ('BBB', '2026-03-07', 'change_pct', -0.5000000000000004),
  ('BBB', '2026-03-07', 'avg_close', 50.75),
  ('BBB', '2026-03-07', 'min_close', 49.75),
  ('BBB', '2026-03-07', 'max_close', 52.5),
  ('BBB', '2026-03-07', 'highest_high', 53.5),
  ('BBB', '2026-03-07', 'lowest_low', 48.75),
  ('BBB', '2026-03-07', 'avg_volume', 2000.0),
  ('BBB', '2026-03-07', 'volatility', 1.1516021114205457),
  ('BBB', '2026-03-07', 'sma_5', NULL),
  ('BBB', '2026-03-07', 'sma_10', NULL),
  ('BBB', '2026-03-07', 'sma_20', NULL),
  ('BBB', '2026-03-07', 'return_30d', -0.0050000000000000044),
  ('CCC', '2026-03-07', 'last_close', 32.5),
  ('CCC', '2026-03-07', 'first_close', 20.5),
  ('CCC', '2026-03-07', 'change', 12.0),
  ('CCC', '2026-03-07', 'change_pct', 58.53658536585367),
  ('CCC', '2026-03-07', 'avg_close', 26.5),
  ('CCC', '2026-03-07', 'min_close', 20.5),
  ('CCC', '2026-03-07', 'max_close', 32.5),
  ('CCC', '2026-03-07', 'highest_high', 33.5),
  ('CCC', '2026-03-07', 'lowest_low', 19.5),
  ('CCC', '2026-03-07', 'avg_volume', 13000.0),
  ('CCC', '2026-03-07', 'volatility', 0.04152552111385051),
  ('CCC', '2026-03-07', 'sma_5', 31.5),
  ('CCC', '2026-03-07', 'sma_10', 30.25),
  ('CCC', '2026-03-07', 'sma_20', 27.75),
  ('CCC', '2026-03-07', 'return_30d', 0.5853658536585367),
  ('DDD', '2026-03-07', 'last_close', 11.0),
  ('DDD', '2026-03-07', 'first_close', 10.0),
  ('DDD', '2026-03-07', 'change', 1.0),
  ('DDD', '2026-03-07', 'change_pct', 10.000000000000009),
  ('DDD', '2026-03-07', 'avg_close', 10.5),
  ('DDD', '2026-03-07', 'min_close', 10.0),
  ('DDD', '2026-03-07', 'max_close', 11.0),
  ('DDD', '2026-03-07', 'highest_high', NULL),
  ('DDD', '2026-03-07', 'lowest_low', NULL),
  ('DDD', '2026-03-07', 'avg_volume', NULL),
  ('DDD', '2026-03-07', 'volatility', NULL),
  ('DDD', '2026-03-07', 'sma_5', NULL),
  ('DDD', '2026-03-07', 'sma_10', NULL),
  ('DDD', '2026-03-07', 'sma_20', NULL),
  ('DDD', '2026-03-07', 'return_30d', 0.10000000000000009);

-- A view of l30d_summary with one row per metric.
CREATE TEMP VIEW got_metric AS
SELECT s.symbol, s.as_of, v.metric, v.value
  FROM stockpipe.l30d_summary s
 CROSS JOIN LATERAL (VALUES
	('last_close', s.last_close), ('first_close', s.first_close),
	('change', s.change), ('change_pct', s.change_pct),
	('avg_close', s.avg_close), ('min_close', s.min_close), ('max_close', s.max_close),
	('highest_high', s.highest_high), ('lowest_low', s.lowest_low),
	('avg_volume', s.avg_volume), ('volatility', s.volatility),
	('sma_5', s.sma_5), ('sma_10', s.sma_10), ('sma_20', s.sma_20),
	('return_30d', s.return_30d)) AS v(metric, value);

-- Every expected metric against the computed one: equal within 1e-9 relative
-- (float sums in another order differ in the last bits), NULL where expected.
CREATE TEMP VIEW metric_check AS
SELECT coalesce(e.symbol, g.symbol) AS symbol, coalesce(e.as_of, g.as_of) AS as_of,
	   coalesce(e.metric, g.metric) AS metric,
	   round(g.value::numeric, 6) AS got,
	   CASE WHEN e.symbol IS NULL OR g.symbol IS NULL THEN false
			WHEN e.value IS NULL OR g.value IS NULL THEN e.value IS NULL AND g.value IS NULL
			ELSE abs(g.value - e.value) <= 1e-9 * greatest(1, abs(e.value)) END AS ok
  FROM expected_metric e
  FULL JOIN got_metric g USING (symbol, as_of, metric);

--
-- A holiday (Mon 2026-02-16: AAA has no bar, CCC has one) in the middle of the
-- data: AAA's window ends on the Friday before, CCC's on as_of itself; BBB has
-- no bar yet and gets no row.  Then a Saturday after the last bars: AAA's 40
-- days are cut to the 30 most recent.
--
SELECT stockpipe.refresh_l30d('2026-02-16');
SELECT stockpipe.refresh_l30d('2026-03-07');

-- Windows: days used (fewer than 30 for short histories), first and last day.
SELECT coalesce(e.symbol, s.symbol) AS symbol, coalesce(e.as_of, s.as_of) AS as_of,
	   s.days_used, s.window_start, s.window_end,
	   (s.days_used, s.window_start, s.window_end)
		 IS NOT DISTINCT FROM (e.days_used, e.window_start, e.window_end) AS ok
  FROM expected_window e
  FULL JOIN stockpipe.l30d_summary s USING (symbol, as_of)
 ORDER BY 2, 1;

-- Every metric of every row.
SELECT * FROM metric_check ORDER BY as_of, symbol, metric;

-- change_pct is return_30d in percent, and the return compounds the daily log
-- returns that the volatility is made of.
SELECT symbol, as_of,
	   change_pct = 100 * return_30d AS pct_is_100x_return,
	   change = last_close - first_close AS change_is_difference,
	   abs(ln(1 + return_30d) - (
		 SELECT sum(ln(close / prev))
		   FROM (SELECT close, lag(close) OVER (ORDER BY trade_date) AS prev
				   FROM stockpipe.historical_stock_data h
				  WHERE h.symbol = s.symbol AND h.trade_date BETWEEN s.window_start AND s.window_end) r))
		 < 1e-12 AS return_is_sum_of_log_returns
  FROM stockpipe.l30d_summary s
 ORDER BY 2, 1;

-- History: one row per (symbol, as_of), both as-of dates kept.
SELECT symbol, count(*) AS rows, array_agg(as_of ORDER BY as_of) AS as_of
  FROM stockpipe.l30d_summary GROUP BY symbol ORDER BY symbol;

--
-- Idempotent: a rerun gives the same rows with the same values (only
-- computed_at moves).
--
CREATE TEMP TABLE first_run AS SELECT * FROM stockpipe.l30d_summary;
SELECT stockpipe.refresh_l30d('2026-02-16');
SELECT stockpipe.refresh_l30d('2026-03-07');
SELECT (SELECT count(*) FROM stockpipe.l30d_summary) AS rows,
	   (SELECT count(*) FROM (
		  SELECT symbol, as_of, days_used, window_start, window_end, last_close, first_close,
				 change, change_pct, avg_close, min_close, max_close, highest_high, lowest_low,
				 avg_volume, volatility, sma_5, sma_10, sma_20, return_30d
			FROM first_run
		  EXCEPT
		  SELECT symbol, as_of, days_used, window_start, window_end, last_close, first_close,
				 change, change_pct, avg_close, min_close, max_close, highest_high, lowest_low,
				 avg_volume, volatility, sma_5, sma_10, sma_20, return_30d
			FROM stockpipe.l30d_summary) d) AS changed_rows;
SELECT count(*) AS failed_checks FROM metric_check WHERE NOT ok;

--
-- A rerun picks up revised bars (a later bar replaces a day's bar) and
-- forgets symbols that have no bar <= as_of any more; other as-of dates keep
-- their rows.
--
UPDATE stockpipe.historical_stock_data SET close = 120 WHERE symbol = 'AAA' AND trade_date = '2026-03-03';
DELETE FROM stockpipe.historical_stock_data WHERE symbol = 'DDD';
SELECT stockpipe.refresh_l30d('2026-03-07');
SELECT symbol, as_of, round(last_close::numeric, 6) AS last_close, round(change::numeric, 6) AS change,
	   round(change_pct::numeric, 6) AS change_pct, round(sma_5::numeric, 6) AS sma_5
  FROM stockpipe.l30d_summary ORDER BY as_of, symbol;
-- The new values: change 120 - 111.21, sma_5 (116.65 + 119.36 + 118.32 + 120 + 111.34) / 5.
SELECT abs(change - (120 - 111.21)) < 1e-9 AS change_ok,
	   abs(change_pct - 100 * (120 / 111.21 - 1)) < 1e-9 AS change_pct_ok,
	   abs(sma_5 - (116.65 + 119.36 + 118.32 + 120 + 111.34) / 5) < 1e-9 AS sma_5_ok
  FROM stockpipe.l30d_summary WHERE symbol = 'AAA' AND as_of = '2026-03-07';

-- Before any bar: no symbol, no row.
SELECT stockpipe.refresh_l30d('2025-01-01');
SELECT count(*) FROM stockpipe.l30d_summary WHERE as_of = '2025-01-01';

-- The default as_of is the market's date (stockpipe.market_timezone,
-- New York), whatever the session's time zone: the same as the built-in
-- job's and the event-triggered refresh's.
SET timezone = 'Asia/Tokyo';
SELECT stockpipe.refresh_l30d() = (SELECT count(DISTINCT symbol) FROM stockpipe.historical_stock_data
									WHERE trade_date <= stockpipe.market_date()) AS default_is_market_date;
SELECT (SELECT count(*) FROM stockpipe.l30d_summary WHERE as_of = stockpipe.market_date())
	   = (SELECT count(DISTINCT symbol) FROM stockpipe.historical_stock_data
		   WHERE trade_date <= stockpipe.market_date()) AS rows_for_market_date;
SELECT count(DISTINCT as_of) AS one_as_of FROM stockpipe.l30d_summary WHERE as_of > '2026-03-07';
-- NULL means the default too.
SELECT stockpipe.refresh_l30d(NULL) = stockpipe.refresh_l30d() AS null_is_default;
DELETE FROM stockpipe.l30d_summary WHERE as_of = stockpipe.market_date();
RESET timezone;
-- market_date() on both sides of midnight UTC and of midnight in New York,
-- in winter and in summer time: the clock of the test run does not matter.
SELECT t, stockpipe.market_date(t)
  FROM (VALUES ('2026-12-01 23:59:59+00'::timestamptz), ('2026-12-02 00:00:00+00'),
			   ('2026-12-02 04:59:59+00'), ('2026-12-02 05:00:00+00'),
			   ('2026-07-02 03:59:59+00'), ('2026-07-02 04:00:00+00')) v(t);

-- A bad as_of is an error with a SQLSTATE, and changes nothing.
\set VERBOSITY sqlstate
SELECT stockpipe.refresh_l30d('infinity');
\set VERBOSITY default
SELECT count(*) FROM stockpipe.l30d_summary;

-- It runs with the caller's rights, and pg_dump keeps the table's rows when it
-- is part of the extension.
SELECT prosecdef FROM pg_proc WHERE oid = 'stockpipe.refresh_l30d(date)'::regprocedure;
SELECT 'stockpipe.l30d_summary'::regclass = ANY (extconfig) AS dumped
  FROM pg_extension WHERE extname = 'stockpipe';

-- Leave nothing behind for the next tests.
DROP VIEW metric_check, got_metric;
DROP EXTENSION stockpipe;
