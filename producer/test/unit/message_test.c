/*
 * message_test.c -- the stock_live / stock_daily JSON encoding of DESIGN.md
 * (through the contract library), shortest round-trip numbers, RFC 3339
 * times and symbol validation.
 */
#include <cjson/cJSON.h>

#include "message.h"
#include "tap.h"

static char msg_err[SP_ERR_MAX];

/* The text a price is written as in a quote message, or "" if refused. */
static const char *
price_text(double price)
{
	static char b[MESSAGE_MAX];
	struct quote q;
	char	   *p;

	quote_init(&q);
	strcpy(q.symbol, "X");
	q.ts_ms = 0;
	q.price = price;
	if (message_quote_json(&q, b, sizeof(b), msg_err) < 0)
		return "";
	p = strstr(b, "\"price\":");
	p += strlen("\"price\":");
	p[strcspn(p, ",}")] = '\0';
	return p;
}

static void
test_numbers(void)
{
	check_str(price_text(225.67), "225.67", "double: 225.67 stays short");
	check_str(price_text(164.97999572753906), "164.97999572753906", "double: float32-ish value kept exactly");
	check_str(price_text(0.1), "0.1", "double: 0.1");
	check_str(price_text(131), "131", "double: integral value");
	CHECK(strtod(price_text(1.0 / 3.0), NULL) == 1.0 / 3.0, "double: 1/3 round-trips");
	check_str(price_text(NAN), "", "double: NaN refused");
	check_str(price_text(INFINITY), "", "double: infinity refused");
}

static void
test_times(void)
{
	char		b[64];

	format_rfc3339_ms(1727985601000LL, b, sizeof(b));
	check_str(b, "2024-10-03T20:00:01Z", "rfc3339: whole seconds");
	format_rfc3339_ms(1795807801123LL, b, sizeof(b));
	check_str(b, "2026-11-27T19:30:01.123Z", "rfc3339: milliseconds when present");
	format_rfc3339_ms(0, b, sizeof(b));
	check_str(b, "1970-01-01T00:00:00Z", "rfc3339: epoch");
	format_date(1598880600 - 14400, b, sizeof(b));
	check_str(b, "2020-08-31", "date: local date");
	/* four-digit years only: year 10000 was written unterminated into a
	 * bar's date[11], year 0 as "0-12-31" */
	CHECK(format_date(253402300800LL, b, sizeof(b)) < 0, "date: year 10000 refused");
	CHECK(format_date(-62135600000LL, b, sizeof(b)) < 0, "date: year 0 refused");
	CHECK(format_date(INT64_MAX, b, sizeof(b)) < 0, "date: INT64_MAX refused");
	check_int(format_date(253402300799LL, b, sizeof(b)), 10, "date: 9999-12-31 fits");
	check_str(b, "9999-12-31", "date: 9999-12-31");
	format_date(-62135596800LL, b, sizeof(b));
	check_str(b, "0001-01-01", "date: year 1 has four digits");
	CHECK(format_date(0, b, 10) < 0, "date: no room for the NUL, refused");
	CHECK(format_rfc3339_ms(INT64_MIN, b, sizeof(b)) < 0, "rfc3339: INT64_MIN refused, no overflow");
	CHECK(format_rfc3339_ms(253402300800000LL, b, sizeof(b)) < 0, "rfc3339: year 10000 refused");
	format_rfc3339_ms(-1, b, sizeof(b));
	check_str(b, "1969-12-31T23:59:59.999Z", "rfc3339: before the epoch");
	format_rfc3339_ms(-62135596800000LL, b, sizeof(b));
	check_str(b, "0001-01-01T00:00:00Z", "rfc3339: year 1 has four digits");
}

static void
test_symbols(void)
{
	CHECK(symbol_is_valid("AAPL"), "symbol: AAPL");
	CHECK(symbol_is_valid("BRK-B"), "symbol: BRK-B");
	CHECK(symbol_is_valid("^GSPC"), "symbol: ^GSPC");
	CHECK(symbol_is_valid("EURUSD=X"), "symbol: EURUSD=X");
	CHECK(symbol_is_valid("WSU.DE"), "symbol: WSU.DE");
	CHECK(symbol_is_valid("ABCDEFGHIJKLMNOPQRST"), "symbol: 20 characters");
	CHECK(!symbol_is_valid("ABCDEFGHIJKLMNOPQRSTU"), "symbol: 21 characters refused");
	CHECK(!symbol_is_valid(""), "symbol: empty refused");
	CHECK(!symbol_is_valid("aapl"), "symbol: lower case refused");
	CHECK(!symbol_is_valid("A\"B"), "symbol: quote refused");
	CHECK(!symbol_is_valid("A B"), "symbol: space refused");
}

static void
test_quote(void)
{
	struct quote q;
	char		b[MESSAGE_MAX];
	cJSON	   *j;

	quote_init(&q);
	strcpy(q.symbol, "AAPL");
	q.ts_ms = 1795807801000LL;
	q.price = 189.23;
	q.volume = 51234567;
	q.open = 188.10;
	q.high = 190.00;
	q.low = 187.50;
	q.prev_close = 188.00;
	strcpy(q.currency, "USD");
	q.source = "yahoo";
	CHECK(message_quote_json(&q, b, sizeof(b), msg_err) > 0, "quote: encodes");
	check_str(b, "{\"symbol\":\"AAPL\",\"ts\":\"2026-11-27T19:30:01Z\",\"price\":189.23,"
			  "\"volume\":51234567,\"open\":188.1,\"high\":190,\"low\":187.5,\"prev_close\":188,"
			  "\"currency\":\"USD\",\"source\":\"yahoo\"}",
			  "quote: the DESIGN.md example");
	j = cJSON_Parse(b);
	CHECK(j != NULL && cJSON_GetObjectItem(j, "price")->valuedouble == 189.23,
		  "quote: valid JSON, price reads back");
	cJSON_Delete(j);

	quote_init(&q);
	strcpy(q.symbol, "X");
	q.ts_ms = 0;
	q.price = 1.5;
	message_quote_json(&q, b, sizeof(b), msg_err);
	check_str(b, "{\"symbol\":\"X\",\"ts\":\"1970-01-01T00:00:00Z\",\"price\":1.5}",
			  "quote: unknown optional fields are left out");

	/* one contract: what the consumers would refuse is never published */
	strcpy(q.currency, "U\"S\\D\n");
	CHECK(message_quote_json(&q, b, sizeof(b), msg_err) < 0 && strstr(msg_err, "currency") != NULL,
		  "quote: a currency the consumers refuse is refused");
	q.currency[0] = '\0';

	q.price = 0;
	CHECK(message_quote_json(&q, b, sizeof(b), msg_err) < 0, "quote: price 0 refused");
	q.price = NAN;
	CHECK(message_quote_json(&q, b, sizeof(b), msg_err) < 0, "quote: no price refused");
	q.price = 1;
	strcpy(q.symbol, "bad sym");
	CHECK(message_quote_json(&q, b, sizeof(b), msg_err) < 0, "quote: invalid symbol refused");
	strcpy(q.symbol, "AAPL");
	CHECK(message_quote_json(&q, b, 20, msg_err) < 0, "quote: too small buffer refused");
}

static void
test_bar(void)
{
	struct bar	bar;
	char		b[MESSAGE_MAX];

	bar_init(&bar);
	strcpy(bar.symbol, "AAPL");
	strcpy(bar.date, "2026-11-27");
	bar.open = 188.1;
	bar.high = 190.0;
	bar.low = 187.5;
	bar.close = 189.2;
	bar.adj_close = 189.2;
	bar.volume = 51234567;
	message_bar_json(&bar, b, sizeof(b), msg_err);
	check_str(b, "{\"symbol\":\"AAPL\",\"date\":\"2026-11-27\",\"open\":188.1,\"high\":190,"
			  "\"low\":187.5,\"close\":189.2,\"adj_close\":189.2,\"volume\":51234567}",
			  "bar: the DESIGN.md example");
	bar.close = NAN;
	CHECK(message_bar_json(&bar, b, sizeof(b), msg_err) < 0, "bar: no close refused");
}

int
main(void)
{
	test_numbers();
	test_times();
	test_symbols();
	test_quote();
	test_bar();
	return tap_summary();
}
