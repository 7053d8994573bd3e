/*
 * yahoo_fuzz.c -- libFuzzer harness for the Yahoo chart decoders
 * (producer/src/yahoo.c).  Built and run by fuzz/run.sh.
 *
 * Every input goes to both live-quote decoders -- yahoo_decode_live(),
 * whose fast path (jscan, meta read from the text without a tree) must
 * either decline or give exactly the answer of yahoo_decode_live_full(),
 * the cJSON reference, trading periods included; the fast path alone
 * (yahoo_decode_live_fast) is checked the same way -- and to the
 * daily-bar decoder.  Besides agreement it checks what the messages built from the
 * results rely on: prices finite and > 0, volumes >= 0 when present, times
 * in range, dates in years 1900..9999, bars sorted by date and one per
 * date, every price at the tick -- at most meta.priceHint decimals
 * (read here independently: an integer 0..8, else 2), so that
 * round(v * 10^h) / 10^h == v --, and every result encodable as a
 * message.  A failed check aborts, which libFuzzer reports as a crash
 * with the input saved.
 *
 * The input is copied into a buffer of exactly its size, without a NUL
 * after it, so that AddressSanitizer catches any read past the body.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "contract.h"
#include "yahoo.h"

static char msg_err[SP_ERR_MAX];

#define SYMBOL "FUZZ"
#define TIME_MIN (-2208988800LL)	/* 1900-01-01T00:00:00Z, as in yahoo.c */
#define TIME_MAX 253402300799LL		/* 9999-12-31T23:59:59Z */
#define DATE_MIN (-25567)				/* 1900-01-01, in days since 1970-01-01 */
#define DATE_MAX 2932896				/* 9999-12-31 */
#define VOLUME_MAX 9007199254740992LL	/* 2^53 */

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decimals a price may have: meta.priceHint of the body, set per input. */
static int	hint;

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

/* A price if present (BIT set in PRESENT), and 0 if absent (never set). */
static int
price_if_present(double v, unsigned present, unsigned bit)
{
	return (present & bit) ? isfinite(v) && v > 0 : v == 0 && !signbit(v);
}

/* How many decimals the shortest text that reads back as V has (what the encoder writes). */
static int
decimals(double v)
{
	char		buf[64];
	const char *dot;
	const char *ex;
	int			n;

	for (int p = 15; p <= 17; p++)
	{
		snprintf(buf, sizeof(buf), "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	dot = strchr(buf, '.');
	ex = strchr(buf, 'e');
	n = dot ? (int) ((ex ? ex : buf + strlen(buf)) - dot - 1) : 0;
	return ex ? n - atoi(ex + 1) : n;
}

/* V is at the tick: at most HINT decimals, and round(v * 10^h) / 10^h == v where exact. */
static int
at_tick(double v)
{
	double		scale = pow(10, hint);

	if (decimals(v) > hint)
		return 0;
	return !(v * scale < 4503599627370496.0) || (double) llround(v * scale) / scale == v;
}

/* An absent price (0) passes; a present one must be at the tick. */
static int
tick_if_present(double v, unsigned present, unsigned bit)
{
	return !(present & bit) || at_tick(v);
}

/* meta.priceHint of BODY as the decoders must read it: an integer 0..8, else 2. */
static int
body_hint(const char *body, size_t len)
{
	cJSON	   *root = cJSON_ParseWithLength(body, len);
	const cJSON *chart = cJSON_GetObjectItemCaseSensitive(root, "chart");
	const cJSON *r0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(chart, "result"), 0);
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r0, "meta"),
													  "priceHint");
	int			out = 2;

	if (cJSON_IsNumber(h) && h->valuedouble >= 0 && h->valuedouble <= 8 &&
		h->valuedouble == (double) (int) h->valuedouble)
		out = (int) h->valuedouble;
	cJSON_Delete(root);
	return out;
}

static int
volume_if_present(int64_t v, unsigned present)
{
	return (present & SP_HAS_VOLUME) ? v >= 0 && v <= VOLUME_MAX : v == 0;
}

static int
terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void
check_same_quote(const sp_quote *a, const sp_quote *b)
{
	require(strcmp(a->symbol, b->symbol) == 0, "quote symbol: fast = reference");
	require(a->ts_us == b->ts_us, "quote ts_us: fast = reference");
	require(same_double(a->price, b->price), "quote price: fast = reference");
	require(a->present == b->present, "quote fields present: fast = reference");
	require(a->volume == b->volume, "quote volume: fast = reference");
	require(same_double(a->open, b->open), "quote open: fast = reference");
	require(same_double(a->high, b->high), "quote high: fast = reference");
	require(same_double(a->low, b->low), "quote low: fast = reference");
	require(same_double(a->prev_close, b->prev_close), "quote prev_close: fast = reference");
	require(strcmp(a->currency, b->currency) == 0, "quote currency: fast = reference");
	require(strcmp(a->source, b->source) == 0, "quote source: fast = reference");
}

static void
check_quote_invariants(const sp_quote *q)
{
	char		msg[SP_MESSAGE_MAX];

	require(terminated(q->symbol, sizeof(q->symbol)) && strcmp(q->symbol, SYMBOL) == 0,
			"quote symbol is the one asked for");
	require(terminated(q->currency, sizeof(q->currency)), "quote currency terminated");
	require(terminated(q->source, sizeof(q->source)) && strcmp(q->source, "yahoo") == 0 &&
			(q->present & SP_HAS_SOURCE), "quote source yahoo");
	require(q->ts_us % 1000000 == 0 && q->ts_us / 1000000 >= TIME_MIN &&
			q->ts_us / 1000000 <= TIME_MAX, "quote time whole seconds in 1900..9999");
	require(isfinite(q->price) && q->price > 0, "quote price finite and > 0");
	require(volume_if_present(q->volume, q->present), "quote volume >= 0 or absent");
	require(price_if_present(q->open, q->present, SP_HAS_OPEN) &&
			price_if_present(q->high, q->present, SP_HAS_HIGH) &&
			price_if_present(q->low, q->present, SP_HAS_LOW) &&
			price_if_present(q->prev_close, q->present, SP_HAS_PREV_CLOSE),
			"quote open/high/low/prev_close finite and > 0 or absent");
	require(at_tick(q->price) && tick_if_present(q->open, q->present, SP_HAS_OPEN) &&
			tick_if_present(q->high, q->present, SP_HAS_HIGH) &&
			tick_if_present(q->low, q->present, SP_HAS_LOW) &&
			tick_if_present(q->prev_close, q->present, SP_HAS_PREV_CLOSE),
			"quote prices have at most priceHint decimals");
	require(sp_encode_quote(q, msg, sizeof(msg), msg_err) > 0, "quote encodes as a message");
}

/* A name for logs: terminated, printable ASCII or empty. */
static int
log_name_ok(const char *s, size_t size)
{
	if (!terminated(s, size))
		return 0;
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return 0;
	return 1;
}

/* Periods as yahoo.h promises: sane when known, zero when not. */
static void
check_periods(const struct yahoo_periods *p)
{
	require((p->known & ~7u) == 0, "periods: known bits pre, regular, post only");
	for (int i = 0; i < YAHOO_NPERIODS; i++)
	{
		if (p->known & (1u << i))
			require(p->start[i] >= TIME_MIN && p->end[i] <= TIME_MAX && p->start[i] < p->end[i] &&
					p->end[i] - p->start[i] <= 86400, "periods: a known period is 1 s..24 h in range");
		else
			require(p->start[i] == 0 && p->end[i] == 0, "periods: an unknown period is zero");
	}
	require(p->gmtoffset >= -64800 && p->gmtoffset <= 64800, "periods: offset within 18 h");
	require(log_name_ok(p->timezone, sizeof(p->timezone)) &&
			log_name_ok(p->exchange, sizeof(p->exchange)), "periods: names printable, terminated");
}

static void
check_quote(const char *body, size_t len)
{
	sp_quote	a;
	sp_quote	b;
	struct yahoo_periods pa;
	struct yahoo_periods pb;
	char		ea[300];
	char		eb[300];
	enum yahoo_status sa;
	enum yahoo_status sb;

	memset(&pa, 0, sizeof(pa));
	memset(&pb, 0, sizeof(pb));
	sb = yahoo_decode_live_full(body, len, SYMBOL, &b, &pb, eb, sizeof(eb));
	if (yahoo_decode_live_fast(body, len, SYMBOL, &a, &pa) == 0)
	{
		require(sb == YAHOO_OK, "fast path alone accepts only what the reference accepts");
		check_same_quote(&a, &b);
		require(memcmp(&pa, &pb, sizeof(pa)) == 0, "periods: fast path alone = reference");
	}
	memset(&pa, 0, sizeof(pa));
	sa = yahoo_decode_live(body, len, SYMBOL, &a, &pa, ea, sizeof(ea));
	require(sa == sb, "quote accept/reject: fast = reference");
	if (sa != YAHOO_OK)
	{
		require(strcmp(ea, eb) == 0, "quote error text: fast = reference");
		return;
	}
	check_same_quote(&a, &b);
	check_quote_invariants(&a);
	require(memcmp(&pa, &pb, sizeof(pa)) == 0, "periods: fast = reference");
	check_periods(&pa);
}

static void
check_bar(const sp_bar *b)
{
	char		msg[SP_MESSAGE_MAX];

	require(terminated(b->symbol, sizeof(b->symbol)) && strcmp(b->symbol, SYMBOL) == 0,
			"bar symbol is the one asked for");
	require(b->date >= DATE_MIN && b->date <= DATE_MAX, "bar date in 1900..9999");
	require(isfinite(b->close) && b->close > 0, "bar close finite and > 0");
	require(price_if_present(b->open, b->present, SP_HAS_OPEN) &&
			price_if_present(b->high, b->present, SP_HAS_HIGH) &&
			price_if_present(b->low, b->present, SP_HAS_LOW) &&
			price_if_present(b->adj_close, b->present, SP_HAS_ADJ_CLOSE),
			"bar open/high/low/adj_close finite and > 0 or absent");
	require(at_tick(b->close) && tick_if_present(b->open, b->present, SP_HAS_OPEN) &&
			tick_if_present(b->high, b->present, SP_HAS_HIGH) &&
			tick_if_present(b->low, b->present, SP_HAS_LOW) &&
			tick_if_present(b->adj_close, b->present, SP_HAS_ADJ_CLOSE),
			"bar prices have at most priceHint decimals");
	require(volume_if_present(b->volume, b->present), "bar volume >= 0 or absent");
	require(sp_encode_bar(b, msg, sizeof(msg), msg_err) > 0, "bar encodes as a message");
}

static void
check_bars(const char *body, size_t len)
{
	sp_bar	   *bars = NULL;
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
		require(i == 0 || bars[i - 1].date < bars[i].date,
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
	hint = body_hint(body, size);
	check_quote(body, size);
	check_bars(body, size);
	free(body);
	return 0;
}
