/*
 * publisher.c -- publishes the producer's messages with librdkafka.
 *
 * The producer is idempotent with acks=all, so a retry after a lost
 * acknowledgement never writes a message twice and an acknowledged message
 * is on every in-sync replica.  Delivery reports, errors and librdkafka's
 * own log lines are all routed to the main queue and served by
 * publisher_wait()/publisher_send() on the main thread: nothing of ours
 * runs on a librdkafka thread.  The main queue signals new events on a
 * pipe, so the main loop can sleep in poll() until there is something to
 * do.
 */
#include "publisher.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "log.h"

struct publisher
{
	rd_kafka_t *rk;
	rd_kafka_topic_t *topics[2];
	rd_kafka_queue_t *mainq;
	int			event_pipe[2];
	struct publisher_stats stats;
	int64_t		failure_streak;	/* consecutive failed deliveries */
	rd_kafka_resp_err_t last_error;
	int			fatal;
};

/*
 * Logs the first failure of a streak (with its reason) and the recovery,
 * not every message: a broker outage would otherwise log one line per
 * quote.  Every failure is counted.
 */
static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct publisher *pub = opaque;

	(void) rk;
	if (m->err)
	{
		pub->stats.failed++;
		if (pub->failure_streak++ == 0 || m->err != pub->last_error)
			log_error("kafka: delivery to %s failed: %s (key %.*s; further failures are counted, "
					  "not logged)",
					  rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err),
					  (int) m->key_len, m->key ? (const char *) m->key : "");
		pub->last_error = m->err;
	}
	else
	{
		pub->stats.delivered++;
		if (pub->failure_streak > 0)
			log_info("kafka: deliveries succeed again after %lld failure(s)",
					 (long long) pub->failure_streak);
		pub->failure_streak = 0;
		pub->last_error = RD_KAFKA_RESP_ERR_NO_ERROR;
	}
}

static void
on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct publisher *pub = opaque;

	(void) rk;
	if (err == RD_KAFKA_RESP_ERR__FATAL)
	{
		pub->fatal = 1;
		log_error("kafka: fatal error: %s", reason);
	}
	else
		log_warn("kafka: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t) err), reason);
}

static void
on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void) rk;
	if (level <= 3)
		log_error("kafka: %s: %s", fac, buf);
	else if (level <= 4)
		log_warn("kafka: %s: %s", fac, buf);
	else if (level <= 6)
		log_info("kafka: %s: %s", fac, buf);
	else
		log_debug("kafka: %s: %s", fac, buf);
}

/*
 * Sets one property; on error ERR names it (and ORIGIN, where it came from)
 * with librdkafka's reason, which quotes a refused value: a secret one is
 * masked there.
 */
static int
set(rd_kafka_conf_t *conf, const char *key, const char *value, const char *origin,
	char *err, size_t errlen)
{
	char		why[512];

	if (rd_kafka_conf_set(conf, key, value, why, sizeof(why)) != RD_KAFKA_CONF_OK)
	{
		if (kconf_is_secret(key))
			kconf_redact(why, sizeof(why), value);
		if (origin)
			snprintf(err, errlen, "kafka property %s (from %s): %s", key, origin, why);
		else
			snprintf(err, errlen, "kafka property %s: %s", key, why);
		return -1;
	}
	return 0;
}

struct publisher *
publisher_new(const char *brokers, const char *live_topic, const char *daily_topic,
			  const struct kconf *extra, int *bad_property, char *err, size_t errlen)
{
	struct publisher *pub = calloc(1, sizeof(*pub));
	rd_kafka_conf_t *conf;
	char		why[512];

	*bad_property = 0;
	if (pub == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pub->event_pipe[0] = pub->event_pipe[1] = -1;
	conf = rd_kafka_conf_new();
	if (set(conf, "bootstrap.servers", brokers, NULL, err, errlen) ||
		set(conf, "client.id", "stockpipe-producer", NULL, err, errlen) ||
		set(conf, "enable.idempotence", "true", NULL, err, errlen) ||
		set(conf, "acks", "all", NULL, err, errlen) ||
		set(conf, "linger.ms", "5", NULL, err, errlen) ||
		set(conf, "log.queue", "true", NULL, err, errlen))
		goto fail_conf;
	/*
	 * The user's properties (file, environment, -X: already in precedence
	 * order) come last so that they can override anything above.
	 */
	*bad_property = 1;
	for (size_t i = 0; i < extra->count; i++)
		if (set(conf, extra->items[i].key, extra->items[i].value, extra->items[i].origin,
				err, errlen))
			goto fail_conf;
	*bad_property = 0;
	rd_kafka_conf_set_opaque(conf, pub);
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_log_cb(conf, on_log);

	pub->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
	if (pub->rk == NULL)
	{
		snprintf(err, errlen, "cannot create the Kafka producer: %s", why);
		goto fail_conf;
	}
	/* conf now belongs to pub->rk */
	rd_kafka_set_log_queue(pub->rk, NULL);
	pub->topics[PUBLISHER_LIVE] = rd_kafka_topic_new(pub->rk, live_topic, NULL);
	pub->topics[PUBLISHER_DAILY] = rd_kafka_topic_new(pub->rk, daily_topic, NULL);
	if (pub->topics[0] == NULL || pub->topics[1] == NULL)
	{
		snprintf(err, errlen, "cannot create topic handles: %s",
				 rd_kafka_err2str(rd_kafka_last_error()));
		publisher_free(pub);
		return NULL;
	}
	if (pipe(pub->event_pipe) != 0 ||
		fcntl(pub->event_pipe[0], F_SETFL, O_NONBLOCK) != 0 ||
		fcntl(pub->event_pipe[1], F_SETFL, O_NONBLOCK) != 0)
	{
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		publisher_free(pub);
		return NULL;
	}
	pub->mainq = rd_kafka_queue_get_main(pub->rk);
	rd_kafka_queue_io_event_enable(pub->mainq, pub->event_pipe[1], "1", 1);
	return pub;

fail_conf:
	rd_kafka_conf_destroy(conf);
	free(pub);
	return NULL;
}

/*
 * Queues one message (copied).  When the local queue is full it serves
 * delivery reports until there is room: back-pressure instead of dropping.
 * Returns 0, or -1 (logged) when the message cannot be queued or *STOP
 * became set while waiting for room.
 */
int
publisher_send(struct publisher *pub, enum publisher_topic topic, const char *key,
			   const char *payload, size_t len, volatile sig_atomic_t *stop)
{
	for (;;)
	{
		rd_kafka_resp_err_t err;

		err = rd_kafka_producev(pub->rk,
								RD_KAFKA_V_RKT(pub->topics[topic]),
								RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
								RD_KAFKA_V_KEY(key, strlen(key)),
								RD_KAFKA_V_VALUE((void *) payload, len),
								RD_KAFKA_V_END);
		if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
		{
			pub->stats.produced++;
			rd_kafka_poll(pub->rk, 0);
			return 0;
		}
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
		{
			log_error("kafka: cannot queue message for %s (key %s): %s",
					  rd_kafka_topic_name(pub->topics[topic]), key, rd_kafka_err2str(err));
			pub->stats.failed++;
			return -1;
		}
		if (stop && *stop)
		{
			pub->stats.failed++;
			return -1;
		}
		rd_kafka_poll(pub->rk, 50);
	}
}

/*
 * Serves pending librdkafka events, then sleeps up to TIMEOUT_MS until a
 * new event arrives or WAKE_FD (the signal pipe; -1 for none) is readable.
 */
void
publisher_wait(struct publisher *pub, int64_t timeout_ms, int wake_fd)
{
	struct pollfd fds[2];
	char		drain[64];
	int			nfds = 1;

	while (read(pub->event_pipe[0], drain, sizeof(drain)) > 0)
		;
	rd_kafka_poll(pub->rk, 0);
	if (timeout_ms <= 0)
		return;
	fds[0].fd = pub->event_pipe[0];
	fds[0].events = POLLIN;
	if (wake_fd >= 0)
	{
		fds[1].fd = wake_fd;
		fds[1].events = POLLIN;
		nfds = 2;
	}
	if (timeout_ms > 60000)
		timeout_ms = 60000;
	if (poll(fds, (nfds_t) nfds, (int) timeout_ms) > 0 && (fds[0].revents & POLLIN))
	{
		while (read(pub->event_pipe[0], drain, sizeof(drain)) > 0)
			;
		rd_kafka_poll(pub->rk, 0);
	}
}

/* 1 (with the reason) if the idempotent producer hit a fatal error. */
int
publisher_fatal(struct publisher *pub, char *err, size_t errlen)
{
	if (!pub->fatal)
		return 0;
	rd_kafka_fatal_error(pub->rk, err, errlen);
	return 1;
}

/*
 * Waits up to TIMEOUT_MS for every queued message to be delivered; what is
 * still undelivered then is purged and counted as failed.  Returns the
 * number of messages that failed during shutdown.
 */
int64_t
publisher_shutdown(struct publisher *pub, int64_t timeout_ms)
{
	int64_t		failed_before = pub->stats.failed;
	int			left;

	rd_kafka_flush(pub->rk, (int) timeout_ms);
	left = rd_kafka_outq_len(pub->rk);
	if (left > 0)
	{
		log_error("kafka: %d message(s) still undelivered after %lld ms; giving up on them",
				  left, (long long) timeout_ms);
		rd_kafka_purge(pub->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_flush(pub->rk, 1000);
	}
	return pub->stats.failed - failed_before;
}

void
publisher_free(struct publisher *pub)
{
	if (pub == NULL)
		return;
	if (pub->mainq)
	{
		rd_kafka_queue_io_event_enable(pub->mainq, -1, NULL, 0);
		rd_kafka_queue_destroy(pub->mainq);
	}
	for (int i = 0; i < 2; i++)
		if (pub->topics[i])
			rd_kafka_topic_destroy(pub->topics[i]);
	if (pub->rk)
		rd_kafka_destroy(pub->rk);
	if (pub->event_pipe[0] >= 0)
		close(pub->event_pipe[0]);
	if (pub->event_pipe[1] >= 0)
		close(pub->event_pipe[1]);
	free(pub);
}

struct publisher_stats
publisher_get_stats(const struct publisher *pub)
{
	return pub->stats;
}
