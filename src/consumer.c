/*-------------------------------------------------------------------------
 *
 * consumer.c
 *	  The consumer background worker: Kafka → live_stock or
 *	  historical_stock_data, exactly once.
 *
 * The loop waits on its latch and on a pipe that librdkafka writes to when
 * its queue goes from empty to non-empty, so a message, a signal or a
 * rebalance wakes the worker at once and nothing spins.  Messages are
 * collected into a batch until none is waiting, the batch is full or
 * stockpipe.batch_max_wait has passed; the batch is then stored in one
 * transaction (writer.c).  At low rates a quote is stored as soon as it
 * arrives; at high rates batches grow and commits are amortised.
 *
 * librdkafka callbacks run on this thread (from inside a poll) but only
 * record what happened; PostgreSQL is called from the loop alone.
 *
 * Partitions are taken in one of two ways.  By default a worker takes them
 * itself: worker i of N reads the partitions p with p mod N = i (the daily
 * worker all of them), learns their count from the topic's metadata, checks
 * it again every SP_PARTITION_CHECK_MS and assigns them at the offsets
 * stockpipe.kafka_offsets holds -- no group join, so the first batch comes
 * within milliseconds of the start instead of after a rebalance of several
 * seconds.  With stockpipe.consumer_group_subscribe the workers subscribe to
 * stockpipe.consumer_group instead and the group coordinator shares the
 * partitions; the rebalance callback saves the list and the loop reads the
 * stored offsets and then assigns.  Either way the offsets table, locked in
 * each batch's transaction (writer.c), is what fences two workers that read
 * the same partition for a while: the later one skips what the other stored.
 *
 * There is no PG_TRY here: an ERROR ends the worker, the postmaster starts
 * it again, and the stored offsets make the restart lose and repeat nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "stockpipe.h"

#include <fcntl.h>
#include <unistd.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "fence.h"
#include "kafka.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "writer.h"

/* How often the same Kafka problem may be logged. */
#define SP_WARN_INTERVAL_MS 30000
/* How long to wait before retrying a failed client creation. */
#define SP_RETRY_MS 5000
/* Bounded wait for leaving the group at shutdown. */
#define SP_CLOSE_WAIT_MS 2000
/*
 * fetch.wait.max.ms unless stockpipe.kafka_options sets it: how long a
 * broker may hold a fetch that finds no new message.  A real Kafka broker
 * answers as soon as a message arrives, whatever this is, so for it the
 * value only sets how often an idle worker asks (1000 / value times a
 * second).  stockpipe-broker (librdkafka's mock) answers only when the
 * wait has expired, so there a quote waits up to this long before the
 * worker sees it: 2 ms keeps the p99 of produce-to-visible latency of
 * quotes within 10 ms at 1,000 quotes/s (bench/ingest).  Bars are not
 * latency-sensitive: the daily worker asks ten times a second.
 */
#define SP_LIVE_FETCH_WAIT_MS 2
#define SP_DAILY_FETCH_WAIT_MS 100
/* Direct assignment: how often the partition count is checked again ... */
#define SP_PARTITION_CHECK_MS 10000

/* The split-brain fence: how often the group's offsets are read, and for how long at most. */
#define SP_FENCE_CHECK_MS 10000
#define SP_FENCE_QUERY_MS 2000
/* ... how soon after a failed check, and how long one metadata request may take. */
#define SP_PARTITION_RETRY_MS 200
#define SP_METADATA_WAIT_MS 500

static SpWorkerArgs my_args;

/* This server's fence tag (fence.h), and whether it has been superseded. */
static char fence_tag[SP_FENCE_TAG_LEN];
static uint64 my_sysid;
static uint32 my_tli;
static TimestampTz fence_check_at = 0;
static uint32 fenced_by = 0;
static const char *my_topic;
static char my_client_id[64];

static rd_kafka_t *rk = NULL;
static rd_kafka_queue_t *rkqu = NULL;
static int	wake_pipe[2] = {-1, -1};
static char *client_settings = NULL;	/* what rk was built from */
static bool subscribed = false; /* rk joined the group (else: direct) */
static TimestampTz partitions_check_at = 0; /* direct: next metadata check */

/* Set by the rebalance callback, acted upon by the loop. */
static rd_kafka_topic_partition_list_t *pending_assign = NULL;
static bool assignment_changed = false;

/* Set by the error and log callbacks, logged by the loop. */
static char kafka_problem[SP_ERROR_LEN];
static bool kafka_problem_pending = false;
static TimestampTz last_warning_at = 0;
static TimestampTz kafka_problem_at = 0;	/* when a Kafka problem was last seen */
static int	suppressed_warnings = 0;

/* Partitions assigned to this worker, for the watermark refresh. */
static int32 *assigned = NULL;
static int	nassigned = 0;
static TimestampTz watermarks_at = 0;
static TimestampTz other_watermarks_at = 0;

/* How often an idle worker measures the other topic's lag, and how long it may wait. */
#define SP_OTHER_WATERMARKS_MS 2000
#define SP_WATERMARK_QUERY_MS 200
#define SP_QUIET_MS 30000
/*
 * The queries take a broker round trip per partition, tens of milliseconds
 * in all, during which no quote is stored: a live worker only makes them
 * after SP_LIVE_QUIET_MS without a message.
 */
#define SP_LIVE_QUIET_MS 1000
static TimestampTz last_batch_at = 0;

/* The batch being collected, and the time its messages are judged against. */
static TimestampTz batch_now = 0;
static SpMessage *batch_msgs = NULL;
static MemoryContext batch_cxt = NULL;	/* per batch, reset after each */
static rd_kafka_message_t **batch_rkm = NULL;
static int	batch_capacity = 0;

static void note_kafka_problem(const char *fmt,...) pg_attribute_printf(1, 2);

/* How many workers read my topic: consumer_workers live ones, one daily. */
static int
workers_of_my_kind(void)
{
	return my_args.kind == SP_WORKER_LIVE ? Max(sp_consumer_workers, 1) : 1;
}

static void
note_kafka_problem(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(kafka_problem, sizeof(kafka_problem), fmt, ap);
	va_end(ap);
	kafka_problem_pending = true;
}

/*
 * Log a Kafka problem at most every SP_WARN_INTERVAL_MS, saying how many
 * were suppressed in between: a broker outage must not flood the log.
 */
static void
report_kafka_problem(void)
{
	TimestampTz now;

	if (!kafka_problem_pending)
		return;
	kafka_problem_pending = false;
	kafka_problem_at = GetCurrentTimestamp();
	sp_worker_set_error("%s", kafka_problem);
	now = GetCurrentTimestamp();
	if (last_warning_at != 0 &&
		!TimestampDifferenceExceeds(last_warning_at, now, SP_WARN_INTERVAL_MS))
	{
		suppressed_warnings++;
		return;
	}
	ereport(WARNING,
			(errmsg("stockpipe %s consumer %d: %s", my_topic, my_args.index,
					kafka_problem),
			 suppressed_warnings > 0 ?
			 errdetail("%d similar messages were suppressed in the last %d seconds.",
					   suppressed_warnings, SP_WARN_INTERVAL_MS / 1000) : 0,
			 errhint("The worker keeps retrying.  Check that the brokers (%s) are up, "
					 "that the topic exists and stockpipe.kafka_options.", sp_kafka_brokers)));
	last_warning_at = now;
	suppressed_warnings = 0;
}

static void
error_cb(rd_kafka_t *client, int err, const char *reason, void *opaque)
{
	note_kafka_problem("Kafka error: %s: %s", rd_kafka_err2name(err), reason);
}

/*
 * Only warnings and worse; the rest is librdkafka chatter.  A failed offset
 * commit is no problem here: Kafka's offsets only feed lag tools, the next
 * commit supersedes it, and during a rebalance it is expected.
 */
static void
log_cb(const rd_kafka_t *client, int level, const char *fac, const char *buf)
{
	if (level <= 4 && strcmp(fac, "COMMITFAIL") != 0)
		note_kafka_problem("Kafka %s: %s", fac, buf);
}

static void
rebalance_cb(rd_kafka_t *client, rd_kafka_resp_err_t err,
			 rd_kafka_topic_partition_list_t *partitions, void *opaque)
{
	bool		cooperative = strcmp(rd_kafka_rebalance_protocol(client), "COOPERATIVE") == 0;

	if (pending_assign)
	{
		rd_kafka_topic_partition_list_destroy(pending_assign);
		pending_assign = NULL;
	}
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
	{
		/* assigned in the loop, once the stored offsets are read */
		pending_assign = rd_kafka_topic_partition_list_copy(partitions);
	}
	else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && cooperative)
		rd_kafka_incremental_unassign(client, partitions);
	else
	{
		rd_kafka_assign(client, NULL);
		nassigned = 0;
	}
	assignment_changed = true;
}

/*
 * Everything the Kafka client is built from, to see if a reload changed it.
 * The options file counts by its path and a hash of its content, so that
 * editing the file and reloading is a change too.
 */
static char *
current_client_settings(void)
{
	char	   *file = sp_kafka_options_file_fingerprint();
	char	   *settings;

	settings = psprintf("%s|%s|%s|%s|%s|%d", sp_kafka_brokers, sp_kafka_options,
						sp_consumer_group, my_topic, file, (int) sp_consumer_group_subscribe);
	pfree(file);
	return settings;
}

static void
release_batch_messages(int n)
{
	int			i;

	for (i = 0; i < n; i++)
		rd_kafka_message_destroy(batch_rkm[i]);
}

/*
 * Leave the group so that others take the partitions over at once, with a
 * bounded wait: the close goes through the queue, and its revocation must be
 * acknowledged here like any rebalance.  Returns whether it completed.
 */
static bool
close_consumer(void)
{
	rd_kafka_error_t *error = rd_kafka_consumer_close_queue(rk, rkqu);
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   SP_CLOSE_WAIT_MS);

	if (error)
	{
		rd_kafka_error_destroy(error);
		return false;
	}
	while (!rd_kafka_consumer_closed(rk))
	{
		rd_kafka_event_t *ev;

		if (GetCurrentTimestamp() >= deadline)
			return false;
		ev = rd_kafka_queue_poll(rkqu, 50);
		if (ev == NULL)
			continue;
		if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
			rebalance_cb(rk, rd_kafka_event_error(ev),
						 rd_kafka_event_topic_partition_list(ev), NULL);
		rd_kafka_event_destroy(ev);
	}
	return true;
}

static void
destroy_client(void)
{
	bool		closed;

	if (rk == NULL)
		return;
	closed = close_consumer();
	rd_kafka_queue_destroy(rkqu);
	rkqu = NULL;
	if (pending_assign)
	{
		rd_kafka_topic_partition_list_destroy(pending_assign);
		pending_assign = NULL;
	}

	/*
	 * A client that did not close in time may never finish destroying
	 * (librdkafka waits for its group state machine): rather than hang the
	 * worker, leave it behind.  The process is usually exiting anyway.
	 */
	if (closed)
		rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	else
		ereport(LOG,
				(errmsg("stockpipe %s consumer %d: Kafka client did not close within %d ms; abandoning it",
						my_topic, my_args.index, SP_CLOSE_WAIT_MS)));
	rk = NULL;
	assignment_changed = true;
	nassigned = 0;
	partitions_check_at = 0;
	sp_partitions_set(my_topic, NULL, 0);
}


/*
 * Build the consumer and, in group mode, subscribe.  Returns false (and
 * records why) when the settings are unusable; the loop retries later,
 * after a reload.
 */
static bool
create_client(void)
{
	char		errbuf[512];
	rd_kafka_conf_t *conf;
	rd_kafka_topic_partition_list_t *topics;
	rd_kafka_resp_err_t err;

	conf = sp_kafka_consumer_conf(my_client_id,
								  my_args.kind == SP_WORKER_LIVE ?
								  SP_LIVE_FETCH_WAIT_MS : SP_DAILY_FETCH_WAIT_MS,
								  errbuf, sizeof(errbuf));
	if (conf == NULL)
	{
		note_kafka_problem("cannot configure the Kafka client: %s", errbuf);
		return false;
	}
	rd_kafka_conf_set_error_cb(conf, error_cb);
	rd_kafka_conf_set_log_cb(conf, log_cb);
	rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errbuf, sizeof(errbuf));
	if (rk == NULL)
	{
		rd_kafka_conf_destroy(conf);
		note_kafka_problem("cannot create the Kafka client: %s", errbuf);
		return false;
	}

	/* Logs, errors, rebalances and messages all come through one queue. */
	rd_kafka_set_log_queue(rk, NULL);
	rd_kafka_poll_set_consumer(rk);
	rkqu = rd_kafka_queue_get_consumer(rk);
	rd_kafka_queue_io_event_enable(rkqu, wake_pipe[1], "w", 1);

	subscribed = sp_consumer_group_subscribe;
	partitions_check_at = 0;
	if (subscribed)
	{
		topics = rd_kafka_topic_partition_list_new(1);
		rd_kafka_topic_partition_list_add(topics, my_topic, RD_KAFKA_PARTITION_UA);
		err = rd_kafka_subscribe(rk, topics);
		rd_kafka_topic_partition_list_destroy(topics);
		if (err)
		{
			note_kafka_problem("cannot subscribe to topic \"%s\": %s", my_topic,
							   rd_kafka_err2str(err));
			destroy_client();
			return false;
		}
	}
	if (client_settings)
		pfree(client_settings);
	client_settings = MemoryContextStrdup(TopMemoryContext, current_client_settings());
	if (subscribed)
		ereport(LOG,
				(errmsg("stockpipe %s consumer %d: consuming topic \"%s\" from %s in group \"%s\"",
						my_topic, my_args.index, my_topic, sp_kafka_brokers,
						sp_consumer_group)));
	else
		ereport(LOG,
				(errmsg("stockpipe %s consumer %d: consuming topic \"%s\" from %s, partitions p mod %d = %d",
						my_topic, my_args.index, my_topic, sp_kafka_brokers,
						workers_of_my_kind(), my_args.index)));
	return true;
}

/* Publish the assigned partitions and keep them for the watermark refresh. */
static void
remember_assignment(const int32 *ids, int n)
{
	sp_partitions_set(my_topic, ids, n);
	if (assigned)
		pfree(assigned);
	assigned = MemoryContextAlloc(TopMemoryContext, sizeof(int32) * Max(n, 1));
	memcpy(assigned, ids, sizeof(int32) * n);
	nassigned = n;
	watermarks_at = 0;
	ereport(LOG,
			(errmsg("stockpipe %s consumer %d: assigned %d partition(s) of \"%s\"",
					my_topic, my_args.index, n, my_topic)));
}

/*
 * Direct assignment: the partitions p of the topic with p mod N = i, N the
 * workers of this kind and i this one's index, in increasing order into
 * ids; returns how many, or -1 (with the problem noted) when the topic's
 * metadata could not be read.
 */
static int
my_partitions(int32 *ids)
{
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, my_topic, NULL);
	const rd_kafka_metadata_t *md = NULL;
	rd_kafka_resp_err_t err;
	int			nworkers = workers_of_my_kind();
	int			count = -1;
	int			n = 0;
	int			p;

	if (rkt == NULL)
	{
		note_kafka_problem("cannot look up topic \"%s\": %s", my_topic,
						   rd_kafka_err2str(rd_kafka_last_error()));
		return -1;
	}
	err = rd_kafka_metadata(rk, 0, rkt, &md, SP_METADATA_WAIT_MS);
	if (err)
		note_kafka_problem("cannot read the metadata of topic \"%s\": %s", my_topic,
						   rd_kafka_err2str(err));
	else if (md->topic_cnt != 1 || md->topics[0].err)
		note_kafka_problem("cannot read the metadata of topic \"%s\": %s", my_topic,
						   rd_kafka_err2str(md->topic_cnt == 1 ? md->topics[0].err :
											RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
	else
		count = md->topics[0].partition_cnt;
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);

	/* partition ids are 0..count-1 */
	for (p = my_args.index; p < count && p < SP_MAX_PARTITIONS; p += nworkers)
		ids[n++] = p;
	return count < 0 ? -1 : n;
}

/*
 * The split-brain fence.  Every SP_FENCE_CHECK_MS (and first thing, before
 * a batch is stored) read the offsets committed to the consumer group for
 * this worker's partitions: if one carries the tag of this same system on
 * a later timeline, a standby of this server was promoted while it was
 * away -- this is the stale primary of a split brain.  Then it stops for
 * good: no more consuming here (the new primary's data and offsets are
 * its own, in its own database; what this one would store is lost anyway
 * when it is retired), and the mailer and the scheduler stop sending and
 * starting runs (sp_fence_wait).  A failed read (no broker, no committed
 * offsets yet) fences nothing.
 */
/* Stop for good: superseded by timeline "by" (check_fence). */
static void
stop_fenced(uint32 by)
{
	fenced_by = by;
	sp_worker_set_state(psprintf("fenced: superseded by timeline %u", by));
	destroy_client();
}

static void
check_fence(void)
{
	rd_kafka_topic_partition_list_t *list = NULL;
	rd_kafka_resp_err_t err;
	TimestampTz now = GetCurrentTimestamp();
	uint32		by = 0;
	uint64		by_sysid = 0;
	int			i;

	if (fenced_by != 0)
		return;
	/* another worker of this server found it superseded */
	if (sp_fenced() != 0)
	{
		ereport(LOG,
				(errmsg("stockpipe %s consumer %d: stops consuming: this server has been superseded by timeline %u (see the warning above)",
						my_topic, my_args.index, sp_fenced())));
		stop_fenced(sp_fenced());
		return;
	}
	if (now < fence_check_at)
		return;
	/*
	 * The read is synchronous, in the loop that stores batches: after the
	 * first one, wait while the brokers are troubled (it would only time
	 * out, holding ingestion up to SP_FENCE_QUERY_MS), as the partition
	 * check does.
	 */
	if (fence_check_at != 0 && kafka_problem_at != 0 &&
		!TimestampDifferenceExceeds(kafka_problem_at, now, SP_QUIET_MS))
	{
		fence_check_at = TimestampTzPlusMilliseconds(now, SP_FENCE_CHECK_MS);
		return;
	}
	fence_check_at = TimestampTzPlusMilliseconds(now, SP_FENCE_CHECK_MS);
	if (subscribed)
	{
		if (rd_kafka_assignment(rk, &list) != RD_KAFKA_RESP_ERR_NO_ERROR)
			return;
	}
	else
	{
		list = rd_kafka_topic_partition_list_new(Max(nassigned, 1));
		for (i = 0; i < nassigned; i++)
			rd_kafka_topic_partition_list_add(list, my_topic, assigned[i]);
	}
	if (list->cnt == 0)
	{
		rd_kafka_topic_partition_list_destroy(list);
		return;
	}
	err = rd_kafka_committed(rk, list, SP_FENCE_QUERY_MS);
	for (i = 0; err == RD_KAFKA_RESP_ERR_NO_ERROR && i < list->cnt; i++)
	{
		rd_kafka_topic_partition_t *tp = &list->elems[i];
		uint64_t	sysid;
		uint32_t	tli;

		if (tp->err == RD_KAFKA_RESP_ERR_NO_ERROR && tp->metadata != NULL &&
			sp_fence_parse(tp->metadata, tp->metadata_size, &sysid, &tli) &&
			sp_fence_superseded(my_sysid, my_tli, sysid, tli) && tli > by)
		{
			by = tli;
			by_sysid = sysid;
		}
	}
	rd_kafka_topic_partition_list_destroy(list);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	if (by == 0)
	{
		sp_fence_mark_checked();
		return;
	}
	sp_fence_set(by);
	ereport(WARNING,
			(errmsg("stockpipe %s consumer %d: this server has been superseded: timeline %u of the same system (%llu) commits to consumer group \"%s\"; this one is on timeline %u. It stops consuming; alert e-mails and job runs stop too",
					my_topic, my_args.index, by, (unsigned long long) by_sysid, sp_consumer_group, my_tli),
			 errdetail("A standby of this server was promoted while it was down: this is the stale side of a split brain, and its data ends where it went down."),
			 errhint("Retire this server: make it a standby of the new primary (pg_rewind, standby.signal) or remove stockpipe from its shared_preload_libraries. After a deliberate restore from backup, give it a new stockpipe.consumer_group.")));
	stop_fenced(by);
}

/*
 * Direct assignment: take this worker's partitions when they change (at
 * the start, after a reconnect, when partitions were added), at the offsets
 * stored in kafka_offsets.  Called between batches, when everything read so
 * far is stored, so the stored offsets are where each partition stands.
 */
static void
check_my_partitions(void)
{
	int32	   *ids;
	int64	   *offsets;
	int			n;
	int			i;
	rd_kafka_topic_partition_list_t *list;
	rd_kafka_resp_err_t err;
	TimestampTz now = GetCurrentTimestamp();

	if (subscribed || now < partitions_check_at)
		return;
	/* a periodic check waits while the brokers are troubled (see below) */
	if (nassigned > 0 && kafka_problem_at != 0 &&
		!TimestampDifferenceExceeds(kafka_problem_at, now, SP_QUIET_MS))
	{
		partitions_check_at = TimestampTzPlusMilliseconds(now, SP_PARTITION_CHECK_MS);
		return;
	}
	ids = palloc(sizeof(int32) * SP_MAX_PARTITIONS);
	n = my_partitions(ids);
	if (n < 0)
	{
		partitions_check_at = TimestampTzPlusMilliseconds(now, nassigned > 0 ?
														  SP_PARTITION_CHECK_MS : SP_PARTITION_RETRY_MS);
		pfree(ids);
		return;
	}
	partitions_check_at = TimestampTzPlusMilliseconds(now, SP_PARTITION_CHECK_MS);
	if (n == nassigned && (n == 0 || memcmp(ids, assigned, sizeof(int32) * n) == 0) &&
		assigned != NULL)
	{
		pfree(ids);
		return;
	}

	offsets = palloc(sizeof(int64) * Max(n, 1));
	if (n > 0)
		sp_load_offsets(my_topic, ids, offsets, n);
	list = rd_kafka_topic_partition_list_new(Max(n, 1));
	for (i = 0; i < n; i++)
		rd_kafka_topic_partition_list_add(list, my_topic, ids[i])->offset = offsets[i];
	err = rd_kafka_assign(rk, list);
	rd_kafka_topic_partition_list_destroy(list);
	if (err)
	{
		note_kafka_problem("cannot assign partitions: %s", rd_kafka_err2str(err));
		partitions_check_at = TimestampTzPlusMilliseconds(now, SP_PARTITION_RETRY_MS);
	}
	else
		remember_assignment(ids, n);
	pfree(ids);
	pfree(offsets);
}

/* Assign the partitions the group gave us, at the offsets we stored. */
static void
apply_pending_assignment(void)
{
	rd_kafka_topic_partition_list_t *list = pending_assign;
	int32	   *ids;
	int64	   *offsets;
	rd_kafka_error_t *error = NULL;
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
	int			i;

	pending_assign = NULL;
	ids = palloc(sizeof(int32) * Max(list->cnt, 1));
	offsets = palloc(sizeof(int64) * Max(list->cnt, 1));
	for (i = 0; i < list->cnt; i++)
		ids[i] = list->elems[i].partition;
	if (list->cnt > 0)
		sp_load_offsets(my_topic, ids, offsets, list->cnt);
	for (i = 0; i < list->cnt; i++)
		list->elems[i].offset = offsets[i];

	if (strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0)
		error = rd_kafka_incremental_assign(rk, list);
	else
		err = rd_kafka_assign(rk, list);
	if (error)
	{
		note_kafka_problem("cannot assign partitions: %s", rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
	}
	else if (err)
		note_kafka_problem("cannot assign partitions: %s", rd_kafka_err2str(err));

	remember_assignment(ids, list->cnt);
	rd_kafka_topic_partition_list_destroy(list);
	pfree(ids);
	pfree(offsets);
}

static void
grow_batch(void)
{
	if (batch_capacity == sp_batch_size)
		return;
	if (batch_msgs)
	{
		pfree(batch_msgs);
		pfree(batch_rkm);
	}
	batch_capacity = sp_batch_size;
	batch_msgs = MemoryContextAlloc(TopMemoryContext, sizeof(SpMessage) * batch_capacity);
	batch_rkm = MemoryContextAlloc(TopMemoryContext,
								   sizeof(rd_kafka_message_t *) * batch_capacity);
}

/* Keep the message for the batch, decoded; false if it was an error event. */
static bool
take_message(rd_kafka_message_t *rkm, int n)
{
	SpMessage  *m = &batch_msgs[n];
	rd_kafka_timestamp_type_t tstype;
	int64		ts;

	if (rkm->err)
	{
		note_kafka_problem("%s", rd_kafka_message_errstr(rkm));
		rd_kafka_message_destroy(rkm);
		return false;
	}
	batch_rkm[n] = rkm;
	m->partition = rkm->partition;
	m->offset = rkm->offset;
	m->key = rkm->key;
	m->key_len = rkm->key_len;
	m->payload = rkm->payload;
	m->len = rkm->len;
	ts = rd_kafka_message_timestamp(rkm, &tstype);
	m->kafka_ts = (tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE || ts < 0) ? 0 :
		sp_unix_us_to_timestamptz(ts * 1000);
	sp_decode_message(my_args.kind, m, batch_now);
	return true;
}

/*
 * Tell Kafka how far we got, for lag tools, tagged with this server's
 * system identifier and timeline for the split-brain fence; the table is
 * the truth about offsets.
 */
static void
commit_to_kafka(int n)
{
	rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new(8);
	int			i;

	for (i = 0; i < n; i++)
	{
		rd_kafka_topic_partition_t *tp;

		tp = rd_kafka_topic_partition_list_find(offsets, my_topic, batch_msgs[i].partition);
		if (tp == NULL)
		{
			tp = rd_kafka_topic_partition_list_add(offsets, my_topic, batch_msgs[i].partition);
			/* whose commit this is: the split-brain fence reads it */
			tp->metadata = strdup(fence_tag);
			tp->metadata_size = tp->metadata ? strlen(fence_tag) : 0;
		}
		if (batch_msgs[i].offset + 1 > tp->offset)
			tp->offset = batch_msgs[i].offset + 1;
	}
	rd_kafka_commit(rk, offsets, 1);
	for (i = 0; i < offsets->cnt; i++)
	{
		int64		low;
		int64		high;

		if (rd_kafka_get_watermark_offsets(rk, my_topic, offsets->elems[i].partition,
										   &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
			high >= 0)
			sp_partition_set_watermark(my_topic, offsets->elems[i].partition, high);
	}
	rd_kafka_topic_partition_list_destroy(offsets);
}

/*
 * Publish the high watermarks of all assigned partitions, about once a
 * second, so that consumer_status shows the lag of idle partitions too.
 * librdkafka caches them from fetch responses: no network round trip.
 */
static void
refresh_watermarks(void)
{
	TimestampTz now = GetCurrentTimestamp();
	int			i;

	if (rk == NULL || !TimestampDifferenceExceeds(watermarks_at, now, 1000))
		return;
	watermarks_at = now;
	for (i = 0; i < nassigned; i++)
	{
		int64		low;
		int64		high;

		if (rd_kafka_get_watermark_offsets(rk, my_topic, assigned[i], &low, &high) ==
			RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0)
			sp_partition_set_watermark(my_topic, assigned[i], high);
	}
}

/*
 * Publish the high watermarks of every partition of the other topic (the
 * daily worker measures the live topic, live worker 0 the daily one), so
 * that consumer_status shows the lag of a partition whose owner is stuck --
 * in a lock wait, say -- and cannot publish it itself.  Only when idle, at
 * most every SP_OTHER_WATERMARKS_MS, each broker request bounded by
 * SP_WATERMARK_QUERY_MS.
 *
 * librdkafka's per-partition watermark query can block far past its
 * timeout when no broker is reachable (found by the chaos test: minutes,
 * during which SIGTERM went unanswered), so one offsets-for-times request
 * with the latest offset asks for all partitions, and only while the client
 * has reported no problem for SP_QUIET_MS and a metadata request just
 * succeeded, and only for partitions that have a leader.  The queries are
 * synchronous (librdkafka 2.0 has no asynchronous ListOffsets), so a live
 * worker makes them only when quotes have paused (SP_LIVE_QUIET_MS): under
 * a steady flow the daily worker's lag comes from the daily worker alone.
 */
static void
refresh_other_watermarks(void)
{
	TimestampTz now = GetCurrentTimestamp();
	const char *topic;
	rd_kafka_topic_t *rkt;
	const rd_kafka_metadata_t *md = NULL;
	int			i;

	if (rk == NULL || (my_args.kind == SP_WORKER_LIVE && my_args.index != 0) ||
		(my_args.kind == SP_WORKER_LIVE &&
		 !TimestampDifferenceExceeds(last_batch_at, now, SP_LIVE_QUIET_MS)) ||
		!TimestampDifferenceExceeds(other_watermarks_at, now, SP_OTHER_WATERMARKS_MS) ||
		kafka_problem_pending ||
		(kafka_problem_at != 0 && !TimestampDifferenceExceeds(kafka_problem_at, now, SP_QUIET_MS)))
		return;
	other_watermarks_at = now;
	topic = my_args.kind == SP_WORKER_LIVE ? sp_daily_topic : sp_live_topic;
	rkt = rd_kafka_topic_new(rk, topic, NULL);
	if (rkt == NULL)
		return;
	if (rd_kafka_metadata(rk, 0, rkt, &md, SP_WATERMARK_QUERY_MS) == RD_KAFKA_RESP_ERR_NO_ERROR &&
		md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(8);

		for (i = 0; i < md->topics[0].partition_cnt && i < SP_MAX_PARTITIONS; i++)
		{
			if (md->topics[0].partitions[i].leader < 0)
				continue;
			/* offset -1 (RD_KAFKA_OFFSET_END) as a time asks for the high watermark */
			rd_kafka_topic_partition_list_add(list, topic,
											  md->topics[0].partitions[i].id)->offset = RD_KAFKA_OFFSET_END;
		}

		/*
		 * One ListOffsets request per leader for all partitions, bounded by
		 * its timeout (rd_kafka_query_watermark_offsets, one partition at a
		 * time, was not when the broker went down meanwhile).
		 */
		if (list->cnt > 0 && !kafka_problem_pending &&
			rd_kafka_offsets_for_times(rk, list, SP_WATERMARK_QUERY_MS) == RD_KAFKA_RESP_ERR_NO_ERROR)
		{
			for (i = 0; i < list->cnt; i++)
				if (list->elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR && list->elems[i].offset >= 0)
					sp_partition_set_watermark(topic, list->elems[i].partition,
											   list->elems[i].offset);
		}
		rd_kafka_topic_partition_list_destroy(list);
	}
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
}

/*
 * Store the n messages collected.  Everything allocated for it outside its
 * transactions goes to batch_cxt, emptied once the batch is stored.
 */
static void
store_batch(int n)
{
	SpBatch		batch = {.kind = my_args.kind,.topic = my_topic,.msgs = batch_msgs,.n = n};
	SpBatchResult result;
	MemoryContext old = MemoryContextSwitchTo(batch_cxt);

	sp_worker_set_state("storing");
	sp_ensure_partitions(&batch);
	sp_store_batch(&batch, &result);
	commit_to_kafka(n);
	release_batch_messages(n);
	if (my_args.kind == SP_WORKER_DAILY && result.stored > 0)
		sp_notify_bars_stored();
	if (my_args.kind == SP_WORKER_LIVE && result.stored > 0)
		sp_note_change(SP_CHANGE_QUOTES);
	sp_worker_count_batch(result.stored + result.dead);
	last_batch_at = GetCurrentTimestamp();
	if (result.skipped > 0)
		ereport(LOG,
				(errmsg("stockpipe %s consumer %d: skipped %lld message(s) already stored",
						my_topic, my_args.index, (long long) result.skipped)));
	MemoryContextSwitchTo(old);
	MemoryContextReset(batch_cxt);
}

/*
 * Collect one batch: take what is waiting, stop when nothing more is, when
 * the batch is full or when it has been collecting for batch_max_wait.
 */
static int
collect_batch(void)
{
	int			n = 0;
	TimestampTz deadline = 0;

	grow_batch();
	batch_now = GetCurrentTimestamp();
	while (n < batch_capacity && !assignment_changed)
	{
		rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 0);

		if (rkm == NULL)
			break;
		if (!take_message(rkm, n))
			continue;
		if (n++ == 0)
			deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												   sp_batch_max_wait_ms);
		else if ((n & 63) == 0 && GetCurrentTimestamp() >= deadline)
			break;
	}
	return n;
}

static void
drain_wake_pipe(void)
{
	char		buf[256];

	while (read(wake_pipe[0], buf, sizeof(buf)) > 0)
		;
}

static void
wait_for_work(long timeout_ms)
{
	int			rc;

	rc = WaitLatchOrSocket(MyLatch,
						   WL_LATCH_SET | WL_SOCKET_READABLE | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						   wake_pipe[0], timeout_ms, PG_WAIT_EXTENSION);
	if (rc & WL_LATCH_SET)
		ResetLatch(MyLatch);
}

static void
reload_settings(void)
{
	char	   *now;

	now = current_client_settings();
	if (rk != NULL && client_settings && strcmp(now, client_settings) != 0)
	{
		ereport(LOG,
				(errmsg("stockpipe %s consumer %d: Kafka settings changed, reconnecting",
						my_topic, my_args.index)));
		destroy_client();
	}
	pfree(now);
}

void
stockpipe_consumer_main(Datum arg)
{
	TimestampTz retry_at = 0;

	memcpy(&my_args, MyBgworkerEntry->bgw_extra, sizeof(my_args));
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnection(sp_database, NULL, 0);
	my_topic = my_args.kind == SP_WORKER_LIVE ? sp_live_topic : sp_daily_topic;
	snprintf(my_client_id, sizeof(my_client_id), "stockpipe-%s-%d",
			 my_args.kind == SP_WORKER_LIVE ? "live" : "daily", my_args.index);
	pgstat_report_appname(MyBgworkerEntry->bgw_name);
	sp_worker_attach(my_args.kind, my_args.index);

	if (pipe(wake_pipe) != 0 ||
		fcntl(wake_pipe[0], F_SETFL, O_NONBLOCK) != 0 ||
		fcntl(wake_pipe[1], F_SETFL, O_NONBLOCK) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create the stockpipe wake-up pipe: %m")));
	/*
	 * No Kafka clean-up at exit: a worker exits on SIGTERM or after an
	 * ERROR, possibly in the middle of a statement, and leaving the group
	 * politely may block on librdkafka (synchronous assign calls, a group
	 * state machine that never settles).  The process is going away; the
	 * group notices within session.timeout.ms, and the stored offsets make
	 * the hand-over exact.
	 */

	sp_wait_for_extension(MyBgworkerEntry->bgw_name);
	/* workers start when recovery has ended: the timeline is final */
	my_sysid = GetSystemIdentifier();
	my_tli = GetWALInsertionTimeLine();
	sp_fence_tag(fence_tag, sizeof(fence_tag), my_sysid, my_tli);
	batch_cxt = AllocSetContextCreate(TopMemoryContext, "stockpipe consumer batch",
									  ALLOCSET_DEFAULT_SIZES);
	/* The topic GUC may have been reloaded while waiting. */
	my_topic = my_args.kind == SP_WORKER_LIVE ? sp_live_topic : sp_daily_topic;

	for (;;)
	{
		int			n;

		if (sp_worker_interrupts())
		{
			reload_settings();
			my_topic = my_args.kind == SP_WORKER_LIVE ? sp_live_topic : sp_daily_topic;
		}

		if (fenced_by != 0)
		{
			/* superseded (check_fence): nothing more to do until a restart */
			pgstat_report_activity(STATE_IDLE, NULL);
			wait_for_work(60000);
			continue;
		}

		if (rk == NULL)
		{
			if (GetCurrentTimestamp() < retry_at || !create_client())
			{
				if (retry_at <= GetCurrentTimestamp())
					retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), SP_RETRY_MS);
				report_kafka_problem();
				sp_worker_set_state("waiting to retry Kafka client");
				wait_for_work(sp_poll_interval_ms);
				continue;
			}
			sp_worker_set_state("consuming");
		}

		drain_wake_pipe();
		if (pending_assign)
			apply_pending_assignment();
		check_my_partitions();
		check_fence();
		if (fenced_by != 0)
			continue;
		assignment_changed = false;

		n = collect_batch();
		report_kafka_problem();
		if (n > 0)
		{
			store_batch(n);
			sp_worker_set_state("consuming");
			continue;
		}
		if (assignment_changed || pending_assign)
			continue;

		refresh_watermarks();
		refresh_other_watermarks();
		pgstat_report_activity(STATE_IDLE, NULL);
		wait_for_work(sp_poll_interval_ms);
	}
}
