/*
 * runtime.h -- what every source shares while running: flags, the Kafka
 * publisher, counters, the stop flag, clocks, waiting and publishing.
 */
#ifndef STOCKPIPE_RUNTIME_H
#define STOCKPIPE_RUNTIME_H

#include <signal.h>
#include <stdint.h>

#include "config.h"
#include "contract.h"
#include "publisher.h"
#include "rng.h"
#include "stats.h"

struct runtime
{
	const struct config *cfg;
	struct publisher *publisher;
	struct stats stats;
	volatile sig_atomic_t *stop;
	int			wake_fd;		/* readable once a stop signal arrived */
	struct rng	rng;
	int64_t		next_stats_ms;	/* monotonic */
};

/* Milliseconds: monotonic (for deadlines), and since the epoch (for dates). */
int64_t		runtime_mono_ms(void);
int64_t		runtime_real_ms(void);

void		runtime_wait(struct runtime *rt, int64_t timeout_ms);
void		runtime_sleep_until(struct runtime *rt, int64_t deadline_mono_ms);
void		runtime_tick(struct runtime *rt);
void		runtime_report(struct runtime *rt);
int			runtime_publish_quote(struct runtime *rt, const sp_quote *q);
int			runtime_publish_bar(struct runtime *rt, const sp_bar *b);

#endif
