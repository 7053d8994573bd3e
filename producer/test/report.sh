# producer/test/report.sh -- sourced by producer/test/run.sh and
# producer/fuzz/run.sh (bash): "ok - NAME" / "not ok - NAME" lines and
# their counts, and a scratch directory removed at the end unless something
# failed.

failed=0
passed=0

report() {	# report STATUS NAME
	if [ "$1" -eq 0 ]; then
		echo "ok - $2"; passed=$((passed + 1))
	else
		echo "not ok - $2"; failed=$((failed + 1))
	fi
}

# Counts the ok / not ok lines of a test program's output (already printed).
tally() {
	local n
	n=$(grep -c '^ok ' "$1"); passed=$((passed + n))
	n=$(grep -c '^not ok ' "$1"); failed=$((failed + n))
}

# drop_or_keep DIR WHAT: removes DIR if nothing failed, else says that it
# keeps WHAT there.
drop_or_keep() {
	if [ "$failed" -eq 0 ]; then
		rm -rf "$1"
	else
		echo "# $2 kept in $1"
	fi
}
