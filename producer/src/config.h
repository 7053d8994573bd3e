/*
 * config.h -- command-line flags of stockpipe-producer and their defaults.
 */
#ifndef STOCKPIPE_CONFIG_H
#define STOCKPIPE_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kconf.h"
#include "log.h"
#include "replay.h"
#include "symbols.h"

/* --max-response-bytes: a chart body is tens of kilobytes, 3 months of bars less. */
#define CONFIG_RESPONSE_MAX_DEFAULT (2 * 1024 * 1024)
#define CONFIG_RESPONSE_MAX_MIN 4096
#define CONFIG_RESPONSE_MAX_MAX (256 * 1024 * 1024)

enum config_source
{
	CONFIG_SOURCE_YAHOO,
	CONFIG_SOURCE_REPLAY,
	CONFIG_SOURCE_SIM
};

/* --schedule: when each symbol is polled (docs/producer.md, "Schedule"). */
enum config_schedule
{
	CONFIG_SCHEDULE_YAHOO,		/* its exchange's periods, from Yahoo (session.h) */
	CONFIG_SCHEDULE_FIXED		/* --market-hours in --timezone for every symbol */
};

enum config_result
{
	CONFIG_OK,
	CONFIG_HELP,
	CONFIG_VERSION,
	CONFIG_ERROR
};

struct config
{
	struct symbols symbols;
	enum config_source source;
	const char *replay_file;	/* FILE[,FILE...] */
	struct replay_shift replay_shift;	/* --replay-shift */
	int64_t		interval_ms;
	int			daily_min;
	int			no_daily;
	int			open_min;
	int			close_min;
	const char *timezone;
	int			always;
	enum config_schedule schedule;	/* --schedule */
	unsigned	sessions;		/* --sessions: SESSION_* bits */
	int64_t		idle_interval_ms;	/* --idle-interval */
	int			once;
	const char *yahoo_url;
	int64_t		connect_timeout_ms;
	int64_t		timeout_ms;
	const char *user_agent;
	int64_t		max_response_bytes;
	int64_t		backoff_max_ms;
	const char *brokers;
	const char *live_topic;
	const char *daily_topic;
	struct kconf kafka;			/* extra librdkafka properties, in the order
								 * to apply them: file, environment, -X */
	const char *kafka_config;	/* --kafka-config or STOCKPIPE_KAFKA_CONFIG */
	char		kafka_config_warning[512];	/* for main to log, if set */
	int64_t		flush_timeout_ms;
	double		speed;
	double		rate;
	int64_t		count;
	uint64_t	seed;
	int64_t		stats_interval_ms;
	enum log_level log_level;
};

enum config_result config_parse(struct config *cfg, int argc, char **argv,
								char *err, size_t errlen);
void		config_free(struct config *cfg);
void		config_usage(FILE *out);
int			config_parse_duration_ms(const char *s, int64_t *ms);

#endif
