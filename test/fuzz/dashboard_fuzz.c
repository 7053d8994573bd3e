/*-------------------------------------------------------------------------
 *
 * dashboard_fuzz.c
 *	  libFuzzer harness of stockpipe-dash's request and option checks
 *	  (dashboard/src/validate.c): symbols, ISO times and ranges, the Host
 *	  allow-list, --listen and numbers, on arbitrary bytes.
 *
 * Invariants:
 *	 - a symbol is accepted exactly when the message contract accepts it;
 *	 - an accepted time has a 4-digit year and re-checks the same; a range
 *	   accepted with both ends zoned is ordered and at most 31 days long;
 *	 - dash_validate_split_host gives a lower-case name that fits, and a port 0..65535 or
 *	   DASH_PORT_ANY; a list entry that parsed allows its own "name:port";
 *	 - parse_uint_range stays within its bounds;
 *	 - /api/sparks' symbol list gives the answer of a plain reference (split
 *	   at commas, entries checked in order by the contract, at most max of
 *	   them), with max 3 and DASH_SPARKS_MAX_SYMBOLS.
 * Out-of-bounds reads and undefined behaviour are caught by ASan / UBSan.
 *
 *-------------------------------------------------------------------------
 */
#define _DEFAULT_SOURCE			/* strsep */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract.h"
#include "validate.h"

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
			abort(); \
		} \
	} while (0)

/* The input as a NUL-terminated string, cut at its first NUL. */
static char *
as_string(const uint8_t *data, size_t size)
{
	char	   *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static void
check_times(const char *s)
{
	int64_t		epoch;
	bool		zone;
	const char *sep = strchr(s, '|');

	if (dash_validate_iso_time(s, &epoch, &zone))
	{
		int64_t		again;
		bool		zone2;

		/* years 0001-9999 only */
		CHECK(epoch >= INT64_C(-62135596800) - 86400 && epoch < INT64_C(253402300800) + 86400);
		CHECK(dash_validate_iso_time(s, &again, &zone2) && again == epoch && zone2 == zone);
	}
	if (sep != NULL)
	{
		char	   *from = malloc((size_t) (sep - s) + 1);
		const char *to = sep + 1;
		int64_t		f,
					t;
		bool		fz,
					tz;

		if (from == NULL)
			abort();
		memcpy(from, s, (size_t) (sep - s));
		from[sep - s] = '\0';
		if (dash_validate_time_range(from, to) == DASH_RANGE_OK &&
			dash_validate_iso_time(from, &f, &fz) && dash_validate_iso_time(to, &t, &tz) && fz && tz)
			CHECK(f < t && t - f <= (int64_t) DASH_RANGE_MAX_DAYS * 86400);
		free(from);
	}
}

static void
check_hosts(const char *s, size_t len)
{
	char		name[DASH_HOST_NAME_LEN + 1];
	int			port;
	dash_host_list	l;
	const char *bad = NULL;

	if (dash_validate_split_host(s, len, name, sizeof(name), &port))
	{
		CHECK(strlen(name) <= DASH_HOST_NAME_LEN);
		for (const char *p = name; *p; p++)
			CHECK(!(*p >= 'A' && *p <= 'Z'));
		CHECK(port == DASH_PORT_ANY || (port >= 0 && port <= 65535));
	}
	memset(&l, 0, sizeof(l));
	if (dash_hostlist_parse(&l, s, &bad) && !l.any)
	{
		CHECK(l.n >= 0 && l.n <= DASH_HOSTLIST_MAX);
		for (int i = 0; i < l.n; i++)
		{
			char		host[DASH_HOST_NAME_LEN + 16];

			CHECK(l.e[i].port == DASH_PORT_ANY || (l.e[i].port >= 0 && l.e[i].port <= 65535));
			if (l.e[i].port != DASH_PORT_ANY && l.e[i].port != 0)
			{
				snprintf(host, sizeof(host), "%s:%d", l.e[i].name, l.e[i].port);
				CHECK(dash_hostlist_allows(&l, host));
			}
		}
	}
	(void) dash_hostlist_allows(&l, s);
	CHECK(!dash_hostlist_allows(&l, NULL) || l.any);
}

/* What dash_validate_symbol_list must answer, the plain way. */
static dash_symlist_check
symbol_list_reference(const char *s, int max, int *count)
{
	char	   *copy;
	char	   *rest;
	char	   *entry;
	int			n = 0;
	dash_symlist_check r = DASH_SYMLIST_OK;

	if (*s == '\0')
		return DASH_SYMLIST_MISSING;
	copy = rest = strdup(s);
	if (copy == NULL)
		abort();
	while ((entry = strsep(&rest, ",")) != NULL)
	{
		if (++n > max)
		{
			r = DASH_SYMLIST_TOO_MANY;
			break;
		}
		if (!sp_valid_symbol(entry))
		{
			r = DASH_SYMLIST_BAD_SYMBOL;
			break;
		}
	}
	free(copy);
	*count = n;
	return r;
}

static void
check_symbol_list(const char *s, int max)
{
	int			count = -1;
	int			want_count;
	dash_symlist_check got = dash_validate_symbol_list(s, max, &count);
	dash_symlist_check want = symbol_list_reference(s, max, &want_count);

	CHECK(got == want);
	if (got == DASH_SYMLIST_OK)
		CHECK(count == want_count && count >= 1 && count <= max);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *s = as_string(data, size);
	size_t		len = strlen(s);
	unsigned	n;
	struct sockaddr_in sa;

	CHECK(dash_validate_symbol(s) == sp_valid_symbol(s));
	check_times(s);
	check_hosts(s, len);
	if (parse_uint_range(s, 1, 1000, &n))
		CHECK(n >= 1 && n <= 1000);
	(void) dash_validate_listen(s, &sa);
	check_symbol_list(s, 3);
	check_symbol_list(s, DASH_SPARKS_MAX_SYMBOLS);
	CHECK(dash_validate_symbol_list(NULL, 3, NULL) == DASH_SYMLIST_MISSING);
	free(s);
	return 0;
}
