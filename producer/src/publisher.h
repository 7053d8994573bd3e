/*
 * kafka.h -- the librdkafka producer: idempotent, acks=all, key = symbol.
 */
#ifndef STOCKPIPE_KAFKA_H
#define STOCKPIPE_KAFKA_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "kafka_conf.h"

enum kafka_topic
{
	KAFKA_LIVE = 0,
	KAFKA_DAILY = 1
};

struct kafka_stats
{
	int64_t		produced;		/* accepted into the local queue */
	int64_t		delivered;		/* acknowledged by the cluster */
	int64_t		failed;			/* delivery reports with an error */
};

struct kafka;

struct kafka *kafka_new(const char *brokers, const char *live_topic, const char *daily_topic,
						const struct kconf *extra, int *bad_property,
						char *err, size_t errlen);
int			kafka_produce(struct kafka *k, enum kafka_topic topic, const char *key,
						  const char *payload, size_t len, volatile sig_atomic_t *stop);
void		kafka_wait(struct kafka *k, int64_t timeout_ms, int wake_fd);
int			kafka_fatal(struct kafka *k, char *err, size_t errlen);
int64_t		kafka_shutdown(struct kafka *k, int64_t timeout_ms);
void		kafka_free(struct kafka *k);
struct kafka_stats kafka_get_stats(const struct kafka *k);

#endif
