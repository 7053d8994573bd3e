/*-------------------------------------------------------------------------
 *
 * job_runs.c
 *	  Ending job runs: the one statement that records how runs ended and
 *	  queues the retry of each failed one, used by the scheduler (lost,
 *	  timed-out and interrupted runs, runs of a role that may not run) and
 *	  by the job worker (its own outcome).
 *
 * Recording the end and queueing the retry in one statement is what makes
 * a failure retried exactly once, whoever records it.
 *
 *-------------------------------------------------------------------------
 */
#include "stockpipe.h"

#include "job_runs.h"

/*
 * End the runs of stockpipe.job_run r that match where (joined with from,
 * which may be empty), setting set; failed and timed-out runs get their
 * retry queued after their job's retry_delay (at most a day) while
 * attempts remain.  set, from and where are literal SQL of the callers;
 * values are passed as parameters $1.. only.  The rows returned, in runid
 * order, are SP_RUN_* columns.
 */
uint64
sp_finish_runs(const char *set, const char *from, const char *where,
			   int nargs, const Oid *types, const Datum *values,
			   SPITupleTable **rows)
{
	char	   *sql = psprintf(
							   "WITH done AS ("
							   " UPDATE stockpipe.job_run r SET %s, finished_at = pg_catalog.now() %s"
							   " WHERE %s"
							   " RETURNING r.runid, r.jobid, r.attempt, r.finished_at, r.status, r.message, r.pid),"
							   " retry AS ("
							   " INSERT INTO stockpipe.job_run (jobid, trigger, scheduled_at, status, attempt)"
							   " SELECT d.jobid, 'retry',"
							   " d.finished_at + LEAST(GREATEST(j.retry_delay, interval '0'), interval '1 day'),"
							   " 'scheduled', d.attempt + 1"
							   " FROM done d JOIN stockpipe.job j ON j.jobid = d.jobid"
							   " WHERE d.status IN ('failed', 'timed out') AND d.attempt <= j.max_retries"
							   " RETURNING runid, jobid, attempt, scheduled_at)"
							   " SELECT d.runid, j.name, d.status, d.message, d.pid, t.runid, t.attempt, t.scheduled_at"
							   " FROM done d JOIN stockpipe.job j ON j.jobid = d.jobid"
							   " LEFT JOIN retry t ON t.jobid = d.jobid AND t.attempt = d.attempt + 1"
							   " ORDER BY d.runid",
							   set, from, where);

	return sp_sql(sql, nargs, types, values, SPI_OK_SELECT, rows);
}

/* "Retry run 12 (attempt 2) is scheduled at ...", or NULL: no retry. */
char *
sp_finished_run_retry(SPITupleTable *rows, uint64 row)
{
	if (sp_col_isnull(rows, row, SP_RUN_RETRY_RUNID))
		return NULL;
	return psprintf("Retry run %s (attempt %s) is scheduled at %s.",
					sp_col_text(rows, row, SP_RUN_RETRY_RUNID),
					sp_col_text(rows, row, SP_RUN_RETRY_ATTEMPT),
					sp_col_text(rows, row, SP_RUN_RETRY_AT));
}
