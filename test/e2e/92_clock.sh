#!/usr/bin/env bash
# The market's date, whatever the hour the tests run (issue 9, item 0).
# L30D's as_of is the market's trading date (stockpipe.market_timezone) for
# the built-in job, the event-triggered refresh and a manual refresh_l30d()
# alike.  The server's clock is pinned (libfaketime, SP_FAKE_TIME) on both
# sides of the hours where UTC and New York disagree about the date --
# after midnight UTC but before midnight in New York, in winter and just
# after the autumn DST change -- and at midday, where they agree: refreshes
# from sessions in any time zone give exactly one as_of, New York's date.
# libfaketime does not reach the job workers here (dynamic background
# workers start with the real clock), so the event-triggered refresh, which
# runs in one, is checked against a manual refresh on the real clock.
. "$(dirname "$0")/common.sh"

# bars NEW_YORK_DATE: 40 daily bars of ACME ending on that date, closes
# 139 down to 100.
bars() {
	local i
	for i in $(seq 39 -1 0); do
		printf 'ACME\t{"symbol":"ACME","date":"%s","close":%d}\n' "$(date -u -d "$1 - $i days" +%F)" $((100 + i))
	done | produce stock_daily
}

# run_at "FAKE UTC TIME" "EXPECTED NEW YORK DATE" LABEL
run_at() {
	local fake=$1 ny_date=$2 label=$3
	SP_FAKE_TIME=$fake
	# no event-triggered refresh here: it would run in a job worker, on the real clock
	e2e_start "stockpipe.l30d_debounce = '1h'"
	local fake_s
	fake_s=$(date -u -d "$fake" +%s)
	check "$label: the server's clock is the pinned one" query_is \
		"SELECT abs(extract(epoch FROM now()) - $fake_s) < 120" t
	check_eq "$label: market_date() is New York's date" "$ny_date" "$(q "SELECT stockpipe.market_date()")"
	bars "$ny_date"
	check "$label: bars stored" wait_for 30 "40 bars" query_is \
		"SELECT count(*) FROM stockpipe.historical_stock_data" 40
	# Refreshes from a session in UTC (the case that once made a second
	# as_of), from Tokyo and from New York.
	PGTZ=UTC q "SELECT stockpipe.refresh_l30d()" >/dev/null
	PGTZ=Asia/Tokyo q "SELECT stockpipe.refresh_l30d()" >/dev/null
	PGTZ=America/New_York q "SELECT stockpipe.refresh_l30d()" >/dev/null
	check_eq "$label: one as_of, New York's date, for every refresh" "$ny_date|1" \
		"$(q "SELECT string_agg(DISTINCT as_of::text, ','), count(*) FROM stockpipe.l30d_summary")"
	check_eq "$label: the window ends on New York's date" "$ny_date|30|100" \
		"$(q "SELECT window_end, days_used, last_close FROM stockpipe.l30d_summary")"
	# A quote stamped with the pinned now is inside the consumers' window.
	printf 'ACME\t{"symbol":"ACME","ts":%d,"price":101}\n' "$fake_s" | produce stock_live
	check "$label: a quote at the pinned now is stored" wait_for 30 "quote" query_is \
		"SELECT count(*) FROM stockpipe.live_stock" 1
	sp_cleanup
	[ "$SP_TEST_FAILED" = 0 ] && rm -rf "$E2E_DIR"
	E2E_DIR=
}

# The real clock: the event-triggered refresh and a manual one agree.
SP_FAKE_TIME=
e2e_start "stockpipe.l30d_debounce = '1s'"
today=$(q "SELECT stockpipe.market_date()")
check_eq "real clock: market_date() is New York's date" "$(TZ=America/New_York date +%F)" "$today"
bars "$today"
check "real clock: the event-triggered refresh ran" wait_for 40 "event refresh" query_is \
	"SELECT count(*) FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid)
	  WHERE j.name = 'l30d_refresh' AND r.trigger = 'event' AND r.status = 'succeeded'" 1
PGTZ=UTC q "SELECT stockpipe.refresh_l30d()" >/dev/null
check_eq "real clock: event-triggered and manual refresh give one as_of, New York's date" "$today|1" \
	"$(q "SELECT string_agg(DISTINCT as_of::text, ','), count(*) FROM stockpipe.l30d_summary")"
sp_cleanup
[ "$SP_TEST_FAILED" = 0 ] && rm -rf "$E2E_DIR"
E2E_DIR=

# Pinned times lie ahead of the real clock (the postmaster starts its
# background workers late when its clock is set back).
tomorrow=$(date -u -d tomorrow +%F)
ny_today=$(date -u -d "$tomorrow - 1 day" +%F)
# The first Sunday of November of next year: clocks go back in New York.
year=$(( $(date -u +%Y) + 1 ))
for d in 1 2 3 4 5 6 7; do
	[ "$(date -u -d "$year-11-0$d" +%u)" = 7 ] && fallback=$year-11-0$d && break
done
run_at "$tomorrow 02:30:00 UTC" "$ny_today" "02:30 UTC (New York still on the day before)"
run_at "$tomorrow 15:00:00 UTC" "$tomorrow" "15:00 UTC (same date in both)"
run_at "$(date -u -d "$fallback + 1 day" +%F) 04:30:00 UTC" "$fallback" \
	"04:30 UTC the night after the DST change (23:30 EST)"
exit $SP_TEST_FAILED
