#!/usr/bin/env bash
# bench/market-day/sweep.sh: how ingestion grows with the work (issue 13,
# item 5; not a test).  Runs bench/ingest/run.sh (one worker, N rows, each
# run with its own COPY baseline of the same rows) with one parameter
# changed at a time: batch size, partitions, symbols.  Prints one line per
# run: its ingest rows/s and its ratio to COPY.  About 4 minutes.
# Usage: bench/market-day/sweep.sh   (environment: N, default 300000)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
N=${N:-300000}
run() {
	local label=$1 out
	shift
	out=$(env N="$N" LATENCY2=0 "$@" bash "$HERE/../ingest/run.sh" --latency-seconds 1 2>&1)
	printf '%-24s %s | %s\n' "$label" "$(echo "$out" | grep -m1 'ingest: ' | sed 's/.*ingest: //')" \
		"$(echo "$out" | grep -m1 '^ratio:' | sed 's/ratio: *//; s/ *targets.*//')"
}
run "batch 1000" BATCH_SIZE=1000
run "batch 10000 (default)" BATCH_SIZE=10000
run "batch 50000" BATCH_SIZE=50000
run "partitions 4" PARTITIONS=4
run "partitions 32" PARTITIONS=32
run "symbols 50" SYMBOLS=50
run "symbols 8000" SYMBOLS=8000
