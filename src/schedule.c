/*-------------------------------------------------------------------------
 *
 * schedule.c
 *	  Job schedules: parsing (cron, macros, "N seconds") and the next run
 *	  time in a job's time zone.  See schedule.h for what is accepted, and
 *	  "Daylight saving time" below for the rules when the clock jumps.
 *
 * Pure C11: no PostgreSQL, no I/O, no locale (names and units are compared
 * in ASCII whatever LC_CTYPE says), no state between calls.  The scheduler
 * worker, the SQL-callable "next run after" function and the unit tests use
 * this one file, so a schedule means the same thing everywhere.
 *
 * The next run is found by walking civil time field by field (skip to the
 * next matching month, then day, hour, minute), never minute by minute, and
 * only the candidate found is converted to UTC.  A DST transition therefore
 * costs a few extra callback calls, not a scan.
 *
 * Error texts are part of the interface: the SQL functions show them and
 * the tests compare them.  One line, starting lower-case, saying what was
 * wrong and what is accepted; quoted user text is cut short and control
 * characters in it are shown as '?'.
 *
 *-------------------------------------------------------------------------
 */
#include "schedule.h"

#include "civil.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Instants of 0001-01-01 00:00:00 and 9999-12-31 23:59:59 UTC. */
#define MIN_EPOCH	INT64_C(-62135596800)
#define MAX_EPOCH	INT64_C(253402300799)

#define SECS_PER_DAY	INT64_C(86400)

/*
 * Half the window searched for the end of a DST gap, around the gap's
 * local time read as UTC.  UTC offsets lie within -12h..+14h and the
 * largest gaps are a day (Samoa, 2011), so 36 hours either way is ample.
 */
#define GAP_WINDOW	(36 * INT64_C(3600))

/*
 * Due times skipped because they already ran in the first pass of a
 * repeated hour.  A real fall-back repeats an hour or two (at most 120
 * minutely due times); this only stops a broken to_utc from making
 * sp_schedule_next walk ten years minute by minute.
 */
#define MAX_REJECTED	10000

/*
 * How far ahead of "after" a wall-clock schedule looks for the clock going
 * back (see sp_schedule_next): the clock can only show again a time it has
 * shown by "after" if it goes back within as long as it goes back by, an
 * hour or two in practice and never more than a day.  The 30 hours match
 * derived_to_utc's assumption that no zone changes its offset twice within
 * 60 hours.
 */
#define BACK_WINDOW	(30 * INT64_C(3600))

/* What the error texts say is accepted. */
#define ACCEPTED \
	"expected 5 cron fields (minute hour day-of-month month day-of-week), " \
	"a macro like \"@daily\", or \"N seconds\" (1-59)"
#define INTERVAL_ACCEPTED	"expected \"N seconds\" with N from 1 to 59"

/* Longest piece of user text quoted in an error. */
#define QUOTE_MAX	40

/* A piece of the schedule text: not NUL-terminated. */
typedef struct token
{
	const char *p;
	size_t		len;
} token;

/* The rules of one cron field. */
typedef struct field_spec
{
	const char *name;			/* as in error texts */
	int			lo;				/* smallest value */
	int			hi;				/* largest value */
	int			star_hi;		/* largest value "*" stands for */
	const char *const *names;	/* three-letter names, or NULL */
	int			name_base;		/* value of names[0] */
	const char *syntax;			/* what an element may be */
} field_spec;

static const char *const month_names[] = {
	"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
	"JUL", "AUG", "SEP", "OCT", "NOV", "DEC", NULL
};

static const char *const day_names[] = {
	"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL
};

#define SYNTAX		"*, */S, N, A-B, A-B/S or a comma-separated list of N, A-B, A-B/S"

static const field_spec field_specs[SP_NUM_FIELDS] = {
	{"minute", 0, 59, 59, NULL, 0, SYNTAX},
	{"hour", 0, 23, 23, NULL, 0, SYNTAX},
	{"day-of-month", 1, 31, 31, NULL, 0, SYNTAX},
	{"month", 1, 12, 12, month_names, 1, SYNTAX " (N also JAN-DEC)"},
	/* 7 is Sunday too; "*" stands for 0-6 so that no day is set twice */
	{"day-of-week", 0, 7, 6, day_names, 0, SYNTAX " (N also SUN-SAT)"},
};

static const struct
{
	const char *name;
	const char *expansion;
}			macros[] = {
	{"@hourly", "0 * * * *"},
	{"@daily", "0 0 * * *"},
	{"@midnight", "0 0 * * *"},
	{"@weekly", "0 0 * * 0"},
	{"@monthly", "0 0 1 * *"},
	{"@yearly", "0 0 1 1 *"},
	{"@annually", "0 0 1 1 *"},
};

#define MACRO_LIST	"@hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually"

/* printf format checking where the compiler has it */
#if defined(__GNUC__) || defined(__clang__)
#define SP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SP_PRINTF(f, a)
#endif

static void set_err(char *err, const char *fmt,...) SP_PRINTF(2, 3);


/* ---------------------------------------------------------------- */
/*	Calendar arithmetic												*/
/* ---------------------------------------------------------------- */

/* Day of the week, 0 = Sunday, of a count of days since 1970-01-01 (a Thursday). */
static int
weekday_from_days(int64_t z)
{
	int64_t		w = (z + 4) % 7;

	return (int) (w < 0 ? w + 7 : w);
}

static int
weekday_of(int y, int m, int d)
{
	return weekday_from_days(sp_days_from_civil(y, m, d));
}

/* Is c a real date and time of years 0001-9999?  Guards what callbacks return. */
static bool
civil_valid(const sp_civil *c)
{
	return c->year >= 1 && c->year <= 9999 &&
		c->month >= 1 && c->month <= 12 &&
		c->day >= 1 && c->day <= sp_days_in_month(c->year, c->month) &&
		c->hour >= 0 && c->hour <= 23 &&
		c->minute >= 0 && c->minute <= 59 &&
		c->second >= 0 && c->second <= 60;
}

int64_t
sp_civil_to_epoch(const sp_civil *c)
{
	return sp_days_from_civil(c->year, c->month, c->day) * SECS_PER_DAY +
		c->hour * 3600 + c->minute * 60 + c->second;
}

void
sp_civil_from_epoch(int64_t secs, sp_civil *out)
{
	int64_t		days = secs / SECS_PER_DAY;
	int64_t		rem = secs % SECS_PER_DAY;

	if (rem < 0)
	{
		rem += SECS_PER_DAY;
		days--;
	}
	sp_civil_from_days(days, &out->year, &out->month, &out->day);
	out->hour = (int) (rem / 3600);
	out->minute = (int) (rem / 60 % 60);
	out->second = (int) (rem % 60);
	out->wday = weekday_from_days(days);
}

bool
sp_civil_is_weekday(const sp_civil *c)
{
	int			w = weekday_of(c->year, c->month, c->day);

	return w >= 1 && w <= 5;
}


/* ---------------------------------------------------------------- */
/*	Parsing															*/
/* ---------------------------------------------------------------- */

static void
set_err(char *err, const char *fmt,...)
{
	va_list		ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err, SP_SCHED_ERR_MAX, fmt, ap);
	va_end(ap);
}

/*
 * User text fit to quote in an error: at most QUOTE_MAX bytes then "...",
 * anything but printable ASCII shown as '?' so the text stays one line
 * and valid UTF-8.  buf has QUOTE_MAX + 4 bytes.
 */
static const char *
quoted(char *buf, const char *p, size_t len)
{
	size_t		n = len > QUOTE_MAX ? QUOTE_MAX : len;
	size_t		i;

	for (i = 0; i < n; i++)
		buf[i] = (p[i] >= 0x20 && p[i] < 0x7F) ? p[i] : '?';
	if (n < len)
	{
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		c == '\f' || c == '\v';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char
to_upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char) (c - 'a' + 'A') : c;
}

/* Does the token equal word, ignoring ASCII case? */
static bool
token_is(token t, const char *word)
{
	size_t		i;

	if (t.len != strlen(word))
		return false;
	for (i = 0; i < t.len; i++)
		if (to_upper(t.p[i]) != to_upper(word[i]))
			return false;
	return true;
}

/*
 * Split text at white space into at most max tokens; returns how many
 * tokens there are in all (more than max if some did not fit).
 */
static int
tokenize(const char *text, token *toks, int max)
{
	const char *p = text;
	int			n = 0;

	for (;;)
	{
		const char *start;

		while (is_space(*p))
			p++;
		if (*p == '\0')
			return n;
		start = p;
		while (*p != '\0' && !is_space(*p))
			p++;
		if (n < max)
		{
			toks[n].p = start;
			toks[n].len = (size_t) (p - start);
		}
		n++;
	}
}

/*
 * Read an unsigned decimal number at *pp, not past end; saturates at a
 * value beyond every field's range instead of overflowing.  False if there
 * is no digit.
 */
static bool
read_number(const char **pp, const char *end, int *value)
{
	const char *p = *pp;
	int			v = 0;

	if (p >= end || !is_digit(*p))
		return false;
	while (p < end && is_digit(*p))
	{
		if (v < 100000)
			v = v * 10 + (*p - '0');
		p++;
	}
	*pp = p;
	*value = v;
	return true;
}

/* A number, or a three-letter name where the field has names. */
static bool
read_value(const char **pp, const char *end, const field_spec *f, int *value)
{
	const char *p = *pp;
	int			i;

	if (read_number(pp, end, value))
		return true;
	if (f->names == NULL || end - p < 3 ||
		!is_alpha(p[0]) || !is_alpha(p[1]) || !is_alpha(p[2]) ||
		(end - p > 3 && is_alpha(p[3])))
		return false;
	for (i = 0; f->names[i] != NULL; i++)
	{
		token		t = {p, 3};

		if (token_is(t, f->names[i]))
		{
			*value = f->name_base + i;
			*pp = p + 3;
			return true;
		}
	}
	return false;
}

/* Set bits lo, lo+step, ... up to hi; day-of-week 7 is Sunday, bit 0. */
static void
set_bits(uint64_t *mask, int lo, int hi, int step, bool dow)
{
	int			v;

	for (v = lo; v <= hi; v += step)
		*mask |= UINT64_C(1) << (dow && v == 7 ? 0 : v);
}

/*
 * Parse one cron field into *mask and *star_step.  "*" and "*\/S" are
 * whole fields, never list elements: that keeps "restricted or not" (the
 * day-of-month/day-of-week rule) a plain property of the field.
 */
static bool
parse_field(token t, const field_spec *f, uint64_t *mask, uint8_t *star_step,
			char *err)
{
	char		q[QUOTE_MAX + 4];
	const char *end = t.p + t.len;
	const char *p = t.p;
	bool		dow = (f == &field_specs[SP_FIELD_DOW]);

	*mask = 0;
	*star_step = 0;

	if (*p == '*')
	{
		int			step = 1;

		p++;
		if (p < end)
		{
			if (*p != '/')
				goto invalid;
			p++;
			if (!read_number(&p, end, &step) || p != end)
				goto invalid;
			if (step < 1 || step > f->hi)
			{
				set_err(err, "%s field \"%s\" has a step out of range 1-%d",
						f->name, quoted(q, t.p, t.len), f->hi);
				return false;
			}
		}
		set_bits(mask, f->lo, f->star_hi, step, dow);
		*star_step = (uint8_t) step;
		return true;
	}

	for (;;)
	{
		const char *elem = p;
		int			a;
		int			b;
		int			step = 1;

		if (!read_value(&p, end, f, &a))
			goto invalid;
		b = a;
		if (p < end && *p == '-')
		{
			p++;
			if (!read_value(&p, end, f, &b))
				goto invalid;
			if (p < end && *p == '/')
			{
				p++;
				if (!read_number(&p, end, &step))
					goto invalid;
			}
		}
		if (p < end && *p != ',')
			goto invalid;

		if (a < f->lo || a > f->hi || b < f->lo || b > f->hi)
		{
			set_err(err, "%s field \"%s\" is out of range %d-%d",
					f->name, quoted(q, elem, (size_t) (p - elem)),
					f->lo, f->hi);
			return false;
		}
		if (a > b)
		{
			set_err(err, "%s field \"%s\" is a range whose start is after its end",
					f->name, quoted(q, elem, (size_t) (p - elem)));
			return false;
		}
		if (step < 1 || step > f->hi)
		{
			set_err(err, "%s field \"%s\" has a step out of range 1-%d",
					f->name, quoted(q, elem, (size_t) (p - elem)), f->hi);
			return false;
		}
		set_bits(mask, a, b, step, dow);

		if (p == end)
			return true;
		p++;					/* the comma */
		if (p == end)
			goto invalid;
	}

invalid:
	set_err(err, "%s field \"%s\" is invalid; expected %s",
			f->name, quoted(q, t.p, t.len), f->syntax);
	return false;
}

/*
 * Can day-of-month and month ever meet?  Only asked when day-of-week is
 * unrestricted (otherwise either day field may match); "0 0 30 2 *" is
 * refused here rather than left to fail at every next-run computation.
 */
static bool
dom_month_possible(const sp_schedule *s)
{
	int			m;
	int			d;

	for (m = 1; m <= 12; m++)
	{
		if (!(s->months & (1u << m)))
			continue;
		for (d = 1; d <= (m == 2 ? 29 : sp_days_in_month(2001, m)); d++)
			if (s->mdays & (UINT32_C(1) << d))
				return true;
	}
	return false;
}

/*
 * The fewest days in SP_SCHED_SEARCH_YEARS consecutive years: ten years
 * hold at least one leap day (2097-2106 hold only 2104's).
 */
#define SEARCH_DAYS_MIN		(SP_SCHED_SEARCH_YEARS * 365 + 1)
_Static_assert(SP_SCHED_SEARCH_YEARS == 10, "update SEARCH_DAYS_MIN");

/*
 * When a day must match both day fields (one of them is "*" or "*\/S") and
 * both restrict the days, the two can meet rarely: "8 9 *\/7 6 MON" runs
 * only when June 1st is a Monday, eleven years apart from 2026 to 2037,
 * and sp_schedule_next() does not look that far.  Such a schedule is
 * refused, like "0 0 30 2 *", rather than accepted and then found to have
 * no next run.
 *
 * Do months, days of the month and days of the week meet at least once in
 * every SEARCH_DAYS_MIN days?  Dates and weekdays repeat every 400 years
 * (146097 days, 20871 weeks), so the months of one such cycle, wrapped
 * around, give every gap between two matching days.  Gaps inside a month
 * are too short to matter: only a month's first and last matching days
 * are looked for, among the days whose weekday matches for a month that
 * starts on that weekday.
 */
static bool
days_meet_often(const sp_schedule *s)
{
	uint32_t	by_first[7];	/* days 1-31 matching wdays, by weekday of the 1st */
	int64_t		day = 0;		/* the 1st of the month, counted from 2001-01-01 */
	int64_t		first = -1;
	int64_t		last = -1;
	int64_t		gap = 0;
	int			w1 = weekday_of(2001, 1, 1);
	int			w;
	int			y;
	int			m;
	int			d;

	for (w = 0; w < 7; w++)
	{
		by_first[w] = 0;
		for (d = 1; d <= 31; d++)
			if (s->wdays & (1u << ((w + d - 1) % 7)))
				by_first[w] |= UINT32_C(1) << d;
	}

	for (y = 2001; y < 2401; y++)
	{
		for (m = 1; m <= 12; m++)
		{
			int			dim = sp_days_in_month(y, m);
			uint32_t	hits = 0;

			if (s->months & (1u << m))
				hits = s->mdays & by_first[w1] &
					(((UINT32_C(1) << dim) - 1) << 1);	/* days 1..dim */
			if (hits != 0)
			{
				int			lo = 1;
				int			hi = dim;

				while (!(hits & (UINT32_C(1) << lo)))
					lo++;
				while (!(hits & (UINT32_C(1) << hi)))
					hi--;
				if (first < 0)
					first = day + lo - 1;
				else if (day + lo - 1 - last > gap)
					gap = day + lo - 1 - last;
				last = day + hi - 1;
			}
			day += dim;
			w1 = (w1 + dim) % 7;
		}
	}
	if (first < 0)
		return false;
	if (first + day - last > gap)
		gap = first + day - last;	/* from the last meeting round to the first */
	return gap <= SEARCH_DAYS_MIN;
}

/* The five fields of a cron schedule. */
static bool
parse_cron(const token *toks, sp_schedule *out, char *err)
{
	uint64_t	masks[SP_NUM_FIELDS];
	int			i;

	memset(out, 0, sizeof(*out));
	out->kind = SP_SCHEDULE_CRON;
	for (i = 0; i < SP_NUM_FIELDS; i++)
		if (!parse_field(toks[i], &field_specs[i], &masks[i],
						 &out->star_step[i], err))
			return false;
	out->minutes = masks[SP_FIELD_MINUTE];
	out->hours = (uint32_t) masks[SP_FIELD_HOUR];
	out->mdays = (uint32_t) masks[SP_FIELD_DOM];
	out->months = (uint16_t) masks[SP_FIELD_MONTH];
	out->wdays = (uint8_t) masks[SP_FIELD_DOW];

	if (out->star_step[SP_FIELD_DOM] == 0 && out->star_step[SP_FIELD_DOW] != 0 &&
		!dom_month_possible(out))
	{
		char		q1[QUOTE_MAX + 4];
		char		q2[QUOTE_MAX + 4];

		set_err(err, "day-of-month field \"%s\" never occurs in month field \"%s\"",
				quoted(q1, toks[SP_FIELD_DOM].p, toks[SP_FIELD_DOM].len),
				quoted(q2, toks[SP_FIELD_MONTH].p, toks[SP_FIELD_MONTH].len));
		return false;
	}

	/* Both day fields restrict, and a day must match both: how often? */
	if ((out->star_step[SP_FIELD_DOM] != 0 || out->star_step[SP_FIELD_DOW] != 0) &&
		out->star_step[SP_FIELD_DOM] != 1 && out->wdays != 0x7F &&
		!days_meet_often(out))
	{
		char		q1[QUOTE_MAX + 4];
		char		q2[QUOTE_MAX + 4];
		char		q3[QUOTE_MAX + 4];

		set_err(err, "day-of-month field \"%s\" and day-of-week field \"%s\" "
				"meet in month field \"%s\" less than once in %d years",
				quoted(q1, toks[SP_FIELD_DOM].p, toks[SP_FIELD_DOM].len),
				quoted(q2, toks[SP_FIELD_DOW].p, toks[SP_FIELD_DOW].len),
				quoted(q3, toks[SP_FIELD_MONTH].p, toks[SP_FIELD_MONTH].len),
				SP_SCHED_SEARCH_YEARS);
		return false;
	}
	return true;
}

/* "N seconds" or "N second", given as two tokens. */
static bool
parse_interval(const token *toks, sp_schedule *out, char *err)
{
	char		q1[QUOTE_MAX + 4];
	char		q2[QUOTE_MAX + 4];
	const char *p = toks[0].p;
	const char *end = p + toks[0].len;
	int			n;

	if (!token_is(toks[1], "seconds") && !token_is(toks[1], "second"))
	{
		set_err(err, "interval unit \"%s\" is not accepted; %s, or a cron schedule",
				quoted(q1, toks[1].p, toks[1].len), INTERVAL_ACCEPTED);
		return false;
	}
	if (!read_number(&p, end, &n) || p != end)
	{
		set_err(err, "interval \"%s %s\" is invalid; %s",
				quoted(q1, toks[0].p, toks[0].len),
				quoted(q2, toks[1].p, toks[1].len), INTERVAL_ACCEPTED);
		return false;
	}
	if (n < 1 || n > 59)
	{
		set_err(err, "interval \"%s %s\" is out of range; %s",
				quoted(q1, toks[0].p, toks[0].len),
				quoted(q2, toks[1].p, toks[1].len), INTERVAL_ACCEPTED);
		return false;
	}
	memset(out, 0, sizeof(*out));
	out->kind = SP_SCHEDULE_INTERVAL;
	out->interval = n;
	return true;
}

bool
sp_schedule_parse(const char *text, sp_schedule *out, char *err)
{
	token		toks[SP_NUM_FIELDS];
	char		q[QUOTE_MAX + 4];
	int			n;
	size_t		i;

	if (err != NULL)
		err[0] = '\0';
	n = (text == NULL) ? 0 : tokenize(text, toks, SP_NUM_FIELDS);
	if (n == 0)
	{
		set_err(err, "schedule is empty; " ACCEPTED);
		return false;
	}

	if (toks[0].p[0] == '@')
	{
		if (n != 1)
		{
			set_err(err, "macro \"%s\" must be the whole schedule",
					quoted(q, toks[0].p, toks[0].len));
			return false;
		}
		for (i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
		{
			if (token_is(toks[0], macros[i].name))
			{
				tokenize(macros[i].expansion, toks, SP_NUM_FIELDS);
				return parse_cron(toks, out, err);
			}
		}
		set_err(err, "unknown schedule macro \"%s\"; accepted: " MACRO_LIST,
				quoted(q, toks[0].p, toks[0].len));
		return false;
	}

	if (n == 2 && is_alpha(toks[1].p[0]))
		return parse_interval(toks, out, err);

	if (n != SP_NUM_FIELDS)
	{
		set_err(err, "schedule has %d field%s; " ACCEPTED, n, n == 1 ? "" : "s");
		return false;
	}
	return parse_cron(toks, out, err);
}


/* ---------------------------------------------------------------- */
/*	Matching and the next run										*/
/* ---------------------------------------------------------------- */

/* The first set bit of mask in [from, to], or -1. */
static int
next_bit(uint64_t mask, int from, int to)
{
	int			i;

	for (i = from; i <= to; i++)
		if (mask & (UINT64_C(1) << i))
			return i;
	return -1;
}

/* Vixie cron's day rule; see schedule.h. */
static bool
day_matches(const sp_schedule *s, int y, int m, int d)
{
	bool		dom = (s->mdays & (UINT32_C(1) << d)) != 0;
	bool		dow = (s->wdays & (1u << weekday_of(y, m, d))) != 0;

	if (s->star_step[SP_FIELD_DOM] != 0 || s->star_step[SP_FIELD_DOW] != 0)
		return dom && dow;
	return dom || dow;
}

bool
sp_schedule_matches(const sp_schedule *s, const sp_civil *c)
{
	sp_civil	t = *c;

	t.second = 0;
	return s->kind == SP_SCHEDULE_CRON && civil_valid(&t) &&
		(s->months & (1u << c->month)) != 0 &&
		day_matches(s, c->year, c->month, c->day) &&
		(s->hours & (UINT32_C(1) << c->hour)) != 0 &&
		(s->minutes & (UINT64_C(1) << c->minute)) != 0;
}

/* Midnight of the next day, carrying into month and year. */
static void
civil_next_day(sp_civil *c)
{
	c->hour = 0;
	c->minute = 0;
	if (++c->day > sp_days_in_month(c->year, c->month))
	{
		c->day = 1;
		if (++c->month > 12)
		{
			c->month = 1;
			c->year++;
		}
	}
}

static void
civil_next_minute(sp_civil *c)
{
	if (++c->minute > 59)
	{
		c->minute = 0;
		if (++c->hour > 23)
			civil_next_day(c);
	}
}

/*
 * Move c (seconds 0) forward to the first civil minute at or after it that
 * the schedule matches, field by field: a month that does not match is
 * skipped whole, then a day, then an hour.  False past the year limit.
 */
static bool
find_match(const sp_schedule *s, sp_civil *c, int limit_year)
{
	for (;;)
	{
		int			m;
		int			h;
		int			mi;

		if (c->year > limit_year || c->year > 9999)
			return false;

		m = next_bit(s->months, c->month, 12);
		if (m < 0)
		{
			c->year++;
			c->month = 1;
			c->day = 1;
			c->hour = 0;
			c->minute = 0;
			continue;
		}
		if (m != c->month)
		{
			c->month = m;
			c->day = 1;
			c->hour = 0;
			c->minute = 0;
		}

		if (!day_matches(s, c->year, c->month, c->day))
		{
			civil_next_day(c);
			continue;
		}

		h = next_bit(s->hours, c->hour, 23);
		if (h < 0)
		{
			civil_next_day(c);
			continue;
		}
		if (h != c->hour)
		{
			c->hour = h;
			c->minute = 0;
		}

		mi = next_bit(s->minutes, c->minute, 59);
		if (mi < 0)
		{
			c->minute = 59;
			civil_next_minute(c);	/* the next hour */
			continue;
		}
		c->minute = mi;
		c->wday = weekday_of(c->year, c->month, c->day);
		return true;
	}
}

/*
 * The instant a local time that does not exist is passed: the smallest t
 * whose local time is later than c.  A bisection with to_local, so that
 * to_utc need not know where its gaps end.
 */
static bool
gap_end(const sp_tz_ops *tz, const sp_civil *c, int64_t *end)
{
	int64_t		target = sp_civil_to_epoch(c);
	int64_t		lo = target - GAP_WINDOW;	/* local time <= c */
	int64_t		hi = target + GAP_WINDOW;	/* local time > c */
	sp_civil	l;

	if (!tz->to_local(tz->ctx, lo, &l) || !civil_valid(&l) ||
		sp_civil_to_epoch(&l) > target)
		return false;
	if (!tz->to_local(tz->ctx, hi, &l) || !civil_valid(&l) ||
		sp_civil_to_epoch(&l) <= target)
		return false;
	while (hi - lo > 1)
	{
		int64_t		mid = lo + (hi - lo) / 2;

		if (!tz->to_local(tz->ctx, mid, &l) || !civil_valid(&l))
			return false;
		if (sp_civil_to_epoch(&l) > target)
			hi = mid;
		else
			lo = mid;
	}
	*end = hi;
	return true;
}

/*
 * The instants whose local time is exactly the civil time target (read as
 * UTC), from to_local alone.  The offsets in force 30 hours before, at and
 * 30 hours after target include the one, or the two, that can give that
 * civil time, unless the zone changed its offset twice within those 60
 * hours, which no zone does.  Each candidate instant is kept only if
 * to_local gives the civil time back.  *n is how many there are (0 in a
 * gap, 2 in a repeated hour), *first and *last the earliest and the latest
 * (set only if *n > 0).  False if to_local failed at every probe.
 */
static bool
local_instants(const sp_tz_ops *tz, int64_t target, int64_t *first,
			   int64_t *last, int *n)
{
	int64_t		probes[3] = {target - 30 * 3600, target, target + 30 * 3600};
	int64_t		found[3];
	int			nfound = 0;
	int			nprobed = 0;
	int			i;

	for (i = 0; i < 3; i++)
	{
		sp_civil	l;
		int64_t		cand;
		int			j;

		if (!tz->to_local(tz->ctx, probes[i], &l) || !civil_valid(&l))
			continue;
		nprobed++;
		cand = target - (sp_civil_to_epoch(&l) - probes[i]);
		if (!tz->to_local(tz->ctx, cand, &l) || !civil_valid(&l) ||
			sp_civil_to_epoch(&l) != target)
			continue;
		for (j = 0; j < nfound && found[j] != cand; j++)
			;
		if (j == nfound)
			found[nfound++] = cand;
	}
	if (nprobed == 0)
		return false;
	*n = nfound;
	for (i = 0; i < nfound; i++)
	{
		if (i == 0 || found[i] < *first)
			*first = found[i];
		if (i == 0 || found[i] > *last)
			*last = found[i];
	}
	return true;
}

/*
 * to_utc derived from to_local, for a zone library that only turns instants
 * into local time (and for PostgreSQL's, which resolves an ambiguous time
 * to the later instant, not the earlier one wanted here).
 */
static bool
derived_to_utc(const sp_tz_ops *tz, const sp_civil *local, int64_t *utc,
			   int *kind)
{
	int64_t		target = sp_civil_to_epoch(local);
	int64_t		last;
	int			n;

	if (!local_instants(tz, target, utc, &last, &n))
		return false;
	if (n == 0)
	{
		*utc = target;
		*kind = SP_TZ_NONEXISTENT;
	}
	else
		*kind = n > 1 ? SP_TZ_AMBIGUOUS : SP_TZ_UNIQUE;
	return true;
}

/* The caller's to_utc, or derived_to_utc where it gave none. */
static bool
local_to_utc(const sp_tz_ops *tz, const sp_civil *c, int64_t *utc, int *kind)
{
	*kind = SP_TZ_UNIQUE;
	return tz->to_utc != NULL ? tz->to_utc(tz->ctx, c, utc, kind) :
		derived_to_utc(tz, c, utc, kind);
}

/* Round a civil time up to a whole minute. */
static void
civil_ceil_minute(sp_civil *c)
{
	if (c->second != 0)
	{
		c->second = 0;
		civil_next_minute(c);
	}
}

/*
 * Daylight saving time, and any other change of a zone's UTC offset.
 *
 * Cron fields match the job's LOCAL civil time, to the minute.  What
 * happens when the local clock jumps depends on the schedule's kind, as in
 * cron(8) (Vixie cron and cronie: jobs "that run at a specific time" are
 * handled specially, jobs that "run more frequently are scheduled
 * normally"), and the kind is told, as cron(8) tells it, by how the minute
 * and hour fields are written, not by how often the job runs:
 *
 * Wall-clock schedules: the minute or the hour field is "*" or "*\/S"
 *	 ("@hourly" is "0 * * * *"; "0 *\/2 * * *" is one).  The job runs at
 *	 every instant at which the local clock shows a matching minute (hh:mm
 *	 and 00 seconds), and at no other:
 *	   - a time the clock skips does not run: on the US spring-forward night
 *		 "30 * * * *" runs at 01:30 EST then 03:30 EDT, "*\/20 * * * *" at
 *		 01:40 EST then 03:00 EDT, and "*\/15 2 * * *" not at all;
 *	   - a time the clock shows twice runs twice: on the fall-back night
 *		 "*\/20 * * * *" runs at 01:00, 01:20, 01:40 EDT and again at 01:00,
 *		 01:20, 01:40 EST, every 20 real minutes; "@hourly" at 01:00 EDT,
 *		 01:00 EST, 02:00 EST.
 *	 A wall-clock schedule whose every matching time falls in gaps never
 *	 runs ("* 2 8-14 3 *\/7" in America/New_York: 02:00-02:59 of the
 *	 second Sunday in March): sp_schedule_next() then finds no run.
 *
 * Fixed-time schedules: both fields are numbers, lists or ranges, even
 *	 "0-59" or "0-23" (cron(8) looks at the field's first character).  A job
 *	 due at local time L runs at the first instant at which the local clock
 *	 shows L or later, and once:
 *	   - a time the clock skips runs at the instant the gap ends: "30 2 * * *"
 *		 runs at 03:00 EDT on the spring-forward night; all the due times in
 *		 a gap, and one at its end, collapse into that one run;
 *	   - a time the clock shows twice runs at its first occurrence only:
 *		 "30 1 * * *" at 01:30 EDT, not again at 01:30 EST; while the clock
 *		 shows again times it has shown, nothing runs that already ran;
 *	 so a daily 16:45 job runs once every local day, at 16:45.
 *
 * Where this departs from cron(8): cron(8) handles only changes of less
 * than three hours so; after a larger jump it runs just the jobs of the
 * minute it lands in.  Here the rules above hold for any change, so the
 * fixed-time jobs of the day Samoa skipped (30 December 2011) ran when it
 * ended.  And a minute the clock enters part-way, which only historical
 * offsets with seconds (local mean time) cause, is not a matching minute
 * for a wall-clock schedule, since the clock never shows its 00 seconds.
 */

/* Is s a wall-clock schedule (above)? */
static bool
by_wall_clock(const sp_schedule *s)
{
	return s->star_step[SP_FIELD_MINUTE] != 0 || s->star_step[SP_FIELD_HOUR] != 0;
}

/*
 * When a fixed-time job due at local time c runs: the first instant the
 * local clock shows c or later.
 */
static bool
run_instant(const sp_tz_ops *tz, const sp_civil *c, int64_t *when)
{
	int			kind;

	if (!local_to_utc(tz, c, when, &kind))
		return false;
	switch (kind)
	{
		case SP_TZ_UNIQUE:
		case SP_TZ_AMBIGUOUS:
			return true;
		case SP_TZ_NONEXISTENT:
			return gap_end(tz, c, when);
		default:
			return false;
	}
}

static bool
next_fixed_time(const sp_schedule *s, int64_t after_utc, const sp_civil *now,
				const sp_tz_ops *tz, int64_t *next_utc)
{
	sp_civil	c = *now;
	int			rejected = 0;

	/*
	 * Due times up to the current local minute have run already (the local
	 * clock has shown them), so start at the next minute.  Due times after
	 * it can still have run too, if the clock went back: those are skipped
	 * below as their run instant is not after after_utc.
	 */
	c.second = 0;
	civil_next_minute(&c);

	for (;;)
	{
		int64_t		when;

		if (!find_match(s, &c, now->year + SP_SCHED_SEARCH_YEARS))
			return false;
		if (!run_instant(tz, &c, &when))
			return false;
		if (when > after_utc)
		{
			*next_utc = when;
			return true;
		}
		if (++rejected > MAX_REJECTED)
			return false;
		civil_next_minute(&c);
	}
}

/*
 * A wall-clock job's run while the clock, gone back after after_utc, shows
 * again a time it had shown by then (the second 01:00-01:59 of a US
 * fall-back night, seen from the first): only such times, up to now's,
 * are looked for here, the later ones being the forward search's.  The
 * clock goes back within BACK_WINDOW if the UTC offset is smaller at its
 * end; the change is then found by bisection, and the run, if any, is at
 * the first matching minute the clock shows from the change on.
 */
static bool
rerun_ahead(const sp_schedule *s, int64_t after_utc, const sp_civil *now,
			const sp_tz_ops *tz, int64_t *when, bool *found)
{
	int64_t		now_local = sp_civil_to_epoch(now);
	int64_t		offset = now_local - after_utc;
	int64_t		lo = after_utc;
	int64_t		hi = after_utc + BACK_WINDOW;
	sp_civil	l;
	sp_civil	c;
	int64_t		t;

	*found = false;

	/* no conversion near the end of year 9999: no change either */
	if (!tz->to_local(tz->ctx, hi, &l) || !civil_valid(&l) ||
		sp_civil_to_epoch(&l) - hi >= offset)
		return true;
	while (hi - lo > 1)
	{
		int64_t		mid = lo + (hi - lo) / 2;

		if (!tz->to_local(tz->ctx, mid, &l) || !civil_valid(&l))
			return false;
		if (sp_civil_to_epoch(&l) - mid == offset)
			lo = mid;
		else
			hi = mid;
	}
	if (!tz->to_local(tz->ctx, hi, &l) || !civil_valid(&l))
		return false;

	c = l;
	civil_ceil_minute(&c);
	if (!find_match(s, &c, now->year) || sp_civil_to_epoch(&c) > now_local)
		return true;
	t = hi + (sp_civil_to_epoch(&c) - sp_civil_to_epoch(&l));
	if (!tz->to_local(tz->ctx, t, &l) || !civil_valid(&l))
		return false;
	if (sp_civil_to_epoch(&l) == sp_civil_to_epoch(&c))
	{
		*when = t;
		*found = true;
	}
	return true;
}

/*
 * Forward from now's minute, each matching time's instants are tried in
 * turn: one, two in a repeated hour, none in a gap (jumped over whole, from
 * the local time at its end).  The first instant after after_utc is the
 * earliest of all those times' instants, since the clock shows them in
 * order: a repeated time's second instant comes after the first instants
 * of every time of its repeated stretch.  Only times up to now's are left,
 * shown again if the clock goes back soon: rerun_ahead.
 */
static bool
next_by_wall_clock(const sp_schedule *s, int64_t after_utc,
				   const sp_civil *now, const sp_tz_ops *tz, int64_t *next_utc)
{
	sp_civil	c = *now;
	int64_t		rerun = 0;
	bool		have_rerun;
	int64_t		when = 0;
	bool		found = false;
	int			steps = 0;

	if (!rerun_ahead(s, after_utc, now, tz, &rerun, &have_rerun))
		return false;

	c.second = 0;
	civil_next_minute(&c);
	while (!found && find_match(s, &c, now->year + SP_SCHED_SEARCH_YEARS))
	{
		int64_t		first;
		int64_t		last;
		int			kind;
		int			n;

		if (++steps > MAX_REJECTED)
			return false;
		if (!local_to_utc(tz, &c, &first, &kind) ||
			(kind != SP_TZ_UNIQUE && kind != SP_TZ_AMBIGUOUS &&
			 kind != SP_TZ_NONEXISTENT))
			return false;
		if (kind == SP_TZ_NONEXISTENT)
		{
			int64_t		end;

			if (!gap_end(tz, &c, &end) || !tz->to_local(tz->ctx, end, &c) ||
				!civil_valid(&c))
				return false;
			civil_ceil_minute(&c);
			continue;
		}
		if (first > after_utc)
		{
			when = first;
			found = true;
		}
		else if (kind == SP_TZ_AMBIGUOUS)
		{
			if (!local_instants(tz, sp_civil_to_epoch(&c), &first, &last, &n))
				return false;
			if (n > 1 && last > after_utc)
			{
				when = last;
				found = true;
			}
		}
		civil_next_minute(&c);
	}

	if (have_rerun && (!found || rerun < when))
	{
		when = rerun;
		found = true;
	}
	if (found)
		*next_utc = when;
	return found;
}

bool
sp_schedule_next(const sp_schedule *s, int64_t after_utc,
				 const sp_tz_ops *tz, int64_t *next_utc)
{
	sp_civil	now;

	if (after_utc < MIN_EPOCH || after_utc > MAX_EPOCH)
		return false;

	if (s->kind == SP_SCHEDULE_INTERVAL)
	{
		int64_t		n = s->interval;
		int64_t		q;

		if (n < 1 || n > 59)
			return false;
		q = after_utc / n;
		if (after_utc % n != 0 && after_utc < 0)
			q--;				/* floor, not truncation */
		*next_utc = (q + 1) * n;
		return true;
	}
	if (s->kind != SP_SCHEDULE_CRON || tz == NULL || tz->to_local == NULL)
		return false;

	if (!tz->to_local(tz->ctx, after_utc, &now) || !civil_valid(&now))
		return false;
	if (by_wall_clock(s))
		return next_by_wall_clock(s, after_utc, &now, tz, next_utc);
	return next_fixed_time(s, after_utc, &now, tz, next_utc);
}


/* ---------------------------------------------------------------- */
/*	Normalised text													*/
/* ---------------------------------------------------------------- */

/* Append to buf (of size cap) like snprintf would, counting what did not fit. */
static void append(char *buf, size_t cap, size_t *pos, const char *fmt,...)
			SP_PRINTF(4, 5);

static void
append(char *buf, size_t cap, size_t *pos, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(*pos < cap ? buf + *pos : NULL, *pos < cap ? cap - *pos : 0,
				  fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t) n;
}

/* One field: "*", "*\/S", or runs of values as "a" and "a-b", comma-separated. */
static void
describe_field(uint64_t mask, uint8_t star_step, int lo, int hi,
			   char *buf, size_t cap, size_t *pos)
{
	int			v = lo;
	bool		first = true;

	if (star_step == 1)
	{
		append(buf, cap, pos, "*");
		return;
	}
	if (star_step > 1)
	{
		append(buf, cap, pos, "*/%d", star_step);
		return;
	}
	while ((v = next_bit(mask, v, hi)) >= 0)
	{
		int			end = v;

		while (end < hi && (mask & (UINT64_C(1) << (end + 1))))
			end++;
		append(buf, cap, pos, first ? "%d" : ",%d", v);
		if (end > v)
			append(buf, cap, pos, "-%d", end);
		first = false;
		v = end + 1;
	}
}

int
sp_schedule_describe(const sp_schedule *s, char *buf, size_t len)
{
	size_t		pos = 0;

	if (len > 0)
		buf[0] = '\0';
	if (s->kind == SP_SCHEDULE_INTERVAL)
		append(buf, len, &pos, "%d second%s", s->interval,
			   s->interval == 1 ? "" : "s");
	else
	{
		describe_field(s->minutes, s->star_step[SP_FIELD_MINUTE], 0, 59, buf, len, &pos);
		append(buf, len, &pos, " ");
		describe_field(s->hours, s->star_step[SP_FIELD_HOUR], 0, 23, buf, len, &pos);
		append(buf, len, &pos, " ");
		describe_field(s->mdays, s->star_step[SP_FIELD_DOM], 1, 31, buf, len, &pos);
		append(buf, len, &pos, " ");
		describe_field(s->months, s->star_step[SP_FIELD_MONTH], 1, 12, buf, len, &pos);
		append(buf, len, &pos, " ");
		describe_field(s->wdays, s->star_step[SP_FIELD_DOW], 0, 6, buf, len, &pos);
	}
	return (int) pos;
}
