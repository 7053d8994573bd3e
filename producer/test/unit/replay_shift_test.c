/*
 * replay_shift_test.c -- --replay-shift: the trading-day arithmetic, which
 * session a recorded one is replayed as at any hour of any day (the clock
 * is a parameter: these tests pin it, and pass whatever the real time),
 * the same market times across DST, and the whole shift of the recorded
 * fixtures: bars trading day for trading day up to the day before the
 * session, prev_close the previous bar's close, every value unchanged.
 */
#include <time.h>

#include "civil.h"
#include "market.h"
#include "replay.h"
#include "fixtures.h"
#include "tap.h"

#define NY_OPEN 570				/* 09:30, the recorded session's first minute */

static int32_t
day(int y, int m, int d)
{
	return (int32_t) sp_days_from_civil(y, m, d);
}

/* An instant given in UTC, in microseconds. */
static int64_t
utc(int y, int mo, int d, int h, int mi)
{
	struct tm	tm = {0};

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return (int64_t) timegm(&tm) * 1000000;
}

static const char *
ymd(int32_t d)
{
	static char buf[4][16];
	static int	k;
	int			y, m, dd;

	k = (k + 1) % 4;
	sp_civil_from_days(d, &y, &m, &dd);
	snprintf(buf[k], sizeof(buf[k]), "%04d-%02d-%02d", y, m, dd);
	return buf[k];
}

static void
check_day(int32_t got, int32_t want, const char *desc)
{
	if (!check(got == want, "%s", desc))
		diag("got %s, expected %s", ymd(got), ymd(want));
}

static void
test_prev_trading_day(void)
{
	check_day(replay_prev_trading_day(day(2026, 12, 1)), day(2026, 11, 30), "prev: Tuesday -> Monday");
	check_day(replay_prev_trading_day(day(2026, 11, 30)), day(2026, 11, 27), "prev: Monday -> Friday");
	check_day(replay_prev_trading_day(day(2026, 11, 29)), day(2026, 11, 27), "prev: Sunday -> Friday");
	check_day(replay_prev_trading_day(day(2026, 11, 27)), day(2026, 11, 25),
			  "prev: the day after Thanksgiving -> Wednesday");
	check_day(replay_prev_trading_day(day(2026, 4, 6)), day(2026, 4, 2),
			  "prev: Easter Monday -> Thursday (Good Friday closed)");
	check_day(replay_prev_trading_day(day(2026, 1, 2)), day(2025, 12, 31),
			  "prev: 2 January -> 31 December (New Year's Day closed)");
	check_day(replay_prev_trading_day(day(2026, 7, 6)), day(2026, 7, 2),
			  "prev: Monday 6 July -> Thursday (3 July observed)");
	check_day(replay_prev_trading_day(day(2025, 1, 10)), day(2025, 1, 8),
			  "prev: 10 January 2025 -> 8 January (day of mourning)");
}

/* Which session is replayed, at every kind of hour and day (fake clock). */
static void
test_session_day(void)
{
	static const struct
	{
		int			y, mo, d, h, mi;	/* UTC */
		int			wy, wm, wd;		/* the session replayed */
		const char *what;
	}			cases[] = {
		{2026, 12, 1, 6, 30, 2026, 11, 30, "Tue 01:30 EST, night: Monday's"},
		{2026, 12, 1, 13, 0, 2026, 11, 30, "Tue 08:00 EST, before the open: Monday's"},
		{2026, 12, 1, 14, 29, 2026, 11, 30, "Tue 09:29 EST: still Monday's"},
		{2026, 12, 1, 14, 30, 2026, 12, 1, "Tue 09:30 EST, the open: today's"},
		{2026, 12, 1, 16, 0, 2026, 12, 1, "Tue 11:00 EST, during: today's"},
		{2026, 12, 1, 21, 0, 2026, 12, 1, "Tue 16:00 EST, the close: today's"},
		{2026, 12, 2, 1, 0, 2026, 12, 1, "Tue 20:00 EST (Wed in UTC), after the close: today's"},
		{2026, 12, 2, 4, 59, 2026, 12, 1, "Tue 23:59 EST: today's"},
		{2026, 11, 28, 17, 0, 2026, 11, 27, "Saturday noon: Friday's"},
		{2026, 11, 29, 23, 0, 2026, 11, 27, "Sunday evening: Friday's"},
		{2026, 11, 30, 13, 0, 2026, 11, 27, "Monday before the open: Friday's"},
		{2026, 11, 26, 17, 0, 2026, 11, 25, "Thanksgiving noon: Wednesday's"},
		{2026, 11, 27, 13, 0, 2026, 11, 25, "the day after Thanksgiving, before the open: Wednesday's"},
		{2026, 11, 27, 15, 0, 2026, 11, 27, "the day after Thanksgiving, 10:00: its own"},
		{2027, 1, 1, 17, 0, 2026, 12, 31, "New Year's Day 2027: 31 December's"},
		{2026, 7, 6, 13, 29, 2026, 7, 2, "Mon 6 July 09:29 EDT: Thursday's (3 July closed)"},
		{2026, 7, 6, 13, 30, 2026, 7, 6, "Mon 6 July 09:30 EDT: today's"},
		{2026, 3, 9, 13, 30, 2026, 3, 9, "the Monday after DST starts, 09:30 EDT: today's"},
		{2026, 3, 9, 14, 29, 2026, 3, 9, "the same Monday 10:29 EDT: today's"},
		{2026, 11, 2, 14, 29, 2026, 10, 30, "the Monday after DST ends, 09:29 EST: Friday's"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_day(replay_session_day(utc(cases[i].y, cases[i].mo, cases[i].d, cases[i].h, cases[i].mi),
									 NY_OPEN),
				  day(cases[i].wy, cases[i].wm, cases[i].wd), cases[i].what);
	/* the session start is the recording's: without one, the caller's */
	check_day(replay_session_day(utc(2026, 12, 1, 14, 10), 540), day(2026, 12, 1),
			  "09:10 EST with a 09:00 start: today's");
}

static void
test_map_time(void)
{
	int64_t		rec = utc(2024, 10, 2, 13, 30);	/* 09:30 EDT */

	check_int(replay_map_time(rec, day(2026, 12, 1)), utc(2026, 12, 1, 14, 30),
			  "map: 09:30 EDT onto a winter day is 09:30 EST (14:30Z)");
	check_int(replay_map_time(rec, day(2026, 7, 6)), utc(2026, 7, 6, 13, 30),
			  "map: onto a summer day, 09:30 EDT (13:30Z)");
	check_int(replay_map_time(rec, day(2026, 3, 9)), utc(2026, 3, 9, 13, 30),
			  "map: onto the Monday after DST starts");
	check_int(replay_map_time(utc(2024, 10, 2, 19, 59) + 250000, day(2026, 11, 2)),
			  utc(2026, 11, 2, 20, 59) + 250000, "map: 15:59:00.25 EDT onto the Monday after DST ends");
	check_int(replay_local_day(utc(2026, 12, 2, 1, 0)), day(2026, 12, 1),
			  "local day: 01:00Z on 2 December is 1 December in New York");
}

/* The recorded fixtures the demo replays, in one replay. */
static void
load_fixtures(struct replay *r)
{
	static const char *const names[] = {
		"chart_AAPL_1d_1m.json",
		"chart_AAPL_daily_2020-08-31_to_2020-11-06.json",
		"chart_MSFT_daily_2021-02-01_to_2022-01-31.json",
		"chart_NVDA_daily_2021-02-01_to_2022-01-31.json",
		"chart_WSU.DE_daily_2023-08-04_to_2023-08-09.json",
	};
	char		err[256];

	replay_init(r);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
	{
		size_t		len;
		char	   *body = read_file(fixtures_dir(), names[i], &len);

		if (!check(replay_add(r, body, len, err, sizeof(err)) == 0, "load %s", names[i]))
			diag("%s", err);
		free(body);
	}
}

static bool
is_trading(int32_t d)
{
	int			y, m, dd;

	sp_civil_from_days(d, &y, &m, &dd);
	return market_is_trading_day(y, m, dd);
}

/*
 * SYMBOL's bars in R (in order) must be the recorded ones (REC) with only
 * their dates moved, onto consecutive trading days ending on LAST.
 */
static void
check_bars(const struct replay *r, const struct replay *rec, const char *symbol, size_t want,
		   int32_t last)
{
	size_t		n = 0;
	size_t		k = 0;
	bool		same = true;
	bool		consecutive = true;
	int32_t		prev = 0;
	int32_t		end = 0;

	for (size_t i = 0; i < r->count; i++)
	{
		const sp_bar *b = &r->events[i].bar;

		if (r->events[i].topic != PUBLISHER_DAILY || strcmp(b->symbol, symbol) != 0 ||
			b->date > last)
			continue;
		while (k < rec->count && (rec->events[k].topic != PUBLISHER_DAILY ||
								  strcmp(rec->events[k].bar.symbol, symbol) != 0))
			k++;
		if (k == rec->count || rec->events[k].bar.close != b->close ||
			rec->events[k].bar.open != b->open || rec->events[k].bar.volume != b->volume ||
			rec->events[k].bar.adj_close != b->adj_close ||
			rec->events[k].bar.date != r->events[i].recorded_date)
			same = false;
		k++;
		if (n > 0 && (replay_prev_trading_day(b->date) != prev || !is_trading(b->date)))
			consecutive = false;
		prev = end = b->date;
		n++;
	}
	check_int((long long) n, (long long) want, symbol);
	check(same, "%s: every bar's values as recorded, in order", symbol);
	check(consecutive, "%s: on consecutive trading days", symbol);
	if (!check(end == last, "%s: the last bar on %s", symbol, ymd(last)))
		diag("it is on %s", ymd(end));
}

/*
 * The fixtures at a pinned hour: Saturday 28 November 2026 noon, so the
 * session replayed is Friday 27's (the day after Thanksgiving), and the
 * bars end on Wednesday 25.
 */
static void
test_fixtures_weekend(void)
{
	struct replay r;
	struct replay rec;
	struct replay_shift how = {REPLAY_SHIFT_AUTO, 0, 0};
	char		err[256];
	int32_t		t = day(2026, 11, 27);
	int32_t		p = day(2026, 11, 25);
	size_t		quotes = 0;
	size_t		first_quote = SIZE_MAX;
	size_t		last_bar_before = 0;
	size_t		k = 0;
	bool		values = true;
	bool		prev_close = true;
	bool		in_order = true;
	bool		on_t = true;
	bool		source = true;
	int64_t		last_ts = 0;
	const sp_bar *aapl_prev = NULL;
	const struct replay_event *aapl_own = NULL;

	load_fixtures(&r);
	load_fixtures(&rec);
	CHECK(replay_shift_apply(&r, &how, utc(2026, 11, 28, 17, 0), 540, err, sizeof(err)) == 0,
		  "fixtures: shifted");
	check_int((long long) r.count, 1 + 252 + 252 + 3 + 389 + 1,
			  "fixtures: 1 + 252 + 252 + 3 bars, 389 quotes, the session's bar");
	for (size_t i = 0; i < r.count; i++)
	{
		const struct replay_event *ev = &r.events[i];

		if (ev->topic == PUBLISHER_DAILY)
		{
			if (first_quote == SIZE_MAX)
				last_bar_before = i;
			if (strcmp(ev->bar.symbol, "AAPL") == 0 && ev->bar.date == p)
				aapl_prev = &ev->bar;
			if (strcmp(ev->bar.symbol, "AAPL") == 0 && ev->bar.date == t)
				aapl_own = ev;
			continue;
		}
		if (first_quote == SIZE_MAX)
			first_quote = i;
		quotes++;
		/* the recorded quotes, in order: the same prices, only ts moved */
		while (k < rec.count && rec.events[k].topic != PUBLISHER_LIVE)
			k++;
		if (k == rec.count || rec.events[k].quote.price != ev->quote.price ||
			rec.events[k].quote.volume != ev->quote.volume ||
			rec.events[k].quote.high != ev->quote.high || rec.events[k].recorded_us != ev->recorded_us)
			values = false;
		k++;
		if (ev->quote.prev_close != 226.21 || !(ev->quote.present & SP_HAS_PREV_CLOSE))
			prev_close = false;
		if (ev->quote.ts_us < last_ts)
			in_order = false;
		last_ts = ev->quote.ts_us;
		if (replay_local_day(ev->quote.ts_us) != t ||
			ev->quote.ts_us - ev->recorded_us != utc(2026, 11, 27, 14, 30) - utc(2024, 10, 2, 13, 30))
			on_t = false;
		if (strcmp(ev->quote.source, "replay") != 0)
			source = false;
	}
	check_int((long long) quotes, 389, "fixtures: AAPL's 389 quotes of 2024-10-02 (not 2024-10-03's)");
	CHECK(last_bar_before + 1 == first_quote, "fixtures: the bars come before the quotes");
	CHECK(values, "fixtures: every quote's price, volume and high as recorded, in order");
	CHECK(prev_close, "fixtures: prev_close 226.21, the recorded close before the session");
	CHECK(in_order, "fixtures: quotes in time order");
	CHECK(on_t, "fixtures: each quote at its recorded market time on Friday 27 (EDT -> EST)");
	CHECK(source, "fixtures: source replay");
	check_int(r.events[first_quote].quote.ts_us, utc(2026, 11, 27, 14, 30), "fixtures: first quote 09:30 EST");
	CHECK(aapl_prev != NULL && aapl_prev->close == 226.21 && aapl_prev->present == 0,
		  "fixtures: AAPL's previous close as a close-only bar on Wednesday 25");
	CHECK(aapl_own != NULL && aapl_own == &r.events[r.count - 1],
		  "fixtures: AAPL's own bar of Friday 27 after its last quote");
	if (aapl_own != NULL)
	{
		check_num(aapl_own->bar.close, r.events[r.count - 2].quote.price, "fixtures: own bar's close = last quote");
		CHECK(fabs(aapl_own->bar.open - 225.89) < 0.005 && fabs(aapl_own->bar.high - 227.37) < 0.005 &&
			  fabs(aapl_own->bar.low - 223.03) < 0.005, "fixtures: own bar's open/high/low as recorded");
		check_int(aapl_own->bar.volume, 27417235, "fixtures: own bar's volume, the minutes' sum");
	}
	check_bars(&r, &rec, "MSFT", 252, p);
	check_bars(&r, &rec, "NVDA", 252, p);
	check_bars(&r, &rec, "WSU.DE", 3, p);
	{
		size_t		aapl_bars = 0;

		for (size_t i = 0; i < r.count; i++)
			aapl_bars += r.events[i].topic == PUBLISHER_DAILY && strcmp(r.events[i].bar.symbol, "AAPL") == 0;
		check_int((long long) aapl_bars, 2, "fixtures: AAPL: two bars, the previous close and its own");
	}
	CHECK(strstr(r.summary, "from 2021-02-01..2024-10-02, shifted to ") != NULL &&
		  strstr(r.summary, "..2026-11-27") != NULL, "fixtures: the summary names both ranges");
	{
		bool		left_out = false;

		for (size_t i = 0; i < r.nnotes; i++)
			if (strstr(r.notes[i], "AAPL: daily bars 2020-08-31..2020-11-06 left out") != NULL)
				left_out = true;
		CHECK(left_out, "fixtures: AAPL's 2020 bars, four years older than its session, left out (noted)");
	}
	replay_free(&r);
	replay_free(&rec);
}

/* The same at other hours: during a session, and onto a summer day. */
static void
test_fixtures_other_hours(void)
{
	struct replay r;
	struct replay_shift how = {REPLAY_SHIFT_AUTO, 0, 0};
	char		err[256];
	size_t		i;

	load_fixtures(&r);
	CHECK(replay_shift_apply(&r, &how, utc(2026, 12, 1, 16, 0), 540, err, sizeof(err)) == 0,
		  "during: shifted");
	for (i = 0; i < r.count && r.events[i].topic != PUBLISHER_LIVE; i++)
		;
	CHECK(i < r.count && r.events[i].quote.ts_us == utc(2026, 12, 1, 14, 30),
		  "during (Tue 11:00 EST): today's session from 09:30 EST");
	CHECK(r.events[i - 1].bar.date == day(2026, 11, 30), "during: bars up to Monday");
	replay_free(&r);

	how.kind = REPLAY_SHIFT_ONTO;
	how.onto = day(2026, 7, 6);
	load_fixtures(&r);
	CHECK(replay_shift_apply(&r, &how, utc(2000, 1, 1, 0, 0), 540, err, sizeof(err)) == 0,
		  "onto: shifted");
	for (i = 0; i < r.count && r.events[i].topic != PUBLISHER_LIVE; i++)
		;
	CHECK(i < r.count && r.events[i].quote.ts_us == utc(2026, 7, 6, 13, 30),
		  "onto 2026-07-06: from 09:30 EDT, whatever the clock says");
	CHECK(r.events[i - 1].bar.date == day(2026, 7, 2), "onto 2026-07-06: bars up to Thursday 2 July");
	replay_free(&r);
}

/* JSON Lines: bars next to the session are its history; later ones are dropped. */
static void
test_lines_contiguous(void)
{
	const char *text =
		"{\"symbol\":\"XYZ\",\"date\":\"2024-09-27\",\"close\":10,\"open\":9}\n"
		"{\"symbol\":\"XYZ\",\"date\":\"2024-09-30\",\"close\":11}\n"
		"{\"symbol\":\"XYZ\",\"date\":\"2024-09-30\",\"close\":12}\n"
		"{\"symbol\":\"XYZ\",\"ts\":\"2024-10-01T13:30:00Z\",\"price\":12.5,\"prev_close\":99,\"source\":\"yahoo\"}\n"
		"{\"symbol\":\"XYZ\",\"ts\":\"2024-10-01T13:31:00Z\",\"price\":12.6}\n"
		"{\"symbol\":\"XYZ\",\"date\":\"2024-10-01\",\"close\":12.7,\"volume\":5}\n"
		"{\"symbol\":\"XYZ\",\"date\":\"2024-10-02\",\"close\":13}\n"
		"{\"symbol\":\"OLD\",\"date\":\"2019-01-02\",\"close\":5}\n"
		"{\"symbol\":\"OLD\",\"ts\":\"2024-10-01T14:00:00Z\",\"price\":6,\"prev_close\":5.5}\n";
	struct replay r;
	struct replay_shift how = {REPLAY_SHIFT_AUTO, 0, 0};
	char		err[256];
	int32_t		t = day(2026, 11, 30);

	CHECK(replay_load(&r, text, strlen(text), err, sizeof(err)) == 0, "lines: load");
	/* Monday 30 November 2026, 10:00 EST */
	CHECK(replay_shift_apply(&r, &how, utc(2026, 11, 30, 15, 0), 540, err, sizeof(err)) == 0,
		  "lines: shifted");
	if (!check_int((long long) r.count, 2 + 3 + 2, "lines: 2 bars, 3 quotes, 2 session bars"))
	{
		for (size_t i = 0; i < r.nnotes; i++)
			diag("%s", r.notes[i]);
		replay_free(&r);
		return;
	}
	/* XYZ's two bars onto Wednesday 25 and Friday 27 (Thanksgiving between) */
	check_day(r.events[0].bar.date, day(2026, 11, 25), "lines: first bar onto Wednesday");
	check_day(r.events[1].bar.date, day(2026, 11, 27), "lines: last bar onto Friday, the day before");
	check_num(r.events[1].bar.close, 12, "lines: of two bars of one date, the later");
	check_int(r.events[2].quote.ts_us, utc(2026, 11, 30, 14, 30), "lines: XYZ's first quote 09:30 EST");
	check_num(r.events[2].quote.prev_close, 12, "lines: prev_close = the previous bar's close, not the recorded 99");
	check_str(r.events[2].quote.source, "replay", "lines: a shifted yahoo quote is a replay");
	check_int(r.events[5].quote.ts_us, utc(2026, 11, 30, 15, 0), "lines: OLD's quote at 10:00 EST");
	check_num(r.events[5].quote.prev_close, 5.5, "lines: OLD keeps its recorded prev_close (its bar is years older)");
	CHECK(r.events[4].topic == PUBLISHER_DAILY && r.events[4].bar.close == 12.7 &&
		  r.events[4].bar.date == t && r.events[4].bar.volume == 5,
		  "lines: the recorded bar of the session's day, onto today, after its last quote");
	CHECK(r.events[6].topic == PUBLISHER_DAILY && strcmp(r.events[6].bar.symbol, "OLD") == 0 &&
		  r.events[6].bar.close == 6 && r.events[6].bar.date == t,
		  "lines: OLD's own bar from its quote");
	replay_free(&r);
}

/* A fixed duration, and no shift at all. */
static void
test_by_and_none(void)
{
	const char *text =
		"{\"symbol\":\"XYZ\",\"date\":\"2024-09-30\",\"close\":11}\n"
		"{\"symbol\":\"XYZ\",\"ts\":\"2024-10-01T13:30:00Z\",\"price\":12.5,\"source\":\"yahoo\"}\n";
	struct replay r;
	struct replay_shift how = {REPLAY_SHIFT_BY, 0, 36LL * 3600 * 1000000};
	char		err[256];

	replay_load(&r, text, strlen(text), err, sizeof(err));
	CHECK(replay_shift_apply(&r, &how, 0, 540, err, sizeof(err)) == 0, "by: shifted");
	check_day(r.events[0].bar.date, day(2024, 10, 1), "by 36h: a bar 1 whole day later");
	check_int(r.events[1].quote.ts_us, utc(2024, 10, 3, 1, 30), "by 36h: a quote 36 h later");
	check_str(r.events[1].quote.source, "replay", "by: the quote is a replay");
	replay_free(&r);

	how.kind = REPLAY_SHIFT_NONE;
	replay_load(&r, text, strlen(text), err, sizeof(err));
	CHECK(replay_shift_apply(&r, &how, 0, 540, err, sizeof(err)) == 0, "none: applied");
	check_day(r.events[0].bar.date, day(2024, 9, 30), "none: the bar as recorded");
	check_int(r.events[1].quote.ts_us, utc(2024, 10, 1, 13, 30), "none: the quote as recorded");
	check_str(r.events[1].quote.source, "yahoo", "none: a recorded yahoo quote stays yahoo");
	CHECK(strstr(r.summary, "2024-09-30..2024-10-01") != NULL, "none: the summary");
	replay_free(&r);
}

/* Bars only: the session start is the caller's. */
static void
test_bars_only(void)
{
	const char *text = "{\"symbol\":\"XYZ\",\"date\":\"2024-09-30\",\"close\":11}\n";
	struct replay r;
	struct replay_shift how = {REPLAY_SHIFT_AUTO, 0, 0};
	char		err[256];

	replay_load(&r, text, strlen(text), err, sizeof(err));
	replay_shift_apply(&r, &how, utc(2026, 12, 1, 14, 10), 540, err, sizeof(err));
	check_day(r.events[0].bar.date, day(2026, 11, 30), "bars only, 09:10 with a 09:00 start: up to Monday");
	replay_free(&r);
	replay_load(&r, text, strlen(text), err, sizeof(err));
	replay_shift_apply(&r, &how, utc(2026, 12, 1, 14, 10), 600, err, sizeof(err));
	check_day(r.events[0].bar.date, day(2026, 11, 27), "bars only, 09:10 with a 10:00 start: up to Friday");
	replay_free(&r);
}

int
main(void)
{
	if (market_set_timezone("America/New_York") != 0)
	{
		check(false, "zone America/New_York");
		return tap_summary();
	}
	test_prev_trading_day();
	test_session_day();
	test_map_time();
	test_fixtures_weekend();
	test_fixtures_other_hours();
	test_lines_contiguous();
	test_by_and_none();
	test_bars_only();
	return tap_summary();
}
