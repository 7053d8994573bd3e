# stockpipe: the PostgreSQL extension (PGXS), and the project's programs.
#
# The extension, as PGXS does it.  Needs only PostgreSQL's server headers
# (postgresql-server-dev-15) and those of librdkafka, cJSON and libcurl:
#   make                   build the extension
#   make install           install it into PostgreSQL
#   make installcheck      pg_regress (test/sql) on a temporary instance
#                          that preloads the installed extension
#                          (test/regress.conf); results in tmp_check/.  As
#                          root it runs as the postgres user, since initdb
#                          and postgres refuse root
#   make clean
#
# The programs (they need more: libmicrohttpd, libpq and npm for the
# dashboard):
#   make programs          all three:
#   make broker              bin/stockpipe-broker (development Kafka broker)
#   make producer            producer/stockpipe-producer
#   make dashboard           dashboard/stockpipe-dash and its page (npm ci)
#   make install-programs  into $(PREFIX)/bin (default /usr/local/bin); the
#                          dashboard's page into $(PREFIX)/share/stockpipe-dash
#   make clean-programs
#
# Both (what scripts/test.sh, scripts/demo.sh and the Dockerfile build):
#   make everything, make install-everything, make clean-everything
#
# scripts/install-deps.sh installs the packages each of these needs.

EXTENSION = stockpipe
MODULE_big = stockpipe
# The message contract (contract/) is one library shared with the producer
# and the dashboard: what the producer publishes, the consumers accept.
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c) $(wildcard contract/*.c)))

# The version being built is the control file's default_version.  Its
# script is made of one part per feature, in this order.  The first
# release's script and the upgrade scripts (sql/versions/) are installed as
# they are: ALTER EXTENSION stockpipe UPDATE works from any release, and
# CREATE EXTENSION stockpipe VERSION 'OLD' installs 1.0 and updates to OLD.
EXTVERSION = $(shell sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" $(EXTENSION).control)
SQL_PARTS = sql/ingest.sql sql/l30d.sql sql/scheduler.sql sql/alerts.sql sql/bi.sql sql/finish.sql
DATA_built = stockpipe--$(EXTVERSION).sql
DATA = $(wildcard sql/versions/stockpipe--*.sql)
PGFILEDESC = "stockpipe - real-time stock market pipeline inside PostgreSQL"

SHLIB_LINK = -lrdkafka -lcjson -lcurl -lm
PG_CPPFLAGS = -I$(srcdir)/src -I$(srcdir)/contract
# PostgreSQL's headers are not -Wextra clean about unused parameters.
PG_CFLAGS = -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare

# installcheck starts its own instance (pg_regress --temp-instance), with
# test/regress.conf appended to its postgresql.conf: stockpipe preloaded,
# its workers waiting in another database; no Kafka broker needed.
# Everything it writes goes to tmp_check/: the instance, results/,
# regression.diffs, regression.out, log/.
TESTS = $(wildcard test/sql/*.sql)
REGRESS = $(patsubst test/sql/%.sql,%,$(TESTS))
REGRESS_OPTS = --inputdir=test --outputdir=tmp_check \
	--temp-instance=tmp_check/instance --temp-config=test/regress.conf
REGRESS_PREP = regress-prep

# initdb and postgres refuse to run as root: as root, installcheck runs
# itself again as this user, in a tmp_check/ that user owns.
REGRESS_OS_USER = postgres
AS_ROOT := $(filter 0,$(shell id -u))
ifneq ($(AS_ROOT),)
NO_INSTALLCHECK = 1
endif

# No LLVM bitcode: the JIT gains nothing here and clang need not be installed.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Without --enable-depend, PGXS does not know which headers an object
# includes: a changed struct (say, a field added to contract/fields.h) would
# leave objects of the old layout behind.  The headers are few: every
# object depends on all of them.
$(OBJS): $(wildcard src/*.h contract/*.h)

stockpipe--$(EXTVERSION).sql: $(SQL_PARTS) $(EXTENSION).control
	cat $(SQL_PARTS) >$@

regress-prep:
	@mkdir -p tmp_check

ifneq ($(AS_ROOT),)
installcheck:
	@runuser -u $(REGRESS_OS_USER) -- test -r $(CURDIR)/test/regress.conf || \
		{ echo "installcheck: user $(REGRESS_OS_USER) cannot read $(CURDIR); run it from a folder that user can read" >&2; exit 1; }
	rm -rf tmp_check
	mkdir tmp_check
	chown $(REGRESS_OS_USER): tmp_check
	runuser -u $(REGRESS_OS_USER) -- $(MAKE) installcheck PG_CONFIG=$(PG_CONFIG)
endif

.PHONY: regress-prep

# Programs
PREFIX ?= /usr/local
PROG_CFLAGS = -std=c11 -O2 -g -Wall -Wextra -Werror
BROKER = bin/stockpipe-broker

programs: broker producer dashboard

broker: $(BROKER)

$(BROKER): broker/stockpipe-broker.c
	@mkdir -p bin
	$(CC) $(PROG_CFLAGS) -o $@ $< -lrdkafka

producer:
	$(MAKE) -C producer

dashboard:
	$(MAKE) -C dashboard

install-programs: programs
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BROKER) $(DESTDIR)$(PREFIX)/bin/
	$(MAKE) -C producer install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)
	$(MAKE) -C dashboard install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)

clean-programs:
	rm -rf bin
	$(MAKE) -C producer clean
	$(MAKE) -C dashboard clean

# Everything
everything: all programs

install-everything: install install-programs

clean-everything: clean clean-programs

.PHONY: programs broker producer dashboard install-programs clean-programs \
	everything install-everything clean-everything

# libFuzzer harnesses of the pure parsers (test/fuzz/run.sh), for longer than the
# 30 seconds each that scripts/test.sh gives them.
fuzz:
	bash test/fuzz/run.sh 600

.PHONY: fuzz
