/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * policy.bpf.h - who may be reflected: unicast check, allow-list and the
 * per-source rate limit.  Each returns true when the packet may go on.
 */
#ifndef XTWAMP_POLICY_BPF_H
#define XTWAMP_POLICY_BPF_H

/* Replies to (or from) multicast/broadcast addresses are amplification. */
static __always_inline bool addr_is_unicast(const union xt_addr *a, bool is_ipv6)
{
	if (is_ipv6)
		return a->b[0] != 0xff;
	/* IPv4 multicast 224/4, class E 240/4 and limited broadcast */
	return a->b[12] < 224;
}

static __always_inline bool source_allowed(const union xt_addr *src, const struct xt_config *cfg)
{
	struct xt_allow_key key = { .prefixlen = 128 };

	if (!(cfg->flags & XT_CFG_ALLOWLIST_ENFORCED))
		return true;
	key.addr = *src;
	return bpf_map_lookup_elem(&xtwamp_allow, &key) != NULL;
}

/*
 * GCRA token bucket per source: a packet conforms when it arrives no more
 * than (burst - 1) intervals before its theoretical arrival time (TAT).
 * now_ns is the TAI clock, which the operator may step: a TAT further ahead
 * than any conforming stream could push it means the clock went backwards,
 * so it is reset rather than punishing the source until the clock catches up.
 */
static __always_inline bool source_within_rate(const union xt_addr *src, __u64 now_ns,
					       const struct xt_config *cfg)
{
	__u64 interval, tolerance, seen, tat;
	struct xt_rate_state *st;
	int attempt;

	if (!cfg->rate_limit_pps)
		return true;
	interval = XT_NSEC_PER_SEC / cfg->rate_limit_pps;
	tolerance = interval * (cfg->rate_burst > 1 ? cfg->rate_burst - 1 : 0);

	st = bpf_map_lookup_elem(&xtwamp_ratelim, src);
	if (!st) {
		struct xt_rate_state fresh = { .tat_ns = now_ns + interval };

		/* Losing the insert race to another CPU costs one packet of accuracy. */
		bpf_map_update_elem(&xtwamp_ratelim, src, &fresh, BPF_NOEXIST);
		return true;
	}

	/*
	 * Compare-and-swap: only several CPUs receiving from the same source
	 * contend.  A source that keeps losing the race is sending fast enough
	 * to be limited anyway, so after two attempts the packet is dropped.
	 */
	seen = st->tat_ns;
	for (attempt = 0; attempt < 2; attempt++) {
		__u64 prev;

		tat = seen;
		if (tat < now_ns || tat > now_ns + tolerance + interval)
			tat = now_ns;
		if (tat - now_ns > tolerance)
			return false;
		prev = __sync_val_compare_and_swap(&st->tat_ns, seen, tat + interval);
		if (prev == seen)
			return true;
		seen = prev;
	}
	return false;
}

#endif /* XTWAMP_POLICY_BPF_H */
