/*-------------------------------------------------------------------------
 *
 * webhook.c
 *	  Alert webhooks: channel URLs, the host allow-list, public addresses
 *	  and the JSON bodies (see webhook.h).
 *
 * Pure C11.  The URL grammar is deliberately narrower than RFC 3986, so
 * that this file and libcurl cannot read one URL as two different hosts:
 * no user info, no IPv6 but [::1], IPv4 only in canonical dotted form, no
 * name that looks like a number.
 *
 *-------------------------------------------------------------------------
 */
#include "webhook.h"

#include "ascii.h"
#include "mail.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define SP_WEBHOOK_LABEL_MAX 63

/* Whether a and b (n bytes each) are equal, ASCII letters compared caselessly. */
static bool
caseless_equal(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sp_ascii_lower((unsigned char) a[i]) != sp_ascii_lower((unsigned char) b[i]))
			return false;
	return true;
}

bool
sp_webhook_kind_parse(const char *name, sp_webhook_kind *kind)
{
	if (name == NULL)
		return false;
	if (strcmp(name, "webhook") == 0)
		*kind = SP_WEBHOOK_GENERIC;
	else if (strcmp(name, "slack") == 0)
		*kind = SP_WEBHOOK_SLACK;
	else if (strcmp(name, "teams") == 0)
		*kind = SP_WEBHOOK_TEAMS;
	else
		return false;
	return true;
}

/* ---------------------------------------------------------------- */
/*	URLs and hosts													*/
/* ---------------------------------------------------------------- */

/* Canonical dotted IPv4 of exactly len bytes into out; no leading zeros. */
static bool
parse_ipv4(const char *s, size_t len, unsigned char out[4])
{
	size_t		i = 0;

	for (int part = 0; part < 4; part++)
	{
		unsigned	value = 0;
		size_t		start = i;

		if (part > 0)
		{
			if (i >= len || s[i] != '.')
				return false;
			start = ++i;
		}
		while (i < len && sp_ascii_digit((unsigned char) s[i]) && i - start < 3)
			value = value * 10 + (unsigned) (s[i++] - '0');
		if (i == start || value > 255 || (s[start] == '0' && i - start > 1))
			return false;
		out[part] = (unsigned char) value;
	}
	return i == len;
}

/*
 * A DNS name of len bytes: labels of letters, digits and inner hyphens,
 * 1-63 bytes each, at most 253 in all; two labels or more, or
 * "localhost"; the last label neither all digits nor "0x" and hex digits
 * (which resolvers and URL parsers read as numeric addresses).
 */
static bool
dns_name_valid(const char *s, size_t len)
{
	size_t		start = 0;
	size_t		labels = 0;
	bool		numeric = false;

	if (len == 0 || len > SP_WEBHOOK_HOST_MAX)
		return false;
	if (len == 9 && caseless_equal(s, "localhost", 9))
		return true;
	while (start <= len)
	{
		size_t		end = start;
		bool		all_digits = true;

		while (end < len && s[end] != '.')
		{
			unsigned char c = (unsigned char) s[end];

			if (!sp_ascii_alpha(c) && !sp_ascii_digit(c) && c != '-')
				return false;
			all_digits = all_digits && sp_ascii_digit(c);
			end++;
		}
		if (end == start || end - start > SP_WEBHOOK_LABEL_MAX ||
			s[start] == '-' || s[end - 1] == '-')
			return false;
		numeric = all_digits;
		if (!numeric && end - start > 2 && s[start] == '0' && sp_ascii_lower((unsigned char) s[start + 1]) == 'x')
		{
			numeric = true;
			for (size_t i = start + 2; i < end; i++)
				numeric = numeric && sp_ascii_hex((unsigned char) s[i]);
		}
		labels++;
		start = end + 1;
	}
	return labels >= 2 && !numeric;
}

/* The parts of an accepted URL. */
typedef struct url_parts
{
	bool		https;
	const char *host;			/* without brackets */
	size_t		host_len;
} url_parts;

/* Characters refused anywhere in a URL, beyond controls, space and non-ASCII. */
static const char url_refused[] = "\"<>\\^`{|}#";

static const char *
url_parse(const char *url, url_parts *p)
{
	size_t		len;
	const char *rest;
	const char *auth_end;
	const char *port = NULL;
	unsigned char ip[4];

	if (url == NULL)
		return "it is missing";
	len = sp_bounded_len(url, SP_WEBHOOK_URL_MAX);
	if (len > SP_WEBHOOK_URL_MAX)
		return "it is longer than 2048 bytes";
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) url[i];

		if (c <= ' ' || c > '~')
			return "it contains white space, a control character or a character outside ASCII";
		if (strchr(url_refused, c) != NULL)
			return "it contains a character not allowed in a URL (one of \" < > \\ ^ ` { | } #)";
	}
	if (strncmp(url, "https://", 8) == 0)
	{
		p->https = true;
		rest = url + 8;
	}
	else if (strncmp(url, "http://", 7) == 0)
	{
		p->https = false;
		rest = url + 7;
	}
	else
		return "it must start with https:// (or http:// to a loopback host)";

	auth_end = rest + strcspn(rest, "/?");
	if (memchr(rest, '@', (size_t) (auth_end - rest)) != NULL)
		return "it must not contain a user name or password (\"@\" before the path)";
	if (rest[0] == '[')
	{
		if (auth_end - rest < 5 || strncmp(rest, "[::1]", 5) != 0)
			return "its host may be an IPv6 address only as [::1]";
		p->host = rest + 1;
		p->host_len = 3;
		if (rest + 5 < auth_end)
		{
			if (rest[5] != ':')
				return "its host may be an IPv6 address only as [::1]";
			port = rest + 6;
		}
	}
	else
	{
		const char *colon = memchr(rest, ':', (size_t) (auth_end - rest));

		p->host = rest;
		p->host_len = (size_t) ((colon ? colon : auth_end) - rest);
		if (colon)
			port = colon + 1;
		if (p->host_len == 0)
			return "it has no host";
		if (strspn(rest, "0123456789.") >= p->host_len)
		{
			if (!parse_ipv4(p->host, p->host_len, ip))
				return "its host is not a valid IPv4 address (four numbers 0-255 without leading zeros)";
		}
		else if (!dns_name_valid(p->host, p->host_len))
			return "its host must be a DNS name of two labels or more (such as hooks.example.com), localhost or an IPv4 address";
	}
	if (port)
	{
		long		value = 0;
		const char *q;

		for (q = port; q < auth_end && sp_ascii_digit((unsigned char) *q) && q - port < 5; q++)
			value = value * 10 + (*q - '0');
		if (q == port || q != auth_end || value < 1 || value > 65535)
			return "its port must be a number from 1 to 65535";
	}
	if (!p->https)
	{
		bool		loopback = false;

		if (p->host_len == 3 && strncmp(p->host, "::1", 3) == 0)
			loopback = true;
		else if (p->host_len == 9 && caseless_equal(p->host, "localhost", 9))
			loopback = true;
		else if (parse_ipv4(p->host, p->host_len, ip))
			loopback = ip[0] == 127;
		if (!loopback)
			return "http:// is allowed only to a loopback host (localhost, 127.0.0.1, [::1]): use https://";
	}
	return NULL;
}

const char *
sp_webhook_url_problem(const char *url)
{
	url_parts	p;

	return url_parse(url, &p);
}

bool
sp_webhook_url_host(const char *url, char *buf, size_t size)
{
	url_parts	p;

	if (url_parse(url, &p) != NULL || p.host_len + 1 > size)
		return false;
	for (size_t i = 0; i < p.host_len; i++)
		buf[i] = (char) sp_ascii_lower((unsigned char) p.host[i]);
	buf[p.host_len] = '\0';
	return true;
}

bool
sp_webhook_host_private(const char *host)
{
	size_t		len;
	unsigned char ip[4];

	if (host == NULL)
		return true;
	len = strlen(host);
	if (strcmp(host, "::1") == 0 || strcmp(host, "[::1]") == 0)
		return true;
	if ((len == 9 && caseless_equal(host, "localhost", 9)) ||
		(len > 10 && caseless_equal(host + len - 10, ".localhost", 10)))
		return true;
	if (parse_ipv4(host, len, ip))
		return !sp_webhook_ipv4_public(ip);
	return false;
}

bool
sp_webhook_host_listed(const char *host, const char *list)
{
	return host != NULL && list != NULL && sp_name_in_list(host, list, NULL);
}

const char *
sp_webhook_host_problem(const char *url, const char *list, char *why, size_t size)
{
	char		host[SP_WEBHOOK_HOST_MAX + 1];
	bool		any_entry;

	if (!sp_webhook_url_host(url, host, sizeof(host)))
		snprintf(why, size, "The URL is not valid.");
	else if (sp_name_in_list(host, list, &any_entry))
		return NULL;
	else if (any_entry)
		snprintf(why, size, "Its host \"%s\" is not in stockpipe.webhook_allowed_hosts.", host);
	else if (sp_webhook_host_private(host))
		snprintf(why, size, "Its host \"%s\" is a loopback or private address, which only an entry "
				 "in stockpipe.webhook_allowed_hosts allows.", host);
	else
		return NULL;
	return why;
}

bool
sp_webhook_ipv4_public(const unsigned char a[4])
{
	if (a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224)
		return false;			/* this network, private, loopback, multicast, reserved */
	if (a[0] == 100 && (a[1] & 0xC0) == 64)
		return false;			/* carrier-grade NAT 100.64/10 */
	if (a[0] == 169 && a[1] == 254)
		return false;			/* link-local, cloud metadata */
	if (a[0] == 172 && (a[1] & 0xF0) == 16)
		return false;			/* private 172.16/12 */
	if (a[0] == 192 && a[1] == 168)
		return false;			/* private 192.168/16 */
	if (a[0] == 192 && a[1] == 0 && (a[2] == 0 || a[2] == 2))
		return false;			/* IETF protocol assignments, TEST-NET-1 */
	if (a[0] == 198 && (a[1] & 0xFE) == 18)
		return false;			/* benchmarking 198.18/15 */
	if (a[0] == 198 && a[1] == 51 && a[2] == 100)
		return false;			/* TEST-NET-2 */
	if (a[0] == 203 && a[1] == 0 && a[2] == 113)
		return false;			/* TEST-NET-3 */
	return true;
}

bool
sp_webhook_ipv6_public(const unsigned char a[16])
{
	static const unsigned char zero[12] = {0};
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
	static const unsigned char nat64[12] = {0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0};

	/* ::/96 (unspecified, loopback, IPv4-compatible), mapped, NAT64 */
	if (memcmp(a, zero, 12) == 0 || memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
		return sp_webhook_ipv4_public(a + 12);
	if ((a[0] & 0xFE) == 0xFC)
		return false;			/* unique local fc00::/7 */
	if (a[0] == 0xFE && (a[1] & 0x80) == 0x80)
		return false;			/* link-local fe80::/10, site-local fec0::/10 */
	if (a[0] == 0xFF)
		return false;			/* multicast */
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0D && a[3] == 0xB8)
		return false;			/* documentation 2001:db8::/32 */
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0)
		return false;			/* Teredo 2001::/32 */
	if (a[0] == 0x20 && a[1] == 0x02)
		return sp_webhook_ipv4_public(a + 2);	/* 6to4 2002::/16 */
	if (a[0] == 0x01 && a[1] == 0 && memcmp(a + 2, zero, 6) == 0)
		return false;			/* discard 100::/64 */
	return true;
}

/* ---------------------------------------------------------------- */
/*	JSON															*/
/* ---------------------------------------------------------------- */

bool
sp_webhook_json_number(const char *s)
{
	if (s == NULL)
		return false;
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (sp_ascii_digit((unsigned char) *s))
			s++;
	else
		return false;
	if (*s == '.')
	{
		s++;
		if (!sp_ascii_digit((unsigned char) *s))
			return false;
		while (sp_ascii_digit((unsigned char) *s))
			s++;
	}
	if (*s == 'e' || *s == 'E')
	{
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!sp_ascii_digit((unsigned char) *s))
			return false;
		while (sp_ascii_digit((unsigned char) *s))
			s++;
	}
	return *s == '\0';
}

/* Length of the valid UTF-8 sequence at s, or 0 if there is none. */
static size_t
utf8_sequence(const unsigned char *s)
{
	unsigned	cp;
	size_t		n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
	{
		n = 2;
		cp = s[0] & 0x1F;
	}
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
	{
		n = 3;
		cp = s[0] & 0x0F;
	}
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
	{
		n = 4;
		cp = s[0] & 0x07;
	}
	else
		return 0;
	for (size_t i = 1; i < n; i++)
	{
		if ((s[i] & 0xC0) != 0x80)
			return 0;			/* also stops at the terminating NUL */
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		(cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

static bool
utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	while (*p)
	{
		size_t		n = utf8_sequence(p);

		if (n == 0)
			return false;
		p += n;
	}
	return true;
}

/* The body being written into the caller's buffer. */
typedef struct out
{
	char	   *buf;
	size_t		size;
	size_t		len;
	bool		overflow;
	const char *problem;		/* first value refused, NULL if none */
} out;

static void
put_bytes(out *o, const char *s, size_t n)
{
	if (o->overflow || o->len + n + 1 > o->size)
	{
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void
put(out *o, const char *s)
{
	put_bytes(o, s, strlen(s));
}

static void
putf_int(out *o, int64_t v)
{
	char		num[24];

	snprintf(num, sizeof(num), "%" PRId64, v);
	put(o, num);
}

/*
 * s as the inside of a JSON string.  With mrkdwn, &, < and > become
 * Slack's &amp; &lt; &gt; first (then JSON-escaped like any text).
 */
static void
put_escaped(out *o, const char *s, bool mrkdwn)
{
	const unsigned char *p = (const unsigned char *) s;

	while (*p)
	{
		size_t		n = utf8_sequence(p);
		char		esc[8];

		if (n == 0)
		{
			if (!o->problem)
				o->problem = "a value is not valid UTF-8";
			return;
		}
		if (n > 1)
		{
			put_bytes(o, (const char *) p, n);
			p += n;
			continue;
		}
		if (mrkdwn && *p == '&')
			put(o, "\\u0026amp;");
		else if (mrkdwn && *p == '<')
			put(o, "\\u0026lt;");
		else if (mrkdwn && *p == '>')
			put(o, "\\u0026gt;");
		else if (*p == '"')
			put(o, "\\\"");
		else if (*p == '\\')
			put(o, "\\\\");
		else if (*p < 0x20 || *p == 0x7F || *p == '<' || *p == '>' || *p == '&')
		{
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			put(o, esc);
		}
		else
			put_bytes(o, (const char *) p, 1);
		p++;
	}
}

static void
put_string(out *o, const char *s, bool mrkdwn)
{
	put(o, "\"");
	put_escaped(o, s, mrkdwn);
	put(o, "\"");
}

/* A JSON number, or null for NULL; a string that is no number is refused. */
static void
put_number(out *o, const char *s)
{
	if (s == NULL)
		put(o, "null");
	else if (sp_webhook_json_number(s))
		put(o, s);
	else
	{
		put(o, "null");
		if (!o->problem)
			o->problem = "a number is not a JSON number";
	}
}

/* A number for people: "+" in front of a positive change. */
static void
put_signed(out *o, const char *s)
{
	if (s[0] != '-')
		put(o, "+");
	put(o, s);
}

/* The one-line title: "stockpipe alert: AAPL price_above 190". */
static void
put_title(out *o, const sp_webhook_alert *a)
{
	put(o, "stockpipe alert: ");
	put(o, a->symbol);
	put(o, " ");
	put(o, a->condition);
	if (a->threshold)
	{
		put(o, " ");
		put(o, a->threshold);
	}
}

/*
 * The sentence for people: "Price 190.25 at 2026-11-27 14:30:02 EST
 * (America/New_York); previous close 188, change +2.25 (+1.2%).  Event 17,
 * rule 4."
 */
static void
put_details(out *o, const sp_webhook_alert *a)
{
	put(o, "Price ");
	put(o, a->price);
	put(o, " at ");
	put(o, a->local_time ? a->local_time : a->quote_time);
	if (a->time_zone)
	{
		put(o, " (");
		put(o, a->time_zone);
		put(o, ")");
	}
	if (a->prev_close)
	{
		put(o, "; previous close ");
		put(o, a->prev_close);
		if (a->change && a->change_pct)
		{
			put(o, ", change ");
			put_signed(o, a->change);
			put(o, " (");
			put_signed(o, a->change_pct);
			put(o, "%)");
		}
	}
	put(o, ". Event ");
	putf_int(o, a->event_id);
	if (a->rule_id > 0)
	{
		put(o, ", rule ");
		putf_int(o, a->rule_id);
	}
	put(o, ".");
}

void
sp_webhook_idempotency_key(const sp_webhook_alert *a, char *buf, size_t size)
{
	char		key[SP_ALERT_KEY_MAX];

	sp_alert_key(a->rule_id, a->quote_us, a->event_id, key, sizeof(key));
	snprintf(buf, size, "stockpipe-%s-%" PRId64, key, a->channel_id);
}

static void
refuse(char *buf, size_t size, size_t *len, char *err, const char *why)
{
	if (size > 0)
		buf[0] = '\0';
	*len = 0;
	snprintf(err, SP_WEBHOOK_ERR_MAX, "%s", why);
}

bool
sp_webhook_body(sp_webhook_kind kind, const sp_webhook_alert *a,
				char *buf, size_t size, size_t *len, char *err)
{
	out			o = {.buf = buf,.size = size};
	char		title[SP_WEBHOOK_MAX];
	char		details[SP_WEBHOOK_MAX];
	out			t = {.buf = title,.size = sizeof(title)};
	out			d = {.buf = details,.size = sizeof(details)};
	char		key[SP_WEBHOOK_KEY_MAX];

	if (a->symbol == NULL || a->condition == NULL || a->price == NULL || a->quote_time == NULL)
	{
		refuse(buf, size, len, err, "symbol, condition, price and quote time are required");
		return false;
	}
	/* every value is checked, also one a kind's body does not show */
	{
		const char *strs[] = {a->symbol, a->condition, a->quote_time, a->local_time, a->time_zone};

		for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
			if (strs[i] && !utf8_valid(strs[i]))
			{
				refuse(buf, size, len, err, "a value is not valid UTF-8");
				return false;
			}
	}
	title[0] = details[0] = '\0';
	put_title(&t, a);
	put_details(&d, a);
	if (t.overflow || d.overflow)
	{
		refuse(buf, size, len, err, "the alert text is too long");
		return false;
	}

	switch (kind)
	{
		case SP_WEBHOOK_GENERIC:
			sp_webhook_idempotency_key(a, key, sizeof(key));
			put(&o, "{\"event_id\":");
			putf_int(&o, a->event_id);
			put(&o, ",\"rule_id\":");
			if (a->rule_id > 0)
				putf_int(&o, a->rule_id);
			else
				put(&o, "null");
			put(&o, ",\"symbol\":");
			put_string(&o, a->symbol, false);
			put(&o, ",\"condition\":");
			put_string(&o, a->condition, false);
			put(&o, ",\"threshold\":");
			put_number(&o, a->threshold);
			put(&o, ",\"price\":");
			put_number(&o, a->price);
			put(&o, ",\"quote_time\":");
			put_string(&o, a->quote_time, false);
			put(&o, ",\"prev_close\":");
			put_number(&o, a->prev_close);
			put(&o, ",\"change\":");
			put_number(&o, a->change);
			put(&o, ",\"change_pct\":");
			put_number(&o, a->change_pct);
			put(&o, ",\"text\":\"");
			put_escaped(&o, title, false);
			put(&o, ". ");
			put_escaped(&o, details, false);
			put(&o, "\",\"idempotency_key\":");
			put_string(&o, key, false);
			put(&o, "}");
			break;
		case SP_WEBHOOK_SLACK:
			put(&o, "{\"text\":\"*");
			put_escaped(&o, title, true);
			put(&o, "*\\n");
			put_escaped(&o, details, true);
			put(&o, "\"}");
			break;
		case SP_WEBHOOK_TEAMS:
			put(&o, "{\"type\":\"message\",\"attachments\":[{"
				"\"contentType\":\"application/vnd.microsoft.card.adaptive\","
				"\"contentUrl\":null,\"content\":{"
				"\"$schema\":\"http://adaptivecards.io/schemas/adaptive-card.json\","
				"\"type\":\"AdaptiveCard\",\"version\":\"1.2\",\"body\":["
				"{\"type\":\"TextBlock\",\"size\":\"Medium\",\"weight\":\"Bolder\",\"wrap\":true,\"text\":\"");
			put_escaped(&o, title, false);
			put(&o, "\"},{\"type\":\"TextBlock\",\"wrap\":true,\"text\":\"");
			put_escaped(&o, details, false);
			put(&o, "\"}]}}]}");
			break;
		default:
			refuse(buf, size, len, err, "unknown channel kind");
			return false;
	}
	/* numbers are also checked when only the text shows them */
	if (!o.problem)
	{
		const char *nums[] = {a->threshold, a->price, a->prev_close, a->change, a->change_pct};

		for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
			if (nums[i] && !sp_webhook_json_number(nums[i]))
				o.problem = "a number is not a JSON number";
	}
	if (o.problem)
	{
		refuse(buf, size, len, err, o.problem);
		return false;
	}
	if (o.overflow)
	{
		refuse(buf, size, len, err, "the body does not fit in the buffer");
		return false;
	}
	*len = o.len;
	return true;
}
