/*-------------------------------------------------------------------------
 *
 * stockpipe.h
 *	  Declarations shared by the files of the stockpipe extension: settings,
 *	  shared-memory state and the entry points of the background workers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STOCKPIPE_H
#define STOCKPIPE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "port/atomics.h"
#include "storage/latch.h"
#include "storage/lwlock.h"

/* Limits of the shared-memory state. */
#define SP_MAX_CONSUMER_WORKERS 32
#define SP_MAX_WORKERS			(SP_MAX_CONSUMER_WORKERS + 4)
#define SP_MAX_PARTITIONS		1024
#define SP_TOPIC_LEN			128
#define SP_STATE_LEN			64
#define SP_ERROR_LEN			256

/* What a worker does; stored in bgw_extra. */
typedef enum SpWorkerKind
{
	SP_WORKER_LIVE = 1,
	SP_WORKER_DAILY = 2,
	SP_WORKER_SCHEDULER = 3,
	SP_WORKER_MAILER = 4
} SpWorkerKind;

typedef struct SpWorkerArgs
{
	SpWorkerKind kind;
	int			index;			/* 0-based among workers of its kind */
} SpWorkerArgs;

/* settings (guc.c) */
extern char *sp_database;
extern char *sp_kafka_brokers;
extern char *sp_kafka_options;
extern char *sp_consumer_group;
extern char *sp_live_topic;
extern char *sp_daily_topic;
extern int	sp_consumer_workers;
extern bool sp_consumer_group_subscribe;
extern int	sp_batch_size;
extern int	sp_batch_max_wait_ms;
extern bool sp_live_synchronous_commit;
extern int	sp_max_message_bytes;
extern int	sp_poll_interval_ms;
extern int	sp_job_history_retention_s;
extern int	sp_live_retention_s;
extern int	sp_l30d_debounce_ms;
extern char *sp_smtp_url;
extern char *sp_smtp_user;
extern char *sp_smtp_password;
extern char *sp_mail_from;
extern char *sp_market_timezone;
extern char *sp_kafka_options_file;
extern char *sp_smtp_password_file;
extern char *sp_smtp_ca_file;
extern bool sp_smtp_allow_plaintext_auth;
extern char *sp_mail_allowed_domains;
extern int	sp_mail_rate_limit;
extern char *sp_webhook_allowed_hosts;
extern int	sp_quote_max_age_s;
extern int	sp_message_max_future_s;
extern int	sp_dead_letter_retention_s;
extern int	sp_max_job_runs;
extern int	sp_max_job_runs_per_role;

extern void sp_define_gucs(void);

/* shared state (shmem.c) */
typedef struct SpWorkerSlot
{
	pid_t		pid;			/* 0 when the slot is free */
	SpWorkerKind kind;
	int			index;
	char		state[SP_STATE_LEN];
	TimestampTz started_at;
	int64		messages;
	int64		batches;
	TimestampTz last_batch_at;
	char		last_error[SP_ERROR_LEN];
	TimestampTz last_error_at;
} SpWorkerSlot;

/*
 * One (topic, partition) seen by any consumer worker.  The owner is the
 * worker it is assigned to (0: none now); the high watermark may be
 * published by any worker, so that the lag of a partition whose owner is
 * stuck still shows.  A slot is in use when topic[0] != '\0'.
 */
typedef struct SpPartitionSlot
{
	pid_t		owner;
	int32		partition;
	int64		high_watermark; /* -1 while unknown */
	TimestampTz watermark_at;	/* when it was read; 0 while unknown */
	char		topic[SP_TOPIC_LEN];
} SpPartitionSlot;

/*
 * What the built-in alert_check looks at, each with a counter bumped after
 * the change committed (scheduler.c leaves the check out while neither
 * moved since its last run).
 */
typedef enum SpChange
{
	SP_CHANGE_QUOTES,			/* a live batch stored quotes */
	SP_CHANGE_ALERT_RULES,		/* a rule was created or re-enabled, or a
								 * check left quotes for the next one */
	SP_CHANGE_KINDS
} SpChange;

typedef struct SpSharedState
{
	LWLock	   *lock;
	pg_atomic_uint64 bars_version;	/* bumped after each stored batch of bars */
	pg_atomic_uint64 changes[SP_CHANGE_KINDS];	/* see SpChange */
	pg_atomic_uint32 fenced_tli;	/* superseded by this timeline; 0: not */
	pg_atomic_uint32 fence_checked; /* consumers that have looked (each once) */
	Latch	   *scheduler_latch;	/* set to wake the scheduler; NULL if none */
	SpWorkerSlot workers[SP_MAX_WORKERS];
	SpPartitionSlot partitions[SP_MAX_PARTITIONS];
} SpSharedState;

extern void sp_shmem_init(void);
extern SpWorkerSlot *sp_worker_attach(SpWorkerKind kind, int index);
extern void sp_worker_set_state(const char *state);
extern void sp_worker_set_error(const char *fmt,...) pg_attribute_printf(1, 2);
extern void sp_worker_count_batch(int64 messages);
extern void sp_partitions_set(const char *topic, const int32 *partitions, int n);
extern void sp_partition_set_watermark(const char *topic, int32 partition,
									   int64 high);
extern void sp_notify_bars_stored(void);
extern uint64 sp_bars_version(void);
extern void sp_note_change(SpChange what);
extern uint64 sp_change_version(SpChange what);
extern void sp_set_scheduler_latch(Latch *latch);
extern void sp_wake_workers(void);
extern void sp_fence_set(uint32 tli);
extern void sp_fence_mark_checked(void);
extern uint32 sp_fenced(void);
extern bool sp_fence_hold(const char *worker_name, TimestampTz started_at);

/* common to all workers (worker.c) */
extern void sp_wait_for_extension(const char *worker_name);
extern bool sp_worker_interrupts(void);
extern void sp_tx_begin(const char *activity);
extern void sp_tx_end(void);

/* consumer worker (consumer.c) */
extern PGDLLEXPORT void stockpipe_consumer_main(Datum arg);

/* scheduler (scheduler.c) and the run of one job (jobrun.c) */
typedef struct SpJobRunArgs
{
	int64		runid;
	Oid			dboid;
	Oid			roleoid;		/* the job's owner: the run connects as it */
} SpJobRunArgs;

extern PGDLLEXPORT void stockpipe_scheduler_main(Datum arg);
extern PGDLLEXPORT void stockpipe_jobrun_main(Datum arg);

/* mailer worker (mailer.c) */
extern PGDLLEXPORT void stockpipe_mailer_main(Datum arg);

#endif							/* STOCKPIPE_H */
