/*
 * db.c: the database side of stockpipe-dash (db.h).
 *
 * One PostgreSQL connection, whatever the number of browsers.  The
 * database thread owns its life (connect, session settings, LISTEN
 * stockpipe_live, reconnect with back-off) and waits for notifications;
 * API handlers borrow it under db_lock for one PQexecParams each.  Nothing
 * touches the PGconn without db_lock.
 *
 * On a hot standby there are no notifications (LISTEN is refused during
 * recovery, and NOTIFY is not replicated): the thread then polls, running
 * DASH_Q_CHANGES every DASH_STANDBY_POLL_MS, which pushes the same events,
 * so the page works the same against a read replica.  The mode is taken at
 * each connect (a standby promoted later keeps polling until the next).
 *
 * A notification is only a wake-up.  Any role that can connect may NOTIFY
 * stockpipe_live with any payload, so the payload is never read: on a
 * wake-up the thread runs DASH_Q_CHANGES, which answers which symbols'
 * latest quotes changed since the last run, and pushes exactly that.
 * Wake-ups are coalesced: at most --max-refresh-rate queries a second,
 * however many notifications arrive, and the first one after a quiet spell
 * runs at once (no added latency for a quote that comes alone).
 */
#define _GNU_SOURCE
#include "db.h"
#include "clock.h"
#include "log.h"
#include "queries.h"
#include "ring.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

static dash_db_options opt;

/* Shutdown, and waking the database thread from other threads */
static volatile sig_atomic_t stopping;
static int wake_pipe[2] = {-1, -1};

/* The connection, and what goes with it: all under db_lock */
static pthread_mutex_t db_lock = PTHREAD_MUTEX_INITIALIZER;
static PGconn *db;				/* NULL or CONNECTION_BAD while down */
static char *known;				/* DASH_Q_CHANGES' state; NULL: not taken yet */
static char session_jit[16];
static char session_statement_timeout[32];
static unsigned long n_notifications;
static unsigned long n_refreshes;
static unsigned long n_quote_events;
static bool polling;			/* connected to a standby: no LISTEN */

/* How often a standby is asked for changes (it cannot notify). */
#define DASH_STANDBY_POLL_MS 1000

static dash_log_limit refresh_log = DASH_LOG_LIMIT_INIT;

static void
wake(void)
{
	char		c = 1;
	ssize_t		r = write(wake_pipe[1], &c, 1);

	(void) r;					/* a full pipe is awake enough */
}

void
dash_db_request_stop(void)
{
	stopping = 1;
	wake();
}

static void
notice_processor(void *arg, const char *msg)
{
	(void) arg;
	dash_log_pq("PostgreSQL: ", msg);
}

bool
dash_db_init(const dash_db_options *o)
{
	opt = *o;
	if (pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
	{
		dash_log("pipe2: %s", strerror(errno));
		return false;
	}
	return true;
}

/* ------------------------------------------------------------------ queries */

/* Run one query; the caller holds db_lock. */
static dash_db_result
query_locked(const char *sql, int nparams, const char *const *params, char **out)
{
	PGresult   *res;
	dash_db_result qr;

	*out = NULL;
	if (!db || PQstatus(db) != CONNECTION_OK)
		return DASH_DB_DOWN;
	res = PQexecParams(db, sql, nparams, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
	{
		if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
			qr = DASH_DB_NULL;
		else
		{
			*out = strdup(PQgetvalue(res, 0, 0));
			qr = *out ? DASH_DB_OK : DASH_DB_ERROR;
		}
	}
	else
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		if (PQstatus(db) != CONNECTION_OK)
			qr = DASH_DB_DOWN;
		else if (state && strncmp(state, "22", 2) == 0)
			qr = DASH_DB_BAD_INPUT;
		else
		{
			dash_log_pq("query failed: ", PQerrorMessage(db));
			qr = DASH_DB_ERROR;
		}
	}
	PQclear(res);
	return qr;
}

dash_db_result
dash_db_query(const char *sql, int nparams, const char *const *params, char **out)
{
	dash_db_result qr;

	pthread_mutex_lock(&db_lock);
	qr = query_locked(sql, nparams, params, out);
	pthread_mutex_unlock(&db_lock);
	/* The query may have read notifications, or found the server gone. */
	wake();
	return qr;
}

void
dash_db_get_status(dash_db_status *st)
{
	pthread_mutex_lock(&db_lock);
	st->up = db && PQstatus(db) == CONNECTION_OK;
	memcpy(st->jit, session_jit, sizeof st->jit);
	memcpy(st->statement_timeout, session_statement_timeout, sizeof st->statement_timeout);
	st->notifications = n_notifications;
	st->refreshes = n_refreshes;
	st->quote_events = n_quote_events;
	st->standby = polling;
	pthread_mutex_unlock(&db_lock);
}

/* ----------------------------------------------------------- the session */

/* A setting as /healthz shows it (in JSON): letters and digits only. */
static void
copy_setting(char *dst, size_t cap, const char *src)
{
	size_t		n = 0;

	for (; *src && n + 1 < cap; src++)
		if (isalnum((unsigned char) *src))
			dst[n++] = *src;
	dst[n] = '\0';
}

static bool
exec_ok(PGconn *c, const char *sql, ExecStatusType want, const char *what)
{
	PGresult   *res = PQexec(c, sql);
	bool		ok = PQresultStatus(res) == want;

	if (!ok)
		dash_log_pq(what, PQerrorMessage(c));
	PQclear(res);
	return ok;
}

/*
 * Settings that keep the dashboard's queries cheap and harmless, then
 * LISTEN, unless the server is a standby (*standby: then the caller
 * polls).  They are SET on the session rather than passed in libpq's
 * "options", which a --dsn with its own options= would replace:
 *  - jit = off: with many partitions a query's plan is large, and JIT
 *    compiling it costs far more than the millisecond the query takes;
 *  - statement_timeout bounds a query (one connection: a slow query delays
 *    every other);
 *  - default_transaction_read_only: the dashboard never writes;
 * and the list of known time zones (DASH_Q_SESSION_ZONES).
 * The values are read back for /healthz.
 */
static bool
session_setup(PGconn *c, char *jit, size_t jit_cap, char *st, size_t st_cap, bool *standby)
{
	char		sql[256];
	PGresult   *res;

	snprintf(sql, sizeof sql,
			 "SET jit = off; SET statement_timeout = %u; "
			 "SET default_transaction_read_only = on",
			 opt.statement_timeout_ms);
	if (!exec_ok(c, sql, PGRES_COMMAND_OK, "session set-up failed: "))
		return false;
	res = PQexec(c, "SELECT pg_catalog.pg_is_in_recovery()");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		dash_log_pq("session set-up failed: ", PQerrorMessage(c));
		PQclear(res);
		return false;
	}
	*standby = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!*standby && !exec_ok(c, "LISTEN stockpipe_live", PGRES_COMMAND_OK, "session set-up failed: "))
		return false;
	/*
	 * The time zones PostgreSQL knows, once per session: reading
	 * pg_timezone_names takes ~70 ms (it walks the zone files), too slow
	 * for every refresh; the quote queries check exchange_tz against this.
	 */
	if (!exec_ok(c, DASH_Q_SESSION_ZONES, PGRES_TUPLES_OK, "session set-up failed: "))
		return false;
	res = PQexec(c, "SELECT current_setting('jit'), current_setting('statement_timeout')");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		dash_log_pq("session set-up failed: ", PQerrorMessage(c));
		PQclear(res);
		return false;
	}
	copy_setting(jit, jit_cap, PQgetvalue(res, 0, 0));
	copy_setting(st, st_cap, PQgetvalue(res, 0, 1));
	PQclear(res);
	return true;
}

static PGconn *
db_connect(char *jit, size_t jit_cap, char *st, size_t st_cap, bool *standby)
{
	const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *vals[] = {"5", "stockpipe-dash", opt.dsn, NULL};
	PGconn	   *c;

	/* Defaults first: the DSN (expanded from dbname) overrides them. */
	c = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(c) != CONNECTION_OK)
	{
		dash_log_pq("cannot connect to PostgreSQL: ", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, notice_processor, NULL);
	if (!session_setup(c, jit, jit_cap, st, st_cap, standby))
	{
		PQfinish(c);
		return NULL;
	}
	PQsetnonblocking(c, 0);
	return c;
}

/* ----------------------------------------------------------- the refresh */

/*
 * Run DASH_Q_CHANGES and keep the state it returns; push the changed
 * quotes, unless there was no state yet (then it only takes one).  True
 * when it ran.  The caller holds db_lock.
 */
static bool
refresh_locked(void)
{
	bool		first = known == NULL;
	const char *params[2] = {known, first ? "f" : "t"};
	PGresult   *res;
	char	   *state;

	n_refreshes++;
	res = PQexecParams(db, DASH_Q_CHANGES, 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQnfields(res) != 2)
	{
		const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

		if (PQstatus(db) == CONNECTION_OK)
			dash_log_limited(&refresh_log, "refresh query failed: %s", msg ? msg : "no result");
		PQclear(res);
		return false;
	}
	if (!PQgetisnull(res, 0, 0))
	{
		dash_ring_push("quotes", PQgetvalue(res, 0, 0));
		n_quote_events++;
	}
	state = strdup(PQgetvalue(res, 0, 1));
	if (state)
	{
		free(known);
		known = state;
	}
	PQclear(res);
	return state != NULL;
}

/*
 * Count and drop the notifications libpq has read (PQconsumeInput, or an
 * API query).  Their payloads are not looked at: see the top of the file.
 */
static unsigned long
drain_notifies_locked(void)
{
	PGnotify   *n;
	unsigned long k = 0;

	while ((n = PQnotifies(db)) != NULL)
	{
		k++;
		PQfreemem(n);
	}
	n_notifications += k;
	return k;
}

/* ------------------------------------------------------ database thread */

/* Wait up to ms for the server's socket or a wake-up. */
static void
wait_input(int ms)
{
	struct pollfd pfd[2] = {
		{.fd = wake_pipe[0], .events = POLLIN},
		{.fd = -1, .events = POLLIN},
	};
	char		buf[64];

	pthread_mutex_lock(&db_lock);
	pfd[1].fd = db ? PQsocket(db) : -1;
	pthread_mutex_unlock(&db_lock);
	if (poll(pfd, 2, ms) < 0 && errno != EINTR)
		dash_log("poll: %s", strerror(errno));
	if (pfd[0].revents & POLLIN)
		while (read(wake_pipe[0], buf, sizeof buf) > 0)
			;
}

static bool
db_up(void)
{
	bool		up;

	pthread_mutex_lock(&db_lock);
	up = db && PQstatus(db) == CONNECTION_OK;
	pthread_mutex_unlock(&db_lock);
	return up;
}

/*
 * Connect and take the first state before API handlers see the
 * connection, so that a quote committed after /healthz says "up" is
 * pushed.  Streams get "reset": they re-read what they missed.
 */
static bool
reconnect(void)
{
	char		jit[sizeof session_jit];
	char		st[sizeof session_statement_timeout];
	bool		standby = false;
	PGconn	   *c = db_connect(jit, sizeof jit, st, sizeof st, &standby);

	pthread_mutex_lock(&db_lock);
	if (db)
		PQfinish(db);
	db = c;
	free(known);
	known = NULL;
	if (c)
	{
		memcpy(session_jit, jit, sizeof jit);
		memcpy(session_statement_timeout, st, sizeof st);
		polling = standby;
		refresh_locked();
	}
	pthread_mutex_unlock(&db_lock);
	if (!c)
		return false;
	if (standby)
		dash_log("connected to PostgreSQL, a standby in recovery: no notifications there; "
				 "asking for changes every %d ms", DASH_STANDBY_POLL_MS);
	else
		dash_log("connected to PostgreSQL, listening on stockpipe_live");
	dash_ring_push("reset", "{}");
	return true;
}

void
dash_db_run(void)
{
	const int64_t interval_ms = 1000 / opt.max_refresh_rate;
	int			backoff_ms = 250;
	bool		was_up = false;
	bool		pending = false;	/* notified, not refreshed yet */
	int64_t		next_refresh = 0;	/* no refresh before (monotonic ms) */
	int64_t		next_poll = 0;	/* a standby's next poll (monotonic ms) */

	while (!stopping)
	{
		if (!db_up())
		{
			if (was_up)
			{
				dash_log("lost the PostgreSQL connection; reconnecting");
				dash_ring_push("status", "{\"database\":\"down\"}");
				was_up = false;
			}
			if (!reconnect())
			{
				wait_input(backoff_ms);
				backoff_ms = backoff_ms * 2 > 10000 ? 10000 : backoff_ms * 2;
				continue;
			}
			backoff_ms = 250;
			was_up = true;
			pending = false;
		}

		{
			int64_t		left = next_refresh - dash_clock_ms();

			int64_t		poll_in = next_poll - dash_clock_ms();

			if (pending)
				wait_input(left > 0 ? (int) left : 0);
			else if (polling)
				wait_input(poll_in > 0 ? (int) poll_in : 0);
			else
				wait_input(1000);
		}
		if (stopping)
			break;

		pthread_mutex_lock(&db_lock);
		if (PQconsumeInput(db) && drain_notifies_locked() > 0)
			pending = true;
		/* a standby cannot notify: ask every DASH_STANDBY_POLL_MS */
		if (polling && dash_clock_ms() >= next_poll)
		{
			pending = true;
			next_poll = dash_clock_ms() + DASH_STANDBY_POLL_MS;
		}
		if (pending && dash_clock_ms() >= next_refresh && PQstatus(db) == CONNECTION_OK)
		{
			bool		first = known == NULL;

			next_refresh = dash_clock_ms() + interval_ms;
			pending = false;
			/* The state could not be taken at connect: streams re-read. */
			if (refresh_locked() && first)
				dash_ring_push("reset", "{}");
		}
		pthread_mutex_unlock(&db_lock);
	}
}

void
dash_db_finish(void)
{
	pthread_mutex_lock(&db_lock);
	if (db)
		PQfinish(db);
	db = NULL;
	free(known);
	known = NULL;
	pthread_mutex_unlock(&db_lock);
}
