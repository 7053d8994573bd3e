/*
 * log.h: the log of stockpipe-dash, on stderr, one line per event.  Lines
 * that clients can cause are rate-limited (dash_log_limited).
 */
#ifndef DASH_LOG_H
#define DASH_LOG_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* One line on stderr: "TIME stockpipe-dash: MESSAGE". */
void		dash_log(const char *fmt,...) __attribute__((format(printf, 1, 2)));

/* A libpq message (they end with a newline) on one line after what. */
void		dash_log_pq(const char *what, const char *msg);

/*
 * Messages that a client can cause (a refused Host, a timed-out request, a
 * failing query on every notification) are logged at most once per
 * DASH_LOG_LIMIT_SEC, with the number of those left out since: a flood of
 * bad requests must not become a flood of log lines.
 */
#define DASH_LOG_LIMIT_SEC 10

typedef struct dash_log_limit
{
	pthread_mutex_t lock;
	int64_t		next_ms;		/* no line before this (dash_clock_ms) */
	unsigned long skipped;		/* messages left out since the last line */
} dash_log_limit;

#define DASH_LOG_LIMIT_INIT {PTHREAD_MUTEX_INITIALIZER, 0, 0}

void		dash_log_limited(dash_log_limit *rl, const char *fmt,...) __attribute__((format(printf, 2, 3)));

/*
 * libmicrohttpd's messages (MHD_OPTION_EXTERNAL_LOGGER): rate-limited, on
 * one line each.
 */
void		dash_log_mhd(void *cls, const char *fmt, va_list ap);

/* src for a log line: printable ASCII ('?' for other bytes), at most cap - 1 characters. */
void		dash_log_printable(char *dst, size_t cap, const char *src);

#endif
