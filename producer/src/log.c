/*
 * log.c -- timestamped, levelled log lines on stderr.
 *
 * Every line is "2026-11-27T19:30:01.123Z LEVEL message".  The line is built
 * in a local buffer and written with one fputs so that lines from different
 * threads never interleave mid-line.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static enum log_level current_level = LOG_INFO;

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void
log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level
log_get_level(void)
{
	return current_level;
}

/* Accepts the names users type in --log-level; 0 on success, -1 if unknown. */
int
log_level_parse(const char *name, enum log_level *level)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};

	for (int i = 0; i < 4; i++)
	{
		if (strcasecmp(name, names[i]) == 0)
		{
			*level = (enum log_level) i;
			return 0;
		}
	}
	if (strcasecmp(name, "warning") == 0)
	{
		*level = LOG_WARN;
		return 0;
	}
	return -1;
}

void
log_msg(enum log_level level, const char *fmt,...)
{
	char		line[2048];
	struct timespec now;
	struct tm	tm;
	size_t		n;
	va_list		ap;

	if (level > current_level)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t) snprintf(line + n, sizeof(line) - n, ".%03ldZ %-5s ",
						   now.tv_nsec / 1000000L, level_names[level]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	n = strlen(line);
	line[n] = '\n';
	line[n + 1] = '\0';
	fputs(line, stderr);
}
