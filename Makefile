# Makefile for orion (PGXS)
#
#   make && make install     build and install into the PostgreSQL that
#                            PG_CONFIG names
#   make installcheck        regress, isolation and TAP tests against a running
#                            server (PGHOST/PGPORT), the usual PGXS way
#   make test                everything, from nothing: installs what is
#                            missing, builds with -Werror, runs every test on a
#                            private cluster (test/run)
#   make test-matrix         make test on PostgreSQL 15, 17 and 18, each in a
#                            minimal Debian root (test/matrix)
#   make demo                the narrated walkthrough on a private cluster
#                            (test/demo)
#   make demo-sharded        the same for three shards behind a PL/Proxy
#                            proxy (test/demo-sharded)

EXTENSION    = orion
EXTVERSION   = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(dir $(firstword $(MAKEFILE_LIST)))orion.control)

MODULE_big   = orion
# src/ has a folder per service (auth, flags, ab, events, integrity,
# maintenance) over src/common/, which they share; orion.c (_PG_init) sits on
# top. pgvector keeps a flat src/; orion has more services than one flat
# folder shows. Includes name the folder, from src/ (#include "common/query.h",
# "auth/session.h"), so every include line shows which way it points:
# services include common, never the reverse (test/layout-check). PostgreSQL
# has a common/ of its own (common/sha2.h); -I puts orion's first, so
# orion's common/base64.h hides PostgreSQL's, which orion does not use.
OBJS_COMMON  = src/common/guc.o src/common/query.o src/common/base64.o src/common/audit.o \
               src/common/table_cache.o src/common/key_memo.o src/common/index_probe.o \
               src/common/validate.o src/common/request.o src/common/base32.o src/common/secret_box.o
OBJS_AUTH    = src/auth/phc.o src/auth/token.o src/auth/password.o src/auth/session.o \
               src/auth/login_failure.o src/auth/login.o src/auth/otp.o src/auth/recovery_code.o \
               src/auth/totp.o src/auth/mfa_challenge.o \
               src/auth/jws.o src/auth/signing_key.o src/auth/jwt.o \
               src/auth/session_validate.o src/auth/email_address.o src/auth/account_settings.o src/auth/account.o \
               src/auth/one_time_token.o src/auth/email_verification.o src/auth/password_reset.o \
               src/auth/sign_in_link.o
OBJS_FLAGS   = src/flags/murmur3.o src/flags/flag_value.o src/flags/flag_parse.o \
               src/flags/flag_eval.o src/flags/flag_cache.o src/flags/flag_user.o src/flags/flag.o
OBJS_AB      = src/ab/growthbook.o src/ab/ab_test.o src/ab/ab.o src/ab/ab_cache.o src/ab/ab_store.o \
               src/ab/ab_results.o
OBJS_EVENTS  = src/events/change_trigger.o src/events/cache_event.o
OBJS_INTEGRITY = src/integrity/user_reference.o
OBJS_MAINTENANCE = src/maintenance/maintenance.o src/maintenance/worker.o
OBJS         = src/orion.o $(OBJS_COMMON) $(OBJS_AUTH) $(OBJS_FLAGS) $(OBJS_AB) \
               $(OBJS_EVENTS) $(OBJS_INTEGRITY) $(OBJS_MAINTENANCE)
# libcrypto (OpenSSL 3, which PostgreSQL links too): AES-256-GCM for secrets at
# rest; Ed25519, ECDSA P-256 and HMAC-SHA-256 for JWT access tokens
SHLIB_LINK   = -largon2 -lcrypto
PG_CPPFLAGS  = -I$(srcdir)/src -DORION_VERSION='"$(EXTVERSION)"'

# sql/orion.sql is the full install script a person edits; the versioned
# file CREATE EXTENSION runs is copied from it (pgvector's way) and not
# committed. The released install script of 0.1.0 and every upgrade script
# are installed as they are.
DATA         = sql/$(EXTENSION)--0.1.0.sql $(wildcard sql/$(EXTENSION)--*--*.sql)
DATA_built   = sql/$(EXTENSION)--$(EXTVERSION).sql
# orion_proxy: orion's API in a PL/Proxy proxy database, routed to shards
# that run orion (README, "Sharding on PL/Proxy"); SQL only, installed beside
DATA        += proxy/orion_proxy.control proxy/orion_proxy--$(EXTVERSION).sql

REGRESS      = $(patsubst sql/%.sql,%,$(sort $(filter-out sql/$(EXTENSION)--% sql/$(EXTENSION).sql,$(wildcard sql/*.sql))))
ISOLATION    = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=test/isolation
TAP_TESTS    = 1
PROVE_TESTS  = $(sort $(wildcard test/t/*.pl))

EXTRA_CLEAN  = test/isolation/results test/isolation/regression.*

# The newest PostgreSQL installed as Debian installs them (15 to 18), else
# pg_config on PATH; PG_CONFIG=/usr/lib/postgresql/N/bin/pg_config picks one.
PG_CONFIG   ?= $(or $(lastword $(sort $(wildcard /usr/lib/postgresql/1[5-9]/bin/pg_config))),pg_config)
PGXS        := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

ifneq ($(PGXS),)
include $(PGXS)
else
# No server development files yet: only the targets that install them work.
all install installcheck:
	@echo "orion: $(PG_CONFIG) --pgxs found nothing; install postgresql-server-dev-N (N: 15 to 18)," >&2
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
src/ab/growthbook.o: override CFLAGS += -ffp-contract=off
src/ab/growthbook.bc: override BITCODE_CFLAGS += -ffp-contract=off

.PHONY: test test-matrix demo demo-sharded bench fuzz dist

test:
	@SANITIZE=$(SANITIZE) bash test/run

# make test on PostgreSQL 15, 17 and 18, each in a minimal Debian root of
# the release that ships it (test/matrix; as root, about an hour).
test-matrix:
	@bash test/matrix $(VERSIONS)

demo:
	@bash test/demo

# the sharded shape: three shards and a PL/Proxy proxy (test/demo-sharded)
demo-sharded:
	@bash test/demo-sharded

# libFuzzer harnesses of the pure C parts, FUZZ_SECONDS each (default 60).
fuzz:
	@bash test/fuzz/run

# Benchmarks against their baselines (QUICK=1: reduced scale).
bench:
	@QUICK=$(QUICK) bash test/bench/run

# Release archive from the committed tree (pgvector's way).
dist:
	git archive --format zip --prefix=$(EXTENSION)-$(EXTVERSION)/ --output $(EXTENSION)-$(EXTVERSION).zip HEAD
