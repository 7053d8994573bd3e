/*
 * main.c -- stockpipe-producer: flags, signals, the Kafka producer, the
 * chosen source's loop, and a clean shutdown.
 *
 * Exit status: 0 normal end (including SIGTERM/SIGINT with every message
 * delivered), 1 runtime failure (no valid symbol, Kafka fatal error,
 * messages undelivered at shutdown), 2 bad command line.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <librdkafka/rdkafka.h>

#include "config.h"
#include "log.h"
#include "publisher.h"
#include "runtime.h"
#include "sources.h"

#define PRODUCER_VERSION "1.0.0"

static volatile sig_atomic_t stop_requested;
static int	signal_pipe[2] = {-1, -1};

/* Only async-signal-safe work here: set the flag, wake the main loop. */
static void
on_stop_signal(int signo)
{
	int			saved = errno;
	char		c = 1;

	(void) signo;
	stop_requested = 1;
	if (signal_pipe[1] >= 0 && write(signal_pipe[1], &c, 1) < 0)
	{
		/* the pipe is full: the loop is awake already */
	}
	errno = saved;
}

static int
install_signals(void)
{
	struct sigaction sa;

	if (pipe(signal_pipe) != 0 ||
		fcntl(signal_pipe[0], F_SETFL, O_NONBLOCK) != 0 ||
		fcntl(signal_pipe[1], F_SETFL, O_NONBLOCK) != 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static const char *
name_of_source(const struct config *cfg)
{
	switch (cfg->source)
	{
		case CONFIG_SOURCE_YAHOO:
			return "yahoo";
		case CONFIG_SOURCE_REPLAY:
			return "replay";
		case CONFIG_SOURCE_SIM:
			return "sim";
	}
	return "?";
}

/* --brokers, unless a property (file, environment, -X) replaced it. */
static const char *
effective_brokers(const struct config *cfg)
{
	const struct kconf_prop *p = NULL;

	/* the last one set wins, and the list is in the order they are applied */
	for (size_t i = 0; i < cfg->kafka.count; i++)
		if (strcmp(cfg->kafka.items[i].key, "bootstrap.servers") == 0 ||
			strcmp(cfg->kafka.items[i].key, "metadata.broker.list") == 0)
			p = &cfg->kafka.items[i];
	return p ? p->value : cfg->brokers;
}

/*
 * Logs the user's Kafka properties and where each came from, so that an
 * operator can tell which file or variable won; secret values are shown as
 * "(hidden)", never printed.
 */
static void
show_kafka_conf(const struct config *cfg)
{
	if (cfg->kafka_config)
		log_info("kafka: properties file %s", cfg->kafka_config);
	for (size_t i = 0; i < cfg->kafka.count; i++)
		log_info("kafka: %s=%s (from %s)", cfg->kafka.items[i].key,
				 kconf_shown_value(&cfg->kafka.items[i]), cfg->kafka.items[i].origin);
}

int
main(int argc, char **argv)
{
	struct config cfg;
	struct runtime rt;
	char		err[512];
	int			status;
	int64_t		undelivered;
	int			bad_property;
	char		fatal[512];

	switch (config_parse(&cfg, argc, argv, err, sizeof(err)))
	{
		case CONFIG_HELP:
			config_usage(stdout);
			config_free(&cfg);
			return 0;
		case CONFIG_VERSION:
			printf("stockpipe-producer %s (librdkafka %s, %s)\n", PRODUCER_VERSION,
				   rd_kafka_version_str(), curl_version());
			config_free(&cfg);
			return 0;
		case CONFIG_ERROR:
			fprintf(stderr, "stockpipe-producer: %s\n", err);
			config_usage(stderr);
			config_free(&cfg);
			return 2;
		case CONFIG_OK:
			break;
	}
	log_set_level(cfg.log_level);
	if (cfg.kafka_config_warning[0])
		log_warn("%s", cfg.kafka_config_warning);

	/* Before any thread exists: libcurl's global state and our handlers. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || install_signals() != 0)
	{
		log_error("cannot initialise: %s", strerror(errno));
		config_free(&cfg);
		return 1;
	}

	memset(&rt, 0, sizeof(rt));
	rt.cfg = &cfg;
	rt.stop = &stop_requested;
	rt.wake_fd = signal_pipe[0];
	rng_seed(&rt.rng, cfg.seed ? cfg.seed
			 : ((uint64_t) time(NULL) << 20) ^ (uint64_t) getpid());
	rt.publisher = publisher_new(cfg.brokers, cfg.live_topic, cfg.daily_topic,
								 &cfg.kafka, &bad_property, err, sizeof(err));
	if (rt.publisher == NULL)
	{
		/* librdkafka refused a property (file, environment or -X): a bad command line */
		if (bad_property)
		{
			fprintf(stderr, "stockpipe-producer: %s\n", err);
			config_usage(stderr);
		}
		else
			log_error("%s", err);
		curl_global_cleanup();
		config_free(&cfg);
		return bad_property ? 2 : 1;
	}
	log_info("stockpipe-producer %s: source %s, brokers %s, topics %s/%s",
			 PRODUCER_VERSION, name_of_source(&cfg), effective_brokers(&cfg), cfg.live_topic,
			 cfg.daily_topic);
	show_kafka_conf(&cfg);

	switch (cfg.source)
	{
		case CONFIG_SOURCE_YAHOO:
			status = source_yahoo_run(&rt);
			break;
		case CONFIG_SOURCE_REPLAY:
			status = source_replay_run(&rt);
			break;
		case CONFIG_SOURCE_SIM:
		default:
			status = source_sim_run(&rt);
			break;
	}
	if (stop_requested)
		log_info("stop requested; flushing (up to %lld ms)", (long long) cfg.flush_timeout_ms);
	if (publisher_fatal(rt.publisher, fatal, sizeof(fatal)))
	{
		log_error("kafka: fatal: %s", fatal);
		status = 1;
	}
	undelivered = publisher_shutdown(rt.publisher, cfg.flush_timeout_ms);
	if (undelivered > 0)
	{
		log_error("%lld message(s) could not be delivered before shutdown", (long long) undelivered);
		status = 1;
	}
	runtime_report(&rt);
	publisher_free(rt.publisher);
	curl_global_cleanup();
	config_free(&cfg);
	close(signal_pipe[0]);
	close(signal_pipe[1]);
	log_info("exiting with status %d", status);
	return status;
}
