/*-------------------------------------------------------------------------
 *
 * stockpipe.c
 *	  Module entry point: settings, shared memory and the background workers
 *	  the postmaster starts when stockpipe is in shared_preload_libraries.
 *
 *-------------------------------------------------------------------------
 */
#include "stockpipe.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* A killed or failed worker comes back after this many seconds. */
#define SP_RESTART_SECONDS 5

/*
 * Register one static worker.  The kind and index travel in bgw_extra;
 * bgw_type is what pg_stat_activity.backend_type shows.
 */
static void
register_worker(const char *function, const char *name, const char *type,
				SpWorkerKind kind, int index)
{
	BackgroundWorker worker;
	SpWorkerArgs args = {.kind = kind,.index = index};

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = SP_RESTART_SECONDS;
	strlcpy(worker.bgw_library_name, "stockpipe", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, function, BGW_MAXLEN);
	strlcpy(worker.bgw_name, name, BGW_MAXLEN);
	strlcpy(worker.bgw_type, type, BGW_MAXLEN);
	StaticAssertStmt(sizeof(SpWorkerArgs) <= BGW_EXTRALEN, "bgw_extra too small");
	memcpy(worker.bgw_extra, &args, sizeof(args));
	RegisterBackgroundWorker(&worker);
}

/*
 * On a hot standby, once consistent: one LOG line saying the workers wait
 * for promotion (standby.c); then it exits for good (never restarted).
 */
static void
register_standby_notice(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "stockpipe", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "stockpipe_standby_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "stockpipe standby notice", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "stockpipe standby notice", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

void
_PG_init(void)
{
	int			i;

	sp_define_gucs();

	/* Workers and shared memory exist only when preloaded. */
	if (!process_shared_preload_libraries_in_progress)
		return;

	sp_shmem_init();
	for (i = 0; i < sp_consumer_workers; i++)
	{
		char		name[BGW_MAXLEN];

		snprintf(name, sizeof(name), "stockpipe live consumer %d", i);
		register_worker("stockpipe_consumer_main", name, "stockpipe consumer",
						SP_WORKER_LIVE, i);
	}
	register_worker("stockpipe_consumer_main", "stockpipe daily consumer 0",
					"stockpipe consumer", SP_WORKER_DAILY, 0);
	/* the scheduler starts the runs of stockpipe.job (scheduler.c) */
	register_worker("stockpipe_scheduler_main", "stockpipe scheduler",
					"stockpipe scheduler", SP_WORKER_SCHEDULER, 0);
	/* the mailer sends the e-mails of stockpipe.alert_event (mailer.c) */
	register_worker("stockpipe_mailer_main", "stockpipe mailer",
					"stockpipe mailer", SP_WORKER_MAILER, 0);
	register_standby_notice();
}
