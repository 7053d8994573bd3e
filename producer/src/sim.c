/*
 * sim.c -- generates plausible quotes: each symbol starts at a price
 * derived from its name (so runs are comparable), then follows a geometric
 * random walk (about 5 basis points per tick, prices in cents) with the
 * day's open/high/low and a growing day volume.  Symbols take turns, so N
 * quotes per second spread evenly over the symbols.  Timestamps are the
 * caller's clock, bumped by 1 ms when needed so that (symbol, ts) is
 * unique: the consumer keeps the first row of a duplicate (symbol, ts).
 */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_SIGMA 0.0005

static double
cents(double v)
{
	return round(v * 100.0) / 100.0;
}

/* FNV-1a: a stable start price per symbol, between 20 and 520. */
static double
start_price(const char *sym)
{
	uint32_t	h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *) sym; *p; p++)
		h = (h ^ *p) * 16777619u;
	return cents(20.0 + (double) (h % 50000) / 100.0);
}

/* Standard normal deviate (Box-Muller). */
static double
gaussian(struct rng *r)
{
	double		u1 = rng_uniform(r);
	double		u2 = rng_uniform(r);

	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

int
sim_init(struct sim *s, char *const *symbols, size_t n, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->quotes = calloc(n ? n : 1, sizeof(*s->quotes));
	if (s->quotes == NULL)
		return -1;
	s->n = n;
	rng_seed(&s->rng, seed);
	for (size_t i = 0; i < n; i++)
	{
		sp_quote   *q = &s->quotes[i];
		double		p = start_price(symbols[i]);

		snprintf(q->symbol, sizeof(q->symbol), "%s", symbols[i]);
		q->prev_close = p;
		q->open = cents(p * (1.0 + 0.01 * gaussian(&s->rng)));
		if (q->open < 0.01)
			q->open = 0.01;
		q->price = q->high = q->low = q->open;
		q->volume = 0;
		strcpy(q->currency, "USD");
		strcpy(q->source, "sim");
		q->present = SP_HAS_VOLUME | SP_HAS_OPEN | SP_HAS_HIGH | SP_HAS_LOW |
			SP_HAS_PREV_CLOSE | SP_HAS_CURRENCY | SP_HAS_SOURCE;
	}
	return 0;
}

/* The next quote, for the next symbol in turn, into *OUT. */
void
sim_next(struct sim *s, int64_t now_ms, sp_quote *out)
{
	sp_quote   *q = &s->quotes[s->next];
	int64_t		now_us = now_ms * 1000;

	s->next = (s->next + 1) % s->n;
	q->price = cents(q->price * exp(SIM_SIGMA * gaussian(&s->rng)));
	if (q->price < 0.01)
		q->price = 0.01;
	if (q->price > q->high)
		q->high = q->price;
	if (q->price < q->low)
		q->low = q->price;
	q->volume += 100 * (1 + (int64_t) (rng_uniform(&s->rng) * 50));
	q->ts_us = now_us > q->ts_us ? now_us : q->ts_us + 1000;
	*out = *q;
}

void
sim_free(struct sim *s)
{
	free(s->quotes);
	s->quotes = NULL;
	s->n = 0;
}
