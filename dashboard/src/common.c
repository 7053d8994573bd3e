/*
 * common.c: logging and the clock (common.h).
 */
#define _GNU_SOURCE
#include "common.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void
vlogmsg(const char *fmt, va_list ap, const char *suffix)
{
	char		ts[32];
	time_t		now = time(NULL);
	struct tm	tm;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	flockfile(stderr);
	fprintf(stderr, "%s stockpipe-dash: ", ts);
	vfprintf(stderr, fmt, ap);
	fputs(suffix, stderr);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void
logmsg(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vlogmsg(fmt, ap, "");
	va_end(ap);
}

void
log_pq(const char *what, const char *msg)
{
	int			n = (int) strlen(msg);

	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	logmsg("%s%.*s", what, n, msg);
}

void
logmsg_limited(RateLog *rl, const char *fmt,...)
{
	int64_t		now = mono_ms();
	unsigned long skipped;
	char		suffix[96] = "";
	va_list		ap;

	pthread_mutex_lock(&rl->lock);
	if (now < rl->next_ms)
	{
		rl->skipped++;
		pthread_mutex_unlock(&rl->lock);
		return;
	}
	skipped = rl->skipped;
	rl->skipped = 0;
	rl->next_ms = now + RATELOG_SEC * 1000;
	pthread_mutex_unlock(&rl->lock);
	if (skipped)
		snprintf(suffix, sizeof suffix, " (%lu more since the last such line)", skipped);
	va_start(ap, fmt);
	vlogmsg(fmt, ap, suffix);
	va_end(ap);
}

int64_t
mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t) t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void
cond_init_monotonic(pthread_cond_t *cond)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
}

void
cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, int64_t at_ms)
{
	struct timespec t = {.tv_sec = at_ms / 1000, .tv_nsec = (at_ms % 1000) * 1000000};

	pthread_cond_timedwait(cond, lock, &t);
}
