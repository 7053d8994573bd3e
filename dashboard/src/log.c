/*
 * log.c: the log lines of stockpipe-dash (log.h): timestamps, the rate
 * limit of the lines clients can cause, and libmicrohttpd's messages.
 */
#define _GNU_SOURCE
#include "log.h"
#include "clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void
vlog(const char *fmt, va_list ap, const char *suffix)
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
dash_log(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vlog(fmt, ap, "");
	va_end(ap);
}

void
dash_log_pq(const char *what, const char *msg)
{
	int			n = (int) strlen(msg);

	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	dash_log("%s%.*s", what, n, msg);
}

void
dash_log_limited(dash_log_limit *rl, const char *fmt,...)
{
	int64_t		now = dash_clock_ms();
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
	rl->next_ms = now + DASH_LOG_LIMIT_SEC * 1000;
	pthread_mutex_unlock(&rl->lock);
	if (skipped)
		snprintf(suffix, sizeof suffix, " (%lu more since the last such line)", skipped);
	va_start(ap, fmt);
	vlog(fmt, ap, suffix);
	va_end(ap);
}

/*
 * libmicrohttpd's messages (a connection refused at a limit, one closed on
 * a read error) happen once per connection an attacker opens: rate-limited
 * like ours, on one line each.
 */
void
dash_log_mhd(void *cls, const char *fmt, va_list ap)
{
	static dash_log_limit limit = DASH_LOG_LIMIT_INIT;
	char		msg[512];
	size_t		n;

	(void) cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	dash_log_limited(&limit, "libmicrohttpd: %s", msg);
}

void
dash_log_printable(char *dst, size_t cap, const char *src)
{
	size_t		n = 0;

	for (; *src && n + 1 < cap; src++)
		dst[n++] = (*src >= 0x20 && *src < 0x7f) ? *src : '?';
	dst[n] = '\0';
}
