/*
 * replay.h -- turns a recording into the messages to replay.  Pure.
 *
 * A recording is either JSON Lines in the topics' own formats (a line with
 * "ts" is a stock_live quote, a line with "date" a stock_daily bar) or one
 * saved Yahoo chart response (1-minute bars become quotes).
 */
#ifndef STOCKPIPE_REPLAY_H
#define STOCKPIPE_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "contract.h"
#include "publisher.h"

struct replay_event
{
	enum publisher_topic topic;
	sp_quote	quote;			/* when topic == PUBLISHER_LIVE */
	sp_bar		bar;			/* when topic == PUBLISHER_DAILY */
};

struct replay
{
	struct replay_event *events;
	size_t		count;
	size_t		bad_lines;		/* JSON Lines that were skipped */
	char		first_error[SP_ERR_MAX + 32];	/* "line N: " and why the first one was */
	int			from_chart;
};

int			replay_load(struct replay *r, const char *text, size_t len, char *err, size_t errlen);
int64_t		replay_delay_ms(const struct replay *r, size_t i, double speed);
void		replay_free(struct replay *r);

#endif
