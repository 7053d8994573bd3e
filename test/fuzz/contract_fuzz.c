/*-------------------------------------------------------------------------
 *
 * contract_fuzz.c
 *	  libFuzzer harness of the Kafka message contract decoder
 *	  (contract/contract.c): sp_decode_quote and sp_decode_bar on arbitrary bytes.
 *
 * libFuzzer hands over a heap buffer of exactly the input's length, so
 * AddressSanitizer catches any read past the end of a payload.  Beyond not
 * crashing, every verdict is checked:
 *
 *	 - an accepted quote or bar holds only what the contract allows (symbol,
 *	   finite positive price, timestamp or date in years 0001-9999, short
 *	   printable texts, absent fields zeroed), checked here with code of
 *	   this file's own, not contract.c's;
 *	 - the JSON verdict agrees with an independent parser, jansson (which
 *	   follows RFC 8259 strictly): a payload refused as "not valid JSON" is
 *	   refused by jansson too, and one accepted, or refused for a field, is
 *	   valid JSON by jansson, with the same symbol, price, texts and volume;
 *	 - an error text is one line of printable ASCII starting lower-case, and
 *	   both decoders give the same text for a payload-level fault;
 *	 - the decoders' fast path for flat objects (read without a tree) and
 *	   their cJSON path (sp_decode_*_tree) give identical answers.
 *
 * A broken invariant aborts, which libFuzzer reports as a crash.
 *
 *-------------------------------------------------------------------------
 */
#include "contract.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* Instants of 0001-01-01 and 10000-01-01 in microseconds since 1970. */
#define TS_MIN_US	(INT64_C(-62135596800) * 1000000)
#define TS_END_US	(INT64_C(253402300800) * 1000000)
/* The same as days since 1970-01-01: 0001-01-01 and 9999-12-31. */
#define DAY_MIN		(-719162)
#define DAY_MAX		2932896

#define QUOTE_BITS	(SP_HAS_VOLUME | SP_HAS_OPEN | SP_HAS_HIGH | SP_HAS_LOW | \
					 SP_HAS_PREV_CLOSE | SP_HAS_CURRENCY | SP_HAS_SOURCE)
#define BAR_BITS	(SP_HAS_OPEN | SP_HAS_HIGH | SP_HAS_LOW | SP_HAS_ADJ_CLOSE | \
					 SP_HAS_VOLUME)

#define E_SYNTAX	"payload is not valid JSON: "

/* What a verdict of the decoder says about the payload as JSON. */
typedef enum verdict
{
	V_ACCEPTED,					/* valid JSON, and a good message */
	V_FIELD,					/* valid JSON object, a field at fault */
	V_NOT_OBJECT,				/* valid JSON, not an object */
	V_NUL,						/* valid JSON with \u0000: refused */
	V_SYNTAX,					/* not valid JSON */
	V_DEPTH,					/* not valid JSON by our nesting limit only */
	V_UTF8						/* not UTF-8, so not JSON */
} verdict;

/* What jansson says. */
typedef enum reference
{
	R_VALID,
	R_INVALID,
	R_UNSURE					/* stopped at a limit of its own, not at a fault */
} reference;

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "contract_fuzz: invariant failed at line %d: %s\n", \
					__LINE__, #cond); \
			abort(); \
		} \
	} while (0)

static bool
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* An error text as the contract wants it. */
static void
check_error_text(const char *err)
{
	size_t		n;

	CHECK(memchr(err, '\0', SP_ERR_MAX) != NULL);
	n = strlen(err);
	CHECK(n > 0);
	CHECK(err[0] >= 'a' && err[0] <= 'z');
	for (size_t i = 0; i < n; i++)
		CHECK(err[i] >= 0x20 && err[i] <= 0x7E);
}

static verdict
classify(bool ok, const char *err)
{
	if (ok)
		return V_ACCEPTED;
	/* cJSON failed on a payload the strict check passed: never expected */
	CHECK(!starts_with(err, "payload could not be parsed"));
	if (starts_with(err, E_SYNTAX "nesting deeper than"))
		return V_DEPTH;
	if (starts_with(err, E_SYNTAX))
		return V_SYNTAX;
	if (strcmp(err, "payload is not valid UTF-8") == 0)
		return V_UTF8;
	if (strcmp(err, "payload is not a JSON object") == 0)
		return V_NOT_OBJECT;
	if (strcmp(err, "payload contains \\u0000, which text columns cannot store") == 0)
		return V_NUL;
	CHECK(starts_with(err, "field \"") || starts_with(err, "required field \""));
	return V_FIELD;
}

/* The contract's symbol, checked from its definition. */
static bool
symbol_ok(const char *s, size_t cap)
{
	size_t		n = 0;

	if (memchr(s, '\0', cap) == NULL)
		return false;
	for (; s[n] != '\0'; n++)
	{
		char		c = s[n];

		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '-' || c == '^' || c == '='))
			return false;
	}
	return n >= 1 && n <= SP_SYMBOL_MAX;
}

/*
 * An optional text: NUL-terminated in its buffer; when present 1..max
 * printable ASCII (so valid UTF-8 without control characters), else "".
 */
static bool
text_ok(const char *s, size_t cap, size_t max, bool present)
{
	size_t		n;

	if (memchr(s, '\0', cap) == NULL)
		return false;
	n = strlen(s);
	if (!present)
		return n == 0;
	if (n < 1 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7E)
			return false;
	return true;
}

/* An optional amount: finite, >= 0, never -0 when present; 0 when absent. */
static bool
amount_ok(double v, bool present)
{
	if (!present)
		return v == 0 && !signbit(v);
	return isfinite(v) && v >= 0 && !signbit(v);
}

/* A member of jansson's object as a string of no embedded NUL, or NULL. */
static const char *
j_string(json_t *obj, const char *name)
{
	json_t	   *v = json_object_get(obj, name);

	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return json_string_value(v);
}

static bool
j_number(json_t *obj, const char *name, double *out)
{
	json_t	   *v = json_object_get(obj, name);

	if (!json_is_number(v))
		return false;
	*out = json_number_value(v);
	return true;
}

/* An optional amount read by the decoder equals jansson's value. */
static void
check_amount_read(json_t *root, const char *name, bool present, double got)
{
	double		want;

	if (!present)
		return;
	CHECK(j_number(root, name, &want));
	CHECK(got == want);
}

static void
check_volume_read(json_t *root, bool present, int64_t got)
{
	double		want;

	if (!present)
	{
		CHECK(got == 0);
		return;
	}
	CHECK(got >= 0);
	CHECK(j_number(root, "volume", &want));
	CHECK((double) got == want);
}

static void
check_quote(const sp_quote *q, json_t *root)
{
	const char *s;
	double		d;

	CHECK(symbol_ok(q->symbol, sizeof(q->symbol)));
	CHECK(isfinite(q->price) && q->price > 0);
	CHECK(q->ts_us >= TS_MIN_US && q->ts_us < TS_END_US);
	CHECK((q->present & ~QUOTE_BITS) == 0);
	CHECK(amount_ok(q->open, q->present & SP_HAS_OPEN));
	CHECK(amount_ok(q->high, q->present & SP_HAS_HIGH));
	CHECK(amount_ok(q->low, q->present & SP_HAS_LOW));
	CHECK(amount_ok(q->prev_close, q->present & SP_HAS_PREV_CLOSE));
	CHECK(text_ok(q->currency, sizeof(q->currency), SP_CURRENCY_MAX,
				  q->present & SP_HAS_CURRENCY));
	CHECK(text_ok(q->source, sizeof(q->source), SP_SOURCE_MAX,
				  q->present & SP_HAS_SOURCE));

	if (root == NULL)
		return;
	/* What the decoder read is what an independent parser reads. */
	CHECK((s = j_string(root, "symbol")) != NULL && strcmp(s, q->symbol) == 0);
	CHECK(j_number(root, "price", &d) && d == q->price);
	if ((s = j_string(root, "ts")) != NULL)
	{
		int64_t		us;

		CHECK(sp_parse_rfc3339(s, &us) && us == q->ts_us);
	}
	else
	{
		CHECK(j_number(root, "ts", &d));
		CHECK((double) q->ts_us == round(d * 1e6));
	}
	check_volume_read(root, q->present & SP_HAS_VOLUME, q->volume);
	check_amount_read(root, "open", q->present & SP_HAS_OPEN, q->open);
	check_amount_read(root, "high", q->present & SP_HAS_HIGH, q->high);
	check_amount_read(root, "low", q->present & SP_HAS_LOW, q->low);
	check_amount_read(root, "prev_close", q->present & SP_HAS_PREV_CLOSE,
					  q->prev_close);
	if (q->present & SP_HAS_CURRENCY)
		CHECK((s = j_string(root, "currency")) != NULL &&
			  strcmp(s, q->currency) == 0);
	else
		CHECK(json_is_null(json_object_get(root, "currency")) ||
			  json_object_get(root, "currency") == NULL);
	if (q->present & SP_HAS_SOURCE)
		CHECK((s = j_string(root, "source")) != NULL && strcmp(s, q->source) == 0);
}

static void
check_bar(const sp_bar *b, json_t *root)
{
	const char *s;
	double		d;

	CHECK(symbol_ok(b->symbol, sizeof(b->symbol)));
	CHECK(b->date >= DAY_MIN && b->date <= DAY_MAX);
	CHECK(isfinite(b->close) && b->close > 0);
	CHECK((b->present & ~BAR_BITS) == 0);
	CHECK(amount_ok(b->open, b->present & SP_HAS_OPEN));
	CHECK(amount_ok(b->high, b->present & SP_HAS_HIGH));
	CHECK(amount_ok(b->low, b->present & SP_HAS_LOW));
	CHECK(amount_ok(b->adj_close, b->present & SP_HAS_ADJ_CLOSE));

	if (root == NULL)
		return;
	CHECK((s = j_string(root, "symbol")) != NULL && strcmp(s, b->symbol) == 0);
	CHECK((s = j_string(root, "date")) != NULL);
	{
		int32_t		days;

		CHECK(sp_parse_date(s, &days) && days == b->date);
	}
	CHECK(j_number(root, "close", &d) && d == b->close);
	check_volume_read(root, b->present & SP_HAS_VOLUME, b->volume);
	check_amount_read(root, "open", b->present & SP_HAS_OPEN, b->open);
	check_amount_read(root, "high", b->present & SP_HAS_HIGH, b->high);
	check_amount_read(root, "low", b->present & SP_HAS_LOW, b->low);
	check_amount_read(root, "adj_close", b->present & SP_HAS_ADJ_CLOSE,
					  b->adj_close);
}

/*
 * jansson's reading of the payload.  A leading byte order mark is skipped,
 * as the decoder does (RFC 8259 lets a parser); \u0000 is allowed, since
 * it is valid JSON that the decoder refuses for a reason of its own.  Where
 * jansson stops at a limit of its own (numbers beyond a double, NUL in a
 * member name) it has not looked at the rest, so its verdict is unknown.
 *
 * A raw NUL byte is never valid JSON (not white space, not allowed in a
 * string), but jansson 2.14 loses one that follows a number or a literal
 * ("[1\0]" and "false\0" load): its reader takes a NUL in its look-ahead
 * buffer for an empty buffer.  Such payloads are invalid by definition.
 */
static reference
reference_parse(const uint8_t *data, size_t size, json_t **root)
{
	json_error_t jerr;

	*root = NULL;
	if (memchr(data, '\0', size) != NULL)
		return R_INVALID;
	if (size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
	{
		data += 3;
		size -= 3;
	}
	*root = json_loadb((const char *) data, size,
					   JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL,
					   &jerr);
	if (*root != NULL)
		return R_VALID;
	switch (json_error_code(&jerr))
	{
		case json_error_numeric_overflow:
		case json_error_null_byte_in_key:
		case json_error_out_of_memory:
			return R_UNSURE;
		default:
			return R_INVALID;
	}
}

/*
 * One contract both ways: every quote or bar the decoder accepts, the
 * encoder (contract/encode.c, what the producer publishes with) writes as a
 * message that fits SP_MESSAGE_MAX and decodes back to the same values
 * (sp_encode_* checks that equality itself and fails otherwise).
 */
static void
check_quote_encodes(const sp_quote *q)
{
	char		buf[SP_MESSAGE_MAX];
	char		err[SP_ERR_MAX];

	CHECK(sp_encode_quote(q, buf, sizeof(buf), err) > 0);
}

static void
check_bar_encodes(const sp_bar *b)
{
	char		buf[SP_MESSAGE_MAX];
	char		err[SP_ERR_MAX];

	CHECK(sp_encode_bar(b, buf, sizeof(buf), err) > 0);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sp_quote	q;
	sp_bar		b;
	char		qerr[SP_ERR_MAX];
	char		berr[SP_ERR_MAX];
	bool		qok;
	bool		bok;
	verdict		qv;
	verdict		bv;
	json_t	   *root = NULL;
	reference	ref;

	memset(qerr, 0x7F, sizeof(qerr));
	memset(berr, 0x7F, sizeof(berr));
	qok = sp_decode_quote((const char *) data, size, &q, qerr);
	bok = sp_decode_bar((const char *) data, size, &b, berr);
	if (!qok)
		check_error_text(qerr);
	if (!bok)
		check_error_text(berr);
	qv = classify(qok, qerr);
	bv = classify(bok, berr);

	/*
	 * The fast path for flat objects and cJSON's tree give the same answer:
	 * verdict, error text, every byte of the struct.
	 */
	{
		sp_quote	q2;
		sp_bar		b2;
		char		err2[SP_ERR_MAX];

		CHECK(sp_decode_quote_tree((const char *) data, size, &q2, err2) == qok);
		CHECK(qok ? memcmp(&q, &q2, sizeof(q)) == 0 : strcmp(qerr, err2) == 0);
		CHECK(sp_decode_bar_tree((const char *) data, size, &b2, err2) == bok);
		CHECK(bok ? memcmp(&b, &b2, sizeof(b)) == 0 : strcmp(berr, err2) == 0);
	}

	/* A payload-level verdict does not depend on the topic. */
	if (qv != V_ACCEPTED && qv != V_FIELD)
		CHECK(bv == qv && strcmp(qerr, berr) == 0);
	if (bv != V_ACCEPTED && bv != V_FIELD)
		CHECK(qv == bv);

	ref = reference_parse(data, size, &root);
	switch (qv)
	{
		case V_SYNTAX:
		case V_UTF8:
			CHECK(ref != R_VALID);
			break;
		case V_DEPTH:
			break;				/* jansson's limit is deeper */
		case V_NOT_OBJECT:
			CHECK(ref != R_INVALID);
			CHECK(root == NULL || !json_is_object(root));
			break;
		case V_NUL:
			CHECK(ref != R_INVALID);
			break;
		case V_ACCEPTED:
		case V_FIELD:
			CHECK(ref != R_INVALID);
			CHECK(root == NULL || json_is_object(root));
			break;
	}
	if (ref == R_INVALID)
		CHECK(qv == V_SYNTAX || qv == V_DEPTH || qv == V_UTF8);

	if (qok)
		check_quote(&q, root);
	if (bok)
		check_bar(&b, root);
	if (qok)
		check_quote_encodes(&q);
	if (bok)
		check_bar_encodes(&b);

	json_decref(root);
	return 0;
}
