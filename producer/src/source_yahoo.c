/*
 * source_yahoo.c -- the Yahoo Finance source: live quotes polled every
 * --interval while each symbol's own exchange is in session, and daily
 * bars at start-up and after the close of every session.
 *
 * When: by default (--schedule yahoo) each symbol follows the trading
 * periods that Yahoo's last response for it gave (session.c): polled every
 * --interval inside the --sessions periods, every --idle-interval outside
 * them (to learn the next session), its daily bars 45 minutes after its
 * regular session ends.  A symbol whose periods are unknown (no response
 * yet, or none with periods) follows the built-in window and calendar
 * (market.c: --market-hours, --timezone, --daily-at, NYSE holidays),
 * which --schedule fixed applies to every symbol.
 *
 * Live requests ask for range=1d&interval=1d: meta (price, time, volume,
 * high, low, previous close, trading periods) and the day's single bar
 * (its open).
 *
 * One cycle fetches every symbol concurrently (http.c), decodes (yahoo.c),
 * publishes what changed and classifies failures:
 *   - 429, 5xx, 401/403 and transport errors: the upstream is unhealthy or
 *     throttling us, so the whole poller backs off (backoff.c); logged when
 *     the state changes, not per request;
 *   - 404/400 or a chart.error body: the symbol is unknown; reported once
 *     and dropped; when none is left the program exits 1;
 *   - garbage or truncated JSON: logged (once per symbol and state) and
 *     skipped;
 *   - a body larger than --max-response-bytes: the transfer is aborted,
 *     logged (once per symbol and state) and skipped like garbage.  It
 *     does not back the whole poller off: the upstream answered, and one
 *     symbol's oversized answers must not delay the others.
 */
#include "sources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "http.h"
#include "log.h"
#include "market.h"
#include "message.h"
#include "session.h"
#include "yahoo.h"

#define URL_MAX 1024
#define NEVER INT64_MAX
#define DAILY_RETRY_MIN_MS 5000	/* failed daily fetches: retry no sooner */
#define DAILY_RETRIES 10		/* then wait for the next scheduled fetch */

struct ysym
{
	const char *symbol;
	int			active;			/* 0 once found unknown */
	int			have_last;
	int64_t		last_ts_us;		/* last published quote */
	double		last_price;
	int			state;			/* last logged error state, 0 = fine */
	int			daily_pending;
	struct yahoo_periods periods;	/* from its latest decoded live response */
	int64_t		last_poll_ms;	/* real time of its latest live request, 0 = never */
	int64_t		daily_done_ms;	/* real time of its latest daily fetch, 0 = never */
	int64_t		daily_due_ms;	/* cached daily_due(), valid unless daily_stale */
	int			daily_stale;
	int			daily_in_round;	/* in the daily round in progress */
	int			due;			/* in the live cycle being built */
	int			plan;			/* PLAN_*: where it stands, for the logs */
	char		live_url[URL_MAX];
	char		daily_url[URL_MAX];
};

struct poller
{
	struct runtime *rt;
	struct http_client *http;
	struct ysym *syms;
	size_t		nsyms;
	size_t		nactive;
	struct http_request *reqs;
	size_t	   *req_sym;
	int			daily;			/* kind of the cycle in progress */
	struct backoff backoff;
	char		first_failure[320];	/* for the back-off log line */
	int			cycle_failures;
	int			cycle_successes;
};

/* Where a symbol stands: its plan, logged when it changes. */
enum
{
	PLAN_NONE = 0,				/* not decided yet */
	PLAN_FIRST,					/* --schedule yahoo, never polled: at once, to learn its periods */
	PLAN_SESSION,				/* in its own periods: every --interval */
	PLAN_IDLE,					/* outside them: every --idle-interval */
	PLAN_FALLBACK_OPEN,			/* periods unknown, built-in window open */
	PLAN_FALLBACK_CLOSED,		/* periods unknown, built-in window closed */
	PLAN_ALWAYS,				/* --always */
	PLAN_COUNT
};

/* Per-symbol error states, logged only when they change. */
enum
{
	ST_OK = 0,
	ST_BAD_JSON = 1,
	ST_NO_DATA = 2,
	ST_TOO_LARGE = 3,
	ST_HTTP = 1000				/* + status */
};

static void
symbol_state(struct ysym *s, int state, const char *what)
{
	if (state == s->state)
		return;
	if (state == ST_OK)
		log_info("%s: responses are fine again", s->symbol);
	else
		log_warn("%s: %s; skipped (logged once until it changes)", s->symbol, what);
	s->state = state;
}

static void
drop_symbol(struct poller *p, struct ysym *s, const char *why)
{
	if (!s->active)
		return;
	s->active = 0;
	s->daily_pending = 0;
	p->nactive--;
	log_error("%s: unknown symbol (%s); dropped from the live set (%zu left)",
			  s->symbol, why, p->nactive);
}

static void
note_failure(struct poller *p, const struct ysym *s, const char *what)
{
	if (p->cycle_failures++ == 0)
		snprintf(p->first_failure, sizeof(p->first_failure), "%s: %s", s->symbol, what);
	p->rt->stats.http_errors++;
}

/*
 * Classifies one response.  Returns the body to decode, or NULL when the
 * response was an error already dealt with.
 */
static const char *
check_response(struct poller *p, struct ysym *s, struct http_request *r)
{
	char		what[300];
	char		detail[256];

	if (r->too_large)
	{
		p->rt->stats.bad_responses++;
		symbol_state(s, ST_TOO_LARGE, r->error);
		if (p->daily)
			s->daily_pending = 0;	/* retried at the next scheduled time */
		return NULL;
	}
	if (r->failed)
	{
		note_failure(p, s, r->error);
		return NULL;
	}
	if (r->status == 200)
		return r->body ? r->body : "";
	if (r->status == 404 || r->status == 400)
	{
		/* Yahoo's error body says why: {"chart":{"error":{code,description}}} */
		sp_quote	q;

		if (yahoo_decode_live(r->body ? r->body : "", r->len, s->symbol, &q, NULL,
							  detail, sizeof(detail)) != YAHOO_CHART_ERROR)
			snprintf(detail, sizeof(detail), "no chart.error in the body");
		snprintf(what, sizeof(what), "HTTP %ld, %s", r->status, detail);
		drop_symbol(p, s, what);
		return NULL;
	}
	snprintf(what, sizeof(what), "HTTP %ld", r->status);
	if (r->status == 429 || r->status >= 500 || r->status == 401 || r->status == 403)
		note_failure(p, s, what);
	else
	{
		p->rt->stats.http_errors++;
		symbol_state(s, ST_HTTP + (int) r->status, what);
	}
	return NULL;
}

/*
 * What became of a 200 response (a success of the cycle: the upstream
 * answered), decoded with status ST: a chart error drops the symbol, other
 * failures are counted and logged (once per state).  Returns 1 when it
 * decoded.
 */
static int
decoded(struct poller *p, struct ysym *s, enum yahoo_status st, const char *err)
{
	p->cycle_successes++;
	if (st == YAHOO_CHART_ERROR)
	{
		drop_symbol(p, s, err);
		return 0;
	}
	if (st != YAHOO_OK)
	{
		p->rt->stats.bad_responses++;
		symbol_state(s, st == YAHOO_BAD_JSON ? ST_BAD_JSON : ST_NO_DATA, err);
		return 0;
	}
	symbol_state(s, ST_OK, NULL);
	p->rt->stats.fetched++;
	return 1;
}

/* Decodes one live response and publishes the quote if it changed. */
static void
handle_live(struct poller *p, struct ysym *s, struct http_request *r)
{
	const char *body = check_response(p, s, r);
	sp_quote	q;
	char		err[300];
	struct yahoo_periods before = s->periods;

	if (body == NULL ||
		!decoded(p, s, yahoo_decode_live(body, r->len, s->symbol, &q, &s->periods, err, sizeof(err)),
				 err))
		return;
	if (memcmp(&before, &s->periods, sizeof(before)) != 0)
		s->daily_stale = 1;		/* its daily time follows its periods */
	/* readers learn each symbol's market from its quotes */
	message_set_exchange_tz(&q, s->periods.timezone);
	message_set_session(&q, session_name_at(&s->periods, q.ts_us / 1000000));
	if (s->have_last && s->last_ts_us == q.ts_us && s->last_price == q.price)
	{
		p->rt->stats.unchanged++;
		return;
	}
	if (runtime_publish_quote(p->rt, &q) == 0)
	{
		s->have_last = 1;
		s->last_ts_us = q.ts_us;
		s->last_price = q.price;
	}
}

/* Decodes one daily response and publishes every bar. */
static void
handle_daily(struct poller *p, struct ysym *s, struct http_request *r)
{
	const char *body = check_response(p, s, r);
	sp_bar	   *bars = NULL;
	size_t		nbars = 0;
	char		err[300];
	size_t		sent = 0;

	if (body == NULL)
		return;
	if (decoded(p, s, yahoo_decode_bars(body, r->len, s->symbol, &bars, &nbars, err, sizeof(err)),
				err))
	{
		if (err[0] != '\0')	/* bars refused, e.g. a time out of range */
			log_warn("%s: daily bars: %s", s->symbol, err);
		for (size_t i = 0; i < nbars; i++)
			if (runtime_publish_bar(p->rt, &bars[i]) == 0)
				sent++;
		free(bars);
		log_debug("%s: %zu daily bar(s) published", s->symbol, sent);
	}
	s->daily_pending = 0;		/* a failure is retried at the next scheduled time */
}

/* Handles one response as soon as it arrives (see http_fetch_all). */
static void
on_response(struct http_request *r, void *arg)
{
	struct poller *p = arg;
	struct ysym *s = &p->syms[p->req_sym[r - p->reqs]];

	if (p->daily)
		handle_daily(p, s, r);
	else
		handle_live(p, s, r);
	http_request_clear(r);
}

/*
 * Fetches DAILY ? the daily URL of every symbol with daily_pending : the
 * live URL of every active symbol, concurrently, then handles the answers.
 * Returns -1 if interrupted by a stop request.
 */
static int
run_cycle(struct poller *p, int daily)
{
	size_t		n = 0;
	int64_t		start = runtime_mono_ms();
	int			rc;

	for (size_t i = 0; i < p->nsyms; i++)
	{
		struct ysym *s = &p->syms[i];

		if (!s->active || (daily ? !s->daily_pending : !s->due))
			continue;
		p->reqs[n].url = daily ? s->daily_url : s->live_url;
		p->req_sym[n++] = i;
	}
	p->cycle_failures = 0;
	p->cycle_successes = 0;
	p->daily = daily;
	rc = http_fetch_all(p->http, p->reqs, n, p->rt->stop, on_response, p);
	if (rc != 0)
		return -1;
	if (p->cycle_failures > 0)
	{
		int			first = backoff_failed(&p->backoff, runtime_mono_ms(), rng_uniform(&p->rt->rng));
		int64_t		wait = p->backoff.until_ms - runtime_mono_ms();

		if (first)
			log_warn("yahoo: %d of %zu requests failed (first: %s); backing off %.1f s "
					 "(doubling up to %.0f s while failures continue)",
					 p->cycle_failures, n, p->first_failure, (double) wait / 1000.0,
					 (double) p->backoff.max_ms / 1000.0);
		else
			log_debug("yahoo: still failing (%s); next attempt in %.1f s",
					  p->first_failure, (double) wait / 1000.0);
	}
	else if (p->cycle_successes > 0 && backoff_succeeded(&p->backoff))
		log_info("yahoo: requests succeed again; back-off over");
	if (!daily)
		stats_cycle(&p->rt->stats, runtime_mono_ms() - start);
	log_debug("yahoo: %s cycle of %zu request(s) in %lld ms", daily ? "daily" : "live", n,
			  (long long) (runtime_mono_ms() - start));
	return 0;
}

static int
poller_init(struct poller *p, struct runtime *rt)
{
	const struct config *cfg = rt->cfg;
	struct http_options opt = {
		.connect_timeout_ms = cfg->connect_timeout_ms,
		.timeout_ms = cfg->timeout_ms,
		.user_agent = cfg->user_agent,
		.max_body = (size_t) cfg->max_response_bytes
	};
	char		err[256];

	memset(p, 0, sizeof(*p));
	p->rt = rt;
	backoff_init(&p->backoff, 1000, cfg->backoff_max_ms);
	p->nsyms = cfg->symbols.count;
	p->syms = calloc(p->nsyms, sizeof(*p->syms));
	p->reqs = calloc(p->nsyms, sizeof(*p->reqs));
	p->req_sym = calloc(p->nsyms, sizeof(*p->req_sym));
	if (p->syms == NULL || p->reqs == NULL || p->req_sym == NULL)
	{
		log_error("out of memory");
		return -1;
	}
	for (size_t i = 0; i < p->nsyms; i++)
	{
		struct ysym *s = &p->syms[i];

		s->symbol = cfg->symbols.items[i];
		s->active = 1;
		s->daily_stale = 1;
		/*
		 * live: the day as one daily bar (~1.5 KB; a day of minutes is
		 * ~36 KB, whose inflating and scanning limited the cycle): meta has
		 * everything but the day's open, and the bar has that
		 */
		if (yahoo_chart_url(cfg->yahoo_url, s->symbol, "1d", "1d", s->live_url, URL_MAX) < 0 ||
			yahoo_chart_url(cfg->yahoo_url, s->symbol, "3mo", "1d", s->daily_url, URL_MAX) < 0)
		{
			log_error("--yahoo-url is too long");
			return -1;
		}
	}
	p->nactive = p->nsyms;
	p->http = http_client_new(&opt, err, sizeof(err));
	if (p->http == NULL)
	{
		log_error("%s", err);
		return -1;
	}
	return 0;
}

static void
poller_free(struct poller *p)
{
	if (p->reqs)
		for (size_t i = 0; i < p->nsyms; i++)
			http_request_clear(&p->reqs[i]);
	http_client_free(p->http);
	free(p->syms);
	free(p->reqs);
	free(p->req_sym);
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static void
announce_next(const char *what, time_t when)
{
	char		local[64];

	market_format_local(when, local, sizeof(local));
	log_info("%s %s", what, local);
}

/*
 * Once at start and once a day: a warning while the built-in holiday
 * calendar ends within a year or has ended (market_calendar_warning()).
 */
static void
check_calendar(int64_t real, int64_t *warned_day)
{
	int64_t		day = real / 86400000;
	char		msg[400];

	if (day == *warned_day)
		return;
	*warned_day = day;
	if (market_calendar_warning((time_t) (real / 1000), msg, sizeof(msg)))
		log_warn("%s", msg);
}

/*
 * When S's daily bars are next due (real ms), NEVER if not: at start-up;
 * then, by its own periods, SESSION_DAILY_AFTER_S after its latest regular
 * session ended, once; else at --daily-at of the next built-in trading day.
 * Cached in S until its periods or its latest fetch change.
 */
static int64_t
daily_due(const struct config *cfg, const struct market *mkt, struct ysym *s)
{
	int64_t		at;
	time_t		t;

	if (cfg->no_daily || !s->active)
		return NEVER;
	if (!s->daily_stale)
		return s->daily_due_ms;
	s->daily_stale = 0;
	if (s->daily_done_ms == 0)
		s->daily_due_ms = 0;
	else if (cfg->schedule == CONFIG_SCHEDULE_YAHOO && (at = session_daily_at(&s->periods)) >= 0)
		s->daily_due_ms = at * 1000 > s->daily_done_ms ? at * 1000 : NEVER;
	else
	{
		t = market_next_daily(mkt, (time_t) (s->daily_done_ms / 1000));
		s->daily_due_ms = t == (time_t) -1 ? NEVER : (int64_t) t * 1000;
	}
	return s->daily_due_ms;
}

/* The earliest daily fetch due, failed ones at RETRY_AT; *WHO = its symbol. */
static int64_t
daily_next(struct poller *p, const struct market *mkt, int64_t retry_at, const char **who)
{
	int64_t		next = NEVER;

	*who = NULL;
	for (size_t i = 0; i < p->nsyms; i++)
	{
		struct ysym *s = &p->syms[i];
		int64_t		at = s->daily_pending ? retry_at : daily_due(p->rt->cfg, mkt, s);

		if (at < next)
		{
			next = at;
			*who = s->symbol;
		}
	}
	return next;
}

/* Fetches the daily bars of every symbol due at REAL, and retries the failed ones. */
static void
daily_round(struct poller *p, const struct market *mkt, int64_t real)
{
	for (size_t i = 0; i < p->nsyms; i++)
	{
		struct ysym *s = &p->syms[i];

		if (!s->daily_pending && daily_due(p->rt->cfg, mkt, s) <= real)
			s->daily_pending = 1;
		s->daily_in_round = s->daily_pending;
	}
	run_cycle(p, 1);
	for (size_t i = 0; i < p->nsyms; i++)
	{
		struct ysym *s = &p->syms[i];

		if (s->daily_in_round && !s->daily_pending)
		{
			s->daily_done_ms = real;
			s->daily_stale = 1;
		}
		s->daily_in_round = 0;
	}
}

static size_t
daily_left(const struct poller *p)
{
	size_t		n = 0;

	for (size_t i = 0; i < p->nsyms; i++)
		n += p->syms[i].daily_pending ? 1 : 0;
	return n;
}

/*
 * S's plan at REAL (PLAN_*); for a plan that is not polled every
 * --interval, *NEXT_MS = its next poll (real ms, NEVER for none).  The
 * built-in window's next opening (NEXT_OPEN) is computed by the caller,
 * once for all symbols.
 */
static int
live_plan(const struct config *cfg, const struct market *mkt, const struct ysym *s, int64_t real,
		  time_t next_open, int64_t *next_ms)
{
	struct session_plan plan;
	int64_t		a;
	int64_t		b;

	*next_ms = NEVER;
	if (cfg->always)
		return PLAN_ALWAYS;
	if (cfg->schedule == CONFIG_SCHEDULE_YAHOO && s->last_poll_ms == 0)
	{
		*next_ms = 0;
		return PLAN_FIRST;
	}
	if (cfg->schedule == CONFIG_SCHEDULE_YAHOO &&
		session_window(&s->periods, cfg->sessions, &a, &b) == 0)
	{
		session_plan(&s->periods, cfg->sessions, real, s->last_poll_ms, cfg->idle_interval_ms,
					 &plan);
		*next_ms = plan.next_ms;
		return plan.active ? PLAN_SESSION : PLAN_IDLE;
	}
	if (market_is_open(mkt, (time_t) (real / 1000)))
		return PLAN_FALLBACK_OPEN;
	if (next_open != (time_t) -1)
		*next_ms = (int64_t) next_open * 1000;
	if (cfg->schedule == CONFIG_SCHEDULE_YAHOO)	/* poll now and then to learn its periods */
		*next_ms = min64(*next_ms, s->last_poll_ms + cfg->idle_interval_ms);
	return PLAN_FALLBACK_CLOSED;
}

/* S's new plan PLAN, at debug level (the summary line says it at info). */
static void
log_plan(const struct config *cfg, struct ysym *s, int plan)
{
	char		what[200];
	int			period = (s->periods.known & SESSION_REGULAR) ? YAHOO_REGULAR :
		(s->periods.known & SESSION_PRE) ? YAHOO_PRE : YAHOO_POST;

	if (plan == s->plan)
		return;
	s->plan = plan;
	session_describe(&s->periods, period, what, sizeof(what));
	if (plan == PLAN_SESSION)
		log_debug("%s: in session (%s): polled every %lld ms", s->symbol, what,
				  (long long) cfg->interval_ms);
	else if (plan == PLAN_IDLE)
		log_debug("%s: outside its trading periods (latest: %s): polled every %lld ms until the "
				  "next", s->symbol, what, (long long) cfg->idle_interval_ms);
	else if (plan == PLAN_FALLBACK_OPEN || plan == PLAN_FALLBACK_CLOSED)
		log_debug("%s: %s; built-in market hours, %s", s->symbol,
				  cfg->schedule == CONFIG_SCHEDULE_FIXED ? "--schedule fixed" :
				  "trading periods unknown", plan == PLAN_FALLBACK_OPEN ? "open" : "closed");
}

/* Appends " (A, B, C, ...)": the first three symbols whose plan is PLAN. */
static void
plan_names(const struct poller *p, int plan, char *buf, size_t size)
{
	size_t		n = strlen(buf);
	int			k = 0;

	for (size_t i = 0; i < p->nsyms && n + 1 < size; i++)
	{
		const struct ysym *s = &p->syms[i];
		int			w;

		if (!s->active || s->plan != plan)
			continue;
		w = k < 3 ? snprintf(buf + n, size - n, "%s%s", k ? ", " : " (", s->symbol) :
			snprintf(buf + n, size - n, ", ...");
		if (w < 0 || (size_t) w >= size - n)
			break;
		n += (size_t) w;
		if (++k > 3)
			break;
	}
	if (k > 0 && n + 1 < size)
		snprintf(buf + n, size - n, ")");
}

/* One info line whenever the number of symbols in each plan changes. */
static void
log_summary(const struct poller *p, size_t counts[PLAN_COUNT], size_t logged[PLAN_COUNT])
{
	const struct config *cfg = p->rt->cfg;
	char		line[512];

	if (cfg->always || counts[PLAN_FIRST] > 0 ||
		memcmp(counts, logged, sizeof(size_t) * PLAN_COUNT) == 0)
		return;					/* (not before every symbol was polled once) */
	memcpy(logged, counts, sizeof(size_t) * PLAN_COUNT);
	if (cfg->schedule == CONFIG_SCHEDULE_FIXED)
		return;					/* "market closed" says it, as before */
	snprintf(line, sizeof(line), "schedule: %zu symbol(s) in session", counts[PLAN_SESSION]);
	plan_names(p, PLAN_SESSION, line, sizeof(line));
	snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 "; %zu outside their trading periods, polled every %lld ms",
			 counts[PLAN_IDLE], (long long) cfg->idle_interval_ms);
	plan_names(p, PLAN_IDLE, line, sizeof(line));
	if (counts[PLAN_FALLBACK_OPEN] + counts[PLAN_FALLBACK_CLOSED] > 0)
	{
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
				 "; %zu with unknown periods on the built-in market hours (%s)",
				 counts[PLAN_FALLBACK_OPEN] + counts[PLAN_FALLBACK_CLOSED],
				 counts[PLAN_FALLBACK_OPEN] ? "open" : "closed");
		plan_names(p, counts[PLAN_FALLBACK_OPEN] ? PLAN_FALLBACK_OPEN : PLAN_FALLBACK_CLOSED,
				   line, sizeof(line));
	}
	log_info("%s", line);
}

/* The first line: where from, and when. */
static void
log_start(const struct poller *p, const struct config *cfg)
{
	char		sessions[32];
	char		hours[32];

	session_format(cfg->sessions, sessions, sizeof(sessions));
	snprintf(hours, sizeof(hours), "%02d:%02d-%02d:%02d", cfg->open_min / 60, cfg->open_min % 60,
			 cfg->close_min / 60, cfg->close_min % 60);
	if (cfg->always)
		log_info("yahoo: %zu symbol(s) from %s, every %lld ms, ignoring market hours", p->nsyms,
				 cfg->yahoo_url, (long long) cfg->interval_ms);
	else if (cfg->schedule == CONFIG_SCHEDULE_FIXED)
		log_info("yahoo: %zu symbol(s) from %s, every %lld ms in market hours %s %s "
				 "(--schedule fixed; built-in NYSE calendar)", p->nsyms, cfg->yahoo_url,
				 (long long) cfg->interval_ms, hours, cfg->timezone);
	else
		log_info("yahoo: %zu symbol(s) from %s, every %lld ms in each one's own trading periods "
				 "(%s), every %lld ms outside them; where those are unknown, market hours %s %s",
				 p->nsyms, cfg->yahoo_url, (long long) cfg->interval_ms, sessions,
				 (long long) cfg->idle_interval_ms, hours, cfg->timezone);
}

/* What the scheduler carries from one wake-up to the next. */
struct loop_state
{
	int64_t		next_live;		/* the tick of the symbols in session (mono ms) */
	int64_t		daily_retry_at; /* failed daily fetches: retry then (real ms; 0: none) */
	int			daily_retry;	/* retries made since the scheduled fetch */
	int64_t		announced_daily;	/* the daily fetch time last logged */
	int64_t		warned_day;		/* the day the calendar warning was last given */
	size_t		logged[PLAN_COUNT]; /* the plan counts last logged */
	int			closed_logged;	/* "market closed" said for this closure */
	int			closed_once;	/* --once stopped because the market is closed */
};

/* What one wake-up found: which symbols are due, and when to wake next. */
struct tick
{
	size_t		counts[PLAN_COUNT];
	size_t		ndue;
	int			any_session;	/* a symbol is in session */
	int			session_due;	/* ... and its tick has come */
	int64_t		wake_real;		/* earliest idle poll or session start (real ms) */
	time_t		next_open;		/* the market's next open; -1: open now */
};

/*
 * Fetch the daily bars when due; after failures, retry up to DAILY_RETRIES
 * times no sooner than DAILY_RETRY_MIN_MS apart (or after the back-off),
 * then leave the rest, marked stale, to the next scheduled time.  Returns
 * the next daily fetch time (real ms, NEVER for none).
 */
static int64_t
daily_step(struct poller *p, const struct market *mkt, struct loop_state *ls, const char **who)
{
	const struct config *cfg = p->rt->cfg;
	int64_t		real = runtime_real_ms();
	int64_t		mono;
	int64_t		next_daily = daily_next(p, mkt, ls->daily_retry_at, who);

	if (real < next_daily || backoff_waiting(&p->backoff, runtime_mono_ms()))
		return next_daily;
	daily_round(p, mkt, real);
	if (*p->rt->stop)
		return next_daily;
	real = runtime_real_ms();
	mono = runtime_mono_ms();
	if (daily_left(p) > 0 && !cfg->once && ls->daily_retry < DAILY_RETRIES)
	{
		ls->daily_retry++;
		ls->daily_retry_at = real + (backoff_waiting(&p->backoff, mono) ?
									 p->backoff.until_ms - mono : 0);
		if (ls->daily_retry_at < real + DAILY_RETRY_MIN_MS)
			ls->daily_retry_at = real + DAILY_RETRY_MIN_MS;
	}
	else
	{
		if (daily_left(p) > 0)
			log_warn("daily bars: %zu symbol(s) could not be fetched; next try at the "
					 "next scheduled time", daily_left(p));
		for (size_t i = 0; i < p->nsyms; i++)
			if (p->syms[i].daily_pending)
			{
				p->syms[i].daily_pending = 0;
				p->syms[i].daily_done_ms = real;
				p->syms[i].daily_stale = 1;
			}
		ls->daily_retry = 0;
		ls->daily_retry_at = 0;
	}
	return daily_next(p, mkt, ls->daily_retry_at, who);
}

/* Who is due: the symbols in session on the tick, the others at their own time. */
static void
plan_symbols(struct poller *p, const struct market *mkt, const struct loop_state *ls,
			 int64_t real, int64_t mono, struct tick *t)
{
	const struct config *cfg = p->rt->cfg;

	memset(t, 0, sizeof(*t));
	t->wake_real = NEVER;
	t->next_open = (time_t) -2; /* computed when needed */
	for (size_t i = 0; i < p->nsyms; i++)
	{
		struct ysym *s = &p->syms[i];
		int64_t		next_ms;
		int			plan;

		s->due = 0;
		if (!s->active)
			continue;
		if (t->next_open == (time_t) -2 && !cfg->always)
			t->next_open = market_is_open(mkt, (time_t) (real / 1000)) ? (time_t) -1 :
				market_next_open(mkt, (time_t) (real / 1000));
		plan = live_plan(cfg, mkt, s, real, t->next_open, &next_ms);
		log_plan(cfg, s, plan);
		t->counts[plan]++;
		if (plan == PLAN_SESSION || plan == PLAN_FALLBACK_OPEN || plan == PLAN_ALWAYS)
		{
			t->any_session = 1;
			s->due = mono >= ls->next_live;
			t->session_due |= s->due;
		}
		else if (real >= next_ms)
			s->due = 1;
		else
			t->wake_real = min64(t->wake_real, next_ms);
		t->ndue += s->due ? 1 : 0;
	}
}

/*
 * The log lines of a wake-up: the plan counts when they change, the next
 * daily fetch when it moves, "market closed" once per closure under
 * --schedule fixed.  Returns 1 when --once must stop (market closed).
 */
static int
log_tick(struct poller *p, struct loop_state *ls, struct tick *t,
		 int64_t next_daily, const char *daily_who)
{
	const struct config *cfg = p->rt->cfg;

	log_summary(p, t->counts, ls->logged);
	if (!cfg->once && next_daily != NEVER && ls->daily_retry_at == 0 &&
		next_daily != ls->announced_daily && t->counts[PLAN_FIRST] == 0)
	{
		char		what[96];

		snprintf(what, sizeof(what), "daily bars: next fetch (%s%s) at", daily_who,
				 cfg->schedule == CONFIG_SCHEDULE_YAHOO && p->nsyms > 1 ? " first" : "");
		announce_next(what, (time_t) (next_daily / 1000));
		ls->announced_daily = next_daily;
	}
	/* --schedule fixed, market closed: say so, as ever */
	if (cfg->schedule == CONFIG_SCHEDULE_FIXED && !cfg->always && !t->any_session)
	{
		if (cfg->once)
		{
			announce_next("market closed; --once polls only in market hours (or with --always); "
						  "next open", t->next_open);
			ls->closed_once = 1;
			return 1;
		}
		if (!ls->closed_logged)
			announce_next("market closed; live polling sleeps until", t->next_open);
		ls->closed_logged = 1;
	}
	else
		ls->closed_logged = 0;
	return 0;
}

/* How long to sleep: until the earliest deadline of the wake-up (at least 1 ms). */
static int64_t
sleep_time(const struct poller *p, const struct loop_state *ls, const struct tick *t,
		   int64_t real, int64_t mono, int64_t next_daily)
{
	int64_t		sleep_ms = t->any_session ? ls->next_live - mono : 3600000;

	if (t->ndue > 0)			/* due, but backing off */
		sleep_ms = p->backoff.until_ms - mono;
	sleep_ms = min64(sleep_ms, t->wake_real - real);
	sleep_ms = min64(sleep_ms, next_daily > real || !backoff_waiting(&p->backoff, mono) ?
					 next_daily - real : p->backoff.until_ms - mono);
	return sleep_ms < 1 ? 1 : sleep_ms;
}

/*
 * The scheduler: decides, each time it wakes up, whether daily bars are
 * due and which symbols a live cycle polls (those in session on the
 * shared --interval tick, the others when their next poll is due), then
 * sleeps until the earliest deadline (next tick, next idle poll, session
 * start, end of back-off, next daily fetch, or a stop signal).
 */
int
source_yahoo_run(struct runtime *rt)
{
	const struct config *cfg = rt->cfg;
	struct market mkt = {cfg->open_min, cfg->close_min, cfg->daily_min};
	struct poller p;
	struct loop_state ls = {.next_live = runtime_mono_ms(),.announced_daily = -1,.warned_day = -1};
	int			status = 0;

	if (poller_init(&p, rt) != 0)
	{
		poller_free(&p);
		return 1;
	}
	log_start(&p, cfg);
	while (!*rt->stop)
	{
		struct tick t;
		const char *daily_who;
		int64_t		next_daily;
		int64_t		real;
		int64_t		mono;

		check_calendar(runtime_real_ms(), &ls.warned_day);
		next_daily = daily_step(&p, &mkt, &ls, &daily_who);
		if (*rt->stop || p.nactive == 0)
			break;
		real = runtime_real_ms();
		mono = runtime_mono_ms();
		plan_symbols(&p, &mkt, &ls, real, mono, &t);
		if (!t.any_session)
			ls.next_live = mono;	/* a session that starts is polled at once */
		if (log_tick(&p, &ls, &t, next_daily, daily_who))
			break;
		if (t.ndue > 0 && !backoff_waiting(&p.backoff, mono))
		{
			for (size_t i = 0; i < p.nsyms; i++)
				if (p.syms[i].due)
					p.syms[i].last_poll_ms = real;
			if (run_cycle(&p, 0) != 0)
				break;
			if (t.session_due)
			{
				ls.next_live += cfg->interval_ms;
				mono = runtime_mono_ms();
				if (ls.next_live < mono)
					ls.next_live = mono;	/* late: go on, do not burst to catch up */
			}
			if (cfg->once || p.nactive == 0)
				break;
			continue;			/* new periods may change the plans */
		}
		runtime_wait(rt, sleep_time(&p, &ls, &t, real, mono, next_daily));
	}
	if (p.nactive == 0)
	{
		log_error("every symbol is invalid (Yahoo does not know any of them); exiting");
		status = 1;
	}
	else if (cfg->once && !ls.closed_once && rt->stats.fetched == 0)
	{
		log_error("--once: no symbol could be fetched");
		status = 1;
	}
	poller_free(&p);
	return status;
}
