/*
 * clock.c: the monotonic clock and timed waits (clock.h).
 */
#define _GNU_SOURCE
#include "clock.h"

#include <time.h>

int64_t
dash_clock_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t) t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void
dash_clock_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
}

void
dash_clock_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, int64_t at_ms)
{
	struct timespec t = {.tv_sec = at_ms / 1000, .tv_nsec = (at_ms % 1000) * 1000000};

	pthread_cond_timedwait(cond, lock, &t);
}
