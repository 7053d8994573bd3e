/*
 * session_test.c -- when a symbol is polled, by its own exchange's trading
 * periods (session.c), with a fake clock: every time here is an argument,
 * so the tests pass at any hour of any day.
 *
 * Besides the single decisions, a week of one-second steps is simulated
 * against a model of Yahoo (the current day's periods from the
 * pre-market on, else the latest trading day's), through Thanksgiving
 * (closed) and the early close of the day after, and compared with the
 * fixed 09:00-16:30 window: polls made, and when each session's polling
 * starts and stops.
 */
#include <string.h>
#include <time.h>

#include "fixtures.h"
#include "session.h"
#include "tap.h"
#include "yahoo.h"

/* Seconds since the epoch of y-m-d h:mi on a clock OFF hours from UTC. */
static int64_t
at(int y, int mo, int d, int h, int mi, int off)
{
	struct tm	tm = {0};

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return (int64_t) timegm(&tm) - off * 3600;
}

static struct yahoo_periods
periods(int64_t pre, int64_t open, int64_t close, int64_t post_end)
{
	struct yahoo_periods p;

	memset(&p, 0, sizeof(p));
	p.known = SESSION_PRE | SESSION_REGULAR | SESSION_POST;
	p.start[YAHOO_PRE] = pre;
	p.end[YAHOO_PRE] = open;
	p.start[YAHOO_REGULAR] = open;
	p.end[YAHOO_REGULAR] = close;
	p.start[YAHOO_POST] = close;
	p.end[YAHOO_POST] = post_end;
	p.gmtoffset = -5 * 3600;
	strcpy(p.exchange, "NasdaqGS");
	strcpy(p.timezone, "America/New_York");
	return p;
}

static void
test_parse(void)
{
	unsigned	m = 0;
	char		buf[64];

	CHECK(session_parse("regular", &m) == 0 && m == SESSION_REGULAR, "parse: regular");
	CHECK(session_parse("pre,regular,post", &m) == 0 &&
		  m == (SESSION_PRE | SESSION_REGULAR | SESSION_POST), "parse: pre,regular,post");
	CHECK(session_parse("post,pre", &m) == 0 && m == (SESSION_PRE | SESSION_POST),
		  "parse: any order");
	m = 99;
	CHECK(session_parse("", &m) != 0 && m == 99, "parse: empty refused, mask untouched");
	CHECK(session_parse("regular,", &m) != 0, "parse: trailing comma refused");
	CHECK(session_parse(",regular", &m) != 0, "parse: leading comma refused");
	CHECK(session_parse("pre,,post", &m) != 0, "parse: empty item refused");
	CHECK(session_parse("reg", &m) != 0, "parse: prefix refused");
	CHECK(session_parse("Regular", &m) != 0, "parse: names are lower case");
	CHECK(session_parse("regular,extended", &m) != 0, "parse: unknown period refused");
	session_format(SESSION_PRE | SESSION_POST, buf, sizeof(buf));
	check_str(buf, "pre,post", "format: pre,post");
}

/* The recorded responses' periods, and single decisions on them. */
static void
test_fixtures(const char *dir)
{
	size_t		len;
	char	   *body = read_file(dir, "chart_AAPL_1d_1m.json", &len);
	sp_quote	q;
	struct yahoo_periods p;
	struct session_plan plan;
	int64_t		a = 0;
	int64_t		b = 0;
	char		err[256];
	char		text[200];
	const int64_t idle = 300000;

	/* recorded Fri 2024-10-04 08:07 EDT: that day's periods */
	check_int(yahoo_decode_live(body, len, "AAPL", &q, &p, err, sizeof(err)), YAHOO_OK,
			  "AAPL 1m: decodes with its periods");
	free(body);
	CHECK(session_window(&p, SESSION_REGULAR, &a, &b) == 0 && a == 1728048600 &&
		  b == 1728072000 + SESSION_GRACE_S, "AAPL: window = regular 09:30-16:00 EDT + grace");
	CHECK(session_window(&p, SESSION_PRE | SESSION_REGULAR | SESSION_POST, &a, &b) == 0 &&
		  a == 1728028800 && b == 1728086400 + SESSION_GRACE_S,
		  "AAPL: window of pre,regular,post = 04:00-20:00 EDT + grace");
	session_describe(&p, YAHOO_REGULAR, text, sizeof(text));
	check_str(text, "regular 2024-10-04 09:30-16:00 UTC-04:00 (NasdaqGS, America/New_York)",
			  "AAPL: described on the exchange's clock");

	session_plan(&p, SESSION_REGULAR, 1727985601000, 1727985000000, idle, &plan);
	CHECK(!plan.active && plan.next_ms == 1727985000000 + idle,
		  "AAPL Thu 16:00:01 (before Friday's periods): idle, next poll after --idle-interval");
	session_plan(&p, SESSION_REGULAR, 1728048599000, 1728048400000, idle, &plan);
	CHECK(!plan.active && plan.next_ms == 1728048600000,
		  "AAPL 09:29:59: idle, next poll exactly at the open (sooner than the idle interval)");
	session_plan(&p, SESSION_REGULAR, 1728048600000, 1728048400000, idle, &plan);
	CHECK(plan.active && plan.next_ms == (1728072000 + SESSION_GRACE_S) * INT64_C(1000),
		  "AAPL 09:30:00: in session until 16:05");
	session_plan(&p, SESSION_REGULAR, (1728072000 + SESSION_GRACE_S) * INT64_C(1000) - 1,
				 0, idle, &plan);
	CHECK(plan.active, "AAPL 16:04:59.999: still polled (the closing print)");
	session_plan(&p, SESSION_REGULAR, (1728072000 + SESSION_GRACE_S) * INT64_C(1000),
				 1728072299000, idle, &plan);
	CHECK(!plan.active && plan.next_ms == 1728072299000 + idle, "AAPL 16:05: idle");
	session_plan(&p, SESSION_PRE | SESSION_REGULAR, 1728029000000, 1728028999000, idle, &plan);
	CHECK(plan.active, "AAPL 04:03 with --sessions pre,regular: in session");
	session_plan(&p, SESSION_REGULAR, 1728111600000, 1728111000000, idle, &plan);
	CHECK(!plan.active && plan.next_ms == 1728111000000 + idle,
		  "AAPL Fri 23:00: idle, every --idle-interval");
	session_plan(&p, SESSION_REGULAR, 1728134820000, 1728134760000, idle, &plan);
	CHECK(!plan.active && plan.next_ms == (1728048600 + 86400) * INT64_C(1000),
		  "AAPL Sat 09:27 (periods still Friday's): next look at Saturday 09:30, in case");
	session_plan(&p, SESSION_REGULAR, 1728135000000, 1728134760000, idle, &plan);
	CHECK(!plan.active && plan.next_ms == 1728135000000,
		  "AAPL Sat 09:30:00 (still Friday's): due now");
	session_plan(&p, SESSION_REGULAR, 1728135000001, 1728135000000, idle, &plan);
	CHECK(!plan.active && plan.next_ms == 1728135000000 + idle,
		  "AAPL Sat 09:30 after that look: the idle interval again (the next look is Sunday's)");
	session_plan(&p, SESSION_REGULAR, 1728134700000, 0, idle, &plan);
	CHECK(!plan.active && plan.next_ms == idle, "never polled: due at once");
	check_int(session_daily_at(&p), 1728072000 + SESSION_DAILY_AFTER_S,
			  "AAPL: daily bars at 16:45 EDT, 45 min after its close");

	/* Frankfurt, recorded Thu 2025-02-20 12:47 CET: 09:00-17:30 CET */
	body = read_file(dir, "chart_WSU.DE_daily_2023-08-04_to_2023-08-09.json", &len);
	check_int(yahoo_decode_live(body, len, "WSU.DE", &q, &p, err, sizeof(err)), YAHOO_OK,
			  "WSU.DE: decodes with its periods");
	free(body);
	session_describe(&p, YAHOO_REGULAR, text, sizeof(text));
	check_str(text, "regular 2025-02-20 09:00-17:30 UTC+01:00 (XETRA, Europe/Berlin)",
			  "WSU.DE: Frankfurt's session, on Frankfurt's clock");
	session_plan(&p, SESSION_REGULAR, at(2025, 2, 20, 8, 30, 0) * 1000, 0, idle, &plan);
	CHECK(plan.active, "WSU.DE 09:30 CET (03:30 in New York, where the fixed window is closed): "
		  "in session");
	session_plan(&p, SESSION_REGULAR, at(2025, 2, 20, 17, 0, 0) * 1000,
				 at(2025, 2, 20, 16, 59, 0) * 1000, idle, &plan);
	CHECK(!plan.active, "WSU.DE 18:00 CET (12:00 in New York, the fixed window open): idle");

	/* recorded Saturday 2025-02-22: the periods are Friday's */
	body = read_file(dir, "chart_MSFT_daily_2021-02-01_to_2022-01-31.json", &len);
	yahoo_decode_live(body, len, "MSFT", &q, &p, err, sizeof(err));
	free(body);
	session_plan(&p, SESSION_REGULAR, at(2025, 2, 22, 10, 1, 0) * 1000,
				 at(2025, 2, 22, 10, 0, 0) * 1000, idle, &plan);
	CHECK(!plan.active && plan.next_ms == at(2025, 2, 22, 10, 0, 0) * 1000 + idle,
		  "MSFT on Saturday (Friday's periods): idle");

	/* no currentTradingPeriod: unknown, the caller falls back */
	memset(&p, 0, sizeof(p));
	CHECK(session_window(&p, SESSION_REGULAR, &a, &b) != 0, "no periods: no window");
	check_int(session_daily_at(&p), -1, "no periods: no daily time");
	p = periods(0, 0, 0, 0);
	p.known = SESSION_PRE;
	p.start[YAHOO_PRE] = 100;
	p.end[YAHOO_PRE] = 200;
	CHECK(session_window(&p, SESSION_REGULAR, &a, &b) != 0,
		  "only a pre period, regular asked: no window (fallback)");
}

/*
 * A model of Yahoo for one New York symbol (EST all week): at time T, the
 * periods of T's day once its pre-market has begun (or, with LATE, only
 * once its regular session has), else those of the latest trading day.
 * Mon 23 - Sun 29 November 2026: Thursday is Thanksgiving (closed),
 * Friday closes at 13:00 (post until 17:00).
 */
static int
model_trading_day(int day)		/* 0 = Monday */
{
	return day <= 2 || day == 4;
}

static struct yahoo_periods
model(int64_t t, int late)
{
	int64_t		monday = at(2026, 11, 23, 0, 0, -5);
	int			day = (int) ((t - monday) / 86400);

	for (int d = day; d >= -3; d--)
	{
		int64_t		base = monday + (int64_t) d * 86400;
		int			early = d == 4;
		int64_t		shown_from = base + (late ? 9 * 3600 + 1800 : 4 * 3600);

		if (d < 0 || !model_trading_day(d) || (d == day && t < shown_from))
			continue;
		return periods(base + 4 * 3600, base + 9 * 3600 + 1800,
					   base + (early ? 13 : 16) * 3600, base + (early ? 17 : 20) * 3600);
	}
	return periods(monday - 3 * 86400 + 4 * 3600, monday - 3 * 86400 + 34200,
				   monday - 3 * 86400 + 57600, monday - 3 * 86400 + 72000);
}

struct week
{
	long		polls;
	long		per_day[7];
	int64_t		first_in[7];	/* first poll at or after the day's regular start */
	int64_t		last_fast[7];	/* the last poll less than 2 s after the one before */
	long		fast[7];		/* polls less than 2 s after the one before */
};

/* The week at 1 s steps, polled as source_yahoo.c does with its plans. */
static void
simulate(int late, unsigned mask, struct week *w)
{
	int64_t		monday = at(2026, 11, 23, 0, 0, -5);
	struct yahoo_periods p;
	int64_t		last = 0;
	int64_t		tick = 0;

	memset(w, 0, sizeof(*w));
	memset(&p, 0, sizeof(p));
	for (int64_t t = monday; t < monday + 7 * 86400; t++)
	{
		int64_t		now = t * 1000;
		int			day = (int) ((t - monday) / 86400);
		struct session_plan plan = {0, 0};
		int			poll;

		if (p.known)
			session_plan(&p, mask, now, last, 300000, &plan);
		poll = p.known ? (plan.active ? now >= tick : now >= plan.next_ms) : 1;
		if (!poll)
			continue;
		if (plan.active)
			tick = now + 1000;
		w->polls++;
		w->per_day[day]++;
		if (last && now - last < 2000)
		{
			w->fast[day]++;
			w->last_fast[day] = t;
		}
		if (!w->first_in[day] && t >= monday + (int64_t) day * 86400 + 34200)
			w->first_in[day] = t;
		last = now;
		p = model(t, late);
	}
}

static void
test_week(void)
{
	int64_t		monday = at(2026, 11, 23, 0, 0, -5);
	struct week w;
	long		fixed = 0;
	static const char *const names[] = {"Mon", "Tue", "Wed", "Thu (Thanksgiving)",
	"Fri (early close)", "Sat", "Sun"};

	for (int late = 0; late <= 1; late++)
	{
		const char *how = late ? "periods shown from the open" : "periods shown from 04:00";

		simulate(late, SESSION_REGULAR, &w);
		for (int d = 0; d < 7; d++)
		{
			int64_t		base = monday + (int64_t) d * 86400;

			if (model_trading_day(d))
			{
				int64_t		end = base + (d == 4 ? 13 : 16) * 3600 + SESSION_GRACE_S;

				check(w.first_in[d] == base + 34200,
					  "week, %s: %s polled at 09:30:00 sharp (%+lld s)", how, names[d],
					  (long long) (w.first_in[d] - base - 34200));
				/* the poll at 09:30:00 may follow an idle one at 09:29:59 */
				check(w.fast[d] >= end - (base + 34200) - 1 && w.fast[d] <= end - (base + 34200) &&
					  w.last_fast[d] == end - 1,
					  "week, %s: %s every second 09:30-%s +5 min, then not (%ld)", how,
					  names[d], d == 4 ? "13:00" : "16:00", w.fast[d]);
			}
			else
				/* (a look at 09:30:00 may come a second after an idle poll) */
				check(w.fast[d] <= 1 && w.per_day[d] <= 24 * 12 + 2,
					  "week, %s: %s never every second, %ld polls (every 5 min, and a look at "
					  "09:30)", how, names[d], w.per_day[d]);
		}
		if (!late)
		{
			for (int d = 0; d < 7; d++)	/* the fixed window: 09:00-16:30 on NYSE days */
				fixed += (d <= 4 && d != 3) ? 27000 : 0;
			printf("# one symbol, one week (Thanksgiving 2026): %ld polls by its own periods "
				   "(regular), %ld by the fixed 09:00-16:30 window (%ld more if its calendar "
				   "missed the holiday, as it would past its last year); 0 polls every second after Friday's "
				   "13:00 early close, where the fixed window made %d\n",
				   w.polls, fixed, 27000L, 3 * 3600 + 1800 - SESSION_GRACE_S);
			CHECK(w.polls < fixed, "week: fewer polls than the fixed window");
		}
	}
	simulate(0, SESSION_PRE | SESSION_REGULAR | SESSION_POST, &w);
	CHECK(w.first_in[0] == monday + 34200 && w.fast[0] == (20 - 4) * 3600 + SESSION_GRACE_S - 1,
		  "week, --sessions pre,regular,post: Monday every second 04:00-20:05");
}

/* The quote's session field: the period its time falls in, or none. */
static void
test_name_at(void)
{
	struct yahoo_periods p = periods(1000, 2000, 3000, 4000);

	CHECK(session_name_at(&p, 999) == NULL, "name_at: before pre, none");
	check_str(session_name_at(&p, 1000), "pre", "name_at: pre's first second");
	check_str(session_name_at(&p, 1999), "pre", "name_at: pre's last second");
	check_str(session_name_at(&p, 2000), "regular", "name_at: the open is regular");
	check_str(session_name_at(&p, 3000), "post", "name_at: the close starts post");
	CHECK(session_name_at(&p, 4000) == NULL, "name_at: after post, none");
	p.known = SESSION_REGULAR;
	CHECK(session_name_at(&p, 1500) == NULL, "name_at: an unknown period names nothing");
}

int
main(void)
{
	const char *dir = fixtures_dir();

	test_name_at();
	test_parse();
	test_fixtures(dir);
	test_week();
	return tap_summary();
}
