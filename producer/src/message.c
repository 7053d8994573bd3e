/*
 * message.c -- the producer's quotes and bars as the JSON messages of
 * DESIGN.md, written by the contract library (contract/) that the
 * consumers decode with, and the time formatting helpers the producer
 * needs.  Pure code, unit tested.
 */
#include "message.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void
quote_init(struct quote *q)
{
	memset(q, 0, sizeof(*q));
	q->volume = -1;
	q->open = q->high = q->low = q->prev_close = NAN;
	q->price = NAN;
}

void
bar_init(struct bar *b)
{
	memset(b, 0, sizeof(*b));
	b->open = b->high = b->low = b->close = b->adj_close = NAN;
	b->volume = -1;
}

/*
 * The UTC calendar time of SEC, if its year has four digits (0001..9999):
 * what DESIGN.md's dates and times allow.  strftime's %Y would print year 0
 * as "0" and year 10000 as "10000", neither of them YYYY.
 */
static int
utc_time_4digit_year(int64_t sec, struct tm *tm)
{
	time_t		t = (time_t) sec;

	if ((int64_t) t != sec || gmtime_r(&t, tm) == NULL)
		return -1;
	return (tm->tm_year >= 1 - 1900 && tm->tm_year <= 9999 - 1900) ? 0 : -1;
}

/* RFC 3339 in UTC; milliseconds are printed only when non-zero. */
int
format_rfc3339_ms(int64_t ts_ms, char *buf, size_t size)
{
	int64_t		sec = ts_ms / 1000;
	int			ms = (int) (ts_ms % 1000);
	struct tm	tm;
	int			n;

	if (ms < 0)					/* floor, without overflowing at INT64_MIN */
	{
		ms += 1000;
		sec--;
	}
	if (utc_time_4digit_year(sec, &tm) != 0)
		return -1;
	n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
				 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (n < 0 || (size_t) n >= size)
		return -1;
	if (ms != 0)
		n += snprintf(buf + n, size - (size_t) n, ".%03dZ", ms);
	else
		n += snprintf(buf + n, size - (size_t) n, "Z");
	return (size_t) n < size ? n : -1;
}

/*
 * YYYY-MM-DD of a UTC instant (callers add the exchange offset first).
 * Returns 10, or -1 if the year is not 0001..9999 or BUF is too small:
 * never a longer or unterminated date.
 */
int
format_date(int64_t epoch_s, char *buf, size_t size)
{
	struct tm	tm;
	int			n;

	if (utc_time_4digit_year(epoch_s, &tm) != 0)
		return -1;
	n = snprintf(buf, size, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	return (n == 10 && (size_t) n < size) ? 10 : -1;
}

/* The contract's rule (contract/): one definition of a symbol. */
int
symbol_is_valid(const char *s)
{
	return sp_valid_symbol(s);
}

/*
 * The producer's quote as the contract's: unknown optional fields (NAN, -1,
 * "", NULL) are absent.  False when the time does not fit microseconds.
 */
static bool
to_sp_quote(const struct quote *q, sp_quote *out)
{
	memset(out, 0, sizeof(*out));
	if (strlen(q->symbol) > SP_SYMBOL_MAX ||
		q->ts_ms > INT64_MAX / 1000 || q->ts_ms < INT64_MIN / 1000)
		return false;
	strcpy(out->symbol, q->symbol);
	out->ts_us = q->ts_ms * 1000;
	out->price = q->price;
	if (q->volume >= 0)
	{
		out->volume = q->volume;
		out->present |= SP_HAS_VOLUME;
	}
#define OPT(src, field, bit) \
	if (!isnan((src)->field)) { out->field = (src)->field; out->present |= (bit); }
	OPT(q, open, SP_HAS_OPEN);
	OPT(q, high, SP_HAS_HIGH);
	OPT(q, low, SP_HAS_LOW);
	OPT(q, prev_close, SP_HAS_PREV_CLOSE);
	if (q->currency[0])
	{
		strcpy(out->currency, q->currency);
		out->present |= SP_HAS_CURRENCY;
	}
	if (q->source)
	{
		if (strlen(q->source) > SP_SOURCE_MAX)
			return false;
		strcpy(out->source, q->source);
		out->present |= SP_HAS_SOURCE;
	}
	return true;
}

static bool
to_sp_bar(const struct bar *b, sp_bar *out)
{
	memset(out, 0, sizeof(*out));
	if (strlen(b->symbol) > SP_SYMBOL_MAX || !sp_parse_date(b->date, &out->date))
		return false;
	strcpy(out->symbol, b->symbol);
	out->close = b->close;
	OPT(b, open, SP_HAS_OPEN);
	OPT(b, high, SP_HAS_HIGH);
	OPT(b, low, SP_HAS_LOW);
	OPT(b, adj_close, SP_HAS_ADJ_CLOSE);
#undef OPT
	if (b->volume >= 0)
	{
		out->volume = b->volume;
		out->present |= SP_HAS_VOLUME;
	}
	return true;
}

/*
 * The message is written by the contract library's encoder, which accepts
 * it only if the consumers' decoder reads it back identically: what the
 * producer publishes, the consumers store.
 */
int
message_quote_json(const struct quote *q, char *buf, size_t size, char *err)
{
	sp_quote	sq;

	if (!to_sp_quote(q, &sq))
	{
		snprintf(err, SP_ERR_MAX, "symbol, time or source out of range");
		return -1;
	}
	return sp_encode_quote(&sq, buf, size, err);
}

int
message_bar_json(const struct bar *b, char *buf, size_t size, char *err)
{
	sp_bar		sb;

	if (!to_sp_bar(b, &sb))
	{
		snprintf(err, SP_ERR_MAX, "symbol or date out of range");
		return -1;
	}
	return sp_encode_bar(&sb, buf, size, err);
}

/*
 * Parses an RFC 3339 time with the contract's own parser (no 31 February,
 * no second 60, years 0001-9999) into milliseconds since the epoch, rounded
 * down.  Returns 0, or -1 if the text is not such a time.
 */
int
parse_rfc3339_ms(const char *s, int64_t *ts_ms)
{
	int64_t		us;

	if (!sp_parse_rfc3339(s, &us))
		return -1;
	*ts_ms = us / 1000 - (us % 1000 < 0);
	return 0;
}
