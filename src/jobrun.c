/*-------------------------------------------------------------------------
 *
 * jobrun.c
 *	  The worker of one job run: a dynamic background worker, started by the
 *	  scheduler, that never restarts.
 *
 * It connects as the job's owner (its role OID comes in bgw_extra), so the
 * command has exactly the owner's rights: never silently a superuser's.  The
 * bookkeeping -- reading the job, recording the outcome in job_run -- is
 * fixed SQL of the extension, run with the rights of the bootstrap superuser
 * (who owns the tables) and a safe search_path, like a SECURITY DEFINER
 * function: a job's owner cannot write another job's history, and no object
 * of the owner's can be called by it.
 *
 * The command runs through SPI in one transaction, under a statement timeout
 * equal to the job's timeout, and its outcome is recorded in that same
 * transaction: a run recorded 'succeeded' is a run whose effects committed.
 * An ERROR from the command (PG_TRY around it only) is recorded 'failed', or
 * 'timed out' for the statement timeout, in a new transaction.  A FATAL, a
 * crash or a kill leaves the run 'running': the scheduler sees the worker
 * gone and records it failed.
 *
 *-------------------------------------------------------------------------
 */
#include "stockpipe.h"

#include <limits.h>

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "tcop/dest.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "job_runs.h"

/* What the worker knows of its run; in TopMemoryContext. */
typedef struct RunInfo
{
	int64		runid;
	char	   *name;
	char	   *command;
	char	   *timeout_text;	/* the job's timeout, as an interval */
	int			timeout_ms;
	int			attempt;
	bool		builtin;		/* one of the extension's own jobs */
} RunInfo;

/* Saved by bookkeeping_begin, restored by bookkeeping_end. */
typedef struct Bookkeeping
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
} Bookkeeping;

static void
bookkeeping_begin(Bookkeeping *bk)
{
	GetUserIdAndSecContext(&bk->save_userid, &bk->save_sec_context);
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID,
						   bk->save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	bk->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
}

static void
bookkeeping_end(Bookkeeping *bk)
{
	AtEOXact_GUC(false, bk->save_nestlevel);
	SetUserIdAndSecContext(bk->save_userid, bk->save_sec_context);
}


/*
 * Record the run's outcome (and queue its retry); in the caller's
 * transaction, with SPI connected.  Returns whether the run was still
 * 'running' (the job may have been dropped, or the scheduler may have timed
 * the run out meanwhile); *retry says when a retry was queued, or is NULL.
 */
static bool
record_outcome(RunInfo *run, const char *status, const char *message,
			   char **retry)
{
	Bookkeeping bk;
	Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		values[3];
	SPITupleTable *rows;
	bool		recorded;

	values[0] = Int64GetDatum(run->runid);
	values[1] = CStringGetTextDatum(status);
	values[2] = CStringGetTextDatum(message);
	*retry = NULL;
	bookkeeping_begin(&bk);
	recorded = sp_finish_runs("status = $2, message = $3", "",
							  "r.runid = $1 AND r.status = 'running'",
							  3, types, values, &rows) > 0;
	if (recorded)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		*retry = sp_finished_run_retry(rows, 0);
		MemoryContextSwitchTo(old);
	}
	bookkeeping_end(&bk);
	return recorded;
}

/*
 * Read the run and its job, and claim the run: the scheduler marked it
 * 'running' with no pid when it started this worker.  Locking the row waits
 * for the scheduler's transaction, so the hand-over is seen once committed.
 * Returns false (and says why) when there is nothing to run.
 */
static bool
claim_run(RunInfo *run)
{
	Bookkeeping bk;
	Oid			types[2] = {INT8OID, INT4OID};
	Datum		values[2];
	SPITupleTable *rows;
	char	   *status;
	char	   *owner;
	char	   *me;
	bool		pid_null;
	bool		expired;
	double		timeout_ms;
	MemoryContext old;

	values[0] = Int64GetDatum(run->runid);
	values[1] = Int32GetDatum(MyProcPid);

	bookkeeping_begin(&bk);
	if (sp_sql("SELECT r.status, r.pid, j.name, j.command, j.owner::text,"
			   " j.timeout::text, pg_catalog.date_part('epoch', j.timeout) * 1000,"
			   " r.attempt, j.builtin,"
			   " (SELECT ro.rolvaliduntil < pg_catalog.now() FROM pg_catalog.pg_roles ro"
			   "   WHERE ro.rolname = j.owner)"
			   " FROM stockpipe.job_run r JOIN stockpipe.job j ON j.jobid = r.jobid"
			   " WHERE r.runid = $1"
			   " FOR UPDATE OF r",
			   1, types, values, SPI_OK_SELECT, &rows) == 0)
	{
		bookkeeping_end(&bk);
		ereport(LOG,
				(errmsg("stockpipe job run " INT64_FORMAT ": the run no longer exists; nothing to do",
						run->runid),
				 errdetail("Its job was probably dropped after the run was started.")));
		return false;
	}
	status = sp_col_text(rows, 0, 1);
	pid_null = sp_col_isnull(rows, 0, 2);
	owner = sp_col_text(rows, 0, 5);

	old = MemoryContextSwitchTo(TopMemoryContext);
	run->name = sp_col_text(rows, 0, 3);
	run->command = sp_col_text(rows, 0, 4);
	run->timeout_text = sp_col_text(rows, 0, 6);
	MemoryContextSwitchTo(old);
	timeout_ms = sp_col_float8(rows, 0, 7);
	run->timeout_ms = (timeout_ms >= INT_MAX) ? INT_MAX : Max((int) timeout_ms, 1);
	run->attempt = sp_col_int32(rows, 0, 8);
	run->builtin = sp_col_bool(rows, 0, 9);
	expired = sp_col_bool(rows, 0, 10);

	if (strcmp(status, "running") != 0 || !pid_null)
	{
		bookkeeping_end(&bk);
		ereport(LOG,
				(errmsg("stockpipe job \"%s\" run " INT64_FORMAT ": the run is %s%s; nothing to do",
						run->name, run->runid, status,
						pid_null ? "" : " in another worker"),
				 errdetail("The scheduler's hand-over of the run did not complete, or it already ended the run.")));
		return false;
	}

	/*
	 * The job's owner may have been changed since the scheduler read it;
	 * and a role past its VALID UNTIL may no longer log in, so its jobs do
	 * not run either (checked by the scheduler too; this closes the race).
	 */
	me = GetUserNameFromId(bk.save_userid, false);
	if (strcmp(me, owner) != 0 || expired)
	{
		char	   *msg = expired ?
			psprintf("role \"%s\" is past its VALID UNTIL time; not run", owner) :
			psprintf("the job's owner changed from \"%s\" to \"%s\" after the run was started; not run",
					 me, owner);
		char	   *retry;

		bookkeeping_end(&bk);
		(void) record_outcome(run, "failed", msg, &retry);
		ereport(WARNING,
				(errmsg("stockpipe job \"%s\" run " INT64_FORMAT " failed: %s",
						run->name, run->runid, msg),
				 retry ? errdetail_internal("%s", retry) : 0));
		return false;
	}

	sp_sql("UPDATE stockpipe.job_run SET pid = $2,"
		   " started_at = coalesce(started_at, pg_catalog.now())"
		   " WHERE runid = $1",
		   2, types, values, SPI_OK_UPDATE, NULL);
	bookkeeping_end(&bk);
	return true;
}

/* "SELECT 1", "INSERT 0 5", "CREATE TABLE": what psql would print. */
static char *
completion_message(CommandTag tag, uint64 rows)
{
	if (tag == CMDTAG_INSERT)
		return psprintf("INSERT 0 " UINT64_FORMAT, rows);
	if (command_tag_display_rowcount(tag))
		return psprintf("%s " UINT64_FORMAT, GetCommandTagName(tag), rows);
	return pstrdup(GetCommandTagName(tag));
}

/*
 * Run the command as the owner, under the job's timeout, and record the
 * outcome.  The PG_TRY covers the command alone: an error in the
 * bookkeeping is a real error and ends the worker.
 */
static void
execute_run(RunInfo *run)
{
	MemoryContext cxt = CurrentMemoryContext;
	ErrorData  *volatile edata = NULL;
	volatile TimestampTz started;
	char	   *volatile message = NULL;

	sp_tx_begin(run->command);
	/* the extension's own jobs resolve nothing through the owner's path */
	if (run->builtin)
		SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
	started = GetCurrentTimestamp();
	enable_timeout_after(STATEMENT_TIMEOUT, run->timeout_ms);
	PG_TRY();
	{
		List	   *stmts = pg_parse_query(run->command);
		CommandTag	tag = CMDTAG_UNKNOWN;
		SPIExecuteOptions options;
		int			rc;

		if (stmts != NIL)
			tag = CreateCommandTag(llast_node(RawStmt, stmts)->stmt);
		memset(&options, 0, sizeof(options));
		options.read_only = false;
		options.dest = CreateDestReceiver(DestNone);
		rc = SPI_execute_extended(run->command, &options);
		if (rc < 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("the job's command cannot run in a job: %s",
							SPI_result_code_string(rc)),
					 errhint("A job's command runs in one transaction through SPI: no COMMIT, ROLLBACK or COPY to or from the client.")));
		/* outlives SPI_finish: logged after the commit */
		message = MemoryContextStrdup(TopMemoryContext,
									  completion_message(tag, SPI_processed));
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(TopMemoryContext);
		edata = CopyErrorData();
		FlushErrorState();
		MemoryContextSwitchTo(cxt);
	}
	PG_END_TRY();
	disable_timeout(STATEMENT_TIMEOUT, false);

	if (edata == NULL)
	{
		char	   *retry;
		bool		recorded = record_outcome(run, "succeeded", message, &retry);

		sp_tx_end();
		if (recorded)
			ereport(DEBUG1,
					(errmsg("stockpipe job \"%s\" run " INT64_FORMAT " succeeded: %s",
							run->name, run->runid, message)));
		else
			ereport(LOG,
					(errmsg("stockpipe job \"%s\" run " INT64_FORMAT " completed (%s), but the run was no longer in progress",
							run->name, run->runid, message),
					 errdetail("The job was dropped, or the scheduler ended the run, while the command ran.")));
		return;
	}

	/* Failed: undo the command, then record why in a new transaction. */
	AbortCurrentTransaction();
	{
		bool		timed_out;
		const char *status;
		char	   *text;
		char	   *retry;
		char	   *detail;

		timed_out = (edata->sqlerrcode == ERRCODE_QUERY_CANCELED &&
					 TimestampDifferenceExceeds(started, GetCurrentTimestamp(),
												run->timeout_ms - 10));
		status = timed_out ? "timed out" : "failed";
		text = timed_out ?
			psprintf("cancelled after the job's timeout of %s: %s", run->timeout_text,
					 edata->message) :
			pstrdup(edata->message ? edata->message : "unknown error");

		sp_tx_begin("recording the outcome");
		(void) record_outcome(run, status, text, &retry);
		sp_tx_end();
		if (edata->detail && retry)
			detail = psprintf("%s\n%s", edata->detail, retry);
		else
			detail = edata->detail ? edata->detail : retry;
		ereport(LOG,
				(errmsg("stockpipe job \"%s\" run " INT64_FORMAT " (attempt %d) %s: %s",
						run->name, run->runid, run->attempt, status, text),
				 detail ? errdetail_internal("%s", detail) : 0,
				 edata->hint ? errhint("%s", edata->hint) : 0,
				 edata->context ? errcontext("%s", edata->context) : 0));
	}
}

void
stockpipe_jobrun_main(Datum arg)
{
	SpJobRunArgs args;
	RunInfo		run;
	char	   *appname;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* As the owner: FATAL if the role is gone; the scheduler records it. */
	BackgroundWorkerInitializeConnectionByOid(args.dboid, args.roleoid, 0);

	memset(&run, 0, sizeof(run));
	run.runid = args.runid;
	sp_tx_begin("claiming the run");
	if (!claim_run(&run))
	{
		sp_tx_end();
		proc_exit(0);
	}
	sp_tx_end();

	appname = psprintf("stockpipe job %s run " INT64_FORMAT, run.name, run.runid);
	SetConfigOption("application_name", appname, PGC_USERSET, PGC_S_SESSION);
	pgstat_report_appname(appname);
	ereport(DEBUG1,
			(errmsg("stockpipe job \"%s\" run " INT64_FORMAT " (attempt %d) started as role \"%s\"",
					run.name, run.runid, run.attempt,
					GetUserNameFromId(GetUserId(), false))));

	(void) sp_worker_interrupts();
	execute_run(&run);
	proc_exit(0);
}
