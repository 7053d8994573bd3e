/*
 * source_replay.c -- publishes a recording (replay.c) at --speed times real
 * time, then exits: 0 when done, 1 when the file is unreadable or holds
 * nothing to replay.
 */
#include "sources.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
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

int
source_replay_run(struct runtime *rt)
{
	const struct config *cfg = rt->cfg;
	struct replay r;
	char		err[256];
	size_t		len = 0;
	char	   *text = slurp(cfg->replay_file, &len);
	size_t		sent = 0;
	int64_t		due = runtime_mono_ms();

	if (text == NULL)
	{
		log_error("replay: cannot read \"%s\": %s", cfg->replay_file,
				  errno ? strerror(errno) : "too large or unreadable");
		return 1;
	}
	if (replay_load(&r, text, len, err, sizeof(err)) != 0)
	{
		log_error("replay: %s: %s", cfg->replay_file, err);
		free(text);
		replay_free(&r);
		return 1;
	}
	free(text);
	if (r.bad_lines > 0)
		log_warn("replay: %zu bad line(s) skipped (first: %s)", r.bad_lines, r.first_error);
	if (r.count == 0)
	{
		log_error("replay: nothing to replay in \"%s\"", cfg->replay_file);
		replay_free(&r);
		return 1;
	}
	log_info("replay: %zu message(s) from %s%s at speed %g", r.count, cfg->replay_file,
			 r.from_chart ? " (Yahoo chart response)" : "", cfg->speed);
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
			sent++;
	}
	log_info("replay: %zu message(s) queued", sent);
	replay_free(&r);
	return 0;
}
