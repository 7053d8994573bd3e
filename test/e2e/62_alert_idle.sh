#!/usr/bin/env bash
# Idle cost of the built-in alert_check (issue 13, item 6): the scheduler
# runs it only when quotes were stored or a rule was created or re-enabled
# since its last run.  With no quotes arriving, its due times pass without
# a job_run row (its next_run_at still advances every 5 s); a rule created
# while idle is checked at the next due time against the newest quote; a
# re-enabled rule is checked too; a quote arriving after the quiet period
# is checked within a schedule period (its crossing gives an event).
. "$(dirname "$0")/common.sh"

e2e_start
now=$(date +%s)
iso() { date -u -d "@$1" +%FT%TZ; }
# quote SYMBOL TS PRICE: publish one quote and wait until stored.
quote() {
	printf '%s\t{"symbol":"%s","ts":"%s","price":%s,"prev_close":%s,"currency":"USD"}\n' \
		"$1" "$1" "$2" "$3" "$3" | produce stock_live
	wait_for 30 "quote $1 $2 stored" query_is \
		"SELECT count(*) FROM stockpipe.live_stock WHERE symbol = '$1' AND ts = '$2'" 1
}
runs() { q "SELECT count(*) FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid) WHERE j.name = 'alert_check'"; }
runs_are() { [ "$(runs)" -eq "$1" ]; }
# The scheduler's own record of the check's schedule: its next due time.
next_due() { q "SELECT extract(epoch FROM next_run_at)::bigint FROM stockpipe.job WHERE name = 'alert_check'"; }
# due_passed FROM N: the check's next due time moved N seconds past FROM
# (N / 5 due times came and went).
due_passed() { [ "$(next_due)" -ge $(($1 + $2)) ]; }
events_of() { q "SELECT count(*) FROM stockpipe.alert_event WHERE ruleid = $1"; }
events_are() { [ "$(events_of "$1")" -eq "$2" ]; }
checked() { query_is "SELECT last_price FROM stockpipe.alert_rule WHERE ruleid = $1" "$2"; }
# quiet SECONDS: wait until that many seconds of due times passed; true when
# alert_check added no job_run row meanwhile.
quiet() {
	local before from
	before=$(runs)
	from=$(next_due)
	wait_for $(($1 + 15)) "$1 s of alert_check due times" due_passed "$from" "$1" || return 1
	[ "$(runs)" -eq "$before" ] || { sp_log "alert_check runs: $before before, $(runs) after"; return 1; }
}

# A quote and a rule: the first check runs (the first due check after the
# scheduler starts always does), and evaluates the rule.
quote AAA "$(iso $((now - 60)))" 10
RULE_UP=$(q "SELECT stockpipe.set_alert('AAA', 'price_above', 50, 'trader@example.com', cooldown => '0')")
check "a rule is checked against the stored quote" wait_for 30 "rule $RULE_UP checked" checked "$RULE_UP" 10
wait_for 20 "no alert_check run in progress" query_is \
	"SELECT count(*) FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid)
	  WHERE j.name = 'alert_check' AND r.status IN ('scheduled', 'running')" 0

# 1. No quotes for 20 s: four due times and more, no job_run row.
check "no quotes for 20 s: alert_check adds no job_run row (its next_run_at moves on)" quiet 20
check_eq "... is still enabled, and no check was recorded as missed" "true|0" \
	"$(q "SELECT j.enabled || '|' || (SELECT count(*) FROM stockpipe.job_run r
	       WHERE r.jobid = j.jobid AND (r.trigger = 'catch-up' OR r.message LIKE 'missed:%'))
	        FROM stockpipe.job j WHERE j.name = 'alert_check'")"

# 2. A rule created while idle fires at the next check: it has a quote.
before=$(runs)
RULE_DOWN=$(q "SELECT stockpipe.set_alert('AAA', 'price_below', 20, 'trader@example.com', cooldown => '0')")
check "a rule created while idle fires at the next check (newest quote 10 < 20)" \
	wait_for 12 "event of rule $RULE_DOWN" events_are "$RULE_DOWN" 1
check_eq "... by one alert_check run" $((before + 1)) "$(runs)"
check "... and the checks stop again" quiet 10

# 3. Re-enabling a rule while idle gives one check; disabling gives none.
before=$(runs)
q "SELECT stockpipe.enable_alert($RULE_UP, false)" >/dev/null
check "disabling a rule while idle gives no check" quiet 10
q "SELECT stockpipe.enable_alert($RULE_UP, true)" >/dev/null
check "re-enabling a rule while idle gives one check" wait_for 12 "check after re-enabling" runs_are $((before + 1))
check "... it evaluated the rule afresh" wait_for 10 "re-enabled rule checked" query_is \
	"SELECT last_quote_ts IS NOT NULL FROM stockpipe.alert_rule WHERE ruleid = $RULE_UP" t
# A rule created in a transaction that rolls back changes nothing.
sp_psql -c "BEGIN; SELECT stockpipe.set_alert('AAA', 'price_above', 1, 'trader@example.com'); ROLLBACK" >/dev/null 2>&1
check "a rule creation that rolled back gives no check" quiet 10

# 4. A quote after the quiet period is checked within a period: its
#    crossing (60 > 50) gives an event.
quote AAA "$(iso $((now - 30)))" 60
stored_at=$SECONDS
check "a quote after the quiet period is checked within ~5 s: its crossing gives an event" \
	wait_for 8 "event of rule $RULE_UP" events_are "$RULE_UP" 1
diag_s=$((SECONDS - stored_at))
echo "# crossing checked ${diag_s}s after the quote was stored"
check "... and the checks stop again" quiet 10
check "no ERROR in the server log" bash -c "! grep -q 'ERROR' '$E2E_DIR/postgres.log'"
exit $SP_TEST_FAILED
