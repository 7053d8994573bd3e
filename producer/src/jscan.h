/*
 * jscan.h -- a validating JSON scanner that converts nothing: it checks
 * the syntax of a whole chart response and records where a few values are,
 * so the live decoder can skip the thousands of bar numbers it does not
 * need.  Pure.
 */
#ifndef STOCKPIPE_JSCAN_H
#define STOCKPIPE_JSCAN_H

#include <stddef.h>

struct jscan_span
{
	const char *b;				/* NULL when not found */
	const char *e;
};

struct jscan_result
{
	struct jscan_span meta;		/* chart.result[0].meta */
	struct jscan_span timestamp;	/* chart.result[0].timestamp */
	struct jscan_span open;		/* chart.result[0].indicators.quote[0].open */
	struct jscan_span error;	/* chart.error */
	int			uncertain;		/* a name on the way has escapes: cJSON may see
								 * other members than the spans above */
};

int			jscan_chart(const char *text, size_t len, struct jscan_result *out);
int			jscan_next_element(const char **p, const char *end, struct jscan_span *elem);

#endif
