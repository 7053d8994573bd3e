/*
 * replay_test.c -- recordings: JSON Lines in the topics' formats (with bad
 * lines skipped), a saved Yahoo 1-minute chart, pacing, RFC 3339 parsing.
 */
#include "message.h"
#include "replay.h"
#include "fixtures.h"
#include "tap.h"

static char msg_err[SP_ERR_MAX];

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
		"{\"symbol\":\"MSFT\",\"ts\":\"2026-11-27T14:30:05.250-05:00\",\"price\":400}";
	struct replay r;
	char		err[256];
	char		msg[MESSAGE_MAX];

	CHECK(replay_load(&r, text, strlen(text), err, sizeof(err)) == 0, "jsonl: loads");
	check_int((long long) r.count, 4, "jsonl: 4 valid records");
	check_int((long long) r.bad_lines, 6, "jsonl: 6 bad lines counted");
	check_str(r.first_error, "line 5: \"ts\" is not an RFC 3339 time", "jsonl: first error named");
	message_quote_json(&r.events[0].quote, msg, sizeof(msg), msg_err);
	check_str(msg, "{\"symbol\":\"AAPL\",\"ts\":\"2026-11-27T19:30:01Z\",\"price\":189.23,"
			  "\"volume\":51234567,\"open\":188.1,\"high\":190,\"low\":187.5,\"prev_close\":188,"
			  "\"currency\":\"USD\",\"source\":\"yahoo\"}", "jsonl: quote re-encoded canonically");
	check_int(r.events[1].quote.ts_ms, 1795807803500LL, "jsonl: numeric ts in seconds");
	CHECK(r.events[2].topic == KAFKA_DAILY, "jsonl: a line with date is a bar");
	message_bar_json(&r.events[2].bar, msg, sizeof(msg), msg_err);
	check_str(msg, "{\"symbol\":\"AAPL\",\"date\":\"2026-11-27\",\"close\":189.2,\"volume\":5}",
			  "jsonl: bar re-encoded");
	check_int(r.events[3].quote.ts_ms, 1795807805250LL, "jsonl: ts with offset and fraction");
	check_int(replay_delay_ms(&r, 1, 1.0), 2500, "pace: recorded gap at speed 1");
	check_int(replay_delay_ms(&r, 1, 2.0), 1250, "pace: halved at speed 2");
	check_int(replay_delay_ms(&r, 1, 0), 0, "pace: speed 0 does not wait");
	check_int(replay_delay_ms(&r, 2, 1.0), 0, "pace: bars do not wait");
	check_int(replay_delay_ms(&r, 3, 1.0), 1750, "pace: gap measured to the previous quote");
	replay_free(&r);
}

static void
test_chart(void)
{
	size_t		len;
	char	   *body = read_file(fixtures_dir(), "chart_AAPL_1d_1m.json", &len);
	struct replay r;
	char		err[256];
	const struct quote *q;

	CHECK(replay_load(&r, body, len, err, sizeof(err)) == 0 && r.from_chart, "chart: loads");
	check_int((long long) r.count, 390, "chart: 391 minutes minus the null one");
	q = &r.events[0].quote;
	check_int(q->ts_ms, 1727875800000LL, "chart: first minute's time");
	check_num(q->open, 225.88999938964844, "chart: day open");
	check_num(q->prev_close, 226.78, "chart: prev close from meta");
	q = &r.events[389].quote;
	check_num(q->price, 225.6699981689453, "chart: last minute's close");
	check_num(q->prev_close, 226.80999755859375, "chart: next day's prev close = last close");
	check_int(q->volume, 0, "chart: next day's volume restarts");
	replay_free(&r);
	free(body);
	body = read_file(fixtures_dir(), "chart_error_not_found_SI.json", &len);
	CHECK(replay_load(&r, body, len, err, sizeof(err)) != 0, "chart: error response refused");
	replay_free(&r);
	free(body);
}

static void
test_rfc3339(void)
{
	int64_t		ms;

	CHECK(parse_rfc3339_ms("2026-11-27T19:30:01Z", &ms) == 0 && ms == 1795807801000LL, "rfc3339: Z");
	CHECK(parse_rfc3339_ms("2026-11-27T14:30:01-05:00", &ms) == 0 && ms == 1795807801000LL,
		  "rfc3339: offset");
	CHECK(parse_rfc3339_ms("2026-11-27T19:30:01.1Z", &ms) == 0 && ms == 1795807801100LL,
		  "rfc3339: one fraction digit");
	CHECK(parse_rfc3339_ms("2026-11-27T19:30:01", &ms) != 0, "rfc3339: offset required");
	CHECK(parse_rfc3339_ms("2026-11-27", &ms) != 0, "rfc3339: date only refused");
	CHECK(parse_rfc3339_ms("2026-11-27T19:30:01Zjunk", &ms) != 0, "rfc3339: trailing junk refused");
}

int
main(void)
{
	test_lines();
	test_chart();
	test_rfc3339();
	return tap_summary();
}
