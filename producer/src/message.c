/*
 * message.c -- encodes quotes and bars as the JSON messages of DESIGN.md.
 *
 * Hand-written rather than built with cJSON so that there is no allocation
 * per message and so that numbers print in their shortest round-trip form
 * (225.67, not 225.66999999999999): consumers then store exactly the value
 * Yahoo sent.  Pure code, unit tested.
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
 * Shortest decimal that reads back as the same double: try 15, 16, then 17
 * significant digits.  Returns the length, or -1 for a non-finite value
 * (JSON has no NaN) or a too-small buffer.
 */
int
format_double(double v, char *buf, size_t size)
{
	int			n = -1;

	if (!isfinite(v))
		return -1;
	for (int prec = 15; prec <= 17; prec++)
	{
		n = snprintf(buf, size, "%.*g", prec, v);
		if (n < 0 || (size_t) n >= size)
			return -1;
		if (strtod(buf, NULL) == v)
			break;
	}
	return n;
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

/* DESIGN.md: 1-20 characters of A-Z 0-9 . - ^ = */
int
symbol_is_valid(const char *s)
{
	size_t		n = strlen(s);

	if (n == 0 || n > SYMBOL_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
	{
		char		c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '-' || c == '^' || c == '='))
			return 0;
	}
	return 1;
}

/* A bounded string builder; any overflow makes the whole message fail. */
struct out
{
	char	   *buf;
	size_t		size;
	size_t		len;
	int			failed;
};

static void
out_raw(struct out *o, const char *s, size_t n)
{
	if (o->failed || o->len + n + 1 > o->size)
	{
		o->failed = 1;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void
out_str(struct out *o, const char *s)
{
	out_raw(o, s, strlen(s));
}

/* A JSON string value, escaped (currency comes from the network). */
static void
out_json_string(struct out *o, const char *s)
{
	out_raw(o, "\"", 1);
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		char		esc[8];

		if (*p == '"' || *p == '\\')
		{
			esc[0] = '\\';
			esc[1] = (char) *p;
			out_raw(o, esc, 2);
		}
		else if (*p < 0x20)
		{
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			out_raw(o, esc, 6);
		}
		else
			out_raw(o, (const char *) p, 1);
	}
	out_raw(o, "\"", 1);
}

static void
out_key(struct out *o, const char *key)
{
	out_raw(o, ",\"", 2);
	out_str(o, key);
	out_raw(o, "\":", 2);
}

/* Optional number: skipped when NAN (unknown). */
static void
out_double(struct out *o, const char *key, double v)
{
	char		num[40];

	if (isnan(v))
		return;
	if (format_double(v, num, sizeof(num)) < 0)
	{
		o->failed = 1;
		return;
	}
	out_key(o, key);
	out_str(o, num);
}

static void
out_int(struct out *o, const char *key, int64_t v)
{
	char		num[32];

	if (v < 0)
		return;
	snprintf(num, sizeof(num), "%lld", (long long) v);
	out_key(o, key);
	out_str(o, num);
}

/*
 * {"symbol":..,"ts":..,"price":..,"volume":..,"open":..,"high":..,"low":..,
 *  "prev_close":..,"currency":..,"source":..}; unknown optional fields are
 * left out.  Returns the length, or -1 if the quote lacks a required field.
 */
int
message_quote_json(const struct quote *q, char *buf, size_t size)
{
	struct out	o = {buf, size, 0, 0};
	char		ts[40];

	if (!symbol_is_valid(q->symbol) || !isfinite(q->price) || q->price <= 0 ||
		format_rfc3339_ms(q->ts_ms, ts, sizeof(ts)) < 0)
		return -1;
	out_str(&o, "{\"symbol\":");
	out_json_string(&o, q->symbol);
	out_key(&o, "ts");
	out_json_string(&o, ts);
	out_double(&o, "price", q->price);
	out_int(&o, "volume", q->volume);
	out_double(&o, "open", q->open);
	out_double(&o, "high", q->high);
	out_double(&o, "low", q->low);
	out_double(&o, "prev_close", q->prev_close);
	if (q->currency[0])
	{
		out_key(&o, "currency");
		out_json_string(&o, q->currency);
	}
	if (q->source)
	{
		out_key(&o, "source");
		out_json_string(&o, q->source);
	}
	out_raw(&o, "}", 1);
	return o.failed ? -1 : (int) o.len;
}

/*
 * {"symbol":..,"date":..,"open":..,"high":..,"low":..,"close":..,
 *  "adj_close":..,"volume":..}.  Returns the length, or -1.
 */
int
message_bar_json(const struct bar *b, char *buf, size_t size)
{
	struct out	o = {buf, size, 0, 0};

	if (!symbol_is_valid(b->symbol) || !isfinite(b->close) || strlen(b->date) != 10)
		return -1;
	out_str(&o, "{\"symbol\":");
	out_json_string(&o, b->symbol);
	out_key(&o, "date");
	out_json_string(&o, b->date);
	out_double(&o, "open", b->open);
	out_double(&o, "high", b->high);
	out_double(&o, "low", b->low);
	out_double(&o, "close", b->close);
	out_double(&o, "adj_close", b->adj_close);
	out_int(&o, "volume", b->volume);
	out_raw(&o, "}", 1);
	return o.failed ? -1 : (int) o.len;
}

/*
 * Parses an RFC 3339 time ("2026-11-27T19:30:01Z", with optional fraction
 * and a Z or +hh:mm / -hh:mm offset) into milliseconds since the epoch.
 * Returns 0, or -1 if the text is not such a time.
 */
int
parse_rfc3339_ms(const char *s, int64_t *ts_ms)
{
	struct tm	tm = {0};
	int			y, mo, d, h, mi, sec, used = 0;
	int64_t		ms = 0;
	int			off = 0;
	const char *p;

	if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6 ||
		used != 19 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	p = s + used;
	if (*p == '.')
	{
		int			digits = 0;

		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*p - '0');
		if (digits == 0)
			return -1;
		for (; digits < 3; digits++)
			ms *= 10;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-')
	{
		int			oh, om, n = 0;

		if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5 || oh > 23 || om > 59)
			return -1;
		off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
		p += 6;
	}
	else
		return -1;
	if (*p != '\0')
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*ts_ms = ((int64_t) timegm(&tm) - off) * 1000 + ms;
	return 0;
}
