/*
 * session.c -- when to poll one symbol, by its own exchange's trading
 * periods.
 *
 * Yahoo's chart response carries, for the instrument's exchange, the
 * current day's pre-market, regular and post-market periods (between
 * sessions: the latest day's).  They are right for every exchange, every
 * holiday (no period today: the latest is days old) and every early close
 * (the regular period ends at 13:00), which no table of ours can be.  A
 * symbol is polled every --interval inside the periods --sessions names,
 * and otherwise only every --idle-interval, to learn its next session.
 * Pure: the time is an argument.
 */
#include "session.h"

#include <stdio.h>
#include <string.h>

#include "civil.h"

#define DAY_MS INT64_C(86400000)

static const char *const period_names[YAHOO_NPERIODS] = {"pre", "regular", "post"};

int
session_parse(const char *s, unsigned *mask)
{
	unsigned	m = 0;

	while (*s)
	{
		size_t		n = strcspn(s, ",");
		int			found = 0;

		for (int i = 0; i < YAHOO_NPERIODS; i++)
			if (n == strlen(period_names[i]) && strncmp(s, period_names[i], n) == 0)
			{
				m |= 1u << i;
				found = 1;
			}
		if (!found)
			return -1;
		s += n;
		if (*s == ',' && *++s == '\0')
			return -1;			/* a trailing comma */
	}
	if (m == 0)
		return -1;
	*mask = m;
	return 0;
}

int
session_format(unsigned mask, char *buf, size_t size)
{
	size_t		n = 0;

	if (size == 0)
		return 0;
	buf[0] = '\0';
	for (int i = 0; i < YAHOO_NPERIODS; i++)
		if (mask & (1u << i))
		{
			int			w = snprintf(buf + n, size - n, "%s%s", n ? "," : "", period_names[i]);

			if (w < 0 || (size_t) w >= size - n)
				break;
			n += (size_t) w;
		}
	return (int) n;
}

int
session_window(const struct yahoo_periods *p, unsigned mask, int64_t *start, int64_t *end)
{
	int			any = 0;

	for (int i = 0; i < YAHOO_NPERIODS; i++)
	{
		if (!(mask & p->known & (1u << i)))
			continue;
		if (!any || p->start[i] < *start)
			*start = p->start[i];
		if (!any || p->end[i] > *end)
			*end = p->end[i];
		any = 1;
	}
	if (!any)
		return -1;
	*end += SESSION_GRACE_S;
	return 0;
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

void
session_plan(const struct yahoo_periods *p, unsigned mask, int64_t now_ms, int64_t last_ms,
			 int64_t idle_ms, struct session_plan *out)
{
	int64_t		start = 0;
	int64_t		end = 0;
	int64_t		start_ms;

	out->active = 0;
	out->next_ms = last_ms + idle_ms;
	if (session_window(p, mask, &start, &end) != 0)
		return;
	start_ms = start * 1000;
	if (now_ms >= start_ms && now_ms < end * 1000)
	{
		out->active = 1;
		out->next_ms = end * 1000;
	}
	else if (now_ms < start_ms)
		out->next_ms = min64(out->next_ms, start_ms);
	else
	{
		/*
		 * The window is over.  Its next one is unknown until Yahoo shows
		 * the next day's periods (from the pre-market on, in the responses
		 * recorded; the same time tomorrow at the latest, if the exchange
		 * trades): look then, so that an idle interval of minutes never
		 * makes a session start late.  A DST change moves it by an hour:
		 * then the idle polls see it.
		 */
		out->next_ms = min64(out->next_ms,
							 start_ms + (now_ms - start_ms + DAY_MS - 1) / DAY_MS * DAY_MS);
	}
}

int64_t
session_daily_at(const struct yahoo_periods *p)
{
	if (!(p->known & SESSION_REGULAR))
		return -1;
	return p->end[YAHOO_REGULAR] + SESSION_DAILY_AFTER_S;
}

/* "HH:MM" of T on a clock OFF seconds from UTC, and that clock's day number in *DAY. */
static void
clock_time(int64_t t, int32_t off, char buf[6], int64_t *day)
{
	int64_t		local = t + off;
	int64_t		s = (local % 86400 + 86400) % 86400;

	*day = (local - s) / 86400;
	snprintf(buf, 6, "%02d:%02d", (int) (s / 3600), (int) (s / 60 % 60));
}

int
session_describe(const struct yahoo_periods *p, int i, char *buf, size_t size)
{
	char		a[6];
	char		b[6];
	int64_t		day;
	int64_t		end_day;
	int			y, m, d;
	int32_t		off = p->gmtoffset;
	int32_t		aoff = off < 0 ? -off : off;

	if (i < 0 || i >= YAHOO_NPERIODS || !(p->known & (1u << i)))
		return snprintf(buf, size, "no %s period",
						i >= 0 && i < YAHOO_NPERIODS ? period_names[i] : "such");
	clock_time(p->start[i], off, a, &day);
	clock_time(p->end[i], off, b, &end_day);
	sp_civil_from_days(day, &y, &m, &d);
	return snprintf(buf, size, "%s %04d-%02d-%02d %s-%s%s UTC%c%02d:%02d (%s%s%s)",
					period_names[i], y, m, d, a, b, end_day != day ? " (next day)" : "",
					off < 0 ? '-' : '+', (int) (aoff / 3600), (int) (aoff / 60 % 60),
					p->exchange[0] ? p->exchange : "exchange unknown",
					p->timezone[0] ? ", " : "", p->timezone);
}

const char *
session_name_at(const struct yahoo_periods *p, int64_t t)
{
	static const char *const names[YAHOO_NPERIODS] = {"pre", "regular", "post"};

	for (int i = 0; i < YAHOO_NPERIODS; i++)
		if ((p->known & (1u << i)) && t >= p->start[i] && t < p->end[i])
			return names[i];
	return NULL;
}
