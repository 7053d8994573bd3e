/*
 * backoff_test.c -- the back-off schedule: doubling, cap, jitter bounds,
 * and the state changes that drive "logged once per state change".
 */
#include "backoff.h"
#include "tap.h"

int
main(void)
{
	struct backoff b;
	static const long long nominal[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000};
	char		name[128];
	int			all_in_bounds = 1;

	backoff_init(&b, 1000, 60000);
	for (int i = 0; i < 9; i++)
	{
		snprintf(name, sizeof(name), "schedule: failure %d, no jitter -> %lld ms", i + 1,
				 nominal[i] / 2);
		check_int(backoff_delay_ms(&b, i + 1, 0.0), nominal[i] / 2, name);
		snprintf(name, sizeof(name), "schedule: failure %d, most jitter -> ~%lld ms", i + 1,
				 nominal[i]);
		CHECK(backoff_delay_ms(&b, i + 1, 0.999999) >= nominal[i] - 1 &&
			  backoff_delay_ms(&b, i + 1, 0.999999) <= nominal[i], name);
	}
	check_int(backoff_delay_ms(&b, 0, 0.5), 0, "schedule: no failure, no delay");
	check_int(backoff_delay_ms(&b, 1000000, 0.999), 59970, "schedule: huge count stays capped");
	for (int n = 1; n < 40; n++)
		for (double u = 0; u < 1; u += 0.01)
		{
			long long	d = backoff_delay_ms(&b, n, u);

			if (d < 500 || d > 60000)
				all_in_bounds = 0;
		}
	CHECK(all_in_bounds, "jitter: always within [base/2, cap]: never a tight loop");
	CHECK(backoff_delay_ms(&b, 3, 0.2) != backoff_delay_ms(&b, 3, 0.8), "jitter: varies with u");

	CHECK(!backoff_waiting(&b, 0), "state: healthy is not waiting");
	CHECK(backoff_failed(&b, 10000, 0.0) == 1, "state: first failure is a change");
	check_int(b.until_ms, 10500, "state: first retry after 500 ms");
	CHECK(backoff_waiting(&b, 10499), "state: waiting before the retry time");
	CHECK(!backoff_waiting(&b, 10500), "state: not waiting at the retry time");
	CHECK(backoff_failed(&b, 10500, 0.0) == 0, "state: second failure is no change");
	check_int(b.until_ms, 11500, "state: second retry after 1000 ms");
	CHECK(backoff_succeeded(&b) == 1, "state: success after failures is a change");
	CHECK(backoff_succeeded(&b) == 0, "state: success when healthy is no change");
	CHECK(!backoff_waiting(&b, 0), "state: healthy again");

	backoff_init(&b, 0, 0);
	CHECK(b.base_ms >= 1 && b.max_ms >= b.base_ms, "init: nonsense values are sanitised");
	return tap_summary();
}
