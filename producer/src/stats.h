/*
 * stats.h -- counters behind the one-line stats report.
 */
#ifndef STOCKPIPE_STATS_H
#define STOCKPIPE_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "publisher.h"

struct stats
{
	int64_t		cycles;			/* totals since start */
	int64_t		fetched;		/* HTTP responses decoded into a quote/bars */
	int64_t		published;		/* messages handed to Kafka */
	int64_t		unchanged;		/* quotes skipped as identical to the last */
	int64_t		http_errors;	/* transport errors, 429, 5xx */
	int64_t		bad_responses;	/* garbage/truncated JSON, odd shapes */
	/* cycle times since the last report */
	int64_t		window_cycles;
	int64_t		cycle_ms_sum;
	int64_t		cycle_ms_max;
	int64_t		cycle_ms_last;
};

void		stats_cycle(struct stats *s, int64_t ms);
int			stats_format(struct stats *s, const struct publisher_stats *p, char *buf, size_t size);

#endif
