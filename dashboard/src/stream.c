/*
 * stream.c: the event streams (stream.h).  A stream's handler blocks in
 * the ring until an event or a heartbeat, waking every second to notice a
 * client that went away.
 */
#define _GNU_SOURCE
#include "stream.h"
#include "clock.h"
#include "reply.h"
#include "ring.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

typedef struct SseClient
{
	int			fd;				/* the client's socket, to notice it left */
	int64_t		heartbeat_ms;	/* keep-alive after this long without events */
	uint64_t	next;			/* next event to send */
	char	   *pending;		/* what is being sent, and how far */
	size_t		len,
				off;
} SseClient;

int64_t
dash_stream_heartbeat_ms(unsigned timeout_sec)
{
	int64_t		ms = (int64_t) timeout_sec * 1000 / 2;

	return ms > DASH_STREAM_HEARTBEAT_MAX_MS ? DASH_STREAM_HEARTBEAT_MAX_MS : ms;
}

/*
 * libmicrohttpd's content reader: blocks in the ring until an event, or a
 * heartbeat comment when nothing happened for heartbeat_ms.
 */
static ssize_t
sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	SseClient  *c = cls;
	size_t		n;

	(void) pos;
	if (!c->pending)
	{
		if (dash_ring_next(&c->next, dash_clock_ms() + c->heartbeat_ms, c->fd, &c->pending) == DASH_RING_END)
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
	dash_ring_leave();
}

enum MHD_Result
dash_stream_open(struct MHD_Connection *conn, unsigned max_clients, int64_t heartbeat_ms)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct MHD_Response *r;
	SseClient  *c;
	enum MHD_Result ret;

	if (!dash_ring_enter(max_clients))
		return dash_reply_error(conn, 503, "too many stream clients");
	c = calloc(1, sizeof *c);
	if (!c)
	{
		dash_ring_leave();
		return MHD_NO;
	}
	c->fd = ci ? ci->connect_fd : -1;
	c->heartbeat_ms = heartbeat_ms;
	c->next = dash_ring_head();
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
