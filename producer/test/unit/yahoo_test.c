/*
 * yahoo_test.c -- chart JSON -> quote and bars, against the recorded Yahoo
 * fixtures (including the null minute, the weekend response without bars
 * and the error bodies) and small hand-made edge cases; prices at the
 * instrument's tick (meta.priceHint decimals).
 */
#include <dirent.h>
#include <float.h>
#include <math.h>

#include <cjson/cJSON.h>

#include "message.h"
#include "fixtures.h"
#include "session.h"
#include "tap.h"
#include "yahoo.h"

static char msg_err[SP_ERR_MAX];

/* A bar's date as YYYY-MM-DD (one buffer: one call per expression). */
static const char *
date_text(int32_t days)
{
	static char buf[32];

	if (message_format_date(days, buf, sizeof(buf)) < 0)
		snprintf(buf, sizeof(buf), "day %ld?", (long) days);
	return buf;
}

static void
test_live_aapl(const char *dir)
{
	size_t		len;
	char	   *body = read_file(dir, "chart_AAPL_1d_1m.json", &len);
	sp_quote	q;
	char		err[256];
	enum yahoo_status st = yahoo_decode_live(body, len, "AAPL", &q, NULL, err, sizeof(err));

	check_int(st, YAHOO_OK, "1m AAPL: decodes");
	check_str(q.symbol, "AAPL", "1m AAPL: symbol");
	check_int(q.ts_us, 1727985601000000LL, "1m AAPL: ts = meta.regularMarketTime");
	check_num(q.price, 225.67, "1m AAPL: price = meta.regularMarketPrice");
	check_int(q.volume, 33638504, "1m AAPL: volume = meta.regularMarketVolume");
	check_num(q.high, 226.8, "1m AAPL: high = meta.regularMarketDayHigh");
	check_num(q.low, 223.32, "1m AAPL: low = meta.regularMarketDayLow (223.324) at 2 decimals");
	check_num(q.prev_close, 226.78, "1m AAPL: prev_close = meta.previousClose");
	/* meta has no open: the first bar of the quote's own day (2024-10-03,
	 * the extra last element), not the first bar of 2024-10-02 */
	check_num(q.open, 225.67, "1m AAPL: open from the quote day's first bar (225.6699981689453)");
	check_str(q.currency, "USD", "1m AAPL: currency");
	check_str(q.source, "yahoo", "1m AAPL: source");
	free(body);
}

static void
test_live_weekend(const char *dir)
{
	size_t		len;
	char	   *body = read_file(dir, "chart_AAPL_1m_weekend_no_bars.json", &len);
	sp_quote	q;
	sp_bar	   *bars;
	size_t		n = 99;
	char		err[256];

	check_int(yahoo_decode_live(body, len, "AAPL", &q, NULL, err, sizeof(err)), YAHOO_OK,
			  "weekend (no timestamp key, quote [{}]): quote decodes");
	check_num(q.price, 244.87, "weekend: price");
	check_int(q.ts_us, 1739998801000000LL, "weekend: ts");
	check_int(q.volume, 32129951, "weekend: volume");
	CHECK(!(q.present & SP_HAS_OPEN), "weekend: no bars, so no open");
	check_num(q.prev_close, 244.47, "weekend: prev_close");
	check_int(yahoo_decode_bars(body, len, "AAPL", &bars, &n, err, sizeof(err)), YAHOO_OK,
			  "weekend: bars decode");
	check_int((long long) n, 0, "weekend: zero bars");
	free(bars);
	free(body);
}

static void
test_daily(const char *dir)
{
	size_t		len;
	char	   *body = read_file(dir, "chart_AAPL_daily_2020-08-31_to_2020-11-06.json", &len);
	sp_bar	   *b;
	size_t		n;
	char		err[256];
	char		msg[SP_MESSAGE_MAX];

	check_int(yahoo_decode_bars(body, len, "AAPL", &b, &n, err, sizeof(err)), YAHOO_OK,
			  "daily AAPL: decodes");
	check_int((long long) n, 49, "daily AAPL: 49 bars");
	check_str(date_text(b[0].date), "2020-08-31", "daily AAPL: first date");
	check_num(b[0].open, 127.58, "daily AAPL: first open (127.58000183105469)");
	check_num(b[0].high, 131, "daily AAPL: first high");
	check_num(b[0].low, 126, "daily AAPL: first low");
	check_num(b[0].close, 129.04, "daily AAPL: first close (129.0399932861328)");
	check_num(b[0].adj_close, 125.83,
			  "daily AAPL: first adj_close from indicators.adjclose (125.82673645019531)");
	check_int(b[0].volume, 225702700, "daily AAPL: first volume");
	check_str(date_text(b[48].date), "2020-11-06", "daily AAPL: last date");
	check_num(b[48].close, 118.69, "daily AAPL: last close (118.69000244140625)");
	sp_encode_bar(&b[48], msg, sizeof(msg), msg_err);
	check_str(msg, "{\"symbol\":\"AAPL\",\"date\":\"2020-11-06\",\"open\":118.32,"
			  "\"high\":119.2,\"low\":116.13,\"close\":118.69,"
			  "\"adj_close\":115.93,\"volume\":114457900}",
			  "daily AAPL: last bar message, prices as the exchange printed them");
	free(b);
	free(body);

	body = read_file(dir, "chart_MSFT_daily_2021-02-01_to_2022-01-31.json", &len);
	yahoo_decode_bars(body, len, "MSFT", &b, &n, err, sizeof(err));
	check_int((long long) n, 252, "daily MSFT: 252 bars");
	check_str(date_text(b[251].date), "2022-01-28", "daily MSFT: last date");
	check_num(b[251].adj_close, 299.87, "daily MSFT: last adj_close (299.8661193847656)");
	free(b);
	free(body);

	body = read_file(dir, "chart_NVDA_daily_2021-02-01_to_2022-01-31.json", &len);
	yahoo_decode_bars(body, len, "NVDA", &b, &n, err, sizeof(err));
	check_int((long long) n, 252, "daily NVDA: 252 bars");
	free(b);
	free(body);

	/* Frankfurt: dates in the exchange's time zone (gmtoffset) */
	body = read_file(dir, "chart_WSU.DE_daily_2023-08-04_to_2023-08-09.json", &len);
	yahoo_decode_bars(body, len, "WSU.DE", &b, &n, err, sizeof(err));
	check_int((long long) n, 3, "daily WSU.DE: 3 bars");
	check_str(date_text(b[0].date), "2023-08-04", "daily WSU.DE: first date");
	check_str(date_text(b[1].date), "2023-08-07", "daily WSU.DE: second date (after a weekend)");
	check_int(b[2].volume, 10846, "daily WSU.DE: third volume");
	free(b);
	free(body);
}

static void
test_errors(const char *dir)
{
	size_t		len;
	char	   *body = read_file(dir, "chart_error_not_found_SI.json", &len);
	sp_quote	q;
	sp_bar	   *b;
	size_t		n;
	char		err[256];

	check_int(yahoo_decode_live(body, len, "SI", &q, NULL, err, sizeof(err)), YAHOO_CHART_ERROR,
			  "404 body: chart error");
	check_str(err, "Not Found: No data found, symbol may be delisted", "404 body: message");
	check_int(yahoo_decode_bars(body, len, "SI", &b, &n, err, sizeof(err)), YAHOO_CHART_ERROR,
			  "404 body: chart error for bars too");
	CHECK(b == NULL && n == 0, "404 body: no bars returned");
	free(body);

	body = read_file(dir, "chart_error_bad_request_BEKE.json", &len);
	check_int(yahoo_decode_live(body, len, "BEKE", &q, NULL, err, sizeof(err)), YAHOO_CHART_ERROR,
			  "400 body: chart error");
	check_str(err, "Bad Request: Data doesn't exist for startDate = 1577836800, endDate = 1578009600",
			  "400 body: message");
	free(body);

	/* truncated: the real response cut in half */
	body = read_file(dir, "chart_AAPL_1d_1m.json", &len);
	check_int(yahoo_decode_live(body, len / 2, "AAPL", &q, NULL, err, sizeof(err)), YAHOO_BAD_JSON,
			  "truncated JSON: bad JSON");
	CHECK(strstr(err, "truncated") != NULL, "truncated JSON: says so");
	check_int(yahoo_decode_bars(body, len - 3, "AAPL", &b, &n, err, sizeof(err)), YAHOO_BAD_JSON,
			  "truncated JSON (3 bytes short): bad JSON for bars");
	free(body);

	check_int(yahoo_decode_live("Too Many Requests", 17, "AAPL", &q, NULL, err, sizeof(err)),
			  YAHOO_BAD_JSON, "429 text body: bad JSON");
	check_int(yahoo_decode_live("", 0, "AAPL", &q, NULL, err, sizeof(err)), YAHOO_BAD_JSON,
			  "empty body: bad JSON");
	check_int(yahoo_decode_live("<html>down</html>", 17, "AAPL", &q, NULL, err, sizeof(err)),
			  YAHOO_BAD_JSON, "HTML body: bad JSON");
	check_int(yahoo_decode_live("{\"foo\":1}", 9, "AAPL", &q, NULL, err, sizeof(err)), YAHOO_NO_DATA,
			  "JSON without chart: no data");
	check_int(yahoo_decode_live("{\"chart\":{\"result\":[],\"error\":null}}", 36, "AAPL", &q, NULL,
								 err, sizeof(err)), YAHOO_NO_DATA, "empty result: no data");

	/* the v7 quote endpoint's shape is not a chart */
	body = read_file(dir, "quote_v7_AAPL.json", &len);
	check_int(yahoo_decode_live(body, len, "AAPL", &q, NULL, err, sizeof(err)), YAHOO_NO_DATA,
			  "v7 quote body: not a chart, no data");
	free(body);
}

/* Hand-made: nulls everywhere meta is silent, bars from two days. */
static void
test_fallbacks(void)
{
	const char *j =
		"{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"USD\",\"gmtoffset\":-14400,"
		"\"chartPreviousClose\":9.5},"
		"\"timestamp\":[1727899140,1727962200,1727962260,1727962320,1727962380],"
		"\"indicators\":{\"quote\":[{"
		"\"open\":[50,null,10.5,null,11],"
		"\"high\":[60,null,12,null,13],"
		"\"low\":[40,null,10,null,9.75],"
		"\"close\":[55,null,11.25,null,null],"
		"\"volume\":[7,null,100,null,50]}]}}],\"error\":null}}";
	sp_quote	q;
	sp_bar	   *b;
	size_t		n;
	char		err[256];

	check_int(yahoo_decode_live(j, strlen(j), "TEST", &q, NULL, err, sizeof(err)), YAHOO_OK,
			  "fallback: decodes without meta prices");
	check_num(q.price, 11.25, "fallback: price = last non-null close");
	check_int(q.ts_us, 1727962260000000LL, "fallback: ts = that bar's time");
	check_num(q.open, 10.5, "fallback: open = the day's first non-null open");
	check_num(q.high, 13, "fallback: high = the day's max (yesterday's 60 ignored)");
	check_num(q.low, 9.75, "fallback: low = the day's min");
	check_int(q.volume, 150, "fallback: volume = the day's sum");
	check_num(q.prev_close, 9.5, "fallback: prev_close = chartPreviousClose");

	check_int(yahoo_decode_bars(j, strlen(j), "TEST", &b, &n, err, sizeof(err)), YAHOO_OK,
			  "bars: decode");
	/* bars without close are skipped; same-day bars collapse, the later wins */
	check_int((long long) n, 2, "bars: null bars skipped, one bar per date");
	check_str(date_text(b[0].date), "2024-10-02", "bars: first date");
	check_str(date_text(b[1].date), "2024-10-03", "bars: second date");
	check_num(b[1].close, 11.25, "bars: later bar of the date wins");
	CHECK(!(b[0].present & SP_HAS_ADJ_CLOSE), "bars: no adjclose array, no adj_close");
	free(b);

	j = "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"USD\"},\"timestamp\":[1,2],"
		"\"indicators\":{\"quote\":[{\"close\":[null,null]}]}}],\"error\":null}}";
	check_int(yahoo_decode_live(j, strlen(j), "TEST", &q, NULL, err, sizeof(err)), YAHOO_NO_DATA,
			  "no price anywhere: no data");
}

static void
test_url(void)
{
	char		url[256];

	yahoo_chart_url("https://query2.finance.yahoo.com", "AAPL", "1d", "1d", url, sizeof(url));
	check_str(url, "https://query2.finance.yahoo.com/v8/finance/chart/AAPL?range=1d&interval=1d",
			  "url: live (the day as one bar)");
	yahoo_chart_url("https://query2.finance.yahoo.com", "AAPL", "1d", "1m", url, sizeof(url));
	check_str(url, "https://query2.finance.yahoo.com/v8/finance/chart/AAPL?range=1d&interval=1m",
			  "url: a day of minutes");
	yahoo_chart_url("http://127.0.0.1:8080/", "^GSPC", "3mo", "1d", url, sizeof(url));
	check_str(url, "http://127.0.0.1:8080/v8/finance/chart/%5EGSPC?range=3mo&interval=1d",
			  "url: trailing slash, ^ encoded");
	yahoo_chart_url("http://h", "EURUSD=X", "1d", "1m", url, sizeof(url));
	check_str(url, "http://h/v8/finance/chart/EURUSD%3DX?range=1d&interval=1m", "url: = encoded");
	CHECK(yahoo_chart_url("http://h", "AAPL", "1d", "1m", url, 10) < 0, "url: too small buffer");
}

/* Every field the same (an absent one is 0 in both: the decoders clear the quote). */
static int
same_quote(const sp_quote *a, const sp_quote *b)
{
	return strcmp(a->symbol, b->symbol) == 0 && a->ts_us == b->ts_us && a->price == b->price &&
		a->present == b->present && a->volume == b->volume && a->open == b->open &&
		a->high == b->high && a->low == b->low && a->prev_close == b->prev_close &&
		strcmp(a->currency, b->currency) == 0 && strcmp(a->source, b->source) == 0;
}

/* A chart response around META, TIMESTAMPS and the QUOTE object. */
static char *
chart_json(const char *meta, const char *timestamps, const char *quote)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf),
			 "{\"chart\":{\"result\":[{\"meta\":%s,\"timestamp\":%s,"
			 "\"indicators\":{\"quote\":[%s]}}],\"error\":null}}",
			 meta, timestamps, quote);
	return buf;
}

/*
 * The daily bars of a chart response around META, TIMESTAMPS and QUOTE
 * (see chart_json), for symbol "T": the status, the bars in *B (freed by
 * the caller), their number in *N and the note or error in ERR (256 bytes).
 */
static enum yahoo_status
bars_of(const char *meta, const char *timestamps, const char *quote, sp_bar **b, size_t *n,
		char *err)
{
	const char *j = chart_json(meta, timestamps, quote);

	return yahoo_decode_bars(j, strlen(j), "T", b, n, err, 256);
}

/* A complete live meta (the fast path takes it) with the given values. */
static char *
live_meta(const char *time, const char *price, const char *volume, const char *gmtoffset)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf),
			 "{\"currency\":\"USD\",\"gmtoffset\":%s,\"regularMarketTime\":%s,"
			 "\"regularMarketPrice\":%s,\"regularMarketVolume\":%s,"
			 "\"regularMarketDayHigh\":226.8,\"regularMarketDayLow\":223.3,"
			 "\"previousClose\":226.78}", gmtoffset, time, price, volume);
	return buf;
}

#define LIVE_TS "[1727962200,1727962260,1727985600]"
#define LIVE_QUOTE "{\"open\":[225.1,225.5,225.6],\"high\":[226,226,226]," \
	"\"low\":[224,224,224],\"close\":[225.2,225.6,225.67],\"volume\":[100,200,0]}"

/*
 * Decodes BODY (LEN bytes) with the fast decoder and the reference, checks
 * that they agree on the status and every field (a check named NAME), and
 * returns the status, the quote in *Q and the reference's error in ERR.
 */
static enum yahoo_status
quote_both(const char *body, size_t len, const char *name, sp_quote *q, char *err)
{
	sp_quote	fast;
	char		ferr[256];
	char		desc[200];
	enum yahoo_status sf = yahoo_decode_live(body, len, "T", &fast, NULL, ferr, sizeof(ferr));
	enum yahoo_status sr = yahoo_decode_live_full(body, len, "T", q, NULL, err, 256);

	snprintf(desc, sizeof(desc), "%s: fast decoder = reference decoder", name);
	CHECK(sf == sr && (sr != YAHOO_OK || same_quote(&fast, q)), desc);
	return sr;
}

static enum yahoo_status
quote_both_str(const char *body, const char *name, sp_quote *q, char *err)
{
	return quote_both(body, strlen(body), name, q, err);
}

/* Huge times and offsets: refused with a reason, never UB (issue 10). */
static void
test_time_ranges(void)
{
	sp_quote	q;
	sp_bar	   *b;
	size_t		n;
	char		err[256];

	check_int(quote_both_str(chart_json(live_meta("1e17", "225.67", "100", "-14400"), LIVE_TS,
										LIVE_QUOTE), "regularMarketTime 1e17", &q, err),
			  YAHOO_NO_DATA, "regularMarketTime 1e17 (x1000 overflowed int64): refused");
	check_str(err, "meta.regularMarketTime 1e+17 is outside 1900-01-01..9999-12-31",
			  "regularMarketTime 1e17: the reason");
	check_int(quote_both_str(chart_json(live_meta("-1e300", "225.67", "100", "0"), "[]", "{}"),
							 "regularMarketTime -1e300", &q, err),
			  YAHOO_NO_DATA, "regularMarketTime -1e300 (llround overflowed): refused");
	check_int(quote_both_str(chart_json(live_meta("1e999", "225.67", "100", "0"), "[]", "{}"),
							 "regularMarketTime 1e999", &q, err),
			  YAHOO_NO_DATA, "regularMarketTime 1e999 (infinite): refused");
	check_int(quote_both_str(chart_json(live_meta("253402300799", "225.67", "100", "0"), "[]", "{}"),
							 "regularMarketTime 9999-12-31T23:59:59Z", &q, err),
			  YAHOO_OK, "regularMarketTime 9999-12-31T23:59:59Z: accepted");
	check_int(q.ts_us, 253402300799000000LL, "regularMarketTime 9999-12-31T23:59:59Z: ts");

	check_int(quote_both_str(chart_json(live_meta("1727985601", "225.67", "100", "1e19"), LIVE_TS,
										LIVE_QUOTE), "gmtoffset 1e19", &q, err),
			  YAHOO_NO_DATA, "gmtoffset 1e19 (cast to long overflowed): quote refused");
	check_str(err, "meta.gmtoffset 1e+19 is out of range (at most 18 hours from UTC)",
			  "gmtoffset 1e19: the reason");
	check_int(bars_of("{\"gmtoffset\":9223372036000000000}", LIVE_TS, LIVE_QUOTE, &b, &n, err),
			  YAHOO_NO_DATA, "gmtoffset 9.2e18 (timestamp + offset overflowed): bars refused");
	CHECK(b == NULL && n == 0, "gmtoffset 9.2e18: no bars");
	check_int(quote_both_str(chart_json(live_meta("1727985601", "225.67", "100", "64800"), LIVE_TS,
										LIVE_QUOTE), "gmtoffset +18 h", &q, err),
			  YAHOO_OK, "gmtoffset +18 h: accepted");
	check_int(quote_both_str(chart_json(live_meta("1727985601", "225.67", "100", "-64801"), LIVE_TS,
										LIVE_QUOTE), "gmtoffset -18 h -1 s", &q, err),
			  YAHOO_NO_DATA, "gmtoffset beyond -18 h: refused");

	/* meta without a time: the quote's time is the last bar's in range */
	check_int(quote_both_str(chart_json("{\"gmtoffset\":0}", "[1727962200,1727962260,1e300]",
										"{\"close\":[1.5,2.5,3.5],\"open\":[1,2,3]}"),
							 "bar timestamp 1e300, quote", &q, err),
			  YAHOO_OK, "bar timestamp 1e300: quote decodes from the other bars");
	check_int(q.ts_us, 1727962260000000LL, "bar timestamp 1e300: ignored for the quote's time");
	check_num(q.price, 2.5, "bar timestamp 1e300: ignored for the quote's price");
	check_num(q.open, 1, "bar timestamp 1e300: open from the day's first bar");
}

/* Bar timestamps and dates: 4-digit years, 1900..9999, never UB. */
static void
test_bar_dates(void)
{
	sp_bar	   *b;
	size_t		n;
	char		err[256];

	check_int(bars_of("{\"gmtoffset\":0}", "[1e19,1727962260,-1e300]",
					  "{\"close\":[1,2,3],\"volume\":[1,2,3]}", &b, &n, err), YAHOO_OK,
			  "bar timestamps 1e19 and -1e300: the response decodes");
	check_int((long long) n, 1, "bar timestamps 1e19 and -1e300: those bars refused");
	check_str(date_text(b[0].date), "2024-10-03", "bar timestamps 1e19 and -1e300: the good bar kept");
	check_str(err, "2 bar(s) refused: timestamp[0] 1e+19 is outside 1900-01-01..9999-12-31",
			  "bar timestamps 1e19 and -1e300: the reason");
	free(b);

	/* strftime once wrote "10000-01-01" unterminated into date[11] */
	bars_of("{\"gmtoffset\":0}", "[253402300799,253402300800]", "{\"close\":[1,2]}", &b, &n, err);
	check_int((long long) n, 1, "year 10000: refused");
	check_str(date_text(b[0].date), "9999-12-31", "year 9999: kept, a 4-digit year");
	free(b);

	/* year 0 was "0-12-31" */
	check_int(bars_of("{\"gmtoffset\":0}", "[-62135600000]", "{\"close\":[1]}", &b, &n, err), YAHOO_OK,
			  "year 0: decodes");
	check_int((long long) n, 0, "year 0: refused");
	CHECK(strstr(err, "1 bar(s) refused") != NULL, "year 0: the reason");
	free(b);

	bars_of("{\"gmtoffset\":0}", "[-2208988800]", "{\"close\":[1]}", &b, &n, err);
	check_int((long long) n, 1, "1900-01-01: kept");
	check_str(date_text(b[0].date), "1900-01-01", "1900-01-01: the date");
	check_str(err, "", "1900-01-01: no note");
	free(b);

	/* in range in UTC, but 1899-12-31 on the exchange's clock */
	bars_of("{\"gmtoffset\":-3600}", "[-2208988800]", "{\"close\":[1]}", &b, &n, err);
	check_int((long long) n, 0, "local date 1899-12-31: refused");
	free(b);
}

/* Unsorted timestamps: bars come out sorted, one per date, deterministically. */
static void
test_bar_order(void)
{
	sp_bar	   *b;
	size_t		n;
	char		err[256];

	check_int(bars_of("{\"gmtoffset\":-14400}", "[1600300000,1600100000,1600200000,1600100001]",
					  "{\"close\":[3,1,2,1.5],\"volume\":[30,10,20,15]}", &b, &n, err), YAHOO_OK,
			  "unsorted: decodes");
	check_int((long long) n, 3, "unsorted: one bar per date");
	check_str(date_text(b[0].date), "2020-09-14", "unsorted: first date");
	check_str(date_text(b[1].date), "2020-09-15", "unsorted: second date");
	check_str(date_text(b[2].date), "2020-09-16", "unsorted: third date");
	check_num(b[0].close, 1.5, "unsorted: of two bars of a date, the later time wins");
	check_int(b[0].volume, 15, "unsorted: the winner's volume");
	check_num(b[2].close, 3, "unsorted: last bar");
	free(b);

	/* the same time twice: the later element wins, as for sorted input */
	bars_of("{\"gmtoffset\":0}", "[1600100000,1600100000]", "{\"close\":[1,2]}", &b, &n, err);
	check_int((long long) n, 1, "equal times: one bar");
	check_num(b[0].close, 2, "equal times: the later element wins");
	free(b);
}

/* Values out of range: volumes, non-finite and non-positive prices. */
static void
test_value_ranges(void)
{
	sp_quote	q;
	sp_bar	   *b;
	size_t		n;
	char		err[256];
	const char *j;

	/* the fast path gave volume INT64_MIN; now meta's volume is unknown
	 * and, as when meta has none, the day's bars are summed */
	check_int(quote_both_str(chart_json(live_meta("1727985601", "225.67", "1e999", "-14400"),
										LIVE_TS, LIVE_QUOTE), "volume 1e999", &q, err),
			  YAHOO_OK, "volume 1e999: decodes");
	check_int(q.volume, 300, "volume 1e999: unknown, the day's bars summed");
	check_int(quote_both_str(chart_json(live_meta("1727985601", "225.67", "1e300", "-14400"),
										LIVE_TS, LIVE_QUOTE), "volume 1e300", &q, err),
			  YAHOO_OK, "volume 1e300: decodes");
	check_int(q.volume, 300, "volume 1e300: out of range, the day's bars summed");
	check_int(quote_both_str(chart_json(live_meta("1727985601", "225.67", "9007199254740992",
												  "-14400"), LIVE_TS, LIVE_QUOTE),
							 "volume 2^53", &q, err), YAHOO_OK, "volume 2^53: decodes");
	check_int(q.volume, 9007199254740992LL, "volume 2^53: kept");
	check_int(quote_both_str(chart_json("{\"regularMarketPrice\":5,\"regularMarketTime\":1727962200}",
										"[1727962200,1727962260]",
										"{\"volume\":[9e15,9e15],\"close\":[1,2]}"),
							 "volume sum > 2^53", &q, err), YAHOO_OK, "volume sum > 2^53: decodes");
	CHECK(!(q.present & SP_HAS_VOLUME), "volume sum > 2^53: unknown");

	/* the fast path took an infinite price; the reference now refuses it */
	check_int(quote_both_str(chart_json(live_meta("1727985601", "1e999", "100", "-14400"),
										LIVE_TS, LIVE_QUOTE), "price 1e999", &q, err),
			  YAHOO_NO_DATA, "price 1e999: refused");
	check_str(err, "meta.regularMarketPrice inf is not a price (finite, > 0)", "price 1e999: the reason");
	check_int(quote_both_str(chart_json(live_meta("1727985601", "0", "100", "-14400"),
										LIVE_TS, LIVE_QUOTE), "price 0", &q, err),
			  YAHOO_NO_DATA, "price 0: refused");

	/* optional prices that are not prices are unknown, and filled from the bars */
	j = "{\"chart\":{\"result\":[{\"meta\":{\"regularMarketPrice\":5,\"regularMarketTime\":1727962200,"
		"\"regularMarketVolume\":1,\"regularMarketDayHigh\":-1,\"regularMarketDayLow\":1e999,"
		"\"regularMarketOpen\":0,\"previousClose\":-2,\"chartPreviousClose\":4},"
		"\"timestamp\":[1727962200],\"indicators\":{\"quote\":[{\"open\":[-3],\"high\":[6],"
		"\"low\":[0],\"close\":[5]}]}}],\"error\":null}}";
	check_int(quote_both_str(j, "non-positive optional prices", &q, err), YAHOO_OK,
			  "non-positive optional prices: decodes");
	CHECK(!(q.present & SP_HAS_OPEN), "open 0 in meta, -3 in the bar: unknown");
	check_num(q.high, 6, "high -1 in meta: the bar's");
	CHECK(!(q.present & SP_HAS_LOW), "low 1e999 in meta, 0 in the bar: unknown");
	check_num(q.prev_close, 4, "previousClose -2: chartPreviousClose instead");

	bars_of("{}", "[1600100000]",
			"{\"open\":[1e999],\"high\":[-1],\"low\":[0],\"close\":[5],\"volume\":[1e999]}",
			&b, &n, err);
	CHECK(n == 1 && !(b[0].present & (SP_HAS_OPEN | SP_HAS_HIGH | SP_HAS_LOW | SP_HAS_VOLUME)),
		  "bar: infinite, negative and zero values are unknown");
	free(b);
	bars_of("{}", "[1600100000,1600200000]", "{\"close\":[1e999,-1]}", &b, &n, err);
	check_int((long long) n, 0, "bar: infinite or negative close, no bar");
	free(b);
}

/*
 * A live chart response (complete meta META) with one more member "x" in
 * chart whose value is the N bytes at VALUE (which may hold a NUL).
 * Returns the length.
 */
static int
with_member(char *buf, size_t size, const char *meta, const char *value, size_t n)
{
	int			len = snprintf(buf, size, "%s", chart_json(meta, LIVE_TS, LIVE_QUOTE));

	/* ...,"error":null}} -> ...,"error":null,"x":VALUE}} */
	len -= 2;
	len += snprintf(buf + len, size - (size_t) len, ",\"x\":");
	memcpy(buf + len, value, n);
	len += (int) n;
	memcpy(buf + len, "}}", 3);
	return len + 2;
}

/* JSON the fast path read differently from cJSON (issue 10). */
static void
test_fast_path_syntax(void)
{
	sp_quote	q;
	char		err[256];
	char		body[2048];
	char		meta1[1024];
	int			len;

	snprintf(meta1, sizeof(meta1), "%s", live_meta("1727985601", "1", "100", "-14400"));
	/* duplicate names: cJSON finds the first, so must the scanner */
	len = snprintf(body, sizeof(body),
				   "{\"chart\":{\"result\":[{\"meta\":%s,\"meta\":%s,\"timestamp\":" LIVE_TS ","
				   "\"indicators\":{\"quote\":[" LIVE_QUOTE "]}}],\"error\":null}}",
				   meta1, live_meta("1727985601", "2", "100", "-14400"));
	check_int(quote_both(body, (size_t) len, "duplicate meta", &q, err), YAHOO_OK,
			  "duplicate meta: decodes");
	check_num(q.price, 1, "duplicate meta: the first one counts");
	len = snprintf(body, sizeof(body), "%s",
				   chart_json(meta1, LIVE_TS, "{\"open\":[7,8,9],\"open\":[4,5,6]}"));
	quote_both(body, (size_t) len, "duplicate open", &q, err);
	check_num(q.open, 7, "duplicate open: the first array counts");
	len = snprintf(body, sizeof(body),
				   "{\"chart\":{\"result\":[{\"timestamp\":[1]}],\"error\":null},"
				   "\"chart\":{\"result\":[{\"meta\":%s}],\"error\":null}}", meta1);
	check_int(quote_both(body, (size_t) len, "duplicate chart", &q, err), YAHOO_NO_DATA,
			  "duplicate chart: the first one (without meta) counts");
	/* "\u0063hart" is "chart" to cJSON */
	len = snprintf(body, sizeof(body),
				   "{\"\\u0063hart\":{\"result\":[{\"meta\":{\"regularMarketPrice\":7}}]},"
				   "\"chart\":{\"result\":[{\"meta\":%s}],\"error\":null}}", meta1);
	check_int(quote_both(body, (size_t) len, "escaped name", &q, err), YAHOO_NO_DATA,
			  "escaped name \\u0063hart: it is the first chart");

	/* strings cJSON refuses: the whole body is bad JSON for both */
	len = with_member(body, sizeof(body), meta1, "\"\\ud800\"", 8);
	check_int(quote_both(body, (size_t) len, "lone high surrogate", &q, err), YAHOO_BAD_JSON,
			  "lone high surrogate \\ud800: bad JSON");
	len = with_member(body, sizeof(body), meta1, "\"\\udc00\"", 8);
	check_int(quote_both(body, (size_t) len, "lone low surrogate", &q, err), YAHOO_BAD_JSON,
			  "lone low surrogate \\udc00: bad JSON");
	len = with_member(body, sizeof(body), meta1, "\"\\ud800\\u0041\"", 14);
	check_int(quote_both(body, (size_t) len, "high surrogate + non-surrogate", &q, err),
			  YAHOO_BAD_JSON, "high surrogate followed by \\u0041: bad JSON");
	len = with_member(body, sizeof(body), meta1, "\"\\ud83d\\ude00\"", 14);
	check_int(quote_both(body, (size_t) len, "surrogate pair", &q, err), YAHOO_OK,
			  "surrogate pair \\ud83d\\ude00: fine");
	len = with_member(body, sizeof(body), meta1, "\"\\\0\"", 4);	/* backslash, NUL */
	check_int(quote_both(body, (size_t) len, "backslash NUL", &q, err), YAHOO_BAD_JSON,
			  "backslash followed by NUL: bad JSON");
	len = with_member(body, sizeof(body), meta1, "\"\\u0000\"", 8);
	check_int(quote_both(body, (size_t) len, "escaped NUL", &q, err), YAHOO_OK,
			  "\\u0000 (valid JSON): fine");
}

/*
 * The fast live decoder (jscan + meta only) must agree with the reference
 * decoder (full cJSON parse) on every fixture, on every truncation of the
 * 1-minute fixture, and on damaged copies.
 */
static void
test_fast_equals_full(const char *dir)
{
	static const char *files[] = {
		"chart_AAPL_1d_1m.json", "chart_AAPL_1m_weekend_no_bars.json",
		"chart_AAPL_daily_2020-08-31_to_2020-11-06.json",
		"chart_MSFT_daily_2021-02-01_to_2022-01-31.json",
		"chart_NVDA_daily_2021-02-01_to_2022-01-31.json",
		"chart_WSU.DE_daily_2023-08-04_to_2023-08-09.json",
		"chart_error_bad_request_BEKE.json", "chart_error_not_found_SI.json",
		"quote_v7_AAPL.json"
	};
	char		err[256];
	char		name[160];
	sp_quote	a,
				b;
	size_t		len;
	char	   *body;
	int			disagreements = 0;
	int			tried = 0;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
	{
		enum yahoo_status sa, sb;

		body = read_file(dir, files[i], &len);
		sa = yahoo_decode_live(body, len, "X", &a, NULL, err, sizeof(err));
		sb = yahoo_decode_live_full(body, len, "X", &b, NULL, err, sizeof(err));
		snprintf(name, sizeof(name), "fast decoder = reference decoder: %s", files[i]);
		CHECK(sa == sb && (sa != YAHOO_OK || same_quote(&a, &b)), name);
		free(body);
	}
	body = read_file(dir, "chart_AAPL_1d_1m.json", &len);
	for (size_t cut = 0; cut < len; cut += (cut < 200 || len - cut < 200) ? 1 : 37)
	{
		enum yahoo_status sa = yahoo_decode_live(body, cut, "X", &a, NULL, err, sizeof(err));
		enum yahoo_status sb = yahoo_decode_live_full(body, cut, "X", &b, NULL, err, sizeof(err));

		tried++;
		if (sa != sb || (sa == YAHOO_OK && !same_quote(&a, &b)))
			disagreements++;
	}
	/* damage single bytes all over the body */
	for (size_t at = 0; at < len; at += 53)
	{
		char		saved = body[at];
		static const char repl[] = {'x', '"', ',', ']', '}', '-', '.', '\\', ' '};

		for (size_t r = 0; r < sizeof(repl); r++)
		{
			enum yahoo_status sa, sb;

			body[at] = repl[r];
			sa = yahoo_decode_live(body, len, "X", &a, NULL, err, sizeof(err));
			sb = yahoo_decode_live_full(body, len, "X", &b, NULL, err, sizeof(err));
			tried++;
			if (sa != sb || (sa == YAHOO_OK && !same_quote(&a, &b)))
				disagreements++;
		}
		body[at] = saved;
	}
	snprintf(name, sizeof(name),
			 "fast decoder = reference decoder on %d truncated/damaged bodies", tried);
	if (!check(disagreements == 0, "%s", name))
		diag("%d disagreed", disagreements);
	free(body);
}

/*
 * One contract: every quote and bar the producer can publish from every
 * recorded response is accepted by the consumers' decoder (contract/), with
 * the values it was given.
 */
static void
test_fixtures_publishable(const char *dir)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;
	int			files = 0;
	long		quotes = 0;
	long		bars_ok = 0;
	long		refused = 0;

	CHECK(d != NULL, "fixture folder readable");
	while (d && (e = readdir(d)) != NULL)
	{
		size_t		len;
		char	   *body;
		sp_quote	q;
		sp_bar	   *b = NULL;
		size_t		n = 0;
		char		err[256];
		char		msg[SP_MESSAGE_MAX];
		sp_quote	sq;
		sp_bar		sb;
		int			m;

		if (strncmp(e->d_name, "chart_", 6) != 0 || strstr(e->d_name, ".json") == NULL)
			continue;
		body = read_file(dir, e->d_name, &len);
		files++;
		if (yahoo_decode_live(body, len, "AAPL", &q, NULL, err, sizeof(err)) == YAHOO_OK)
		{
			m = sp_encode_quote(&q, msg, sizeof(msg), msg_err);
			if (m > 0 && sp_decode_quote(msg, (size_t) m, &sq, err) && sq.price == q.price)
				quotes++;
			else
				refused++;
		}
		if (yahoo_decode_bars(body, len, "AAPL", &b, &n, err, sizeof(err)) == YAHOO_OK)
		{
			for (size_t i = 0; i < n; i++)
			{
				m = sp_encode_bar(&b[i], msg, sizeof(msg), msg_err);
				if (m > 0 && sp_decode_bar(msg, (size_t) m, &sb, err) && sb.close == b[i].close)
					bars_ok++;
				else
					refused++;
			}
		}
		free(b);
		free(body);
	}
	if (d)
		closedir(d);
	CHECK(files >= 5 && quotes >= 5 && bars_ok >= 500,
		  "every fixture's quotes and bars become messages (contract round trip)");
	check_int(refused, 0, "no quote or bar of a fixture is refused by the consumers' decoder");
	printf("# %d fixtures: %ld quotes and %ld bars published and decoded back\n",
		   files, quotes, bars_ok);
}

/* ------------------------------------------------------------------ */
/* Prices at the tick (issue 12): meta.priceHint decimals.            */

/*
 * The rounding, written independently of yahoo.c for the tests: the
 * shortest decimal that reads back as V (as the float32 V is, if it is
 * one whose spacing is at most a tenth of 10^-H), in fixed notation, rounded half up as text with the carry done
 * by hand, and read back.  V > 0, V * 10^H < 1e15.
 */
static double
ref_round(double v, int h)
{
	char		e[64];
	char		fixed[128];
	char		digits[32];
	int			isf = v >= FLT_MIN && v <= FLT_MAX && (double) (float) v == v &&
		(double) (nextafterf((float) v, INFINITY) - (float) v) <= pow(10, -h - 1) * (1 + 1e-9);
	int			nd = 0;
	int			exp10;
	int			intlen;
	int			len = 0;
	int			cut;

	if (!(v > 0) || isinf(v))
		return NAN;				/* not a price: nothing to round */
	for (int p = 1; p <= 17; p++)
	{
		snprintf(e, sizeof(e), "%.*e", p - 1, v);
		if (isf ? strtof(e, NULL) == (float) v : strtod(e, NULL) == v)
			break;
	}
	for (const char *c = e; *c != 'e'; c++)
		if (*c != '.')
			digits[nd++] = *c;
	exp10 = atoi(strchr(e, 'e') + 1);
	/* "000ddd.ddd000": enough zeros on both sides for any exponent here */
	intlen = exp10 >= 0 ? exp10 + 1 : 1;
	for (int i = 0; i < intlen + 40; i++)
	{
		int			pos = i - (intlen - 1 - exp10);	/* index into digits */

		if (i == intlen)
			fixed[len++] = '.';
		fixed[len++] = (pos >= 0 && pos < nd) ? digits[pos] : '0';
	}
	fixed[len] = '\0';
	/* keep H decimals; carry if the next digit is 5..9 */
	cut = intlen + 1 + h;
	if (fixed[cut] >= '5')
	{
		int			i = cut - 1;

		for (; i >= 0; i--)
		{
			if (fixed[i] == '.')
				continue;
			if (fixed[i] != '9')
				break;
			fixed[i] = '0';
		}
		if (i < 0)
		{
			memmove(fixed + 1, fixed, (size_t) len + 1);
			fixed[0] = '1';
			cut++;
		}
		else
			fixed[i]++;
	}
	fixed[cut] = '\0';
	return strtod(fixed, NULL);
}

/* Decimals of the shortest text that reads back as V (what the encoder writes). */
static int
decimals(double v)
{
	char		buf[64];
	const char *dot;
	const char *ex;
	int			n;

	for (int p = 15; p <= 17; p++)
	{
		snprintf(buf, sizeof(buf), "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	dot = strchr(buf, '.');
	ex = strchr(buf, 'e');
	n = dot ? (int) ((ex ? ex : buf + strlen(buf)) - dot - 1) : 0;
	return ex ? n - atoi(ex + 1) : n;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t
next_rand(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void
test_round_price(void)
{
	char		msg[SP_MESSAGE_MAX];
	sp_bar		b = {.symbol = "AAPL", .date = 20000};
	long		tried = 0;
	long		wrong = 0;
	long		slack = 0;
	char		first[200] = "";

	check_num(yahoo_round_price(225.6699981689453, 2), 225.67, "round: 225.6699981689453 -> 225.67");
	check_num(yahoo_round_price(118.69000244140625, 2), 118.69, "round: 118.69000244140625 -> 118.69");
	check_num(yahoo_round_price(0.1 + 0.2, 2), 0.3, "round: 0.1 + 0.2 -> 0.3");
	check_num(yahoo_round_price(1.005, 2), 1.01,
			  "round: 1.005 (binary 1.00499999999999989...) -> 1.01, half away on the decimal");
	check_num(yahoo_round_price(2.675, 2), 2.68, "round: 2.675 -> 2.68 (printf's %.2f says 2.67)");
	check_num(yahoo_round_price(0.125, 2), 0.13, "round: 0.125 -> 0.13 (half away, not to even)");
	check_num(yahoo_round_price(2.5, 0), 3, "round: 2.5 at 0 decimals -> 3");
	check_num(yahoo_round_price(-2.675, 2), -2.68, "round: -2.675 -> -2.68 (away from zero)");
	check_num(yahoo_round_price(226.85499572753906, 2), 226.86,
			  "round: the float32 of 226.855 (226.85499572753906) -> 226.86, as 226.855 would");
	check_num(yahoo_round_price(226.85499, 2), 226.85, "round: 226.85499 (not a float32) -> 226.85");
	check_num(yahoo_round_price(81957824, 0), 81957824,
			  "round: a float32 coarser than the tick (81957824, spacing 8) keeps its digits");
	check_num(yahoo_round_price(700000.0625, 2), 700000.06,
			  "round: 700000.0625 (float32 spacing 0.0625) -> 700000.06");
	check_num(yahoo_round_price(223.324, 2), 223.32, "round: 223.324 -> 223.32");
	check_num(yahoo_round_price(1.0823456789, 4), 1.0823, "round: 4 decimals");
	check_num(yahoo_round_price(0.000012345678912, 8), 0.00001235, "round: 8 decimals");
	check_num(yahoo_round_price(0.00000000123, 9), 0, "round: a hint above 8 counts as 8");
	check_num(yahoo_round_price(0.004, 2), 0, "round: under half a tick -> 0");
	check_num(yahoo_round_price(0.005, 2), 0.01, "round: half a tick -> one tick");
	check_num(yahoo_round_price(999.995, 2), 1000, "round: carry into a new digit");
	check_num(yahoo_round_price(1e300, 2), 1e300, "round: 1e300 unchanged");
	check_num(yahoo_round_price(12345678901234567.0, 2), 12345678901234600.0,
			  "round: 17 digits -> 15 (all a double is sure to hold)");
	CHECK(isinf(yahoo_round_price(INFINITY, 2)) && isnan(yahoo_round_price(NAN, 2)),
		  "round: infinity and NaN pass through");

	b.close = yahoo_round_price(225.6699981689453, 2);
	b.present = 0;
	sp_encode_bar(&b, msg, sizeof(msg), msg_err);
	CHECK(strstr(msg, "\"close\":225.67}") != NULL, "round: the encoder then writes 225.67");

	/*
	 * Against the reference above: random float32s and doubles of every
	 * size, and values on and around half ticks (as doubles, as float32s,
	 * and a few ulps off), at every hint 0..8.
	 */
	for (int i = 0; i < 300000; i++)
	{
		int			h = (int) (next_rand() % 9);
		uint64_t	r = next_rand();
		double		v;
		double		got;
		double		want;

		switch (i % 4)
		{
			case 0:				/* a float32 */
				v = (float) ((double) (r >> 11) / 9007199254740992.0 *
							 pow(10, (double) (int) (r % 12) - 4));
				break;
			case 1:				/* a double */
				v = (double) (r >> 11) / 9007199254740992.0 * pow(10, (double) (int) (r % 14) - 5);
				break;
			case 2:				/* a half tick, as a double or a float32 */
				v = ((double) (r % 100000000) + 0.5) / pow(10, h);
				if (r & (1u << 30))
					v = (float) v;
				break;
			default:			/* a few ulps off a half tick */
				v = ((double) (r % 1000000) + 0.5) / pow(10, h);
				for (int k = (int) ((r >> 40) % 7) - 3; k != 0; k += k < 0 ? 1 : -1)
					v = nextafter(v, k < 0 ? 0 : INFINITY);
				if (r & (1u << 30))
					v = (float) v;
				break;
		}
		if (!(v > 0) || v * pow(10, h) >= 1e15)
			continue;
		tried++;
		got = yahoo_round_price(v, h);
		want = ref_round(v, h);
		if (got != want || decimals(got) > h || yahoo_round_price(got, h) != got ||
			(got * pow(10, h) < 4503599627370496.0 && llround(got * pow(10, h)) / pow(10, h) != got))
		{
			if (wrong++ == 0)
				snprintf(first, sizeof(first), "%.17g at %d: got %.17g, reference %.17g (%d %d)", v, h,
						 got, want, decimals(got), yahoo_round_price(got, h) != got);
		}
		if (fabs(got - v) > 0.5 / pow(10, h) + fabs(v) * 0x1p-23)
			slack++;
	}
	if (!check(wrong == 0, "round: = the text reference, <= hint decimals, idempotent, "
			   "round(v*10^h)/10^h == v, on %ld values", tried))
		diag("%ld wrong, first: %s", wrong, first);
	check_int(slack, 0, "round: never moves a value by more than half a tick (float32 slack)");
}

/* META with "priceHint":HINT (a JSON value, or NULL for none) added. */
static char *
meta_hint(const char *hint, const char *price, const char *high, const char *low)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf),
			 "{\"currency\":\"USD\",\"gmtoffset\":0,\"regularMarketTime\":1727962260,"
			 "\"regularMarketPrice\":%s,\"regularMarketVolume\":5,"
			 "\"regularMarketDayHigh\":%s,\"regularMarketDayLow\":%s,"
			 "\"previousClose\":1.0777777%s%s}", price, high, low,
			 hint ? ",\"priceHint\":" : "", hint ? hint : "");
	return buf;
}

#define HINT_TS "[1727962200,1727962260]"
#define HINT_QUOTE "{\"open\":[1.08235,1.1],\"high\":[1.2,1.3],\"low\":[1,0.9]," \
	"\"close\":[1.08234,1.0823449],\"volume\":[1,2]}"

static void
test_price_hint(void)
{
	static const struct
	{
		const char *hint;
		double		price;
		double		open;
		const char *what;
	}			cases[] = {
		{"4", 1.0823, 1.0824, "priceHint 4 (a currency)"},
		{"0", 1, 1, "priceHint 0"},
		{"8", 1.08234568, 1.08235, "priceHint 8"},
		{NULL, 1.08, 1.08, "no priceHint: 2"},
		{"9", 1.08, 1.08, "priceHint 9: out of range, 2"},
		{"-1", 1.08, 1.08, "priceHint -1: 2"},
		{"2.5", 1.08, 1.08, "priceHint 2.5: not an integer, 2"},
		{"\"4\"", 1.08, 1.08, "priceHint \"4\" (a string): 2"},
		{"1e999", 1.08, 1.08, "priceHint 1e999: 2"},
		{"4.0", 1.0823, 1.0824, "priceHint 4.0: 4"},
	};
	sp_quote	q;
	sp_bar	   *b;
	size_t		n;
	char		err[256];
	char		name[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		const char *meta = meta_hint(cases[i].hint, "1.082345678", "1.3", "0.9");

		snprintf(name, sizeof(name), "%s: quote", cases[i].what);
		check_int(quote_both_str(chart_json(meta, HINT_TS, HINT_QUOTE), name, &q, err), YAHOO_OK,
				  name);
		snprintf(name, sizeof(name), "%s: price 1.082345678 -> %.8g", cases[i].what, cases[i].price);
		check_num(q.price, cases[i].price, name);
		snprintf(name, sizeof(name), "%s: open from the bars, 1.08235 -> %.8g", cases[i].what,
				 cases[i].open);
		check_num(q.open, cases[i].open, name);
	}
	check_num(q.prev_close, 1.0778, "priceHint 4: prev_close 1.0777777 -> 1.0778");

	/* a price under half a tick is no price */
	check_int(quote_both_str(chart_json(meta_hint("2", "0.004", "1.3", "0.9"), HINT_TS, HINT_QUOTE),
							 "price under half a tick", &q, err), YAHOO_NO_DATA,
			  "meta price 0.004 at priceHint 2: refused");
	check_str(err, "meta.regularMarketPrice 0.004 is not a price at priceHint 2 (rounds to 0)",
			  "meta price 0.004 at priceHint 2: the reason");
	check_int(quote_both_str(chart_json(meta_hint("4", "0.004", "1.3", "0.9"), HINT_TS, HINT_QUOTE),
							 "price 0.004 at priceHint 4", &q, err), YAHOO_OK,
			  "meta price 0.004 at priceHint 4: a price");
	check_num(q.price, 0.004, "meta price 0.004 at priceHint 4: kept");
	/* meta low under half a tick: unknown, so the reference takes the bars' (0.9) */
	check_int(quote_both_str(chart_json(meta_hint("2", "1.5", "1.3", "0.001"), HINT_TS, HINT_QUOTE),
							 "low under half a tick", &q, err), YAHOO_OK,
			  "meta low 0.001 at priceHint 2: decodes");
	check_num(q.low, 0.9, "meta low 0.001 at priceHint 2: the day's low from the bars");
	/* the bars' aggregates are taken at the tick too */
	check_int(quote_both_str(chart_json("{\"gmtoffset\":0,\"priceHint\":1}", HINT_TS,
										"{\"open\":[0.04,1.06],\"high\":[1.24,1.25],"
										"\"low\":[0.04,1.06],\"close\":[1.14,1.15]}"),
							 "aggregates at priceHint 1", &q, err), YAHOO_OK,
			  "aggregates at priceHint 1: decodes");
	check_num(q.price, 1.2, "aggregates at priceHint 1: price 1.15 -> 1.2");
	check_num(q.open, 1.1, "aggregates at priceHint 1: open 0.04 is under half a tick, 1.06 -> 1.1");
	check_num(q.high, 1.3, "aggregates at priceHint 1: high 1.25 -> 1.3");
	check_num(q.low, 1.1, "aggregates at priceHint 1: low 0.04 is no price, 1.06 -> 1.1");

	/* bars: a close under half a tick is no close; the others at the tick */
	check_int(bars_of("{\"priceHint\":2}", "[1600100000,1600200000]",
					  "{\"open\":[0.001,2.345],\"high\":[1,2.3449999],\"low\":[0.001,2.3350001],"
					  "\"close\":[0.004,2.3400001]}", &b, &n, err),
			  YAHOO_OK, "bars at the tick: decode");
	check_int((long long) n, 1, "bars at the tick: a close of 0.004 at priceHint 2 is no bar");
	check_num(b[0].open, 2.35, "bars at the tick: open 2.345 -> 2.35");
	check_num(b[0].high, 2.34, "bars at the tick: high 2.3449999 -> 2.34");
	check_num(b[0].low, 2.34, "bars at the tick: low 2.3350001 -> 2.34");
	check_num(b[0].close, 2.34, "bars at the tick: close 2.3400001 -> 2.34");
	free(b);
}

/* meta.priceHint of a parsed chart as the decoders read it: an integer 0..8, else 2. */
static int
fixture_hint(const cJSON *meta)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(meta, "priceHint");

	if (cJSON_IsNumber(h) && h->valuedouble >= 0 && h->valuedouble <= 8 &&
		h->valuedouble == (int) h->valuedouble)
		return (int) h->valuedouble;
	return 2;
}

static double
fixture_num(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Element I of ARR as a price rounded at H, NAN for null. */
static double
fixture_price(const cJSON *arr, int i, int h)
{
	const cJSON *v = cJSON_GetArrayItem(arr, i);

	return cJSON_IsNumber(v) ? ref_round(v->valuedouble, h) : NAN;
}

/* Counts one decoded price against its expected value. */
static void
tally_price(double got, unsigned present, unsigned bit, double want, double raw, int h,
			long *n, long *changed, long *wrong, char *first, size_t size, const char *what)
{
	int			has = bit == 0 || (present & bit);

	if (isnan(want) && !has)
		return;
	(*n)++;
	if (!isnan(raw) && raw != want)
		(*changed)++;
	if (!has || got != want || decimals(got) > h)
	{
		if ((*wrong)++ == 0)
			snprintf(first, size, "%s: got %.17g, want %.17g (raw %.17g)", what,
					 has ? got : NAN, want, raw);
	}
}

/*
 * Every fixture: each price of the quote and of every bar equals the
 * fixture's raw value rounded to its priceHint (by ref_round, not by the
 * decoder's code), and has at most priceHint decimals.
 */
static void
test_fixtures_at_tick(const char *dir)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;
	long		n = 0;
	long		changed = 0;
	long		wrong = 0;
	int			files = 0;
	char		first[300] = "";

	while (d && (e = readdir(d)) != NULL)
	{
		size_t		len;
		char	   *body;
		cJSON	   *root;
		cJSON	   *r0;
		cJSON	   *meta;
		cJSON	   *q;
		cJSON	   *adj;
		cJSON	   *ts;
		int			h;
		sp_quote	quote;
		sp_bar	   *bars = NULL;
		size_t		nbars = 0;
		char		err[256];
		double		prev;

		if (strncmp(e->d_name, "chart_", 6) != 0 || strstr(e->d_name, ".json") == NULL)
			continue;
		body = read_file(dir, e->d_name, &len);
		root = cJSON_ParseWithLength(body, len);
		r0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(root, "chart"), "result"), 0);
		meta = cJSON_GetObjectItemCaseSensitive(r0, "meta");
		if (meta == NULL)
		{
			cJSON_Delete(root);
			free(body);
			continue;
		}
		files++;
		h = fixture_hint(meta);
		q = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(r0, "indicators"), "quote"), 0);
		adj = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(r0, "indicators"), "adjclose"), 0);
		ts = cJSON_GetObjectItemCaseSensitive(r0, "timestamp");

		/* the quote: meta's values (all fixtures have them) */
		if (yahoo_decode_live(body, len, "X", &quote, NULL, err, sizeof(err)) == YAHOO_OK)
		{
			double		raw = fixture_num(meta, "regularMarketPrice");

			tally_price(quote.price, 0, 0, ref_round(raw, h), raw, h, &n, &changed, &wrong,
						first, sizeof(first), "price");
			raw = fixture_num(meta, "regularMarketDayHigh");
			tally_price(quote.high, quote.present, SP_HAS_HIGH, ref_round(raw, h), raw, h, &n,
						&changed, &wrong, first, sizeof(first), "high");
			raw = fixture_num(meta, "regularMarketDayLow");
			tally_price(quote.low, quote.present, SP_HAS_LOW, ref_round(raw, h), raw, h, &n,
						&changed, &wrong, first, sizeof(first), "low");
			prev = fixture_num(meta, "previousClose");
			if (isnan(prev))
				prev = fixture_num(meta, "chartPreviousClose");
			tally_price(quote.prev_close, quote.present, SP_HAS_PREV_CLOSE, ref_round(prev, h),
						prev, h, &n, &changed, &wrong, first, sizeof(first), "prev_close");
			/* open: the first of the quote's day (meta has none in any fixture) */
			raw = NAN;
			for (int i = 0; i < cJSON_GetArraySize(ts); i++)
			{
				int64_t		off = (int64_t) fixture_num(meta, "gmtoffset");
				int64_t		t = (int64_t) cJSON_GetArrayItem(ts, i)->valuedouble + off;
				int64_t		qt = (int64_t) fixture_num(meta, "regularMarketTime") + off;
				const cJSON *o = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(q, "open"), i);

				if (t / 86400 == qt / 86400 && cJSON_IsNumber(o))
				{
					raw = o->valuedouble;
					break;
				}
			}
			tally_price(quote.open, quote.present, SP_HAS_OPEN, ref_round(raw, h), raw, h, &n,
						&changed, &wrong, first, sizeof(first), "open");
		}
		else
			wrong++;

		/* the bars: the last element of each date (the fixtures are sorted) */
		if (yahoo_decode_bars(body, len, "X", &bars, &nbars, err, sizeof(err)) == YAHOO_OK)
		{
			int			count = cJSON_GetArraySize(ts);
			size_t		k = 0;
			int64_t		off = (int64_t) fixture_num(meta, "gmtoffset");

			for (int i = 0; i < count && k < nbars; i++)
			{
				int64_t		t = (int64_t) cJSON_GetArrayItem(ts, i)->valuedouble + off;
				int32_t		date = (int32_t) ((t - (((t % 86400) + 86400) % 86400)) / 86400);
				int			last = 1;
				struct
				{
					const char *key;
					double		got;
					unsigned	bit;
				}			f[] = {
					{"open", bars[k].open, SP_HAS_OPEN}, {"high", bars[k].high, SP_HAS_HIGH},
					{"low", bars[k].low, SP_HAS_LOW}, {"close", bars[k].close, 0},
				};

				if (isnan(fixture_price(cJSON_GetObjectItemCaseSensitive(q, "close"), i, h)))
					continue;
				for (int j = i + 1; j < count; j++)
				{
					int64_t		tj = (int64_t) cJSON_GetArrayItem(ts, j)->valuedouble + off;

					if ((tj - (((tj % 86400) + 86400) % 86400)) / 86400 == date &&
						!isnan(fixture_price(cJSON_GetObjectItemCaseSensitive(q, "close"), j, h)))
						last = 0;
				}
				if (!last)
					continue;
				if (bars[k].date != date && wrong++ == 0)
					snprintf(first, sizeof(first), "%s: bar %zu dated %d, want %d", e->d_name, k,
							 (int) bars[k].date, (int) date);
				for (size_t m = 0; m < sizeof(f) / sizeof(f[0]); m++)
				{
					const cJSON *arr = cJSON_GetObjectItemCaseSensitive(q, f[m].key);
					const cJSON *raw = cJSON_GetArrayItem(arr, i);

					tally_price(f[m].got, bars[k].present, f[m].bit, fixture_price(arr, i, h),
								cJSON_IsNumber(raw) ? raw->valuedouble : NAN, h, &n, &changed,
								&wrong, first, sizeof(first), f[m].key);
				}
				if (adj)
				{
					const cJSON *arr = cJSON_GetObjectItemCaseSensitive(adj, "adjclose");
					const cJSON *raw = cJSON_GetArrayItem(arr, i);

					tally_price(bars[k].adj_close, bars[k].present, SP_HAS_ADJ_CLOSE,
								fixture_price(arr, i, h), cJSON_IsNumber(raw) ? raw->valuedouble : NAN,
								h, &n, &changed, &wrong, first, sizeof(first), "adj_close");
				}
				k++;
			}
			if (k != nbars && wrong++ == 0)
				snprintf(first, sizeof(first), "%s: %zu bars checked of %zu", e->d_name, k, nbars);
		}
		free(bars);
		cJSON_Delete(root);
		free(body);
	}
	if (d)
		closedir(d);
	if (!check(files >= 6 && n > 2000 && wrong == 0,
			   "every fixture: quote and bar prices = raw values rounded to priceHint (%ld prices "
			   "in %d files)", n, files))
		diag("%ld wrong, first: %s", wrong, first);
	printf("# %ld of %ld fixture prices changed by rounding to priceHint\n", changed, n);
}

/*
 * The live path and the daily-bars path give the same close for the same
 * day.  The 1-minute AAPL fixture has both for 2024-10-03: meta's price at
 * the close (225.67, a double) and the extra last element, that day's bar
 * (225.6699981689453, a float32); the daily fixtures' meta is of 2025,
 * outside their bars.
 */
static void
test_live_equals_daily(const char *dir)
{
	size_t		len;
	char	   *body = read_file(dir, "chart_AAPL_1d_1m.json", &len);
	sp_quote	q;
	sp_bar	   *b = NULL;
	size_t		n = 0;
	char		err[256];
	char		qm[SP_MESSAGE_MAX];
	char		bm[SP_MESSAGE_MAX];

	yahoo_decode_live(body, len, "AAPL", &q, NULL, err, sizeof(err));
	yahoo_decode_bars(body, len, "AAPL", &b, &n, err, sizeof(err));
	check_int((long long) n, 2, "live = daily: the 1m response holds bars of 2024-10-02 and -03");
	if (n == 2)
	{
		check_str(date_text(b[1].date), "2024-10-03", "live = daily: the quote's day");
		check_num(b[1].close, q.price, "live = daily: the day's bar close = the quote's price (225.67)");
		check_num(b[1].open, q.open, "live = daily: the day's bar open = the quote's open");
		sp_encode_quote(&q, qm, sizeof(qm), msg_err);
		sp_encode_bar(&b[1], bm, sizeof(bm), msg_err);
		CHECK(strstr(qm, "\"price\":225.67,") != NULL && strstr(bm, "\"close\":225.67,") != NULL,
			  "live = daily: both messages say 225.67");
	}
	free(b);
	free(body);
}

/* ------------------------------------------------------------------ */
/* Trading periods (issue 12): meta.currentTradingPeriod per symbol.   */

/* Decodes BODY with both decoders; checks they agree on the periods too. */
static enum yahoo_status
live_both(const char *body, size_t len, const char *name, struct yahoo_periods *p)
{
	sp_quote	q1;
	sp_quote	q2;
	struct yahoo_periods fast;
	char		err[256];
	enum yahoo_status sf;
	enum yahoo_status sr;

	memset(&fast, 0x55, sizeof(fast));
	memset(p, 0x55, sizeof(*p));
	sf = yahoo_decode_live(body, len, "T", &q1, &fast, err, sizeof(err));
	sr = yahoo_decode_live_full(body, len, "T", &q2, p, err, sizeof(err));
	check(sf == sr && (sr != YAHOO_OK || (same_quote(&q1, &q2) &&
										  memcmp(&fast, p, sizeof(fast)) == 0)),
		  "%s: fast decoder = reference decoder, periods included", name);
	return sr;
}

static void
test_periods(const char *dir)
{
	size_t		len;
	char	   *body = read_file(dir, "chart_AAPL_1d_1m.json", &len);
	struct yahoo_periods p;
	char		meta[1024];
	char		j[4096];
	int			disagreements = 0;
	int			tried = 0;

	check_int(live_both(body, len, "periods, AAPL 1m", &p), YAHOO_OK, "periods, AAPL 1m: decodes");
	check_int(p.known, SESSION_ALL, "periods, AAPL 1m: pre, regular and post known");
	CHECK(p.start[YAHOO_PRE] == 1728028800 && p.end[YAHOO_PRE] == 1728048600 &&
		  p.start[YAHOO_REGULAR] == 1728048600 && p.end[YAHOO_REGULAR] == 1728072000 &&
		  p.start[YAHOO_POST] == 1728072000 && p.end[YAHOO_POST] == 1728086400,
		  "periods, AAPL 1m: Friday 2024-10-04 04:00-09:30-16:00-20:00 EDT");
	check_int(p.gmtoffset, -14400, "periods, AAPL 1m: UTC-4");
	check_str(p.timezone, "America/New_York", "periods, AAPL 1m: exchangeTimezoneName");
	check_str(p.exchange, "NasdaqGS", "periods, AAPL 1m: fullExchangeName");
	/* damaged copies: the fast path and the reference agree on the periods as well */
	for (size_t at = 0; at < len; at += 97)
	{
		char		saved = body[at];
		static const char repl[] = {'x', '"', ',', '}', '1', '-'};

		for (size_t r = 0; r < sizeof(repl); r++)
		{
			sp_quote	q1;
			sp_quote	q2;
			struct yahoo_periods a;
			struct yahoo_periods b;
			char		err[256];
			enum yahoo_status sa;
			enum yahoo_status sb;

			body[at] = repl[r];
			memset(&a, 0, sizeof(a));
			memset(&b, 0, sizeof(b));
			sa = yahoo_decode_live(body, len, "X", &q1, &a, err, sizeof(err));
			sb = yahoo_decode_live_full(body, len, "X", &q2, &b, err, sizeof(err));
			tried++;
			if (sa != sb || (sa == YAHOO_OK && memcmp(&a, &b, sizeof(a)) != 0))
				disagreements++;
		}
		body[at] = saved;
	}
	check(disagreements == 0, "periods: fast = reference on %d damaged bodies", tried);
	free(body);

	body = read_file(dir, "chart_WSU.DE_daily_2023-08-04_to_2023-08-09.json", &len);
	live_both(body, len, "periods, WSU.DE", &p);
	CHECK(p.known == SESSION_ALL && p.start[YAHOO_REGULAR] == 1740038400 &&
		  p.end[YAHOO_REGULAR] == 1740069000 && p.gmtoffset == 3600 &&
		  strcmp(p.timezone, "Europe/Berlin") == 0 && strcmp(p.exchange, "XETRA") == 0,
		  "periods, WSU.DE: XETRA 09:00-17:30 CET, Europe/Berlin");
	free(body);

	/* hand-made: the reference path too (meta without high/low) */
#define PERIODS_META(ctp, extra) \
	snprintf(meta, sizeof(meta), "{\"regularMarketPrice\":5,\"regularMarketTime\":1727985601," \
			 "\"currentTradingPeriod\":%s%s}", ctp, extra)
#define PERIODS_CHART() snprintf(j, sizeof(j), "%s", chart_json(meta, "[]", "{}"))

	PERIODS_META("null", "");
	PERIODS_CHART();
	check_int(live_both(j, strlen(j), "periods: none", &p), YAHOO_OK, "periods: none, quote decodes");
	CHECK(p.known == 0 && p.timezone[0] == '\0' && p.exchange[0] == '\0',
		  "periods: none known, names empty");
	PERIODS_META("{\"regular\":{\"start\":200,\"end\":100},\"pre\":{\"start\":1e999,\"end\":100},"
				 "\"post\":{\"start\":0,\"end\":86401}}", "");
	PERIODS_CHART();
	live_both(j, strlen(j), "periods: reversed, infinite, longer than a day", &p);
	check_int(p.known, 0, "periods: reversed, infinite and longer than a day are not periods");
	PERIODS_META("{\"regular\":{\"start\":100,\"end\":86500,\"gmtoffset\":1e9},"
				 "\"pre\":{\"start\":50,\"end\":100,\"gmtoffset\":-18000}}",
				 ",\"exchangeName\":\"NMS\",\"exchangeTimezoneName\":\"Evil\\nZone\"");
	PERIODS_CHART();
	live_both(j, strlen(j), "periods: pre and a 24 h regular", &p);
	CHECK(p.known == (SESSION_PRE | SESSION_REGULAR) && p.end[YAHOO_REGULAR] == 86500 &&
		  p.gmtoffset == -18000, "periods: a day long is a period; an offset of 1e9 s is not used");
	check_str(p.timezone, "", "periods: a name with a control character is left out (logs)");
	check_str(p.exchange, "NMS", "periods: exchangeName when there is no fullExchangeName");
	PERIODS_META("{\"regular\":{\"start\":\"100\",\"end\":200}}", "");
	PERIODS_CHART();
	live_both(j, strlen(j), "periods: a time as a string", &p);
	check_int(p.known, 0, "periods: a time as a string is not a time");
#undef PERIODS_META
#undef PERIODS_CHART
}

/*
 * The answer to the live request (range=1d&interval=1d) made from a
 * recorded chart, as producer/test/fake_yahoo.py's day_chart() makes it
 * (written again here, so that the two can be compared end to end): meta
 * with dataGranularity and range "1d", no events, and one bar for the
 * latest exchange-local day with bars -- first time, first open > 0,
 * highest high, lowest low, last close (and adjclose), summed volume.  A
 * chart without bars is left without.  Returns a malloc'd body.
 */
static char *
day_chart(const char *body, size_t len)
{
	cJSON	   *root = cJSON_ParseWithLength(body, len);
	cJSON	   *r0 = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "chart"),
															"result"), 0);
	cJSON	   *meta = cJSON_GetObjectItem(r0, "meta");
	cJSON	   *ts = cJSON_GetObjectItem(r0, "timestamp");
	cJSON	   *quote = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r0, "indicators"),
															   "quote"), 0);
	int			n = cJSON_GetArraySize(ts);
	char	   *out;

	cJSON_ReplaceItemInObject(meta, "dataGranularity", cJSON_CreateString("1d"));
	cJSON_ReplaceItemInObject(meta, "range", cJSON_CreateString("1d"));
	cJSON_DeleteItemFromObject(r0, "events");
	if (n > 0)
	{
		double		off = cJSON_GetNumberValue(cJSON_GetObjectItem(meta, "gmtoffset"));
		double		last = floor((cJSON_GetArrayItem(ts, n - 1)->valuedouble + (isnan(off) ? 0 : off)) / 86400);
		double		first_t = NAN, open = NAN, high = NAN, low = NAN, close = NAN, volume = NAN;
		cJSON	   *bar = cJSON_CreateObject();
		cJSON	   *ind = cJSON_CreateObject();
		cJSON	   *adj = cJSON_CreateObject();

		for (int i = 0; i < n; i++)
		{
			double		t = cJSON_GetArrayItem(ts, i)->valuedouble;
			const cJSON *o = cJSON_GetArrayItem(cJSON_GetObjectItem(quote, "open"), i);
			const cJSON *h = cJSON_GetArrayItem(cJSON_GetObjectItem(quote, "high"), i);
			const cJSON *l = cJSON_GetArrayItem(cJSON_GetObjectItem(quote, "low"), i);
			const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(quote, "close"), i);
			const cJSON *v = cJSON_GetArrayItem(cJSON_GetObjectItem(quote, "volume"), i);

			if (floor((t + (isnan(off) ? 0 : off)) / 86400) != last)
				continue;
			if (isnan(first_t))
				first_t = t;
			if (isnan(open) && cJSON_IsNumber(o) && o->valuedouble > 0)
				open = o->valuedouble;
			if (cJSON_IsNumber(h) && (isnan(high) || h->valuedouble > high))
				high = h->valuedouble;
			if (cJSON_IsNumber(l) && (isnan(low) || l->valuedouble < low))
				low = l->valuedouble;
			if (cJSON_IsNumber(c))
				close = c->valuedouble;
			if (cJSON_IsNumber(v))
				volume = (isnan(volume) ? 0 : volume) + v->valuedouble;
		}
#define BAR_VALUE(obj, key, x) \
		cJSON_AddItemToObject(obj, key, cJSON_CreateArray()), \
		cJSON_AddItemToArray(cJSON_GetObjectItem(obj, key), \
							 isnan(x) ? cJSON_CreateNull() : cJSON_CreateNumber(x))
		BAR_VALUE(bar, "open", open);
		BAR_VALUE(bar, "high", high);
		BAR_VALUE(bar, "low", low);
		BAR_VALUE(bar, "close", close);
		BAR_VALUE(bar, "volume", volume);
		BAR_VALUE(adj, "adjclose", close);
#undef BAR_VALUE
		cJSON_ReplaceItemInObject(r0, "timestamp", cJSON_CreateArray());
		cJSON_AddItemToArray(cJSON_GetObjectItem(r0, "timestamp"), cJSON_CreateNumber(first_t));
		cJSON_AddItemToObject(ind, "quote", cJSON_CreateArray());
		cJSON_AddItemToArray(cJSON_GetObjectItem(ind, "quote"), bar);
		cJSON_AddItemToObject(ind, "adjclose", cJSON_CreateArray());
		cJSON_AddItemToArray(cJSON_GetObjectItem(ind, "adjclose"), adj);
		cJSON_ReplaceItemInObject(r0, "indicators", ind);
	}
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}

/* Every field of the quote and of the trading periods the same. */
static int
same_live(const sp_quote *a, const struct yahoo_periods *pa, const sp_quote *b,
		  const struct yahoo_periods *pb)
{
	return same_quote(a, b) && memcmp(pa, pb, sizeof(*pa)) == 0;
}

/*
 * Issue 13: the live request asks for the day as one bar (range=1d&
 * interval=1d, ~1.5 KB) instead of a day of minutes (~36 KB).  For every
 * live fixture, the quote and trading periods from its day response equal
 * those from the recorded response (what was published before); the fast
 * path alone takes the day response (no tree, no fallback) and agrees
 * with the reference decoder, also on truncated and damaged copies.
 */
static void
test_day_request(const char *dir)
{
	static const char *files[] = {
		"chart_AAPL_1d_1m.json", "chart_AAPL_1m_weekend_no_bars.json",
		"chart_MSFT_daily_2021-02-01_to_2022-01-31.json",
		"chart_NVDA_daily_2021-02-01_to_2022-01-31.json",
		"chart_WSU.DE_daily_2023-08-04_to_2023-08-09.json",
		"chart_AAPL_daily_2020-08-31_to_2020-11-06.json"
	};
	char		err[256];
	int			tried = 0;
	int			disagreements = 0;
	int			fast_taken = 0;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
	{
		size_t		len;
		char	   *body = read_file(dir, files[i], &len);
		char	   *day = day_chart(body, len);
		size_t		dlen = strlen(day);
		sp_quote	q_rec, q_day, q_fast, q_ref;
		struct yahoo_periods p_rec, p_day, p_fast, p_ref;
		enum yahoo_status s_rec, s_day;

		memset(&p_rec, 0, sizeof(p_rec));
		memset(&p_day, 0x55, sizeof(p_day));
		s_rec = yahoo_decode_live(body, len, "X", &q_rec, &p_rec, err, sizeof(err));
		s_day = yahoo_decode_live(day, dlen, "X", &q_day, &p_day, err, sizeof(err));
		check(s_rec == YAHOO_OK && s_day == YAHOO_OK && same_live(&q_rec, &p_rec, &q_day, &p_day),
			  "day request: %s: the quote from its day (%zu bytes) = the quote from the "
			  "recorded response (%zu bytes), periods included", files[i], dlen, len);
		CHECK(dlen < 2048 || len < 2048, "day request: the day response is under 2 KB");
		memset(&p_fast, 0, sizeof(p_fast));
		check(yahoo_decode_live_fast(day, dlen, "X", &q_fast, &p_fast) == 0 &&
			  yahoo_decode_live_full(day, dlen, "X", &q_ref, &p_ref, err, sizeof(err)) == YAHOO_OK &&
			  same_live(&q_fast, &p_fast, &q_ref, &p_ref),
			  "day request: %s: the fast path alone takes its day and agrees with the reference",
			  files[i]);
		/* truncated and damaged day responses */
		for (size_t cut = 0; cut < dlen; cut++)
		{
			int			f = yahoo_decode_live_fast(day, cut, "X", &q_fast, &p_fast);
			enum yahoo_status sr = yahoo_decode_live_full(day, cut, "X", &q_ref, &p_ref, err,
														   sizeof(err));

			tried++;
			if (f == 0 && (sr != YAHOO_OK || !same_live(&q_fast, &p_fast, &q_ref, &p_ref)))
				disagreements++;
		}
		for (size_t at = 0; at < dlen; at += 7)
		{
			static const char repl[] = {'x', '"', ',', ']', '}', '-', '.', '\\', ' ', '0', 'e'};
			char		saved = day[at];

			for (size_t r = 0; r < sizeof(repl); r++)
			{
				int			f;
				enum yahoo_status sr;

				day[at] = repl[r];
				f = yahoo_decode_live_fast(day, dlen, "X", &q_fast, &p_fast);
				sr = yahoo_decode_live_full(day, dlen, "X", &q_ref, &p_ref, err, sizeof(err));
				tried++;
				fast_taken += f == 0;
				if (f == 0 && (sr != YAHOO_OK || !same_live(&q_fast, &p_fast, &q_ref, &p_ref)))
					disagreements++;
			}
			day[at] = saved;
		}
		free(day);
		free(body);
	}
	if (!check(disagreements == 0, "day request: the fast path never disagrees with the reference "
			   "on %d truncated/damaged day responses (%d damaged ones taken fast)", tried, fast_taken))
		diag("%d disagreed", disagreements);
}

/*
 * meta read from the text (no tree) where cJSON might read it differently:
 * escaped names and strings, duplicates, odd types, long strings.  The
 * fast path may decline (then the reference decides) but never differ.
 */
static void
test_meta_from_text(void)
{
	static const struct
	{
		const char *extra;		/* members added at the end of a complete meta */
		const char *name;
		int			fast;		/* 1: the fast path must take it */
	}			cases[] = {
		{"", "plain meta", 1},
		{",\"currency\":\"EUR\"", "duplicate currency (cJSON: the first)", 1},
		{",\"regularMarketPrice\":1", "duplicate price (cJSON: the first)", 1},
		{",\"regularMarketOpen\":\"225\"", "open as a string: no open from meta", 1},
		{",\"regularMarketOpen\":225.004", "open from meta, rounded", 1},
		{",\"regularMarketOpen\":null", "open null", 1},
		{",\"exchangeTimezoneName\":\"America\\/New_York\"", "escaped string", 0},
		{",\"exchangeTimezon\\u0065Name\":\"Zone/X\"", "escaped name", 0},
		{",\"fullExchangeName\":\"" "Lorem ipsum dolor sit amet, consectetur adipiscing elit, "
			"sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad"
			"\"", "over-long exchange name", 0},
		{",\"fullExchangeName\":\"A name longer than forty characters, for the logs\"",
		 "exchange name too long for the logs", 1},
		{",\"exchangeName\":\"NMS\",\"fullExchangeName\":7", "fullExchangeName a number", 1},
		{",\"currentTradingPeriod\":[{\"start\":1,\"end\":2}]", "periods an array", 1},
		{",\"currentTradingPeriod\":{\"regular\":{\"start\":1727962200,\"end\":1727985600,"
			"\"start\":0,\"gmtoffset\":-14400},\"regular\":{}}", "duplicate period and start", 1},
		{",\"currentTradingPeriod\":{\"pre\":\"x\",\"post\":{\"start\":1727985600,"
			"\"end\":1728000000},\"regular\":{\"st\\u0061rt\":1,\"end\":2}}", "escaped period key", 0},
		{",\"currentTradingPeriod\":{\"pre\":{\"start\":1e999,\"end\":1}}", "period time infinite", 1},
		{",\"priceHint\":4,\"regularMarketDayLow\":223.32449", "priceHint 4", 1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char		meta[2048];
		char		body[4096];
		sp_quote	qf, qr;
		struct yahoo_periods pf, pr;
		char		err[256];
		int			f;
		enum yahoo_status sr;

		snprintf(meta, sizeof(meta),
				 "{\"currency\":\"USD\",\"gmtoffset\":-14400,\"regularMarketTime\":1727985601,"
				 "\"regularMarketPrice\":225.67,\"regularMarketVolume\":33638504,"
				 "\"regularMarketDayHigh\":226.8,\"regularMarketDayLow\":223.324,"
				 "\"previousClose\":226.78%s}", cases[i].extra);
		snprintf(body, sizeof(body), "%s", chart_json(meta, "[1727962200]",
													   "{\"open\":[225.1],\"close\":[225.6]}"));
		memset(&pf, 0, sizeof(pf));
		f = yahoo_decode_live_fast(body, strlen(body), "T", &qf, &pf);
		sr = yahoo_decode_live_full(body, strlen(body), "T", &qr, &pr, err, sizeof(err));
		check(sr == YAHOO_OK && (f != 0 || same_live(&qf, &pf, &qr, &pr)) && (f == 0) >= cases[i].fast,
			  "meta from the text: %s: %s, same as cJSON", cases[i].name,
			  f == 0 ? "fast path" : "left to the reference");
	}
}

int
main(void)
{
	const char *dir = fixtures_dir();

	test_live_aapl(dir);
	test_live_weekend(dir);
	test_daily(dir);
	test_errors(dir);
	test_fallbacks();
	test_url();
	test_fast_equals_full(dir);
	test_time_ranges();
	test_bar_dates();
	test_bar_order();
	test_value_ranges();
	test_fast_path_syntax();
	test_fixtures_publishable(dir);
	test_round_price();
	test_price_hint();
	test_fixtures_at_tick(dir);
	test_live_equals_daily(dir);
	test_periods(dir);
	test_day_request(dir);
	test_meta_from_text();
	return tap_summary();
}
