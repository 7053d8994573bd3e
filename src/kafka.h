/*-------------------------------------------------------------------------
 *
 * kafka.h
 *	  Building librdkafka configurations from the stockpipe.* settings.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STOCKPIPE_KAFKA_H
#define STOCKPIPE_KAFKA_H

#include <stdbool.h>
#include <stddef.h>

#include <librdkafka/rdkafka.h>

/*
 * Parse "key=value; key=value" and apply each pair to conf (which may be
 * NULL to check the syntax only).  On failure, write the reason to errbuf.
 */
extern bool sp_kafka_apply_options(rd_kafka_conf_t *conf, const char *options,
								   char *errbuf, size_t errlen);

/* Check an option list against a throw-away configuration. */
extern bool sp_kafka_check_options(const char *options, char *errbuf,
								   size_t errlen);

/*
 * A consumer configuration from the current settings: our defaults, then
 * stockpipe.kafka_options, then what exactly-once ingestion depends on.
 */
extern rd_kafka_conf_t *sp_kafka_consumer_conf(const char *client_id,
											   char *errbuf, size_t errlen);

#endif							/* STOCKPIPE_KAFKA_H */
