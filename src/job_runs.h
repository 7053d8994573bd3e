/*-------------------------------------------------------------------------
 *
 * job_runs.h
 *	  Ending job runs and queueing their retries (job_runs.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef STOCKPIPE_JOB_RUNS_H
#define STOCKPIPE_JOB_RUNS_H

#include "spi.h"

/* The columns of sp_finish_runs()'s rows. */
#define SP_RUN_RUNID			1
#define SP_RUN_JOB_NAME			2
#define SP_RUN_STATUS			3
#define SP_RUN_MESSAGE			4
#define SP_RUN_PID				5
#define SP_RUN_RETRY_RUNID		6	/* NULL: no retry */
#define SP_RUN_RETRY_ATTEMPT	7
#define SP_RUN_RETRY_AT			8

extern uint64 sp_finish_runs(const char *set, const char *from,
							 const char *where, int nargs, const Oid *types,
							 const Datum *values, SPITupleTable **rows);
extern char *sp_finished_run_retry(SPITupleTable *rows, uint64 row);

#endif							/* STOCKPIPE_JOB_RUNS_H */
