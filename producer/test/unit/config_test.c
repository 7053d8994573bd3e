/*
 * config_test.c -- flag parsing: defaults, every flag, environment,
 * symbols files, and every kind of bad input (each must be an error with a
 * message; main turns it into usage + exit 2, tested end-to-end in run.sh).
 */
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "session.h"
#include "tap.h"

/* config_parse() of "stockpipe-producer" and ARGS (NULL-terminated). */
static enum config_result
parse_list(struct config *cfg, char *err, const char *const *args)
{
	char	   *argv[64];
	int			argc = 0;

	argv[argc++] = "stockpipe-producer";
	for (; *args != NULL && argc < 63; args++)
		argv[argc++] = (char *) *args;
	argv[argc] = NULL;
	return config_parse(cfg, argc, argv, err, 512);
}

/* parse_list() of the arguments after ERR, up to a NULL. */
static enum config_result
parse(struct config *cfg, char *err, const char *a0, ...)
{
	const char *args[64];
	int			n = 0;
	va_list		ap;

	va_start(ap, a0);
	for (const char *a = a0; a != NULL && n < 63; a = va_arg(ap, const char *))
		args[n++] = a;
	va_end(ap);
	args[n] = NULL;
	return parse_list(cfg, err, args);
}

#define PARSE(...) parse(&cfg, err, __VA_ARGS__, (const char *) NULL)

static void
bad(const char *name, enum config_result r, const char *err, const char *needle)
{
	char		detail[700];

	snprintf(detail, sizeof(detail), "result %d, message \"%s\", expected to mention \"%s\"",
			 r, err, needle);
	if (!check(r == CONFIG_ERROR && strstr(err, needle) != NULL, "%s", name))
		diag("%s", detail);
}

/* Command lines that must be refused, and what the message must mention. */
static const struct
{
	const char *args[8];		/* NULL-terminated */
	const char *name;
	const char *needle;
}			bad_cases[] = {
	{{"--symbols", "AAPL", "--bogus"},
	"bad: unknown long option", "unknown option \"--bogus\""},
	{{"--symbols", "AAPL", "-q"}, "bad: unknown short option", "unknown option \"-q\""},
	{{"--symbols"}, "bad: missing value", "needs a value"},
	{{"--symbols", "AAPL", "extra"}, "bad: stray argument", "unexpected argument \"extra\""},
	{{"--interval", "1"}, "bad: no symbols", "no symbols"},
	{{"--symbols", "AAPL$"}, "bad: invalid symbol", "invalid symbol \"AAPL$\""},
	{{"--symbols", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}, "bad: symbol too long", "longer than 20"},
	{{"--symbols", "AAPL", "--interval", "fast"},
	"bad: interval not a duration", "--interval: invalid duration"},
	{{"--symbols", "AAPL", "--interval", "1ms"}, "bad: interval below 10ms", "--interval"},
	{{"--symbols", "AAPL", "--interval", "-1"}, "bad: negative interval", "--interval"},
	{{"--symbols", "AAPL", "--daily-at", "25:00"}, "bad: daily-at", "--daily-at"},
	{{"--symbols", "AAPL", "--market-hours", "17:00-09:00"},
	"bad: market hours reversed", "--market-hours"},
	{{"--symbols", "AAPL", "--timezone", "Nowhere/City"},
	"bad: unknown time zone", "unknown time zone"},
	{{"--symbols", "AAPL", "--yahoo-url", "ftp://x"}, "bad: yahoo-url scheme", "--yahoo-url"},
	{{"--symbols", "AAPL", "--source", "bloomberg"}, "bad: source", "--source"},
	{{"--source", "replay:"}, "bad: replay without file", "--source"},
	{{"--symbols", "AAPL", "-X", "novalue"}, "bad: -X without =", "KEY=VALUE"},
	{{"--symbols", "AAPL", "-X", "=v"}, "bad: -X without key", "KEY=VALUE"},
	{{"--symbols", "AAPL", "--rate", "-5"}, "bad: negative rate", "--rate"},
	{{"--symbols", "AAPL", "--count", "1.5"}, "bad: fractional count", "--count"},
	{{"--symbols", "AAPL", "--speed", "x"}, "bad: speed", "--speed"},
	{{"--source", "replay:x", "--replay-shift", "later"}, "bad: replay shift", "--replay-shift: expected"},
	{{"--source", "replay:x", "--replay-shift", "-1h"}, "bad: negative replay shift", "--replay-shift"},
	{{"--source", "replay:x", "--replay-shift", "2026-11-28"},
	"bad: replay shift onto a Saturday", "2026-11-28 is not a trading day"},
	{{"--source", "replay:x", "--replay-shift", "2026-11-26"},
	"bad: replay shift onto Thanksgiving", "not a trading day"},
	{{"--source", "replay:x", "--replay-shift", "2026-02-30"}, "bad: replay shift onto 30 February",
	"--replay-shift: expected"},
	{{"--symbols", "AAPL", "--log-level", "loud"}, "bad: log level", "--log-level"},
	{{"--symbols", "AAPL", "--brokers", ""}, "bad: empty brokers", "--brokers"},
	{{"--symbols-file", "/nonexistent/file"},
	"bad: missing symbols file", "cannot open symbols file"},
	{{"--symbols", "AAPL", "--kafka-config", "/nonexistent/kafka.properties"},
	"bad: missing properties file", "cannot read Kafka properties file"},
	{{"--symbols", "AAPL", "--kafka-config", ""}, "bad: empty --kafka-config", "--kafka-config"},
	{{"--symbols", "AAPL", "--max-response-bytes", "4095"},
	"bad: max response below 4 KiB", "--max-response-bytes"},
	{{"--symbols", "AAPL", "--max-response-bytes", "268435457"},
	"bad: max response above 256 MiB", "--max-response-bytes"},
	{{"--symbols", "AAPL", "--max-response-bytes", "2MiB"},
	"bad: max response with a unit", "--max-response-bytes"},
	{{"--symbols", "AAPL", "--max-response-bytes", "65536.5"},
	"bad: fractional max response", "--max-response-bytes"},
};

/* Removes every STOCKPIPE_KAFKA_* variable, so that the caller's own do not leak in. */
static void
clear_kafka_env(void)
{
	extern char **environ;
	char		name[256];

	for (size_t i = 0; environ[i] != NULL;)
	{
		size_t		n = strcspn(environ[i], "=");

		if (strncmp(environ[i], "STOCKPIPE_KAFKA_", 16) == 0 && n < sizeof(name))
		{
			memcpy(name, environ[i], n);
			name[n] = '\0';
			unsetenv(name);
			i = 0;				/* environ changed under us: start again */
		}
		else
			i++;
	}
}

/* Writes TEXT to a new temporary file with MODE; its name goes to PATH. */
static void
write_temp(char *path, size_t size, const char *text, mode_t mode)
{
	int			fd;

	snprintf(path, size, "/tmp/stockpipe-kafka-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) < 0 || fchmod(fd, mode) != 0)
		perror(path);
	if (fd >= 0)
		close(fd);
}

/* The value and origin of KEY in the parsed config, as "value @ origin". */
static const char *
prop(const struct config *cfg, const char *key)
{
	static char buf[1024];
	const struct kconf_prop *p = kconf_find(&cfg->kafka, key);

	if (p == NULL)
		return "(absent)";
	snprintf(buf, sizeof(buf), "%s @ %s", p->value, p->origin);
	return buf;
}

/*
 * --kafka-config, STOCKPIPE_KAFKA_CONFIG and STOCKPIPE_KAFKA_<NAME> through
 * config_parse: precedence file < environment < -X, warnings and errors.
 */
static void
test_kafka_sources(void)
{
	struct config cfg;
	char		err[512];
	char		path[64];
	char		path2[64];
	char		want[256];
	enum config_result r;

	clear_kafka_env();
	write_temp(path, sizeof(path),
			   "# Kafka\nclient.id = from-file\nlinger.ms=7\nsasl.password=file-pw\n", 0600);
	write_temp(path2, sizeof(path2), "client.id=from-env-file\n", 0644);

	r = PARSE("--symbols", "AAPL", "--kafka-config", path);
	check_int(r, CONFIG_OK, "kafka config: --kafka-config parses");
	check_int((long long) cfg.kafka.count, 3, "kafka config: three properties from the file");
	snprintf(want, sizeof(want), "from-file @ %s:2", path);
	check_str(prop(&cfg, "client.id"), want, "kafka config: value trimmed, origin FILE:LINE");
	check_str(cfg.kafka_config_warning, "", "kafka config: mode 600, no warning");
	config_free(&cfg);

	setenv("STOCKPIPE_KAFKA_CLIENT_ID", "from-env", 1);
	setenv("STOCKPIPE_KAFKA_SASL_PASSWORD", "env-pw", 1);
	setenv("STOCKPIPE_KAFKA_BROKERS", "ignored:9092", 1);	/* the PostgreSQL image's */
	setenv("STOCKPIPE_KAFKA_SECURITY_PROTOCOL", "", 1);	/* empty = not set */
	r = PARSE("--symbols", "AAPL", "--kafka-config", path, "-X", "client.id=from-flag");
	check_int(r, CONFIG_OK, "kafka precedence: parses");
	check_str(prop(&cfg, "client.id"), "from-flag @ -X", "kafka precedence: -X beats env and file");
	check_str(prop(&cfg, "sasl.password"), "env-pw @ environment STOCKPIPE_KAFKA_SASL_PASSWORD",
			  "kafka precedence: env beats file");
	snprintf(want, sizeof(want), "7 @ %s:3", path);
	check_str(prop(&cfg, "linger.ms"), want, "kafka precedence: file alone");
	check_str(prop(&cfg, "brokers"), "(absent)", "kafka env: STOCKPIPE_KAFKA_BROKERS is not a property");
	check_str(prop(&cfg, "security.protocol"), "(absent)", "kafka env: empty variable ignored");
	check_str(cfg.kafka.count == 3 ? cfg.kafka.items[2].key : "", "client.id",
			  "kafka precedence: the winner is applied last");
	config_free(&cfg);

	setenv("STOCKPIPE_KAFKA_CONFIG", path2, 1);
	r = PARSE("--symbols", "AAPL");
	snprintf(want, sizeof(want), "from-env @ environment STOCKPIPE_KAFKA_CLIENT_ID");
	CHECK(r == CONFIG_OK && cfg.kafka_config && strcmp(cfg.kafka_config, path2) == 0,
		  "kafka config: STOCKPIPE_KAFKA_CONFIG names the file");
	check_str(prop(&cfg, "client.id"), want, "kafka config: env property beats the env-named file");
	CHECK(strstr(cfg.kafka_config_warning, path2) && strstr(cfg.kafka_config_warning, "chmod 600"),
		  "kafka config: mode 644 is accepted with a warning");
	config_free(&cfg);
	unsetenv("STOCKPIPE_KAFKA_CLIENT_ID");
	unsetenv("STOCKPIPE_KAFKA_SASL_PASSWORD");
	r = PARSE("--symbols", "AAPL", "--kafka-config", path);
	check_str(cfg.kafka_config, path, "kafka config: --kafka-config beats STOCKPIPE_KAFKA_CONFIG");
	snprintf(want, sizeof(want), "from-file @ %s:2", path);
	check_str(prop(&cfg, "client.id"), want, "kafka config: only the flag's file is read");
	config_free(&cfg);
	unsetenv("STOCKPIPE_KAFKA_CONFIG");

	setenv("STOCKPIPE_KAFKA_sasl_password", "x", 1);
	r = PARSE("--symbols", "AAPL");
	bad("bad: STOCKPIPE_KAFKA_ name not upper case", r, err, "STOCKPIPE_KAFKA_sasl_password");
	config_free(&cfg);
	unsetenv("STOCKPIPE_KAFKA_sasl_password");

	{
		FILE	   *f = fopen(path, "w");

		fputs("client.id=x\n\n  hunter2-secret-line\n", f);
		fclose(f);
	}
	r = PARSE("--symbols", "AAPL", "--kafka-config", path);
	snprintf(want, sizeof(want), "%s:3: expected key=value", path);
	bad("bad: properties file line without = names file and line", r, err, want);
	CHECK(strstr(err, "hunter2") == NULL, "bad: properties file error does not echo the line");
	config_free(&cfg);
	r = PARSE("--symbols", "AAPL", "-X", "sasl.password");
	CHECK(r == CONFIG_ERROR && strstr(err, "KEY=VALUE") && !strstr(err, "sasl.password"),
		  "bad: -X without = does not echo the argument");
	config_free(&cfg);
	unlink(path);
	unlink(path2);
	unsetenv("STOCKPIPE_KAFKA_BROKERS");
	unsetenv("STOCKPIPE_KAFKA_SECURITY_PROTOCOL");
}

static void
test_max_response_bytes(void)
{
	struct config cfg;
	char		err[512];
	enum config_result r;

	r = PARSE("--symbols", "AAPL");
	check_int(cfg.max_response_bytes, 2 * 1024 * 1024, "defaults: max response 2 MiB");
	config_free(&cfg);
	r = PARSE("--symbols", "AAPL", "--max-response-bytes", "4096");
	CHECK(r == CONFIG_OK && cfg.max_response_bytes == 4096, "--max-response-bytes 4096 (minimum)");
	config_free(&cfg);
	r = PARSE("--symbols", "AAPL", "--max-response-bytes", "268435456");
	CHECK(r == CONFIG_OK && cfg.max_response_bytes == 268435456,
		  "--max-response-bytes 268435456 (maximum)");
	config_free(&cfg);
}

/* --schedule, --sessions, --idle-interval (issue 12: every exchange's own hours). */
static void
test_schedule_flags(void)
{
	struct config cfg;
	char		err[512];
	enum config_result r;

	r = PARSE("--symbols", "AAPL");
	CHECK(r == CONFIG_OK && cfg.schedule == CONFIG_SCHEDULE_YAHOO && cfg.sessions == SESSION_REGULAR &&
		  cfg.idle_interval_ms == 300000,
		  "defaults: each symbol's own regular session, idle polls every 5 min");
	config_free(&cfg);
	r = PARSE("--symbols", "AAPL", "--schedule", "fixed", "--sessions", "pre,regular,post",
			  "--idle-interval", "90s");
	CHECK(r == CONFIG_OK && cfg.schedule == CONFIG_SCHEDULE_FIXED &&
		  cfg.sessions == (SESSION_PRE | SESSION_REGULAR | SESSION_POST) &&
		  cfg.idle_interval_ms == 90000, "--schedule fixed --sessions pre,regular,post --idle-interval 90s");
	config_free(&cfg);
	r = PARSE("--symbols", "AAPL", "--schedule", "yahoo", "--sessions", "post");
	CHECK(r == CONFIG_OK && cfg.schedule == CONFIG_SCHEDULE_YAHOO && cfg.sessions == SESSION_POST,
		  "--schedule yahoo --sessions post");
	config_free(&cfg);
	r = PARSE("--symbols", "AAPL", "--schedule", "nyse");
	bad("bad: --schedule nyse", r, err, "--schedule: expected yahoo or fixed, not \"nyse\"");
	config_free(&cfg);
	r = PARSE("--symbols", "AAPL", "--sessions", "regular,extended");
	bad("bad: --sessions with an unknown period", r, err, "--sessions: expected pre, regular");
	config_free(&cfg);
	r = PARSE("--symbols", "AAPL", "--sessions", "");
	bad("bad: --sessions empty", r, err, "--sessions");
	config_free(&cfg);
	r = PARSE("--symbols", "AAPL", "--idle-interval", "5ms");
	bad("bad: --idle-interval below 10ms", r, err, "--idle-interval: invalid duration");
	config_free(&cfg);
}

int
main(void)
{
	struct config cfg;
	char		err[512];
	enum config_result r;
	int64_t		ms;
	char		path[] = "/tmp/stockpipe-symbols-XXXXXX";
	int			fd;

	unsetenv("STOCKPIPE_YAHOO_URL");
	clear_kafka_env();
	r = PARSE("--symbols", "AAPL");
	check_int(r, CONFIG_OK, "defaults: parse");
	check_int((long long) cfg.kafka.count, 0, "defaults: no extra Kafka properties");
	check_int(cfg.interval_ms, 1000, "defaults: interval 1s");
	check_int(cfg.daily_min, 16 * 60 + 45, "defaults: daily at 16:45");
	check_int(cfg.open_min, 9 * 60, "defaults: opens 09:00");
	check_int(cfg.close_min, 16 * 60 + 30, "defaults: closes 16:30");
	check_str(cfg.timezone, "America/New_York", "defaults: time zone");
	check_str(cfg.yahoo_url, "https://query2.finance.yahoo.com", "defaults: Yahoo URL");
	check_str(cfg.brokers, "localhost:9092", "defaults: brokers");
	check_str(cfg.live_topic, "stock_live", "defaults: live topic");
	check_str(cfg.daily_topic, "stock_daily", "defaults: daily topic");
	check_int(cfg.stats_interval_ms, 60000, "defaults: stats every 60s");
	check_int(cfg.flush_timeout_ms, 10000, "defaults: flush timeout 10s");
	CHECK(cfg.source == CONFIG_SOURCE_YAHOO && !cfg.once && !cfg.always && !cfg.no_daily,
		  "defaults: yahoo source, scheduled, with daily bars");
	CHECK(strstr(cfg.user_agent, "Mozilla/5.0") != NULL, "defaults: browser-like User-Agent");
	config_free(&cfg);

	r = PARSE("--symbols", "aapl, msft,AAPL", "--symbols", "^gspc", "--interval", "250ms",
			  "--daily-at", "17:05", "--market-hours", "04:00-20:00", "--timezone", "Europe/London",
			  "--always", "--once", "--no-daily", "--yahoo-url", "http://127.0.0.1:9/",
			  "--connect-timeout", "2", "--timeout", "1.5s", "--user-agent", "ua/1",
			  "--backoff-max", "2m", "--brokers", "k1:9092,k2:9092", "--live-topic", "live2",
			  "--daily-topic=daily2", "-X", "security.protocol=SASL_SSL", "-Xsasl.mechanism=PLAIN",
			  "--flush-timeout", "0", "--stats-interval", "0", "--log-level", "debug",
			  "--seed", "42");
	check_int(r, CONFIG_OK, "all flags: parse");
	check_int((long long) cfg.symbols.count, 3, "symbols: upper-cased and deduplicated");
	check_str(cfg.symbols.items[0], "AAPL", "symbols: first");
	check_str(cfg.symbols.items[2], "^GSPC", "symbols: repeated flag appends");
	check_int(cfg.interval_ms, 250, "--interval 250ms");
	check_int(cfg.daily_min, 17 * 60 + 5, "--daily-at");
	CHECK(cfg.open_min == 240 && cfg.close_min == 1200, "--market-hours");
	check_str(cfg.timezone, "Europe/London", "--timezone");
	CHECK(cfg.always && cfg.once && cfg.no_daily, "--always --once --no-daily");
	check_str(cfg.yahoo_url, "http://127.0.0.1:9/", "--yahoo-url");
	check_int(cfg.connect_timeout_ms, 2000, "--connect-timeout 2 (seconds)");
	check_int(cfg.timeout_ms, 1500, "--timeout 1.5s");
	check_str(cfg.user_agent, "ua/1", "--user-agent");
	check_int(cfg.backoff_max_ms, 120000, "--backoff-max 2m");
	check_str(cfg.brokers, "k1:9092,k2:9092", "--brokers");
	check_str(cfg.live_topic, "live2", "--live-topic");
	check_str(cfg.daily_topic, "daily2", "--daily-topic=VALUE form");
	check_int((long long) cfg.kafka.count, 2, "-X: two properties");
	check_str(cfg.kafka.count == 2 ? cfg.kafka.items[1].key : "", "sasl.mechanism",
			  "-X: attached value form (key)");
	check_str(cfg.kafka.count == 2 ? cfg.kafka.items[1].value : "", "PLAIN",
			  "-X: attached value form (value)");
	check_int(cfg.flush_timeout_ms, 0, "--flush-timeout 0");
	check_int(cfg.stats_interval_ms, 0, "--stats-interval 0 disables");
	check_int(cfg.log_level, LOG_DEBUG, "--log-level debug");
	check_int((long long) cfg.seed, 42, "--seed");
	config_free(&cfg);

	r = PARSE("--source", "sim", "--symbols", "A,B", "--rate", "1000", "--count", "5000");
	CHECK(r == CONFIG_OK && cfg.source == CONFIG_SOURCE_SIM && cfg.rate == 1000 && cfg.count == 5000,
		  "--source sim --rate --count");
	config_free(&cfg);
	r = PARSE("--source", "replay:/tmp/x.jsonl", "--speed", "0");
	CHECK(r == CONFIG_OK && cfg.source == CONFIG_SOURCE_REPLAY && strcmp(cfg.replay_file, "/tmp/x.jsonl") == 0
		  && cfg.speed == 0, "--source replay:FILE needs no symbols; --speed 0");
	check_int(cfg.replay_shift.kind, REPLAY_SHIFT_NONE, "--replay-shift: none by default");
	config_free(&cfg);
	r = PARSE("--source", "replay:a.json,b.json", "--replay-shift", "auto");
	CHECK(r == CONFIG_OK && strcmp(cfg.replay_file, "a.json,b.json") == 0 &&
		  cfg.replay_shift.kind == REPLAY_SHIFT_AUTO, "--source replay:FILE,FILE --replay-shift auto");
	config_free(&cfg);
	r = PARSE("--source", "replay:a.json", "--replay-shift", "2026-11-27");
	CHECK(r == CONFIG_OK && cfg.replay_shift.kind == REPLAY_SHIFT_ONTO &&
		  cfg.replay_shift.onto == 20784, "--replay-shift 2026-11-27: onto that day");
	config_free(&cfg);
	r = PARSE("--source", "replay:a.json", "--replay-shift", "36h");
	CHECK(r == CONFIG_OK && cfg.replay_shift.kind == REPLAY_SHIFT_BY &&
		  cfg.replay_shift.by_us == 36LL * 3600 * 1000000, "--replay-shift 36h: by a duration");
	config_free(&cfg);
	r = PARSE("--source", "replay:a.json", "--replay-shift", "auto", "--replay-shift", "none");
	CHECK(r == CONFIG_OK && cfg.replay_shift.kind == REPLAY_SHIFT_NONE, "--replay-shift: the last one wins");
	config_free(&cfg);

	setenv("STOCKPIPE_YAHOO_URL", "http://env.example:1", 1);
	r = PARSE("--symbols", "AAPL");
	check_str(cfg.yahoo_url, "http://env.example:1", "env STOCKPIPE_YAHOO_URL sets the default");
	config_free(&cfg);
	r = PARSE("--symbols", "AAPL", "--yahoo-url", "https://flag.example");
	check_str(cfg.yahoo_url, "https://flag.example", "--yahoo-url beats the environment");
	config_free(&cfg);
	unsetenv("STOCKPIPE_YAHOO_URL");

	fd = mkstemp(path);
	if (fd >= 0)
	{
		const char *text = "# portfolio\nAAPL  msft # tech\n\nBRK-B,^GSPC\nAAPL\n";

		if (write(fd, text, strlen(text)) < 0)
			perror("write");
		close(fd);
	}
	r = PARSE("--symbols-file", path, "--symbols", "NVDA");
	CHECK(r == CONFIG_OK && cfg.symbols.count == 5, "--symbols-file: comments, blanks, duplicates");
	check_str(cfg.symbols.count == 5 ? cfg.symbols.items[4] : "", "^GSPC", "--symbols-file: order kept");
	config_free(&cfg);
	{
		FILE	   *f = fopen(path, "w");

		fputs("AAPL\nNOT VALID!\n", f);
		fclose(f);
	}
	r = PARSE("--symbols-file", path);
	bad("--symbols-file: bad symbol names its line", r, err, ":2: invalid symbol");
	config_free(&cfg);
	unlink(path);

	r = PARSE("--help");
	check_int(r, CONFIG_HELP, "--help");
	config_free(&cfg);
	r = PARSE("--version");
	check_int(r, CONFIG_VERSION, "--version");
	config_free(&cfg);

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
	{
		r = parse_list(&cfg, err, bad_cases[i].args);
		bad(bad_cases[i].name, r, err, bad_cases[i].needle);
		config_free(&cfg);
	}

	test_kafka_sources();
	test_max_response_bytes();

	CHECK(config_parse_duration_ms("90s", &ms) == 0 && ms == 90000, "duration: 90s");
	CHECK(config_parse_duration_ms("1h", &ms) == 0 && ms == 3600000, "duration: 1h");
	CHECK(config_parse_duration_ms("0.5", &ms) == 0 && ms == 500, "duration: 0.5");
	CHECK(config_parse_duration_ms("5 s", &ms) != 0, "duration: space refused");
	CHECK(config_parse_duration_ms("", &ms) != 0, "duration: empty refused");
	CHECK(config_parse_duration_ms("1d", &ms) != 0, "duration: unknown unit refused");
	test_schedule_flags();
	return tap_summary();
}
