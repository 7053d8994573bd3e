/*
 * replay.c -- decodes recordings for --source replay:FILE.
 *
 * JSON Lines are decoded by the contract's decoders, the consumers' own (a
 * line they would refuse is skipped and counted, never published), and
 * re-encoded, so what reaches Kafka is always in the canonical format.  A
 * saved Yahoo 1-minute chart becomes one quote per non-null minute: price =
 * the minute's close, and the day's open/high/low/volume accumulated up to
 * that minute, as a live poller would have seen them.  Pure code.
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

/*
 * The LEN bytes at LINE, one JSON Lines record, into EV, decoded by the
 * consumers' own decoders (contract/): a line they would refuse is a bad
 * line, and WHY (SP_ERR_MAX bytes) gets their reason.  A line with "ts" is
 * a quote, one with "date" a bar (cJSON, lenient, only tells which decoder
 * to ask; the decoder, strict, judges the line).  A quote's source becomes
 * "replay" unless it was recorded as "yahoo".
 */
static bool
decode_line(const char *line, size_t len, struct replay_event *ev, char *why)
{
	cJSON	   *o = cJSON_ParseWithLength(line, len);
	bool		object = cJSON_IsObject(o);
	bool		quote = cJSON_GetObjectItemCaseSensitive(o, "ts") != NULL;
	bool		bar = cJSON_GetObjectItemCaseSensitive(o, "date") != NULL;

	cJSON_Delete(o);
	if (!object)
	{
		/* either decoder's words for what is not a JSON object */
		if (sp_decode_quote(line, len, &ev->quote, why))
			snprintf(why, SP_ERR_MAX, "payload is not a JSON object");
		return false;
	}
	if (quote)
	{
		sp_quote   *q = &ev->quote;

		ev->topic = PUBLISHER_LIVE;
		if (!sp_decode_quote(line, len, q, why))
			return false;
		if (!(q->present & SP_HAS_SOURCE) || strcmp(q->source, "yahoo") != 0)
			message_set_source(q, "replay");
		return true;
	}
	if (bar)
	{
		ev->topic = PUBLISHER_DAILY;
		return sp_decode_bar(line, len, &ev->bar, why);
	}
	snprintf(why, SP_ERR_MAX, "neither a quote (\"ts\") nor a bar (\"date\")");
	return false;
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
		char		why[SP_ERR_MAX];
		struct replay_event ev;

		lineno++;
		p = nl ? nl + 1 : end;
		while (s < eol && isspace((unsigned char) *s))
			s++;
		if (s == eol)
			continue;
		if (!decode_line(s, (size_t) (eol - s), &ev, why))
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
	const char *cur;
	const char *symbol = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "symbol"));
	double		prev_close;
	double		last_close = NAN;
	double		off = opt_num(meta, "gmtoffset");
	long		day = LONG_MIN;
	double		open = NAN, high = NAN, low = NAN;
	int64_t		volume = 0;
	size_t		cap = 0;
	int			n = cJSON_IsArray(ts) ? cJSON_GetArraySize(ts) : 0;

	if (!sp_valid_symbol(symbol))
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

		/* a time beyond year 9999 is not one */
		if (!cJSON_IsNumber(t) || !(fabs(t->valuedouble) < 253402300800.0) ||
			!cJSON_IsNumber(c) || c->valuedouble <= 0)
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

		ev.topic = PUBLISHER_LIVE;
		memset(&ev.quote, 0, sizeof(ev.quote));
		strcpy(ev.quote.symbol, symbol);
		ev.quote.ts_us = (int64_t) llround(t->valuedouble) * 1000000;
		ev.quote.price = c->valuedouble;
		message_set_volume(&ev.quote.volume, &ev.quote.present, volume);
		message_set_amount(&ev.quote.open, &ev.quote.present, SP_HAS_OPEN, open);
		message_set_amount(&ev.quote.high, &ev.quote.present, SP_HAS_HIGH, high);
		message_set_amount(&ev.quote.low, &ev.quote.present, SP_HAS_LOW, low);
		message_set_amount(&ev.quote.prev_close, &ev.quote.present, SP_HAS_PREV_CLOSE, prev_close);
		message_set_currency(&ev.quote, cur);
		message_set_source(&ev.quote, "replay");
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

	if (speed <= 0 || i == 0 || r->events[i].topic != PUBLISHER_LIVE)
		return 0;
	for (size_t j = i; j-- > 0;)
	{
		if (r->events[j].topic != PUBLISHER_LIVE)
			continue;
		gap = (r->events[i].quote.ts_us - r->events[j].quote.ts_us) / 1000;
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
