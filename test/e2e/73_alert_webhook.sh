#!/usr/bin/env bash
# Alert webhooks end to end (issue 12), with a real HTTP server on loopback
# (test/e2e/http_sink.py): a rule of a user with three channels (generic
# JSON, Slack, Teams) gets exactly one POST on each, with the right body,
# headers and idempotency key; with the receiver stopped the delivery stays
# pending with the reason and is retried with back-off, then delivered
# exactly once after the receiver is back on the same port; a 404 is a
# permanent failure with the status and the start of the answer kept, a
# 503 is retried; the URLs' secret part never reaches the server log, even
# when set_channel() refuses one.  No SMTP server is configured: webhooks
# do not depend on it.
#
# The checks of the rules are run by the scheduler's built-in job
# alert_check (every 5 s); the test only publishes quotes and waits.
. "$(dirname "$0")/common.sh"

SINK=$(cd "$(dirname "$0")" && pwd)/http_sink.py
HTTP_PORT=$(sp_free_port)
# The secret part of every URL: it must never appear in the server's log.
TOKEN=tok$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
BASE=http://127.0.0.1:$HTTP_PORT
# The quotes carry fixed times (2026-11-27): accept any age.  The sink is
# on loopback: only a listed host may be private.
e2e_start "stockpipe.webhook_allowed_hosts = '127.0.0.1'" \
	"stockpipe.quote_max_age = 2147483647"
HOOK_DIR=$E2E_DIR/hooks
mkdir -p "$HOOK_DIR"

sink_start() {
	rm -f "$E2E_DIR/http.ready"
	/usr/bin/python3 "$SINK" --port "$HTTP_PORT" --dir "$HOOK_DIR" \
		--ready-file "$E2E_DIR/http.ready" --status /gone/=404 --status /busy/=503 \
		>>"$E2E_DIR/http.log" 2>&1 &
	SINK_PID=$!
	SP_PIDS="$SP_PIDS $SINK_PID"
	wait_for 15 "HTTP server on port $HTTP_PORT" test -s "$E2E_DIR/http.ready"
}
sink_stop() {
	kill "$SINK_PID" && wait "$SINK_PID" 2>/dev/null
	SP_PIDS=${SP_PIDS/ $SINK_PID/}
}

# requests [PATH_PREFIX]: how many requests the sink recorded (on that path).
requests() {
	/usr/bin/python3 - "$HOOK_DIR" "${1:-/}" <<'EOF'
import glob, json, sys
print(sum(json.load(open(f))["path"].startswith(sys.argv[2])
          for f in glob.glob(sys.argv[1] + "/*.json")))
EOF
}
requests_are() { [ "$(requests "${2:-/}")" -eq "$1" ]; }
# request_field PATH_PREFIX EXPR: a Python expression over the last request
# r on that path (r["headers"], r["body"], j = the parsed body).
request_field() {
	/usr/bin/python3 - "$HOOK_DIR" "$1" "$2" <<'EOF'
import glob, json, sys
rs = [json.load(open(f)) for f in sorted(glob.glob(sys.argv[1] + "/*.json"))]
r = [x for x in rs if x["path"].startswith(sys.argv[2])][-1]
j = json.loads(r["body"])
print(eval(sys.argv[3]))
EOF
}
quote() {
	printf '%s\t{"symbol":"%s","ts":"%s","price":%s,"prev_close":%s,"currency":"USD"}\n' \
		"$1" "$1" "$2" "$3" "$4" | produce stock_live
	wait_for 30 "quote $1 $2 stored" query_is \
		"SELECT count(*) FROM stockpipe.live_stock WHERE symbol = '$1' AND ts = '$2'" 1
}
checked() { query_is "SELECT last_price FROM stockpipe.alert_rule WHERE ruleid = $1" "$2"; }
alice() { sp_psql -U alice -c "$1" 2>&1; }
delivery() {
	q "SELECT d.$2 FROM stockpipe.alert_delivery d JOIN stockpipe.alert_event e USING (eventid)
	    WHERE e.ruleid = $1 AND d.channel = '$3'"
}

check "the mailer is idle for e-mail (no SMTP server configured)" wait_for 30 "mailer up" query_is \
	"SELECT state FROM stockpipe.workers WHERE kind = 'mailer'" "idle: stockpipe.smtp_url is not set"
MAILER_PID=$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'stockpipe mailer'")
sp_psql -c "CREATE ROLE alice LOGIN IN ROLE stockpipe_user" >/dev/null
sp_pg_allow_login alice || exit 1
sink_start || exit 1

# 1. Three channels of alice's, one rule to all of them (no e-mail).
alice "SELECT stockpipe.set_channel('hook', 'webhook', '$BASE/hook/$TOKEN')" >/dev/null
alice "SELECT stockpipe.set_channel('chat', 'slack', '$BASE/slack/$TOKEN')" >/dev/null
alice "SELECT stockpipe.set_channel('team', 'teams', '$BASE/teams/$TOKEN?sig=$TOKEN')" >/dev/null
check_eq "my_channels shows the URLs redacted" "chat|$BASE/...,hook|$BASE/...,team|$BASE/..." \
	"$(alice "SELECT string_agg(name || '|' || url_redacted, ',' ORDER BY name) FROM stockpipe.my_channels")"
check "alice cannot read a URL back" bash -c \
	"! psql -X -q -At -U alice -c 'SELECT url FROM stockpipe.alert_channel' >/dev/null 2>&1"
# A refused URL: the error does not quote it, and the statement is not logged.
check "set_channel refuses a URL with white space" bash -c \
	"psql -X -q -At -U alice -c \"SELECT stockpipe.set_channel('bad', 'slack', 'https://hooks.example.com/$TOKEN x')\" 2>&1 | grep -q 'contains white space'"
RULE=$(alice "SELECT stockpipe.set_alert('AAPL', 'price_above', 190, NULL, cooldown => '1 hour',
                                        channels => ARRAY['hook', 'chat', 'team'])")
quote AAPL 2026-11-27T19:30:01Z 189.5 188
check "the alert check saw the quote below the threshold" wait_for 30 "check at 189.5" checked "$RULE" 189.5
quote AAPL 2026-11-27T19:30:02Z 190.25 188
check "one request arrives on each channel" wait_for 30 "three requests" requests_are 3
EVENT=$(q "SELECT eventid FROM stockpipe.alert_event WHERE ruleid = $RULE")
check "the deliveries are marked sent" wait_for 10 "deliveries sent" query_is \
	"SELECT string_agg(channel || ':' || status || ':' || attempts || ':' || http_status || ':' || (sent_at IS NOT NULL), ',' ORDER BY channel)
	   FROM stockpipe.alert_delivery WHERE eventid = $EVENT" \
	"chat:sent:1:200:true,hook:sent:1:200:true,team:sent:1:200:true"
check_eq "the event has no e-mail" "none" "$(q "SELECT status FROM stockpipe.alert_event WHERE eventid = $EVENT")"
check_eq "exactly one request per channel" "1 1 1" "$(requests /hook/) $(requests /slack/) $(requests /teams/)"
CH_HOOK=$(q "SELECT channelid FROM stockpipe.alert_channel WHERE name = 'hook'")
CH_CHAT=$(q "SELECT channelid FROM stockpipe.alert_channel WHERE name = 'chat'")
check_eq "generic: POST with a JSON content type" "POST|application/json; charset=utf-8" \
	"$(request_field /hook/ 'r["method"] + "|" + r["headers"]["Content-Type"]')"
# The key names the crossing: the rule and the quote's time in µs (the same
# on any server that finds it), then the channel.
KEY=$RULE-1795807802000000
check_eq "generic: Idempotency-Key header" "stockpipe-$KEY-$CH_HOOK" \
	"$(request_field /hook/ 'r["headers"]["Idempotency-Key"]')"
check_eq "generic: the event's values" \
	"$EVENT|$RULE|AAPL|price_above|190|190.25|2026-11-27T19:30:02Z|188|2.25|1.2|stockpipe-$KEY-$CH_HOOK" \
	"$(request_field /hook/ '"|".join(str(j[k]) for k in ("event_id","rule_id","symbol","condition","threshold","price","quote_time","prev_close","change","change_pct","idempotency_key"))')"
check_eq "generic: the text for people" \
	"stockpipe alert: AAPL price_above 190. Price 190.25 at 2026-11-27 14:30:02 EST (America/New_York); previous close 188, change +2.25 (+1.2%). Event $EVENT, rule $RULE." \
	"$(request_field /hook/ 'j["text"]')"
check_eq "slack: one text member, title in bold" \
	"['text']|*stockpipe alert: AAPL price_above 190*" \
	"$(request_field /slack/ 'str(sorted(j)) + "|" + j["text"].splitlines()[0]')"
check_eq "slack: Idempotency-Key header" "stockpipe-$KEY-$CH_CHAT" \
	"$(request_field /slack/ 'r["headers"]["Idempotency-Key"]')"
check_eq "teams: a message with an Adaptive Card" \
	"message|application/vnd.microsoft.card.adaptive|AdaptiveCard|stockpipe alert: AAPL price_above 190" \
	"$(request_field /teams/ 'j["type"] + "|" + j["attachments"][0]["contentType"] + "|" + j["attachments"][0]["content"]["type"] + "|" + j["attachments"][0]["content"]["body"][0]["text"]')"
check_eq "teams: the query string reached the receiver" "/teams/$TOKEN?sig=$TOKEN" \
	"$(request_field /teams/ 'r["path"]')"

# 2. The receiver down: pending with the reason, retried, then delivered once.
sink_stop
RULE2=$(alice "SELECT stockpipe.set_alert('MSFT', 'price_above', 400, NULL, channels => ARRAY['hook'])")
quote MSFT 2026-11-27T19:31:00Z 405.5 400
check "with the receiver down the delivery stays pending with its error" wait_for 40 "failed attempt" query_is \
	"SELECT count(*) FROM stockpipe.alert_delivery d JOIN stockpipe.alert_event e USING (eventid)
	  WHERE e.ruleid = $RULE2 AND d.status = 'pending' AND d.attempts >= 1
	    AND d.last_error IS NOT NULL AND d.next_attempt_at > now()" 1
EVENT2=$(q "SELECT eventid FROM stockpipe.alert_event WHERE ruleid = $RULE2")
echo "# last_error: $(delivery "$RULE2" last_error hook)"
check "last_error says the receiver could not be reached" query_is \
	"SELECT last_error ~* 'connect' AND http_status IS NULL FROM stockpipe.alert_delivery WHERE eventid = $EVENT2" t
check "the mailer retries with back-off" wait_for 40 "second attempt" query_is \
	"SELECT attempts >= 2 FROM stockpipe.alert_delivery WHERE eventid = $EVENT2" t
check_eq "the failure is logged once, with the channel and host" 1 \
	"$(grep -c "could not deliver alert $EVENT2 to webhook channel \"hook\" (webhook, host 127.0.0.1)" "$E2E_DIR/postgres.log")"
check_eq "nothing arrived while the receiver was down" 3 "$(requests)"
sink_start || exit 1
check "the waiting delivery arrives after the receiver is back" wait_for 60 "fourth request" requests_are 4
check "it is marked sent" wait_for 10 "delivery 2 sent" query_is \
	"SELECT status FROM stockpipe.alert_delivery WHERE eventid = $EVENT2" sent
ATTEMPTS2=$(q "SELECT attempts FROM stockpipe.alert_delivery WHERE eventid = $EVENT2")
echo "# delivered at attempt $ATTEMPTS2"
check_eq "it is the MSFT alert, with its own key" "MSFT|stockpipe-$RULE2-1795807860000000-$CH_HOOK" \
	"$(request_field /hook/ 'j["symbol"] + "|" + r["headers"]["Idempotency-Key"]')"
check "the late delivery is logged" grep -q \
	"alert $EVENT2 delivered to webhook channel \"hook\" (webhook, host 127.0.0.1) after $((ATTEMPTS2 - 1)) failed attempts" \
	"$E2E_DIR/postgres.log"

# 3. A receiver answering 404: failed for good, reason kept; 503: retried.
alice "SELECT stockpipe.set_channel('gone', 'webhook', '$BASE/gone/$TOKEN')" >/dev/null
alice "SELECT stockpipe.set_channel('busy', 'slack', '$BASE/busy/$TOKEN')" >/dev/null
RULE3=$(alice "SELECT stockpipe.set_alert('NVDA', 'price_above', 100, NULL, channels => ARRAY['gone', 'busy', 'hook'])")
quote NVDA 2026-11-27T19:32:00Z 150 140
check "a 404 marks the delivery failed at the first attempt" wait_for 40 "404 failed" query_is \
	"SELECT d.status || '|' || d.attempts || '|' || d.http_status FROM stockpipe.alert_delivery d
	   JOIN stockpipe.alert_event e USING (eventid) WHERE e.ruleid = $RULE3 AND d.channel = 'gone'" "failed|1|404"
echo "# last_error: $(delivery "$RULE3" last_error gone)"
check "last_error keeps the status and the start of the answer (200 bytes)" query_is \
	"SELECT d.last_error = 'HTTP 404: stockpipe-test: 404 for /gone/ ' || repeat('x', 200 - length('stockpipe-test: 404 for /gone/ '))
	   FROM stockpipe.alert_delivery d JOIN stockpipe.alert_event e USING (eventid)
	  WHERE e.ruleid = $RULE3 AND d.channel = 'gone'" t
check "a 503 is retried" wait_for 40 "503 pending" query_is \
	"SELECT d.status || '|' || (d.attempts >= 1) || '|' || d.http_status || '|' || (d.last_error LIKE 'HTTP 503: %')
	   FROM stockpipe.alert_delivery d JOIN stockpipe.alert_event e USING (eventid)
	  WHERE e.ruleid = $RULE3 AND d.channel = 'busy'" "pending|true|503|true"
check "the rule's third channel still gets it" wait_for 40 "hook sent" query_is \
	"SELECT d.status FROM stockpipe.alert_delivery d JOIN stockpipe.alert_event e USING (eventid)
	  WHERE e.ruleid = $RULE3 AND d.channel = 'hook'" sent
check "the 503 gets a second attempt" wait_for 40 "503 retried" query_is \
	"SELECT d.attempts >= 2 FROM stockpipe.alert_delivery d JOIN stockpipe.alert_event e USING (eventid)
	  WHERE e.ruleid = $RULE3 AND d.channel = 'busy'" t
check_eq "the 404 was not retried" "1|1" \
	"$(requests /gone/)|$(delivery "$RULE3" attempts gone)"
check "my_channels shows alice the failure" query_is \
	"SET ROLE alice; SELECT failed || '|' || (last_error LIKE 'HTTP 404: %') FROM stockpipe.my_channels WHERE name = 'gone'" "1|true"

# 4. Exactly once: every idempotency key answered 200 arrived once.
check_eq "no key was delivered twice" "" "$(/usr/bin/python3 - "$HOOK_DIR" <<'EOF'
import collections, glob, json, sys
keys = collections.Counter(json.load(open(f))["headers"].get("Idempotency-Key")
                           for f in glob.glob(sys.argv[1] + "/*.json")
                           if json.load(open(f))["status"] == 200)
print(" ".join(k for k, n in keys.items() if n > 1))
EOF
)"
echo "# requests received: $(requests) ($(requests /hook/) generic, $(requests /slack/) slack, $(requests /teams/) teams, $(requests /gone/) 404, $(requests /busy/) 503)"

# 5. The secret never reached the server log.
check_eq "the refused set_channel() was logged, without its statement" "1|0" \
	"$(grep -c 'ERROR:  invalid webhook URL for channel "bad"' "$E2E_DIR/postgres.log")|$(grep -c 'STATEMENT:  SELECT stockpipe.set_channel' "$E2E_DIR/postgres.log")"
check_eq "the URLs' secret part is not in the server log" 0 "$(grep -c "$TOKEN" "$E2E_DIR/postgres.log")"
check "stockpipe.workers shows the last webhook error without the URL" query_is \
	"SELECT last_error LIKE 'alert webhook %' AND last_error NOT LIKE '%$TOKEN%' FROM stockpipe.workers WHERE kind = 'mailer'" t
check_eq "the same mailer process all along" "$MAILER_PID" \
	"$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'stockpipe mailer'")"
check "the mailer logged no error" bash -c "! grep -E '\\[$MAILER_PID\\] .*(ERROR|FATAL|PANIC):' '$E2E_DIR/postgres.log'"
exit $SP_TEST_FAILED
