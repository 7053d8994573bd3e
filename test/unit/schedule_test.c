/*-------------------------------------------------------------------------
 *
 * schedule_test.c
 *	  Unit tests of job schedules (src/schedule.c): parsing, error texts,
 *	  next run times in UTC, fixed offsets, and America/New_York and
 *	  Europe/Berlin across DST.
 *
 * A self-contained program: no test framework, no PostgreSQL.  It prints one
 * TAP-like line per check, "ok N - what" or "not ok N - what" (followed by
 * "#" lines saying what was got instead), then "# P passed, F failed", and
 * exits 1 if any check failed.
 *
 * America/New_York is written here from its rules (since 2007: UTC-5, and
 * UTC-4 from the second Sunday in March 02:00 local to the first Sunday in
 * November 02:00 local), and Europe/Berlin likewise (UTC+1, and UTC+2 from
 * the last Sunday in March 01:00 UTC to the last Sunday in October 01:00
 * UTC), with calendar code of its own, not schedule.c's, and checked
 * against the system's zoneinfo when that is installed.  Expected instants
 * are written as UTC civil times worked out by hand from those offsets; an
 * independent minute-by-minute model of the documented rules (schedule.c:
 * a wall-clock schedule, "*" or "*\/S" in the minute or hour field, runs
 * whenever the local clock shows a matching minute; a fixed-time one runs
 * a job due at local time L at the first instant the local clock shows L
 * or later, once) is compared with sp_schedule_next around every DST
 * change of 2025-2027.
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L	/* setenv, tzset, localtime_r */

#include "schedule.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HOUR		INT64_C(3600)
#define DAY			INT64_C(86400)

#include "tap.h"


/* ---------------------------------------------------------------- */
/*	The test's own calendar (deliberately not schedule.c's)			*/
/* ---------------------------------------------------------------- */

static bool
t_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
t_days_in_month(int y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return (m == 2 && t_leap(y)) ? 29 : dim[m - 1];
}

/*
 * Days since 1970-01-01 (years from 1): the days of the whole years before
 * y by the leap-year rule, 719162 of them before 1970, then whole months.
 */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t		py = y - 1;
	int64_t		days = 365 * py + py / 4 - py / 100 + py / 400 - 719162;
	int			i;

	for (i = 1; i < m; i++)
		days += t_days_in_month(y, i);
	return days + d - 1;
}

/* The inverse, by estimating the year and correcting the estimate. */
static void
civil_from_days(int64_t days, int *y, int *m, int *d)
{
	int			year = 1 + (int) ((days + 719162) * 400 / 146097);

	while (days_from_civil(year + 1, 1, 1) <= days)
		year++;
	while (days_from_civil(year, 1, 1) > days)
		year--;
	days -= days_from_civil(year, 1, 1);
	*m = 1;
	while (days >= t_days_in_month(year, *m))
		days -= t_days_in_month(year, (*m)++);
	*y = year;
	*d = (int) days + 1;
}

static int
t_wday(int64_t days)
{
	return (int) (((days % 7) + 7 + 4) % 7);	/* 1970-01-01 was a Thursday */
}

/* A UTC civil time as seconds since the epoch. */
static int64_t
UTC(int y, int mo, int d, int h, int mi, int s)
{
	return days_from_civil(y, mo, d) * DAY + h * HOUR + mi * 60 + s;
}

static int64_t
naive(const sp_civil *c)
{
	return UTC(c->year, c->month, c->day, c->hour, c->minute, c->second);
}

static void
civil_of(int64_t secs, sp_civil *c)
{
	int64_t		days = secs / DAY;
	int64_t		rem = secs % DAY;

	if (rem < 0)
	{
		rem += DAY;
		days--;
	}
	civil_from_days(days, &c->year, &c->month, &c->day);
	c->hour = (int) (rem / HOUR);
	c->minute = (int) (rem / 60 % 60);
	c->second = (int) (rem % 60);
	c->wday = t_wday(days);
}

/* "2026-03-08 07:00:00Z" into buf (32 bytes), for diagnostics. */
static const char *
fmt_utc(char *buf, int64_t t)
{
	sp_civil	c;

	civil_of(t, &c);
	snprintf(buf, 32, "%04d-%02d-%02d %02d:%02d:%02dZ",
			 c.year, c.month, c.day, c.hour, c.minute, c.second);
	return buf;
}


/* ---------------------------------------------------------------- */
/*	Time zones for the tests										*/
/* ---------------------------------------------------------------- */

/* Fixed offsets (UTC among them): ctx points to the offset in seconds. */
static bool
fixed_to_local(void *ctx, int64_t utc, sp_civil *out)
{
	civil_of(utc + *(const int *) ctx, out);
	return true;
}

static bool
fixed_to_utc(void *ctx, const sp_civil *local, int64_t *utc, int *kind)
{
	*utc = naive(local) - *(const int *) ctx;
	*kind = SP_TZ_UNIQUE;
	return true;
}

static int	off_utc = 0;
static int	off_kolkata = 5 * 3600 + 30 * 60;
static int	off_minus3 = -3 * 3600;

static const sp_tz_ops tz_utc = {fixed_to_local, fixed_to_utc, &off_utc};
static const sp_tz_ops tz_kolkata = {fixed_to_local, fixed_to_utc, &off_kolkata};
static const sp_tz_ops tz_minus3 = {fixed_to_local, fixed_to_utc, &off_minus3};

/* Day of month of the n-th (1-based) Sunday of a month. */
static int
nth_sunday(int y, int m, int n)
{
	int			w = t_wday(days_from_civil(y, m, 1));

	return 1 + (7 - w) % 7 + 7 * (n - 1);
}

/*
 * UTC offset of America/New_York at an instant.  DST starts at 02:00 EST
 * (07:00Z) on the second Sunday in March and ends at 02:00 EDT (06:00Z) on
 * the first Sunday in November.  The UTC year is the local year whenever
 * it matters (never near New Year).
 */
static int
ny_offset(int64_t utc)
{
	sp_civil	c;
	int64_t		start;
	int64_t		end;

	civil_of(utc, &c);
	start = UTC(c.year, 3, nth_sunday(c.year, 3, 2), 7, 0, 0);
	end = UTC(c.year, 11, nth_sunday(c.year, 11, 1), 6, 0, 0);
	return (utc >= start && utc < end) ? -4 * 3600 : -5 * 3600;
}

static bool
ny_to_local(void *ctx, int64_t utc, sp_civil *out)
{
	(void) ctx;
	civil_of(utc + ny_offset(utc), out);
	return true;
}

/*
 * A local time is EST if reading it as EST gives an instant that is EST,
 * EDT likewise; both: ambiguous, earlier instant (EDT) first; neither: in
 * the spring gap, where *utc is set to a wrong value on purpose, since
 * schedule.c must not use it.
 */
static bool
ny_to_utc(void *ctx, const sp_civil *local, int64_t *utc, int *kind)
{
	int64_t		n = naive(local);
	int64_t		as_est = n + 5 * HOUR;
	int64_t		as_edt = n + 4 * HOUR;
	bool		est = ny_offset(as_est) == -5 * 3600;
	bool		edt = ny_offset(as_edt) == -4 * 3600;

	(void) ctx;
	if (est && edt)
	{
		*utc = as_edt;
		*kind = SP_TZ_AMBIGUOUS;
	}
	else if (est || edt)
	{
		*utc = est ? as_est : as_edt;
		*kind = SP_TZ_UNIQUE;
	}
	else
	{
		*utc = INT64_C(-1);
		*kind = SP_TZ_NONEXISTENT;
	}
	return true;
}

static const sp_tz_ops tz_ny = {ny_to_local, ny_to_utc, NULL};

/* The same zone with to_utc left to schedule.c to derive from to_local. */
static const sp_tz_ops tz_ny_derived = {ny_to_local, NULL, NULL};

/* Day of month of the last Sunday of a month. */
static int
last_sunday(int y, int m)
{
	int			last = t_days_in_month(y, m);

	return last - t_wday(days_from_civil(y, m, last));
}

/*
 * UTC offset of Europe/Berlin at an instant: CEST (UTC+2) from 01:00Z on
 * the last Sunday in March (02:00 CET becomes 03:00 CEST) to 01:00Z on the
 * last Sunday in October (03:00 CEST becomes 02:00 CET), else CET (UTC+1).
 */
static int
berlin_offset(int64_t utc)
{
	sp_civil	c;
	int64_t		start;
	int64_t		end;

	civil_of(utc, &c);
	start = UTC(c.year, 3, last_sunday(c.year, 3), 1, 0, 0);
	end = UTC(c.year, 10, last_sunday(c.year, 10), 1, 0, 0);
	return (utc >= start && utc < end) ? 2 * 3600 : 3600;
}

static bool
berlin_to_local(void *ctx, int64_t utc, sp_civil *out)
{
	(void) ctx;
	civil_of(utc + berlin_offset(utc), out);
	return true;
}

/* As ny_to_utc: CEST and CET readings, the earlier (CEST) first. */
static bool
berlin_to_utc(void *ctx, const sp_civil *local, int64_t *utc, int *kind)
{
	int64_t		n = naive(local);
	bool		cet = berlin_offset(n - HOUR) == 3600;
	bool		cest = berlin_offset(n - 2 * HOUR) == 2 * 3600;

	(void) ctx;
	*kind = (cet && cest) ? SP_TZ_AMBIGUOUS :
		(cet || cest) ? SP_TZ_UNIQUE : SP_TZ_NONEXISTENT;
	*utc = cest ? n - 2 * HOUR : cet ? n - HOUR : INT64_C(-1);
	return true;
}

static const sp_tz_ops tz_berlin = {berlin_to_local, berlin_to_utc, NULL};
static const sp_tz_ops tz_berlin_derived = {berlin_to_local, NULL, NULL};

/* The zone of the TZ environment variable, through libc (zoneinfo tests). */
static bool
libc_to_local(void *ctx, int64_t utc, sp_civil *out)
{
	time_t		tt = (time_t) utc;
	struct tm	tm;

	(void) ctx;
	if (localtime_r(&tt, &tm) == NULL)
		return false;
	out->year = tm.tm_year + 1900;
	out->month = tm.tm_mon + 1;
	out->day = tm.tm_mday;
	out->hour = tm.tm_hour;
	out->minute = tm.tm_min;
	out->second = tm.tm_sec;
	out->wday = tm.tm_wday;
	return true;
}

static const sp_tz_ops tz_libc = {libc_to_local, NULL, NULL};

/* Wraps a zone to count the callback calls. */
typedef struct counting
{
	const sp_tz_ops *inner;
	int			to_local_calls;
	int			to_utc_calls;
} counting;

static bool
counting_to_local(void *ctx, int64_t utc, sp_civil *out)
{
	counting   *c = ctx;

	c->to_local_calls++;
	return c->inner->to_local(c->inner->ctx, utc, out);
}

static bool
counting_to_utc(void *ctx, const sp_civil *local, int64_t *utc, int *kind)
{
	counting   *c = ctx;

	c->to_utc_calls++;
	return c->inner->to_utc(c->inner->ctx, local, utc, kind);
}

/* A zone whose conversions always fail. */
static bool
failing_to_local(void *ctx, int64_t utc, sp_civil *out)
{
	(void) ctx;
	(void) utc;
	(void) out;
	return false;
}

static bool
failing_to_utc(void *ctx, const sp_civil *local, int64_t *utc, int *kind)
{
	(void) ctx;
	(void) local;
	(void) utc;
	(void) kind;
	return false;
}


/* ---------------------------------------------------------------- */
/*	Check helpers													*/
/* ---------------------------------------------------------------- */

/*
 * text for a check's description: control and non-ASCII bytes as \xNN so
 * that a check stays one line.  A static buffer: one call per printf.
 */
static const char *
show(const char *text)
{
	static char buf[256];
	size_t		n = 0;

	if (text == NULL)
		return "(null)";
	for (; *text != '\0' && n < sizeof(buf) - 5; text++)
	{
		unsigned char ch = (unsigned char) *text;

		if (ch >= 0x20 && ch < 0x7F)
			buf[n++] = (char) ch;
		else
			n += (size_t) snprintf(buf + n, 5, "\\x%02X", ch);
	}
	buf[n] = '\0';
	return buf;
}

/* An error text as wanted: NUL within SP_SCHED_ERR_MAX, one line, lower-case start. */
static bool
err_ok(const char *err)
{
	return memchr(err, '\0', SP_SCHED_ERR_MAX) != NULL &&
		strchr(err, '\n') == NULL &&
		err[0] >= 'a' && err[0] <= 'z';
}

/* Parse text that must be accepted; no check of its own. */
static bool
parse(const char *text, sp_schedule *s, char *err)
{
	memset(err, 0x7F, SP_SCHED_ERR_MAX);
	memset(s, 0xAB, sizeof(*s));
	return sp_schedule_parse(text, s, err);
}

/* text must parse, and describe itself as want. */
static void
good(const char *text, const char *want)
{
	sp_schedule s;
	char		err[SP_SCHED_ERR_MAX];
	char		buf[SP_SCHED_DESCRIBE_MAX];
	bool		ok = parse(text, &s, err);

	if (!ok)
	{
		check(false, "accepted: \"%s\"", show(text));
		diag("got: %s", err_ok(err) ? err : "(malformed error text)");
		return;
	}
	sp_schedule_describe(&s, buf, sizeof(buf));
	if (!check(err[0] == '\0' && strcmp(buf, want) == 0,
			   "accepted: \"%s\" as \"%s\"", show(text), want))
		diag("got \"%s\", err \"%.40s\"", buf, err);
}

/* text must be refused with exactly the error expect. */
static void
bad(const char *text, const char *expect)
{
	sp_schedule s;
	char		err[SP_SCHED_ERR_MAX];
	bool		ok = parse(text, &s, err);

	if (check(!ok && err_ok(err) && strcmp(err, expect) == 0,
			  "refused: \"%s\"", show(text)))
		return;
	if (ok)
		diag("got: accepted");
	else if (!err_ok(err))
		diag("got: a malformed or missing error text");
	else
		diag("got:      %s", err);
	diag("expected: %s", expect);
}

static void
must_parse(const char *text, sp_schedule *s)
{
	char		err[SP_SCHED_ERR_MAX];

	if (!parse(text, s, err))
	{
		fprintf(stderr, "schedule_test: \"%s\" does not parse: %s\n", text, err);
		exit(2);
	}
}

/* The next run of text after after must be want. */
static void
next_is(const char *text, const sp_tz_ops *tz, int64_t after, int64_t want,
		const char *desc)
{
	sp_schedule s;
	int64_t		got = INT64_MIN;
	bool		ok;
	char		b1[32];
	char		b2[32];
	char		b3[32];

	must_parse(text, &s);
	ok = sp_schedule_next(&s, after, tz, &got);
	if (!check(ok && got == want, "\"%s\" after %s: %s (%s)", text,
			   fmt_utc(b1, after), fmt_utc(b2, want), desc))
	{
		if (ok)
			diag("got %s", fmt_utc(b3, got));
		else
			diag("got: no next run");
	}
}

/*
 * Successive runs of text from after must be want[0..n-1]: one check for
 * the whole sequence.
 */
static void
runs_are(const char *text, const sp_tz_ops *tz, int64_t after,
		 const int64_t *want, int n, const char *desc)
{
	sp_schedule s;
	int64_t		t = after;
	int			i;
	char		b1[32];
	char		b2[32];

	must_parse(text, &s);
	for (i = 0; i < n; i++)
	{
		int64_t		got = INT64_MIN;

		if (!sp_schedule_next(&s, t, tz, &got) || got != want[i])
		{
			check(false, "\"%s\": %s", text, desc);
			diag("run %d after %s: got %s, expected %s", i + 1,
				 fmt_utc(b1, t), got == INT64_MIN ? "none" : fmt_utc(b2, got),
				 fmt_utc(b1, want[i]));
			return;
		}
		t = got;
	}
	check(true, "\"%s\": %s", text, desc);
}


/* ---------------------------------------------------------------- */
/*	Parsing															*/
/* ---------------------------------------------------------------- */

static void
test_parse_good(void)
{
	sp_schedule s;
	char		err[SP_SCHED_ERR_MAX];

	good("* * * * *", "* * * * *");
	good("0 0 * * *", "0 0 * * *");
	good("*/15 * * * *", "*/15 * * * *");
	good("0-10/5 9-17 * * *", "0,5,10 9-17 * * *");
	good("1,2,3-5,59 0,23 1,31 1,12 0,6", "1-5,59 0,23 1,31 1,12 0,6");
	good("30 16 * * 1-5", "30 16 * * 1-5");
	good("0 9 * JAN,jul Mon-FRI", "0 9 * 1,7 1-5");
	good("0 9 * jan-MAR/2 sun,SAT", "0 9 * 1,3 0,6");
	good("0 0 * * 7", "0 0 * * 0");
	good("0 0 * * 5-7", "0 0 * * 0,5-6");
	good("0 0 * * 0-7", "0 0 * * 0-6");
	good("0 0 * * */2", "0 0 * * */2");
	good("0 0 */2 * *", "0 0 */2 * *");
	good("0-59/20 */6 1-31/10 */3 *", "0,20,40 */6 1,11,21,31 */3 *");
	good("59 23 31 12 *", "59 23 31 12 *");
	good("0 0 29 2 *", "0 0 29 2 *");
	good("0 0 30 2 1", "0 0 30 2 1");
	good("0 0 31 4,5 *", "0 0 31 4-5 *");
	good("0 0 13 * */5", "0 0 13 * */5");		/* a Sunday or Friday 13th */
	good("0 0 */7 * MON", "0 0 */7 * 1");		/* Mondays the 1st, 8th, ... */
	good("0 0 1 1 */2", "0 0 1 1 */2");		/* 1 January, Sun/Tue/Thu/Sat */
	good("  \t5\t4  *   * *  \n", "5 4 * * *");
	good("007 08 * * *", "7 8 * * *");
	good("@hourly", "0 * * * *");
	good("@daily", "0 0 * * *");
	good("@midnight", "0 0 * * *");
	good("@weekly", "0 0 * * 0");
	good("@monthly", "0 0 1 * *");
	good("@yearly", "0 0 1 1 *");
	good("@annually", "0 0 1 1 *");
	good("  @DAILY ", "0 0 * * *");
	good("5 seconds", "5 seconds");
	good("1 second", "1 second");
	good("1 seconds", "1 second");
	good("59 seconds", "59 seconds");
	good(" 7   SECONDS ", "7 seconds");
	good("30 Second", "30 seconds");

	/* The parsed form itself. */
	parse("*/15 9-16 * * 1-5", &s, err);
	check(s.kind == SP_SCHEDULE_CRON &&
		  s.minutes == ((UINT64_C(1) << 0) | (UINT64_C(1) << 15) |
						(UINT64_C(1) << 30) | (UINT64_C(1) << 45)) &&
		  s.hours == 0x1FE00 && s.mdays == 0xFFFFFFFE && s.months == 0x1FFE &&
		  s.wdays == 0x3E && s.star_step[SP_FIELD_MINUTE] == 15 &&
		  s.star_step[SP_FIELD_HOUR] == 0 && s.star_step[SP_FIELD_DOM] == 1 &&
		  s.star_step[SP_FIELD_DOW] == 0,
		  "\"*/15 9-16 * * 1-5\" parses to the expected bit masks");
	parse("5 seconds", &s, err);
	check(s.kind == SP_SCHEDULE_INTERVAL && s.interval == 5,
		  "\"5 seconds\" parses to an interval of 5");
	check(sp_schedule_parse("@daily", &s, NULL), "a NULL err is allowed");
}

#define ACCEPTED "expected 5 cron fields (minute hour day-of-month month day-of-week), " \
	"a macro like \"@daily\", or \"N seconds\" (1-59)"
#define SYNTAX "*, */S, N, A-B, A-B/S or a comma-separated list of N, A-B, A-B/S"
#define INTERVAL "expected \"N seconds\" with N from 1 to 59"

static void
test_parse_bad(void)
{
	char		err[SP_SCHED_ERR_MAX];
	sp_schedule s;

	bad(NULL, "schedule is empty; " ACCEPTED);
	bad("", "schedule is empty; " ACCEPTED);
	bad(" \t ", "schedule is empty; " ACCEPTED);
	bad("daily", "schedule has 1 field; " ACCEPTED);
	bad("* * * *", "schedule has 4 fields; " ACCEPTED);
	bad("* * * * * *", "schedule has 6 fields; " ACCEPTED);
	bad("0 0 * * * root /bin/true", "schedule has 7 fields; " ACCEPTED);
	bad("* *", "schedule has 2 fields; " ACCEPTED);

	bad("61 * * * *", "minute field \"61\" is out of range 0-59");
	bad("60 * * * *", "minute field \"60\" is out of range 0-59");
	bad("* 24 * * *", "hour field \"24\" is out of range 0-23");
	bad("* * 0 * *", "day-of-month field \"0\" is out of range 1-31");
	bad("* * 32 * *", "day-of-month field \"32\" is out of range 1-31");
	bad("* * * 0 *", "month field \"0\" is out of range 1-12");
	bad("* * * 13 *", "month field \"13\" is out of range 1-12");
	bad("* * * * 8", "day-of-week field \"8\" is out of range 0-7");
	bad("5-61 * * * *", "minute field \"5-61\" is out of range 0-59");
	bad("1,2,99 * * * *", "minute field \"99\" is out of range 0-59");
	bad("99999999999999999999 * * * *",
		"minute field \"99999999999999999999\" is out of range 0-59");
	bad("10-5 * * * *", "minute field \"10-5\" is a range whose start is after its end");
	bad("* * * * FRI-MON", "day-of-week field \"FRI-MON\" is a range whose start is after its end");
	bad("*/0 * * * *", "minute field \"*/0\" has a step out of range 1-59");
	bad("*/60 * * * *", "minute field \"*/60\" has a step out of range 1-59");
	bad("* */24 * * *", "hour field \"*/24\" has a step out of range 1-23");
	bad("0-30/0 * * * *", "minute field \"0-30/0\" has a step out of range 1-59");
	bad("* * * * */8", "day-of-week field \"*/8\" has a step out of range 1-7");

	bad("a * * * *", "minute field \"a\" is invalid; expected " SYNTAX);
	bad("1,,2 * * * *", "minute field \"1,,2\" is invalid; expected " SYNTAX);
	bad("1, * * * *", "minute field \"1,\" is invalid; expected " SYNTAX);
	bad(",1 * * * *", "minute field \",1\" is invalid; expected " SYNTAX);
	bad("5/10 * * * *", "minute field \"5/10\" is invalid; expected " SYNTAX);
	bad("1- * * * *", "minute field \"1-\" is invalid; expected " SYNTAX);
	bad("-1 * * * *", "minute field \"-1\" is invalid; expected " SYNTAX);
	bad("1-5/ * * * *", "minute field \"1-5/\" is invalid; expected " SYNTAX);
	bad("*,5 * * * *", "minute field \"*,5\" is invalid; expected " SYNTAX);
	bad("*/ * * * *", "minute field \"*/\" is invalid; expected " SYNTAX);
	bad("*/5x * * * *", "minute field \"*/5x\" is invalid; expected " SYNTAX);
	bad("** * * * *", "minute field \"**\" is invalid; expected " SYNTAX);
	bad("? * * * *", "minute field \"?\" is invalid; expected " SYNTAX);
	bad("L * * * *", "minute field \"L\" is invalid; expected " SYNTAX);
	bad("0 MON * * *", "hour field \"MON\" is invalid; expected " SYNTAX);
	bad("* * * JANUARY *",
		"month field \"JANUARY\" is invalid; expected " SYNTAX " (N also JAN-DEC)");
	bad("* * * MON *",
		"month field \"MON\" is invalid; expected " SYNTAX " (N also JAN-DEC)");
	bad("* * * * MON-",
		"day-of-week field \"MON-\" is invalid; expected " SYNTAX " (N also SUN-SAT)");
	bad("* * * * MONDAY",
		"day-of-week field \"MONDAY\" is invalid; expected " SYNTAX " (N also SUN-SAT)");
	bad("* * * * JAN",
		"day-of-week field \"JAN\" is invalid; expected " SYNTAX " (N also SUN-SAT)");
	bad("\x01\x7f\xc3\xa9 * * * *",
		"minute field \"????\" is invalid; expected " SYNTAX);
	bad("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,x * * * *",
		"minute field \"1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,1...\" is invalid; expected " SYNTAX);

	bad("0 0 30 2 *", "day-of-month field \"30\" never occurs in month field \"2\"");
	bad("0 0 31 4,6,9,11 *",
		"day-of-month field \"31\" never occurs in month field \"4,6,9,11\"");
	bad("0 0 30-31 FEB */2",
		"day-of-month field \"30-31\" never occurs in month field \"FEB\"");

	/*
	 * A day must match both day fields (one is "*\/S"), and they meet less
	 * than once in ten years: sp_schedule_next() would find no run.  Found
	 * by fuzzing (test/fuzz/regressions/schedule): "8 9 *\/7 6 MON" runs when
	 * June 1st is a Monday, 2026 then 2037.
	 */
	bad("8 9 */7 6 MON", "day-of-month field \"*/7\" and day-of-week field \"MON\" "
		"meet in month field \"6\" less than once in 10 years");
	bad("0 0 29 2 */7", "day-of-month field \"29\" and day-of-week field \"*/7\" "
		"meet in month field \"2\" less than once in 10 years");
	bad("0 0 */31 FEB 1", "day-of-month field \"*/31\" and day-of-week field \"1\" "
		"meet in month field \"FEB\" less than once in 10 years");

	bad("@reboot", "unknown schedule macro \"@reboot\"; accepted: "
		"@hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually");
	bad("@", "unknown schedule macro \"@\"; accepted: "
		"@hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually");
	bad("@daily 5", "macro \"@daily\" must be the whole schedule");

	bad("0 seconds", "interval \"0 seconds\" is out of range; " INTERVAL);
	bad("60 seconds", "interval \"60 seconds\" is out of range; " INTERVAL);
	bad("1000000000000 seconds", "interval \"1000000000000 seconds\" is out of range; " INTERVAL);
	bad("x seconds", "interval \"x seconds\" is invalid; " INTERVAL);
	bad("-5 seconds", "interval \"-5 seconds\" is invalid; " INTERVAL);
	bad("5s seconds", "interval \"5s seconds\" is invalid; " INTERVAL);
	bad("5 minutes", "interval unit \"minutes\" is not accepted; " INTERVAL ", or a cron schedule");
	bad("5 sec", "interval unit \"sec\" is not accepted; " INTERVAL ", or a cron schedule");
	bad("5 secondss", "interval unit \"secondss\" is not accepted; " INTERVAL ", or a cron schedule");
	bad("5 seconds ago", "schedule has 3 fields; " ACCEPTED);

	/* A successful parse clears err. */
	memset(err, 'x', sizeof(err));
	check(sp_schedule_parse("@daily", &s, err) && err[0] == '\0',
		  "a successful parse leaves err empty");
}

/* Bits lo, lo+step, ... hi. */
static uint64_t
bits(int lo, int hi, int step)
{
	uint64_t	m = 0;
	int			v;

	for (v = lo; v <= hi; v += step)
		m |= UINT64_C(1) << v;
	return m;
}

/*
 * Which schedules the parser refuses for day fields that meet too rarely
 * (fewer than once in 3651 days, the shortest ten years) against a walk of
 * every day of a 400-year cycle with the test's own calendar, for a family
 * of day-of-month, day-of-week and month fields.
 */
static void
test_rare_days(void)
{
	static const struct
	{
		const char *text;
		int			lo,
					hi,
					step;
	}			doms[] = {
		{"*/2", 1, 31, 2}, {"*/3", 1, 31, 3}, {"*/7", 1, 31, 7}, {"*/10", 1, 31, 10},
		{"*/15", 1, 31, 15}, {"*/30", 1, 31, 30}, {"*/31", 1, 31, 31}, {"13", 13, 13, 1},
		{"29", 29, 29, 1}, {"31", 31, 31, 1}, {"1-7", 1, 7, 1}, {"29-31", 29, 31, 1},
	}, dows[] = {
		{"0", 0, 0, 1}, {"1", 1, 1, 1}, {"6", 6, 6, 1}, {"*/2", 0, 6, 2}, {"*/3", 0, 6, 3},
		{"*/6", 0, 6, 6}, {"*/7", 0, 6, 7}, {"1-5", 1, 5, 1},
	}, months[] = {
		{"*", 1, 12, 1}, {"2", 2, 2, 1}, {"6", 6, 6, 1}, {"2,8", 2, 8, 6}, {"*/6", 1, 12, 6},
	};
	size_t		i, j, k;
	int			n = 0, wrong = 0, refused = 0;

	for (i = 0; i < sizeof(doms) / sizeof(doms[0]); i++)
		for (j = 0; j < sizeof(dows) / sizeof(dows[0]); j++)
			for (k = 0; k < sizeof(months) / sizeof(months[0]); k++)
			{
				uint64_t	dm = bits(doms[i].lo, doms[i].hi, doms[i].step);
				uint64_t	wm = bits(dows[j].lo, dows[j].hi, dows[j].step);
				uint64_t	mm = bits(months[k].lo, months[k].hi, months[k].step);
				bool		both = doms[i].text[0] == '*' || dows[j].text[0] == '*';
				int64_t		day0 = days_from_civil(2001, 1, 1);
				int64_t		day,
							first = -1,
							last = -1,
							gap = 0;
				char		text[64];
				sp_schedule s;
				char		err[SP_SCHED_ERR_MAX];
				bool		want;

				int			y = 2001,
							m = 1,
							d = 1;

				for (day = day0; day < day0 + 146097; day++)
				{
					bool		dom,
								dow;

					if (day > day0 && ++d > t_days_in_month(y, m))
					{
						d = 1;
						if (++m > 12)
						{
							m = 1;
							y++;
						}
					}
					dom = (dm >> d) & 1;
					dow = (wm >> t_wday(day)) & 1;
					if (((mm >> m) & 1) && (both ? dom && dow : dom || dow))
					{
						if (first >= 0 && day - last > gap)
							gap = day - last;
						if (first < 0)
							first = day;
						last = day;
					}
				}
				if (first >= 0 && first + 146097 - last > gap)
					gap = first + 146097 - last;
				want = first >= 0 && gap <= 3651;

				snprintf(text, sizeof(text), "0 0 %s %s %s",
						 doms[i].text, months[k].text, dows[j].text);
				if (sp_schedule_parse(text, &s, err) != want)
				{
					if (wrong++ < 5)
						diag("\"%s\": longest gap %" PRId64 " days, %s", text, gap,
							 want ? "refused" : "accepted");
				}
				refused += !want;
				n++;
			}
	check(wrong == 0, "the day fields of %d schedules meet often enough exactly when "
		  "a walk of 400 years says (%d too rarely)", n, refused);
}

static void
test_describe_and_helpers(void)
{
	sp_schedule s;
	char		buf[SP_SCHED_DESCRIBE_MAX];
	char		small[8];
	int			n;
	int			len;
	int64_t		t;
	bool		all_ok = true;

	/* Like snprintf: the full length back, a cut but terminated text. */
	must_parse("0-58/2 0-22/2 1-31/2 1-11/2 0-6/2", &s);
	len = sp_schedule_describe(&s, buf, sizeof(buf));
	n = sp_schedule_describe(&s, small, sizeof(small));
	check(n == len && n == (int) strlen(buf) && strlen(small) == 7 &&
		  strncmp(small, buf, 7) == 0,
		  "describe truncates like snprintf (%d bytes)", len);
	check(sp_schedule_describe(&s, NULL, 0) == len, "describe with no buffer gives the length");

	/*
	 * The longest normalised text: every other value, in every field;
	 * must fit SP_SCHED_DESCRIBE_MAX.
	 */
	must_parse("1-59/2 1-23/2 2-31/2 2-12/2 1,3,5 ", &s);
	len = sp_schedule_describe(&s, buf, sizeof(buf));
	check(len < SP_SCHED_DESCRIBE_MAX, "a long description fits (%d bytes)", len);

	/* Round trip of every describe through the parser. */
	must_parse("1-5,7,9-10 */3 2,4-6 FEB-APR,DEC SAT-SAT", &s);
	sp_schedule_describe(&s, buf, sizeof(buf));
	{
		sp_schedule s2;

		must_parse(buf, &s2);
		check(s2.minutes == s.minutes && s2.hours == s.hours &&
			  s2.mdays == s.mdays && s2.months == s.months &&
			  s2.wdays == s.wdays &&
			  memcmp(s2.star_step, s.star_step, sizeof(s.star_step)) == 0,
			  "describe then parse gives the same schedule (\"%s\")", buf);
	}

	/* sp_civil_to_epoch / sp_civil_from_epoch against the test's calendar. */
	for (t = UTC(1, 1, 1, 0, 0, 0); t <= UTC(9999, 12, 31, 0, 0, 0); t += 9999 * HOUR + 59 * 60 + 7)
	{
		sp_civil	a;
		sp_civil	b;

		sp_civil_from_epoch(t, &a);
		civil_of(t, &b);
		if (memcmp(&a, &b, sizeof(a)) != 0 || sp_civil_to_epoch(&a) != t)
		{
			char		b1[32];

			if (all_ok)
				diag("at %s", fmt_utc(b1, t));
			all_ok = false;
		}
	}
	check(all_ok, "sp_civil_from_epoch and sp_civil_to_epoch agree with an independent calendar, years 1-9999");

	{
		sp_civil	fri = {2026, 1, 2, 0, 0, 0, 6};		/* wday wrong on purpose */
		sp_civil	sat = {2026, 1, 3, 0, 0, 0, 1};
		sp_civil	sun = {2026, 1, 4, 0, 0, 0, 1};
		sp_civil	mon = {2026, 1, 5, 0, 0, 0, 0};

		check(sp_civil_is_weekday(&fri) && !sp_civil_is_weekday(&sat) &&
			  !sp_civil_is_weekday(&sun) && sp_civil_is_weekday(&mon),
			  "sp_civil_is_weekday goes by the date, not by wday");
	}

	{
		sp_civil	c = {2026, 1, 1, 0, 0, 0, 0};	/* a Thursday, the 1st */
		sp_civil	d = {2026, 1, 2, 0, 0, 0, 0};	/* a Friday */
		sp_civil	e = {2026, 1, 3, 0, 0, 0, 0};	/* a Saturday */

		must_parse("0 0 1 * FRI", &s);
		check(sp_schedule_matches(&s, &c) && sp_schedule_matches(&s, &d) &&
			  !sp_schedule_matches(&s, &e),
			  "both day fields restricted: either matches");
		must_parse("0 0 */2 * FRI", &s);
		check(!sp_schedule_matches(&s, &c) && !sp_schedule_matches(&s, &d) &&
			  !sp_schedule_matches(&s, &e),
			  "day-of-month \"*/2\" counts as unrestricted: both must match");
		must_parse("0 0 * * 5", &s);
		check(!sp_schedule_matches(&s, &c) && sp_schedule_matches(&s, &d),
			  "day-of-month \"*\": day-of-week decides");
		c.minute = 1;
		check(!sp_schedule_matches(&s, &c), "a minute that does not match");
		c.month = 13;
		check(!sp_schedule_matches(&s, &c), "an invalid civil time never matches");
		must_parse("5 seconds", &s);
		check(!sp_schedule_matches(&s, &d), "an interval never matches a civil time");
	}
}


/* ---------------------------------------------------------------- */
/*	Next run														*/
/* ---------------------------------------------------------------- */

static void
test_next_utc(void)
{
	int64_t		want31[7];
	int64_t		want29[3];

	next_is("* * * * *", &tz_utc, UTC(2026, 1, 1, 0, 0, 0), UTC(2026, 1, 1, 0, 1, 0),
			"strictly after");
	next_is("* * * * *", &tz_utc, UTC(2026, 1, 1, 0, 0, 30), UTC(2026, 1, 1, 0, 1, 0),
			"from the middle of a minute");
	next_is("@hourly", &tz_utc, UTC(2026, 1, 1, 10, 59, 59), UTC(2026, 1, 1, 11, 0, 0),
			"a second before");
	next_is("@hourly", &tz_utc, UTC(2026, 1, 1, 11, 0, 0), UTC(2026, 1, 1, 12, 0, 0),
			"not the run just due");

	want31[0] = UTC(2026, 3, 31, 0, 0, 0);
	want31[1] = UTC(2026, 5, 31, 0, 0, 0);
	want31[2] = UTC(2026, 7, 31, 0, 0, 0);
	want31[3] = UTC(2026, 8, 31, 0, 0, 0);
	want31[4] = UTC(2026, 10, 31, 0, 0, 0);
	want31[5] = UTC(2026, 12, 31, 0, 0, 0);
	want31[6] = UTC(2027, 1, 31, 0, 0, 0);
	runs_are("0 0 31 * *", &tz_utc, UTC(2026, 1, 31, 0, 0, 0), want31, 7,
			 "skips months without a 31st");

	want29[0] = UTC(2028, 2, 29, 0, 0, 0);
	want29[1] = UTC(2032, 2, 29, 0, 0, 0);
	want29[2] = UTC(2036, 2, 29, 0, 0, 0);
	runs_are("0 0 29 2 *", &tz_utc, UTC(2026, 1, 1, 0, 0, 0), want29, 3,
			 "finds the next leap years");
	next_is("0 0 29 2 *", &tz_utc, UTC(2096, 3, 1, 0, 0, 0), UTC(2104, 2, 29, 0, 0, 0),
			"2100 is no leap year: eight years on");
	next_is("0 0 29 2 *", &tz_utc, UTC(2000, 1, 1, 0, 0, 0), UTC(2000, 2, 29, 0, 0, 0),
			"2000 is a leap year");

	next_is("30 16 * * 1-5", &tz_utc, UTC(2026, 1, 2, 16, 30, 0), UTC(2026, 1, 5, 16, 30, 0),
			"Friday's run done, next is Monday");
	next_is("30 16 * * 1-5", &tz_utc, UTC(2026, 1, 2, 16, 29, 59), UTC(2026, 1, 2, 16, 30, 0),
			"Friday's run still due");
	next_is("30 16 * * MON-FRI", &tz_utc, UTC(2026, 1, 3, 12, 0, 0), UTC(2026, 1, 5, 16, 30, 0),
			"from Saturday");
	next_is("0 9 * JAN,jul mon", &tz_utc, UTC(2026, 1, 19, 9, 0, 0), UTC(2026, 1, 26, 9, 0, 0),
			"Mondays of January");
	next_is("0 9 * JAN,jul mon", &tz_utc, UTC(2026, 1, 26, 9, 0, 0), UTC(2026, 7, 6, 9, 0, 0),
			"then the first Monday of July");
	next_is("0 12 * * 7", &tz_utc, UTC(2026, 1, 1, 0, 0, 0), UTC(2026, 1, 4, 12, 0, 0),
			"7 is Sunday");
	next_is("0 12 * * sun", &tz_utc, UTC(2026, 1, 1, 0, 0, 0), UTC(2026, 1, 4, 12, 0, 0),
			"SUN is Sunday");
	next_is("0 0 * * 5-7", &tz_utc, UTC(2026, 1, 3, 0, 0, 0), UTC(2026, 1, 4, 0, 0, 0),
			"5-7 includes Sunday");
	next_is("0 0 * * 5-7", &tz_utc, UTC(2026, 1, 4, 0, 0, 0), UTC(2026, 1, 9, 0, 0, 0),
			"5-7 skips Monday to Thursday");

	{
		int64_t		w[] = {
			UTC(2026, 1, 2, 0, 0, 0),	/* Friday */
			UTC(2026, 1, 9, 0, 0, 0),	/* Friday */
			UTC(2026, 1, 15, 0, 0, 0),	/* the 15th, a Thursday */
			UTC(2026, 1, 16, 0, 0, 0),	/* Friday */
		};

		runs_are("0 0 1,15 * FRI", &tz_utc, UTC(2026, 1, 1, 0, 0, 0), w, 4,
				 "both day fields restricted: the 1st, the 15th and Fridays");
	}
	{
		int64_t		w[] = {
			UTC(2026, 1, 5, 0, 0, 0),	/* an odd-numbered Monday */
			UTC(2026, 1, 19, 0, 0, 0),	/* the 12th is even */
		};

		runs_are("0 0 */2 * MON", &tz_utc, UTC(2026, 1, 1, 0, 0, 0), w, 2,
				 "\"*/2\" day-of-month: odd days that are Mondays");
	}
	next_is("0 0 29 2 MON", &tz_utc, UTC(2026, 1, 1, 0, 0, 0), UTC(2026, 2, 2, 0, 0, 0),
			"29 February or a Monday of February");
	next_is("0 0 30 2 1", &tz_utc, UTC(2026, 2, 23, 0, 0, 0), UTC(2027, 2, 1, 0, 0, 0),
			"30 February never comes, Mondays do");
	next_is("@weekly", &tz_utc, UTC(2026, 1, 1, 0, 0, 0), UTC(2026, 1, 4, 0, 0, 0),
			"next Sunday midnight");
	next_is("@monthly", &tz_utc, UTC(2026, 1, 15, 0, 0, 0), UTC(2026, 2, 1, 0, 0, 0),
			"first of next month");
	next_is("@yearly", &tz_utc, UTC(2026, 6, 1, 0, 0, 0), UTC(2027, 1, 1, 0, 0, 0),
			"next New Year");
	next_is("@daily", &tz_utc, UTC(2026, 12, 31, 0, 0, 0), UTC(2027, 1, 1, 0, 0, 0),
			"across the year end");
	next_is("59 23 31 12 *", &tz_utc, UTC(2026, 12, 31, 23, 59, 0), UTC(2027, 12, 31, 23, 59, 0),
			"the last minute of the year");
	next_is("0 0 * DEC *", &tz_utc, UTC(2026, 12, 31, 0, 0, 0), UTC(2027, 12, 1, 0, 0, 0),
			"December only");
	next_is("0-10/5 9 * * *", &tz_utc, UTC(2026, 1, 1, 9, 5, 0), UTC(2026, 1, 1, 9, 10, 0),
			"a stepped range");
	next_is("0-10/5 9 * * *", &tz_utc, UTC(2026, 1, 1, 9, 10, 0), UTC(2026, 1, 2, 9, 0, 0),
			"a stepped range, next day");
	next_is("*/20 */6 * * *", &tz_utc, UTC(2026, 1, 1, 18, 40, 0), UTC(2026, 1, 2, 0, 0, 0),
			"steps in two fields");
	next_is("0 0 1 1 *", &tz_utc, UTC(1969, 6, 1, 0, 0, 0), 0,
			"before the epoch");
	next_is("0 17 * * 1-5", &tz_utc, UTC(9999, 12, 30, 17, 0, 0), UTC(9999, 12, 31, 17, 0, 0),
			"the last weekday of year 9999");
}

static void
test_next_interval(void)
{
	next_is("5 seconds", NULL, 1000, 1005, "a multiple of 5");
	next_is("5 seconds", NULL, 1003, 1005, "aligned to the epoch");
	next_is("5 seconds", NULL, 0, 5, "from the epoch");
	next_is("5 seconds", NULL, -3, 0, "before the epoch");
	next_is("5 seconds", NULL, -5, 0, "before the epoch, on a multiple");
	next_is("7 seconds", NULL, 13, 14, "7 does not divide a minute");
	next_is("59 seconds", NULL, UTC(2026, 3, 8, 6, 59, 59), UTC(2026, 3, 8, 6, 59, 59) / 59 * 59 + 59,
			"59 seconds");
	next_is("1 second", &tz_ny, UTC(2026, 11, 1, 6, 0, 0), UTC(2026, 11, 1, 6, 0, 1),
			"no DST for intervals");
}

static void
test_next_fixed(void)
{
	next_is("0 9 * * *", &tz_kolkata, UTC(2026, 1, 1, 0, 0, 0), UTC(2026, 1, 1, 3, 30, 0),
			"UTC+05:30");
	next_is("0 9 * * *", &tz_kolkata, UTC(2026, 1, 1, 3, 30, 0), UTC(2026, 1, 2, 3, 30, 0),
			"UTC+05:30, next day");
	next_is("30 22 * * *", &tz_minus3, UTC(2026, 1, 1, 0, 0, 0), UTC(2026, 1, 1, 1, 30, 0),
			"UTC-03:00, local day before UTC's");
	next_is("0 0 1 1 *", &tz_minus3, UTC(2026, 1, 1, 0, 0, 0), UTC(2026, 1, 1, 3, 0, 0),
			"UTC-03:00 New Year");
	next_is("30 16 * * 1-5", &tz_kolkata, UTC(2026, 1, 2, 11, 0, 0), UTC(2026, 1, 5, 11, 0, 0),
			"UTC+05:30 Friday to Monday");
}

static void
test_next_new_york(void)
{
	{
		int64_t		w[] = {
			UTC(2026, 3, 6, 21, 45, 0),	/* EST */
			UTC(2026, 3, 7, 21, 45, 0),
			UTC(2026, 3, 8, 20, 45, 0),	/* EDT from 2026-03-08 02:00 */
			UTC(2026, 3, 9, 20, 45, 0),
			UTC(2026, 3, 10, 20, 45, 0),
		};

		runs_are("45 16 * * *", &tz_ny, UTC(2026, 3, 6, 0, 0, 0), w, 5,
				 "daily 16:45 New York across spring-forward, once a day");
	}
	{
		int64_t		w[] = {
			UTC(2026, 10, 30, 20, 45, 0),	/* EDT */
			UTC(2026, 10, 31, 20, 45, 0),
			UTC(2026, 11, 1, 21, 45, 0),	/* EST from 2026-11-01 02:00 */
			UTC(2026, 11, 2, 21, 45, 0),
		};

		runs_are("45 16 * * *", &tz_ny, UTC(2026, 10, 30, 0, 0, 0), w, 4,
				 "daily 16:45 New York across fall-back, once a day");
	}
	{
		int64_t		w[] = {
			UTC(2026, 3, 7, 7, 30, 0),	/* 02:30 EST */
			UTC(2026, 3, 8, 7, 0, 0),	/* 02:30 does not exist: 03:00 EDT */
			UTC(2026, 3, 9, 6, 30, 0),	/* 02:30 EDT */
		};

		runs_are("30 2 * * *", &tz_ny, UTC(2026, 3, 7, 0, 0, 0), w, 3,
				 "02:30 daily runs once at 03:00 EDT on the spring-forward day");
	}
	{
		int64_t		w[] = {
			UTC(2026, 10, 31, 5, 30, 0),	/* 01:30 EDT */
			UTC(2026, 11, 1, 5, 30, 0), /* 01:30 EDT, the first of two */
			UTC(2026, 11, 2, 6, 30, 0), /* 01:30 EST */
		};

		runs_are("30 1 * * *", &tz_ny, UTC(2026, 10, 31, 0, 0, 0), w, 3,
				 "01:30 daily runs once, at the first 01:30, on the fall-back day");
	}
	{
		int64_t		w[] = {
			UTC(2026, 11, 1, 5, 45, 0), /* 01:45 EDT */
			UTC(2026, 11, 1, 6, 0, 0),	/* 01:00 EST: by the wall clock, again */
			UTC(2026, 11, 1, 6, 15, 0), /* 01:15 EST */
		};

		runs_are("*/15 * * * *", &tz_ny, UTC(2026, 11, 1, 5, 30, 0), w, 3,
				 "every 15 minutes goes on while 01:00-01:59 repeats");
	}
	next_is("*/15 * * * *", &tz_ny, UTC(2026, 11, 1, 6, 10, 0), UTC(2026, 11, 1, 6, 15, 0),
			"from inside the repeated hour");
	next_is("* * * * *", &tz_ny, UTC(2026, 11, 1, 5, 59, 0), UTC(2026, 11, 1, 6, 0, 0),
			"every minute, from 01:59 EDT to 01:00 EST");
	next_is("* * * * *", &tz_ny, UTC(2026, 11, 1, 5, 59, 30), UTC(2026, 11, 1, 6, 0, 0),
			"every minute, from 01:59:30 EDT to 01:00 EST");
	next_is("* * * * *", &tz_ny, UTC(2026, 11, 1, 6, 59, 30), UTC(2026, 11, 1, 7, 0, 0),
			"every minute, from 01:59:30 EST");
	{
		int64_t		w[] = {
			UTC(2026, 3, 8, 6, 45, 0),	/* 01:45 EST */
			UTC(2026, 3, 8, 7, 0, 0),	/* 02:00-02:45 are not shown; 03:00 is */
			UTC(2026, 3, 8, 7, 15, 0),	/* 03:15 EDT */
		};

		runs_are("*/15 * * * *", &tz_ny, UTC(2026, 3, 8, 6, 30, 0), w, 3,
				 "every 15 minutes: 01:45 EST, then 03:00 EDT");
	}
	next_is("* * * * *", &tz_ny, UTC(2026, 3, 8, 6, 59, 0), UTC(2026, 3, 8, 7, 0, 0),
			"every minute, 01:59 EST to 03:00 EDT");
	next_is("* * * * *", &tz_ny, UTC(2026, 3, 8, 7, 0, 0), UTC(2026, 3, 8, 7, 1, 0),
			"every minute, after the gap");
	{
		int64_t		w[] = {
			UTC(2026, 11, 1, 5, 0, 0),	/* 01:00 EDT */
			UTC(2026, 11, 1, 6, 0, 0),	/* 01:00 EST */
			UTC(2026, 11, 1, 7, 0, 0),	/* 02:00 EST */
		};

		runs_are("@hourly", &tz_ny, UTC(2026, 11, 1, 4, 0, 0), w, 3,
				 "hourly runs the repeated 01:00 twice, an hour apart");
	}
	{
		int64_t		w[] = {
			UTC(2026, 3, 8, 6, 0, 0),	/* 01:00 EST */
			UTC(2026, 3, 8, 7, 0, 0),	/* 02:00 missing, 03:00 EDT */
			UTC(2026, 3, 8, 8, 0, 0),	/* 04:00 EDT */
		};

		runs_are("@hourly", &tz_ny, UTC(2026, 3, 8, 5, 0, 0), w, 3,
				 "hourly across spring-forward: 03:00 EDT follows 01:00 EST");
	}
	next_is("0 2 * * *", &tz_ny, UTC(2026, 3, 8, 0, 0, 0), UTC(2026, 3, 8, 7, 0, 0),
			"02:00 on the spring-forward day is 03:00 EDT");
	next_is("0 2 * * *", &tz_ny, UTC(2026, 3, 8, 7, 0, 0), UTC(2026, 3, 9, 6, 0, 0),
			"then 02:00 EDT next day");
	next_is("0 3 * * *", &tz_ny, UTC(2026, 3, 8, 0, 0, 0), UTC(2026, 3, 8, 7, 0, 0),
			"03:00 on the spring-forward day");
	next_is("0 2 * * *", &tz_ny, UTC(2026, 11, 1, 0, 0, 0), UTC(2026, 11, 1, 7, 0, 0),
			"02:00 on the fall-back day is 02:00 EST");
	next_is("30 16 * * 1-5", &tz_ny, UTC(2026, 3, 6, 21, 30, 0), UTC(2026, 3, 9, 20, 30, 0),
			"weekdays 16:30, Friday EST to Monday EDT");
	next_is("0 17 * * 1-5", &tz_ny, UTC(2025, 10, 31, 21, 0, 0), UTC(2025, 11, 3, 22, 0, 0),
			"weekdays 17:00, Friday EDT to Monday EST (2025)");
	next_is("@daily", &tz_ny, UTC(2027, 3, 14, 4, 0, 0), UTC(2027, 3, 14, 5, 0, 0),
			"midnight EST before spring-forward 2027");
	next_is("@daily", &tz_ny, UTC(2027, 3, 14, 5, 0, 0), UTC(2027, 3, 15, 4, 0, 0),
			"midnight EDT after spring-forward 2027");
	next_is("@yearly", &tz_ny, UTC(2026, 1, 1, 5, 0, 0), UTC(2027, 1, 1, 5, 0, 0),
			"New Year in New York");
}

/*
 * Both runs_are with the zone's to_utc and with to_utc derived by
 * schedule.c: the same runs expected.
 */
static void
runs_are_both(const char *text, const sp_tz_ops *tz, const sp_tz_ops *derived,
			  int64_t after, const int64_t *want, int n, const char *desc)
{
	char		d[200];

	runs_are(text, tz, after, want, n, desc);
	snprintf(d, sizeof(d), "%s (derived to_utc)", desc);
	runs_are(text, derived, after, want, n, d);
}

#define RUNS(text, zone, after, desc, ...) \
	do { \
		const int64_t w_[] = {__VA_ARGS__}; \
		runs_are_both(text, &tz_##zone, &tz_##zone##_derived, after, w_, \
					  (int) (sizeof(w_) / sizeof(w_[0])), desc); \
	} while (0)

/*
 * The two DST nights of 2026 in New York (clocks change at 02:00 local,
 * 07:00Z in March and 06:00Z in November) and in Berlin (at 01:00Z: 02:00
 * CET becomes 03:00 CEST in March, 03:00 CEST becomes 02:00 CET in
 * October), for each kind of schedule: wall-clock ones ("*" or "*\/S" in
 * the minute or the hour field) run whenever the clock shows a matching
 * minute, fixed-time ones once per due time, at the first instant the
 * clock shows it or later.
 */
static void
test_next_dst_rules(void)
{
	/* New York, spring forward: 01:59:59 EST, then 03:00:00 EDT. */
	RUNS("30 * * * *", ny, UTC(2026, 3, 8, 5, 0, 0),
		 "wildcard hour, New York spring-forward: 01:30 EST, then 03:30 EDT, no 03:00",
		 UTC(2026, 3, 8, 5, 30, 0), UTC(2026, 3, 8, 6, 30, 0),
		 UTC(2026, 3, 8, 7, 30, 0), UTC(2026, 3, 8, 8, 30, 0));
	RUNS("*/20 * * * *", ny, UTC(2026, 3, 8, 6, 0, 0),
		 "step, New York spring-forward: 01:20, 01:40 EST, 03:00, 03:20 EDT",
		 UTC(2026, 3, 8, 6, 20, 0), UTC(2026, 3, 8, 6, 40, 0),
		 UTC(2026, 3, 8, 7, 0, 0), UTC(2026, 3, 8, 7, 20, 0));
	RUNS("* * * * *", ny, UTC(2026, 3, 8, 6, 58, 0),
		 "wildcard minute, New York spring-forward: 01:59 EST, 03:00 EDT",
		 UTC(2026, 3, 8, 6, 59, 0), UTC(2026, 3, 8, 7, 0, 0), UTC(2026, 3, 8, 7, 1, 0));
	RUNS("*/15 2 * * *", ny, UTC(2026, 3, 7, 0, 0, 0),
		 "wildcard minute at 02, New York: four runs on 7 March, none on 8 March",
		 UTC(2026, 3, 7, 7, 0, 0), UTC(2026, 3, 7, 7, 15, 0),
		 UTC(2026, 3, 7, 7, 30, 0), UTC(2026, 3, 7, 7, 45, 0),
		 UTC(2026, 3, 9, 6, 0, 0));
	RUNS("0 */2 * * *", ny, UTC(2026, 3, 8, 4, 0, 0),
		 "step hour, New York spring-forward: 00:00 EST, then 04:00 EDT (02:00 is not shown)",
		 UTC(2026, 3, 8, 5, 0, 0), UTC(2026, 3, 8, 8, 0, 0), UTC(2026, 3, 8, 10, 0, 0));
	RUNS("0-59/20 2 * * *", ny, UTC(2026, 3, 8, 6, 59, 0),
		 "fixed-time (a list), New York spring-forward: 02:00-02:40 run once at 03:00 EDT",
		 UTC(2026, 3, 8, 7, 0, 0), UTC(2026, 3, 9, 6, 0, 0));
	RUNS("30 2 * * *", ny, UTC(2026, 3, 7, 0, 0, 0),
		 "fixed-time, New York spring-forward: 02:30 runs at 03:00 EDT",
		 UTC(2026, 3, 7, 7, 30, 0), UTC(2026, 3, 8, 7, 0, 0), UTC(2026, 3, 9, 6, 30, 0));

	/* New York, fall back: 01:59:59 EDT, then 01:00:00 EST. */
	RUNS("*/20 * * * *", ny, UTC(2026, 11, 1, 4, 50, 0),
		 "step, New York fall-back: 01:00-01:40 EDT, again EST, every 20 real minutes",
		 UTC(2026, 11, 1, 5, 0, 0), UTC(2026, 11, 1, 5, 20, 0), UTC(2026, 11, 1, 5, 40, 0),
		 UTC(2026, 11, 1, 6, 0, 0), UTC(2026, 11, 1, 6, 20, 0), UTC(2026, 11, 1, 6, 40, 0),
		 UTC(2026, 11, 1, 7, 0, 0));
	RUNS("30 * * * *", ny, UTC(2026, 11, 1, 5, 0, 0),
		 "wildcard hour, New York fall-back: 01:30 EDT, 01:30 EST, 02:30 EST",
		 UTC(2026, 11, 1, 5, 30, 0), UTC(2026, 11, 1, 6, 30, 0), UTC(2026, 11, 1, 7, 30, 0));
	RUNS("* 1 * * *", ny, UTC(2026, 11, 1, 5, 58, 0),
		 "wildcard minute at 01, New York fall-back: 01:59 EDT, 01:00 EST, ... 01:59 EST, next day",
		 UTC(2026, 11, 1, 5, 59, 0), UTC(2026, 11, 1, 6, 0, 0), UTC(2026, 11, 1, 6, 1, 0));
	next_is("* 1 * * *", &tz_ny, UTC(2026, 11, 1, 6, 59, 0), UTC(2026, 11, 2, 6, 0, 0),
			"wildcard minute at 01, from 01:59 EST: the next day");
	RUNS("0-59/20 1 * * *", ny, UTC(2026, 11, 1, 4, 50, 0),
		 "fixed-time (a list), New York fall-back: 01:00-01:40 EDT only",
		 UTC(2026, 11, 1, 5, 0, 0), UTC(2026, 11, 1, 5, 20, 0), UTC(2026, 11, 1, 5, 40, 0),
		 UTC(2026, 11, 2, 6, 0, 0));
	RUNS("30 1 * * *", ny, UTC(2026, 10, 31, 0, 0, 0),
		 "fixed-time, New York fall-back: 01:30 EDT only",
		 UTC(2026, 10, 31, 5, 30, 0), UTC(2026, 11, 1, 5, 30, 0), UTC(2026, 11, 2, 6, 30, 0));

	/* Berlin, spring forward: 01:59:59 CET, then 03:00:00 CEST. */
	RUNS("30 * * * *", berlin, UTC(2026, 3, 28, 23, 0, 0),
		 "wildcard hour, Berlin spring-forward: 00:30, 01:30 CET, then 03:30 CEST",
		 UTC(2026, 3, 28, 23, 30, 0), UTC(2026, 3, 29, 0, 30, 0),
		 UTC(2026, 3, 29, 1, 30, 0), UTC(2026, 3, 29, 2, 30, 0));
	RUNS("*/20 * * * *", berlin, UTC(2026, 3, 29, 0, 30, 0),
		 "step, Berlin spring-forward: 01:40 CET, 03:00, 03:20 CEST",
		 UTC(2026, 3, 29, 0, 40, 0), UTC(2026, 3, 29, 1, 0, 0), UTC(2026, 3, 29, 1, 20, 0));
	RUNS("@hourly", berlin, UTC(2026, 3, 28, 23, 30, 0),
		 "@hourly, Berlin spring-forward: 01:00 CET, 03:00 CEST, 04:00 CEST",
		 UTC(2026, 3, 29, 0, 0, 0), UTC(2026, 3, 29, 1, 0, 0), UTC(2026, 3, 29, 2, 0, 0));
	RUNS("*/15 2 * * *", berlin, UTC(2026, 3, 28, 0, 0, 0),
		 "wildcard minute at 02, Berlin: four runs on 28 March, none on 29 March",
		 UTC(2026, 3, 28, 1, 0, 0), UTC(2026, 3, 28, 1, 15, 0),
		 UTC(2026, 3, 28, 1, 30, 0), UTC(2026, 3, 28, 1, 45, 0),
		 UTC(2026, 3, 30, 0, 0, 0));
	RUNS("30 2 * * *", berlin, UTC(2026, 3, 28, 0, 0, 0),
		 "fixed-time, Berlin spring-forward: 02:30 runs at 03:00 CEST",
		 UTC(2026, 3, 28, 1, 30, 0), UTC(2026, 3, 29, 1, 0, 0), UTC(2026, 3, 30, 0, 30, 0));

	/* Berlin, fall back: 02:59:59 CEST, then 02:00:00 CET. */
	RUNS("*/20 * * * *", berlin, UTC(2026, 10, 24, 23, 50, 0),
		 "step, Berlin fall-back: 02:00-02:40 CEST, again CET, then 03:00 CET",
		 UTC(2026, 10, 25, 0, 0, 0), UTC(2026, 10, 25, 0, 20, 0), UTC(2026, 10, 25, 0, 40, 0),
		 UTC(2026, 10, 25, 1, 0, 0), UTC(2026, 10, 25, 1, 20, 0), UTC(2026, 10, 25, 1, 40, 0),
		 UTC(2026, 10, 25, 2, 0, 0));
	RUNS("30 * * * *", berlin, UTC(2026, 10, 25, 0, 0, 0),
		 "wildcard hour, Berlin fall-back: 02:30 CEST, 02:30 CET, 03:30 CET",
		 UTC(2026, 10, 25, 0, 30, 0), UTC(2026, 10, 25, 1, 30, 0), UTC(2026, 10, 25, 2, 30, 0));
	RUNS("@hourly", berlin, UTC(2026, 10, 24, 23, 30, 0),
		 "@hourly, Berlin fall-back: 02:00 CEST, 02:00 CET, 03:00 CET",
		 UTC(2026, 10, 25, 0, 0, 0), UTC(2026, 10, 25, 1, 0, 0), UTC(2026, 10, 25, 2, 0, 0));
	RUNS("* 2 * * *", berlin, UTC(2026, 10, 25, 0, 58, 0),
		 "wildcard minute at 02, Berlin fall-back: 02:59 CEST, then 02:00 CET",
		 UTC(2026, 10, 25, 0, 59, 0), UTC(2026, 10, 25, 1, 0, 0), UTC(2026, 10, 25, 1, 1, 0));
	RUNS("30 2 * * *", berlin, UTC(2026, 10, 24, 0, 0, 0),
		 "fixed-time, Berlin fall-back: 02:30 CEST only",
		 UTC(2026, 10, 24, 0, 30, 0), UTC(2026, 10, 25, 0, 30, 0), UTC(2026, 10, 26, 1, 30, 0));
	RUNS("0 3 * * *", berlin, UTC(2026, 10, 24, 12, 0, 0),
		 "fixed-time, Berlin fall-back: 03:00 CET, once",
		 UTC(2026, 10, 25, 2, 0, 0), UTC(2026, 10, 26, 2, 0, 0));
	RUNS("45 16 * * *", berlin, UTC(2026, 10, 24, 12, 0, 0),
		 "fixed-time daily 16:45 Berlin, once a day across fall-back",
		 UTC(2026, 10, 24, 14, 45, 0), UTC(2026, 10, 25, 15, 45, 0), UTC(2026, 10, 26, 15, 45, 0));
}

/*
 * The documented rules as a model, walking UTC minute by minute (the zones
 * here have whole-minute offsets).  A wall-clock schedule ("*" or "*\/S"
 * in the minute or hour field) fires whenever the local clock shows a
 * matching minute.  A fixed-time one: keep the latest local time the clock
 * has shown, and fire when the clock shows, for the first time, a time at
 * or past a due local minute.
 */
static bool
model_next(const sp_schedule *s, int64_t after, const sp_tz_ops *tz,
		   int64_t horizon, int64_t *next)
{
	sp_civil	c;
	int64_t		shown;
	int64_t		t;

	if (s->star_step[SP_FIELD_MINUTE] != 0 || s->star_step[SP_FIELD_HOUR] != 0)
	{
		for (t = after - (after % 60 + 60) % 60 + 60; t <= horizon; t += 60)
		{
			tz->to_local(tz->ctx, t, &c);
			if (c.second == 0 && sp_schedule_matches(s, &c))
			{
				*next = t;
				return true;
			}
		}
		return false;
	}

	tz->to_local(tz->ctx, after, &c);
	shown = naive(&c);
	for (t = after - (after % 60 + 60) % 60 + 60; t <= horizon; t += 60)
	{
		int64_t		local;
		int64_t		l;

		tz->to_local(tz->ctx, t, &c);
		local = naive(&c);
		if (local <= shown)
			continue;
		for (l = shown - (shown % 60 + 60) % 60 + 60; l <= local; l += 60)
		{
			sp_civil	lc;

			civil_of(l, &lc);
			if (sp_schedule_matches(s, &lc))
			{
				*next = t;
				return true;
			}
		}
		shown = local;
	}
	return false;
}

/*
 * Every run of text from two days before change to two days after it, by
 * sp_schedule_next and by the model: one check.  The model looks no further
 * than eight days past that; a later run counts as none.
 */
static void
compare_with_model(const char *text, const sp_tz_ops *tz, const char *zone,
				   int64_t change)
{
	sp_schedule s;
	int64_t		t = change - 2 * DAY + 17;
	int64_t		end = change + 2 * DAY;
	int64_t		horizon = end + 8 * DAY;
	int			runs = 0;
	bool		same = true;
	char		b1[32];
	char		b2[32];

	must_parse(text, &s);
	while (t < end)
	{
		int64_t		got = INT64_MIN;
		int64_t		want = INT64_MIN;
		bool		ok_got = sp_schedule_next(&s, t, tz, &got) && got <= horizon;
		bool		ok_want = model_next(&s, t, tz, horizon, &want);

		if (ok_got != ok_want || (ok_got && got != want))
		{
			same = false;
			diag("after %s: got %s, model %s", fmt_utc(b1, t),
				 ok_got ? fmt_utc(b2, got) : "none",
				 ok_want ? fmt_utc(b1, want) : "none");
			break;
		}
		if (!ok_got)
			break;
		runs++;
		t = got;
	}
	check(same, "\"%s\" agrees with the model in %s around %s (%d runs)",
		  text, zone, fmt_utc(b1, change), runs);
}

static const char *const model_schedules[] = {
	"* * * * *", "*/15 * * * *", "@hourly", "30 * * * *", "0 2 * * *",
	"30 2 * * *", "30 1 * * *", "59 1 * * *", "0 3 * * *", "45 16 * * *",
	"*/7 1-3 * * *", "@daily", "0,30 2 * * 0", "5 0-4 * * *",
	"*/20 * * * *", "*/15 2 * * *", "0 */2 * * *", "0-59/20 1-3 * * *",
	"0-59 0-23 * * *", "59 * * * *",
};

#define N_MODEL_SCHEDULES	(sizeof(model_schedules) / sizeof(model_schedules[0]))

static void
test_against_model(void)
{
	int			yr;
	size_t		i;

	for (yr = 2025; yr <= 2027; yr++)
	{
		int64_t		changes[2];
		int			k;

		changes[0] = UTC(yr, 3, nth_sunday(yr, 3, 2), 7, 0, 0);
		changes[1] = UTC(yr, 11, nth_sunday(yr, 11, 1), 6, 0, 0);
		for (k = 0; k < 2; k++)
			for (i = 0; i < N_MODEL_SCHEDULES; i++)
				compare_with_model(model_schedules[i], &tz_ny, "New York", changes[k]);
	}

	/* to_utc derived from to_local: the same runs. */
	for (i = 0; i < N_MODEL_SCHEDULES; i++)
	{
		compare_with_model(model_schedules[i], &tz_ny_derived,
						   "New York (derived to_utc)", UTC(2026, 3, 8, 7, 0, 0));
		compare_with_model(model_schedules[i], &tz_ny_derived,
						   "New York (derived to_utc)", UTC(2026, 11, 1, 6, 0, 0));
	}

	/* Berlin: its clock changes at 01:00 UTC, the repeated hour is 02:00. */
	for (yr = 2025; yr <= 2027; yr++)
		for (i = 0; i < N_MODEL_SCHEDULES; i++)
		{
			compare_with_model(model_schedules[i], &tz_berlin, "Berlin",
							   UTC(yr, 3, last_sunday(yr, 3), 1, 0, 0));
			compare_with_model(model_schedules[i], &tz_berlin, "Berlin",
							   UTC(yr, 10, last_sunday(yr, 10), 1, 0, 0));
		}
	for (i = 0; i < N_MODEL_SCHEDULES; i++)
	{
		compare_with_model(model_schedules[i], &tz_berlin_derived,
						   "Berlin (derived to_utc)", UTC(2026, 3, 29, 1, 0, 0));
		compare_with_model(model_schedules[i], &tz_berlin_derived,
						   "Berlin (derived to_utc)", UTC(2026, 10, 25, 1, 0, 0));
	}
}

static void
test_efficiency_and_limits(void)
{
	sp_schedule s;
	counting	cnt = {&tz_utc, 0, 0};
	sp_tz_ops	counted = {counting_to_local, counting_to_utc, &cnt};
	sp_tz_ops	failing = {failing_to_local, failing_to_utc, NULL};
	int64_t		got = 0;
	bool		ok;

	must_parse("0 0 29 2 *", &s);
	ok = sp_schedule_next(&s, UTC(2096, 3, 1, 0, 0, 0), &counted, &got);
	check(ok && got == UTC(2104, 2, 29, 0, 0, 0) &&
		  cnt.to_local_calls == 1 && cnt.to_utc_calls == 1,
		  "eight years ahead with one conversion each way (got %d, %d)",
		  cnt.to_local_calls, cnt.to_utc_calls);

	cnt.inner = &tz_ny;
	cnt.to_local_calls = cnt.to_utc_calls = 0;
	must_parse("30 2 * * *", &s);
	ok = sp_schedule_next(&s, UTC(2026, 3, 7, 12, 0, 0), &counted, &got);
	check(ok && got == UTC(2026, 3, 8, 7, 0, 0) &&
		  cnt.to_utc_calls == 1 && cnt.to_local_calls < 40,
		  "a DST gap costs one bisection (%d to_local calls)", cnt.to_local_calls);

	/* "0-59 1" is fixed-time: 01:01-01:59 EST ran as EDT. */
	cnt.to_local_calls = cnt.to_utc_calls = 0;
	must_parse("0-59 1 * * *", &s);
	ok = sp_schedule_next(&s, UTC(2026, 11, 1, 6, 0, 0), &counted, &got);
	check(ok && got == UTC(2026, 11, 2, 6, 0, 0) && cnt.to_utc_calls == 60,
		  "the repeated hour costs one to_utc per skipped due time (%d)", cnt.to_utc_calls);

	cnt.to_local_calls = cnt.to_utc_calls = 0;
	must_parse("* * * * *", &s);
	ok = sp_schedule_next(&s, UTC(2026, 11, 1, 6, 0, 0), &counted, &got);
	check(ok && got == UTC(2026, 11, 1, 6, 1, 0) && cnt.to_utc_calls == 1 &&
		  cnt.to_local_calls <= 10,
		  "by the wall clock, a repeated minute's second instant costs a few "
		  "conversions (%d to_local)", cnt.to_local_calls);

	cnt.to_local_calls = cnt.to_utc_calls = 0;
	ok = sp_schedule_next(&s, UTC(2026, 11, 1, 5, 59, 30), &counted, &got);
	check(ok && got == UTC(2026, 11, 1, 6, 0, 0) && cnt.to_utc_calls == 1 &&
		  cnt.to_local_calls < 40,
		  "the clock going back is found by one bisection (%d to_local calls)",
		  cnt.to_local_calls);

	cnt.to_local_calls = cnt.to_utc_calls = 0;
	must_parse("30 * * * *", &s);
	ok = sp_schedule_next(&s, UTC(2026, 3, 8, 6, 30, 0), &counted, &got);
	check(ok && got == UTC(2026, 3, 8, 7, 30, 0) && cnt.to_utc_calls == 2 &&
		  cnt.to_local_calls < 40,
		  "by the wall clock, a gap is jumped over with one bisection (%d to_local calls)",
		  cnt.to_local_calls);

	/*
	 * The second Sunday in March, 02:00-02:59: every time of this wall-clock
	 * schedule falls in New York's gap, so it never runs there; in UTC it
	 * does.  Ten years are searched, one gap a year.
	 */
	cnt.to_local_calls = cnt.to_utc_calls = 0;
	must_parse("* 2 8-14 3 */7", &s);
	ok = sp_schedule_next(&s, UTC(2026, 1, 1, 0, 0, 0), &counted, &got);
	check(!ok && cnt.to_utc_calls <= 11 && cnt.to_local_calls < 11 * 40,
		  "a wall-clock schedule whose every time falls in a gap has no next run "
		  "(%d to_utc, %d to_local calls)", cnt.to_utc_calls, cnt.to_local_calls);
	next_is("* 2 8-14 3 */7", &tz_utc, UTC(2026, 1, 1, 0, 0, 0), UTC(2026, 3, 8, 2, 0, 0),
			"in UTC the same schedule runs");
	next_is("0 2 8-14 3 */7", &tz_ny, UTC(2026, 1, 1, 0, 0, 0), UTC(2026, 3, 8, 7, 0, 0),
			"fixed-time, it runs when New York's gap ends");

	/* A schedule the parser refuses, built by hand: no run, in bounded time. */
	must_parse("0 0 30 2 1", &s);
	s.wdays = 0;
	s.star_step[SP_FIELD_DOW] = 1;
	check(!sp_schedule_next(&s, UTC(2026, 1, 1, 0, 0, 0), &tz_utc, &got),
		  "30 February: no next run within the search limit");

	must_parse("@daily", &s);
	check(!sp_schedule_next(&s, UTC(9999, 12, 31, 0, 0, 0), &tz_utc, &got),
		  "no run after year 9999");
	check(!sp_schedule_next(&s, UTC(10000, 1, 1, 0, 0, 0), &tz_utc, &got) &&
		  !sp_schedule_next(&s, INT64_MAX, &tz_utc, &got) &&
		  !sp_schedule_next(&s, INT64_MIN, &tz_utc, &got),
		  "an instant outside years 1-9999 is refused");
	check(!sp_schedule_next(&s, 0, &failing, &got), "a failing to_local fails the call");
	check(!sp_schedule_next(&s, 0, NULL, &got), "a cron schedule needs a zone");
	must_parse("5 seconds", &s);
	check(sp_schedule_next(&s, UTC(9999, 12, 31, 23, 59, 59), NULL, &got) &&
		  got == UTC(9999, 12, 31, 23, 59, 59) + 1,
		  "an interval at the end of year 9999 does not overflow");
}

/*
 * Real zones from zoneinfo through libc, with the derived to_utc, against
 * the model around each offset change of a year: a half-hour DST (Lord
 * Howe), a southern one (Sydney), Europe's 01:00 UTC changes (London,
 * Berlin), and Samoa skipping 30 December 2011 altogether.
 */
static void
test_zoneinfo_zones(void)
{
	static const struct
	{
		const char *zone;
		int			year;
	}			zones[] = {
		{"Australia/Lord_Howe", 2026},
		{"Australia/Sydney", 2026},
		{"Europe/London", 2026},
		{"Europe/Berlin", 2026},
		{"Pacific/Apia", 2011},
	};
	static const char *const texts[] = {
		"*/15 * * * *", "30 2 * * *", "0 2 * * *", "30 1 * * *", "@daily", "0 0 30 12 *",
		"30 * * * *", "*/20 1-3 * * *", "0-59/20 1-3 * * *",
	};
	size_t		z;

	for (z = 0; z < sizeof(zones) / sizeof(zones[0]); z++)
	{
		char		path[128];
		FILE	   *f;
		int64_t		t;
		int64_t		prev_off = INT64_MIN;
		int			changes = 0;

		snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zones[z].zone);
		if ((f = fopen(path, "rb")) == NULL)
		{
			check(true, "# SKIP no %s", path);
			continue;
		}
		fclose(f);
		setenv("TZ", zones[z].zone, 1);
		tzset();
		for (t = UTC(zones[z].year, 1, 1, 0, 0, 0);
			 t < UTC(zones[z].year + 1, 1, 1, 0, 0, 0); t += 15 * 60)
		{
			sp_civil	c;
			int64_t		off;
			size_t		i;

			libc_to_local(NULL, t, &c);
			off = naive(&c) - t;
			if (prev_off != INT64_MIN && off != prev_off)
			{
				changes++;
				for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
					compare_with_model(texts[i], &tz_libc, zones[z].zone, t);
			}
			prev_off = off;
		}
		check(changes > 0, "%s changes offset in %d (%d times)",
			  zones[z].zone, zones[z].year, changes);
		if (strcmp(zones[z].zone, "Pacific/Apia") == 0)
			next_is("0 0 30 12 *", &tz_libc, UTC(2011, 12, 29, 0, 0, 0),
					UTC(2011, 12, 30, 10, 0, 0),
					"Samoa skipped 30 December 2011: run at 31 December 00:00 +14");
	}
}

/*
 * The test's Europe/Berlin against the system's zoneinfo, every quarter
 * hour through 2025-2027, and to_utc as the inverse of to_local.
 */
static void
test_berlin_cross_check(void)
{
	FILE	   *f = fopen("/usr/share/zoneinfo/Europe/Berlin", "rb");
	int64_t		t;
	int			compared = 0;
	bool		same = true;
	bool		inverse = true;
	char		b1[32];

	if (f == NULL)
	{
		check(true, "# SKIP no /usr/share/zoneinfo/Europe/Berlin");
		return;
	}
	fclose(f);
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	for (t = UTC(2025, 1, 1, 0, 0, 0); t < UTC(2028, 1, 1, 0, 0, 0); t += 15 * 60)
	{
		sp_civil	want;
		sp_civil	c;
		int64_t		back;
		int			kind;

		libc_to_local(NULL, t, &want);
		berlin_to_local(NULL, t, &c);
		if (naive(&c) != naive(&want))
		{
			if (same)
				diag("at %s: rules and zoneinfo differ", fmt_utc(b1, t));
			same = false;
		}
		berlin_to_utc(NULL, &c, &back, &kind);
		if (!((kind == SP_TZ_UNIQUE && back == t) ||
			  (kind == SP_TZ_AMBIGUOUS && (back == t || back == t - HOUR))))
		{
			if (inverse)
				diag("at %s: to_utc gives kind %d", fmt_utc(b1, t), kind);
			inverse = false;
		}
		compared++;
	}
	check(same, "Europe/Berlin from the rules equals zoneinfo, %d quarter hours of 2025-2027",
		  compared);
	check(inverse, "Europe/Berlin to_utc inverts to_local");
}

/*
 * The test's America/New_York against the system's zoneinfo, hourly
 * through 2025-2027, and to_utc as the inverse of to_local.
 */
static void
test_zoneinfo_cross_check(void)
{
	FILE	   *f = fopen("/usr/share/zoneinfo/America/New_York", "rb");
	int64_t		t;
	int			compared = 0;
	bool		same = true;
	bool		inverse = true;
	char		b1[32];

	if (f == NULL)
	{
		check(true, "# SKIP no /usr/share/zoneinfo/America/New_York");
		return;
	}
	fclose(f);
	if (setenv("TZ", "America/New_York", 1) != 0)
	{
		check(false, "setenv TZ");
		return;
	}
	tzset();

	for (t = UTC(2025, 1, 1, 0, 0, 0); t < UTC(2028, 1, 1, 0, 0, 0); t += HOUR)
	{
		time_t		tt = (time_t) t;
		struct tm	tm;
		sp_civil	c;
		int64_t		back;
		int			kind;

		if (localtime_r(&tt, &tm) == NULL)
		{
			same = false;
			break;
		}
		ny_to_local(NULL, t, &c);
		if (c.year != tm.tm_year + 1900 || c.month != tm.tm_mon + 1 ||
			c.day != tm.tm_mday || c.hour != tm.tm_hour ||
			c.minute != tm.tm_min || c.second != tm.tm_sec ||
			c.wday != tm.tm_wday)
		{
			if (same)
				diag("at %s: rules say %04d-%02d-%02d %02d:%02d, zoneinfo %04d-%02d-%02d %02d:%02d",
					 fmt_utc(b1, t), c.year, c.month, c.day, c.hour, c.minute,
					 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
			same = false;
		}
		ny_to_utc(NULL, &c, &back, &kind);
		if (!((kind == SP_TZ_UNIQUE && back == t) ||
			  (kind == SP_TZ_AMBIGUOUS && (back == t || back == t - HOUR))))
		{
			if (inverse)
				diag("at %s: to_utc gives kind %d", fmt_utc(b1, t), kind);
			inverse = false;
		}
		compared++;
	}
	check(same && compared == 26280,
		  "America/New_York from the rules equals zoneinfo, %d hours of 2025-2027", compared);
	check(inverse, "America/New_York to_utc inverts to_local");

	test_berlin_cross_check();
	test_zoneinfo_zones();
	unsetenv("TZ");
	tzset();
}

int
main(void)
{
	test_parse_good();
	test_parse_bad();
	test_rare_days();
	test_describe_and_helpers();
	test_next_utc();
	test_next_interval();
	test_next_fixed();
	test_next_new_york();
	test_next_dst_rules();
	test_against_model();
	test_efficiency_and_limits();
	test_zoneinfo_cross_check();

	return tap_summary();
}
