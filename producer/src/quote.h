/*
 * quote.h -- the two records the producer publishes: a live quote
 * (topic stock_live) and a daily bar (topic stock_daily).
 *
 * Optional numbers are NAN (doubles) or -1 (volume) when unknown, so that
 * "absent" never needs a separate flag and is never confused with 0.
 */
#ifndef STOCKPIPE_QUOTE_H
#define STOCKPIPE_QUOTE_H

#include <stdint.h>

#define SYMBOL_MAX 20			/* DESIGN.md: 1-20 characters */
#define CURRENCY_MAX 16		/* the contract's SP_CURRENCY_MAX */

struct quote
{
	char		symbol[SYMBOL_MAX + 1];
	int64_t		ts_ms;			/* milliseconds since the epoch, UTC */
	double		price;			/* required, finite, > 0 */
	int64_t		volume;			/* day volume so far, -1 if unknown */
	double		open;			/* the day's, NAN if unknown */
	double		high;
	double		low;
	double		prev_close;
	char		currency[CURRENCY_MAX + 1];	/* "" if unknown */
	const char *source;			/* "yahoo", "replay", "sim"; NULL to omit */
};

struct bar
{
	char		symbol[SYMBOL_MAX + 1];
	char		date[11];		/* YYYY-MM-DD, exchange-local trading day */
	double		open;			/* NAN if unknown */
	double		high;
	double		low;
	double		close;			/* required */
	double		adj_close;		/* NAN if unknown */
	int64_t		volume;			/* -1 if unknown */
};

void		quote_init(struct quote *q);
void		bar_init(struct bar *b);

#endif
