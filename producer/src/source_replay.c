/*
 * source_replay.c -- publishes recordings (replay.c), their dates moved as
 * --replay-shift says, at --speed times real time, then exits: 0 when done,
 * 1 when a file is unreadable or nothing is left to replay.  It does not
 * loop: replayed again onto the same session, the quotes would only repeat
 * (symbol, ts) rows that the consumers already hold.
 */
#include "sources.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "market.h"
#include "replay.h"

#define REPLAY_FILE_MAX (512L * 1024 * 1024)

static char *
slurp(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf = NULL;
	long		n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n <= REPLAY_FILE_MAX &&
		fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t) n + 1)) != NULL)
	{
		if (fread(buf, 1, (size_t) n, f) != (size_t) n)
		{
			free(buf);
			buf = NULL;
		}
		else
		{
			buf[n] = '\0';
			*len = (size_t) n;
		}
	}
	fclose(f);
	return buf;
}

/* Adds the recording at PATH to R; 0, or -1 after logging why not. */
static int
add_file(struct replay *r, const char *path)
{
	size_t		len = 0;
	size_t		bad = r->bad_lines;
	char		err[256];
	char	   *text;

	errno = 0;
	text = slurp(path, &len);
	if (text == NULL)
	{
		log_error("replay: cannot read \"%s\": %s", path,
				  errno ? strerror(errno) : "too large or unreadable");
		return -1;
	}
	if (replay_add(r, text, len, err, sizeof(err)) != 0)
	{
		log_error("replay: %s: %s", path, err);
		free(text);
		return -1;
	}
	free(text);
	if (r->bad_lines > bad)
		log_warn("replay: %s: %zu bad line(s) skipped (first: %s)", path, r->bad_lines - bad,
				 r->first_error);
	return 0;
}

/* FILES, comma-separated, into R; 0, or -1 after logging why not. */
static int
add_files(struct replay *r, const char *files)
{
	char	   *list = strdup(files);
	char	   *save = NULL;
	int			rc = 0;

	if (list == NULL)
	{
		log_error("replay: out of memory");
		return -1;
	}
	for (char *path = strtok_r(list, ",", &save); path != NULL && rc == 0;
		 path = strtok_r(NULL, ",", &save))
		rc = add_file(r, path);
	free(list);
	return rc;
}

/* "2026-12-01 11:42 EST (recorded 2024-10-02 11:42 EDT)", for progress lines. */
static void
describe_time(const struct replay_event *ev, char *buf, size_t size)
{
	char		now[40];
	char		then[40];

	if (market_format_local((time_t) (ev->quote.ts_us / 1000000), now, sizeof(now)) != 0 ||
		market_format_local((time_t) (ev->recorded_us / 1000000), then, sizeof(then)) != 0)
		snprintf(buf, size, "?");
	else if (ev->quote.ts_us == ev->recorded_us)
		snprintf(buf, size, "%s", now);
	else
		snprintf(buf, size, "%s (recorded %s)", now, then);
}

int
source_replay_run(struct runtime *rt)
{
	const struct config *cfg = rt->cfg;
	struct replay r;
	char		err[256];
	char		when[96];
	size_t		sent = 0;
	size_t		quotes = 0;
	size_t		quotes_sent = 0;
	const struct replay_event *last_quote = NULL;
	int64_t		due = runtime_mono_ms();
	int64_t		next_progress = due + cfg->stats_interval_ms;

	replay_init(&r);
	if (add_files(&r, cfg->replay_file) != 0)
	{
		replay_free(&r);
		return 1;
	}
	if (replay_shift_apply(&r, &cfg->replay_shift, runtime_real_ms() * 1000, cfg->open_min,
						   err, sizeof(err)) != 0)
	{
		log_error("replay: %s", err);
		replay_free(&r);
		return 1;
	}
	for (size_t i = 0; i < r.nnotes; i++)
		log_info("replay: %s", r.notes[i]);
	if (r.count == 0)
	{
		log_error("replay: nothing to replay in \"%s\"", cfg->replay_file);
		replay_free(&r);
		return 1;
	}
	for (size_t i = 0; i < r.count; i++)
		quotes += r.events[i].topic == PUBLISHER_LIVE;
	/* the line scripts/demo.sh shows as the source of the quotes */
	log_info("%s", r.summary);
	log_info("replay: %zu message(s) (%zu quotes) from %s%s at speed %g; no loop: the "
			 "producer exits at the end", r.count, quotes, cfg->replay_file,
			 r.from_chart ? " (Yahoo chart responses)" : "", cfg->speed);
	for (size_t i = 0; i < r.count && !*rt->stop; i++)
	{
		const struct replay_event *ev = &r.events[i];

		if (cfg->count > 0 && (int64_t) sent >= cfg->count)
			break;
		due += replay_delay_ms(&r, i, cfg->speed);
		runtime_sleep_until(rt, due);
		if (*rt->stop)
			break;
		if (ev->topic == PUBLISHER_LIVE ? runtime_publish_quote(rt, &ev->quote) == 0
			: runtime_publish_bar(rt, &ev->bar) == 0)
		{
			sent++;
			if (ev->topic == PUBLISHER_LIVE)
			{
				quotes_sent++;
				last_quote = ev;
			}
		}
		if (last_quote != NULL && cfg->stats_interval_ms > 0 && runtime_mono_ms() >= next_progress)
		{
			describe_time(last_quote, when, sizeof(when));
			log_info("replay: at %s, %zu of %zu quotes sent", when, quotes_sent, quotes);
			next_progress = runtime_mono_ms() + cfg->stats_interval_ms;
		}
	}
	if (last_quote != NULL)
	{
		describe_time(last_quote, when, sizeof(when));
		log_info("replay: %s: %zu message(s) queued, %zu of %zu quotes, the last at %s",
				 *rt->stop ? "stopped" : "done", sent, quotes_sent, quotes, when);
	}
	else
		log_info("replay: %s: %zu message(s) queued", *rt->stop ? "stopped" : "done", sent);
	replay_free(&r);
	return 0;
}
