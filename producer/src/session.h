/*
 * session.h -- when to poll one symbol, by its own exchange's trading
 * periods (yahoo.h: Yahoo's meta.currentTradingPeriod).  Pure: the time is
 * an argument, so the tests can be at any hour of any day.
 */
#ifndef STOCKPIPE_SESSION_H
#define STOCKPIPE_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "yahoo.h"

/* --sessions: which periods are polled every --interval (bits of yahoo.h's periods). */
#define SESSION_PRE		(1u << YAHOO_PRE)
#define SESSION_REGULAR (1u << YAHOO_REGULAR)
#define SESSION_POST	(1u << YAHOO_POST)
#define SESSION_ALL		(SESSION_PRE | SESSION_REGULAR | SESSION_POST)
#define SESSION_DEFAULT SESSION_REGULAR

/*
 * Polling goes on this long after the last period polled ends: the
 * closing print is stamped a second after the close and reaches Yahoo a
 * little later, and late trades move the day's volume for a few minutes.
 */
#define SESSION_GRACE_S 300

/* Daily bars are fetched this long after the regular session ends (16:45 for a 16:00 close). */
#define SESSION_DAILY_AFTER_S 2700

/* What to do with one symbol now. */
struct session_plan
{
	int			active;			/* poll every --interval */
	int64_t		next_ms;		/* active: when that ends; idle: the next poll (real ms) */
};

/* "pre,regular,post" (any of them, comma-separated, at least one) into *MASK; 0 or -1. */
int			session_parse(const char *s, unsigned *mask);

/* MASK as "pre,regular" (for logs); the length written. */
int			session_format(unsigned mask, char *buf, size_t size);

/*
 * The polling window of P for the periods in MASK: from the start of the
 * first to the end of the last, plus SESSION_GRACE_S, in seconds; 0, or
 * -1 when P knows none of them.
 */
int			session_window(const struct yahoo_periods *p, unsigned mask, int64_t *start,
						   int64_t *end);

/*
 * The plan at NOW_MS for a symbol whose window (session_window) is known
 * and that was last polled at LAST_MS (0 = never): inside the window,
 * active until it ends; outside, idle, polled again at LAST_MS + IDLE_MS,
 * or sooner when the window starts (a window ahead), or when the next
 * day's would start (a window past: Yahoo may show the next day's periods
 * only from then on).
 */
void		session_plan(const struct yahoo_periods *p, unsigned mask, int64_t now_ms,
						 int64_t last_ms, int64_t idle_ms, struct session_plan *out);

/*
 * When the daily bars of P's latest regular session are due, in seconds
 * (its end + SESSION_DAILY_AFTER_S), or -1 if P has no regular period.
 */
int64_t		session_daily_at(const struct yahoo_periods *p);

/*
 * "regular 2024-10-04 09:30-16:00 UTC-04:00 (NasdaqGS, America/New_York)":
 * P's period I on the exchange's clock, for logs.
 */
int			session_describe(const struct yahoo_periods *p, int i, char *buf, size_t size);

/*
 * The contract's name of the period that T (seconds since the epoch) falls
 * in, "pre", "regular" or "post", or NULL when no known period holds it.
 */
const char *session_name_at(const struct yahoo_periods *p, int64_t t);

#endif
