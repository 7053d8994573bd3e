/*
 * market.c -- when to poll: weekdays, inside the market hours, not on NYSE
 * full-day holidays, in the market's time zone with its DST rules.
 *
 * Local time is computed by the C library from the zone database (TZ is
 * set once, at start-up, before any thread exists), so DST transitions are
 * handled the way the system's tzdata says.  Early closes (the day after
 * Thanksgiving, Christmas Eve) are ordinary trading days here: polling then
 * only produces no new quotes.  This is the fixed schedule and the
 * fallback: by default each symbol follows its own exchange's periods as
 * Yahoo gives them (session.c), which know every exchange, holiday and
 * early close.
 */
#include "market.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "civil.h"

/*
 * NYSE full-day closures, from the exchange's published holiday calendars
 * for 2025, 2026 and 2027 (including the 2025-01-09 National Day of
 * Mourning for President Carter) and, for 2028, by its rule 7.2 (New
 * Year's Day 2028 is a Saturday: no closure).  Outside these years only weekends close
 * the market: update the table every year (the producer warns from a year
 * before its end: market_calendar_days_left()).
 */
static const int nyse_holidays[] = {
	20250101, 20250109, 20250120, 20250217, 20250418, 20250526, 20250619,
	20250704, 20250901, 20251127, 20251225,
	20260101, 20260119, 20260216, 20260403, 20260525, 20260619, 20260703,
	20260907, 20261126, 20261225,
	20270101, 20270118, 20270215, 20270326, 20270531, 20270618, 20270705,
	20270906, 20271125, 20271224,
	20280117, 20280221, 20280414, 20280529, 20280619, 20280704, 20280904,
	20281123, 20281225,
};

/*
 * Selects the zone used by every other function.  glibc silently falls
 * back to UTC for an unknown zone, so check the zone file exists first.
 */
int
market_set_timezone(const char *tz)
{
	const char *dir = getenv("TZDIR");
	char		path[512];

	if (tz[0] == '\0' || strstr(tz, "..") != NULL || tz[0] == '/')
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", tz);
	if (access(path, R_OK) != 0)
		return -1;
	if (setenv("TZ", tz, 1) != 0)
		return -1;
	tzset();
	return 0;
}

/* "HH:MM" (00:00-23:59) to minutes after midnight; 0 or -1. */
int
market_parse_hhmm(const char *s, int *minutes)
{
	int			h;
	int			m;
	int			used = 0;

	if (sscanf(s, "%2d:%2d%n", &h, &m, &used) != 2 || s[used] != '\0' ||
		used != 5 || h < 0 || h > 23 || m < 0 || m > 59)
		return -1;
	*minutes = h * 60 + m;
	return 0;
}

/* "HH:MM-HH:MM" with open before close; 0 or -1. */
int
market_parse_hours(const char *s, int *open_min, int *close_min)
{
	char		a[8];
	char		b[8];
	const char *dash = strchr(s, '-');

	if (dash == NULL || dash - s != 5 || strlen(dash + 1) != 5)
		return -1;
	memcpy(a, s, 5);
	a[5] = '\0';
	memcpy(b, dash + 1, 6);
	if (market_parse_hhmm(a, open_min) != 0 || market_parse_hhmm(b, close_min) != 0 ||
		*open_min >= *close_min)
		return -1;
	return 0;
}

int
market_is_holiday(int year, int month, int day)
{
	int			key = year * 10000 + month * 100 + day;

	for (size_t i = 0; i < sizeof(nyse_holidays) / sizeof(nyse_holidays[0]); i++)
		if (nyse_holidays[i] == key)
			return 1;
	return 0;
}

/* Day of week by Sakamoto's method: 0 = Sunday. */
static int
weekday(int y, int m, int d)
{
	static const int t[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};

	if (m < 3)
		y -= 1;
	return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7;
}

int
market_is_trading_day(int year, int month, int day)
{
	int			wd = weekday(year, month, day);

	return wd != 0 && wd != 6 && !market_is_holiday(year, month, day);
}

/* The instant of local wall-clock time MINUTES on the date of TM. */
static time_t
local_instant(const struct tm *date, int minutes)
{
	struct tm	tm = *date;

	tm.tm_hour = minutes / 60;
	tm.tm_min = minutes % 60;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;			/* let the zone rules decide */
	return mktime(&tm);
}

/* The local date OFFSET days after that of T (noon avoids DST edges). */
static void
local_date(time_t t, int offset, struct tm *out)
{
	struct tm	tm;

	localtime_r(&t, &tm);
	tm.tm_mday += offset;
	tm.tm_hour = 12;
	tm.tm_min = 0;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	mktime(&tm);
	*out = tm;
}

int
market_is_open(const struct market *m, time_t t)
{
	struct tm	tm;
	int			minute;

	localtime_r(&t, &tm);
	if (!market_is_trading_day(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday))
		return 0;
	minute = tm.tm_hour * 60 + tm.tm_min;
	return minute >= m->open_min && minute < m->close_min;
}

/* T itself when the market is open, else the next opening instant. */
time_t
market_next_open(const struct market *m, time_t t)
{
	for (int d = 0; d < 30; d++)
	{
		struct tm	date;
		time_t		open;
		time_t		close;

		local_date(t, d, &date);
		if (!market_is_trading_day(date.tm_year + 1900, date.tm_mon + 1, date.tm_mday))
			continue;
		open = local_instant(&date, m->open_min);
		close = local_instant(&date, m->close_min);
		if (t < open)
			return open;
		if (t < close)
			return t;
	}
	return (time_t) -1;
}

/* The first trading day's daily_min instant strictly after T. */
time_t
market_next_daily(const struct market *m, time_t t)
{
	for (int d = 0; d < 30; d++)
	{
		struct tm	date;
		time_t		at;

		local_date(t, d, &date);
		if (!market_is_trading_day(date.tm_year + 1900, date.tm_mon + 1, date.tm_mday))
			continue;
		at = local_instant(&date, m->daily_min);
		if (at > t)
			return at;
	}
	return (time_t) -1;
}

/* "2026-11-27 09:00 EST", for log lines. */
int
market_format_local(time_t t, char *buf, size_t size)
{
	struct tm	tm;

	localtime_r(&t, &tm);
	return strftime(buf, size, "%Y-%m-%d %H:%M %Z", &tm) == 0 ? -1 : 0;
}

int
market_calendar_last_year(void)
{
	return nyse_holidays[sizeof(nyse_holidays) / sizeof(nyse_holidays[0]) - 1] / 10000;
}

int
market_calendar_days_left(time_t t)
{
	struct tm	tm;

	localtime_r(&t, &tm);
	return (int) (sp_days_from_civil(market_calendar_last_year(), 12, 31) -
				  sp_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday));
}

/*
 * The warning to log at T, into BUF: while the table ends within a year
 * (365 days or fewer) or has ended.  Returns 1 if there is one, else 0.
 */
int
market_calendar_warning(time_t t, char *buf, size_t size)
{
	int			left = market_calendar_days_left(t);
	int			year = market_calendar_last_year();

	if (left > 365)
		return 0;
	if (left >= 0)
		snprintf(buf, size, "market calendar: the built-in NYSE holidays (producer/src/market.c) "
				 "end on %d-12-31, in %d day(s): add the next year's; they are the fallback for "
				 "symbols whose trading periods Yahoo has not given, and the schedule of "
				 "--schedule fixed", year, left);
	else
		snprintf(buf, size, "market calendar: the built-in NYSE holidays (producer/src/market.c) "
				 "ended on %d-12-31, %d day(s) ago: where they are used (symbols whose trading "
				 "periods Yahoo has not given, --schedule fixed) only weekends close the market; "
				 "add the missing years", year, -left);
	return 1;
}
