/*
 * fixtures.h -- the producer's unit tests read the recorded Yahoo
 * responses (../shared/fixtures/yahoo, or $STOCKPIPE_FIXTURES) with these.
 * The checks themselves come from the shared harness, test/unit/tap.h.
 */
#ifndef STOCKPIPE_FIXTURES_H
#define STOCKPIPE_FIXTURES_H

#include <stdio.h>
#include <stdlib.h>

#include "tap.h"

/* Reads a whole file; a failed check and exit if it cannot. */
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
		check(false, "read fixture %s", path);
		exit(1);
	}
	rewind(f);
	buf = malloc((size_t) n + 1);
	if (buf == NULL || fread(buf, 1, (size_t) n, f) != (size_t) n)
	{
		check(false, "read fixture %s", path);
		exit(1);
	}
	buf[n] = '\0';
	fclose(f);
	*len = (size_t) n;
	return buf;
}

/* Where the recorded responses are. */
static inline const char *
fixtures_dir(void)
{
	const char *d = getenv("STOCKPIPE_FIXTURES");

	return d && *d ? d : "../../shared/fixtures/yahoo";
}

#endif
