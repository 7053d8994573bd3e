#!/usr/bin/env bash
# scripts/test.sh: install what the tests need (scripts/install-deps.sh),
# build and install everything (make everything, install-everything), run
# every test suite and end with one line "N passed, N failed".
#
# Suites: unit tests of the pure C parts, the producer's tests, pg_regress
# (SQL surface: make installcheck, on a temporary instance that preloads
# stockpipe), and the end-to-end tests in test/e2e (each starts its own
# broker and cluster).  Everything runs on loopback and is stopped at the end.
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

"$SP_ROOT/scripts/install-deps.sh" test || sp_die "installing packages failed"
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

# pg_regress: make installcheck starts its own instance (test/regress.conf),
# as the postgres user when run as root; TAP lines out.
regress_suite() {
	local out
	out=$(mktemp)
	make -s installcheck PG_CONFIG="$SP_PGBIN/pg_config" >"$out" 2>&1
	local rc=$?
	sed -nE 's/^(test|ok [0-9]+ +[-+]?) *([a-z_0-9]+) +\.\.\. ok.*/ok - regress \2/p;
	         s/^(test|not ok [0-9]+ +[-+]?) *([a-z_0-9]+) +\.\.\. FAILED.*/not ok - regress \2/p' "$out"
	if [ $rc -ne 0 ]; then
		cat "$out" >&2
		[ -f tmp_check/regression.diffs ] && head -n 200 tmp_check/regression.diffs >&2
	fi
	rm -f "$out"
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
	fuzz) run_suite fuzz bash test/fuzz/run.sh "${2:-30}" ;;
	producer) run_suite producer bash producer/test/run.sh ;;
	regress) run_suite regress regress_suite ;;
	e2e) if [ -n "${2:-}" ]; then run_suite "e2e-$2" e2e_suite "test/e2e/$2.sh"
		else run_suite e2e e2e_suite test/e2e/[0-9]*.sh; fi ;;
	chaos) run_suite chaos bash test/chaos/run.sh "${2:-42}" ;;
	all)
		run_suite unit bash test/unit/run.sh
		# every harness (the producer's Yahoo decoder's too), briefly: 15 s each
		run_suite fuzz bash test/fuzz/run.sh 15
		run_suite producer bash producer/test/run.sh
		run_suite regress regress_suite
		run_suite e2e e2e_suite test/e2e/[0-9]*.sh
		# the chaos test: one fixed seed (reproducible) and one new seed a run
		run_suite chaos bash test/chaos/run.sh 42
		seed=$(( (RANDOM * 32768 + RANDOM) % 1000000000 ))
		sp_log "chaos: random seed $seed (rerun: scripts/test.sh chaos $seed)"
		run_suite chaos-random bash test/chaos/run.sh "$seed"
		;;
	*) echo "usage: scripts/test.sh [unit|fuzz [SECONDS]|producer|regress|e2e [NAME]|chaos [SEED]]" >&2; exit 2 ;;
esac

passed=$(cat "$RESULTS"/*.out | grep -c '^ok ')
failed=$(cat "$RESULTS"/*.out | grep -c '^not ok ')
if [ "$failed" -gt 0 ]; then
	echo "Failed:"
	grep -h '^not ok ' "$RESULTS"/*.out
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
