/*
 * yahoo_test.c -- chart JSON -> quote and bars, against the recorded Yahoo
 * fixtures (including the null minute, the weekend response without bars
 * and the error bodies) and small hand-made edge cases.
 */
#include <math.h>

#include "message.h"
#include "tap.h"
#include "yahoo.h"

static void
test_live_aapl(const char *dir)
{
	size_t		len;
	char	   *body = read_file(dir, "chart_AAPL_1d_1m.json", &len);
	struct quote q;
	char		err[256];
	enum yahoo_status st = yahoo_decode_quote(body, len, "AAPL", &q, err, sizeof(err));

	check_int(st, YAHOO_OK, "1m AAPL: decodes");
	check_str(q.symbol, "AAPL", "1m AAPL: symbol");
	check_int(q.ts_ms, 1727985601000LL, "1m AAPL: ts = meta.regularMarketTime");
	check_num(q.price, 225.67, "1m AAPL: price = meta.regularMarketPrice");
	check_int(q.volume, 33638504, "1m AAPL: volume = meta.regularMarketVolume");
	check_num(q.high, 226.8, "1m AAPL: high = meta.regularMarketDayHigh");
	check_num(q.low, 223.324, "1m AAPL: low = meta.regularMarketDayLow");
	check_num(q.prev_close, 226.78, "1m AAPL: prev_close = meta.previousClose");
	/* meta has no open: the first bar of the quote's own day (2024-10-03,
	 * the extra last element), not the first bar of 2024-10-02 */
	check_num(q.open, 225.6699981689453, "1m AAPL: open from the quote day's first bar");
	check_str(q.currency, "USD", "1m AAPL: currency");
	check_str(q.source, "yahoo", "1m AAPL: source");
	free(body);
}

static void
test_live_weekend(const char *dir)
{
	size_t		len;
	char	   *body = read_file(dir, "chart_AAPL_1m_weekend_no_bars.json", &len);
	struct quote q;
	struct bar *bars;
	size_t		n = 99;
	char		err[256];

	check_int(yahoo_decode_quote(body, len, "AAPL", &q, err, sizeof(err)), YAHOO_OK,
			  "weekend (no timestamp key, quote [{}]): quote decodes");
	check_num(q.price, 244.87, "weekend: price");
	check_int(q.ts_ms, 1739998801000LL, "weekend: ts");
	check_int(q.volume, 32129951, "weekend: volume");
	CHECK(isnan(q.open), "weekend: no bars, so no open");
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
	struct bar *b;
	size_t		n;
	char		err[256];
	char		msg[MESSAGE_MAX];

	check_int(yahoo_decode_bars(body, len, "AAPL", &b, &n, err, sizeof(err)), YAHOO_OK,
			  "daily AAPL: decodes");
	check_int((long long) n, 49, "daily AAPL: 49 bars");
	check_str(b[0].date, "2020-08-31", "daily AAPL: first date");
	check_num(b[0].open, 127.58000183105469, "daily AAPL: first open");
	check_num(b[0].high, 131, "daily AAPL: first high");
	check_num(b[0].low, 126, "daily AAPL: first low");
	check_num(b[0].close, 129.0399932861328, "daily AAPL: first close");
	check_num(b[0].adj_close, 125.82673645019531, "daily AAPL: first adj_close from indicators.adjclose");
	check_int(b[0].volume, 225702700, "daily AAPL: first volume");
	check_str(b[48].date, "2020-11-06", "daily AAPL: last date");
	check_num(b[48].close, 118.69000244140625, "daily AAPL: last close");
	message_bar_json(&b[48], msg, sizeof(msg));
	check_str(msg, "{\"symbol\":\"AAPL\",\"date\":\"2020-11-06\",\"open\":118.31999969482422,"
			  "\"high\":119.19999694824219,\"low\":116.12999725341797,\"close\":118.69000244140625,"
			  "\"adj_close\":115.93415069580078,\"volume\":114457900}",
			  "daily AAPL: last bar message");
	free(b);
	free(body);

	body = read_file(dir, "chart_MSFT_daily_2021-02-01_to_2022-01-31.json", &len);
	yahoo_decode_bars(body, len, "MSFT", &b, &n, err, sizeof(err));
	check_int((long long) n, 252, "daily MSFT: 252 bars");
	check_str(b[251].date, "2022-01-28", "daily MSFT: last date");
	check_num(b[251].adj_close, 299.8661193847656, "daily MSFT: last adj_close");
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
	check_str(b[0].date, "2023-08-04", "daily WSU.DE: first date");
	check_str(b[1].date, "2023-08-07", "daily WSU.DE: second date (after a weekend)");
	check_int(b[2].volume, 10846, "daily WSU.DE: third volume");
	free(b);
	free(body);
}

static void
test_errors(const char *dir)
{
	size_t		len;
	char	   *body = read_file(dir, "chart_error_not_found_SI.json", &len);
	struct quote q;
	struct bar *b;
	size_t		n;
	char		err[256];

	check_int(yahoo_decode_quote(body, len, "SI", &q, err, sizeof(err)), YAHOO_CHART_ERROR,
			  "404 body: chart error");
	check_str(err, "Not Found: No data found, symbol may be delisted", "404 body: message");
	check_int(yahoo_decode_bars(body, len, "SI", &b, &n, err, sizeof(err)), YAHOO_CHART_ERROR,
			  "404 body: chart error for bars too");
	CHECK(b == NULL && n == 0, "404 body: no bars returned");
	free(body);

	body = read_file(dir, "chart_error_bad_request_BEKE.json", &len);
	check_int(yahoo_decode_quote(body, len, "BEKE", &q, err, sizeof(err)), YAHOO_CHART_ERROR,
			  "400 body: chart error");
	check_str(err, "Bad Request: Data doesn't exist for startDate = 1577836800, endDate = 1578009600",
			  "400 body: message");
	free(body);

	/* truncated: the real response cut in half */
	body = read_file(dir, "chart_AAPL_1d_1m.json", &len);
	check_int(yahoo_decode_quote(body, len / 2, "AAPL", &q, err, sizeof(err)), YAHOO_BAD_JSON,
			  "truncated JSON: bad JSON");
	CHECK(strstr(err, "truncated") != NULL, "truncated JSON: says so");
	check_int(yahoo_decode_bars(body, len - 3, "AAPL", &b, &n, err, sizeof(err)), YAHOO_BAD_JSON,
			  "truncated JSON (3 bytes short): bad JSON for bars");
	free(body);

	check_int(yahoo_decode_quote("Too Many Requests", 17, "AAPL", &q, err, sizeof(err)),
			  YAHOO_BAD_JSON, "429 text body: bad JSON");
	check_int(yahoo_decode_quote("", 0, "AAPL", &q, err, sizeof(err)), YAHOO_BAD_JSON,
			  "empty body: bad JSON");
	check_int(yahoo_decode_quote("<html>down</html>", 17, "AAPL", &q, err, sizeof(err)),
			  YAHOO_BAD_JSON, "HTML body: bad JSON");
	check_int(yahoo_decode_quote("{\"foo\":1}", 9, "AAPL", &q, err, sizeof(err)), YAHOO_NO_DATA,
			  "JSON without chart: no data");
	check_int(yahoo_decode_quote("{\"chart\":{\"result\":[],\"error\":null}}", 36, "AAPL", &q,
								 err, sizeof(err)), YAHOO_NO_DATA, "empty result: no data");

	/* the v7 quote endpoint's shape is not a chart */
	body = read_file(dir, "quote_v7_AAPL.json", &len);
	check_int(yahoo_decode_quote(body, len, "AAPL", &q, err, sizeof(err)), YAHOO_NO_DATA,
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
	struct quote q;
	struct bar *b;
	size_t		n;
	char		err[256];

	check_int(yahoo_decode_quote(j, strlen(j), "TEST", &q, err, sizeof(err)), YAHOO_OK,
			  "fallback: decodes without meta prices");
	check_num(q.price, 11.25, "fallback: price = last non-null close");
	check_int(q.ts_ms, 1727962260000LL, "fallback: ts = that bar's time");
	check_num(q.open, 10.5, "fallback: open = the day's first non-null open");
	check_num(q.high, 13, "fallback: high = the day's max (yesterday's 60 ignored)");
	check_num(q.low, 9.75, "fallback: low = the day's min");
	check_int(q.volume, 150, "fallback: volume = the day's sum");
	check_num(q.prev_close, 9.5, "fallback: prev_close = chartPreviousClose");

	check_int(yahoo_decode_bars(j, strlen(j), "TEST", &b, &n, err, sizeof(err)), YAHOO_OK,
			  "bars: decode");
	/* bars without close are skipped; same-day bars collapse, the later wins */
	check_int((long long) n, 2, "bars: null bars skipped, one bar per date");
	check_str(b[0].date, "2024-10-02", "bars: first date");
	check_str(b[1].date, "2024-10-03", "bars: second date");
	check_num(b[1].close, 11.25, "bars: later bar of the date wins");
	CHECK(isnan(b[0].adj_close), "bars: no adjclose array, no adj_close");
	free(b);

	j = "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"USD\"},\"timestamp\":[1,2],"
		"\"indicators\":{\"quote\":[{\"close\":[null,null]}]}}],\"error\":null}}";
	check_int(yahoo_decode_quote(j, strlen(j), "TEST", &q, err, sizeof(err)), YAHOO_NO_DATA,
			  "no price anywhere: no data");
}

static void
test_url(void)
{
	char		url[256];

	yahoo_chart_url("https://query2.finance.yahoo.com", "AAPL", "1d", "1m", url, sizeof(url));
	check_str(url, "https://query2.finance.yahoo.com/v8/finance/chart/AAPL?range=1d&interval=1m",
			  "url: live");
	yahoo_chart_url("http://127.0.0.1:8080/", "^GSPC", "3mo", "1d", url, sizeof(url));
	check_str(url, "http://127.0.0.1:8080/v8/finance/chart/%5EGSPC?range=3mo&interval=1d",
			  "url: trailing slash, ^ encoded");
	yahoo_chart_url("http://h", "EURUSD=X", "1d", "1m", url, sizeof(url));
	check_str(url, "http://h/v8/finance/chart/EURUSD%3DX?range=1d&interval=1m", "url: = encoded");
	CHECK(yahoo_chart_url("http://h", "AAPL", "1d", "1m", url, 10) < 0, "url: too small buffer");
}

static int
same_quote(const struct quote *a, const struct quote *b)
{
#define SAME(f) ((isnan(a->f) && isnan(b->f)) || a->f == b->f)
	return strcmp(a->symbol, b->symbol) == 0 && a->ts_ms == b->ts_ms && SAME(price) &&
		a->volume == b->volume && SAME(open) && SAME(high) && SAME(low) && SAME(prev_close) &&
		strcmp(a->currency, b->currency) == 0;
#undef SAME
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
	struct quote a, b;
	size_t		len;
	char	   *body;
	int			disagreements = 0;
	int			tried = 0;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
	{
		enum yahoo_status sa, sb;

		body = read_file(dir, files[i], &len);
		sa = yahoo_decode_quote(body, len, "X", &a, err, sizeof(err));
		sb = yahoo_decode_quote_full(body, len, "X", &b, err, sizeof(err));
		snprintf(name, sizeof(name), "fast decoder = reference decoder: %s", files[i]);
		CHECK(sa == sb && (sa != YAHOO_OK || same_quote(&a, &b)), name);
		free(body);
	}
	body = read_file(dir, "chart_AAPL_1d_1m.json", &len);
	for (size_t cut = 0; cut < len; cut += (cut < 200 || len - cut < 200) ? 1 : 37)
	{
		enum yahoo_status sa = yahoo_decode_quote(body, cut, "X", &a, err, sizeof(err));
		enum yahoo_status sb = yahoo_decode_quote_full(body, cut, "X", &b, err, sizeof(err));

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
			sa = yahoo_decode_quote(body, len, "X", &a, err, sizeof(err));
			sb = yahoo_decode_quote_full(body, len, "X", &b, err, sizeof(err));
			tried++;
			if (sa != sb || (sa == YAHOO_OK && !same_quote(&a, &b)))
				disagreements++;
		}
		body[at] = saved;
	}
	snprintf(name, sizeof(name),
			 "fast decoder = reference decoder on %d truncated/damaged bodies", tried);
	tap_check(disagreements == 0, name, "some disagreed");
	free(body);
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
	return tap_done();
}
