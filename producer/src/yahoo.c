/*
 * yahoo.c -- decodes Yahoo Finance v8 chart responses.
 *
 * A chart response is {"chart":{"result":[{"meta":{...},"timestamp":[...],
 * "indicators":{"quote":[{"open":[..],"high":[..],"low":[..],"close":[..],
 * "volume":[..]}],"adjclose":[{"adjclose":[..]}]}}],"error":null}}, or the
 * same envelope with result null and error {code, description}.  Any array
 * element may be null (a minute without trades), and a day without trading
 * has no "timestamp" key and "quote":[{}] (see the fixtures' SOURCES.md).
 *
 * Live quote: the fields come from "meta"; what meta lacks comes from the
 * minute bars of the quote's own trading day (the last element of a 1m
 * response can belong to a later day than the others).  Pure code.
 */
#include "yahoo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jscan.h"
#include "message.h"

const char *
yahoo_status_name(enum yahoo_status st)
{
	switch (st)
	{
		case YAHOO_OK:
			return "ok";
		case YAHOO_BAD_JSON:
			return "bad JSON";
		case YAHOO_CHART_ERROR:
			return "chart error";
		case YAHOO_NO_DATA:
			return "no data";
	}
	return "?";
}

/*
 * One chart result.  The numeric arrays are copied into plain double
 * vectors (NAN for null or missing) once: cJSON arrays are linked lists,
 * and indexing them element by element would make decoding a 390-minute
 * response quadratic.
 */
struct chart
{
	cJSON	   *root;
	cJSON	   *meta;
	double	   *ts;
	double	   *open;
	double	   *high;
	double	   *low;
	double	   *close;
	double	   *volume;
	double	   *adjclose;
	long		gmtoffset;
	int			count;
};

static double
num(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A numeric array as N doubles, NAN where null, missing or not a number. */
static double *
vector(const cJSON *arr, int n)
{
	double	   *v = malloc(sizeof(double) * (size_t) (n > 0 ? n : 1));
	const cJSON *e = cJSON_IsArray(arr) ? arr->child : NULL;

	if (v == NULL)
		return NULL;
	for (int i = 0; i < n; i++)
	{
		v[i] = (e && cJSON_IsNumber(e)) ? e->valuedouble : NAN;
		if (e)
			e = e->next;
	}
	return v;
}

static void
chart_close(struct chart *c)
{
	cJSON_Delete(c->root);
	free(c->ts);
	free(c->open);
	free(c->high);
	free(c->low);
	free(c->close);
	free(c->volume);
	free(c->adjclose);
	memset(c, 0, sizeof(*c));
}

/* First element of an array of objects, e.g. "quote":[{...}]. */
static cJSON *
first_object(const cJSON *obj, const char *key)
{
	cJSON	   *arr = cJSON_GetObjectItemCaseSensitive(obj, key);
	cJSON	   *o = cJSON_IsArray(arr) ? cJSON_GetArrayItem(arr, 0) : NULL;

	return cJSON_IsObject(o) ? o : NULL;
}

/*
 * Parses the envelope.  On YAHOO_OK the caller frees C with chart_close();
 * otherwise it is already freed and err says why.
 */
static enum yahoo_status
chart_open(const char *body, size_t len, struct chart *c, char *err, size_t errlen)
{
	cJSON	   *chart;
	cJSON	   *error;
	cJSON	   *result;
	cJSON	   *r0;
	cJSON	   *ind;
	cJSON	   *q;
	cJSON	   *adj;
	cJSON	   *timestamp;
	double		off;

	memset(c, 0, sizeof(*c));
	c->root = cJSON_ParseWithLength(body, len);
	if (c->root == NULL)
	{
		const char *where = cJSON_GetErrorPtr();
		long		pos = (where && where >= body && where <= body + len) ? (long) (where - body) : -1;

		snprintf(err, errlen, "invalid JSON (%zu bytes, garbage or truncated; error at byte %ld)",
				 len, pos);
		return YAHOO_BAD_JSON;
	}
	chart = cJSON_GetObjectItemCaseSensitive(c->root, "chart");
	if (!cJSON_IsObject(chart))
	{
		snprintf(err, errlen, "response has no \"chart\" object");
		goto no_data;
	}
	error = cJSON_GetObjectItemCaseSensitive(chart, "error");
	if (cJSON_IsObject(error))
	{
		const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(error, "code"));
		const char *desc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(error, "description"));

		snprintf(err, errlen, "%s: %s", code ? code : "error", desc ? desc : "(no description)");
		chart_close(c);
		return YAHOO_CHART_ERROR;
	}
	result = cJSON_GetObjectItemCaseSensitive(chart, "result");
	r0 = cJSON_IsArray(result) ? cJSON_GetArrayItem(result, 0) : NULL;
	c->meta = r0 ? cJSON_GetObjectItemCaseSensitive(r0, "meta") : NULL;
	if (!cJSON_IsObject(c->meta))
	{
		snprintf(err, errlen, "response has no chart.result[0].meta");
		goto no_data;
	}
	timestamp = cJSON_GetObjectItemCaseSensitive(r0, "timestamp");
	c->count = cJSON_IsArray(timestamp) ? cJSON_GetArraySize(timestamp) : 0;
	ind = cJSON_GetObjectItemCaseSensitive(r0, "indicators");
	q = first_object(ind, "quote");
	adj = first_object(ind, "adjclose");
	c->ts = vector(timestamp, c->count);
	c->open = vector(q ? cJSON_GetObjectItemCaseSensitive(q, "open") : NULL, c->count);
	c->high = vector(q ? cJSON_GetObjectItemCaseSensitive(q, "high") : NULL, c->count);
	c->low = vector(q ? cJSON_GetObjectItemCaseSensitive(q, "low") : NULL, c->count);
	c->close = vector(q ? cJSON_GetObjectItemCaseSensitive(q, "close") : NULL, c->count);
	c->volume = vector(q ? cJSON_GetObjectItemCaseSensitive(q, "volume") : NULL, c->count);
	c->adjclose = vector(adj ? cJSON_GetObjectItemCaseSensitive(adj, "adjclose") : NULL, c->count);
	if (!c->ts || !c->open || !c->high || !c->low || !c->close || !c->volume || !c->adjclose)
	{
		snprintf(err, errlen, "out of memory");
		chart_close(c);
		return YAHOO_NO_DATA;
	}
	off = num(c->meta, "gmtoffset");
	c->gmtoffset = isfinite(off) ? (long) off : 0;
	return YAHOO_OK;

no_data:
	chart_close(c);
	return YAHOO_NO_DATA;
}

/* Exchange-local day number of an instant, to group bars by trading day. */
static long
local_day(double t, long gmtoffset)
{
	return (long) floor((t + (double) gmtoffset) / 86400.0);
}

/*
 * The reference decoder: parses the whole response with cJSON.  Used for
 * anything the fast path below declines, and by the tests as the
 * definition the fast path must agree with.
 */
enum yahoo_status
yahoo_decode_quote_full(const char *body, size_t len, const char *symbol,
						struct quote *q, char *err, size_t errlen)
{
	struct chart c;
	enum yahoo_status st;
	double		price;
	double		t;
	double		v;
	int			last = -1;
	long		day;
	double		day_open = NAN;
	double		day_high = NAN;
	double		day_low = NAN;
	double		day_volume = 0;
	int			day_bars = 0;
	const char *currency;

	st = chart_open(body, len, &c, err, errlen);
	if (st != YAHOO_OK)
		return st;

	for (int i = c.count - 1; i >= 0; i--)
	{
		if (isfinite(c.close[i]) && isfinite(c.ts[i]))
		{
			last = i;
			break;
		}
	}
	price = num(c.meta, "regularMarketPrice");
	if (!isfinite(price) && last >= 0)
		price = c.close[last];
	t = num(c.meta, "regularMarketTime");
	if (!isfinite(t) && last >= 0)
		t = c.ts[last];
	if (!isfinite(price) || price <= 0 || !isfinite(t))
	{
		snprintf(err, errlen, "response has no usable price or time");
		chart_close(&c);
		return YAHOO_NO_DATA;
	}

	/* Aggregate the minute bars of the quote's trading day. */
	day = local_day(t, c.gmtoffset);
	for (int i = 0; i < c.count; i++)
	{
		double		ts = c.ts[i];
		double		o = c.open[i];
		double		h = c.high[i];
		double		l = c.low[i];
		double		vol = c.volume[i];

		if (!isfinite(ts) || local_day(ts, c.gmtoffset) != day)
			continue;
		if (isnan(day_open) && isfinite(o))
			day_open = o;
		if (isfinite(h) && (isnan(day_high) || h > day_high))
			day_high = h;
		if (isfinite(l) && (isnan(day_low) || l < day_low))
			day_low = l;
		if (isfinite(vol) && vol >= 0)
		{
			day_volume += vol;
			day_bars++;
		}
	}

	quote_init(q);
	snprintf(q->symbol, sizeof(q->symbol), "%s", symbol);
	q->ts_ms = (int64_t) llround(t) * 1000;
	q->price = price;
	v = num(c.meta, "regularMarketVolume");
	if (isfinite(v) && v >= 0)
		q->volume = (int64_t) llround(v);
	else if (day_bars > 0)
		q->volume = (int64_t) llround(day_volume);
	q->open = num(c.meta, "regularMarketOpen");
	if (!isfinite(q->open))
		q->open = day_open;
	q->high = num(c.meta, "regularMarketDayHigh");
	if (!isfinite(q->high))
		q->high = day_high;
	q->low = num(c.meta, "regularMarketDayLow");
	if (!isfinite(q->low))
		q->low = day_low;
	q->prev_close = num(c.meta, "previousClose");
	if (!isfinite(q->prev_close))
		q->prev_close = num(c.meta, "chartPreviousClose");
	currency = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c.meta, "currency"));
	if (currency && strlen(currency) <= CURRENCY_MAX)
		snprintf(q->currency, sizeof(q->currency), "%s", currency);
	q->source = "yahoo";
	chart_close(&c);
	return YAHOO_OK;
}

static int
is_number_start(char c)
{
	return c == '-' || (c >= '0' && c <= '9');
}

/* Fills Q's fields that come from meta alone. */
static void
quote_from_meta(struct quote *q, const cJSON *meta, const char *symbol)
{
	const char *currency;

	quote_init(q);
	snprintf(q->symbol, sizeof(q->symbol), "%s", symbol);
	q->ts_ms = (int64_t) llround(num(meta, "regularMarketTime")) * 1000;
	q->price = num(meta, "regularMarketPrice");
	q->volume = (int64_t) llround(num(meta, "regularMarketVolume"));
	q->open = num(meta, "regularMarketOpen");
	q->high = num(meta, "regularMarketDayHigh");
	q->low = num(meta, "regularMarketDayLow");
	q->prev_close = num(meta, "previousClose");
	if (!isfinite(q->prev_close))
		q->prev_close = num(meta, "chartPreviousClose");
	currency = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "currency"));
	if (currency && strlen(currency) <= CURRENCY_MAX)
		snprintf(q->currency, sizeof(q->currency), "%s", currency);
	q->source = "yahoo";
}

/*
 * The fast path for the common case: a well-formed response whose meta has
 * price, time, volume, high and low.  It checks the syntax of the whole
 * body (jscan), parses only meta, and reads timestamps and opens just far
 * enough to find the first open of the quote's day -- the same answer as
 * the reference decoder, without converting ~2,400 numbers.  Returns 0, or
 * -1 to let the reference decoder handle the response.
 */
static int
decode_quote_fast(const char *body, size_t len, const char *symbol, struct quote *q)
{
	struct jscan_result spans;
	cJSON	   *meta;
	double		off;
	long		day;
	const char *tp;
	const char *op;
	struct jspan te;
	struct jspan oe;
	int			have_open;
	double		t_meta;

	if (jscan_chart(body, len, &spans) != 0 || spans.meta.b == NULL ||
		(spans.error.b && strncmp(spans.error.b, "null", 4) != 0))
		return -1;
	meta = cJSON_ParseWithLength(spans.meta.b, (size_t) (spans.meta.e - spans.meta.b));
	if (!cJSON_IsObject(meta) ||
		!(num(meta, "regularMarketPrice") > 0) || !isfinite(num(meta, "regularMarketTime")) ||
		!(num(meta, "regularMarketVolume") >= 0) ||
		!isfinite(num(meta, "regularMarketDayHigh")) || !isfinite(num(meta, "regularMarketDayLow")))
	{
		cJSON_Delete(meta);
		return -1;
	}
	quote_from_meta(q, meta, symbol);
	off = num(meta, "gmtoffset");
	t_meta = num(meta, "regularMarketTime");
	cJSON_Delete(meta);
	if (isfinite(q->open) || spans.timestamp.b == NULL || *spans.timestamp.b != '[')
		return 0;
	if (spans.open.b == NULL || *spans.open.b != '[')
		return 0;
	day = local_day(t_meta, isfinite(off) ? (long) off : 0);
	tp = spans.timestamp.b;
	op = spans.open.b;
	have_open = 1;
	while (jscan_next_element(&tp, spans.timestamp.e, &te))
	{
		int			has_o = have_open && jscan_next_element(&op, spans.open.e, &oe);
		char	   *endp;
		double		t;
		double		o;

		have_open = has_o;
		if (!has_o || !is_number_start(*te.b) || !is_number_start(*oe.b))
			continue;
		t = strtod(te.b, &endp);
		if (local_day(t, isfinite(off) ? (long) off : 0) != day)
			continue;
		o = strtod(oe.b, &endp);
		if (isfinite(o))
		{
			q->open = o;
			break;
		}
	}
	return 0;
}

enum yahoo_status
yahoo_decode_quote(const char *body, size_t len, const char *symbol,
				   struct quote *q, char *err, size_t errlen)
{
	if (decode_quote_fast(body, len, symbol, q) == 0)
		return YAHOO_OK;
	return yahoo_decode_quote_full(body, len, symbol, q, err, errlen);
}

/*
 * Daily bars, oldest first, in a malloc'd array the caller frees.  Bars
 * without a close are skipped; when two bars fall on the same local date
 * (Yahoo appends the live bar of today) the later one wins.  Zero bars is
 * a valid answer (a range without trading).
 */
enum yahoo_status
yahoo_decode_bars(const char *body, size_t len, const char *symbol,
				  struct bar **bars, size_t *nbars, char *err, size_t errlen)
{
	struct chart c;
	enum yahoo_status st;
	struct bar *out;
	size_t		n = 0;

	*bars = NULL;
	*nbars = 0;
	st = chart_open(body, len, &c, err, errlen);
	if (st != YAHOO_OK)
		return st;
	out = calloc(c.count > 0 ? (size_t) c.count : 1, sizeof(*out));
	if (out == NULL)
	{
		snprintf(err, errlen, "out of memory");
		chart_close(&c);
		return YAHOO_NO_DATA;
	}
	for (int i = 0; i < c.count; i++)
	{
		double		ts = c.ts[i];
		double		close = c.close[i];
		double		vol = c.volume[i];
		struct bar *b;
		char		date[16];

		if (!isfinite(ts) || !isfinite(close) || close <= 0)
			continue;
		if (format_date((int64_t) llround(ts) + c.gmtoffset, date, sizeof(date)) < 0)
			continue;
		if (n > 0 && strcmp(out[n - 1].date, date) == 0)
			b = &out[n - 1];
		else
			b = &out[n++];
		bar_init(b);
		snprintf(b->symbol, sizeof(b->symbol), "%s", symbol);
		memcpy(b->date, date, sizeof(b->date));
		b->open = c.open[i];
		b->high = c.high[i];
		b->low = c.low[i];
		b->close = close;
		b->adj_close = c.adjclose[i];
		b->volume = (isfinite(vol) && vol >= 0) ? (int64_t) llround(vol) : -1;
	}
	chart_close(&c);
	*bars = out;
	*nbars = n;
	return YAHOO_OK;
}

/*
 * BASE/v8/finance/chart/SYMBOL?range=R&interval=I, the symbol
 * percent-encoded (index symbols start with ^, currencies end with =X).
 */
int
yahoo_chart_url(const char *base, const char *symbol, const char *range,
				const char *interval, char *buf, size_t size)
{
	char		enc[3 * SYMBOL_MAX + 1];
	size_t		j = 0;
	size_t		blen = strlen(base);
	int			n;

	for (const unsigned char *p = (const unsigned char *) symbol; *p && j + 4 < sizeof(enc); p++)
	{
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			(*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_')
			enc[j++] = (char) *p;
		else
			j += (size_t) snprintf(enc + j, sizeof(enc) - j, "%%%02X", *p);
	}
	enc[j] = '\0';
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	n = snprintf(buf, size, "%.*s/v8/finance/chart/%s?range=%s&interval=%s",
				 (int) blen, base, enc, range, interval);
	return (n < 0 || (size_t) n >= size) ? -1 : n;
}
