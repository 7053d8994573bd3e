#!/usr/bin/env bash
# bench/chaos/run.sh [SEED]: the chaos test's long profile -- about
# 1,000,000 messages and 30 faults (every fault kind at least twice) through
# the whole pipeline, then every check of test/chaos/run.sh.  Takes about
# 15 minutes on 2 cores; prints TAP lines and a summary with its figures
# (messages, faults of each kind, rows, dead letters and e-mails checked,
# elapsed time).  Without SEED a random one is drawn and printed; replay a
# run with the same SEED.  Not part of scripts/test.sh (CI runs the short
# profile).  Build and install first: bash -c '. scripts/lib.sh; sp_build'.
set -u
[ $# -le 1 ] || { echo "usage: bench/chaos/run.sh [SEED]" >&2; exit 2; }
exec bash "$(dirname "$0")/../../test/chaos/run.sh" "${1:-$RANDOM}" long
