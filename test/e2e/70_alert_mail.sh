#!/usr/bin/env bash
# Alert e-mails end to end, with a real SMTP server on loopback
# (test/e2e/smtp_sink.py, Debian's python3-aiosmtpd): a quote published to
# Kafka that crosses a threshold gives exactly one e-mail with the right
# envelope, headers and body; a second crossing within the cooldown gives
# none; with the SMTP server stopped the e-mail waits (pending, last_error
# set) and is delivered exactly once after the server is back on the same
# port; a recipient the server refuses for good is marked failed; a reload
# with an empty stockpipe.smtp_url makes the mailer idle.
#
# The checks of the rules are run by the scheduler's built-in job
# alert_check (every 5 s); the test only publishes quotes and waits.
. "$(dirname "$0")/common.sh"

SINK=$(cd "$(dirname "$0")" && pwd)/smtp_sink.py
SMTP_PORT=$(sp_free_port)
# The quotes carry fixed times (2026-11-27): accept any age.
e2e_start "stockpipe.smtp_url = 'smtp://127.0.0.1:$SMTP_PORT'" \
	"stockpipe.mail_from = 'alerts@stockpipe.test'" \
	"stockpipe.quote_max_age = 2147483647"
MAIL_DIR=$E2E_DIR/mail
mkdir -p "$MAIL_DIR"

smtp_start() {
	rm -f "$E2E_DIR/smtp.ready"
	/usr/bin/python3 "$SINK" --port "$SMTP_PORT" --dir "$MAIL_DIR" \
		--ready-file "$E2E_DIR/smtp.ready" --reject nobody@example.com \
		>>"$E2E_DIR/smtp.log" 2>&1 &
	SMTP_PID=$!
	SP_PIDS="$SP_PIDS $SMTP_PID"
	wait_for 15 "SMTP server on port $SMTP_PORT" test -s "$E2E_DIR/smtp.ready"
}
smtp_stop() {
	kill "$SMTP_PID" && wait "$SMTP_PID" 2>/dev/null
	SP_PIDS=${SP_PIDS/ $SMTP_PID/}
}

mails() { find "$MAIL_DIR" -name '*.eml' | wc -l; }
mails_are() { [ "$(mails)" -eq "$1" ]; }
# quote SYMBOL TS PRICE PREV_CLOSE: publish one quote and wait until stored.
quote() {
	printf '%s\t{"symbol":"%s","ts":"%s","price":%s,"prev_close":%s,"currency":"USD"}\n' \
		"$1" "$1" "$2" "$3" "$4" | produce stock_live
	wait_for 30 "quote $1 $2 stored" query_is \
		"SELECT count(*) FROM stockpipe.live_stock WHERE symbol = '$1' AND ts = '$2'" 1
}
# checked RULE PRICE: the alert check has evaluated RULE against that price.
checked() { query_is "SELECT last_price FROM stockpipe.alert_rule WHERE ruleid = $1" "$2"; }
event_of() { q "SELECT eventid FROM stockpipe.alert_event WHERE ruleid = $1 ORDER BY eventid LIMIT 1"; }
mailer_pid() { q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'stockpipe mailer'"; }

check "the mailer waits for alerts" wait_for 30 "mailer ready" query_is \
	"SELECT state FROM stockpipe.workers WHERE kind = 'mailer'" "waiting for alerts"
check_eq "pg_stat_activity names the mailer" "stockpipe mailer" \
	"$(q "SELECT application_name FROM pg_stat_activity WHERE backend_type = 'stockpipe mailer'")"
MAILER_PID=$(mailer_pid)
check "the scheduler's built-in job alert_check exists" query_is \
	"SELECT count(*) FROM stockpipe.job WHERE name = 'alert_check' AND enabled" 1
smtp_start || exit 1

# 1. Below, then above the threshold: exactly one e-mail.
RULE=$(q "SELECT stockpipe.set_alert('AAPL', 'price_above', 190, 'trader@example.com', cooldown => '1 hour')")
quote AAPL 2026-11-27T19:30:01Z 189.5 188
check "the alert check saw the quote below the threshold" wait_for 30 "check at 189.5" checked "$RULE" 189.5
check_eq "no event below the threshold" 0 "$(q "SELECT count(*) FROM stockpipe.alert_event")"
quote AAPL 2026-11-27T19:30:02Z 190.25 188
check "an e-mail arrives after the crossing" wait_for 30 "first e-mail" mails_are 1
EVENT=$(event_of "$RULE")
check "the event is marked sent" wait_for 10 "event sent" query_is \
	"SELECT status || '|' || attempts || '|' || (sent_at IS NOT NULL) || '|' || coalesce(last_error, '')
	   FROM stockpipe.alert_event WHERE eventid = $EVENT" "sent|1|true|"
MSG=$MAIL_DIR/0001.eml
check_eq "envelope: MAIL FROM and RCPT TO" "MAIL FROM:<alerts@stockpipe.test>|RCPT TO:<trader@example.com>" \
	"$(paste -sd'|' "$MAIL_DIR/0001.envelope")"
header() { sed -n '1,/^\r$/p' "$MSG" | tr -d '\r' | grep -m1 "^$1: " | cut -d' ' -f2-; }
check_eq "From" "alerts@stockpipe.test" "$(header From)"
check_eq "To" "trader@example.com" "$(header To)"
check_eq "Subject" "[stockpipe] AAPL price_above 190: 190.25" "$(header Subject)"
SYSID=$(q "SELECT system_identifier FROM pg_control_system()")
check_eq "Message-ID names the crossing (rule, quote time in µs) at the cluster (its system identifier)" \
	"<alert-$RULE-1795807802000000@stockpipe.$SYSID>" "$(header Message-ID)"
check "Date is an RFC 5322 date in UTC" grep -qE \
	$'^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} \\+0000\r$' "$MSG"
check_eq "MIME headers" "1.0|text/plain; charset=UTF-8|8bit" \
	"$(header MIME-Version)|$(header Content-Type)|$(header Content-Transfer-Encoding)"
check_eq "every line ends with CRLF" "$(wc -l <"$MSG")" "$(grep -c $'\r$' "$MSG")"
body() { sed '1,/^\r$/d' "$MSG" | tr -d '\r'; }
check "body: symbol" grep -qx 'Symbol:      AAPL' <(body)
check "body: condition" grep -qx 'Condition:   price_above' <(body)
check "body: threshold" grep -qx 'Threshold:   190' <(body)
check "body: price" grep -qx 'Price:       190.25' <(body)
check "body: quote time in the market's time zone" grep -qx \
	'Quote time:  2026-11-27 14:30:02 EST (America/New_York)' <(body)
check "body: day change" grep -qx \
	'Day change:  +2.25 (+1.20%) from the previous close of 188' <(body)
check "the message parses as RFC 5322 without defects" /usr/bin/python3 -c '
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
assert not m.defects and all(not h.defects for h in m.values()), m.defects
assert m.get_content_type() == "text/plain" and "AAPL" in m.get_content()
' "$MSG"

# 2. Below and above again within the cooldown: no second e-mail.
quote AAPL 2026-11-27T19:30:03Z 189 188
check "the rule re-armed below the threshold" wait_for 30 "check at 189" checked "$RULE" 189
check_eq "rule armed" "t" "$(q "SELECT armed FROM stockpipe.alert_rule WHERE ruleid = $RULE")"
quote AAPL 2026-11-27T19:30:04Z 191 188
check "the alert check saw the second crossing" wait_for 30 "check at 191" checked "$RULE" 191
sleep 8
echo "# observed 8 s after the second crossing (cooldown 1 hour)"
check_eq "no event for a crossing within the cooldown" 1 \
	"$(q "SELECT count(*) FROM stockpipe.alert_event WHERE ruleid = $RULE")"
check_eq "no second e-mail" 1 "$(mails)"

# 3. SMTP server down: the e-mail waits, then is delivered once.
smtp_stop
RULE2=$(q "SELECT stockpipe.set_alert('MSFT', 'price_above', 400, 'pm@example.com')")
quote MSFT 2026-11-27T19:31:00Z 405.5 400
check "with the server down the event stays pending with its error" wait_for 40 "failed attempt" query_is \
	"SELECT count(*) FROM stockpipe.alert_event WHERE ruleid = $RULE2 AND status = 'pending'
	    AND attempts >= 1 AND last_error IS NOT NULL AND next_attempt_at > now()" 1
EVENT2=$(event_of "$RULE2")
echo "# last_error: $(q "SELECT last_error FROM stockpipe.alert_event WHERE eventid = $EVENT2")"
check "last_error says the server could not be reached" query_is \
	"SELECT last_error ~* 'connect' FROM stockpipe.alert_event WHERE eventid = $EVENT2" t
check "stockpipe.workers shows the error" query_is \
	"SELECT last_error LIKE 'alert e-mail $EVENT2: %' FROM stockpipe.workers WHERE kind = 'mailer'" t
check "the mailer retries with back-off" wait_for 40 "second attempt" query_is \
	"SELECT attempts >= 2 FROM stockpipe.alert_event WHERE eventid = $EVENT2" t
check_eq "the outage is logged once, with the event id" 1 \
	"$(grep -c "could not deliver alert e-mail $EVENT2" "$E2E_DIR/postgres.log")"
check_eq "no e-mail while the server is down" 1 "$(mails)"
smtp_start || exit 1
check "the waiting e-mail is delivered after the server is back" wait_for 60 "second e-mail" mails_are 2
check_eq "it is the MSFT alert to pm@example.com" "To: pm@example.com|Subject: [stockpipe] MSFT price_above 400: 405.5" \
	"$(tr -d '\r' <"$MAIL_DIR/0002.eml" | grep -E '^(To|Subject): ' | paste -sd'|')"
check "the event is marked sent" wait_for 10 "event 2 sent" query_is \
	"SELECT status FROM stockpipe.alert_event WHERE eventid = $EVENT2" sent
sleep 5
echo "# observed 5 s after the delivery"
check_eq "delivered exactly once" 2 "$(mails)"
check "the recovery is logged" grep -q "SMTP server reachable again; alert e-mail $EVENT2 delivered" "$E2E_DIR/postgres.log"

# 4. A recipient the server refuses for good: failed, not retried.
RULE3=$(q "SELECT stockpipe.set_alert('NVDA', 'price_above', 100, 'nobody@example.com')")
quote NVDA 2026-11-27T19:32:00Z 150 140
check "a refused recipient marks the event failed" wait_for 40 "event failed" query_is \
	"SELECT status || '|' || attempts FROM stockpipe.alert_event WHERE ruleid = $RULE3" "failed|1"
echo "# last_error: $(q "SELECT last_error FROM stockpipe.alert_event WHERE ruleid = $RULE3")"
check "last_error has the server's 550 reply to RCPT" query_is \
	"SELECT last_error LIKE '%SMTP reply to RCPT: 550 5.1.1%' FROM stockpipe.alert_event WHERE ruleid = $RULE3" t
check_eq "no e-mail for the refused recipient" 2 "$(mails)"

# 5. A reload with no SMTP server configured: the mailer idles.
sp_psql -c "ALTER SYSTEM SET stockpipe.smtp_url = ''" -c "SELECT pg_reload_conf()" >/dev/null
check "with stockpipe.smtp_url empty the mailer is idle" wait_for 20 "mailer idle" query_is \
	"SELECT state FROM stockpipe.workers WHERE kind = 'mailer'" "idle: stockpipe.smtp_url is not set"
check_eq "the same mailer process all along" "$MAILER_PID" "$(mailer_pid)"
check "the mailer logged no error" bash -c "! grep -E '\\[$MAILER_PID\\] .*(ERROR|FATAL|PANIC):' '$E2E_DIR/postgres.log'"
exit $SP_TEST_FAILED
