# PostgreSQL 15 with stockpipe built in and preloaded, plus the producer, the
# development broker and the dashboard server (stockpipe-dash).  Build steps mirror scripts/lib.sh (sp_build).
#
#   docker build -t stockpipe .
#   docker run -e POSTGRES_PASSWORD=... -e STOCKPIPE_KAFKA_BROKERS=kafka:9092 stockpipe
#
# Environment (read when the database is first initialised):
#   STOCKPIPE_DATABASE (default: $POSTGRES_DB or postgres), STOCKPIPE_KAFKA_BROKERS,
#   STOCKPIPE_KAFKA_OPTIONS, STOCKPIPE_CONSUMER_WORKERS (default 1)
FROM postgres:15-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential pkg-config postgresql-server-dev-15 \
      librdkafka-dev libcjson-dev libcurl4-openssl-dev libmicrohttpd-dev nodejs npm \
      librdkafka1 libcjson1 libcurl4 libmicrohttpd12 libpq5 ca-certificates \
 && rm -rf /var/lib/apt/lists/*

COPY . /usr/src/stockpipe
RUN make -C /usr/src/stockpipe clean \
 && make -C /usr/src/stockpipe \
 && make -C /usr/src/stockpipe install \
 && apt-get purge -y --auto-remove build-essential pkg-config postgresql-server-dev-15 \
      librdkafka-dev libcjson-dev libcurl4-openssl-dev libmicrohttpd-dev nodejs npm \
 && rm -rf /usr/src/stockpipe

COPY docker/stockpipe-init.sh /docker-entrypoint-initdb.d/10-stockpipe.sh
