# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# xtwamp build.  `make` builds everything into build/; `make test` and
# `make demo` install missing Debian packages first (scripts/deps.sh).
# V=1 shows full commands.

BUILD    ?= build
CLANG    ?= clang
BPFTOOL  ?= bpftool
CC       ?= cc
ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -Iuser -I$(BUILD)
LDLIBS   := -lxdp -lbpf -lelf -lz -lcrypto -lmicrohttpd -linih
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -Wall -Werror -D__TARGET_ARCH_$(ARCH) \
	      -Iinclude -Ivmlinux -Ibpf $(if $(MULTIARCH),-I/usr/include/$(MULTIARCH))

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all clean test unit-test xdp-test e2e-test demo deps check-tools bench

BPF_SRCS   := $(wildcard bpf/*.bpf.c)
BPF_HDRS   := $(wildcard bpf/*.h) $(wildcard include/*.h)
BPF_OBJS   := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS      := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
USER_HDRS  := $(wildcard user/*.h) $(wildcard include/*.h)

# Objects shared by the daemon, the client and the tests.
LIB_SRCS   := $(filter-out user/xtwampd.c user/xtwamp.c,$(wildcard user/*.c))
LIB_OBJS   := $(patsubst user/%.c,$(BUILD)/user/%.o,$(LIB_SRCS))

all: check-tools $(BUILD)/xtwampd $(BUILD)/xtwamp

check-tools:
	@command -v $(CLANG) >/dev/null || { echo "clang not found: run scripts/deps.sh (as root)"; exit 1; }
	@command -v $(BPFTOOL) >/dev/null || { echo "bpftool not found: run scripts/deps.sh (as root)"; exit 1; }
	@test -f /usr/include/bpf/libbpf.h || { echo "libbpf headers missing: run scripts/deps.sh (as root)"; exit 1; }

$(BUILD) $(BUILD)/user $(BUILD)/tests:
	$(Q)mkdir -p $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@

$(BUILD)/user/%.o: user/%.c $(USER_HDRS) $(SKELS) | $(BUILD)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/xtwampd: $(BUILD)/user/xtwampd.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -lm -o $@

$(BUILD)/xtwamp: $(BUILD)/user/xtwamp.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -lm -o $@

# ---- tests ---------------------------------------------------------------
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
XDP_TEST_SRCS := $(wildcard tests/xdp/*.c)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIB_OBJS) $(USER_HDRS) | $(BUILD)/tests
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(LIB_OBJS) $(LDLIBS) -lcmocka -lm -o $@

$(BUILD)/tests/xdp_test: $(XDP_TEST_SRCS) $(wildcard tests/xdp/*.h) $(LIB_OBJS) $(SKELS) | $(BUILD)/tests
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/xdp $(XDP_TEST_SRCS) $(LIB_OBJS) $(LDLIBS) -lcmocka -lm -o $@

tests-build: all $(UNIT_BINS) $(BUILD)/tests/xdp_test

deps:
	$(Q)scripts/deps.sh

unit-test: tests-build
	$(Q)tests/run.sh unit

xdp-test: tests-build
	$(Q)tests/run.sh xdp

e2e-test: tests-build
	$(Q)tests/run.sh e2e

# The README's test command: everything, with a closing "N passed, N failed" line.
test: deps
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)tests/run.sh all

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)
include mk/fuzz.mk
include mk/bench.mk
include mk/install.mk
