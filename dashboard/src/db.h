/*
 * db.h: the one PostgreSQL connection of stockpipe-dash and the database
 * thread that owns it.
 */
#ifndef DASH_DB_H
#define DASH_DB_H

#include <stdbool.h>

typedef struct dash_db_options
{
	const char *dsn;			/* libpq connection string, "" for PG* */
	unsigned	statement_timeout_ms;
	unsigned	max_refresh_rate;	/* refreshes a second on notifications */
} dash_db_options;

typedef enum
{
	DASH_DB_OK,					/* *out is the JSON (malloc'd) */
	DASH_DB_NULL,				/* no row or NULL */
	DASH_DB_BAD_INPUT,			/* a parameter PostgreSQL refused (22xxx) */
	DASH_DB_DOWN,				/* no database */
	DASH_DB_ERROR
} dash_db_result;

/* What /healthz reports. */
typedef struct dash_db_status
{
	bool		up;
	char		jit[16];		/* the session's settings, as it reports them */
	char		statement_timeout[32];
	unsigned long notifications;	/* received on stockpipe_live */
	unsigned long refreshes;	/* DASH_Q_CHANGES runs, each connect's first
								 * included */
	unsigned long quote_events; /* "quotes" events pushed */
	bool		standby;		/* a hot standby: changes are polled for */
} dash_db_status;

bool		dash_db_init(const dash_db_options *o);

/*
 * The database thread: connect (with back-off), LISTEN, and turn
 * notifications into events until dash_db_request_stop().
 */
void		dash_db_run(void);

/* Async-signal-safe: make dash_db_run() return. */
void		dash_db_request_stop(void);

/* Close the connection (after the HTTP server stopped). */
void		dash_db_finish(void);

/* One query of queries.h on the shared connection (API handlers). */
dash_db_result dash_db_query(const char *sql, int nparams, const char *const *params, char **out);

void		dash_db_get_status(dash_db_status *st);

#endif
