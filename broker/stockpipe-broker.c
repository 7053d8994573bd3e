/*
 * stockpipe-broker.c
 *	  An in-memory Kafka-protocol broker for development and tests.
 *
 * It runs librdkafka's mock cluster (rdkafka_mock.h), which speaks the real
 * Kafka wire protocol, so the extension, the producer and kcat talk to it as
 * to any Kafka cluster.  Topics live in memory and die with the process.
 * It is NOT a Kafka server for production: point stockpipe.kafka_brokers at
 * a real Kafka cluster there.
 *
 * SIGUSR1 takes the brokers down (connections drop and are refused), SIGUSR2
 * brings them back up with the data intact: this is how tests simulate a
 * broker outage without losing the in-memory topics.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t down_requested;
static volatile sig_atomic_t up_requested;

static void
on_signal(int signo)
{
	if (signo == SIGUSR1)
		down_requested = 1;
	else if (signo == SIGUSR2)
		up_requested = 1;
	else
		stop_requested = 1;
}

static void
usage(FILE *out)
{
	fprintf(out,
			"Usage: stockpipe-broker [--brokers N] [--partitions N] [--topic NAME]...\n"
			"                        [--address-file FILE]\n"
			"\n"
			"An in-memory Kafka-protocol broker (librdkafka's mock cluster) for\n"
			"development and tests ONLY: topics are kept in memory and lost when the\n"
			"process ends, and there is no security.  Production uses a real Kafka\n"
			"cluster (set stockpipe.kafka_brokers and the producer's --brokers).\n"
			"\n"
			"  --brokers N         number of mock brokers (default 1)\n"
			"  --partitions N      partitions of each created topic (default 4)\n"
			"  --topic NAME        topic to create (repeatable; default stock_live\n"
			"                      and stock_daily)\n"
			"  --absent-topic NAME answer for topic NAME as a cluster where it does not\n"
			"                      exist and is not auto-created (repeatable; for tests)\n"
			"  --address-file FILE write the bootstrap address to FILE once listening\n"
			"  --help              show this help\n"
			"\n"
			"Like Kafka's retention, each partition keeps at most 5 MB of message\n"
			"sets (librdkafka's mock limit); older messages are dropped.  Produce\n"
			"with compression and use more partitions for large loads.\n"
			"\n"
			"Prints the bootstrap address (host:port,...) on stdout.  Signals: TERM/INT\n"
			"stop; USR1 takes the brokers down (connections refused); USR2 brings\n"
			"them back up with their data.\n");
}

static int
parse_count(const char *arg, const char *flag, int max)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > max)
	{
		fprintf(stderr, "stockpipe-broker: %s must be an integer from 1 to %d, not \"%s\"\n",
				flag, max, arg);
		usage(stderr);
		exit(2);
	}
	return (int) v;
}

/* Write the address atomically, so a waiting script never reads half of it. */
static int
write_address_file(const char *path, const char *addr)
{
	char		tmp[4096];
	FILE	   *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int) sizeof(tmp))
		return -1;
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "%s\n", addr);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

static void
log_line(const char *fmt, const char *arg)
{
	char		stamp[32];
	time_t		now = time(NULL);
	struct tm	tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s stockpipe-broker: ", stamp);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"brokers", required_argument, NULL, 'b'},
		{"partitions", required_argument, NULL, 'p'},
		{"topic", required_argument, NULL, 't'},
		{"address-file", required_argument, NULL, 'a'},
		{"absent-topic", required_argument, NULL, 'x'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *topics[64];
	int			ntopics = 0;
	const char *absent[64];
	int			nabsent = 0;
	int			nbrokers = 1;
	int			partitions = 4;
	const char *address_file = NULL;
	char		errstr[512];
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mcluster;
	const char *bootstraps;
	struct sigaction sa;
	sigset_t	block;
	sigset_t	waitmask;
	int			c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
	{
		switch (c)
		{
			case 'b':
				nbrokers = parse_count(optarg, "--brokers", 16);
				break;
			case 'p':
				partitions = parse_count(optarg, "--partitions", 1024);
				break;
			case 't':
				if (ntopics == (int) (sizeof(topics) / sizeof(topics[0])))
				{
					fprintf(stderr, "stockpipe-broker: too many --topic flags\n");
					exit(2);
				}
				topics[ntopics++] = optarg;
				break;
			case 'a':
				address_file = optarg;
				break;
			case 'x':
				if (nabsent == (int) (sizeof(absent) / sizeof(absent[0])))
				{
					fprintf(stderr, "stockpipe-broker: too many --absent-topic flags\n");
					exit(2);
				}
				absent[nabsent++] = optarg;
				break;
			case 'h':
				usage(stdout);
				return 0;
			default:
				usage(stderr);
				return 2;
		}
	}
	if (optind < argc)
	{
		fprintf(stderr, "stockpipe-broker: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (ntopics == 0)
	{
		topics[ntopics++] = "stock_live";
		topics[ntopics++] = "stock_daily";
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);

	/*
	 * Keep the signals blocked except inside sigsuspend(), so that one that
	 * arrives between a flag check and the wait is not missed.  Block them
	 * before librdkafka starts its threads, which inherit the mask: else a
	 * signal could be handled by one of them while this thread sleeps on.
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGUSR1);
	sigdelset(&waitmask, SIGUSR2);

	/* The mock cluster needs an rd_kafka_t for its bookkeeping only. */
	conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
	{
		fprintf(stderr, "stockpipe-broker: %s\n", errstr);
		return 1;
	}
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (rk == NULL)
	{
		fprintf(stderr, "stockpipe-broker: cannot create client: %s\n", errstr);
		return 1;
	}
	mcluster = rd_kafka_mock_cluster_new(rk, nbrokers);
	if (mcluster == NULL)
	{
		fprintf(stderr, "stockpipe-broker: cannot create the mock cluster\n");
		rd_kafka_destroy(rk);
		return 1;
	}
	for (int i = 0; i < ntopics; i++)
	{
		rd_kafka_resp_err_t err;

		err = rd_kafka_mock_topic_create(mcluster, topics[i], partitions, 1);
		if (err)
		{
			fprintf(stderr, "stockpipe-broker: cannot create topic \"%s\": %s\n",
					topics[i], rd_kafka_err2str(err));
			rd_kafka_mock_cluster_destroy(mcluster);
			rd_kafka_destroy(rk);
			return 1;
		}
	}

	/*
	 * The mock cluster creates any topic a client asks for; an "absent" one
	 * answers every request with UNKNOWN_TOPIC_OR_PART instead.
	 */
	for (int i = 0; i < nabsent; i++)
		rd_kafka_mock_topic_set_error(mcluster, absent[i],
									  RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);

	bootstraps = rd_kafka_mock_cluster_bootstraps(mcluster);
	printf("%s\n", bootstraps);
	fflush(stdout);
	if (address_file && write_address_file(address_file, bootstraps) != 0)
	{
		fprintf(stderr, "stockpipe-broker: cannot write \"%s\": %s\n",
				address_file, strerror(errno));
		rd_kafka_mock_cluster_destroy(mcluster);
		rd_kafka_destroy(rk);
		return 1;
	}
	log_line("listening on %s (development broker: data is kept in memory only)",
			 bootstraps);

	/* The mock cluster runs in its own thread; here we only wait for signals. */
	while (!stop_requested)
	{
		if (down_requested)
		{
			down_requested = 0;
			rd_kafka_mock_broker_set_down(mcluster, -1);
			log_line("%s", "brokers set DOWN (SIGUSR1)");
		}
		if (up_requested)
		{
			up_requested = 0;
			rd_kafka_mock_broker_set_up(mcluster, -1);
			log_line("%s", "brokers set UP (SIGUSR2)");
		}
		sigsuspend(&waitmask);
	}

	log_line("%s", "stopping");
	rd_kafka_mock_cluster_destroy(mcluster);
	rd_kafka_destroy(rk);
	if (address_file)
		unlink(address_file);
	return 0;
}
