#!/bin/bash
# producer/test/run.sh -- builds stockpipe-producer and runs every producer
# test: the unit tests (pure code, real fixtures; plain and under ASan and
# UBSan, through the shared runner test/unit/run.sh), then the end-to-end
# tests (producer -> stockpipe-broker, read back with kcat; fake Yahoo
# server; valgrind).  Prints TAP lines "ok ..." / "not ok ..." and exits
# non-zero if any check failed.  Starts its servers on 127.0.0.1 and always
# stops them.
#
# Environment: STOCKPIPE_FIXTURES (default ../shared/fixtures/yahoo next to
# the repository), STOCKPIPE_BROKER (default <repo>/bin/stockpipe-broker),
# SKIP_VALGRIND=1 to leave out the valgrind run.
set -u

here=$(cd "$(dirname "$0")" && pwd)
producer=$(cd "$here/.." && pwd)
root=$(cd "$producer/.." && pwd)
fixtures=${STOCKPIPE_FIXTURES:-$root/../shared/fixtures/yahoo}
broker_bin=${STOCKPIPE_BROKER:-$root/bin/stockpipe-broker}
py=/usr/bin/python3
[ -x "$py" ] || py=python3
export STOCKPIPE_FIXTURES=$fixtures

. "$here/report.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stockpipe-producer-test.XXXXXX")
pids=()

cleanup() {
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null
	done
	drop_or_keep "$tmp" "logs"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for_file FILE SECONDS: until FILE is non-empty, or give up.
wait_for_file() {
	local deadline=$((SECONDS + $2))
	while [ ! -s "$1" ]; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

echo "# building"
if make -s -C "$producer" all >"$tmp/build.log" 2>&1; then
	report 0 "build (make all, -Wall -Wextra -Werror)"
else
	cat "$tmp/build.log"
	report 1 "build (make all, -Wall -Wextra -Werror)"
	exit 1
fi

[ -d "$fixtures" ]
report $? "fixtures found in $fixtures"

echo "# unit tests"
sh "$root/test/unit/run.sh" "$producer" | tee "$tmp/unit.out"
tally "$tmp/unit.out"

echo "# end-to-end"
if [ ! -x "$broker_bin" ]; then
	make -s -C "$root" bin/stockpipe-broker >"$tmp/broker-build.log" 2>&1
fi
if [ ! -x "$broker_bin" ]; then
	report 1 "stockpipe-broker available at $broker_bin"
	echo "# $failed failed, $passed passed"
	exit 1
fi
command -v kcat >/dev/null
report $? "kcat available"

"$broker_bin" --partitions 3 --address-file "$tmp/broker.addr" >/dev/null 2>"$tmp/broker.log" &
broker_pid=$!
pids+=("$broker_pid")
wait_for_file "$tmp/broker.addr" 20
report $? "stockpipe-broker started"

"$py" "$here/fake_yahoo.py" --fixtures "$fixtures" --port-file "$tmp/yahoo.port" \
	>/dev/null 2>"$tmp/yahoo.log" &
pids+=($!)
"$py" "$here/fake_yahoo.py" --fixtures "$fixtures" --port-file "$tmp/slow.port" \
	--latency-ms 300 >/dev/null 2>"$tmp/slow.log" &
pids+=($!)
wait_for_file "$tmp/yahoo.port" 20 && wait_for_file "$tmp/slow.port" 20
report $? "fake Yahoo servers started"

if [ -s "$tmp/broker.addr" ] && [ -s "$tmp/yahoo.port" ] && [ -s "$tmp/slow.port" ]; then
	"$py" "$here/e2e.py" \
		--producer "$producer/stockpipe-producer" \
		--brokers "$(head -1 "$tmp/broker.addr")" \
		--broker-pid "$broker_pid" \
		--yahoo "http://127.0.0.1:$(cat "$tmp/yahoo.port")" \
		--slow-yahoo "http://127.0.0.1:$(cat "$tmp/slow.port")" \
		--fixtures "$fixtures" --tmp "$tmp" \
		${SKIP_VALGRIND:+--skip-valgrind} | tee "$tmp/e2e.out"
	status=${PIPESTATUS[0]}
	tally "$tmp/e2e.out"
	if [ "$status" -ne 0 ] && ! grep -q '^not ok' "$tmp/e2e.out"; then
		report 1 "e2e.py exited with status $status"
	fi
fi

echo "# $failed failed, $passed passed"
[ "$failed" -eq 0 ]
