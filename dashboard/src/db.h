/*
 * db.h: the one PostgreSQL connection of stockpipe-dash and the database
 * thread that owns it.
 */
#ifndef DASH_DB_H
#define DASH_DB_H

#include <stdbool.h>

typedef struct DbOptions
{
	const char *dsn;			/* libpq connection string, "" for PG* */
	unsigned	statement_timeout_ms;
	unsigned	max_refresh_rate;	/* refreshes a second on notifications */
} DbOptions;

typedef enum
{
	QR_OK,						/* *out is the JSON (malloc'd) */
	QR_NULL,					/* no row or NULL */
	QR_BAD_INPUT,				/* a parameter PostgreSQL refused (22xxx) */
	QR_DOWN,					/* no database */
	QR_ERROR
} QResult;

/* What /healthz reports. */
typedef struct DbStatus
{
	bool		up;
	char		jit[16];		/* the session's settings, as it reports them */
	char		statement_timeout[32];
	unsigned long notifications;	/* received on stockpipe_live */
	unsigned long refreshes;	/* Q_CHANGES runs, each connect's first included */
	unsigned long quote_events; /* "quotes" events pushed */
} DbStatus;

bool		db_init(const DbOptions *o);

/*
 * The database thread: connect (with back-off), LISTEN, and turn
 * notifications into events until db_request_stop().
 */
void		db_run(void);

/* Async-signal-safe: make db_run() return. */
void		db_request_stop(void);

/* Close the connection (after the HTTP server stopped). */
void		db_finish(void);

/* One query of queries.h on the shared connection (API handlers). */
QResult		db_query(const char *sql, int nparams, const char *const *params, char **out);

void		db_status(DbStatus *st);

#endif
