/*
 * source_sim.c -- runs the simulator (sim.c): --rate quotes per second in
 * total (0 = as fast as Kafka takes them), until --count quotes, one round
 * of symbols with --once, or a stop signal.
 */
#include "sources.h"

#include "log.h"
#include "sim.h"

int
source_sim_run(struct runtime *rt)
{
	const struct config *cfg = rt->cfg;
	struct sim	sim;
	sp_quote	q;
	int64_t		limit = cfg->count;
	int64_t		sent = 0;
	int64_t		start = runtime_mono_ms();
	double		period_ms = cfg->rate > 0 ? 1000.0 / cfg->rate : 0;

	if (cfg->once && (limit == 0 || limit > (int64_t) cfg->symbols.count))
		limit = (int64_t) cfg->symbols.count;
	if (sim_init(&sim, cfg->symbols.items, cfg->symbols.count,
				 cfg->seed ? cfg->seed : rng_next(&rt->rng)) != 0)
	{
		log_error("sim: out of memory");
		return 1;
	}
	log_info("sim: %zu symbol(s), %s%.0f quotes/s%s", cfg->symbols.count,
			 cfg->rate > 0 ? "" : "unlimited, ", cfg->rate,
			 limit ? ", stopping after --count quotes" : "");
	while (!*rt->stop && (limit == 0 || sent < limit))
	{
		if (period_ms > 0)
		{
			/* the schedule is absolute: a late quote does not delay the rest */
			int64_t		due = start + (int64_t) ((double) sent * period_ms);

			if (due > runtime_mono_ms())
				runtime_sleep_until(rt, due);
			if (*rt->stop)
				break;
		}
		sim_next(&sim, runtime_real_ms(), &q);
		if (runtime_publish_quote(rt, &q) != 0)
			break;
		sent++;
		rt->stats.fetched++;
		if ((sent & 1023) == 0)
			runtime_tick(rt);
	}
	log_info("sim: %lld quote(s) queued in %.3f s", (long long) sent,
			 (double) (runtime_mono_ms() - start) / 1000.0);
	sim_free(&sim);
	return 0;
}
