/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ping_stats.h - the statistics of `xtwamp ping`, as pure functions over
 * what the Session-Sender kept (struct ping_sample, in arrival order), so
 * the unit tests can feed hand-computed cases.  Definitions follow
 * protocol-notes §5:
 *
 *   delays      RTT = (T4-T1)-(T3-T2), forward T2-T1, backward T4-T3,
 *               residence T3-T2; min/median/mean/max and nearest-rank
 *               p90/p95/p99/p99.9 over the exact values (no buckets).
 *               One-way values are never clamped: negatives are counted.
 *   IPDV        RFC 3393 / RFC 5481 §4.1, consecutive sequence numbers:
 *               D(i) - D(i-1) when both were answered in time.
 *   jitter      RFC 3550 §6.4.1 interarrival jitter, in arrival order:
 *               J += (|D(i) - D(i-1)| - J) / 16.
 *   loss        RFC 7680 round trip: sent - answered in time; split into
 *               forward/backward from the reflector's sequence numbers
 *               (gaps in them were lost on the way back) when the
 *               reflector is known or seen to count on its own.
 *   reordering  RFC 4737 §4 (NextExp) over sender sequence numbers in
 *               arrival order; extent §4.2.
 *   hops        sent TTL - Sender TTL (forward), 255 - reply TTL (backward).
 *   DSCP        of the replies, from IP_RECVTOS / IPV6_RECVTCLASS.
 */
#ifndef XTWAMP_PING_STATS_H
#define XTWAMP_PING_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#include "ping.h"

/* A distribution of exact values; all 0 when n == 0. */
struct ps_dist {
	size_t n;
	__s64 min, median, mean, max, p90, p95, p99, p999;
};

/* Nearest-rank percentile, per ten thousand (9990 = p99.9), ascending v, n > 0. */
__s64 ps_percentile(const __s64 *sorted, size_t n, unsigned per10k);

/* Sorts v in place and fills d; mean and median round toward zero. */
void ps_dist_sorted(__s64 *v, size_t n, struct ps_dist *d);

/* IPDV of one delay metric over pairs of consecutive sequence numbers. */
struct ps_ipdv {
	size_t pairs;
	__s64 mean_abs_ns;   /* mean |IPDV|: the "jitter" most people mean */
	struct ps_dist dist; /* of the signed values (two-sided, mean ~ 0) */
};

/* RFC 3550 §6.4.1 over transit times in arrival order; 0 for n < 2. */
double ps_rfc3550_jitter(const __s64 *transit, size_t n);

/* RFC 4737 over sender sequence numbers in arrival order (first copies only). */
struct ps_reorder {
	size_t received;    /* L: packets considered */
	__u64 reordered;    /* s < NextExp at arrival */
	double ratio;	    /* reordered / L (0 when L == 0) */
	__u64 extent_max;   /* §4.2.2: i - j, j the first earlier arrival with s[j] > s[i] */
	double extent_mean; /* over the reordered packets */
};

int ps_reorder(const __u32 *seq, size_t n, struct ps_reorder *r);

/* Loss split by direction (protocol-notes §5.3). */
struct ps_loss_split {
	bool available;
	__u64 forward;	    /* lost before the reflector (or after the last reply seen) */
	__u64 backward;	    /* reflected, never arrived here: gaps in its sequence numbers */
	const char *reason; /* why it is unavailable (static text), NULL when available */
	/*
	 * Unavailable only because the reflector's numbers equal ours: a
	 * stateless reflector, or a stateful one that lost nothing forward.
	 * The split it would be if the reflector is stateful (the operator can
	 * assert that with --reflector-stateful).
	 */
	bool if_stateful;
	__u64 if_stateful_forward, if_stateful_backward;
};

/*
 * rseq: the reflector sequence numbers of every reply we got (in time or
 * late, first copies), seq the matching sender sequence numbers.
 * lost = round-trip lost including late; late replies crossed both ways,
 * so forward + backward + late = lost.  stateful: the reflector is known
 * to number its own replies (full TWAMP, RFC 5357 §4.2.1, or asserted by
 * the operator); otherwise it is assumed stateful once some rseq differs
 * from its seq, and when none does the split is unavailable with
 * if_stateful set to what it would be for a stateful reflector.
 */
void ps_loss_split(const __u32 *rseq, const __u32 *seq, size_t n, __u64 lost, __u64 late,
		   bool stateful, struct ps_loss_split *out);

/* One session's input. */
struct ps_input {
	const struct ping_sample *samples; /* in-time first replies, arrival order */
	size_t n;
	const struct ping_sample *late; /* late first replies (only rseq, seq used) */
	size_t nlate;
	const struct ping_counters *cnt;
	bool stateful; /* reflector known to keep its own sequence numbers */
	int sent_ttl;  /* TTL / hop limit we sent with (255 unless --ttl) */
	bool sender_unsync, reflector_unsync;
};

struct ps_hops {
	bool known;
	int min, max;
};

struct ps_result {
	struct ping_counters cnt;
	__u64 lost; /* sent - received (late ones included) */
	double loss_ratio;
	struct ps_loss_split split;
	struct ps_reorder reorder; /* round trip: our numbers in arrival order */
	/*
	 * By direction, when the reflector numbers its replies (stateful):
	 * forward = our numbers in the reflector's arrival order (sorted by its
	 * number), backward = its numbers in our arrival order.  Sums over
	 * sessions; extent_mean is not kept for these.
	 */
	bool reorder_split;
	__u64 reordered_fwd, reordered_bwd;
	struct ps_dist rtt, fwd, bwd, res;
	__u64 negative_fwd, negative_bwd; /* one-way delays below 0: a clock offset */
	struct ps_ipdv ipdv_rtt, ipdv_fwd, ipdv_bwd;
	size_t jitter_n; /* arrival pairs behind the RFC 3550 values */
	double jitter_rtt_ns, jitter_fwd_ns, jitter_bwd_ns; /* RFC 3550 */
	struct ps_hops hops_fwd, hops_bwd;
	__u64 dscp[64]; /* replies seen per DSCP */
	__u64 ecn_ce;	/* replies with ECN CE */
	__u64 tos_unknown;
	bool sender_unsync, reflector_unsync;
};

/*
 * Statistics of n sessions together (n == 1: one session).  Distributions
 * pool every sample; IPDV pairs, arrival order (jitter, reordering) and
 * the loss split stay inside each session.  The split is available
 * overall only if it is in every session.  0 or -ENOMEM.
 */
int ps_compute(const struct ps_input *in, size_t n, struct ps_result *out);

/* Clock warning for a result, or NULL (same text as ping_sync_warning()). */
const char *ps_sync_warning(const struct ps_result *r);

/*
 * Human summary (after the "--- PEER KIND ping statistics ---" line):
 * counters, loss split, reordering, duplicates, delays, jitter, hops, DSCP.
 */
void ps_print(FILE *f, const char *peer, const char *kind, const struct ps_result *r);

/* --json: see README "JSON output".  Schema version below. */
#define PS_JSON_SCHEMA "xtwamp-ping"
#define PS_JSON_VERSION 1

/* A JSON object of one result (no trailing newline). */
void ps_json_result(FILE *f, const struct ps_result *r);
/* A JSON string with escapes. */
void ps_json_string(FILE *f, const char *s);

/* Parse -D: 0..63 or a name (EF, AFxy, CSx, LE, VA, any case); -1 if neither. */
int ps_parse_dscp(const char *text);
/* Name of a DSCP ("EF", "AF41", "CS0") or NULL. */
const char *ps_dscp_name(int dscp);

#endif /* XTWAMP_PING_STATS_H */
