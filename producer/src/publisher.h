/*
 * publisher.h -- publishes the messages to Kafka with librdkafka:
 * idempotent, acks=all, key = symbol.
 */
#ifndef STOCKPIPE_PUBLISHER_H
#define STOCKPIPE_PUBLISHER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "kconf.h"

enum publisher_topic
{
	PUBLISHER_LIVE = 0,			/* --live-topic, stock_live */
	PUBLISHER_DAILY = 1			/* --daily-topic, stock_daily */
};

struct publisher_stats
{
	int64_t		produced;		/* accepted into the local queue */
	int64_t		delivered;		/* acknowledged by the cluster */
	int64_t		failed;			/* delivery reports with an error */
};

struct publisher;

struct publisher *publisher_new(const char *brokers, const char *live_topic,
								const char *daily_topic, const struct kconf *extra,
								int *bad_property, char *err, size_t errlen);
int			publisher_send(struct publisher *p, enum publisher_topic topic, const char *key,
						   const char *payload, size_t len, volatile sig_atomic_t *stop);
void		publisher_wait(struct publisher *p, int64_t timeout_ms, int wake_fd);
int			publisher_fatal(struct publisher *p, char *err, size_t errlen);
int64_t		publisher_shutdown(struct publisher *p, int64_t timeout_ms);
void		publisher_free(struct publisher *p);
struct publisher_stats publisher_get_stats(const struct publisher *p);

#endif
