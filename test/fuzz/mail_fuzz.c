/*-------------------------------------------------------------------------
 *
 * mail_fuzz.c
 *	  libFuzzer harness of alert e-mails (src/mail.c): address and host
 *	  validation, the domain allow-list and sp_mail_compose.
 *
 * Input: fields separated by NUL bytes, in this order: from, to, date,
 * host, symbol, condition, threshold, price, quote time, time zone,
 * previous close, change, change percentage, the allow-list, and
 * "EVENT RULE SIZE" (decimal: event id, rule id, buffer size).  A field
 * the input does not reach keeps the value of the unit tests' known event
 * (the list is then NULL); the message is composed into a heap buffer of
 * exactly SIZE bytes, so AddressSanitizer catches a write past it.
 *
 * Invariants, checked with code of this file's own:
 *	 - sp_mail_address_valid, sp_mail_host_valid and sp_mail_domain_allowed
 *	   agree with independent implementations of what mail.h documents;
 *	 - a composed message is printable ASCII in lines ended by CRLF (no
 *	   bare CR or LF), no line over 998 octets, and its header is exactly
 *	   the nine header lines of mail.h, in order, none folded, with From,
 *	   To, Date and Message-ID carrying exactly the values given: nothing
 *	   a value holds can add a header or a recipient;
 *	 - it is composed only from valid values, and valid values fail only
 *	   for size (buffer or line length), the same text fitting any buffer
 *	   larger than it;
 *	 - a refusal leaves an empty buffer, a zero length and a one-line
 *	   error text.
 *
 * A broken invariant aborts, which libFuzzer reports as a crash.
 *
 *-------------------------------------------------------------------------
 */
#include "mail.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_VALUES	13			/* string fields of sp_mail_alert */
#define BIG			65536		/* a buffer no message outgrows */

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "mail_fuzz: invariant failed at line %d: %s\n", \
					__LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/* The unit tests' known event, field by field in input order. */
static const char *const defaults[N_VALUES] = {
	"alerts@stockpipe.test", "trader@example.com",
	"Fri, 27 Nov 2026 19:30:05 +0000", "db1.example.com", "AAPL",
	"price_above", "190", "190.25", "2026-11-27 14:30:01 EST",
	"America/New_York", "188", "+2.25", "+1.20",
};

/* Which values must be present (mail.h). */
static const bool required[N_VALUES] = {
	true, true, true, true, true, true, false, true, true, false, false, false, false,
};

static const char *const header_names[] = {
	"Date", "From", "To", "Subject", "Message-ID", "MIME-Version",
	"Content-Type", "Content-Transfer-Encoding", "Auto-Submitted",
};

#define N_HEADERS	(sizeof(header_names) / sizeof(header_names[0]))


/* ---------------------------------------------------------------- */
/*	What mail.h documents, written again							*/
/* ---------------------------------------------------------------- */

static bool
r_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static bool
r_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
r_atext(unsigned char c)
{
	static const char specials[] = "!#$%&*+-/=?^_{|}~";

	return r_alpha(c) || r_digit(c) ||
		(c != '\0' && memchr(specials, c, sizeof(specials) - 1) != NULL);
}

static char
r_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char) (c + 32) : c;
}

/* Letters, digits and inner hyphens, 1-63 of them. */
static bool
r_label(const char *s, size_t n)
{
	if (n < 1 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!r_alpha((unsigned char) s[i]) && !r_digit((unsigned char) s[i]) &&
			s[i] != '-')
			return false;
	return true;
}

/*
 * "localhost", or two or more labels, at most 253 characters, the last one
 * not all digits (mail.c: "1.2.3.4" is no host name).
 */
static bool
r_domain(const char *s, size_t n)
{
	size_t		labels = 0;
	size_t		start = 0;
	bool		all_digits = true;

	if (n == 9)
	{
		size_t		i;

		for (i = 0; i < 9 && r_lower(s[i]) == "localhost"[i]; i++)
			;
		if (i == 9)
			return true;
	}
	if (n < 1 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++)
	{
		if (i < n && s[i] != '.')
			continue;
		if (!r_label(s + start, i - start))
			return false;
		labels++;
		all_digits = true;
		for (size_t k = start; k < i; k++)
			if (!r_digit((unsigned char) s[k]))
				all_digits = false;
		start = i + 1;
	}
	return labels >= 2 && !all_digits;
}

static bool
r_address_valid(const char *a)
{
	size_t		n = strlen(a);
	const char *at = strchr(a, '@');
	size_t		local;

	if (n < 1 || n > SP_MAIL_ADDRESS_MAX || at == NULL || strchr(at + 1, '@') != NULL)
		return false;
	local = (size_t) (at - a);
	if (local < 1 || local > 64 || a[0] == '.' || a[local - 1] == '.')
		return false;
	for (size_t i = 0; i < local; i++)
	{
		if (a[i] == '.' ? a[i + 1] == '.' : !r_atext((unsigned char) a[i]))
			return false;
	}
	return r_domain(at + 1, n - local - 1);
}

/* 1-253 letters, digits, hyphens and inner single dots. */
static bool
r_host_valid(const char *h)
{
	size_t		n = strlen(h);

	if (n < 1 || n > 253 || h[0] == '.' || h[n - 1] == '.' || strstr(h, "..") != NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!r_alpha((unsigned char) h[i]) && !r_digit((unsigned char) h[i]) &&
			h[i] != '-' && h[i] != '.')
			return false;
	return true;
}

static bool
r_caseless_equal(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (r_lower(a[i]) != r_lower(b[i]))
			return false;
	return true;
}

/*
 * The domain (after the last "@", less one trailing dot) is an entry or a
 * subdomain of one; entries are separated by commas and white space, and
 * lose their leading and trailing dots; no entry at all allows everything.
 */
static bool
r_domain_allowed(const char *addr, const char *list)
{
	const char *at = strrchr(addr, '@');
	const char *dom;
	size_t		dn;
	bool		any = false;
	const char *p;

	if (at == NULL)
		return false;
	dom = at + 1;
	dn = strlen(dom);
	if (dn > 0 && dom[dn - 1] == '.')
		dn--;
	if (dn == 0)
		return false;
	for (p = list ? list : ""; *p != '\0';)
	{
		size_t		en = strcspn(p, ", \t\r\n");
		const char *e = p;

		p += en;
		if (*p != '\0')
			p++;
		while (en > 0 && *e == '.')
		{
			e++;
			en--;
		}
		while (en > 0 && e[en - 1] == '.')
			en--;
		if (en == 0)
			continue;
		any = true;
		if ((dn == en || (dn > en && dom[dn - en - 1] == '.')) &&
			r_caseless_equal(dom + dn - en, e, en))
			return true;
	}
	return !any;
}

static bool
r_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char) *s < 0x20 || (unsigned char) *s > 0x7E)
			return false;
	return true;
}


/* ---------------------------------------------------------------- */
/*	Checks															*/
/* ---------------------------------------------------------------- */

/* The value of header name in msg (header lines only), copied into out. */
static bool
header_value(const char *msg, const char *name, char *out, size_t cap)
{
	const char *p = msg;

	for (;;)
	{
		const char *eol = strstr(p, "\r\n");
		size_t		nl = strlen(name);

		if (eol == NULL || eol == p)
			return false;
		if ((size_t) (eol - p) > nl + 1 && strncmp(p, name, nl) == 0 &&
			p[nl] == ':' && p[nl + 1] == ' ')
		{
			size_t		vl = (size_t) (eol - p) - nl - 2;

			if (vl >= cap)
				return false;
			memcpy(out, p + nl + 2, vl);
			out[vl] = '\0';
			return true;
		}
		p = eol + 2;
	}
}

static void
check_message(const sp_mail_alert *a, const char *msg, size_t len)
{
	const char *line = msg;
	size_t		lines = 0;
	char		value[SP_MAIL_LINE_MAX + 1];
	char		want[SP_MAIL_LINE_MAX + 1];

	CHECK(strlen(msg) == len && len >= 2);
	CHECK(msg[len - 2] == '\r' && msg[len - 1] == '\n');
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) msg[i];

		CHECK((c >= 0x20 && c <= 0x7E) || c == '\r' || c == '\n');
		if (c == '\r')
			CHECK(i + 1 < len && msg[i + 1] == '\n');
		if (c == '\n')
			CHECK(i > 0 && msg[i - 1] == '\r');
	}

	/* lines, and the header block: exactly the nine headers, in order */
	while (line < msg + len)
	{
		const char *eol = strstr(line, "\r\n");
		size_t		n = (size_t) (eol - line);

		CHECK(eol != NULL && n <= SP_MAIL_LINE_MAX);
		if (lines <= N_HEADERS)
		{
			if (lines == N_HEADERS)
				CHECK(n == 0);	/* the empty line that ends the header */
			else
			{
				size_t		hn = strlen(header_names[lines]);

				CHECK(n > hn + 1 && strncmp(line, header_names[lines], hn) == 0 &&
					  line[hn] == ':' && line[hn + 1] == ' ');
			}
		}
		lines++;
		line = eol + 2;
	}
	CHECK(lines > N_HEADERS + 1);

	CHECK(header_value(msg, "From", value, sizeof(value)) && strcmp(value, a->from) == 0);
	CHECK(header_value(msg, "To", value, sizeof(value)) && strcmp(value, a->to) == 0);
	CHECK(header_value(msg, "Date", value, sizeof(value)) && strcmp(value, a->date) == 0);
	if (a->rule_id > 0)
		snprintf(want, sizeof(want), "<alert-%" PRId64 "-%" PRId64 "@stockpipe.%s>",
				 a->rule_id, a->quote_us, a->host);
	else
		snprintf(want, sizeof(want), "<alert-e%" PRId64 "@stockpipe.%s>", a->event_id, a->host);
	CHECK(header_value(msg, "Message-ID", value, sizeof(value)) && strcmp(value, want) == 0);
}

static void
check_error_text(const char *err)
{
	size_t		n;

	CHECK(memchr(err, '\0', SP_MAIL_ERR_MAX) != NULL);
	n = strlen(err);
	CHECK(n > 0 && err[0] >= 'a' && err[0] <= 'z');
	for (size_t i = 0; i < n; i++)
		CHECK(err[i] >= 0x20 && err[i] <= 0x7E);
}

/* Compose into a heap buffer of exactly size bytes (one byte if size is 0). */
static bool
compose(const sp_mail_alert *a, size_t size, char **out, size_t *len, char *err)
{
	char	   *buf = malloc(size > 0 ? size : 1);
	bool		ok;

	CHECK(buf != NULL);
	memset(buf, 0x7F, size > 0 ? size : 1);
	memset(err, 0x7F, SP_MAIL_ERR_MAX);
	*len = 12345;
	ok = sp_mail_compose(a, buf, size, len, err);
	if (ok)
	{
		CHECK(*len < size);
		check_message(a, buf, *len);
	}
	else
	{
		CHECK(*len == 0);
		CHECK(size == 0 || buf[0] == '\0');
		check_error_text(err);
	}
	*out = buf;
	return ok;
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *copy = malloc(size + 1);
	const char *fields[N_VALUES + 2] = {NULL};
	size_t		nfields = 0;
	size_t		pos = 0;
	const char *v[N_VALUES];
	const char *list;
	long long	event = 42;
	long long	rule = 7;
	long long	bufsize = SP_MAIL_MAX;
	long long	quote = 1795807801000000;
	sp_mail_alert a;
	bool		values_ok = true;
	char	   *buf;
	char	   *big;
	size_t		len;
	size_t		big_len;
	char		err[SP_MAIL_ERR_MAX];
	bool		ok;
	bool		big_ok;

	CHECK(copy != NULL);
	memcpy(copy, data, size);
	copy[size] = '\0';
	while (nfields < N_VALUES + 2 && pos <= size)
	{
		fields[nfields++] = copy + pos;
		pos += strlen(copy + pos) + 1;
	}
	for (size_t i = 0; i < N_VALUES; i++)
		v[i] = i < nfields ? fields[i] : defaults[i];
	list = nfields > N_VALUES ? fields[N_VALUES] : NULL;
	if (nfields > N_VALUES + 1)
		sscanf(fields[N_VALUES + 1], "%lld %lld %lld %lld", &event, &rule, &bufsize, &quote);
	if (bufsize < 0 || bufsize > BIG)
		bufsize = SP_MAIL_MAX;

	/* the validators against their reference, on every field */
	for (size_t i = 0; i < nfields; i++)
	{
		CHECK(sp_mail_address_valid(fields[i]) == r_address_valid(fields[i]));
		CHECK(sp_mail_address_valid(fields[i]) ==
			  (sp_mail_address_problem(fields[i]) == NULL));
		CHECK(sp_mail_host_valid(fields[i]) == r_host_valid(fields[i]));
		CHECK(sp_mail_domain_allowed(fields[i], list) == r_domain_allowed(fields[i], list));
		CHECK(sp_mail_domain_allowed(fields[i], NULL) == r_domain_allowed(fields[i], NULL));
	}
	CHECK(!sp_mail_address_valid(NULL) && !sp_mail_host_valid(NULL) &&
		  !sp_mail_domain_allowed(NULL, list));

	a = (sp_mail_alert) {
		.event_id = event,
		.rule_id = rule,
		.quote_us = quote,
		.from = v[0],
		.to = v[1],
		.date = v[2],
		.host = v[3],
		.symbol = v[4],
		.condition = v[5],
		.threshold = v[6],
		.price = v[7],
		.quote_time = v[8],
		.time_zone = v[9],
		.prev_close = v[10],
		.change = v[11],
		.change_pct = v[12],
	};
	for (size_t i = 0; i < N_VALUES; i++)
		if ((required[i] && v[i][0] == '\0') || !r_printable(v[i]))
			values_ok = false;
	values_ok = values_ok && r_address_valid(a.from) && r_address_valid(a.to) &&
		r_host_valid(a.host) && a.event_id > 0;

	big_ok = compose(&a, BIG, &big, &big_len, err);
	if (big_ok)
		CHECK(values_ok);
	else if (values_ok)
		CHECK(strncmp(err, "a line would be longer than", 27) == 0 ||
			  strncmp(err, "message would be longer than", 28) == 0);

	/* the size asked for: the same text if it fits, else a refusal for size */
	ok = compose(&a, (size_t) bufsize, &buf, &len, err);
	if (big_ok)
	{
		CHECK(ok == (big_len < (size_t) bufsize));
		if (ok)
			CHECK(len == big_len && memcmp(buf, big, len + 1) == 0);
		else
			CHECK(strncmp(err, "message would be longer than", 28) == 0);
	}
	else
		CHECK(!ok);

	free(buf);
	free(big);
	free(copy);
	return 0;
}
