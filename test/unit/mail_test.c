/*-------------------------------------------------------------------------
 *
 * mail_test.c
 *	  Unit tests of alert e-mail address validation, the domain allow-list
 *	  and message composition (src/mail.c).
 *
 * A self-contained program like contract_test: one TAP-like line per
 * check, "ok N - what" or "not ok N - what" (followed by "#" lines saying
 * what was got instead), then "# P passed, F failed"; exits 1 if any check
 * failed.  Addresses are handed over in heap buffers of exactly their size
 * so that a sanitizer or valgrind run catches a read past the end.
 *
 *-------------------------------------------------------------------------
 */
#include "mail.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

/* A printable rendering of s (CR, LF and other bytes escaped), for diag. */
static const char *
shown(const char *s)
{
	static char out[4 * 1200 + 1];
	size_t		o = 0;

	if (s == NULL)
		return "(null)";
	for (; *s && o < sizeof(out) - 5; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c == '\r')
			o += (size_t) sprintf(out + o, "\\r");
		else if (c == '\n')
			o += (size_t) sprintf(out + o, "\\n");
		else if (c < 0x20 || c > 0x7E)
			o += (size_t) sprintf(out + o, "\\x%02X", c);
		else
			out[o++] = (char) c;
	}
	out[o] = '\0';
	return out;
}

/* sp_mail_address_valid on a heap copy of exactly strlen + 1 bytes. */
static bool
address_valid(const char *addr)
{
	size_t		n = strlen(addr) + 1;
	char	   *copy = malloc(n);
	bool		ok;

	if (copy == NULL)
		abort();
	memcpy(copy, addr, n);
	ok = sp_mail_address_valid(copy);
	free(copy);
	return ok;
}

static void
address_good(const char *addr)
{
	check(address_valid(addr), "address accepted: %s", shown(addr));
}

static void
address_bad(const char *desc, const char *addr)
{
	check(!address_valid(addr), "address rejected: %s: %s", desc, shown(addr));
}

/* A string of n copies of c followed by tail. */
static char *
repeat(char c, size_t n, const char *tail)
{
	char	   *s = malloc(n + strlen(tail) + 1);

	if (s == NULL)
		abort();
	memset(s, c, n);
	strcpy(s + n, tail);
	return s;
}

static void
test_addresses(void)
{
	char	   *s;

	address_good("trader@example.com");
	address_good("alerts@stockpipe.test");
	address_good("a@localhost");
	address_good("a@LocalHost");
	address_good("first.last+tag@sub.example.co.uk");
	address_good("x_y-z@a-b.example");
	address_good("!#$%&*+-/=?^_{|}~@example.com");
	address_good("USER@EXAMPLE.COM");
	address_good("a@x1.io");

	s = repeat('a', 64, "@example.com");
	check(address_valid(s), "address accepted: local part of 64 characters");
	free(s);
	s = repeat('a', 65, "@example.com");
	check(!address_valid(s), "address rejected: local part of 65 characters");
	free(s);
	/* 64 + 1 + 63 + 1 + 63 + 1 + 57 + 4 = 254 */
	{
		char		buf[300];

		snprintf(buf, sizeof(buf), "%.64s@%.63s.%.63s.%.57s.com",
				 "llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll",
				 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
				 "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccc");
		if (check(strlen(buf) == 254, "test address has 254 characters"))
			check(address_valid(buf), "address accepted: 254 characters");
		strcat(buf, "m");
		check(!address_valid(buf), "address rejected: 255 characters");
	}
	s = repeat('d', 63, ".example.com");
	{
		char	   *t = malloc(strlen(s) + 3);

		if (t == NULL)
			abort();
		sprintf(t, "a@%s", s);
		check(address_valid(t), "address accepted: domain label of 63 characters");
		free(t);
	}
	free(s);
	s = repeat('d', 64, ".example.com");
	{
		char	   *t = malloc(strlen(s) + 3);

		if (t == NULL)
			abort();
		sprintf(t, "a@%s", s);
		check(!address_valid(t), "address rejected: domain label of 64 characters");
		free(t);
	}
	free(s);

	check(!sp_mail_address_valid(NULL), "address rejected: NULL");
	address_bad("an apostrophe (a quote to SQL and to people)", "o'neil@example.com");
	address_bad("a backquote", "a`b@example.com");
	address_bad("an all-digit top-level label", "a@1.2.3.4");
	check_str(sp_mail_address_problem("o'neil@example.com"), "it contains a quote",
			  "email_problem's reason: a quote");
	check_str(sp_mail_address_problem("a@b.com\r\nBcc: c@d.com"),
			  "it contains a line break (CR or LF)",
			  "email_problem's reason: a line break comes before white space");
	check_str(sp_mail_address_problem("Ann <a@b.com>"),
			  "it contains an angle bracket; give the bare address, without a display name",
			  "email_problem's reason: an angle bracket comes before white space");
	check_str(sp_mail_address_problem("a@@b.com"),
			  "it must contain exactly one \"@\" with text on both sides",
			  "email_problem's reason: two @");
	check_str(sp_mail_address_problem("a..b@example.com"),
			  "its local part (before \"@\") has a character not allowed, or a misplaced dot",
			  "email_problem's reason: a double dot");
	check_str(sp_mail_address_problem("a@example"),
			  "its domain (after \"@\") must be DNS labels separated by dots, such as example.com",
			  "email_problem's reason: a domain without a dot");
	check(sp_mail_address_problem("a@Example.COM") == NULL, "email_problem: NULL for a good address");
	address_bad("empty", "");
	address_bad("header injection with CRLF", "a@b.com\r\nBcc: x@y.com");
	address_bad("header injection with LF", "a@b.com\nBcc: x@y.com");
	address_bad("header injection with CR", "a@b.com\rBcc: x@y.com");
	address_bad("CRLF in the local part", "a\r\nBcc: x@y.com");
	address_bad("two addresses with a comma", "a@b.com,c@d.com");
	address_bad("two addresses with a comma and space", "a@b.com, c@d.com");
	address_bad("space in the local part", "a b@example.com");
	address_bad("leading space", " a@example.com");
	address_bad("trailing space", "a@example.com ");
	address_bad("tab", "a@example.com\t");
	address_bad("angle brackets", "<a@example.com>");
	address_bad("display name", "Trader <a@example.com>");
	address_bad("quoted local part", "\"a\"@example.com");
	address_bad("quoted local part with space", "\"a b\"@example.com");
	address_bad("semicolon", "a;b@example.com");
	address_bad("parentheses (comment)", "a(x)@example.com");
	address_bad("backslash", "a\\b@example.com");
	address_bad("no @", "example.com");
	address_bad("two @", "a@b@example.com");
	address_bad("@@", "a@@example.com");
	address_bad("empty local part", "@example.com");
	address_bad("empty domain", "a@");
	address_bad("domain without a dot", "a@example");
	address_bad("leading dot in local part", ".a@example.com");
	address_bad("trailing dot in local part", "a.@example.com");
	address_bad("two dots in local part", "a..b@example.com");
	address_bad("domain label starting with -", "a@-example.com");
	address_bad("domain label ending with -", "a@example-.com");
	address_bad("empty domain label", "a@example..com");
	address_bad("leading dot in domain", "a@.example.com");
	address_bad("trailing dot in domain", "a@example.com.");
	address_bad("underscore in domain", "a@exa_mple.com");
	address_bad("IPv4 address as domain", "a@1.2.3.4");
	address_bad("domain literal", "a@[127.0.0.1]");
	address_bad("non-ASCII local part (UTF-8)", "j\xc3\xb6rg@example.com");
	address_bad("non-ASCII domain (UTF-8)", "a@ex\xc3\xa4mple.com");
	address_bad("Latin-1 byte", "j\xf6rg@example.com");
	address_bad("DEL character", "a\x7f@example.com");
	address_bad("control character 0x01", "a\x01@example.com");
	address_bad("localhost with a trailing dot", "a@localhost.");
	address_bad("localhost look-alike", "a@localhosT1");
	address_bad("localhost with a control byte", "a@localhos\x14");
}

static void
test_hosts(void)
{
	check(sp_mail_host_valid("db1.example.com"), "host accepted: db1.example.com");
	check(sp_mail_host_valid("a1b2c3d4e5f6"), "host accepted: a1b2c3d4e5f6 (container id)");
	check(sp_mail_host_valid("localhost"), "host accepted: localhost");
	check(!sp_mail_host_valid(NULL), "host rejected: NULL");
	check(!sp_mail_host_valid(""), "host rejected: empty");
	check(!sp_mail_host_valid("my_host"), "host rejected: underscore");
	check(!sp_mail_host_valid("a..b"), "host rejected: two dots");
	check(!sp_mail_host_valid(".a"), "host rejected: leading dot");
	check(!sp_mail_host_valid("a."), "host rejected: trailing dot");
	check(!sp_mail_host_valid("a>b"), "host rejected: >");
	check(!sp_mail_host_valid("a\r\nb"), "host rejected: CRLF");
}

/* sp_mail_domain_allowed on heap copies of exactly strlen + 1 bytes. */
static bool
domain_allowed(const char *addr, const char *list)
{
	char	   *a = NULL;
	char	   *l = NULL;
	bool		ok;

	if (addr)
	{
		a = malloc(strlen(addr) + 1);
		if (a == NULL)
			abort();
		strcpy(a, addr);
	}
	if (list)
	{
		l = malloc(strlen(list) + 1);
		if (l == NULL)
			abort();
		strcpy(l, list);
	}
	ok = sp_mail_domain_allowed(a, l);
	free(a);
	free(l);
	return ok;
}

/* "ADDR by LIST" for a check's text (shown() has one static buffer). */
static const char *
addr_by_list(const char *addr, const char *list)
{
	static char out[600];

	snprintf(out, sizeof(out), "%s by ", shown(addr));
	if (list)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "\"%s\"", shown(list));
	else
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "NULL");
	return out;
}

static void
allowed(const char *addr, const char *list)
{
	check(domain_allowed(addr, list), "domain allowed: %s", addr_by_list(addr, list));
}

static void
refused(const char *desc, const char *addr, const char *list)
{
	check(!domain_allowed(addr, list), "domain refused: %s: %s", desc,
		  addr_by_list(addr, list));
}

static void
test_allowed_domains(void)
{
	char	   *s;

	/* an empty list allows any domain */
	allowed("trader@example.com", NULL);
	allowed("trader@example.com", "");
	allowed("trader@example.com", " , ,");
	allowed("trader@example.com", ".");

	allowed("trader@example.com", "example.com");
	allowed("trader@mx.example.com", "example.com");
	allowed("trader@a.b.example.com", "example.com");
	allowed("trader@EXAMPLE.COM", "example.com");
	allowed("trader@Mx.Example.Com", "EXAMPLE.com");
	allowed("trader@example.org", "example.com,example.org");
	allowed("trader@example.org", "example.com, example.org");
	allowed("trader@example.org", " example.com ,  example.org ");
	allowed("trader@example.org", "example.com example.org");
	allowed("trader@example.org", "example.com,,example.org,");
	allowed("trader@example.com", ".example.com");
	allowed("trader@mx.example.com", ".example.com");
	allowed("trader@example.com", "example.com.");
	allowed("trader@example.com.", "example.com");
	allowed("a@localhost", "localhost");
	allowed("a@LOCALHOST", "localhost");
	allowed("trader@example.com", "com");
	allowed("x@y@example.com", "example.com");

	refused("another domain", "trader@example.org", "example.com");
	refused("a suffix that is not a subdomain", "trader@badexample.com", "example.com");
	refused("a longer top-level domain", "trader@example.company", "example.com");
	refused("the parent of an allowed subdomain", "trader@example.com", "mx.example.com");
	refused("a sibling of an allowed subdomain", "trader@mail.example.com", "mx.example.com");
	refused("the allowed domain inside another", "trader@example.com.evil.org", "example.com");
	refused("the allowed domain as a prefix", "trader@example.comx", "example.com");
	refused("the allowed name in the local part", "example.com@evil.org", "example.com");
	refused("no domain listed matches", "trader@evil.org", "example.com, example.org");
	refused("no @", "example.com", "example.com");
	refused("empty domain", "trader@", "example.com");
	refused("empty domain with an empty list", "trader@", "");
	refused("only a dot as domain", "trader@.", "example.com");
	refused("NULL address", NULL, "example.com");
	refused("NULL address, empty list", NULL, "");
	refused("a domain that is the allowed one without its dot", "trader@examplecom", "example.com");

	/* a long entry and a long domain, read exactly to their ends */
	s = repeat('d', 240, ".example.com");
	{
		char	   *addr = malloc(strlen(s) + 3);

		if (addr == NULL)
			abort();
		sprintf(addr, "a@%s", s);
		check(domain_allowed(addr, s), "domain allowed: a 252-character domain by itself");
		check(domain_allowed(addr, "example.com"), "domain allowed: a 252-character subdomain");
		check(!domain_allowed("a@example.com", s), "domain refused: the parent of a 252-character entry");
		free(addr);
	}
	free(s);
}

/* The known event of the exact-text test. */
static sp_mail_alert
known_event(void)
{
	sp_mail_alert a = {
		.event_id = 42,
		.rule_id = 7,
		.quote_us = 1795807801000000,
		.from = "alerts@stockpipe.test",
		.to = "trader@example.com",
		.date = "Fri, 27 Nov 2026 19:30:05 +0000",
		.host = "db1.example.com",
		.symbol = "AAPL",
		.condition = "price_above",
		.threshold = "190",
		.price = "190.25",
		.quote_time = "2026-11-27 14:30:01 EST",
		.time_zone = "America/New_York",
		.prev_close = "188",
		.change = "+2.25",
		.change_pct = "+1.20",
	};

	return a;
}

static const char known_text[] =
"Date: Fri, 27 Nov 2026 19:30:05 +0000\r\n"
"From: alerts@stockpipe.test\r\n"
"To: trader@example.com\r\n"
"Subject: [stockpipe] AAPL price_above 190: 190.25\r\n"
"Message-ID: <alert-7-1795807801000000@stockpipe.db1.example.com>\r\n"
"MIME-Version: 1.0\r\n"
"Content-Type: text/plain; charset=UTF-8\r\n"
"Content-Transfer-Encoding: 8bit\r\n"
"Auto-Submitted: auto-generated\r\n"
"\r\n"
"Price alert for AAPL: price_above 190\r\n"
"\r\n"
"Symbol:      AAPL\r\n"
"Condition:   price_above\r\n"
"Threshold:   190\r\n"
"Price:       190.25\r\n"
"Quote time:  2026-11-27 14:30:01 EST (America/New_York)\r\n"
"Day change:  +2.25 (+1.20%) from the previous close of 188\r\n"
"\r\n"
"-- \r\n"
"stockpipe alert rule 7, event 42. Sent once each time the condition becomes true;\r\n"
"manage rules with stockpipe.enable_alert() and stockpipe.drop_alert().\r\n";

/* Compose into a heap buffer of exactly size bytes; returns it (to free). */
static char *
compose(const sp_mail_alert *a, size_t size, bool *ok, size_t *len, char *err)
{
	char	   *buf = malloc(size > 0 ? size : 1);

	if (buf == NULL)
		abort();
	memset(buf, 0x7F, size);
	memset(err, 0x7F, SP_MAIL_ERR_MAX);
	err[SP_MAIL_ERR_MAX - 1] = '\0';
	*ok = sp_mail_compose(a, buf, size, len, err);
	return buf;
}

/* An error text as wanted: one line, lower-case start. */
static bool
err_ok(const char *err)
{
	return memchr(err, '\0', SP_MAIL_ERR_MAX) != NULL &&
		strchr(err, '\n') == NULL && strchr(err, '\r') == NULL &&
		err[0] >= 'a' && err[0] <= 'z';
}

/* Every LF preceded by CR and every CR followed by LF. */
static bool
crlf_only(const char *s, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
	{
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			return false;
		if (s[i] == '\r' && (i + 1 >= len || s[i + 1] != '\n'))
			return false;
	}
	return len >= 2 && s[len - 2] == '\r' && s[len - 1] == '\n';
}

static void
test_known_message(void)
{
	sp_mail_alert a = known_event();
	char		err[SP_MAIL_ERR_MAX];
	size_t		len;
	bool		ok;
	char	   *buf = compose(&a, SP_MAIL_MAX, &ok, &len, err);

	if (!check(ok, "known event composed"))
		diag("got: %s", shown(err));
	if (!check(ok && len == strlen(known_text) && strcmp(buf, known_text) == 0,
			   "known event: exact message text"))
	{
		diag("got:      %s", shown(ok ? buf : ""));
		diag("expected: %s", shown(known_text));
	}
	check(ok && len == strlen(buf), "length returned equals the NUL-terminated text");
	check(ok && crlf_only(buf, len), "every line ends with CRLF, no bare CR or LF");
	check(ok && strstr(buf, "\r\nMessage-ID: <alert-7-1795807801000000@stockpipe.db1.example.com>\r\n") != NULL,
		  "Message-ID is <alert-RULE-QUOTEUS@stockpipe.HOST>: the same for one crossing on any server");
	check(ok && strstr(buf, "\r\n\r\n") != NULL &&
		  strstr(buf, "\r\n\r\n") - buf > (ptrdiff_t) strlen("Date: "),
		  "an empty line separates headers and body");
	free(buf);

	/* exactly the needed size fits; one byte less does not */
	buf = compose(&a, strlen(known_text) + 1, &ok, &len, err);
	check(ok && strcmp(buf, known_text) == 0, "fits in a buffer of exactly its size");
	free(buf);
	buf = compose(&a, strlen(known_text), &ok, &len, err);
	if (!check(!ok && err_ok(err) && len == 0 && buf[0] == '\0',
			   "refused when the buffer is one byte short"))
		diag("ok=%d err=%s", ok, shown(err));
	free(buf);
}

static void
test_optional_values(void)
{
	sp_mail_alert a = known_event();
	char		err[SP_MAIL_ERR_MAX];
	size_t		len;
	bool		ok;
	char	   *buf;

	a.event_id = 9000000000;
	a.rule_id = 0;
	a.condition = "above_l30d_high";
	a.threshold = NULL;
	a.time_zone = NULL;
	a.prev_close = NULL;
	a.change = NULL;
	a.change_pct = NULL;
	buf = compose(&a, SP_MAIL_MAX, &ok, &len, err);
	if (!check(ok, "event without threshold, zone and previous close composed"))
		diag("got: %s", shown(err));
	if (ok)
	{
		check(strstr(buf, "\r\nSubject: [stockpipe] AAPL above_l30d_high: 190.25\r\n") != NULL,
			  "subject without threshold");
		check(strstr(buf, "Threshold:") == NULL, "no threshold line");
		check(strstr(buf, "\r\nQuote time:  2026-11-27 14:30:01 EST\r\n") != NULL,
			  "quote time without zone name");
		check(strstr(buf, "\r\nDay change:  unknown (no previous close)\r\n") != NULL,
			  "day change unknown");
		check(strstr(buf, "<alert-e9000000000@stockpipe.db1.example.com>") != NULL,
			  "rule dropped: the 64-bit event id in Message-ID");
		check(strstr(buf, "\r\nstockpipe alert event 9000000000. ") != NULL,
			  "footer without a rule");
		check(crlf_only(buf, len), "CRLF line endings");
	}
	free(buf);
}

/* The field of a that is the name-th; NULL past the last. */
static const char **
field(sp_mail_alert *a, int i, const char **name)
{
	switch (i)
	{
		case 0: *name = "from"; return &a->from;
		case 1: *name = "to"; return &a->to;
		case 2: *name = "date"; return &a->date;
		case 3: *name = "host"; return &a->host;
		case 4: *name = "symbol"; return &a->symbol;
		case 5: *name = "condition"; return &a->condition;
		case 6: *name = "threshold"; return &a->threshold;
		case 7: *name = "price"; return &a->price;
		case 8: *name = "quote_time"; return &a->quote_time;
		case 9: *name = "time_zone"; return &a->time_zone;
		case 10: *name = "prev_close"; return &a->prev_close;
		case 11: *name = "change"; return &a->change;
		case 12: *name = "change_pct"; return &a->change_pct;
	}
	return NULL;
}

static void
expect_refused(const sp_mail_alert *a, const char *desc)
{
	char		err[SP_MAIL_ERR_MAX];
	size_t		len = 123;
	bool		ok;
	char	   *buf = compose(a, SP_MAIL_MAX, &ok, &len, err);

	if (!check(!ok && err_ok(err) && len == 0 && buf[0] == '\0', "refused: %s", desc))
	{
		diag("ok=%d len=%zu err=%s", ok, len, ok ? "" : shown(err));
		if (ok)
			diag("message: %s", shown(buf));
	}
	free(buf);
}

static void
test_refusals(void)
{
	static const char *const evil[] = {
		"x\r\nBcc: evil@example.com",
		"x\nBcc: evil@example.com",
		"x\rBcc: evil@example.com",
		"x\tz",
		"caf\xc3\xa9",
	};
	static const char *const evil_name[] = {"CRLF", "LF", "CR", "TAB", "non-ASCII"};
	const char *name;
	int			i;
	size_t		j;

	for (i = 0; field(&(sp_mail_alert) {0}, i, &name) != NULL; i++)
	{
		for (j = 0; j < sizeof(evil) / sizeof(evil[0]); j++)
		{
			sp_mail_alert a = known_event();
			char		desc[128];

			*field(&a, i, &name) = evil[j];
			snprintf(desc, sizeof(desc), "%s in %s", evil_name[j], name);
			expect_refused(&a, desc);
		}
	}

	/* required values */
	for (i = 0; i < 13; i++)
	{
		sp_mail_alert a = known_event();
		const char **f = field(&a, i, &name);
		bool		optional = (f == &a.threshold || f == &a.time_zone ||
								f == &a.prev_close || f == &a.change ||
								f == &a.change_pct);
		char		desc[128];

		if (optional)
			continue;
		*f = NULL;
		snprintf(desc, sizeof(desc), "%s missing (NULL)", name);
		expect_refused(&a, desc);
		*f = "";
		snprintf(desc, sizeof(desc), "%s missing (empty)", name);
		expect_refused(&a, desc);
	}

	{
		sp_mail_alert a = known_event();

		a.to = "a@b.com,c@d.com";
		expect_refused(&a, "recipient is two addresses");
		a = known_event();
		a.to = "Trader <trader@example.com>";
		expect_refused(&a, "recipient with display name");
		a = known_event();
		a.from = "alerts";
		expect_refused(&a, "sender without domain");
		a = known_event();
		a.host = "db1 example";
		expect_refused(&a, "host name with a space");
		a = known_event();
		a.host = "db1>.example.com";
		expect_refused(&a, "host name with >");
		a = known_event();
		a.host = "db1..example.com";
		expect_refused(&a, "host name with two dots");
		a = known_event();
		a.event_id = 0;
		expect_refused(&a, "event id 0");
	}

	/* lines longer than 998 characters */
	{
		sp_mail_alert a = known_event();
		char	   *s = repeat('9', 952, "");
		char		err[SP_MAIL_ERR_MAX];
		size_t		len;
		bool		ok;
		char	   *buf;

		a.threshold = s;
		buf = compose(&a, SP_MAIL_MAX, &ok, &len, err);
		if (!check(ok, "a subject line of exactly 998 characters is accepted"))
			diag("got: %s", shown(err));
		free(buf);
		free(s);
		s = repeat('9', 953, "");
		a.threshold = s;
		expect_refused(&a, "a subject line of 999 characters");
		free(s);
	}
}

int
main(void)
{
	test_addresses();
	test_hosts();
	test_allowed_domains();
	test_known_message();
	test_optional_values();
	test_refusals();
	return tap_summary();
}
