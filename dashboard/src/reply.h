/*
 * reply.h: the responses of stockpipe-dash's API: JSON bodies with their
 * headers, and the errors {"error": "..."}.
 */
#ifndef DASH_REPLY_H
#define DASH_REPLY_H

#include <stddef.h>
#include <microhttpd.h>

#include "db.h"

/* len bytes of body (copied), with Content-Type and Cache-Control. */
enum MHD_Result dash_reply_buf(struct MHD_Connection *conn, unsigned status, const char *ctype,
							   const char *cache, const char *body, size_t len);

/* A JSON body, not to be cached. */
enum MHD_Result dash_reply_json(struct MHD_Connection *conn, unsigned status, const char *json);

/* {"error": msg}; msg is one of our constant strings, no escaping needed. */
enum MHD_Result dash_reply_error(struct MHD_Connection *conn, unsigned status, const char *msg);

/* The error of a failed dash_db_query: 503, 400 or 500. */
enum MHD_Result dash_reply_query_error(struct MHD_Connection *conn, dash_db_result qr);

#endif
