/*
 * stream_test.c: unit tests of the event streams' keep-alive interval
 * (src/stream.c), run by `make -C dashboard check`: half of --timeout, at
 * most 15 s, so that the idle timeout never ends a healthy stream.  One
 * TAP line per check (tap.h, shared with test/unit); exits 1 if any check
 * failed.
 */
#include "stream.h"

#include <inttypes.h>

#include "tap.h"

static void
expect_heartbeat(unsigned timeout_sec, int64_t want_ms)
{
	int64_t		got = dash_stream_heartbeat_ms(timeout_sec);

	if (!check(got == want_ms, "--timeout %u: a keep-alive after %" PRId64 " ms", timeout_sec, want_ms))
		diag("got %" PRId64, got);
}

int
main(void)
{
	expect_heartbeat(2, 1000);		/* the smallest --timeout */
	expect_heartbeat(3, 1500);
	expect_heartbeat(29, 14500);
	expect_heartbeat(30, 15000);	/* the default */
	expect_heartbeat(31, 15000);
	expect_heartbeat(86400, 15000);	/* the largest */
	return tap_summary();
}
