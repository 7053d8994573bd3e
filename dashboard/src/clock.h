/*
 * clock.h: the monotonic clock of stockpipe-dash's deadlines and timed
 * waits (CLOCK_MONOTONIC: wall-clock steps do not move them).
 */
#ifndef DASH_CLOCK_H
#define DASH_CLOCK_H

#include <pthread.h>
#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t		dash_clock_ms(void);

/* A condition variable whose timed waits use CLOCK_MONOTONIC. */
void		dash_clock_cond_init(pthread_cond_t *cond);

/* pthread_cond_timedwait until the CLOCK_MONOTONIC instant at_ms. */
void		dash_clock_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, int64_t at_ms);

#endif
