/*
 * stream.h: GET /api/stream, the Server-Sent Events of stockpipe-dash.
 * Each stream's connection thread copies the events of the ring (ring.h)
 * to its client.
 */
#ifndef DASH_STREAM_H
#define DASH_STREAM_H

#include <stdint.h>
#include <microhttpd.h>

#define DASH_STREAM_HEARTBEAT_MAX_MS 15000	/* keep-alive comment when idle, at most */

/*
 * The keep-alive interval for an idle timeout (--timeout) of timeout_sec:
 * half of it, at most DASH_STREAM_HEARTBEAT_MAX_MS, so that the idle
 * timeout never closes a healthy stream (it closes one whose client
 * stopped reading).
 */
int64_t		dash_stream_heartbeat_ms(unsigned timeout_sec);

/*
 * Answer with a stream, or 503 when max_clients are open already; a
 * ": keep-alive" comment after heartbeat_ms without events.
 */
enum MHD_Result dash_stream_open(struct MHD_Connection *conn, unsigned max_clients,
								 int64_t heartbeat_ms);

#endif
