/*
 * sim.h -- a random-walk quote generator for demos and load tests.  Pure:
 * the caller supplies the clock; the generator is seeded.
 */
#ifndef STOCKPIPE_SIM_H
#define STOCKPIPE_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "contract.h"
#include "rng.h"

struct sim
{
	sp_quote   *quotes;			/* each symbol's last quote: the walk's state */
	size_t		n;
	size_t		next;			/* round-robin position */
	struct rng	rng;
};

int			sim_init(struct sim *s, char *const *symbols, size_t n, uint64_t seed);
void		sim_next(struct sim *s, int64_t now_ms, sp_quote *q);
void		sim_free(struct sim *s);

#endif
