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
 * response can belong to a later day than the others).
 *
 * Every price -- quote and bar, meta's and the bars' -- is rounded to the
 * instrument's tick precision, meta.priceHint decimals, as it is read:
 * Yahoo's values are float32s printed in full (225.6699981689453 for
 * 225.67), and what is stored, charted and mailed must be what the
 * exchange printed.  Both decoders round with the same function, so they
 * still agree value for value.  Pure code.
 */
#include "yahoo.h"

#include <float.h>
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
 * What a decoded value must be before it is used.  Everything is checked
 * before it is converted to an integer or multiplied: a double too large
 * for int64_t makes the conversion undefined behaviour (fuzzing found
 * exactly that on huge times, offsets and volumes).
 *
 * Times -- meta.regularMarketTime, the bar timestamps, and a bar's time on
 * the exchange's clock, which gives its date -- lie in years 1900..9999:
 * four-digit years, as DESIGN.md's dates and times need, and no market in
 * Yahoo's data is older than 1900.  Whether a time is plausible *now* is
 * the consumer's call (it knows the clock); these bounds only keep
 * garbage out.
 */
#define TIME_MIN		(-2208988800.0)	/* 1900-01-01T00:00:00Z */
#define TIME_MAX		253402300799.0	/* 9999-12-31T23:59:59Z */
#define TIME_RANGE_TEXT "1900-01-01..9999-12-31"

/* Real zones are within -12 h..+14 h; +-18 h is what e.g. java.time allows. */
#define GMTOFFSET_MAX	64800.0

/* Volumes are whole numbers: up to 2^53 each is an exact double (and fits int64_t). */
#define VOLUME_MAX		9007199254740992.0

#define SECS_PER_DAY	INT64_C(86400)

/*
 * What the decoders read from meta, gathered in one place so that the two
 * ways of reading it -- from a cJSON tree (the reference decoder, and the
 * bars) or straight from the text (the live fast path, meta_from_text())
 * -- feed the same code with the same values.  A number is NAN when it
 * is absent or not a number (cJSON's valuedouble otherwise: the text
 * converted by strtod()); a string NULL when absent or not a string.
 */
enum meta_num
{
	M_PRICE, M_TIME, M_GMTOFFSET, M_HINT, M_VOLUME, M_OPEN, M_HIGH, M_LOW,
	M_PREV_CLOSE, M_CHART_PREV_CLOSE, M_NNUM
};
enum meta_str
{
	M_CURRENCY, M_TZ, M_FULL_EXCHANGE, M_EXCHANGE, M_NSTR
};
static const char *const meta_num_keys[M_NNUM] = {
	"regularMarketPrice", "regularMarketTime", "gmtoffset", "priceHint",
	"regularMarketVolume", "regularMarketOpen", "regularMarketDayHigh",
	"regularMarketDayLow", "previousClose", "chartPreviousClose"
};
static const char *const meta_str_keys[M_NSTR] = {
	"currency", "exchangeTimezoneName", "fullExchangeName", "exchangeName"
};
static const char *const period_names[YAHOO_NPERIODS] = {"pre", "regular", "post"};
enum
{
	P_START, P_END, P_GMTOFFSET, P_NNUM
};
static const char *const period_keys[P_NNUM] = {"start", "end", "gmtoffset"};

/* Longest meta string the fast path copies; a longer one sends it to cJSON. */
#define META_STR_MAX 128

struct meta_values
{
	int			is_object;		/* meta is an object (else nothing below is set) */
	double		num[M_NNUM];
	const char *str[M_NSTR];
	int			period_object[YAHOO_NPERIODS];	/* currentTradingPeriod.pre... is an object */
	double		period[YAHOO_NPERIODS][P_NNUM];
	char		copy[M_NSTR][META_STR_MAX];	/* meta_from_text()'s strings */
};

/*
 * One chart result.  The numeric arrays are copied into plain double
 * vectors (NAN for null or missing) once: cJSON arrays are linked lists,
 * and indexing them element by element would make decoding a 390-minute
 * response quadratic.  Prices (open, high, low, close, adjclose) are
 * rounded to the tick once there, NAN where there is no price; the other
 * numbers are raw: 1e999 reads as infinity, and every use checks its
 * range.
 */
struct chart
{
	cJSON	   *root;
	struct meta_values meta;	/* read from the tree, valid until chart_close() */
	double	   *ts;
	double	   *open;
	double	   *high;
	double	   *low;
	double	   *close;
	double	   *volume;
	double	   *adjclose;
	int64_t		gmtoffset;		/* seconds, within +-GMTOFFSET_MAX */
	int			hint;			/* decimals of a price (meta.priceHint) */
	int			count;
};

/* The number at KEY, NAN if there is none (absent, null, not a number). */
static double
num(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* *MV from META, a node of a cJSON tree (the strings point into it). */
static void
meta_from_cjson(struct meta_values *mv, const cJSON *meta)
{
	const cJSON *ctp = cJSON_GetObjectItemCaseSensitive(meta, "currentTradingPeriod");

	memset(mv, 0, sizeof(*mv));
	mv->is_object = cJSON_IsObject(meta);
	for (int i = 0; i < M_NNUM; i++)
		mv->num[i] = num(meta, meta_num_keys[i]);
	for (int i = 0; i < M_NSTR; i++)
		mv->str[i] = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, meta_str_keys[i]));
	for (int i = 0; i < YAHOO_NPERIODS; i++)
	{
		const cJSON *per = cJSON_GetObjectItemCaseSensitive(ctp, period_names[i]);

		mv->period_object[i] = cJSON_IsObject(per);
		for (int k = 0; k < P_NNUM; k++)
			mv->period[i][k] = num(per, period_keys[k]);
	}
}

/* DESIGN.md: prices are finite and > 0. */
static int
price_ok(double v)
{
	return isfinite(v) && v > 0;
}

/* 10^0..10^YAHOO_PRICE_HINT_MAX, all exact doubles. */
static const double pow10_exact[YAHOO_PRICE_HINT_MAX + 1] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8
};

/*
 * The significant digits of V's decimal representation into DIGITS (at
 * most 17 and a NUL), without trailing zeros; returns how many, and the
 * power of ten of the first in *EXP10.  V is finite, > 0, and is read at
 * HINT decimals:
 *   - a V that is exactly a (normal) float32 whose spacing there is at
 *     most a tenth of a tick is read as the float32 it is -- the shortest
 *     decimal that reads back as that float32.  Yahoo keeps bar values as
 *     float32, so 226.85499572753906 was the print 226.855, a half that
 *     the double's own digits would hide (and meta's double 226.855 would
 *     round up);
 *   - anything else -- a float32 too coarse to tell the digit after the
 *     tick (above 2^17 = 131072 at 2 decimals), where its shortest
 *     decimal would invent digits: 81957824 would read as 81957820 --
 *     as the shortest decimal that reads back as the double.
 * FLT_DIG / DBL_DIG digits are enough to start from: a shorter
 * representation round-trips at that length too.
 */
static int
decimal_digits(double v, int hint, char digits[18], int *exp10)
{
	int			e2;
	int			is_float = v >= FLT_MIN && v <= FLT_MAX && (double) (float) v == v &&
		(frexp(v, &e2), ldexp(pow10_exact[hint] * 10, e2 - FLT_MANT_DIG) <= 1);
	int			lo = is_float ? FLT_DIG : DBL_DIG;
	int			hi = is_float ? FLT_DECIMAL_DIG : DBL_DECIMAL_DIG;
	char		buf[48];
	const char *s;
	int			n = 0;

	for (int p = lo; p <= hi; p++)
	{
		snprintf(buf, sizeof(buf), "%.*e", p - 1, v);
		if (p == hi || (is_float ? strtof(buf, NULL) == (float) v : strtod(buf, NULL) == v))
			break;
	}
	for (s = buf; *s != '\0' && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9' && n < 17)
			digits[n++] = *s;
	*exp10 = (*s == 'e') ? atoi(s + 1) : 0;
	while (n > 1 && digits[n - 1] == '0')
		n--;
	digits[n] = '\0';
	return n;
}

/*
 * yahoo_round_price() the long way, on the decimal digits: keep those of
 * 10^-HINT and up (at most 15, all a double is sure to hold), add one if
 * the next digit is 5 or more (half away from zero: V > 0), and read
 * the result back as a double.
 */
static double
round_decimal(double v, int hint)
{
	char		digits[18];
	char		buf[48];
	int			e;
	int			n = decimal_digits(v, hint, digits, &e);
	int			keep = e + hint + 1;
	long long	k = 0;

	if (keep > DBL_DIG)
		keep = DBL_DIG;
	if (keep < 0)
		return 0.0;				/* below a tenth of a tick */
	if (keep > n)
		keep = n;				/* already within HINT decimals */
	for (int i = 0; i < keep; i++)
		k = k * 10 + (digits[i] - '0');
	if (keep < n && digits[keep] >= '5')
		k++;
	snprintf(buf, sizeof(buf), "%llde%d", k, e - keep + 1);
	return strtod(buf, NULL);
}

/*
 * Mostly the rounding needs no digits: X = V * 10^HINT is within a hair
 * (a float32's half ulp, 2^-24 relative, and a double's) of the decimal
 * representation scaled alike, so unless X is within 2^-23 relative of a
 * half, both round to the same integer K, and K / 10^HINT -- K and 10^HINT
 * exact, the division correctly rounded -- is the double nearest to the
 * decimal, as reading it back would give.  Near a half, or when X is too
 * large for that, round_decimal() looks at the digits.
 */
double
yahoo_round_price(double v, int hint)
{
	double		scale;
	double		x;
	double		k;
	double		frac;

	if (!isfinite(v) || v == 0)
		return v;
	if (v < 0)
		return -yahoo_round_price(-v, hint);
	hint = hint < 0 ? 0 : hint > YAHOO_PRICE_HINT_MAX ? YAHOO_PRICE_HINT_MAX : hint;
	scale = pow10_exact[hint];
	x = v * scale;
	if (x < 1e15)
	{
		k = floor(x);
		frac = x - k;			/* exact */
		if (fabs(frac - 0.5) > x * 0x1p-23)
			return (frac > 0.5 ? k + 1 : k) / scale;
	}
	return round_decimal(v, hint);
}

/*
 * meta.priceHint: the decimals of the instrument's prices (2 for most
 * stocks, 4 for currencies and penny stocks).  An integer 0..8, else
 * absent or nonsense: the default, 2, as for most instruments.
 */
int
yahoo_price_hint(double h)
{
	if (h >= 0 && h <= YAHOO_PRICE_HINT_MAX && h == floor(h))
		return (int) h;
	return YAHOO_PRICE_HINT_DEFAULT;
}

static int
meta_price_hint(const struct meta_values *mv)
{
	return yahoo_price_hint(mv->num[M_HINT]);
}

/*
 * V as a price at HINT decimals: rounded, or NAN (unknown) unless it is a
 * price before and after rounding (finite, > 0: a value under half a
 * tick rounds to 0; one near DBL_MAX could round to infinity).
 */
static double
opt_price(double v, int hint)
{
	double		r;

	if (!price_ok(v))
		return NAN;
	r = yahoo_round_price(v, hint);
	return price_ok(r) ? r : NAN;
}

static int
volume_ok(double v)
{
	return v >= 0 && v <= VOLUME_MAX;	/* false for NAN */
}

/* An optional volume: -1 (unknown) unless it is in range. */
static int64_t
opt_volume(double v)
{
	return volume_ok(v) ? (int64_t) llround(v) : -1;
}

/*
 * T as whole seconds since the epoch, if it is a time in range.  Returns
 * 0, or -1 (NAN and infinities included).  The bounds are whole seconds,
 * so rounding cannot leave them.
 */
static int
epoch_seconds(double t, int64_t *s)
{
	if (!(t >= TIME_MIN && t <= TIME_MAX))
		return -1;
	*s = (int64_t) llround(t);
	return 0;
}

/* Exchange-local day number of an instant, to group bars by trading day. */
static int64_t
local_day(int64_t s, int64_t gmtoffset)
{
	int64_t		local = s + gmtoffset;	/* both in range: no overflow */
	int64_t		day = local / SECS_PER_DAY;

	return (local % SECS_PER_DAY < 0) ? day - 1 : day;
}

/*
 * meta.gmtoffset, the exchange's offset from UTC in seconds, into *OFF: 0
 * when meta has none.  Returns 0, or -1 with the reason in ERR when it is
 * out of range (every date would be wrong, so the response is refused).
 */
static int
meta_gmtoffset(const struct meta_values *mv, int64_t *off, char *err, size_t errlen)
{
	double		v = mv->num[M_GMTOFFSET];

	*off = 0;
	if (isnan(v))
		return 0;
	if (!(fabs(v) <= GMTOFFSET_MAX))
	{
		snprintf(err, errlen, "meta.gmtoffset %g is out of range (at most 18 hours from UTC)", v);
		return -1;
	}
	*off = (int64_t) v;
	return 0;
}

/*
 * meta.regularMarketTime as seconds in *S.  Returns 1 if meta has it, 0 if
 * not (the caller falls back on the bars), -1 with the reason in ERR if it
 * is out of range: a response that dates its own quote wrongly is refused.
 */
static int
meta_time(const struct meta_values *mv, int64_t *s, char *err, size_t errlen)
{
	double		t = mv->num[M_TIME];

	if (isnan(t))
		return 0;
	if (epoch_seconds(t, s) != 0)
	{
		snprintf(err, errlen, "meta.regularMarketTime %g is outside " TIME_RANGE_TEXT, t);
		return -1;
	}
	return 1;
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
 * The bar vectors of result R0 (count = length of its timestamp array),
 * prices rounded to C->hint decimals.
 */
static int
chart_vectors(struct chart *c, const cJSON *r0)
{
	cJSON	   *timestamp = cJSON_GetObjectItemCaseSensitive(r0, "timestamp");
	cJSON	   *ind = cJSON_GetObjectItemCaseSensitive(r0, "indicators");
	cJSON	   *q = first_object(ind, "quote");
	cJSON	   *adj = first_object(ind, "adjclose");

	c->count = cJSON_IsArray(timestamp) ? cJSON_GetArraySize(timestamp) : 0;
	c->ts = vector(timestamp, c->count);
	c->open = vector(q ? cJSON_GetObjectItemCaseSensitive(q, "open") : NULL, c->count);
	c->high = vector(q ? cJSON_GetObjectItemCaseSensitive(q, "high") : NULL, c->count);
	c->low = vector(q ? cJSON_GetObjectItemCaseSensitive(q, "low") : NULL, c->count);
	c->close = vector(q ? cJSON_GetObjectItemCaseSensitive(q, "close") : NULL, c->count);
	c->volume = vector(q ? cJSON_GetObjectItemCaseSensitive(q, "volume") : NULL, c->count);
	c->adjclose = vector(adj ? cJSON_GetObjectItemCaseSensitive(adj, "adjclose") : NULL, c->count);
	if (!(c->ts && c->open && c->high && c->low && c->close && c->volume && c->adjclose))
		return -1;
	/* prices at the tick, NAN where there is none: every use sees the same values */
	for (int i = 0; i < c->count; i++)
	{
		c->open[i] = opt_price(c->open[i], c->hint);
		c->high[i] = opt_price(c->high[i], c->hint);
		c->low[i] = opt_price(c->low[i], c->hint);
		c->close[i] = opt_price(c->close[i], c->hint);
		c->adjclose[i] = opt_price(c->adjclose[i], c->hint);
	}
	return 0;
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
	meta_from_cjson(&c->meta, r0 ? cJSON_GetObjectItemCaseSensitive(r0, "meta") : NULL);
	if (!c->meta.is_object)
	{
		snprintf(err, errlen, "response has no chart.result[0].meta");
		goto no_data;
	}
	if (meta_gmtoffset(&c->meta, &c->gmtoffset, err, errlen) != 0)
		goto no_data;
	c->hint = meta_price_hint(&c->meta);
	if (chart_vectors(c, r0) != 0)
	{
		snprintf(err, errlen, "out of memory");
		goto no_data;
	}
	return YAHOO_OK;

no_data:
	chart_close(c);
	return YAHOO_NO_DATA;
}

/*
 * Fills Q's fields that come from meta alone, with time S and prices at
 * HINT decimals; not the price.
 */
static void
quote_from_meta(sp_quote *q, const struct meta_values *mv, const char *symbol, int64_t s, int hint)
{
	double		prev_close = opt_price(mv->num[M_PREV_CLOSE], hint);

	memset(q, 0, sizeof(*q));
	snprintf(q->symbol, sizeof(q->symbol), "%s", symbol);
	q->ts_us = s * 1000000;		/* |s| < 2^38: no overflow */
	message_set_volume(&q->volume, &q->present, opt_volume(mv->num[M_VOLUME]));
	message_set_amount(&q->open, &q->present, SP_HAS_OPEN, opt_price(mv->num[M_OPEN], hint));
	message_set_amount(&q->high, &q->present, SP_HAS_HIGH, opt_price(mv->num[M_HIGH], hint));
	message_set_amount(&q->low, &q->present, SP_HAS_LOW, opt_price(mv->num[M_LOW], hint));
	if (isnan(prev_close))
		prev_close = opt_price(mv->num[M_CHART_PREV_CLOSE], hint);
	message_set_amount(&q->prev_close, &q->present, SP_HAS_PREV_CLOSE, prev_close);
	message_set_currency(q, mv->str[M_CURRENCY]);
	message_set_source(q, "yahoo");
}

/* STR into BUF if it is printable ASCII that fits (it goes to logs), else "". */
static void
log_name(char *buf, size_t size, const char *str)
{
	size_t		n = str ? strlen(str) : 0;

	buf[0] = '\0';
	if (n == 0 || n >= size)
		return;
	for (size_t i = 0; i < n; i++)
		if (str[i] < 0x20 || str[i] > 0x7e)
			return;
	memcpy(buf, str, n + 1);
}

/*
 * meta.currentTradingPeriod into *P (see yahoo.h).  A period whose times
 * are out of range, reversed or more than a day apart is left out, like
 * any value out of range: the scheduler falls back on its own calendar
 * rather than trust it.
 */
static void
meta_periods(const struct meta_values *mv, struct yahoo_periods *p)
{
	memset(p, 0, sizeof(*p));
	for (int i = 0; i < YAHOO_NPERIODS; i++)
	{
		int64_t		start;
		int64_t		end;

		if (!mv->period_object[i] || epoch_seconds(mv->period[i][P_START], &start) != 0 ||
			epoch_seconds(mv->period[i][P_END], &end) != 0 ||
			!(end > start && end - start <= SECS_PER_DAY))
			continue;
		p->known |= 1u << i;
		p->start[i] = start;
		p->end[i] = end;
		if (i == YAHOO_REGULAR || p->gmtoffset == 0)
		{
			double		off = mv->period[i][P_GMTOFFSET];

			if (fabs(off) <= GMTOFFSET_MAX)
				p->gmtoffset = (int32_t) off;
		}
	}
	log_name(p->timezone, sizeof(p->timezone), mv->str[M_TZ]);
	log_name(p->exchange, sizeof(p->exchange), mv->str[M_FULL_EXCHANGE]);
	if (p->exchange[0] == '\0')
		log_name(p->exchange, sizeof(p->exchange), mv->str[M_EXCHANGE]);
}

/* Index of the last bar with a price and a time in range, or -1. */
static int
last_usable_bar(const struct chart *c)
{
	for (int i = c->count - 1; i >= 0; i--)
	{
		int64_t		s;

		if (price_ok(c->close[i]) && epoch_seconds(c->ts[i], &s) == 0)
			return i;
	}
	return -1;
}

/*
 * What meta lacks, from the bars of local day DAY: the first open, the
 * highest high, the lowest low and the sum of the volumes.  Bars of other
 * days (a 1-minute response can end with one of the next day) and bars
 * without a time in range are left out.
 */
static void
fill_from_day(sp_quote *q, const struct chart *c, int64_t day)
{
	double		open = NAN;
	double		high = NAN;
	double		low = NAN;
	double		volume = 0;
	int			nvolumes = 0;

	for (int i = 0; i < c->count; i++)
	{
		int64_t		s;

		if (epoch_seconds(c->ts[i], &s) != 0 || local_day(s, c->gmtoffset) != day)
			continue;
		if (isnan(open) && price_ok(c->open[i]))
			open = c->open[i];
		if (price_ok(c->high[i]) && (isnan(high) || c->high[i] > high))
			high = c->high[i];
		if (price_ok(c->low[i]) && (isnan(low) || c->low[i] < low))
			low = c->low[i];
		if (volume_ok(c->volume[i]))
		{
			volume += c->volume[i];
			nvolumes++;
		}
	}
	if (!(q->present & SP_HAS_VOLUME) && nvolumes > 0)	/* unknown if out of range */
		message_set_volume(&q->volume, &q->present, opt_volume(volume));
	if (!(q->present & SP_HAS_OPEN))
		message_set_amount(&q->open, &q->present, SP_HAS_OPEN, open);
	if (!(q->present & SP_HAS_HIGH))
		message_set_amount(&q->high, &q->present, SP_HAS_HIGH, high);
	if (!(q->present & SP_HAS_LOW))
		message_set_amount(&q->low, &q->present, SP_HAS_LOW, low);
}

/*
 * The quote's price and time: meta's, else the last usable bar's.  A value
 * meta has but that is unusable refuses the response.  Returns 0, or -1
 * with the reason in ERR.
 */
static int
quote_price_time(const struct chart *c, double *price, int64_t *s, char *err, size_t errlen)
{
	int			last = last_usable_bar(c);
	int			have_time = meta_time(&c->meta, s, err, errlen);
	double		raw;

	if (have_time < 0)
		return -1;
	raw = c->meta.num[M_PRICE];
	if (!isnan(raw) && !price_ok(raw))
	{
		snprintf(err, errlen, "meta.regularMarketPrice %g is not a price (finite, > 0)", raw);
		return -1;
	}
	*price = opt_price(raw, c->hint);
	if (!isnan(raw) && isnan(*price))
	{
		snprintf(err, errlen, "meta.regularMarketPrice %g is not a price at priceHint %d "
				 "(rounds to %g)", raw, c->hint, yahoo_round_price(raw, c->hint));
		return -1;
	}
	if (isnan(*price) && last >= 0)
		*price = c->close[last];
	if (!have_time && last >= 0)
		have_time = epoch_seconds(c->ts[last], s) == 0;
	if (isnan(*price) || !have_time)
	{
		snprintf(err, errlen, "response has no usable price or time");
		return -1;
	}
	return 0;
}

/*
 * The reference decoder: parses the whole response with cJSON.  Used for
 * anything the fast path below declines, and by the tests as the
 * definition the fast path must agree with.
 */
enum yahoo_status
yahoo_decode_live_full(const char *body, size_t len, const char *symbol,
					   sp_quote *q, struct yahoo_periods *periods, char *err, size_t errlen)
{
	struct chart c;
	enum yahoo_status st;
	double		price;
	int64_t		s = 0;

	st = chart_open(body, len, &c, err, errlen);
	if (st != YAHOO_OK)
		return st;
	if (quote_price_time(&c, &price, &s, err, errlen) != 0)
	{
		chart_close(&c);
		return YAHOO_NO_DATA;
	}
	quote_from_meta(q, &c.meta, symbol, s, c.hint);
	q->price = price;
	fill_from_day(q, &c, local_day(s, c.gmtoffset));
	if (periods)
		meta_periods(&c.meta, periods);
	chart_close(&c);
	return YAHOO_OK;
}

static int
is_number_start(char c)
{
	return c == '-' || (c >= '0' && c <= '9');
}

/*
 * Whether meta alone gives everything the reference decoder would take
 * from it (price, time, volume, high, low -- prices still prices at HINT
 * decimals --, a valid offset), so that the bars matter only for the
 * open.  Sets *S and *OFF.
 */
static int
meta_is_complete(const struct meta_values *mv, int hint, int64_t *s, int64_t *off)
{
	return mv->is_object &&
		!isnan(opt_price(mv->num[M_PRICE], hint)) &&
		meta_time(mv, s, NULL, 0) == 1 &&
		meta_gmtoffset(mv, off, NULL, 0) == 0 &&
		volume_ok(mv->num[M_VOLUME]) &&
		!isnan(opt_price(mv->num[M_HIGH], hint)) &&
		!isnan(opt_price(mv->num[M_LOW], hint));
}

/* A scanned value as cJSON's num() sees it: the number, else NAN. */
static double
span_num(const struct jscan_span *v)
{
	return (v->b != NULL && is_number_start(*v->b)) ? strtod(v->b, NULL) : NAN;
}

/*
 * A scanned value as cJSON_GetStringValue() sees it, copied into BUF
 * (META_STR_MAX): *OUT = the string, or NULL if it is not one.  Returns
 * -1 when the copy could differ from cJSON's string (escapes, which
 * cJSON decodes, or too long for BUF): the caller leaves the response to
 * cJSON.  The scanner refused control characters, so there is no NUL in
 * the bytes.
 */
static int
span_str(const struct jscan_span *v, char *buf, const char **out)
{
	size_t		n;

	*out = NULL;
	if (v->b == NULL || *v->b != '"')
		return 0;
	n = (size_t) (v->e - v->b) - 2;
	if (n >= META_STR_MAX || memchr(v->b + 1, '\\', n) != NULL)
		return -1;
	memcpy(buf, v->b + 1, n);
	buf[n] = '\0';
	*out = buf;
	return 0;
}

/*
 * *MV from META, the span of chart.result[0].meta in a body jscan_chart()
 * validated, without a tree: one pass over meta's members, one over
 * currentTradingPeriod's and one over each period's.  The numbers are the
 * text cJSON gives to strtod(), so they are the same doubles.  Returns 0,
 * or -1 when the values might differ from what meta_from_cjson() reads
 * (escaped names or strings, over-long strings): cJSON decides then.
 */
static int
meta_from_text(struct meta_values *mv, const struct jscan_span *meta)
{
	const char *keys[M_NNUM + M_NSTR + 1];
	struct jscan_span v[M_NNUM + M_NSTR + 1];
	struct jscan_span per[YAHOO_NPERIODS];
	struct jscan_span pv[P_NNUM];
	int			rc;

	memset(mv, 0, sizeof(*mv));
	memcpy(keys, meta_num_keys, sizeof(meta_num_keys));
	memcpy(keys + M_NNUM, meta_str_keys, sizeof(meta_str_keys));
	keys[M_NNUM + M_NSTR] = "currentTradingPeriod";
	rc = jscan_members(meta, keys, M_NNUM + M_NSTR + 1, v);
	if (rc != 0)
		return rc > 0 ? -1 : 0; /* not an object: is_object stays 0 */
	mv->is_object = 1;
	for (int i = 0; i < M_NNUM; i++)
		mv->num[i] = span_num(&v[i]);
	for (int i = 0; i < M_NSTR; i++)
		if (span_str(&v[M_NNUM + i], mv->copy[i], &mv->str[i]) != 0)
			return -1;
	for (int i = 0; i < YAHOO_NPERIODS; i++)
		for (int k = 0; k < P_NNUM; k++)
			mv->period[i][k] = NAN;
	rc = jscan_members(&v[M_NNUM + M_NSTR], period_names, YAHOO_NPERIODS, per);
	if (rc > 0)
		return -1;
	for (int i = 0; rc == 0 && i < YAHOO_NPERIODS; i++)
	{
		int			prc = jscan_members(&per[i], period_keys, P_NNUM, pv);

		if (prc > 0)
			return -1;
		mv->period_object[i] = prc == 0;
		for (int k = 0; prc == 0 && k < P_NNUM; k++)
			mv->period[i][k] = span_num(&pv[k]);
	}
	return 0;
}

/*
 * fill_from_day()'s open, read straight from the scanned text: the open of
 * the first bar of local day DAY that has one at HINT decimals.  The
 * numbers are the same text cJSON would give to strtod(), rounded alike,
 * so the values are identical.
 */
static double
first_open_of_day(const struct jscan_result *spans, int64_t day, int64_t off, int hint)
{
	const char *tp = spans->timestamp.b;
	const char *op = spans->open.b;
	struct jscan_span te;
	struct jscan_span oe;

	if (tp == NULL || *tp != '[' || op == NULL || *op != '[')
		return NAN;
	while (jscan_next_element(&tp, spans->timestamp.e, &te) &&
		   jscan_next_element(&op, spans->open.e, &oe))
	{
		int64_t		s;
		double		o;

		if (!is_number_start(*te.b) || epoch_seconds(strtod(te.b, NULL), &s) != 0 ||
			local_day(s, off) != day)
			continue;
		o = is_number_start(*oe.b) ? opt_price(strtod(oe.b, NULL), hint) : NAN;
		if (!isnan(o))
			return o;
	}
	return NAN;
}

/*
 * The fast path for the common case: a well-formed response whose meta has
 * price, time, volume, high and low.  It checks the syntax of the whole
 * body (jscan), reads meta's values from the text without building a tree
 * (meta_from_text), and reads timestamps and opens just far enough to find
 * the first open of the quote's day -- the same answer as the reference
 * decoder, with no allocation and without converting the bars' numbers.
 * Returns 0, or -1 to let the reference decoder handle the response; it
 * must never accept a response the reference decoder refuses or decodes
 * differently (the fuzz harness, producer/fuzz/, checks exactly that).
 */
int
yahoo_decode_live_fast(const char *body, size_t len, const char *symbol, sp_quote *q,
					   struct yahoo_periods *periods)
{
	struct jscan_result spans;
	struct meta_values mv;
	int64_t		s = 0;
	int64_t		off = 0;
	int			hint;

	if (jscan_chart(body, len, &spans) != 0 || spans.uncertain || spans.meta.b == NULL ||
		(spans.error.b && strncmp(spans.error.b, "null", 4) != 0) ||
		meta_from_text(&mv, &spans.meta) != 0)
		return -1;
	hint = meta_price_hint(&mv);
	if (!meta_is_complete(&mv, hint, &s, &off))
		return -1;
	quote_from_meta(q, &mv, symbol, s, hint);
	q->price = opt_price(mv.num[M_PRICE], hint);
	if (periods)
		meta_periods(&mv, periods);
	if (!(q->present & SP_HAS_OPEN))
		message_set_amount(&q->open, &q->present, SP_HAS_OPEN,
						   first_open_of_day(&spans, local_day(s, off), off, hint));
	return 0;
}

enum yahoo_status
yahoo_decode_live(const char *body, size_t len, const char *symbol,
				  sp_quote *q, struct yahoo_periods *periods, char *err, size_t errlen)
{
	if (yahoo_decode_live_fast(body, len, symbol, q, periods) == 0)
		return YAHOO_OK;
	return yahoo_decode_live_full(body, len, symbol, q, periods, err, errlen);
}

/* A bar worth emitting: its element index and its time on the exchange's clock. */
struct bar_ref
{
	int64_t		local;
	int			i;
};

/* By time, then by position: a total order, so qsort() is deterministic. */
static int
bar_ref_cmp(const void *a, const void *b)
{
	const struct bar_ref *x = a;
	const struct bar_ref *y = b;

	if (x->local != y->local)
		return x->local < y->local ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

/*
 * The bars that have a close and a time into REFS.  A bar without a close
 * or time (null: a day without trading) is skipped quietly; one whose time
 * is out of range -- in UTC or on the exchange's clock -- is refused and
 * counted in *BAD, the first one described in NOTE.
 */
static size_t
usable_bars(const struct chart *c, struct bar_ref *refs, size_t *bad, char *note, size_t notelen)
{
	size_t		n = 0;

	*bad = 0;
	for (int i = 0; i < c->count; i++)
	{
		int64_t		s;

		if (!price_ok(c->close[i]) || isnan(c->ts[i]))
			continue;
		if (epoch_seconds(c->ts[i], &s) != 0 ||
			!(s + c->gmtoffset >= TIME_MIN && s + c->gmtoffset <= TIME_MAX))
		{
			if ((*bad)++ == 0)
				snprintf(note, notelen, "timestamp[%d] %g is outside " TIME_RANGE_TEXT,
						 i, c->ts[i]);
			continue;
		}
		refs[n].local = s + c->gmtoffset;
		refs[n].i = i;
		n++;
	}
	return n;
}

static void
fill_bar(sp_bar *b, const struct chart *c, int i, const char *symbol, int32_t date)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->symbol, sizeof(b->symbol), "%s", symbol);
	b->date = date;
	b->close = c->close[i];		/* the vectors' prices are at the tick already */
	message_set_amount(&b->open, &b->present, SP_HAS_OPEN, c->open[i]);
	message_set_amount(&b->high, &b->present, SP_HAS_HIGH, c->high[i]);
	message_set_amount(&b->low, &b->present, SP_HAS_LOW, c->low[i]);
	message_set_amount(&b->adj_close, &b->present, SP_HAS_ADJ_CLOSE, c->adjclose[i]);
	message_set_volume(&b->volume, &b->present, opt_volume(c->volume[i]));
}

/*
 * One bar per local date from the sorted REFS into OUT; returns how many.
 * When several bars fall on one date (Yahoo appends today's live bar), the
 * latest wins, and of equal times the later element: deterministic
 * whatever the order of the input.  The times are in range (1900..9999 on
 * the exchange's clock), and so are the dates.
 */
static size_t
emit_bars(const struct chart *c, const struct bar_ref *refs, size_t nrefs, const char *symbol,
		  sp_bar *out)
{
	size_t		n = 0;

	for (size_t k = 0; k < nrefs; k++)
	{
		int32_t		date = (int32_t) local_day(refs[k].local, 0);

		if (n == 0 || out[n - 1].date != date)
			n++;
		fill_bar(&out[n - 1], c, refs[k].i, symbol, date);
	}
	return n;
}

/*
 * Daily bars in a malloc'd array the caller frees, sorted by date (Yahoo
 * sends them in order, but nothing downstream should depend on that), one
 * per date.  Bars without a close are skipped.  Zero bars is a valid answer
 * (a range without trading).  On YAHOO_OK, ERR is "" or a note saying
 * which bars were refused (times out of range).
 */
enum yahoo_status
yahoo_decode_bars(const char *body, size_t len, const char *symbol,
				  sp_bar **bars, size_t *nbars, char *err, size_t errlen)
{
	struct chart c;
	enum yahoo_status st;
	struct bar_ref *refs;
	size_t		nrefs;
	size_t		bad;
	char		note[160] = "";

	*bars = NULL;
	*nbars = 0;
	st = chart_open(body, len, &c, err, errlen);
	if (st != YAHOO_OK)
		return st;
	refs = malloc(sizeof(*refs) * (size_t) (c.count > 0 ? c.count : 1));
	*bars = calloc(c.count > 0 ? (size_t) c.count : 1, sizeof(**bars));
	if (refs == NULL || *bars == NULL)
	{
		snprintf(err, errlen, "out of memory");
		free(refs);
		free(*bars);
		*bars = NULL;
		chart_close(&c);
		return YAHOO_NO_DATA;
	}
	nrefs = usable_bars(&c, refs, &bad, note, sizeof(note));
	qsort(refs, nrefs, sizeof(*refs), bar_ref_cmp);
	*nbars = emit_bars(&c, refs, nrefs, symbol, *bars);
	if (bad > 0)
		snprintf(err, errlen, "%zu bar(s) refused: %s", bad, note);
	else if (errlen > 0)
		err[0] = '\0';
	free(refs);
	chart_close(&c);
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
	char		enc[3 * SP_SYMBOL_MAX + 1];
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
