/*-------------------------------------------------------------------------
 *
 * schedule_fuzz.c
 *	  libFuzzer harness of job schedules (src/schedule.c): sp_schedule_parse,
 *	  sp_schedule_describe and sp_schedule_next.
 *
 * Input: the schedule text, optionally followed by a NUL byte and up to
 * five bytes that pick the instant "now" (one of a few interesting bases,
 * moved by a signed number of seconds).  Seeds are plain schedule texts.
 *
 * Invariants, each checked with code of this file's own:
 *	 - a refused text gets a one-line, printable-ASCII error text;
 *	 - a parsed schedule holds only bits its fields allow, and its normalised
 *	   text (sp_schedule_describe) parses back to the very same schedule;
 *	 - the next run is strictly after "now", and comes back within a bounded
 *	   number of time zone conversions and within a second (libFuzzer's
 *	   -timeout also catches a hang);
 *	 - in UTC and in fixed-offset zones, the next run is exactly the one a
 *	   naive day-by-day search of the documented rules finds (or there is
 *	   none, in both, within the ten-year search window);
 *	 - in a zone with DST (America/New_York from its rules, with to_utc
 *	   given and derived), the next run agrees with a minute-by-minute model
 *	   of the documented rules (schedule.c) over the next day: a wall-clock
 *	   schedule ("*" or "*\/S" in the minute or hour field) runs when the
 *	   local clock shows a matching minute, a fixed-time one when the clock
 *	   first reaches a due minute it had not shown; and at the run the
 *	   clock does show a matching minute (wall-clock), or reaches a due
 *	   minute and did not a second before (fixed-time);
 *	 - a schedule the parser accepts has a next run within the search
 *	   window, except a wall-clock one in a DST zone whose every matching
 *	   minute in the window falls in a gap, checked day by day.
 *
 * A broken invariant aborts, which libFuzzer reports as a crash.
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 199309L	/* clock_gettime */

#include "schedule.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MINUTE		INT64_C(60)
#define HOUR		INT64_C(3600)
#define DAY			INT64_C(86400)

/* 0001-01-01 00:00:00 and 9999-12-31 23:59:59 UTC */
#define MIN_EPOCH	INT64_C(-62135596800)
#define MAX_EPOCH	INT64_C(253402300799)

/*
 * Conversions one sp_schedule_next may make.  A real zone needs a handful
 * (more in a repeated hour: one per skipped due time, at most 60 per hour
 * repeated, each derived to_utc costing up to six to_local).
 */
#define MAX_CALLS	2000

/*
 * Wall-clock time one sp_schedule_next may take, in nanoseconds.  A call
 * takes microseconds; the bound is loose so that a loaded machine does not
 * fail it, and tight enough to say which call hung before libFuzzer's
 * -timeout would.
 */
#define MAX_NSEC	INT64_C(1000000000)

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "schedule_fuzz: invariant failed at line %d: %s\n", \
					__LINE__, #cond); \
			abort(); \
		} \
	} while (0)


/* ---------------------------------------------------------------- */
/*	The harness's own calendar (deliberately not schedule.c's)		*/
/* ---------------------------------------------------------------- */

static bool
h_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
h_days_in_month(int64_t y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return (m == 2 && h_leap(y)) ? 29 : dim[m - 1];
}

/* Days since 1970-01-01: whole years before y by the leap rule, then months. */
static int64_t
h_days(int64_t y, int m, int d)
{
	int64_t		py = y - 1;
	int64_t		days = 365 * py + py / 4 - py / 100 + py / 400 - 719162;
	int			i;

	for (i = 1; i < m; i++)
		days += h_days_in_month(y, i);
	return days + d - 1;
}

/* The inverse, by estimating the year and correcting the estimate. */
static void
h_civil(int64_t days, int *y, int *m, int *d)
{
	int64_t		year = 1 + (days + 719162) * 400 / 146097;

	while (h_days(year + 1, 1, 1) <= days)
		year++;
	while (h_days(year, 1, 1) > days)
		year--;
	days -= h_days(year, 1, 1);
	*m = 1;
	while (days >= h_days_in_month(year, *m))
		days -= h_days_in_month(year, (*m)++);
	*y = (int) year;
	*d = (int) days + 1;
}

static int
h_wday(int64_t days)
{
	return (int) (((days % 7) + 7 + 4) % 7);	/* 1970-01-01 was a Thursday */
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static void
civil_of(int64_t secs, sp_civil *c)
{
	int64_t		days = floor_div(secs, DAY);
	int64_t		rem = secs - days * DAY;

	h_civil(days, &c->year, &c->month, &c->day);
	c->hour = (int) (rem / HOUR);
	c->minute = (int) (rem / MINUTE % 60);
	c->second = (int) (rem % 60);
	c->wday = h_wday(days);
}

static int64_t
naive(const sp_civil *c)
{
	return h_days(c->year, c->month, c->day) * DAY + c->hour * HOUR +
		c->minute * MINUTE + c->second;
}


/* ---------------------------------------------------------------- */
/*	Time zones														*/
/* ---------------------------------------------------------------- */

/* Every conversion is counted, to bound the work of one call. */
static int	calls;

static bool
fixed_to_local(void *ctx, int64_t utc, sp_civil *out)
{
	calls++;
	civil_of(utc + *(const int *) ctx, out);
	return true;
}

static bool
fixed_to_utc(void *ctx, const sp_civil *local, int64_t *utc, int *kind)
{
	calls++;
	*utc = naive(local) - *(const int *) ctx;
	*kind = SP_TZ_UNIQUE;
	return true;
}

static int	off_utc = 0;
static int	off_kolkata = 5 * 3600 + 30 * 60;
static int	off_minus3 = -3 * 3600;

/* Day of month of the n-th Sunday of a month. */
static int
nth_sunday(int y, int m, int n)
{
	int			w = h_wday(h_days(y, m, 1));

	return 1 + (7 - w) % 7 + 7 * (n - 1);
}

/*
 * America/New_York by its rules since 2007, for any year: UTC-4 from the
 * second Sunday in March 07:00Z to the first Sunday in November 06:00Z.
 */
static int
ny_offset(int64_t utc)
{
	/* the last year's bounds, since the models ask about one year at a time */
	static int64_t year_start = 1,
				year_end = 0,
				dst_start,
				dst_end;

	if (utc < year_start || utc >= year_end)
	{
		sp_civil	c;

		civil_of(utc, &c);
		year_start = h_days(c.year, 1, 1) * DAY;
		year_end = h_days(c.year + 1, 1, 1) * DAY;
		dst_start = h_days(c.year, 3, nth_sunday(c.year, 3, 2)) * DAY + 7 * HOUR;
		dst_end = h_days(c.year, 11, nth_sunday(c.year, 11, 1)) * DAY + 6 * HOUR;
	}
	return (utc >= dst_start && utc < dst_end) ? -4 * 3600 : -5 * 3600;
}

static bool
ny_to_local(void *ctx, int64_t utc, sp_civil *out)
{
	(void) ctx;
	calls++;
	civil_of(utc + ny_offset(utc), out);
	return true;
}

static bool
ny_to_utc(void *ctx, const sp_civil *local, int64_t *utc, int *kind)
{
	int64_t		n = naive(local);
	bool		est = ny_offset(n + 5 * HOUR) == -5 * 3600;
	bool		edt = ny_offset(n + 4 * HOUR) == -4 * 3600;

	(void) ctx;
	calls++;
	*kind = (est && edt) ? SP_TZ_AMBIGUOUS :
		(est || edt) ? SP_TZ_UNIQUE : SP_TZ_NONEXISTENT;
	*utc = edt ? n + 4 * HOUR : n + 5 * HOUR;	/* the earlier when both */
	return true;
}

typedef struct zone
{
	const char *name;
	sp_tz_ops	ops;
	const int  *fixed;			/* the offset of a fixed zone, else NULL */
} zone;

static const zone zones[] = {
	{"UTC", {fixed_to_local, fixed_to_utc, &off_utc}, &off_utc},
	{"+05:30", {fixed_to_local, fixed_to_utc, &off_kolkata}, &off_kolkata},
	{"-03:00", {fixed_to_local, NULL, &off_minus3}, &off_minus3},
	{"New York", {ny_to_local, ny_to_utc, NULL}, NULL},
	{"New York, derived to_utc", {ny_to_local, NULL, NULL}, NULL},
};

#define N_ZONES		(sizeof(zones) / sizeof(zones[0]))


/* ---------------------------------------------------------------- */
/*	The documented rules, naively									*/
/* ---------------------------------------------------------------- */

static bool
bit(uint64_t mask, int i)
{
	return (mask >> i) & 1;
}

/* Does the schedule match day y-mo-d (schedule.h's day rule)? */
static bool
model_day(const sp_schedule *s, int y, int mo, int d)
{
	bool		dom = bit(s->mdays, d);
	bool		dow = bit(s->wdays, h_wday(h_days(y, mo, d)));

	if (!bit(s->months, mo))
		return false;
	if (s->star_step[SP_FIELD_DOM] != 0 || s->star_step[SP_FIELD_DOW] != 0)
		return dom && dow;
	return dom || dow;
}

static bool
model_matches(const sp_schedule *s, int y, int mo, int d, int h, int mi)
{
	return model_day(s, y, mo, d) && bit(s->hours, h) && bit(s->minutes, mi);
}

/*
 * Does s run by the wall clock across DST changes?  As cron(8) decides: the
 * minute or the hour field was written "*" or "*\/S".
 */
static bool
wall_clock(const sp_schedule *s)
{
	return s->star_step[SP_FIELD_MINUTE] != 0 || s->star_step[SP_FIELD_HOUR] != 0;
}

/*
 * In a zone without DST, the first local minute after the current one
 * that matches, searched day by day up to the end of the tenth year after
 * the current local one (and year 9999): false if there is none.
 */
static bool
model_next_fixed(const sp_schedule *s, int64_t after, int off, int64_t *next)
{
	int64_t		local = after + off;
	int64_t		start = floor_div(local, MINUTE) * MINUTE + MINUTE;
	int64_t		day = floor_div(start, DAY);
	sp_civil	now;
	int			last_year;

	civil_of(local, &now);
	if (now.year < 1 || now.year > 9999)
		return false;
	last_year = now.year + SP_SCHED_SEARCH_YEARS;
	if (last_year > 9999)
		last_year = 9999;
	for (;; day++)
	{
		int			y,
					mo,
					d,
					h,
					mi;

		h_civil(day, &y, &mo, &d);
		if (y > last_year)
			return false;
		if (!model_day(s, y, mo, d))
			continue;
		for (h = 0; h < 24; h++)
		{
			if (!bit(s->hours, h))
				continue;
			for (mi = 0; mi < 60; mi++)
			{
				int64_t		t = day * DAY + h * HOUR + mi * MINUTE;

				if (t >= start && bit(s->minutes, mi))
				{
					*next = t - off;
					return true;
				}
			}
		}
	}
}

/* Does a due local minute fall in (from, to] (naive local seconds)? */
static bool
due_between(const sp_schedule *s, int64_t from, int64_t to)
{
	int64_t		m;

	for (m = floor_div(from, MINUTE) * MINUTE + MINUTE; m <= to; m += MINUTE)
	{
		sp_civil	c;

		civil_of(m, &c);
		if (model_matches(s, c.year, c.month, c.day, c.hour, c.minute))
			return true;
	}
	return false;
}

/*
 * The documented rules minute by minute, as in the unit tests, walking UTC
 * (New York's offsets are whole hours).  A wall-clock schedule fires at the
 * first minute whose local time matches.  A fixed-time one: keep the latest
 * local time the clock has shown, and fire the first time the clock
 * reaches a due local minute it had not shown.  The clock may have shown a
 * later time than now's in the last two hours, if it went back since (a
 * due time it showed then has run already).
 */
static bool
model_next_walk(const sp_schedule *s, int64_t after, const sp_tz_ops *tz,
				int64_t horizon, int64_t *next)
{
	sp_civil	c;
	int64_t		shown = INT64_MIN;
	int64_t		t;

	if (wall_clock(s))
	{
		for (t = floor_div(after, MINUTE) * MINUTE + MINUTE; t <= horizon; t += MINUTE)
		{
			tz->to_local(tz->ctx, t, &c);
			if (c.year > 9999)
				return false;
			if (c.second == 0 &&
				model_matches(s, c.year, c.month, c.day, c.hour, c.minute))
			{
				*next = t;
				return true;
			}
		}
		return false;
	}

	for (t = after - 2 * HOUR; t <= after; t += MINUTE)
	{
		tz->to_local(tz->ctx, t, &c);
		if (naive(&c) > shown)
			shown = naive(&c);
	}
	for (t = floor_div(after, MINUTE) * MINUTE + MINUTE; t <= horizon; t += MINUTE)
	{
		int64_t		local;

		tz->to_local(tz->ctx, t, &c);
		if (c.year > 9999)
			return false;		/* schedule.c looks no further */
		local = naive(&c);
		if (local <= shown)
			continue;
		if (due_between(s, shown, local))
		{
			*next = t;
			return true;
		}
		shown = local;
	}
	return false;
}


/*
 * Does a wall-clock schedule have a matching minute that New York's clock
 * shows, on a local day from the day after now's to the end of the ninth
 * year after now's (inside sp_schedule_next's window)?  New York's clock
 * skips only 02:00-02:59 of the second Sunday in March.
 */
static bool
ny_shows_a_match(const sp_schedule *s, const sp_civil *now)
{
	int64_t		day = h_days(now->year, now->month, now->day) + 1;
	int64_t		last = h_days(now->year + 9, 12, 31);

	for (; day <= last; day++)
	{
		int			y,
					mo,
					d;

		h_civil(day, &y, &mo, &d);
		if (!model_day(s, y, mo, d))
			continue;
		if (!(mo == 3 && d == nth_sunday(y, 3, 2)) || (s->hours & ~(UINT32_C(1) << 2)) != 0)
			return true;
	}
	return false;
}

/* ---------------------------------------------------------------- */
/*	Checks															*/
/* ---------------------------------------------------------------- */

static void
check_error_text(const char *err)
{
	size_t		n;

	CHECK(memchr(err, '\0', SP_SCHED_ERR_MAX) != NULL);
	n = strlen(err);
	CHECK(n > 0 && err[0] >= 'a' && err[0] <= 'z');
	for (size_t i = 0; i < n; i++)
		CHECK(err[i] >= 0x20 && err[i] <= 0x7E);
}

static void
check_parsed(const sp_schedule *s)
{
	if (s->kind == SP_SCHEDULE_INTERVAL)
	{
		CHECK(s->interval >= 1 && s->interval <= 59);
		return;
	}
	CHECK(s->kind == SP_SCHEDULE_CRON);
	CHECK(s->minutes != 0 && (s->minutes >> 60) == 0);
	CHECK(s->hours != 0 && (s->hours >> 24) == 0);
	CHECK(s->mdays != 0 && (s->mdays & 1) == 0);
	CHECK(s->months != 0 && (s->months & 1) == 0 && (s->months >> 13) == 0);
	CHECK(s->wdays != 0 && (s->wdays >> 7) == 0);
}

/* The normalised text parses back to the same schedule, and fits. */
static void
check_round_trip(const sp_schedule *s)
{
	char		buf[SP_SCHED_DESCRIBE_MAX];
	char		err[SP_SCHED_ERR_MAX];
	sp_schedule again;
	int			n;

	n = sp_schedule_describe(s, buf, sizeof(buf));
	CHECK(n > 0 && n < (int) sizeof(buf) && (size_t) n == strlen(buf));
	CHECK(sp_schedule_describe(s, NULL, 0) == n);
	memset(&again, 0xAB, sizeof(again));
	CHECK(sp_schedule_parse(buf, &again, err));
	CHECK(memcmp(&again, s, sizeof(again)) == 0);
}

/* sp_schedule_next, counting the conversions it makes. */
static bool
next_counted(const sp_schedule *s, int64_t after, const sp_tz_ops *tz,
			 int64_t *next)
{
	bool		ok;
	struct timespec t0;
	struct timespec t1;

	calls = 0;
	*next = INT64_MIN;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ok = sp_schedule_next(s, after, tz, next);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(calls <= MAX_CALLS);
	CHECK((t1.tv_sec - t0.tv_sec) * INT64_C(1000000000) +
		  (t1.tv_nsec - t0.tv_nsec) <= MAX_NSEC);
	if (ok)
		CHECK(*next > after);
	return ok;
}

/*
 * The next run of s after "after" in zone z, against the models.  walk: also
 * against the minute-by-minute model over the next day (slow: for instants
 * near a DST change, where it matters).
 */
static void
check_next(const sp_schedule *s, int64_t after, const zone *z, bool walk)
{
	int64_t		next;
	int64_t		want;
	sp_civil	now;
	bool		ok = next_counted(s, after, &z->ops, &next);

	if (s->kind == SP_SCHEDULE_INTERVAL)
	{
		CHECK(ok);
		CHECK(next - after <= s->interval &&
			  floor_div(next, s->interval) * s->interval == next);
		return;
	}

	/* a local "now" outside years 1-9999 has no next run */
	z->ops.to_local(z->ops.ctx, after, &now);
	if (now.year < 1 || now.year > 9999)
	{
		CHECK(!ok);
		return;
	}

	/*
	 * A schedule the parser accepts runs within the search window, which
	 * schedule.h promises from any "now" (only a hand-built schedule, say
	 * for 30 February, has no run), unless year 9999 ends the window or,
	 * in New York, every matching minute of a wall-clock schedule falls in
	 * the spring-forward gap.
	 */
	if (now.year <= 9999 - SP_SCHED_SEARCH_YEARS && !ok)
		CHECK(z->fixed == NULL && wall_clock(s) && !ny_shows_a_match(s, &now));

	if (z->fixed != NULL)
	{
		bool		found = model_next_fixed(s, after, *z->fixed, &want);

		CHECK(ok == found);
		if (ok)
			CHECK(next == want);
	}
	else
	{
		if (walk)
		{
			bool		found = model_next_walk(s, after, &z->ops, after + DAY, &want);

			if (found)
				CHECK(ok && next == want);
			else if (ok)
				CHECK(next > after + DAY);
		}
		if (ok && wall_clock(s))
		{
			sp_civil	at;

			/* the clock shows a matching minute at next */
			ny_to_local(NULL, next, &at);
			CHECK(at.second == 0 &&
				  model_matches(s, at.year, at.month, at.day, at.hour, at.minute));
		}
		else if (ok)
		{
			sp_civil	before;
			sp_civil	at;

			/* the clock reaches a due minute at next, not a second before */
			ny_to_local(NULL, next - 1, &before);
			ny_to_local(NULL, next, &at);
			CHECK(due_between(s, naive(&before), naive(&at)));
		}
	}

	/* the run after the next one comes later still */
	if (ok && next < MAX_EPOCH)
	{
		int64_t		then;

		if (next_counted(s, next, &z->ops, &then))
			CHECK(then > next);
	}
}

/*
 * Interesting instants: the New York DST changes of 2026, a century year
 * that is no leap year, the ends of the range.
 */
static const int64_t bases[] = {
	INT64_C(1772953140),		/* 2026-03-08 06:59:00Z, before spring-forward */
	INT64_C(1793512740),		/* 2026-11-01 05:59:00Z, before fall-back */
	INT64_C(4081708800),		/* 2099-05-06, before 2100 (no 29 February) */
	INT64_C(1767225600),		/* 2026-01-01 */
	MIN_EPOCH + 30,
	MAX_EPOCH - 12 * DAY,
	0,
};

#define N_BASES		(sizeof(bases) / sizeof(bases[0]))

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text;
	const uint8_t *nul;
	sp_schedule s;
	char		err[SP_SCHED_ERR_MAX];
	int64_t		after;
	bool		walk;
	size_t		z;

	/* the text, NUL-terminated, then what follows a NUL picks "now" */
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	nul = memchr(data, '\0', size);
	after = bases[0];
	walk = true;
	if (nul != NULL && (size_t) (data + size - nul) > 1)
	{
		const uint8_t *p = nul + 1;
		size_t		n = (size_t) (data + size - p);
		size_t		b = p[0] % N_BASES;
		int32_t		delta = 0;

		if (n >= 5)
			delta = (int32_t) ((uint32_t) p[1] | (uint32_t) p[2] << 8 |
							   (uint32_t) p[3] << 16 | (uint32_t) p[4] << 24);
		after = bases[b] + delta;
		walk = b <= 1 && delta > -2 * DAY && delta < 2 * DAY;
		if (after < MIN_EPOCH)
			after = MIN_EPOCH;
		if (after > MAX_EPOCH)
			after = MAX_EPOCH;
	}

	memset(err, 0x7F, sizeof(err));
	memset(&s, 0xAB, sizeof(s));
	if (!sp_schedule_parse(text, &s, err))
	{
		check_error_text(err);
		free(text);
		return 0;
	}
	CHECK(err[0] == '\0');
	check_parsed(&s);
	check_round_trip(&s);

	for (z = 0; z < N_ZONES; z++)
		check_next(&s, after, &zones[z], walk);
	/* the DST changes of 2026, whatever instant the input picked */
	check_next(&s, bases[1], &zones[3], true);
	check_next(&s, bases[1], &zones[4], true);

	free(text);
	return 0;
}
