#!/usr/bin/env bash
# scripts/pbids.sh: write a Power BI Desktop connection file (.pbids) for a
# stockpipe database.  Opening the file in Power BI Desktop starts "Get Data"
# with the PostgreSQL connector already pointed at HOST:PORT / DATABASE; the
# user then gives the login role's name and password (a .pbids never holds
# credentials) and picks the stockpipe_bi views.  See docs/powerbi.md.
#
# The format is Microsoft's documented one: {"version": "0.1", "connections":
# [{"details": {"protocol": "postgresql", "address": {"server": "HOST:PORT",
# "database": DB}}, "options": {}, "mode": "DirectQuery" | "Import"}]}.
#
#   scripts/pbids.sh [--host HOST] [--port PORT] [--database DB]
#                    [--mode DirectQuery|Import] [--out FILE]
#
# Defaults: PGHOST (if it is a host name, not a socket directory) else
# localhost, PGPORT else 5432, PGDATABASE else PGUSER else the OS user, mode
# DirectQuery, standard output.  HOST must be the name or address Power BI
# (on Windows) reaches the server by, not the one seen from the server.
set -euo pipefail

usage() {
	echo "usage: $(basename "$0") [--host HOST] [--port PORT] [--database DB] [--mode DirectQuery|Import] [--out FILE]" >&2
	exit 2
}
die() { echo "$(basename "$0"): $*" >&2; exit 2; }

host=${PGHOST:-}
case $host in /*|@*) host="" ;; esac     # a Unix socket directory, no use to Power BI
host=${host:-localhost}
port=${PGPORT:-5432}
database=${PGDATABASE:-${PGUSER:-$(id -un)}}
mode=DirectQuery
out=""

while [ $# -gt 0 ]; do
	case $1 in
		--host|--port|--database|--mode|--out)
			[ $# -ge 2 ] || usage
			case $1 in
				--host) host=$2 ;; --port) port=$2 ;; --database) database=$2 ;;
				--mode) mode=$2 ;; --out) out=$2 ;;
			esac
			shift 2 ;;
		--host=*) host=${1#*=}; shift ;;
		--port=*) port=${1#*=}; shift ;;
		--database=*) database=${1#*=}; shift ;;
		--mode=*) mode=${1#*=}; shift ;;
		--out=*) out=${1#*=}; shift ;;
		-h|--help) usage ;;
		*) echo "$(basename "$0"): unknown argument '$1'" >&2; usage ;;
	esac
done

# A host name, an IPv4 address or an IPv6 address (bracketed in "server").
if [[ $host =~ ^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$ ]]; then
	server=$host
elif [[ $host =~ ^\[?([0-9A-Fa-f:.]+)\]?$ ]] && [[ $host == *:* ]]; then
	server="[${BASH_REMATCH[1]}]"
else
	die "invalid --host '$host': give a host name or an IP address that Power BI can reach"
fi
[[ $port =~ ^[0-9]{1,5}$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] ||
	die "invalid --port '$port': give a TCP port, 1-65535"
[ -n "$database" ] || die "empty --database"
[ "${#database}" -le 63 ] || die "invalid --database '$database': longer than 63 bytes"
if printf '%s' "$database" | LC_ALL=C grep -q '[[:cntrl:]]'; then
	die "invalid --database: it contains a control character"
fi
case $mode in
	DirectQuery|directquery) mode=DirectQuery ;;
	Import|import) mode=Import ;;
	*) die "invalid --mode '$mode': DirectQuery or Import" ;;
esac

# JSON string escaping: backslash and double quote (control characters were refused).
json_str() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}

emit() {
	cat <<EOF
{
  "version": "0.1",
  "connections": [
    {
      "details": {
        "protocol": "postgresql",
        "address": {
          "server": $(json_str "$server:$port"),
          "database": $(json_str "$database")
        }
      },
      "options": {},
      "mode": "$mode"
    }
  ]
}
EOF
}

if [ -z "$out" ] || [ "$out" = - ]; then
	emit
else
	tmp="$out.tmp.$$"
	trap 'rm -f "$tmp"' EXIT
	emit >"$tmp"
	mv -f "$tmp" "$out"
	trap - EXIT
	echo "wrote $out: $mode connection to $server:$port, database $database" >&2
fi
