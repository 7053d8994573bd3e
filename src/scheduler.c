/*-------------------------------------------------------------------------
 *
 * scheduler.c
 *	  The scheduler background worker: starts the runs of stockpipe.job in
 *	  dynamic background workers (jobrun.c) and keeps stockpipe.job_run
 *	  truthful (docs/scheduler-design.md).
 *
 * Each tick -- at most a second apart, sooner when a job is due, a run
 * worker starts or stops, or the daily consumer stored bars -- is two short
 * transactions: the first
 *	 - fails the runs whose worker is gone without recording an outcome,
 *	 - times out the runs still going past their job's timeout (+ 5 s),
 *	 - leaves out the built-in alert_check when nothing changed since it
 *	   last ran (no quote stored, no rule created or re-enabled),
 *	 - queues the runs of due jobs (or records them missed / catches up),
 *	 - queues an event-triggered L30D refresh once bars stopped arriving,
 *	 - once an hour, purges old history;
 * the second starts the queued runs that are due, one worker each, never
 * two runs of one job at a time.
 * Recording a failure also queues its retry, in the same statement
 * (sp_finish_runs(), job_runs.c), so a failure is retried exactly once.
 *
 * A run is handed to its worker through the row: the scheduler registers the
 * worker and marks the run 'running' in the same transaction, holding the
 * row's lock; the worker locks the row too, so it sees the run only once the
 * scheduler committed, and claims it by writing its pid.  A run whose
 * hand-over did not commit is never claimed, and is started again later.
 *
 * There is no PG_TRY here: an ERROR ends the worker, the postmaster starts
 * it again after 5 s, and start-up repairs what was left half done.  Every
 * statement passes its values as parameters.
 *
 *-------------------------------------------------------------------------
 */
#include "stockpipe.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "job_runs.h"
#include "spi.h"

#define SCHEDULER_NAME "stockpipe scheduler"

/* Longest wait between ticks. */
#define SP_TICK_MS 1000
/* How often old history is purged. */
#define SP_PURGE_INTERVAL_MS (3600 * 1000)
/* How often the end of the holiday calendar is looked at, and how far ahead. */
#define SP_CALENDAR_CHECK_MS (24 * 3600 * 1000)
#define SP_CALENDAR_WARN_DAYS 365
/* The built-in job refreshed when new daily bars were stored. */
#define SP_L30D_JOB "l30d_refresh"
/* The built-in job whose due runs are left out when nothing changed. */
#define SP_ALERT_JOB "alert_check"

/* A run this scheduler started, and the handle of its worker. */
typedef struct RunWorker
{
	int64		runid;
	int64		jobid;
	BackgroundWorkerHandle *handle;
	char		name[NAMEDATALEN];
} RunWorker;

static List *run_workers = NIL;	/* of RunWorker *, in TopMemoryContext */

/* A worker slot was missing: said once, until a run starts again. */
static bool no_slot_reported = false;

/* Jobs whose owner is gone, warned about once each. */
static List *orphan_jobs_warned = NIL;	/* of int64 *, in TopMemoryContext */

/* The event trigger of the L30D refresh. */
static uint64 bars_seen = 0;	/* bars_version last seen */
static uint64 bars_handled = 0; /* bars_version a refresh was queued for */
static TimestampTz bars_changed_at = 0;

/*
 * Idle cost of the built-in alert_check (issue 13, item 6).  check_alerts()
 * only looks at quotes newer than each rule's last_quote_ts, and at the
 * newest quote for a new or re-enabled rule: a check after which no quote
 * was stored and no rule was created or re-enabled changes nothing (a
 * check that left some of a symbol's quotes for the next one notes
 * SP_CHANGE_ALERT_RULES, as a new rule does).  So a due check is left out
 * -- no job_run row, its next_run_at advanced as a run would -- while the
 * SP_CHANGE_* versions (shmem.c) are those read just before the last
 * alert_check run this scheduler started.  Until it started one (after a
 * restart), every due check runs.  Users' jobs and the missed / catch-up
 * rule are untouched.
 */
static bool alert_started = false;	/* an alert_check run was started */
static uint64 alert_quotes_seen = 0;	/* SP_CHANGE_QUOTES before it started */
static uint64 alert_rules_seen = 0; /* SP_CHANGE_ALERT_RULES before it
									 * started */

static TimestampTz last_purge_at = 0;
static TimestampTz last_calendar_check_at = 0;


static Datum
int8_array(List *runids)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(runids), 1));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, runids)
		elems[n++] = Int64GetDatum(*(int64 *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, INT8OID, 8, FLOAT8PASSBYVAL,
										   TYPALIGN_DOUBLE));
}

static RunWorker *
find_run_worker(int64 runid)
{
	ListCell   *lc;

	foreach(lc, run_workers)
	{
		RunWorker  *w = lfirst(lc);

		if (w->runid == runid)
			return w;
	}
	return NULL;
}

static List *
lappend_int64(List *list, int64 value)
{
	int64	   *p = palloc(sizeof(int64));

	*p = value;
	return lappend(list, p);
}

static bool
list_has_int64(List *list, int64 value)
{
	ListCell   *lc;

	foreach(lc, list)
		if (*(int64 *) lfirst(lc) == value)
			return true;
	return false;
}

/*
 * Log the runs sp_finish_runs() just finished: which job, which run, why,
 * and whether it will be retried.
 */
static void
log_finished_runs(int elevel, SPITupleTable *rows, uint64 n)
{
	uint64		i;

	for (i = 0; i < n; i++)
	{
		char	   *message = sp_col_text(rows, i, SP_RUN_MESSAGE);
		char	   *retry = sp_finished_run_retry(rows, i);

		ereport(elevel,
				(errmsg("stockpipe scheduler: job \"%s\" run " INT64_FORMAT " %s: %s",
						sp_col_text(rows, i, SP_RUN_JOB_NAME),
						sp_col_int64(rows, i, SP_RUN_RUNID),
						sp_col_text(rows, i, SP_RUN_STATUS),
						message ? message : "(no message)"),
				 retry ? errdetail_internal("%s", retry) : 0));
	}
}

/*
 * At start: runs left 'running' by a server stop or crash are failed (and
 * retried if their job says so).  A run whose worker is still alive -- only
 * this scheduler restarted -- is left alone and watched like any other.
 */
static void
fail_interrupted_runs(void)
{
	SPITupleTable *rows;
	uint64		n;

	sp_tx_begin("stockpipe scheduler: repairing interrupted runs");
	n = sp_finish_runs(
					   "status = 'failed', message = CASE WHEN r.started_at < pg_catalog.pg_postmaster_start_time()"
					   " THEN 'server stopped while the run was in progress'"
					   " ELSE 'the run was interrupted (server crash, scheduler restart, or its worker was killed) and its worker is gone' END",
					   "",
					   "r.status = 'running' AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a"
					   " WHERE a.pid = r.pid AND a.backend_type = 'stockpipe job')",
					   0, NULL, NULL, &rows);
	log_finished_runs(LOG, rows, n);
	sp_tx_end();
}

/*
 * Step 4: runs whose worker is gone without recording an outcome -- it was
 * killed, crashed, or could not even connect.  stopped: runs whose worker
 * handle says it stopped; alive: runs whose worker is starting or running.
 * Runs from before a scheduler restart have no handle: their pid is checked
 * in pg_stat_activity (with a grace period while no pid is recorded yet).
 */
static void
fail_lost_runs(List *stopped, List *alive)
{
	Oid			types[2] = {INT8ARRAYOID, INT8ARRAYOID};
	Datum		values[2];
	SPITupleTable *rows;
	uint64		n;

	values[0] = int8_array(stopped);
	values[1] = int8_array(alive);
	n = sp_finish_runs(
					   "status = 'failed', message = CASE"
					   " WHEN NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles ro WHERE ro.rolname = jj.owner)"
					   " THEN pg_catalog.format('role \"%s\" does not exist', jj.owner)"
					   " ELSE 'the job worker exited without recording an outcome (terminated, crashed, or could not connect); see the server log' END",
					   "FROM stockpipe.job jj",
					   "jj.jobid = r.jobid AND r.status = 'running' AND (r.runid = ANY ($1)"
					   " OR (r.runid <> ALL ($2)"
					   " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a"
					   " WHERE a.pid = r.pid AND a.backend_type = 'stockpipe job')"
					   " AND (r.pid IS NOT NULL OR r.started_at < pg_catalog.now() - interval '30 seconds')))",
					   2, types, values, &rows);
	log_finished_runs(LOG, rows, n);
}

/*
 * Step 3: runs going on past their job's timeout and a 5-second grace (the
 * run's own statement timeout normally ends it first).  Returns the runids
 * to terminate after commit; workers of a previous scheduler, which have no
 * handle here, are terminated by pid, checked to be a job worker.
 */
static List *
time_out_runs(MemoryContext result_cxt)
{
	List	   *terminate = NIL;
	SPITupleTable *rows;
	uint64		n;
	uint64		i;

	n = sp_finish_runs(
					   "status = 'timed out', message = pg_catalog.format("
					   "'cancelled by the scheduler: still running %s after it started, past the job''s timeout of %s',"
					   " pg_catalog.date_trunc('second', pg_catalog.now() - r.started_at), jj.timeout)",
					   "FROM stockpipe.job jj",
					   "jj.jobid = r.jobid AND r.status = 'running'"
					   " AND pg_catalog.now() - r.started_at > jj.timeout + interval '5 seconds'",
					   0, NULL, NULL, &rows);
	log_finished_runs(WARNING, rows, n);

	for (i = 0; i < n; i++)
	{
		bool		isnull;
		int64		runid = sp_col_int64(rows, i, SP_RUN_RUNID);
		Datum		pid = sp_col(rows, i, SP_RUN_PID, &isnull);

		if (find_run_worker(runid) != NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(result_cxt);

			terminate = lappend_int64(terminate, runid);
			MemoryContextSwitchTo(old);
		}
		else if (!isnull)
		{
			/*
			 * Only the worker of this very run: its application_name ends
			 * with the runid (job_run rows are writable by their owner, so
			 * the pid alone is not to be trusted).
			 */
			Oid			types[2] = {INT4OID, TEXTOID};
			Datum		values[2];

			values[0] = pid;
			values[1] = CStringGetTextDatum(psprintf(" run " INT64_FORMAT, runid));
			sp_sql("SELECT pg_catalog.pg_terminate_backend(a.pid)"
				   " FROM pg_catalog.pg_stat_activity a"
				   " WHERE a.pid = $1 AND a.backend_type = 'stockpipe job'"
				   " AND pg_catalog.right(a.application_name, pg_catalog.length($2)) = $2",
				   2, types, values, SPI_OK_SELECT, NULL);
		}
	}
	return terminate;
}

/*
 * Step 1a: leave out the due alert_check when no quote was stored and no
 * rule changed since the last check (see alert_started), and the job's
 * last finished run succeeded: a failed check rolled back what it did, so
 * the next one runs whatever changed.  Only a due time that
 * queue_due_jobs() would not count as missed (within 60 s): a check due
 * while the scheduler was not running is still recorded as missed (or
 * caught up).  A job row locked by a user's transaction is left for the
 * next tick, as queue_due_jobs() does.
 */
static void
skip_idle_alert_check(void)
{
	uint64		n;

	if (!alert_started || sp_change_version(SP_CHANGE_QUOTES) != alert_quotes_seen ||
		sp_change_version(SP_CHANGE_ALERT_RULES) != alert_rules_seen)
		return;
	n = sp_sql("WITH due AS ("
			   " SELECT j.jobid FROM stockpipe.job j"
			   " WHERE j.builtin AND j.name = '" SP_ALERT_JOB "' AND j.enabled"
			   " AND j.next_run_at <= pg_catalog.now()"
			   " AND j.next_run_at >= pg_catalog.now() - interval '60 seconds'"
			   " AND (SELECT r.status FROM stockpipe.job_run r WHERE r.jobid = j.jobid"
			   " AND r.status IN ('succeeded', 'failed', 'timed out')"
			   " ORDER BY r.runid DESC LIMIT 1) = 'succeeded'"
			   " FOR UPDATE SKIP LOCKED)"
			   " UPDATE stockpipe.job j SET next_run_at = stockpipe.next_run_or_null(j.jobid, j.schedule,"
			   " j.next_run_at, j.timezone, j.skip_holidays, j.calendar)"
			   " FROM due d WHERE j.jobid = d.jobid",
			   0, NULL, NULL, SPI_OK_UPDATE, NULL);
	if (n > 0)
		ereport(DEBUG1,
				(errmsg("stockpipe scheduler: job \"" SP_ALERT_JOB "\" left out: no quote stored and no rule changed since its last run")));
}

/*
 * Step 1: jobs that are due.  A due time more than 60 s in the past was
 * missed (server down): one 'catch-up' run if the job asks for it, else a
 * 'skipped' run that says so; the next run is then computed from now.
 * Otherwise a 'schedule' run, and the next run is computed from the due
 * time, so one due time never gives two runs.  A job locked by a user's
 * transaction is left for the next tick.
 */
static void
queue_due_jobs(void)
{
	SPITupleTable *rows;
	uint64		n;
	uint64		i;

	n = sp_sql("WITH due AS ("
			" SELECT j.jobid, j.next_run_at AS due_at, j.catch_up,"
			" j.next_run_at < pg_catalog.now() - interval '60 seconds' AS missed"
			" FROM stockpipe.job j"
			" WHERE j.enabled AND j.next_run_at <= pg_catalog.now()"
			" ORDER BY j.next_run_at"
			" FOR UPDATE SKIP LOCKED),"
			" queued AS ("
			" INSERT INTO stockpipe.job_run (jobid, trigger, scheduled_at, status, finished_at, message)"
			" SELECT d.jobid,"
			" CASE WHEN d.missed AND d.catch_up THEN 'catch-up' ELSE 'schedule' END,"
			" d.due_at,"
			" CASE WHEN d.missed AND NOT d.catch_up THEN 'skipped' ELSE 'scheduled' END,"
			" CASE WHEN d.missed AND NOT d.catch_up THEN pg_catalog.now() END,"
			" CASE WHEN d.missed AND NOT d.catch_up THEN pg_catalog.format("
			"'missed: due at %s while the scheduler was not running; catch_up is off', d.due_at) END"
			" FROM due d"
			" RETURNING runid, jobid)"
			" UPDATE stockpipe.job j SET next_run_at = stockpipe.next_run_or_null(j.jobid, j.schedule,"
			" CASE WHEN d.missed THEN pg_catalog.now() ELSE d.due_at END, j.timezone, j.skip_holidays, j.calendar)"
			" FROM due d, queued q"
			" WHERE j.jobid = d.jobid AND q.jobid = d.jobid"
			" RETURNING j.name, d.missed, d.catch_up, d.due_at, j.next_run_at, q.runid",
			   0, NULL, NULL, SPI_OK_UPDATE_RETURNING, &rows);

	for (i = 0; i < n; i++)
	{
		char	   *name = sp_col_text(rows, i, 1);
		bool		missed = sp_col_bool(rows, i, 2);
		bool		catch_up = sp_col_bool(rows, i, 3);

		if (missed)
			ereport(LOG,
					(errmsg("stockpipe scheduler: job \"%s\" missed its run due at %s; %s (run %s)",
							name, sp_col_text(rows, i, 4),
							catch_up ? "catching up once" : "recorded as skipped",
							sp_col_text(rows, i, 6)),
					 catch_up ? 0 :
					 errhint("Set catch_up => true with stockpipe.alter_job() to run missed jobs once after a restart.")));
		if (sp_col_isnull(rows, i, 5))
			ereport(WARNING,
					(errmsg("stockpipe scheduler: job \"%s\" has no next run", name),
					 errdetail("Its schedule gives no run within the next 10 years, or every one falls on a market holiday."),
					 errhint("Change its schedule with stockpipe.alter_job(); it will not run again until then.")));
	}
}

/*
 * The event trigger of the L30D refresh: once bars_version changed and then
 * stayed the same for stockpipe.l30d_debounce, queue one run of the built-in
 * job.  A run not yet started will see the new bars: nothing to add.  While
 * a run is going on, it may have read before the last bars arrived: wait for
 * it to end, then queue one.  Returns the time to look again (0: none).
 */
static TimestampTz
queue_l30d_event(TimestampTz now)
{
	TimestampTz due;
	uint64		version = sp_bars_version();
	SPITupleTable *rows;

	if (version != bars_seen)
	{
		bars_seen = version;
		bars_changed_at = now;
	}
	if (bars_seen == bars_handled)
		return 0;
	due = TimestampTzPlusMilliseconds(bars_changed_at, sp_l30d_debounce_ms);
	if (now < due)
		return due;

	sp_sql("WITH l AS ("
			" SELECT j.jobid, j.enabled,"
			" EXISTS (SELECT 1 FROM stockpipe.job_run r WHERE r.jobid = j.jobid AND r.status = 'scheduled') AS queued,"
			" EXISTS (SELECT 1 FROM stockpipe.job_run r WHERE r.jobid = j.jobid AND r.status = 'running') AS running"
			" FROM stockpipe.job j WHERE j.builtin AND j.name = '" SP_L30D_JOB "'),"
			" ins AS ("
			" INSERT INTO stockpipe.job_run (jobid, trigger, scheduled_at, status)"
			" SELECT l.jobid, 'event', pg_catalog.now(), 'scheduled' FROM l"
			" WHERE l.enabled AND NOT l.queued AND NOT l.running"
			" RETURNING runid)"
			" SELECT (SELECT pg_catalog.bool_or(l.running AND l.enabled AND NOT l.queued) FROM l),"
			" (SELECT pg_catalog.min(runid) FROM ins)",
		   0, NULL, NULL, SPI_OK_SELECT, &rows);
	if (sp_col_bool(rows, 0, 1))
		return TimestampTzPlusMilliseconds(now, SP_TICK_MS);
	if (!sp_col_isnull(rows, 0, 2))
		ereport(LOG,
				(errmsg("stockpipe scheduler: new daily bars stored; queued run %s of job \"" SP_L30D_JOB "\"",
						sp_col_text(rows, 0, 2))));
	bars_handled = bars_seen;
	return 0;
}

/* Register the worker of a run; false when no background worker slot is free. */
static bool
launch_run_worker(int64 runid, int64 jobid, const char *name, Oid roleoid)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	SpJobRunArgs args = {.runid = runid,.dboid = MyDatabaseId,.roleoid = roleoid};
	MemoryContext old;
	RunWorker  *w;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	worker.bgw_notify_pid = MyProcPid;
	strlcpy(worker.bgw_library_name, "stockpipe", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "stockpipe_jobrun_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "stockpipe job %s run " INT64_FORMAT,
			 name, runid);
	strlcpy(worker.bgw_type, "stockpipe job", BGW_MAXLEN);
	StaticAssertStmt(sizeof(SpJobRunArgs) <= BGW_EXTRALEN, "bgw_extra too small");
	memcpy(worker.bgw_extra, &args, sizeof(args));

	/* the handle is allocated in the current context: keep it */
	old = MemoryContextSwitchTo(TopMemoryContext);
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		MemoryContextSwitchTo(old);
		return false;
	}
	w = palloc0(sizeof(RunWorker));
	w->runid = runid;
	w->jobid = jobid;
	w->handle = handle;
	strlcpy(w->name, name, NAMEDATALEN);
	run_workers = lappend(run_workers, w);
	MemoryContextSwitchTo(old);
	return true;
}

/* Most due runs of one role looked at per tick: bounds the work of a tick. */
#define SP_RUNS_PER_ROLE_PER_TICK 32

/* Runs of users' jobs in progress, per owner, while a tick starts runs. */
typedef struct RoleRuns
{
	char		owner[NAMEDATALEN];
	int			running;
} RoleRuns;

/* One due run, as start_due_runs reads it. */
typedef struct DueRun
{
	int64		runid;
	int64		jobid;
	char	   *name;
	char	   *owner;
	Oid			roleoid;
	bool		no_role;
	bool		canlogin;
	bool		expired;		/* past the role's VALID UNTIL */
	char	   *running;		/* runid of the job's run in progress, or NULL */
	bool		enabled;
	bool		builtin;
	char	   *trigger;
	int			role_running;	/* runs of the owner's jobs in progress */
} DueRun;

/* What start_due_runs knows across the runs of one tick. */
typedef struct TickStarts
{
	List	   *started_jobs;	/* of int64 jobid: started in this tick */
	List	   *roles;			/* of RoleRuns */
	int			users_running;	/* runs of users' jobs in progress */
	bool		waiting;		/* a run found no worker slot */
} TickStarts;

/*
 * The queued runs that are due, oldest first (built-in jobs first), at
 * most SP_RUNS_PER_ROLE_PER_TICK of each role, locked; see read_due_run()
 * for the columns, and column 13: runs of users' jobs in progress.
 */
static uint64
read_due_runs(SPITupleTable **rows)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1];

	values[0] = Int32GetDatum(SP_RUNS_PER_ROLE_PER_TICK);
	return sp_sql("SELECT r.runid, r.jobid, j.name, j.owner::text, ro.oid, ro.rolcanlogin,"
				  " (SELECT pg_catalog.min(x.runid) FROM stockpipe.job_run x"
				  "   WHERE x.jobid = r.jobid AND x.status = 'running'),"
				  " j.enabled, r.trigger, j.builtin,"
				  " ro.rolvaliduntil < pg_catalog.now(),"
				  " (SELECT pg_catalog.count(*)::integer FROM stockpipe.job_run x JOIN stockpipe.job y ON y.jobid = x.jobid"
				  "   WHERE x.status = 'running' AND y.owner = j.owner AND NOT y.builtin),"
				  " (SELECT pg_catalog.count(*)::integer FROM stockpipe.job_run x JOIN stockpipe.job y ON y.jobid = x.jobid"
				  "   WHERE x.status = 'running' AND NOT y.builtin)"
				  " FROM stockpipe.job_run r"
				  " JOIN stockpipe.job j ON j.jobid = r.jobid"
				  " LEFT JOIN pg_catalog.pg_roles ro ON ro.rolname = j.owner"
				  " WHERE r.runid IN (SELECT q.runid FROM ("
				  "   SELECT x.runid, pg_catalog.row_number() OVER"
				  "     (PARTITION BY y.owner ORDER BY x.scheduled_at, x.runid) AS nth"
				  "   FROM stockpipe.job_run x JOIN stockpipe.job y ON y.jobid = x.jobid"
				  "   WHERE x.status = 'scheduled' AND x.scheduled_at <= pg_catalog.now()) q"
				  "  WHERE q.nth <= $1)"
				  " ORDER BY j.builtin DESC, r.scheduled_at, r.runid"
				  " FOR UPDATE OF r SKIP LOCKED",
				  1, types, values, SPI_OK_SELECT, rows);
}

static void
read_due_run(SPITupleTable *rows, uint64 row, DueRun *r)
{
	r->runid = sp_col_int64(rows, row, 1);
	r->jobid = sp_col_int64(rows, row, 2);
	r->name = sp_col_text(rows, row, 3);
	r->owner = sp_col_text(rows, row, 4);
	r->no_role = sp_col_isnull(rows, row, 5);
	r->roleoid = r->no_role ? InvalidOid : DatumGetObjectId(sp_col(rows, row, 5, &r->no_role));
	r->canlogin = sp_col_bool(rows, row, 6);
	r->running = sp_col_text(rows, row, 7);
	r->enabled = sp_col_bool(rows, row, 8);
	r->trigger = sp_col_text(rows, row, 9);
	r->builtin = sp_col_bool(rows, row, 10);
	r->expired = sp_col_bool(rows, row, 11);
	r->role_running = sp_col_int32(rows, row, 12);
}

/* The count of the owner's runs, found or added. */
static RoleRuns *
role_runs(List **roles, const DueRun *r)
{
	ListCell   *lc;
	RoleRuns   *rr;

	foreach(lc, *roles)
	{
		rr = lfirst(lc);
		if (strcmp(rr->owner, r->owner) == 0)
			return rr;
	}
	rr = palloc0(sizeof(RoleRuns));
	strlcpy(rr->owner, r->owner, NAMEDATALEN);
	rr->running = r->role_running;
	*roles = lappend(*roles, rr);
	return rr;
}

/* A run that cannot start now or ever: 'skipped', with the reason. */
static void
skip_run(const DueRun *r, const char *why)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2];

	values[0] = Int64GetDatum(r->runid);
	values[1] = CStringGetTextDatum(why);
	sp_sql("UPDATE stockpipe.job_run SET status = 'skipped',"
		   " finished_at = pg_catalog.now(), message = $2 WHERE runid = $1",
		   2, types, values, SPI_OK_UPDATE, NULL);
	ereport(DEBUG1,
			(errmsg("stockpipe scheduler: job \"%s\" run " INT64_FORMAT " skipped: %s",
					r->name, r->runid, why)));
}

/* A run whose owner may not run anything: 'failed' (and retried if asked). */
static void
fail_run_of_role(const DueRun *r)
{
	Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		values[3];
	bool		first = !list_has_int64(orphan_jobs_warned, r->jobid);
	char	   *why;

	why = r->no_role ? psprintf("role \"%s\" does not exist", r->owner) :
		!r->canlogin ? psprintf("role \"%s\" is not permitted to log in", r->owner) :
		psprintf("role \"%s\" is past its VALID UNTIL time", r->owner);
	values[0] = Int64GetDatum(r->runid);
	values[1] = CStringGetTextDatum("failed");
	values[2] = CStringGetTextDatum(why);
	sp_finish_runs("status = $2, message = $3", "",
				   "r.runid = $1 AND r.status = 'scheduled'",
				   3, types, values, NULL);
	ereport(first ? WARNING : DEBUG1,
			(errmsg("stockpipe scheduler: job \"%s\" run " INT64_FORMAT " failed: %s",
					r->name, r->runid, why),
			 errdetail("A job runs as its owner, never as another role."),
			 r->no_role ?
			 errhint("Drop the job, or recreate role \"%s\".  This is reported once per job.", r->owner) :
			 errhint("ALTER ROLE %s LOGIN VALID UNTIL 'infinity', or drop the job.  This is reported once per job.",
					 quote_identifier(r->owner))));
	if (first)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		orphan_jobs_warned = lappend_int64(orphan_jobs_warned, r->jobid);
		MemoryContextSwitchTo(old);
	}
}

/* The run's worker is registered: the run is 'running' from now. */
static void
mark_run_started(const DueRun *r)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1];

	values[0] = Int64GetDatum(r->runid);
	sp_sql("UPDATE stockpipe.job_run SET status = 'running',"
		   " started_at = pg_catalog.now(), pid = NULL WHERE runid = $1",
		   1, types, values, SPI_OK_UPDATE, NULL);
	ereport(DEBUG1,
			(errmsg("stockpipe scheduler: started job \"%s\" run " INT64_FORMAT " (%s) as role \"%s\"",
					r->name, r->runid, r->trigger, r->owner)));
}

/*
 * Whether run r may start now.  A run of a job that has a run going on (or
 * started in this tick) is skipped: a job never overlaps itself.  So is a
 * run of a disabled job, unless started by hand.  A run whose owner role
 * is gone, may not log in or is past its VALID UNTIL fails.  A user's run
 * over stockpipe.max_job_runs or max_job_runs_per_role waits (stays
 * 'scheduled').  *rr is the owner's count (NULL for built-in jobs).
 */
static bool
run_may_start(const DueRun *r, TickStarts *t, RoleRuns **rr)
{
	*rr = NULL;
	if (r->running != NULL || list_has_int64(t->started_jobs, r->jobid))
	{
		skip_run(r, psprintf("job \"%s\" was still running (run %s)", r->name,
							 r->running ? r->running : "started in the same tick"));
		return false;
	}
	if (!r->enabled && strcmp(r->trigger, "manual") != 0)
	{
		skip_run(r, psprintf("job \"%s\" was disabled before the run started", r->name));
		return false;
	}
	if (r->no_role || !r->canlogin || r->expired)
	{
		fail_run_of_role(r);
		return false;
	}
	if (r->builtin)
		return true;
	*rr = role_runs(&t->roles, r);
	if (t->users_running >= sp_max_job_runs || (*rr)->running >= sp_max_job_runs_per_role)
	{
		ereport(DEBUG1,
				(errmsg("stockpipe scheduler: job \"%s\" run " INT64_FORMAT " waits: %s",
						r->name, r->runid,
						t->users_running >= sp_max_job_runs ?
						"stockpipe.max_job_runs runs of users' jobs are in progress" :
						"its role has stockpipe.max_job_runs_per_role runs in progress")));
		return false;
	}
	return true;
}

/*
 * Start r's worker.  Once a run found no free worker slot, the runs after
 * it in this tick wait too (they stay 'scheduled' and start when a slot
 * frees up); said once until a run starts again.
 */
static bool
launch_or_wait(const DueRun *r, TickStarts *t)
{
	if (t->waiting || !launch_run_worker(r->runid, r->jobid, r->name, r->roleoid))
	{
		if (!no_slot_reported)
		{
			ereport(WARNING,
					(errmsg("stockpipe scheduler: no background worker slot is free for job \"%s\" run " INT64_FORMAT,
							r->name, r->runid),
					 errdetail("All %d background worker processes (max_worker_processes) are in use.",
							   max_worker_processes),
					 errhint("The run stays scheduled and starts when a slot frees up; raise max_worker_processes if this persists.")));
			sp_worker_set_error("no background worker slot for job runs");
			no_slot_reported = true;
		}
		t->waiting = true;
		return false;
	}
	if (no_slot_reported)
	{
		ereport(LOG,
				(errmsg("stockpipe scheduler: background worker slots are available again")));
		no_slot_reported = false;
	}
	return true;
}

/*
 * Step 2: start the queued runs that are due, oldest first, each as
 * run_may_start() allows.  Users' runs are limited so that one role cannot
 * take every worker slot and the built-in jobs always find one; each role
 * contributes at most SP_RUNS_PER_ROLE_PER_TICK runs to a tick, so a role
 * with thousands of queued runs neither slows the tick nor starves the
 * others.  Returns whether a run had to wait for a worker slot.
 */
static bool
start_due_runs(void)
{
	TickStarts	t = {0};
	SPITupleTable *rows;
	uint64		n;
	uint64		i;

	/*
	 * Read before the runs start: an alert_check run started here sees every
	 * quote and rule whose commit bumped these.
	 */
	uint64		quotes = sp_change_version(SP_CHANGE_QUOTES);
	uint64		rules = sp_change_version(SP_CHANGE_ALERT_RULES);

	n = read_due_runs(&rows);
	t.users_running = n > 0 ? sp_col_int32(rows, 0, 13) : 0;
	for (i = 0; i < n; i++)
	{
		DueRun		r;
		RoleRuns   *rr;

		read_due_run(rows, i, &r);
		if (!run_may_start(&r, &t, &rr) || !launch_or_wait(&r, &t))
			continue;
		if (rr != NULL)
		{
			rr->running++;
			t.users_running++;
		}
		mark_run_started(&r);
		t.started_jobs = lappend_int64(t.started_jobs, r.jobid);
		if (r.builtin && strcmp(r.name, SP_ALERT_JOB) == 0)
		{
			alert_started = true;
			alert_quotes_seen = quotes;
			alert_rules_seen = rules;
		}
	}
	return t.waiting;
}

/* Step 6: once an hour, forget runs older than stockpipe.job_history_retention. */
static void
purge_history(TimestampTz now)
{
	Oid			types[1] = {FLOAT8OID};
	Datum		values[1];
	uint64		n;

	if (last_purge_at != 0 &&
		!TimestampDifferenceExceeds(last_purge_at, now, SP_PURGE_INTERVAL_MS))
		return;
	last_purge_at = now;
	values[0] = Float8GetDatum((double) sp_job_history_retention_s);
	n = sp_sql("DELETE FROM stockpipe.job_run"
			   " WHERE finished_at < pg_catalog.now() - pg_catalog.make_interval(secs => $1)",
			   1, types, values, SPI_OK_DELETE, NULL);
	if (n > 0)
		ereport(LOG,
				(errmsg("stockpipe scheduler: purged " UINT64_FORMAT " job runs older than stockpipe.job_history_retention (%d s)",
						n, sp_job_history_retention_s)));
}

/*
 * Once a day (and at start): say which exchange calendars, that enabled
 * jobs with skip_holidays rely on, end within SP_CALENDAR_WARN_DAYS days
 * (in each calendar's own time zone).  A calendar that simply ran out would
 * let such jobs run on holidays without a word; a year's notice leaves time
 * to add the exchange's next holidays.  Calendars no enabled job uses are
 * not mentioned: nothing depends on them.
 */
static void
check_holiday_calendar(TimestampTz now)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1];
	SPITupleTable *rows;
	uint64		n;
	uint64		i;

	if (last_calendar_check_at != 0 &&
		!TimestampDifferenceExceeds(last_calendar_check_at, now, SP_CALENDAR_CHECK_MS))
		return;
	last_calendar_check_at = now;
	values[0] = Int32GetDatum(SP_CALENDAR_WARN_DAYS);
	n = sp_sql("SELECT c.calendar, c.name, u.last_day::text, u.jobs"
			   " FROM stockpipe.market_calendar c, LATERAL (SELECT"
			   "  (SELECT pg_catalog.max(h.day) FROM stockpipe.market_holiday h"
			   "   WHERE h.calendar = c.calendar) AS last_day,"
			   "  (SELECT pg_catalog.count(*) FROM stockpipe.job j"
			   "   WHERE j.calendar = c.calendar AND j.skip_holidays AND j.enabled) AS jobs) u"
			   " WHERE u.jobs > 0"
			   " AND COALESCE(u.last_day < (pg_catalog.now() AT TIME ZONE c.timezone)::date + $1, true)"
			   " ORDER BY c.calendar",
			   1, types, values, SPI_OK_SELECT, &rows);
	for (i = 0; i < n; i++)
	{
		char	   *calendar = sp_col_text(rows, i, 1);

		ereport(WARNING,
				(errmsg("stockpipe scheduler: the market holiday calendar %s ends on %s, less than %d days from now",
						calendar,
						sp_col_isnull(rows, i, 3) ? "(empty)" : sp_col_text(rows, i, 3),
						SP_CALENDAR_WARN_DAYS),
				 errdetail("%s enabled job(s) with skip_holidays rely on calendar %s (%s) in stockpipe.market_holiday; after its last day they run on its holidays too.",
						   sp_col_text(rows, i, 4), calendar, sp_col_text(rows, i, 2)),
				 errhint("Add the exchange's published holidays: INSERT INTO stockpipe.market_holiday (calendar, day, name) VALUES ('%s', ...).  This is said once a day.",
						 calendar)));
	}
}

/* The next time something is due: a job, or a queued run (0: none). */
static TimestampTz
next_due_time(void)
{
	SPITupleTable *rows;
	bool		isnull;
	Datum		d;

	sp_sql("SELECT LEAST("
			" (SELECT min(next_run_at) FROM stockpipe.job WHERE enabled AND next_run_at > pg_catalog.now()),"
			" (SELECT min(scheduled_at) FROM stockpipe.job_run"
			" WHERE status = 'scheduled' AND scheduled_at > pg_catalog.now()))",
		   0, NULL, NULL, SPI_OK_SELECT, &rows);
	d = sp_col(rows, 0, 1, &isnull);
	return isnull ? 0 : DatumGetTimestampTz(d);
}

/*
 * One tick; returns when to tick again at the latest (0: no deadline).
 * Allocations outside the transaction go to tick_cxt, reset by the caller.
 */
static TimestampTz
scheduler_tick(MemoryContext tick_cxt)
{
	List	   *stopped = NIL;
	List	   *alive = NIL;
	List	   *terminate;
	ListCell   *lc;
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz next;
	TimestampTz l30d;
	bool		waiting;
	int			running;

	/* Which of our run workers are still there. */
	foreach(lc, run_workers)
	{
		RunWorker  *w = lfirst(lc);
		pid_t		pid;

		switch (GetBackgroundWorkerPid(w->handle, &pid))
		{
			case BGWH_STOPPED:
				stopped = lappend_int64(stopped, w->runid);
				break;
			case BGWH_POSTMASTER_DIED:
				proc_exit(1);
				break;
			default:
				alive = lappend_int64(alive, w->runid);
				break;
		}
	}

	/*
	 * Runs are queued in one transaction and started in the next: a worker
	 * must find its run's row committed, whatever queued it.
	 */
	sp_tx_begin("stockpipe scheduler: recording and queueing runs");
	fail_lost_runs(stopped, alive);
	terminate = time_out_runs(tick_cxt);
	skip_idle_alert_check();
	queue_due_jobs();
	l30d = queue_l30d_event(now);
	purge_history(now);
	check_holiday_calendar(now);
	sp_tx_end();

	sp_tx_begin("stockpipe scheduler: starting runs");
	waiting = start_due_runs();
	next = next_due_time();
	sp_tx_end();
	MemoryContextSwitchTo(tick_cxt);

	/* End the workers that ran out of time; forget those that stopped. */
	foreach(lc, run_workers)
	{
		RunWorker  *w = lfirst(lc);

		if (list_has_int64(terminate, w->runid))
			TerminateBackgroundWorker(w->handle);
		if (list_has_int64(stopped, w->runid))
		{
			run_workers = foreach_delete_current(run_workers, lc);
			pfree(w->handle);
			pfree(w);
		}
	}

	running = list_length(run_workers);
	if (waiting)
		sp_worker_set_state("waiting for a worker slot");
	else if (running > 0)
	{
		char		state[SP_STATE_LEN];

		snprintf(state, sizeof(state), "scheduling, %d run(s) in progress", running);
		sp_worker_set_state(state);
	}
	else
		sp_worker_set_state("scheduling");

	if (l30d != 0 && (next == 0 || l30d < next))
		next = l30d;
	return next;
}

static void
clear_scheduler_latch(int code, Datum arg)
{
	sp_set_scheduler_latch(NULL);
}

void
stockpipe_scheduler_main(Datum arg)
{
	MemoryContext tick_cxt;
	TimestampTz started_at;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnection(sp_database, NULL, 0);
	pgstat_report_appname(SCHEDULER_NAME);
	sp_worker_attach(SP_WORKER_SCHEDULER, 0);
	sp_set_scheduler_latch(MyLatch);
	before_shmem_exit(clear_scheduler_latch, (Datum) 0);

	sp_wait_for_extension(SCHEDULER_NAME);
	fail_interrupted_runs();
	ereport(LOG,
			(errmsg("%s: started in database \"%s\"", SCHEDULER_NAME, sp_database)));
	sp_worker_set_state("scheduling");
	tick_cxt = AllocSetContextCreate(TopMemoryContext, "stockpipe scheduler tick",
									 ALLOCSET_DEFAULT_SIZES);

	started_at = GetCurrentTimestamp();
	for (;;)
	{
		TimestampTz next;
		long		timeout = SP_TICK_MS;

		(void) sp_worker_interrupts();

		/* a superseded server starts no run (split-brain fence) */
		if (sp_fence_hold(MyBgworkerEntry->bgw_name, started_at))
			continue;

		MemoryContextReset(tick_cxt);
		MemoryContextSwitchTo(tick_cxt);
		next = scheduler_tick(tick_cxt);
		if (next != 0)
		{
			long		secs;
			int			usecs;

			TimestampDifference(GetCurrentTimestamp(), next, &secs, &usecs);
			/* +1 ms: wake after the due time, not just before it */
			timeout = Min(timeout, secs * 1000 + usecs / 1000 + 1);
		}

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 timeout, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
