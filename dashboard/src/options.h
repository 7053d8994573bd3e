/*
 * options.h: the command line of stockpipe-dash: its options, their
 * defaults and bounds, and what follows from them (the listen address, the
 * Host allow-list).  Parsing neither exits nor logs, so that a unit test
 * (test/options_test.c) can run it.
 */
#ifndef DASH_OPTIONS_H
#define DASH_OPTIONS_H

#include <stdio.h>
#include <netinet/in.h>

#include "validate.h"

typedef struct dash_options
{
	/* As given, or the defaults */
	const char *listen;			/* --listen ADDR:PORT */
	const char *dsn;			/* --dsn, "" for the PG* environment */
	const char *static_dir;		/* --static */
	const char *allowed_hosts;	/* --allowed-hosts; NULL: the defaults */
	unsigned	max_clients;	/* --max-clients: most event streams */
	unsigned	per_ip;			/* --max-connections-per-ip, 0: no limit */
	unsigned	timeout;		/* --timeout: idle seconds per connection */
	unsigned	request_timeout;	/* --request-timeout: seconds for a
									 * request head */
	unsigned	statement_timeout_ms;	/* --statement-timeout */
	unsigned	max_refresh_rate;	/* --max-refresh-rate */

	/* What follows from them */
	struct sockaddr_in listen_addr; /* --listen, parsed */
	dash_host_list	hosts;			/* --allowed-hosts, parsed, or the defaults */
} dash_options;

typedef enum
{
	DASH_OPTIONS_OK,			/* run */
	DASH_OPTIONS_HELP,			/* --help: the usage on stdout, exit 0 */
	DASH_OPTIONS_BAD			/* the usage on stderr, exit 2 */
} dash_options_result;

/*
 * Parse argv into *o (which needs no initialization).  On DASH_OPTIONS_BAD
 * the reason is written to err as one line "stockpipe-dash: ...", except
 * for an unknown option or a missing value, which getopt_long reports on
 * stderr itself.  The strings of *o point into argv.
 */
dash_options_result dash_options_parse(dash_options *o, int argc, char **argv, FILE *err);

/* The usage lines. */
void		dash_options_usage(FILE *f);

/*
 * The default allow-list: the loopback names and the listen address, with
 * the listen port (any port when it is 0: the kernel picks it).
 */
void		dash_options_default_hosts(dash_host_list *l, const struct sockaddr_in *sa);

/* The allow-list for the start-up log line: "name:port, ...". */
void		dash_options_describe_hosts(const dash_host_list *l, char *buf, size_t cap);

#endif
