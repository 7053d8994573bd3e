/*
 * source_yahoo.c -- the Yahoo Finance source: live quotes polled every
 * --interval during market hours, and daily bars at start-up and after the
 * close of every trading day.
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

		if (yahoo_decode_quote(r->body ? r->body : "", r->len, s->symbol, &q,
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

	if (body == NULL ||
		!decoded(p, s, yahoo_decode_quote(body, r->len, s->symbol, &q, err, sizeof(err)), err))
		return;
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

		if (!s->active || (daily && !s->daily_pending))
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
		if (yahoo_chart_url(cfg->yahoo_url, s->symbol, "1d", "1m", s->live_url, URL_MAX) < 0 ||
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

/* Starts a daily fetch for every active symbol, or retries the failed ones. */
static void
daily_round(struct poller *p, int retry)
{
	for (size_t i = 0; i < p->nsyms && !retry; i++)
		p->syms[i].daily_pending = p->syms[i].active;
	run_cycle(p, 1);
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
 * The scheduler: decides, each time it wakes up, whether daily bars or a
 * live cycle are due, then sleeps until the earliest next deadline (next
 * cycle, end of back-off, next open, next daily fetch, or a stop signal).
 */
int
source_yahoo_run(struct runtime *rt)
{
	const struct config *cfg = rt->cfg;
	struct market mkt = {cfg->open_min, cfg->close_min, cfg->daily_min};
	struct poller p;
	int64_t		next_daily_real = cfg->no_daily ? NEVER : runtime_real_ms();
	int			daily_retry = 0;
	int64_t		next_live = runtime_mono_ms();
	int			closed_logged = 0;
	int			closed_once = 0;
	int			status = 0;

	if (poller_init(&p, rt) != 0)
	{
		poller_free(&p);
		return 1;
	}
	log_info("yahoo: %zu symbol(s) from %s, every %lld ms%s", p.nsyms, cfg->yahoo_url,
			 (long long) cfg->interval_ms, cfg->always ? ", ignoring market hours" : "");
	while (!*rt->stop)
	{
		int64_t		real = runtime_real_ms();
		int64_t		mono = runtime_mono_ms();
		int64_t		sleep_ms;
		int			open;

		if (real >= next_daily_real && !backoff_waiting(&p.backoff, mono))
		{
			daily_round(&p, daily_retry);
			if (*rt->stop)
				break;
			real = runtime_real_ms();
			mono = runtime_mono_ms();
			if (daily_left(&p) > 0 && !cfg->once && daily_retry < DAILY_RETRIES)
			{
				daily_retry++;
				next_daily_real = real + (backoff_waiting(&p.backoff, mono) ?
										  p.backoff.until_ms - mono : 0);
				if (next_daily_real < real + DAILY_RETRY_MIN_MS)
					next_daily_real = real + DAILY_RETRY_MIN_MS;
			}
			else
			{
				if (daily_left(&p) > 0)
					log_warn("daily bars: %zu symbol(s) could not be fetched; next try at the "
							 "next scheduled time", daily_left(&p));
				daily_retry = 0;
				next_daily_real = (int64_t) market_next_daily(&mkt, (time_t) (real / 1000)) * 1000;
				if (!cfg->once)
					announce_next("daily bars: next fetch at", (time_t) (next_daily_real / 1000));
			}
		}
		if (p.nactive == 0)
			break;
		open = cfg->always || market_is_open(&mkt, (time_t) (real / 1000));
		if (open)
		{
			closed_logged = 0;
			if (mono >= next_live && !backoff_waiting(&p.backoff, mono))
			{
				if (run_cycle(&p, 0) != 0)
					break;
				next_live += cfg->interval_ms;
				mono = runtime_mono_ms();
				if (next_live < mono)
					next_live = mono;	/* late: go on, do not burst to catch up */
				if (cfg->once)
					break;
				if (p.nactive == 0)
					break;
			}
			sleep_ms = next_live - mono;
			if (backoff_waiting(&p.backoff, mono))
				sleep_ms = p.backoff.until_ms - mono;
		}
		else
		{
			time_t		next_open = market_next_open(&mkt, (time_t) (real / 1000));

			if (cfg->once)
			{
				announce_next("market closed; --once polls only in market hours (or with --always); "
						 "next open", next_open);
				closed_once = 1;
				break;
			}
			if (!closed_logged)
			{
				announce_next("market closed; live polling sleeps until", next_open);
				closed_logged = 1;
			}
			sleep_ms = (int64_t) next_open * 1000 - real;
			next_live = mono;
		}
		sleep_ms = min64(sleep_ms, next_daily_real - real);
		if (sleep_ms < 1)
			sleep_ms = 1;
		runtime_wait(rt, sleep_ms);
	}
	if (p.nactive == 0)
	{
		log_error("every symbol is invalid (Yahoo does not know any of them); exiting");
		status = 1;
	}
	else if (cfg->once && !closed_once && rt->stats.fetched == 0)
	{
		log_error("--once: no symbol could be fetched");
		status = 1;
	}
	poller_free(&p);
	return status;
}
