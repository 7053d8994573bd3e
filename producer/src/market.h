/*
 * market.h -- market hours, NYSE holidays and daily-bar times in the
 * market's time zone: the fixed schedule (--schedule fixed), and the
 * fallback for a symbol whose own trading periods Yahoo has not given
 * (session.h).  Pure apart from reading the zone database once.
 */
#ifndef STOCKPIPE_MARKET_H
#define STOCKPIPE_MARKET_H

#include <stddef.h>
#include <time.h>

struct market
{
	int			open_min;		/* minutes after local midnight, e.g. 540 */
	int			close_min;		/* exclusive, e.g. 990 */
	int			daily_min;		/* when daily bars are fetched, e.g. 1005 */
};

int			market_set_timezone(const char *tz);
int			market_parse_hhmm(const char *s, int *minutes);
int			market_parse_hours(const char *s, int *open_min, int *close_min);

int			market_is_holiday(int year, int month, int day);
int			market_is_trading_day(int year, int month, int day);
int			market_is_open(const struct market *m, time_t t);
time_t		market_next_open(const struct market *m, time_t t);
time_t		market_next_daily(const struct market *m, time_t t);
int			market_format_local(time_t t, char *buf, size_t size);

/*
 * The holiday table's last year (its end: 31 December), and the days
 * from T's market-local date to that end: negative once it is past.
 */
int			market_calendar_last_year(void);
int			market_calendar_days_left(time_t t);

/* The warning to log at T while the table ends within a year or has ended: 1, else 0. */
int			market_calendar_warning(time_t t, char *buf, size_t size);

#endif
