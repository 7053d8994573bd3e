#!/bin/sh
# Build and run the unit tests (contract_test, schedule_test, mail_test) twice: as built
# normally, then with AddressSanitizer and UBSan.  Where the sanitizer runtime
# is missing, the second run is the normal binary under valgrind instead (if
# installed).
#
# The TAP-like lines of the tests go to stdout; build output and notes go to
# stderr.  Exit status is non-zero if a build or any check failed, or if a
# sanitizer or valgrind reported an error.  Works from any directory.

set -u
cd "$(dirname "$0")" || exit 2

CC=${CC:-cc}
status=0

if ! make -s contract_test >&2; then
	echo "run.sh: building contract_test failed" >&2
	exit 1
fi
echo "# contract_test"
./contract_test || status=1

if ! make -s schedule_test >&2; then
	echo "run.sh: building schedule_test failed" >&2
	exit 1
fi
echo "# schedule_test"
./schedule_test || status=1

if ! make -s mail_test >&2; then
	echo "run.sh: building mail_test failed" >&2
	exit 1
fi
echo "# mail_test"
./mail_test || status=1

# Can this compiler build and run a sanitized program at all?
probe_dir=$(mktemp -d) || exit 2
trap 'rm -rf "$probe_dir"' EXIT
printf 'int main(void) { return 0; }\n' >"$probe_dir/probe.c"
if "$CC" -fsanitize=address,undefined -o "$probe_dir/probe" "$probe_dir/probe.c" \
		>/dev/null 2>&1 && "$probe_dir/probe" >/dev/null 2>&1; then
	if ! make -s contract_asan_test >&2; then
		echo "run.sh: building contract_asan_test failed" >&2
		exit 1
	fi
	echo "# contract_test under AddressSanitizer and UBSan"
	make -s asan || status=1
	if ! make -s schedule_asan_test >&2; then
		echo "run.sh: building schedule_asan_test failed" >&2
		exit 1
	fi
	echo "# schedule_test under AddressSanitizer and UBSan"
	make -s schedule-asan || status=1
	if ! make -s mail_asan_test >&2; then
		echo "run.sh: building mail_asan_test failed" >&2
		exit 1
	fi
	echo "# mail_test under AddressSanitizer and UBSan"
	make -s mail-asan || status=1
elif command -v valgrind >/dev/null 2>&1; then
	echo "# contract_test under valgrind (no sanitizer runtime)"
	valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=all \
		./contract_test || status=1
	echo "# schedule_test under valgrind (no sanitizer runtime)"
	valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=all \
		./schedule_test || status=1
	echo "# mail_test under valgrind (no sanitizer runtime)"
	valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=all \
		./mail_test || status=1
else
	echo "run.sh: neither a sanitizer runtime nor valgrind: memory checks skipped" >&2
fi

exit $status
