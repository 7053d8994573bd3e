/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  What every stockpipe background worker does the same way.
 *
 *-------------------------------------------------------------------------
 */
#include "stockpipe.h"

#include "access/xact.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/interrupt.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"

/*
 * Before the extension exists there is nothing to work on: wait for it,
 * saying so once, instead of failing and being restarted over and over.
 * Handles SIGHUP and SIGTERM while waiting.
 */
void
sp_wait_for_extension(const char *worker_name)
{
	bool		logged = false;

	for (;;)
	{
		bool		exists;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		StartTransactionCommand();
		exists = OidIsValid(get_extension_oid("stockpipe", true));
		CommitTransactionCommand();
		if (exists)
			return;
		if (!logged)
		{
			ereport(LOG,
					(errmsg("%s: waiting for CREATE EXTENSION stockpipe in database \"%s\"",
							worker_name, sp_database)));
			sp_worker_set_state("waiting for extension");
			logged = true;
		}
		pgstat_report_activity(STATE_IDLE, "waiting for CREATE EXTENSION stockpipe");
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*
 * The worker_spi shape: one short transaction per unit of work, with SPI
 * connected, a snapshot pushed and the activity shown in pg_stat_activity.
 */
void
sp_tx_begin(const char *activity)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);
}

void
sp_tx_end(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
}
