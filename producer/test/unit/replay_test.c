/*
 * replay_test.c -- recordings: JSON Lines in the topics' formats (decoded
 * by the contract's decoders: what the consumers would refuse is a bad
 * line, skipped, with their reason), a saved Yahoo 1-minute chart, pacing.
 */
#include "message.h"
#include "replay.h"
#include "fixtures.h"
#include "tap.h"

static char msg_err[SP_ERR_MAX];

/* The message of replay event I, re-encoded, or the encoder's reason. */
static const char *
message_of(const struct replay *r, size_t i)
{
	static char msg[SP_MESSAGE_MAX];
	const struct replay_event *ev = &r->events[i];
	int			n = ev->topic == PUBLISHER_LIVE ? sp_encode_quote(&ev->quote, msg, sizeof(msg), msg_err)
		: sp_encode_bar(&ev->bar, msg, sizeof(msg), msg_err);

	return n > 0 ? msg : msg_err;
}

static void
test_lines(void)
{
	const char *text =
		"{\"symbol\":\"AAPL\",\"ts\":\"2026-11-27T19:30:01Z\",\"price\":189.23,\"volume\":51234567,"
		"\"open\":188.10,\"high\":190.00,\"low\":187.50,\"prev_close\":188.00,\"currency\":\"USD\","
		"\"source\":\"yahoo\",\"extra\":1}\n"
		"\n"
		"{\"symbol\":\"AAPL\",\"ts\":1795807803.5,\"price\":189.3}\n"
		"{\"symbol\":\"AAPL\",\"date\":\"2026-11-27\",\"close\":189.2,\"volume\":5}\n"
		"{\"symbol\":\"AAPL\",\"ts\":\"yesterday\",\"price\":1}\n"
		"not json\n"
		"{\"symbol\":\"bad sym\",\"ts\":1,\"price\":1}\n"
		"{\"symbol\":\"AAPL\",\"ts\":1,\"price\":-1}\n"
		"{\"symbol\":\"AAPL\",\"date\":\"2026-13-01\",\"close\":1}\n"
		"{\"symbol\":\"AAPL\"}\n"
		"{\"symbol\":\"MSFT\",\"ts\":\"2026-11-27T14:30:05.250-05:00\",\"price\":400,\"source\":\"sim\"}\r\n";
	struct replay r;
	char		err[256];

	CHECK(replay_load(&r, text, strlen(text), err, sizeof(err)) == 0, "jsonl: loads");
	check_int((long long) r.count, 4, "jsonl: 4 valid records");
	check_int((long long) r.bad_lines, 6, "jsonl: 6 bad lines counted");
	check_str(r.first_error, "line 5: field \"ts\" is not an RFC 3339 timestamp with offset or a "
			  "number of epoch seconds", "jsonl: first error named, in the decoder's words");
	check_str(message_of(&r, 0),
			  "{\"symbol\":\"AAPL\",\"ts\":\"2026-11-27T19:30:01Z\",\"price\":189.23,"
			  "\"volume\":51234567,\"open\":188.1,\"high\":190,\"low\":187.5,\"prev_close\":188,"
			  "\"currency\":\"USD\",\"source\":\"yahoo\"}", "jsonl: quote re-encoded canonically");
	check_int(r.events[1].quote.ts_us, 1795807803500000LL, "jsonl: numeric ts in seconds");
	check_str(message_of(&r, 1),
			  "{\"symbol\":\"AAPL\",\"ts\":\"2026-11-27T19:30:03.500Z\",\"price\":189.3,"
			  "\"source\":\"replay\"}", "jsonl: a quote without a source is the replay's");
	CHECK(r.events[2].topic == PUBLISHER_DAILY, "jsonl: a line with date is a bar");
	check_str(message_of(&r, 2), "{\"symbol\":\"AAPL\",\"date\":\"2026-11-27\",\"close\":189.2,\"volume\":5}",
			  "jsonl: bar re-encoded");
	check_int(r.events[3].quote.ts_us, 1795807805250000LL, "jsonl: ts with offset and fraction");
	check_str(r.events[3].quote.source, "replay", "jsonl: a source other than yahoo becomes replay");
	check_int(replay_delay_ms(&r, 1, 1.0), 2500, "pace: recorded gap at speed 1");
	check_int(replay_delay_ms(&r, 1, 2.0), 1250, "pace: halved at speed 2");
	check_int(replay_delay_ms(&r, 1, 0), 0, "pace: speed 0 does not wait");
	check_int(replay_delay_ms(&r, 2, 1.0), 0, "pace: bars do not wait");
	check_int(replay_delay_ms(&r, 3, 1.0), 1750, "pace: gap measured to the previous quote");
	replay_free(&r);
}

/*
 * What the consumers' decoder refuses is a bad line with its reason, even
 * where a lenient reading would have found a quote or a bar in it.
 */
static void
test_refused_lines(void)
{
	static const struct
	{
		const char *line;
		const char *why;
	}			cases[] = {
		{"not json", "payload is not valid JSON: "},
		{"[1,2]", "payload is not a JSON object"},
		{"{\"symbol\":\"AAPL\",\"price\":1}", "neither a quote (\"ts\") nor a bar (\"date\")"},
		{"{\"symbol\":\"AAPL\",\"ts\":1,\"price\":1,\"volume\":1.5}",
		"field \"volume\" must be an integer >= 0"},
		{"{\"symbol\":\"AAPL\",\"ts\":1,\"price\":1,\"volume\":-3}",
		"field \"volume\" must be an integer >= 0"},
		{"{\"symbol\":\"AAPL\",\"ts\":1,\"price\":1,\"currency\":\"US\\u00e9\"}",
		"field \"currency\" must be 1-16 printable ASCII characters"},
		{"{\"symbol\":\"AAPL\",\"ts\":1,\"price\":1,\"open\":\"188\"}", "field \"open\" must be a number"},
		{"{\"symbol\":\"AAPL\",\"ts\":1,\"price\":1,\"source\":\"\"}",
		"field \"source\" must be 1-32 printable ASCII characters"},
		{"{\"symbol\":\"AAPL\",\"ts\":1,\"price\":1,\"price\":2}", "field \"price\" appears more than once"},
		{"{\"symbol\":\"AAPL\",\"ts\":null,\"price\":1}", "required field \"ts\" is null"},
		{"{\"symbol\":\"AAPL\",\"ts\":1,\"price\":1} junk", "payload is not valid JSON: "},
		{"{\"symbol\":\"AAPL\",\"ts\":1,\"price\":1,}", "payload is not valid JSON: "},
		{"{\"symbol\":\"AAPL\",\"ts\":\"1e99\",\"price\":1}", "field \"ts\" is not an RFC 3339"},
		{"{\"symbol\":\"AAPL\",\"ts\":1e99,\"price\":1}", "field \"ts\" is outside years 0001-9999"},
		{"{\"symbol\":\"AAPL\",\"date\":\"2026-02-30\",\"close\":1}",
		"field \"date\" must be a calendar date YYYY-MM-DD"},
		{"{\"symbol\":\"AAPL\",\"date\":\"2026-11-27\",\"close\":0}",
		"field \"close\" must be finite and greater than 0"},
		{"{\"symbol\":\"AAPL\",\"date\":\"2026-11-27\",\"close\":1,\"adj_close\":-1}",
		"field \"adj_close\" must be finite and not negative"},
		{"{\"symbol\":\"AAPL\",\"date\":\"2026-11-27\",\"close\":1,\"volume\":1e30}",
		"field \"volume\" must be less than 2^63"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		struct replay r;
		char		err[256];

		replay_load(&r, cases[i].line, strlen(cases[i].line), err, sizeof(err));
		if (!check(r.count == 0 && r.bad_lines == 1 &&
				   strncmp(r.first_error, "line 1: ", 8) == 0 &&
				   strncmp(r.first_error + 8, cases[i].why, strlen(cases[i].why)) == 0,
				   "refused: %s", cases[i].line))
			diag("%zu event(s); first error \"%s\"", r.count, r.first_error);
		replay_free(&r);
	}
}

static void
test_chart(void)
{
	size_t		len;
	char	   *body = read_file(fixtures_dir(), "chart_AAPL_1d_1m.json", &len);
	struct replay r;
	char		err[256];
	const sp_quote *q;

	CHECK(replay_load(&r, body, len, err, sizeof(err)) == 0 && r.from_chart, "chart: loads");
	check_int((long long) r.count, 390, "chart: 391 minutes minus the null one");
	q = &r.events[0].quote;
	check_int(q->ts_us, 1727875800000000LL, "chart: first minute's time");
	check_str(q->source, "replay", "chart: source replay");
	check_num(q->open, 225.89, "chart: day open, at the tick (priceHint 2)");
	/* chartPreviousClose (the 2024-10-01 close), not previousClose (2024-10-02's own) */
	check_num(q->prev_close, 226.21, "chart: prev close = meta.chartPreviousClose");
	check_int((long long) r.npriors, 1, "chart: one prior (the close before its first day)");
	check_num(r.priors[0].close, 226.21, "chart: prior close");
	check_int(r.priors[0].day, 19998, "chart: prior's day = the first day, 2024-10-02");
	q = &r.events[389].quote;
	check_num(q->price, 225.67, "chart: last minute's close, at the tick");
	check_num(q->prev_close, 226.81, "chart: next day's prev close = last close, at the tick");
	CHECK(q->present & SP_HAS_VOLUME, "chart: a volume");
	check_int(q->volume, 0, "chart: next day's volume restarts");
	replay_free(&r);
	free(body);
	body = read_file(fixtures_dir(), "chart_error_not_found_SI.json", &len);
	CHECK(replay_load(&r, body, len, err, sizeof(err)) != 0, "chart: error response refused");
	replay_free(&r);
	free(body);
}

/* A daily chart is daily bars (the poller's decoder), never quotes. */
static void
test_daily_chart(void)
{
	size_t		len;
	char	   *body = read_file(fixtures_dir(), "chart_MSFT_daily_2021-02-01_to_2022-01-31.json", &len);
	struct replay r;
	char		err[256];
	size_t		bars = 0;
	const char *weekly =
		"{\"chart\":{\"result\":[{\"meta\":{\"symbol\":\"AAPL\",\"dataGranularity\":\"1wk\"},"
		"\"timestamp\":[1727875800],\"indicators\":{\"quote\":[{\"close\":[1]}]}}],\"error\":null}}";

	CHECK(replay_load(&r, body, len, err, sizeof(err)) == 0, "daily chart: loads");
	for (size_t i = 0; i < r.count; i++)
		bars += r.events[i].topic == PUBLISHER_DAILY;
	check_int((long long) bars, 252, "daily chart: 252 bars");
	check_int((long long) r.count, 252, "daily chart: no quotes");
	check_str(r.events[0].bar.symbol, "MSFT", "daily chart: symbol");
	check_int(r.events[0].bar.date, 18659, "daily chart: first date 2021-02-01");
	check_int(r.events[251].recorded_date, 19020, "daily chart: last date 2022-01-28");
	/* at the recorded precision (two decimals: priceHint 2), rounded or not */
	CHECK(fabs(r.events[251].bar.close - 308.26) < 0.005, "daily chart: last close 308.26");
	replay_free(&r);
	free(body);
	CHECK(replay_load(&r, weekly, strlen(weekly), err, sizeof(err)) != 0 &&
		  strstr(err, "1wk") != NULL, "chart: weekly bars refused");
	replay_free(&r);
}

int
main(void)
{
	test_lines();
	test_refused_lines();
	test_chart();
	test_daily_chart();
	return tap_summary();
}
