/*
 * ring.c: the event ring of the streams (ring.h).
 */
#define _GNU_SOURCE
#include "ring.h"
#include "clock.h"

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ev_cond;
static char *ev_ring[DASH_RING_SIZE];
static uint64_t ev_head;		/* sequence number of the next event */
static bool ev_closing;
static unsigned ev_clients;

void
dash_ring_init(void)
{
	dash_clock_cond_init(&ev_cond);
}

void
dash_ring_push(const char *event, const char *data)
{
	size_t		n = strlen(event) + strlen(data) + 32;
	char	   *s = malloc(n);
	char	   *p;

	if (!s)
		return;
	p = s + snprintf(s, n, "event: %s\ndata: ", event);
	/* json_agg puts newlines between elements; an SSE data line has none. */
	for (; *data; data++)
		*p++ = (*data == '\n' || *data == '\r') ? ' ' : *data;
	memcpy(p, "\n\n", 3);
	pthread_mutex_lock(&ev_lock);
	free(ev_ring[ev_head % DASH_RING_SIZE]);
	ev_ring[ev_head % DASH_RING_SIZE] = s;
	ev_head++;
	pthread_cond_broadcast(&ev_cond);
	pthread_mutex_unlock(&ev_lock);
}

void
dash_ring_close(void)
{
	pthread_mutex_lock(&ev_lock);
	ev_closing = true;
	pthread_cond_broadcast(&ev_cond);
	pthread_mutex_unlock(&ev_lock);
}

void
dash_ring_free(void)
{
	for (int i = 0; i < DASH_RING_SIZE; i++)
	{
		free(ev_ring[i]);
		ev_ring[i] = NULL;
	}
}

bool
dash_ring_enter(unsigned max)
{
	bool		ok;

	pthread_mutex_lock(&ev_lock);
	ok = ev_clients < max && !ev_closing;
	if (ok)
		ev_clients++;
	pthread_mutex_unlock(&ev_lock);
	return ok;
}

void
dash_ring_leave(void)
{
	pthread_mutex_lock(&ev_lock);
	ev_clients--;
	pthread_mutex_unlock(&ev_lock);
}

uint64_t
dash_ring_head(void)
{
	uint64_t	h;

	pthread_mutex_lock(&ev_lock);
	h = ev_head;
	pthread_mutex_unlock(&ev_lock);
	return h;
}

/* Has the peer closed the connection?  (It sends nothing on a stream.) */
static bool
peer_gone(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN | POLLRDHUP};

	return fd >= 0 && poll(&pfd, 1, 0) > 0 &&
		(pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

dash_ring_wait
dash_ring_next(uint64_t *next, int64_t heartbeat_ms, int fd, char **out)
{
	dash_ring_wait w;

	*out = NULL;
	pthread_mutex_lock(&ev_lock);
	for (;;)
	{
		int64_t		now;

		if (ev_closing)
		{
			w = DASH_RING_END;
			break;
		}
		if (*next < ev_head)
		{
			w = DASH_RING_EVENT;
			if (ev_head - *next > DASH_RING_SIZE)
			{
				/* Too slow: the client re-reads /api/symbols. */
				*next = ev_head;
				*out = strdup("event: reset\ndata: {}\n\n");
			}
			else
				*out = strdup(ev_ring[(*next)++ % DASH_RING_SIZE]);
			break;
		}
		/*
		 * Wait in slices of a second at most to notice a client that left,
		 * so that it frees its place under --max-clients at once.
		 */
		if (peer_gone(fd))
		{
			w = DASH_RING_END;
			break;
		}
		now = dash_clock_ms();
		if (now >= heartbeat_ms)
		{
			w = DASH_RING_HEARTBEAT;
			*out = strdup(": keep-alive\n\n");
			break;
		}
		dash_clock_wait_until(&ev_cond, &ev_lock, heartbeat_ms < now + 1000 ? heartbeat_ms : now + 1000);
	}
	pthread_mutex_unlock(&ev_lock);
	return w;
}
