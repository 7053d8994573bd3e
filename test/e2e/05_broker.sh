#!/usr/bin/env bash
# stockpipe-broker: flags, topics, the Kafka protocol through kcat, an
# outage with SIGUSR1/SIGUSR2 that keeps the data, a clean SIGTERM, and no
# leak or invalid access under valgrind.
. "$(dirname "$0")/common.sh"

B=$SP_BIN/stockpipe-broker
E2E_DIR=$(sp_make_workdir)

"$B" --help >"$E2E_DIR/help" 2>&1
check "--help exits 0" test $? -eq 0
check "--help says it is for development and tests only" grep -q 'development and tests ONLY' "$E2E_DIR/help"
"$B" --partitions 0 >/dev/null 2>"$E2E_DIR/bad"
check_eq "a bad flag value exits 2" 2 $?
check "a bad flag value prints the usage" grep -q '^Usage: stockpipe-broker' "$E2E_DIR/bad"
"$B" --no-such-flag >/dev/null 2>&1
check_eq "an unknown flag exits 2" 2 $?

valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=9 \
	--log-file="$E2E_DIR/valgrind.log" \
	"$B" --partitions 3 --topic quotes --topic bars --address-file "$E2E_DIR/addr" >"$E2E_DIR/stdout" 2>"$E2E_DIR/log" &
pid=$!
wait_for 60 "broker address" test -s "$E2E_DIR/addr"
addr=$(cat "$E2E_DIR/addr")
check_eq "the address is printed and written to the file" "$addr" "$(head -n 1 "$E2E_DIR/stdout")"
check_eq "topics created with 3 partitions each" "quotes:3 bars:3" \
	"$(kcat -L -b "$addr" | sed -nE 's/^ *topic "([a-z]+)" with ([0-9]+) partitions:/\1:\2/p' | sort -r | tr '\n' ' ' | sed 's/ $//')"

printf 'K1\tone\nK2\ttwo\n' | kcat -P -b "$addr" -t quotes -K $'\t' -p 0
check_eq "kcat produces and consumes" "K1=one K2=two" \
	"$(kcat -C -b "$addr" -t quotes -p 0 -e -q -f '%k=%s ' | sed 's/ $//')"

kill -USR1 $pid
check "SIGUSR1: connections are refused" wait_for 20 "broker down" bash -c "! kcat -L -b '$addr' -m 2 >/dev/null 2>&1"
kill -USR2 $pid
check "SIGUSR2: the broker is back with its data" wait_for 20 "broker up" bash -c \
	"[ \"\$(kcat -C -b '$addr' -t quotes -p 0 -e -q -f '%s ' 2>/dev/null)\" = 'one two ' ]"

kill -TERM $pid
wait $pid
check_eq "SIGTERM: exits 0 under valgrind (no leak, no invalid access)" 0 $?
check "the address file is removed at exit" test ! -e "$E2E_DIR/addr"
exit $SP_TEST_FAILED
