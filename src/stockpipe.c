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

static void
register_consumer(SpWorkerKind kind, int index)
{
	BackgroundWorker worker;
	SpWorkerArgs args = {.kind = kind,.index = index};

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = SP_RESTART_SECONDS;
	strlcpy(worker.bgw_library_name, "stockpipe", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "stockpipe_consumer_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "stockpipe %s consumer %d",
			 kind == SP_WORKER_LIVE ? "live" : "daily", index);
	strlcpy(worker.bgw_type, "stockpipe consumer", BGW_MAXLEN);
	StaticAssertStmt(sizeof(SpWorkerArgs) <= BGW_EXTRALEN, "bgw_extra too small");
	memcpy(worker.bgw_extra, &args, sizeof(args));
	RegisterBackgroundWorker(&worker);
}

/* The scheduler: starts the runs of stockpipe.job (scheduler.c). */
static void
register_scheduler(void)
{
	BackgroundWorker worker;
	SpWorkerArgs args = {.kind = SP_WORKER_SCHEDULER,.index = 0};

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = SP_RESTART_SECONDS;
	strlcpy(worker.bgw_library_name, "stockpipe", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "stockpipe_scheduler_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "stockpipe scheduler", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "stockpipe scheduler", BGW_MAXLEN);
	memcpy(worker.bgw_extra, &args, sizeof(args));
	RegisterBackgroundWorker(&worker);
}

/* The mailer: sends the alert e-mails of stockpipe.alert_event (mailer.c). */
static void
register_mailer(void)
{
	BackgroundWorker worker;
	SpWorkerArgs args = {.kind = SP_WORKER_MAILER,.index = 0};

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = SP_RESTART_SECONDS;
	strlcpy(worker.bgw_library_name, "stockpipe", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "stockpipe_mailer_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "stockpipe mailer", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "stockpipe mailer", BGW_MAXLEN);
	memcpy(worker.bgw_extra, &args, sizeof(args));
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
		register_consumer(SP_WORKER_LIVE, i);
	register_consumer(SP_WORKER_DAILY, 0);
	register_scheduler();
	register_mailer();
}
