/*
 * stats_test.c -- the one-line stats report.
 */
#include "stats.h"
#include "tap.h"

int
main(void)
{
	struct stats s = {0};
	struct publisher_stats k = {10, 8, 2};
	char		line[512];

	s.fetched = 12;
	s.published = 10;
	s.unchanged = 2;
	s.http_errors = 3;
	s.bad_responses = 1;
	stats_cycle(&s, 100);
	stats_cycle(&s, 300);
	stats_format(&s, &k, line, sizeof(line));
	check_str(line, "stats: cycles=2 fetched=12 published=10 unchanged=2 http_errors=3 "
			  "bad_responses=1 delivered=8 delivery_errors=2 cycle_ms(last/avg/max)=300/200/300",
			  "stats line");
	stats_format(&s, &k, line, sizeof(line));
	CHECK(strstr(line, "cycles=2 ") && strstr(line, "cycle_ms(last/avg/max)=300/0/0"),
		  "stats: totals kept, cycle-time window reset");
	return tap_summary();
}
