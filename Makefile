# Makefile for orion (PGXS)
#
#   make && make install     build and install into the PostgreSQL that
#                            PG_CONFIG names
#   make installcheck        regress, isolation and TAP tests against a running
#                            server (PGHOST/PGPORT), the usual PGXS way
#   make test                everything, from nothing: installs what is
#                            missing, builds with -Werror, runs every test on a
#                            private cluster (test/run)
#   make demo                the narrated walkthrough on a private cluster
#                            (test/demo)

EXTENSION    = orion
EXTVERSION   = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(dir $(firstword $(MAKEFILE_LIST)))orion.control)

MODULE_big   = orion
OBJS         = src/orion.o src/guc.o src/query.o src/base64.o src/phc.o src/token.o \
               src/password.o src/audit.o src/session.o src/session_validate.o src/account.o \
               src/murmur3.o src/flag_value.o src/flag_parse.o src/flag_eval.o \
               src/flag_cache.o src/flag.o src/change_trigger.o src/table_cache.o \
               src/growthbook.o src/ab.o src/ab_cache.o src/ab_store.o src/ab_results.o src/key_memo.o src/index_probe.o src/validate.o \
               src/user_reference.o src/cache_event.o \
               src/maintenance.o src/worker.o
SHLIB_LINK   = -largon2
PG_CPPFLAGS  = -I$(srcdir)/src -DORION_VERSION='"$(EXTVERSION)"'

# sql/orion.sql is the full install script a person edits; the versioned
# file CREATE EXTENSION runs is copied from it (pgvector's way) and not
# committed. The released install script of 0.1.0 and every upgrade script
# are installed as they are.
DATA         = sql/$(EXTENSION)--0.1.0.sql $(wildcard sql/$(EXTENSION)--*--*.sql)
DATA_built   = sql/$(EXTENSION)--$(EXTVERSION).sql

REGRESS      = $(patsubst sql/%.sql,%,$(sort $(filter-out sql/$(EXTENSION)--% sql/$(EXTENSION).sql,$(wildcard sql/*.sql))))
ISOLATION    = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=test/isolation
TAP_TESTS    = 1
PROVE_TESTS  = $(sort $(wildcard test/t/*.pl))

EXTRA_CLEAN  = test/isolation/results test/isolation/regression.*

PG_CONFIG   ?= $(or $(wildcard /usr/lib/postgresql/15/bin/pg_config),pg_config)
PGXS        := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

ifneq ($(PGXS),)
include $(PGXS)
else
# No server development files yet: only the targets that install them work.
all install installcheck:
	@echo "orion: $(PG_CONFIG) --pgxs found nothing; install postgresql-server-dev-15," >&2
	@echo "orion: or run 'make test' / 'make demo', which install what is missing." >&2
	@exit 1
endif

# The version lives only in orion.control; the library is rebuilt when it
# changes.
src/orion.o: orion.control

sql/$(EXTENSION)--$(EXTVERSION).sql: sql/$(EXTENSION).sql
	cp $< $@

# GrowthBook's bucket ranges must round as JavaScript does: no fused
# multiply-add, which some targets (aarch64) would otherwise use.
src/growthbook.o: override CFLAGS += -ffp-contract=off
src/growthbook.bc: override BITCODE_CFLAGS += -ffp-contract=off

.PHONY: test demo bench fuzz dist

test:
	@SANITIZE=$(SANITIZE) bash test/run

demo:
	@bash test/demo

# libFuzzer harnesses of the pure C parts, FUZZ_SECONDS each (default 60).
fuzz:
	@bash test/fuzz/run

# Benchmarks against their baselines (QUICK=1: reduced scale).
bench:
	@QUICK=$(QUICK) bash test/bench/run

# Release archive from the committed tree (pgvector's way).
dist:
	git archive --format zip --prefix=$(EXTENSION)-$(EXTVERSION)/ --output $(EXTENSION)-$(EXTVERSION).zip HEAD
