/*
 * yahoo.h -- decoding of Yahoo Finance v8 chart responses into quotes and
 * daily bars (the contract's sp_quote and sp_bar, source "yahoo"), and the
 * chart URL.  Pure: no I/O.
 */
#ifndef STOCKPIPE_YAHOO_H
#define STOCKPIPE_YAHOO_H

#include <stddef.h>

#include "contract.h"

enum yahoo_status
{
	YAHOO_OK = 0,
	YAHOO_BAD_JSON,				/* garbage or truncated body */
	YAHOO_CHART_ERROR,			/* {"chart":{"error":{code,description}}} */
	YAHOO_NO_DATA				/* valid JSON but no usable quote / odd shape */
};

const char *yahoo_status_name(enum yahoo_status st);

/*
 * An instrument's trading periods of the current day (or, between
 * sessions, of the latest one), as its exchange keeps them: Yahoo's
 * meta.currentTradingPeriod {pre, regular, post}, each {start, end} in
 * seconds since the epoch.  A period is known (bit 1 << YAHOO_PRE... in
 * KNOWN) when both times lie in 1900..9999 and it lasts 1 s to 24 h.
 * The names are for logs: printable ASCII, "" when absent or odd.
 */
enum yahoo_period
{
	YAHOO_PRE = 0,
	YAHOO_REGULAR,
	YAHOO_POST,
	YAHOO_NPERIODS
};

struct yahoo_periods
{
	unsigned	known;			/* 1 << YAHOO_PRE, ...: the periods given */
	int64_t		start[YAHOO_NPERIODS];	/* [start, end), seconds since the epoch */
	int64_t		end[YAHOO_NPERIODS];
	int32_t		gmtoffset;		/* the exchange's UTC offset then, seconds */
	char		timezone[SP_TZ_MAX + 1];	/* meta.exchangeTimezoneName, e.g. Europe/Berlin */
	char		exchange[40];	/* meta.fullExchangeName, else exchangeName */
};

/*
 * The live quote, and on YAHOO_OK the instrument's trading periods into
 * *PERIODS (known = 0 when the response has none; PERIODS may be NULL):
 * what the poller schedules a symbol by.  yahoo_decode_live() takes a fast
 * path when it can, and gives exactly what the reference decoder
 * yahoo_decode_live_full() gives (the status, every field, the periods, the
 * error text).  On failure ERR says why.
 */
enum yahoo_status yahoo_decode_live(const char *body, size_t len, const char *symbol,
									sp_quote *q, struct yahoo_periods *periods,
									char *err, size_t errlen);
enum yahoo_status yahoo_decode_live_full(const char *body, size_t len, const char *symbol,
										 sp_quote *q, struct yahoo_periods *periods,
										 char *err, size_t errlen);
/*
 * The fast path alone (what yahoo_decode_live() tries first): 0 with *Q
 * and *PERIODS (if not NULL) filled, exactly as the reference would fill
 * them, or -1 when it leaves the body to the reference.  No allocation,
 * no tree.  For the tests and the fuzz harness, which check that it is
 * taken where it should be and never disagrees.
 */
int			yahoo_decode_live_fast(const char *body, size_t len, const char *symbol,
								   sp_quote *q, struct yahoo_periods *periods);
/*
 * Daily bars, sorted by date, one per date, in a malloc'd array the caller
 * frees (NULL on failure).  On YAHOO_OK, ERR is "" or a note on the bars
 * that were refused (a time out of range); on failure it says why.
 */
enum yahoo_status yahoo_decode_bars(const char *body, size_t len, const char *symbol,
									sp_bar **bars, size_t *nbars,
									char *err, size_t errlen);

/*
 * Prices are rounded to the instrument's tick precision, meta.priceHint
 * decimals (what Yahoo and the exchange show), in both decoders: an
 * integer 0..YAHOO_PRICE_HINT_MAX, else YAHOO_PRICE_HINT_DEFAULT.
 */
#define YAHOO_PRICE_HINT_DEFAULT 2
#define YAHOO_PRICE_HINT_MAX 8

/*
 * V rounded to HINT decimals (clamped to 0..YAHOO_PRICE_HINT_MAX), half
 * away from zero on V's decimal representation -- the shortest decimal
 * that reads back as V, or as the float32 V is when float32 is that
 * precise there (Yahoo stores bar values as float32: 226.85499572753906
 * is 226.855, rounded to 226.86).  The result is the double
 * nearest to a decimal with at most HINT decimals and at most 15
 * significant digits, so it prints back as that decimal (225.67, not
 * 225.66999999999999).  Infinities and NaN are returned as they are.
 */
double		yahoo_round_price(double v, int hint);

/* The decimals meta.priceHint H (NAN when absent) gives, by the rule above. */
int			yahoo_price_hint(double h);

int			yahoo_chart_url(const char *base, const char *symbol, const char *range,
							const char *interval, char *buf, size_t size);

#endif
