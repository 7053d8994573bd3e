/*
 * files_test.c: unit tests of which static files stockpipe-dash serves,
 * and as what (src/files.c), run by `make -C dashboard check`.  One TAP
 * line per check (tap.h, shared with test/unit); exits 1 if any check
 * failed.
 */
#include "files.h"

#include <string.h>

#include "tap.h"

static void
test_names(void)
{
	static const char *good[] = {"index.html", "app.js", "app.css", "favicon.ico",
	"lightweight-charts.standalone.production.js", "a", "a.", "under_score-1.png", "a..b"};
	static const char *bad[] = {"", ".", "..", ".htaccess", "../etc/passwd", "a/b", "static/app.js",
	"/etc/passwd", "a b", "a%2fb", "%2e%2e", "a\\b", "app.js?x=1", "caf\xc3\xa9.js", "a\nb", "a:b"};
	char		name[128];

	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		check(dash_files_name_ok(good[i]), "file name \"%s\" served", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		check(!dash_files_name_ok(bad[i]), "file name \"%s\" refused",
			  strchr(bad[i], '\n') ? "a\\nb" : bad[i]);
	memset(name, 'a', 100);
	name[100] = '\0';
	check(dash_files_name_ok(name), "a file name of 100 characters served");
	name[100] = 'a';
	name[101] = '\0';
	check(!dash_files_name_ok(name), "a file name of 101 characters refused");
}

static void
expect_type(const char *name, const char *want)
{
	const char *got = dash_files_content_type(name);

	if (!check(!strcmp(got, want), "%s is %s", name, want))
		diag("got %s", got);
}

static void
test_types(void)
{
	expect_type("index.html", "text/html; charset=utf-8");
	expect_type("app.js", "text/javascript; charset=utf-8");
	expect_type("lightweight-charts.standalone.production.js", "text/javascript; charset=utf-8");
	expect_type("app.css", "text/css; charset=utf-8");
	expect_type("logo.svg", "image/svg+xml");
	expect_type("shot.png", "image/png");
	expect_type("favicon.ico", "image/x-icon");
	expect_type("README", "application/octet-stream");
	expect_type("data.json", "application/octet-stream");
	expect_type("page.HTML", "application/octet-stream");
	expect_type("app.js.map", "application/octet-stream");
	expect_type("a.", "application/octet-stream");
}

int
main(void)
{
	test_names();
	test_types();
	return tap_summary();
}
