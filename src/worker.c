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
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "spi.h"

/*
 * The extension's version this library's workers need: the schema they
 * read and write is that of this version's script.
 */
#define SP_EXTENSION_VERSION "1.2"

/*
 * The installed version of the extension in this database, or NULL if it
 * is not installed.  In the caller's transaction.
 */
static char *
installed_version(void)
{
	char	   *version = NULL;
	SPITupleTable *rows;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (sp_sql("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'stockpipe'",
			   0, NULL, NULL, SPI_OK_SELECT, &rows) == 1)
		version = MemoryContextStrdup(TopMemoryContext, sp_col_text(rows, 0, 1));
	SPI_finish();
	return version;
}

/*
 * What every worker does once connected.  First, no name is ever resolved
 * through a schema that a non-superuser could write: the search path is
 * pg_catalog and the temporary schema only (which holds no functions or
 * operators a worker could pick up), and every statement names stockpipe's
 * objects with their schema.  Then, before the extension exists at this
 * library's version, there is nothing to work on: wait for CREATE EXTENSION
 * or ALTER EXTENSION UPDATE, saying so once, instead of failing and being
 * restarted over and over.  Handles SIGHUP and SIGTERM while waiting.
 */
void
sp_wait_for_extension(const char *worker_name)
{
	char	   *logged = NULL;

	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);

	for (;;)
	{
		char	   *version;
		const char *state;

		(void) sp_worker_interrupts();
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		version = installed_version();
		PopActiveSnapshot();
		CommitTransactionCommand();
		if (version != NULL && strcmp(version, SP_EXTENSION_VERSION) == 0)
		{
			if (logged)
				ereport(LOG,
						(errmsg("%s: extension stockpipe %s found; starting", worker_name, version)));
			pfree(version);
			return;
		}

		state = version == NULL ? "waiting for extension" : "waiting for extension update";
		if (logged == NULL || strcmp(logged, state) != 0)
		{
			if (version == NULL)
				ereport(LOG,
						(errmsg("%s: waiting for CREATE EXTENSION stockpipe in database \"%s\"",
								worker_name, sp_database)));
			else
				ereport(LOG,
						(errmsg("%s: extension stockpipe is at version %s in database \"%s\"; waiting for version %s",
								worker_name, version, sp_database, SP_EXTENSION_VERSION),
						 errhint("Run ALTER EXTENSION stockpipe UPDATE in database \"%s\".",
								 sp_database)));
			sp_worker_set_state(state);
			logged = (char *) state;
		}
		if (version)
			pfree(version);
		pgstat_report_activity(STATE_IDLE, version == NULL ?
							   "waiting for CREATE EXTENSION stockpipe" :
							   "waiting for ALTER EXTENSION stockpipe UPDATE");
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*
 * The worker_spi shape: one short transaction per unit of work, with SPI
 * connected, a snapshot pushed and the activity shown in pg_stat_activity.
 * What SPI returns lives until sp_tx_end(); the caller's memory context is
 * current again afterwards.
 */
/*
 * The top of every worker's loop: act on SIGTERM (CHECK_FOR_INTERRUPTS) and
 * re-read the configuration after SIGHUP.  Returns whether it was re-read,
 * for workers that must then apply a changed setting.
 */
bool
sp_worker_interrupts(void)
{
	CHECK_FOR_INTERRUPTS();
	if (!ConfigReloadPending)
		return false;
	ConfigReloadPending = false;
	ProcessConfigFile(PGC_SIGHUP);
	return true;
}

/* The memory context current before sp_tx_begin(), restored by sp_tx_end(). */
static MemoryContext tx_outer_cxt = NULL;

void
sp_tx_begin(const char *activity)
{
	tx_outer_cxt = CurrentMemoryContext;
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

	/*
	 * The commit leaves TopMemoryContext current: go back to the caller's
	 * (a per-batch or per-tick context), so that what is allocated between
	 * transactions is freed with it instead of accumulating.
	 */
	if (tx_outer_cxt != NULL)
		MemoryContextSwitchTo(tx_outer_cxt);
}
