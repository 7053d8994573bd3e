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
#    scheduled time.
. "$(dirname "$0")/common.sh"

e2e_start "stockpipe.consumer_workers = 2"
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
check "no stockpipe worker error on the promoted server" \
	bash -c "! grep -E 'terminated by signal|stockpipe.*ERROR|ERROR:.*stockpipe' '$E2E_DIR/standby.log'"
exit $SP_TEST_FAILED
