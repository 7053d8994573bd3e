#!/bin/sh
# test/unit/run.sh [DIR]: build and run the C unit tests of DIR (default:
# this folder; producer/test/run.sh passes producer/) twice: as built
# normally, then built with AddressSanitizer and UBSan.  Where the
# sanitizer runtime is missing, the second run is the normal programs under
# valgrind instead (if installed).  DIR's Makefile includes unit.mk (make
# unit, unit-asan, unit-list).
#
# Output (stdout): every test's TAP lines with the program's name put in
# front of the description ("ok 3 - contract_test: ..."), a "not ok" line
# for a program that failed without a failed check (a crash, a sanitizer
# report at exit), and the summary "# unit tests: N passed, N failed".
# Build output and sanitizer reports go to stderr.  The exit status is
# non-zero if a build or any check failed.  Works from any directory.

set -u
here=$(cd "$(dirname "$0")" && pwd)
dir=$(cd "${1:-$here}" && pwd) || exit 2
cd "$dir" || exit 2

CC=${CC:-cc}
passed=0
failed=0
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

# run_test LABEL COMMAND...: run one test program, print its lines
# labelled, count them.
run_test() {
	label=$1
	shift
	"$@" >"$tmp/out"
	status=$?
	sed "s/^\(not \)\{0,1\}ok \([0-9][0-9]* \)\{0,1\}- /&$label: /" "$tmp/out"
	n_ok=$(grep -c '^ok ' "$tmp/out")
	n_not=$(grep -c '^not ok ' "$tmp/out")
	passed=$((passed + n_ok))
	failed=$((failed + n_not))
	if [ "$status" -ne 0 ] && [ "$n_not" -eq 0 ]; then
		echo "not ok - $label exited with status $status"
		failed=$((failed + 1))
	elif [ "$n_ok" -eq 0 ] && [ "$n_not" -eq 0 ]; then
		echo "not ok - $label ran no checks"
		failed=$((failed + 1))
	fi
}

# build TARGET: make it, or say so in a failed check.
build() {
	if ! make -s -C "$dir" "$1" >&2; then
		echo "not ok - build: make -C $dir $1"
		echo "# unit tests: $passed passed, $((failed + 1)) failed"
		exit 1
	fi
}

build unit
tests=$(make -s --no-print-directory -C "$dir" unit-list | sed 's,^\./,,') || exit 2

for t in $tests; do
	echo "# $t"
	run_test "$(basename "$t")" "./$t"
done

# Can this compiler build and run a sanitized program at all?
printf 'int main(void) { return 0; }\n' >"$tmp/probe.c"
if "$CC" -fsanitize=address,undefined -o "$tmp/probe" "$tmp/probe.c" >/dev/null 2>&1 &&
		"$tmp/probe" >/dev/null 2>&1; then
	build unit-asan
	for t in $tests; do
		echo "# ${t%_test}_asan_test: $(basename "$t") under AddressSanitizer and UBSan"
		run_test "$(basename "${t%_test}_asan_test")" env \
			ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
			UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			"./${t%_test}_asan_test"
	done
elif command -v valgrind >/dev/null 2>&1; then
	for t in $tests; do
		echo "# $t under valgrind (no sanitizer runtime)"
		run_test "$(basename "$t") (valgrind)" valgrind -q --error-exitcode=1 \
			--leak-check=full --errors-for-leak-kinds=all "./$t"
	done
else
	echo "run.sh: neither a sanitizer runtime nor valgrind: memory checks skipped" >&2
fi

echo "# unit tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
