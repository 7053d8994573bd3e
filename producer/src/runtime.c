/*
 * runtime.c -- clocks, interruptible waits, stats reports and publishing,
 * shared by the Yahoo, replay and sim sources.
 *
 * Waiting is always publisher_wait(): it serves delivery reports and sleeps
 * until a deadline, a Kafka event or a stop signal, whichever comes first.
 */
#include "runtime.h"

#include <stdio.h>
#include <time.h>

#include "log.h"
#include "message.h"

static int64_t
clock_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
runtime_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

int64_t
runtime_real_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

/* One bounded wait (returns early on events or a stop signal). */
void
runtime_wait(struct runtime *rt, int64_t timeout_ms)
{
	publisher_wait(rt->publisher, *rt->stop ? 0 : timeout_ms, rt->wake_fd);
	runtime_tick(rt);
}

void
runtime_sleep_until(struct runtime *rt, int64_t deadline_mono_ms)
{
	for (;;)
	{
		int64_t		left = deadline_mono_ms - runtime_mono_ms();

		if (*rt->stop || left <= 0)
		{
			publisher_wait(rt->publisher, 0, -1);
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
	now = runtime_mono_ms();
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
	struct publisher_stats ps = publisher_get_stats(rt->publisher);

	stats_format(&rt->stats, &ps, line, sizeof(line));
	log_info("%s", line);
}

/*
 * Hands the message of SYMBOL's quote or bar (WHAT) to Kafka: the N bytes
 * at BUF, or, when the encoder refused it (N < 0), logs its reason ERR and
 * skips it.  Returns 0 when it was queued.
 */
static int
publish(struct runtime *rt, enum publisher_topic topic, const char *symbol, const char *what,
		const char *buf, int n, const char *err)
{
	if (n < 0)
	{
		log_warn("%s: %s not publishable, skipped: %s", symbol, what, err);
		return -1;
	}
	if (publisher_send(rt->publisher, topic, symbol, buf, (size_t) n, rt->stop) != 0)
		return -1;
	rt->stats.published++;
	return 0;
}

int
runtime_publish_quote(struct runtime *rt, const sp_quote *q)
{
	char		buf[SP_MESSAGE_MAX];
	char		err[SP_ERR_MAX];
	int			n = sp_encode_quote(q, buf, sizeof(buf), err);

	return publish(rt, PUBLISHER_LIVE, q->symbol, "quote", buf, n, err);
}

int
runtime_publish_bar(struct runtime *rt, const sp_bar *b)
{
	char		buf[SP_MESSAGE_MAX];
	char		err[SP_ERR_MAX];
	char		what[32] = "daily bar";
	char		date[11];
	int			n = sp_encode_bar(b, buf, sizeof(buf), err);

	if (n < 0 && message_format_date(b->date, date, sizeof(date)) == 10)
		snprintf(what, sizeof(what), "daily bar %s", date);
	return publish(rt, PUBLISHER_DAILY, b->symbol, what, buf, n, err);
}
