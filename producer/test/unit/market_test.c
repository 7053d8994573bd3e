/*
 * market_test.c -- market hours, NYSE holidays 2025-2028 and DST, and the
 * holiday table's end.
 *
 * The holiday table is checked day by day against the exchange's rules
 * (computed here independently: nth weekdays, Easter, the weekend
 * observance rules) plus the one-off closure of 2025-01-09.
 */
#include <string.h>
#include <time.h>

#include "market.h"
#include "tap.h"

static time_t
utc(int y, int mo, int d, int h, int mi)
{
	struct tm	tm = {0};

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return timegm(&tm);
}

static int
dow(int y, int m, int d)
{
	struct tm	tm = {0};
	time_t		t;

	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	return tm.tm_wday;
}

/* Day of month of the n-th (1-based; -1 = last) weekday WD of a month. */
static int
nth_weekday(int y, int m, int wd, int n)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			last = mdays[m - 1] + (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));

	if (n > 0)
	{
		int			first = 1 + (wd - dow(y, m, 1) + 7) % 7;

		return first + 7 * (n - 1);
	}
	return last - (dow(y, m, last) - wd + 7) % 7;
}

/* Anonymous Gregorian computus: month*100 + day of Easter Sunday. */
static int
easter(int y)
{
	int			a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4;
	int			f = (b + 8) / 25, g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30;
	int			i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7;
	int			m = (a + 11 * h + 22 * l) / 451;
	int			month = (h + l - 7 * m + 114) / 31;
	int			day = ((h + l - 7 * m + 114) % 31) + 1;

	return month * 100 + day;
}

/* Fixed-date holiday observed on Friday/Monday when it falls on a weekend. */
static int
observed(int y, int m, int d, int hm, int hd, int saturday_rule)
{
	int			w = dow(y, hm, hd);

	if (w == 6)
		return saturday_rule && m == hm && d == hd - 1;
	if (w == 0)
		return m == hm && d == hd + 1;
	return m == hm && d == hd;
}

static int
rule_holiday(int y, int m, int d)
{
	int			e = easter(y);
	struct tm	gf = {0};
	time_t		t;

	if (y == 2025 && m == 1 && d == 9)
		return 1;				/* National Day of Mourning, President Carter */
	/* Good Friday = Easter - 2 days */
	gf.tm_year = y - 1900;
	gf.tm_mon = e / 100 - 1;
	gf.tm_mday = e % 100 - 2;
	gf.tm_hour = 12;
	t = timegm(&gf);
	gmtime_r(&t, &gf);
	if (m == gf.tm_mon + 1 && d == gf.tm_mday)
		return 1;
	return observed(y, m, d, 1, 1, 0)	/* New Year: no Friday before */
		|| (m == 1 && d == nth_weekday(y, 1, 1, 3))
		|| (m == 2 && d == nth_weekday(y, 2, 1, 3))
		|| (m == 5 && d == nth_weekday(y, 5, 1, -1))
		|| observed(y, m, d, 6, 19, 1)
		|| observed(y, m, d, 7, 4, 1)
		|| (m == 9 && d == nth_weekday(y, 9, 1, 1))
		|| (m == 11 && d == nth_weekday(y, 11, 4, 4))
		|| observed(y, m, d, 12, 25, 1);
}

static void
test_holidays(void)
{
	int			mismatches = 0;
	int			count = 0;
	char		detail[64] = "";

	for (time_t t = utc(2025, 1, 1, 12, 0); t < utc(2029, 1, 1, 0, 0); t += 86400)
	{
		struct tm	tm;
		int			y, m, d;

		gmtime_r(&t, &tm);
		y = tm.tm_year + 1900;
		m = tm.tm_mon + 1;
		d = tm.tm_mday;
		count += market_is_holiday(y, m, d);
		if (market_is_holiday(y, m, d) != rule_holiday(y, m, d))
		{
			if (mismatches++ == 0)
				snprintf(detail, sizeof(detail), "first mismatch %04d-%02d-%02d", y, m, d);
		}
	}
	if (!check(mismatches == 0, "holidays: table equals the NYSE rules for 2025-2028"))
		diag("%s", detail);
	check_int(count, 40, "holidays: 40 closures in 2025-2028");
	CHECK(market_is_holiday(2026, 11, 26), "holidays: Thanksgiving 2026");
	CHECK(!market_is_holiday(2026, 11, 27), "holidays: day after Thanksgiving trades (early close)");
	CHECK(market_is_holiday(2026, 7, 3), "holidays: July 4th 2026 (Sat) observed Fri 3rd");
	CHECK(market_is_holiday(2027, 12, 24), "holidays: Christmas 2027 (Sat) observed Fri 24th");
	CHECK(!market_is_holiday(2027, 12, 31), "holidays: no Friday closure for New Year 2028 (Sat)");
	CHECK(market_is_holiday(2027, 3, 26), "holidays: Good Friday 2027");
	CHECK(market_is_holiday(2025, 1, 9), "holidays: 2025-01-09 day of mourning");
	CHECK(!market_is_trading_day(2026, 11, 28), "trading day: Saturday is not");
	CHECK(market_is_trading_day(2026, 11, 30), "trading day: a Monday is");
}

/* A UTC time, y-mo-d h:mi, in a test table. */
struct at
{
	int			y,
				mo,
				d,
				h,
				mi;
};

#define UTC(a) utc((a).y, (a).mo, (a).d, (a).h, (a).mi)

static void
test_hours(void)
{
	/* Winter (EST, UTC-5) then summer (EDT, UTC-4) around 2025-03-09. */
	static const struct
	{
		struct at	at;
		int			open;
		const char *desc;
	}			open_cases[] = {
		{{2025, 3, 7, 14, 0}, 1, "EST: 09:00 is open (14:00Z)"},
		{{2025, 3, 7, 13, 59}, 0, "EST: 08:59 is closed"},
		{{2025, 3, 7, 21, 29}, 1, "EST: 16:29 is open"},
		{{2025, 3, 7, 21, 30}, 0, "EST: 16:30 is closed"},
		{{2025, 3, 9, 15, 0}, 0, "DST Sunday: closed"},
		{{2025, 3, 10, 13, 0}, 1, "EDT: 09:00 is open (13:00Z)"},
		{{2025, 3, 10, 12, 59}, 0, "EDT: 08:59 is closed"},
		{{2025, 3, 10, 20, 30}, 0, "EDT: 16:30 is closed (20:30Z)"},
		/* back to EST on 2025-11-02 */
		{{2025, 10, 31, 13, 0}, 1, "EDT Friday 31 Oct: 09:00 open"},
		{{2025, 11, 3, 13, 30}, 0, "EST Monday 3 Nov: 08:30 closed"},
		{{2025, 11, 3, 14, 0}, 1, "EST Monday 3 Nov: 09:00 open"},
		{{2026, 11, 26, 15, 0}, 0, "Thanksgiving: closed at noon"},
		{{2026, 11, 27, 19, 30}, 1, "day after Thanksgiving: open"},
	};
	/* market_next_open() (daily 0) or market_next_daily() (daily 1) */
	static const struct
	{
		int			daily;
		struct at	from;
		struct at	want;
		const char *desc;
	}			next_cases[] = {
		{0, {2025, 3, 7, 21, 30}, {2025, 3, 10, 13, 0},
		"next open: Friday close -> Monday 09:00 EDT across the DST change"},
		{0, {2025, 10, 31, 21, 0}, {2025, 11, 3, 14, 0}, "next open: across the end of DST"},
		{0, {2026, 11, 25, 22, 0}, {2026, 11, 27, 14, 0}, "next open: skips Thanksgiving"},
		{0, {2027, 12, 23, 22, 0}, {2027, 12, 27, 14, 0},
		"next open: skips observed Christmas and the weekend"},
		{0, {2025, 12, 31, 23, 0}, {2026, 1, 2, 14, 0}, "next open: skips New Year's Day"},
		{0, {2026, 4, 2, 21, 0}, {2026, 4, 6, 13, 0}, "next open: skips Good Friday"},
		{0, {2025, 3, 10, 15, 0}, {2025, 3, 10, 15, 0}, "next open: now, when open"},
		{0, {2025, 3, 10, 6, 0}, {2025, 3, 10, 13, 0}, "next open: later the same day"},
		{1, {2025, 3, 7, 22, 0}, {2025, 3, 10, 20, 45},
		"next daily: Friday after 16:45 -> Monday 16:45 EDT"},
		{1, {2025, 3, 10, 12, 0}, {2025, 3, 10, 20, 45}, "next daily: same day"},
		{1, {2026, 11, 25, 21, 45}, {2026, 11, 27, 21, 45},
		"next daily: exactly at the time -> next trading day, skipping Thanksgiving"},
	};
	struct market m = {9 * 60, 16 * 60 + 30, 16 * 60 + 45};
	char		b[64];

	for (size_t i = 0; i < sizeof(open_cases) / sizeof(open_cases[0]); i++)
		check(market_is_open(&m, UTC(open_cases[i].at)) == open_cases[i].open,
			  "%s", open_cases[i].desc);
	for (size_t i = 0; i < sizeof(next_cases) / sizeof(next_cases[0]); i++)
	{
		time_t		from = UTC(next_cases[i].from);

		check_int(next_cases[i].daily ? market_next_daily(&m, from) : market_next_open(&m, from),
				  UTC(next_cases[i].want), next_cases[i].desc);
	}
	market_format_local(utc(2025, 3, 10, 13, 0), b, sizeof(b));
	check_str(b, "2025-03-10 09:00 EDT", "format local time");
}

static void
test_other_zone(void)
{
	struct market m = {9 * 60, 17 * 60 + 30, 18 * 60};

	CHECK(market_set_timezone("Europe/Berlin") == 0, "zone: Europe/Berlin accepted");
	CHECK(market_is_open(&m, utc(2025, 3, 28, 8, 0)), "Berlin CET: 09:00 = 08:00Z open");
	CHECK(!market_is_open(&m, utc(2025, 3, 31, 6, 30)), "Berlin CEST: 08:30 closed");
	CHECK(market_is_open(&m, utc(2025, 3, 31, 7, 0)), "Berlin CEST: 09:00 = 07:00Z open");
	CHECK(market_set_timezone("Mars/Olympus") != 0, "zone: unknown zone refused");
	CHECK(market_set_timezone("../etc/passwd") != 0, "zone: path refused");
	CHECK(market_set_timezone("America/New_York") == 0, "zone: back to New York");
}

static void
test_parse(void)
{
	int			a, b;

	CHECK(market_parse_hhmm("16:45", &a) == 0 && a == 1005, "hh:mm: 16:45");
	CHECK(market_parse_hhmm("00:00", &a) == 0 && a == 0, "hh:mm: 00:00");
	CHECK(market_parse_hhmm("24:00", &a) != 0, "hh:mm: 24:00 refused");
	CHECK(market_parse_hhmm("9:00", &a) != 0, "hh:mm: 9:00 refused (two digits)");
	CHECK(market_parse_hhmm("09:60", &a) != 0, "hh:mm: 09:60 refused");
	CHECK(market_parse_hhmm("09:00x", &a) != 0, "hh:mm: trailing garbage refused");
	CHECK(market_parse_hours("09:00-16:30", &a, &b) == 0 && a == 540 && b == 990,
		  "hours: 09:00-16:30");
	CHECK(market_parse_hours("16:30-09:00", &a, &b) != 0, "hours: close before open refused");
	CHECK(market_parse_hours("09:00", &a, &b) != 0, "hours: missing close refused");
}

/* The holiday table's end, and the warning a year before it (source_yahoo.c). */
static void
test_calendar_end(void)
{
	check_int(market_calendar_last_year(), 2028, "calendar: the table ends with 2028");
	check_int(market_calendar_days_left(utc(2027, 12, 30, 17, 0)), 367,
			  "calendar: 2027-12-30 (New York) is 367 days before its end (2028 is a leap year)");
	check_int(market_calendar_days_left(utc(2028, 1, 1, 17, 0)), 365,
			  "calendar: 2028-01-01 is 365 days before: the warning starts");
	check_int(market_calendar_days_left(utc(2028, 1, 2, 3, 0)), 365,
			  "calendar: 2028-01-02 03:00Z is still 2028-01-01 in New York");
	check_int(market_calendar_days_left(utc(2028, 12, 31, 17, 0)), 0, "calendar: its last day");
	check_int(market_calendar_days_left(utc(2029, 1, 3, 17, 0)), -3,
			  "calendar: 2029-01-03, three days past its end");
	{
		char		msg[400];

		CHECK(!market_calendar_warning(utc(2027, 12, 31, 17, 0), msg, sizeof(msg)),
			  "calendar warning: none 366 days before the end");
		CHECK(market_calendar_warning(utc(2028, 1, 1, 17, 0), msg, sizeof(msg)) &&
			  strstr(msg, "end on 2028-12-31, in 365 day(s): add the next year's") != NULL,
			  "calendar warning: from 365 days before, with the date and the days left");
		CHECK(market_calendar_warning(utc(2029, 3, 2, 17, 0), msg, sizeof(msg)) &&
			  strstr(msg, "ended on 2028-12-31, 61 day(s) ago") != NULL &&
			  strstr(msg, "only weekends close the market") != NULL,
			  "calendar warning: once past, how long ago and what it means");
	}
	CHECK(market_is_trading_day(2029, 1, 15) && market_is_trading_day(2029, 11, 22),
		  "calendar: past its end, holidays are unknown (MLK Day, Thanksgiving 2029 look like "
		  "trading days): hence the warning, and Yahoo's periods first");
}

int
main(void)
{
	if (market_set_timezone("America/New_York") != 0)
	{
		printf("not ok - America/New_York zone available\n");
		return 1;
	}
	test_holidays();
	test_hours();
	test_other_zone();
	test_parse();
	test_calendar_end();
	return tap_summary();
}
