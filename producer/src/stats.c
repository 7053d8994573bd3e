/*
 * stats.c -- formats "stats: cycles=.. fetched=.. published=.. ..." lines.
 * Counts are totals since start; cycle times cover the period since the
 * previous line, which is what tells an operator whether polling keeps up.
 */
#include "stats.h"

#include <stdio.h>

void
stats_cycle(struct stats *s, int64_t ms)
{
	s->cycles++;
	s->window_cycles++;
	s->cycle_ms_sum += ms;
	if (ms > s->cycle_ms_max)
		s->cycle_ms_max = ms;
	s->cycle_ms_last = ms;
}

/* Formats the report and starts a new cycle-time window. */
int
stats_format(struct stats *s, const struct publisher_stats *p, char *buf, size_t size)
{
	int			n;

	n = snprintf(buf, size,
				 "stats: cycles=%lld fetched=%lld published=%lld unchanged=%lld "
				 "http_errors=%lld bad_responses=%lld delivered=%lld delivery_errors=%lld "
				 "cycle_ms(last/avg/max)=%lld/%lld/%lld",
				 (long long) s->cycles, (long long) s->fetched, (long long) s->published,
				 (long long) s->unchanged, (long long) s->http_errors,
				 (long long) s->bad_responses, (long long) p->delivered,
				 (long long) p->failed, (long long) s->cycle_ms_last,
				 (long long) (s->window_cycles ? s->cycle_ms_sum / s->window_cycles : 0),
				 (long long) s->cycle_ms_max);
	s->window_cycles = 0;
	s->cycle_ms_sum = 0;
	s->cycle_ms_max = 0;
	return n;
}
