/*
 * replay.h -- turns recordings into the messages to replay, and moves their
 * dates onto the present (--replay-shift).  Pure: no I/O, and the current
 * time is a parameter, so that the tests choose it.
 *
 * A recording is JSON Lines in the topics' own formats (a line with "ts" is
 * a stock_live quote, a line with "date" a stock_daily bar) or one saved
 * Yahoo chart response: 1-minute bars become quotes, daily bars
 * (dataGranularity 1d) stock_daily bars.  Several recordings add up.
 *
 * Local dates and times are the market's (the time zone market.c selected
 * with market_set_timezone()); trading days are market.c's.
 */
#ifndef STOCKPIPE_REPLAY_H
#define STOCKPIPE_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "contract.h"
#include "publisher.h"

enum replay_shift_kind
{
	REPLAY_SHIFT_NONE,			/* times as recorded */
	REPLAY_SHIFT_AUTO,			/* sessions onto the current or latest session */
	REPLAY_SHIFT_ONTO,			/* sessions onto the session of a given day */
	REPLAY_SHIFT_BY				/* every time later by one duration */
};

struct replay_shift
{
	enum replay_shift_kind kind;
	int32_t		onto;			/* REPLAY_SHIFT_ONTO: a trading day (days since 1970-01-01) */
	int64_t		by_us;			/* REPLAY_SHIFT_BY */
};

struct replay_event
{
	enum publisher_topic topic;
	sp_quote	quote;			/* when topic == PUBLISHER_LIVE */
	sp_bar		bar;			/* when topic == PUBLISHER_DAILY */
	int64_t		recorded_us;	/* a quote's ts as recorded */
	int32_t		recorded_date;	/* a bar's date as recorded */
};

/* What a chart response says of the day before its first day: its close. */
struct replay_prior
{
	char		symbol[SP_SYMBOL_MAX + 1];
	int32_t		day;			/* the chart's first local day */
	double		close;			/* the close of the trading day before it */
};

#define REPLAY_NOTE_MAX 320
#define REPLAY_NOTES_MAX 64		/* notes kept; more are counted in the last */

struct replay
{
	struct replay_event *events;
	size_t		count;
	size_t		cap;
	struct replay_prior *priors;
	size_t		npriors;
	size_t		bad_lines;		/* JSON Lines that were skipped, in total */
	char		first_error[SP_ERR_MAX + 32];	/* "line N: " and why, of the last
												 * replay_add() that had one */
	int			from_chart;
	/* what replay_shift_apply() did, for the log */
	char		summary[REPLAY_NOTE_MAX];
	char		notes[REPLAY_NOTES_MAX][REPLAY_NOTE_MAX];
	size_t		nnotes;
};

void		replay_init(struct replay *r);
int			replay_add(struct replay *r, const char *text, size_t len, char *err, size_t errlen);
int			replay_load(struct replay *r, const char *text, size_t len, char *err, size_t errlen);
int			replay_shift_apply(struct replay *r, const struct replay_shift *how, int64_t now_us,
							   int open_min, char *err, size_t errlen);
int64_t		replay_delay_ms(const struct replay *r, size_t i, double speed);
void		replay_free(struct replay *r);

/* The calendar arithmetic of the shift, exposed for the tests. */
int32_t		replay_local_day(int64_t us);
int32_t		replay_prev_trading_day(int32_t day);
int32_t		replay_session_day(int64_t now_us, int open_min);
int64_t		replay_map_time(int64_t us, int32_t onto);

#endif
