# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Hardening: fuzzers, sanitizer build, soak (included from the Makefile).
#
#   make fuzz      the XDP frame fuzzer (FUZZ_FRAMES) and every libFuzzer
#                  target for FUZZ_SECONDS each
#   make sanitize  unit tests built with -fsanitize=address,undefined into
#                  $(ASAN_BUILD)/ and run (any report fails)
#   make soak      xtwampd with SOAK_SESSIONS sessions for SOAK_SECONDS
#   make valgrind  xtwampd's start/session/stop cycle under valgrind
#
# tests/run.sh runs short versions in `make test` (suites fuzz-short,
# sanitize); tests/fuzz/README.md describes them all.

FUZZ_FRAMES  ?= 5000000
FUZZ_SECONDS ?= 120
FUZZ_BUILD   ?= build-fuzz
ASAN_BUILD   ?= build-asan
SOAK_SECONDS ?= 600
SOAK_SESSIONS ?= 100

.PHONY: fuzz fuzz-build sanitize sanitize-build soak

XDP_FUZZ_SRCS := tests/fuzz/xdp_fuzz.c tests/xdp/pktbuild.c tests/xdp/checksum.c

$(BUILD)/tests/xdp_fuzz: $(XDP_FUZZ_SRCS) $(wildcard tests/xdp/*.h) $(SKELS) | $(BUILD)/tests
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/xdp $(XDP_FUZZ_SRCS) -lbpf -lelf -lz -o $@

# `make test` runs short versions of all of them (tests/run.sh fuzz-short, sanitize).
tests-build: $(BUILD)/tests/xdp_fuzz fuzz-build sanitize-build

# ---- libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined) -------
# The library objects are rebuilt with the sanitizers (and fuzzer coverage)
# into $(FUZZ_BUILD)/; skeleton headers come from $(BUILD)/.
SAN_FLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	       -fno-omit-frame-pointer
SAN_CFLAGS  := -O1 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -Iuser \
	       -I$(BUILD) $(SAN_FLAGS)
FUZZ_TARGETS := fuzz_control_setup fuzz_control_open fuzz_control_enc fuzz_keyfile \
		fuzz_auth_frame
FUZZ_BINS   := $(addprefix $(FUZZ_BUILD)/,$(FUZZ_TARGETS))
# Only the parsers under test and what they use (no daemon, no BPF).
FUZZ_LIB_OBJS := $(addprefix $(FUZZ_BUILD)/user/,control_conn.o keyfile.o twamp_crypto.o \
		 addr.o auth_reflect.o)

$(FUZZ_BUILD)/user $(ASAN_BUILD)/user $(ASAN_BUILD)/tests:
	$(Q)mkdir -p $@

$(FUZZ_BUILD)/user/%.o: user/%.c $(USER_HDRS) $(SKELS) | $(FUZZ_BUILD)/user
	$(call msg,CC-FUZZ,$@)
	$(Q)$(CLANG) $(SAN_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/fuzz_control_%: tests/fuzz/fuzz_control.c $(FUZZ_LIB_OBJS)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(SAN_CFLAGS) -fsanitize=fuzzer -DFUZZ_MODE=FUZZ_MODE_$(shell echo $* | tr a-z A-Z) \
		$< $(FUZZ_LIB_OBJS) -lcrypto -lm -o $@

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJS)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(SAN_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB_OBJS) -lcrypto -lm -o $@

fuzz-build: $(BUILD)/tests/xdp_fuzz $(FUZZ_BINS)

# Long runs: FUZZ_FRAMES frames through the XDP program, FUZZ_SECONDS per
# libFuzzer target (corpus grows in $(FUZZ_BUILD)/corpus/, seeded from
# tests/fuzz/corpus/; crashes land in $(FUZZ_BUILD)/ as crash-*: copy them to
# tests/fuzz/regress/TARGET/ to keep them as regression tests).
fuzz: all fuzz-build
	$(Q)$(BUILD)/tests/xdp_fuzz -n $(FUZZ_FRAMES) -s $$(date +%s)
	$(Q)FUZZ_BUILD=$(FUZZ_BUILD) tests/fuzz/run_libfuzzer.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# ---- sanitizer build of the unit tests -------------------------------------
# With the main build's compiler (gcc on Debian: the same warnings as `make`,
# so -Werror cannot break here alone); libasan/libubsan come with gcc.
ASAN_CC ?= $(CC)
ASAN_CFLAGS := -O1 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -Iuser \
	       -I$(BUILD) $(SAN_FLAGS)
ASAN_LIB_OBJS := $(patsubst user/%.c,$(ASAN_BUILD)/user/%.o,$(LIB_SRCS))
ASAN_UNIT_BINS := $(patsubst tests/unit/%.c,$(ASAN_BUILD)/tests/%,$(UNIT_SRCS))

$(ASAN_BUILD)/user/%.o: user/%.c $(USER_HDRS) $(SKELS) | $(ASAN_BUILD)/user
	$(call msg,CC-ASAN,$@)
	$(Q)$(ASAN_CC) $(ASAN_CFLAGS) -c $< -o $@

$(ASAN_BUILD)/tests/test_%: tests/unit/test_%.c $(ASAN_LIB_OBJS) | $(ASAN_BUILD)/tests
	$(call msg,CC-ASAN,$@)
	$(Q)$(ASAN_CC) $(ASAN_CFLAGS) -Itests $< $(ASAN_LIB_OBJS) $(LDLIBS) -lcmocka -lm -o $@

sanitize-build: $(ASAN_UNIT_BINS)

sanitize: all sanitize-build
	$(Q)tests/run.sh sanitize

# ---- soak ------------------------------------------------------------------
soak: all
	$(Q)SOAK_SECONDS=$(SOAK_SECONDS) SOAK_SESSIONS=$(SOAK_SESSIONS) tests/fuzz/soak.sh

# xtwampd's start/session/stop cycle under valgrind (tests/run.sh valgrind).
.PHONY: valgrind
valgrind: all
	$(Q)tests/run.sh valgrind

# `make clean` also removes the sanitizer and fuzzer builds.
.PHONY: clean-hardening
clean: clean-hardening
clean-hardening:
	$(Q)rm -rf $(FUZZ_BUILD) $(ASAN_BUILD)
