#!/bin/bash
# Runs once, when the official postgres image initialises a new data
# directory (mounted into /docker-entrypoint-initdb.d/ by docker-compose.yml,
# after 10-stockpipe.sh has created the extension and with it the role
# stockpipe_reader): creates the dashboard's read-only login.
#
# Environment: STOCKPIPE_DASH_PASSWORD (required; the login is not created
# without it), STOCKPIPE_DASH_USER (default stockpipe_dash),
# STOCKPIPE_DATABASE / POSTGRES_DB as in 10-stockpipe.sh.
#
# Written to work whether the entrypoint executes it or sources it: no exit,
# no set -u.
set -e

if [ -n "${STOCKPIPE_DASH_PASSWORD:-}" ]; then
	# psql variables (:"user", :'password') quote both safely; they are
	# interpolated in commands read from stdin, not in -c.
	psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" \
		--dbname "${STOCKPIPE_DATABASE:-${POSTGRES_DB:-postgres}}" \
		-v user="${STOCKPIPE_DASH_USER:-stockpipe_dash}" \
		-v password="$STOCKPIPE_DASH_PASSWORD" <<'SQL'
CREATE ROLE :"user" LOGIN PASSWORD :'password';
GRANT stockpipe_reader TO :"user";
SQL
else
	echo "stockpipe-roles-init: STOCKPIPE_DASH_PASSWORD is not set; no dashboard login created" >&2
fi
