#!/usr/bin/env bash
# scripts/test.sh: install what the tests need, build, run every test suite
# and end with one line "N passed, N failed".
#
# Suites: unit tests of the pure C parts, the producer's tests, pg_regress
# (SQL surface) against a throw-away PostgreSQL that preloads stockpipe, and
# the end-to-end tests in test/e2e (each starts its own broker and cluster).
# Everything runs on loopback and is stopped at the end.
#
#   scripts/test.sh                      all suites
#   scripts/test.sh unit|fuzz|producer|regress one suite (after the build)
#   scripts/test.sh e2e [NAME]           the end-to-end tests, or test/e2e/NAME.sh
#   scripts/test.sh chaos [SEED]         the chaos test (test/chaos), seed 42 by default
set -uo pipefail

. "$(dirname "$0")/lib.sh"
cd "$SP_ROOT"

RESULTS=$(mktemp -d)
trap 'sp_cleanup; rm -rf "$RESULTS"' EXIT

sp_install_packages
sp_log "building"
sp_build || sp_die "build failed"

# run_suite NAME COMMAND...: run, keep its TAP lines, show them as they come.
run_suite() {
	local name=$1; shift
	sp_log "suite: $name"
	"$@" 2>"$RESULTS/$name.err" | tee "$RESULTS/$name.out" | grep -E '^(not )?ok '
	local rc=${PIPESTATUS[0]}
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok ' "$RESULTS/$name.out"; then
		# a suite that failed without saying which test failed counts as one failure
		echo "not ok - suite $name exited with status $rc" | tee -a "$RESULTS/$name.out"
	fi
	if [ "$rc" -ne 0 ]; then
		sp_log "suite $name failed; its stderr (last 40 lines):"
		tail -n 40 "$RESULTS/$name.err" >&2
	fi
}

# pg_regress against a cluster that preloads stockpipe; TAP lines out.
regress_suite() {
	local dir port
	dir=$(sp_make_workdir)
	port=$(sp_free_port)
	sp_broker_start "$dir" 2 || return 1
	sp_pg_init "$dir" "$port" \
		"stockpipe.database = 'postgres'" \
		"stockpipe.kafka_brokers = '$SP_BROKER'" \
		"stockpipe.consumer_workers = 2" || return 1
	# the workers' database has no extension: they must wait calmly
	sp_pg_start || { cat "$dir/postgres.log" >&2; return 1; }
	make -s installcheck PG_CONFIG="$SP_PGBIN/pg_config" >"$dir/regress.out" 2>&1
	local rc=$?
	sed -nE 's/^(test|ok [0-9]+ +[-+]?) *([a-z_0-9]+) +\.\.\. ok.*/ok - regress \2/p;
	         s/^(test|not ok [0-9]+ +[-+]?) *([a-z_0-9]+) +\.\.\. FAILED.*/not ok - regress \2/p' "$dir/regress.out"
	if [ $rc -ne 0 ]; then
		cat "$dir/regress.out" >&2
		[ -f regression.diffs ] && head -n 200 regression.diffs >&2
	fi
	sp_cleanup
	[ $rc -eq 0 ] && rm -rf "$dir"
	return $rc
}

e2e_suite() {
	local t rc=0
	for t in "$@"; do
		sp_log "e2e: $(basename "$t")"
		bash "$t" || rc=1
	done
	return $rc
}

case "${1:-all}" in
	unit) run_suite unit bash test/unit/run.sh ;;
	fuzz) run_suite fuzz bash fuzz/run.sh
		run_suite fuzz-producer bash producer/fuzz/run.sh ;;
	producer) run_suite producer bash producer/test/run.sh ;;
	regress) run_suite regress regress_suite ;;
	e2e) if [ -n "${2:-}" ]; then run_suite "e2e-$2" e2e_suite "test/e2e/$2.sh"
		else run_suite e2e e2e_suite test/e2e/[0-9]*.sh; fi ;;
	chaos) run_suite chaos bash test/chaos/run.sh "${2:-42}" ;;
	all)
		run_suite unit bash test/unit/run.sh
		run_suite fuzz bash fuzz/run.sh
		run_suite fuzz-producer bash producer/fuzz/run.sh
		run_suite producer bash producer/test/run.sh
		run_suite regress regress_suite
		run_suite e2e e2e_suite test/e2e/[0-9]*.sh
		# the chaos test: one fixed seed (reproducible) and one new seed a run
		run_suite chaos bash test/chaos/run.sh 42
		seed=$(( (RANDOM * 32768 + RANDOM) % 1000000000 ))
		sp_log "chaos: random seed $seed (rerun: scripts/test.sh chaos $seed)"
		run_suite chaos-random bash test/chaos/run.sh "$seed"
		;;
	*) echo "usage: scripts/test.sh [unit|fuzz|producer|regress|e2e [NAME]|chaos [SEED]]" >&2; exit 2 ;;
esac

passed=$(cat "$RESULTS"/*.out | grep -c '^ok ')
failed=$(cat "$RESULTS"/*.out | grep -c '^not ok ')
if [ "$failed" -gt 0 ]; then
	echo "Failed:"
	grep -h '^not ok ' "$RESULTS"/*.out
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
