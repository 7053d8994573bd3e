#!/bin/bash
# producer/fuzz/run.sh [SECONDS] -- builds the libFuzzer harness of the
# Yahoo chart decoders (yahoo_fuzz.c) with clang, ASan and UBSan, runs every
# input in regressions/ once, then fuzzes for SECONDS (default 30) from a
# copy of corpus/.  Prints "ok - ..." / "not ok - ..." lines and exits
# non-zero if anything failed.  Everything it writes (binary, working
# corpus, crash artefacts, logs) goes to a temporary directory, kept and
# named on failure, removed otherwise: the source tree is never written.
#
# Environment: CLANG (default clang), FUZZ_JOBS (parallel fuzzing
# processes, default 1).
set -u

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../src" && pwd)
seconds=${1:-30}
clang=${CLANG:-clang}
jobs=${FUZZ_JOBS:-1}

case "$seconds" in
	''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac

. "$here/../test/report.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stockpipe-fuzz.XXXXXX")

finish() {
	drop_or_keep "$tmp" "artefacts and logs"
	echo "# $failed failed, $passed passed"
}
trap finish EXIT
trap 'exit 130' INT TERM

# The decoding code only (pure: no network, no Kafka), instrumented; the
# same warning flags as the producer's Makefile.
if "$clang" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -g -O1 \
	-std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-I"$src" -I"$src/../../contract" -o "$tmp/yahoo_fuzz" "$here/yahoo_fuzz.c" \
	"$src/yahoo.c" "$src/jscan.c" "$src/message.c" "$src/../../contract/contract.c" \
	"$src/../../contract/encode.c" "$src/../../contract/civil.c" -lcjson -lm >"$tmp/build.log" 2>&1; then
	report 0 "fuzz harness builds (clang, ASan, UBSan, -Werror)"
else
	cat "$tmp/build.log"
	report 1 "fuzz harness builds (clang, ASan, UBSan, -Werror)"
	exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

# Each regression input once: a past crash or disagreement must stay fixed.
for f in "$here"/regressions/*; do
	[ -f "$f" ] || continue
	name=$(basename "$f")
	if "$tmp/yahoo_fuzz" "$f" >"$tmp/regression-$name.log" 2>&1; then
		report 0 "fuzz regression $name"
	else
		grep -m3 'check failed\|runtime error\|ERROR: AddressSanitizer' "$tmp/regression-$name.log" |
			sed 's/^/#   /'
		report 1 "fuzz regression $name"
	fi
done

# Fuzzing from a scratch copy of the seeds (the regression inputs too: they
# sit next to the edges): libFuzzer adds what it finds to its corpus
# directory, and that must not be the source tree.
mkdir -p "$tmp/corpus" "$tmp/artefacts"
cp "$here"/corpus/* "$here"/regressions/* "$tmp/corpus/"
# With FUZZ_JOBS > 1 libFuzzer writes fuzz-N.log into the current
# directory (and copies them into its own output, so the stats of every
# job end up in fuzz.log): run it from the scratch directory.
(cd "$tmp" && if [ "$jobs" -gt 1 ]; then
	exec ./yahoo_fuzz -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-jobs="$jobs" -workers="$jobs" -print_final_stats=1 \
		-dict="$here/yahoo.dict" -artifact_prefix="$tmp/artefacts/" corpus
else
	exec ./yahoo_fuzz -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 \
		-dict="$here/yahoo.dict" -artifact_prefix="$tmp/artefacts/" corpus
fi) >"$tmp/fuzz.log" 2>&1
status=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/fuzz.log" | awk '{n += $1} END {print n + 0}')
if [ "$status" -eq 0 ] && [ -z "$(ls -A "$tmp/artefacts")" ]; then
	report 0 "fuzz yahoo ($runs runs)"
else
	grep -m5 'check failed\|runtime error\|ERROR: \|Test unit written' "$tmp/fuzz.log" | sed 's/^/#   /'
	report 1 "fuzz yahoo ($runs runs, exit status $status; see $tmp/artefacts)"
fi
[ "$failed" -eq 0 ]
