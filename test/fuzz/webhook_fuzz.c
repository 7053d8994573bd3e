/*-------------------------------------------------------------------------
 *
 * webhook_fuzz.c
 *	  libFuzzer harness of alert webhooks (src/webhook.c): the JSON bodies,
 *	  the URL rule, the host allow-list and the public-address test.
 *
 * Input: fields separated by NUL bytes, in this order: symbol, condition,
 * threshold, price, quote time, local time, time zone, previous close,
 * change, change percentage (an empty optional field is NULL), the URL,
 * the allow-list, and "EVENT RULE CHANNEL" (decimal).  A field the input
 * does not reach keeps the value of the unit tests' known event.
 *
 * Invariants, checked with code of this file's own:
 *	 - every body made, of each kind, is one JSON value that cJSON parses
 *	   to its end, holds no raw control byte, '<' or '>', and gives back
 *	   the values: the generic body's strings byte for byte and its
 *	   idempotency key; Slack's text has no '<' or '>' and every '&'
 *	   starts &amp;, &lt; or &gt;;
 *	 - a body is refused only for a missing value, a number that is not a
 *	   JSON number, or a string that is not UTF-8 (an independent check),
 *	   and a refusal leaves an empty buffer, a zero length and a one-line
 *	   reason;
 *	 - an accepted URL is one that libcurl parses too, to the same host:
 *	   no parser differential can send a post elsewhere than where the
 *	   checks looked; its host is plain, and http:// only to loopback;
 *	 - the public-address test gives the same answer for an IPv4 address
 *	   and its IPv4-mapped IPv6 form.
 *
 * A broken invariant aborts, which libFuzzer reports as a crash.
 *
 *-------------------------------------------------------------------------
 */
#include "webhook.h"

#include <inttypes.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#define N_VALUES	10			/* string fields of sp_webhook_alert */

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "webhook_fuzz: invariant failed at line %d: %s\n", \
					__LINE__, #cond); \
			abort(); \
		} \
	} while (0)

static const char *const defaults[N_VALUES] = {
	"AAPL", "price_above", "190", "190.25", "2026-11-27T19:30:02Z",
	"2026-11-27 14:30:02 EST", "America/New_York", "188", "2.25", "1.2",
};
static const bool required[N_VALUES] = {
	true, true, false, true, true, false, false, false, false, false,
};
static const bool numeric[N_VALUES] = {
	false, false, true, true, false, false, false, true, true, true,
};

/* UTF-8 as RFC 3629 has it, written again. */
static bool
r_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	while (*p)
	{
		unsigned	c = *p;
		unsigned	cp;
		int			n;

		if (c < 0x80)
		{
			p++;
			continue;
		}
		else if ((c & 0xE0) == 0xC0)
			n = 1, cp = c & 0x1F;
		else if ((c & 0xF0) == 0xE0)
			n = 2, cp = c & 0x0F;
		else if ((c & 0xF8) == 0xF0)
			n = 3, cp = c & 0x07;
		else
			return false;
		for (int i = 1; i <= n; i++)
		{
			if ((p[i] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
			cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		p += n + 1;
	}
	return true;
}

/* A JSON number: RFC 8259's grammar as a POSIX regular expression. */
static bool
r_number(const char *s)
{
	static regex_t re;
	static bool compiled = false;

	if (!compiled)
	{
		CHECK(regcomp(&re, "^-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][-+]?[0-9]+)?$",
					  REG_EXTENDED | REG_NOSUB) == 0);
		compiled = true;
	}
	return regexec(&re, s, 0, NULL, 0) == 0;
}

static const char *
str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
check_body_bytes(const char *buf, size_t len)
{
	CHECK(len == strlen(buf));
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) buf[i];

		CHECK(c >= 0x20 && c != 0x7F && c != '<' && c != '>');
	}
}

static void
check_bodies(const sp_webhook_alert *a, bool valid)
{
	static char buf[SP_WEBHOOK_MAX];

	for (int k = SP_WEBHOOK_GENERIC; k <= SP_WEBHOOK_TEAMS; k++)
	{
		size_t		len = 12345;
		char		err[SP_WEBHOOK_ERR_MAX] = "";
		bool		ok = sp_webhook_body((sp_webhook_kind) k, a, buf, sizeof(buf), &len, err);
		const char *end = NULL;
		cJSON	   *j;

		if (!ok)
		{
			CHECK(buf[0] == '\0' && len == 0);
			CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
			/* refused only for a bad value, or a body too big for the buffer */
			CHECK(!valid || strstr(err, "does not fit") || strstr(err, "too long"));
			continue;
		}
		CHECK(valid);
		check_body_bytes(buf, len);
		j = cJSON_ParseWithOpts(buf, &end, 1);
		CHECK(j != NULL && end == buf + len);
		if (k == SP_WEBHOOK_GENERIC)
		{
			char		key[SP_WEBHOOK_KEY_MAX];

			CHECK(str_of(j, "symbol") && strcmp(str_of(j, "symbol"), a->symbol) == 0);
			CHECK(str_of(j, "condition") && strcmp(str_of(j, "condition"), a->condition) == 0);
			CHECK(str_of(j, "quote_time") && strcmp(str_of(j, "quote_time"), a->quote_time) == 0);
			CHECK(cJSON_IsNumber(cJSON_GetObjectItem(j, "price")));
			CHECK(a->threshold ? cJSON_IsNumber(cJSON_GetObjectItem(j, "threshold"))
				  : cJSON_IsNull(cJSON_GetObjectItem(j, "threshold")));
			/* the rule and the quote's time; the event id only without a rule */
			if (a->rule_id > 0)
				snprintf(key, sizeof(key), "stockpipe-%" PRId64 "-%" PRId64 "-%" PRId64,
						 a->rule_id, a->quote_us, a->channel_id);
			else
				snprintf(key, sizeof(key), "stockpipe-e%" PRId64 "-%" PRId64,
						 a->event_id, a->channel_id);
			CHECK(str_of(j, "idempotency_key") && strcmp(str_of(j, "idempotency_key"), key) == 0);
			CHECK(str_of(j, "text") && strstr(str_of(j, "text"), a->symbol) != NULL);
			CHECK(cJSON_GetArraySize(j) == 12);
		}
		else if (k == SP_WEBHOOK_SLACK)
		{
			const char *t = str_of(j, "text");

			CHECK(t != NULL && cJSON_GetArraySize(j) == 1);
			CHECK(strpbrk(t, "<>") == NULL);
			for (const char *p = strchr(t, '&'); p; p = strchr(p + 1, '&'))
				CHECK(strncmp(p, "&amp;", 5) == 0 || strncmp(p, "&lt;", 4) == 0 ||
					  strncmp(p, "&gt;", 4) == 0);
		}
		else
		{
			const cJSON *att = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "attachments"), 0);
			const cJSON *body = cJSON_GetObjectItem(cJSON_GetObjectItem(att, "content"), "body");

			CHECK(str_of(j, "type") && strcmp(str_of(j, "type"), "message") == 0);
			CHECK(cJSON_GetArraySize(body) == 2);
			CHECK(str_of(cJSON_GetArrayItem(body, 0), "text") != NULL);
		}
		cJSON_Delete(j);
	}
}

static void
check_url(const char *url, const char *list)
{
	const char *why = sp_webhook_url_problem(url);
	char		host[SP_WEBHOOK_HOST_MAX + 1];
	char		reason[512];
	CURLU	   *u;
	char	   *curl_host = NULL;

	CHECK(sp_webhook_url_host(url, host, sizeof(host)) == (why == NULL));
	(void) sp_webhook_host_problem(url, list, reason, sizeof(reason));
	if (why != NULL)
	{
		CHECK(why[0] != '\0' && strchr(why, '\n') == NULL);
		return;
	}
	CHECK(strlen(url) <= SP_WEBHOOK_URL_MAX);
	for (const char *p = url; *p; p++)
		CHECK(*p > ' ' && *p < 0x7F);
	CHECK(strncmp(url, "https://", 8) == 0 ||
		  (strncmp(url, "http://", 7) == 0 &&
		   (strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 || strncmp(host, "127.", 4) == 0)));
	CHECK(host[0] != '\0' && strspn(host, "abcdefghijklmnopqrstuvwxyz0123456789.-:") == strlen(host));
	if (sp_webhook_host_problem(url, "", reason, sizeof(reason)) == NULL)
		CHECK(!sp_webhook_host_private(host));

	/* libcurl reads the same host */
	u = curl_url();
	CHECK(u != NULL);
	CHECK(curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK);
	CHECK(curl_url_get(u, CURLUPART_HOST, &curl_host, 0) == CURLUE_OK);
	{
		const char *h = curl_host;
		size_t		n = strlen(h);

		if (n >= 2 && h[0] == '[' && h[n - 1] == ']')
		{
			h++;
			n -= 2;
		}
		CHECK(n == strlen(host));
		for (size_t i = 0; i < n; i++)
		{
			char		c = h[i];

			if (c >= 'A' && c <= 'Z')
				c += 'a' - 'A';
			CHECK(c == host[i]);
		}
	}
	curl_free(curl_host);
	curl_url_cleanup(u);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *copy = malloc(size + 1);
	const char *fields[N_VALUES + 3] = {NULL};
	size_t		nfields = 0;
	size_t		pos = 0;
	const char *v[N_VALUES];
	const char *url = "https://hooks.slack.com/services/T0/B0/x";
	const char *list = "";
	long long	event = 17;
	long long	rule = 4;
	long long	channel = 3;
	long long	quote = 1795807802000000;
	bool		valid = true;
	sp_webhook_alert a;
	unsigned char a6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

	CHECK(copy != NULL);
	memcpy(copy, data, size);
	copy[size] = '\0';
	while (nfields < N_VALUES + 3 && pos <= size)
	{
		fields[nfields++] = copy + pos;
		pos += strlen(copy + pos) + 1;
	}
	for (size_t i = 0; i < N_VALUES; i++)
	{
		v[i] = i < nfields ? fields[i] : defaults[i];
		if (!required[i] && v[i][0] == '\0')
			v[i] = NULL;
		if (v[i] == NULL)
			valid = valid && !required[i];
		else
			valid = valid && r_utf8(v[i]) && (!numeric[i] || r_number(v[i]));
	}
	if (nfields > N_VALUES)
		url = fields[N_VALUES];
	if (nfields > N_VALUES + 1)
		list = fields[N_VALUES + 1];
	if (nfields > N_VALUES + 2)
		sscanf(fields[N_VALUES + 2], "%lld %lld %lld %lld", &event, &rule, &channel, &quote);

	a = (sp_webhook_alert) {
		.event_id = event,
		.rule_id = rule,
		.quote_us = quote,
		.channel_id = channel,
		.symbol = v[0],
		.condition = v[1],
		.threshold = v[2],
		.price = v[3],
		.quote_time = v[4],
		.local_time = v[5],
		.time_zone = v[6],
		.prev_close = v[7],
		.change = v[8],
		.change_pct = v[9],
	};
	check_bodies(&a, valid);
	check_url(url, list);

	/* IPv4 and its mapped IPv6 form agree */
	if (size >= 4)
	{
		memcpy(a6 + 12, data, 4);
		CHECK(sp_webhook_ipv4_public(data) == sp_webhook_ipv6_public(a6));
	}
	if (size >= 16)
		(void) sp_webhook_ipv6_public(data + size - 16);

	free(copy);
	return 0;
}
