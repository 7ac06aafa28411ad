# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# `make bench`: build bench/ and run bench/run.sh (root; about 5 minutes, at most 15).
# Not part of `make test`: figures are printed, never asserted.

BENCH_DIR := $(BUILD)/bench

$(BENCH_DIR):
	$(Q)mkdir -p $@

$(BENCH_DIR)/bench.bpf.o: bench/bench.bpf.c bench/bench.h $(BPF_HDRS) | $(BENCH_DIR)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Ibench -c $< -o $@

$(BENCH_DIR)/bench.skel.h: $(BENCH_DIR)/bench.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name bench > $@

# Only the control client and its crypto: the bench needs no daemon parts.
BENCH_OBJS := $(addprefix $(BUILD)/user/,control_client.o twamp_crypto.o clock.o log.o)

$(BENCH_DIR)/xtbench: bench/xtbench.c bench/bench.h $(BENCH_DIR)/bench.skel.h $(BENCH_OBJS) $(USER_HDRS) $(SKELS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -I$(BENCH_DIR) -Ibench $< $(BENCH_OBJS) -lbpf -lelf -lz -lcrypto -lm -o $@

.PHONY: bench-build
bench-build: all $(BENCH_DIR)/xtbench

bench: deps
	$(Q)$(MAKE) --no-print-directory bench-build
	$(Q)BUILD=$(BUILD) timeout -k 180 900 bench/run.sh
