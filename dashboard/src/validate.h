/*
 * validate.h: the pure checks of stockpipe-dash, kept apart from the server
 * so that a unit test (test/validate_test.c) runs them without a database,
 * a socket or libmicrohttpd.  Nothing here allocates, locks or logs.
 *
 * The one header without the dashboard's dash_ / DASH_ prefix: its names
 * are also those of the fuzz harness (test/fuzz/dashboard_fuzz.c), which
 * links validate.c alone.
 */
#ifndef DASH_VALIDATE_H
#define DASH_VALIDATE_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#define DASH_HOST_NAME_LEN 255		/* a DNS name (253) or "[IPv6]" fits */
#define DASH_HOSTLIST_MAX 32			/* entries of --allowed-hosts */
#define DASH_PORT_ANY (-1)			/* an allow-list entry without a port */

/* A quote's symbol as the contract defines it. */
bool		dash_validate_symbol(const char *s);

/*
 * The symbols parameter of /api/sparks: a comma-separated list of 1 to max
 * symbols, each a symbol as dash_validate_symbol says (no spaces, no empty
 * entry; a symbol may repeat).  On success *count is the number of
 * entries (may be NULL).
 */
typedef enum
{
	DASH_SYMLIST_OK,
	DASH_SYMLIST_MISSING,				/* NULL or empty */
	DASH_SYMLIST_TOO_MANY,				/* more than max entries */
	DASH_SYMLIST_BAD_SYMBOL				/* an entry is not a symbol */
} dash_symlist_check;

#define DASH_SPARKS_MAX_SYMBOLS 200

dash_symlist_check dash_validate_symbol_list(const char *s, int max, int *count);

/*
 * An ISO 8601 date or date-time:
 * YYYY-MM-DD[(T| )HH:MM[:SS[.f+]]][Z|(+|-)HH[:MM]], and a real calendar
 * date and time of day.  PostgreSQL parses it again; this keeps its other
 * input forms ('now', 'epoch', 'infinity', ...) out.  On success, *has_zone
 * says whether it carries Z or an offset, and *epoch is the instant in
 * seconds (the zone taken as UTC when it has none); either may be NULL.
 */
bool		dash_validate_iso_time(const char *s, int64_t *epoch, bool *has_zone);

/*
 * The from/to parameters of /api/intraday.  Each may be NULL or empty (the
 * server's default), else must pass dash_validate_iso_time.  When both are given
 * with a zone, the order and the 31-day bound are checked here too; without
 * a zone they depend on the session's time zone and are left to the query.
 */
typedef enum
{
	DASH_RANGE_OK,
	DASH_RANGE_BAD_TIME,				/* not ISO 8601, or not a calendar date */
	DASH_RANGE_BAD_ORDER				/* from >= to, or more than 31 days */
} dash_range_check;

#define DASH_RANGE_MAX_DAYS 31

dash_range_check	dash_validate_time_range(const char *from, const char *to);

/*
 * The Host allow-list (DNS rebinding: a page on another site, whose name
 * resolves to 127.0.0.1, must not read the dashboard).  Entries are
 * lower-case names, dotted IPv4 addresses or bracketed IPv6 addresses, each
 * with a port or DASH_PORT_ANY.
 */
typedef struct dash_host_entry
{
	char		name[DASH_HOST_NAME_LEN + 1];
	int			port;
} dash_host_entry;

typedef struct dash_host_list
{
	int			n;
	bool		any;			/* "*": every Host, the check is off */
	dash_host_entry	e[DASH_HOSTLIST_MAX];
} dash_host_list;

/*
 * Split "name", "name:port", "[v6]" or "[v6]:port" (len bytes of s) into
 * a lower-case name and a port (DASH_PORT_ANY when absent); one trailing dot of
 * a name is dropped.  False when it is not one of these.
 */
bool		dash_validate_split_host(const char *s, size_t len, char *name, size_t cap, int *port);

/* Add one entry ("name[:port]"); false when malformed or the list is full. */
bool		dash_hostlist_add(dash_host_list *l, const char *entry, size_t len);

/*
 * Parse a comma-separated list (spaces around entries are ignored) into an
 * empty *l; "*" allows every Host.  On error, *bad points at the offending
 * entry.
 */
bool		dash_hostlist_parse(dash_host_list *l, const char *spec, const char **bad);

/*
 * Does a request's Host header match?  NULL (no Host) never does.  A Host
 * without a port means port 80; an entry without a port matches every port.
 */
bool		dash_hostlist_allows(const dash_host_list *l, const char *host);

/* --listen: "IPv4:PORT", or "*:PORT" / ":PORT" for every interface. */
bool		dash_validate_listen(const char *s, struct sockaddr_in *sa);

/* A decimal number in [min, max], nothing else. */
bool		parse_uint_range(const char *s, unsigned min, unsigned max, unsigned *out);

#endif
