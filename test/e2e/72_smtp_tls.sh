#!/usr/bin/env bash
# Secrets and TLS of the mailer and the consumers, end to end, with real SMTP
# servers on loopback (test/e2e/smtp_tls.py, Debian's python3-aiosmtpd) that
# record every command they receive, and a throw-away CA made with openssl:
#
#  (a) smtp:// with a user and password to a server without STARTTLS: no
#      AUTH ever reaches it, the e-mail stays pending with the reason; with
#      stockpipe.smtp_allow_plaintext_auth = on it is delivered;
#  (b) smtp:// to a STARTTLS server: AUTH only after STARTTLS, with the
#      password of stockpipe.smtp_password_file (not stockpipe.smtp_password),
#      which never shows in the server log;
#  (c) smtps://: delivered;
#  (d) a certificate from a CA other than stockpipe.smtp_ca_file: not
#      delivered, no AUTH, a clear error;
#  (e) stockpipe.kafka_options_file: a valid file is applied; a bad line is
#      reported with file and line but without its value; an edited file is
#      picked up on reload;
#  (f) stockpipe.mail_allowed_domains: a recipient outside is 'failed'
#      without a connection, one inside is delivered;
#  (g) an unreadable stockpipe.smtp_password_file: the mailer idles, warns
#      once, and sends once the file is back.
#
# Events are inserted into the outbox directly (as the superuser), so the
# test does not depend on the alert rules' SQL API.
. "$(dirname "$0")/common.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
e2e_start "stockpipe.mail_from = 'alerts@stockpipe.test'"

# --- the CA, the certificates and the secrets --------------------------------
TLS=$E2E_DIR/tls
SECRETS=$E2E_DIR/secrets
mkdir -p "$TLS" "$SECRETS"
# new_ca NAME CN / new_cert NAME CA: an EC key and certificate in $TLS.
new_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=$2" -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign \
		-keyout "$TLS/$1.key" -out "$TLS/$1.pem" 2>>"$TLS/openssl.log"
}
new_cert() {
	printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
		"keyUsage=digitalSignature" "extendedKeyUsage=serverAuth" >"$TLS/$1.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-subj "/CN=127.0.0.1" -keyout "$TLS/$1.key" -out "$TLS/$1.csr" 2>>"$TLS/openssl.log" &&
		openssl x509 -req -in "$TLS/$1.csr" -CA "$TLS/$2.pem" -CAkey "$TLS/$2.key" \
			-CAcreateserial -days 2 -extfile "$TLS/$1.ext" -out "$TLS/$1.pem" 2>>"$TLS/openssl.log"
}
if ! { new_ca ca "stockpipe e2e CA" && new_cert server ca &&
	new_ca other "some other CA" && new_cert rogue other; }; then
	cat "$TLS/openssl.log" >&2
	exit 1
fi
check "the throw-away CA signs the server certificate, not the rogue one" bash -c \
	"openssl verify -CAfile '$TLS/ca.pem' '$TLS/server.pem' >/dev/null &&
	 ! openssl verify -CAfile '$TLS/ca.pem' '$TLS/rogue.pem' >/dev/null 2>&1"

SMTP_USER=alerts
PASSWORD="pw-$RANDOM$RANDOM-from-file"
INLINE_PASSWORD="pw-$RANDOM$RANDOM-inline"
# secret_file PATH: stdin into a file only the server's OS user can read.
secret_file() {
	cat >"$1"
	chmod 600 "$1"
	as_root chown postgres:postgres "$1"
}
printf '%s\n' "$PASSWORD" | secret_file "$SECRETS/smtp_password"
# the SMTP servers (run by this shell's user) read a copy
printf '%s\n' "$PASSWORD" >"$TLS/server_password"

# --- the SMTP servers ----------------------------------------------------------
# smtp_server NAME MODE PORT [CERT]: start one, files in $E2E_DIR/NAME.
smtp_server() {
	local name=$1 mode=$2 port=$3 cert=${4:-}
	mkdir -p "$E2E_DIR/$name"
	/usr/bin/python3 "$HERE/smtp_tls.py" --port "$port" --dir "$E2E_DIR/$name/mail" \
		--mode "$mode" ${cert:+--cert "$TLS/$cert.pem" --key "$TLS/$cert.key"} \
		--user "$SMTP_USER" --password-file "$TLS/server_password" \
		--transcript "$E2E_DIR/$name/transcript" --ready-file "$E2E_DIR/$name/ready" \
		>>"$E2E_DIR/$name/log" 2>&1 &
	SP_PIDS="$SP_PIDS $!"
	wait_for 15 "SMTP server $name on port $port" test -s "$E2E_DIR/$name/ready" || exit 1
}
# each port taken just before its server binds it, so no two get the same
PLAIN_PORT=$(sp_free_port)
smtp_server plain plain "$PLAIN_PORT"
STARTTLS_PORT=$(sp_free_port)
smtp_server starttls starttls "$STARTTLS_PORT" server
SMTPS_PORT=$(sp_free_port)
smtp_server smtps smtps "$SMTPS_PORT" server
ROGUE_PORT=$(sp_free_port)
smtp_server rogue starttls "$ROGUE_PORT" rogue

mails() { find "$E2E_DIR/$1/mail" -name '*.eml' 2>/dev/null | wc -l; }
mails_are() { [ "$(mails "$1")" -eq "$2" ]; }
transcript() { cat "$E2E_DIR/$1/transcript" 2>/dev/null; }
# verbs NAME: the transcript as "tls|plain VERB" lines, peers left out.
verbs() { transcript "$1" | cut -d' ' -f2-; }

# --- helpers -------------------------------------------------------------------
mailer_state() { q "SELECT state FROM stockpipe.workers WHERE kind = 'mailer'"; }
mailer_state_is() { [ "$(mailer_state)" = "$1" ]; }
set_conf() {
	local a args=()
	for a in "$@"; do args+=(-c "ALTER SYSTEM SET $a"); done
	sp_psql "${args[@]}" -c "SELECT pg_reload_conf()" >/dev/null
}
# use_server URL [SETTING...]: apply the settings and URL, and wait until the
# mailer has them (it idles without a URL: a barrier the test can see).
use_server() {
	local url=$1; shift
	set_conf "stockpipe.smtp_url = ''" "$@"
	wait_for 20 "mailer idle" mailer_state_is "idle: stockpipe.smtp_url is not set" || return 1
	set_conf "stockpipe.smtp_url = '$url'"
	wait_for 20 "mailer ready for $url" mailer_state_is "waiting for alerts"
}
# event EMAIL: one pending alert e-mail to EMAIL; prints its id.
event() {
	q "INSERT INTO stockpipe.alert_event (owner, symbol, condition, threshold, email, price, quote_ts)
	   VALUES ('postgres', 'AAPL', 'price_above', 190, '$1', 190.25, now()) RETURNING eventid"
}
last_error_of() { q "SELECT last_error FROM stockpipe.alert_event WHERE eventid = $1"; }
# tried EVENT: at least one attempt failed and the event waits for another.
tried() { query_is "SELECT status = 'pending' AND attempts >= 1 AND last_error IS NOT NULL
	FROM stockpipe.alert_event WHERE eventid = $1" t; }
retry_now() { q "UPDATE stockpipe.alert_event SET next_attempt_at = now() WHERE eventid = $1"; }
log_has() { grep -qF -- "$1" "$E2E_DIR/postgres.log"; }
log_count() { grep -cF -- "$1" "$E2E_DIR/postgres.log"; }

# nothing below can work without the mailer: stop at once if it is not there
if wait_for 30 "mailer idle" mailer_state_is "idle: stockpipe.smtp_url is not set"; then
	ok "the mailer idles until stockpipe.smtp_url is set"
else
	not_ok "the mailer idles until stockpipe.smtp_url is set"
	exit 1
fi
MAILER_PID=$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'stockpipe mailer'")

# --- (a) credentials and a server without STARTTLS ------------------------------
use_server "smtp://127.0.0.1:$PLAIN_PORT" \
	"stockpipe.smtp_user = '$SMTP_USER'" \
	"stockpipe.smtp_password = '$INLINE_PASSWORD'" \
	"stockpipe.smtp_password_file = '$SECRETS/smtp_password'" \
	"stockpipe.smtp_ca_file = '$TLS/ca.pem'"
check "(a) the mailer runs with the user, the password file and the CA file" mailer_state_is "waiting for alerts"
EA=$(event trader@example.com)
check "(a) with no STARTTLS the e-mail stays pending" wait_for 30 "event $EA tried" tried "$EA"
echo "# last_error: $(last_error_of "$EA")"
check "(a) last_error says TLS is required and the credentials were not sent" query_is \
	"SELECT last_error LIKE '%STARTTLS%' AND last_error LIKE '%stockpipe.smtp_allow_plaintext_auth is off%'
	    AND last_error LIKE '%credentials were not sent%'
	   FROM stockpipe.alert_event WHERE eventid = $EA" t
check_eq "(a) nothing delivered" 0 "$(mails plain)"
check "(a) the server saw EHLO" grep -q ' EHLO$' "$E2E_DIR/plain/transcript"
check "(a) the server never received AUTH, MAIL or the message" \
	bash -c "! grep -E ' (AUTH|auth-|MAIL|DATA)' '$E2E_DIR/plain/transcript'"
echo "# plain server saw: $(verbs plain | sort | uniq -c | tr -s ' ' | paste -sd,)"
check "(a) a WARNING whose hint names stockpipe.smtp_allow_plaintext_auth" grep -qE \
	'HINT: .*set stockpipe.smtp_allow_plaintext_auth = on and reload' "$E2E_DIR/postgres.log"
check "(a) stockpipe.workers shows the error" query_is \
	"SELECT last_error LIKE 'alert e-mail $EA: %STARTTLS%' FROM stockpipe.workers WHERE kind = 'mailer'" t

use_server "smtp://127.0.0.1:$PLAIN_PORT" "stockpipe.smtp_allow_plaintext_auth = on"
retry_now "$EA"
check "(a) with smtp_allow_plaintext_auth on it is delivered" wait_for 30 "plain delivery" mails_are plain 1
check "(a) the event is sent" wait_for 10 "event $EA sent" query_is \
	"SELECT status FROM stockpipe.alert_event WHERE eventid = $EA" sent
check "(a) this time the server got AUTH, in clear text, with the file's password" \
	grep -qx '.* plain auth-ok alerts' "$E2E_DIR/plain/transcript"

# --- (b) STARTTLS, password from the file ---------------------------------------
use_server "smtp://127.0.0.1:$STARTTLS_PORT" "stockpipe.smtp_allow_plaintext_auth = off"
EB=$(event pm@example.com)
check "(b) delivered over STARTTLS" wait_for 30 "STARTTLS delivery" mails_are starttls 1
check "(b) the event is sent" wait_for 10 "event $EB sent" query_is \
	"SELECT status || '|' || attempts FROM stockpipe.alert_event WHERE eventid = $EB" "sent|1"
check_eq "(b) delivered once" 1 "$(mails starttls)"
echo "# STARTTLS server saw: $(verbs starttls | paste -sd,)"
check_eq "(b) the session: STARTTLS first, then AUTH (accepted) and the message, all over TLS" \
	"plain EHLO|plain STARTTLS|tls EHLO|tls AUTH|tls auth-ok alerts|tls MAIL|tls RCPT|tls DATA" \
	"$(verbs starttls | grep -v QUIT | head -8 | paste -sd'|')"
check "(b) no command but EHLO and STARTTLS before TLS" \
	bash -c "! cut -d' ' -f2- '$E2E_DIR/starttls/transcript' | grep '^plain' | grep -qvE '^plain (EHLO|STARTTLS)$'"
check_eq "(b) the envelope" "MAIL FROM:<alerts@stockpipe.test>|RCPT TO:<pm@example.com>" \
	"$(paste -sd'|' "$E2E_DIR/starttls/mail/0001.envelope")"
check "(b) the file's password is nowhere in the server log" bash -c "! grep -qF -- '$PASSWORD' '$E2E_DIR/postgres.log'"
check "(b) the inline stockpipe.smtp_password, by contrast, is in the log (a reload logs new values)" \
	log_has "$INLINE_PASSWORD"

# --- (c) smtps:// ------------------------------------------------------------------
use_server "smtps://127.0.0.1:$SMTPS_PORT"
EC=$(event desk@example.com)
check "(c) delivered over smtps://" wait_for 30 "smtps delivery" mails_are smtps 1
check "(c) the event is sent" wait_for 10 "event $EC sent" query_is \
	"SELECT status FROM stockpipe.alert_event WHERE eventid = $EC" sent
check "(c) AUTH was accepted over TLS, and nothing went in clear text" bash -c \
	"grep -q ' tls auth-ok alerts$' '$E2E_DIR/smtps/transcript' && ! grep -q ' plain ' '$E2E_DIR/smtps/transcript'"

# --- (d) a certificate not signed by stockpipe.smtp_ca_file ----------------------
use_server "smtp://127.0.0.1:$ROGUE_PORT"
ED=$(event trader@example.com)
check "(d) with an untrusted certificate the e-mail stays pending" wait_for 30 "event $ED tried" tried "$ED"
echo "# last_error: $(last_error_of "$ED")"
check "(d) last_error says the certificate could not be verified" query_is \
	"SELECT last_error ~* 'certificate' FROM stockpipe.alert_event WHERE eventid = $ED" t
check_eq "(d) nothing delivered" 0 "$(mails rogue)"
check "(d) the rogue server got STARTTLS but never AUTH or MAIL" bash -c \
	"grep -q ' STARTTLS$' '$E2E_DIR/rogue/transcript' && ! grep -qE ' (AUTH|auth-|MAIL)' '$E2E_DIR/rogue/transcript'"
check "(d) a WARNING names stockpipe.smtp_ca_file" grep -qE \
	"HINT: .*stockpipe.smtp_ca_file" "$E2E_DIR/postgres.log"
q "UPDATE stockpipe.alert_event SET status = 'failed' WHERE eventid = $ED" >/dev/null

# --- (f) stockpipe.mail_allowed_domains ---------------------------------------------
use_server "smtp://127.0.0.1:$STARTTLS_PORT" "stockpipe.mail_allowed_domains = 'example.com, example.org'"
BEFORE=$(transcript starttls | wc -l)
EF1=$(event someone@evil.test)
check "(f) a recipient outside the allowed domains: failed" wait_for 30 "event $EF1 failed" query_is \
	"SELECT status || '|' || attempts FROM stockpipe.alert_event WHERE eventid = $EF1" "failed|1"
echo "# last_error: $(last_error_of "$EF1")"
check "(f) last_error names the domain and the setting" query_is \
	"SELECT last_error = 'message not sent: the recipient''s domain \"evil.test\" is not in stockpipe.mail_allowed_domains'
	   FROM stockpipe.alert_event WHERE eventid = $EF1" t
check_eq "(f) no connection to the SMTP server for it" "$BEFORE" "$(transcript starttls | wc -l)"
EF2=$(event Trader@Mail.EXAMPLE.org)
check "(f) a subdomain of an allowed domain, in capitals: delivered" wait_for 30 "second STARTTLS delivery" \
	mails_are starttls 2
check "(f) the event is sent" wait_for 10 "event $EF2 sent" query_is \
	"SELECT status FROM stockpipe.alert_event WHERE eventid = $EF2" sent
check "(f) the refused address never reached the server" bash -c \
	"! grep -rq 'evil.test' '$E2E_DIR/starttls/mail'"
set_conf "stockpipe.mail_allowed_domains = ''"

# --- (g) an unreadable stockpipe.smtp_password_file -------------------------------
MISSING=$SECRETS/no_such_file
set_conf "stockpipe.smtp_password_file = '$MISSING'"
check "(g) the mailer idles" wait_for 20 "mailer idle (password file)" \
	mailer_state_is "idle: cannot use stockpipe.smtp_password_file"
check "(g) stockpipe.workers names the file and the reason" query_is \
	"SELECT last_error FROM stockpipe.workers WHERE kind = 'mailer'" \
	"could not open stockpipe.smtp_password_file \"$MISSING\": No such file or directory"
EG=$(event pm@example.com)
# another reload that finds the same problem (the idle state is the barrier)
set_conf "stockpipe.mail_from = 'not an address'"
wait_for 20 "mailer idle (mail_from)" mailer_state_is "idle: stockpipe.mail_from is not valid"
check_eq "(g) while idle the e-mail is not tried" "pending|0" \
	"$(q "SELECT status || '|' || attempts FROM stockpipe.alert_event WHERE eventid = $EG")"
check_eq "(g) the unreadable file is logged once, as a WARNING with path and errno text" 1 \
	"$(log_count "WARNING:  stockpipe mailer: could not open stockpipe.smtp_password_file \"$MISSING\": No such file or directory")"
set_conf "stockpipe.mail_from = 'alerts@stockpipe.test'" "stockpipe.smtp_password_file = '$SECRETS/smtp_password'"
check "(g) with the file back, the waiting e-mail is delivered" wait_for 30 "third STARTTLS delivery" \
	mails_are starttls 3
check "(g) the event is sent" wait_for 10 "event $EG sent" query_is \
	"SELECT status FROM stockpipe.alert_event WHERE eventid = $EG" sent

# --- (e) stockpipe.kafka_options_file ---------------------------------------------
KFILE=$SECRETS/kafka.properties
KSECRET1="ks-$RANDOM$RANDOM-unknown"
KSECRET2="ks-$RANDOM$RANDOM-invalid"
live_error() { q "SELECT last_error FROM stockpipe.workers WHERE kind = 'live'"; }
live_error_like() { query_is "SELECT last_error LIKE '$1' FROM stockpipe.workers WHERE kind = 'live'" t; }
# quote SYMBOL: publish a quote stamped now and wait until it is stored.
quote() {
	local ts
	ts=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	printf '%s\t{"symbol":"%s","ts":"%s","price":101.5,"currency":"USD"}\n' "$1" "$1" "$ts" | produce stock_live
	wait_for 60 "quote $1 stored" query_is "SELECT count(*) FROM stockpipe.live_stock WHERE symbol = '$1'" 1
}
reconnects() { log_count "Kafka settings changed, reconnecting"; }

printf '%s\n' "# Kafka client properties for stockpipe" "" "fetch.wait.max.ms = 10" \
	"client.id=stockpipe-e2e" | secret_file "$KFILE"
R0=$(reconnects)
set_conf "stockpipe.kafka_options_file = '$KFILE'"
check "(e) setting the file makes both consumers reconnect" wait_for 30 "reconnects" \
	bash -c "[ \$(grep -cF 'Kafka settings changed, reconnecting' '$E2E_DIR/postgres.log') -ge $((R0 + 2)) ]"
check "(e) with a valid options file quotes are ingested" quote OPT1

printf '%s\n' "# Kafka client properties for stockpipe" "fetch.wait.max.ms=10" \
	"sasl.pasword=$KSECRET1" | secret_file "$KFILE"
sp_psql -c "SELECT pg_reload_conf()" >/dev/null
check "(e) an edited file is picked up on reload; a bad line: last_error names file and line" \
	wait_for 30 "live worker error" live_error_like \
	"cannot configure the Kafka client: stockpipe.kafka_options_file \"$KFILE\", line 3: unknown librdkafka property \"sasl.pasword\""
echo "# live worker last_error: $(live_error)"
check_eq "(e) the worker waits to retry" "waiting to retry Kafka client" \
	"$(q "SELECT state FROM stockpipe.workers WHERE kind = 'live'")"

printf '%s\n' "fetch.wait.max.ms=$KSECRET2" | secret_file "$KFILE"
check "(e) a value librdkafka refuses: file, line and key, no value" wait_for 30 "live worker error 2" live_error_like \
	"cannot configure the Kafka client: stockpipe.kafka_options_file \"$KFILE\", line 1: librdkafka refuses the value of property \"fetch.wait.max.ms\" (the value is not shown)"
check "(e) the problem is logged as a WARNING naming the file" \
	grep -qF "WARNING:  stockpipe stock_live consumer 0: cannot configure the Kafka client: stockpipe.kafka_options_file \"$KFILE\"" \
	"$E2E_DIR/postgres.log"
check "(e) neither secret value of the file is in the server log" bash -c \
	"! grep -qE -- '$KSECRET1|$KSECRET2' '$E2E_DIR/postgres.log'"

printf '%s\n' "fetch.wait.max.ms = 10" | secret_file "$KFILE"
check "(e) with the file corrected the worker consumes again" wait_for 30 "live consuming" query_is \
	"SELECT state FROM stockpipe.workers WHERE kind = 'live'" consuming
check "(e) and quotes are ingested" quote OPT2

check_eq "the same mailer process all along" "$MAILER_PID" \
	"$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'stockpipe mailer'")"
check "the mailer logged no error" bash -c \
	"! grep -E '\\[$MAILER_PID\\] .*(ERROR|FATAL|PANIC):' '$E2E_DIR/postgres.log'"
check "no ERROR or PANIC in the server log, no FATAL but the workers' before createdb" bash -c \
	"! grep -E '(ERROR|FATAL|PANIC):' '$E2E_DIR/postgres.log' | grep -vF 'FATAL:  database \"stockpipe\" does not exist'"
check "the SMTP password is nowhere in the server log, at the end either" bash -c \
	"! grep -qF -- '$PASSWORD' '$E2E_DIR/postgres.log'"
exit "$SP_TEST_FAILED"
