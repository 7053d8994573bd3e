/*
 * ring.h: the Server-Sent Events of stockpipe-dash.  The database thread
 * renders each event once into a ring of the last DASH_RING_SIZE events;
 * every stream's connection thread copies them from there at its own pace.
 */
#ifndef DASH_RING_H
#define DASH_RING_H

#include <stdbool.h>
#include <stdint.h>

#define DASH_RING_SIZE 256		/* events kept for slow readers */

void		dash_ring_init(void);

/* Add "event: EVENT\ndata: DATA\n\n" (newlines in DATA become spaces). */
void		dash_ring_push(const char *event, const char *data);

/* Shutting down: every reader gets DASH_RING_END. */
void		dash_ring_close(void);

/* Free what is left (after the last reader). */
void		dash_ring_free(void);

/* Take a stream's place under max; false when there is none (or closing). */
bool		dash_ring_enter(unsigned max);
void		dash_ring_leave(void);

/* The sequence number of the next event: where a new stream starts. */
uint64_t	dash_ring_head(void);

typedef enum
{
	DASH_RING_EVENT,			/* *out: the next event (or a "reset") */
	DASH_RING_HEARTBEAT,		/* *out: a comment; nothing happened */
	DASH_RING_END				/* closing, or the peer has gone */
} dash_ring_wait;

/*
 * Wait for the event after *next (and advance it), until the
 * CLOCK_MONOTONIC instant heartbeat_ms; fd is the stream's socket, watched
 * to notice a client that left.  *out is malloc'd (NULL if out of memory).
 */
dash_ring_wait dash_ring_next(uint64_t *next, int64_t heartbeat_ms, int fd, char **out);

#endif
