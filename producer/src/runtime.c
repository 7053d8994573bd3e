/*
 * runtime.c -- clocks, interruptible waits, stats reports and publishing,
 * shared by the Yahoo, replay and sim sources.
 *
 * Waiting is always kafka_wait(): it serves delivery reports and sleeps
 * until a deadline, a Kafka event or a stop signal, whichever comes first.
 */
#include "runtime.h"

#include <time.h>

#include "log.h"
#include "message.h"

int64_t
now_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
now_real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One bounded wait (returns early on events or a stop signal). */
void
runtime_wait(struct runtime *rt, int64_t timeout_ms)
{
	kafka_wait(rt->kafka, *rt->stop ? 0 : timeout_ms, rt->wake_fd);
	runtime_tick(rt);
}

void
runtime_sleep_until(struct runtime *rt, int64_t deadline_mono_ms)
{
	for (;;)
	{
		int64_t		left = deadline_mono_ms - now_mono_ms();

		if (*rt->stop || left <= 0)
		{
			kafka_wait(rt->kafka, 0, -1);
			return;
		}
		runtime_wait(rt, left);
	}
}

/* Prints the stats line when it is due. */
void
runtime_tick(struct runtime *rt)
{
	int64_t		now;

	if (rt->cfg->stats_interval_ms <= 0)
		return;
	now = now_mono_ms();
	if (rt->next_stats_ms == 0)
		rt->next_stats_ms = now + rt->cfg->stats_interval_ms;
	if (now >= rt->next_stats_ms)
	{
		runtime_report(rt);
		rt->next_stats_ms = now + rt->cfg->stats_interval_ms;
	}
}

void
runtime_report(struct runtime *rt)
{
	char		line[512];
	struct kafka_stats ks = kafka_get_stats(rt->kafka);

	stats_format(&rt->stats, &ks, line, sizeof(line));
	log_info("%s", line);
}

int
runtime_publish_quote(struct runtime *rt, const struct quote *q)
{
	char		buf[MESSAGE_MAX];
	char		err[SP_ERR_MAX];
	int			n = message_quote_json(q, buf, sizeof(buf), err);

	if (n < 0)
	{
		log_warn("%s: quote not publishable, skipped: %s", q->symbol, err);
		return -1;
	}
	if (kafka_produce(rt->kafka, KAFKA_LIVE, q->symbol, buf, (size_t) n, rt->stop) != 0)
		return -1;
	rt->stats.published++;
	return 0;
}

int
runtime_publish_bar(struct runtime *rt, const struct bar *b)
{
	char		buf[MESSAGE_MAX];
	char		err[SP_ERR_MAX];
	int			n = message_bar_json(b, buf, sizeof(buf), err);

	if (n < 0)
	{
		log_warn("%s: daily bar %s not publishable, skipped: %s", b->symbol, b->date, err);
		return -1;
	}
	if (kafka_produce(rt->kafka, KAFKA_DAILY, b->symbol, buf, (size_t) n, rt->stop) != 0)
		return -1;
	rt->stats.published++;
	return 0;
}
