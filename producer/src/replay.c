/*
 * replay.c -- decodes recordings for --source replay:FILE.
 *
 * JSON Lines are validated against DESIGN.md's contract (a bad line is
 * skipped and counted, never published) and re-encoded, so what reaches
 * Kafka is always in the canonical format.  A saved Yahoo 1-minute chart
 * becomes one quote per non-null minute: price = the minute's close, and
 * the day's open/high/low/volume accumulated up to that minute, as a live
 * poller would have seen them.  Pure code.
 */
#include "replay.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "message.h"

static int
push(struct replay *r, size_t *cap, const struct replay_event *ev)
{
	if (r->count == *cap)
	{
		size_t		ncap = *cap ? *cap * 2 : 256;
		struct replay_event *grown = realloc(r->events, ncap * sizeof(*grown));

		if (grown == NULL)
			return -1;
		r->events = grown;
		*cap = ncap;
	}
	r->events[r->count++] = *ev;
	return 0;
}

static double
opt_num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Copies a valid symbol from o.symbol; -1 if missing or invalid. */
static int
get_symbol(const cJSON *o, char *out, const char **why)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "symbol"));

	if (s == NULL || !symbol_is_valid(s))
	{
		*why = "missing or invalid \"symbol\"";
		return -1;
	}
	strcpy(out, s);
	return 0;
}

/* One JSON Lines record -> event; returns a reason when it is not valid. */
static const char *
decode_line(const cJSON *o, struct replay_event *ev)
{
	const char *why = NULL;
	const cJSON *ts;
	double		v;

	if (!cJSON_IsObject(o))
		return "not a JSON object";
	ts = cJSON_GetObjectItemCaseSensitive(o, "ts");
	if (ts != NULL)
	{
		struct quote *q = &ev->quote;
		const char *cur;
		const char *src;

		ev->topic = KAFKA_LIVE;
		quote_init(q);
		if (get_symbol(o, q->symbol, &why) != 0)
			return why;
		if (cJSON_IsString(ts))
		{
			if (parse_rfc3339_ms(ts->valuestring, &q->ts_ms) != 0)
				return "\"ts\" is not an RFC 3339 time";
		}
		else if (cJSON_IsNumber(ts) && isfinite(ts->valuedouble))
			q->ts_ms = (int64_t) llround(ts->valuedouble * 1000.0);
		else
			return "\"ts\" is neither a time string nor a number";
		q->price = opt_num(o, "price");
		if (!isfinite(q->price) || q->price <= 0)
			return "\"price\" missing, not a number or not > 0";
		v = opt_num(o, "volume");
		q->volume = (isfinite(v) && v >= 0) ? (int64_t) llround(v) : -1;
		q->open = opt_num(o, "open");
		q->high = opt_num(o, "high");
		q->low = opt_num(o, "low");
		q->prev_close = opt_num(o, "prev_close");
		cur = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "currency"));
		if (sp_valid_currency(cur))
			strcpy(q->currency, cur);
		src = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "source"));
		q->source = (src && strcmp(src, "yahoo") == 0) ? "yahoo" : "replay";
		return NULL;
	}
	if (cJSON_GetObjectItemCaseSensitive(o, "date") != NULL)
	{
		struct bar *b = &ev->bar;
		const char *date = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "date"));
		int			y, m, d, n = 0;

		ev->topic = KAFKA_DAILY;
		bar_init(b);
		if (get_symbol(o, b->symbol, &why) != 0)
			return why;
		if (date == NULL || sscanf(date, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
			date[10] != '\0' || m < 1 || m > 12 || d < 1 || d > 31)
			return "\"date\" is not YYYY-MM-DD";
		strcpy(b->date, date);
		b->close = opt_num(o, "close");
		if (!isfinite(b->close))
			return "\"close\" missing or not a number";
		b->open = opt_num(o, "open");
		b->high = opt_num(o, "high");
		b->low = opt_num(o, "low");
		b->adj_close = opt_num(o, "adj_close");
		v = opt_num(o, "volume");
		b->volume = (isfinite(v) && v >= 0) ? (int64_t) llround(v) : -1;
		return NULL;
	}
	return "neither a quote (\"ts\") nor a bar (\"date\")";
}

static int
load_lines(struct replay *r, const char *text, size_t len, char *err, size_t errlen)
{
	size_t		cap = 0;
	size_t		lineno = 0;
	const char *p = text;
	const char *end = text + len;

	while (p < end)
	{
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		const char *eol = nl ? nl : end;
		const char *s = p;
		cJSON	   *o;
		const char *why;
		struct replay_event ev;

		lineno++;
		p = nl ? nl + 1 : end;
		while (s < eol && isspace((unsigned char) *s))
			s++;
		if (s == eol)
			continue;
		o = cJSON_ParseWithLength(s, (size_t) (eol - s));
		why = o ? decode_line(o, &ev) : "invalid JSON";
		cJSON_Delete(o);
		if (why)
		{
			if (r->bad_lines++ == 0)
				snprintf(r->first_error, sizeof(r->first_error), "line %zu: %s", lineno, why);
			continue;
		}
		if (push(r, &cap, &ev) != 0)
		{
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

/* One quote per non-null minute bar of a saved chart response. */
static int
load_chart(struct replay *r, const cJSON *root, char *err, size_t errlen)
{
	const cJSON *chart = cJSON_GetObjectItemCaseSensitive(root, "chart");
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(chart, "result");
	const cJSON *r0 = cJSON_IsArray(res) ? cJSON_GetArrayItem(res, 0) : NULL;
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(r0, "meta");
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(r0, "timestamp");
	const cJSON *ind = cJSON_GetObjectItemCaseSensitive(r0, "indicators");
	const cJSON *qa = cJSON_GetObjectItemCaseSensitive(ind, "quote");
	const cJSON *q = cJSON_IsArray(qa) ? cJSON_GetArrayItem(qa, 0) : NULL;
	const cJSON *opens = cJSON_GetObjectItemCaseSensitive(q, "open");
	const cJSON *highs = cJSON_GetObjectItemCaseSensitive(q, "high");
	const cJSON *lows = cJSON_GetObjectItemCaseSensitive(q, "low");
	const cJSON *closes = cJSON_GetObjectItemCaseSensitive(q, "close");
	const cJSON *vols = cJSON_GetObjectItemCaseSensitive(q, "volume");
	const char *why = NULL;
	const char *cur;
	char		symbol[SYMBOL_MAX + 1];
	double		prev_close;
	double		last_close = NAN;
	double		off = opt_num(meta, "gmtoffset");
	long		day = LONG_MIN;
	double		open = NAN, high = NAN, low = NAN;
	int64_t		volume = 0;
	size_t		cap = 0;
	int			n = cJSON_IsArray(ts) ? cJSON_GetArraySize(ts) : 0;

	if (!cJSON_IsObject(meta) || get_symbol(meta, symbol, &why) != 0)
	{
		snprintf(err, errlen, "chart response without a valid meta.symbol");
		return -1;
	}
	if (!isfinite(off))
		off = 0;
	prev_close = opt_num(meta, "previousClose");
	if (!isfinite(prev_close))
		prev_close = opt_num(meta, "chartPreviousClose");
	cur = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "currency"));
	r->from_chart = 1;
	for (int i = 0; i < n; i++)
	{
		const cJSON *t = cJSON_GetArrayItem(ts, i);
		const cJSON *c = cJSON_GetArrayItem(closes, i);
		const cJSON *o = cJSON_GetArrayItem(opens, i);
		const cJSON *h = cJSON_GetArrayItem(highs, i);
		const cJSON *l = cJSON_GetArrayItem(lows, i);
		const cJSON *v = cJSON_GetArrayItem(vols, i);
		struct replay_event ev;
		long		d;

		if (!cJSON_IsNumber(t) || !cJSON_IsNumber(c) || c->valuedouble <= 0)
			continue;
		d = (long) floor((t->valuedouble + off) / 86400.0);
		if (d != day)
		{
			/* a new trading day: yesterday's last close is the previous close */
			if (day != LONG_MIN && isfinite(last_close))
				prev_close = last_close;
			day = d;
			open = high = low = NAN;
			volume = 0;
		}
		if (isnan(open) && cJSON_IsNumber(o))
			open = o->valuedouble;
		if (cJSON_IsNumber(h) && (isnan(high) || h->valuedouble > high))
			high = h->valuedouble;
		if (cJSON_IsNumber(l) && (isnan(low) || l->valuedouble < low))
			low = l->valuedouble;
		if (cJSON_IsNumber(v) && v->valuedouble > 0)
			volume += (int64_t) llround(v->valuedouble);
		last_close = c->valuedouble;

		ev.topic = KAFKA_LIVE;
		quote_init(&ev.quote);
		strcpy(ev.quote.symbol, symbol);
		ev.quote.ts_ms = (int64_t) llround(t->valuedouble) * 1000;
		ev.quote.price = c->valuedouble;
		ev.quote.volume = volume;
		ev.quote.open = open;
		ev.quote.high = high;
		ev.quote.low = low;
		ev.quote.prev_close = prev_close;
		if (sp_valid_currency(cur))
			strcpy(ev.quote.currency, cur);
		ev.quote.source = "replay";
		if (push(r, &cap, &ev) != 0)
		{
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

/*
 * Fills R from the recording TEXT.  A file whose first JSON value has a
 * "chart" key is a chart response; anything else is read as JSON Lines.
 * Returns 0 (R may hold zero events and some bad lines), or -1 with ERR.
 */
int
replay_load(struct replay *r, const char *text, size_t len, char *err, size_t errlen)
{
	cJSON	   *first;
	int			rc;

	memset(r, 0, sizeof(*r));
	first = cJSON_ParseWithLength(text, len);
	if (first && cJSON_GetObjectItemCaseSensitive(first, "chart") != NULL)
	{
		const cJSON *error = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(first, "chart"), "error");

		if (cJSON_IsObject(error))
		{
			snprintf(err, errlen, "the saved chart response is an error response");
			rc = -1;
		}
		else
			rc = load_chart(r, first, err, errlen);
		cJSON_Delete(first);
		return rc;
	}
	cJSON_Delete(first);
	return load_lines(r, text, len, err, errlen);
}

/*
 * How long to wait before event I: the recorded gap to the previous quote
 * divided by SPEED (0 = no waiting).  Bars and out-of-order quotes go
 * without waiting.
 */
int64_t
replay_delay_ms(const struct replay *r, size_t i, double speed)
{
	int64_t		gap;

	if (speed <= 0 || i == 0 || r->events[i].topic != KAFKA_LIVE)
		return 0;
	for (size_t j = i; j-- > 0;)
	{
		if (r->events[j].topic != KAFKA_LIVE)
			continue;
		gap = r->events[i].quote.ts_ms - r->events[j].quote.ts_ms;
		return gap > 0 ? (int64_t) ((double) gap / speed) : 0;
	}
	return 0;
}

void
replay_free(struct replay *r)
{
	free(r->events);
	r->events = NULL;
	r->count = 0;
}
