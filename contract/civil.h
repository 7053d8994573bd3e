/*-------------------------------------------------------------------------
 *
 * civil.h
 *	  Proleptic Gregorian calendar arithmetic: the one copy shared by the
 *	  contract's dates and times, the job schedules (src/schedule.c) and the
 *	  dashboard's request checks.
 *
 * Closed-form and integer-only rather than timegm(): libc's time functions
 * depend on TZ, have a platform-dependent range and are not all reentrant,
 * and none of that belongs in a parser.  Pure C11, no I/O.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STOCKPIPE_CIVIL_H
#define STOCKPIPE_CIVIL_H

#include <stdbool.h>
#include <stdint.h>

extern bool sp_is_leap_year(int64_t y);

/* Days in month m (1-12) of year y. */
extern int	sp_days_in_month(int64_t y, int m);

/* Days from 1970-01-01 to y-m-d (m 1-12, d 1-31), negative before. */
extern int64_t sp_days_from_civil(int64_t y, int m, int d);

/* The date of a count of days since 1970-01-01: the inverse. */
extern void sp_civil_from_days(int64_t z, int *y, int *m, int *d);

#endif							/* STOCKPIPE_CIVIL_H */
