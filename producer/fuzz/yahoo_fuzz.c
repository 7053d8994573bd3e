/*
 * yahoo_fuzz.c -- libFuzzer harness for the Yahoo chart decoders
 * (producer/src/yahoo.c).  Built and run by fuzz/run.sh.
 *
 * Every input goes to both live-quote decoders -- yahoo_decode_quote(),
 * whose fast path (jscan) must either decline or give exactly the answer
 * of yahoo_decode_quote_full(), the cJSON reference -- and to the daily-bar
 * decoder.  Besides agreement it checks what the messages built from the
 * results rely on: prices finite and > 0, volumes >= 0 or unknown, times
 * in range, dates YYYY-MM-DD with four-digit years, bars sorted by date and
 * one per date, and every result encodable as a message.  A failed check
 * aborts, which libFuzzer reports as a crash with the input saved.
 *
 * The input is copied into a buffer of exactly its size, without a NUL
 * after it, so that AddressSanitizer catches any read past the body.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"
#include "quote.h"
#include "yahoo.h"

static char msg_err[SP_ERR_MAX];

#define SYMBOL "FUZZ"
#define TIME_MIN (-2208988800LL)	/* 1900-01-01T00:00:00Z, as in yahoo.c */
#define TIME_MAX 253402300799LL		/* 9999-12-31T23:59:59Z */
#define VOLUME_MAX 9007199254740992LL	/* 2^53 */

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
require(int cond, const char *what)
{
	if (!cond)
	{
		fprintf(stderr, "yahoo_fuzz: check failed: %s\n", what);
		abort();
	}
}

/* Equal as values, NaN equal to NaN, and 0.0 not equal to -0.0. */
static int
same_double(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return a == b && signbit(a) == signbit(b);
}

static int
price_or_unknown(double v)
{
	return isnan(v) || (isfinite(v) && v > 0);
}

static int
volume_or_unknown(int64_t v)
{
	return v == -1 || (v >= 0 && v <= VOLUME_MAX);
}

static int
terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void
check_same_quote(const struct quote *a, const struct quote *b)
{
	require(strcmp(a->symbol, b->symbol) == 0, "quote symbol: fast = reference");
	require(a->ts_ms == b->ts_ms, "quote ts_ms: fast = reference");
	require(same_double(a->price, b->price), "quote price: fast = reference");
	require(a->volume == b->volume, "quote volume: fast = reference");
	require(same_double(a->open, b->open), "quote open: fast = reference");
	require(same_double(a->high, b->high), "quote high: fast = reference");
	require(same_double(a->low, b->low), "quote low: fast = reference");
	require(same_double(a->prev_close, b->prev_close), "quote prev_close: fast = reference");
	require(strcmp(a->currency, b->currency) == 0, "quote currency: fast = reference");
	require((a->source == NULL) == (b->source == NULL) &&
			(a->source == NULL || strcmp(a->source, b->source) == 0),
			"quote source: fast = reference");
}

static void
check_quote_invariants(const struct quote *q)
{
	char		msg[MESSAGE_MAX];

	require(terminated(q->symbol, sizeof(q->symbol)) && strcmp(q->symbol, SYMBOL) == 0,
			"quote symbol is the one asked for");
	require(terminated(q->currency, sizeof(q->currency)), "quote currency terminated");
	require(q->ts_ms % 1000 == 0 && q->ts_ms / 1000 >= TIME_MIN && q->ts_ms / 1000 <= TIME_MAX,
			"quote time whole seconds in 1900..9999");
	require(isfinite(q->price) && q->price > 0, "quote price finite and > 0");
	require(volume_or_unknown(q->volume), "quote volume >= 0 or unknown");
	require(price_or_unknown(q->open) && price_or_unknown(q->high) &&
			price_or_unknown(q->low) && price_or_unknown(q->prev_close),
			"quote open/high/low/prev_close finite and > 0 or unknown");
	require(message_quote_json(q, msg, sizeof(msg), msg_err) > 0, "quote encodes as a message");
}

static void
check_quote(const char *body, size_t len)
{
	struct quote a;
	struct quote b;
	char		ea[300];
	char		eb[300];
	enum yahoo_status sa = yahoo_decode_quote(body, len, SYMBOL, &a, ea, sizeof(ea));
	enum yahoo_status sb = yahoo_decode_quote_full(body, len, SYMBOL, &b, eb, sizeof(eb));

	require(sa == sb, "quote accept/reject: fast = reference");
	if (sa != YAHOO_OK)
	{
		require(strcmp(ea, eb) == 0, "quote error text: fast = reference");
		return;
	}
	check_same_quote(&a, &b);
	check_quote_invariants(&a);
}

static int
days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* Exactly YYYY-MM-DD, a real calendar date of 1900..9999. */
static int
date_ok(const char *d)
{
	int			y, m, day;

	if (d[10] != '\0' || d[4] != '-' || d[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (d[i] < '0' || d[i] > '9'))
			return 0;
	y = atoi(d);
	m = atoi(d + 5);
	day = atoi(d + 8);
	return y >= 1900 && y <= 9999 && m >= 1 && m <= 12 && day >= 1 &&
		day <= days_in_month(y, m);
}

static void
check_bar(const struct bar *b)
{
	char		msg[MESSAGE_MAX];

	require(terminated(b->symbol, sizeof(b->symbol)) && strcmp(b->symbol, SYMBOL) == 0,
			"bar symbol is the one asked for");
	require(date_ok(b->date), "bar date is YYYY-MM-DD, 1900..9999");
	require(isfinite(b->close) && b->close > 0, "bar close finite and > 0");
	require(price_or_unknown(b->open) && price_or_unknown(b->high) &&
			price_or_unknown(b->low) && price_or_unknown(b->adj_close),
			"bar open/high/low/adj_close finite and > 0 or unknown");
	require(volume_or_unknown(b->volume), "bar volume >= 0 or unknown");
	require(message_bar_json(b, msg, sizeof(msg), msg_err) > 0, "bar encodes as a message");
}

static void
check_bars(const char *body, size_t len)
{
	struct bar *bars = NULL;
	size_t		n = 0;
	char		err[300];
	enum yahoo_status st = yahoo_decode_bars(body, len, SYMBOL, &bars, &n, err, sizeof(err));

	require(terminated(err, sizeof(err)), "bars error text terminated");
	if (st != YAHOO_OK)
	{
		require(bars == NULL && n == 0, "bars: nothing returned on failure");
		return;
	}
	require(bars != NULL, "bars: an array on success");
	for (size_t i = 0; i < n; i++)
	{
		check_bar(&bars[i]);
		require(i == 0 || strcmp(bars[i - 1].date, bars[i].date) < 0,
				"bars sorted by date, one per date");
	}
	free(bars);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *body = malloc(size > 0 ? size : 1);

	if (body == NULL)
		return 0;
	if (size > 0)
		memcpy(body, data, size);
	check_quote(body, size);
	check_bars(body, size);
	free(body);
	return 0;
}
