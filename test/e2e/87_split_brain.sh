#!/usr/bin/env bash
# Split brain: the primary crashes, its standby is promoted and ingests,
# then the old primary is started again as a primary, pointing at the same
# Kafka cluster.  The split-brain fence (src/fence.c, consumer.c): the new
# primary's consumers tag their offset commits with the system identifier
# and the timeline; the old primary's consumers find the same system on a
# later timeline and stop, and so do its mailer and scheduler.
#  - the old primary logs why and what to do, its workers show "fenced";
#  - it stores nothing more, starts no job run;
#  - the new primary goes on: each quote once, its workers not fenced.
. "$(dirname "$0")/common.sh"

e2e_start "stockpipe.consumer_workers = 2"
e2e_standby_start || exit 1

now=$(date +%s)
quote() { printf '%s\t{"symbol":"%s","ts":%s,"price":%s}\n' "$1" "$1" "$2" "$3"; }
for i in $(seq 20); do quote AAA $((now - 100 + i)) "10.$i"; done | produce stock_live
wait_for 30 "20 quotes on the primary" query_is "SELECT count(*) FROM stockpipe.live_stock" 20
sb_rows_are() { [ "$(qs "SELECT count(*) FROM stockpipe.live_stock")" = "$1" ]; }
wait_for 30 "20 quotes on the standby" sb_rows_are 20

# --- the primary crashes; the standby is promoted and ingests
pm=$(as_pg head -1 "$E2E_DIR/pgdata/postmaster.pid")
kill -9 "$pm"
gone() { ! kill -0 "$pm" 2>/dev/null; }
wait_for 30 "the old primary's processes gone" gone
sb_ctl promote
for i in $(seq 10); do quote BBB $((now - 50 + i)) "20.$i"; done | produce stock_live
check "the promoted server stores the next quotes (30)" wait_for 60 "30 quotes on the new primary" sb_rows_are 30
check_eq "its consumers are not fenced" "" \
	"$(qs "SELECT string_agg(state, ', ') FROM stockpipe.workers WHERE state LIKE 'fenced%'")"

# --- the old primary comes back as a primary, same Kafka cluster
sp_pg_start || { cat "$E2E_DIR/postgres.log" >&2; exit 1; }
check_eq "the old primary is up, not in recovery (a split brain)" f "$(q "SELECT pg_is_in_recovery()")"
check "the old primary's consumers find the later timeline of the same system and say so" \
	wait_for 30 "fence message" grep -q "this server has been superseded: timeline 2 of the same system" "$E2E_DIR/postgres.log"
check "... with what to do" grep -q "HINT:  Retire this server: make it a standby of the new primary" "$E2E_DIR/postgres.log"
fenced_all() { [ "$(q "SELECT count(*) FROM stockpipe.workers WHERE state LIKE 'fenced: superseded by timeline 2%'")" -ge 5 ]; }
check "every worker of the old primary is fenced (2 live consumers, the daily one, scheduler, mailer)" \
	wait_for 30 "all fenced" fenced_all
old_runs=$(q "SELECT count(*) FROM stockpipe.job_run")

for i in $(seq 10); do quote CCC $((now - 20 + i)) "30.$i"; done | produce stock_live
check "the new primary stores quotes published during the split brain (40)" wait_for 60 "40 quotes" sb_rows_are 40
check_eq "... each once, by content" "AAA 20 10.20 BBB 10 20.10 CCC 10 30.10" \
	"$(qs "SELECT string_agg(format('%s %s %s', symbol, n, last), ' ' ORDER BY symbol)
	         FROM (SELECT symbol, count(*) n, count(DISTINCT ts) d,
	                      (array_agg(price ORDER BY ts DESC))[1]::numeric(6,2) AS last
	                 FROM stockpipe.live_stock GROUP BY symbol) s WHERE n = d")"
# Two of alert_check's due times (5 s apart) passing on the new primary is
# time enough for the old one to have started a run, had it not been
# fenced: its scheduler started again, and the first due check after a
# start always runs (whether or not quotes arrived; the new primary, with
# no more quotes, may leave its own checks out).
new_mark=$(qs "SELECT extract(epoch FROM now())::bigint")
new_due_twice() { [ "$(qs "SELECT extract(epoch FROM next_run_at)::bigint FROM stockpipe.job WHERE name = 'alert_check'")" -ge $((new_mark + 10)) ]; }
wait_for 30 "two alert_check due times on the new primary" new_due_twice
check_eq "the old primary stored nothing more (its 20 rows)" 20 "$(q "SELECT count(*) FROM stockpipe.live_stock")"
check_eq "... and started no job run" "$old_runs" "$(q "SELECT count(*) FROM stockpipe.job_run")"
check_eq "the new primary's workers are still not fenced" "" \
	"$(qs "SELECT string_agg(state, ', ') FROM stockpipe.workers WHERE state LIKE 'fenced%'")"
check "no crash on either server" \
	bash -c "! grep -h 'terminated by signal' '$E2E_DIR/standby.log' '$E2E_DIR/postgres.log'"
exit $SP_TEST_FAILED
