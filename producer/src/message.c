/*
 * message.c -- fills the optional fields of the contract's quotes and bars
 * (contract/contract.h) and formats a bar's date.  The messages themselves
 * are written by the contract library's encoder, which accepts a quote or
 * bar only if the consumers' decoder reads it back identically: what the
 * producer publishes, the consumers store.  Pure code, unit tested.
 */
#include "message.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void
message_set_amount(double *field, unsigned *present, unsigned bit, double v)
{
	if (isnan(v))
		return;
	*field = v;
	*present |= bit;
}

void
message_set_volume(int64_t *field, unsigned *present, int64_t v)
{
	if (v < 0)
		return;
	*field = v;
	*present |= SP_HAS_VOLUME;
}

/* One the consumers would refuse is left out, not the whole quote. */
void
message_set_currency(sp_quote *q, const char *currency)
{
	if (!sp_valid_currency(currency))
		return;
	strcpy(q->currency, currency);
	q->present |= SP_HAS_CURRENCY;
}

/* The exchange's time zone, if the consumers would take it. */
void
message_set_exchange_tz(sp_quote *q, const char *tz)
{
	size_t		n = tz ? strlen(tz) : 0;

	if (n == 0 || n > SP_TZ_MAX)
		return;
	for (size_t i = 0; i < n; i++)
		if (tz[i] < '!' || tz[i] > '~')
			return;
	strcpy(q->exchange_tz, tz);
	q->present |= SP_HAS_EXCHANGE_TZ;
}

/* "pre", "regular" or "post"; anything else (NULL too) is left out. */
void
message_set_session(sp_quote *q, const char *session)
{
	if (session == NULL || (strcmp(session, "pre") != 0 && strcmp(session, "regular") != 0 &&
							strcmp(session, "post") != 0))
		return;
	strcpy(q->session, session);
	q->present |= SP_HAS_SESSION;
}

void
message_set_source(sp_quote *q, const char *source)
{
	if (source == NULL || strlen(source) > SP_SOURCE_MAX)
		return;
	strcpy(q->source, source);
	q->present |= SP_HAS_SOURCE;
}

/*
 * YYYY-MM-DD of DAYS, if its year has four digits (0001..9999): what
 * DESIGN.md's dates allow.  strftime's %Y would print year 0 as "0" and
 * year 10000 as "10000", neither of them YYYY.
 */
int
message_format_date(int32_t days, char *buf, size_t size)
{
	time_t		t = (time_t) days * 86400;
	struct tm	tm;
	int			n;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < 1 - 1900 || tm.tm_year > 9999 - 1900)
		return -1;
	n = snprintf(buf, size, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	return (n == 10 && (size_t) n < size) ? 10 : -1;
}
