/*-------------------------------------------------------------------------
 *
 * kafka.c
 *	  librdkafka configuration for the consumer workers.
 *
 * stockpipe.kafka_options passes any librdkafka property through (SASL, TLS,
 * timeouts), so that a secured production cluster needs no code change.
 * Every rd_kafka_conf_set() result is checked and reported with the key.
 *
 *-------------------------------------------------------------------------
 */
#include "stockpipe.h"

#include "kafka.h"

#define SP_OPTION_MAX 4096

static bool
set_one(rd_kafka_conf_t *conf, const char *key, const char *value,
		char *errbuf, size_t errlen)
{
	char		why[512];

	if (rd_kafka_conf_set(conf, key, value, why, sizeof(why)) != RD_KAFKA_CONF_OK)
	{
		snprintf(errbuf, errlen, "librdkafka property \"%s\": %s", key, why);
		return false;
	}
	return true;
}

/* Copy [start, end) without surrounding white space into dst. */
static void
copy_trimmed(char *dst, const char *start, const char *end)
{
	while (start < end && (*start == ' ' || *start == '\t' || *start == '\n' || *start == '\r'))
		start++;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		end--;
	memcpy(dst, start, end - start);
	dst[end - start] = '\0';
}

bool
sp_kafka_apply_options(rd_kafka_conf_t *conf, const char *options,
					   char *errbuf, size_t errlen)
{
	const char *p = options ? options : "";

	while (*p)
	{
		const char *end = p;
		const char *eq = NULL;
		char		key[SP_OPTION_MAX];
		char		value[SP_OPTION_MAX];

		while (*end && *end != ';' && *end != '\n')
		{
			if (*end == '=' && eq == NULL)
				eq = end;
			end++;
		}
		if (end - p >= SP_OPTION_MAX)
		{
			snprintf(errbuf, errlen, "an option is longer than %d bytes", SP_OPTION_MAX - 1);
			return false;
		}
		copy_trimmed(key, p, eq ? eq : end);
		if (eq == NULL)
		{
			if (key[0] != '\0')
			{
				snprintf(errbuf, errlen, "option \"%s\" has no \"=value\"", key);
				return false;
			}
		}
		else
		{
			copy_trimmed(value, eq + 1, end);
			if (key[0] == '\0')
			{
				snprintf(errbuf, errlen, "an option has an empty key");
				return false;
			}
			if (conf && !set_one(conf, key, value, errbuf, errlen))
				return false;
		}
		p = *end ? end + 1 : end;
	}
	return true;
}

bool
sp_kafka_check_options(const char *options, char *errbuf, size_t errlen)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	bool		ok;

	ok = sp_kafka_apply_options(conf, options, errbuf, errlen);
	rd_kafka_conf_destroy(conf);
	return ok;
}

rd_kafka_conf_t *
sp_kafka_consumer_conf(const char *client_id, char *errbuf, size_t errlen)
{
	/* Defaults a user may override through stockpipe.kafka_options. */
	static const char *const defaults[][2] = {
		{"auto.offset.reset", "earliest"},
		/* a crashed worker's partitions move on after 6 s, not 45 s */
		{"session.timeout.ms", "6000"},
		{"heartbeat.interval.ms", "500"},
		{"topic.metadata.refresh.interval.ms", "10000"},
		{"reconnect.backoff.max.ms", "2000"},
		/*
		 * A real broker answers a fetch as soon as data arrives; the mock
		 * broker of development and tests answers only when this expires, so
		 * keep it short: quotes are latency-sensitive.
		 */
		{"fetch.wait.max.ms", "10"},
		{"log.connection.close", "false"},
	};

	/*
	 * What ingestion relies on: offsets live in stockpipe.kafka_offsets, so
	 * librdkafka must never commit or store positions on its own; logs and
	 * errors are served on the worker's own thread through its queue.
	 */
	static const char *const required[][2] = {
		{"enable.auto.commit", "false"},
		{"enable.auto.offset.store", "false"},
		{"enable.partition.eof", "false"},
		{"log.queue", "true"},
	};
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	int			i;

	for (i = 0; i < (int) lengthof(defaults); i++)
		if (!set_one(conf, defaults[i][0], defaults[i][1], errbuf, errlen))
			goto fail;
	if (!set_one(conf, "client.id", client_id, errbuf, errlen) ||
		!set_one(conf, "bootstrap.servers", sp_kafka_brokers, errbuf, errlen) ||
		!set_one(conf, "group.id", sp_consumer_group, errbuf, errlen))
		goto fail;
	if (!sp_kafka_apply_options(conf, sp_kafka_options, errbuf, errlen))
		goto fail;
	for (i = 0; i < (int) lengthof(required); i++)
		if (!set_one(conf, required[i][0], required[i][1], errbuf, errlen))
			goto fail;
	return conf;

fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}
