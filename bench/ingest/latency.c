/*
 * latency.c: produce→visible latency of stockpipe's live ingestion.
 *
 * Publishes quotes to the live topic at a steady rate (default 1,000/s),
 * each with a symbol of its own ("L" + counter), and LISTENs on channel
 * stockpipe_live, where the consumer workers NOTIFY the symbols of every
 * committed live batch (comma-separated; long lists come in several
 * notifications).  The latency of a quote is the time its symbol is
 * notified minus the time it was handed to the Kafka producer, both read
 * from CLOCK_MONOTONIC in this one process.  A quote never notified by the
 * end of the run (send time + drain) counts as lost.
 *
 * Single-threaded: between two sends the program waits on the PostgreSQL
 * socket (ppoll with the time left), so a notification is read as soon as
 * it arrives.  librdkafka's own threads do the network I/O of the producer.
 *
 * Benchmark tool, not a test: prints key=value lines (for run.sh) and a
 * human-readable summary.  Exit 0 on a completed run, 1 on a failure to
 * connect, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>

#define NS_PER_S 1000000000LL

static const char *progname = "latency";
static volatile sig_atomic_t stop_requested = 0;
static long delivery_errors = 0;
static char delivery_error_text[256];

static void
usage(FILE *out)
{
	fprintf(out,
			"Usage: %s --brokers HOST:PORT --conninfo CONNINFO [--rate N] [--duration S]\n"
			"       [--warmup S] [--drain S] [--topic NAME] [--prefix P] [--linger-ms N]\n"
			"       [--dump FILE]\n"
			"\n"
			"Publishes quotes at a steady rate, each with its own symbol (PREFIX +\n"
			"counter), LISTENs on stockpipe_live and prints produce->visible latency\n"
			"percentiles and the number of quotes never notified (lost).\n"
			"\n"
			"  --brokers     Kafka bootstrap servers\n"
			"  --conninfo    libpq connection string of the stockpipe database\n"
			"  --rate        quotes per second (default 1000)\n"
			"  --duration    measured seconds (default 20)\n"
			"  --warmup      seconds sent first and not counted (default 2)\n"
			"  --drain       seconds to wait for late notifications (default 5)\n"
			"  --topic       live topic (default stock_live)\n"
			"  --prefix      symbol prefix, A-Z (default L)\n"
			"  --linger-ms   producer linger.ms (default 0)\n"
			"  --dump        write \"send_ms latency_ms\" per measured quote to FILE\n"
			"                (send time from the first send; -1: never notified)\n",
			progname);
}

static void
die(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", progname);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static double
parse_number(const char *s, const char *flag, double min, double max)
{
	char	   *end;
	double		v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= min && v <= max))
	{
		fprintf(stderr, "%s: %s must be a number from %g to %g, not \"%s\"\n",
				progname, flag, min, max, s);
		usage(stderr);
		exit(2);
	}
	return v;
}

static void
on_signal(int sig)
{
	(void) sig;
	stop_requested = 1;
}

static void
dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void) rk;
	(void) opaque;
	if (m->err)
	{
		delivery_errors++;
		snprintf(delivery_error_text, sizeof(delivery_error_text), "%s",
				 rd_kafka_err2str(m->err));
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[0..n). */
static double
percentile(const double *v, long n, double p)
{
	long		k = (long) ceil(p / 100.0 * (double) n);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

typedef struct Run
{
	long		total;			/* quotes to send, warm-up included */
	int64_t    *sent;			/* send time, 0 = not sent yet */
	int64_t    *seen;			/* first notification time, 0 = none */
	long		nseen;
	long		notifications;
	long		foreign;		/* symbols in notifications that are not ours */
	const char *prefix;
	size_t		prefix_len;
} Run;

/* Record every symbol of one notification payload. */
static void
take_payload(Run *run, const char *payload, int64_t t)
{
	const char *p = payload;

	while (*p)
	{
		const char *end = strchr(p, ',');
		size_t		len = end ? (size_t) (end - p) : strlen(p);
		bool		ours = len > run->prefix_len &&
			strncmp(p, run->prefix, run->prefix_len) == 0;
		long		idx = 0;
		size_t		i;

		for (i = run->prefix_len; ours && i < len; i++)
		{
			if (p[i] < '0' || p[i] > '9' || idx > run->total)
				ours = false;
			else
				idx = idx * 10 + (p[i] - '0');
		}
		if (ours && idx < run->total && run->sent[idx] != 0)
		{
			if (run->seen[idx] == 0)
			{
				run->seen[idx] = t;
				run->nseen++;
			}
		}
		else
			run->foreign++;
		if (end == NULL)
			break;
		p = end + 1;
	}
}

static void
read_notifications(PGconn *conn, Run *run)
{
	PGnotify   *n;
	int64_t		t;

	if (!PQconsumeInput(conn))
		die("lost the PostgreSQL connection: %s", PQerrorMessage(conn));
	t = now_ns();
	while ((n = PQnotifies(conn)) != NULL)
	{
		run->notifications++;
		take_payload(run, n->extra, t);
		PQfreemem(n);
	}
}

/* Wait for notifications until the monotonic time `until`. */
static void
wait_until(PGconn *conn, Run *run, int64_t until)
{
	struct pollfd pfd = {.fd = PQsocket(conn),.events = POLLIN};

	for (;;)
	{
		int64_t		left = until - now_ns();
		struct timespec ts;
		int			rc;

		if (left <= 0 || stop_requested)
			return;
		ts.tv_sec = left / NS_PER_S;
		ts.tv_nsec = left % NS_PER_S;
		rc = ppoll(&pfd, 1, &ts, NULL);
		if (rc < 0 && errno != EINTR)
			die("ppoll: %s", strerror(errno));
		if (rc > 0)
			read_notifications(conn, run);
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"brokers", required_argument, NULL, 'b'},
		{"conninfo", required_argument, NULL, 'c'},
		{"rate", required_argument, NULL, 'r'},
		{"duration", required_argument, NULL, 'd'},
		{"warmup", required_argument, NULL, 'w'},
		{"drain", required_argument, NULL, 'D'},
		{"topic", required_argument, NULL, 't'},
		{"prefix", required_argument, NULL, 'p'},
		{"linger-ms", required_argument, NULL, 'l'},
		{"dump", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *brokers = NULL;
	const char *conninfo = NULL;
	const char *topic = "stock_live";
	const char *prefix = "L";
	double		rate = 1000;
	double		duration = 20;
	double		warmup = 2;
	double		drain = 5;
	int			linger_ms = 0;
	const char *dump_path = NULL;
	FILE	   *dump = NULL;
	char		errstr[512];
	char		linger[16];
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	PGconn	   *conn;
	PGresult   *res;
	Run			run;
	long		nwarm;
	long		i;
	long		sent_total = 0;
	long		lost = 0;
	long		nlat = 0;
	double	   *lat;
	double		warm_max = 0;
	int64_t		t0;
	int64_t		t_end_send;
	int			opt;
	size_t		k;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
	{
		switch (opt)
		{
			case 'b':
				brokers = optarg;
				break;
			case 'c':
				conninfo = optarg;
				break;
			case 'r':
				rate = parse_number(optarg, "--rate", 1, 100000);
				break;
			case 'd':
				duration = parse_number(optarg, "--duration", 0.1, 3600);
				break;
			case 'w':
				warmup = parse_number(optarg, "--warmup", 0, 600);
				break;
			case 'D':
				drain = parse_number(optarg, "--drain", 0, 600);
				break;
			case 't':
				topic = optarg;
				break;
			case 'p':
				prefix = optarg;
				break;
			case 'l':
				linger_ms = (int) parse_number(optarg, "--linger-ms", 0, 1000);
				break;
			case 'o':
				dump_path = optarg;
				break;
			case 'h':
				usage(stdout);
				return 0;
			default:
				usage(stderr);
				return 2;
		}
	}
	if (optind < argc || brokers == NULL || conninfo == NULL)
	{
		fprintf(stderr, "%s: --brokers and --conninfo are required; no other arguments\n",
				progname);
		usage(stderr);
		return 2;
	}
	for (k = 0; prefix[k]; k++)
		if (prefix[k] < 'A' || prefix[k] > 'Z')
			break;
	if (k == 0 || prefix[k] != '\0' || k > 8)
	{
		fprintf(stderr, "%s: --prefix must be 1 to 8 letters A-Z\n", progname);
		usage(stderr);
		return 2;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	nwarm = (long) llround(warmup * rate);
	run.total = nwarm + (long) llround(duration * rate);
	run.sent = calloc(run.total, sizeof(int64_t));
	run.seen = calloc(run.total, sizeof(int64_t));
	lat = calloc(run.total, sizeof(double));
	if (!run.sent || !run.seen || !lat)
		die("out of memory");
	run.nseen = 0;
	run.notifications = 0;
	run.foreign = 0;
	run.prefix = prefix;
	run.prefix_len = strlen(prefix);

	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK)
		die("cannot connect to PostgreSQL: %s", PQerrorMessage(conn));
	res = PQexec(conn, "LISTEN stockpipe_live");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		die("LISTEN failed: %s", PQerrorMessage(conn));
	PQclear(res);
	if (PQsetnonblocking(conn, 1) != 0)
		die("cannot make the connection non-blocking");

	conf = rd_kafka_conf_new();
	snprintf(linger, sizeof(linger), "%d", linger_ms);
	if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr)) ||
		rd_kafka_conf_set(conf, "linger.ms", linger, errstr, sizeof(errstr)) ||
		rd_kafka_conf_set(conf, "acks", "all", errstr, sizeof(errstr)) ||
		rd_kafka_conf_set(conf, "client.id", "stockpipe-bench-latency", errstr, sizeof(errstr)))
		die("librdkafka configuration: %s", errstr);
	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (rk == NULL)
		die("cannot create the Kafka producer: %s", errstr);

	/* Metadata first, so that the first quote does not pay for it. */
	{
		const struct rd_kafka_metadata *md;
		rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);

		if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
			die("cannot read the metadata of topic %s from %s", topic, brokers);
		rd_kafka_metadata_destroy(md);
		rd_kafka_topic_destroy(rkt);
	}

	t0 = now_ns();
	for (i = 0; i < run.total && !stop_requested; i++)
	{
		int64_t		due = t0 + (int64_t) ((double) i * (double) NS_PER_S / rate);
		char		symbol[32];
		char		payload[256];
		struct timespec wall;
		int			slen;
		int			plen;
		rd_kafka_resp_err_t err;

		wait_until(conn, &run, due);
		rd_kafka_poll(rk, 0);
		slen = snprintf(symbol, sizeof(symbol), "%s%ld", prefix, i);
		clock_gettime(CLOCK_REALTIME, &wall);
		plen = snprintf(payload, sizeof(payload),
						"{\"symbol\":\"%s\",\"ts\":%lld.%06ld,\"price\":%.2f,\"volume\":%ld,"
						"\"currency\":\"USD\",\"source\":\"bench-latency\"}",
						symbol, (long long) wall.tv_sec, wall.tv_nsec / 1000,
						100.0 + (double) (i % 1000) / 100.0, i);
		run.sent[i] = now_ns();
		err = rd_kafka_producev(rk,
								RD_KAFKA_V_TOPIC(topic),
								RD_KAFKA_V_KEY(symbol, (size_t) slen),
								RD_KAFKA_V_VALUE(payload, (size_t) plen),
								RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
								RD_KAFKA_V_END);
		if (err)
		{
			run.sent[i] = 0;
			delivery_errors++;
			snprintf(delivery_error_text, sizeof(delivery_error_text), "%s",
					 rd_kafka_err2str(err));
			continue;
		}
		sent_total++;
	}
	t_end_send = now_ns();

	/* Late notifications; stop early once every quote was seen. */
	{
		int64_t		deadline = t_end_send + (int64_t) (drain * NS_PER_S);

		while (run.nseen < sent_total && now_ns() < deadline && !stop_requested)
		{
			int64_t		step = now_ns() + 10 * 1000 * 1000LL;

			rd_kafka_poll(rk, 0);
			wait_until(conn, &run, step < deadline ? step : deadline);
		}
	}
	rd_kafka_flush(rk, 5000);

	if (dump_path != NULL && (dump = fopen(dump_path, "w")) == NULL)
		die("cannot write %s: %s", dump_path, strerror(errno));
	for (i = 0; i < run.total; i++)
	{
		double		ms;

		if (run.sent[i] == 0)
			continue;
		if (dump != NULL && i >= nwarm)
			fprintf(dump, "%.3f %.3f\n", (double) (run.sent[i] - t0) / 1e6,
					run.seen[i] ? (double) (run.seen[i] - run.sent[i]) / 1e6 : -1.0);
		if (run.seen[i] == 0)
		{
			if (i >= nwarm)
				lost++;
			continue;
		}
		ms = (double) (run.seen[i] - run.sent[i]) / 1e6;
		if (i < nwarm)
		{
			if (ms > warm_max)
				warm_max = ms;
			continue;
		}
		lat[nlat++] = ms;
	}
	if (dump != NULL)
		fclose(dump);
	qsort(lat, nlat, sizeof(double), cmp_double);

	{
		double		send_s = (double) (t_end_send - t0) / 1e9;
		double		sum = 0;

		for (i = 0; i < nlat; i++)
			sum += lat[i];
		printf("latency_sent=%ld\n", sent_total);
		printf("latency_warmup=%ld\n", nwarm);
		printf("latency_warmup_max_ms=%.2f\n", warm_max);
		printf("latency_send_rate=%.1f\n", send_s > 0 ? (double) sent_total / send_s : 0);
		printf("latency_count=%ld\n", nlat);
		printf("latency_lost=%ld\n", lost);
		printf("latency_delivery_errors=%ld\n", delivery_errors);
		printf("latency_notifications=%ld\n", run.notifications);
		printf("latency_foreign_symbols=%ld\n", run.foreign);
		if (nlat > 0)
		{
			printf("latency_mean_ms=%.2f\n", sum / (double) nlat);
			printf("latency_p50_ms=%.2f\n", percentile(lat, nlat, 50));
			printf("latency_p90_ms=%.2f\n", percentile(lat, nlat, 90));
			printf("latency_p99_ms=%.2f\n", percentile(lat, nlat, 99));
			printf("latency_p999_ms=%.2f\n", percentile(lat, nlat, 99.9));
			printf("latency_max_ms=%.2f\n", lat[nlat - 1]);
		}
		if (delivery_errors > 0)
			fprintf(stderr, "%s: %ld delivery error(s), last: %s\n", progname,
					delivery_errors, delivery_error_text);
	}

	rd_kafka_destroy(rk);
	PQfinish(conn);
	free(run.sent);
	free(run.seen);
	free(lat);
	return stop_requested ? 1 : 0;
}
