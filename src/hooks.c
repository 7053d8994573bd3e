/*-------------------------------------------------------------------------
 *
 * hooks.c
 *	  The mailer worker's webhook sender: posts the alert deliveries
 *	  waiting in stockpipe.alert_delivery (issue 12), with libcurl.
 *
 * Webhooks follow the e-mails' pattern (mailer.c) in the same loop, after
 * the e-mails of each round and whatever the SMTP settings: up to
 * SP_HOOK_BATCH due deliveries are claimed, posted one by one outside any
 * transaction, and each outcome recorded right after.  A 2xx answer →
 * 'sent'; 5xx, 408, 429, no answer or a connection failure → retried with
 * the e-mails' back-off; any other answer (4xx, a redirect, which is never
 * followed) → 'failed' with the status and the start of the body.  Each
 * request carries the header Idempotency-Key: stockpipe-KEY-CHANNEL
 * (and the generic body the same key), so that a receiver can drop the
 * repeat a crash between its 2xx and our record may cause.  A round ends
 * after SP_HOOK_FAILURES retryable failures, so that receivers that are
 * down delay the e-mails by a bounded time (5 s connect, 10 s in all, per
 * attempt).
 *
 * The URL is the channel's secret: it is read from the table at claim
 * time, handed to libcurl and zeroed after the round; it is never logged
 * (messages name the channel, its kind and host).  SSRF: the URL must
 * still pass stockpipe.webhook_allowed_hosts, and the address libcurl is
 * about to connect to (after DNS) must be public unless the host is in
 * that list (open_socket_cb); no proxy from the environment is used, and
 * only http and https are spoken.
 *
 * The worker's loop (mailer.c) calls sp_hook_round() after the e-mails of
 * each round, whatever the SMTP settings.
 *
 *-------------------------------------------------------------------------
 */
#include "stockpipe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "catalog/pg_type.h"
#include "mailer.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "spi.h"
#include "utils/builtins.h"
#include "webhook.h"

/* Retryable failures after which a webhook round ends. */
#define SP_HOOK_FAILURES		3
#define SP_HOOK_CONNECT_TIMEOUT_MS 5000
#define SP_HOOK_TIMEOUT_MS		10000
/* Bytes of a refusing receiver's answer kept in last_error. */
#define SP_HOOK_ANSWER_KEEP		200

/* One webhook delivery to post, copied out of SPI memory. */
typedef struct PendingHook
{
	int64		deliveryid;
	int64		eventid;
	int64		channelid;		/* 0 when the channel was dropped */
	int64		ruleid;			/* 0 when the rule was dropped */
	int64		quote_us;		/* the quote's ts: with ruleid, the alert's key */
	int			attempts;
	char	   *channel;
	char	   *kind;
	char	   *url;			/* the secret: never logged */
	char	   *symbol;
	char	   *condition;
	char	   *threshold;
	char	   *price;
	char	   *quote_time;
	char	   *local_time;
	char	   *prev_close;
	char	   *change;
	char	   *change_pct;
} PendingHook;

/*
 * The webhook transfer: its own handle (connections to receivers are kept
 * between posts), libcurl's error text, the start of the answer, and what
 * open_socket_cb refused.
 */
static CURL *hook_curl = NULL;
static char hook_errbuf[CURL_ERROR_SIZE];
static char hook_answer[SP_HOOK_ANSWER_KEEP + 1];
static size_t hook_answer_len;
static bool hook_private_ok;
static char hook_blocked[INET6_ADDRSTRLEN];
static char hook_body[SP_WEBHOOK_MAX];

/*
 * A new easy handle for the receivers, at start and at each reload, as the
 * e-mails' (mailer.c, reset_curl).  False when libcurl could not make one.
 */
bool
sp_hooks_reset(void)
{
	if (hook_curl)
		curl_easy_cleanup(hook_curl);
	hook_curl = curl_easy_init();
	return hook_curl != NULL;
}

void
sp_hooks_cleanup(void)
{
	if (hook_curl)
		curl_easy_cleanup(hook_curl);
	hook_curl = NULL;
}

/*
 * Take up to SP_HOOK_BATCH pending deliveries that are due, with their
 * event's values formatted for the body, into hooks (in sp_mailer_cxt).
 * Returns how many.
 */
static int
claim_deliveries(PendingHook **hooks)
{
	static const char *const claim_sql =
		"SELECT d.deliveryid, d.eventid, coalesce(d.channelid, 0), coalesce(e.ruleid, 0),"
		"       d.attempts, d.channel, c.kind, c.url, e.symbol, e.condition,"
		"       e.threshold::text, e.price::text,"
		"       (pg_catalog.to_json(e.quote_ts AT TIME ZONE 'UTC') #>> '{}') || 'Z',"
		"       to_char(e.quote_ts, 'YYYY-MM-DD HH24:MI:SS TZ'),"
		"       e.prev_close::text,"
		"       CASE WHEN e.prev_close > 0 THEN"
		"         trim_scale(round((e.price - e.prev_close)::numeric, 4))::text END,"
		"       CASE WHEN e.prev_close > 0 THEN"
		"         trim_scale(round(((e.price / e.prev_close - 1) * 100)::numeric, 2))::text END,"
		"       (extract(epoch FROM e.quote_ts) * 1000000)::bigint"
		"  FROM stockpipe.alert_delivery d"
		"  JOIN stockpipe.alert_event e ON e.eventid = d.eventid"
		"  LEFT JOIN stockpipe.alert_channel c ON c.channelid = d.channelid"
		" WHERE d.status = 'pending' AND d.next_attempt_at <= now()"
		" ORDER BY d.next_attempt_at, d.deliveryid"
		" LIMIT " CppAsString2(SP_HOOK_BATCH)
		" FOR UPDATE OF d SKIP LOCKED";
	SPITupleTable *rows;
	uint64		i;
	int			n;

	n = sp_mailer_claim("stockpipe mailer: taking pending alert webhooks", claim_sql, &rows);
	*hooks = MemoryContextAllocZero(sp_mailer_cxt, sizeof(PendingHook) * Max(n, 1));
	for (i = 0; i < (uint64) n; i++)
	{
		PendingHook *h = &(*hooks)[i];

		h->deliveryid = sp_col_int64(rows, i, 1);
		h->eventid = sp_col_int64(rows, i, 2);
		h->channelid = sp_col_int64(rows, i, 3);
		h->ruleid = sp_col_int64(rows, i, 4);
		h->attempts = sp_col_int32(rows, i, 5);
		h->channel = sp_mailer_copy_value(rows, i, 6);
		h->kind = sp_mailer_copy_value(rows, i, 7);
		h->url = sp_mailer_copy_value(rows, i, 8);
		h->symbol = sp_mailer_copy_value(rows, i, 9);
		h->condition = sp_mailer_copy_value(rows, i, 10);
		h->threshold = sp_mailer_copy_value(rows, i, 11);
		h->price = sp_mailer_copy_value(rows, i, 12);
		h->quote_time = sp_mailer_copy_value(rows, i, 13);
		h->local_time = sp_mailer_copy_value(rows, i, 14);
		h->prev_close = sp_mailer_copy_value(rows, i, 15);
		h->change = sp_mailer_copy_value(rows, i, 16);
		h->change_pct = sp_mailer_copy_value(rows, i, 17);
		h->quote_us = sp_col_int64(rows, i, 18);
	}
	sp_tx_end();
	return n;
}

/* Record what became of one delivery; http_status 0: no answer. */
static void
record_hook_outcome(int64 deliveryid, SendOutcome outcome, long http_status, const char *error)
{
	static const char *const sql[SEND_INTERRUPTED] = {
		[SEND_OK] =
		"UPDATE stockpipe.alert_delivery"
		"   SET status = 'sent', sent_at = now(), attempts = attempts + 1,"
		"       http_status = nullif($3, 0)"
		" WHERE deliveryid = $1 AND status = 'pending'",
		[SEND_RETRY] =
		"UPDATE stockpipe.alert_delivery"
		"   SET attempts = attempts + 1, last_error = $2, http_status = nullif($3, 0),"
		"       next_attempt_at = now() + least(interval '10 seconds' * power(2, least(attempts, 10)),"
		"                                       interval '10 minutes')"
		" WHERE deliveryid = $1 AND status = 'pending'",
		[SEND_REJECTED] =
		"UPDATE stockpipe.alert_delivery"
		"   SET status = 'failed', attempts = attempts + 1, last_error = $2,"
		"       http_status = nullif($3, 0)"
		" WHERE deliveryid = $1 AND status = 'pending'",
	};

	sp_mailer_record("stockpipe mailer: recording an alert webhook outcome", sql,
				  deliveryid, outcome, http_status, error);
}

/* Keep the first SP_HOOK_ANSWER_KEEP bytes of the answer; memory copies only. */
static size_t
hook_write_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
	size_t		n = size * nmemb;
	size_t		room = SP_HOOK_ANSWER_KEEP - hook_answer_len;

	memcpy(hook_answer + hook_answer_len, data, Min(n, room));
	hook_answer_len += Min(n, room);
	return n;
}

/*
 * Open the socket for an address libcurl resolved, unless the address is
 * not public and the host is not in stockpipe.webhook_allowed_hosts: a
 * name that resolves to 127.0.0.1, 10.x or 169.254.169.254 must not reach
 * internal services.  A refusal makes libcurl try the next address, or
 * fail with CURLE_COULDNT_CONNECT; hook_blocked says why.
 */
static curl_socket_t
open_socket_cb(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
	bool		public_address = false;
	const void *bytes = NULL;

	if (address->family == AF_INET)
	{
		bytes = &((const struct sockaddr_in *) &address->addr)->sin_addr;
		public_address = sp_webhook_ipv4_public(bytes);
	}
	else if (address->family == AF_INET6)
	{
		bytes = &((const struct sockaddr_in6 *) &address->addr)->sin6_addr;
		public_address = sp_webhook_ipv6_public(bytes);
	}
	if (!public_address && !hook_private_ok)
	{
		if (bytes == NULL || inet_ntop(address->family, bytes, hook_blocked, sizeof(hook_blocked)) == NULL)
			strlcpy(hook_blocked, "an address that is not IP", sizeof(hook_blocked));
		return CURL_SOCKET_BAD;
	}
	return socket(address->family, address->socktype, address->protocol);
}

/* The start of the answer as one printable line, for last_error. */
static void
hook_answer_text(char *dst, size_t dstsize)
{
	sp_mailer_copy_line(dst, dstsize, hook_answer, hook_answer_len);
}

/*
 * POST body to h's URL.  Returns the outcome, the HTTP status in
 * *http_status (0 without an answer) and, unless SEND_OK, why in error
 * (SP_MAIL_ERROR_MAX bytes, never quoting the URL).
 */
static SendOutcome
post_hook(const PendingHook *h, const char *body, size_t len, const char *host,
		  long *http_status, char *error)
{
	struct curl_slist *headers = NULL;
	char		key[SP_WEBHOOK_KEY_MAX];
	char		header[128];
	char		answer[SP_HOOK_ANSWER_KEEP + 1];
	CURLcode	rc;
	long		code = 0;

	*http_status = 0;
	sp_webhook_idempotency_key(&(sp_webhook_alert) {.event_id = h->eventid,.rule_id = h->ruleid,
												   .quote_us = h->quote_us,.channel_id = h->channelid},
							   key, sizeof(key));
	snprintf(header, sizeof(header), "Idempotency-Key: %s", key);
	headers = curl_slist_append(headers, "Content-Type: application/json; charset=utf-8");
	if (headers)
		headers = curl_slist_append(headers, header);
	if (headers)
		headers = curl_slist_append(headers, "Expect:");
	if (headers == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));

	hook_errbuf[0] = '\0';
	hook_answer_len = 0;
	hook_blocked[0] = '\0';
	hook_private_ok = sp_webhook_host_listed(host, sp_webhook_allowed_hosts);

	curl_easy_setopt(hook_curl, CURLOPT_URL, h->url);
	curl_easy_setopt(hook_curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(hook_curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(hook_curl, CURLOPT_FOLLOWLOCATION, 0L);
	/* no proxy from the environment: the address check is of the receiver */
	curl_easy_setopt(hook_curl, CURLOPT_PROXY, "");
	curl_easy_setopt(hook_curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(hook_curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(hook_curl, CURLOPT_POST, 1L);
	curl_easy_setopt(hook_curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(hook_curl, CURLOPT_POSTFIELDSIZE, (long) len);
	curl_easy_setopt(hook_curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(hook_curl, CURLOPT_USERAGENT, "stockpipe");
	curl_easy_setopt(hook_curl, CURLOPT_WRITEFUNCTION, hook_write_cb);
	curl_easy_setopt(hook_curl, CURLOPT_OPENSOCKETFUNCTION, open_socket_cb);
	curl_easy_setopt(hook_curl, CURLOPT_CONNECTTIMEOUT_MS, (long) SP_HOOK_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(hook_curl, CURLOPT_TIMEOUT_MS, (long) SP_HOOK_TIMEOUT_MS);
	curl_easy_setopt(hook_curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(hook_curl, CURLOPT_ERRORBUFFER, hook_errbuf);
	curl_easy_setopt(hook_curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(hook_curl, CURLOPT_XFERINFOFUNCTION, sp_mailer_progress_cb);

	rc = curl_easy_perform(hook_curl);
	curl_easy_setopt(hook_curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(hook_curl, CURLOPT_POSTFIELDS, NULL);
	curl_slist_free_all(headers);

	if (rc == CURLE_ABORTED_BY_CALLBACK)
		return SEND_INTERRUPTED;
	if (rc != CURLE_OK)
	{
		if (hook_blocked[0] != '\0')
		{
			snprintf(error, SP_MAIL_ERROR_MAX,
					 "not sent: host \"%s\" has the address %s, which is not public, and is not in "
					 "stockpipe.webhook_allowed_hosts", host, hook_blocked);
			return SEND_REJECTED;
		}
		snprintf(error, SP_MAIL_ERROR_MAX, "%s (curl error %d)",
				 hook_errbuf[0] ? hook_errbuf : curl_easy_strerror(rc), (int) rc);
		return SEND_RETRY;
	}
	curl_easy_getinfo(hook_curl, CURLINFO_RESPONSE_CODE, &code);
	*http_status = code;
	if (code >= 200 && code <= 299)
		return SEND_OK;
	hook_answer_text(answer, sizeof(answer));
	if (code >= 300 && code <= 399)
		snprintf(error, SP_MAIL_ERROR_MAX, "HTTP %ld (redirects are not followed): %s", code, answer);
	else
		snprintf(error, SP_MAIL_ERROR_MAX, "HTTP %ld: %s", code, answer);
	if (code >= 500 || code == 408 || code == 429)
		return SEND_RETRY;
	return SEND_REJECTED;
}

/* Compose, post and record one delivery.  Returns what happened. */
static SendOutcome
deliver_hook(const PendingHook *h)
{
	sp_webhook_alert a = {
		.event_id = h->eventid,
		.rule_id = h->ruleid,
		.quote_us = h->quote_us,
		.channel_id = h->channelid,
		.symbol = h->symbol,
		.condition = h->condition,
		.threshold = h->threshold,
		.price = h->price,
		.quote_time = h->quote_time,
		.local_time = h->local_time,
		.time_zone = sp_market_timezone,
		.prev_close = h->prev_close,
		.change = h->change,
		.change_pct = h->change_pct,
	};
	sp_webhook_kind kind;
	char		host[SP_WEBHOOK_HOST_MAX + 1] = "";
	char		why[SP_MAIL_ERROR_MAX];
	char		error[SP_MAIL_ERROR_MAX];
	char		err[SP_WEBHOOK_ERR_MAX];
	size_t		len;
	long		http_status = 0;
	bool		ready = false;
	SendOutcome outcome;

	/* checked again: the list may have changed since the channel was made */
	if (h->url == NULL || h->kind == NULL)
		snprintf(error, sizeof(error), "not sent: the channel was dropped");
	else if (!sp_webhook_kind_parse(h->kind, &kind) || !sp_webhook_url_host(h->url, host, sizeof(host)))
		snprintf(error, sizeof(error), "not sent: the channel's kind or URL is not valid");
	else if (sp_webhook_host_problem(h->url, sp_webhook_allowed_hosts, why, sizeof(why)) != NULL)
		snprintf(error, sizeof(error), "not sent: %s", why);
	else if (!sp_webhook_body(kind, &a, hook_body, sizeof(hook_body), &len, err))
		snprintf(error, sizeof(error), "not sent: the body cannot be made: %s", err);
	else
		ready = true;

	if (ready)
	{
		pgstat_report_activity(STATE_RUNNING, "stockpipe mailer: posting an alert webhook");
		outcome = post_hook(h, hook_body, len, host, &http_status, error);
	}
	else
		outcome = SEND_REJECTED;

	switch (outcome)
	{
		case SEND_OK:
			record_hook_outcome(h->deliveryid, SEND_OK, http_status, NULL);
			sp_worker_count_batch(1);
			if (h->attempts > 0)
				ereport(LOG,
						(errmsg("stockpipe mailer: alert %lld delivered to webhook channel \"%s\" (%s, host %s) after %d failed attempts",
								(long long) h->eventid, h->channel, h->kind, host, h->attempts)));
			break;
		case SEND_RETRY:
			record_hook_outcome(h->deliveryid, SEND_RETRY, http_status, error);
			sp_worker_set_error("alert webhook %lld: %s", (long long) h->deliveryid, error);
			/* once per delivery: a receiver that is down is not logged at every retry */
			if (h->attempts == 0)
				ereport(WARNING,
						(errcode(ERRCODE_CONNECTION_FAILURE),
						 errmsg("stockpipe mailer: could not deliver alert %lld to webhook channel \"%s\" (%s, host %s)",
								(long long) h->eventid, h->channel, h->kind, host),
						 errdetail("%s.", error),
						 errhint("Delivery %lld stays pending in stockpipe.alert_delivery and is retried "
								 "with back-off (10 s, doubling, up to 10 minutes).",
								 (long long) h->deliveryid)));
			break;
		case SEND_REJECTED:
			record_hook_outcome(h->deliveryid, SEND_REJECTED, http_status, error);
			sp_worker_set_error("alert webhook %lld: %s", (long long) h->deliveryid, error);
			ereport(WARNING,
					(errmsg("stockpipe mailer: webhook channel \"%s\" (%s, host %s) refused alert %lld; delivery %lld marked failed",
							h->channel ? h->channel : "?", h->kind ? h->kind : "?", host,
							(long long) h->eventid, (long long) h->deliveryid),
					 errdetail("%s.", error),
					 errhint("Check the channel with stockpipe.my_channels; its owner can replace the URL "
							 "with stockpipe.set_channel().")));
			break;
		case SEND_INTERRUPTED:
			break;
	}
	return outcome;
}

/*
 * One webhook round: claim due deliveries and post them.  Returns how many
 * were taken, or 0 when the round ended early after failures.
 */
int
sp_hook_round(void)
{
	PendingHook *hooks;
	int			n;
	int			failures = 0;
	int			i;

	n = claim_deliveries(&hooks);
	for (i = 0; i < n && failures < SP_HOOK_FAILURES; i++)
	{
		SendOutcome outcome = deliver_hook(&hooks[i]);

		if (outcome == SEND_RETRY)
			failures++;
		CHECK_FOR_INTERRUPTS();
	}
	/* leave no copy of the secrets behind */
	for (i = 0; i < n; i++)
		if (hooks[i].url)
			explicit_bzero(hooks[i].url, strlen(hooks[i].url));
	return failures > 0 ? 0 : n;
}
