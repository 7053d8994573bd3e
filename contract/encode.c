/*-------------------------------------------------------------------------
 *
 * encode.c
 *	  Writing quotes and bars as the Kafka messages of the contract.
 *
 * The producer publishes what these functions write, and the consumers
 * store what sp_decode_quote() / sp_decode_bar() accept.  So that the two
 * can never disagree, the encoder does not have rules of its own: it writes
 * the message, then decodes it with the very decoder the consumers run and
 * checks that every field comes back identical.  A value the decoder would
 * refuse (a currency with a control byte, a year 52671, a negative open) or
 * one the text cannot carry exactly is refused here, with the decoder's
 * reason, and is never published.
 *
 * Pure C11 and no I/O, like contract.c.
 *
 *-------------------------------------------------------------------------
 */
#include "contract.h"
#include "civil.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define US_PER_SEC		INT64_C(1000000)
#define SEC_PER_DAY		INT64_C(86400)

/* A bounded output buffer; failed is set once anything did not fit. */
typedef struct out
{
	char	   *buf;
	size_t		size;
	size_t		len;
	bool		failed;
} out;

static void out_printf(out *o, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static void
out_printf(out *o, const char *fmt,...)
{
	va_list		ap;
	int			n;

	if (o->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= o->size - o->len)
		o->failed = true;
	else
		o->len += (size_t) n;
}

/*
 * A JSON string.  The contract's strings (symbol, currency, source) are
 * printable ASCII when valid; anything else is escaped so that the decoder,
 * not the writer, is the one to refuse it.
 */
static void
out_string(out *o, const char *s)
{
	out_printf(o, "\"");
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c == '"' || c == '\\')
			out_printf(o, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			out_printf(o, "\\u%04x", c);
		else
			out_printf(o, "%c", c);
	}
	out_printf(o, "\"");
}

/*
 * The shortest of %.15g..%.17g that reads back as the same double: 189.23
 * stays 189.23, and every double round-trips.  Non-finite values have no
 * JSON form; the callers refuse them before writing.
 */
static void
out_number(out *o, double v)
{
	char		text[40];
	int			prec;

	for (prec = 15; prec <= 17; prec++)
	{
		snprintf(text, sizeof(text), "%.*g", prec, v);
		if (strtod(text, NULL) == v)
			break;
	}
	out_printf(o, "%s", text);
}

/* floor division, for times before 1970 */
static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t		q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/*
 * An RFC 3339 UTC time, with as many fractional digits as it needs (none,
 * milliseconds or microseconds).  Years outside 0001-9999 are written as
 * they are (more digits, or a sign) and the decoder then refuses them.
 */
static void
out_ts(out *o, int64_t us)
{
	int64_t		sec = floor_div(us, US_PER_SEC);
	int64_t		frac = us - sec * US_PER_SEC;
	int64_t		day = floor_div(sec, SEC_PER_DAY);
	int64_t		tod = sec - day * SEC_PER_DAY;
	int			y,
				m,
				d;

	sp_civil_from_days(day, &y, &m, &d);
	out_printf(o, "\"%04d-%02d-%02dT%02d:%02d:%02d", y, m, d,
			   (int) (tod / 3600), (int) (tod / 60 % 60), (int) (tod % 60));
	if (frac % 1000 == 0 && frac != 0)
		out_printf(o, ".%03d", (int) (frac / 1000));
	else if (frac != 0)
		out_printf(o, ".%06d", (int) frac);
	out_printf(o, "Z\"");
}

static void
out_date(out *o, int32_t days)
{
	int			y,
				m,
				d;

	sp_civil_from_days(days, &y, &m, &d);
	out_printf(o, "\"%04d-%02d-%02d\"", y, m, d);
}

static bool
refuse(char *err, const char *what)
{
	snprintf(err, SP_ERR_MAX, "%s", what);
	return false;
}

/* Numbers that JSON can carry; anything else is refused before writing. */
static bool
finite_fields(const sp_field *fields, int n, const char *msg, unsigned present,
			  char *err)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		const sp_field *f = &fields[i];
		double		v;

		if ((f->kind != SP_FIELD_PRICE && f->kind != SP_FIELD_AMOUNT) ||
			!sp_field_present(f, present))
			continue;
		memcpy(&v, msg + f->offset, sizeof(v));
		if (!isfinite(v))
			return refuse(err, "a price field is not a finite number");
	}
	return true;
}

/* One member "key":value of the message, in the form its kind has. */
static void
out_field(out *o, const sp_field *f, const char *msg)
{
	const void *v = msg + f->offset;
	double		d;
	int64_t		i;
	int32_t		days;

	out_printf(o, "\"%s\":", f->key);
	switch (f->kind)
	{
		case SP_FIELD_SYMBOL:
		case SP_FIELD_TEXT:
		case SP_FIELD_SESSION:
			out_string(o, v);
			break;
		case SP_FIELD_TS:
			memcpy(&i, v, sizeof(i));
			out_ts(o, i);
			break;
		case SP_FIELD_DATE:
			memcpy(&days, v, sizeof(days));
			out_date(o, days);
			break;
		case SP_FIELD_PRICE:
		case SP_FIELD_AMOUNT:
			memcpy(&d, v, sizeof(d));
			out_number(o, d);
			break;
		case SP_FIELD_VOLUME:
			memcpy(&i, v, sizeof(i));
			out_printf(o, "%" PRId64, i);
			break;
	}
}

static bool
same_double(double a, double b)
{
	return a == b || (a == 0 && b == 0);
}

/* Whether two decoded messages hold the same value in every field. */
static bool
same_fields(const sp_field *fields, int n, const char *a, unsigned a_present,
			const char *b, unsigned b_present)
{
	int			i;

	if (a_present != b_present)
		return false;
	for (i = 0; i < n; i++)
	{
		const sp_field *f = &fields[i];
		const char *va = a + f->offset;
		const char *vb = b + f->offset;
		double		da,
					db;

		if (!sp_field_present(f, a_present))
			continue;
		switch (f->kind)
		{
			case SP_FIELD_SYMBOL:
			case SP_FIELD_TEXT:
			case SP_FIELD_SESSION:
				if (strcmp(va, vb) != 0)
					return false;
				break;
			case SP_FIELD_TS:
			case SP_FIELD_VOLUME:
				if (memcmp(va, vb, sizeof(int64_t)) != 0)
					return false;
				break;
			case SP_FIELD_DATE:
				if (memcmp(va, vb, sizeof(int32_t)) != 0)
					return false;
				break;
			case SP_FIELD_PRICE:
			case SP_FIELD_AMOUNT:
				memcpy(&da, va, sizeof(da));
				memcpy(&db, vb, sizeof(db));
				if (!same_double(da, db))
					return false;
				break;
		}
	}
	return true;
}

/*
 * Finish: the message must decode, as the consumers will decode it, to
 * exactly what was given.  Returns its length or -1 (err says why).
 */
static int
checked_length(const out *o, bool decoded, bool equal, char *err)
{
	if (o->failed)
	{
		refuse(err, "the message does not fit the buffer");
		return -1;
	}
	if (!decoded)
		return -1;				/* err holds the decoder's reason */
	if (!equal)
	{
		refuse(err, "a value does not survive the round trip through the decoder");
		return -1;
	}
	return (int) o->len;
}

/* The JSON object of the fields that are present, in list order. */
static bool
encode_fields(out *o, const sp_field *fields, int n, const char *msg,
			  unsigned present, char *err)
{
	int			i;
	bool		first = true;

	if (!finite_fields(fields, n, msg, present, err))
		return false;
	out_printf(o, "{");
	for (i = 0; i < n; i++)
	{
		if (!sp_field_present(&fields[i], present))
			continue;
		if (!first)
			out_printf(o, ",");
		out_field(o, &fields[i], msg);
		first = false;
	}
	out_printf(o, "}");
	return true;
}

int
sp_encode_quote(const sp_quote *q, char *buf, size_t size, char *err)
{
	out			o = {buf, size, 0, false};
	sp_quote	back;
	bool		decoded;

	if (!encode_fields(&o, sp_quote_fields, SP_QUOTE_NFIELDS, (const char *) q,
					   q->present, err))
		return -1;
	decoded = !o.failed && sp_decode_quote(buf, o.len, &back, err);
	return checked_length(&o, decoded,
						  decoded && same_fields(sp_quote_fields, SP_QUOTE_NFIELDS,
												 (const char *) q, q->present,
												 (const char *) &back, back.present),
						  err);
}

int
sp_encode_bar(const sp_bar *b, char *buf, size_t size, char *err)
{
	out			o = {buf, size, 0, false};
	sp_bar		back;
	bool		decoded;

	if (!encode_fields(&o, sp_bar_fields, SP_BAR_NFIELDS, (const char *) b,
					   b->present, err))
		return -1;
	decoded = !o.failed && sp_decode_bar(buf, o.len, &back, err);
	return checked_length(&o, decoded,
						  decoded && same_fields(sp_bar_fields, SP_BAR_NFIELDS,
												 (const char *) b, b->present,
												 (const char *) &back, back.present),
						  err);
}
