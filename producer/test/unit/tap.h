/*
 * tap.h -- minimal TAP-like output for the producer's unit tests: one
 * "ok - name" / "not ok - name" line per check; the exit status is the
 * number of failures (capped), so run.sh can tell.
 */
#ifndef STOCKPIPE_TAP_H
#define STOCKPIPE_TAP_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int	tap_failures;
static int	tap_count;

static inline void
tap_check(int cond, const char *name, const char *detail)
{
	tap_count++;
	if (cond)
		printf("ok - %s\n", name);
	else
	{
		tap_failures++;
		printf("not ok - %s\n", name);
		if (detail && *detail)
			printf("#   %s\n", detail);
	}
	fflush(stdout);
}

#define CHECK(cond, name) tap_check((cond), (name), #cond)

static inline void
check_str(const char *got, const char *want, const char *name)
{
	char		detail[2048];
	int			ok = got && want && strcmp(got, want) == 0;

	snprintf(detail, sizeof(detail), "got  \"%s\"\n#   want \"%s\"",
			 got ? got : "(null)", want ? want : "(null)");
	tap_check(ok, name, detail);
}

static inline void
check_num(double got, double want, const char *name)
{
	char		detail[256];
	int			ok = (isnan(got) && isnan(want)) || got == want;

	snprintf(detail, sizeof(detail), "got %.17g, want %.17g", got, want);
	tap_check(ok, name, detail);
}

static inline void
check_int(long long got, long long want, const char *name)
{
	char		detail[256];

	snprintf(detail, sizeof(detail), "got %lld, want %lld", got, want);
	tap_check(got == want, name, detail);
}

static inline int
tap_done(void)
{
	printf("# %d checks, %d failed\n", tap_count, tap_failures);
	return tap_failures > 100 ? 100 : tap_failures;
}

/* Reads a whole file (fixtures); aborts the test program if it cannot. */
static inline char *
read_file(const char *dir, const char *name, size_t *len)
{
	char		path[1024];
	FILE	   *f;
	char	   *buf;
	long		n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0)
	{
		printf("not ok - read fixture %s\n", path);
		exit(1);
	}
	rewind(f);
	buf = malloc((size_t) n + 1);
	if (buf == NULL || fread(buf, 1, (size_t) n, f) != (size_t) n)
	{
		printf("not ok - read fixture %s\n", path);
		exit(1);
	}
	buf[n] = '\0';
	fclose(f);
	*len = (size_t) n;
	return buf;
}

static inline const char *
fixtures_dir(void)
{
	const char *d = getenv("STOCKPIPE_FIXTURES");

	return d && *d ? d : "../../shared/fixtures/yahoo";
}

#endif
