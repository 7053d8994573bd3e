/*
 * backoff.c -- exponential back-off with "equal jitter".
 *
 * After the n-th consecutive failure the next attempt waits a random time
 * in [d/2, d] with d = min(max, base * 2^(n-1)): never less than half the
 * nominal delay (so never a tight retry loop), never more than the cap,
 * and randomised so that many producers do not retry in lock-step.
 * Callers log only when failed()/succeeded() report a change of state.
 */
#include "backoff.h"

void
backoff_init(struct backoff *b, int64_t base_ms, int64_t max_ms)
{
	b->base_ms = base_ms > 0 ? base_ms : 1;
	b->max_ms = max_ms >= b->base_ms ? max_ms : b->base_ms;
	b->failures = 0;
	b->until_ms = 0;
}

/* The delay after FAILURES consecutive failures; U is uniform in [0,1). */
int64_t
backoff_delay_ms(const struct backoff *b, int failures, double u)
{
	int64_t		d = b->base_ms;

	if (failures <= 0)
		return 0;
	for (int i = 1; i < failures && d < b->max_ms; i++)
		d *= 2;
	if (d > b->max_ms)
		d = b->max_ms;
	if (u < 0)
		u = 0;
	if (u >= 1)
		u = 0.999999;
	return d / 2 + (int64_t) ((double) (d - d / 2) * u);
}

/* Records a failure at NOW_MS; returns 1 if we were healthy until now. */
int
backoff_failed(struct backoff *b, int64_t now_ms, double u)
{
	if (b->failures < 1000000)
		b->failures++;
	b->until_ms = now_ms + backoff_delay_ms(b, b->failures, u);
	return b->failures == 1;
}

/* Records a success; returns 1 if we were backing off until now. */
int
backoff_succeeded(struct backoff *b)
{
	int			was_failing = b->failures > 0;

	b->failures = 0;
	b->until_ms = 0;
	return was_failing;
}

int
backoff_waiting(const struct backoff *b, int64_t now_ms)
{
	return b->failures > 0 && now_ms < b->until_ms;
}
