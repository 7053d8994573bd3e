/*-------------------------------------------------------------------------
 *
 * shmem.c
 *	  Shared-memory state of the stockpipe workers, and the functions behind
 *	  the monitoring views stockpipe.workers and stockpipe.consumer_status.
 *
 * Each worker owns one slot and the slots of the partitions assigned to it;
 * it writes them, and any backend reads them under the same LWLock.  The
 * slots say what is happening now; durable counters are in kafka_offsets.
 *
 *-------------------------------------------------------------------------
 */
#include "stockpipe.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

PG_FUNCTION_INFO_V1(stockpipe_worker_info);
PG_FUNCTION_INFO_V1(stockpipe_partition_info);

static SpSharedState *sp_state = NULL;
static SpWorkerSlot *my_slot = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
sp_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(SpSharedState)));
	RequestNamedLWLockTranche("stockpipe", 1);
}

static void
sp_shmem_startup(void)
{
	bool		found;
	int			i;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	sp_state = ShmemInitStruct("stockpipe", sizeof(SpSharedState), &found);
	if (!found)
	{
		memset(sp_state, 0, sizeof(SpSharedState));
		sp_state->lock = &(GetNamedLWLockTranche("stockpipe"))->lock;
		pg_atomic_init_u64(&sp_state->bars_version, 0);
		for (i = 0; i < SP_CHANGE_KINDS; i++)
			pg_atomic_init_u64(&sp_state->changes[i], 0);
		pg_atomic_init_u32(&sp_state->fenced_tli, 0);
		pg_atomic_init_u32(&sp_state->fence_checked, 0);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Called from _PG_init while loading shared_preload_libraries. */
void
sp_shmem_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = sp_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = sp_shmem_startup;
}

static void
check_state(void)
{
	if (sp_state == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("stockpipe is not loaded"),
				 errhint("Add stockpipe to shared_preload_libraries and restart the server.")));
}

/* Release everything this worker owned, so the views never show a ghost. */
static void
sp_worker_detach(int code, Datum arg)
{
	int			i;

	if (sp_state == NULL || my_slot == NULL)
		return;
	LWLockAcquire(sp_state->lock, LW_EXCLUSIVE);
	for (i = 0; i < SP_MAX_PARTITIONS; i++)
		if (sp_state->partitions[i].owner == MyProcPid)
			sp_state->partitions[i].owner = 0;
	my_slot->pid = 0;
	LWLockRelease(sp_state->lock);
	my_slot = NULL;
}

/*
 * Claim the slot of this (kind, index).  A slot still holding the pid of a
 * worker that was killed is simply taken over.
 */
SpWorkerSlot *
sp_worker_attach(SpWorkerKind kind, int index)
{
	int			i;
	int			free_slot = -1;

	check_state();
	LWLockAcquire(sp_state->lock, LW_EXCLUSIVE);
	for (i = 0; i < SP_MAX_WORKERS; i++)
	{
		SpWorkerSlot *s = &sp_state->workers[i];

		if (s->pid != 0 && s->kind == kind && s->index == index)
		{
			free_slot = i;
			break;
		}
		if (s->pid == 0 && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
	{
		LWLockRelease(sp_state->lock);
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("no free stockpipe worker slot")));
	}
	my_slot = &sp_state->workers[free_slot];
	memset(my_slot, 0, sizeof(SpWorkerSlot));
	my_slot->pid = MyProcPid;
	my_slot->kind = kind;
	my_slot->index = index;
	my_slot->started_at = GetCurrentTimestamp();
	strlcpy(my_slot->state, "starting", SP_STATE_LEN);
	for (i = 0; i < SP_MAX_PARTITIONS; i++)
	{
		SpPartitionSlot *p = &sp_state->partitions[i];

		/* partitions of a killed predecessor */
		if (p->owner != 0 && p->owner != MyProcPid &&
			kill(p->owner, 0) != 0 && errno == ESRCH)
			p->owner = 0;
	}
	LWLockRelease(sp_state->lock);
	before_shmem_exit(sp_worker_detach, (Datum) 0);
	return my_slot;
}

void
sp_worker_set_state(const char *state)
{
	if (my_slot == NULL)
		return;
	LWLockAcquire(sp_state->lock, LW_EXCLUSIVE);
	strlcpy(my_slot->state, state, SP_STATE_LEN);
	LWLockRelease(sp_state->lock);
}

void
sp_worker_set_error(const char *fmt,...)
{
	char		buf[SP_ERROR_LEN];
	va_list		ap;

	if (my_slot == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	LWLockAcquire(sp_state->lock, LW_EXCLUSIVE);
	strlcpy(my_slot->last_error, buf, SP_ERROR_LEN);
	my_slot->last_error_at = GetCurrentTimestamp();
	LWLockRelease(sp_state->lock);
}

void
sp_worker_count_batch(int64 messages)
{
	if (my_slot == NULL)
		return;
	LWLockAcquire(sp_state->lock, LW_EXCLUSIVE);
	my_slot->messages += messages;
	my_slot->batches++;
	my_slot->last_batch_at = GetCurrentTimestamp();
	LWLockRelease(sp_state->lock);
}

/*
 * The slot of (topic, partition), made if there is none; NULL when all are
 * taken (more partitions than SP_MAX_PARTITIONS: not shown, not fatal).
 * Caller holds the lock exclusively.
 */
static SpPartitionSlot *
partition_slot(const char *topic, int32 partition)
{
	SpPartitionSlot *free_slot = NULL;
	int			i;

	for (i = 0; i < SP_MAX_PARTITIONS; i++)
	{
		SpPartitionSlot *p = &sp_state->partitions[i];

		if (p->topic[0] == '\0')
		{
			if (free_slot == NULL)
				free_slot = p;
			continue;
		}
		if (p->partition == partition && strcmp(p->topic, topic) == 0)
			return p;
	}
	if (free_slot != NULL)
	{
		memset(free_slot, 0, sizeof(SpPartitionSlot));
		free_slot->partition = partition;
		free_slot->high_watermark = -1;
		strlcpy(free_slot->topic, topic, SP_TOPIC_LEN);
	}
	return free_slot;
}

/* Replace the set of partitions this worker owns in topic. */
void
sp_partitions_set(const char *topic, const int32 *partitions, int n)
{
	int			i;

	if (my_slot == NULL)
		return;
	LWLockAcquire(sp_state->lock, LW_EXCLUSIVE);
	for (i = 0; i < SP_MAX_PARTITIONS; i++)
	{
		SpPartitionSlot *p = &sp_state->partitions[i];

		if (p->owner == MyProcPid && strcmp(p->topic, topic) == 0)
			p->owner = 0;
	}
	for (i = 0; i < n; i++)
	{
		SpPartitionSlot *p = partition_slot(topic, partitions[i]);

		if (p != NULL)
			p->owner = MyProcPid;
	}
	LWLockRelease(sp_state->lock);
}

/* Any worker may publish the high watermark of any partition. */
void
sp_partition_set_watermark(const char *topic, int32 partition, int64 high)
{
	SpPartitionSlot *p;

	if (my_slot == NULL)
		return;
	LWLockAcquire(sp_state->lock, LW_EXCLUSIVE);
	p = partition_slot(topic, partition);
	if (p != NULL)
	{
		p->high_watermark = high;
		p->watermark_at = GetCurrentTimestamp();
	}
	LWLockRelease(sp_state->lock);
}

/*
 * The daily consumer calls this after committing bars, so that the scheduler
 * can refresh the L30D summary once the day's bars have arrived.
 */
void
sp_notify_bars_stored(void)
{
	Latch	   *latch;

	if (sp_state == NULL)
		return;
	pg_atomic_fetch_add_u64(&sp_state->bars_version, 1);
	LWLockAcquire(sp_state->lock, LW_SHARED);
	latch = sp_state->scheduler_latch;
	if (latch)
		SetLatch(latch);
	LWLockRelease(sp_state->lock);
}

uint64
sp_bars_version(void)
{
	check_state();
	return pg_atomic_read_u64(&sp_state->bars_version);
}

/*
 * A live consumer notes SP_CHANGE_QUOTES after committing a batch that
 * stored quotes; the commit of a transaction that created or re-enabled an
 * alert rule (or of a check that left quotes for the next one) notes
 * SP_CHANGE_ALERT_RULES (wake.c).  The scheduler runs the built-in
 * alert_check only when one of them moved since its last run
 * (scheduler.c).  Always noted after the commit, never before, so that a
 * check started after seeing a new version sees what it stands for.  The
 * scheduler is not woken: the check keeps its schedule.
 */
void
sp_note_change(SpChange what)
{
	if (sp_state != NULL)
		pg_atomic_fetch_add_u64(&sp_state->changes[what], 1);
}

uint64
sp_change_version(SpChange what)
{
	check_state();
	return pg_atomic_read_u64(&sp_state->changes[what]);
}

/* The scheduler registers its latch (NULL when it exits). */
void
sp_set_scheduler_latch(Latch *latch)
{
	check_state();
	LWLockAcquire(sp_state->lock, LW_EXCLUSIVE);
	sp_state->scheduler_latch = latch;
	LWLockRelease(sp_state->lock);
}

static const char *
kind_name(SpWorkerKind kind)
{
	switch (kind)
	{
		case SP_WORKER_LIVE:
			return "live";
		case SP_WORKER_DAILY:
			return "daily";
		case SP_WORKER_SCHEDULER:
			return "scheduler";
		case SP_WORKER_MAILER:
			return "mailer";
	}
	return "?";
}

static Datum
timestamp_or_null(TimestampTz t, bool *isnull)
{
	*isnull = (t == 0);
	return TimestampTzGetDatum(t);
}

Datum
stockpipe_worker_info(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	check_state();
	InitMaterializedSRF(fcinfo, 0);
	LWLockAcquire(sp_state->lock, LW_SHARED);
	for (i = 0; i < SP_MAX_WORKERS; i++)
	{
		SpWorkerSlot *s = &sp_state->workers[i];
		Datum		values[11];
		bool		nulls[11] = {0};
		int			nparts = 0;
		int			j;

		if (s->pid == 0)
			continue;
		for (j = 0; j < SP_MAX_PARTITIONS; j++)
			if (sp_state->partitions[j].owner == s->pid)
				nparts++;
		values[0] = Int32GetDatum(s->pid);
		values[1] = CStringGetTextDatum(kind_name(s->kind));
		values[2] = Int32GetDatum(s->index);
		values[3] = CStringGetTextDatum(s->state);
		values[4] = timestamp_or_null(s->started_at, &nulls[4]);
		values[5] = Int32GetDatum(nparts);
		values[6] = Int64GetDatum(s->messages);
		values[7] = Int64GetDatum(s->batches);
		values[8] = timestamp_or_null(s->last_batch_at, &nulls[8]);
		values[9] = CStringGetTextDatum(s->last_error);
		nulls[9] = (s->last_error[0] == '\0');
		values[10] = timestamp_or_null(s->last_error_at, &nulls[10]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	LWLockRelease(sp_state->lock);
	return (Datum) 0;
}

Datum
stockpipe_partition_info(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	check_state();
	InitMaterializedSRF(fcinfo, 0);
	LWLockAcquire(sp_state->lock, LW_SHARED);
	for (i = 0; i < SP_MAX_PARTITIONS; i++)
	{
		SpPartitionSlot *p = &sp_state->partitions[i];
		Datum		values[5];
		bool		nulls[5] = {0};

		if (p->topic[0] == '\0')
			continue;
		values[0] = CStringGetTextDatum(p->topic);
		values[1] = Int32GetDatum(p->partition);
		values[2] = Int32GetDatum(p->owner);
		nulls[2] = (p->owner == 0);
		values[3] = Int64GetDatum(p->high_watermark);
		nulls[3] = (p->high_watermark < 0);
		/* 1.0 declared only the first four columns; the rest is ignored */
		values[4] = timestamp_or_null(p->watermark_at, &nulls[4]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	LWLockRelease(sp_state->lock);
	return (Datum) 0;
}

/*
 * The split-brain fence (fence.c, consumer.c).  A consumer that finds this
 * server superseded by a promoted standby records the standby's timeline
 * here; every worker that acts outside the database (the mailer, the
 * scheduler's runs) asks before it acts.  Cleared only by a restart.
 */
void
sp_fence_set(uint32 tli)
{
	check_state();
	pg_atomic_write_u32(&sp_state->fenced_tli, tli);
}

/* Each consumer process, once: it has read the group's offsets. */
void
sp_fence_mark_checked(void)
{
	static bool marked = false;

	check_state();
	if (!marked)
		pg_atomic_fetch_add_u32(&sp_state->fence_checked, 1);
	marked = true;
}

uint32
sp_fenced(void)
{
	check_state();
	return pg_atomic_read_u32(&sp_state->fenced_tli);
}

static bool fence_holds(const char *worker_name, TimestampTz started_at);

/* How long a worker waits at start for the consumers' first look. */
#define SP_FENCE_GRACE_MS 10000

/*
 * Whether the mailer or the scheduler must hold back now: this server is
 * fenced, or not every consumer (consumer_workers live ones and the daily
 * one: each reads the offsets of its own partitions) has yet looked at the
 * group's offsets and the worker started less than SP_FENCE_GRACE_MS ago
 * (an old primary coming back must not send one e-mail before it learns it
 * was superseded; with Kafka unreachable, the look never comes, and e-mail
 * must not wait for Kafka forever).  Says each change once in the log.  When it must, it
 * waits a second (or until the latch is set) before returning true: the
 * caller then goes round its loop again.
 */
bool
sp_fence_hold(const char *worker_name, TimestampTz started_at)
{
	if (!fence_holds(worker_name, started_at))
		return false;
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 1000L, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	return true;
}

static bool
fence_holds(const char *worker_name, TimestampTz started_at)
{
	static int	said = 0;		/* 0 nothing, 1 waiting, 2 fenced */
	uint32		tli;

	check_state();
	tli = pg_atomic_read_u32(&sp_state->fenced_tli);
	if (tli != 0)
	{
		if (said != 2)
		{
			ereport(WARNING,
					(errmsg("%s: this server has been superseded by timeline %u of the same system; it sends nothing and starts no job",
							worker_name, tli),
					 errhint("Retire this server (see the consumers' message above).")));
			sp_worker_set_state(psprintf("fenced: superseded by timeline %u", tli));
			said = 2;
		}
		return true;
	}
	if (pg_atomic_read_u32(&sp_state->fence_checked) < (uint32) sp_consumer_workers + 1 &&
		!TimestampDifferenceExceeds(started_at, GetCurrentTimestamp(), SP_FENCE_GRACE_MS))
	{
		if (said == 0)
			sp_worker_set_state("waiting for the consumers' first look at Kafka (split-brain fence)");
		said = 1;
		return true;
	}
	return false;
}

/*
 * Set the latch of every stockpipe worker (wake.c: after the commit of
 * CREATE or ALTER EXTENSION).  Nothing happens in a server that did not
 * preload stockpipe.
 */
void
sp_wake_workers(void)
{
	pid_t		pids[SP_MAX_WORKERS];
	int			n = 0;
	int			i;

	if (sp_state == NULL)
		return;
	LWLockAcquire(sp_state->lock, LW_SHARED);
	for (i = 0; i < SP_MAX_WORKERS; i++)
		if (sp_state->workers[i].pid != 0)
			pids[n++] = sp_state->workers[i].pid;
	LWLockRelease(sp_state->lock);
	for (i = 0; i < n; i++)
	{
		PGPROC	   *proc = BackendPidGetProc(pids[i]);

		if (proc != NULL)
			SetLatch(&proc->procLatch);
	}
}
