# PostgreSQL 15 with stockpipe built in and preloaded, plus the producer, the
# development broker and the dashboard server (stockpipe-dash).  The packages
# come from scripts/install-deps.sh and the build is `make everything`, the
# same steps as scripts/test.sh (CI) and scripts/demo.sh.
#
#   docker build -t stockpipe .
#   docker run -e POSTGRES_PASSWORD=... -e STOCKPIPE_KAFKA_BROKERS=kafka:9092 stockpipe
#
# Environment (read when the database is first initialised):
#   STOCKPIPE_DATABASE (default: $POSTGRES_DB or postgres), STOCKPIPE_KAFKA_BROKERS,
#   STOCKPIPE_KAFKA_OPTIONS, STOCKPIPE_CONSUMER_WORKERS (default 1)
FROM postgres:15-bookworm

# The run-time libraries are named in the same apt-get install as the build
# packages, so that purging the build packages afterwards keeps them.
COPY scripts/install-deps.sh /usr/local/lib/stockpipe/install-deps.sh
RUN sh /usr/local/lib/stockpipe/install-deps.sh build runtime \
 && rm -rf /var/lib/apt/lists/*

COPY . /usr/src/stockpipe
RUN make -C /usr/src/stockpipe clean-everything \
 && make -C /usr/src/stockpipe everything \
 && make -C /usr/src/stockpipe install-everything \
 && apt-get purge -y --auto-remove $(sh /usr/local/lib/stockpipe/install-deps.sh --list build) \
 && rm -rf /usr/src/stockpipe

COPY docker/stockpipe-init.sh /docker-entrypoint-initdb.d/10-stockpipe.sh
