/*-------------------------------------------------------------------------
 *
 * standby.c
 *	  The one line a hot standby logs about stockpipe.
 *
 * Every stockpipe worker writes (rows, offsets, job runs, deliveries), so
 * all of them are registered with BgWorkerStart_RecoveryFinished: on a
 * standby the postmaster does not start them at all -- no process, no
 * polling, no restart loop -- and starts them by itself when the server is
 * promoted.  Nothing would then tell the operator why no consumer runs;
 * this short-lived worker, started once the standby is consistent, says
 * so and exits.  On a primary it exits without a word.
 *
 *-------------------------------------------------------------------------
 */
#include "stockpipe.h"

#include "access/xlog.h"
#include "fmgr.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"

extern PGDLLEXPORT void stockpipe_standby_main(Datum arg);

void
stockpipe_standby_main(Datum arg)
{
	if (RecoveryInProgress())
		ereport(LOG,
				(errmsg("stockpipe: this server is a standby in recovery; its workers (%d live consumer(s), the daily consumer, the scheduler and the mailer) start when it is promoted",
						sp_consumer_workers),
				 errdetail("Reading works here: stockpipe.consumer_status, the stockpipe_bi views and the dashboard (which polls a standby for changes).")));
	proc_exit(0);
}
