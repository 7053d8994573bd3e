/*
 * api.h: the JSON endpoints of stockpipe-dash (/api/symbols,
 * /api/sparks, /api/intraday, /api/daily, /api/alerts, /healthz).  Each runs its
 * queries (queries.h) on the shared connection (db.h) and answers the
 * JSON PostgreSQL built, or an error.
 */
#ifndef DASH_API_H
#define DASH_API_H

#include <microhttpd.h>

/* GET /api/symbols: the latest quote of every symbol (no sparklines). */
enum MHD_Result dash_api_symbols(struct MHD_Connection *conn);

/* GET /api/sparks?symbols=A,B,...: the two-hour sparklines of these symbols. */
enum MHD_Result dash_api_sparks(struct MHD_Connection *conn);

/* GET /api/intraday?symbol=S[&from=T][&to=T] */
enum MHD_Result dash_api_intraday(struct MHD_Connection *conn);

/* GET /api/daily?symbol=S */
enum MHD_Result dash_api_daily(struct MHD_Connection *conn);

/* GET /api/alerts: the latest alert firings. */
enum MHD_Result dash_api_alerts(struct MHD_Connection *conn);

/* GET /healthz */
enum MHD_Result dash_api_healthz(struct MHD_Connection *conn);

#endif
