/*
 * guard.c: the request-head deadline (guard.h).
 *
 * Every connection is registered from accept to close with a duplicate of
 * its socket.  A reaper thread sleeps until the earliest deadline and shuts
 * down the socket of a connection still waiting for its request head:
 * libmicrohttpd's thread for it then reads end-of-file and closes it the
 * ordinary way.  The duplicate keeps the socket itself alive until the
 * close notification, so the reaper can never shut down another
 * connection that reused a closed descriptor's number.
 */
#define _GNU_SOURCE
#include "guard.h"
#include "clock.h"
#include "log.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct GuardConn
{
	int			fd;				/* our duplicate of the socket, or -1 */
	int64_t		deadline_ms;	/* 0 while a request is being answered */
	char		peer[INET6_ADDRSTRLEN];
	struct GuardConn *prev,
			   *next;
} GuardConn;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond;
static GuardConn *g_conns;
static bool g_stop;
static bool g_running;
static pthread_t g_thread;
static int64_t g_timeout_ms;
static unsigned long g_closed;
static dash_log_limit g_log = DASH_LOG_LIMIT_INIT;

void
dash_guard_peer_name(struct MHD_Connection *conn, char *buf, size_t cap)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	buf[0] = '\0';
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, buf, (socklen_t) cap);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, buf, (socklen_t) cap);
}

static void
track(struct MHD_Connection *conn, void **socket_context)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	GuardConn  *g = calloc(1, sizeof *g);

	*socket_context = g;
	if (!g)
		return;
	/* Without a duplicate (out of descriptors) the connection has no deadline. */
	g->fd = ci ? fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 0) : -1;
	dash_guard_peer_name(conn, g->peer, sizeof g->peer);
	pthread_mutex_lock(&g_lock);
	g->deadline_ms = g->fd >= 0 ? dash_clock_ms() + g_timeout_ms : 0;
	g->next = g_conns;
	if (g_conns)
		g_conns->prev = g;
	g_conns = g;
	pthread_mutex_unlock(&g_lock);
}

static void
untrack(GuardConn *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g_lock);
	if (g->prev)
		g->prev->next = g->next;
	else
		g_conns = g->next;
	if (g->next)
		g->next->prev = g->prev;
	pthread_mutex_unlock(&g_lock);
	if (g->fd >= 0)
		close(g->fd);
	free(g);
}

void
dash_guard_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
						 enum MHD_ConnectionNotificationCode toe)
{
	(void) cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		track(conn, socket_context);
	else
	{
		untrack(*socket_context);
		*socket_context = NULL;
	}
}

static void
set_deadline(struct MHD_Connection *conn, bool due)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	GuardConn  *g = ci ? ci->socket_context : NULL;

	if (!g || g->fd < 0)
		return;
	pthread_mutex_lock(&g_lock);
	g->deadline_ms = due ? dash_clock_ms() + g_timeout_ms : 0;
	pthread_mutex_unlock(&g_lock);
}

void
dash_guard_on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
						enum MHD_RequestTerminationCode toe)
{
	(void) cls;
	(void) req_cls;
	(void) toe;
	set_deadline(conn, true);
}

void
dash_guard_request_begun(struct MHD_Connection *conn)
{
	set_deadline(conn, false);
}

/*
 * Shut down the connections past their deadline; return when to look
 * again: the earliest deadline, or in a second (a new deadline is at least
 * a second away, so nobody needs to wake the reaper for it).
 */
static int64_t
reap_locked(int64_t now)
{
	int64_t		next = now + 1000;

	for (GuardConn *g = g_conns; g; g = g->next)
	{
		if (!g->deadline_ms)
			continue;
		if (g->deadline_ms <= now)
		{
			shutdown(g->fd, SHUT_RDWR);
			g->deadline_ms = 0;
			g_closed++;
			dash_log_limited(&g_log, "closed a connection from %s: no complete request within %lld s",
						   g->peer, (long long) (g_timeout_ms / 1000));
		}
		else if (g->deadline_ms < next)
			next = g->deadline_ms;
	}
	return next;
}

static void *
reaper(void *arg)
{
	(void) arg;
	pthread_mutex_lock(&g_lock);
	while (!g_stop)
		dash_clock_wait_until(&g_cond, &g_lock, reap_locked(dash_clock_ms()));
	pthread_mutex_unlock(&g_lock);
	return NULL;
}

bool
dash_guard_start(unsigned timeout_sec)
{
	g_timeout_ms = (int64_t) timeout_sec * 1000;
	dash_clock_cond_init(&g_cond);
	g_running = pthread_create(&g_thread, NULL, reaper, NULL) == 0;
	return g_running;
}

void
dash_guard_stop(void)
{
	if (!g_running)
		return;
	pthread_mutex_lock(&g_lock);
	g_stop = true;
	pthread_cond_signal(&g_cond);
	pthread_mutex_unlock(&g_lock);
	pthread_join(g_thread, NULL);
	g_running = false;
}

unsigned long
dash_guard_closed(void)
{
	unsigned long n;

	pthread_mutex_lock(&g_lock);
	n = g_closed;
	pthread_mutex_unlock(&g_lock);
	return n;
}
