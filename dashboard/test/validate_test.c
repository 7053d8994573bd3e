/*
 * validate_test.c: unit tests of stockpipe-dash's request and option checks
 * (src/validate.c), run by `make -C dashboard check`.
 *
 * No database, no socket.  One TAP line per check (tap.h, shared with
 * test/unit), then "# P passed, F failed"; exits 1 if any check failed.
 * Expected epoch values were computed with Python's datetime, not with the
 * code under test.
 */
#include "validate.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"

/* s for a TAP line: control bytes as \xNN (four rotating buffers). */
static const char *
shown(const char *s)
{
	static char bufs[4][256];
	static int	k;
	char	   *b = bufs[k++ % 4];
	size_t		n = 0;

	for (; *s && n + 5 < sizeof bufs[0]; s++)
		n += (unsigned char) *s < 0x20 ? (size_t) sprintf(b + n, "\\x%02x", (unsigned char) *s)
			: (size_t) sprintf(b + n, "%c", *s);
	b[n] = '\0';
	return b;
}

/* ---------------------------------------------------------------- symbols */

static void
test_symbols(void)
{
	static const char *good[] = {"AAPL", "BRK.B", "^GSPC", "EURUSD=X", "BF-B", "A",
	"ABCDEFGHIJKLMNOPQRST"};
	static const char *bad[] = {"", "aapl", "AAPL ", "AA'PL", "AAPL;--", "ABCDEFGHIJKLMNOPQRSTU",
	"<script>", "AAPL\n", "ÄPL"};

	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		check(dash_validate_symbol(good[i]), "symbol \"%s\" accepted", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		check(!dash_validate_symbol(bad[i]), "symbol \"%s\" refused", shown(bad[i]));
	check(!dash_validate_symbol(NULL), "no symbol refused");
}

/* The symbols of /api/sparks: a bounded list of symbols. */
static void
expect_list(const char *s, int max, dash_symlist_check want, int want_n)
{
	int			n = -1;
	dash_symlist_check got = dash_validate_symbol_list(s, max, &n);

	check(got == want && (want != DASH_SYMLIST_OK || n == want_n),
		  "symbol list \"%s\" (max %d): %d, %d entries (want %d, %d)",
		  s ? shown(s) : "(null)", max, (int) got, n, (int) want, want_n);
}

static void
test_symbol_lists(void)
{
	char		big[(DASH_SPARKS_MAX_SYMBOLS + 1) * 8];
	size_t		len = 0;

	expect_list("AAPL", 3, DASH_SYMLIST_OK, 1);
	expect_list("AAPL,BRK.B,^GSPC", 3, DASH_SYMLIST_OK, 3);
	expect_list("AAPL,AAPL", 3, DASH_SYMLIST_OK, 2);
	expect_list("ABCDEFGHIJKLMNOPQRST,A", 3, DASH_SYMLIST_OK, 2);
	expect_list(NULL, 3, DASH_SYMLIST_MISSING, 0);
	expect_list("", 3, DASH_SYMLIST_MISSING, 0);
	expect_list("A,B,C,D", 3, DASH_SYMLIST_TOO_MANY, 0);
	expect_list("A,,B", 3, DASH_SYMLIST_BAD_SYMBOL, 0);
	expect_list("A,", 3, DASH_SYMLIST_BAD_SYMBOL, 0);
	expect_list(",A", 3, DASH_SYMLIST_BAD_SYMBOL, 0);
	expect_list("A, B", 3, DASH_SYMLIST_BAD_SYMBOL, 0);
	expect_list("aapl", 3, DASH_SYMLIST_BAD_SYMBOL, 0);
	expect_list("A,AA'PL", 3, DASH_SYMLIST_BAD_SYMBOL, 0);
	expect_list("ABCDEFGHIJKLMNOPQRSTU", 3, DASH_SYMLIST_BAD_SYMBOL, 0);
	expect_list("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ", 3, DASH_SYMLIST_BAD_SYMBOL, 0);
	expect_list("A\n", 3, DASH_SYMLIST_BAD_SYMBOL, 0);
	/* the bound of the endpoint: 200 symbols pass, 201 do not */
	for (int i = 0; i < DASH_SPARKS_MAX_SYMBOLS; i++)
		len += (size_t) sprintf(big + len, "%sS%04d", i ? "," : "", i);
	expect_list(big, DASH_SPARKS_MAX_SYMBOLS, DASH_SYMLIST_OK, DASH_SPARKS_MAX_SYMBOLS);
	sprintf(big + len, ",S9999");
	expect_list(big, DASH_SPARKS_MAX_SYMBOLS, DASH_SYMLIST_TOO_MANY, 0);
}

/* ------------------------------------------------------------------ times */

static void
expect_time(const char *s, int64_t want, int want_zone)
{
	int64_t		got = 0;
	bool		zone = false;
	bool		ok = dash_validate_iso_time(s, &got, &zone);

	check(ok && got == want && zone == (want_zone != 0),
		  "time \"%s\" is %" PRId64 "%s (got %s %" PRId64 "%s)", s, want,
		  want_zone ? " with a zone" : "", ok ? "ok" : "refused", got, zone ? " with a zone" : "");
}

static void
test_times(void)
{
	static const char *bad[] = {
		"", "now", "yesterday", "epoch", "infinity", "2026-11-27x", "2026-1-27",
		"26-11-27", "2026-11-27T", "2026-11-27T19", "2026-11-27T19:3", "2026-11-27T19:30:1",
		"2026-11-27T19:30:01.", "2026-11-27T19:30:01+5", "2026-11-27T19:30:01+05:",
		"2026-11-27T19:30:01+16:00", "2026-11-27T19:30:01+05:60", "2026-11-27T19:30:01ZZ",
		"2026-11-27Z", "2026-13-01", "2026-00-10", "2026-02-29", "2100-02-29", "2026-04-31",
		"2026-11-00", "0000-01-01", "2026-11-27T24:00:00Z", "2026-11-27T19:60:00Z",
		"2026-11-27T19:30:61Z", "2026-11-27T19:30:01Z trailing",
		"2026-11-27T19:30:00.000000000000000000000000000000Z",	/* over 40 chars */
	};

	expect_time("2026-11-27T19:30:01Z", INT64_C(1795807801), 1);
	expect_time("2026-11-27 19:30:01Z", INT64_C(1795807801), 1);
	expect_time("2026-11-27T14:30:00-05:00", INT64_C(1795807800), 1);
	expect_time("2026-11-27T14:30:00-0500", INT64_C(1795807800), 1);
	expect_time("2026-11-27T14:30-05", INT64_C(1795807800), 1);
	expect_time("2000-02-29T12:00:00+02:00", INT64_C(951818400), 1);
	expect_time("2026-11-27T19:30:01.123456Z", INT64_C(1795807801), 1);
	expect_time("1970-01-01", 0, 0);
	expect_time("1969-12-31T23:59:59", -1, 0);
	expect_time("0001-01-01T00:00:00Z", INT64_C(-62135596800), 1);
	expect_time("2024-02-29", INT64_C(1709164800), 0);
	expect_time("2026-02-28T23:59:60Z", INT64_C(1772323200), 1);	/* leap second */
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		check(!dash_validate_iso_time(bad[i], NULL, NULL), "time \"%s\" refused", bad[i]);
	check(!dash_validate_iso_time(NULL, NULL, NULL), "no time refused");
}

/* -------------------------------------------------------------- from / to */

static void
expect_range(const char *from, const char *to, dash_range_check want, const char *what)
{
	dash_range_check	got = dash_validate_time_range(from, to);

	check(got == want, "range from=%s to=%s: %s (got %d)", from ? from : "(none)",
		  to ? to : "(none)", what, (int) got);
}

static void
test_ranges(void)
{
	expect_range(NULL, NULL, DASH_RANGE_OK, "defaults");
	expect_range("", "", DASH_RANGE_OK, "empty values are the defaults");
	expect_range("2026-11-27T14:00:00Z", NULL, DASH_RANGE_OK, "from only");
	expect_range(NULL, "2026-11-27T14:00:00Z", DASH_RANGE_OK, "to only");
	expect_range("2026-11-27T14:00:00Z", "2026-11-27T15:00:00Z", DASH_RANGE_OK, "one hour");
	expect_range("2026-11-27T14:00:00Z", "2026-11-27T09:30:00-05:00", DASH_RANGE_OK, "offsets compared as instants");
	expect_range("2026-11-01T00:00:00Z", "2026-12-02T00:00:00Z", DASH_RANGE_OK, "exactly 31 days");
	expect_range("2026-11-01T00:00:00Z", "2026-12-02T00:00:01Z", DASH_RANGE_BAD_ORDER, "over 31 days");
	expect_range("2026-11-27T15:00:00Z", "2026-11-27T14:00:00Z", DASH_RANGE_BAD_ORDER, "from after to");
	expect_range("2026-11-27T14:00:00Z", "2026-11-27T14:00:00Z", DASH_RANGE_BAD_ORDER, "from equal to to");
	expect_range("2026-11-27T15:00:00Z", "2026-11-27T09:30:00-05:00", DASH_RANGE_BAD_ORDER, "from after to across offsets");
	/* Without a zone the session's zone decides: left to the query. */
	expect_range("2026-01-01", "2026-03-01", DASH_RANGE_OK, "no zone: checked by the query");
	expect_range("2026-11-27T15:00:00", "2026-11-27T14:00:00Z", DASH_RANGE_OK, "one without a zone: checked by the query");
	expect_range("yesterday", NULL, DASH_RANGE_BAD_TIME, "from not a time");
	expect_range(NULL, "now", DASH_RANGE_BAD_TIME, "to not a time");
	expect_range("2026-02-30T00:00:00Z", "2026-03-02T00:00:00Z", DASH_RANGE_BAD_TIME, "impossible date");
	expect_range("2026-11-27T15:00:00Z", "2026-11-27T14:00:00Z'; DROP TABLE x;--", DASH_RANGE_BAD_TIME, "SQL in to");
}

/* ------------------------------------------------------------------ hosts */

static void
expect_split(const char *s, const char *name, int port)
{
	char		got[DASH_HOST_NAME_LEN + 1] = "";
	int			got_port = 0;
	bool		ok = dash_validate_split_host(s, strlen(s), got, sizeof got, &got_port);

	if (name)
		check(ok && !strcmp(got, name) && got_port == port,
			  "host \"%s\" is %s port %d (got %s \"%s\" %d)", s, name, port,
			  ok ? "ok" : "refused", got, got_port);
	else
		check(!ok, "host \"%s\" refused", s);
}

static void
test_split_host(void)
{
	char		long_label[80],
				long_name[300];

	expect_split("localhost", "localhost", DASH_PORT_ANY);
	expect_split("LocalHost:8080", "localhost", 8080);
	expect_split("localhost.:8080", "localhost", 8080);
	expect_split("127.0.0.1:1", "127.0.0.1", 1);
	expect_split("[::1]:65535", "[::1]", 65535);
	expect_split("[::FFFF:127.0.0.1]", "[::ffff:127.0.0.1]", DASH_PORT_ANY);
	expect_split("dash.example.com", "dash.example.com", DASH_PORT_ANY);
	expect_split("my_host-1.lan:80", "my_host-1.lan", 80);
	expect_split("", NULL, 0);
	expect_split(":8080", NULL, 0);
	expect_split("localhost:", NULL, 0);
	expect_split("localhost:0", NULL, 0);
	expect_split("localhost:65536", NULL, 0);
	expect_split("localhost:80a", NULL, 0);
	expect_split("localhost:+80", NULL, 0);
	expect_split("localhost:8080:1", NULL, 0);
	expect_split("local host", NULL, 0);
	expect_split("evil.example/x", NULL, 0);
	expect_split("a..b", NULL, 0);
	expect_split(".", NULL, 0);
	expect_split("user@localhost", NULL, 0);
	expect_split("[::1", NULL, 0);
	expect_split("[::1]x", NULL, 0);
	expect_split("[]", NULL, 0);
	expect_split("[127.0.0.1]", NULL, 0);
	expect_split("[::1%eth0]", NULL, 0);
	expect_split("::1", NULL, 0);
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	expect_split(long_label, NULL, 0);
	memset(long_name, 'a', sizeof long_name - 1);
	for (size_t i = 60; i < sizeof long_name - 1; i += 61)
		long_name[i] = '.';
	long_name[sizeof long_name - 1] = '\0';
	expect_split(long_name, NULL, 0);
}

static void
expect_parse(const char *spec, bool want, const char *what)
{
	dash_host_list	l;
	const char *bad = NULL;
	bool		ok = dash_hostlist_parse(&l, spec, &bad);

	check(ok == want, "--allowed-hosts \"%s\": %s%s%s", spec, what,
		  !ok && bad ? "; bad entry at " : "", !ok && bad ? bad : "");
}

static void
test_hostlist_parse(void)
{
	dash_host_list	l;
	const char *bad;
	char		many[2048] = "";

	expect_parse("localhost", true, "one name");
	expect_parse("localhost:8080, 127.0.0.1:8080 ,[::1]:8080,dash.example.com", true, "four, with spaces");
	expect_parse("*", true, "any");
	expect_parse("", false, "empty list refused");
	expect_parse("localhost,", false, "empty entry refused");
	expect_parse(",localhost", false, "leading comma refused");
	expect_parse("localhost,,127.0.0.1", false, "empty middle entry refused");
	expect_parse("localhost:http", false, "port name refused");
	expect_parse("exa mple.com", false, "space inside refused");
	for (int i = 0; i <= DASH_HOSTLIST_MAX; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many), "%sh%d", i ? "," : "", i);
	expect_parse(many, false, "more than DASH_HOSTLIST_MAX entries refused");

	check(dash_hostlist_parse(&l, "localhost:8080, bad host", &bad) == false && !strcmp(bad, "bad host"),
		  "--allowed-hosts error points at the bad entry");
	check(dash_hostlist_parse(&l, "A.Example:81,b.example", &bad) && l.n == 2 && !l.any &&
		  !strcmp(l.e[0].name, "a.example") && l.e[0].port == 81 &&
		  !strcmp(l.e[1].name, "b.example") && l.e[1].port == DASH_PORT_ANY,
		  "--allowed-hosts entries are lower-cased, ports kept");
}

static void
expect_allows(const dash_host_list *l, const char *list, const char *host, bool want)
{
	check(dash_hostlist_allows(l, host) == want, "allow-list \"%s\" %s Host %s%s%s", list,
		  want ? "allows" : "refuses", host ? "\"" : "", host ? host : "(none)", host ? "\"" : "");
}

static void
test_hostlist_allows(void)
{
	dash_host_list	l;
	const char *bad;
	const char *list = "localhost:8080,127.0.0.1:8080,[::1]:8080,dash.example.com,plain.example:80";

	if (!dash_hostlist_parse(&l, list, &bad))
	{
		check(0, "allow-list \"%s\" parses", list);
		return;
	}
	expect_allows(&l, list, "localhost:8080", true);
	expect_allows(&l, list, "LOCALHOST:8080", true);
	expect_allows(&l, list, "localhost.:8080", true);
	expect_allows(&l, list, "127.0.0.1:8080", true);
	expect_allows(&l, list, "[::1]:8080", true);
	expect_allows(&l, list, "dash.example.com", true);
	expect_allows(&l, list, "dash.example.com:443", true);
	expect_allows(&l, list, "plain.example", true);
	expect_allows(&l, list, "plain.example:80", true);
	expect_allows(&l, list, "plain.example:8080", false);
	expect_allows(&l, list, "localhost", false);
	expect_allows(&l, list, "localhost:8081", false);
	expect_allows(&l, list, "127.0.0.1:80", false);
	expect_allows(&l, list, "evil.example", false);
	expect_allows(&l, list, "evil.example:8080", false);
	expect_allows(&l, list, "localhost.evil.example:8080", false);
	expect_allows(&l, list, "dash.example.com.evil.example", false);
	expect_allows(&l, list, "127.0.0.2:8080", false);
	expect_allows(&l, list, "[::2]:8080", false);
	expect_allows(&l, list, "", false);
	expect_allows(&l, list, "localhost:8080 ", false);
	expect_allows(&l, list, "localhost:8080,evil.example", false);
	expect_allows(&l, list, NULL, false);

	dash_hostlist_parse(&l, "*", &bad);
	expect_allows(&l, "*", "evil.example", true);
	expect_allows(&l, "*", NULL, true);
}

/* ---------------------------------------------------------------- options */

static void
test_options(void)
{
	struct sockaddr_in sa;
	unsigned	v = 0;

	check(dash_validate_listen("127.0.0.1:8080", &sa) && ntohs(sa.sin_port) == 8080 &&
		  sa.sin_addr.s_addr == htonl(INADDR_LOOPBACK), "--listen 127.0.0.1:8080");
	check(dash_validate_listen("*:80", &sa) && sa.sin_addr.s_addr == htonl(INADDR_ANY), "--listen *:80");
	check(dash_validate_listen(":0", &sa) && sa.sin_port == 0, "--listen :0 (a port the kernel picks)");
	check(!dash_validate_listen("127.0.0.1", &sa), "--listen without a port refused");
	check(!dash_validate_listen("127.0.0.1:65536", &sa), "--listen port 65536 refused");
	check(!dash_validate_listen("127.0.0.1:-1", &sa), "--listen port -1 refused");
	check(!dash_validate_listen("localhost:8080", &sa), "--listen with a name refused (IPv4 address only)");
	check(!dash_validate_listen("[::1]:8080", &sa), "--listen IPv6 refused");

	check(parse_uint_range("16", 0, 100, &v) && v == 16, "number 16 in 0-100");
	check(parse_uint_range("0", 0, 100, &v) && v == 0, "number 0 in 0-100");
	check(!parse_uint_range("0", 1, 100, &v), "number 0 refused in 1-100");
	check(!parse_uint_range("101", 0, 100, &v), "number 101 refused in 0-100");
	check(!parse_uint_range("", 0, 100, &v), "empty number refused");
	check(!parse_uint_range("-1", 0, 100, &v), "negative number refused");
	check(!parse_uint_range("1e3", 0, 100000, &v), "number with an exponent refused");
	check(!parse_uint_range(" 5", 0, 100, &v), "number with a space refused");
	check(!parse_uint_range("99999999999", 0, 4000000000u, &v), "number over 10 digits refused");
}

int
main(void)
{
	test_symbols();
	test_symbol_lists();
	test_times();
	test_ranges();
	test_split_host();
	test_hostlist_parse();
	test_hostlist_allows();
	test_options();
	return tap_summary();
}
