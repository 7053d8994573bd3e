/*-------------------------------------------------------------------------
 *
 * schedule.h
 *	  Job schedules of the scheduler worker (issue 4): parsing of cron
 *	  expressions, macros and "N seconds" intervals, and computation of the
 *	  next run time in a job's own time zone, DST included.
 *
 * Pure C11, no PostgreSQL and no I/O, so that the scheduler worker, the
 * SQL-callable "next run after" function and the unit tests share exactly
 * one implementation.  Time zones are not handled here: the caller passes
 * conversion callbacks (sp_tz_ops), so that the extension can use
 * PostgreSQL's own zone database and the tests a zone written from rules.
 *
 * Accepted schedules (leading and trailing white space ignored, fields
 * separated by white space, names and units case-insensitive):
 *
 *	  minute hour day-of-month month day-of-week
 *		  each field "*", "*\/S", or a comma-separated list of N, A-B and
 *		  A-B/S; minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or
 *		  JAN-DEC, day-of-week 0-7 or SUN-SAT (0 and 7 are Sunday).
 *		  If both day-of-month and day-of-week are restricted (neither is
 *		  "*" nor "*\/S"), a day matches when EITHER matches; otherwise
 *		  both must match.  This is Vixie cron's rule, which pg_cron and
 *		  cronie follow: "0 0 1,15 * FRI" runs on the 1st, the 15th and
 *		  every Friday.
 *		  Refused, since sp_schedule_next() would find no run: day fields
 *		  that never meet the month ("0 0 30 2 *"), and, where a day must
 *		  match both day fields, days that do so less than once in
 *		  SP_SCHED_SEARCH_YEARS years ("0 9 *\/7 6 MON" runs when June
 *		  1st is a Monday, 2026 then 2037).
 *	  @hourly  @daily  @midnight  @weekly  @monthly  @yearly  @annually
 *		  "0 * * * *", "0 0 * * *" (twice), "0 0 * * 0", "0 0 1 * *",
 *		  "0 0 1 1 *" (twice).
 *	  N seconds, N second
 *		  every N seconds, N from 1 to 59.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STOCKPIPE_SCHEDULE_H
#define STOCKPIPE_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SP_SCHED_ERR_MAX	256		/* bytes of an error text, NUL included */
#define SP_SCHED_DESCRIBE_MAX 512	/* enough for any sp_schedule_describe() */

/*
 * How far sp_schedule_next() looks ahead, in years, before it gives up.
 * Ten, not five: a "29 February" schedule can wait eight years across a
 * century that is not a leap year (2096 -> 2104).
 */
#define SP_SCHED_SEARCH_YEARS 10

/* A civil (wall clock) date and time. */
typedef struct sp_civil
{
	int			year;
	int			month;			/* 1-12 */
	int			day;			/* 1-31 */
	int			hour;			/* 0-23 */
	int			minute;			/* 0-59 */
	int			second;			/* 0-59 (a leap second is not expected) */
	int			wday;			/* 0 = Sunday ... 6 = Saturday */
} sp_civil;

/* Indexes of the five cron fields, in their order in the text. */
typedef enum sp_cron_field
{
	SP_FIELD_MINUTE = 0,
	SP_FIELD_HOUR,
	SP_FIELD_DOM,
	SP_FIELD_MONTH,
	SP_FIELD_DOW,
	SP_NUM_FIELDS
} sp_cron_field;

typedef enum sp_schedule_kind
{
	SP_SCHEDULE_CRON = 1,
	SP_SCHEDULE_INTERVAL
} sp_schedule_kind;

/*
 * A parsed schedule.  Plain data (no pointers), so it can be copied, kept
 * in shared memory or compared field by field.
 */
typedef struct sp_schedule
{
	sp_schedule_kind kind;
	int			interval;		/* SP_SCHEDULE_INTERVAL: seconds, 1-59 */

	/* SP_SCHEDULE_CRON: bit n set = value n matches */
	uint64_t	minutes;		/* bits 0-59 */
	uint32_t	hours;			/* bits 0-23 */
	uint32_t	mdays;			/* bits 1-31 */
	uint16_t	months;			/* bits 1-12 */
	uint8_t		wdays;			/* bits 0-6, 0 = Sunday */

	/*
	 * Per field: the step S when the field was written "*" (S = 1) or
	 * "*\/S", else 0.  Decides the day-of-month/day-of-week rule above and
	 * whether the schedule runs by the wall clock across DST changes
	 * (sp_schedule_next), and lets sp_schedule_describe() give "*\/15"
	 * back instead of a list.
	 */
	uint8_t		star_step[SP_NUM_FIELDS];
} sp_schedule;

/*
 * Time zone conversions supplied by the caller.  Both return false if they
 * cannot convert (say, out of the zone database's range); the schedule
 * functions then fail too.
 *
 * to_local: the civil time at a UTC instant (seconds since the epoch).  The
 *	 wday it returns is not relied upon.
 * to_utc: the UTC instant of a civil time (wday is ignored).  May be NULL:
 *	 it is then derived from to_local, by trying the UTC offsets in force
 *	 30 hours either side (right for any zone that does not change its
 *	 offset twice within 60 hours).  *kind says what the civil time is:
 *	   SP_TZ_UNIQUE		 it occurs once; *utc is that instant
 *	   SP_TZ_AMBIGUOUS	 it occurs twice (the clock went back); *utc must be
 *						 the EARLIER instant (PostgreSQL's own input
 *						 conversion picks the later one)
 *	   SP_TZ_NONEXISTENT it never occurs (the clock jumped over it); *utc is
 *						 ignored: the gap's end is found with to_local
 */
#define SP_TZ_UNIQUE		0
#define SP_TZ_AMBIGUOUS		1
#define SP_TZ_NONEXISTENT	2

typedef struct sp_tz_ops
{
	bool		(*to_local) (void *ctx, int64_t utc, sp_civil *out);
	bool		(*to_utc) (void *ctx, const sp_civil *local, int64_t *utc,
						   int *kind);
	void	   *ctx;
} sp_tz_ops;

/*
 * Parse text into *out.  On failure returns false and writes a one-line
 * error text into err (SP_SCHED_ERR_MAX bytes; may be NULL) that says what
 * is accepted; *out is then unspecified.  On success err is "".
 */
extern bool sp_schedule_parse(const char *text, sp_schedule *out, char *err);

/*
 * The first run time strictly after after_utc, into *next_utc.
 *
 * Cron schedules match the LOCAL civil time given by tz, to the minute.
 * When the clock jumps (DST), it depends on how the minute and hour fields
 * are written, as in cron(8); the full rule is in schedule.c:
 *	 - wall-clock schedules, "*" or "*\/S" in the minute or the hour field
 *	   ("@hourly" too): the job runs whenever the local clock shows a
 *	   matching minute.  A time the clock skips does not run; a time it
 *	   shows twice runs twice.  On the US nights, "*\/20 * * * *" runs at
 *	   01:00, 01:20, 01:40 EDT and again EST in November, and "30 * * * *"
 *	   at 01:30 EST then 03:30 EDT in March;
 *	 - fixed-time schedules, both fields numbers, lists or ranges: a job due
 *	   at local time L runs at the first instant at which the local clock
 *	   shows L or later, once.  A skipped time runs when the gap ends (02:30
 *	   at 03:00 EDT; due times in the gap and at its end collapse into that
 *	   one run); a repeated time runs at its first occurrence only.  So a
 *	   daily 16:45 America/New_York job runs exactly once per local day, at
 *	   16:45 local time, on both sides of a DST change.
 * Interval schedules ignore tz (it may be NULL for them): runs fall on the
 * multiples of N seconds since 1970-01-01 00:00 UTC, so that a restart does
 * not shift them.
 *
 * Returns false if no run falls within SP_SCHED_SEARCH_YEARS years (say,
 * a hand-built schedule for 30 February, or a wall-clock schedule whose
 * every time falls in DST gaps, like "* 2 8-14 3 *\/7" in New York), if
 * after_utc is outside years 0001-9999, or if a tz callback fails.
 */
extern bool sp_schedule_next(const sp_schedule *s, int64_t after_utc,
							 const sp_tz_ops *tz, int64_t *next_utc);

/*
 * Does a cron schedule match the civil time c, to the minute (c->second and
 * c->wday are ignored)?  False for interval schedules.
 */
extern bool sp_schedule_matches(const sp_schedule *s, const sp_civil *c);

/*
 * The schedule in normalised form ("0 0 * * 0" for "@weekly", lists merged
 * into ranges, names as numbers, "5 seconds"), like snprintf: returns the
 * length of the full text, writes at most len bytes, NUL included.
 */
extern int	sp_schedule_describe(const sp_schedule *s, char *buf, size_t len);

/* Is the date of c a Monday to Friday?  Computed from the date, not c->wday. */
extern bool sp_civil_is_weekday(const sp_civil *c);

/*
 * Conversions between a civil time read as UTC and seconds since the epoch,
 * for callers that build sp_tz_ops (UTC, fixed offsets, or a zone database
 * that works on offsets).  sp_civil_from_epoch fills wday.
 */
extern int64_t sp_civil_to_epoch(const sp_civil *c);
extern void sp_civil_from_epoch(int64_t secs, sp_civil *out);

#endif							/* STOCKPIPE_SCHEDULE_H */
