/*-------------------------------------------------------------------------
 *
 * message.c
 *	  What the consumers (and the SQL functions decode_quote, decode_bar and
 *	  message_error) accept beyond the message contract of contract.c: a
 *	  payload of bounded size, and times that are plausible now.
 *
 * contract.c decides whether a payload is a well-formed quote or bar, and is
 * pure.  Here the settings and the clock come in: a quote's ts must lie
 * within stockpipe.quote_max_age before now and stockpipe.message_max_future
 * after it, a bar's date between 1900-01-01 and the same future bound.  So
 * a message from a writer of the topic can neither create partitions for
 * far-away days (each one a table, and every lock a batch takes), nor
 * become a symbol's "latest quote" for ever by being dated 9999-12-31.
 *
 *-------------------------------------------------------------------------
 */
#include "stockpipe.h"

#include "utils/datetime.h"
#include "utils/timestamp.h"
#include "writer.h"

/* Days between 1970-01-01 and 1900-01-01: the earliest bar accepted. */
#define SP_MIN_BAR_DAY (-25567)

bool
sp_check_message(const char *buf, size_t len, char *err)
{
	if (buf == NULL || len == 0)
	{
		snprintf(err, SP_ERR_MAX, "message has no payload");
		return false;
	}
	if (len > (size_t) sp_max_message_bytes)
	{
		snprintf(err, SP_ERR_MAX,
				 "payload is %zu bytes, more than stockpipe.max_message_bytes (%d)",
				 len, sp_max_message_bytes);
		return false;
	}
	return true;
}

/* The oldest quote age accepted, in seconds. */
static int64
quote_max_age_s(void)
{
	return sp_quote_max_age_s >= 0 ? sp_quote_max_age_s : sp_live_retention_s;
}

static const char *
format_ts(TimestampTz t)
{
	return timestamptz_to_str(t);
}

bool
sp_check_quote_time(const sp_quote *q, TimestampTz now, char *err)
{
	TimestampTz ts = sp_unix_us_to_timestamptz(q->ts_us);
	TimestampTz oldest = now - quote_max_age_s() * USECS_PER_SEC;
	TimestampTz latest = now + (int64) sp_message_max_future_s * USECS_PER_SEC;

	if (ts < oldest)
	{
		snprintf(err, SP_ERR_MAX,
				 "ts %s is older than stockpipe.quote_max_age (%lld s) allows",
				 format_ts(ts), (long long) quote_max_age_s());
		return false;
	}
	if (ts > latest)
	{
		snprintf(err, SP_ERR_MAX,
				 "ts %s is later than stockpipe.message_max_future (%d s) from now allows",
				 format_ts(ts), sp_message_max_future_s);
		return false;
	}
	return true;
}

bool
sp_check_bar_date(const sp_bar *b, TimestampTz now, char *err)
{
	TimestampTz latest = now + (int64) sp_message_max_future_s * USECS_PER_SEC;
	int64		latest_day = (latest + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY) /
		USECS_PER_DAY;

	if (b->date < SP_MIN_BAR_DAY || b->date > latest_day)
	{
		int			y,
					m,
					d;

		j2date(b->date + UNIX_EPOCH_JDATE, &y, &m, &d);
		snprintf(err, SP_ERR_MAX,
				 "date %04d-%02d-%02d is outside the range accepted (1900-01-01 to stockpipe.message_max_future, %d s, from now)",
				 y, m, d, sp_message_max_future_s);
		return false;
	}
	return true;
}

void
sp_decode_message(SpWorkerKind kind, SpMessage *m, TimestampTz now)
{
	if (!sp_check_message(m->payload, m->len, m->err))
		m->ok = false;
	else if (kind == SP_WORKER_LIVE)
		m->ok = sp_decode_quote(m->payload, m->len, &m->u.q, m->err) &&
			sp_check_quote_time(&m->u.q, now, m->err);
	else
		m->ok = sp_decode_bar(m->payload, m->len, &m->u.b, m->err) &&
			sp_check_bar_date(&m->u.b, now, m->err);
}
