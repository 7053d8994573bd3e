/*-------------------------------------------------------------------------
 *
 * schedule_sql.c
 *	  Job schedules callable from SQL: schedule_next() and schedule_check().
 *
 * They run the very parser and next-run computation the scheduler worker
 * runs (schedule.c), with PostgreSQL's own time zone database for the
 * local times of cron schedules, so what a test or a user sees here is
 * what the scheduler does with the same schedule.
 *
 * Runs fall on whole seconds.  An "after" with a fractional second is
 * rounded down to its second: the library's first run strictly after that
 * second is then also strictly after "after".
 *
 * A schedule the parser refuses raises 22023 (invalid_parameter_value)
 * here as in schedule_check() and stockpipe.schedule(), with the parser's
 * reason as the detail: that includes day fields that never meet, such as
 * "0 0 30 2 *", so that the mistake is named where it is made instead of
 * surfacing later as a NULL.  schedule_next() returns NULL only for a
 * schedule that is valid but has no run within SP_SCHED_SEARCH_YEARS years
 * of "after" in the zone given: one whose every time falls in DST gaps
 * ("* 2 8-14 3 *\/7" in America/New_York), or a search past year 9999.
 *
 *-------------------------------------------------------------------------
 */
#include "stockpipe.h"

#include "fmgr.h"
#include "pgtime.h"
#include "schedule.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(stockpipe_schedule_next);
PG_FUNCTION_INFO_V1(stockpipe_schedule_check);

/* Seconds from 1970-01-01 (Unix epoch) to 2000-01-01 (PostgreSQL epoch). */
#define SP_PG_EPOCH_SECS \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)

/* Parse a schedule, or raise the error users see for a bad one. */
static void
parse_or_error(const char *text, sp_schedule *s)
{
	char		err[SP_SCHED_ERR_MAX];

	if (!sp_schedule_parse(text, s, err))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid schedule \"%s\"", text),
				 errdetail("%s", err),
				 errhint("Use 5 cron fields (minute hour day-of-month month day-of-week), "
						 "@hourly, @daily, @weekly, @monthly or 'N seconds' (1-59).")));
}

/* A time zone of PostgreSQL's database, or the error for an unknown one. */
static pg_tz *
tz_or_error(const char *name)
{
	pg_tz	   *tz = pg_tzset(name);

	if (tz == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" not recognized", name),
				 errhint("Use a name from pg_timezone_names, such as 'America/New_York' or 'UTC'.")));
	return tz;
}

/* sp_tz_ops.to_local on pg_localtime(); to_utc is derived by the library. */
static bool
pg_to_local(void *ctx, int64_t utc, sp_civil *out)
{
	pg_time_t	t = (pg_time_t) utc;
	struct pg_tm *tm = pg_localtime(&t, (const pg_tz *) ctx);

	if (tm == NULL)
		return false;
	out->year = tm->tm_year + 1900;
	out->month = tm->tm_mon + 1;
	out->day = tm->tm_mday;
	out->hour = tm->tm_hour;
	out->minute = tm->tm_min;
	out->second = tm->tm_sec;
	out->wday = tm->tm_wday;
	return true;
}

/*
 * schedule_next(schedule text, after timestamptz, timezone text)
 *	  RETURNS timestamptz: the first run strictly after "after", or NULL if
 *	  none falls within the library's search horizon.  An invalid schedule
 *	  (30 February included), time zone or "after" raises 22023.
 */
Datum
stockpipe_schedule_next(PG_FUNCTION_ARGS)
{
	char	   *sched = text_to_cstring(PG_GETARG_TEXT_PP(0));
	TimestampTz after = PG_GETARG_TIMESTAMPTZ(1);
	char	   *zone = text_to_cstring(PG_GETARG_TEXT_PP(2));
	sp_schedule s;
	sp_tz_ops	ops;
	int64		secs;
	int64_t		next;
	TimestampTz result;

	parse_or_error(sched, &s);
	ops.to_local = pg_to_local;
	ops.to_utc = NULL;
	ops.ctx = tz_or_error(zone);

	if (TIMESTAMP_NOT_FINITE(after))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"after\" must be a finite timestamp"),
				 errhint("Pass a time such as now().")));

	/* floor(after / 1 s), in Unix seconds */
	secs = after / USECS_PER_SEC;
	if (after % USECS_PER_SEC < 0)
		secs--;
	secs += SP_PG_EPOCH_SECS;

	if (!sp_schedule_next(&s, secs, &ops, &next))
		PG_RETURN_NULL();

	result = (TimestampTz) ((next - SP_PG_EPOCH_SECS) * USECS_PER_SEC);
	if (!IS_VALID_TIMESTAMP(result))
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(result);
}

/*
 * schedule_check(schedule text) RETURNS text: the schedule in normalised
 * form, or the error a bad schedule gets.
 */
Datum
stockpipe_schedule_check(PG_FUNCTION_ARGS)
{
	char	   *sched = text_to_cstring(PG_GETARG_TEXT_PP(0));
	sp_schedule s;
	char		buf[SP_SCHED_DESCRIBE_MAX];

	parse_or_error(sched, &s);
	sp_schedule_describe(&s, buf, sizeof(buf));
	PG_RETURN_TEXT_P(cstring_to_text(buf));
}
