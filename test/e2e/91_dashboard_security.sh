#!/usr/bin/env bash
# stockpipe-dash under attack (issue 9, item 7), against the real pipeline
# (broker, extension, the server logged in as a stockpipe_reader login).
# Each attack that was reproduced is performed again and must fail:
#   - one client holding every connection (streams or half-sent requests):
#     a per-address limit, an idle timeout and a request-head deadline, and
#     another client is still answered at once; a healthy event stream
#     outlives the idle timeout on its heartbeats;
#   - DNS rebinding: a request for another Host is refused (421);
#   - NOTIFY stockpipe_live from a role with no grants, with a script as
#     payload and then 10,000 of them: the stream carries only rows of the
#     database, and the refresh queries (counted by pg_stat_statements) stay
#     within --max-refresh-rate;
#   - the session runs with jit = off and a statement_timeout.
# First, the unit tests of the request checks (make -C dashboard check).
. "$(dirname "$0")/common.sh"

DASH_DIR=$SP_ROOT/dashboard
CONNS="/usr/bin/python3 $DASH_DIR/test/conns.py"
make -C "$DASH_DIR" -s stockpipe-dash >/dev/null || { not_ok "stockpipe-dash builds"; exit 1; }

# --- unit tests of src/validate.c
unit=$(make -C "$DASH_DIR" -s check 2>&1); unit_rc=$?
grep -E '^(not )?ok - |^# ' <<<"$unit"
grep -q '^not ok - ' <<<"$unit" && SP_TEST_FAILED=1
[ $unit_rc -eq 0 ] || grep -q '^not ok - ' <<<"$unit" || not_ok "make -C dashboard check (exit $unit_rc): $(tail -n 3 <<<"$unit")"

# --- bad flags: exit 2 with the usage line
flag_exit() { "$DASH_DIR/stockpipe-dash" "$@" >/dev/null 2>"$FLAG_ERR"; echo "$? $(grep -c '^usage: stockpipe-dash' "$FLAG_ERR")"; }
FLAG_ERR=$(mktemp)
check_eq "bad --max-connections-per-ip: exit 2 with usage" "2 1" "$(flag_exit --max-connections-per-ip many)"
check_eq "bad --allowed-hosts entry: exit 2 with usage" "2 1" "$(flag_exit --allowed-hosts 'localhost, evil example')"
check_eq "bad --allowed-hosts: the error names the entry" "1" "$(grep -c 'at "evil example"' "$FLAG_ERR")"
check_eq "--timeout 1 (below the heartbeat's 1 s): exit 2" "2 1" "$(flag_exit --timeout 1)"
check_eq "--request-timeout 0: exit 2" "2 1" "$(flag_exit --request-timeout 0)"
check_eq "--max-refresh-rate 0: exit 2" "2 1" "$(flag_exit --max-refresh-rate 0)"
check_eq "unknown flag: exit 2" "2 1" "$(flag_exit --no-such-flag)"
rm -f "$FLAG_ERR"

# pg_stat_statements counts the dashboard's queries from outside it.
e2e_start "shared_preload_libraries = 'stockpipe,pg_stat_statements'"
sp_psql <<'SQL'
CREATE EXTENSION pg_stat_statements;
CREATE ROLE stockpipe_dash LOGIN;
GRANT stockpipe_reader TO stockpipe_dash;
-- The second server's login: its queries are not counted with the first's.
CREATE ROLE stockpipe_dash2 LOGIN;
GRANT stockpipe_reader TO stockpipe_dash2;
-- The attacker: may log in (PUBLIC has CONNECT), nothing else.
CREATE ROLE mallory LOGIN;
SQL
for role in stockpipe_dash stockpipe_dash2 mallory; do sp_pg_allow_login "$role" || exit 1; done

now=$(date +%s)
quote() { # SYMBOL TS PRICE PREV_CLOSE
	printf '%s\t{"symbol":"%s","ts":%s,"price":%s,"volume":1000,"currency":"USD","prev_close":%s}\n' "$1" "$1" "$2" "$3" "$4"
}
{
	quote AAPL $((now - 120)) 190.00 188.00
	quote AAPL $((now - 60)) 190.50 188.00
	quote MSFT $((now - 60)) 420.00 421.00
} | produce stock_live
wait_for 30 "3 quotes stored" query_is "SELECT count(*) FROM stockpipe.live_stock" 3

port=$(sp_free_port)
BASE=http://127.0.0.1:$port
"$DASH_DIR/stockpipe-dash" --listen "127.0.0.1:$port" --static "$DASH_DIR/static" \
	--max-clients 20 --max-connections-per-ip 4 --timeout 3 --request-timeout 5 \
	--dsn "host=$PGHOST port=$PGPORT dbname=stockpipe user=stockpipe_dash" 2>"$E2E_DIR/dash.log" &
DASH_PID=$!
SP_PIDS="$SP_PIDS $DASH_PID"
check "stockpipe-dash serves" wait_for 10 "stockpipe-dash" curl -sf "$BASE/healthz"

# health KEY: a field of /healthz
health() { curl -s "$BASE/healthz" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
at_least() { [ "$(health "$1")" -ge "$2" ]; }

# --- (d) the session's settings
check_eq "its session runs with jit = off" "off" "$(health jit)"
check_eq "its session has statement_timeout = 5 s" "5s" "$(health statement_timeout)"
check_eq "one session, as stockpipe_dash" "1" \
	"$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'stockpipe-dash' AND usename = 'stockpipe_dash'")"

# --- (b) DNS rebinding: the Host allow-list
# code CURL-ARGS...: "STATUS BODY"
code() { local s; s=$(curl -s -o "$E2E_DIR/body" -w '%{http_code}' "$@"); echo "$s $(cat "$E2E_DIR/body")"; }
check_eq "Host evil.example: 421 with a JSON error" '421 {"error":"host not allowed"}' \
	"$(code -H 'Host: evil.example' "$BASE/api/symbols")"
check_eq "Host evil.example:PORT (a rebound name, our port): 421" "421" \
	"$(code -H "Host: evil.example:$port" "$BASE/api/symbols" | cut -d' ' -f1)"
check_eq "Host 127.0.0.1 on another port: 421" "421" "$(code -H 'Host: 127.0.0.1:1' "$BASE/healthz" | cut -d' ' -f1)"
check_eq "no Host (HTTP/1.0): 421" "421" "$(code -0 -H 'Host:' "$BASE/healthz" | cut -d' ' -f1)"
check_eq "the stream refuses a foreign Host too" "421" "$(code -m 3 -H 'Host: evil.example' "$BASE/api/stream" | cut -d' ' -f1)"
check_eq "Host 127.0.0.1:PORT: 200" "200" "$(code "$BASE/api/symbols" | cut -d' ' -f1)"
check_eq "Host localhost:PORT: 200" "200" "$(code -H "Host: localhost:$port" "$BASE/api/symbols" | cut -d' ' -f1)"
check_eq "Host [::1]:PORT: 200" "200" "$(code -H "Host: [::1]:$port" "$BASE/api/symbols" | cut -d' ' -f1)"
for _ in $(seq 1 100); do curl -s -o /dev/null -H 'Host: evil.example' "$BASE/healthz"; done
check "100 more refused requests: at most 2 log lines in all" \
	test "$(grep -c 'for Host evil.example' "$E2E_DIR/dash.log")" -le 2

# A second server with its own list, and a DSN that asks for JIT and no
# statement timeout: the session settings still win.
port2=$(sp_free_port)
"$DASH_DIR/stockpipe-dash" --listen "127.0.0.1:$port2" --static "$DASH_DIR/static" \
	--allowed-hosts 'dash.example.com, 127.0.0.1' --statement-timeout 2500 \
	--dsn "host=$PGHOST port=$PGPORT dbname=stockpipe user=stockpipe_dash2 options='-c jit=on -c statement_timeout=0'" \
	2>"$E2E_DIR/dash2.log" &
dash2=$!
SP_PIDS="$SP_PIDS $dash2"
wait_for 10 "second stockpipe-dash" curl -sf "http://127.0.0.1:$port2/healthz"
check_eq "--allowed-hosts: a listed name, any port" "200" \
	"$(code -H 'Host: dash.example.com:8443' "http://127.0.0.1:$port2/healthz" | cut -d' ' -f1)"
check_eq "--allowed-hosts: an unlisted name (localhost) is refused" "421" \
	"$(code -H "Host: localhost:$port2" "http://127.0.0.1:$port2/healthz" | cut -d' ' -f1)"
check_eq "a DSN's options cannot turn JIT back on or lift the timeout" "off 2500ms" \
	"$(curl -s "http://127.0.0.1:$port2/healthz" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["jit"], d["statement_timeout"])')"
kill "$dash2"; wait "$dash2" 2>/dev/null

# --- (a) connection exhaustion.  Each 127.0.0.N is another client address.
# One client opens 10 event streams: 4 are served (--max-connections-per-ip
# 4, streams count), the rest are closed at once.
$CONNS hold "$port" 127.0.0.2 10 "$E2E_DIR/hold.out" 2>/dev/null &
hold=$!
check "10 streams from one address: classified" wait_for 15 "hold result" test -s "$E2E_DIR/hold.out"
check_eq "per-address limit: 4 streams open, 6 refused" "open=4 refused=6 other=0" "$(cat "$E2E_DIR/hold.out")"
check_eq "a fifth connection from that address is refused" "000" \
	"$(curl -s -m 3 --interface 127.0.0.2 -o /dev/null -w '%{http_code}' "$BASE/healthz")"
check_eq "another client is answered at once meanwhile (under 2 s)" "200 fast" \
	"$(curl -s -m 5 -o /dev/null -w '%{http_code} %{time_total}' "$BASE/api/symbols" | awk '{ print $1, ($2 < 2 ? "fast" : "slow " $2) }')"
kill $hold; wait $hold 2>/dev/null
check "the address's places are freed when its streams close" wait_for 5 "places freed" \
	curl -sf -m 1 --interface 127.0.0.2 "$BASE/healthz"

# Slowloris: half a request head and silence is closed by the idle timeout
# (3 s); one byte every 0.5 s (never idle) by the request deadline (5 s).
# Meanwhile a healthy stream lives on past the idle timeout.
$CONNS partial "$port" 127.0.0.3 >"$E2E_DIR/partial.out" &
p1=$!
$CONNS trickle "$port" 127.0.0.4 >"$E2E_DIR/trickle.out" &
p2=$!
curl -s -N "$BASE/api/stream" >"$E2E_DIR/alive.sse" &
alive=$!
wait $p1 $p2
read -r partial_s < <(sed -n 's/^closed_after=//p' "$E2E_DIR/partial.out")
read -r trickle_s trickle_b < <(sed -n 's/^closed_after=\([0-9.]*\) sent=\([0-9]*\)/\1 \2/p' "$E2E_DIR/trickle.out")
check "a half-sent request is closed after the 3 s idle timeout (${partial_s:-$(cat "$E2E_DIR/partial.out")} s)" \
	awk -v t="${partial_s:--1}" 'BEGIN { exit !(t >= 2.5 && t <= 6) }'
check "a trickled request head is closed at the 5 s request deadline (${trickle_s:-$(cat "$E2E_DIR/trickle.out")} s, ${trickle_b:-0} bytes)" \
	awk -v t="${trickle_s:--1}" -v b="${trickle_b:-0}" 'BEGIN { exit !(t >= 4.5 && t <= 8 && b >= 8) }'
check "/healthz counts the request-deadline close" at_least request_timeouts 1
check "a stream gets a heartbeat at least every 1.5 s (3 within 6 s)" wait_for 6 "3 keep-alives" \
	bash -c "[ \$(grep -c '^: keep-alive' '$E2E_DIR/alive.sse') -ge 3 ]"
check "a healthy stream outlives the 3 s idle timeout" kill -0 $alive
kill $alive; wait $alive 2>/dev/null

# --- (c) NOTIFY from a role with no grants
mallory() { psql -X -q -At -U mallory -d stockpipe "$@"; }
curl -s -N "$BASE/api/stream" >"$E2E_DIR/attack.sse" &
sse=$!
wait_for 5 "stream open" grep -q '^: connected' "$E2E_DIR/attack.sse"
n0=$(health notifications); r0=$(health refreshes); e0=$(health quote_events)
check "mallory, with no grants, may NOTIFY stockpipe_live" \
	mallory -c "NOTIFY stockpipe_live, '<script>alert(1)</script>'" -c "NOTIFY stockpipe_live, 'AAPL,MSFT'"
check "the dashboard is woken by both" wait_for 5 "2 notifications" at_least notifications $((n0 + 2))
check "and queries the database" wait_for 5 "a refresh" at_least refreshes $((r0 + 1))
check_eq "nothing changed in the database: nothing pushed" "$e0" "$(health quote_events)"

# 10,000 NOTIFYs, each its own transaction, while a real quote arrives.
for i in $(seq 1 10000); do echo "NOTIFY stockpipe_live, '<img src=x onerror=alert($i)>';"; done >"$E2E_DIR/flood.sql"
stmt_calls() {
	q "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements
	   WHERE userid = 'stockpipe_dash'::regrole AND query LIKE '%latest_ts%'"
}
n1=$(health notifications); e1=$(health quote_events); c1=$(stmt_calls)
t0=$(date +%s.%N)
mallory -f "$E2E_DIR/flood.sql" &
flood=$!
quote MSFT $((now - 5)) 421.50 421.00 | produce stock_live
wait $flood
check "the flood of 10,000 NOTIFYs is sent" test $? -eq 0
check "the dashboard reads all 10,000" wait_for 60 "10,000 notifications" \
	at_least notifications $((n1 + 10000))
check "the real quote is pushed during the flood" wait_for 10 "MSFT 421.5 on the stream" \
	grep -q '"symbol":"MSFT".*"price":421.5' "$E2E_DIR/attack.sse"
c2=$(stmt_calls); t2=$(date +%s.%N)
calls=$((c2 - c1))
limit=$(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%d", (b - a) * 10 + 2 }')
echo "# flood: 10,000 NOTIFYs; $calls refresh queries in $(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.1f", b - a }') s (at most $limit at 10 a second)"
check "refresh queries stay within 10 a second ($calls <= $limit, pg_stat_statements)" test "$calls" -le "$limit"
check "and at least one ran" test "$calls" -ge 1
check_eq "one quotes event: the real quote" "1" "$(( $(health quote_events) - e1 ))"
kill $sse; wait $sse 2>/dev/null

# Everything the stream carried is an event of ours with JSON data, and
# every quote in it is a row of stockpipe.live_stock.
/usr/bin/python3 - "$E2E_DIR/attack.sse" >"$E2E_DIR/pushed.tsv" 2>"$E2E_DIR/pushed.err" <<'EOF'
import json, sys
event = None
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    if line.startswith("event: "):
        event = line[7:]
        if event not in ("quotes", "reset", "status"):
            sys.exit("unexpected event %r" % event)
    elif line.startswith("data: "):
        data = json.loads(line[6:])
        if event == "quotes":
            for q in data:
                print("%s\t%s\t%r" % (q["symbol"], q["ts"], q["price"]))
    elif line and not line.startswith(":") and not line.startswith("retry: "):
        sys.exit("unexpected line %r" % line)
EOF
check "the stream carries only our events, with JSON data" test $? -eq 0 -a ! -s "$E2E_DIR/pushed.err"
check "no NOTIFY payload reached the stream" bash -c "! grep -Eq 'script|onerror|alert' '$E2E_DIR/attack.sse'"
check_eq "every pushed quote is a row of the database (pushed, not found)" "1 0" \
	"$(sp_psql -c 'CREATE TEMP TABLE pushed (symbol text, ts timestamptz, price float8)' \
		-c "\\copy pushed FROM '$E2E_DIR/pushed.tsv'" \
		-c 'SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM stockpipe.live_stock l
		      WHERE l.symbol = p.symbol AND l.ts = p.ts AND l.price = p.price)) FROM pushed p' | tr '|' ' ')"
check_eq "/healthz refresh count matches pg_stat_statements" "$(stmt_calls)" "$(health refreshes)"

# --- still healthy; SIGTERM ends it cleanly
check "still serving after all that" curl -sf "$BASE/api/symbols" -o /dev/null
kill -TERM "$DASH_PID"
rc=0; wait "$DASH_PID" || rc=$?
check_eq "SIGTERM: exits 0" 0 "$rc"
exit $SP_TEST_FAILED
