/*-------------------------------------------------------------------------
 *
 * wake.c
 *	  stockpipe.wake_workers(): wake the workers once the transaction that
 *	  calls it commits.
 *
 * The workers wait for CREATE EXTENSION stockpipe (or for ALTER EXTENSION
 * UPDATE to their version) by looking once a second (worker.c).  The
 * extension's scripts end by calling this function, so that they look
 * again as soon as the new objects are committed: consuming then starts
 * within milliseconds of CREATE EXTENSION, not up to a second later.
 * Waking before the commit would be useless -- they would not see the
 * objects yet -- hence the commit callback.
 *
 *-------------------------------------------------------------------------
 */
#include "stockpipe.h"

#include "access/xact.h"
#include "fmgr.h"

PG_FUNCTION_INFO_V1(stockpipe_wake_workers);

static bool registered = false;

static void
wake_at_commit(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT)
		sp_wake_workers();
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		UnregisterXactCallback(wake_at_commit, NULL);
		registered = false;
	}
}

Datum
stockpipe_wake_workers(PG_FUNCTION_ARGS)
{
	if (!registered)
	{
		RegisterXactCallback(wake_at_commit, NULL);
		registered = true;
	}
	PG_RETURN_VOID();
}
