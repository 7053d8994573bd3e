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
	s->syms = calloc(n ? n : 1, sizeof(*s->syms));
	if (s->syms == NULL)
		return -1;
	s->n = n;
	rng_seed(&s->rng, seed);
	for (size_t i = 0; i < n; i++)
	{
		struct sim_symbol *y = &s->syms[i];
		double		p = start_price(symbols[i]);

		snprintf(y->symbol, sizeof(y->symbol), "%s", symbols[i]);
		y->prev_close = p;
		y->open = cents(p * (1.0 + 0.01 * gaussian(&s->rng)));
		if (y->open < 0.01)
			y->open = 0.01;
		y->price = y->high = y->low = y->open;
		y->volume = 0;
	}
	return 0;
}

/* The next quote, for the next symbol in turn. */
void
sim_next(struct sim *s, int64_t now_ms, struct quote *q)
{
	struct sim_symbol *y = &s->syms[s->next];

	s->next = (s->next + 1) % s->n;
	y->price = cents(y->price * exp(SIM_SIGMA * gaussian(&s->rng)));
	if (y->price < 0.01)
		y->price = 0.01;
	if (y->price > y->high)
		y->high = y->price;
	if (y->price < y->low)
		y->low = y->price;
	y->volume += 100 * (1 + (int64_t) (rng_uniform(&s->rng) * 50));
	y->last_ts_ms = now_ms > y->last_ts_ms ? now_ms : y->last_ts_ms + 1;

	quote_init(q);
	memcpy(q->symbol, y->symbol, sizeof(q->symbol));
	q->ts_ms = y->last_ts_ms;
	q->price = y->price;
	q->volume = y->volume;
	q->open = y->open;
	q->high = y->high;
	q->low = y->low;
	q->prev_close = y->prev_close;
	strcpy(q->currency, "USD");
	q->source = "sim";
}

void
sim_free(struct sim *s)
{
	free(s->syms);
	s->syms = NULL;
	s->n = 0;
}
