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
 *
 * Speed at market scale (8,000 symbols, 90 days of quotes; bench/bi): the
 * symbol list (DASH_Q_QUOTES) reads two tables of one row per symbol
 * through fact_latest_quote and fact_latest_bar, and computes no
 * sparkline: the page asks DASH_Q_SPARKS for the rows on its screen only,
 * and extends them itself from the event stream (DASH_Q_CHANGES computes
 * none either).
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
 * The zone quote q is shown in (alias tz): its exchange_tz when PostgreSQL
 * knows that zone, else stockpipe.market_timezone (when known), else UTC;
 * and the quote's wall-clock time in it (alias l).  (exchange_tz and
 * session are columns of fact_latest_quote since 1.2.)  OFFSET 0 keeps
 * each a subquery evaluated once per quote: pulled up, its expression
 * would be computed again for each column that uses it.
 */
#define DASH_Q_QUOTE_ZONE \
" CROSS JOIN LATERAL (SELECT CASE" \
"   WHEN " DASH_Q_KNOWN_ZONES " ? q.exchange_tz THEN q.exchange_tz" \
"   WHEN " DASH_Q_KNOWN_ZONES " ? " DASH_Q_MARKET_ZONE " THEN " DASH_Q_MARKET_ZONE \
"   ELSE 'UTC' END AS name OFFSET 0) tz" \
" CROSS JOIN LATERAL (SELECT q.ts AT TIME ZONE tz.name AS lt OFFSET 0) l"

/*
 * One quote as the page wants it, as columns named as its JSON keys (alias
 * q: a row of stockpipe_bi.fact_latest_quote, or of a CTE with its
 * columns; tz, l: DASH_Q_QUOTE_ZONE): day change against the previous
 * close (the view's prev_close: the quote's own, or the last daily close
 * before the quote's market date when the quote has none); where it comes
 * from (source: yahoo, replay, sim); the trading period (session: pre,
 * regular, post, or NULL when the feed does not say; any other value is
 * dropped); the quote's wall-clock time in zone tz (local_time, and
 * utc_offset in seconds at that instant; tz_from: exchange, market, or
 * unknown when exchange_tz is a name PostgreSQL does not know); daily_only
 * false, bar_date NULL (DASH_Q_DAILY_ONLY has the same columns).
 */
#define DASH_Q_QUOTE_COLUMNS \
"q.symbol, q.ts, q.price, q.volume, q.currency, q.prev_close," \
" q.price - q.prev_close AS change," \
" CASE WHEN q.prev_close > 0 THEN (q.price / q.prev_close - 1) * 100 END AS change_pct," \
" q.source," \
" CASE WHEN q.session IN ('pre', 'regular', 'post') THEN q.session END AS session," \
" tz.name AS tz," \
" CASE WHEN tz.name = q.exchange_tz THEN 'exchange'" \
"      WHEN q.exchange_tz IS NOT NULL THEN 'unknown' ELSE 'market' END AS tz_from," \
" to_char(l.lt, 'YYYY-MM-DD HH24:MI:SS') AS local_time," \
" (extract(epoch FROM l.lt) - extract(epoch FROM q.ts))::integer AS utc_offset," \
" false AS daily_only, NULL::date AS bar_date"

/* The keys of /api/symbols' columns, in DASH_Q_QUOTE_COLUMNS' order. */
#define DASH_Q_QUOTE_KEYS \
"symbol, ts, price, volume, currency, prev_close, change, change_pct, source, session," \
" tz, tz_from, local_time, utc_offset, daily_only, bar_date"

/*
 * The symbols with daily bars and no quote at all (fact_latest_bar's
 * has_live is false exactly when fact_latest_quote has no row for the
 * symbol), in DASH_Q_QUOTE_COLUMNS' columns: price, volume, prev_close,
 * change and change_pct are those of the last bar (bar_date) against the
 * bar before; ts and the quote's other columns NULL, daily_only true.  An
 * anti-join of two tables of one row per symbol (stockpipe.latest_bar and
 * stockpipe.latest_quote), not a read of the bars.
 */
#define DASH_Q_DAILY_ONLY \
"SELECT b.symbol, NULL::timestamptz, b.close, b.volume, NULL::text, b.prev_close, b.change, b.change_pct," \
" NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::integer, true, b.trade_date" \
" FROM stockpipe_bi.fact_latest_bar b WHERE NOT b.has_live"

/*
 * Latest quote of every symbol, and every symbol that has daily bars only
 * (/api/symbols), by symbol, without sparklines (DASH_Q_SPARKS).  One JSON
 * object of columns, {"now": the server's clock, "symbol": [...], "ts":
 * [...], ...} (the keys of DASH_Q_QUOTE_KEYS), not an array of objects:
 * PostgreSQL 15 works out the JSON form of every value's type once per
 * json_agg, but once per value in a row object (json_build_object,
 * row_to_json), which at 8,000 rows of 16 keys took about as long as
 * everything else (bench/bi).  The page turns the columns into rows.  The
 * json_aggs take the rows in the sorted subquery's order.
 *
 * fact_latest_quote reads stockpipe.latest_quote, one row per symbol kept
 * by the consumers with each batch; fact_latest_bar reads
 * stockpipe.latest_bar, one row per symbol kept with each write of daily
 * bars.  Page loads and resets only: the refreshes below do not read it.
 * Timed at 8,000 symbols by bench/bi.
 */
#define DASH_Q_QUOTES \
"SELECT json_build_object('now', now()," \
" 'symbol', coalesce(json_agg(r.symbol), '[]'), 'ts', coalesce(json_agg(r.ts), '[]')," \
" 'price', coalesce(json_agg(r.price), '[]'), 'volume', coalesce(json_agg(r.volume), '[]')," \
" 'currency', coalesce(json_agg(r.currency), '[]'), 'prev_close', coalesce(json_agg(r.prev_close), '[]')," \
" 'change', coalesce(json_agg(r.change), '[]'), 'change_pct', coalesce(json_agg(r.change_pct), '[]')," \
" 'source', coalesce(json_agg(r.source), '[]'), 'session', coalesce(json_agg(r.session), '[]')," \
" 'tz', coalesce(json_agg(r.tz), '[]'), 'tz_from', coalesce(json_agg(r.tz_from), '[]')," \
" 'local_time', coalesce(json_agg(r.local_time), '[]'), 'utc_offset', coalesce(json_agg(r.utc_offset), '[]')," \
" 'daily_only', coalesce(json_agg(r.daily_only), '[]'), 'bar_date', coalesce(json_agg(r.bar_date), '[]'))::text" \
" FROM (SELECT " DASH_Q_QUOTE_COLUMNS \
"  FROM stockpipe_bi.fact_latest_quote q" DASH_Q_QUOTE_ZONE \
"  UNION ALL " DASH_Q_DAILY_ONLY " ORDER BY 1) r(" DASH_Q_QUOTE_KEYS ")"

/*
 * The sparklines of some symbols (/api/sparks): $1 is a comma-separated
 * list of at most DASH_SPARKS_MAX_SYMBOLS symbols, each checked by
 * dash_validate_symbol_list (validate.h).  Answers {symbol: [[t, p], ...]}
 * for each listed symbol that has a latest quote: the last price p of each
 * minute t (epoch seconds of the minute's start) that has quotes, in the
 * two hours up to the symbol's latest quote, oldest first.  A symbol
 * without quotes (daily bars only, or unknown) is absent.
 *
 * A loose index scan backwards per symbol: the newest quote, then the
 * newest before that quote's minute, and so on; one probe of the primary
 * key per minute that has quotes (at most 120), whatever the quotes' rate
 * (at one quote a second that is 7,200 quotes in two hours, which a
 * GROUP BY would read).  Each probe's ts bounds prune the day partitions
 * at run time.
 */
#define DASH_Q_SPARKS \
"SELECT coalesce(json_object_agg(q.symbol, sp.points), '{}')::text" \
" FROM (SELECT DISTINCT s.symbol FROM unnest(string_to_array($1::text, ',')) s(symbol)) r" \
" JOIN stockpipe_bi.fact_latest_quote q ON q.symbol = r.symbol" \
" CROSS JOIN LATERAL (WITH RECURSIVE m(ts, price) AS (" \
"   (SELECT i.ts, i.price FROM stockpipe_bi.fact_intraday i" \
"     WHERE i.symbol = q.symbol AND i.ts <= q.ts AND i.ts > q.ts - interval '2 hours'" \
"     ORDER BY i.ts DESC LIMIT 1)" \
"   UNION ALL" \
"   SELECT n.ts, n.price FROM m CROSS JOIN LATERAL (SELECT i.ts, i.price FROM stockpipe_bi.fact_intraday i" \
"     WHERE i.symbol = q.symbol AND i.ts < date_bin('1 minute', m.ts, timestamptz 'epoch')" \
"       AND i.ts > q.ts - interval '2 hours'" \
"     ORDER BY i.ts DESC LIMIT 1) n)" \
"  SELECT json_agg(json_build_array(extract(epoch FROM date_bin('1 minute', m.ts, timestamptz 'epoch'))::bigint," \
"    m.price) ORDER BY m.ts) AS points FROM m) sp"

/*
 * What changed since the last refresh, for the event stream.  A NOTIFY on
 * stockpipe_live only wakes the dashboard up (any role may send one, with
 * any payload): what it pushes comes from here, never from the payload.
 *
 * $1 (jsonb) is the state the previous call returned: {symbol: ts of its
 * latest quote}, NULL at first; $2 (boolean) whether to build the changes.
 * Returns two columns: changed_quotes, the quotes whose latest ts differs
 * from $1's, an array of objects with DASH_Q_QUOTE_COLUMNS' keys and the
 * server's clock (now), without sparklines (the page extends its own),
 * NULL when none or when $2 is false (row_to_json: json_agg would put a
 * line break between records, which an event's data line cannot carry);
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
"SELECT (SELECT json_agg(row_to_json(c) ORDER BY c.symbol) FROM (SELECT " DASH_Q_QUOTE_COLUMNS ", now() AS now" \
"  FROM q" DASH_Q_QUOTE_ZONE ") c)::text AS changed_quotes," \
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
