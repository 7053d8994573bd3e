/*
 * common.h: logging and the clock, shared by the parts of stockpipe-dash.
 */
#ifndef DASH_COMMON_H
#define DASH_COMMON_H

#include <pthread.h>
#include <stdint.h>

/* One line on stderr: "TIME stockpipe-dash: MESSAGE". */
void		logmsg(const char *fmt,...) __attribute__((format(printf, 1, 2)));

/* A libpq message (they end with a newline) on one line after what. */
void		log_pq(const char *what, const char *msg);

/*
 * Messages that a client can cause (a refused Host, a timed-out request, a
 * failing query on every notification) are logged at most once per
 * RATELOG_SEC, with the number of those left out since: a flood of bad
 * requests must not become a flood of log lines.
 */
#define RATELOG_SEC 10

typedef struct RateLog
{
	pthread_mutex_t lock;
	int64_t		next_ms;		/* no line before this */
	unsigned long skipped;		/* messages left out since the last line */
} RateLog;

#define RATELOG_INIT {PTHREAD_MUTEX_INITIALIZER, 0, 0}

void		logmsg_limited(RateLog *rl, const char *fmt,...) __attribute__((format(printf, 2, 3)));

/* Milliseconds of CLOCK_MONOTONIC: deadlines that wall-clock steps do not move. */
int64_t		mono_ms(void);

/* A condition variable whose timed waits use CLOCK_MONOTONIC. */
void		cond_init_monotonic(pthread_cond_t *cond);

/* pthread_cond_timedwait until the CLOCK_MONOTONIC instant at_ms. */
void		cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, int64_t at_ms);

#endif
