/*
 * jscan.c -- syntax-checks a JSON document without building a tree or
 * converting numbers, and remembers the spans of the chart response values
 * the live decoder needs.  Converting every number of a 1-minute chart
 * (about 2,400 17-digit floats) is what makes a full parse cost ~1 ms; the
 * live quote needs only meta and the day's first open.
 *
 * The fast decoder trusts the scan, so the scanner must never accept a
 * document cJSON (the reference decoder) refuses, nor remember another
 * value than the one cJSON would find.  It may refuse more (it is strict
 * RFC 8259 where cJSON is lenient, e.g. on leading zeros): that only
 * sends the body to the full parse.
 */
#include "jscan.h"

#include "contract.h"

#include <string.h>

#define JSCAN_MAX_DEPTH 64
#define NUMBER_MAX 63			/* see scan_number() */

/* Positions in the chart response the scanner is asked to remember. */
enum node
{
	N_OTHER = 0, N_ROOT, N_CHART, N_RESULT, N_R0, N_META, N_TIMESTAMP,
	N_INDICATORS, N_QUOTE, N_Q0, N_OPEN, N_ERROR
};

struct scanner
{
	const char *p;
	const char *end;
	int			depth;
	struct jscan_result *out;
};

static void
skip_ws(struct scanner *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The code unit of the 4 hex digits at P, or -1 if there are not 4 of them. */
static long
hex4(const char *p, const char *end)
{
	long		u = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++)
	{
		char		c = p[i];

		if (!is_hex(c))
			return -1;
		u = u * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return u;
}

/*
 * A \u escape, *P at the 'u'; leaves *P on its last hex digit.  UTF-16
 * surrogates must come in pairs (high then low): cJSON, the reference,
 * refuses a lone one, so the scanner must too.
 */
static int
scan_unicode_escape(struct scanner *s)
{
	long		u = hex4(s->p + 1, s->end);

	if (u < 0 || (u >= 0xDC00 && u <= 0xDFFF))
		return -1;
	s->p += 4;
	if (u >= 0xD800 && u <= 0xDBFF)
	{
		long		lo;

		if (s->end - s->p < 3 || s->p[1] != '\\' || s->p[2] != 'u')
			return -1;
		lo = hex4(s->p + 3, s->end);
		if (lo < 0xDC00 || lo > 0xDFFF)
			return -1;
		s->p += 6;
	}
	return 0;
}

/* The escape after a backslash, *P at the character after it. */
static int
scan_escape(struct scanner *s)
{
	if (sp_json_short_escape((unsigned char) *s->p))
		return 0;
	if (*s->p == 'u')
		return scan_unicode_escape(s);
	return -1;
}

/*
 * A string starting at the opening quote; its contents' span in *b, *e.
 * *escaped tells whether it has escapes (its bytes are then not its value).
 */
static int
scan_string(struct scanner *s, const char **b, const char **e, int *escaped)
{
	s->p++;
	*b = s->p;
	*escaped = 0;
	while (s->p < s->end)
	{
		unsigned char c = (unsigned char) *s->p;

		if (c == '"')
		{
			*e = s->p++;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\')
		{
			*escaped = 1;
			if (++s->p >= s->end || scan_escape(s) != 0)
				return -1;
		}
		s->p++;
	}
	return -1;
}

static int
digits(struct scanner *s)
{
	const char *start = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > start ? 0 : -1;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
scan_number_syntax(struct scanner *s)
{
	if (*s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (digits(s) != 0)
		return -1;
	if (s->p < s->end && *s->p == '.')
	{
		s->p++;
		if (digits(s) != 0)
			return -1;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E'))
	{
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (digits(s) != 0)
			return -1;
	}
	return 0;
}

/*
 * A number of at most NUMBER_MAX characters: older cJSON releases (upstream
 * 1.7.15 without the CVE-2023-26819 fix) copy a number into a 64-byte
 * buffer and refuse longer ones, and the scanner must never accept what the
 * reference decoder refuses.  Declining one only costs a full parse.
 */
static int
scan_number(struct scanner *s)
{
	const char *start = s->p;

	if (scan_number_syntax(s) != 0)
		return -1;
	return s->p - start <= NUMBER_MAX ? 0 : -1;
}

static int
scan_literal(struct scanner *s, const char *word)
{
	size_t		n = strlen(word);

	if ((size_t) (s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return -1;
	s->p += n;
	return 0;
}

static int	scan_value(struct scanner *s, enum node node);

static enum node
child_of_key(enum node parent, const char *k, size_t n)
{
#define KEY(lit) (n == sizeof(lit) - 1 && memcmp(k, lit, n) == 0)
	switch (parent)
	{
		case N_ROOT:
			return KEY("chart") ? N_CHART : N_OTHER;
		case N_CHART:
			return KEY("result") ? N_RESULT : KEY("error") ? N_ERROR : N_OTHER;
		case N_R0:
			return KEY("meta") ? N_META : KEY("timestamp") ? N_TIMESTAMP :
				KEY("indicators") ? N_INDICATORS : N_OTHER;
		case N_INDICATORS:
			return KEY("quote") ? N_QUOTE : N_OTHER;
		case N_Q0:
			return KEY("open") ? N_OPEN : N_OTHER;
		default:
			return N_OTHER;
	}
#undef KEY
}

/*
 * The node of an object member, as cJSON_GetObjectItemCaseSensitive() would
 * find it: only the FIRST member of a given name counts (SEEN remembers the
 * nodes given out in this object), later duplicates are ordinary values.
 * cJSON compares unescaped names, so a member of a remembered object whose
 * name has escapes ("\u0063hart" is "chart") makes the spans uncertain.
 */
static enum node
member_node(struct scanner *s, enum node parent, const char *k, size_t n, int escaped,
			unsigned *seen)
{
	enum node	child;

	if (parent != N_ROOT && parent != N_CHART && parent != N_R0 &&
		parent != N_INDICATORS && parent != N_Q0)
		return N_OTHER;			/* no remembered members */
	if (escaped)
		s->out->uncertain = 1;
	child = child_of_key(parent, k, n);
	if (child == N_OTHER || (*seen & (1u << child)))
		return N_OTHER;
	*seen |= 1u << child;
	return child;
}

/*
 * The opening bracket of an object or array, *P on it: 0 if CLOSE follows
 * at once (an empty one, consumed), 1 if a member or element follows.
 */
static int
scan_open(struct scanner *s, char close)
{
	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == close)
	{
		s->p++;
		return 0;
	}
	return 1;
}

/*
 * After a member or element: 1 for a ',' (another one follows), 0 for the
 * closing bracket CLOSE (consumed), -1 for anything else.
 */
static int
scan_next(struct scanner *s, char close)
{
	skip_ws(s);
	if (s->p >= s->end)
		return -1;
	if (*s->p == close)
	{
		s->p++;
		return 0;
	}
	return *s->p++ == ',' ? 1 : -1;
}

static int
scan_object(struct scanner *s, enum node node)
{
	unsigned	seen = 0;
	int			more = scan_open(s, '}');

	while (more > 0)
	{
		const char *kb;
		const char *ke;
		int			escaped;

		skip_ws(s);
		if (s->p >= s->end || *s->p != '"' || scan_string(s, &kb, &ke, &escaped) != 0)
			return -1;
		skip_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return -1;
		s->p++;
		if (scan_value(s, member_node(s, node, kb, (size_t) (ke - kb), escaped, &seen)) != 0)
			return -1;
		more = scan_next(s, '}');
	}
	return more;
}

static int
scan_array(struct scanner *s, enum node node)
{
	int			more = scan_open(s, ']');

	for (int i = 0; more > 0; i++)
	{
		enum node	child = N_OTHER;

		if (i == 0 && node == N_RESULT)
			child = N_R0;
		else if (i == 0 && node == N_QUOTE)
			child = N_Q0;
		if (scan_value(s, child) != 0)
			return -1;
		more = scan_next(s, ']');
	}
	return more;
}

static int
scan_value(struct scanner *s, enum node node)
{
	const char *start;
	int			rc;
	const char *b;
	const char *e;
	int			escaped;

	skip_ws(s);
	if (s->p >= s->end || ++s->depth > JSCAN_MAX_DEPTH)
		return -1;
	start = s->p;
	switch (*s->p)
	{
		case '{':
			rc = scan_object(s, node);
			break;
		case '[':
			rc = scan_array(s, node);
			break;
		case '"':
			rc = scan_string(s, &b, &e, &escaped);
			break;
		case 't':
			rc = scan_literal(s, "true");
			break;
		case 'f':
			rc = scan_literal(s, "false");
			break;
		case 'n':
			rc = scan_literal(s, "null");
			break;
		default:
			rc = scan_number(s);
			break;
	}
	s->depth--;
	if (rc == 0)
	{
		struct jscan_span span = {start, s->p};

		if (node == N_META)
			s->out->meta = span;
		else if (node == N_TIMESTAMP)
			s->out->timestamp = span;
		else if (node == N_OPEN)
			s->out->open = span;
		else if (node == N_ERROR)
			s->out->error = span;
	}
	return rc;
}

/*
 * Checks that TEXT is exactly one JSON value (white space around allowed)
 * and fills OUT with the spans found.  Returns 0, or -1 if it is not JSON.
 */
int
jscan_chart(const char *text, size_t len, struct jscan_result *out)
{
	struct scanner s = {text, text + len, 0, out};

	memset(out, 0, sizeof(*out));
	if (scan_value(&s, N_ROOT) != 0)
		return -1;
	skip_ws(&s);
	return s.p == s.end ? 0 : -1;
}

/*
 * Iterates over the elements of an array span (already validated): *P
 * starts at the '[' and advances; each element's span goes to ELEM.
 * Returns 1 for an element, 0 at the end.
 */
int
jscan_next_element(const char **p, const char *end, struct jscan_span *elem)
{
	struct jscan_result ignored;
	struct scanner s = {*p, end, 0, &ignored};

	if (s.p >= end || *s.p == ']')
		return 0;
	s.p++;						/* '[' or ',' */
	skip_ws(&s);
	if (s.p >= end || *s.p == ']')
		return 0;
	elem->b = s.p;
	if (scan_value(&s, N_OTHER) != 0)
		return 0;
	elem->e = s.p;
	skip_ws(&s);
	*p = s.p;
	return 1;
}

/*
 * One pass over the members of an object already validated by
 * jscan_chart(): the live decoder reads meta's twenty-odd values this way
 * instead of parsing meta into a cJSON tree (allocations, a node per
 * value, every number converted).  The first member of a name wins, as
 * in cJSON.
 */
int
jscan_members(const struct jscan_span *obj, const char *const *keys, int nkeys,
			  struct jscan_span *values)
{
	struct jscan_result ignored;
	struct scanner s = {obj->b, obj->e, 0, &ignored};
	int			escapes = 0;
	int			more;

	for (int i = 0; i < nkeys; i++)
		values[i].b = values[i].e = NULL;
	if (obj->b == NULL || s.p >= s.end || *s.p != '{')
		return -1;
	more = scan_open(&s, '}');
	while (more > 0)
	{
		const char *kb;
		const char *ke;
		const char *vb;
		int			escaped;
		int			k;

		skip_ws(&s);
		if (s.p >= s.end || *s.p != '"' || scan_string(&s, &kb, &ke, &escaped) != 0)
			return -1;
		skip_ws(&s);
		if (s.p >= s.end || *s.p != ':')
			return -1;
		s.p++;
		skip_ws(&s);
		vb = s.p;
		if (scan_value(&s, N_OTHER) != 0)
			return -1;
		escapes |= escaped;
		for (k = 0; k < nkeys && !escaped; k++)
			if (strlen(keys[k]) == (size_t) (ke - kb) && memcmp(keys[k], kb, (size_t) (ke - kb)) == 0)
				break;
		if (!escaped && k < nkeys && values[k].b == NULL)
		{
			values[k].b = vb;
			values[k].e = s.p;
		}
		more = scan_next(&s, '}');
	}
	return more < 0 ? -1 : escapes;
}
