/*
 * log_test.c: unit tests of stockpipe-dash's log lines (src/log.c), run by
 * `make -C dashboard check`: the line format, libpq and libmicrohttpd
 * messages on one line, the rate limit of the lines clients can cause,
 * and the printable form of a client's bytes.
 *
 * stderr is captured around each call.  One TAP line per check (tap.h,
 * shared with test/unit); exits 1 if any check failed.
 */
#define _GNU_SOURCE
#include "log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

static FILE *capture;
static int	saved_fd = -1;
static char said[2048];			/* what went to stderr since begin() */

static void
begin(void)
{
	capture = tmpfile();
	fflush(stderr);
	saved_fd = dup(STDERR_FILENO);
	if (capture)
		dup2(fileno(capture), STDERR_FILENO);
}

static void
end(void)
{
	size_t		n = 0;

	fflush(stderr);
	dup2(saved_fd, STDERR_FILENO);
	close(saved_fd);
	if (capture)
	{
		rewind(capture);
		n = fread(said, 1, sizeof said - 1, capture);
		fclose(capture);
	}
	said[n] = '\0';
}

/* After "YYYY-MM-DDTHH:MM:SSZ stockpipe-dash: " at the start of line; NULL if not there. */
static const char *
after_prefix(const char *line)
{
	static const char shape[] = "####-##-##T##:##:##Z stockpipe-dash: ";

	for (size_t i = 0; i < sizeof shape - 1; i++)
		if (shape[i] == '#' ? !isdigit((unsigned char) line[i]) : line[i] != shape[i])
			return NULL;
	return line + sizeof shape - 1;
}

static void
expect_line(const char *want, const char *what)
{
	const char *rest = after_prefix(said);
	size_t		len = strlen(want);

	if (!check(rest && !strncmp(rest, want, len) && !strcmp(rest + len, "\n"),
			   "%s", what))
		diag("said \"%s\", want \"TIME stockpipe-dash: %s\\n\"", said, want);
}

static void
mhd(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	dash_log_mhd(NULL, fmt, ap);
	va_end(ap);
}

static void
test_lines(void)
{
	begin();
	dash_log("listening on http://%s:%u/", "127.0.0.1", 8080u);
	end();
	expect_line("listening on http://127.0.0.1:8080/", "a log line: UTC time, program, message");

	begin();
	dash_log_pq("cannot connect to PostgreSQL: ", "connection refused\n\tIs the server running?\n \n");
	end();
	expect_line("cannot connect to PostgreSQL: connection refused\n\tIs the server running?",
				"a libpq message: its trailing newlines and spaces dropped");

	begin();
	mhd("Failed to accept connection: %s\n", "Too many open files");
	end();
	expect_line("libmicrohttpd: Failed to accept connection: Too many open files",
				"a libmicrohttpd message: prefixed, its trailing newline dropped");
	begin();
	mhd("Another message\n");
	end();
	check(said[0] == '\0', "a second libmicrohttpd message within %d s: left out", DASH_LOG_LIMIT_SEC);
}

static void
test_limited(void)
{
	dash_log_limit a = DASH_LOG_LIMIT_INIT,
				b = DASH_LOG_LIMIT_INIT;

	begin();
	dash_log_limited(&a, "refused a request from %s", "192.0.2.1");
	end();
	expect_line("refused a request from 192.0.2.1", "a rate-limited line: the first one logged");

	begin();
	dash_log_limited(&a, "refused a request from %s", "192.0.2.2");
	dash_log_limited(&a, "refused a request from %s", "192.0.2.3");
	end();
	check(said[0] == '\0' && a.skipped == 2, "two more within %d s: left out, counted", DASH_LOG_LIMIT_SEC);

	begin();
	dash_log_limited(&b, "closed a connection from %s", "192.0.2.4");
	end();
	expect_line("closed a connection from 192.0.2.4", "another kind of line: its own limit");

	a.next_ms = 0;				/* as if DASH_LOG_LIMIT_SEC had passed */
	begin();
	dash_log_limited(&a, "refused a request from %s", "192.0.2.5");
	end();
	expect_line("refused a request from 192.0.2.5 (2 more since the last such line)",
				"after the interval: logged with the number left out");
	check(a.skipped == 0, "the count starts again");
}

static void
expect_printable(const char *src, size_t cap, const char *want)
{
	char		got[64];

	memset(got, 'x', sizeof got);
	dash_log_printable(got, cap, src);
	check(!strcmp(got, want), "printable form of \"%s\" in %zu bytes: \"%s\"", want, cap, want);
}

static void
test_printable(void)
{
	expect_printable("dash.example:8080", 64, "dash.example:8080");
	expect_printable("", 64, "");
	expect_printable("a\nb\rc\td\x7f" "e", 64, "a?b?c?d?e");
	expect_printable("\x1b[31mred", 64, "?[31mred");
	expect_printable("\xc3\xa9t\xc3\xa9", 64, "??t??");
	expect_printable("abcdef", 4, "abc");
	expect_printable("abcdef", 1, "");
}

int
main(void)
{
	test_lines();
	test_limited();
	test_printable();
	return tap_summary();
}
