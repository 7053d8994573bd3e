/*
 * api.c: the JSON endpoints (api.h).  Request values are checked first
 * (validate.h), then passed to the queries only as parameters.
 */
#include "api.h"
#include "db.h"
#include "guard.h"
#include "queries.h"
#include "reply.h"
#include "validate.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define E_BAD_TIME "bad range: from and to must be ISO 8601 times"
#define E_BAD_ORDER "bad range: from must be before to, at most 31 days apart"
#define E_SPARKS_MISSING "symbols required: a comma-separated list of symbols"
#define E_SPARKS_TOO_MANY "too many symbols: at most 200 per request"
#define E_SPARKS_BAD "bad symbols: each must be 1-20 characters of A-Z 0-9 . - ^ =, separated by commas"
_Static_assert(DASH_SPARKS_MAX_SYMBOLS == 200, "E_SPARKS_TOO_MANY names the bound");

/* 404 unless the symbol is known; true when it answered. */
static bool
symbol_unknown(struct MHD_Connection *conn, const char *sym, enum MHD_Result *ret)
{
	const char *params[1] = {sym};
	char	   *out;
	dash_db_result qr;

	if (!dash_validate_symbol(sym))
	{
		*ret = dash_reply_error(conn, sym ? 404 : 400, sym ? "unknown symbol" : "symbol required");
		return true;
	}
	qr = dash_db_query(DASH_Q_SYMBOL_EXISTS, 1, params, &out);
	if (qr != DASH_DB_OK)
	{
		*ret = dash_reply_query_error(conn, qr);
		return true;
	}
	if (strcmp(out, "t") != 0)
	{
		free(out);
		*ret = dash_reply_error(conn, 404, "unknown symbol");
		return true;
	}
	free(out);
	return false;
}

/* The JSON one query answers; null_status and null_msg when it has none. */
static enum MHD_Result
api_json(struct MHD_Connection *conn, const char *sql, int n, const char *const *params,
		 unsigned null_status, const char *null_msg)
{
	char	   *out;
	dash_db_result qr = dash_db_query(sql, n, params, &out);
	enum MHD_Result ret;

	if (qr == DASH_DB_NULL)
		return dash_reply_error(conn, null_status, null_msg);
	if (qr != DASH_DB_OK)
		return dash_reply_query_error(conn, qr);
	ret = dash_reply_json(conn, 200, out);
	free(out);
	return ret;
}

enum MHD_Result
dash_api_symbols(struct MHD_Connection *conn)
{
	return api_json(conn, DASH_Q_QUOTES, 0, NULL, 500, "no result");
}

/*
 * The sparklines of the symbols the page shows (at most
 * DASH_SPARKS_MAX_SYMBOLS at once): checked here, then one parameter.
 */
enum MHD_Result
dash_api_sparks(struct MHD_Connection *conn)
{
	const char *syms = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "symbols");
	const char *params[1] = {syms};

	switch (dash_validate_symbol_list(syms, DASH_SPARKS_MAX_SYMBOLS, NULL))
	{
		case DASH_SYMLIST_MISSING:
			return dash_reply_error(conn, 400, E_SPARKS_MISSING);
		case DASH_SYMLIST_TOO_MANY:
			return dash_reply_error(conn, 400, E_SPARKS_TOO_MANY);
		case DASH_SYMLIST_BAD_SYMBOL:
			return dash_reply_error(conn, 400, E_SPARKS_BAD);
		case DASH_SYMLIST_OK:
			break;
	}
	return api_json(conn, DASH_Q_SPARKS, 1, params, 500, "no result");
}

enum MHD_Result
dash_api_alerts(struct MHD_Connection *conn)
{
	return api_json(conn, DASH_Q_ALERTS, 0, NULL, 500, "no result");
}

/* The series between the times DASH_Q_INTRADAY_RANGE resolved ("FROM|TO"). */
static enum MHD_Result
intraday_series(struct MHD_Connection *conn, const char *sym, char *range)
{
	char	   *bar = strchr(range, '|');
	const char *params[3] = {sym, range, NULL};
	char		body[128];

	if (!strcmp(range, "bad"))
		return dash_reply_error(conn, 400, E_BAD_ORDER);
	if (!strcmp(range, "none"))
	{
		/* Daily bars only: no quotes, an empty series. */
		snprintf(body, sizeof body,
				 "{\"symbol\":\"%s\",\"from\":null,\"to\":null,\"points\":[]}", sym);
		return dash_reply_json(conn, 200, body);
	}
	if (!bar)
		return dash_reply_error(conn, 500, "query failed");
	*bar = '\0';
	params[2] = bar + 1;
	return api_json(conn, DASH_Q_INTRADAY, 3, params, 500, "no result");
}

enum MHD_Result
dash_api_intraday(struct MHD_Connection *conn)
{
	const char *sym = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "symbol");
	const char *from = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "from");
	const char *to = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "to");
	const char *params[3] = {sym, from && *from ? from : NULL, to && *to ? to : NULL};
	enum MHD_Result ret;
	char	   *range;
	dash_db_result qr;

	switch (dash_validate_time_range(from, to))
	{
		case DASH_RANGE_BAD_TIME:
			return dash_reply_error(conn, 400, E_BAD_TIME);
		case DASH_RANGE_BAD_ORDER:
			return dash_reply_error(conn, 400, E_BAD_ORDER);
		case DASH_RANGE_OK:
			break;
	}
	if (symbol_unknown(conn, sym, &ret))
		return ret;
	/* The query applies the defaults and checks the range again, in the session's zone. */
	qr = dash_db_query(DASH_Q_INTRADAY_RANGE, 3, params, &range);
	if (qr != DASH_DB_OK)
		return dash_reply_query_error(conn, qr == DASH_DB_NULL ? DASH_DB_ERROR : qr);
	ret = intraday_series(conn, sym, range);
	free(range);
	return ret;
}

enum MHD_Result
dash_api_daily(struct MHD_Connection *conn)
{
	const char *sym = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "symbol");
	const char *params[1] = {sym};
	enum MHD_Result ret;

	if (symbol_unknown(conn, sym, &ret))
		return ret;
	return api_json(conn, DASH_Q_DAILY, 1, params, 500, "no result");
}

/*
 * /healthz: whether the database is up, how changes are learnt
 * (notifications, or polling on a standby), the session settings as
 * PostgreSQL reports them, and counters that show the limits at work.
 */
enum MHD_Result
dash_api_healthz(struct MHD_Connection *conn)
{
	dash_db_status st;
	char		body[512];

	dash_db_get_status(&st);
	snprintf(body, sizeof body,
			 "{\"database\":\"%s\",\"updates\":\"%s\",\"jit\":\"%s\",\"statement_timeout\":\"%s\","
			 "\"notifications\":%lu,\"refreshes\":%lu,\"quote_events\":%lu,"
			 "\"request_timeouts\":%lu}",
			 st.up ? "up" : "down", st.standby ? "polling (standby)" : "notifications",
			 st.jit, st.statement_timeout,
			 st.notifications, st.refreshes, st.quote_events, dash_guard_closed());
	return dash_reply_json(conn, st.up ? 200 : 503, body);
}
