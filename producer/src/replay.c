/*
 * replay.c -- decodes recordings for --source replay:FILE[,FILE...] and
 * moves their dates (--replay-shift).
 *
 * JSON Lines are decoded by the contract's decoders, the consumers' own (a
 * line they would refuse is skipped and counted, never published), and
 * re-encoded, so what reaches Kafka is always in the canonical format.  A
 * saved Yahoo 1-minute chart becomes one quote per non-null minute: price =
 * the minute's close, and the day's open/high/low/volume accumulated up to
 * that minute, as a live poller would have seen them.  A saved daily chart
 * becomes daily bars, decoded by the live poller's own decoder (yahoo.c).
 *
 * The shift keeps every recorded value and moves only dates: a recorded
 * session is replayed as the current (or latest) session, at the same
 * wall-clock times of the market, and the daily bars move by whole trading
 * days so that the last one falls on the trading day before that session.
 * See "Replaying recorded data" in docs/producer.md.  Pure code: the
 * current time is a parameter, local time is the market's zone (TZ).
 */
#include "replay.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "civil.h"
#include "market.h"
#include "message.h"
#include "yahoo.h"

#define US_PER_DAY (86400LL * 1000000)
#define NO_DAY INT32_MIN

/*
 * Longest gap, in calendar days, between a symbol's last daily bar and its
 * session for the bar's close to be taken as the session's previous close.
 * The longest real closures (a weekend plus two holidays, the four days
 * after 11 September 2001) stay under it; bars years older than the session
 * do not.
 */
#define REPLAY_GAP_MAX_DAYS 7

void
replay_init(struct replay *r)
{
	memset(r, 0, sizeof(*r));
}

static int
push(struct replay *r, const struct replay_event *ev)
{
	if (r->count == r->cap)
	{
		size_t		ncap = r->cap ? r->cap * 2 : 256;
		struct replay_event *grown = realloc(r->events, ncap * sizeof(*grown));

		if (grown == NULL)
			return -1;
		r->events = grown;
		r->cap = ncap;
	}
	r->events[r->count++] = *ev;
	return 0;
}

static int
push_prior(struct replay *r, const struct replay_prior *p)
{
	struct replay_prior *grown = realloc(r->priors, (r->npriors + 1) * sizeof(*grown));

	if (grown == NULL)
		return -1;
	r->priors = grown;
	r->priors[r->npriors++] = *p;
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
	memset(ev, 0, sizeof(*ev));
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
		ev->recorded_us = q->ts_us;
		return true;
	}
	if (bar)
	{
		ev->topic = PUBLISHER_DAILY;
		if (!sp_decode_bar(line, len, &ev->bar, why))
			return false;
		ev->recorded_date = ev->bar.date;
		return true;
	}
	snprintf(why, SP_ERR_MAX, "neither a quote (\"ts\") nor a bar (\"date\")");
	return false;
}

static int
load_lines(struct replay *r, const char *text, size_t len, char *err, size_t errlen)
{
	size_t		lineno = 0;
	size_t		bad = 0;
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
			/* each recording names its own first bad line */
			if (bad++ == 0)
				snprintf(r->first_error, sizeof(r->first_error), "line %zu: %s", lineno, why);
			r->bad_lines++;
			continue;
		}
		if (push(r, &ev) != 0)
		{
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

/*
 * The bars of a saved daily chart, by the live poller's own decoder, so
 * that a replayed bar is the bar the poller would have published (its date
 * the exchange's trading day, adj_close from indicators.adjclose).
 */
static int
load_daily_chart(struct replay *r, const char *text, size_t len, const char *symbol,
				 char *err, size_t errlen)
{
	sp_bar	   *bars;
	size_t		n;
	char		why[256];

	if (yahoo_decode_bars(text, len, symbol, &bars, &n, why, sizeof(why)) != YAHOO_OK)
	{
		snprintf(err, errlen, "daily chart: %s", why);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
	{
		struct replay_event ev;

		memset(&ev, 0, sizeof(ev));
		ev.topic = PUBLISHER_DAILY;
		ev.bar = bars[i];
		ev.recorded_date = bars[i].date;
		if (push(r, &ev) != 0)
		{
			free(bars);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	free(bars);
	return 0;
}

/*
 * One quote per non-null minute bar of a saved chart response.  The first
 * day's previous close is meta.chartPreviousClose, the close before the
 * chart's first bar; meta.previousClose is the close before
 * regularMarketTime's day, which in a saved multi-day response (the
 * recorded 2024-10-02 session ends with a bar of 2024-10-03) is the first
 * day's own close.  It also becomes the recording's prior (see replay.h).
 */
static int
load_chart(struct replay *r, const cJSON *root, const char *text, size_t len,
		   char *err, size_t errlen)
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
	const char *granularity = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "dataGranularity"));
	double		prev_close;
	double		first_prev_close;
	double		last_close = NAN;
	double		off = opt_num(meta, "gmtoffset");
	/* the exchange's tick, as the live poller rounds (yahoo.h) */
	int			hint = yahoo_price_hint(opt_num(meta, "priceHint"));
	long		day = LONG_MIN;
	long		first_day = LONG_MIN;
	double		open = NAN, high = NAN, low = NAN;
	int64_t		volume = 0;
	int			n = cJSON_IsArray(ts) ? cJSON_GetArraySize(ts) : 0;

	if (!sp_valid_symbol(symbol))
	{
		snprintf(err, errlen, "chart response without a valid meta.symbol");
		return -1;
	}
	r->from_chart = 1;
	if (granularity && strcmp(granularity, "1d") == 0)
		return load_daily_chart(r, text, len, symbol, err, errlen);
	/* minutes or hours are quotes; weeks or months are neither quotes nor days */
	if (granularity && granularity[0] != '\0' &&
		granularity[strlen(granularity) - 1] != 'm' && granularity[strlen(granularity) - 1] != 'h')
	{
		snprintf(err, errlen, "a chart of %s bars is neither intraday nor daily", granularity);
		return -1;
	}
	if (!isfinite(off))
		off = 0;
	prev_close = opt_num(meta, "chartPreviousClose");
	if (!(prev_close > 0 && isfinite(prev_close)))
		prev_close = opt_num(meta, "previousClose");
	prev_close = yahoo_round_price(prev_close, hint);
	first_prev_close = prev_close;
	cur = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "currency"));
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
			if (day == LONG_MIN)
				first_day = d;
			day = d;
			open = high = low = NAN;
			volume = 0;
		}
		if (isnan(open) && cJSON_IsNumber(o))
			open = yahoo_round_price(o->valuedouble, hint);
		if (cJSON_IsNumber(h) && (isnan(high) || yahoo_round_price(h->valuedouble, hint) > high))
			high = yahoo_round_price(h->valuedouble, hint);
		if (cJSON_IsNumber(l) && (isnan(low) || yahoo_round_price(l->valuedouble, hint) < low))
			low = yahoo_round_price(l->valuedouble, hint);
		if (cJSON_IsNumber(v) && v->valuedouble > 0)
			volume += (int64_t) llround(v->valuedouble);
		last_close = yahoo_round_price(c->valuedouble, hint);

		memset(&ev, 0, sizeof(ev));
		ev.topic = PUBLISHER_LIVE;
		strcpy(ev.quote.symbol, symbol);
		ev.quote.ts_us = (int64_t) llround(t->valuedouble) * 1000000;
		ev.recorded_us = ev.quote.ts_us;
		ev.quote.price = last_close;
		message_set_volume(&ev.quote.volume, &ev.quote.present, volume);
		message_set_amount(&ev.quote.open, &ev.quote.present, SP_HAS_OPEN, open);
		message_set_amount(&ev.quote.high, &ev.quote.present, SP_HAS_HIGH, high);
		message_set_amount(&ev.quote.low, &ev.quote.present, SP_HAS_LOW, low);
		message_set_amount(&ev.quote.prev_close, &ev.quote.present, SP_HAS_PREV_CLOSE, prev_close);
		message_set_currency(&ev.quote, cur);
		message_set_source(&ev.quote, "replay");
		if (push(r, &ev) != 0)
		{
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	if (first_day != LONG_MIN && first_prev_close > 0 && isfinite(first_prev_close) &&
		first_day > INT32_MIN && first_day < INT32_MAX)
	{
		struct replay_prior p;

		memset(&p, 0, sizeof(p));
		strcpy(p.symbol, symbol);
		p.day = (int32_t) first_day;
		p.close = first_prev_close;
		if (push_prior(r, &p) != 0)
		{
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

/*
 * Adds the recording TEXT to R.  A text whose first JSON value has a
 * "chart" key is a chart response; anything else is read as JSON Lines.
 * Returns 0 (it may have added zero events and some bad lines), or -1 with
 * ERR.
 */
int
replay_add(struct replay *r, const char *text, size_t len, char *err, size_t errlen)
{
	cJSON	   *first;
	int			rc;

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
			rc = load_chart(r, first, text, len, err, errlen);
		cJSON_Delete(first);
		return rc;
	}
	cJSON_Delete(first);
	return load_lines(r, text, len, err, errlen);
}

/* A new R holding the recording TEXT: replay_init() and replay_add(). */
int
replay_load(struct replay *r, const char *text, size_t len, char *err, size_t errlen)
{
	replay_init(r);
	return replay_add(r, text, len, err, errlen);
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
	free(r->priors);
	r->events = NULL;
	r->priors = NULL;
	r->count = r->cap = r->npriors = 0;
}

/* ------------------------------------------------------------ calendar */

static time_t
seconds_of(int64_t us)
{
	int64_t		s = us / 1000000;

	return (time_t) (us % 1000000 < 0 ? s - 1 : s);
}

static int
is_trading_day(int32_t day)
{
	int			y, m, d;

	sp_civil_from_days(day, &y, &m, &d);
	return market_is_trading_day(y, m, d);
}

/* The market's local date of the instant US. */
int32_t
replay_local_day(int64_t us)
{
	time_t		t = seconds_of(us);
	struct tm	tm;

	localtime_r(&t, &tm);
	return (int32_t) sp_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/*
 * The trading day before DAY (market.c's calendar: weekends and the NYSE
 * holidays it knows).  Real closures last days, not months: past 60 days
 * something is wrong with the calendar, and the day before is as good.
 */
int32_t
replay_prev_trading_day(int32_t day)
{
	for (int32_t d = day - 1; d > day - 60; d--)
		if (is_trading_day(d))
			return d;
	return day - 1;
}

/*
 * The session a recorded session is replayed as, at NOW_US: today's when
 * today is a trading day and its session has begun (local time of day at
 * or after OPEN_MIN, minutes after midnight), even once it has closed;
 * otherwise the latest one before today.  So at night, on a weekend or
 * before the open, the latest session is replayed, and never a session
 * that is still to come.
 */
int32_t
replay_session_day(int64_t now_us, int open_min)
{
	time_t		t = seconds_of(now_us);
	struct tm	tm;
	int32_t		today;

	localtime_r(&t, &tm);
	today = (int32_t) sp_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	if (is_trading_day(today) && tm.tm_hour * 60 + tm.tm_min >= open_min)
		return today;
	return replay_prev_trading_day(today);
}

/*
 * The instant US moved onto day ONTO at the same local wall-clock time:
 * 09:30 stays 09:30 at the market, whether the recorded day and ONTO have
 * the same UTC offset (DST) or not.
 */
int64_t
replay_map_time(int64_t us, int32_t onto)
{
	time_t		t = seconds_of(us);
	int64_t		frac = us - (int64_t) t * 1000000;
	struct tm	tm;
	int			y, m, d;

	localtime_r(&t, &tm);
	sp_civil_from_days(onto, &y, &m, &d);
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_isdst = -1;			/* the zone's rules for that day */
	return (int64_t) mktime(&tm) * 1000000 + frac;
}

/* ------------------------------------------------------------ the shift */

static void
note(struct replay *r, const char *fmt,...) __attribute__((format(printf, 2, 3)));

/* One line for the log; past REPLAY_NOTES_MAX, the last one says so. */
static void
note(struct replay *r, const char *fmt,...)
{
	va_list		ap;

	if (r->nnotes == REPLAY_NOTES_MAX)
	{
		snprintf(r->notes[REPLAY_NOTES_MAX - 1], REPLAY_NOTE_MAX, "(more notes left out)");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(r->notes[r->nnotes++], REPLAY_NOTE_MAX, fmt, ap);
	va_end(ap);
}

/* YYYY-MM-DD, always 10 characters plus NUL (a sign of trouble otherwise). */
static const char *
ymd(int32_t day, char buf[16])
{
	if (message_format_date(day, buf, 16) != 10)
		snprintf(buf, 16, "day %ld", (long) day);
	return buf;
}

/* "2024-10-02" or "2021-02-01..2022-01-28". */
static const char *
span(int32_t from, int32_t to, char buf[40])
{
	char		a[16];
	char		b[16];

	if (from == to)
		snprintf(buf, 40, "%s", ymd(from, a));
	else
		snprintf(buf, 40, "%s..%s", ymd(from, a), ymd(to, b));
	return buf;
}

/* HH:MM of the instant US, market time. */
static const char *
hhmm(int64_t us, char buf[16])
{
	time_t		t = seconds_of(us);
	struct tm	tm;

	localtime_r(&t, &tm);
	snprintf(buf, 16, "%02d:%02d", tm.tm_hour, tm.tm_min);
	return buf;
}

static const char *
symbol_of(const struct replay_event *ev)
{
	return ev->topic == PUBLISHER_LIVE ? ev->quote.symbol : ev->bar.symbol;
}

/* The recorded and the replayed range of dates, for the summary line. */
struct ranges
{
	int32_t		from, to, new_from, new_to;
};

static void
widen(struct ranges *g, int32_t recorded, int32_t replayed)
{
	if (g->from == NO_DAY || recorded < g->from)
		g->from = recorded;
	if (g->to == NO_DAY || recorded > g->to)
		g->to = recorded;
	if (g->new_from == NO_DAY || replayed < g->new_from)
		g->new_from = replayed;
	if (g->new_to == NO_DAY || replayed > g->new_to)
		g->new_to = replayed;
}

static void
summarise(struct replay *r, const struct ranges *g, const char *how)
{
	char		a[40];
	char		b[40];

	if (g->from == NO_DAY)
		snprintf(r->summary, sizeof(r->summary), "replay of recorded data: nothing to replay");
	else
		snprintf(r->summary, sizeof(r->summary),
				 "replay of recorded data from %s, shifted to %s (%s)",
				 span(g->from, g->to, a), span(g->new_from, g->new_to, b), how);
}

/* --replay-shift DURATION: every time later by BY_US, bars by its whole days. */
static void
shift_by(struct replay *r, int64_t by_us)
{
	struct ranges g = {NO_DAY, NO_DAY, NO_DAY, NO_DAY};
	int32_t		days = (int32_t) (by_us / US_PER_DAY);
	char		how[64];

	for (size_t i = 0; i < r->count; i++)
	{
		struct replay_event *ev = &r->events[i];

		if (ev->topic == PUBLISHER_LIVE)
		{
			ev->quote.ts_us += by_us;
			/* no longer what Yahoo said at that time */
			message_set_source(&ev->quote, "replay");
			widen(&g, replay_local_day(ev->recorded_us), replay_local_day(ev->quote.ts_us));
		}
		else
		{
			ev->bar.date += days;
			widen(&g, ev->recorded_date, ev->bar.date);
		}
	}
	snprintf(how, sizeof(how), "every time %.6g h later, bars %ld days", (double) by_us / 3.6e9,
			 (long) days);
	summarise(r, &g, how);
}

/* An event and where it came from, sorted by symbol, kind, day, time. */
struct ref
{
	const struct replay_event *ev;
	int32_t		day;			/* a quote's local day, a bar's date */
	size_t		i;				/* its place in the recording */
};

static int
ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a;
	const struct ref *y = b;
	int			c = strcmp(symbol_of(x->ev), symbol_of(y->ev));

	if (c != 0)
		return c;
	if (x->ev->topic != y->ev->topic)
		return x->ev->topic == PUBLISHER_LIVE ? -1 : 1;
	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	if (x->ev->topic == PUBLISHER_LIVE && x->ev->quote.ts_us != y->ev->quote.ts_us)
		return x->ev->quote.ts_us < y->ev->quote.ts_us ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

/* One symbol's events in the sorted refs: quotes first, then bars. */
struct group
{
	size_t		first;			/* refs[first, end) */
	size_t		bars;			/* refs[bars, end) are its bars */
	size_t		end;
	int32_t		session;		/* recorded session day, NO_DAY if no quotes */
	size_t		session_first;	/* refs[session_first, session_end) */
	size_t		session_end;
};

/* A quote or a session's own bar, in the order of their replayed times. */
struct timed
{
	int64_t		ts_us;
	size_t		seq;			/* the recording's order; a session bar comes last */
	struct replay_event ev;
};

static int
timed_cmp(const void *a, const void *b)
{
	const struct timed *x = a;
	const struct timed *y = b;

	if (x->ts_us != y->ts_us)
		return x->ts_us < y->ts_us ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/*
 * The session of the quotes refs[first, end) (one symbol's, sorted by day):
 * the local day with the most quotes, the later of equals.  A saved chart
 * can end with a bar of the next day (Yahoo appends the current price):
 * that bar is not the session.
 */
static void
find_session(const struct ref *refs, struct group *g)
{
	size_t		best = 0;

	g->session = NO_DAY;
	for (size_t k = g->first; k < g->bars;)
	{
		size_t		e = k;

		while (e < g->bars && refs[e].day == refs[k].day)
			e++;
		if (e - k >= best)
		{
			best = e - k;
			g->session = refs[k].day;
			g->session_first = k;
			g->session_end = e;
		}
		k = e;
	}
}

static const struct replay_prior *
find_prior(const struct replay *r, const char *symbol, int32_t day)
{
	for (size_t i = r->npriors; i-- > 0;)
		if (r->priors[i].day == day && strcmp(r->priors[i].symbol, symbol) == 0)
			return &r->priors[i];
	return NULL;
}

/* Growable arrays of the shift's output. */
struct out
{
	struct replay_event *bars;
	size_t		nbars;
	struct timed *timed;
	size_t		ntimed;
};

/* Room for them was reserved up front (see shift_onto()). */
static void
out_bar(struct out *o, const struct replay_event *ev)
{
	o->bars[o->nbars++] = *ev;
}

static void
out_timed(struct out *o, int64_t ts_us, size_t seq, const struct replay_event *ev)
{
	struct timed *t = &o->timed[o->ntimed++];

	t->ts_us = ts_us;
	t->seq = seq;
	t->ev = *ev;
}

/*
 * One symbol's events (group G) onto session day T, its bars ending on P,
 * the trading day before T.  See shift_onto().
 */
static void
shift_symbol(struct replay *r, const struct ref *refs, const struct group *g, int32_t t,
			 int32_t p, struct out *o, struct ranges *rg)
{
	const char *sym = symbol_of(refs[g->first].ev);
	size_t		before_first = g->bars;	/* bars dated before the session */
	size_t		before_end = g->bars;
	const struct replay_event *own_bar = NULL;	/* the recorded bar of the session's day */
	size_t		after = 0;
	double		prev_close = NAN;
	char		a[40];
	char		b[40];
	char		c[16];
	char		d[16];

	/* its bars, one per date (of two with one date, the later in the recording) */
	for (size_t k = g->bars; k < g->end; k++)
	{
		const struct ref *x = &refs[k];

		if (k + 1 < g->end && refs[k + 1].day == x->day)
			continue;
		if (g->session == NO_DAY || x->day < g->session)
			before_end = k + 1;
		else if (x->day == g->session)
			own_bar = x->ev;
		else
			after++;
	}

	if (g->session != NO_DAY && before_first < before_end &&
		g->session - refs[before_end - 1].day > REPLAY_GAP_MAX_DAYS)
	{
		note(r, "%s: daily bars %s left out: they end %ld days before its session of %s, so "
			 "their last close is not that session's previous close",
			 sym, span(refs[before_first].day, refs[before_end - 1].day, a),
			 (long) (g->session - refs[before_end - 1].day), ymd(g->session, c));
		before_first = before_end;
	}
	if (after > 0)
		note(r, "%s: %zu daily bar(s) after its session of %s left out", sym, after,
			 ymd(g->session, c));

	if (before_first < before_end)
	{
		/* trading day i before the last maps to trading day i before P */
		size_t		nb = 0;
		int32_t		day = p;
		int32_t		first_new = p;
		size_t		start = o->nbars;

		for (size_t k = before_end; k-- > before_first;)
		{
			if (k + 1 < before_end && refs[k + 1].day == refs[k].day)
				continue;
			nb++;
		}
		o->nbars += nb;
		for (size_t k = before_end, w = nb; k-- > before_first;)
		{
			struct replay_event ev;

			if (k + 1 < before_end && refs[k + 1].day == refs[k].day)
				continue;
			ev = *refs[k].ev;
			ev.bar.date = day;
			o->bars[start + --w] = ev;
			widen(rg, refs[k].day, day);
			first_new = day;
			day = replay_prev_trading_day(day);
		}
		prev_close = o->bars[o->nbars - 1].bar.close;
		note(r, "%s: %zu daily bar(s) %s -> %s, trading day for trading day", sym, nb,
			 span(refs[before_first].day, refs[before_end - 1].day, a), span(first_new, p, b));
	}
	else if (g->session != NO_DAY)
	{
		const struct replay_prior *pr = find_prior(r, sym, g->session);

		if (pr != NULL)
		{
			/* the close the recording gives for the day before its session */
			struct replay_event ev;

			memset(&ev, 0, sizeof(ev));
			ev.topic = PUBLISHER_DAILY;
			strcpy(ev.bar.symbol, sym);
			ev.bar.date = p;
			ev.bar.close = pr->close;
			ev.recorded_date = g->session;
			out_bar(o, &ev);
			prev_close = pr->close;
			note(r, "%s: the previous close recorded with its session (%.10g, the close before "
				 "%s) -> a close-only bar of %s", sym, pr->close, ymd(g->session, c), ymd(p, d));
		}
	}

	if (g->session != NO_DAY)
	{
		size_t		nq = g->session_end - g->session_first;
		size_t		others = (g->bars - g->first) - nq;
		const struct replay_event *last = refs[g->session_end - 1].ev;
		int64_t		last_ts = 0;
		char		e[16];
		char		f[16];

		for (size_t k = g->session_first; k < g->session_end; k++)
		{
			struct replay_event ev = *refs[k].ev;

			ev.quote.ts_us = replay_map_time(ev.recorded_us, t);
			if (!isnan(prev_close))
			{
				ev.quote.prev_close = prev_close;
				ev.quote.present |= SP_HAS_PREV_CLOSE;
			}
			message_set_source(&ev.quote, "replay");
			last_ts = ev.quote.ts_us;
			out_timed(o, ev.quote.ts_us, refs[k].i, &ev);
		}
		widen(rg, g->session, t);
		note(r, "%s: session %s %s-%s (%zu quotes) -> %s, same market times%s", sym,
			 ymd(g->session, c), hhmm(refs[g->session_first].ev->recorded_us, e),
			 hhmm(last->recorded_us, f), nq, ymd(t, d),
			 isnan(prev_close) ? "" : ", prev_close = the previous bar's close");
		if (others > 0)
			note(r, "%s: %zu quote(s) of other days than its session left out", sym, others);

		/* the session's own bar, published after its last quote as a poller would */
		{
			struct replay_event ev;

			memset(&ev, 0, sizeof(ev));
			if (own_bar != NULL)
				ev = *own_bar;
			else
			{
				ev.topic = PUBLISHER_DAILY;
				strcpy(ev.bar.symbol, sym);
				ev.bar.close = last->quote.price;
				if (last->quote.present & SP_HAS_OPEN)
					message_set_amount(&ev.bar.open, &ev.bar.present, SP_HAS_OPEN, last->quote.open);
				if (last->quote.present & SP_HAS_HIGH)
					message_set_amount(&ev.bar.high, &ev.bar.present, SP_HAS_HIGH, last->quote.high);
				if (last->quote.present & SP_HAS_LOW)
					message_set_amount(&ev.bar.low, &ev.bar.present, SP_HAS_LOW, last->quote.low);
				if (last->quote.present & SP_HAS_VOLUME)
					message_set_volume(&ev.bar.volume, &ev.bar.present, last->quote.volume);
			}
			ev.bar.date = t;
			ev.recorded_date = g->session;
			out_timed(o, last_ts, SIZE_MAX, &ev);
			note(r, "%s: the session's own bar (%s) -> %s, after its last quote", sym,
				 own_bar ? "recorded" : "from its quotes", ymd(t, d));
		}
	}
}

/*
 * --replay-shift auto or DAY: every symbol's session (the local day with
 * most of its quotes) onto session day T, at the same market times; its
 * daily bars onto the trading days before T, the last one on the trading
 * day before T (trading day i before the last recorded one onto trading day
 * i before that day: weekends and holidays stay closed, whatever the
 * recorded calendar was); its quotes' prev_close the close of that bar.  A
 * symbol whose bars end long before its session (they are from another
 * time) gets, instead of them, the previous close its session recording
 * gives, as a close-only bar.  The session's own bar comes after its last
 * quote.  Bars first, then quotes in the order of their new times.
 */
static int
shift_onto(struct replay *r, const struct replay_shift *how, int64_t now_us, int open_min,
		   char *err, size_t errlen)
{
	struct ref *refs = malloc((r->count ? r->count : 1) * sizeof(*refs));
	struct group *groups = malloc((r->count ? r->count : 1) * sizeof(*groups));
	size_t		ngroups = 0;
	struct out	o = {NULL, 0, NULL, 0};
	struct replay_event *fresh;
	struct ranges rg = {NO_DAY, NO_DAY, NO_DAY, NO_DAY};
	int			session_min = INT_MAX;
	int32_t		t;
	int32_t		p;
	char		a[16];
	char		b[16];
	char		how_text[96];

	/*
	 * Bars out: at most the recorded bars plus one close-only bar per
	 * symbol with a session (which has quotes): fewer than the events.
	 * Timed out: the quotes plus one bar per session.
	 */
	o.bars = malloc((r->count ? r->count : 1) * sizeof(*o.bars));
	o.timed = malloc((2 * r->count + 1) * sizeof(*o.timed));
	if (refs == NULL || groups == NULL || o.bars == NULL || o.timed == NULL)
	{
		free(refs);
		free(groups);
		free(o.bars);
		free(o.timed);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < r->count; i++)
	{
		refs[i].ev = &r->events[i];
		refs[i].i = i;
		refs[i].day = r->events[i].topic == PUBLISHER_LIVE
			? replay_local_day(r->events[i].recorded_us) : r->events[i].recorded_date;
	}
	qsort(refs, r->count, sizeof(*refs), ref_cmp);
	for (size_t k = 0; k < r->count;)
	{
		struct group *g = &groups[ngroups++];
		size_t		e = k;

		while (e < r->count && strcmp(symbol_of(refs[e].ev), symbol_of(refs[k].ev)) == 0)
			e++;
		g->first = k;
		g->end = e;
		g->bars = k;
		while (g->bars < e && refs[g->bars].ev->topic == PUBLISHER_LIVE)
			g->bars++;
		find_session(refs, g);
		if (g->session != NO_DAY)
		{
			time_t		s = seconds_of(refs[g->session_first].ev->recorded_us);
			struct tm	tm;

			localtime_r(&s, &tm);
			if (tm.tm_hour * 60 + tm.tm_min < session_min)
				session_min = tm.tm_hour * 60 + tm.tm_min;
		}
		k = e;
	}

	/* where the sessions go: the recorded session's start decides "has today's begun" */
	if (session_min == INT_MAX)
		session_min = open_min;
	if (how->kind == REPLAY_SHIFT_ONTO)
	{
		t = how->onto;
		snprintf(how_text, sizeof(how_text), "sessions onto %s as asked", ymd(t, a));
	}
	else
	{
		char		now_text[16];

		t = replay_session_day(now_us, session_min);
		snprintf(how_text, sizeof(how_text), "sessions onto %s: %s at %s, session start %02d:%02d",
				 ymd(t, a), t == replay_local_day(now_us) ? "today's" : "the latest",
				 hhmm(now_us, now_text), session_min / 60, session_min % 60);
	}
	p = replay_prev_trading_day(t);
	note(r, "%s; daily bars up to %s", how_text, ymd(p, b));

	for (size_t gi = 0; gi < ngroups; gi++)
		shift_symbol(r, refs, &groups[gi], t, p, &o, &rg);
	qsort(o.timed, o.ntimed, sizeof(*o.timed), timed_cmp);

	/* the new events: bars, then quotes and session bars by time */
	fresh = malloc((o.nbars + o.ntimed + 1) * sizeof(*fresh));
	if (fresh == NULL)
	{
		snprintf(err, errlen, "out of memory");
		free(refs);
		free(groups);
		free(o.bars);
		free(o.timed);
		return -1;
	}
	memcpy(fresh, o.bars, o.nbars * sizeof(*fresh));
	for (size_t k = 0; k < o.ntimed; k++)
		fresh[o.nbars + k] = o.timed[k].ev;
	free(r->events);
	r->events = fresh;
	r->count = r->cap = o.nbars + o.ntimed;
	summarise(r, &rg, how_text);
	free(refs);
	free(groups);
	free(o.bars);
	free(o.timed);
	return 0;
}

/*
 * Moves the dates of R's events as HOW says (see replay.h and
 * docs/producer.md), NOW_US being the current time and OPEN_MIN the
 * session start (minutes after local midnight) to use when the recording
 * has no session.  Sets R's summary and notes.  0, or -1 with ERR.
 */
int
replay_shift_apply(struct replay *r, const struct replay_shift *how, int64_t now_us,
				   int open_min, char *err, size_t errlen)
{
	r->nnotes = 0;
	switch (how->kind)
	{
		case REPLAY_SHIFT_NONE:
			{
				struct ranges g = {NO_DAY, NO_DAY, NO_DAY, NO_DAY};

				for (size_t i = 0; i < r->count; i++)
				{
					int32_t		d = r->events[i].topic == PUBLISHER_LIVE
						? replay_local_day(r->events[i].recorded_us) : r->events[i].recorded_date;

					widen(&g, d, d);
				}
				summarise(r, &g, "times as recorded");
				return 0;
			}
		case REPLAY_SHIFT_BY:
			shift_by(r, how->by_us);
			return 0;
		case REPLAY_SHIFT_AUTO:
		case REPLAY_SHIFT_ONTO:
			break;
	}
	return shift_onto(r, how, now_us, open_min, err, errlen);
}
