/*
 * jscan.h -- a validating JSON scanner that converts nothing: it checks
 * the syntax of a whole chart response and records where a few values are,
 * so the live decoder can skip the thousands of bar numbers it does not
 * need, and then reads the members of a few objects (meta) without
 * building a tree.  Pure.
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

/*
 * The values of the members named KEYS[0..NKEYS-1] of the object OBJ (a
 * span that jscan_chart() validated) into VALUES[i]: the FIRST member of
 * each name, as cJSON_GetObjectItemCaseSensitive() finds it; .b = NULL
 * for a name not there.  Returns 0; 1 if a member name has escapes (cJSON
 * compares unescaped names, so the spans may not be the members cJSON
 * would find); -1 if OBJ is not an object.
 */
int			jscan_members(const struct jscan_span *obj, const char *const *keys, int nkeys,
						  struct jscan_span *values);

#endif
