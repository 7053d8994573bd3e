/*
 * ring.h: the Server-Sent Events of stockpipe-dash.  The database thread
 * renders each event once into a ring of the last RING events; every
 * stream's connection thread copies them from there at its own pace.
 */
#ifndef DASH_RING_H
#define DASH_RING_H

#include <stdbool.h>
#include <stdint.h>

#define RING 256				/* events kept for slow readers */

void		ring_init(void);

/* Add "event: EVENT\ndata: DATA\n\n" (newlines in DATA become spaces). */
void		ring_push(const char *event, const char *data);

/* Shutting down: every reader gets RING_END. */
void		ring_close(void);

/* Free what is left (after the last reader). */
void		ring_free(void);

/* Take a stream's place under max; false when there is none (or closing). */
bool		ring_enter(unsigned max);
void		ring_leave(void);

/* The sequence number of the next event: where a new stream starts. */
uint64_t	ring_head(void);

typedef enum
{
	RING_EVENT,					/* *out: the next event (or a "reset") */
	RING_HEARTBEAT,				/* *out: a comment; nothing happened */
	RING_END					/* closing, or the peer has gone */
} RingWait;

/*
 * Wait for the event after *next (and advance it), until the
 * CLOCK_MONOTONIC instant heartbeat_ms; fd is the stream's socket, watched
 * to notice a client that left.  *out is malloc'd (NULL if out of memory).
 */
RingWait	ring_next(uint64_t *next, int64_t heartbeat_ms, int fd, char **out);

#endif
