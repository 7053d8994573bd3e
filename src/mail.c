/*-------------------------------------------------------------------------
 *
 * mail.c
 *	  Alert e-mails: address validation, the domain allow-list and the
 *	  RFC 5322 message text.
 *
 * Pure C11 (see mail.h).  The message is built in the caller's buffer; a
 * value that could break out of its header or line (CR, LF, any control
 * character, anything outside ASCII) makes the whole message refused,
 * rather than silently cleaned, so that a bad row is noticed.
 *
 *-------------------------------------------------------------------------
 */
#include "ascii.h"
#include "mail.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define SP_MAIL_LOCAL_MAX	64
#define SP_MAIL_DOMAIN_MAX	253
#define SP_MAIL_LABEL_MAX	63

/* The message being written into the caller's buffer. */
typedef struct mail_out
{
	char	   *buf;
	size_t		size;
	size_t		len;
	bool		overflow;
} mail_out;

/*
 * RFC 5322 atext without its two quote characters: letters, digits and
 * !#$%&*+-/=?^_{|}~.  ' and ` are legal but are refused (with ") as quotes,
 * so that an address is never mistaken for quoted text anywhere it goes.
 */
static bool
is_atext(unsigned char c)
{
	return sp_ascii_alpha(c) || sp_ascii_digit(c) ||
		(c != '\0' && strchr("!#$%&*+-/=?^_{|}~", c) != NULL);
}

/* One or more atext runs separated by single dots. */
static bool
dot_atom_valid(const char *s, size_t len)
{
	size_t		i;

	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '.')
		{
			if (s[i + 1] == '.')
				return false;
		}
		else if (!is_atext(c))
			return false;
	}
	return true;
}

/* "localhost", or two or more labels of letters, digits and inner hyphens. */
static bool
domain_valid(const char *s, size_t len)
{
	size_t		start = 0;
	int			labels = 0;
	bool		last_numeric = false;

	if (len == 0 || len > SP_MAIL_DOMAIN_MAX)
		return false;
	if (len == 9)
	{
		static const char localhost[] = "localhost";
		size_t		i;

		for (i = 0; i < 9; i++)
			if ((s[i] | 0x20) != localhost[i])
				break;
		if (i == 9)
			return true;
	}
	while (start <= len)
	{
		size_t		end = start;
		size_t		i;

		while (end < len && s[end] != '.')
			end++;
		if (end == start || end - start > SP_MAIL_LABEL_MAX ||
			s[start] == '-' || s[end - 1] == '-')
			return false;
		last_numeric = true;
		for (i = start; i < end; i++)
		{
			unsigned char c = (unsigned char) s[i];

			if (!sp_ascii_alpha(c) && !sp_ascii_digit(c) && c != '-')
				return false;
			if (!sp_ascii_digit(c))
				last_numeric = false;
		}
		labels++;
		start = end + 1;
	}
	/* a top-level domain is never all digits: "1.2.3.4" is no host name */
	return labels >= 2 && !last_numeric;
}

/* Characters that are refused anywhere in an address, by class. */
typedef struct address_chars
{
	bool		line_break;
	bool		angle;
	bool		comma;
	bool		space;
	bool		quote;
	bool		other;			/* not printable ASCII */
} address_chars;

/* The characters refused anywhere, in the order their reasons are given. */
static const struct
{
	size_t		flag;			/* offset of the address_chars member */
	const char *why;
}			char_rules[] = {
	{offsetof(address_chars, line_break), "it contains a line break (CR or LF)"},
	{offsetof(address_chars, angle),
	"it contains an angle bracket; give the bare address, without a display name"},
	{offsetof(address_chars, comma), "it contains a comma; give one address"},
	{offsetof(address_chars, space), "it contains white space"},
	{offsetof(address_chars, quote), "it contains a quote"},
	{offsetof(address_chars, other), "it contains a character other than printable ASCII"},
};

static void
scan_address_chars(const char *addr, address_chars *c)
{
	memset(c, 0, sizeof(*c));
	for (; *addr; addr++)
	{
		unsigned char ch = (unsigned char) *addr;

		c->line_break |= ch == '\r' || ch == '\n';
		c->angle |= ch == '<' || ch == '>';
		c->comma |= ch == ',';
		c->space |= ch == ' ' || (ch >= '\t' && ch <= '\r');
		c->quote |= ch == '"' || ch == '\'' || ch == '`';
		c->other |= ch < '!' || ch > '~';
	}
}

/*
 * The one address rule, with the reason a user is told: email_problem()
 * in SQL calls this, as do set_alert(), the tables' CHECK constraints and
 * the mailer, so the API accepts exactly what the mailer sends.  The first
 * problem in this order is reported.
 */
const char *
sp_mail_address_problem(const char *addr)
{
	address_chars c;
	const char *at;
	size_t		len;
	size_t		local_len;

	if (addr == NULL)
		return "it is missing";
	scan_address_chars(addr, &c);
	for (size_t i = 0; i < sizeof(char_rules) / sizeof(char_rules[0]); i++)
		if (*(const bool *) ((const char *) &c + char_rules[i].flag))
			return char_rules[i].why;
	len = sp_bounded_len(addr, SP_MAIL_ADDRESS_MAX);
	if (len > SP_MAIL_ADDRESS_MAX)
		return "it is longer than 254 characters";
	at = strchr(addr, '@');
	if (at == NULL || at == addr || at[1] == '\0' || strchr(at + 1, '@') != NULL)
		return "it must contain exactly one \"@\" with text on both sides";
	local_len = (size_t) (at - addr);
	if (local_len > SP_MAIL_LOCAL_MAX)
		return "its local part is longer than 64 characters";
	if (!dot_atom_valid(addr, local_len))
		return "its local part (before \"@\") has a character not allowed, or a misplaced dot";
	if (!domain_valid(at + 1, len - local_len - 1))
		return "its domain (after \"@\") must be DNS labels separated by dots, such as example.com";
	return NULL;
}

bool
sp_mail_address_valid(const char *addr)
{
	return addr != NULL && sp_mail_address_problem(addr) == NULL;
}

/* Whether a and b (n bytes each) are equal, ASCII letters compared caselessly. */
static bool
ascii_caseless_equal(const char *a, const char *b, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		unsigned char ca = (unsigned char) a[i];
		unsigned char cb = (unsigned char) b[i];

		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
		if (ca != cb)
			return false;
	}
	return true;
}

static bool
is_list_separator(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool
sp_name_in_list(const char *name, const char *list, bool *any_entry)
{
	size_t		nlen = strlen(name);
	const char *p = list ? list : "";

	if (any_entry != NULL)
		*any_entry = false;
	/* "example.com." is the same name as "example.com" */
	if (nlen > 0 && name[nlen - 1] == '.')
		nlen--;
	if (nlen == 0)
		return false;
	while (*p)
	{
		const char *entry;
		size_t		elen;

		while (is_list_separator(*p))
			p++;
		entry = p;
		while (*p && !is_list_separator(*p))
			p++;
		elen = (size_t) (p - entry);
		/* ".example.com" and "example.com." mean "example.com" */
		while (elen > 0 && entry[0] == '.')
		{
			entry++;
			elen--;
		}
		while (elen > 0 && entry[elen - 1] == '.')
			elen--;
		if (elen == 0)
			continue;
		if (any_entry != NULL)
			*any_entry = true;

		/*
		 * The name itself, or a subdomain: the entry must start right after
		 * a dot, so that "example.com" does not allow "badexample.com".
		 */
		if (nlen == elen && ascii_caseless_equal(name, entry, elen))
			return true;
		if (nlen > elen && name[nlen - elen - 1] == '.' &&
			ascii_caseless_equal(name + nlen - elen, entry, elen))
			return true;
	}
	return false;
}

bool
sp_mail_domain_allowed(const char *addr, const char *list)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;
	bool		any_entry;
	bool		listed;

	if (at == NULL || at[1] == '\0' || strcmp(at + 1, ".") == 0)
		return false;
	listed = sp_name_in_list(at + 1, list, &any_entry);
	return listed || !any_entry;
}

/* Only bytes 0x20-0x7E: no CR, LF, other control characters or non-ASCII. */
static bool
printable_ascii(const char *s)
{
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c < 0x20 || c > 0x7E)
			return false;
	}
	return true;
}

bool
sp_mail_host_valid(const char *s)
{
	size_t		len;
	size_t		i;

	if (s == NULL)
		return false;
	len = sp_bounded_len(s, SP_MAIL_DOMAIN_MAX);
	if (len == 0 || len > SP_MAIL_DOMAIN_MAX || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '.' ? s[i + 1] == '.' : !(sp_ascii_alpha(c) || sp_ascii_digit(c) || c == '-'))
			return false;
	}
	return true;
}

/*
 * Check one value: present when required, printable ASCII when present.
 * Returns false with a text in err.
 */
static bool
value_ok(const char *name, const char *value, bool required, char *err)
{
	if (value == NULL || value[0] == '\0')
	{
		if (!required)
			return true;
		snprintf(err, SP_MAIL_ERR_MAX, "%s is missing", name);
		return false;
	}
	if (!printable_ascii(value))
	{
		snprintf(err, SP_MAIL_ERR_MAX,
				 "%s contains a control character (such as CR or LF) or a non-ASCII byte",
				 name);
		return false;
	}
	return true;
}

static void put(mail_out *o, const char *fmt,...) __attribute__((format(printf, 2, 3)));

/* Append formatted text; remember if it did not fit. */
static void
put(mail_out *o, const char *fmt,...)
{
	va_list		ap;
	int			n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= o->size - o->len)
	{
		o->overflow = true;
		return;
	}
	o->len += (size_t) n;
}

void
sp_alert_key(int64_t rule_id, int64_t quote_us, int64_t event_id, char *buf, size_t size)
{
	if (rule_id > 0)
		snprintf(buf, size, "%" PRId64 "-%" PRId64, rule_id, quote_us);
	else
		snprintf(buf, size, "e%" PRId64, event_id);
}

/* Whether every field of a can go into the message; err says why not. */
static bool
alert_ok(const sp_mail_alert *a, char *err)
{
	if (!value_ok("sender address", a->from, true, err) ||
		!value_ok("recipient address", a->to, true, err) ||
		!value_ok("date", a->date, true, err) ||
		!value_ok("host name", a->host, true, err) ||
		!value_ok("symbol", a->symbol, true, err) ||
		!value_ok("condition", a->condition, true, err) ||
		!value_ok("threshold", a->threshold, false, err) ||
		!value_ok("price", a->price, true, err) ||
		!value_ok("quote time", a->quote_time, true, err) ||
		!value_ok("time zone", a->time_zone, false, err) ||
		!value_ok("previous close", a->prev_close, false, err) ||
		!value_ok("change", a->change, false, err) ||
		!value_ok("change percentage", a->change_pct, false, err))
		return false;
	if (!sp_mail_address_valid(a->from))
		snprintf(err, SP_MAIL_ERR_MAX, "sender address is not a valid e-mail address");
	else if (!sp_mail_address_valid(a->to))
		snprintf(err, SP_MAIL_ERR_MAX, "recipient address is not a valid e-mail address");
	else if (!sp_mail_host_valid(a->host))
		snprintf(err, SP_MAIL_ERR_MAX,
				 "host name must be letters, digits, hyphens and inner dots");
	else if (a->event_id <= 0)
		snprintf(err, SP_MAIL_ERR_MAX, "event id must be positive");
	else
		return true;
	return false;
}

static bool
given(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/*
 * The header.  The Message-ID is the alert's key (sp_alert_key): the same
 * for every attempt at one event, and for the same crossing mailed again by
 * a promoted standby.
 */
static void
put_headers(mail_out *o, const sp_mail_alert *a)
{
	char		key[SP_ALERT_KEY_MAX];

	put(o, "Date: %s\r\n", a->date);
	put(o, "From: %s\r\n", a->from);
	put(o, "To: %s\r\n", a->to);
	if (given(a->threshold))
		put(o, "Subject: [stockpipe] %s %s %s: %s\r\n",
			a->symbol, a->condition, a->threshold, a->price);
	else
		put(o, "Subject: [stockpipe] %s %s: %s\r\n",
			a->symbol, a->condition, a->price);
	sp_alert_key(a->rule_id, a->quote_us, a->event_id, key, sizeof(key));
	put(o, "Message-ID: <alert-%s@stockpipe.%s>\r\n", key, a->host);
	put(o, "MIME-Version: 1.0\r\n");
	put(o, "Content-Type: text/plain; charset=UTF-8\r\n");
	put(o, "Content-Transfer-Encoding: 8bit\r\n");
	put(o, "Auto-Submitted: auto-generated\r\n");
	put(o, "\r\n");
}

static void
put_body(mail_out *o, const sp_mail_alert *a)
{
	put(o, "Price alert for %s: %s", a->symbol, a->condition);
	if (given(a->threshold))
		put(o, " %s", a->threshold);
	put(o, "\r\n\r\n");
	put(o, "Symbol:      %s\r\n", a->symbol);
	put(o, "Condition:   %s\r\n", a->condition);
	if (given(a->threshold))
		put(o, "Threshold:   %s\r\n", a->threshold);
	put(o, "Price:       %s\r\n", a->price);
	if (given(a->time_zone))
		put(o, "Quote time:  %s (%s)\r\n", a->quote_time, a->time_zone);
	else
		put(o, "Quote time:  %s\r\n", a->quote_time);
	if (given(a->prev_close) && given(a->change) && given(a->change_pct))
		put(o, "Day change:  %s (%s%%) from the previous close of %s\r\n",
			a->change, a->change_pct, a->prev_close);
	else
		put(o, "Day change:  unknown (no previous close)\r\n");
	put(o, "\r\n");
	put(o, "-- \r\n");
	if (a->rule_id > 0)
		put(o, "stockpipe alert rule %" PRId64 ", event %" PRId64 ". ", a->rule_id, a->event_id);
	else
		put(o, "stockpipe alert event %" PRId64 ". ", a->event_id);
	put(o, "Sent once each time the condition becomes true;\r\n");
	put(o, "manage rules with stockpipe.enable_alert() and stockpipe.drop_alert().\r\n");
}

/* Whether every line of text (len bytes) fits in SP_MAIL_LINE_MAX. */
static bool
lines_fit(const char *text, size_t len)
{
	size_t		start = 0;
	size_t		i;

	for (i = 0; i + 1 < len; i++)
	{
		if (text[i] == '\r' && text[i + 1] == '\n')
		{
			if (i - start > SP_MAIL_LINE_MAX)
				return false;
			start = i + 2;
		}
	}
	return len - start <= SP_MAIL_LINE_MAX;
}

bool
sp_mail_compose(const sp_mail_alert *a, char *buf, size_t size, size_t *len,
				char *err)
{
	mail_out	o = {.buf = buf,.size = size,.len = 0,.overflow = false};

	if (size > 0)
		buf[0] = '\0';
	*len = 0;
	if (!alert_ok(a, err))
		return false;
	put_headers(&o, a);
	put_body(&o, a);
	if (o.overflow)
	{
		snprintf(err, SP_MAIL_ERR_MAX, "message would be longer than %zu bytes",
				 size > 0 ? size - 1 : 0);
		if (size > 0)
			buf[0] = '\0';
		return false;
	}
	if (!lines_fit(buf, o.len))
	{
		snprintf(err, SP_MAIL_ERR_MAX, "a line would be longer than %d characters",
				 SP_MAIL_LINE_MAX);
		buf[0] = '\0';
		return false;
	}
	*len = o.len;
	return true;
}
