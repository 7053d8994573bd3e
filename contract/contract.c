/*-------------------------------------------------------------------------
 *
 * contract.c
 *	  Decoding of the Kafka message contract (DESIGN.md, "Kafka message
 *	  contract"): `stock_live` quotes and `stock_daily` bars, one JSON object
 *	  per message.
 *
 * The consumer workers, the SQL-callable decoders and the unit tests all go
 * through this one file, so that a payload is judged the same way wherever
 * it is looked at.  It is pure C11 on top of cJSON: no PostgreSQL, no I/O,
 * no state between calls, and nothing is allocated that outlives a call.
 *
 * The decoder is strict on purpose.  The JSON syntax is RFC 8259's, checked
 * here before cJSON (which is lenient) sees a payload: what is not JSON is
 * a bad message even where a lenient parser would read something from it.
 * Whatever the decoder accepts goes into a batch INSERT together with other
 * messages; a value the table cannot take would fail the whole batch
 * instead of sending one message to the dead letters.  Hence the checks
 * beyond JSON syntax: UTF-8 validity, no NUL in strings,
 * finite numbers, integral volumes that fit a bigint, and dates and
 * timestamps in years 0001..9999.  The error texts are part of the contract
 * (they land in dead_letter and the tests compare them): one line, starting
 * lower-case, naming the field at fault (or, for a syntax error, the fault
 * and its byte offset), never quoting the payload.
 *
 *-------------------------------------------------------------------------
 */
#include "contract.h"
#include "civil.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define US_PER_SEC		INT64_C(1000000)
#define SEC_PER_DAY		INT64_C(86400)

/*
 * Days since 1970-01-01 of 0001-01-01 and of 10000-01-01: the accepted
 * instants are [TS_MIN_US, TS_END_US), years 0001..9999 in UTC.
 */
#define DAYS_MIN		INT64_C(-719162)
#define DAYS_END		INT64_C(2932897)
#define TS_MIN_US		(DAYS_MIN * SEC_PER_DAY * US_PER_SEC)
#define TS_END_US		(DAYS_END * SEC_PER_DAY * US_PER_SEC)

/* The error text of get_symbol() spells the limit out. */
_Static_assert(SP_SYMBOL_MAX == 20, "update the error text of get_symbol()");

/* Fraction digits of an RFC 3339 timestamp that are kept; the rest are cut. */
#define FRAC_DIGITS		6

/* Why a timestamp was refused: the two get different error texts. */
typedef enum ts_result
{
	TS_OK,
	TS_BAD,						/* not a timestamp at all */
	TS_RANGE					/* a timestamp, but outside years 0001..9999 */
} ts_result;

/*
 * The deepest nesting of arrays and objects accepted, the root object
 * included.  cJSON's own limit: the strict check below refuses exactly what
 * cJSON would, so that cJSON never fails on a payload that passed it.
 */
#define JSON_MAX_DEPTH	CJSON_NESTING_LIMIT

/* json_fault.at of a fault that is nowhere in particular (no value at all) */
#define NO_OFFSET		SIZE_MAX

/* What check_json() found: the first fault, and whether \u0000 occurs. */
typedef struct json_fault
{
	char		what[64];		/* e.g. "invalid escape in a string" */
	size_t		at;				/* byte offset of the fault */
	bool		has_nul;		/* valid JSON, but a string holds \u0000 */
} json_fault;

/* Where check_json() is inside a container. */
typedef enum json_expect
{
	EXPECT_VALUE,				/* a value: at the start, after '[', ',' or ':' */
	EXPECT_MEMBER,				/* a member name: after '{' or ',' in an object */
	EXPECT_NEXT					/* after a value: ',', a closing bracket or the end */
} json_expect;


/*
 * Error reporting.  Each returns false so that a check can end with
 * "return field_error(...)".  err may be NULL for callers that only want
 * the verdict.
 */
static bool
payload_error(char *err, const char *what)
{
	if (err != NULL)
		snprintf(err, SP_ERR_MAX, "payload %s", what);
	return false;
}

/* "payload is not valid JSON: <what> at offset <n>", from check_json(). */
static bool
json_error(char *err, const json_fault *f)
{
	if (err == NULL)
		return false;
	if (f->at == NO_OFFSET)
		snprintf(err, SP_ERR_MAX, "payload is not valid JSON: %s", f->what);
	else
		snprintf(err, SP_ERR_MAX, "payload is not valid JSON: %s at offset %zu",
				 f->what, f->at);
	return false;
}

static bool
field_error(char *err, const char *name, const char *what)
{
	if (err != NULL)
		snprintf(err, SP_ERR_MAX, "field \"%s\" %s", name, what);
	return false;
}


/*
 * Character classes.  Locale-free on purpose: isdigit() and friends follow
 * LC_CTYPE, which is not ours to rely on inside a PostgreSQL backend.
 */
static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_symbol_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || is_digit(c) ||
		c == '.' || c == '-' || c == '^' || c == '=';
}

static bool
is_printable_ascii(unsigned char c)
{
	return c >= 0x20 && c <= 0x7E;
}

/*
 * Is s 1..max characters, all of class ok?  The bound keeps every accepted
 * string inside the fixed-size buffers of sp_quote and sp_bar.
 */
static bool
short_string_of(const char *s, size_t max, bool (*ok) (unsigned char))
{
	size_t		n;

	for (n = 0; s[n] != '\0'; n++)
	{
		if (n >= max || !ok((unsigned char) s[n]))
			return false;
	}
	return n > 0;
}


/* Read exactly n decimal digits at s; stops at a NUL, never reads past it. */
static bool
parse_digits(const char *s, int n, int *val)
{
	int			v = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		if (!is_digit((unsigned char) s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*val = v;
	return true;
}

/*
 * Read a "YYYY-MM-DD" prefix of s: strict widths, a real calendar date,
 * years 0001..9999.  Returns the position after it, or NULL.
 */
static const char *
parse_ymd(const char *s, int32_t *days)
{
	int			y,
				m,
				d;

	if (!parse_digits(s, 4, &y) || s[4] != '-' ||
		!parse_digits(s + 5, 2, &m) || s[7] != '-' ||
		!parse_digits(s + 8, 2, &d))
		return NULL;
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > sp_days_in_month(y, m))
		return NULL;
	*days = (int32_t) sp_days_from_civil(y, m, d);
	return s + 10;
}

static bool
ts_in_range(int64_t us)
{
	return us >= TS_MIN_US && us < TS_END_US;
}

/*
 * RFC 3339 "date-time": YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM),
 * with 't' and 'z' also accepted as RFC 3339 allows.  A local time without
 * offset is refused: it names no instant.  Fraction digits beyond
 * microseconds are cut, not rounded, so that a timestamp never moves into
 * the next second (or day, or partition).
 *
 * Leap seconds (:60) are refused rather than mapped: the stored type has no
 * leap seconds, so the only choices are to shift the instant or to reject,
 * and a quote feed never produces them; rejecting keeps the mapping 1:1.
 */
static ts_result
parse_rfc3339(const char *s, int64_t *us)
{
	const char *p;
	int32_t		days;
	int			hh,
				mi,
				ss;
	int			oh = 0,
				om = 0,
				sign = 0;
	int			ndigits = 0;
	int64_t		frac = 0;
	int64_t		t;

	p = parse_ymd(s, &days);
	if (p == NULL || (*p != 'T' && *p != 't') ||
		!parse_digits(p + 1, 2, &hh) || p[3] != ':' ||
		!parse_digits(p + 4, 2, &mi) || p[6] != ':' ||
		!parse_digits(p + 7, 2, &ss) ||
		hh > 23 || mi > 59 || ss > 59)
		return TS_BAD;
	p += 9;

	if (*p == '.')
	{
		p++;
		if (!is_digit((unsigned char) *p))
			return TS_BAD;
		for (; is_digit((unsigned char) *p); p++)
		{
			if (ndigits < FRAC_DIGITS)
			{
				frac = frac * 10 + (*p - '0');
				ndigits++;
			}
		}
		for (; ndigits < FRAC_DIGITS; ndigits++)
			frac *= 10;
	}

	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-')
	{
		sign = (*p == '+') ? 1 : -1;
		if (!parse_digits(p + 1, 2, &oh) || p[3] != ':' ||
			!parse_digits(p + 4, 2, &om) || oh > 23 || om > 59)
			return TS_BAD;
		p += 6;
	}
	else
		return TS_BAD;
	if (*p != '\0')
		return TS_BAD;

	/* Local time minus its offset is UTC. */
	t = ((int64_t) days * SEC_PER_DAY + hh * 3600 + mi * 60 + ss -
		 sign * (oh * 3600 + om * 60)) * US_PER_SEC + frac;
	if (!ts_in_range(t))
		return TS_RANGE;
	*us = t;
	return TS_OK;
}

/*
 * Seconds since the epoch as a JSON number.  Rounded to the nearest
 * microsecond, unlike the string form: the double only approximates the
 * decimal the producer wrote (1.000001 is stored a hair below it), and
 * cutting would turn that into 1.000000.  The range is checked on the
 * rounded value, which also keeps the conversion to int64 defined.
 */
static ts_result
epoch_seconds_to_us(double secs, int64_t *us)
{
	double		r;

	if (!isfinite(secs))
		return TS_RANGE;
	r = round(secs * (double) US_PER_SEC);
	if (!(r >= (double) TS_MIN_US && r < (double) TS_END_US))
		return TS_RANGE;
	*us = (int64_t) r;
	return TS_OK;
}


/*
 * Payload level.
 */

static bool
only_json_whitespace(const char *p, const char *end)
{
	for (; p < end; p++)
	{
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			return false;
	}
	return true;
}

/*
 * Strict RFC 8259 syntax.  cJSON is lenient where a payload is not JSON:
 * it skips any byte up to 0x20 as white space (a raw NUL before a member
 * is ignored), takes "01", "1.", "-0." and "1.e5" as numbers, lets raw
 * control characters through inside strings, and decodes an invalid \u
 * escape ("\uZZZZ") as U+0000, which cuts the C string short:
 * "AAPL\uZZZZX" was read as the symbol "AAPL".  A payload that is not JSON
 * is a bad message even where a lenient parser reads something from it
 * (DESIGN.md), so every payload is checked here, before cJSON sees it;
 * cJSON then only builds the tree of a text known to be valid.
 *
 * The check is iterative, with the kind of each open container kept in a
 * bit stack, so that the nesting depth costs no C stack.  It reports the
 * first fault with its byte offset, never the payload's own bytes: the
 * error text lands in dead_letter next to the raw payload.  It does not
 * look at UTF-8, which sp_valid_utf8() has checked for the whole payload.
 */

static bool
is_json_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool
is_hex_digit(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * Length of a UTF-8 byte order mark at the start of buf: 3 or 0.  Skipped
 * by check_json() and before cJSON, rather than left to cJSON, which skips
 * one only in a payload of 5 bytes or more: BOM + "3" failed there.
 */
static size_t
bom_length(const char *buf, size_t len)
{
	return (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) ? 3 : 0;
}

/* Record the first fault; always returns false. */
static bool
json_bad(json_fault *f, size_t at, const char *what)
{
	f->at = at;
	snprintf(f->what, sizeof(f->what), "%s", what);
	return false;
}

/* Four hex digits at s[i..i+3], all before len, into *cp. */
static bool
read_hex4(const unsigned char *s, size_t len, size_t i, unsigned *cp)
{
	unsigned	v = 0;
	size_t		k;

	if (len - i < 4)
		return false;
	for (k = i; k < i + 4; k++)
	{
		unsigned char c = s[k];

		if (!is_hex_digit(c))
			return false;
		v = v * 16 + (unsigned) (is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	*cp = v;
	return true;
}

/*
 * A string literal starting at the quote at s[*pos]; on success *pos is
 * past the closing quote.  Escapes are the eight of RFC 8259 and \uXXXX,
 * where a surrogate must be a high one followed at once by an escaped low
 * one: a lone surrogate is no character.
 */
static bool
scan_string(const unsigned char *s, size_t len, size_t *pos, json_fault *f)
{
	size_t		i = *pos + 1;

	while (i < len)
	{
		unsigned char c = s[i];
		unsigned	cp;
		unsigned	lo;

		if (c == '"')
		{
			*pos = i + 1;
			return true;
		}
		if (c < 0x20)
		{
			char		what[64];

			snprintf(what, sizeof(what),
					 "unescaped control character 0x%02X in a string", c);
			return json_bad(f, i, what);
		}
		if (c != '\\')
		{
			i++;
			continue;
		}
		if (i + 1 >= len)
			break;
		if (sp_json_short_escape(s[i + 1]))
		{
			i += 2;
			continue;
		}
		switch (s[i + 1])
		{
			case 'u':
				if (!read_hex4(s, len, i + 2, &cp))
					return json_bad(f, i, "invalid \\u escape in a string");
				if (cp >= 0xDC00 && cp <= 0xDFFF)
					return json_bad(f, i, "unpaired UTF-16 surrogate in a string");
				if (cp >= 0xD800 && cp <= 0xDBFF)
				{
					if (len - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u')
						return json_bad(f, i, "unpaired UTF-16 surrogate in a string");
					if (!read_hex4(s, len, i + 8, &lo))
						return json_bad(f, i + 6, "invalid \\u escape in a string");
					if (lo < 0xDC00 || lo > 0xDFFF)
						return json_bad(f, i, "unpaired UTF-16 surrogate in a string");
					i += 12;
				}
				else
				{
					if (cp == 0)
						f->has_nul = true;
					i += 6;
				}
				break;
			default:
				return json_bad(f, i, "invalid escape in a string");
		}
	}
	return json_bad(f, *pos, "unterminated string");
}

/*
 * A number starting at s[*pos]: -? (0 | [1-9][0-9]*) (.[0-9]+)?
 * ([eE][+-]?[0-9]+)?  On success *pos is past it.  What follows is left
 * to the caller: "01" fails there, as a value followed by a digit.
 */
static bool
scan_number(const unsigned char *s, size_t len, size_t *pos, json_fault *f)
{
	size_t		i = *pos;

	if (s[i] == '-')
		i++;
	if (i >= len || !is_digit(s[i]))
		return json_bad(f, i, "number without digits after '-'");
	if (s[i] == '0')
	{
		i++;
		if (i < len && is_digit(s[i]))
			return json_bad(f, i - 1, "number with a leading zero");
	}
	else
	{
		while (i < len && is_digit(s[i]))
			i++;
	}
	if (i < len && s[i] == '.')
	{
		i++;
		if (i >= len || !is_digit(s[i]))
			return json_bad(f, i, "number without digits after '.'");
		while (i < len && is_digit(s[i]))
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= len || !is_digit(s[i]))
			return json_bad(f, i, "number without digits in its exponent");
		while (i < len && is_digit(s[i]))
			i++;
	}
	*pos = i;
	return true;
}

/*
 * s[i] is not a token that may come there: say that the payload ended, or,
 * for a control character, which one it is (a raw NUL reads better as that
 * than as "expected a value"), or else what (text for the fault).
 */
static bool
unexpected(const unsigned char *s, size_t len, size_t i, const char *what,
		   json_fault *f)
{
	char		ctl[64];

	if (i >= len)
		return json_bad(f, i, "unexpected end of the payload");
	if (s[i] < 0x20 || s[i] == 0x7F)
	{
		snprintf(ctl, sizeof(ctl), "control character 0x%02X outside a string",
				 s[i]);
		return json_bad(f, i, ctl);
	}
	return json_bad(f, i, what);
}

/*
 * One value that is not a container, starting at s[*pos] (not past len):
 * a string, a number, true, false or null.  On success *pos is past it.
 */
static bool
scan_scalar(const unsigned char *s, size_t len, size_t *pos, json_fault *f)
{
	static const char *const literals[] = {"true", "false", "null"};
	unsigned char c = s[*pos];
	size_t		k;

	if (c == '"')
		return scan_string(s, len, pos, f);
	if (c == '-' || is_digit(c))
		return scan_number(s, len, pos, f);
	if (c == '+')
		return json_bad(f, *pos, "number with a leading '+'");
	if (c == '.')
		return json_bad(f, *pos, "number without digits before '.'");
	for (k = 0; k < sizeof(literals) / sizeof(literals[0]); k++)
	{
		size_t		n = strlen(literals[k]);

		if (c == (unsigned char) literals[k][0])
		{
			if (len - *pos < n || memcmp(s + *pos, literals[k], n) != 0)
				return json_bad(f, *pos, "invalid literal (not true, false or null)");
			*pos += n;
			return true;
		}
	}
	return unexpected(s, len, *pos, "expected a value", f);
}

/*
 * Is buf[0..len) one JSON text (RFC 8259)?  False with *f saying why.  A
 * UTF-8 byte order mark at the very start is skipped, as RFC 8259 (8.1)
 * allows a parser to; any other value, or white space other than space,
 * tab, CR and LF, fails.  Nesting deeper than JSON_MAX_DEPTH fails too:
 * RFC 8259 (9) lets a parser set that limit.
 */
static bool
check_json(const char *buf, size_t len, json_fault *f)
{
	const unsigned char *s = (const unsigned char *) buf;
	unsigned char in_object[(JSON_MAX_DEPTH + 7) / 8] = {0};	/* bit set: object */
	int			depth = 0;
	json_expect expect = EXPECT_VALUE;
	size_t		i = bom_length(buf, len);

	memset(f, 0, sizeof(*f));

	for (;;)
	{
		bool		obj;

		while (i < len && is_json_space(s[i]))
			i++;
		obj = depth > 0 && (in_object[(depth - 1) / 8] >> ((depth - 1) % 8) & 1);

		if (expect == EXPECT_NEXT)
		{
			if (depth == 0)
			{
				if (i < len)
					return unexpected(s, len, i, "unexpected data after the JSON value", f);
				return true;
			}
			if (i < len && s[i] == ',')
			{
				i++;
				expect = obj ? EXPECT_MEMBER : EXPECT_VALUE;
			}
			else if (i < len && s[i] == (obj ? '}' : ']'))
			{
				i++;
				depth--;
			}
			else
				return unexpected(s, len, i,
								  obj ? "expected ',' or '}'" : "expected ',' or ']'", f);
			continue;
		}

		if (expect == EXPECT_MEMBER)
		{
			if (i >= len || s[i] != '"')
				return unexpected(s, len, i, "expected a member name in double quotes", f);
			if (!scan_string(s, len, &i, f))
				return false;
			while (i < len && is_json_space(s[i]))
				i++;
			if (i >= len || s[i] != ':')
				return unexpected(s, len, i, "expected ':' after a member name", f);
			i++;
			expect = EXPECT_VALUE;
			continue;
		}

		/* EXPECT_VALUE */
		if (i >= len)
		{
			if (depth == 0)
				return json_bad(f, NO_OFFSET, "there is no value");
			return unexpected(s, len, i, "expected a value", f);
		}
		if (s[i] == '{' || s[i] == '[')
		{
			bool		open_obj = (s[i] == '{');

			if (depth >= JSON_MAX_DEPTH)
			{
				char		what[64];

				snprintf(what, sizeof(what), "nesting deeper than %d levels",
						 JSON_MAX_DEPTH);
				return json_bad(f, i, what);
			}
			if (open_obj)
				in_object[depth / 8] |= (unsigned char) (1u << (depth % 8));
			else
				in_object[depth / 8] &= (unsigned char) ~(1u << (depth % 8));
			depth++;
			i++;
			while (i < len && is_json_space(s[i]))
				i++;
			/* an empty container closes at once */
			if (i < len && s[i] == (open_obj ? '}' : ']'))
			{
				i++;
				depth--;
				expect = EXPECT_NEXT;
			}
			else
				expect = open_obj ? EXPECT_MEMBER : EXPECT_VALUE;
			continue;
		}
		if (!scan_scalar(s, len, &i, f))
			return false;
		expect = EXPECT_NEXT;
	}
}

/*
 * Check a payload against everything a decoder demands before it reads a
 * field: valid UTF-8, JSON by RFC 8259, no \u0000.  False with err filled.
 * Shared by both decoders so that every topic rejects the same malformed
 * bytes with the same words.
 */
static bool
check_payload(const char *buf, size_t len, char *err)
{
	json_fault	fault;

	if (!sp_valid_utf8(buf, len))
		return payload_error(err, "is not valid UTF-8");
	if (!check_json(buf, len, &fault))
		return json_error(err, &fault);

	/*
	 * cJSON decodes \u0000 into a NUL that silently cuts a C string short
	 * ("AAPL\u0000X" would be read as "AAPL"), and PostgreSQL text cannot
	 * hold a NUL anyway.
	 */
	if (fault.has_nul)
		return payload_error(err, "contains \\u0000, which text columns cannot store");
	return true;
}

/*
 * Parse a payload that check_payload() passed into a cJSON object, or say
 * why it is not one.  The caller owns the result.
 */
static cJSON *
parse_object(const char *buf, size_t len, char *err)
{
	const char *end = NULL;
	size_t		skip;
	cJSON	   *root;

	/*
	 * The text is valid JSON within cJSON's nesting limit, so cJSON can only
	 * fail for want of memory.  It must also end where check_json() did:
	 * cJSON_ParseWithLength() would ignore what follows the first value,
	 * so the end is checked rather than trusted.
	 */
	skip = bom_length(buf, len);
	buf += skip;
	len -= skip;
	root = cJSON_ParseWithLengthOpts(buf, len, &end, false);
	if (root == NULL || !only_json_whitespace(end, buf + len))
	{
		cJSON_Delete(root);
		payload_error(err, "could not be parsed (out of memory?)");
		return NULL;
	}
	if (!cJSON_IsObject(root))
	{
		cJSON_Delete(root);
		payload_error(err, "is not a JSON object");
		return NULL;
	}
	return root;
}


/*
 * Members.  The fields of a message are read from one json_value per field:
 * how often its member occurs and the first occurrence's value.  Two
 * readers fill them, with the same result:
 *
 * - read_tree(), from cJSON's tree: any valid JSON object;
 * - read_flat(), the fast path, straight from the text without building a
 *   tree: an object whose members are all scalars, with no escape in a
 *   member name or string and no string or number longer than the fixed
 *   buffers here.  That is every message the producer writes.  Anything
 *   else it leaves to read_tree(), so the answers cannot differ on the
 *   shapes it does not handle; on the ones it does, the differential test
 *   (test/unit contract_test, test/fuzz contract_fuzz) compares both.
 */

typedef enum json_type
{
	JV_ABSENT,
	JV_NULL,
	JV_STRING,
	JV_NUMBER,
	JV_OTHER					/* true, false, an array or an object */
} json_type;

typedef struct json_value
{
	json_type	type;			/* of the first occurrence */
	int			count;			/* occurrences of the member */
	const char *string;			/* JV_STRING, NUL-terminated */
	double		number;			/* JV_NUMBER, as cJSON reads it (strtod) */
} json_value;

/* The most fields of a message, and the read_flat() limits. */
#define MAX_FIELDS		16
#define FLAT_STRING_MAX	255		/* longest string value read flat */
#define FLAT_NUMBER_MAX	40		/* longest number read flat; cJSON reads 63 */
#define FLAT_STORE		1024	/* the flat strings of one message */

_Static_assert(SP_QUOTE_NFIELDS <= MAX_FIELDS && SP_BAR_NFIELDS <= MAX_FIELDS,
			   "raise MAX_FIELDS");

/*
 * Record one member named name against the field list: the slot to fill,
 * or NULL for a member that is no field or one seen before.  *next is
 * where to look first: members usually come in list order (the encoder's).
 */
static json_value *
member_slot(const char *name, size_t name_len, const sp_field *fields, int n,
			json_value *vals, int *next)
{
	int			k;

	for (k = 0; k < n; k++)
	{
		int			i = (*next + k) % n;

		if (fields[i].key[0] == name[0] &&
			strncmp(fields[i].key, name, name_len) == 0 &&
			fields[i].key[name_len] == '\0')
		{
			*next = i + 1;
			vals[i].count++;
			return vals[i].count == 1 ? &vals[i] : NULL;
		}
	}
	return NULL;
}

static void
read_tree(const cJSON *root, const sp_field *fields, int n, json_value *vals)
{
	const cJSON *m;
	int			next = 0;

	cJSON_ArrayForEach(m, root)
	{
		json_value *v;

		/* cJSON compares names with strcmp: one with \u0000 ends there */
		if (m->string == NULL ||
			(v = member_slot(m->string, strlen(m->string), fields, n, vals, &next)) == NULL)
			continue;
		if (cJSON_IsNull(m))
			v->type = JV_NULL;
		else if (cJSON_IsString(m))
		{
			v->type = JV_STRING;
			v->string = m->valuestring;
		}
		else if (cJSON_IsNumber(m))
		{
			v->type = JV_NUMBER;
			v->number = m->valuedouble;
		}
		else
			v->type = JV_OTHER;
	}
}

/*
 * The number s[0..len) of JSON syntax as strtod() reads it (cJSON's way),
 * exactly.  Most prices and times are a few digits with a small decimal
 * exponent: an integer m < 2^53 scaled by 10^e, |e| <= 22, where m and
 * 10^e are both exact doubles and one IEEE multiplication or division
 * rounds correctly, as strtod() does (Clinger's fast path).  Others go to
 * strtod() with cJSON's own treatment of '.' (the locale's decimal point).
 */
static double
flat_number(const char *s, size_t len)
{
	static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
		1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
	1e21, 1e22};
	const char *p = s;
	const char *end = s + len;
	bool		neg = false;
	uint64_t	m = 0;
	int			digits = 0;
	int			exp10 = 0;
	char		copy[FLAT_NUMBER_MAX + 1];
	const char *point;
	size_t		i;

	if (p < end && *p == '-')
	{
		neg = true;
		p++;
	}
	for (; p < end && is_digit((unsigned char) *p); p++)
	{
		if (m == 0 && *p == '0')
			continue;
		if (++digits > 19)
			goto slow;
		m = m * 10 + (uint64_t) (*p - '0');
	}
	if (p < end && *p == '.')
	{
		for (p++; p < end && is_digit((unsigned char) *p); p++)
		{
			exp10--;
			if (m == 0 && *p == '0')
				continue;
			if (++digits > 19)
				goto slow;
			m = m * 10 + (uint64_t) (*p - '0');
		}
	}
	if (p < end)
	{
		/* an exponent: e/E, a sign, digits (check_json() saw them) */
		bool		eneg;
		int			e = 0;

		p++;
		eneg = (*p == '-');
		if (*p == '-' || *p == '+')
			p++;
		for (; p < end; p++)
		{
			if (e > 10000)
				goto slow;
			e = e * 10 + (*p - '0');
		}
		exp10 += eneg ? -e : e;
	}
	if (m == 0)
		return neg ? -0.0 : 0.0;
	/* FLT_EVAL_METHOD 0: each operation rounds to double (not x87) */
	if (FLT_EVAL_METHOD == 0 && m <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22)
	{
		double		d = (double) m;

		d = exp10 < 0 ? d / pow10[-exp10] : d * pow10[exp10];
		return neg ? -d : d;
	}

slow:
	point = localeconv()->decimal_point;
	for (i = 0; i < len; i++)
		copy[i] = (s[i] == '.' && point != NULL && point[0] != '\0') ? point[0] : s[i];
	copy[len] = '\0';
	return strtod(copy, NULL);
}

static size_t
skip_space(const unsigned char *s, size_t len, size_t i)
{
	while (i < len && is_json_space(s[i]))
		i++;
	return i;
}

/*
 * The end of the string whose opening quote is at s[i]: the index of its
 * closing quote, or 0 if it holds an escape or is longer than max (the
 * text is valid JSON: it has a closing quote).
 */
static size_t
flat_string_end(const unsigned char *s, size_t len, size_t i, size_t max)
{
	size_t		k;

	for (k = i + 1; k < len && k - i - 1 <= max; k++)
	{
		if (s[k] == '"')
			return k;
		if (s[k] == '\\')
			return 0;
	}
	return 0;
}

/*
 * The fast path of the members (see above), for a payload check_payload()
 * passed.  False when the payload is not of the flat shape: the caller
 * then reads the tree.  The strings are copied into store.
 */
static bool
read_flat(const char *buf, size_t len, const sp_field *fields, int n,
		  json_value *vals, char *store)
{
	const unsigned char *s = (const unsigned char *) buf;
	size_t		used = 0;
	int			next = 0;
	size_t		i = skip_space(s, len, bom_length(buf, len));

	if (i >= len || s[i] != '{')
		return false;
	i = skip_space(s, len, i + 1);
	if (s[i] == '}')
		return true;
	for (;;)
	{
		size_t		name = i + 1;
		size_t		name_end = flat_string_end(s, len, i, FLAT_STRING_MAX);
		size_t		v0;
		json_value *v;
		json_value	ignored;

		if (name_end == 0)
			return false;
		i = skip_space(s, len, name_end + 1) + 1;	/* past ':' */
		i = skip_space(s, len, i);
		v = member_slot(buf + name, name_end - name, fields, n, vals, &next);
		if (v == NULL)
			v = &ignored;
		v0 = i;
		switch (s[i])
		{
			case '"':
				{
					size_t		end = flat_string_end(s, len, i, FLAT_STRING_MAX);
					size_t		vlen;

					if (end == 0)
						return false;
					vlen = end - i - 1;
					if (v != &ignored)
					{
						if (used + vlen + 1 > FLAT_STORE)
							return false;
						memcpy(store + used, buf + i + 1, vlen);
						store[used + vlen] = '\0';
						v->type = JV_STRING;
						v->string = store + used;
						used += vlen + 1;
					}
					i = end + 1;
					break;
				}
			case '{':
			case '[':
				return false;
			case 't':
			case 'f':
				v->type = JV_OTHER;
				i += s[i] == 't' ? 4 : 5;
				break;
			case 'n':
				v->type = JV_NULL;
				i += 4;
				break;
			default:
				while (i < len && (is_digit(s[i]) || s[i] == '-' || s[i] == '+' ||
								   s[i] == '.' || s[i] == 'e' || s[i] == 'E'))
					i++;
				if (i - v0 > FLAT_NUMBER_MAX)
					return false;
				if (v != &ignored)
				{
					v->type = JV_NUMBER;
					v->number = flat_number(buf + v0, i - v0);
				}
				break;
		}
		i = skip_space(s, len, i);
		if (s[i] != ',')
			return true;		/* '}', then only white space */
		i = skip_space(s, len, i + 1);
	}
}


/*
 * Field level.  Each field of the message is checked and stored from its
 * json_value; optional ones also set their SP_HAS_* bit.  They all return
 * false with err filled on a bad field.
 */

/*
 * A member by exact name.  cJSON keeps repeated keys and its own lookups
 * return the first one, where other JSON parsers keep the last: a message
 * that repeats a field we read means different things to different
 * readers, so it is refused.  A null counts as absent; for a required field
 * that is an error of its own.  *present is false when there is no value.
 */
static bool
member_value(const json_value *v, const char *name, bool required,
			 bool *present, char *err)
{
	*present = false;
	if (v->count > 1)
		return field_error(err, name, "appears more than once");
	if (v->type == JV_ABSENT || v->type == JV_NULL)
	{
		if (required && err != NULL)
			snprintf(err, SP_ERR_MAX, "required field \"%s\" is %s",
					 name, v->type == JV_ABSENT ? "missing" : "null");
		return !required;
	}
	*present = true;
	return true;
}

/* The JSON type a field's value must have. */
static bool
has_json_type(const json_value *v, sp_field_kind kind)
{
	switch (kind)
	{
		case SP_FIELD_SYMBOL:
		case SP_FIELD_TEXT:
		case SP_FIELD_SESSION:
		case SP_FIELD_DATE:
			return v->type == JV_STRING;
		case SP_FIELD_PRICE:
		case SP_FIELD_AMOUNT:
		case SP_FIELD_VOLUME:
			return v->type == JV_NUMBER;
		case SP_FIELD_TS:
			return v->type == JV_STRING || v->type == JV_NUMBER;
	}
	return false;
}

/*
 * A time: an RFC 3339 string or a number of epoch seconds.  Returns the
 * complaint, or NULL when *out holds the time.
 */
static const char *
ts_value(const json_value *v, int64_t *out)
{
	ts_result	r = v->type == JV_STRING ?
		parse_rfc3339(v->string, out) :
		epoch_seconds_to_us(v->number, out);

	if (r == TS_BAD)
		return "is not an RFC 3339 timestamp with offset or a number of epoch seconds";
	if (r == TS_RANGE)
		return "is outside years 0001-9999";
	return NULL;
}

/*
 * A volume: an integral number in [0, 2^63), i.e. one that fits a bigint.
 * cJSON holds numbers as doubles, so integers above 2^53 arrive already
 * rounded to a neighbour; no volume comes anywhere near that.
 */
static const char *
volume_value(double v, int64_t *out)
{
	if (!(v >= 0) || v != floor(v))
		return "must be an integer >= 0";
	if (v >= 9223372036854775808.0)
		return "must be less than 2^63";
	*out = (int64_t) v;
	return NULL;
}

/*
 * Check the value of field f (of the right JSON type) and store it at out;
 * false with err filled when it is not valid.  Prices are finite and > 0
 * (a price of 0 is a feed glitch), other amounts finite and >= 0 (-0 is
 * stored as 0), texts 1..max printable ASCII, symbols 1..SP_SYMBOL_MAX of
 * A-Z 0-9 . - ^ =.
 */
static bool
field_value(const json_value *item, const sp_field *f, void *out, char *err)
{
	double		v = item->number;
	const char *s = item->string;
	const char *complaint = NULL;
	char		what[64];

	switch (f->kind)
	{
		case SP_FIELD_SYMBOL:
		case SP_FIELD_TEXT:
			if (f->kind == SP_FIELD_SYMBOL && !sp_valid_symbol(s))
				complaint = "must be 1-20 characters of A-Z 0-9 . - ^ =";
			else if (f->kind == SP_FIELD_TEXT &&
					 !short_string_of(s, f->max, is_printable_ascii))
			{
				snprintf(what, sizeof(what),
						 "must be 1-%zu printable ASCII characters", f->max);
				complaint = what;
			}
			else
				memcpy(out, s, strlen(s) + 1);
			break;
		case SP_FIELD_SESSION:
			if (strcmp(s, "pre") != 0 && strcmp(s, "regular") != 0 && strcmp(s, "post") != 0)
				complaint = "must be \"pre\", \"regular\" or \"post\"";
			else
				memcpy(out, s, strlen(s) + 1);
			break;
		case SP_FIELD_TS:
			complaint = ts_value(item, out);
			break;
		case SP_FIELD_DATE:
			if (!sp_parse_date(s, out))
				complaint = "must be a calendar date YYYY-MM-DD";
			break;
		case SP_FIELD_PRICE:
		case SP_FIELD_AMOUNT:
			if (f->kind == SP_FIELD_PRICE && (!isfinite(v) || !(v > 0)))
				complaint = "must be finite and greater than 0";
			else if (!isfinite(v) || v < 0)
				complaint = "must be finite and not negative";
			else
			{
				v = (v == 0) ? 0 : v;
				memcpy(out, &v, sizeof(v));
			}
			break;
		case SP_FIELD_VOLUME:
			complaint = volume_value(v, out);
			break;
	}
	return complaint == NULL || field_error(err, f->key, complaint);
}

/* What a field of the wrong JSON type is told. */
static const char *
wrong_type(sp_field_kind kind)
{
	switch (kind)
	{
		case SP_FIELD_TS:
			return "is not an RFC 3339 timestamp with offset or a number of epoch seconds";
		case SP_FIELD_PRICE:
		case SP_FIELD_AMOUNT:
		case SP_FIELD_VOLUME:
			return "must be a number";
		default:
			return "must be a string";
	}
}

/*
 * One field of the list (fields.h) into the struct at msg: a required field
 * must be there, an optional one sets its presence bit when it is.
 */
static bool
get_field(const json_value *item, const sp_field *f, char *msg, unsigned *present,
		  char *err)
{
	bool		there;

	if (!member_value(item, f->key, f->bit == 0, &there, err))
		return false;
	if (!there)
		return true;
	if (!has_json_type(item, f->kind))
		return field_error(err, f->key, wrong_type(f->kind));
	if (!field_value(item, f, msg + f->offset, err))
		return false;
	*present |= f->bit;
	return true;
}

/*
 * A whole message: every field in list order; the first bad one is named.
 * flat: whether read_flat() may read it (always, but in the differential
 * tests).
 */
static bool
decode_fields(const char *buf, size_t len, const sp_field *fields, int n,
			  char *msg, unsigned *present, char *err, bool flat)
{
	json_value	vals[MAX_FIELDS];
	char		store[FLAT_STORE];
	cJSON	   *root = NULL;
	bool		ok;
	int			i;

	if (!check_payload(buf, len, err))
		return false;
	memset(vals, 0, sizeof(vals));
	if (!flat || !read_flat(buf, len, fields, n, vals, store))
	{
		memset(vals, 0, sizeof(vals));
		root = parse_object(buf, len, err);
		if (root == NULL)
			return false;
		read_tree(root, fields, n, vals);
	}
	ok = true;
	for (i = 0; ok && i < n; i++)
		ok = get_field(&vals[i], &fields[i], msg, present, err);
	cJSON_Delete(root);
	return ok;
}


/*
 * Exported functions.  See contract.h.
 */

#define SP_FIELD_ENTRY(type, col, key_, member, kind_, bit_, max_) \
	{.column = #col, .key = key_, .kind = SP_FIELD_##kind_, .bit = bit_, \
	 .offset = offsetof(type, member), .max = max_},
#define SP_QUOTE_ENTRY(...) SP_FIELD_ENTRY(sp_quote, __VA_ARGS__)
#define SP_BAR_ENTRY(...) SP_FIELD_ENTRY(sp_bar, __VA_ARGS__)

const sp_field sp_quote_fields[] = {SP_QUOTE_FIELDS(SP_QUOTE_ENTRY)};
const sp_field sp_bar_fields[] = {SP_BAR_FIELDS(SP_BAR_ENTRY)};

const char *
sp_field_sql_type(sp_field_kind kind)
{
	switch (kind)
	{
		case SP_FIELD_SYMBOL:
		case SP_FIELD_TEXT:
		case SP_FIELD_SESSION:
			return "text";
		case SP_FIELD_TS:
			return "timestamp with time zone";
		case SP_FIELD_DATE:
			return "date";
		case SP_FIELD_PRICE:
		case SP_FIELD_AMOUNT:
			return "double precision";
		case SP_FIELD_VOLUME:
			return "bigint";
	}
	return "unknown";
}

bool
sp_decode_quote(const char *buf, size_t len, sp_quote *out, char *err)
{
	memset(out, 0, sizeof(*out));
	return decode_fields(buf, len, sp_quote_fields, SP_QUOTE_NFIELDS,
						 (char *) out, &out->present, err, true);
}

bool
sp_decode_bar(const char *buf, size_t len, sp_bar *out, char *err)
{
	memset(out, 0, sizeof(*out));
	return decode_fields(buf, len, sp_bar_fields, SP_BAR_NFIELDS,
						 (char *) out, &out->present, err, true);
}

bool
sp_decode_quote_tree(const char *buf, size_t len, sp_quote *out, char *err)
{
	memset(out, 0, sizeof(*out));
	return decode_fields(buf, len, sp_quote_fields, SP_QUOTE_NFIELDS,
						 (char *) out, &out->present, err, false);
}

bool
sp_decode_bar_tree(const char *buf, size_t len, sp_bar *out, char *err)
{
	memset(out, 0, sizeof(*out));
	return decode_fields(buf, len, sp_bar_fields, SP_BAR_NFIELDS,
						 (char *) out, &out->present, err, false);
}

/*
 * Whether c, after a backslash in a JSON string, makes a one-character
 * escape (RFC 8259, section 7): \" \\ \/ \b \f \n \r \t.  NUL is not one
 * (strchr() would find the terminator).
 */
bool
sp_json_short_escape(unsigned char c)
{
	return c != '\0' && strchr("\"\\/bfnrt", c) != NULL;
}

/* A market symbol: 1..SP_SYMBOL_MAX characters of A-Z 0-9 . - ^ = */
bool
sp_valid_symbol(const char *s)
{
	return s != NULL && short_string_of(s, SP_SYMBOL_MAX, is_symbol_char);
}

/* A currency: 1..SP_CURRENCY_MAX printable ASCII characters. */
bool
sp_valid_currency(const char *s)
{
	return s != NULL && short_string_of(s, SP_CURRENCY_MAX, is_printable_ascii);
}

/*
 * Well-formed UTF-8 as in Unicode's table 3-7: no overlong forms, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
 * sequence.  Only the first continuation byte has a range narrower than
 * 80..BF, and that range is what excludes the three.
 */
bool
sp_valid_utf8(const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *) buf;
	size_t		i = 0;

	while (i < len)
	{
		unsigned char c = s[i];
		unsigned char lo = 0x80,
					hi = 0xBF;
		size_t		ncont,
					k;

		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			ncont = 1;
		else if (c >= 0xE0 && c <= 0xEF)
		{
			ncont = 2;
			if (c == 0xE0)
				lo = 0xA0;		/* overlong */
			else if (c == 0xED)
				hi = 0x9F;		/* surrogates */
		}
		else if (c >= 0xF0 && c <= 0xF4)
		{
			ncont = 3;
			if (c == 0xF0)
				lo = 0x90;		/* overlong */
			else if (c == 0xF4)
				hi = 0x8F;		/* above U+10FFFF */
		}
		else
			return false;		/* C0, C1, F5..FF, or a stray continuation */

		if (len - i - 1 < ncont || s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (k = 2; k <= ncont; k++)
		{
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
		}
		i += ncont + 1;
	}
	return true;
}

/* See parse_rfc3339(); this entry point does not say why a string failed. */
bool
sp_parse_rfc3339(const char *s, int64_t *us)
{
	return s != NULL && parse_rfc3339(s, us) == TS_OK;
}

/* A whole string "YYYY-MM-DD" to days since 1970-01-01. */
bool
sp_parse_date(const char *s, int32_t *days)
{
	const char *end;
	int32_t		d;

	if (s == NULL)
		return false;
	end = parse_ymd(s, &d);
	if (end == NULL || *end != '\0')
		return false;
	*days = d;
	return true;
}
