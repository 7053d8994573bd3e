/*
 * stockpipe-dash: the live web dashboard's server.  This file: start-up
 * and shutdown.
 *
 * Threads:
 *   - main: the database thread (db.c).  It owns the one PostgreSQL
 *     connection, LISTENs on stockpipe_live and, woken by a notification,
 *     queries what changed and renders it once into the event ring
 *     (ring.c) that every stream reads.
 *   - libmicrohttpd's threads (http.c; one per connection, bounded in total
 *     and per client address): API handlers (api.c) borrow the connection
 *     for one query each; stream handlers (stream.c) block on the ring.
 *   - the guard's reaper (guard.c), which closes connections whose request
 *     head is late (slowloris).
 *
 * The other files: options.c the command line, log.c and clock.c the log
 * and the clock, reply.c the API's responses, files.c the static files,
 * validate.c the request and option checks, queries.h all the SQL.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include <microhttpd.h>

#include "db.h"
#include "guard.h"
#include "http.h"
#include "log.h"
#include "options.h"
#include "ring.h"

static void
on_signal(int sig)
{
	(void) sig;
	dash_db_request_stop();
}

int
main(int argc, char **argv)
{
	static dash_options opts;	/* used by the HTTP server until it stops */
	struct sigaction act;
	struct MHD_Daemon *d;
	char		hosts[1024];
	dash_db_options dbo;

	switch (dash_options_parse(&opts, argc, argv, stderr))
	{
		case DASH_OPTIONS_OK:
			break;
		case DASH_OPTIONS_HELP:
			dash_options_usage(stdout);
			return 0;
		case DASH_OPTIONS_BAD:
			dash_options_usage(stderr);
			return 2;
	}

	dbo.dsn = opts.dsn;
	dbo.statement_timeout_ms = opts.statement_timeout_ms;
	dbo.max_refresh_rate = opts.max_refresh_rate;
	if (!dash_db_init(&dbo))
		return 1;
	dash_ring_init();
	memset(&act, 0, sizeof act);
	act.sa_handler = on_signal;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	act.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &act, NULL);

	if (!dash_guard_start(opts.request_timeout))
	{
		dash_log("cannot start the request-timeout thread");
		return 1;
	}
	d = dash_http_start(&opts);
	if (!d)
	{
		dash_log("cannot listen on %s", opts.listen);
		return 1;
	}
	{
		const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
		char		host[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &opts.listen_addr.sin_addr, host, sizeof host);
		dash_options_describe_hosts(&opts.hosts, hosts, sizeof hosts);
		dash_log("listening on http://%s:%u/ (static files in %s; allowed hosts: %s)", host,
				 info ? info->port : ntohs(opts.listen_addr.sin_port), opts.static_dir, hosts);
	}

	dash_db_run();

	/* Graceful: stop accepting, end the streams, let requests finish. */
	dash_log("shutting down");
	MHD_quiesce_daemon(d);
	dash_ring_close();
	MHD_stop_daemon(d);
	dash_guard_stop();
	dash_db_finish();
	dash_ring_free();
	dash_log("stopped");
	return 0;
}
