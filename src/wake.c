/*-------------------------------------------------------------------------
 *
 * wake.c
 *	  What is said to the workers once the calling transaction commits:
 *	  stockpipe.wake_workers() and stockpipe._alert_rules_changed().
 *
 * The workers wait for CREATE EXTENSION stockpipe (or for ALTER EXTENSION
 * UPDATE to their version) by looking once a second (worker.c).  The
 * extension's scripts end by calling wake_workers(), so that they look
 * again as soon as the new objects are committed: consuming then starts
 * within milliseconds of CREATE EXTENSION, not up to a second later.
 *
 * _alert_rules_changed() is called by _set_alert() and _enable_alert(),
 * and by _check_alerts() when it left quotes for the next check (it takes
 * at most 1000 per symbol): the scheduler runs the built-in alert_check
 * only when quotes were stored or this was called since its last run
 * (scheduler.c).
 *
 * Both act at commit, never before: woken workers would not see the objects
 * yet, and a scheduler told of a rule it cannot see yet would run a check
 * that misses the rule and then skip the checks after it.  Hence the commit
 * callback; nothing is said when the transaction aborts.
 *
 *-------------------------------------------------------------------------
 */
#include "stockpipe.h"

#include "access/xact.h"
#include "fmgr.h"

PG_FUNCTION_INFO_V1(stockpipe_wake_workers);
PG_FUNCTION_INFO_V1(stockpipe_alert_rules_changed);

/* What to say at the commit of the current transaction. */
static bool wake_pending = false;
static bool rules_pending = false;
static bool registered = false;

static void
tell_at_commit(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT)
	{
		if (wake_pending)
			sp_wake_workers();
		if (rules_pending)
			sp_note_change(SP_CHANGE_ALERT_RULES);
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		UnregisterXactCallback(tell_at_commit, NULL);
		registered = false;
		wake_pending = false;
		rules_pending = false;
	}
}

static void
tell_at_commit_register(bool *pending)
{
	*pending = true;
	if (!registered)
	{
		RegisterXactCallback(tell_at_commit, NULL);
		registered = true;
	}
}

Datum
stockpipe_wake_workers(PG_FUNCTION_ARGS)
{
	tell_at_commit_register(&wake_pending);
	PG_RETURN_VOID();
}

Datum
stockpipe_alert_rules_changed(PG_FUNCTION_ARGS)
{
	tell_at_commit_register(&rules_pending);
	PG_RETURN_VOID();
}
