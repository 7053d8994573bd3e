#!/usr/bin/env bash
# Failover: the primary crashes (SIGKILL of the postmaster) while the
# producer publishes steadily, its asynchronous standby lagging behind (its
# WAL receiver cut for a while first), and the standby is promoted.  The
# promoted server's kafka_offsets match exactly the rows it holds, so its
# consumers re-read from Kafka what it lacks:
#  - every quote that reached the broker is in live_stock exactly once,
#    checked by content against the topic read back (the first message of a
#    (symbol, ts) wins), and every invalid message is one dead letter;
#  - offsets equal the broker's high watermarks;
#  - the scheduler's built-in jobs go on, without two runs for one
#    scheduled time;
#  - alert e-mails: the promoted server, checking the quotes it re-read,
#    finds the crossings the old primary had found and mailed during the
#    lag, and mails them again under the same Message-ID (the rule and the
#    quote's time at the cluster's system identifier): the distinct
#    Message-IDs received are exactly the promoted server's sent events.
. "$(dirname "$0")/common.sh"

SINK=$(cd "$(dirname "$0")" && pwd)/smtp_sink.py
SMTP_PORT=$(sp_free_port)
e2e_start "stockpipe.consumer_workers = 2" \
	"stockpipe.smtp_url = 'smtp://127.0.0.1:$SMTP_PORT'" \
	"stockpipe.mail_from = 'alerts@stockpipe.test'" \
	"stockpipe.mail_rate_limit = 1000000"
MAIL_DIR=$E2E_DIR/mail
mkdir -p "$MAIL_DIR"
/usr/bin/python3 "$SINK" --port "$SMTP_PORT" --dir "$MAIL_DIR" --ready-file "$E2E_DIR/smtp.ready" \
	>>"$E2E_DIR/smtp.log" 2>&1 &
SP_PIDS="$SP_PIDS $!"
wait_for 15 "SMTP server on port $SMTP_PORT" test -s "$E2E_DIR/smtp.ready" || exit 1
e2e_standby_start || exit 1

# Invalid messages, each a dead letter: a few now, more during the lag.
bad() { for i in $(seq "$1" "$2"); do printf 'BAD%s\t{"symbol":"BAD%s","ts":"not a time","price":1}\n' "$i" "$i"; done | produce stock_live; }
bad 1 20

SYMS=$(seq -f 'S%02g' 1 40 | paste -sd, -)
stockpipe-producer --source sim --symbols "$SYMS" --rate 400 --seed 11 \
	--brokers "$SP_BROKER" --stats-interval 0 2>"$E2E_DIR/producer.log" &
PRODUCER=$!
SP_PIDS="$SP_PIDS $PRODUCER"

rows() { q "SELECT count(*) FROM stockpipe.live_stock"; }
rows_at_least() { [ "$(rows)" -ge "$1" ]; }
wait_for 60 "2000 quotes on the primary" rows_at_least 2000 || { cat "$E2E_DIR/producer.log" >&2; exit 1; }
# Alert rules around the prices of now, so that the random walk crosses
# them every few seconds: above and below on 4 symbols, cooldown 5 s of
# quote time.  Each rule's first check must be replicated before the lag.
q "SELECT stockpipe.set_alert(l.symbol, c.condition, l.price, 'desk@example.com', cooldown => '5 seconds')
     FROM (SELECT DISTINCT ON (symbol) symbol, price FROM stockpipe.live_stock
            WHERE symbol IN ('S01', 'S02', 'S03', 'S04') ORDER BY symbol, ts DESC) l,
          (VALUES ('price_above'), ('price_below')) c(condition)" >/dev/null
rules_checked() { [ "$(q "SELECT count(*) FROM stockpipe.alert_rule WHERE last_quote_ts IS NOT NULL")" = 8 ]; }
check "the 8 alert rules are checked on the primary" wait_for 30 "first alert check" rules_checked
caught_up() { [ "$(qs "SELECT pg_last_wal_replay_lsn() >= '$(q "SELECT pg_current_wal_lsn()")'::pg_lsn")" = t ]; }
check "the standby keeps up while replication runs" wait_for 30 "standby caught up" caught_up

# --- the standby falls behind: its WAL receiver is cut (primary_conninfo
# emptied and reloaded), the primary goes on ingesting.
q_sb_sys() { PGPORT=$SB_PORT sp_psql -c "$1" >/dev/null; }
q_sb_sys "ALTER SYSTEM SET primary_conninfo = ''"
q_sb_sys "SELECT pg_reload_conf()"
no_receiver() { [ "$(qs "SELECT count(*) FROM pg_stat_wal_receiver")" = 0 ]; }
check "the standby's WAL receiver stops" wait_for 30 "no WAL receiver" no_receiver
sb_rows=$(qs "SELECT count(*) FROM stockpipe.live_stock")
bad 21 40
wait_for 60 "the primary 3000 quotes ahead" rows_at_least $((sb_rows + 3000))
p_rows=$(rows)
check "the standby lags: $sb_rows rows against the primary's $p_rows" test "$(qs "SELECT count(*) FROM stockpipe.live_stock")" -lt "$p_rows"

# --- the primary crashes; the lagging standby is promoted
pm=$(as_pg head -1 "$E2E_DIR/pgdata/postmaster.pid")
kill -9 "$pm"
sp_log "primary postmaster $pm killed at $p_rows rows; the standby has $sb_rows"
promoted_at=$(date -u '+%F %T.%N+00')
t0=$(date +%s.%N)
sb_ctl promote
check_eq "the standby is promoted" f "$(qs "SELECT pg_is_in_recovery()")"
sb_now=$(qs "SELECT count(*) FROM stockpipe.live_stock")
sb_grew() { [ "$(qs "SELECT count(*) FROM stockpipe.live_stock")" -gt "$sb_now" ]; }
wait_for 120 "the promoted server stores a batch" sb_grew
sp_log "first batch stored on the promoted server $(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)") s after pg_ctl promote"
bad 41 60
# the producer publishes on for a moment, then stops (flushing every message)
sleep_until_more() { [ "$(qs "SELECT count(*) FROM stockpipe.live_stock")" -ge $((p_rows + 1000)) ]; }
check "the promoted server ingests (1000 quotes past the crash point)" wait_for 90 "promoted server ingesting" sleep_until_more
kill -TERM "$PRODUCER"
wait "$PRODUCER"
check_eq "the producer delivered every message and stopped cleanly" 0 $?

# --- what reached the broker, read back: every message, with its position
kcat -C -b "$SP_BROKER" -t stock_live -e -q -f '%p\t%o\t%k\t%s\n' >"$E2E_DIR/topic.tsv"
high=$(awk 'END { print NR }' "$E2E_DIR/topic.tsv")
offsets_done() { [ "$(qs "SELECT sum(next_offset) FROM stockpipe.kafka_offsets WHERE topic = 'stock_live'")" = "$high" ]; }
check "the offsets reach the broker's high watermarks ($high messages)" wait_for 120 "offsets = high watermarks" offsets_done

# Expected rows, computed here from the topic: the first message of each
# (symbol, ts), in partition order (one symbol, one partition).
/usr/bin/python3 - "$E2E_DIR/topic.tsv" >"$E2E_DIR/expected.tsv" 2>"$E2E_DIR/expected.err" <<'EOF'
import json, sys, datetime
seen = set()
rows = []
bad = []
lines = [l.rstrip("\n").split("\t", 3) for l in open(sys.argv[1])]
for p, o, k, v in sorted(lines, key=lambda r: (int(r[0]), int(r[1]))):
    m = json.loads(v)
    if k.startswith("BAD"):
        bad.append((int(p), int(o)))
        continue
    ts = datetime.datetime.fromtimestamp(m["ts"] / 1000 if m["ts"] > 1e11 else m["ts"], datetime.timezone.utc) \
        if isinstance(m["ts"], (int, float)) else datetime.datetime.fromisoformat(m["ts"].replace("Z", "+00:00"))
    key = (m["symbol"], ts)
    if key in seen:
        continue
    seen.add(key)
    rows.append("Q\t%s\t%s\t%r" % (m["symbol"], ts.strftime("%Y-%m-%d %H:%M:%S.%f"), float(m["price"])))
for r in sorted(rows):
    print(r)
for p, o in sorted(bad):
    print("D\t%d\t%d" % (p, o))
EOF
[ -s "$E2E_DIR/expected.err" ] && cat "$E2E_DIR/expected.err" >&2
qs "SELECT * FROM (
      SELECT 'Q', symbol, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), price::text FROM stockpipe.live_stock
      UNION ALL
      SELECT 'D', partition::text, kafka_offset::text, NULL FROM stockpipe.dead_letter) r ORDER BY 1, 2, 3" |
	tr '|' '\t' | sed 's/\t$//' >"$E2E_DIR/stored.tsv"
/usr/bin/python3 - "$E2E_DIR/expected.tsv" "$E2E_DIR/stored.tsv" >"$E2E_DIR/diff.txt" <<'EOF'
import sys
def load(path):
    out = []
    for l in open(path):
        f = l.rstrip("\n").split("\t")
        if f[0] == "Q":
            f[3] = repr(float(f[3]))
        out.append(tuple(f))
    return out
exp, got = load(sys.argv[1]), load(sys.argv[2])
from collections import Counter
ce, cg = Counter(exp), Counter(got)
print("expected %d stored %d missing %d extra %d" % (len(exp), len(got), sum((ce - cg).values()), sum((cg - ce).values())))
for r in list((ce - cg).elements())[:5]: print("missing", r)
for r in list((cg - ce).elements())[:5]: print("extra", r)
EOF
nq=$(grep -c '^Q' "$E2E_DIR/expected.tsv")
nd=$(grep -c '^D' "$E2E_DIR/expected.tsv")
check_eq "every quote that reached the broker is stored exactly once, by content ($nq), and every invalid message is one dead letter ($nd)" \
	"expected $((nq + nd)) stored $((nq + nd)) missing 0 extra 0" "$(head -1 "$E2E_DIR/diff.txt")" ||
	sed -n 2,11p "$E2E_DIR/diff.txt" | sed 's/^/# /'
check_eq "... 60 dead letters" 60 "$nd"

# --- the scheduler on the promoted server
check_eq "no job has two runs for one scheduled time" "" \
	"$(qs "SELECT string_agg(format('%s at %s', j.name, r.scheduled_at), '; ')
	         FROM (SELECT jobid, scheduled_at FROM stockpipe.job_run WHERE trigger IN ('schedule', 'catch-up')
	                GROUP BY 1, 2 HAVING count(*) > 1) r JOIN stockpipe.job j USING (jobid)")"
alert_ran() { [ "$(qs "SELECT count(*) FROM stockpipe.job_run r JOIN stockpipe.job j USING (jobid)
                         WHERE j.name = 'alert_check' AND r.status = 'succeeded' AND r.started_at > '$promoted_at'")" -ge 2 ]; }
check "the built-in alert_check runs on the promoted server" wait_for 30 "alert checks after promotion" alert_ran
# --- alert e-mails across the failover
outbox_done() { [ "$(qs "SELECT count(*) FROM stockpipe.alert_event WHERE status = 'pending'")" = 0 ] &&
                [ "$(qs "SELECT max(last_quote_ts) >= (SELECT max(ts) FROM stockpipe.live_stock WHERE symbol = 'S01')
                         FROM stockpipe.alert_rule WHERE symbol = 'S01'")" = t ]; }
check "the promoted server checked every quote and sent every alert" wait_for 60 "alert outbox empty" outbox_done
sent_keys=$(qs "SELECT ruleid || '-' || (extract(epoch FROM quote_ts) * 1000000)::bigint
                  FROM stockpipe.alert_event WHERE status = 'sent' ORDER BY 1")
sysid=$(qs "SELECT system_identifier FROM pg_control_system()")
mail_keys() { cat "$MAIL_DIR"/*.eml 2>/dev/null | tr -d '\r' |
              sed -n "s/^Message-ID: <alert-\([0-9]*-[0-9]*\)@stockpipe\.$sysid>\$/\1/p"; }
mails_all=$(ls "$MAIL_DIR"/*.eml 2>/dev/null | wc -l)
mails_distinct=$(mail_keys | sort -u | wc -l)
events_old=$(qs "SELECT count(*) FROM stockpipe.alert_event WHERE created_at < '$promoted_at'")
events_new=$(qs "SELECT count(*) FROM stockpipe.alert_event WHERE created_at >= '$promoted_at'")
sp_log "alert e-mails: $mails_all received, $mails_distinct Message-IDs; promoted server: $events_old events from before the crash, $events_new found after promotion"
check "alert rules fired during the test ($mails_distinct crossings)" test "$mails_distinct" -gt 0
check_eq "every e-mail has its crossing's Message-ID, <alert-RULE-QUOTEUS@stockpipe.SYSID>" \
	"$mails_all" "$(mail_keys | wc -l)"
check_eq "the distinct Message-IDs received are exactly the promoted server's sent events (no crossing lost, none only the old primary found)" \
	"$(echo "$sent_keys" | sort)" "$(mail_keys | sort -u)"
check_eq "each crossing is one event on the promoted server" "" \
	"$(qs "SELECT string_agg(ruleid || ' ' || quote_ts, ', ') FROM (SELECT ruleid, quote_ts FROM stockpipe.alert_event
	         GROUP BY 1, 2 HAVING count(*) > 1) d")"
repeats=$((mails_all - mails_distinct))
sp_log "crossings mailed by the old primary during the lag and again by the promoted server, same Message-ID: $repeats"
check "some crossings of the lag were mailed by both servers, under one Message-ID ($repeats)" test "$repeats" -gt 0
check "no stockpipe worker error on the promoted server" \
	bash -c "! grep -E 'terminated by signal|stockpipe.*ERROR|ERROR:.*stockpipe' '$E2E_DIR/standby.log'"
exit $SP_TEST_FAILED
