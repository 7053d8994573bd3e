#!/usr/bin/env bash
# Benchmark (not a test) of stockpipe-dash against the real pipeline:
#  1. publish -> browser latency: 200 quotes, one after another, from the
#     write to Kafka (kcat) until headless Chromium shows the price: p50/p99;
#  2. the server's RSS and CPU with 50 SSE clients (curl -N) connected while
#     2000 quotes for 20 symbols arrive in 200 batches of 10, 0.1 s apart
#     (about 30 s with kcat's start-up per batch).
# Usage: bench/dashboard.sh [QUOTES]
. "$(dirname "$0")/../test/e2e/common.sh"
N=${1:-200}
DASH_DIR=$SP_ROOT/dashboard
make -C "$DASH_DIR" -s all check-deps >/dev/null || exit 1

e2e_start
port=$(sp_free_port)
BASE=http://127.0.0.1:$port
# 50 stream clients from one address: no per-address limit here
"$DASH_DIR/stockpipe-dash" --listen "127.0.0.1:$port" --static "$DASH_DIR/static" --max-connections-per-ip 0 \
	--dsn "host=$PGHOST port=$PGPORT dbname=stockpipe" 2>"$E2E_DIR/dash.log" &
DASH_PID=$!
SP_PIDS="$SP_PIDS $DASH_PID"
wait_for 10 "stockpipe-dash" curl -sf "$BASE/healthz" || exit 1
printf 'BENCH\t{"symbol":"BENCH","ts":%s,"price":199,"prev_close":199}\n' $(($(date +%s) - 100000)) | produce stock_live
wait_for 30 "first quote" query_is "SELECT count(*) FROM stockpipe.live_stock" 1

echo "== publish -> browser latency"
node "$DASH_DIR/bench/latency.mjs" "$BASE/" "$SP_BROKER" "$N" || { q "SELECT symbol, ts, price FROM stockpipe.live_stock ORDER BY ts DESC LIMIT 3"; exit 1; }

echo "== 50 SSE clients"
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$DASH_PID/status"; }
ticks() { awk '{ print $14 + $15 }' "/proc/$DASH_PID/stat"; }
echo "idle: RSS $(rss) kB, threads $(awk '/^Threads/ { print $2 }' /proc/$DASH_PID/status)"
clients=""
for i in $(seq 1 50); do
	curl -s -N "$BASE/api/stream" >"$E2E_DIR/sse.$i" & clients="$clients $!"
done
sleep 1
echo "50 clients connected: RSS $(rss) kB, threads $(awk '/^Threads/ { print $2 }' /proc/$DASH_PID/status)"
# 2000 quotes over 20 symbols, in batches of 10.
start_ts=$(($(date +%s) - 50000))
t_begin=$(date +%s.%N); c_begin=$(ticks)
for s in $(seq 0 199); do
	for k in $(seq 0 9); do
		i=$((s * 10 + k))
		printf 'S%02d\t{"symbol":"S%02d","ts":%d,"price":%d.%02d,"prev_close":100}\n' $((i % 20)) $((i % 20)) $((start_ts + i / 20)) $((100 + i % 7)) $((i % 100))
	done | kcat -P -b "$SP_BROKER" -t stock_live -K $'\t' -X linger.ms=0
	sleep 0.1
done
t_end=$(date +%s.%N); c_end=$(ticks)
hz=$(getconf CLK_TCK)
echo "during 2000 quotes over $(awk -v a="$t_begin" -v b="$t_end" 'BEGIN { printf "%.1f", b - a }') s: RSS $(rss) kB, CPU $(awk -v a="$c_begin" -v b="$c_end" -v hz="$hz" -v t0="$t_begin" -v t1="$t_end" 'BEGIN { printf "%.1f%%", (b - a) / hz / (t1 - t0) * 100 }') of one core"
sleep 1
events=$(grep -c '^event: quotes' "$E2E_DIR/sse.1")
echo "SSE events received by client 1: $events; by all 50: $(cat "$E2E_DIR"/sse.* | grep -c '^event: quotes')"
kill $clients 2>/dev/null; wait $clients 2>/dev/null
exit 0
