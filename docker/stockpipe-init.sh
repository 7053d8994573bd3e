#!/bin/bash
# Runs once, when the official postgres image initialises a new data
# directory: preload stockpipe, configure it from the environment, and create
# the extension in the workers' database.
set -euo pipefail

db=${STOCKPIPE_DATABASE:-${POSTGRES_DB:-postgres}}
{
	echo "shared_preload_libraries = 'stockpipe'"
	echo "stockpipe.database = '$db'"
	echo "stockpipe.kafka_brokers = '${STOCKPIPE_KAFKA_BROKERS:-kafka:9092}'"
	echo "stockpipe.consumer_workers = ${STOCKPIPE_CONSUMER_WORKERS:-1}"
	[ -n "${STOCKPIPE_KAFKA_OPTIONS:-}" ] && echo "stockpipe.kafka_options = '${STOCKPIPE_KAFKA_OPTIONS//\'/\'\'}'"
} >>"$PGDATA/postgresql.conf"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$db" -c "CREATE EXTENSION IF NOT EXISTS stockpipe"
