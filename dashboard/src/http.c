/*
 * http.c: the HTTP server (http.h): starts libmicrohttpd with the limits of
 * the options, refuses requests for another Host or with another method
 * than GET and HEAD, and routes the others to the static files (files.h),
 * the API (api.h) and the event stream (stream.h).
 */
#include "http.h"
#include "api.h"
#include "files.h"
#include "guard.h"
#include "log.h"
#include "reply.h"
#include "stream.h"

#include <stdbool.h>
#include <string.h>

static dash_log_limit host_log = DASH_LOG_LIMIT_INIT;

/*
 * DNS rebinding: a page of another site whose name the attacker points at
 * 127.0.0.1 reaches us with its own name in Host.  Only the names the
 * dashboard is served under are answered.
 */
static bool
host_allowed(const dash_options *o, struct MHD_Connection *conn)
{
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	char		shown[72],
				peer[64];

	if (dash_hostlist_allows(&o->hosts, host))
		return true;
	dash_log_printable(shown, sizeof shown, host ? host : "(none)");
	dash_guard_peer_name(conn, peer, sizeof peer);
	dash_log_limited(&host_log, "refused a request from %s for Host %s: not in --allowed-hosts",
					 peer, shown);
	return false;
}

static enum MHD_Result
route(const dash_options *o, struct MHD_Connection *conn, const char *url)
{
	if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
		return dash_files_serve(conn, o->static_dir, "index.html", "no-cache");
	if (!strncmp(url, "/static/", 8))
		return dash_files_serve(conn, o->static_dir, url + 8, "public, max-age=3600");
	if (!strcmp(url, "/api/symbols"))
		return dash_api_symbols(conn);
	if (!strcmp(url, "/api/sparks"))
		return dash_api_sparks(conn);
	if (!strcmp(url, "/api/intraday"))
		return dash_api_intraday(conn);
	if (!strcmp(url, "/api/daily"))
		return dash_api_daily(conn);
	if (!strcmp(url, "/api/alerts"))
		return dash_api_alerts(conn);
	if (!strcmp(url, "/api/stream"))
		return dash_stream_open(conn, o->max_clients, dash_stream_heartbeat_ms(o->timeout));
	if (!strcmp(url, "/healthz"))
		return dash_api_healthz(conn);
	return dash_reply_error(conn, 404, "not found");
}

/* libmicrohttpd's access handler; cls: the options. */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
		   const char *version, const char *upload_data, size_t *upload_size, void **req_cls)
{
	static int	first;
	const dash_options *o = cls;

	(void) version;
	(void) upload_data;
	if (*req_cls == NULL)
	{
		/* The request head is complete. */
		*req_cls = &first;
		dash_guard_request_begun(conn);
		/* Answered before any body is read: a refused client uploads nothing. */
		if (!host_allowed(o, conn))
			return dash_reply_error(conn, 421, "host not allowed");
		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
			return dash_reply_error(conn, 405, "method not allowed");
		return MHD_YES;
	}
	if (*upload_size)
	{
		*upload_size = 0;		/* ignore a body; answered below */
		return MHD_YES;
	}
	return route(o, conn, url);
}

struct MHD_Daemon *
dash_http_start(const dash_options *o)
{
	return MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
							MHD_USE_ERROR_LOG | MHD_USE_POLL | MHD_USE_ITC,
							0, NULL, NULL, on_request, (void *) o,
							MHD_OPTION_EXTERNAL_LOGGER, dash_log_mhd, NULL,
							MHD_OPTION_SOCK_ADDR, (const struct sockaddr *) &o->listen_addr,
							MHD_OPTION_CONNECTION_TIMEOUT, o->timeout,
							MHD_OPTION_CONNECTION_LIMIT, o->max_clients + DASH_HTTP_EXTRA_CONNECTIONS,
							MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->per_ip,
							MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 64 * 1024,
							MHD_OPTION_NOTIFY_CONNECTION, dash_guard_on_connection, NULL,
							MHD_OPTION_NOTIFY_COMPLETED, dash_guard_on_completed, NULL,
							MHD_OPTION_END);
}
