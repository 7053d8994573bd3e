/*
 * tap.h
 *	  The little test harness the unit tests share: TAP-like lines
 *	  "ok N - ..." / "not ok N - ...", diagnostics, and a closing summary.
 */
#ifndef STOCKPIPE_TAP_H
#define STOCKPIPE_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int	n_checks;
static int	n_failed;

static bool check(bool ok, const char *fmt,...) __attribute__((format(printf, 2, 3), unused));
static void diag(const char *fmt,...) __attribute__((format(printf, 1, 2), unused));

/* Record and print one check. */
static bool
check(bool ok, const char *fmt,...)
{
	va_list		ap;

	n_checks++;
	if (!ok)
		n_failed++;
	printf("%sok %d - ", ok ? "" : "not ", n_checks);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return ok;
}

/* A diagnostic line under the check just printed. */
static void
diag(const char *fmt,...)
{
	va_list		ap;

	fputs("#   ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* The closing line, and the exit status: 1 if any check failed. */
static int
tap_summary(void)
{
	printf("# %d passed, %d failed\n", n_checks - n_failed, n_failed);
	return n_failed == 0 ? 0 : 1;
}

#endif							/* STOCKPIPE_TAP_H */
