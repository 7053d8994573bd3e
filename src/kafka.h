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
 * Apply the file at path (stockpipe.kafka_options_file; nothing if NULL or
 * empty) to conf: one librdkafka property a line as key=value, white space
 * around key and value ignored, blank lines and lines starting with "#"
 * skipped.  On failure, errbuf names the file and the line, and at most
 * the property's name: never a value, as the file holds secrets.
 */
extern bool sp_kafka_apply_options_file(rd_kafka_conf_t *conf, const char *path,
										char *errbuf, size_t errlen);

/*
 * What identifies stockpipe.kafka_options_file as it is now, palloc'd: its
 * path and a hash of its content (or why it cannot be read), so that a
 * reload notices an edited file.  Never the content itself.
 */
extern char *sp_kafka_options_file_fingerprint(void);

/*
 * A consumer configuration from the current settings: our defaults (with
 * fetch.wait.max.ms = fetch_wait_ms), then stockpipe.kafka_options, then
 * stockpipe.kafka_options_file, then what exactly-once ingestion depends on.
 */
extern rd_kafka_conf_t *sp_kafka_consumer_conf(const char *client_id,
											   int fetch_wait_ms,
											   char *errbuf, size_t errlen);

#endif							/* STOCKPIPE_KAFKA_H */
