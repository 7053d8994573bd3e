/*
 * tap.h
 *	  The one test harness of every C unit test (test/unit, producer/test/unit,
 *	  dashboard/test): TAP lines "ok N - ..." / "not ok N - ...", diagnostics
 *	  "#   ..." under a failed check, and a closing plan "1..N" with a
 *	  summary "# N passed, N failed".  Header only: include it and end main()
 *	  with "return tap_summary();".
 *
 *	  check(ok, fmt, ...)          one check, printf-style description
 *	  diag(fmt, ...)               a diagnostic line
 *	  CHECK(cond, desc)            a check that shows the expression if it fails
 *	  check_int(got, want, desc)   equal integers
 *	  check_num(got, want, desc)   equal doubles (NaN equals NaN)
 *	  check_str(got, want, desc)   equal strings (NULL equals nothing)
 *	  tap_summary()                the closing lines; returns the exit status
 *
 *	  Every line is flushed at once, so that a test killed by a sanitizer
 *	  still shows how far it got.
 */
#ifndef STOCKPIPE_TAP_H
#define STOCKPIPE_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	fflush(stdout);
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
	fflush(stdout);
}

/* A check whose failure shows the expression that was false. */
#define CHECK(cond, desc) \
	((void) (check((cond), "%s", (desc)) || (diag("false: %s", #cond), false)))

static inline bool
check_int(long long got, long long want, const char *desc)
{
	if (check(got == want, "%s", desc))
		return true;
	diag("got %lld, expected %lld", got, want);
	return false;
}

static inline bool
check_num(double got, double want, const char *desc)
{
	if (check((isnan(got) && isnan(want)) || got == want, "%s", desc))
		return true;
	diag("got %.17g, expected %.17g", got, want);
	return false;
}

static inline bool
check_str(const char *got, const char *want, const char *desc)
{
	if (check(got && want && strcmp(got, want) == 0, "%s", desc))
		return true;
	diag("got      \"%s\"", got ? got : "(null)");
	diag("expected \"%s\"", want ? want : "(null)");
	return false;
}

/*
 * The closing lines, and the exit status: 1 if any check failed, or if
 * none ran.
 */
static int
tap_summary(void)
{
	printf("1..%d\n", n_checks);
	printf("# %d passed, %d failed\n", n_checks - n_failed, n_failed);
	fflush(stdout);
	return n_failed == 0 && n_checks > 0 ? 0 : 1;
}

#endif							/* STOCKPIPE_TAP_H */
