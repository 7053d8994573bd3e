/*
 * config.c -- parses the command line into a struct config.
 *
 * Pure apart from reading --symbols-file, the Kafka properties file and the
 * environment (STOCKPIPE_YAHOO_URL, STOCKPIPE_KAFKA_*), and selecting the
 * time zone (TZ).  Errors come back as a message (main prints it with the
 * usage and exits 2), so the whole flag surface is unit tested.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "market.h"
#include "session.h"

extern char **environ;

#define DEFAULT_USER_AGENT \
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) " \
	"Chrome/124.0.0.0 Safari/537.36"
#define DEFAULT_YAHOO_URL "https://query2.finance.yahoo.com"

void
config_usage(FILE *out)
{
	fprintf(out,
			"Usage: stockpipe-producer [--symbols LIST | --symbols-file FILE] [OPTION]...\n"
			"Publishes stock quotes (topic stock_live) and daily bars (stock_daily) to Kafka.\n"
			"\n"
			"Source:\n"
			"  --source yahoo|sim|replay:FILE[,FILE...]  where quotes come from (default yahoo)\n"
			"  --symbols LIST           comma-separated symbols, e.g. AAPL,MSFT,^GSPC\n"
			"  --symbols-file FILE      symbols, one or more per line, # comments\n"
			"  --yahoo-url URL          Yahoo base URL (env STOCKPIPE_YAHOO_URL;\n"
			"                           default " DEFAULT_YAHOO_URL ")\n"
			"  --interval DUR           live polling period (default 1s)\n"
			"  --schedule yahoo|fixed   yahoo: each symbol in its own exchange's trading\n"
			"                           periods, as Yahoo gives them; fixed: every symbol\n"
			"                           in --market-hours (default yahoo)\n"
			"  --sessions LIST          periods polled every --interval: pre, regular, post\n"
			"                           (default regular)\n"
			"  --idle-interval DUR      outside them, poll every DUR (default 5m)\n"
			"  --daily-at HH:MM         daily bars fetch time, market time (default 16:45;\n"
			"                           yahoo schedule: 45 min after each symbol's close)\n"
			"  --no-daily               never fetch daily bars\n"
			"  --market-hours HH:MM-HH:MM  live polling window (default 09:00-16:30; yahoo\n"
			"                           schedule: for symbols whose periods are unknown)\n"
			"  --timezone TZ            market time zone (default America/New_York)\n"
			"  --always                 ignore market hours and holidays\n"
			"  --once                   one cycle (daily bars + one live poll), then exit\n"
			"  --connect-timeout DUR    HTTP connect timeout (default 5s)\n"
			"  --timeout DUR            HTTP total timeout per request (default 10s)\n"
			"  --user-agent STRING      HTTP User-Agent (default: a desktop browser's)\n"
			"  --max-response-bytes N   refuse an HTTP response whose body (decompressed) is\n"
			"                           larger, from 4096 to 268435456 (default 2097152 = 2 MiB)\n"
			"  --backoff-max DUR        cap of the 429/5xx back-off (default 60s)\n"
			"  --speed X                replay speed, times real time; 0 = no pauses (default 1)\n"
			"  --replay-shift auto|none|DURATION|YYYY-MM-DD  replay: move the recorded dates;\n"
			"                           auto = sessions onto the current or latest session,\n"
			"                           daily bars onto the trading days before (default none)\n"
			"  --rate N                 sim: quotes per second in total; 0 = unlimited (default 10)\n"
			"  --count N                sim/replay: stop after N messages (default 0 = no limit)\n"
			"  --seed N                 sim: random seed (default: from the clock)\n"
			"Kafka:\n"
			"  --brokers LIST           bootstrap servers (default localhost:9092)\n"
			"  --live-topic NAME        topic for quotes (default stock_live)\n"
			"  --daily-topic NAME       topic for daily bars (default stock_daily)\n"
			"  --kafka-config FILE      librdkafka properties file: key=value lines, # comments\n"
			"                           (env STOCKPIPE_KAFKA_CONFIG); for secrets, chmod 600\n"
			"  -X KEY=VALUE             any librdkafka property (repeatable), e.g.\n"
			"                           -X security.protocol=SASL_SSL; visible in ps: no secrets\n"
			"  env STOCKPIPE_KAFKA_NAME any property, NAME upper-cased with _ for .\n"
			"                           (STOCKPIPE_KAFKA_SASL_PASSWORD sets sasl.password)\n"
			"                           Precedence: file < environment < -X\n"
			"  --flush-timeout DUR      wait at shutdown for deliveries (default 10s)\n"
			"Other:\n"
			"  --stats-interval DUR     one-line stats report period, 0 = off (default 60s)\n"
			"  --log-level LEVEL        error, warn, info or debug (default info)\n"
			"  --help, --version\n"
			"DUR is a number with an optional unit ms, s, m or h (seconds if none).\n");
}

/* "1", "1.5", "500ms", "2s", "5m", "1h" -> milliseconds; 0 or -1. */
int
config_parse_duration_ms(const char *s, int64_t *ms)
{
	char	   *end;
	double		v;
	double		mult = 1000.0;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno != 0 || !isfinite(v) || v < 0)
		return -1;
	if (*end == '\0' || strcmp(end, "s") == 0)
		mult = 1000.0;
	else if (strcmp(end, "ms") == 0)
		mult = 1.0;
	else if (strcmp(end, "m") == 0)
		mult = 60000.0;
	else if (strcmp(end, "h") == 0)
		mult = 3600000.0;
	else
		return -1;
	v *= mult;
	if (v > 1e12)
		return -1;
	*ms = (int64_t) llround(v);
	return 0;
}

static int
parse_number(const char *s, double min, double max, double *out)
{
	char	   *end;
	double		v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(v) || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static void
config_defaults(struct config *cfg)
{
	const char *env = getenv("STOCKPIPE_YAHOO_URL");

	memset(cfg, 0, sizeof(*cfg));
	cfg->source = CONFIG_SOURCE_YAHOO;
	cfg->interval_ms = 1000;
	cfg->schedule = CONFIG_SCHEDULE_YAHOO;
	cfg->sessions = SESSION_DEFAULT;
	cfg->idle_interval_ms = 300000;
	cfg->daily_min = 16 * 60 + 45;
	cfg->open_min = 9 * 60;
	cfg->close_min = 16 * 60 + 30;
	cfg->timezone = "America/New_York";
	cfg->yahoo_url = (env && *env) ? env : DEFAULT_YAHOO_URL;
	cfg->connect_timeout_ms = 5000;
	cfg->timeout_ms = 10000;
	cfg->user_agent = DEFAULT_USER_AGENT;
	cfg->max_response_bytes = CONFIG_RESPONSE_MAX_DEFAULT;
	cfg->backoff_max_ms = 60000;
	cfg->brokers = "localhost:9092";
	cfg->live_topic = "stock_live";
	cfg->daily_topic = "stock_daily";
	cfg->flush_timeout_ms = 10000;
	cfg->speed = 1.0;
	cfg->rate = 10.0;
	cfg->stats_interval_ms = 60000;
	cfg->log_level = LOG_INFO;
}

enum
{
	OPT_SOURCE = 256, OPT_SYMBOLS, OPT_SYMBOLS_FILE, OPT_YAHOO_URL, OPT_INTERVAL,
	OPT_DAILY_AT, OPT_NO_DAILY, OPT_MARKET_HOURS, OPT_TIMEZONE, OPT_ALWAYS,
	OPT_ONCE, OPT_CONNECT_TIMEOUT, OPT_TIMEOUT, OPT_USER_AGENT, OPT_BACKOFF_MAX,
	OPT_SPEED, OPT_RATE, OPT_COUNT, OPT_SEED, OPT_BROKERS, OPT_LIVE_TOPIC,
	OPT_DAILY_TOPIC, OPT_FLUSH_TIMEOUT, OPT_STATS_INTERVAL, OPT_LOG_LEVEL,
	OPT_HELP, OPT_VERSION, OPT_MAX_RESPONSE_BYTES, OPT_KAFKA_CONFIG, OPT_REPLAY_SHIFT,
	OPT_SCHEDULE, OPT_SESSIONS, OPT_IDLE_INTERVAL
};

static const struct option long_options[] = {
	{"source", required_argument, NULL, OPT_SOURCE},
	{"symbols", required_argument, NULL, OPT_SYMBOLS},
	{"symbols-file", required_argument, NULL, OPT_SYMBOLS_FILE},
	{"yahoo-url", required_argument, NULL, OPT_YAHOO_URL},
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{"schedule", required_argument, NULL, OPT_SCHEDULE},
	{"sessions", required_argument, NULL, OPT_SESSIONS},
	{"idle-interval", required_argument, NULL, OPT_IDLE_INTERVAL},
	{"daily-at", required_argument, NULL, OPT_DAILY_AT},
	{"no-daily", no_argument, NULL, OPT_NO_DAILY},
	{"market-hours", required_argument, NULL, OPT_MARKET_HOURS},
	{"timezone", required_argument, NULL, OPT_TIMEZONE},
	{"always", no_argument, NULL, OPT_ALWAYS},
	{"once", no_argument, NULL, OPT_ONCE},
	{"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"user-agent", required_argument, NULL, OPT_USER_AGENT},
	{"max-response-bytes", required_argument, NULL, OPT_MAX_RESPONSE_BYTES},
	{"backoff-max", required_argument, NULL, OPT_BACKOFF_MAX},
	{"speed", required_argument, NULL, OPT_SPEED},
	{"replay-shift", required_argument, NULL, OPT_REPLAY_SHIFT},
	{"rate", required_argument, NULL, OPT_RATE},
	{"count", required_argument, NULL, OPT_COUNT},
	{"seed", required_argument, NULL, OPT_SEED},
	{"brokers", required_argument, NULL, OPT_BROKERS},
	{"live-topic", required_argument, NULL, OPT_LIVE_TOPIC},
	{"daily-topic", required_argument, NULL, OPT_DAILY_TOPIC},
	{"kafka-config", required_argument, NULL, OPT_KAFKA_CONFIG},
	{"flush-timeout", required_argument, NULL, OPT_FLUSH_TIMEOUT},
	{"stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
	{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0}
};

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); goto fail; } while (0)

/* How the value of a flag is read, and what it is stored as. */
enum value_kind
{
	VALUE_DURATION,				/* config_parse_duration_ms(), an int64_t of ms */
	VALUE_NUMBER,				/* any number, a double */
	VALUE_WHOLE,				/* a whole number, an int64_t */
	VALUE_WHOLE_U64				/* a whole number, a uint64_t */
};

_Static_assert(CONFIG_RESPONSE_MAX_MIN == 4096 && CONFIG_RESPONSE_MAX_MAX == 268435456,
			   "update --max-response-bytes in value_flags[]");

/* The flags that take a duration or a number: the field each sets and its range. */
#define FIELD(member) offsetof(struct config, member)
static const struct value_flag
{
	int			opt;
	const char *name;
	enum value_kind kind;
	double		min;			/* in ms for a duration */
	double		max;
	size_t		field;			/* FIELD(): offset in struct config */
	const char *expected;		/* for a number: what the error says it must be */
}			value_flags[] = {
	{OPT_INTERVAL, "interval", VALUE_DURATION, 10, 86400000, FIELD(interval_ms), NULL},
	{OPT_IDLE_INTERVAL, "idle-interval", VALUE_DURATION, 10, 86400000, FIELD(idle_interval_ms), NULL},
	{OPT_CONNECT_TIMEOUT, "connect-timeout", VALUE_DURATION, 1, 600000, FIELD(connect_timeout_ms), NULL},
	{OPT_TIMEOUT, "timeout", VALUE_DURATION, 1, 600000, FIELD(timeout_ms), NULL},
	{OPT_BACKOFF_MAX, "backoff-max", VALUE_DURATION, 1000, 86400000, FIELD(backoff_max_ms), NULL},
	{OPT_FLUSH_TIMEOUT, "flush-timeout", VALUE_DURATION, 0, 3600000, FIELD(flush_timeout_ms), NULL},
	{OPT_STATS_INTERVAL, "stats-interval", VALUE_DURATION, 0, 86400000, FIELD(stats_interval_ms), NULL},
	{OPT_MAX_RESPONSE_BYTES, "max-response-bytes", VALUE_WHOLE, CONFIG_RESPONSE_MAX_MIN,
		CONFIG_RESPONSE_MAX_MAX, FIELD(max_response_bytes),
	"a whole number of bytes from 4096 to 268435456"},
	{OPT_SPEED, "speed", VALUE_NUMBER, 0, 1e6, FIELD(speed), "a number from 0 to 1000000"},
	{OPT_RATE, "rate", VALUE_NUMBER, 0, 1e7, FIELD(rate), "a number of quotes/s from 0 to 10000000"},
	{OPT_COUNT, "count", VALUE_WHOLE, 0, 1e15, FIELD(count), "a whole number >= 0"},
	{OPT_SEED, "seed", VALUE_WHOLE_U64, 0, 1.8e19, FIELD(seed), "a whole number >= 0"},
};
#undef FIELD

/* F's value ARG into its field of CFG; 0, or -1 with ERR if ARG is not one. */
static int
set_value(struct config *cfg, const struct value_flag *f, const char *arg, char *err, size_t errlen)
{
	char	   *to = (char *) cfg + f->field;
	int64_t		ms;
	double		d;

	if (f->kind == VALUE_DURATION)
	{
		if (config_parse_duration_ms(arg, &ms) != 0 || ms < f->min || ms > f->max)
		{
			snprintf(err, errlen, "--%s: invalid duration \"%s\" (from %lldms to %llds)",
					 f->name, arg, (long long) f->min, (long long) (f->max / 1000));
			return -1;
		}
		*(int64_t *) to = ms;
		return 0;
	}
	if (parse_number(arg, f->min, f->max, &d) != 0 || (f->kind != VALUE_NUMBER && d != floor(d)))
	{
		snprintf(err, errlen, "--%s: expected %s, not \"%s\"", f->name, f->expected, arg);
		return -1;
	}
	if (f->kind == VALUE_NUMBER)
		*(double *) to = d;
	else if (f->kind == VALUE_WHOLE)
		*(int64_t *) to = (int64_t) d;
	else
		*(uint64_t *) to = (uint64_t) d;
	return 0;
}

/* Sets a value_flags[] flag: 0, -1 with ERR for a bad value, 1 if OPT is not one. */
static int
value_flag(struct config *cfg, int opt, const char *arg, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(value_flags) / sizeof(value_flags[0]); i++)
		if (value_flags[i].opt == opt)
			return set_value(cfg, &value_flags[i], arg, err, errlen);
	return 1;
}

/*
 * --replay-shift: "none", "auto", a trading day YYYY-MM-DD (the session to
 * replay the recorded one as) or a duration (every time that much later).
 */
static int
parse_replay_shift(struct replay_shift *rs, const char *s, char *err, size_t errlen)
{
	int32_t		day;
	int64_t		ms;
	int			y, m, d;

	memset(rs, 0, sizeof(*rs));
	if (strcmp(s, "none") == 0)
		rs->kind = REPLAY_SHIFT_NONE;
	else if (strcmp(s, "auto") == 0)
		rs->kind = REPLAY_SHIFT_AUTO;
	else if (strlen(s) == 10 && sp_parse_date(s, &day))
	{
		sp_civil_from_days(day, &y, &m, &d);
		if (!market_is_trading_day(y, m, d))
		{
			snprintf(err, errlen, "--replay-shift: %s is not a trading day", s);
			return -1;
		}
		rs->kind = REPLAY_SHIFT_ONTO;
		rs->onto = day;
	}
	else if (config_parse_duration_ms(s, &ms) == 0)
	{
		rs->kind = REPLAY_SHIFT_BY;
		rs->by_us = ms * 1000;
	}
	else
	{
		snprintf(err, errlen, "--replay-shift: expected auto, none, a duration (e.g. 36h) or a "
				 "trading day YYYY-MM-DD, not \"%s\"", s);
		return -1;
	}
	return 0;
}

/*
 * Builds cfg->kafka from its three sources, lowest precedence first: the
 * properties file (FILE_FLAG, else STOCKPIPE_KAFKA_CONFIG), the environment
 * and the -X flags (already in cfg->kafka, moved last).
 */
static int
build_kafka_conf(struct config *cfg, const char *file_flag, char *err, size_t errlen)
{
	struct kconf merged = {NULL, 0};
	const char *env_file = getenv(KCONF_ENV_FILE);

	cfg->kafka_config = file_flag ? file_flag : (env_file && *env_file) ? env_file : NULL;
	if ((cfg->kafka_config &&
		 kconf_read_file(&merged, cfg->kafka_config, cfg->kafka_config_warning,
						 sizeof(cfg->kafka_config_warning), err, errlen) != 0) ||
		kconf_from_env(&merged, environ, err, errlen) != 0 ||
		kconf_merge(&merged, &cfg->kafka, err, errlen) != 0)
	{
		kconf_free(&merged);
		return -1;
	}
	cfg->kafka = merged;
	return 0;
}

enum config_result
config_parse(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	const char *symbols_file = NULL;
	const char *kafka_config = NULL;
	int			c;

	config_defaults(cfg);
	err[0] = '\0';
	optind = 0;					/* full getopt reset: parse may run twice */
	opterr = 0;					/* our own messages, not getopt's */
	while ((c = getopt_long(argc, argv, ":X:", long_options, NULL)) != -1)
	{
		int			rc = value_flag(cfg, c, optarg, err, errlen);

		if (rc < 0)
			goto fail;
		if (rc == 0)
			continue;
		switch (c)
		{
			case OPT_SOURCE:
				if (strcmp(optarg, "yahoo") == 0)
					cfg->source = CONFIG_SOURCE_YAHOO;
				else if (strcmp(optarg, "sim") == 0)
					cfg->source = CONFIG_SOURCE_SIM;
				else if (strncmp(optarg, "replay:", 7) == 0 && optarg[7] != '\0')
				{
					cfg->source = CONFIG_SOURCE_REPLAY;
					cfg->replay_file = optarg + 7;
				}
				else
					FAIL("--source: expected yahoo, sim or replay:FILE[,FILE...], not \"%s\"", optarg);
				break;
			case OPT_REPLAY_SHIFT:
				if (parse_replay_shift(&cfg->replay_shift, optarg, err, errlen) != 0)
					goto fail;
				break;
			case OPT_SYMBOLS:
				if (symbols_add_list(&cfg->symbols, optarg, err, errlen) != 0)
					goto fail;
				break;
			case OPT_SYMBOLS_FILE:
				symbols_file = optarg;
				break;
			case OPT_YAHOO_URL:
				if (strncmp(optarg, "http://", 7) != 0 && strncmp(optarg, "https://", 8) != 0)
					FAIL("--yahoo-url: expected an http:// or https:// URL, not \"%s\"", optarg);
				cfg->yahoo_url = optarg;
				break;
			case OPT_DAILY_AT:
				if (market_parse_hhmm(optarg, &cfg->daily_min) != 0)
					FAIL("--daily-at: expected HH:MM, not \"%s\"", optarg);
				break;
			case OPT_NO_DAILY:
				cfg->no_daily = 1;
				break;
			case OPT_MARKET_HOURS:
				if (market_parse_hours(optarg, &cfg->open_min, &cfg->close_min) != 0)
					FAIL("--market-hours: expected HH:MM-HH:MM with open before close, not \"%s\"",
						 optarg);
				break;
			case OPT_TIMEZONE:
				cfg->timezone = optarg;
				break;
			case OPT_ALWAYS:
				cfg->always = 1;
				break;
			case OPT_SCHEDULE:
				if (strcmp(optarg, "yahoo") == 0)
					cfg->schedule = CONFIG_SCHEDULE_YAHOO;
				else if (strcmp(optarg, "fixed") == 0)
					cfg->schedule = CONFIG_SCHEDULE_FIXED;
				else
					FAIL("--schedule: expected yahoo or fixed, not \"%s\"", optarg);
				break;
			case OPT_SESSIONS:
				if (session_parse(optarg, &cfg->sessions) != 0)
					FAIL("--sessions: expected pre, regular and/or post, comma-separated, not \"%s\"",
						 optarg);
				break;
			case OPT_ONCE:
				cfg->once = 1;
				break;
			case OPT_USER_AGENT:
				cfg->user_agent = optarg;
				break;
			case OPT_BROKERS:
				if (optarg[0] == '\0')
					FAIL("--brokers: empty broker list");
				cfg->brokers = optarg;
				break;
			case OPT_LIVE_TOPIC:
			case OPT_DAILY_TOPIC:
				if (optarg[0] == '\0' || strlen(optarg) > 249)
					FAIL("--%s: invalid topic name \"%s\"",
						 c == OPT_LIVE_TOPIC ? "live-topic" : "daily-topic", optarg);
				if (c == OPT_LIVE_TOPIC)
					cfg->live_topic = optarg;
				else
					cfg->daily_topic = optarg;
				break;
			case 'X':
				if (kconf_parse_flag(&cfg->kafka, optarg, err, errlen) != 0)
					goto fail;
				break;
			case OPT_KAFKA_CONFIG:
				if (optarg[0] == '\0')
					FAIL("--kafka-config: empty file name");
				kafka_config = optarg;
				break;
			case OPT_LOG_LEVEL:
				if (log_level_parse(optarg, &cfg->log_level) != 0)
					FAIL("--log-level: expected error, warn, info or debug, not \"%s\"", optarg);
				break;
			case OPT_HELP:
				return CONFIG_HELP;
			case OPT_VERSION:
				return CONFIG_VERSION;
			case ':':
				FAIL("option \"%s\" needs a value", argv[optind - 1]);
			default:
				if (optopt != 0 && optopt < 256)
					FAIL("unknown option \"-%c\"", optopt);
				FAIL("unknown option \"%s\"", argv[optind - 1]);
		}
	}
	if (optind < argc)
		FAIL("unexpected argument \"%s\"", argv[optind]);
	if (symbols_file && symbols_load_file(&cfg->symbols, symbols_file, err, errlen) != 0)
		goto fail;
	if (build_kafka_conf(cfg, kafka_config, err, errlen) != 0)
		goto fail;
	if (cfg->source != CONFIG_SOURCE_REPLAY && cfg->symbols.count == 0)
		FAIL("no symbols: use --symbols or --symbols-file");
	if (market_set_timezone(cfg->timezone) != 0)
		FAIL("--timezone: unknown time zone \"%s\"", cfg->timezone);
	return CONFIG_OK;

fail:
	return CONFIG_ERROR;
}

void
config_free(struct config *cfg)
{
	symbols_free(&cfg->symbols);
	kconf_free(&cfg->kafka);
}
