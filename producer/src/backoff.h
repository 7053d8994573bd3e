/*
 * backoff.h -- exponential back-off with jitter for a failing upstream.
 * Pure: the caller supplies the clock and the random numbers.
 */
#ifndef STOCKPIPE_BACKOFF_H
#define STOCKPIPE_BACKOFF_H

#include <stdint.h>

struct backoff
{
	int64_t		base_ms;		/* first delay (before jitter) */
	int64_t		max_ms;			/* cap on any delay */
	int			failures;		/* consecutive failures, 0 = healthy */
	int64_t		until_ms;		/* no request before this instant */
};

void		backoff_init(struct backoff *b, int64_t base_ms, int64_t max_ms);
int64_t		backoff_delay_ms(const struct backoff *b, int failures, double u);
int			backoff_failed(struct backoff *b, int64_t now_ms, double u);
int			backoff_succeeded(struct backoff *b);
int			backoff_waiting(const struct backoff *b, int64_t now_ms);

#endif
