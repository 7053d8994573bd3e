/*
 * kconf_test.c -- the extra librdkafka properties: properties-file
 * parsing (comments, blanks, white space, bad lines), the environment
 * mapping, precedence, the masking of secrets, and reading the file.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kconf.h"
#include "fixtures.h"
#include "tap.h"

/* "key=value@origin;..." for the whole list, in application order. */
static const char *
dump(const struct kconf *c)
{
	static char buf[2048];
	size_t		n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < c->count && n < sizeof(buf); i++)
		n += (size_t) snprintf(buf + n, sizeof(buf) - n, "%s%s=%s@%s", i ? ";" : "",
							   c->items[i].key, c->items[i].value, c->items[i].origin);
	return buf;
}

static void
bad(const char *name, int rc, const char *err, const char *needle)
{
	char		detail[700];

	snprintf(detail, sizeof(detail), "rc %d, message \"%s\", expected to mention \"%s\"",
			 rc, err, needle);
	if (!check(rc != 0 && strstr(err, needle) != NULL, "%s", name))
		diag("%s", detail);
}

static void
test_file_text(void)
{
	struct kconf c = {NULL, 0};
	char		err[512];
	const char *text =
		"# librdkafka properties\n"
		"\n"
		"   \t\n"
		"  security.protocol = SASL_SSL  \r\n"
		"\t# indented comment\n"
		"sasl.mechanisms=PLAIN\n"
		"sasl.password = p#ss=word \n"
		"client.id=\n"
		"security.protocol=SASL_PLAINTEXT\n"
		"ssl.ca.location=/etc/ca.pem";	/* no final newline */
	int			rc;

	rc = kconf_parse_text(&c, text, strlen(text), "k.properties", err, sizeof(err));
	check_int(rc, 0, "file: parses");
	check_str(dump(&c),
			  "sasl.mechanisms=PLAIN@k.properties:6;"
			  "sasl.password=p#ss=word@k.properties:7;"
			  "client.id=@k.properties:8;"
			  "security.protocol=SASL_PLAINTEXT@k.properties:9;"
			  "ssl.ca.location=/etc/ca.pem@k.properties:10",
			  "file: comments and blank lines skipped, white space and CR trimmed, '#' and '=' "
			  "kept in values, empty value, a repeated key wins and moves last, last line "
			  "without newline");
	kconf_free(&c);

	rc = kconf_parse_text(&c, "", 0, "empty", err, sizeof(err));
	CHECK(rc == 0 && c.count == 0, "file: empty file, no properties");
	kconf_free(&c);

	rc = kconf_parse_text(&c, "a=1\n# x\nhunter2\n", 16, "f.properties", err, sizeof(err));
	bad("file: line without = names file and line", rc, err, "f.properties:3: expected key=value");
	CHECK(strstr(err, "hunter2") == NULL, "file: the bad line is not echoed (it may be a secret)");
	kconf_free(&c);
	rc = kconf_parse_text(&c, "  = value\n", 10, "f", err, sizeof(err));
	bad("file: empty key", rc, err, "f:1: expected key=value");
	kconf_free(&c);
	rc = kconf_parse_text(&c, "sasl password=x\n", 16, "f", err, sizeof(err));
	bad("file: key with white space", rc, err, "f:1: expected key=value (the key is");
	kconf_free(&c);
	rc = kconf_parse_text(&c, "a=1\nb=x\0y\n", 10, "f", err, sizeof(err));
	bad("file: NUL byte in a line", rc, err, "f:2:");
	kconf_free(&c);
	{
		char		longkey[300];

		memset(longkey, 'k', 256);
		strcpy(longkey + 256, "=v\n");
		rc = kconf_parse_text(&c, longkey, strlen(longkey), "f", err, sizeof(err));
		bad("file: key longer than 255", rc, err, "f:1:");
		kconf_free(&c);
	}
}

static void
test_flags(void)
{
	struct kconf c = {NULL, 0};
	char		err[512];

	CHECK(kconf_parse_flag(&c, "sasl.username=a=b", err, sizeof(err)) == 0 &&
		  strcmp(dump(&c), "sasl.username=a=b@-X") == 0, "-X: value after the first '='");
	CHECK(kconf_parse_flag(&c, "linger.ms=", err, sizeof(err)) == 0 &&
		  strcmp(kconf_find(&c, "linger.ms")->value, "") == 0, "-X: empty value");
	kconf_free(&c);
	bad("-X: no '='", kconf_parse_flag(&c, "hunter2", err, sizeof(err)), err, "KEY=VALUE");
	CHECK(strstr(err, "hunter2") == NULL, "-X: the argument is not echoed");
	bad("-X: empty key", kconf_parse_flag(&c, "=hunter2", err, sizeof(err)), err, "KEY=VALUE");
	CHECK(strstr(err, "hunter2") == NULL, "-X: empty key, value not echoed");
	CHECK(c.count == 0, "-X: nothing added on errors");
	kconf_free(&c);
}

static void
test_env(void)
{
	struct kconf c = {NULL, 0};
	char		err[512];
	char		key[300];
	char	   *envp[] = {
		"PATH=/usr/bin",
		"STOCKPIPE_YAHOO_URL=http://x",
		"STOCKPIPE_KAFKA_SASL_PASSWORD=s3cret=x",
		"STOCKPIPE_KAFKA_SECURITY_PROTOCOL=SASL_SSL",
		"STOCKPIPE_KAFKA_CONFIG=/etc/stockpipe/kafka.properties",
		"STOCKPIPE_KAFKA_BROKERS=kafka:9092",
		"STOCKPIPE_KAFKA_OPTIONS=a=b; c=d",
		"STOCKPIPE_KAFKA_LINGER_MS=",
		"STOCKPIPE_KAFKAX=1",
		"STOCKPIPE_KAFKA_QUEUE_BUFFERING_MAX_KBYTES=1024",
		NULL
	};
	char	   *bad_envp[][2] = {
		{"STOCKPIPE_KAFKA_sasl_password=x", NULL},
		{"STOCKPIPE_KAFKA_=x", NULL},
		{"STOCKPIPE_KAFKA__X=x", NULL},
		{"STOCKPIPE_KAFKA_X_=x", NULL},
		{"STOCKPIPE_KAFKA_A__B=x", NULL},
		{"STOCKPIPE_KAFKA_SSL-KEY=x", NULL},
	};

	CHECK(kconf_env_key("SASL_PASSWORD", key, sizeof(key)) == 0 &&
		  strcmp(key, "sasl.password") == 0, "env name: SASL_PASSWORD -> sasl.password");
	CHECK(kconf_env_key("SECURITY_PROTOCOL", key, sizeof(key)) == 0 &&
		  strcmp(key, "security.protocol") == 0, "env name: SECURITY_PROTOCOL -> security.protocol");
	CHECK(kconf_env_key("SSL_KEY_PASSWORD", key, sizeof(key)) == 0 &&
		  strcmp(key, "ssl.key.password") == 0, "env name: SSL_KEY_PASSWORD -> ssl.key.password");
	CHECK(kconf_env_key("SASL_KERBEROS_MIN_TIME_BEFORE_RELOGIN", key, sizeof(key)) == 0 &&
		  strcmp(key, "sasl.kerberos.min.time.before.relogin") == 0, "env name: long name");
	CHECK(kconf_env_key("API_VERSION_FALLBACK_MS", key, 8) != 0, "env name: too long for the buffer");

	CHECK(kconf_from_env(&c, envp, err, sizeof(err)) == 0, "env: parses");
	check_str(dump(&c),
			  "sasl.password=s3cret=x@environment STOCKPIPE_KAFKA_SASL_PASSWORD;"
			  "security.protocol=SASL_SSL@environment STOCKPIPE_KAFKA_SECURITY_PROTOCOL;"
			  "queue.buffering.max.kbytes=1024@environment STOCKPIPE_KAFKA_QUEUE_BUFFERING_MAX_KBYTES",
			  "env: STOCKPIPE_KAFKA_<NAME> mapped; CONFIG, BROKERS, OPTIONS, empty values and "
			  "other variables left out");
	kconf_free(&c);
	for (size_t i = 0; i < sizeof(bad_envp) / sizeof(bad_envp[0]); i++)
	{
		char		name[128];
		char		needle[64];

		snprintf(name, sizeof(name), "env: %s refused", bad_envp[i][0]);
		snprintf(needle, sizeof(needle), "%.*s", (int) strcspn(bad_envp[i][0], "="),
				 bad_envp[i][0]);
		bad(name, kconf_from_env(&c, bad_envp[i], err, sizeof(err)), err, needle);
		kconf_free(&c);
	}
}

/* File < environment < -X, as config.c assembles them. */
static void
test_precedence(void)
{
	struct kconf file = {NULL, 0};
	struct kconf flags = {NULL, 0};
	char		err[512];
	const char *text = "client.id=file\nbootstrap.servers=file:9092\nsasl.password=file-pw\n"
		"linger.ms=1\n";
	char	   *envp[] = {"STOCKPIPE_KAFKA_BOOTSTRAP_SERVERS=env:9092",
	"STOCKPIPE_KAFKA_CLIENT_ID=env", NULL};

	kconf_parse_text(&file, text, strlen(text), "k", err, sizeof(err));
	kconf_from_env(&file, envp, err, sizeof(err));
	kconf_parse_flag(&flags, "client.id=flag", err, sizeof(err));
	CHECK(kconf_merge(&file, &flags, err, sizeof(err)) == 0 && flags.count == 0 &&
		  flags.items == NULL, "merge: moves every property, source left empty");
	check_str(dump(&file),
			  "sasl.password=file-pw@k:3;linger.ms=1@k:4;"
			  "bootstrap.servers=env:9092@environment STOCKPIPE_KAFKA_BOOTSTRAP_SERVERS;"
			  "client.id=flag@-X",
			  "precedence: file < environment < -X, each winner applied after what it beat");
	CHECK(kconf_find(&file, "nope") == NULL, "find: absent key");
	kconf_free(&file);
	kconf_free(&flags);
}

/*
 * kconf_redact() of SECRET in MSG, in a buffer of exactly SIZE bytes (so
 * that AddressSanitizer sees any write past it), must give WANT.
 */
static void
check_redact(size_t size, const char *msg, const char *secret, const char *want, const char *desc)
{
	char	   *buf = malloc(size);

	snprintf(buf, size, "%s", msg);
	kconf_redact(buf, size, secret);
	check_str(buf, want, desc);
	free(buf);
}

static void
test_secrets(void)
{
	const char *secret[] = {"sasl.password", "ssl.key.password", "ssl.key.location",
		"ssl.key.pem", "ssl.keystore.password", "sasl.oauthbearer.client.secret",
	"sasl.kerberos.keytab", "sasl.oauthbearer.config", "SASL.PASSWORD", "some.token"};
	const char *plain[] = {"client.id", "security.protocol", "sasl.username",
	"sasl.mechanisms", "bootstrap.servers", "ssl.ca.location", "linger.ms"};
	struct kconf_prop p = {"sasl.password", "hunter2", "-X"};
	struct kconf_prop q = {"client.id", "me", "-X"};
	int			ok = 1;

	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		ok &= kconf_is_secret(secret[i]);
	CHECK(ok, "secret: password, secret, key, token, oauthbearer config are secret");
	ok = 1;
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		ok &= !kconf_is_secret(plain[i]);
	CHECK(ok, "secret: client.id, security.protocol, sasl.username... are shown");
	check_str(kconf_shown_value(&p), KCONF_HIDDEN, "secret: shown as (hidden)");
	check_str(kconf_shown_value(&q), "me", "secret: other values shown");

	check_redact(128, "Invalid value \"hunter2\" for \"x\" (hunter2)", "hunter2",
				 "Invalid value \"***\" for \"x\" (***)", "redact: every occurrence masked");
	check_redact(128, "no secret here", "", "no secret here", "redact: empty secret changes nothing");
	check_redact(12, "ab hunter2", "hunter2", "ab ***", "redact: fits its buffer");
	check_redact(12, "abcdefgh x", "x", "abcdefgh **", "redact: truncated at the buffer's end");
}

/* Writes TEXT to a temporary file with MODE; the name goes to PATH. */
static void
write_temp(char *path, size_t size, const char *text, size_t len, mode_t mode)
{
	int			fd;

	snprintf(path, size, "/tmp/stockpipe-kconf-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, text, len) != (ssize_t) len || fchmod(fd, mode) != 0)
		perror(path);
	if (fd >= 0)
		close(fd);
}

static void
test_read_file(void)
{
	struct kconf c = {NULL, 0};
	char		err[512];
	char		warning[512];
	char		path[64];
	char		dir[] = "/tmp/stockpipe-kconf-dir-XXXXXX";
	char	   *big;
	int			rc;

	write_temp(path, sizeof(path), "sasl.password=pw\n", 17, 0600);
	rc = kconf_read_file(&c, path, warning, sizeof(warning), err, sizeof(err));
	CHECK(rc == 0 && c.count == 1 && warning[0] == '\0', "read: mode 600 file, no warning");
	kconf_free(&c);
	chmod(path, 0640);
	rc = kconf_read_file(&c, path, warning, sizeof(warning), err, sizeof(err));
	CHECK(rc == 0 && c.count == 1 && strstr(warning, "mode 640") && strstr(warning, path),
		  "read: group-readable file is read, with a warning naming it");
	kconf_free(&c);
	chmod(path, 0602);
	rc = kconf_read_file(&c, path, warning, sizeof(warning), err, sizeof(err));
	CHECK(rc == 0 && strstr(warning, "mode 602"), "read: other-writable file warned about");
	kconf_free(&c);
	unlink(path);

	rc = kconf_read_file(&c, path, warning, sizeof(warning), err, sizeof(err));
	bad("read: missing file", rc, err, "No such file");
	if (mkdtemp(dir) != NULL)
	{
		rc = kconf_read_file(&c, dir, warning, sizeof(warning), err, sizeof(err));
		bad("read: a directory", rc, err, "is a directory");
		rmdir(dir);
	}

	big = malloc(KCONF_FILE_MAX + 2);
	memset(big, '#', KCONF_FILE_MAX + 1);
	write_temp(path, sizeof(path), big, KCONF_FILE_MAX + 1, 0600);
	rc = kconf_read_file(&c, path, warning, sizeof(warning), err, sizeof(err));
	bad("read: file over 1 MiB refused", rc, err, "larger than 1 MiB");
	unlink(path);
	write_temp(path, sizeof(path), big, KCONF_FILE_MAX, 0600);
	rc = kconf_read_file(&c, path, warning, sizeof(warning), err, sizeof(err));
	CHECK(rc == 0 && c.count == 0, "read: a 1 MiB file (all comment) is accepted");
	unlink(path);
	free(big);
	kconf_free(&c);
}

int
main(void)
{
	test_file_text();
	test_flags();
	test_env();
	test_precedence();
	test_secrets();
	test_read_file();
	return tap_summary();
}
