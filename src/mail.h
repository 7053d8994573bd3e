/*-------------------------------------------------------------------------
 *
 * mail.h
 *	  Alert e-mails (issue 4): validation of e-mail addresses, the
 *	  domain allow-list, and the RFC 5322 text of one alert message.
 *
 * Pure C11, no PostgreSQL and no I/O, so that the mailer worker and the
 * unit tests share one implementation.  The caller formats every value
 * (numbers, the Date header, the quote time in the market's time zone):
 * nothing here reads a clock or a setting.
 *
 * No header injection is possible: the composer refuses a message whose
 * addresses are not valid or whose values hold anything but printable
 * ASCII (so no CR or LF), and every line it writes fits in 998 characters.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STOCKPIPE_MAIL_H
#define STOCKPIPE_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest address accepted (RFC 5321's path limit less the brackets). */
#define SP_MAIL_ADDRESS_MAX 254
/* Longest line of a message, CRLF excluded (RFC 5322 section 2.1.1). */
#define SP_MAIL_LINE_MAX	998
/* Size of a buffer that always holds a composed message. */
#define SP_MAIL_MAX			16384
/* Size of the error text buffer; texts are one line, lower-case start. */
#define SP_MAIL_ERR_MAX		128

/* One alert event, every value already formatted by the caller. */
typedef struct sp_mail_alert
{
	int64_t		event_id;		/* this server's id of the event */
	int64_t		rule_id;		/* 0 when the rule no longer exists */
	int64_t		quote_us;		/* the crossing quote's ts, microseconds since 1970 */
	const char *from;			/* addr-spec, checked by sp_mail_address_valid */
	const char *to;				/* addr-spec, likewise */
	const char *date;			/* e.g. "Sat, 28 Nov 2026 07:30:01 +0000" */
	const char *host;			/* the Message-ID's domain, after "stockpipe.": the
								 * cluster's system identifier, the same on a
								 * primary and its standbys; letters, digits,
								 * '.', '-' */
	const char *symbol;			/* "AAPL" */
	const char *condition;		/* "price_above" */
	const char *threshold;		/* "190"; NULL when the condition has none */
	const char *price;			/* "190.25" */
	const char *quote_time;		/* "2026-11-27 14:30:01 EST" */
	const char *time_zone;		/* "America/New_York"; NULL to leave out */
	const char *prev_close;		/* "188"; NULL when unknown */
	const char *change;			/* "+2.25"; NULL when unknown */
	const char *change_pct;		/* "+1.20", without "%"; NULL when unknown */
} sp_mail_alert;

/*
 * Whether addr is an address we send to or from: ASCII, at most
 * SP_MAIL_ADDRESS_MAX characters, local-part@domain with exactly one "@";
 * the local part (1-64 characters) is dot-separated RFC 5322 atext without
 * ' and ` (no quoted strings, so no space, comma, quote, "<", ">" or control
 * character); the domain is "localhost" or two or more dot-separated
 * labels of letters, digits and inner hyphens, 1-63 characters each, the
 * last not all digits.  sp_mail_address_problem() says why an address is
 * not, in words for the user (NULL when it is).
 */
extern bool sp_mail_address_valid(const char *addr);
extern const char *sp_mail_address_problem(const char *addr);

/*
 * Whether the domain of addr (what follows its last "@") is allowed by
 * list, the value of stockpipe.mail_allowed_domains: domain names
 * separated by commas or white space.  A domain allows itself and its
 * subdomains: "example.com" allows a@example.com and a@mx.EXAMPLE.com but
 * not a@badexample.com.  Case is ignored, as is a leading or trailing dot
 * of an entry.  A list without any name (NULL, "", only separators)
 * allows every domain; an address without "@" or with an empty domain is
 * never allowed.  Reads list and addr only up to their terminating NUL.
 */
extern bool sp_mail_domain_allowed(const char *addr, const char *list);

/*
 * The list rule both allow-lists share (mail_allowed_domains,
 * webhook_allowed_hosts): whether NAME (a host or domain, one trailing dot
 * ignored) is an entry of LIST or a subdomain of one.  *ANY_ENTRY (if not
 * NULL) says whether LIST names anything at all.
 */
extern bool sp_name_in_list(const char *name, const char *list, bool *any_entry);

/*
 * Whether host can follow "stockpipe." in a Message-ID: 1-253 letters,
 * digits, hyphens and inner single dots.
 */
extern bool sp_mail_host_valid(const char *host);

/*
 * The identity of an alert, the same whichever server found it: the rule
 * and the time of the quote that crossed ("17-1764700000123456"), since
 * check_alerts() finds the same crossings at the same quotes on any server
 * that holds the same quotes.  Without the rule (dropped since), this
 * server's event id ("e42").  The e-mail's Message-ID and the webhook's
 * Idempotency-Key are made of it, so that a crossing sent by an old
 * primary and again by its promoted standby is one message to the
 * receiver.  SP_ALERT_KEY_MAX bytes always suffice.
 */
#define SP_ALERT_KEY_MAX	48
extern void sp_alert_key(int64_t rule_id, int64_t quote_us, int64_t event_id,
						 char *buf, size_t size);

/*
 * Compose the message for alert a into buf (size bytes): headers Date,
 * From, To, Subject, Message-ID, MIME-Version, Content-Type,
 * Content-Transfer-Encoding and Auto-Submitted, an empty line and a plain
 * text body, every line ended by CRLF.  On success stores the length in
 * *len (buf is also NUL-terminated) and returns true.  Returns false, with
 * a one-line reason in err (SP_MAIL_ERR_MAX bytes), if an address is not
 * valid, a required value is missing, a value holds a character other
 * than printable ASCII, a line would exceed SP_MAIL_LINE_MAX or the
 * message would not fit in buf.
 */
extern bool sp_mail_compose(const sp_mail_alert *a, char *buf, size_t size,
							size_t *len, char *err);

#endif							/* STOCKPIPE_MAIL_H */
