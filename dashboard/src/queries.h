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
 * Run once per session (db.c): the names of pg_timezone_names, as a jsonb
 * object {name: 1}, into the session variable stockpipe_dash.zones.  A
 * quote's exchange_tz comes from the feed: it is used as a zone only when
 * it is one of these names (an unknown name in AT TIME ZONE would fail the
 * whole query, and the string is never trusted as it is).  Reading
 * pg_timezone_names takes ~70 ms (PostgreSQL walks the zone files), too
 * slow for every refresh; looking a name up in a jsonb object is a binary
 * search.
 */
#define DASH_Q_SESSION_ZONES \
"SELECT set_config('stockpipe_dash.zones'," \
" (SELECT jsonb_object_agg(name, 1)::text FROM pg_catalog.pg_timezone_names), false)"

/* The known zones (an InitPlan: parsed once per query, not per row). */
#define DASH_Q_KNOWN_ZONES "(SELECT current_setting('stockpipe_dash.zones', true)::jsonb)"
/* The market's zone, as the stockpipe_bi views take it. */
#define DASH_Q_MARKET_ZONE \
"coalesce(nullif(current_setting('stockpipe.market_timezone', true), ''), 'America/New_York')"

/*
 * The zone quote q is shown in (alias tz; qj is the quote as jsonb): its
 * exchange_tz when PostgreSQL knows that zone, else
 * stockpipe.market_timezone (when known), else UTC.  exchange_tz and
 * session are read from to_jsonb(q): fact_latest_quote does not carry
 * them yet, so they are NULL until the view does (then they are used with
 * no change here).
 */
#define DASH_Q_QUOTE_ZONE \
" CROSS JOIN LATERAL (SELECT to_jsonb(q) AS j) qj" \
" CROSS JOIN LATERAL (SELECT CASE" \
"   WHEN " DASH_Q_KNOWN_ZONES " ? (qj.j ->> 'exchange_tz') THEN qj.j ->> 'exchange_tz'" \
"   WHEN " DASH_Q_KNOWN_ZONES " ? " DASH_Q_MARKET_ZONE " THEN " DASH_Q_MARKET_ZONE \
"   ELSE 'UTC' END AS name) tz"

/*
 * One quote as the page wants it (alias q: a row of
 * stockpipe_bi.fact_latest_quote, or of a CTE with its columns; sp: the
 * sparkline of DASH_Q_QUOTE_SPARKLINE; qj, tz: DASH_Q_QUOTE_ZONE): day
 * change against the previous close (the view's prev_close: the quote's
 * own, or the last daily close before the quote's market date when the
 * quote has none); where it comes from (source: yahoo, replay, sim); the
 * trading period (session: pre, regular, post, or NULL when the feed does
 * not say; any other value is dropped); the quote's wall-clock time in
 * zone tz (local_time, and utc_offset in seconds at that instant; tz_from:
 * exchange, market, or unknown when exchange_tz is a name PostgreSQL does
 * not know); the server's clock (now), so that the page's data age does
 * not depend on the browser's clock.
 */
#define DASH_Q_QUOTE_JSON \
"json_build_object(" \
"  'symbol', q.symbol, 'ts', q.ts, 'price', q.price, 'volume', q.volume," \
"  'currency', q.currency, 'prev_close', q.prev_close," \
"  'change', q.price - q.prev_close," \
"  'change_pct', CASE WHEN q.prev_close > 0 THEN (q.price / q.prev_close - 1) * 100 END," \
"  'spark', sp.prices, 'source', q.source," \
"  'session', CASE WHEN qj.j ->> 'session' IN ('pre', 'regular', 'post') THEN qj.j ->> 'session' END," \
"  'tz', tz.name," \
"  'tz_from', CASE WHEN tz.name = qj.j ->> 'exchange_tz' THEN 'exchange'" \
"                  WHEN qj.j ->> 'exchange_tz' IS NOT NULL THEN 'unknown' ELSE 'market' END," \
"  'local_time', to_char(q.ts AT TIME ZONE tz.name, 'YYYY-MM-DD HH24:MI:SS')," \
"  'utc_offset', extract(epoch FROM (q.ts AT TIME ZONE tz.name) - (q.ts AT TIME ZONE 'UTC'))::integer," \
"  'now', now(), 'daily_only', false)"

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
 * The symbols with daily bars and no quote at all (dim_symbol's
 * last_quote_at is NULL exactly when fact_latest_quote has no row for the
 * symbol), shaped like a quote: price, change and change_pct are those of
 * the last bar (bar_date) against the bar before; ts is NULL.  Columns
 * symbol, j.
 */
#define DASH_Q_DAILY_ONLY \
"SELECT d.symbol, json_build_object('symbol', d.symbol, 'ts', NULL, 'price', b.close, 'volume', b.volume," \
"  'currency', NULL, 'prev_close', b.prev_close, 'change', b.change, 'change_pct', b.change_pct," \
"  'spark', NULL, 'source', NULL, 'session', NULL, 'daily_only', true, 'bar_date', b.trade_date," \
"  'now', now()) AS j" \
" FROM stockpipe_bi.dim_symbol d" \
" LEFT JOIN LATERAL (SELECT f.trade_date, f.close, f.volume, f.prev_close, f.change, f.change_pct" \
"   FROM stockpipe_bi.fact_daily f WHERE f.symbol = d.symbol ORDER BY f.trade_date DESC LIMIT 1) b ON true" \
" WHERE d.last_quote_at IS NULL"

/*
 * Latest quote of every symbol, with its sparkline, and every symbol that
 * has daily bars only (/api/symbols).  fact_latest_quote reads
 * stockpipe.latest_quote, one row per symbol kept by the consumers with
 * each batch; dim_symbol enumerates the symbols with daily bars by a loose
 * index scan of the primary key (page loads and resets only: the refreshes
 * below do not read it).  Timed at 8,000 symbols by bench/bi.
 */
#define DASH_Q_QUOTES \
"SELECT coalesce(json_agg(x.j ORDER BY x.symbol), '[]')::text FROM (" \
" SELECT q.symbol, " DASH_Q_QUOTE_JSON " AS j" \
" FROM stockpipe_bi.fact_latest_quote q" DASH_Q_QUOTE_SPARKLINE DASH_Q_QUOTE_ZONE \
" UNION ALL " DASH_Q_DAILY_ONLY ") x"

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
 * (A symbol's first quote turns its daily-only row into a quote row.)
 */
#define DASH_Q_CHANGES \
"WITH latest AS MATERIALIZED (SELECT * FROM stockpipe_bi.fact_latest_quote)," \
" q AS (SELECT l.* FROM latest l" \
"  WHERE $2::boolean AND l.ts IS DISTINCT FROM ($1::jsonb ->> l.symbol)::timestamptz)" \
"SELECT (SELECT json_agg(" DASH_Q_QUOTE_JSON " ORDER BY q.symbol) FROM q" DASH_Q_QUOTE_SPARKLINE DASH_Q_QUOTE_ZONE ")::text AS changed_quotes," \
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
 * The symbol's last 400 daily bars, whatever their dates (a recording
 * replayed or history loaded long ago is shown too), with 5/10/20-day
 * simple moving averages (NULL until enough bars; computed here, fact_daily
 * has none: the 19 bars before the first shown feed them), and the latest
 * L30D summary row (fact_l30d).  A bar may have its close only (open, high,
 * low NULL).  $1 symbol.
 */
#define DASH_Q_DAILY \
"SELECT json_build_object('symbol', $1::text," \
" 'bars', coalesce((SELECT json_agg(json_build_object('date', trade_date, 'open', open, 'high', high," \
"     'low', low, 'close', close, 'volume', volume, 'sma5', sma5, 'sma10', sma10, 'sma20', sma20) ORDER BY trade_date)" \
"   FROM (SELECT trade_date, open, high, low, close, volume," \
"     row_number() OVER (ORDER BY trade_date DESC) AS rn," \
"     CASE WHEN count(*) OVER w5 = 5 THEN avg(close) OVER w5 END AS sma5," \
"     CASE WHEN count(*) OVER w10 = 10 THEN avg(close) OVER w10 END AS sma10," \
"     CASE WHEN count(*) OVER w20 = 20 THEN avg(close) OVER w20 END AS sma20" \
"     FROM (SELECT trade_date, open, high, low, close, volume FROM stockpipe_bi.fact_daily" \
"           WHERE symbol = $1 ORDER BY trade_date DESC LIMIT 419) r" \
"     WINDOW w5 AS (ORDER BY trade_date ROWS 4 PRECEDING), w10 AS (ORDER BY trade_date ROWS 9 PRECEDING)," \
"            w20 AS (ORDER BY trade_date ROWS 19 PRECEDING)) b WHERE rn <= 400), '[]')," \
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
