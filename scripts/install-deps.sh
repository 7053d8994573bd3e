#!/bin/sh
# scripts/install-deps.sh: install the Debian 12 packages stockpipe needs.
# The one list: scripts/test.sh, scripts/demo.sh and the Dockerfile all run
# this script.  Installs only what is missing (apt-get update, then
# apt-get install -y); as root, or through sudo.
#
#   scripts/install-deps.sh [PROFILE...]       install (default profile: test)
#   scripts/install-deps.sh --list PROFILE...  print the packages, one a line
#
# Profiles, each one including the one before:
#   extension  `make` and `make install`: the extension alone
#   build      `make everything`: the programs too (libmicrohttpd, and npm
#              for the dashboard's charting library)
#   demo       scripts/demo.sh: PostgreSQL 15, an SMTP catcher, curl
#   test       scripts/test.sh: kcat, valgrind, clang (fuzzing), chromium
#              (the dashboard's browser test), psqlODBC, libfaketime, ...
# and, on its own:
#   runtime    the shared libraries the installed extension and programs
#              load, for an image from which the build packages are removed
set -eu

EXTENSION="build-essential postgresql-server-dev-15
	librdkafka-dev libcjson-dev libcurl4-openssl-dev"
BUILD="pkg-config libmicrohttpd-dev nodejs npm"
DEMO="postgresql-15 python3-aiosmtpd curl ca-certificates"
TEST="kcat valgrind odbc-postgresql unixodbc chromium faketime
	clang libclang-rt-14-dev libjansson-dev"
RUNTIME="librdkafka1 libcjson1 libcurl4 libmicrohttpd12 libpq5 ca-certificates"

# packages PROFILE: the packages of PROFILE.
packages() {
	case $1 in
		extension) echo "$EXTENSION" ;;
		build) echo "$EXTENSION $BUILD" ;;
		demo) echo "$EXTENSION $BUILD $DEMO" ;;
		test) echo "$EXTENSION $BUILD $DEMO $TEST" ;;
		runtime) echo "$RUNTIME" ;;
		*) echo "install-deps.sh: unknown profile '$1' (extension, build, demo, test, runtime)" >&2
			exit 2 ;;
	esac
}

list_only=""
if [ "${1:-}" = --list ]; then
	list_only=1
	shift
	[ $# -gt 0 ] || { echo "usage: install-deps.sh --list PROFILE..." >&2; exit 2; }
fi
[ $# -gt 0 ] || set -- test
list=""
for profile in "$@"; do
	list="$list $(packages "$profile")"
done

if [ -n "$list_only" ]; then
	# shellcheck disable=SC2086  # one word a package
	printf '%s\n' $list | sort -u
	exit 0
fi

missing=""
for p in $list; do
	# Debian's nodejs comes without npm; a NodeSource nodejs bundles it
	# and conflicts with Debian's npm package.
	[ "$p" = npm ] && command -v npm >/dev/null 2>&1 && continue
	case " $missing " in *" $p "*) continue ;; esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -n "$missing" ] || exit 0

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
echo "install-deps.sh: installing:$missing" >&2
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# shellcheck disable=SC2086  # one word a package
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
