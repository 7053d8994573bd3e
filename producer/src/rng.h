/*
 * rng.h -- a tiny seedable pseudo-random generator (xorshift64*), so that
 * the back-off jitter and the simulator are reproducible in tests.
 */
#ifndef STOCKPIPE_RNG_H
#define STOCKPIPE_RNG_H

#include <stdint.h>

struct rng
{
	uint64_t	s;
};

static inline void
rng_seed(struct rng *r, uint64_t seed)
{
	r->s = seed ? seed : 0x9E3779B97F4A7C15ULL;
}

static inline uint64_t
rng_next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, 1). */
static inline double
rng_uniform(struct rng *r)
{
	return (double) (rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

#endif
