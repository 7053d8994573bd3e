/*
 * queries.h: the SQL of stockpipe-dash.  Every query is a constant string
 * with $n parameters, run with PQexecParams; nothing is built from a
 * request.  Each returns one row, one column: the JSON body
 * (DASH_Q_CHANGES, the database thread's, returns two).
 *
 * The queries read only the reporting views of schema stockpipe_bi
 * (sql/bi.sql), so the dashboard's login needs only the stockpipe_reader
 * role: no grant on stockpipe.*, no BYPASSRLS (the views run with their
 * owner's rights).  What the views lack (sparklines, moving averages) is
 * computed here from them.
 */
#ifndef DASH_QUERIES_H
#define DASH_QUERIES_H

/*
 * One quote as the page wants it (alias q: a row of
 * stockpipe_bi.fact_latest_quote, or of a CTE with its columns; sp: the
 * sparkline of DASH_Q_QUOTE_SPARKLINE): day change against the previous
 * close (the view's prev_close: the quote's own, or the last daily close
 * before the quote's market date when the quote has none).
 */
#define DASH_Q_QUOTE_JSON \
"json_build_object(" \
"  'symbol', q.symbol, 'ts', q.ts, 'price', q.price, 'volume', q.volume," \
"  'currency', q.currency, 'prev_close', q.prev_close," \
"  'change', q.price - q.prev_close," \
"  'change_pct', CASE WHEN q.prev_close > 0 THEN (q.price / q.prev_close - 1) * 100 END," \
"  'spark', sp.prices)"

/*
 * The sparkline of quote q: the last price of each minute of the two hours
 * up to the quote, from fact_intraday (the ts range prunes its day
 * partitions at run time).
 */
#define DASH_Q_QUOTE_SPARKLINE \
" CROSS JOIN LATERAL (SELECT json_agg(p ORDER BY b) AS prices FROM (" \
"   SELECT date_bin('1 minute', i.ts, timestamptz 'epoch') AS b, (array_agg(i.price ORDER BY i.ts DESC))[1] AS p" \
"   FROM stockpipe_bi.fact_intraday i" \
"   WHERE i.symbol = q.symbol AND i.ts > q.ts - interval '2 hours' AND i.ts <= q.ts" \
"   GROUP BY 1) m) sp"

/*
 * Latest quote of every symbol, with its sparkline (/api/symbols).  The
 * view enumerates its symbols with loose index scans of the primary keys
 * (stockpipe.bi_symbols: symbols with daily bars or a quote in the last 7
 * days), one index probe per symbol, not a scan.
 */
#define DASH_Q_QUOTES \
"SELECT coalesce(json_agg(" DASH_Q_QUOTE_JSON " ORDER BY q.symbol), '[]')::text" \
" FROM stockpipe_bi.fact_latest_quote q" DASH_Q_QUOTE_SPARKLINE

/*
 * What changed since the last refresh, for the event stream.  A NOTIFY on
 * stockpipe_live only wakes the dashboard up (any role may send one, with
 * any payload): what it pushes comes from here, never from the payload.
 *
 * $1 (jsonb) is the state the previous call returned: {symbol: ts of its
 * latest quote}, NULL at first; $2 (boolean) whether to build the changes.
 * Returns two columns: changed_quotes, the quotes (shaped as DASH_Q_QUOTES)
 * whose latest ts differs from $1's, NULL when none or when $2 is false;
 * and latest_ts, the new state to pass next time.  Comparing each symbol's
 * latest ts, rather than keeping one high-water mark, also catches a quote
 * that arrives late with an older ts than another symbol's.  The state
 * goes back and forth as text, so the server keeps no per-symbol table.
 */
#define DASH_Q_CHANGES \
"WITH latest AS MATERIALIZED (" \
"  SELECT symbol, ts, price, volume, currency, prev_close FROM stockpipe_bi.fact_latest_quote)," \
" q AS (SELECT l.* FROM latest l" \
"  WHERE $2::boolean AND l.ts IS DISTINCT FROM ($1::jsonb ->> l.symbol)::timestamptz)" \
"SELECT (SELECT json_agg(" DASH_Q_QUOTE_JSON " ORDER BY q.symbol) FROM q" DASH_Q_QUOTE_SPARKLINE ")::text AS changed_quotes," \
" (SELECT coalesce(jsonb_object_agg(symbol, ts), '{}') FROM latest)::text AS latest_ts"

/* Does the symbol exist (a live quote or a daily bar)?  $1 symbol. */
#define DASH_Q_SYMBOL_EXISTS \
"SELECT EXISTS (SELECT 1 FROM stockpipe_bi.fact_intraday WHERE symbol = $1)" \
"    OR EXISTS (SELECT 1 FROM stockpipe_bi.fact_daily WHERE symbol = $1)"

/*
 * Intraday range: $1 symbol, $2 from, $3 to (timestamptz text, NULL for the
 * default: the UTC day of the latest quote, up to it).  Answers "FROM|TO",
 * "none" when the symbol has no quotes, "bad" when from >= to or the range
 * exceeds 31 days.
 */
#define DASH_Q_INTRADAY_RANGE \
"WITH lim AS (SELECT coalesce($3::timestamptz, (SELECT max(ts) FROM stockpipe_bi.fact_intraday WHERE symbol = $1)) AS t_to)," \
" r AS (SELECT coalesce($2::timestamptz, date_trunc('day', t_to AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS t_from, t_to FROM lim)" \
"SELECT CASE WHEN t_to IS NULL THEN 'none'" \
"  WHEN t_from >= t_to OR t_to - t_from > interval '31 days' THEN 'bad'" \
"  ELSE t_from::text || '|' || t_to::text END FROM r"

/*
 * Intraday series: $1 symbol, $2 from, $3 to (as DASH_Q_INTRADAY_RANGE gave
 * them: parameters, so that only the partitions in range are read).  Last
 * price and volume per second, or per minute when the range exceeds a day.
 */
#define DASH_Q_INTRADAY \
"SELECT json_build_object('symbol', $1::text, 'from', $2::timestamptz, 'to', $3::timestamptz," \
"  'points', coalesce((SELECT json_agg(json_build_object('t', extract(epoch FROM b)::bigint, 'p', p, 'v', v) ORDER BY b)" \
"   FROM (SELECT date_bin(CASE WHEN $3::timestamptz - $2::timestamptz > interval '1 day'" \
"                              THEN interval '1 minute' ELSE interval '1 second' END, ts, timestamptz 'epoch') AS b," \
"                (array_agg(price ORDER BY ts DESC))[1] AS p, (array_agg(volume ORDER BY ts DESC))[1] AS v" \
"         FROM stockpipe_bi.fact_intraday" \
"         WHERE symbol = $1 AND ts >= $2::timestamptz AND ts <= $3::timestamptz GROUP BY 1) x), '[]'))::text"

/*
 * Daily bars of the last 400 days with 5/10/20-day simple moving averages
 * (NULL until enough bars; computed here, fact_daily has none), and the
 * latest L30D summary row (fact_l30d).  $1 symbol.
 */
#define DASH_Q_DAILY \
"SELECT json_build_object('symbol', $1::text," \
" 'bars', coalesce((SELECT json_agg(json_build_object('date', trade_date, 'open', open, 'high', high," \
"     'low', low, 'close', close, 'volume', volume, 'sma5', sma5, 'sma10', sma10, 'sma20', sma20) ORDER BY trade_date)" \
"   FROM (SELECT trade_date, open, high, low, close, volume," \
"     CASE WHEN count(*) OVER w5 = 5 THEN avg(close) OVER w5 END AS sma5," \
"     CASE WHEN count(*) OVER w10 = 10 THEN avg(close) OVER w10 END AS sma10," \
"     CASE WHEN count(*) OVER w20 = 20 THEN avg(close) OVER w20 END AS sma20" \
"     FROM stockpipe_bi.fact_daily WHERE symbol = $1 AND trade_date > current_date - 400" \
"     WINDOW w5 AS (ORDER BY trade_date ROWS 4 PRECEDING), w10 AS (ORDER BY trade_date ROWS 9 PRECEDING)," \
"            w20 AS (ORDER BY trade_date ROWS 19 PRECEDING)) b), '[]')," \
" 'l30d', (SELECT row_to_json(s) FROM (SELECT as_of, days_used, window_start, window_end, last_close, change," \
"     change_pct, avg_close, min_close, max_close, highest_high, lowest_low, avg_volume, volatility," \
"     sma_5, sma_10, sma_20, return_30d, computed_at" \
"     FROM stockpipe_bi.fact_l30d WHERE symbol = $1 ORDER BY as_of DESC LIMIT 1) s))::text"

/*
 * The 50 most recent alert firings of every owner (fired_alerts shows all:
 * the view runs with its owner's rights), without owners or e-mail
 * addresses.
 */
#define DASH_Q_ALERTS \
"SELECT coalesce(json_agg(json_build_object('id', eventid, 'symbol', symbol, 'condition', condition," \
"  'threshold', threshold, 'price', price, 'quote_ts', quote_ts, 'change_pct', change_pct," \
"  'created_at', created_at, 'status', status) ORDER BY eventid DESC), '[]')::text" \
" FROM (SELECT eventid, symbol, condition, threshold, price, quote_ts, change_pct, fired_at AS created_at, status" \
"       FROM stockpipe_bi.fired_alerts ORDER BY eventid DESC LIMIT 50) e"

#endif
