#!/usr/bin/env bash
# test/fuzz/run.sh [SECONDS]: build the libFuzzer harnesses of the pure parsers,
# replay every committed regression input, then fuzz each harness for
# SECONDS (default 30), starting from its seed corpus.
#
#   contract   contract/contract.c   sp_decode_quote, sp_decode_bar (with jansson
#                               as the independent JSON reference)
#   schedule   src/schedule.c   sp_schedule_parse, _describe, _next
#   mail       src/mail.c       address checks, allow-list, sp_mail_compose
#   webhook    src/webhook.c    JSON bodies (parsed back with cJSON), the URL
#                               rule (against libcurl's URL parser), hosts
#   dashboard  dashboard/src/validate.c   stockpipe-dash's request and
#                               option checks (symbols, times, Host list)
#   yahoo      producer/src/yahoo.c, jscan.c   the producer's chart decoders:
#                               the fast live path (no tree) against the cJSON
#                               reference, the daily bars.  Its harness, seeds,
#                               regressions and dictionary live in
#                               producer/fuzz/ (producer/fuzz/run.sh runs it
#                               alone)
#
# The harnesses link only those pure C files (no PostgreSQL headers), built
# with clang -fsanitize=fuzzer,address,undefined -g -O1.  TAP-like lines go
# to stdout, one per regression input and one per harness:
#   ok - fuzz contract (123456 runs)
# build output and fuzzer logs go to stderr (the log tail on a failure).
# Exit status is non-zero if a build, a regression input or a harness
# failed.
#
# Nothing is written into the source tree: binaries, the growing corpora and
# crash-*/timeout-* artefacts go to a temporary folder ($FUZZ_OUT if set),
# removed on success and kept, with its path printed, on failure.  A crash
# found becomes a regression: copy its artefact to test/fuzz/regressions/NAME/,
# fix the bug, and add a unit test.  Seeds: test/fuzz/make_corpus.py.
set -uo pipefail

cd "$(dirname "$0")" || exit 2
secs=${1:-30}
case $secs in
	''|*[!0-9]*) echo "usage: test/fuzz/run.sh [SECONDS]" >&2; exit 2 ;;
esac

CC=${FUZZ_CC:-clang}
CFLAGS="-std=c11 -Wall -Wextra -Werror -g -O1 -fno-omit-frame-pointer \
-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if [ -n "${FUZZ_OUT:-}" ]; then
	out=$FUZZ_OUT
	mkdir -p "$out" || exit 2
else
	out=$(mktemp -d "${TMPDIR:-/tmp}/stockpipe-fuzz.XXXXXX") || exit 2
fi
failed=0

# harness name: sources and libraries of each, beyond test/fuzz/NAME_fuzz.c
harnesses="contract schedule mail webhook dashboard yahoo"
srcs_contract="../../contract/contract.c ../../contract/encode.c ../../contract/civil.c"
libs_contract="-lcjson -ljansson -lm"
srcs_schedule="../../src/schedule.c ../../contract/civil.c"
libs_schedule=""
srcs_mail="../../src/mail.c"
libs_mail=""
srcs_webhook="../../src/webhook.c ../../src/mail.c"
libs_webhook="-lcjson -lcurl"
srcs_dashboard="-I../../dashboard/src ../../dashboard/src/validate.c ../../contract/contract.c ../../contract/civil.c"
libs_dashboard="-lcjson -lm"
srcs_yahoo="-D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I../../producer/src ../../producer/src/yahoo.c ../../producer/src/jscan.c \
../../producer/src/message.c ../../contract/contract.c ../../contract/encode.c ../../contract/civil.c"
libs_yahoo="-lcjson -lm"
# where a harness's source, seeds and regression inputs are, when not here
# (test/fuzz/NAME_fuzz.c, corpus/NAME/, regressions/NAME/)
dir_yahoo=../../producer/fuzz
# per-harness fuzzer flags: value profiles help the parsers past comparisons;
# mail inputs need room for lines over 998 octets
flags_contract="-dict=contract.dict -use_value_profile=1"
flags_schedule="-dict=schedule.dict -use_value_profile=1"
flags_mail="-max_len=16384 -use_value_profile=1"
flags_webhook="-max_len=8192 -use_value_profile=1"
flags_dashboard="-max_len=512 -use_value_profile=1"
flags_yahoo="-dict=../../producer/fuzz/yahoo.dict"

fail() {
	echo "not ok - $*"
	failed=1
}

mkdir -p "$out/bin" "$out/artifacts" "$out/logs"
for name in $harnesses; do
	srcs_var=srcs_$name
	libs_var=libs_$name
	dir_var=dir_$name
	if [ -n "${!dir_var:-}" ]; then
		harness=${!dir_var}/${name}_fuzz.c seeds=${!dir_var}/corpus regress=${!dir_var}/regressions
	else
		harness=${name}_fuzz.c seeds=corpus/$name regress=regressions/$name
	fi
	# shellcheck disable=SC2086 # the lists are meant to split
	if ! $CC $CFLAGS -I../../src -I../../contract -o "$out/bin/${name}_fuzz" "$harness" \
			${!srcs_var} ${!libs_var} >&2; then
		fail "fuzz $name builds with $CC -fsanitize=fuzzer,address,undefined"
		continue
	fi

	# every regression input, once
	for input in "$regress"/*; do
		[ -f "$input" ] || continue
		log="$out/logs/$name-regression-$(basename "$input").log"
		if "$out/bin/${name}_fuzz" -artifact_prefix="$out/artifacts/$name-" \
				"$input" >"$log" 2>&1; then
			echo "ok - fuzz $name regression $(basename "$input")"
		else
			fail "fuzz $name regression $(basename "$input")"
			tail -n 30 "$log" >&2
		fi
	done

	# then fuzz from the seeds and the regressions (copied: libFuzzer adds
	# what it finds to its first folder; git keeps no empty folder)
	mkdir -p "$out/corpus/$name"
	cp "$seeds"/* "$regress"/* "$out/corpus/$name/" 2>/dev/null
	flags_var=flags_$name
	log="$out/logs/$name.log"
	echo "test/fuzz/run.sh: fuzzing $name for ${secs}s" >&2
	# shellcheck disable=SC2086
	"$out/bin/${name}_fuzz" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$out/artifacts/$name-" ${!flags_var} \
		"$out/corpus/$name" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	if [ $rc -eq 0 ] && [ -n "$runs" ] && [ "$runs" -gt 0 ]; then
		echo "ok - fuzz $name (${runs} runs)"
	else
		fail "fuzz $name (exit status $rc, ${runs:-0} runs)"
		tail -n 40 "$log" >&2
		ls "$out/artifacts" >&2
	fi
done

if [ $failed -ne 0 ]; then
	echo "test/fuzz/run.sh: artefacts and logs kept in $out" >&2
	exit 1
fi
[ -n "${FUZZ_OUT:-}" ] || rm -rf "$out"
exit 0
