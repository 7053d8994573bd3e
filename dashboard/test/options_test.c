/*
 * options_test.c: unit tests of stockpipe-dash's command line
 * (src/options.c), run by `make -C dashboard check`: the defaults, every
 * option, the bounds of the numbers, the messages of a bad command line
 * (what the program prints before its usage and exit status 2), --help,
 * and the Host allow-list that follows from --listen.
 *
 * Each command line is parsed with stderr captured, as the program parses
 * it (getopt_long reports an unknown option there itself).  One TAP line
 * per check (tap.h, shared with test/unit); exits 1 if any check failed.
 */
#define _GNU_SOURCE
#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "tap.h"

#define MAX_ARGS 32

static dash_options opts;
static char said[4096];			/* what the last parse wrote on stderr */

/* Parse "stockpipe-dash" and the NULL-terminated args into opts. */
static dash_options_result
parse(const char *const *args)
{
	char	   *argv[MAX_ARGS + 2];
	int			argc = 0;
	FILE	   *tmp = tmpfile();
	int			saved;
	size_t		n = 0;
	dash_options_result r;

	argv[argc++] = (char *) "stockpipe-dash";
	for (; *args && argc <= MAX_ARGS; args++)
		argv[argc++] = (char *) *args;
	argv[argc] = NULL;
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	if (tmp)
		dup2(fileno(tmp), STDERR_FILENO);
	r = dash_options_parse(&opts, argc, argv, stderr);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	if (tmp)
	{
		rewind(tmp);
		n = fread(said, 1, sizeof said - 1, tmp);
		fclose(tmp);
	}
	said[n] = '\0';
	return r;
}

#define ARGS(...) ((const char *const[]) {__VA_ARGS__, NULL})

/* A bad command line: DASH_OPTIONS_BAD and exactly this message. */
static void
expect_bad(const char *const *args, const char *want, const char *what)
{
	dash_options_result r = parse(args);

	if (!check(r == DASH_OPTIONS_BAD && !strcmp(said, want), "%s", what))
		diag("got %d, said \"%s\"; want \"%s\"", (int) r, said, want);
}

/* ------------------------------------------------------------- defaults */

static void
test_defaults(void)
{
	dash_options_result r = parse(ARGS(NULL));

	check(r == DASH_OPTIONS_OK && said[0] == '\0', "no options: run, nothing said");
	check(!strcmp(opts.listen, "127.0.0.1:8080") &&
		  opts.listen_addr.sin_family == AF_INET &&
		  opts.listen_addr.sin_addr.s_addr == htonl(INADDR_LOOPBACK) &&
		  ntohs(opts.listen_addr.sin_port) == 8080, "default --listen 127.0.0.1:8080");
	check(!strcmp(opts.dsn, ""), "default --dsn: the PG* environment");
	check(!strcmp(opts.static_dir, DASH_STATIC_DIR), "default --static %s", DASH_STATIC_DIR);
	check(opts.allowed_hosts == NULL, "default --allowed-hosts: none given");
	check(opts.max_clients == 100, "default --max-clients 100");
	check(opts.per_ip == 16, "default --max-connections-per-ip 16");
	check(opts.timeout == 30, "default --timeout 30");
	check(opts.request_timeout == 10, "default --request-timeout 10");
	check(opts.statement_timeout_ms == 5000, "default --statement-timeout 5000");
	check(opts.max_refresh_rate == 10, "default --max-refresh-rate 10");
	check(!opts.hosts.any && opts.hosts.n == 3 &&
		  dash_hostlist_allows(&opts.hosts, "localhost:8080") &&
		  dash_hostlist_allows(&opts.hosts, "127.0.0.1:8080") &&
		  dash_hostlist_allows(&opts.hosts, "[::1]:8080") &&
		  !dash_hostlist_allows(&opts.hosts, "localhost:8081") &&
		  !dash_hostlist_allows(&opts.hosts, "evil.example:8080"),
		  "default allow-list: the loopback names with the listen port");
}

/* ---------------------------------------------------------- every option */

static void
test_every_option(void)
{
	dash_options_result r = parse(ARGS("--listen", "192.0.2.7:9000", "--dsn", "dbname=markets",
									   "--static", "/srv/dash", "--allowed-hosts", "dash.example:443, *",
									   "--max-clients", "5", "--max-connections-per-ip", "0",
									   "--timeout", "2", "--request-timeout", "3600",
									   "--statement-timeout", "250", "--max-refresh-rate", "1000"));

	check(r == DASH_OPTIONS_OK && said[0] == '\0', "every option given: run, nothing said");
	check(!strcmp(opts.listen, "192.0.2.7:9000") &&
		  opts.listen_addr.sin_addr.s_addr == htonl(0xc0000207) &&
		  ntohs(opts.listen_addr.sin_port) == 9000, "--listen 192.0.2.7:9000");
	check(!strcmp(opts.dsn, "dbname=markets"), "--dsn dbname=markets");
	check(!strcmp(opts.static_dir, "/srv/dash"), "--static /srv/dash");
	check(opts.allowed_hosts && !strcmp(opts.allowed_hosts, "dash.example:443, *") &&
		  opts.hosts.any && opts.hosts.n == 1 && !strcmp(opts.hosts.e[0].name, "dash.example") &&
		  opts.hosts.e[0].port == 443, "--allowed-hosts \"dash.example:443, *\"");
	check(opts.max_clients == 5, "--max-clients 5");
	check(opts.per_ip == 0, "--max-connections-per-ip 0 (no limit)");
	check(opts.timeout == 2, "--timeout 2");
	check(opts.request_timeout == 3600, "--request-timeout 3600");
	check(opts.statement_timeout_ms == 250, "--statement-timeout 250");
	check(opts.max_refresh_rate == 1000, "--max-refresh-rate 1000");

	r = parse(ARGS("--timeout=45", "--dsn=host=/tmp port=5433"));
	check(r == DASH_OPTIONS_OK && opts.timeout == 45 && !strcmp(opts.dsn, "host=/tmp port=5433"),
		  "--option=value form");
	r = parse(ARGS("--max-cl", "7"));
	check(r == DASH_OPTIONS_OK && opts.max_clients == 7, "an unambiguous prefix (--max-cl)");
	r = parse(ARGS(NULL));
	check(r == DASH_OPTIONS_OK && opts.timeout == 30 && !strcmp(opts.dsn, "") && opts.max_clients == 100,
		  "a second parse starts from the defaults");
	r = parse(ARGS("--timeout", "5", "--timeout", "6"));
	check(r == DASH_OPTIONS_OK && opts.timeout == 6, "an option given twice: the last one");
}

/* --------------------------------------------------------------- numbers */

static const struct
{
	const char *name;
	unsigned	min,
				max;
}			numbers[] = {
	{"max-clients", 1, 100000},
	{"max-connections-per-ip", 0, 100000},
	{"timeout", 2, 86400},
	{"request-timeout", 1, 3600},
	{"statement-timeout", 1, 1000000},
	{"max-refresh-rate", 1, 1000},
};

/* The option's value after parsing --name value (0 if not a number option). */
static unsigned
number_value(const char *name)
{
	if (!strcmp(name, "max-clients"))
		return opts.max_clients;
	if (!strcmp(name, "max-connections-per-ip"))
		return opts.per_ip;
	if (!strcmp(name, "timeout"))
		return opts.timeout;
	if (!strcmp(name, "request-timeout"))
		return opts.request_timeout;
	if (!strcmp(name, "statement-timeout"))
		return opts.statement_timeout_ms;
	if (!strcmp(name, "max-refresh-rate"))
		return opts.max_refresh_rate;
	return 0;
}

static void
expect_number(const char *name, unsigned min, unsigned max, const char *value, bool good)
{
	char		flag[64],
				want[256],
				what[160];

	snprintf(flag, sizeof flag, "--%s", name);
	snprintf(what, sizeof what, "--%s \"%s\" refused (bounds %u-%u)", name, value, min, max);
	if (good)
	{
		dash_options_result r = parse(ARGS(flag, value));
		unsigned	v = (unsigned) strtoul(value, NULL, 10);

		if (!check(r == DASH_OPTIONS_OK && number_value(name) == v && said[0] == '\0',
				   "--%s \"%s\" accepted (bounds %u-%u)", name, value, min, max))
			diag("got %d, value %u, said \"%s\"", (int) r, number_value(name), said);
		return;
	}
	snprintf(want, sizeof want,
			 "stockpipe-dash: bad --%s %s (want a whole number from %u to %u)\n",
			 name, value, min, max);
	expect_bad(ARGS(flag, value), want, what);
}

static void
test_numbers(void)
{
	static const char *not_numbers[] = {"many", "", "-1", "+5", " 5", "5 ", "1e3", "0x10",
	"5s", "99999999999", "\xef\xbc\x94"};

	for (size_t i = 0; i < sizeof numbers / sizeof *numbers; i++)
	{
		const char *name = numbers[i].name;
		unsigned	min = numbers[i].min,
					max = numbers[i].max;
		char		v[32];

		snprintf(v, sizeof v, "%u", min);
		expect_number(name, min, max, v, true);
		snprintf(v, sizeof v, "%u", max);
		expect_number(name, min, max, v, true);
		snprintf(v, sizeof v, "%u", max + 1);
		expect_number(name, min, max, v, false);
		if (min > 0)
		{
			snprintf(v, sizeof v, "%u", min - 1);
			expect_number(name, min, max, v, false);
		}
		snprintf(v, sizeof v, "0%u", max);
		expect_number(name, min, max, v, true);	/* leading zero: still decimal */
	}
	for (size_t i = 0; i < sizeof not_numbers / sizeof *not_numbers; i++)
		expect_number("timeout", 2, 86400, not_numbers[i], false);
	/* The first bad value ends the parse: later ones are not looked at. */
	expect_bad(ARGS("--timeout", "1", "--max-clients", "0"),
			   "stockpipe-dash: bad --timeout 1 (want a whole number from 2 to 86400)\n",
			   "two bad numbers: the first one named");
}

/* ---------------------------------------------------------- command line */

static void
test_command_line(void)
{
	dash_options_result r;

	r = parse(ARGS("--help"));
	check(r == DASH_OPTIONS_HELP && said[0] == '\0', "--help: the usage on stdout, exit 0");
	r = parse(ARGS("--help", "--timeout", "1"));
	check(r == DASH_OPTIONS_HELP, "--help before a bad value: help");
	r = parse(ARGS("--timeout", "1", "--help"));
	check(r == DASH_OPTIONS_BAD, "--help after a bad value: refused");

	r = parse(ARGS("--no-such-flag"));
	check(r == DASH_OPTIONS_BAD && strstr(said, "stockpipe-dash: unrecognized option '--no-such-flag'"),
		  "an unknown option refused, named by getopt_long");
	r = parse(ARGS("--timeout"));
	check(r == DASH_OPTIONS_BAD && strstr(said, "requires an argument"),
		  "an option without its value refused, said by getopt_long");
	r = parse(ARGS("--max", "5"));
	check(r == DASH_OPTIONS_BAD && strstr(said, "ambiguous"),
		  "an ambiguous prefix (--max) refused, said by getopt_long");
	r = parse(ARGS("--help=yes"));
	check(r == DASH_OPTIONS_BAD && strstr(said, "doesn't allow an argument"),
		  "--help=yes refused, said by getopt_long");
	r = parse(ARGS("-h"));
	check(r == DASH_OPTIONS_BAD && strstr(said, "invalid option"),
		  "a short option refused (there are none)");

	expect_bad(ARGS("extra"), "stockpipe-dash: unexpected argument extra\n", "an argument refused");
	expect_bad(ARGS("extra", "--timeout", "1"),
			   "stockpipe-dash: bad --timeout 1 (want a whole number from 2 to 86400)\n",
			   "an argument before a bad value: the value named (options first)");
	expect_bad(ARGS("--listen", "localhost:8080"),
			   "stockpipe-dash: bad --listen localhost:8080 (want IPv4:PORT)\n", "--listen with a name refused");
	expect_bad(ARGS("--listen", "127.0.0.1"),
			   "stockpipe-dash: bad --listen 127.0.0.1 (want IPv4:PORT)\n", "--listen without a port refused");
	expect_bad(ARGS("--listen", "127.0.0.1:65536"),
			   "stockpipe-dash: bad --listen 127.0.0.1:65536 (want IPv4:PORT)\n", "--listen port 65536 refused");
	expect_bad(ARGS("--listen", "[::1]:8080"),
			   "stockpipe-dash: bad --listen [::1]:8080 (want IPv4:PORT)\n", "--listen IPv6 refused");
	expect_bad(ARGS("--listen", "nowhere", "extra"),
			   "stockpipe-dash: unexpected argument extra\n", "an argument and a bad --listen: the argument named");
	expect_bad(ARGS("--allowed-hosts", "localhost, evil example"),
			   "stockpipe-dash: bad --allowed-hosts entry at \"evil example\" "
			   "(want NAME, NAME:PORT, [IPv6]:PORT or *, at most 32, comma-separated)\n",
			   "--allowed-hosts with a bad entry refused, the entry named");
	expect_bad(ARGS("--allowed-hosts", ""),
			   "stockpipe-dash: bad --allowed-hosts entry at \"\" "
			   "(want NAME, NAME:PORT, [IPv6]:PORT or *, at most 32, comma-separated)\n",
			   "--allowed-hosts empty refused");
	expect_bad(ARGS("--listen", "bad", "--allowed-hosts", "bad host"),
			   "stockpipe-dash: bad --listen bad (want IPv4:PORT)\n",
			   "a bad --listen and a bad --allowed-hosts: --listen named");

	r = parse(ARGS("--listen", "*:0"));
	check(r == DASH_OPTIONS_OK && opts.listen_addr.sin_addr.s_addr == htonl(INADDR_ANY) &&
		  opts.listen_addr.sin_port == 0, "--listen *:0");
	r = parse(ARGS("--listen", ":8081"));
	check(r == DASH_OPTIONS_OK && opts.listen_addr.sin_addr.s_addr == htonl(INADDR_ANY) &&
		  ntohs(opts.listen_addr.sin_port) == 8081, "--listen :8081");
	r = parse(ARGS("--allowed-hosts", "*"));
	check(r == DASH_OPTIONS_OK && opts.hosts.any && opts.hosts.n == 0, "--allowed-hosts *");
	r = parse(ARGS("--listen", "127.0.0.1:9000", "--allowed-hosts", "dash.example"));
	check(r == DASH_OPTIONS_OK && opts.hosts.n == 1 && dash_hostlist_allows(&opts.hosts, "dash.example:9000") &&
		  !dash_hostlist_allows(&opts.hosts, "localhost:9000"),
		  "--allowed-hosts replaces the defaults");
}

/* ------------------------------------------------------------ allow-list */

static void
expect_hosts(const char *listen, const char *allowed, const char *want)
{
	char		got[1024];
	dash_options_result r = allowed ? parse(ARGS("--listen", listen, "--allowed-hosts", allowed))
		: parse(ARGS("--listen", listen));

	got[0] = '\0';
	if (r == DASH_OPTIONS_OK)
		dash_options_describe_hosts(&opts.hosts, got, sizeof got);
	if (!check(r == DASH_OPTIONS_OK && !strcmp(got, want), "--listen %s%s%s: allowed hosts \"%s\"",
			   listen, allowed ? " --allowed-hosts " : "", allowed ? allowed : "", want))
		diag("got %d \"%s\"", (int) r, got);
}

static void
test_hosts(void)
{
	dash_host_list	l;
	struct sockaddr_in sa;
	const char *bad;
	char		small[12];

	expect_hosts("127.0.0.1:8080", NULL, "localhost:8080, 127.0.0.1:8080, [::1]:8080");
	expect_hosts("192.0.2.7:9000", NULL, "localhost:9000, 127.0.0.1:9000, [::1]:9000, 192.0.2.7:9000");
	expect_hosts("0.0.0.0:8080", NULL, "localhost:8080, 127.0.0.1:8080, [::1]:8080");
	expect_hosts("*:8080", NULL, "localhost:8080, 127.0.0.1:8080, [::1]:8080");
	expect_hosts("127.0.0.1:0", NULL, "localhost, 127.0.0.1, [::1]");
	expect_hosts("10.1.2.3:0", NULL, "localhost, 127.0.0.1, [::1], 10.1.2.3");
	expect_hosts("127.0.0.1:8080", "Dash.Example., [::1]:80", "dash.example, [::1]:80");
	expect_hosts("127.0.0.1:8080", "*", "any");

	parse(ARGS("--listen", "127.0.0.1:0"));
	check(opts.hosts.n == 3 && opts.hosts.e[0].port == DASH_PORT_ANY &&
		  dash_hostlist_allows(&opts.hosts, "localhost:41234") && dash_hostlist_allows(&opts.hosts, "127.0.0.1"),
		  "--listen port 0: the loopback names with any port");

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons(80);
	sa.sin_addr.s_addr = htonl(0xc0a80105);
	dash_options_default_hosts(&l, &sa);
	check(l.n == 4 && !l.any && dash_hostlist_allows(&l, "192.168.1.5") && dash_hostlist_allows(&l, "localhost") &&
		  !dash_hostlist_allows(&l, "192.168.1.6"), "default allow-list of 192.168.1.5:80 (Host without a port)");

	dash_hostlist_parse(&l, "localhost:8080, 127.0.0.1:8080", &bad);
	memset(small, 'x', sizeof small);
	dash_options_describe_hosts(&l, small, sizeof small);
	check(memchr(small, '\0', sizeof small) && !strncmp(small, "localhost:8", sizeof small - 1),
		  "allowed hosts described in a small buffer: cut, terminated");
}

/* ------------------------------------------------------------------ usage */

static void
test_usage(void)
{
	static const char *names[] = {"--listen", "--dsn", "--static", "--allowed-hosts", "--max-clients",
	"--max-connections-per-ip", "--timeout", "--request-timeout", "--statement-timeout", "--max-refresh-rate"};
	char	   *text = NULL;
	size_t		len = 0;
	FILE	   *f = open_memstream(&text, &len);

	if (!f)
	{
		check(false, "usage: open_memstream");
		return;
	}
	dash_options_usage(f);
	fclose(f);
	check(!strncmp(text, "usage: stockpipe-dash [options]\n", 32), "usage starts with \"usage: stockpipe-dash\"");
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
	{
		char		line[64];

		snprintf(line, sizeof line, "\n  %s ", names[i]);
		check(strstr(text, line) != NULL, "usage has a line for %s", names[i]);
	}
	check(strstr(text, "(default " DASH_STATIC_DIR ")") != NULL, "usage names the default --static");
	free(text);
}

int
main(void)
{
	test_defaults();
	test_every_option();
	test_numbers();
	test_command_line();
	test_hosts();
	test_usage();
	return tap_summary();
}
