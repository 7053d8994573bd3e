/*-------------------------------------------------------------------------
 *
 * contract_test.c
 *	  Unit tests of the Kafka message contract decoder (contract/contract.c).
 *
 * A self-contained program: no test framework, no PostgreSQL, no broker.
 * It prints one TAP-like line per check, "ok N - what" or "not ok N - what"
 * (followed by "#" lines saying what was got instead), then
 * "# P passed, F failed", and exits 1 if any check failed.
 *
 * Every payload is handed to the decoder in a heap buffer of exactly its
 * length, with no NUL after it, so that a sanitizer or valgrind run catches
 * any read past the end.  Expected epoch values were computed with
 * `date -u -d ... +%s` and Python's datetime, not with the code under test.
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L
#include "contract.h"

#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A string literal as (pointer, length), so that embedded NULs count. */
#define LIT(s)		(s), (sizeof(s) - 1)

#define US			INT64_C(1000000)

/* 2026-11-27T19:30:01Z, the instant of the DESIGN.md example quote. */
#define EXAMPLE_S	INT64_C(1795807801)

/* The start of a valid quote; tests append their fields and the "}". */
#define Q_HEAD		"{\"symbol\":\"AAPL\",\"ts\":\"2026-11-27T19:30:01Z\",\"price\":1"
#define B_HEAD		"{\"symbol\":\"AAPL\",\"date\":\"2026-11-27\",\"close\":1"

/* The JSON syntax errors name the fault and its byte offset. */
#define E_JSON		"payload is not valid JSON: "
#define E_JSON_AT(what, off)	E_JSON what " at offset " #off
#define E_OBJECT	"payload is not a JSON object"
#define E_UTF8		"payload is not valid UTF-8"
#define E_SYMBOL	"field \"symbol\" must be 1-20 characters of A-Z 0-9 . - ^ ="
#define E_TS		"field \"ts\" is not an RFC 3339 timestamp with offset or a number of epoch seconds"
#define E_TS_RANGE	"field \"ts\" is outside years 0001-9999"
#define E_PRICE		"field \"price\" must be finite and greater than 0"
#define E_VOLUME	"field \"volume\" must be an integer >= 0"
#define E_DATE		"field \"date\" must be a calendar date YYYY-MM-DD"

#include "tap.h"

/*
 * The decoders, fed from a heap copy of exactly len bytes.  err is filled
 * with a non-NUL sentinel first, so that a decoder that fails without
 * writing a text is caught by err_ok().
 */
static bool
decode_quote(const char *buf, size_t len, sp_quote *q, char *err)
{
	char	   *copy = malloc(len > 0 ? len : 1);
	bool		ok;

	if (copy == NULL)
		abort();
	memcpy(copy, buf, len);
	memset(err, 0x7F, SP_ERR_MAX);
	memset(q, 0xAB, sizeof(*q));
	ok = sp_decode_quote(copy, len, q, err);
	free(copy);
	return ok;
}

static bool
decode_bar(const char *buf, size_t len, sp_bar *b, char *err)
{
	char	   *copy = malloc(len > 0 ? len : 1);
	bool		ok;

	if (copy == NULL)
		abort();
	memcpy(copy, buf, len);
	memset(err, 0x7F, SP_ERR_MAX);
	memset(b, 0xAB, sizeof(*b));
	ok = sp_decode_bar(copy, len, b, err);
	free(copy);
	return ok;
}

/* An error text as the contract wants it: NUL within SP_ERR_MAX, one line, lower-case start. */
static bool
err_ok(const char *err)
{
	return memchr(err, '\0', SP_ERR_MAX) != NULL &&
		strchr(err, '\n') == NULL &&
		err[0] >= 'a' && err[0] <= 'z';
}

/*
 * Judge a rejection: the decoder must fail with a well-formed text, equal
 * to expect when that is not NULL.
 */
static void
judge_rejection(bool decoded, const char *err, const char *expect,
				const char *kind, const char *desc)
{
	bool		good = !decoded && err_ok(err) &&
		(expect == NULL || strcmp(err, expect) == 0);

	if (check(good, "%s rejected: %s", kind, desc))
		return;
	if (decoded)
		diag("got: accepted");
	else if (!err_ok(err))
		diag("got: a malformed or missing error text");
	else
		diag("got:      %s", err);
	if (expect != NULL)
		diag("expected: %s", expect);
}

static void
quote_bad(const char *desc, const char *buf, size_t len, const char *expect)
{
	sp_quote	q;
	char		err[SP_ERR_MAX];
	bool		decoded = decode_quote(buf, len, &q, err);

	judge_rejection(decoded, err, expect, "quote", desc);
}

static void
bar_bad(const char *desc, const char *buf, size_t len, const char *expect)
{
	sp_bar		b;
	char		err[SP_ERR_MAX];
	bool		decoded = decode_bar(buf, len, &b, err);

	judge_rejection(decoded, err, expect, "bar", desc);
}

/* Decode a payload that must be accepted; one check. */
static bool
quote_good(const char *desc, const char *buf, size_t len, sp_quote *q)
{
	char		err[SP_ERR_MAX];
	bool		ok = decode_quote(buf, len, q, err);

	if (!check(ok, "quote accepted: %s", desc))
		diag("got: %s", err_ok(err) ? err : "(malformed error text)");
	return ok;
}

static bool
bar_good(const char *desc, const char *buf, size_t len, sp_bar *b)
{
	char		err[SP_ERR_MAX];
	bool		ok = decode_bar(buf, len, b, err);

	if (!check(ok, "bar accepted: %s", desc))
		diag("got: %s", err_ok(err) ? err : "(malformed error text)");
	return ok;
}

/* A quote whose "ts" is the JSON text ts_json must decode to want_us. */
static void
quote_ts(const char *ts_json, int64_t want_us, const char *desc)
{
	char		buf[256];
	int			len;
	sp_quote	q;
	char		err[SP_ERR_MAX];
	bool		ok;

	len = snprintf(buf, sizeof(buf),
				   "{\"symbol\":\"AAPL\",\"ts\":%s,\"price\":1}", ts_json);
	ok = decode_quote(buf, (size_t) len, &q, err);
	if (!check(ok && q.ts_us == want_us, "quote ts %s: %s", ts_json, desc))
	{
		if (ok)
			diag("got %" PRId64 " us, expected %" PRId64, q.ts_us, want_us);
		else
			diag("got: %s", err_ok(err) ? err : "(malformed error text)");
	}
}

/* A quote whose "ts" is the JSON text ts_json must be rejected with expect. */
static void
quote_ts_bad(const char *ts_json, const char *expect)
{
	char		buf[256];
	int			len;
	char		desc[128];

	len = snprintf(buf, sizeof(buf),
				   "{\"symbol\":\"AAPL\",\"ts\":%s,\"price\":1}", ts_json);
	snprintf(desc, sizeof(desc), "ts %s", ts_json);
	quote_bad(desc, buf, (size_t) len, expect);
}

static void
rfc3339_good(const char *s, int64_t want_us)
{
	int64_t		us = 0;
	bool		ok = sp_parse_rfc3339(s, &us);

	if (!check(ok && us == want_us, "sp_parse_rfc3339(\"%s\") = %" PRId64,
			   s, want_us))
	{
		if (ok)
			diag("got %" PRId64, us);
		else
			diag("got: rejected");
	}
}

static void
rfc3339_bad(const char *s, const char *why)
{
	int64_t		us = 12345;

	check(!sp_parse_rfc3339(s, &us) && us == 12345,
		  "sp_parse_rfc3339 rejects \"%s\" (%s) and leaves *us alone", s, why);
}

static void
date_good(const char *s, int32_t want)
{
	int32_t		days = 0;
	bool		ok = sp_parse_date(s, &days);

	if (!check(ok && days == want, "sp_parse_date(\"%s\") = %d", s, (int) want))
	{
		if (ok)
			diag("got %d", (int) days);
		else
			diag("got: rejected");
	}
}

static void
utf8(const char *desc, const char *buf, size_t len, bool want)
{
	char	   *copy = malloc(len > 0 ? len : 1);

	if (copy == NULL)
		abort();
	memcpy(copy, buf, len);
	check(sp_valid_utf8(copy, len) == want, "sp_valid_utf8 %s %s",
		  want ? "accepts" : "rejects", desc);
	free(copy);
}


static void
test_good_quotes(void)
{
	sp_quote	q;
	static const char full[] =
		"{\"symbol\":\"AAPL\",\"ts\":\"2026-11-27T19:30:01Z\",\"price\":189.23,"
		"\"volume\":51234567,\"open\":188.10,\"high\":190.00,\"low\":187.50,"
		"\"prev_close\":188.00,\"currency\":\"USD\",\"source\":\"yahoo\"}";

	if (quote_good("the DESIGN.md example, all fields", LIT(full), &q))
	{
		check_str(q.symbol, "AAPL", "full quote: symbol");
		check_int(q.ts_us, EXAMPLE_S * US, "full quote: ts");
		check_num(q.price, 189.23, "full quote: price");
		check_int(q.volume, 51234567, "full quote: volume");
		check_num(q.open, 188.10, "full quote: open");
		check_num(q.high, 190.00, "full quote: high");
		check_num(q.low, 187.50, "full quote: low");
		check_num(q.prev_close, 188.00, "full quote: prev_close");
		check_str(q.currency, "USD", "full quote: currency");
		check_str(q.source, "yahoo", "full quote: source");
		check(q.present == (SP_HAS_VOLUME | SP_HAS_OPEN | SP_HAS_HIGH |
							SP_HAS_LOW | SP_HAS_PREV_CLOSE | SP_HAS_CURRENCY |
							SP_HAS_SOURCE),
			  "full quote: present has exactly the seven optional bits");
	}

	if (quote_good("minimal (symbol, ts, price)",
				   LIT("{\"symbol\":\"MSFT\",\"ts\":\"2026-11-27T19:30:01Z\",\"price\":0.0001}"), &q))
	{
		check_str(q.symbol, "MSFT", "minimal quote: symbol");
		check_num(q.price, 0.0001, "minimal quote: price");
		check(q.present == 0, "minimal quote: present is 0");
		check(q.volume == 0 && q.open == 0 && q.high == 0 && q.low == 0 &&
			  q.prev_close == 0 && q.currency[0] == '\0' && q.source[0] == '\0',
			  "minimal quote: absent fields are zeroed, not left over");
	}

	if (quote_good("every optional field null",
				   LIT(Q_HEAD ",\"volume\":null,\"open\":null,\"high\":null,\"low\":null,"
					   "\"prev_close\":null,\"currency\":null,\"source\":null}"), &q))
		check(q.present == 0 && q.volume == 0 && q.currency[0] == '\0',
			  "null optional fields count as absent");

	if (quote_good("unknown fields of every type",
				   LIT(Q_HEAD ",\"extra\":{\"a\":[1,{\"b\":null}],\"c\":\"d\"},"
					   "\"Price\":\"x\",\"SYMBOL\":7,\"x\":1,\"x\":2,"
					   "\"name\":\"Soci\xc3\xa9t\xc3\xa9 G\xc3\xa9n\xc3\xa9rale \xf0\x9f\x98\x80\","
					   "\"esc\":\"\\u00e9\\ud83d\\ude00\"}"), &q))
		check(q.price == 1 && q.present == 0 && strcmp(q.symbol, "AAPL") == 0,
			  "unknown (and differently cased) fields are ignored");

	quote_good("whitespace around the object",
			   LIT(" \r\n\t" Q_HEAD "} \n"), &q);
	quote_good("a UTF-8 byte order mark before the object (as cJSON allows)",
			   LIT("\xef\xbb\xbf" Q_HEAD "}"), &q);
	quote_good("the decoder stops at len (bytes after it are not read)",
			   Q_HEAD "}GARBAGE", sizeof(Q_HEAD "}") - 1, &q);

	if (quote_good("symbol characters . - ^ = and digits",
				   LIT("{\"symbol\":\"^GSPC\",\"ts\":0,\"price\":1}"), &q))
		check_str(q.symbol, "^GSPC", "symbol ^GSPC kept as is");
	quote_good("symbol EURUSD=X", LIT("{\"symbol\":\"EURUSD=X\",\"ts\":0,\"price\":1}"), &q);
	quote_good("symbol BRK-B", LIT("{\"symbol\":\"BRK-B\",\"ts\":0,\"price\":1}"), &q);
	quote_good("symbol 0700.HK", LIT("{\"symbol\":\"0700.HK\",\"ts\":0,\"price\":1}"), &q);
	if (quote_good("symbol of 20 characters",
				   LIT("{\"symbol\":\"ABCDEFGHIJ0123456789\",\"ts\":0,\"price\":1}"), &q))
		check_str(q.symbol, "ABCDEFGHIJ0123456789", "20-character symbol kept whole");

	if (quote_good("currency of 16 and source of 32 printable characters",
				   LIT(Q_HEAD ",\"currency\":\"ABCDEFGHIJKLMNOP\","
					   "\"source\":\"yahoo v8 chart API (delayed) ~!\"}"), &q))
	{
		check_str(q.currency, "ABCDEFGHIJKLMNOP", "16-character currency kept whole");
		check_str(q.source, "yahoo v8 chart API (delayed) ~!", "32-character source kept whole");
		check(q.present == (SP_HAS_CURRENCY | SP_HAS_SOURCE),
			  "present has the currency and source bits only");
	}
	if (quote_good("escapes in a string field",
				   LIT(Q_HEAD ",\"source\":\"\\u0041b\\\"c\\\\\\/\"}"), &q))
		check_str(q.source, "Ab\"c\\/", "escaped source decoded");

	if (quote_good("an escaped backslash before u0000 (not a \\u0000 escape)",
				   LIT(Q_HEAD ",\"source\":\"a\\\\u0000\"}"), &q))
		check_str(q.source, "a\\u0000", "source is a, backslash, u0000");

	if (quote_good("volume 0, open 0 and open -0",
				   LIT(Q_HEAD ",\"volume\":0,\"open\":-0.0,\"low\":0}"), &q))
		check(q.volume == 0 && q.open == 0 && !signbit(q.open) && q.low == 0 &&
			  q.present == (SP_HAS_VOLUME | SP_HAS_OPEN | SP_HAS_LOW),
			  "zero amounts are present, and -0 is stored as 0");
	if (quote_good("volume 1e3", LIT(Q_HEAD ",\"volume\":1e3}"), &q))
		check_int(q.volume, 1000, "volume 1e3 is 1000");
	if (quote_good("volume 2^53", LIT(Q_HEAD ",\"volume\":9007199254740992}"), &q))
		check_int(q.volume, INT64_C(9007199254740992), "volume 2^53 exact");
	if (quote_good("volume just below 2^63",
				   LIT(Q_HEAD ",\"volume\":9223372036854774784}"), &q))
		check_int(q.volume, INT64_C(9223372036854774784),
				  "largest double below 2^63 is exact");
}

static void
test_quote_timestamps(void)
{
	quote_ts("\"2026-11-27T19:30:01Z\"", EXAMPLE_S * US, "Z");
	quote_ts("\"2026-11-27t19:30:01z\"", EXAMPLE_S * US, "lower-case t and z");
	quote_ts("\"2026-11-27T14:30:01-05:00\"", EXAMPLE_S * US, "offset -05:00");
	quote_ts("\"2026-11-28T01:00:01+05:30\"", EXAMPLE_S * US, "offset +05:30");
	quote_ts("\"2026-11-27T19:30:01+00:00\"", EXAMPLE_S * US, "offset +00:00");
	quote_ts("\"2026-11-27T19:30:01-00:00\"", EXAMPLE_S * US, "offset -00:00");
	quote_ts("\"2026-11-27T14:30:01.250-05:00\"", EXAMPLE_S * US + 250000,
			 "milliseconds with an offset");
	quote_ts("\"2026-11-27T19:30:01.5Z\"", EXAMPLE_S * US + 500000, "one fraction digit");
	quote_ts("\"2026-11-27T19:30:01.123456Z\"", EXAMPLE_S * US + 123456,
			 "microseconds");
	quote_ts("\"2026-11-27T19:30:01.1234567Z\"", EXAMPLE_S * US + 123456,
			 "seven fraction digits are truncated");
	quote_ts("\"2026-11-27T19:30:01.999999999Z\"", EXAMPLE_S * US + 999999,
			 "nanoseconds truncated, not rounded into the next second");
	quote_ts("1795807801", EXAMPLE_S * US, "integer epoch seconds");
	quote_ts("1795807801.25", EXAMPLE_S * US + 250000, "fractional epoch seconds");
	quote_ts("1795807801.123456", EXAMPLE_S * US + 123456,
			 "epoch seconds rounded to the nearest microsecond");
	quote_ts("1.000001", 1000001,
			 "epoch seconds stored a hair below the decimal still round to it");
	quote_ts("-1.000001", -1000001, "the same for negative epoch seconds");
	quote_ts("1.7958078015e9", EXAMPLE_S * US + 500000, "epoch seconds with an exponent");
	quote_ts("0", 0, "epoch 0");
	quote_ts("-1.5", -1500000, "negative epoch seconds");
	quote_ts("-62135596800", INT64_C(-62135596800) * US,
			 "epoch seconds of 0001-01-01T00:00:00Z");
	quote_ts("253402300799", INT64_C(253402300799) * US,
			 "epoch seconds of 9999-12-31T23:59:59Z");

	quote_ts_bad("\"2026-02-30T00:00:00Z\"", E_TS);
	quote_ts_bad("\"2026-11-27T19:30:01\"", E_TS);
	quote_ts_bad("\"2026-11-27T24:00:00Z\"", E_TS);
	quote_ts_bad("\"2026-11-27T23:59:60Z\"", E_TS);
	quote_ts_bad("\"2026-11-27 19:30:01Z\"", E_TS);
	quote_ts_bad("\"2026-11-27\"", E_TS);
	quote_ts_bad("\"1795807801\"", E_TS);
	quote_ts_bad("\"\"", E_TS);
	quote_ts_bad("true", E_TS);
	quote_ts_bad("{\"s\":1}", E_TS);
	quote_ts_bad("[1795807801]", E_TS);
	quote_ts_bad("1e999", E_TS_RANGE);
	quote_ts_bad("-1e999", E_TS_RANGE);
	quote_ts_bad("-62135596801", E_TS_RANGE);
	quote_ts_bad("253402300800", E_TS_RANGE);
	quote_ts_bad("\"0000-12-31T23:59:59Z\"", E_TS);
	quote_ts_bad("\"9999-12-31T23:59:59-00:01\"", E_TS_RANGE);
	quote_ts_bad("\"0001-01-01T00:00:00+00:01\"", E_TS_RANGE);
	quote_bad("ts missing", LIT("{\"symbol\":\"AAPL\",\"price\":1}"),
			  "required field \"ts\" is missing");
	quote_bad("ts null", LIT("{\"symbol\":\"AAPL\",\"ts\":null,\"price\":1}"),
			  "required field \"ts\" is null");
}

static void
test_bad_quotes(void)
{
	static const char sym21[] =
		"{\"symbol\":\"ABCDEFGHIJ01234567890\",\"ts\":0,\"price\":1}";

	/* Not a JSON object at all */
	quote_bad("not JSON", LIT("hello"), E_JSON_AT("expected a value", 0));
	quote_bad("truncated JSON",
			  LIT("{\"symbol\":\"AAPL\",\"ts\":\"2026-11-27T19:30:01Z\",\"price\":1"),
			  E_JSON_AT("unexpected end of the payload", 54));
	quote_bad("truncated inside a string", LIT("{\"symbol\":\"AA"),
			  E_JSON_AT("unterminated string", 10));
	quote_bad("empty payload", LIT(""), E_JSON "there is no value");
	quote_bad("whitespace only", LIT(" \n"), E_JSON "there is no value");
	quote_bad("a JSON array", LIT("[{\"symbol\":\"AAPL\"}]"), E_OBJECT);
	quote_bad("a JSON string", LIT("\"AAPL\""), E_OBJECT);
	quote_bad("a JSON number", LIT("42"), E_OBJECT);
	quote_bad("JSON null", LIT("null"), E_OBJECT);
	quote_bad("garbage after the object", LIT(Q_HEAD "} x"),
			  E_JSON_AT("unexpected data after the JSON value", 56));
	quote_bad("two objects", LIT(Q_HEAD "}" Q_HEAD "}"),
			  E_JSON_AT("unexpected data after the JSON value", 55));
	quote_bad("trailing comma", LIT(Q_HEAD ",}"),
			  E_JSON_AT("expected a member name in double quotes", 55));
	quote_bad("a raw tab inside a string (JSON wants \\t)",
			  LIT(Q_HEAD ",\"source\":\"a\tb\"}"),
			  E_JSON_AT("unescaped control character 0x09 in a string", 66));
	quote_bad("a raw NUL byte inside a string",
			  LIT("{\"symbol\":\"AAPL\0X\",\"ts\":0,\"price\":1}"),
			  E_JSON_AT("unescaped control character 0x00 in a string", 15));
	quote_bad("a lone surrogate escape", LIT(Q_HEAD ",\"x\":\"\\ud800\"}"),
			  E_JSON_AT("unpaired UTF-16 surrogate in a string", 60));
	quote_bad("\\u0000 in the symbol (would cut it to AAPL)",
			  LIT("{\"symbol\":\"AAPL\\u0000X\",\"ts\":0,\"price\":1}"),
			  "payload contains \\u0000, which text columns cannot store");
	quote_bad("\\u0000 in an unknown field",
			  LIT(Q_HEAD ",\"note\":\"\\u0000\"}"), NULL);
	{
		/* Deeper than cJSON's nesting limit (1000): refused, not a crash. */
		static char deep[2 * 2000 + 64];
		size_t		n = 0;
		int			i;

		n += (size_t) sprintf(deep, "%s,\"x\":", Q_HEAD);
		for (i = 0; i < 2000; i++)
			deep[n++] = '[';
		for (i = 0; i < 2000; i++)
			deep[n++] = ']';
		deep[n++] = '}';
		quote_bad("2000 nested arrays in an unknown field", deep, n,
				  E_JSON_AT("nesting deeper than 1000 levels", 1058));
	}

	/* Not UTF-8 */
	quote_bad("an invalid byte 0xFF",
			  LIT("{\"symbol\":\"AAPL\xff\",\"ts\":0,\"price\":1}"), E_UTF8);
	quote_bad("an overlong encoding of '/' (C0 AF)",
			  LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":1,\"x\":\"\xc0\xaf\"}"), E_UTF8);
	quote_bad("a three-byte overlong encoding (E0 80 AF)",
			  LIT(Q_HEAD ",\"x\":\"\xe0\x80\xaf\"}"), E_UTF8);
	quote_bad("an encoded surrogate (ED A0 80)",
			  LIT(Q_HEAD ",\"x\":\"\xed\xa0\x80\"}"), E_UTF8);
	quote_bad("a code point above U+10FFFF (F4 90 80 80)",
			  LIT(Q_HEAD ",\"x\":\"\xf4\x90\x80\x80\"}"), E_UTF8);
	quote_bad("Latin-1 instead of UTF-8",
			  LIT(Q_HEAD ",\"source\":\"Soci\xe9t\xe9\"}"), E_UTF8);
	quote_bad("a sequence cut by the end of the payload",
			  LIT(Q_HEAD "}\xe2\x82"), E_UTF8);

	/* symbol */
	quote_bad("symbol missing", LIT("{\"ts\":0,\"price\":1}"),
			  "required field \"symbol\" is missing");
	quote_bad("symbol null", LIT("{\"symbol\":null,\"ts\":0,\"price\":1}"),
			  "required field \"symbol\" is null");
	quote_bad("symbol only under another case (keys are case-sensitive)",
			  LIT("{\"Symbol\":\"AAPL\",\"ts\":0,\"price\":1}"),
			  "required field \"symbol\" is missing");
	quote_bad("lower-case symbol", LIT("{\"symbol\":\"aapl\",\"ts\":0,\"price\":1}"), E_SYMBOL);
	quote_bad("21-character symbol", LIT(sym21), E_SYMBOL);
	quote_bad("empty symbol", LIT("{\"symbol\":\"\",\"ts\":0,\"price\":1}"), E_SYMBOL);
	quote_bad("symbol with a space", LIT("{\"symbol\":\"BRK B\",\"ts\":0,\"price\":1}"), E_SYMBOL);
	quote_bad("symbol with a slash", LIT("{\"symbol\":\"BRK/B\",\"ts\":0,\"price\":1}"), E_SYMBOL);
	quote_bad("symbol with a non-ASCII letter",
			  LIT("{\"symbol\":\"\xc3\x84PPL\",\"ts\":0,\"price\":1}"), E_SYMBOL);
	quote_bad("symbol a number", LIT("{\"symbol\":123,\"ts\":0,\"price\":1}"),
			  "field \"symbol\" must be a string");
	quote_bad("symbol an array", LIT("{\"symbol\":[\"AAPL\"],\"ts\":0,\"price\":1}"),
			  "field \"symbol\" must be a string");
	quote_bad("symbol twice", LIT("{\"symbol\":\"AAPL\",\"symbol\":\"MSFT\",\"ts\":0,\"price\":1}"),
			  "field \"symbol\" appears more than once");

	/* price */
	quote_bad("price missing", LIT("{\"symbol\":\"AAPL\",\"ts\":0}"),
			  "required field \"price\" is missing");
	quote_bad("price null", LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":null}"),
			  "required field \"price\" is null");
	quote_bad("price 0", LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":0}"), E_PRICE);
	quote_bad("price -1", LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":-1}"), E_PRICE);
	quote_bad("price 1e999 (infinite)", LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":1e999}"), E_PRICE);
	quote_bad("price -1e999", LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":-1e999}"), E_PRICE);
	quote_bad("price as a string", LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":\"189.23\"}"),
			  "field \"price\" must be a number");
	quote_bad("price as a boolean", LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":true}"),
			  "field \"price\" must be a number");
	quote_bad("price NaN (not JSON)", LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":NaN}"),
			  E_JSON_AT("expected a value", 32));
	quote_bad("price twice", LIT(Q_HEAD ",\"price\":2}"),
			  "field \"price\" appears more than once");

	/* volume */
	quote_bad("volume -1", LIT(Q_HEAD ",\"volume\":-1}"), E_VOLUME);
	quote_bad("volume 1.5", LIT(Q_HEAD ",\"volume\":1.5}"), E_VOLUME);
	quote_bad("volume -1e999", LIT(Q_HEAD ",\"volume\":-1e999}"), E_VOLUME);
	quote_bad("volume 2^63", LIT(Q_HEAD ",\"volume\":9223372036854775808}"),
			  "field \"volume\" must be less than 2^63");
	quote_bad("volume 1e999", LIT(Q_HEAD ",\"volume\":1e999}"),
			  "field \"volume\" must be less than 2^63");
	quote_bad("volume as a string", LIT(Q_HEAD ",\"volume\":\"100\"}"),
			  "field \"volume\" must be a number");

	/* open, high, low, prev_close */
	quote_bad("open -0.01", LIT(Q_HEAD ",\"open\":-0.01}"),
			  "field \"open\" must be finite and not negative");
	quote_bad("high 1e999", LIT(Q_HEAD ",\"high\":1e999}"),
			  "field \"high\" must be finite and not negative");
	quote_bad("low as a string", LIT(Q_HEAD ",\"low\":\"1\"}"),
			  "field \"low\" must be a number");
	quote_bad("prev_close as a boolean", LIT(Q_HEAD ",\"prev_close\":false}"),
			  "field \"prev_close\" must be a number");
	quote_bad("prev_close as an object", LIT(Q_HEAD ",\"prev_close\":{}}"),
			  "field \"prev_close\" must be a number");

	/* currency, source */
	quote_bad("currency of 17 characters", LIT(Q_HEAD ",\"currency\":\"ABCDEFGHIJKLMNOPQ\"}"),
			  "field \"currency\" must be 1-16 printable ASCII characters");
	quote_bad("empty currency", LIT(Q_HEAD ",\"currency\":\"\"}"),
			  "field \"currency\" must be 1-16 printable ASCII characters");
	quote_bad("currency with an escaped control character",
			  LIT(Q_HEAD ",\"currency\":\"US\\u0007D\"}"),
			  "field \"currency\" must be 1-16 printable ASCII characters");
	quote_bad("currency with a non-ASCII character",
			  LIT(Q_HEAD ",\"currency\":\"\xe2\x82\xac\"}"),
			  "field \"currency\" must be 1-16 printable ASCII characters");
	quote_bad("currency as a number", LIT(Q_HEAD ",\"currency\":840}"),
			  "field \"currency\" must be a string");
	quote_bad("source of 33 characters",
			  LIT(Q_HEAD ",\"source\":\"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456\"}"),
			  "field \"source\" must be 1-32 printable ASCII characters");
	quote_bad("source as an array", LIT(Q_HEAD ",\"source\":[\"yahoo\"]}"),
			  "field \"source\" must be a string");
}

/*
 * Strict RFC 8259 (issue 10): what cJSON alone let through, and what it
 * read from it, is refused with a text that names the fault; valid JSON
 * around the edges of the grammar still decodes to the same values.
 */
static void
test_strict_json(void)
{
	sp_quote	q;
	sp_bar		b;

	/* An invalid \u escape cut the string at the escape ("AAPL"). */
	quote_bad("\\uZZZZ in the symbol (was read as AAPL)",
			  LIT("{\"symbol\":\"AAPL\\uZZZZX\",\"ts\":0,\"price\":1}"),
			  E_JSON_AT("invalid \\u escape in a string", 15));
	quote_bad("\\uZZZZ in the currency (was read as US)",
			  LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":1,\"currency\":\"US\\uZZZZD\"}"),
			  E_JSON_AT("invalid \\u escape in a string", 48));
	quote_bad("\\uZZZZ after a ts string (was read as the timestamp before it)",
			  LIT("{\"symbol\":\"AAPL\",\"ts\":\"2026-11-27T19:30:01Z\\uZZZZX\",\"price\":1}"),
			  E_JSON_AT("invalid \\u escape in a string", 43));
	bar_bad("\\uZZZZ in a bar's date",
			LIT("{\"symbol\":\"AAPL\",\"date\":\"2026-11-27\\uZZZZ\",\"close\":1}"),
			E_JSON_AT("invalid \\u escape in a string", 35));
	quote_bad("\\u with three hex digits", LIT(Q_HEAD ",\"x\":\"\\u004\"}"),
			  E_JSON_AT("invalid \\u escape in a string", 60));
	quote_bad("\\u cut by the end of the payload", LIT("{\"x\":\"\\u00"),
			  E_JSON_AT("invalid \\u escape in a string", 6));
	quote_bad("\\U (upper-case u)", LIT(Q_HEAD ",\"x\":\"\\U0041\"}"),
			  E_JSON_AT("invalid escape in a string", 60));
	quote_bad("\\x41", LIT(Q_HEAD ",\"x\":\"\\x41\"}"),
			  E_JSON_AT("invalid escape in a string", 60));
	quote_bad("\\' (not a JSON escape)", LIT(Q_HEAD ",\"x\":\"\\'\"}"),
			  E_JSON_AT("invalid escape in a string", 60));
	quote_bad("\\0", LIT(Q_HEAD ",\"x\":\"\\0\"}"),
			  E_JSON_AT("invalid escape in a string", 60));
	quote_bad("a backslash at the end of the payload", LIT("{\"x\":\"\\"),
			  E_JSON_AT("unterminated string", 5));
	quote_bad("a lone low surrogate", LIT(Q_HEAD ",\"x\":\"\\udc00\"}"),
			  E_JSON_AT("unpaired UTF-16 surrogate in a string", 60));
	quote_bad("a high surrogate followed by a character",
			  LIT(Q_HEAD ",\"x\":\"\\ud83dx\"}"),
			  E_JSON_AT("unpaired UTF-16 surrogate in a string", 60));
	quote_bad("two high surrogates", LIT(Q_HEAD ",\"x\":\"\\ud83d\\ud83d\"}"),
			  E_JSON_AT("unpaired UTF-16 surrogate in a string", 60));
	quote_bad("a high surrogate and an invalid \\u escape",
			  LIT(Q_HEAD ",\"x\":\"\\ud83d\\uZZZZ\"}"),
			  E_JSON_AT("invalid \\u escape in a string", 66));
	quote_bad("a surrogate pair in reverse order",
			  LIT(Q_HEAD ",\"x\":\"\\ude00\\ud83d\"}"),
			  E_JSON_AT("unpaired UTF-16 surrogate in a string", 60));
	quote_bad("a raw 0x1F in a member name", LIT("{\"sym\x1f\":1}"),
			  E_JSON_AT("unescaped control character 0x1F in a string", 5));
	quote_bad("a raw LF in the symbol", LIT("{\"symbol\":\"AA\nPL\",\"ts\":0,\"price\":1}"),
			  E_JSON_AT("unescaped control character 0x0A in a string", 13));

	/* Only space, tab, CR and LF separate tokens. */
	quote_bad("a raw NUL before \"symbol\"",
			  LIT("{\0\"symbol\":\"AAPL\",\"ts\":0,\"price\":1}"),
			  E_JSON_AT("control character 0x00 outside a string", 1));
	quote_bad("a raw NUL before the object",
			  LIT("\0{\"symbol\":\"AAPL\",\"ts\":0,\"price\":1}"),
			  E_JSON_AT("control character 0x00 outside a string", 0));
	quote_bad("a raw NUL after the object", LIT(Q_HEAD "}\0"),
			  E_JSON_AT("control character 0x00 outside a string", 55));
	quote_bad("0x01 before a comma", LIT("{\"symbol\":\"AAPL\"\x01,\"ts\":0,\"price\":1}"),
			  E_JSON_AT("control character 0x01 outside a string", 16));
	quote_bad("0x1F before a colon", LIT("{\"symbol\"\x1f:\"AAPL\",\"ts\":0,\"price\":1}"),
			  E_JSON_AT("control character 0x1F outside a string", 9));
	quote_bad("0x1F before a value", LIT("{\"symbol\":\x1f\"AAPL\",\"ts\":0,\"price\":1}"),
			  E_JSON_AT("control character 0x1F outside a string", 10));
	quote_bad("a vertical tab between members",
			  LIT("{\"symbol\":\"AAPL\",\v\"ts\":0,\"price\":1}"),
			  E_JSON_AT("control character 0x0B outside a string", 17));
	quote_bad("a form feed before the closing brace", LIT(Q_HEAD "\f}"),
			  E_JSON_AT("control character 0x0C outside a string", 54));
	quote_bad("DEL (0x7F) between members", LIT(Q_HEAD "\x7f}"),
			  E_JSON_AT("control character 0x7F outside a string", 54));
	quote_bad("a no-break space (U+00A0) between members",
			  LIT(Q_HEAD "\xc2\xa0}"), E_JSON_AT("expected ',' or '}'", 54));
	quote_bad("a byte order mark inside the payload", LIT("{\xef\xbb\xbf\"x\":1}"),
			  E_JSON_AT("expected a member name in double quotes", 1));
	quote_bad("a byte order mark and a one-digit number (cJSON missed the mark)",
			  LIT("\xef\xbb\xbf" "3"), E_OBJECT);
	bar_bad("a byte order mark and an empty object in a bar",
			LIT("\xef\xbb\xbf{}"), "required field \"symbol\" is missing");
	quote_bad("two byte order marks", LIT("\xef\xbb\xbf\xef\xbb\xbf{}"),
			  E_JSON_AT("expected a value", 3));

	/* Numbers follow the grammar: -? int frac? exp? */
	quote_bad("price 01", LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":01}"),
			  E_JSON_AT("number with a leading zero", 32));
	quote_bad("price -01", LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":-01}"),
			  E_JSON_AT("number with a leading zero", 33));
	quote_bad("ts 00", LIT("{\"symbol\":\"AAPL\",\"ts\":00,\"price\":1}"),
			  E_JSON_AT("number with a leading zero", 22));
	quote_bad("price 1.", LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":1.}"),
			  E_JSON_AT("number without digits after '.'", 34));
	quote_bad("ts 0.", LIT("{\"symbol\":\"AAPL\",\"ts\":0.,\"price\":1}"),
			  E_JSON_AT("number without digits after '.'", 24));
	quote_bad("open -0.", LIT(Q_HEAD ",\"open\":-0.}"),
			  E_JSON_AT("number without digits after '.'", 65));
	quote_bad("price .5", LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":.5}"),
			  E_JSON_AT("number without digits before '.'", 32));
	quote_bad("price -.5", LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":-.5}"),
			  E_JSON_AT("number without digits after '-'", 33));
	quote_bad("price 1.e5", LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":1.e5}"),
			  E_JSON_AT("number without digits after '.'", 34));
	quote_bad("price +1", LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":+1}"),
			  E_JSON_AT("number with a leading '+'", 32));
	quote_bad("price -", LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":-}"),
			  E_JSON_AT("number without digits after '-'", 33));
	quote_bad("price 1e", LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":1e}"),
			  E_JSON_AT("number without digits in its exponent", 34));
	quote_bad("price 1e+", LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":1e+}"),
			  E_JSON_AT("number without digits in its exponent", 35));
	quote_bad("price 1.5E-", LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":1.5E-}"),
			  E_JSON_AT("number without digits in its exponent", 37));
	quote_bad("price 0x10", LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":0x10}"),
			  E_JSON_AT("expected ',' or '}'", 33));
	quote_bad("price Infinity", LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":Infinity}"),
			  E_JSON_AT("expected a value", 32));
	quote_bad("price -Infinity", LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":-Infinity}"),
			  E_JSON_AT("number without digits after '-'", 33));
	quote_bad("price 1 000 (digits after white space)",
			  LIT("{\"symbol\":\"AAPL\",\"ts\":0,\"price\":1 000}"),
			  E_JSON_AT("expected ',' or '}'", 34));
	bar_bad("close 01 in a bar", LIT("{\"symbol\":\"AAPL\",\"date\":\"2026-11-27\",\"close\":01}"),
			E_JSON_AT("number with a leading zero", 45));
	if (quote_good("numbers at the edges of the grammar",
				   LIT("{\"symbol\":\"AAPL\",\"ts\":-0,\"price\":1E+2,\"open\":0.5e-0,"
					   "\"high\":123.456e1,\"low\":-0.0E0,\"prev_close\":10e-1,"
					   "\"volume\":0e5}"), &q))
		check(q.ts_us == 0 && q.price == 100 && q.open == 0.5 &&
			  q.high == 1234.56 && q.low == 0 && !signbit(q.low) &&
			  q.prev_close == 1 && q.volume == 0,
			  "-0, 1E+2, 0.5e-0, 123.456e1, -0.0E0, 10e-1 and 0e5 read as JSON numbers");

	/* Literals, structure, nesting. */
	quote_bad("a literal cut short (nul)", LIT(Q_HEAD ",\"x\":nul}"),
			  E_JSON_AT("invalid literal (not true, false or null)", 59));
	quote_bad("True (capitalised)", LIT(Q_HEAD ",\"x\":True}"),
			  E_JSON_AT("expected a value", 59));
	quote_bad("truex", LIT(Q_HEAD ",\"x\":truex}"),
			  E_JSON_AT("expected ',' or '}'", 63));
	quote_bad("a single-quoted member name", LIT("{'symbol':\"AAPL\"}"),
			  E_JSON_AT("expected a member name in double quotes", 1));
	quote_bad("a member name without quotes", LIT("{symbol:\"AAPL\"}"),
			  E_JSON_AT("expected a member name in double quotes", 1));
	quote_bad("a member without a colon", LIT("{\"symbol\" \"AAPL\"}"),
			  E_JSON_AT("expected ':' after a member name", 10));
	quote_bad("a member without a value", LIT("{\"symbol\":}"),
			  E_JSON_AT("expected a value", 10));
	quote_bad("a missing comma between members",
			  LIT("{\"symbol\":\"AAPL\" \"ts\":0,\"price\":1}"),
			  E_JSON_AT("expected ',' or '}'", 17));
	quote_bad("a trailing comma in an array", LIT(Q_HEAD ",\"x\":[1,]}"),
			  E_JSON_AT("expected a value", 62));
	quote_bad("an unclosed array", LIT(Q_HEAD ",\"x\":[1}"),
			  E_JSON_AT("expected ',' or ']'", 61));
	quote_bad("an array closed by a brace", LIT(Q_HEAD ",\"x\":[}"),
			  E_JSON_AT("expected a value", 60));
	quote_bad("an unclosed object", LIT("{\"x\":{}"),
			  E_JSON_AT("unexpected end of the payload", 7));
	{
		/* Exactly cJSON's limit of 1000 levels, then one more. */
		static char deep[2 * 1001 + 64];
		size_t		n;
		int			levels;

		for (levels = 999; levels <= 1000; levels++)
		{
			int			i;

			n = (size_t) sprintf(deep, "%s,\"x\":", Q_HEAD);
			for (i = 0; i < levels; i++)
				deep[n++] = '[';
			for (i = 0; i < levels; i++)
				deep[n++] = ']';
			deep[n++] = '}';
			if (levels == 999)
				quote_good("the object and 999 nested arrays (1000 levels)", deep, n, &q);
			else
				quote_bad("the object and 1000 nested arrays (1001 levels)", deep, n,
						  E_JSON_AT("nesting deeper than 1000 levels", 1058));
		}
	}

	/* Valid strings decode as before. */
	if (quote_good("escapes of every kind in an unknown field and a member name",
				   LIT(Q_HEAD ",\"\\u0078\\n\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\","
					   "\"\":1,\"currency\":\"\\u0055SD\"}"), &q))
		check_str(q.currency, "USD", "\\u0055SD is USD");
	quote_good("DEL (0x7F) inside a string is valid JSON", LIT(Q_HEAD ",\"x\":\"\x7f\"}"), &q);
	quote_bad("DEL in the currency", LIT(Q_HEAD ",\"currency\":\"US\x7f\"}"),
			  "field \"currency\" must be 1-16 printable ASCII characters");
	if (bar_good("a bar with every JSON white space character",
				 LIT(" \t\r\n{ \"symbol\" :\t\"AAPL\" ,\r\n\"date\"\n:\"2026-11-27\",\"close\" : 1 } \t\r\n"),
				 &b))
		check(b.close == 1 && b.date == 20784, "white space changes no value");

	/* Both decoders give the same text for the same broken payload. */
	bar_bad("a raw NUL before \"symbol\" in a bar",
			LIT("{\0\"symbol\":\"AAPL\",\"date\":\"2026-11-27\",\"close\":1}"),
			E_JSON_AT("control character 0x00 outside a string", 1));
	bar_bad("an empty bar payload", LIT(""), E_JSON "there is no value");
}

static void
test_bars(void)
{
	sp_bar		b;
	static const char full[] =
		"{\"symbol\":\"AAPL\",\"date\":\"2026-11-27\",\"open\":188.1,\"high\":190.0,"
		"\"low\":187.5,\"close\":189.2,\"adj_close\":189.2,\"volume\":51234567}";

	if (bar_good("the DESIGN.md example, all fields", LIT(full), &b))
	{
		check_str(b.symbol, "AAPL", "full bar: symbol");
		check_int(b.date, 20784, "full bar: date 2026-11-27 is day 20784");
		check_num(b.open, 188.1, "full bar: open");
		check_num(b.high, 190.0, "full bar: high");
		check_num(b.low, 187.5, "full bar: low");
		check_num(b.close, 189.2, "full bar: close");
		check_num(b.adj_close, 189.2, "full bar: adj_close");
		check_int(b.volume, 51234567, "full bar: volume");
		check(b.present == (SP_HAS_OPEN | SP_HAS_HIGH | SP_HAS_LOW |
							SP_HAS_ADJ_CLOSE | SP_HAS_VOLUME),
			  "full bar: present has exactly its five optional bits");
	}

	/* A revision of the same (symbol, date) decodes to its own values. */
	if (bar_good("a later revision of the same bar",
				 LIT("{\"symbol\":\"AAPL\",\"date\":\"2026-11-27\",\"high\":191.5,"
					 "\"close\":190.75,\"volume\":60000000,\"adj_close\":null}"), &b))
	{
		check(b.date == 20784 && b.close == 190.75 && b.high == 191.5 &&
			  b.volume == 60000000,
			  "revised bar: new close, high and volume");
		check(b.present == (SP_HAS_HIGH | SP_HAS_VOLUME),
			  "revised bar: null adj_close and missing open/low are absent");
	}

	if (bar_good("minimal (symbol, date, close)", LIT(B_HEAD "}"), &b))
		check(b.present == 0 && b.volume == 0 && b.open == 0 && b.adj_close == 0,
			  "minimal bar: present is 0 and absent fields are zeroed");
	bar_good("quote fields in a bar are unknown fields",
			 LIT(B_HEAD ",\"price\":\"x\",\"ts\":true,\"currency\":1}"), &b);

	if (bar_good("leap day 2024-02-29",
				 LIT("{\"symbol\":\"AAPL\",\"date\":\"2024-02-29\",\"close\":1}"), &b))
		check_int(b.date, 19782, "2024-02-29 is day 19782");
	bar_good("leap day 2000-02-29 (divisible by 400)",
			 LIT("{\"symbol\":\"AAPL\",\"date\":\"2000-02-29\",\"close\":1}"), &b);
	bar_bad("2023-02-29 (not a leap year)",
			LIT("{\"symbol\":\"AAPL\",\"date\":\"2023-02-29\",\"close\":1}"), E_DATE);
	bar_bad("1900-02-29 (divisible by 100)",
			LIT("{\"symbol\":\"AAPL\",\"date\":\"1900-02-29\",\"close\":1}"), E_DATE);

	bar_bad("close missing", LIT("{\"symbol\":\"AAPL\",\"date\":\"2026-11-27\"}"),
			"required field \"close\" is missing");
	bar_bad("close null", LIT("{\"symbol\":\"AAPL\",\"date\":\"2026-11-27\",\"close\":null}"),
			"required field \"close\" is null");
	bar_bad("close 0", LIT("{\"symbol\":\"AAPL\",\"date\":\"2026-11-27\",\"close\":0}"),
			"field \"close\" must be finite and greater than 0");
	bar_bad("close as a string", LIT("{\"symbol\":\"AAPL\",\"date\":\"2026-11-27\",\"close\":\"1\"}"),
			"field \"close\" must be a number");
	bar_bad("date missing", LIT("{\"symbol\":\"AAPL\",\"close\":1}"),
			"required field \"date\" is missing");
	bar_bad("date as a number", LIT("{\"symbol\":\"AAPL\",\"date\":20261127,\"close\":1}"),
			"field \"date\" must be a string");
	bar_bad("symbol missing", LIT("{\"date\":\"2026-11-27\",\"close\":1}"),
			"required field \"symbol\" is missing");
	bar_bad("lower-case symbol", LIT("{\"symbol\":\"aapl\",\"date\":\"2026-11-27\",\"close\":1}"),
			E_SYMBOL);
	bar_bad("volume 1.5", LIT(B_HEAD ",\"volume\":1.5}"), E_VOLUME);
	bar_bad("adj_close -1", LIT(B_HEAD ",\"adj_close\":-1}"),
			"field \"adj_close\" must be finite and not negative");
	bar_bad("an array", LIT("[]"), E_OBJECT);
	bar_bad("invalid UTF-8", LIT(B_HEAD ",\"x\":\"\xc1\xbf\"}"), E_UTF8);

	{
		static const char *const bad_dates[] = {
			"2026-1-27", "2026/11/27", "2026-11-27T00:00:00Z", "20261127",
			"2026-13-01", "2026-00-10", "2026-11-00", "2026-04-31",
			"2026-11-32", "0000-01-01", "10000-01-01", " 2026-11-27",
			"2026-11-27 ", "26-11-27", "+2026-11-27", "2026-11-2a", "",
		};
		size_t		i;

		for (i = 0; i < sizeof(bad_dates) / sizeof(bad_dates[0]); i++)
		{
			char		buf[128];
			char		desc[64];
			int			len;

			len = snprintf(buf, sizeof(buf),
						   "{\"symbol\":\"AAPL\",\"date\":\"%s\",\"close\":1}",
						   bad_dates[i]);
			snprintf(desc, sizeof(desc), "date \"%s\"", bad_dates[i]);
			bar_bad(desc, buf, (size_t) len, E_DATE);
		}
	}
}

/*
 * days_from_civil, through sp_parse_date: spot checks against values from
 * Python's datetime, then every day of years 0001..9999 against a counter
 * driven by a naive calendar (a month table and the leap rule), which is a
 * round trip civil -> days -> civil in effect: the mapping must be exactly
 * the consecutive integers.  The day after the end of every month must be
 * refused, which exercises the leap rule of every year.
 */
static void
test_dates(void)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int64_t		expect = -719162;	/* 0001-01-01 */
	int64_t		epoch_seen = -1;
	long		wrong = 0,
				accepted_bad = 0;
	int			y,
				m,
				d;

	date_good("1970-01-01", 0);
	date_good("1970-01-02", 1);
	date_good("1969-12-31", -1);
	date_good("2000-03-01", 11017);
	date_good("2024-02-29", 19782);
	date_good("1900-03-01", -25508);
	date_good("1600-02-29", -135081);
	date_good("0001-01-01", -719162);
	date_good("9999-12-31", 2932896);

	for (y = 1; y <= 9999; y++)
	{
		bool		leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

		for (m = 1; m <= 12; m++)
		{
			int			last = mdays[m - 1] + (m == 2 && leap);
			char		s[40];	/* room for any int, to quiet -Wformat-truncation */
			int32_t		days;

			for (d = 1; d <= last; d++, expect++)
			{
				snprintf(s, sizeof(s), "%04d-%02d-%02d", y, m, d);
				if (!sp_parse_date(s, &days) || days != expect)
				{
					if (wrong++ < 5)
						diag("%s: expected %" PRId64, s, expect);
				}
				if (y == 1970 && m == 1 && d == 1)
					epoch_seen = expect;
			}
			snprintf(s, sizeof(s), "%04d-%02d-%02d", y, m, last + 1);
			if (sp_parse_date(s, &days))
				accepted_bad++;
		}
	}
	check(wrong == 0, "every date 0001-01-01..9999-12-31 is the day after the one before");
	check(epoch_seen == 0 && expect == 2932897,
		  "the day count meets 1970-01-01 at 0 and ends at 2932896");
	check(accepted_bad == 0, "the day after the end of every month is refused");
	check(!sp_parse_date(NULL, NULL), "sp_parse_date(NULL) is false");
}

static void
test_rfc3339(void)
{
	rfc3339_good("2026-11-27T19:30:01Z", EXAMPLE_S * US);
	rfc3339_good("2026-11-27T14:30:01-05:00", EXAMPLE_S * US);
	rfc3339_good("2026-11-28T01:00:01+05:30", EXAMPLE_S * US);
	rfc3339_good("1970-01-01T00:00:00Z", 0);
	rfc3339_good("1969-12-31T23:59:59Z", -1 * US);
	rfc3339_good("1969-12-31T23:59:59.5Z", -500000);
	rfc3339_good("1970-01-01T00:00:00+23:59", INT64_C(-86340) * US);
	rfc3339_good("2000-03-01T00:00:00Z", INT64_C(951868800) * US);
	rfc3339_good("2024-02-29T00:00:00Z", INT64_C(1709164800) * US);
	rfc3339_good("1900-03-01T00:00:00Z", INT64_C(-2203891200) * US);
	rfc3339_good("0001-01-01T00:00:00Z", INT64_C(-62135596800) * US);
	rfc3339_good("9999-12-31T00:00:00Z", INT64_C(253402214400) * US);
	rfc3339_good("9999-12-31T23:59:59.999999Z", INT64_C(253402300799) * US + 999999);
	rfc3339_good("2026-11-27T19:30:01.000001Z", EXAMPLE_S * US + 1);
	rfc3339_good("2026-11-27T19:30:01.12345678901234567890Z", EXAMPLE_S * US + 123456);

	rfc3339_bad("2026-02-30T00:00:00Z", "no such day");
	rfc3339_bad("2026-11-27T19:30:01", "no offset");
	rfc3339_bad("2026-11-27T24:00:00Z", "hour 24");
	rfc3339_bad("2026-11-27T23:59:60Z", "leap second");
	rfc3339_bad("2026-11-27T19:60:00Z", "minute 60");
	rfc3339_bad("2026-11-27 19:30:01Z", "space for T");
	rfc3339_bad("2026-11-27T19:30:01.Z", "dot without digits");
	rfc3339_bad("2026-11-27T19:30:01,5Z", "comma fraction");
	rfc3339_bad("2026-11-27T19:30Z", "no seconds");
	rfc3339_bad("2026-11-27T9:30:01Z", "one-digit hour");
	rfc3339_bad("26-11-27T19:30:01Z", "two-digit year");
	rfc3339_bad("2026-11-27T19:30:01+0500", "offset without colon");
	rfc3339_bad("2026-11-27T19:30:01+05", "offset without minutes");
	rfc3339_bad("2026-11-27T19:30:01+24:00", "offset hour 24");
	rfc3339_bad("2026-11-27T19:30:01+05:60", "offset minute 60");
	rfc3339_bad("2026-11-27T19:30:01ZZ", "trailing characters");
	rfc3339_bad("2026-11-27T19:30:01Z ", "trailing space");
	rfc3339_bad("2026-11-27T19:30:01UTC", "zone name");
	rfc3339_bad("0000-12-31T23:59:59Z", "year 0000");
	rfc3339_bad("10000-01-01T00:00:00Z", "five-digit year");
	rfc3339_bad("0001-01-01T00:00:00+00:01", "before 0001-01-01 UTC");
	rfc3339_bad("9999-12-31T23:59:59-00:01", "after 9999-12-31 UTC");
	rfc3339_bad("", "empty");
	check(!sp_parse_rfc3339(NULL, NULL), "sp_parse_rfc3339(NULL) is false");
}

static void
test_symbols_and_utf8(void)
{
	check(sp_valid_symbol("A") && sp_valid_symbol("BRK.B") &&
		  sp_valid_symbol("^GSPC") && sp_valid_symbol("EURUSD=X") &&
		  sp_valid_symbol("BTC-USD") && sp_valid_symbol("ABCDEFGHIJ0123456789"),
		  "sp_valid_symbol accepts A, BRK.B, ^GSPC, EURUSD=X, BTC-USD, 20 characters");
	check(!sp_valid_symbol(NULL) && !sp_valid_symbol("") &&
		  !sp_valid_symbol("aapl") && !sp_valid_symbol("ABCDEFGHIJ01234567890") &&
		  !sp_valid_symbol("A B") && !sp_valid_symbol("A_B") &&
		  !sp_valid_symbol("A\tB") && !sp_valid_symbol("\xc3\x84"),
		  "sp_valid_symbol refuses NULL, empty, lower case, 21 characters, space, _, tab, non-ASCII");

	utf8("an empty buffer", "", 0, true);
	utf8("ASCII", LIT("{\"a\":1}"), true);
	utf8("a NUL byte (valid UTF-8; JSON is another matter)", LIT("a\0b"), true);
	utf8("U+0080 (C2 80)", LIT("\xc2\x80"), true);
	utf8("U+07FF (DF BF)", LIT("\xdf\xbf"), true);
	utf8("U+0800 (E0 A0 80)", LIT("\xe0\xa0\x80"), true);
	utf8("U+D7FF (ED 9F BF)", LIT("\xed\x9f\xbf"), true);
	utf8("U+E000 (EE 80 80)", LIT("\xee\x80\x80"), true);
	utf8("U+FFFF (EF BF BF)", LIT("\xef\xbf\xbf"), true);
	utf8("U+10000 (F0 90 80 80)", LIT("\xf0\x90\x80\x80"), true);
	utf8("U+1F600 (F0 9F 98 80)", LIT("\xf0\x9f\x98\x80"), true);
	utf8("U+10FFFF (F4 8F BF BF)", LIT("\xf4\x8f\xbf\xbf"), true);
	utf8("overlong C0 AF", LIT("\xc0\xaf"), false);
	utf8("overlong C1 BF", LIT("\xc1\xbf"), false);
	utf8("overlong E0 9F BF", LIT("\xe0\x9f\xbf"), false);
	utf8("overlong F0 8F BF BF", LIT("\xf0\x8f\xbf\xbf"), false);
	utf8("surrogate U+D800 (ED A0 80)", LIT("\xed\xa0\x80"), false);
	utf8("surrogate U+DFFF (ED BF BF)", LIT("\xed\xbf\xbf"), false);
	utf8("U+110000 (F4 90 80 80)", LIT("\xf4\x90\x80\x80"), false);
	utf8("lead byte F5", LIT("\xf5\x80\x80\x80"), false);
	utf8("byte FF", LIT("\xff"), false);
	utf8("a lone continuation byte", LIT("a\x80"), false);
	utf8("a truncated two-byte sequence", LIT("a\xc3"), false);
	utf8("a truncated four-byte sequence", LIT("\xf0\x9f\x98"), false);
	utf8("a lead byte followed by ASCII", LIT("\xe2(\xa1"), false);
}

/*
 * The encoder (contract/encode.c): what it writes decodes to exactly what
 * was given, and what the decoder would refuse it refuses too -- the
 * disagreements that the producer's own encoder once had are all here.
 */
static sp_quote
base_quote(void)
{
	sp_quote	q;

	memset(&q, 0, sizeof(q));
	strcpy(q.symbol, "AAPL");
	q.ts_us = INT64_C(1795807801123000);	/* 2026-11-27T19:30:01.123Z */
	q.price = 189.23;
	q.volume = 51234567;
	q.open = 188.1;
	q.prev_close = 225.6699981689453;
	strcpy(q.currency, "USD");
	strcpy(q.source, "yahoo");
	q.present = SP_HAS_VOLUME | SP_HAS_OPEN | SP_HAS_PREV_CLOSE | SP_HAS_CURRENCY | SP_HAS_SOURCE;
	return q;
}

static void
encode_refused(const sp_quote *q, const char *what, const char *why)
{
	char		buf[SP_MESSAGE_MAX];
	char		err[SP_ERR_MAX];
	int			n;

	err[0] = '\0';
	n = sp_encode_quote(q, buf, sizeof(buf), err);
	check(n < 0 && strstr(err, why) != NULL, "encode refuses %s (%s)", what, err);
}

static void
test_encoder(void)
{
	char		buf[SP_MESSAGE_MAX];
	char		err[SP_ERR_MAX];
	sp_quote	q = base_quote();
	sp_quote	back;
	sp_bar		b;
	sp_bar		bback;
	int			n;

	n = sp_encode_quote(&q, buf, sizeof(buf), err);
	check(n > 0 && strcmp(buf, "{\"symbol\":\"AAPL\",\"ts\":\"2026-11-27T19:30:01.123Z\","
						  "\"price\":189.23,\"volume\":51234567,\"open\":188.1,"
						  "\"prev_close\":225.6699981689453,\"currency\":\"USD\","
						  "\"source\":\"yahoo\"}") == 0,
		  "encode a quote: %s", n > 0 ? buf : err);
	check(n > 0 && sp_decode_quote(buf, (size_t) n, &back, err) &&
		  back.ts_us == q.ts_us && back.price == q.price && back.present == q.present,
		  "an encoded quote decodes to the same values");
	q.ts_us = INT64_C(1795807801000000);
	q.present = 0;
	n = sp_encode_quote(&q, buf, sizeof(buf), err);
	check(n > 0 && strcmp(buf, "{\"symbol\":\"AAPL\",\"ts\":\"2026-11-27T19:30:01Z\",\"price\":189.23}") == 0,
		  "whole seconds, no optional fields: %s", n > 0 ? buf : err);
	q.ts_us = INT64_C(1795807801000001);
	n = sp_encode_quote(&q, buf, sizeof(buf), err);
	check(n > 0 && strstr(buf, "\"2026-11-27T19:30:01.000001Z\"") != NULL,
		  "microseconds kept: %s", n > 0 ? buf : err);
	q.ts_us = INT64_C(-62135596800000000);	/* 0001-01-01 */
	check(sp_encode_quote(&q, buf, sizeof(buf), err) > 0, "year 0001 is accepted");

	q = base_quote();
	q.ts_us = INT64_C(1599423177600000000);	/* year 52671 */
	encode_refused(&q, "a timestamp in year 52671", "ts");
	q = base_quote();
	q.ts_us = INT64_C(-62135596800000001);
	encode_refused(&q, "a timestamp before year 0001", "ts");
	q = base_quote();
	strcpy(q.currency, "U\x01" "D");
	encode_refused(&q, "a currency with a control character", "currency");
	q = base_quote();
	strcpy(q.currency, "\xc3\xa9UR");
	encode_refused(&q, "a currency with a non-ASCII character", "currency");
	q = base_quote();
	strcpy(q.currency, "\xff\xfe");
	encode_refused(&q, "a currency of invalid UTF-8", "");
	q = base_quote();
	strcpy(q.currency, "ABCDEFGHIJKLMNOP");	/* 16: the contract's limit */
	check(sp_encode_quote(&q, buf, sizeof(buf), err) > 0, "a 16-character currency is accepted");
	q = base_quote();
	q.open = -1;
	encode_refused(&q, "a negative open", "open");
	q = base_quote();
	q.price = INFINITY;
	encode_refused(&q, "an infinite price", "finite");
	q = base_quote();
	q.price = 0;
	encode_refused(&q, "a zero price", "price");
	q = base_quote();
	q.volume = -1;
	encode_refused(&q, "a negative volume", "volume");
	q = base_quote();
	strcpy(q.symbol, "aapl");
	encode_refused(&q, "a lower-case symbol", "symbol");
	q = base_quote();
	q.symbol[0] = '\0';
	encode_refused(&q, "an empty symbol", "symbol");
	q = base_quote();
	n = sp_encode_quote(&q, buf, 40, err);
	check(n < 0 && strstr(err, "buffer") != NULL, "a buffer too small is refused, not overrun");

	memset(&b, 0, sizeof(b));
	strcpy(b.symbol, "WSU.DE");
	b.date = 19573;				/* 2023-08-04 */
	b.close = 37.2599983215332;
	b.open = 36.5;
	b.volume = 0;
	b.present = SP_HAS_OPEN | SP_HAS_VOLUME;
	n = sp_encode_bar(&b, buf, sizeof(buf), err);
	check(n > 0 && strcmp(buf, "{\"symbol\":\"WSU.DE\",\"date\":\"2023-08-04\",\"open\":36.5,"
						  "\"close\":37.2599983215332,\"volume\":0}") == 0,
		  "encode a bar: %s", n > 0 ? buf : err);
	check(n > 0 && sp_decode_bar(buf, (size_t) n, &bback, err) && bback.date == b.date &&
		  bback.close == b.close, "an encoded bar decodes to the same values");
	b.date = 2932897;			/* 10000-01-01 */
	check(sp_encode_bar(&b, buf, sizeof(buf), err) < 0, "a bar in year 10000 is refused (%s)", err);
	b.date = -719163;			/* 0000-12-31 */
	check(sp_encode_bar(&b, buf, sizeof(buf), err) < 0, "a bar in year 0 is refused (%s)", err);
	check(sp_valid_currency("USD") && sp_valid_currency("ABCDEFGHIJKLMNOP") &&
		  !sp_valid_currency("ABCDEFGHIJKLMNOPQ") && !sp_valid_currency("") &&
		  !sp_valid_currency("\xc3\xa9UR") && !sp_valid_currency("U\x01D") && !sp_valid_currency(NULL),
		  "sp_valid_currency: 1-16 printable ASCII, the decoder's rule");
	b.date = 19573;
	b.close = NAN;
	check(sp_encode_bar(&b, buf, sizeof(buf), err) < 0, "a bar without a finite close is refused");
}

/*
 * The field lists (fields.h) are what the decoder, the encoder and the
 * consumers' statements are made from: required fields have no presence
 * bit and optional ones have distinct bits, and a message with every
 * field set encodes to the keys in list order.
 */
static void
check_field_list(const char *name, const sp_field *f, int n)
{
	unsigned	bits = 0;
	bool		ok = true;
	int			i;

	for (i = 0; i < n; i++)
	{
		bool		required = f[i].kind < SP_FIELD_AMOUNT;

		ok &= required == (f[i].bit == 0);
		ok &= (bits & f[i].bit) == 0;
		ok &= (f[i].kind == SP_FIELD_TEXT || f[i].kind == SP_FIELD_SYMBOL ||
			   f[i].kind == SP_FIELD_SESSION) == (f[i].max > 0);
		bits |= f[i].bit;
	}
	check(ok, "%s fields: required ones have no presence bit, optional ones distinct bits", name);
}

static void
test_field_lists(void)
{
	char		buf[SP_MESSAGE_MAX];
	char		err[SP_ERR_MAX];
	sp_quote	q;
	sp_bar		b;

	check(SP_QUOTE_NFIELDS == 12 && SP_BAR_NFIELDS == 8,
		  "12 quote fields and 8 bar fields (sql/ingest.sql's columns; regress message_fields)");
	check_field_list("quote", sp_quote_fields, SP_QUOTE_NFIELDS);
	check_field_list("bar", sp_bar_fields, SP_BAR_NFIELDS);
	check(strcmp(sp_field_sql_type(SP_FIELD_TS), "timestamp with time zone") == 0 &&
		  strcmp(sp_field_sql_type(SP_FIELD_VOLUME), "bigint") == 0,
		  "sp_field_sql_type names the types as format_type() does");

	memset(&q, 0, sizeof(q));
	strcpy(q.symbol, "AAPL");
	q.ts_us = INT64_C(1764255600000000);
	q.price = 190.5;
	q.volume = 10;
	q.open = 189;
	q.high = 191;
	q.low = 188.5;
	q.prev_close = 188;
	strcpy(q.currency, "USD");
	strcpy(q.source, "yahoo");
	strcpy(q.exchange_tz, "America/New_York");
	strcpy(q.session, "regular");
	q.present = SP_HAS_VOLUME | SP_HAS_OPEN | SP_HAS_HIGH | SP_HAS_LOW |
		SP_HAS_PREV_CLOSE | SP_HAS_CURRENCY | SP_HAS_SOURCE |
		SP_HAS_EXCHANGE_TZ | SP_HAS_SESSION;
	check_str(sp_encode_quote(&q, buf, sizeof(buf), err) > 0 ? buf : err,
			  "{\"symbol\":\"AAPL\",\"ts\":\"2025-11-27T15:00:00Z\",\"price\":190.5,"
			  "\"volume\":10,\"open\":189,\"high\":191,\"low\":188.5,\"prev_close\":188,"
			  "\"currency\":\"USD\",\"source\":\"yahoo\","
			  "\"exchange_tz\":\"America/New_York\",\"session\":\"regular\"}",
			  "a full quote encodes every field, in list order");
	strcpy(q.session, "lunch");
	check(sp_encode_quote(&q, buf, sizeof(buf), err) < 0 &&
		  strstr(err, "\"session\" must be") != NULL,
		  "a session other than pre, regular or post is refused (%s)", err);

	memset(&b, 0, sizeof(b));
	strcpy(b.symbol, "AAPL");
	b.date = 20419;				/* 2025-11-27 */
	b.open = 189;
	b.high = 191;
	b.low = 188.5;
	b.close = 190.5;
	b.adj_close = 190.4;
	b.volume = 1000;
	b.present = SP_HAS_OPEN | SP_HAS_HIGH | SP_HAS_LOW | SP_HAS_ADJ_CLOSE | SP_HAS_VOLUME;
	check_str(sp_encode_bar(&b, buf, sizeof(buf), err) > 0 ? buf : err,
			  "{\"symbol\":\"AAPL\",\"date\":\"2025-11-27\",\"open\":189,\"high\":191,"
			  "\"low\":188.5,\"close\":190.5,\"adj_close\":190.4,\"volume\":1000}",
			  "a full bar encodes every field, in list order");
}

/*
 * The differential test of the decoders' two readers: sp_decode_quote and
 * sp_decode_bar read flat objects without building a tree (read_flat),
 * sp_decode_*_tree always through cJSON.  Every payload must get the same
 * answer from both: the verdict, the error text and every byte of the
 * decoded struct.  Payloads: every seed and regression input of the fuzz
 * harness, numbers of every form in every numeric field, and random
 * messages of the contract's shape (fixed seed, so a failure replays).
 */
static long diff_payloads = 0;
static long diff_mismatches = 0;

static void
diff_one(const char *data, size_t len)
{
	char	   *buf = malloc(len ? len : 1);
	sp_quote	q1,
				q2;
	sp_bar		b1,
				b2;
	char		e1[SP_ERR_MAX] = "",
				e2[SP_ERR_MAX] = "";
	bool		ok1,
				ok2;
	bool		same;

	memcpy(buf, data, len);
	diff_payloads++;
	ok1 = sp_decode_quote(buf, len, &q1, e1);
	ok2 = sp_decode_quote_tree(buf, len, &q2, e2);
	same = ok1 == ok2 && (ok1 ? memcmp(&q1, &q2, sizeof(q1)) == 0 : strcmp(e1, e2) == 0);
	strcpy(e1, "");
	strcpy(e2, "");
	ok1 = sp_decode_bar(buf, len, &b1, e1);
	ok2 = sp_decode_bar_tree(buf, len, &b2, e2);
	same = same && ok1 == ok2 &&
		(ok1 ? memcmp(&b1, &b2, sizeof(b1)) == 0 : strcmp(e1, e2) == 0);
	if (!same && diff_mismatches++ < 5)
		printf("# the readers differ on: %.*s\n", (int) (len < 300 ? len : 300), data);
	free(buf);
}

static void
diff_folder(const char *path)
{
	DIR		   *dir = opendir(path);
	struct dirent *de;
	long		files = 0;
	long		before = diff_mismatches;

	while (dir != NULL && (de = readdir(dir)) != NULL)
	{
		char		file[1600];
		FILE	   *f;
		char	   *data;
		long		n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		f = fopen(file, "rb");
		if (f == NULL)
			continue;
		data = malloc(1 << 20);
		n = (long) fread(data, 1, 1 << 20, f);
		fclose(f);
		diff_one(data, (size_t) n);
		free(data);
		files++;
	}
	if (dir != NULL)
		closedir(dir);
	check(files > 0 && diff_mismatches == before,
		  "both readers agree on the %ld inputs of %s", files, path);
}

static const char *const diff_numbers[] = {
	"0", "-0", "0.0", "-0.0", "0e0", "0E+5", "-0e-5", "1", "-1", "189.23", "0.1",
	"0.30000000000000004", "1.5e2", "1E2", "1e-2", "123456789012345678",
	"1234567890123456789", "12345678901234567890", "9007199254740992",
	"9007199254740993", "9007199254740993.0", "1e22", "1e23", "1e-22", "1e-23",
	"4.9e-324", "5e-324", "2.2250738585072014e-308", "1.7976931348623157e308",
	"1.7976931348623159e308", "1e309", "-1e309", "1e400", "1e-400",
	"0.000000000000000000000000000001", "100000000000000000000000",
	"1795807801", "1795807801.5", "1795807801.123456", "1795807801.1234567",
	"-62135596800", "253402300799.9999995", "253402300800", "51234567",
	"51234567.0", "51234567.5", "9223372036854775807", "9223372036854775808",
	"1.00000000000000011102230246251565404236316680908203125",
	"123456789012345678901234567890123456789", "1234567890123456789012345678901234567890",
	"12345678901234567890123456789012345678901", "0.1e1", "10e-1", "2.5E-3",
	"1e0000000000000000000000000000000000001", "7e-10", "3.14159265358979323846",
};

static const char *const diff_values[] = {
	"\"AAPL\"", "\"BRK.B\"", "\"^GSPC\"", "\"aapl\"", "\"\"", "\"A\\u0041PL\"",
	"\"2026-11-27T19:30:01Z\"", "\"2026-11-27T19:30:01.123456789+05:30\"",
	"\"2026-11-27\"", "\"2026-02-30\"", "\"USD\"", "\"yahoo\"", "\"regular\"",
	"\"pre\"", "\"America/New_York\"", "\"with \\\"quote\\\"\"", "\"tab\\tx\"",
	"\"\\u00e9\"", "\"\xc3\xa9\"", "null", "true", "false", "[]", "[1]", "{}",
	"{\"a\":1}", "\"ABCDEFGHIJKLMNOPQRSTU\"", "\"ABCDEFGHIJKLMNOPQRST\"",
};

static const char *const diff_keys[] = {
	"symbol", "ts", "price", "volume", "open", "high", "low", "prev_close",
	"currency", "source", "exchange_tz", "session", "date", "close",
	"adj_close", "other", "sym\\u0062ol", "Symbol", "price ", "",
};

static unsigned long diff_rand_state = 12345;

static unsigned
diff_rand(unsigned n)
{
	diff_rand_state = diff_rand_state * 6364136223846793005UL + 1442695040888963407UL;
	return (unsigned) ((diff_rand_state >> 33) % n);
}

/* A random number of JSON syntax, as a producer or a fuzzer might write. */
static void
diff_random_number(char *out, size_t size)
{
	size_t		n = 0;
	int			i;
	int			digits = 1 + diff_rand(diff_rand(4) == 0 ? 30 : 12);

	if (diff_rand(5) == 0)
		out[n++] = '-';
	out[n++] = (char) ('1' + diff_rand(9));
	for (i = 1; i < digits && n < size - 12; i++)
		out[n++] = (char) ('0' + diff_rand(10));
	if (diff_rand(2) == 0)
	{
		out[n++] = '.';
		digits = 1 + diff_rand(diff_rand(4) == 0 ? 25 : 8);
		for (i = 0; i < digits && n < size - 8; i++)
			out[n++] = (char) ('0' + diff_rand(10));
	}
	if (diff_rand(6) == 0)
		n += (size_t) snprintf(out + n, size - n, "e%s%u",
							   diff_rand(2) ? "-" : (diff_rand(2) ? "+" : ""),
							   diff_rand(diff_rand(3) == 0 ? 400 : 30));
	out[n] = '\0';
}

static void
test_differential(void)
{
	char		buf[2048];
	size_t		i;
	size_t		k;
	long		before;
	long		r;

	diff_folder("../fuzz/corpus/contract");
	diff_folder("../fuzz/regressions/contract");

	before = diff_mismatches;
	r = diff_payloads;
	for (i = 0; i < sizeof(diff_numbers) / sizeof(diff_numbers[0]); i++)
	{
		const char *num = diff_numbers[i];

		snprintf(buf, sizeof(buf), "{\"symbol\":\"AAPL\",\"ts\":\"2026-11-27T19:30:01Z\",\"price\":%s,"
				 "\"volume\":%s,\"open\":%s,\"date\":\"2026-11-27\",\"close\":%s,\"adj_close\":%s}",
				 num, num, num, num, num);
		diff_one(buf, strlen(buf));
		snprintf(buf, sizeof(buf), "{\"symbol\":\"AAPL\",\"ts\":%s,\"price\":1,\"date\":\"2026-11-27\",\"close\":1}", num);
		diff_one(buf, strlen(buf));
		snprintf(buf, sizeof(buf), " \t{ \"price\" : %s , \"symbol\" : \"X\" ,\"ts\":%s,\"close\":%s,\"date\":\"2026-11-27\" }\r\n", num, num, num);
		diff_one(buf, strlen(buf));
		snprintf(buf, sizeof(buf), "\xEF\xBB\xBF{\"symbol\":\"X\",\"ts\":1,\"price\":%s,\"price\":%s}", num, num);
		diff_one(buf, strlen(buf));
	}
	for (i = 0; i < sizeof(diff_values) / sizeof(diff_values[0]); i++)
		for (k = 0; k < sizeof(diff_keys) / sizeof(diff_keys[0]); k++)
		{
			snprintf(buf, sizeof(buf), "{\"symbol\":\"AAPL\",\"ts\":1795807801,\"price\":2,\"date\":\"2026-11-27\","
					 "\"close\":2,\"%s\":%s}", diff_keys[k], diff_values[i]);
			diff_one(buf, strlen(buf));
			snprintf(buf, sizeof(buf), "{\"%s\":%s}", diff_keys[k], diff_values[i]);
			diff_one(buf, strlen(buf));
		}
	check(diff_mismatches == before, "both readers agree on %ld payloads of numbers, values and names of every form",
		  diff_payloads - r);

	before = diff_mismatches;
	r = diff_payloads;
	for (i = 0; i < 200000; i++)
	{
		size_t		n = 0;
		int			members = (int) diff_rand(14);
		int			m;

		buf[n++] = '{';
		for (m = 0; m < members && n < sizeof(buf) - 200; m++)
		{
			const char *key = diff_keys[diff_rand(sizeof(diff_keys) / sizeof(diff_keys[0]) - 3)];
			char		num[64];

			if (m > 0)
				buf[n++] = ',';
			if (diff_rand(8) == 0)
				buf[n++] = ' ';
			n += (size_t) snprintf(buf + n, sizeof(buf) - n, "\"%s\":", key);
			switch (diff_rand(4))
			{
				case 0:
				case 1:
					diff_random_number(num, sizeof(num));
					n += (size_t) snprintf(buf + n, sizeof(buf) - n, "%s", num);
					break;
				case 2:
					n += (size_t) snprintf(buf + n, sizeof(buf) - n, "%s",
										   diff_values[diff_rand(sizeof(diff_values) / sizeof(diff_values[0]))]);
					break;
				default:
					n += (size_t) snprintf(buf + n, sizeof(buf) - n, "\"%s\"",
										   diff_rand(2) ? "2026-11-27T19:30:01.5-04:00" : "MSFT");
					break;
			}
		}
		buf[n++] = '}';
		diff_one(buf, n);
	}
	check(diff_mismatches == before, "both readers agree on %ld random messages",
		  diff_payloads - r);
}

int
main(void)
{
	test_field_lists();
	test_good_quotes();
	test_quote_timestamps();
	test_bad_quotes();
	test_strict_json();
	test_bars();
	test_dates();
	test_rfc3339();
	test_symbols_and_utf8();
	test_encoder();
	test_differential();

	return tap_summary();
}
