/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * maps.bpf.h - the data path's maps.  Their keys, values and names are the
 * ABI in include/xtwamp_maps.h; this file only instantiates them.
 */
#ifndef XTWAMP_MAPS_BPF_H
#define XTWAMP_MAPS_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xt_config);
} xtwamp_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XT_NUM_PORTS);
	__type(key, __u32);
	__type(value, struct xt_port);
} xtwamp_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XT_MAX_SESSIONS);
	__type(key, struct xt_session_key);
	__type(value, struct xt_session);
} xtwamp_sessions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XT_MAX_FLOWS);
	__type(key, struct xt_session_key);
	__type(value, struct xt_session);
} xtwamp_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XT_MAX_ALLOW);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xt_allow_key);
	__type(value, __u8);
} xtwamp_allow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XT_MAX_RATE_SOURCES);
	__type(key, union xt_addr);
	__type(value, struct xt_rate_state);
} xtwamp_ratelim SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XT_CNT__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} xtwamp_counters SEC(".maps");

/*
 * AF_XDP sockets of xtwampd's authenticated/encrypted path, one per receive
 * queue of each interface (key XT_XSK_KEY(slot, queue)).  An empty slot makes
 * the redirect fall back to XDP_PASS, where xtwampd's UDP socket takes it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XT_MAX_IFSLOTS);
	__type(key, __u32);   /* ifindex */
	__type(value, __u32); /* slot */
} xtwamp_ifslots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XT_MAX_IFSLOTS *XT_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xtwamp_xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XT_RES_BUCKETS);
	__type(key, __u32);
	__type(value, struct xt_res_bucket);
} xtwamp_resid SEC(".maps");

/*
 * Residence time T3 - T2 into its histogram bucket (XT_RES_BOUNDS_NS): a
 * few comparisons and one per-CPU value.  A NIC T2 a little ahead of the
 * kernel clock counts as 0.
 */
static __always_inline void count_residence(__u64 t2, __u64 t3)
{
	__u64 d = t3 > t2 ? t3 - t2 : 0;
	struct xt_res_bucket *b;
	__u32 key;

	if (d <= 10000)
		key = d <= 1000 ? 0 : d <= 2000 ? 1 : d <= 5000 ? 2 : 3;
	else if (d <= 100000)
		key = d <= 20000 ? 4 : d <= 50000 ? 5 : 6;
	else
		key = d <= 1000000 ? 7 : d <= 10000000 ? 8 : 9;
	b = bpf_map_lookup_elem(&xtwamp_resid, &key);
	if (b) {
		b->count += 1;
		b->sum_ns += d;
	}
}

/* Bump one per-CPU counter. */
static __always_inline void count(enum xt_counter id)
{
	__u32 key = id;
	__u64 *value = bpf_map_lookup_elem(&xtwamp_counters, &key);

	if (value)
		*value += 1;
}

#endif /* XTWAMP_MAPS_BPF_H */
