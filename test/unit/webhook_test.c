/*-------------------------------------------------------------------------
 *
 * webhook_test.c
 *	  Unit tests of alert webhooks (src/webhook.c): the URL rule, hosts,
 *	  the allow-list, public addresses and the three JSON bodies (parsed
 *	  back with cJSON).
 *
 *-------------------------------------------------------------------------
 */
#include "webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tap.h"

/* s for a test description: control and non-ASCII bytes as \xNN, at most 60 bytes. */
static const char *
shown(const char *s)
{
	static char out[4 * 60 + 1];
	size_t		o = 0;

	for (size_t i = 0; s[i] && i < 60; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c < 0x20 || c > 0x7E)
			o += (size_t) sprintf(out + o, "\\x%02X", c);
		else
			out[o++] = (char) c;
	}
	out[o] = '\0';
	return out;
}

/* sp_webhook_url_problem on a heap copy of exactly strlen + 1 bytes. */
static const char *
url_problem(const char *url)
{
	size_t		n = strlen(url) + 1;
	char	   *copy = malloc(n);
	const char *why;

	if (copy == NULL)
		abort();
	memcpy(copy, url, n);
	why = sp_webhook_url_problem(copy);
	free(copy);
	return why;
}

static void
accepted(const char *url)
{
	const char *why = url_problem(url);

	if (!check(why == NULL, "URL accepted: %s", shown(url)))
		diag("refused: %s", why);
}

static void
refused(const char *url, const char *reason_part)
{
	const char *why = url_problem(url);

	if (!check(why != NULL && strstr(why, reason_part) != NULL,
			   "URL refused (%s): %s", reason_part, shown(url)))
		diag("got: %s", why ? why : "(accepted)");
}

static void
test_urls(void)
{
	char		longurl[SP_WEBHOOK_URL_MAX + 2];
	char		host[SP_WEBHOOK_HOST_MAX + 1];

	accepted("https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX");
	accepted("https://example.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456");
	accepted("https://prod-01.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=abc%2Fdef");
	accepted("https://example.com");
	accepted("https://example.com?x=1");
	accepted("http://127.0.0.1:8080/hook/secret");
	accepted("http://localhost/hook");
	accepted("http://[::1]:9000/hook");
	accepted("https://10.1.2.3/hook");
	accepted("http://127.255.0.1/");

	refused("ftp://example.com/x", "must start with https://");
	refused("HTTPS://example.com/x", "must start with https://");
	refused("https:/example.com", "must start with https://");
	refused("", "must start with https://");
	refused("http://example.com/hook", "http:// is allowed only to a loopback host");
	refused("http://10.0.0.1/hook", "http:// is allowed only to a loopback host");
	refused("https://example.com/a b", "white space");
	refused("https://example.com/a\tb", "white space");
	refused("https://example.com/a\r\nX-Injected: 1", "white space");
	refused("https://example.com/\xc3\xa9", "outside ASCII");
	refused("https://example.com/a\"b", "not allowed in a URL");
	refused("https://example.com/a#frag", "not allowed in a URL");
	refused("https://example.com\\@evil.com/", "not allowed in a URL");
	refused("https://user:pw@example.com/", "user name or password");
	refused("https://evil.com@127.0.0.1/", "user name or password");
	refused("https:///path", "no host");
	refused("https://:443/path", "no host");
	refused("https://example/path", "DNS name");
	refused("https://0x7f000001/path", "DNS name");
	refused("https://evil.0x7f/path", "DNS name");
	refused("https://a.127/path", "DNS name");
	refused("https://-a.example.com/", "DNS name");
	refused("https://a_b.example.com/", "DNS name");
	refused("https://example.com./", "DNS name");
	refused("https://0177.0.0.1/", "IPv4");
	refused("https://127.1/", "IPv4");
	refused("https://256.0.0.1/", "IPv4");
	refused("https://1.2.3.4.5/", "IPv4");
	refused("https://[fe80::1]/", "IPv6");
	refused("https://[::1/", "IPv6");
	refused("https://example.com:0/", "port");
	refused("https://example.com:65536/", "port");
	refused("https://example.com:/", "port");
	refused("https://example.com:80a/", "port");
	refused("https://example.com:123456/", "port");

	memset(longurl, 'a', sizeof(longurl) - 1);
	longurl[sizeof(longurl) - 1] = '\0';
	memcpy(longurl, "https://example.com/", 20);
	refused(longurl, "longer than 2048");
	longurl[SP_WEBHOOK_URL_MAX] = '\0';
	accepted(longurl);

	CHECK(sp_webhook_url_host("https://Hooks.Slack.COM:443/x", host, sizeof(host)) &&
		  strcmp(host, "hooks.slack.com") == 0, "host of a URL, in lower case, without the port");
	CHECK(sp_webhook_url_host("http://[::1]:80/x", host, sizeof(host)) &&
		  strcmp(host, "::1") == 0, "host [::1] without brackets");
	CHECK(!sp_webhook_url_host("http://example.com/x", host, sizeof(host)), "no host of a refused URL");
	CHECK(!sp_webhook_url_host("https://example.com/x", host, 5), "no host into a small buffer");
}

static void
test_hosts(void)
{
	unsigned char a6[16];

	CHECK(sp_webhook_host_private("localhost"), "localhost is private");
	CHECK(sp_webhook_host_private("LOCALHOST"), "LOCALHOST is private");
	CHECK(sp_webhook_host_private("a.localhost"), "a.localhost is private");
	CHECK(sp_webhook_host_private("::1"), "::1 is private");
	CHECK(sp_webhook_host_private("127.0.0.1"), "127.0.0.1 is private");
	CHECK(sp_webhook_host_private("169.254.169.254"), "the metadata address is private");
	CHECK(sp_webhook_host_private("10.0.0.1"), "10.0.0.1 is private");
	CHECK(!sp_webhook_host_private("8.8.8.8"), "8.8.8.8 is public");
	CHECK(!sp_webhook_host_private("hooks.slack.com"), "a name is not a private literal");

	CHECK(sp_webhook_host_listed("hooks.slack.com", "slack.com"), "a subdomain is listed");
	CHECK(sp_webhook_host_listed("slack.com", " example.com, SLACK.com "), "the name itself, any case");
	CHECK(!sp_webhook_host_listed("badslack.com", "slack.com"), "badslack.com is not slack.com");
	CHECK(!sp_webhook_host_listed("slack.com.evil.com", "slack.com"), "slack.com.evil.com is not listed");
	CHECK(sp_webhook_host_listed("127.0.0.1", "127.0.0.1"), "an IPv4 address is listed");
	CHECK(!sp_webhook_host_listed("example.com", ""), "an empty list lists nothing");
	CHECK(!sp_webhook_host_listed("example.com", " , "), "a list of separators lists nothing");
	CHECK(!sp_webhook_host_listed("example.com", NULL), "NULL lists nothing");

	{
		char		why[300];
		const char *p;

		CHECK(sp_webhook_host_problem("https://hooks.slack.com/x/secret", "", why, sizeof(why)) == NULL,
			  "empty list: a public name is allowed");
		p = sp_webhook_host_problem("http://127.0.0.1:8080/x/secret", "", why, sizeof(why));
		CHECK(p != NULL && strstr(p, "\"127.0.0.1\" is a loopback or private address") != NULL &&
			  strstr(p, "secret") == NULL, "empty list: loopback refused, host quoted, path not");
		CHECK(sp_webhook_host_problem("http://127.0.0.1:8080/x", "127.0.0.1", why, sizeof(why)) == NULL,
			  "a listed loopback host is allowed");
		p = sp_webhook_host_problem("https://hooks.slack.com/x", "office.com", why, sizeof(why));
		CHECK(p != NULL && strstr(p, "\"hooks.slack.com\" is not in stockpipe.webhook_allowed_hosts") != NULL,
			  "a list: other hosts refused");
		CHECK(sp_webhook_host_problem("https://hooks.slack.com/x", "slack.com", why, sizeof(why)) == NULL,
			  "a list: a subdomain is allowed");
		CHECK(sp_webhook_host_problem("ftp://x.example.com/", "", why, sizeof(why)) != NULL,
			  "a bad URL has a problem");
	}

	struct
	{
		unsigned char a[4];
		bool		pub;
	}			v4[] = {
		{{8, 8, 8, 8}, true}, {{1, 1, 1, 1}, true}, {{0, 0, 0, 0}, false},
		{{10, 1, 2, 3}, false}, {{100, 64, 0, 1}, false}, {{100, 128, 0, 1}, true},
		{{127, 0, 0, 1}, false}, {{169, 254, 169, 254}, false}, {{172, 16, 0, 1}, false},
		{{172, 31, 255, 255}, false}, {{172, 32, 0, 1}, true}, {{192, 168, 1, 1}, false},
		{{192, 0, 2, 1}, false}, {{198, 18, 0, 1}, false}, {{198, 20, 0, 1}, true},
		{{224, 0, 0, 1}, false}, {{255, 255, 255, 255}, false}, {{203, 0, 113, 9}, false},
	};

	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++)
		check(sp_webhook_ipv4_public(v4[i].a) == v4[i].pub, "%u.%u.%u.%u is %s",
			  v4[i].a[0], v4[i].a[1], v4[i].a[2], v4[i].a[3], v4[i].pub ? "public" : "not public");

	memset(a6, 0, 16);
	CHECK(!sp_webhook_ipv6_public(a6), ":: is not public");
	a6[15] = 1;
	CHECK(!sp_webhook_ipv6_public(a6), "::1 is not public");
	a6[10] = a6[11] = 0xFF;
	a6[12] = 127;
	CHECK(!sp_webhook_ipv6_public(a6), "::ffff:127.0.0.1 is not public");
	a6[12] = 8;
	a6[13] = 8;
	a6[14] = 8;
	a6[15] = 8;
	CHECK(sp_webhook_ipv6_public(a6), "::ffff:8.8.8.8 is public");
	memset(a6, 0, 16);
	a6[0] = 0xFE;
	a6[1] = 0x80;
	CHECK(!sp_webhook_ipv6_public(a6), "fe80:: is not public");
	a6[0] = 0xFD;
	a6[1] = 0;
	CHECK(!sp_webhook_ipv6_public(a6), "fd00:: is not public");
	a6[0] = 0x20;
	a6[1] = 0x01;
	a6[2] = 0x48;
	a6[3] = 0x60;
	CHECK(sp_webhook_ipv6_public(a6), "2001:4860:: is public");
	a6[0] = 0x20;
	a6[1] = 0x02;
	a6[2] = 10;
	CHECK(!sp_webhook_ipv6_public(a6), "2002:0a00:: (6to4 of 10.x) is not public");
}

static void
test_numbers(void)
{
	const char *good[] = {"0", "-0", "190", "190.25", "-3.5", "1e+20", "1.5E-7", "0.001"};
	const char *bad[] = {"", "-", "+1", "01", "1.", ".5", "1e", "Infinity", "NaN", "1,5", " 1", "0x10"};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		check(sp_webhook_json_number(good[i]), "JSON number: %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check(!sp_webhook_json_number(bad[i]), "not a JSON number: \"%s\"", bad[i]);
}

static const sp_webhook_alert known = {
	.event_id = 17,
	.rule_id = 4,
	.quote_us = 1795807802000000,
	.channel_id = 3,
	.symbol = "AAPL",
	.condition = "price_above",
	.threshold = "190",
	.price = "190.25",
	.quote_time = "2026-11-27T19:30:02Z",
	.local_time = "2026-11-27 14:30:02 EST",
	.time_zone = "America/New_York",
	.prev_close = "188",
	.change = "2.25",
	.change_pct = "1.2",
};

static cJSON *
body_json(sp_webhook_kind kind, const sp_webhook_alert *a, char *buf)
{
	size_t		len = 99;
	char		err[SP_WEBHOOK_ERR_MAX];

	if (!sp_webhook_body(kind, a, buf, SP_WEBHOOK_MAX, &len, err))
	{
		diag("refused: %s", err);
		return NULL;
	}
	if (len != strlen(buf))
		diag("length %zu, strlen %zu", len, strlen(buf));
	return cJSON_Parse(buf);
}

static const char *
str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double
num_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : -12345;
}

static void
test_generic(void)
{
	char		buf[SP_WEBHOOK_MAX];
	cJSON	   *j = body_json(SP_WEBHOOK_GENERIC, &known, buf);
	sp_webhook_alert a = known;

	if (!check(j != NULL, "generic body is JSON"))
		diag("%s", buf);
	check_num(num_of(j, "event_id"), 17, "event_id");
	check_num(num_of(j, "rule_id"), 4, "rule_id");
	check_str(str_of(j, "symbol"), "AAPL", "symbol");
	check_str(str_of(j, "condition"), "price_above", "condition");
	check_num(num_of(j, "threshold"), 190, "threshold");
	check_num(num_of(j, "price"), 190.25, "price");
	check_str(str_of(j, "quote_time"), "2026-11-27T19:30:02Z", "quote_time in RFC 3339");
	check_num(num_of(j, "prev_close"), 188, "prev_close");
	check_num(num_of(j, "change"), 2.25, "change");
	check_num(num_of(j, "change_pct"), 1.2, "change_pct");
	check_str(str_of(j, "idempotency_key"), "stockpipe-4-1795807802000000-3", "idempotency_key");
	check_str(str_of(j, "text"),
			  "stockpipe alert: AAPL price_above 190. Price 190.25 at 2026-11-27 14:30:02 EST "
			  "(America/New_York); previous close 188, change +2.25 (+1.2%). Event 17, rule 4.",
			  "text for people");
	cJSON_Delete(j);

	a.rule_id = 0;
	a.threshold = NULL;
	a.condition = "above_l30d_high";
	a.prev_close = a.change = a.change_pct = NULL;
	a.local_time = a.time_zone = NULL;
	j = body_json(SP_WEBHOOK_GENERIC, &a, buf);
	CHECK(j != NULL, "generic body without the optional values is JSON");
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "rule_id")), "rule_id null when the rule is gone");
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "threshold")), "threshold null");
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "prev_close")) &&
		  cJSON_IsNull(cJSON_GetObjectItem(j, "change")) &&
		  cJSON_IsNull(cJSON_GetObjectItem(j, "change_pct")), "prev_close, change, change_pct null");
	check_str(str_of(j, "text"),
			  "stockpipe alert: AAPL above_l30d_high. Price 190.25 at 2026-11-27T19:30:02Z. Event 17.",
			  "text without the optional values");
	cJSON_Delete(j);

	/* hostile strings stay strings */
	a = known;
	a.symbol = "A\"}],\"x\":1,\n<script>&\x01\\";
	j = body_json(SP_WEBHOOK_GENERIC, &a, buf);
	CHECK(j != NULL, "quotes, brackets, control characters are escaped");
	check_str(str_of(j, "symbol"), a.symbol, "the symbol comes back byte for byte");
	CHECK(strpbrk(buf, "<>&\n\x01") == NULL, "no raw <, >, &, LF or control byte in the body");
	CHECK(cJSON_GetObjectItem(j, "x") == NULL, "no member injected");
	cJSON_Delete(j);

	a = known;
	a.symbol = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88";
	j = body_json(SP_WEBHOOK_GENERIC, &a, buf);
	check_str(str_of(j, "symbol"), a.symbol, "UTF-8 passes as it is");
	cJSON_Delete(j);
}

static void
refused_body(const char *why_part, sp_webhook_alert a, size_t size)
{
	char		buf[SP_WEBHOOK_MAX];
	size_t		len = 99;
	char		err[SP_WEBHOOK_ERR_MAX] = "";
	bool		ok = sp_webhook_body(SP_WEBHOOK_GENERIC, &a, buf, size, &len, err);

	if (!check(!ok && strstr(err, why_part) != NULL && len == 0 && buf[0] == '\0',
			   "body refused: %s", why_part))
		diag("ok=%d err=%s", ok, err);
}

static void
test_refusals(void)
{
	sp_webhook_alert a = known;

	a.symbol = NULL;
	refused_body("required", a, SP_WEBHOOK_MAX);
	a = known;
	a.price = "Infinity";
	refused_body("JSON number", a, SP_WEBHOOK_MAX);
	a = known;
	a.change_pct = "+1.20";
	refused_body("JSON number", a, SP_WEBHOOK_MAX);
	a = known;
	a.time_zone = "bad \xff utf-8";
	refused_body("UTF-8", a, SP_WEBHOOK_MAX);
	a = known;
	a.symbol = "\xc0\xaf";
	refused_body("UTF-8", a, SP_WEBHOOK_MAX);
	a = known;
	a.symbol = "\xed\xa0\x80";
	refused_body("UTF-8", a, SP_WEBHOOK_MAX);
	a = known;
	refused_body("does not fit", a, 100);
}

static void
test_slack_teams(void)
{
	char		buf[SP_WEBHOOK_MAX];
	sp_webhook_alert a = known;
	cJSON	   *j = body_json(SP_WEBHOOK_SLACK, &known, buf);
	cJSON	   *card;
	const cJSON *blocks;

	CHECK(j != NULL, "slack body is JSON");
	CHECK(cJSON_GetArraySize(j) == 1, "slack body has one member");
	check_str(str_of(j, "text"),
			  "*stockpipe alert: AAPL price_above 190*\nPrice 190.25 at 2026-11-27 14:30:02 EST "
			  "(America/New_York); previous close 188, change +2.25 (+1.2%). Event 17, rule 4.",
			  "slack text, title in bold");
	cJSON_Delete(j);

	a.symbol = "<!channel> & <http://evil|x>";
	j = body_json(SP_WEBHOOK_SLACK, &a, buf);
	CHECK(j != NULL && str_of(j, "text") != NULL, "slack body with mrkdwn controls is JSON");
	CHECK(strstr(str_of(j, "text"), "&lt;!channel&gt; &amp; &lt;http://evil|x&gt;") != NULL,
		  "slack: &, < and > are written &amp; &lt; &gt;");
	CHECK(strpbrk(str_of(j, "text"), "<>") == NULL, "slack text holds no < or >");
	cJSON_Delete(j);

	j = body_json(SP_WEBHOOK_TEAMS, &known, buf);
	CHECK(j != NULL, "teams body is JSON");
	check_str(str_of(j, "type"), "message", "teams: a message");
	card = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "attachments"), 0);
	check_str(str_of(card, "contentType"), "application/vnd.microsoft.card.adaptive",
			  "teams: an Adaptive Card attachment");
	check_str(str_of(cJSON_GetObjectItem(card, "content"), "type"), "AdaptiveCard", "teams: card type");
	blocks = cJSON_GetObjectItem(cJSON_GetObjectItem(card, "content"), "body");
	check_int(cJSON_GetArraySize(blocks), 2, "teams: two text blocks");
	check_str(str_of(cJSON_GetArrayItem(blocks, 0), "text"), "stockpipe alert: AAPL price_above 190",
			  "teams: title");
	CHECK(str_of(cJSON_GetArrayItem(blocks, 1), "text") &&
		  strstr(str_of(cJSON_GetArrayItem(blocks, 1), "text"), "Price 190.25") != NULL,
		  "teams: details");
	cJSON_Delete(j);
}

static void
test_kinds(void)
{
	sp_webhook_kind k;
	char		key[SP_WEBHOOK_KEY_MAX];

	CHECK(sp_webhook_kind_parse("webhook", &k) && k == SP_WEBHOOK_GENERIC, "kind webhook");
	CHECK(sp_webhook_kind_parse("slack", &k) && k == SP_WEBHOOK_SLACK, "kind slack");
	CHECK(sp_webhook_kind_parse("teams", &k) && k == SP_WEBHOOK_TEAMS, "kind teams");
	CHECK(!sp_webhook_kind_parse("Slack", &k), "kind names are lower case");
	CHECK(!sp_webhook_kind_parse("discord", &k), "no kind discord");
	CHECK(!sp_webhook_kind_parse(NULL, &k), "no kind NULL");
	sp_webhook_idempotency_key(&(sp_webhook_alert) {.rule_id = INT64_MAX,.quote_us = INT64_MIN,
												   .channel_id = INT64_MAX},
							   key, sizeof(key));
	check_str(key, "stockpipe-9223372036854775807--9223372036854775808-9223372036854775807",
			  "idempotency key of the largest ids");
	sp_webhook_idempotency_key(&(sp_webhook_alert) {.event_id = INT64_MAX,.channel_id = 1},
							   key, sizeof(key));
	check_str(key, "stockpipe-e9223372036854775807-1", "idempotency key of an event whose rule was dropped");
	sp_webhook_idempotency_key(&(sp_webhook_alert) {.event_id = 99,.rule_id = 4,
												   .quote_us = 1795807802000000,.channel_id = 3},
							   key, sizeof(key));
	check_str(key, "stockpipe-4-1795807802000000-3",
			  "idempotency key: rule and quote time, not this server's event id");
}

int
main(void)
{
	test_urls();
	test_hosts();
	test_numbers();
	test_generic();
	test_refusals();
	test_slack_teams();
	test_kinds();
	return tap_summary();
}
