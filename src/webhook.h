/*-------------------------------------------------------------------------
 *
 * webhook.h
 *	  Alert webhooks (issue 12): the rule for channel URLs, the host
 *	  allow-list, which addresses count as public, and the JSON bodies of
 *	  the three channel kinds (generic, Slack, Microsoft Teams).
 *
 * Pure C11, no PostgreSQL and no I/O, like mail.h: the mailer worker, the
 * SQL API (through mail_sql.c), the unit tests and the fuzz harness share
 * one implementation.  The caller formats every value; nothing here reads
 * a clock or a setting.
 *
 * Every body is JSON (RFC 8259) whatever the strings hold: '"', '\' and
 * control characters are escaped, and so are '<', '>' and '&' (as \u003c,
 * \u003e, \u0026), so that no value can close an HTML or script context
 * of a receiver that shows the raw body.  A value that is not valid UTF-8,
 * or a number that is not a JSON number, makes the body refused, not
 * silently cleaned.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STOCKPIPE_WEBHOOK_H
#define STOCKPIPE_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mail.h"

/* Longest channel URL accepted, in bytes. */
#define SP_WEBHOOK_URL_MAX	2048
/* Longest host name (DNS). */
#define SP_WEBHOOK_HOST_MAX 253
/* Size of a buffer that always holds a body made of bounded values. */
#define SP_WEBHOOK_MAX		8192
/* Size of the error text buffer; texts are one line, lower-case start. */
#define SP_WEBHOOK_ERR_MAX	128

typedef enum sp_webhook_kind
{
	SP_WEBHOOK_GENERIC,			/* "webhook": the event as a JSON object */
	SP_WEBHOOK_SLACK,			/* "slack": {"text": ...} in Slack mrkdwn */
	SP_WEBHOOK_TEAMS			/* "teams": a message with an Adaptive Card */
} sp_webhook_kind;

/* One delivery of an alert event, every value already formatted. */
typedef struct sp_webhook_alert
{
	int64_t		event_id;		/* this server's id of the event */
	int64_t		rule_id;		/* 0 when the rule no longer exists */
	int64_t		quote_us;		/* the crossing quote's ts, microseconds since 1970 */
	int64_t		channel_id;		/* with the alert's key, the idempotency key */
	const char *symbol;			/* "AAPL" */
	const char *condition;		/* "price_above" */
	const char *threshold;		/* JSON number "190"; NULL when none */
	const char *price;			/* JSON number "190.25" */
	const char *quote_time;		/* RFC 3339 in UTC, "2026-11-27T19:30:02Z" */
	const char *local_time;		/* for people, "2026-11-27 14:30:02 EST"; NULL: quote_time */
	const char *time_zone;		/* "America/New_York"; NULL to leave out */
	const char *prev_close;		/* JSON number; NULL when unknown */
	const char *change;			/* JSON number "2.25"; NULL when unknown */
	const char *change_pct;		/* JSON number "1.2"; NULL when unknown */
} sp_webhook_alert;

/*
 * The kind named by a channel's kind column ("webhook", "slack",
 * "teams"); false for any other name.
 */
extern bool sp_webhook_kind_parse(const char *name, sp_webhook_kind *kind);

/*
 * Why a channel URL is refused, in words for the user, or NULL when it is
 * accepted.  Accepted: at most SP_WEBHOOK_URL_MAX bytes of printable ASCII
 * without space, '"', '<', '>', '\', '^', '`', '{', '|', '}' or '#';
 * "https://" or "http://" (lower case), then a host: a DNS name (labels of
 * letters, digits and inner hyphens, the last label not all digits), a
 * dotted IPv4 address or "[::1]"; no user name or password ("@" before
 * the path); an optional port 1-65535; then nothing, or a path or query
 * starting with "/" or "?".  http:// only to a loopback host (localhost,
 * 127.0.0.0/8, [::1]): elsewhere the URL, which is the secret, would cross
 * the network in clear text.  The reason never quotes the URL.
 */
extern const char *sp_webhook_url_problem(const char *url);

/*
 * The host of an accepted URL (lower case, without brackets or port) into
 * buf (size bytes); false when the URL is not accepted or buf too small.
 */
extern bool sp_webhook_url_host(const char *url, char *buf, size_t size);

/*
 * Whether host is a loopback or private literal that needs an explicit
 * entry in stockpipe.webhook_allowed_hosts: "localhost" (and its
 * subdomains), "[::1]"/"::1", or an IPv4 literal that
 * sp_webhook_ipv4_public() does not call public.
 */
extern bool sp_webhook_host_private(const char *host);

/*
 * Whether host is in list, the value of stockpipe.webhook_allowed_hosts:
 * names or IPv4 addresses separated by commas or white space.  A name
 * allows itself and its subdomains ("slack.com" allows hooks.slack.com,
 * not badslack.com); case is ignored.  A list without any entry allows
 * nothing: the caller decides what an empty list means.
 */
extern bool sp_webhook_host_listed(const char *host, const char *list);

/*
 * Whether stockpipe.webhook_allowed_hosts (list) lets webhooks go to the
 * host of url: with entries in the list, when the host is listed; with
 * none, when the host is not a private literal (sp_webhook_host_private).
 * NULL when it may, else why not into why (size bytes), quoting the host
 * (never the rest of the URL).
 */
extern const char *sp_webhook_host_problem(const char *url, const char *list,
										   char *why, size_t size);

/*
 * Whether an address (4 bytes of IPv4 or 16 of IPv6, network order) is
 * public, i.e. not: unspecified, loopback, private (10/8, 172.16/12,
 * 192.168/16, fc00::/7), carrier-grade NAT (100.64/10), link-local
 * (169.254/16 — cloud metadata services live there —, fe80::/10),
 * benchmarking (198.18/15), documentation, multicast, reserved
 * (0/8, 240/4), or an IPv4-mapped/compatible IPv6 form of one of those.
 */
extern bool sp_webhook_ipv4_public(const unsigned char addr[4]);
extern bool sp_webhook_ipv6_public(const unsigned char addr[16]);

/*
 * Whether s is a JSON number (RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?).
 */
extern bool sp_webhook_json_number(const char *s);

/*
 * The body for alert a on a channel of kind into buf (size bytes), NUL
 * terminated, its length in *len.  False, with a one-line reason in err
 * (SP_WEBHOOK_ERR_MAX bytes) and an empty buf, when a required value is
 * missing (symbol, condition, price, quote_time), a number is not a JSON
 * number, a string is not valid UTF-8, or the body would not fit.
 *
 *	 generic: {"event_id":1,"rule_id":2,"symbol":"AAPL","condition":"price_above",
 *			   "threshold":190,"price":190.25,"quote_time":"...","prev_close":188,
 *			   "change":2.25,"change_pct":1.2,"text":"...","idempotency_key":"stockpipe-1-3"}
 *			  (rule_id, threshold, prev_close, change, change_pct null when unknown)
 *	 slack:	  {"text":"..."} with &, < and > written &amp; &lt; &gt; (mrkdwn)
 *	 teams:	  {"type":"message","attachments":[{"contentType":
 *			   "application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard",
 *			   ...,"body":[two TextBlocks]}}]}, what both Teams incoming webhooks
 *			   (connectors) and Workflows webhooks accept
 */
extern bool sp_webhook_body(sp_webhook_kind kind, const sp_webhook_alert *a,
							char *buf, size_t size, size_t *len, char *err);

/*
 * The idempotency key of a delivery: "stockpipe-KEY-CHANNEL", KEY the
 * alert's (sp_alert_key in mail.h), so that the same crossing posted again
 * by a promoted standby carries the same key.
 */
#define SP_WEBHOOK_KEY_MAX	(SP_ALERT_KEY_MAX + 32)
extern void sp_webhook_idempotency_key(const sp_webhook_alert *a, char *buf, size_t size);

#endif							/* STOCKPIPE_WEBHOOK_H */
