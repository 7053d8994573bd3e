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

/* The command line. */
typedef struct options
{
	const char *topics[64];
	int			ntopics;
	const char *absent[64];
	int			nabsent;
	int			nbrokers;
	int			partitions;
	const char *address_file;
} options;

/* Add a repeatable flag's value to list; exit(2) when there are too many. */
static void
add_name(const char **list, int *n, int max, const char *flag, const char *name)
{
	if (*n == max)
	{
		fprintf(stderr, "stockpipe-broker: too many %s flags\n", flag);
		exit(2);
	}
	list[(*n)++] = name;
}

/* Parse the command line into o; exits on --help (0) and on errors (2). */
static void
parse_options(int argc, char **argv, options *o)
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
	const int	max = (int) (sizeof(o->topics) / sizeof(o->topics[0]));
	int			c;

	memset(o, 0, sizeof(*o));
	o->nbrokers = 1;
	o->partitions = 4;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
	{
		switch (c)
		{
			case 'b':
				o->nbrokers = parse_count(optarg, "--brokers", 16);
				break;
			case 'p':
				o->partitions = parse_count(optarg, "--partitions", 1024);
				break;
			case 't':
				add_name(o->topics, &o->ntopics, max, "--topic", optarg);
				break;
			case 'a':
				o->address_file = optarg;
				break;
			case 'x':
				add_name(o->absent, &o->nabsent, max, "--absent-topic", optarg);
				break;
			case 'h':
				usage(stdout);
				exit(0);
			default:
				usage(stderr);
				exit(2);
		}
	}
	if (optind < argc)
	{
		fprintf(stderr, "stockpipe-broker: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		exit(2);
	}
	if (o->ntopics == 0)
	{
		o->topics[o->ntopics++] = "stock_live";
		o->topics[o->ntopics++] = "stock_daily";
	}
}

/*
 * Catch TERM, INT, USR1 and USR2, and keep them blocked except inside
 * sigsuspend(waitmask), so that one that arrives between a flag check and
 * the wait is not missed.  Called before librdkafka starts its threads,
 * which inherit the mask: else a signal could be handled by one of them
 * while the main thread sleeps on.
 */
static void
catch_signals(sigset_t *waitmask)
{
	static const int signals[] = {SIGTERM, SIGINT, SIGUSR1, SIGUSR2};
	struct sigaction sa;
	sigset_t	block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
	{
		sigaction(signals[i], &sa, NULL);
		sigaddset(&block, signals[i]);
	}
	sigprocmask(SIG_BLOCK, &block, waitmask);
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		sigdelset(waitmask, signals[i]);
}

/*
 * The mock cluster with its topics, or NULL (said on stderr).  The mock
 * cluster needs an rd_kafka_t (*rk) for its bookkeeping only.
 */
static rd_kafka_mock_cluster_t *
start_cluster(const options *o, rd_kafka_t **rk)
{
	char		errstr[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_mock_cluster_t *mcluster;

	if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
	{
		fprintf(stderr, "stockpipe-broker: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	*rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (*rk == NULL)
	{
		fprintf(stderr, "stockpipe-broker: cannot create client: %s\n", errstr);
		return NULL;
	}
	mcluster = rd_kafka_mock_cluster_new(*rk, o->nbrokers);
	if (mcluster == NULL)
	{
		fprintf(stderr, "stockpipe-broker: cannot create the mock cluster\n");
		return NULL;
	}
	for (int i = 0; i < o->ntopics; i++)
	{
		rd_kafka_resp_err_t err;

		err = rd_kafka_mock_topic_create(mcluster, o->topics[i], o->partitions, 1);
		if (err)
		{
			fprintf(stderr, "stockpipe-broker: cannot create topic \"%s\": %s\n",
					o->topics[i], rd_kafka_err2str(err));
			rd_kafka_mock_cluster_destroy(mcluster);
			return NULL;
		}
	}

	/*
	 * The mock cluster creates any topic a client asks for; an "absent" one
	 * answers every request with UNKNOWN_TOPIC_OR_PART instead.
	 */
	for (int i = 0; i < o->nabsent; i++)
		rd_kafka_mock_topic_set_error(mcluster, o->absent[i],
									  RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
	return mcluster;
}

/* The mock cluster runs in its own threads; here we only act on signals. */
static void
serve(rd_kafka_mock_cluster_t *mcluster, const sigset_t *waitmask)
{
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
		sigsuspend(waitmask);
	}
}

int
main(int argc, char **argv)
{
	options		o;
	sigset_t	waitmask;
	rd_kafka_t *rk = NULL;
	rd_kafka_mock_cluster_t *mcluster;
	const char *bootstraps;
	int			rc = 0;

	parse_options(argc, argv, &o);
	catch_signals(&waitmask);
	mcluster = start_cluster(&o, &rk);
	if (mcluster == NULL)
	{
		if (rk)
			rd_kafka_destroy(rk);
		return 1;
	}

	bootstraps = rd_kafka_mock_cluster_bootstraps(mcluster);
	printf("%s\n", bootstraps);
	fflush(stdout);
	if (o.address_file && write_address_file(o.address_file, bootstraps) != 0)
	{
		fprintf(stderr, "stockpipe-broker: cannot write \"%s\": %s\n",
				o.address_file, strerror(errno));
		rc = 1;
	}
	else
	{
		log_line("listening on %s (development broker: data is kept in memory only)",
				 bootstraps);
		serve(mcluster, &waitmask);
		log_line("%s", "stopping");
	}
	rd_kafka_mock_cluster_destroy(mcluster);
	rd_kafka_destroy(rk);
	if (o.address_file && rc == 0)
		unlink(o.address_file);
	return rc;
}
