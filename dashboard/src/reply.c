/*
 * reply.c: API responses and errors (reply.h).
 */
#include "reply.h"

#include <stdio.h>
#include <string.h>

enum MHD_Result
dash_reply_buf(struct MHD_Connection *conn, unsigned status, const char *ctype,
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

enum MHD_Result
dash_reply_json(struct MHD_Connection *conn, unsigned status, const char *json)
{
	return dash_reply_buf(conn, status, "application/json; charset=utf-8", "no-store",
						  json, strlen(json));
}

enum MHD_Result
dash_reply_error(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	char		body[256];

	snprintf(body, sizeof body, "{\"error\":\"%s\"}", msg);
	return dash_reply_json(conn, status, body);
}

enum MHD_Result
dash_reply_query_error(struct MHD_Connection *conn, dash_db_result qr)
{
	if (qr == DASH_DB_DOWN)
		return dash_reply_error(conn, 503, "database unavailable");
	if (qr == DASH_DB_BAD_INPUT)
		return dash_reply_error(conn, 400, "bad parameter");
	return dash_reply_error(conn, 500, "query failed");
}
