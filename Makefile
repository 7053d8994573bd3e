# stockpipe: the PostgreSQL extension (PGXS) and the project's programs.
#
#   make                 build the extension and the programs
#   make install         install the extension into PostgreSQL and the
#                        programs into $(PREFIX)/bin (default /usr/local/bin)
#   make installcheck    pg_regress against a running server that preloads
#                        stockpipe (scripts/test.sh starts one)

EXTENSION = stockpipe
MODULE_big = stockpipe
# The message contract (contract/) is one library shared with the producer
# and the dashboard: what the producer publishes, the consumers accept.
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c) $(wildcard contract/*.c)))

# The version being built is the control file's default_version.  Its
# script is made of one part per feature, in this order; the scripts of
# earlier versions and the upgrade scripts (sql/versions/) are installed as
# they are, so that ALTER EXTENSION stockpipe UPDATE works from any release.
EXTVERSION = $(shell sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" $(EXTENSION).control)
SQL_PARTS = sql/ingest.sql sql/l30d.sql sql/scheduler.sql sql/alerts.sql sql/bi.sql
DATA_built = stockpipe--$(EXTVERSION).sql
DATA = $(wildcard sql/versions/stockpipe--*.sql)
PGFILEDESC = "stockpipe - real-time stock market pipeline inside PostgreSQL"

SHLIB_LINK = -lrdkafka -lcjson -lcurl -lm
PG_CPPFLAGS = -I$(srcdir)/src -I$(srcdir)/contract
# PostgreSQL's headers are not -Wextra clean about unused parameters.
PG_CFLAGS = -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare

# The tests need shared_preload_libraries = 'stockpipe' and a Kafka broker;
# scripts/test.sh starts both and runs installcheck against them.
TESTS = $(wildcard test/sql/*.sql)
REGRESS = $(patsubst test/sql/%.sql,%,$(TESTS))
REGRESS_OPTS = --inputdir=test --dbname=stockpipe_regress

# No LLVM bitcode: the JIT gains nothing here and clang need not be installed.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Programs
PREFIX ?= /usr/local
PROG_CFLAGS = -std=c11 -O2 -g -Wall -Wextra -Werror
PROGRAMS = bin/stockpipe-broker

all: $(PROGRAMS) producer dashboard

dashboard:
	$(MAKE) -C dashboard

stockpipe--$(EXTVERSION).sql: $(SQL_PARTS) $(EXTENSION).control
	cat $(SQL_PARTS) >$@

producer:
	$(MAKE) -C producer

bin/stockpipe-broker: tools/stockpipe-broker.c
	@mkdir -p bin
	$(CC) $(PROG_CFLAGS) -o $@ $< -lrdkafka

install: install-programs

install-programs: $(PROGRAMS) producer dashboard
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	$(MAKE) -C producer install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)
	$(MAKE) -C dashboard install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)

clean: clean-programs

clean-programs:
	rm -rf bin
	$(MAKE) -C producer clean
	$(MAKE) -C dashboard clean

.PHONY: producer dashboard install-programs clean-programs

# libFuzzer harnesses of the pure parsers (fuzz/run.sh), for longer than the
# 30 seconds each that scripts/test.sh gives them.
fuzz:
	bash fuzz/run.sh 600

.PHONY: fuzz
