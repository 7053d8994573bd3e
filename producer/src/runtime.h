/*
 * runtime.h -- what every source shares while running: flags, the Kafka
 * producer, counters, the stop flag, clocks, waiting and publishing.
 */
#ifndef STOCKPIPE_RUNTIME_H
#define STOCKPIPE_RUNTIME_H

#include <signal.h>
#include <stdint.h>

#include "config.h"
#include "kafka.h"
#include "quote.h"
#include "rng.h"
#include "stats.h"

struct runtime
{
	const struct config *cfg;
	struct kafka *kafka;
	struct stats stats;
	volatile sig_atomic_t *stop;
	int			wake_fd;		/* readable once a stop signal arrived */
	struct rng	rng;
	int64_t		next_stats_ms;	/* monotonic */
};

int64_t		now_mono_ms(void);
int64_t		now_real_ms(void);

void		runtime_wait(struct runtime *rt, int64_t timeout_ms);
void		runtime_sleep_until(struct runtime *rt, int64_t deadline_mono_ms);
void		runtime_tick(struct runtime *rt);
void		runtime_report(struct runtime *rt);
int			runtime_publish_quote(struct runtime *rt, const struct quote *q);
int			runtime_publish_bar(struct runtime *rt, const struct bar *b);

#endif
