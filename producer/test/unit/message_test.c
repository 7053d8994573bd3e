/*
 * message_test.c -- the producer's quotes and bars (the contract's sp_quote
 * and sp_bar): optional fields set only when known, the stock_live /
 * stock_daily JSON of DESIGN.md written by the contract's encoder,
 * shortest round-trip numbers, and the dates shown in logs.
 */
#include <cjson/cJSON.h>

#include "message.h"
#include "tap.h"

static char msg_err[SP_ERR_MAX];

/* A quote with only the required fields. */
static sp_quote
minimal_quote(const char *symbol, int64_t ts_us, double price)
{
	sp_quote	q;

	memset(&q, 0, sizeof(q));
	snprintf(q.symbol, sizeof(q.symbol), "%s", symbol);
	q.ts_us = ts_us;
	q.price = price;
	return q;
}

/* The text a price is written as in a quote message, or "" if refused. */
static const char *
price_text(double price)
{
	static char b[SP_MESSAGE_MAX];
	sp_quote	q = minimal_quote("X", 0, price);
	char	   *p;

	if (sp_encode_quote(&q, b, sizeof(b), msg_err) < 0)
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
test_dates(void)
{
	char		b[64];

	check_int(message_format_date(18505, b, sizeof(b)), 10, "date: 10 characters");
	check_str(b, "2020-08-31", "date: 2020-08-31");
	message_format_date(0, b, sizeof(b));
	check_str(b, "1970-01-01", "date: the epoch");
	message_format_date(-1, b, sizeof(b));
	check_str(b, "1969-12-31", "date: before the epoch");
	/* four-digit years only: year 10000 was once written unterminated
	 * into a bar's date[11], year 0 as "0-12-31" */
	check_int(message_format_date(2932896, b, sizeof(b)), 10, "date: 9999-12-31 fits");
	check_str(b, "9999-12-31", "date: 9999-12-31");
	CHECK(message_format_date(2932897, b, sizeof(b)) < 0, "date: year 10000 refused");
	message_format_date(-719162, b, sizeof(b));
	check_str(b, "0001-01-01", "date: year 1 has four digits");
	CHECK(message_format_date(-719163, b, sizeof(b)) < 0, "date: year 0 refused");
	CHECK(message_format_date(INT32_MIN, b, sizeof(b)) < 0, "date: INT32_MIN refused");
	CHECK(message_format_date(0, b, 10) < 0, "date: no room for the NUL, refused");
}

static void
test_optional_fields(void)
{
	sp_quote	q = minimal_quote("X", 0, 1.5);
	sp_bar		b;

	message_set_amount(&q.open, &q.present, SP_HAS_OPEN, NAN);
	message_set_volume(&q.volume, &q.present, -1);
	message_set_currency(&q, "U\"S\\D\n");
	message_set_currency(&q, NULL);
	message_set_source(&q, NULL);
	message_set_source(&q, "a source name longer than 32 characters");
	check_int(q.present, 0, "unknown: NAN, volume -1, a currency the consumers refuse, no source");
	message_set_amount(&q.high, &q.present, SP_HAS_HIGH, 0);
	message_set_volume(&q.volume, &q.present, 0);
	message_set_currency(&q, "USD");
	message_set_source(&q, "sim");
	CHECK(q.present == (SP_HAS_HIGH | SP_HAS_VOLUME | SP_HAS_CURRENCY | SP_HAS_SOURCE) &&
		  q.high == 0 && q.volume == 0 && strcmp(q.currency, "USD") == 0 &&
		  strcmp(q.source, "sim") == 0, "known: 0 is a value, a valid currency, a source");

	memset(&b, 0, sizeof(b));
	message_set_amount(&b.adj_close, &b.present, SP_HAS_ADJ_CLOSE, 2.5);
	message_set_volume(&b.volume, &b.present, 7);
	CHECK(b.present == (SP_HAS_ADJ_CLOSE | SP_HAS_VOLUME) && b.adj_close == 2.5 && b.volume == 7,
		  "bar: the same helpers");
}

/* DESIGN.md's examples, from quotes and bars filled the producer's way. */
static void
test_messages(void)
{
	sp_quote	q = minimal_quote("AAPL", 1795807801000000LL, 189.23);
	sp_bar		bar;
	char		b[SP_MESSAGE_MAX];
	cJSON	   *j;

	message_set_volume(&q.volume, &q.present, 51234567);
	message_set_amount(&q.open, &q.present, SP_HAS_OPEN, 188.10);
	message_set_amount(&q.high, &q.present, SP_HAS_HIGH, 190.00);
	message_set_amount(&q.low, &q.present, SP_HAS_LOW, 187.50);
	message_set_amount(&q.prev_close, &q.present, SP_HAS_PREV_CLOSE, 188.00);
	message_set_currency(&q, "USD");
	message_set_source(&q, "yahoo");
	CHECK(sp_encode_quote(&q, b, sizeof(b), msg_err) > 0, "quote: encodes");
	check_str(b, "{\"symbol\":\"AAPL\",\"ts\":\"2026-11-27T19:30:01Z\",\"price\":189.23,"
			  "\"volume\":51234567,\"open\":188.1,\"high\":190,\"low\":187.5,\"prev_close\":188,"
			  "\"currency\":\"USD\",\"source\":\"yahoo\"}",
			  "quote: the DESIGN.md example");
	j = cJSON_Parse(b);
	CHECK(j != NULL && cJSON_GetObjectItem(j, "price")->valuedouble == 189.23,
		  "quote: valid JSON, price reads back");
	cJSON_Delete(j);

	q = minimal_quote("X", 0, 1.5);
	message_set_amount(&q.open, &q.present, SP_HAS_OPEN, NAN);
	sp_encode_quote(&q, b, sizeof(b), msg_err);
	check_str(b, "{\"symbol\":\"X\",\"ts\":\"1970-01-01T00:00:00Z\",\"price\":1.5}",
			  "quote: unknown optional fields are left out");

	memset(&bar, 0, sizeof(bar));
	strcpy(bar.symbol, "AAPL");
	bar.date = 20784;			/* 2026-11-27 */
	bar.close = 189.2;
	message_set_amount(&bar.open, &bar.present, SP_HAS_OPEN, 188.1);
	message_set_amount(&bar.high, &bar.present, SP_HAS_HIGH, 190.0);
	message_set_amount(&bar.low, &bar.present, SP_HAS_LOW, 187.5);
	message_set_amount(&bar.adj_close, &bar.present, SP_HAS_ADJ_CLOSE, 189.2);
	message_set_volume(&bar.volume, &bar.present, 51234567);
	sp_encode_bar(&bar, b, sizeof(b), msg_err);
	check_str(b, "{\"symbol\":\"AAPL\",\"date\":\"2026-11-27\",\"open\":188.1,\"high\":190,"
			  "\"low\":187.5,\"close\":189.2,\"adj_close\":189.2,\"volume\":51234567}",
			  "bar: the DESIGN.md example");
}

/* The exchange's time zone and the session: only what consumers take. */
static void
test_market_fields(void)
{
	sp_quote	q;
	char		buf[SP_MESSAGE_MAX];
	char		err[SP_ERR_MAX];

	memset(&q, 0, sizeof(q));
	strcpy(q.symbol, "WSU.DE");
	q.ts_us = INT64_C(1764230400000000);
	q.price = 14.5;
	message_set_exchange_tz(&q, "Europe/Berlin");
	message_set_session(&q, "pre");
	check_str(sp_encode_quote(&q, buf, sizeof(buf), err) > 0 ? buf : err,
			  "{\"symbol\":\"WSU.DE\",\"ts\":\"2025-11-27T08:00:00Z\",\"price\":14.5,"
			  "\"exchange_tz\":\"Europe/Berlin\",\"session\":\"pre\"}",
			  "quote with the exchange's time zone and the session");
	memset(&q, 0, sizeof(q));
	message_set_exchange_tz(&q, "");
	message_set_exchange_tz(&q, "Europe/ Berlin");
	message_set_exchange_tz(&q, NULL);
	message_set_session(&q, "lunch");
	message_set_session(&q, NULL);
	CHECK(q.present == 0, "an empty or spaced zone and an unknown session are left out");
}

int
main(void)
{
	test_market_fields();
	test_numbers();
	test_dates();
	test_optional_fields();
	test_messages();
	return tap_summary();
}
