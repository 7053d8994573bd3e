/*
 * stockpipe-dash: the live web dashboard's server.
 *
 * Threads:
 *   - main: the database thread.  It owns the one PostgreSQL connection's
 *     life (connect, LISTEN stockpipe_live, reconnect with back-off), waits
 *     for notifications and turns each one into an SSE event (the changed
 *     symbols' latest quotes) in a ring that every SSE client reads.
 *   - libmicrohttpd's threads (one per connection, bounded): API handlers
 *     borrow the same connection under db_lock for one PQexecParams each;
 *     SSE handlers block on the ring's condition variable.
 *
 * Nothing touches the PGconn without db_lock.  All SQL is in queries.h.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <libpq-fe.h>
#include <microhttpd.h>

#include "queries.h"

#ifndef DASH_STATIC_DIR
#define DASH_STATIC_DIR "/usr/local/share/stockpipe-dash"
#endif

#define RING 256				/* SSE events kept for slow readers */
#define HEARTBEAT_SEC 15		/* SSE comment line when idle */
#define SYMBOL_MAX 20

/* Options */
static const char *opt_listen = "127.0.0.1:8080";
static const char *opt_dsn = "";
static const char *opt_static = DASH_STATIC_DIR;
static unsigned opt_max_clients = 100;
static unsigned opt_timeout = 30;		/* idle seconds per connection */
static unsigned opt_statement_timeout_ms = 5000;

/* Shutdown */
static volatile sig_atomic_t stopping;
static int wake_pipe[2] = {-1, -1};

/* The database connection */
static pthread_mutex_t db_lock = PTHREAD_MUTEX_INITIALIZER;
static PGconn *db;				/* NULL or CONNECTION_BAD while down */

/* The SSE ring */
static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ev_cond = PTHREAD_COND_INITIALIZER;
static char *ev_ring[RING];
static uint64_t ev_head;		/* sequence number of the next event */
static bool ev_closing;
static unsigned sse_clients;

static void
logmsg(const char *fmt, ...)
{
	char		ts[32];
	time_t		now = time(NULL);
	struct tm	tm;
	va_list		ap;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	flockfile(stderr);
	fprintf(stderr, "%s stockpipe-dash: ", ts);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

/* Log a libpq message (they end with a newline) on one line. */
static void
log_pq(const char *what, const char *msg)
{
	int			n = (int) strlen(msg);

	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	logmsg("%s%.*s", what, n, msg);
}

static void
notice_processor(void *arg, const char *msg)
{
	(void) arg;
	log_pq("PostgreSQL: ", msg);
}

static void
wake(void)
{
	char		c = 1;
	ssize_t		r = write(wake_pipe[1], &c, 1);

	(void) r;					/* a full pipe is awake enough */
}

static void
on_signal(int sig)
{
	(void) sig;
	stopping = 1;
	wake();
}

/* ---------------------------------------------------------------- SSE ring */

static void
ev_push(const char *event, const char *data)
{
	size_t		n = strlen(event) + strlen(data) + 32;
	char	   *s = malloc(n);
	char	   *p;

	if (!s)
		return;
	p = s + snprintf(s, n, "event: %s\ndata: ", event);
	/* json_agg puts newlines between elements; an SSE data line has none. */
	for (; *data; data++)
		*p++ = (*data == '\n' || *data == '\r') ? ' ' : *data;
	memcpy(p, "\n\n", 3);
	pthread_mutex_lock(&ev_lock);
	free(ev_ring[ev_head % RING]);
	ev_ring[ev_head % RING] = s;
	ev_head++;
	pthread_cond_broadcast(&ev_cond);
	pthread_mutex_unlock(&ev_lock);
}

typedef struct SseClient
{
	int			fd;				/* the client's socket, to notice it left */
	uint64_t	next;			/* next event to send */
	char	   *pending;		/* what is being sent, and how far */
	size_t		len,
				off;
} SseClient;

/* Has the peer closed the connection?  (It sends nothing on a stream.) */
static bool
peer_gone(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN | POLLRDHUP};

	return fd >= 0 && poll(&pfd, 1, 0) > 0 &&
		(pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

static ssize_t
sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	SseClient  *c = cls;
	time_t		heartbeat = time(NULL) + HEARTBEAT_SEC;

	(void) pos;
	if (!c->pending)
	{
		pthread_mutex_lock(&ev_lock);
		for (;;)
		{
			struct timespec slice;

			if (ev_closing)
			{
				pthread_mutex_unlock(&ev_lock);
				return MHD_CONTENT_READER_END_OF_STREAM;
			}
			if (c->next < ev_head)
			{
				if (ev_head - c->next > RING)
				{
					/* Too slow: the client re-reads /api/symbols. */
					c->next = ev_head;
					c->pending = strdup("event: reset\ndata: {}\n\n");
				}
				else
					c->pending = strdup(ev_ring[c->next++ % RING]);
				break;
			}
			/*
			 * Wait in slices of a second to notice a client that left, so
			 * that it frees its place under --max-clients at once.
			 */
			if (peer_gone(c->fd))
			{
				pthread_mutex_unlock(&ev_lock);
				return MHD_CONTENT_READER_END_OF_STREAM;
			}
			if (time(NULL) >= heartbeat)
			{
				c->pending = strdup(": keep-alive\n\n");
				break;
			}
			clock_gettime(CLOCK_REALTIME, &slice);
			slice.tv_sec += 1;
			pthread_cond_timedwait(&ev_cond, &ev_lock, &slice);
		}
		pthread_mutex_unlock(&ev_lock);
		if (!c->pending)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		c->len = strlen(c->pending);
		c->off = 0;
	}
	size_t		n = c->len - c->off;

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
	pthread_mutex_lock(&ev_lock);
	sse_clients--;
	pthread_mutex_unlock(&ev_lock);
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

/* ------------------------------------------------------------------ queries */

typedef enum
{
	QR_OK,						/* *out is the JSON (malloc'd) */
	QR_NULL,					/* no row or NULL */
	QR_BAD_INPUT,				/* a parameter PostgreSQL refused (22xxx) */
	QR_DOWN,					/* no database */
	QR_ERROR
} QResult;

/* Run one query under db_lock; the caller holds it. */
static QResult
query_locked(const char *sql, int nparams, const char *const *params, char **out)
{
	PGresult   *res;
	QResult		qr;

	*out = NULL;
	if (!db || PQstatus(db) != CONNECTION_OK)
		return QR_DOWN;
	res = PQexecParams(db, sql, nparams, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
	{
		if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
			qr = QR_NULL;
		else
		{
			*out = strdup(PQgetvalue(res, 0, 0));
			qr = *out ? QR_OK : QR_ERROR;
		}
	}
	else
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		if (PQstatus(db) != CONNECTION_OK)
			qr = QR_DOWN;
		else if (state && strncmp(state, "22", 2) == 0)
			qr = QR_BAD_INPUT;
		else
		{
			log_pq("query failed: ", PQerrorMessage(db));
			qr = QR_ERROR;
		}
	}
	PQclear(res);
	return qr;
}

static QResult
query(const char *sql, int nparams, const char *const *params, char **out)
{
	QResult		qr;

	pthread_mutex_lock(&db_lock);
	qr = query_locked(sql, nparams, params, out);
	pthread_mutex_unlock(&db_lock);
	/* The query may have read notifications, or found the server gone. */
	wake();
	return qr;
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

static bool
valid_symbol(const char *s)
{
	size_t		n = 0;

	if (!s)
		return false;
	for (; s[n]; n++)
		if (!(isupper((unsigned char) s[n]) || isdigit((unsigned char) s[n]) ||
			  strchr(".^=-", s[n])))
			return false;
	return n >= 1 && n <= SYMBOL_MAX;
}

/*
 * An ISO 8601 date or date-time: YYYY-MM-DD[(T| )HH:MM[:SS[.f+]]][Z|(+|-)HH[:MM]].
 * PostgreSQL checks the calendar; this keeps its other input forms
 * ('now', 'epoch', 'infinity', ...) out.
 */
static bool
valid_iso_time(const char *s)
{
	const char *p = s;
	int			i;

#define DIGITS(k) for (i = 0; i < (k); i++, p++) if (!isdigit((unsigned char) *p)) return false
	if (!s || strlen(s) > 40)
		return false;
	DIGITS(4);
	if (*p++ != '-') return false;
	DIGITS(2);
	if (*p++ != '-') return false;
	DIGITS(2);
	if (!*p)
		return true;
	if (*p != 'T' && *p != ' ')
		return false;
	p++;
	DIGITS(2);
	if (*p++ != ':') return false;
	DIGITS(2);
	if (*p == ':')
	{
		p++;
		DIGITS(2);
		if (*p == '.')
		{
			p++;
			if (!isdigit((unsigned char) *p))
				return false;
			while (isdigit((unsigned char) *p))
				p++;
		}
	}
	if (*p == 'Z')
		p++;
	else if (*p == '+' || *p == '-')
	{
		p++;
		DIGITS(2);
		if (*p == ':')
			p++;
		if (*p)
			DIGITS(2);
	}
	return *p == '\0';
#undef DIGITS
}

/* 404 unless the symbol is known; MHD_YES when it answered. */
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
	qr = query(Q_SYMBOL_EXISTS, 1, params, &out);
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
	QResult		qr = query(sql, n, params, &out);
	enum MHD_Result ret;

	if (qr == QR_NULL)
		return send_error(conn, null_status, null_msg);
	if (qr != QR_OK)
		return send_query_error(conn, qr);
	ret = send_json(conn, 200, out);
	free(out);
	return ret;
}

static enum MHD_Result
api_intraday(struct MHD_Connection *conn)
{
	const char *sym = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "symbol");
	const char *from = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "from");
	const char *to = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "to");
	enum MHD_Result ret;

	if ((from && *from && !valid_iso_time(from)) || (to && *to && !valid_iso_time(to)))
		return send_error(conn, 400, "bad range: from and to must be ISO 8601 times");
	if (symbol_unknown(conn, sym, &ret))
		return ret;
	{
		const char *params[3] = {sym, from && *from ? from : NULL, to && *to ? to : NULL};
		char	   *range,
				   *bar;
		QResult		qr = query(Q_INTRADAY_RANGE, 3, params, &range);

		if (qr != QR_OK)
			return send_query_error(conn, qr == QR_NULL ? QR_ERROR : qr);
		if (!strcmp(range, "bad"))
			ret = send_error(conn, 400, "bad range: from must be before to, at most 31 days apart");
		else if (!strcmp(range, "none"))
		{
			char		body[128];

			/* Daily bars only: no quotes, an empty series. */
			snprintf(body, sizeof body,
					 "{\"symbol\":\"%s\",\"from\":null,\"to\":null,\"points\":[]}", sym);
			ret = send_json(conn, 200, body);
		}
		else if ((bar = strchr(range, '|')) == NULL)
			ret = send_error(conn, 500, "query failed");
		else
		{
			*bar = '\0';
			params[1] = range;
			params[2] = bar + 1;
			ret = api_json(conn, Q_INTRADAY, 3, params, 500, "no result");
		}
		free(range);
		return ret;
	}
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

static enum MHD_Result
api_stream(struct MHD_Connection *conn)
{
	struct MHD_Response *r;
	SseClient  *c;
	enum MHD_Result ret;
	bool		full;

	pthread_mutex_lock(&ev_lock);
	full = sse_clients >= opt_max_clients || ev_closing;
	if (!full)
		sse_clients++;
	pthread_mutex_unlock(&ev_lock);
	if (full)
		return send_error(conn, 503, "too many stream clients");
	c = calloc(1, sizeof *c);
	if (!c)
	{
		pthread_mutex_lock(&ev_lock);
		sse_clients--;
		pthread_mutex_unlock(&ev_lock);
		return MHD_NO;
	}
	{
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

		c->fd = ci ? ci->connect_fd : -1;
	}
	pthread_mutex_lock(&ev_lock);
	c->next = ev_head;
	pthread_mutex_unlock(&ev_lock);
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
		*req_cls = &first;		/* headers only so far */
		return MHD_YES;
	}
	if (*upload_size)
	{
		*upload_size = 0;		/* ignore a body; answered below */
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return send_error(conn, 405, "method not allowed");

	if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
		return serve_static(conn, "index.html", "no-cache");
	if (!strncmp(url, "/static/", 8))
		return serve_static(conn, url + 8, "public, max-age=3600");
	if (!strcmp(url, "/api/symbols"))
		return api_json(conn, Q_QUOTES, 1, (const char *const[]) {NULL}, 500, "no result");
	if (!strcmp(url, "/api/intraday"))
		return api_intraday(conn);
	if (!strcmp(url, "/api/daily"))
		return api_daily(conn);
	if (!strcmp(url, "/api/alerts"))
		return api_json(conn, Q_ALERTS, 0, NULL, 500, "no result");
	if (!strcmp(url, "/api/stream"))
		return api_stream(conn);
	if (!strcmp(url, "/healthz"))
	{
		bool		up;

		pthread_mutex_lock(&db_lock);
		up = db && PQstatus(db) == CONNECTION_OK;
		pthread_mutex_unlock(&db_lock);
		return up ? send_json(conn, 200, "{\"database\":\"up\"}")
			: send_json(conn, 503, "{\"database\":\"down\"}");
	}
	return send_error(conn, 404, "not found");
}

/* --------------------------------------------------------- database thread */

/* Sleep up to ms, or less when woken. */
static void
nap(int ms)
{
	struct pollfd pfd = {.fd = wake_pipe[0], .events = POLLIN};
	char		buf[64];

	if (poll(&pfd, 1, ms) > 0)
		while (read(wake_pipe[0], buf, sizeof buf) > 0)
			;
}

static PGconn *
db_connect(void)
{
	char		st_timeout[128];
	const char *keys[] = {"connect_timeout", "application_name", "options", "dbname", NULL};
	const char *vals[] = {"5", "stockpipe-dash", st_timeout, opt_dsn, NULL};
	PGconn	   *c;
	PGresult   *res;

	/* Defaults first: the DSN (expanded from dbname) overrides them. */
	snprintf(st_timeout, sizeof st_timeout,
			 "-c statement_timeout=%u -c default_transaction_read_only=on", opt_statement_timeout_ms);
	c = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(c) != CONNECTION_OK)
	{
		log_pq("cannot connect to PostgreSQL: ", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, notice_processor, NULL);
	res = PQexec(c, "LISTEN stockpipe_live");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		log_pq("LISTEN failed: ", PQerrorMessage(c));
		PQclear(res);
		PQfinish(c);
		return NULL;
	}
	PQclear(res);
	PQsetnonblocking(c, 0);
	return c;
}

/*
 * Append the notification's symbols to list (comma-separated), each at most
 * once; the payload is the extension's, but it is checked all the same.
 */
static void
add_symbols(char *list, size_t cap, const char *payload)
{
	char		sym[SYMBOL_MAX + 2];
	const char *p = payload;

	while (*p)
	{
		size_t		n = strcspn(p, ",");

		if (n >= 1 && n <= SYMBOL_MAX)
		{
			memcpy(sym, p, n);
			sym[n] = '\0';
			if (valid_symbol(sym))
			{
				size_t		len = strlen(list);
				char		needle[SYMBOL_MAX + 4];
				char		hay[8192 + 2];

				snprintf(needle, sizeof needle, ",%s,", sym);
				snprintf(hay, sizeof hay, ",%s,", list);
				if (!strstr(hay, needle) && len + n + 2 < cap)
				{
					if (len)
						list[len++] = ',';
					memcpy(list + len, sym, n + 1);
				}
			}
		}
		p += n;
		if (*p == ',')
			p++;
	}
}

static void
db_loop(void)
{
	int			backoff_ms = 250;
	bool		was_up = false;
	static char symbols[8192];

	while (!stopping)
	{
		bool		up;

		pthread_mutex_lock(&db_lock);
		up = db && PQstatus(db) == CONNECTION_OK;
		pthread_mutex_unlock(&db_lock);
		if (!up)
		{
			PGconn	   *c;

			if (was_up)
			{
				logmsg("lost the PostgreSQL connection; reconnecting");
				ev_push("status", "{\"database\":\"down\"}");
				was_up = false;
			}
			c = db_connect();
			pthread_mutex_lock(&db_lock);
			if (db)
				PQfinish(db);
			db = c;
			pthread_mutex_unlock(&db_lock);
			if (!c)
			{
				nap(backoff_ms);
				backoff_ms = backoff_ms * 2 > 10000 ? 10000 : backoff_ms * 2;
				continue;
			}
			logmsg("connected to PostgreSQL, listening on stockpipe_live");
			backoff_ms = 250;
			was_up = true;
			/* Quotes may have come while we were away: everyone re-reads. */
			ev_push("reset", "{}");
		}

		{
			struct pollfd pfd[2] = {
				{.fd = wake_pipe[0], .events = POLLIN},
				{.fd = -1, .events = POLLIN},
			};
			char		buf[64];

			pthread_mutex_lock(&db_lock);
			pfd[1].fd = PQsocket(db);
			pthread_mutex_unlock(&db_lock);
			if (poll(pfd, 2, 1000) < 0 && errno != EINTR)
				logmsg("poll: %s", strerror(errno));
			if (pfd[0].revents & POLLIN)
				while (read(wake_pipe[0], buf, sizeof buf) > 0)
					;
		}
		if (stopping)
			break;

		pthread_mutex_lock(&db_lock);
		if (PQconsumeInput(db))
		{
			PGnotify   *n;

			symbols[0] = '\0';
			for (;;)
			{
				n = PQnotifies(db);
				/* Send what we have when full (a payload is < 8000 bytes) or done. */
				if (symbols[0] && (!n || strlen(symbols) + strlen(n->extra) + 2 > sizeof symbols))
				{
					const char *params[1] = {symbols};
					char	   *out;

					if (query_locked(Q_QUOTES, 1, params, &out) == QR_OK)
					{
						ev_push("quotes", out);
						free(out);
					}
					symbols[0] = '\0';
				}
				if (!n)
					break;
				add_symbols(symbols, sizeof symbols, n->extra);
				PQfreemem(n);
			}
		}
		pthread_mutex_unlock(&db_lock);
	}
}

/* ------------------------------------------------------------------- main */

static void
usage(FILE *f)
{
	fprintf(f,
			"usage: stockpipe-dash [options]\n"
			"  --listen ADDR:PORT     address to serve on (default 127.0.0.1:8080)\n"
			"  --dsn CONNINFO         libpq connection string (default: PG* environment)\n"
			"  --static DIR           web assets (default " DASH_STATIC_DIR ")\n"
			"  --max-clients N        most Server-Sent Events clients (default 100)\n"
			"  --timeout SEC          idle timeout of a connection (default 30)\n"
			"  --statement-timeout MS longest query (default 5000)\n");
}

static bool
parse_listen(const char *s, struct sockaddr_in *sa)
{
	char		host[64];
	const char *colon = strrchr(s, ':');
	char	   *end;
	long		port;

	if (!colon || colon - s >= (long) sizeof host)
		return false;
	memcpy(host, s, colon - s);
	host[colon - s] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		return false;
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t) port);
	if (!*host || !strcmp(host, "*"))
		sa->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return false;
	return true;
}

static unsigned
parse_uint(const char *s, const char *what)
{
	char	   *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v == 0 || v > 1000000)
	{
		fprintf(stderr, "stockpipe-dash: bad %s: %s\n", what, s);
		exit(2);
	}
	return (unsigned) v;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"dsn", required_argument, NULL, 'd'},
		{"static", required_argument, NULL, 's'},
		{"max-clients", required_argument, NULL, 'm'},
		{"timeout", required_argument, NULL, 't'},
		{"statement-timeout", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	struct sockaddr_in sa;
	struct sigaction act;
	struct MHD_Daemon *d;
	int			o;

	while ((o = getopt_long(argc, argv, "", longopts, NULL)) != -1)
	{
		switch (o)
		{
			case 'l': opt_listen = optarg; break;
			case 'd': opt_dsn = optarg; break;
			case 's': opt_static = optarg; break;
			case 'm': opt_max_clients = parse_uint(optarg, "--max-clients"); break;
			case 't': opt_timeout = parse_uint(optarg, "--timeout"); break;
			case 'T': opt_statement_timeout_ms = parse_uint(optarg, "--statement-timeout"); break;
			case 'h': usage(stdout); return 0;
			default: usage(stderr); return 2;
		}
	}
	if (optind < argc)
	{
		usage(stderr);
		return 2;
	}
	if (!parse_listen(opt_listen, &sa))
	{
		fprintf(stderr, "stockpipe-dash: bad --listen %s (want IPv4:PORT)\n", opt_listen);
		return 2;
	}
	if (pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
	{
		perror("pipe2");
		return 1;
	}
	memset(&act, 0, sizeof act);
	act.sa_handler = on_signal;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	act.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &act, NULL);

	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
						 MHD_USE_ERROR_LOG | MHD_USE_POLL | MHD_USE_ITC,
						 0, NULL, NULL, on_request, NULL,
						 MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &sa,
						 MHD_OPTION_CONNECTION_TIMEOUT, opt_timeout,
						 MHD_OPTION_CONNECTION_LIMIT, opt_max_clients + 64,
						 MHD_OPTION_PER_IP_CONNECTION_LIMIT, 0,
						 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 64 * 1024,
						 MHD_OPTION_END);
	if (!d)
	{
		logmsg("cannot listen on %s", opt_listen);
		return 1;
	}
	{
		const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
		char		host[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &sa.sin_addr, host, sizeof host);
		logmsg("listening on http://%s:%u/ (static files in %s)", host,
			   info ? info->port : ntohs(sa.sin_port), opt_static);
	}

	db_loop();

	/* Graceful: stop accepting, end the streams, let requests finish. */
	logmsg("shutting down");
	MHD_quiesce_daemon(d);
	pthread_mutex_lock(&ev_lock);
	ev_closing = true;
	pthread_cond_broadcast(&ev_cond);
	pthread_mutex_unlock(&ev_lock);
	MHD_stop_daemon(d);
	pthread_mutex_lock(&db_lock);
	if (db)
		PQfinish(db);
	db = NULL;
	pthread_mutex_unlock(&db_lock);
	for (int i = 0; i < RING; i++)
		free(ev_ring[i]);
	logmsg("stopped");
	return 0;
}
