/*
 * stockpipe-dash: the live web dashboard's server.
 *
 * Threads:
 *   - main: the database thread (db.c).  It owns the one PostgreSQL
 *     connection, LISTENs on stockpipe_live and, woken by a notification,
 *     queries what changed and renders it once into the event ring
 *     (ring.c) that every stream reads.
 *   - libmicrohttpd's threads (one per connection, bounded in total and
 *     per client address): API handlers borrow the connection for one
 *     query each; stream handlers block on the ring.
 *   - the guard's reaper (guard.c), which closes connections whose request
 *     head is late (slowloris).
 *
 * This file: options, the HTTP routes and the streams.  All SQL is in
 * queries.h; the request checks are in validate.c.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <microhttpd.h>

#include "common.h"
#include "db.h"
#include "guard.h"
#include "queries.h"
#include "ring.h"
#include "validate.h"

#ifndef DASH_STATIC_DIR
#define DASH_STATIC_DIR "/usr/local/share/stockpipe-dash"
#endif

#define HEARTBEAT_MAX_MS 15000	/* SSE comment line when idle, at most */
#define EXTRA_CONNECTIONS 64	/* connections beyond --max-clients streams */

/* Options */
static const char *opt_listen = "127.0.0.1:8080";
static const char *opt_dsn = "";
static const char *opt_static = DASH_STATIC_DIR;
static const char *opt_allowed_hosts;	/* NULL: the defaults */
static unsigned opt_max_clients = 100;
static unsigned opt_per_ip = 16;
static unsigned opt_timeout = 30;	/* idle seconds per connection */
static unsigned opt_request_timeout = 10;	/* seconds for a request head */
static unsigned opt_statement_timeout_ms = 5000;
static unsigned opt_max_refresh_rate = 10;

static HostList allowed_hosts;
static int64_t heartbeat_ms;
static RateLog host_log = RATELOG_INIT;

/*
 * libmicrohttpd's messages (a connection refused at a limit, one closed on
 * a read error) happen once per connection an attacker opens: rate-limited
 * like ours, on one line each.
 */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	static RateLog mhd_ratelog = RATELOG_INIT;
	char		msg[512];
	size_t		n;

	(void) cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	logmsg_limited(&mhd_ratelog, "libmicrohttpd: %s", msg);
}

static void
on_signal(int sig)
{
	(void) sig;
	db_request_stop();
}

/* --------------------------------------------------------------- responses */

static enum MHD_Result
send_buf(struct MHD_Connection *conn, unsigned status, const char *ctype,
		 const char *cache, const char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *) body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", ctype);
	MHD_add_response_header(r, "Cache-Control", cache);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
send_json(struct MHD_Connection *conn, unsigned status, const char *json)
{
	return send_buf(conn, status, "application/json; charset=utf-8", "no-store",
					json, strlen(json));
}

/* {"error": msg}; msg is one of our constant strings, no escaping needed. */
static enum MHD_Result
send_error(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	char		body[256];

	snprintf(body, sizeof body, "{\"error\":\"%s\"}", msg);
	return send_json(conn, status, body);
}

static enum MHD_Result
send_query_error(struct MHD_Connection *conn, QResult qr)
{
	if (qr == QR_DOWN)
		return send_error(conn, 503, "database unavailable");
	if (qr == QR_BAD_INPUT)
		return send_error(conn, 400, "bad parameter");
	return send_error(conn, 500, "query failed");
}

/* ------------------------------------------------------------------ routes */

/* 404 unless the symbol is known; true when it answered. */
static bool
symbol_unknown(struct MHD_Connection *conn, const char *sym, enum MHD_Result *ret)
{
	const char *params[1] = {sym};
	char	   *out;
	QResult		qr;

	if (!valid_symbol(sym))
	{
		*ret = send_error(conn, sym ? 404 : 400, sym ? "unknown symbol" : "symbol required");
		return true;
	}
	qr = db_query(Q_SYMBOL_EXISTS, 1, params, &out);
	if (qr != QR_OK)
	{
		*ret = send_query_error(conn, qr);
		return true;
	}
	if (strcmp(out, "t") != 0)
	{
		free(out);
		*ret = send_error(conn, 404, "unknown symbol");
		return true;
	}
	free(out);
	return false;
}

static enum MHD_Result
api_json(struct MHD_Connection *conn, const char *sql, int n, const char *const *params,
		 unsigned null_status, const char *null_msg)
{
	char	   *out;
	QResult		qr = db_query(sql, n, params, &out);
	enum MHD_Result ret;

	if (qr == QR_NULL)
		return send_error(conn, null_status, null_msg);
	if (qr != QR_OK)
		return send_query_error(conn, qr);
	ret = send_json(conn, 200, out);
	free(out);
	return ret;
}

#define E_BAD_TIME "bad range: from and to must be ISO 8601 times"
#define E_BAD_ORDER "bad range: from must be before to, at most 31 days apart"

/* The series between the times Q_INTRADAY_RANGE resolved ("FROM|TO"). */
static enum MHD_Result
intraday_series(struct MHD_Connection *conn, const char *sym, char *range)
{
	char	   *bar = strchr(range, '|');
	const char *params[3] = {sym, range, NULL};
	char		body[128];

	if (!strcmp(range, "bad"))
		return send_error(conn, 400, E_BAD_ORDER);
	if (!strcmp(range, "none"))
	{
		/* Daily bars only: no quotes, an empty series. */
		snprintf(body, sizeof body,
				 "{\"symbol\":\"%s\",\"from\":null,\"to\":null,\"points\":[]}", sym);
		return send_json(conn, 200, body);
	}
	if (!bar)
		return send_error(conn, 500, "query failed");
	*bar = '\0';
	params[2] = bar + 1;
	return api_json(conn, Q_INTRADAY, 3, params, 500, "no result");
}

static enum MHD_Result
api_intraday(struct MHD_Connection *conn)
{
	const char *sym = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "symbol");
	const char *from = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "from");
	const char *to = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "to");
	const char *params[3] = {sym, from && *from ? from : NULL, to && *to ? to : NULL};
	enum MHD_Result ret;
	char	   *range;
	QResult		qr;

	switch (check_time_range(from, to))
	{
		case RANGE_BAD_TIME:
			return send_error(conn, 400, E_BAD_TIME);
		case RANGE_BAD_ORDER:
			return send_error(conn, 400, E_BAD_ORDER);
		case RANGE_OK:
			break;
	}
	if (symbol_unknown(conn, sym, &ret))
		return ret;
	/* The query applies the defaults and checks the range again, in the session's zone. */
	qr = db_query(Q_INTRADAY_RANGE, 3, params, &range);
	if (qr != QR_OK)
		return send_query_error(conn, qr == QR_NULL ? QR_ERROR : qr);
	ret = intraday_series(conn, sym, range);
	free(range);
	return ret;
}

static enum MHD_Result
api_daily(struct MHD_Connection *conn)
{
	const char *sym = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "symbol");
	const char *params[1] = {sym};
	enum MHD_Result ret;

	if (symbol_unknown(conn, sym, &ret))
		return ret;
	return api_json(conn, Q_DAILY, 1, params, 500, "no result");
}

/*
 * /healthz: whether the database is up, the session settings as
 * PostgreSQL reports them, and counters that show the limits at work.
 */
static enum MHD_Result
api_healthz(struct MHD_Connection *conn)
{
	DbStatus	st;
	char		body[512];

	db_status(&st);
	snprintf(body, sizeof body,
			 "{\"database\":\"%s\",\"jit\":\"%s\",\"statement_timeout\":\"%s\","
			 "\"notifications\":%lu,\"refreshes\":%lu,\"quote_events\":%lu,"
			 "\"request_timeouts\":%lu}",
			 st.up ? "up" : "down", st.jit, st.statement_timeout,
			 st.notifications, st.refreshes, st.quote_events, guard_closed());
	return send_json(conn, st.up ? 200 : 503, body);
}

/* ------------------------------------------------------------------ streams */

typedef struct SseClient
{
	int			fd;				/* the client's socket, to notice it left */
	uint64_t	next;			/* next event to send */
	char	   *pending;		/* what is being sent, and how far */
	size_t		len,
				off;
} SseClient;

/*
 * libmicrohttpd's content reader: blocks in the ring until an event, or a
 * heartbeat comment when nothing happened for heartbeat_ms, which is at
 * most half of --timeout, so that the idle timeout never closes a healthy
 * stream (it closes one whose client stopped reading).
 */
static ssize_t
sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	SseClient  *c = cls;
	size_t		n;

	(void) pos;
	if (!c->pending)
	{
		if (ring_next(&c->next, mono_ms() + heartbeat_ms, c->fd, &c->pending) == RING_END)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (!c->pending)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		c->len = strlen(c->pending);
		c->off = 0;
	}
	n = c->len - c->off;
	if (n > max)
		n = max;
	memcpy(buf, c->pending + c->off, n);
	c->off += n;
	if (c->off == c->len)
	{
		free(c->pending);
		c->pending = NULL;
	}
	return (ssize_t) n;
}

static void
sse_free(void *cls)
{
	SseClient  *c = cls;

	free(c->pending);
	free(c);
	ring_leave();
}

static enum MHD_Result
api_stream(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct MHD_Response *r;
	SseClient  *c;
	enum MHD_Result ret;

	if (!ring_enter(opt_max_clients))
		return send_error(conn, 503, "too many stream clients");
	c = calloc(1, sizeof *c);
	if (!c)
	{
		ring_leave();
		return MHD_NO;
	}
	c->fd = ci ? ci->connect_fd : -1;
	c->next = ring_head();
	/* Something to send at once, so the browser sees the stream open. */
	c->pending = strdup("retry: 2000\n: connected\n\n");
	c->len = c->pending ? strlen(c->pending) : 0;
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, c, sse_free);
	if (!r)
	{
		sse_free(c);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "text/event-stream; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	ret = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ret;
}

/* ------------------------------------------------------------ static files */

static const char *
content_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (!dot)
		return "application/octet-stream";
	if (!strcmp(dot, ".html"))
		return "text/html; charset=utf-8";
	if (!strcmp(dot, ".js"))
		return "text/javascript; charset=utf-8";
	if (!strcmp(dot, ".css"))
		return "text/css; charset=utf-8";
	if (!strcmp(dot, ".svg"))
		return "image/svg+xml";
	if (!strcmp(dot, ".png"))
		return "image/png";
	if (!strcmp(dot, ".ico"))
		return "image/x-icon";
	return "application/octet-stream";
}

/* GET / and GET /static/NAME (NAME: [A-Za-z0-9_.-]+, not starting with '.'). */
static enum MHD_Result
serve_static(struct MHD_Connection *conn, const char *name, const char *cache)
{
	char		path[4096];
	struct stat st;
	struct MHD_Response *r;
	enum MHD_Result ret;
	int			fd;

	if (!*name || name[0] == '.' || strlen(name) > 100 ||
		strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != strlen(name))
		return send_error(conn, 404, "not found");
	snprintf(path, sizeof path, "%s/%s", opt_static, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return send_error(conn, 404, "not found");
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
	{
		close(fd);
		return send_error(conn, 404, "not found");
	}
	r = MHD_create_response_from_fd((uint64_t) st.st_size, fd);
	if (!r)
	{
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", content_type(name));
	MHD_add_response_header(r, "Cache-Control", cache);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (!strcmp(name, "index.html"))
	{
		MHD_add_response_header(r, "Content-Security-Policy",
								"default-src 'self'; style-src 'self' 'unsafe-inline'; "
								"img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
		MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	}
	ret = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ret;
}

/* ------------------------------------------------------------ the handler */

/* For a log line: printable ASCII, at most cap - 1 characters. */
static void
printable(char *dst, size_t cap, const char *src)
{
	size_t		n = 0;

	for (; *src && n + 1 < cap; src++)
		dst[n++] = (*src >= 0x20 && *src < 0x7f) ? *src : '?';
	dst[n] = '\0';
}

/*
 * DNS rebinding: a page of another site whose name the attacker points at
 * 127.0.0.1 reaches us with its own name in Host.  Only the names the
 * dashboard is served under are answered.
 */
static bool
host_allowed(struct MHD_Connection *conn)
{
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	char		shown[72],
				peer[64];

	if (hostlist_allows(&allowed_hosts, host))
		return true;
	printable(shown, sizeof shown, host ? host : "(none)");
	peer_name(conn, peer, sizeof peer);
	logmsg_limited(&host_log, "refused a request from %s for Host %s: not in --allowed-hosts",
				   peer, shown);
	return false;
}

static enum MHD_Result
route(struct MHD_Connection *conn, const char *url)
{
	if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
		return serve_static(conn, "index.html", "no-cache");
	if (!strncmp(url, "/static/", 8))
		return serve_static(conn, url + 8, "public, max-age=3600");
	if (!strcmp(url, "/api/symbols"))
		return api_json(conn, Q_QUOTES, 0, NULL, 500, "no result");
	if (!strcmp(url, "/api/intraday"))
		return api_intraday(conn);
	if (!strcmp(url, "/api/daily"))
		return api_daily(conn);
	if (!strcmp(url, "/api/alerts"))
		return api_json(conn, Q_ALERTS, 0, NULL, 500, "no result");
	if (!strcmp(url, "/api/stream"))
		return api_stream(conn);
	if (!strcmp(url, "/healthz"))
		return api_healthz(conn);
	return send_error(conn, 404, "not found");
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
		   const char *version, const char *upload_data, size_t *upload_size, void **req_cls)
{
	static int	first;

	(void) cls;
	(void) version;
	(void) upload_data;
	if (*req_cls == NULL)
	{
		/* The request head is complete. */
		*req_cls = &first;
		guard_request_begun(conn);
		/* Answered before any body is read: a refused client uploads nothing. */
		if (!host_allowed(conn))
			return send_error(conn, 421, "host not allowed");
		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
			return send_error(conn, 405, "method not allowed");
		return MHD_YES;
	}
	if (*upload_size)
	{
		*upload_size = 0;		/* ignore a body; answered below */
		return MHD_YES;
	}
	return route(conn, url);
}

/* ------------------------------------------------------------------- main */

static void
usage(FILE *f)
{
	fprintf(f,
			"usage: stockpipe-dash [options]\n"
			"  --listen ADDR:PORT           address to serve on (default 127.0.0.1:8080)\n"
			"  --dsn CONNINFO               libpq connection string (default: PG* environment)\n"
			"  --static DIR                 web assets (default " DASH_STATIC_DIR ")\n"
			"  --allowed-hosts LIST         Host headers served: comma-separated NAME[:PORT], * for any\n"
			"                               (default: localhost, 127.0.0.1, [::1] and the listen\n"
			"                               address, with the listen port)\n"
			"  --max-clients N              most Server-Sent Events clients (default 100)\n"
			"  --max-connections-per-ip N   most connections of one client address, streams\n"
			"                               included (default 16, 0 for no limit)\n"
			"  --timeout SEC                close a connection idle this long (default 30, at least 2)\n"
			"  --request-timeout SEC        close a connection whose request head takes longer\n"
			"                               (default 10)\n"
			"  --statement-timeout MS       longest query (default 5000)\n"
			"  --max-refresh-rate N         most refresh queries a second, however many\n"
			"                               notifications arrive (default 10)\n");
}

/* A number option in [min, max], or exit 2. */
static unsigned
uint_option(const char *s, const char *name, unsigned min, unsigned max)
{
	unsigned	v;

	if (!parse_uint_range(s, min, max, &v))
	{
		fprintf(stderr, "stockpipe-dash: bad --%s %s (want a whole number from %u to %u)\n",
				name, s, min, max);
		usage(stderr);
		exit(2);
	}
	return v;
}

static void
parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"dsn", required_argument, NULL, 'd'},
		{"static", required_argument, NULL, 's'},
		{"allowed-hosts", required_argument, NULL, 'H'},
		{"max-clients", required_argument, NULL, 'm'},
		{"max-connections-per-ip", required_argument, NULL, 'p'},
		{"timeout", required_argument, NULL, 't'},
		{"request-timeout", required_argument, NULL, 'r'},
		{"statement-timeout", required_argument, NULL, 'T'},
		{"max-refresh-rate", required_argument, NULL, 'R'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	int			o;

	while ((o = getopt_long(argc, argv, "", longopts, NULL)) != -1)
	{
		switch (o)
		{
			case 'l': opt_listen = optarg; break;
			case 'd': opt_dsn = optarg; break;
			case 's': opt_static = optarg; break;
			case 'H': opt_allowed_hosts = optarg; break;
			case 'm': opt_max_clients = uint_option(optarg, "max-clients", 1, 100000); break;
			case 'p': opt_per_ip = uint_option(optarg, "max-connections-per-ip", 0, 100000); break;
			case 't': opt_timeout = uint_option(optarg, "timeout", 2, 86400); break;
			case 'r': opt_request_timeout = uint_option(optarg, "request-timeout", 1, 3600); break;
			case 'T': opt_statement_timeout_ms = uint_option(optarg, "statement-timeout", 1, 1000000); break;
			case 'R': opt_max_refresh_rate = uint_option(optarg, "max-refresh-rate", 1, 1000); break;
			case 'h': usage(stdout); exit(0);
			default: usage(stderr); exit(2);
		}
	}
	if (optind < argc)
	{
		fprintf(stderr, "stockpipe-dash: unexpected argument %s\n", argv[optind]);
		usage(stderr);
		exit(2);
	}
}

/*
 * The default allow-list: the loopback names and the listen address, with
 * the listen port (any port when it is 0: the kernel picks it).
 */
static void
default_hosts(HostList *l, const struct sockaddr_in *sa)
{
	unsigned	port = ntohs(sa->sin_port);
	char		addr[INET_ADDRSTRLEN];
	char		entry[64];
	const char *names[] = {"localhost", "127.0.0.1", "[::1]", addr};
	int			n = 3;

	memset(l, 0, sizeof *l);
	/* 0.0.0.0 is no name a browser sends. */
	if (sa->sin_addr.s_addr != htonl(INADDR_ANY) && sa->sin_addr.s_addr != htonl(INADDR_LOOPBACK))
	{
		inet_ntop(AF_INET, &sa->sin_addr, addr, sizeof addr);
		n = 4;
	}
	for (int i = 0; i < n; i++)
	{
		if (port)
			snprintf(entry, sizeof entry, "%s:%u", names[i], port);
		else
			snprintf(entry, sizeof entry, "%s", names[i]);
		hostlist_add(l, entry, strlen(entry));
	}
}

static void
describe_hosts(const HostList *l, char *buf, size_t cap)
{
	size_t		len = 0;

	buf[0] = '\0';
	if (l->any)
		snprintf(buf, cap, "any");
	for (int i = 0; i < l->n && len < cap; i++)
	{
		int			k;

		if (l->e[i].port == PORT_ANY)
			k = snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", l->e[i].name);
		else
			k = snprintf(buf + len, cap - len, "%s%s:%d", len ? ", " : "", l->e[i].name, l->e[i].port);
		len += k > 0 ? (size_t) k : 0;
	}
}

static struct MHD_Daemon *
start_http(const struct sockaddr_in *sa)
{
	return MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
							MHD_USE_ERROR_LOG | MHD_USE_POLL | MHD_USE_ITC,
							0, NULL, NULL, on_request, NULL,
							MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
							MHD_OPTION_SOCK_ADDR, (const struct sockaddr *) sa,
							MHD_OPTION_CONNECTION_TIMEOUT, opt_timeout,
							MHD_OPTION_CONNECTION_LIMIT, opt_max_clients + EXTRA_CONNECTIONS,
							MHD_OPTION_PER_IP_CONNECTION_LIMIT, opt_per_ip,
							MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 64 * 1024,
							MHD_OPTION_NOTIFY_CONNECTION, guard_on_connection, NULL,
							MHD_OPTION_NOTIFY_COMPLETED, guard_on_completed, NULL,
							MHD_OPTION_END);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	struct sigaction act;
	struct MHD_Daemon *d;
	const char *bad;
	char		hosts[1024];
	DbOptions	dbo;

	parse_options(argc, argv);
	if (!parse_listen(opt_listen, &sa))
	{
		fprintf(stderr, "stockpipe-dash: bad --listen %s (want IPv4:PORT)\n", opt_listen);
		usage(stderr);
		return 2;
	}
	if (!opt_allowed_hosts)
		default_hosts(&allowed_hosts, &sa);
	else if (!hostlist_parse(&allowed_hosts, opt_allowed_hosts, &bad))
	{
		fprintf(stderr, "stockpipe-dash: bad --allowed-hosts entry at \"%s\" "
				"(want NAME, NAME:PORT, [IPv6]:PORT or *, at most %d, comma-separated)\n",
				bad, HOSTLIST_MAX);
		usage(stderr);
		return 2;
	}
	/* Half the idle timeout at most: a stream's heartbeat keeps it alive. */
	heartbeat_ms = (int64_t) opt_timeout * 1000 / 2;
	if (heartbeat_ms > HEARTBEAT_MAX_MS)
		heartbeat_ms = HEARTBEAT_MAX_MS;

	dbo.dsn = opt_dsn;
	dbo.statement_timeout_ms = opt_statement_timeout_ms;
	dbo.max_refresh_rate = opt_max_refresh_rate;
	if (!db_init(&dbo))
		return 1;
	ring_init();
	memset(&act, 0, sizeof act);
	act.sa_handler = on_signal;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	act.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &act, NULL);

	if (!guard_start(opt_request_timeout))
	{
		logmsg("cannot start the request-timeout thread");
		return 1;
	}
	d = start_http(&sa);
	if (!d)
	{
		logmsg("cannot listen on %s", opt_listen);
		return 1;
	}
	{
		const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
		char		host[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &sa.sin_addr, host, sizeof host);
		describe_hosts(&allowed_hosts, hosts, sizeof hosts);
		logmsg("listening on http://%s:%u/ (static files in %s; allowed hosts: %s)", host,
			   info ? info->port : ntohs(sa.sin_port), opt_static, hosts);
	}

	db_run();

	/* Graceful: stop accepting, end the streams, let requests finish. */
	logmsg("shutting down");
	MHD_quiesce_daemon(d);
	ring_close();
	MHD_stop_daemon(d);
	guard_stop();
	db_finish();
	ring_free();
	logmsg("stopped");
	return 0;
}
