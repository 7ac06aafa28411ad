// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_ping_stats.c - the statistics of `xtwamp ping` (user/ping_stats.c)
 * against cases worked out by hand: percentiles, negative one-way delays,
 * IPDV (RFC 5481), RFC 3550 jitter, RFC 4737 reordering, the loss split,
 * hop counts, DSCP, several sessions together and the JSON output.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ping_stats.h"

static void test_dist(void **state)
{
	__s64 v[10] = { 7, 3, 10, 1, 9, 2, 8, 4, 6, 5 }, big[1000], neg[3] = { 200, -300, -100 };
	struct ps_dist d;

	(void)state;
	ps_dist_sorted(v, 10, &d);
	assert_int_equal(d.n, 10);
	assert_int_equal(d.min, 1);
	assert_int_equal(d.max, 10);
	assert_int_equal(d.median, 5); /* (5 + 6) / 2 toward zero */
	assert_int_equal(d.mean, 5);   /* 55 / 10 */
	assert_int_equal(d.p90, 9);    /* nearest rank: ceil(0.9 * 10) = 9th */
	assert_int_equal(d.p95, 10);   /* ceil(9.5) = 10th */
	assert_int_equal(d.p99, 10);
	assert_int_equal(d.p999, 10);

	for (int i = 0; i < 1000; i++)
		big[i] = 1000 - i; /* 1000 .. 1, reversed */
	ps_dist_sorted(big, 1000, &d);
	assert_int_equal(d.p90, 900);
	assert_int_equal(d.p95, 950);
	assert_int_equal(d.p99, 990);
	assert_int_equal(d.p999, 999);
	assert_int_equal(d.median, 500); /* (500 + 501) / 2 */

	/* negative values stay negative: never clamped */
	ps_dist_sorted(neg, 3, &d);
	assert_int_equal(d.min, -300);
	assert_int_equal(d.median, -100);
	assert_int_equal(d.mean, -66); /* -200 / 3 toward zero */
	assert_int_equal(d.max, 200);

	ps_dist_sorted(v, 0, &d);
	assert_int_equal(d.n, 0);
	assert_int_equal(d.max, 0);
	assert_int_equal(ps_percentile(v, 1, 9990), v[0]);
}

static void test_rfc3550(void **state)
{
	__s64 t[4] = { 100, 116, 100, 100 };

	(void)state;
	/* J = 0 + (16 - 0)/16 = 1; 1 + (16 - 1)/16 = 1.9375; 1.9375 - 1.9375/16 */
	assert_true(fabs(ps_rfc3550_jitter(t, 2) - 1.0) < 1e-12);
	assert_true(fabs(ps_rfc3550_jitter(t, 3) - 1.9375) < 1e-12);
	assert_true(fabs(ps_rfc3550_jitter(t, 4) - 1.81640625) < 1e-12);
	assert_true(ps_rfc3550_jitter(t, 1) == 0);
	assert_true(ps_rfc3550_jitter(t, 0) == 0);
}

static void test_reorder(void **state)
{
	__u32 a[7] = { 0, 1, 2, 5, 3, 4, 6 }, b[4] = { 3, 0, 1, 2 }, c[3] = { 0, 1, 2 };
	struct ps_reorder r;

	(void)state;
	/* NextExp 6 after 5: 3 and 4 are reordered; extents 4-3 = 1 and 5-3 = 2 */
	assert_int_equal(ps_reorder(a, 7, &r), 0);
	assert_int_equal(r.received, 7);
	assert_int_equal(r.reordered, 2);
	assert_true(fabs(r.ratio - 2.0 / 7.0) < 1e-12);
	assert_int_equal(r.extent_max, 2);
	assert_true(fabs(r.extent_mean - 1.5) < 1e-12);

	/* 3 first: 0, 1, 2 all late, extents 1, 2, 3 (RFC 4737 §4.2.2: j = 0 each time) */
	assert_int_equal(ps_reorder(b, 4, &r), 0);
	assert_int_equal(r.reordered, 3);
	assert_true(fabs(r.ratio - 0.75) < 1e-12);
	assert_int_equal(r.extent_max, 3);
	assert_true(fabs(r.extent_mean - 2.0) < 1e-12);

	assert_int_equal(ps_reorder(c, 3, &r), 0);
	assert_int_equal(r.reordered, 0);
	assert_true(r.ratio == 0);
	assert_int_equal(ps_reorder(c, 0, &r), 0);
	assert_int_equal(r.received, 0);
}

static void test_loss_split(void **state)
{
	/*
	 * 10 sent.  Seq 3 and 6 lost forward: the reflector numbers what it saw,
	 * 0,1,2,4,5,7,8,9 -> 0..7.  The reply to seq 8 (rseq 6) lost backward.
	 */
	__u32 seq[7] = { 0, 1, 2, 4, 5, 7, 9 }, rseq[7] = { 0, 1, 2, 3, 4, 5, 7 };
	__u32 s2[4] = { 0, 1, 3, 4 }, r2[4] = { 0, 1, 2, 3 };
	__u32 s3[2] = { 0, 1 }, r3[2] = { 0, 5 };
	struct ps_loss_split sp;

	(void)state;
	ps_loss_split(rseq, seq, 7, 3, 0, false, &sp);
	assert_true(sp.available);
	assert_int_equal(sp.backward, 1);
	assert_int_equal(sp.forward, 2);
	assert_null(sp.reason);

	/*
	 * A stateless reflector copies our numbers: loss has no direction.  A
	 * stateful one with no forward loss returns the same numbers: then the
	 * 3 missing below the last reply (3, 6, 8) were all lost backward.
	 */
	ps_loss_split(seq, seq, 7, 3, 0, false, &sp);
	assert_false(sp.available);
	assert_non_null(strstr(sp.reason, "stateless"));
	assert_true(sp.if_stateful);
	assert_int_equal(sp.if_stateful_backward, 3);
	assert_int_equal(sp.if_stateful_forward, 0);
	/* 5 sent, replies to 0..2 only: if stateful, 3 and 4 never reached it (forward) */
	ps_loss_split(seq, seq, 3, 2, 0, false, &sp);
	assert_false(sp.available);
	assert_true(sp.if_stateful);
	assert_int_equal(sp.if_stateful_forward, 2);
	assert_int_equal(sp.if_stateful_backward, 0);
	/*
	 * 11 sent, 0,1,2,4,5,7,9 back, one of them late: lost 5 counts the
	 * late one.  If stateful: 3, 6, 8 backward, 10 (after the last reply)
	 * forward: 5 - 1 late - 3 = 1.
	 */
	ps_loss_split(seq, seq, 7, 5, 1, false, &sp);
	assert_false(sp.available);
	assert_true(sp.if_stateful);
	assert_int_equal(sp.if_stateful_backward, 3);
	assert_int_equal(sp.if_stateful_forward, 1);
	/* ... unless the reflector is known to count (full TWAMP): gaps are backward */
	ps_loss_split(seq, seq, 7, 3, 0, true, &sp);
	assert_true(sp.available);
	assert_int_equal(sp.backward, 3); /* 3, 6, 8 missing below 9 */
	assert_int_equal(sp.forward, 0);
	assert_false(sp.if_stateful); /* known, not implied */
	/* no loss: 0/0 whatever the reflector */
	ps_loss_split(seq, seq, 7, 0, 0, false, &sp);
	assert_true(sp.available);
	assert_int_equal(sp.forward + sp.backward, 0);
	assert_false(sp.if_stateful);

	/* 5 sent, seq 2 lost forward, seq 4 (rseq 3) late: 2 lost = 1 forward + 1 late */
	ps_loss_split(r2, s2, 4, 2, 1, false, &sp);
	assert_true(sp.available);
	assert_int_equal(sp.backward, 0);
	assert_int_equal(sp.forward, 1);

	/* a counter that was at 100 when we started: gaps counted from the first seen */
	{
		__u32 s4[3] = { 0, 1, 3 }, r4[3] = { 100, 101, 102 };

		ps_loss_split(r4, s4, 3, 1, 0, false, &sp);
		assert_true(sp.available);
		assert_int_equal(sp.forward, 1);
		assert_int_equal(sp.backward, 0);
	}

	/* rseq 5 with 3 sent: more reflected than sent, not believable */
	ps_loss_split(r3, s3, 2, 1, 0, false, &sp);
	assert_false(sp.available);
	assert_non_null(strstr(sp.reason, "inconsistent"));
	assert_false(sp.if_stateful);
	/* no reply at all: nothing to count from, not even a hypothesis */
	ps_loss_split(NULL, NULL, 0, 4, 0, false, &sp);
	assert_false(sp.available);
	assert_false(sp.if_stateful);
}

/* The session worked through in the comments below. */
static const struct ping_sample hand[4] = {
	{ .seq = 0,
	  .rseq = 0,
	  .rtt_ns = 100,
	  .fwd_ns = 40,
	  .bwd_ns = 60,
	  .residence_ns = 5,
	  .sender_ttl = 255,
	  .reply_ttl = 254,
	  .reply_tos = 0xb8 },
	{ .seq = 1,
	  .rseq = 1,
	  .rtt_ns = 120,
	  .fwd_ns = 50,
	  .bwd_ns = 70,
	  .residence_ns = 7,
	  .sender_ttl = 253,
	  .reply_ttl = 254,
	  .reply_tos = 0xb8 },
	{ .seq = 3,
	  .rseq = 3,
	  .rtt_ns = 90,
	  .fwd_ns = -10,
	  .bwd_ns = 100,
	  .residence_ns = 6,
	  .sender_ttl = 255,
	  .reply_ttl = 255,
	  .reply_tos = 0x03 },
	{ .seq = 2,
	  .rseq = 2,
	  .rtt_ns = 110,
	  .fwd_ns = 30,
	  .bwd_ns = 80,
	  .residence_ns = 4,
	  .sender_ttl = 255,
	  .reply_ttl = -1,
	  .reply_tos = -1 },
};

static void test_compute(void **state)
{
	struct ping_counters c = { .sent = 5, .received = 4, .duplicates = 1, .invalid = 2 };
	struct ps_input in = {
		.samples = hand, .n = 4, .cnt = &c, .sent_ttl = 255, .reflector_unsync = true
	};
	struct ps_result r;

	(void)state;
	assert_int_equal(ps_compute(&in, 1, &r), 0);
	assert_true(r.lost == 1);
	assert_true(fabs(r.loss_ratio - 0.2) < 1e-12);
	assert_true(r.cnt.duplicates == 1 && r.cnt.invalid == 2);
	/* rtt 90,100,110,120 */
	assert_int_equal(r.rtt.min, 90);
	assert_int_equal(r.rtt.median, 105);
	assert_int_equal(r.rtt.mean, 105);
	assert_int_equal(r.rtt.max, 120);
	assert_int_equal(r.rtt.p90, 120);
	/* forward -10,30,40,50: the negative one kept and counted */
	assert_int_equal(r.fwd.min, -10);
	assert_int_equal(r.fwd.median, 35);
	assert_int_equal(r.fwd.mean, 27);
	assert_true(r.negative_fwd == 1 && r.negative_bwd == 0);
	assert_int_equal(r.res.median, 5); /* 4,5,6,7 */

	/*
	 * IPDV by sequence number 0,1,2,3: rtt 100,120,110,90 -> +20,-10,-20,
	 * fwd 40,50,30,-10 -> +10,-20,-40, bwd 60,70,80,100 -> +10,+10,+20.
	 */
	assert_int_equal(r.ipdv_rtt.pairs, 3);
	assert_int_equal(r.ipdv_rtt.mean_abs_ns, 16); /* 50 / 3 */
	assert_int_equal(r.ipdv_fwd.mean_abs_ns, 23); /* 70 / 3 */
	assert_int_equal(r.ipdv_bwd.mean_abs_ns, 13); /* 40 / 3 */
	assert_int_equal(r.ipdv_rtt.dist.min, -20);
	assert_int_equal(r.ipdv_rtt.dist.median, -10);
	assert_int_equal(r.ipdv_rtt.dist.max, 20);
	assert_int_equal(r.ipdv_rtt.dist.mean, -3);

	/* RFC 3550 in arrival order 100,120,90,110: |D| 20, 30, 20 */
	assert_int_equal(r.jitter_n, 3);
	assert_true(fabs(r.jitter_rtt_ns - 4.1064453125) < 1e-9);

	/* arrival 0,1,3,2: 2 is reordered, extent 1 */
	assert_int_equal(r.reorder.reordered, 1);
	assert_int_equal(r.reorder.extent_max, 1);
	assert_true(fabs(r.reorder.ratio - 0.25) < 1e-12);

	/* hops: 255 - 255/253 forward, 255 - 254/255 backward, one TTL unknown */
	assert_true(r.hops_fwd.known && r.hops_fwd.min == 0 && r.hops_fwd.max == 2);
	assert_true(r.hops_bwd.known && r.hops_bwd.min == 0 && r.hops_bwd.max == 1);
	/* DSCP EF twice, 0 once (with ECN CE), one unknown */
	assert_true(r.dscp[46] == 2 && r.dscp[0] == 1 && r.ecn_ce == 1 && r.tos_unknown == 1);

	/* a stateless-looking reflector (rseq = seq): reordering has no direction */
	assert_false(r.reorder_split);

	/* rseq = seq and a packet lost: no direction, said so */
	assert_false(r.split.available);
	assert_non_null(r.split.reason);
	/* were it stateful: seq 4, after the last reply, never reached it */
	assert_true(r.split.if_stateful);
	assert_int_equal(r.split.if_stateful_forward, 1);
	assert_int_equal(r.split.if_stateful_backward, 0);
	assert_non_null(ps_sync_warning(&r));
	assert_non_null(strstr(ps_sync_warning(&r), "reflector clock"));

	/* full TWAMP: the reflector counts; seq 4 after the last reply is invisible: forward */
	in.stateful = true;
	assert_int_equal(ps_compute(&in, 1, &r), 0);
	assert_true(r.split.available && r.split.forward == 1 && r.split.backward == 0);
	/* the reflector saw 0,1,2,3 in order: the swap of 2 and 3 happened on the way back */
	assert_true(r.reorder_split);
	assert_int_equal(r.reordered_fwd, 0);
	assert_int_equal(r.reordered_bwd, 1);

	/* --ttl 64: the forward hops count from what we sent */
	in.sent_ttl = 64;
	{
		struct ping_sample one = hand[0];

		one.sender_ttl = 61;
		in.samples = &one;
		in.n = 1;
		c.sent = 1;
		c.received = 1;
		assert_int_equal(ps_compute(&in, 1, &r), 0);
		assert_int_equal(r.hops_fwd.min, 3);
		assert_int_equal(r.ipdv_rtt.pairs, 0);
		assert_int_equal(r.jitter_n, 0);
	}
}

static void test_compute_sessions(void **state)
{
	/* session 2: seq 0 and 1, rseq 0 and 2 (seq 1's reply... the reflector saw a gap) */
	static const struct ping_sample two[2] = {
		{ .seq = 0,
		  .rseq = 0,
		  .rtt_ns = 1000,
		  .fwd_ns = 500,
		  .bwd_ns = 500,
		  .reply_ttl = 255,
		  .sender_ttl = 255,
		  .reply_tos = 0 },
		{ .seq = 2,
		  .rseq = 1,
		  .rtt_ns = 2000,
		  .fwd_ns = 1000,
		  .bwd_ns = 1000,
		  .reply_ttl = 255,
		  .sender_ttl = 255,
		  .reply_tos = 0 },
	};
	struct ping_counters c1 = { .sent = 4, .received = 4 }, c2 = { .sent = 3, .received = 2 };
	struct ps_input in[2] = {
		{ .samples = hand, .n = 4, .cnt = &c1, .sent_ttl = 255, .stateful = true },
		{ .samples = two, .n = 2, .cnt = &c2, .sent_ttl = 255, .stateful = true },
	};
	struct ps_result r;

	(void)state;
	assert_int_equal(ps_compute(in, 2, &r), 0);
	assert_true(r.cnt.sent == 7 && r.cnt.received == 6 && r.lost == 1);
	assert_int_equal(r.rtt.n, 6);
	assert_int_equal(r.rtt.max, 2000);
	/* pairs stay inside a session: 3 + 0 (seq 0 and 2 are not consecutive) */
	assert_int_equal(r.ipdv_rtt.pairs, 3);
	/* seq 1 of session 2 never reached the reflector (rseq has no gap): forward */
	assert_true(r.split.available && r.split.forward == 1 && r.split.backward == 0);
	/* arrival pairs for RFC 3550: 3 + 1, weighted: (4.1064453125 * 3 + 62.5) / 4 */
	assert_int_equal(r.jitter_n, 4);
	assert_true(fabs(r.jitter_rtt_ns - (4.1064453125 * 3 + 1000.0 / 16) / 4) < 1e-9);
	assert_int_equal(r.reorder.reordered, 1);
	assert_int_equal(r.reorder.received, 6);
	assert_false(r.split.if_stateful);
}

/* Two TWAMP Light sessions whose reflector returns our numbers. */
static void test_compute_sessions_light(void **state)
{
	/* session 2: 3 sent, replies to 0 and 2 with rseq = seq */
	static const struct ping_sample two[2] = {
		{ .seq = 0, .rseq = 0, .reply_ttl = -1, .reply_tos = -1 },
		{ .seq = 2, .rseq = 2, .reply_ttl = -1, .reply_tos = -1 },
	};
	static const struct ping_sample bad[2] = {
		{ .seq = 0, .rseq = 0, .reply_ttl = -1, .reply_tos = -1 },
		{ .seq = 1, .rseq = 5, .reply_ttl = -1, .reply_tos = -1 },
	};
	struct ping_counters c1 = { .sent = 5, .received = 4 }, c2 = { .sent = 3, .received = 2 };
	struct ping_counters c3 = { .sent = 3, .received = 2 };
	struct ps_input in[3] = {
		{ .samples = hand, .n = 4, .cnt = &c1, .sent_ttl = 255 },
		{ .samples = two, .n = 2, .cnt = &c2, .sent_ttl = 255 },
		{ .samples = bad, .n = 2, .cnt = &c3, .sent_ttl = 255 },
	};
	struct ps_result r;

	(void)state;
	/*
	 * Unavailable; if stateful: session 1's seq 4 forward (after its last
	 * reply), session 2's seq 1 backward (below its last reply).
	 */
	assert_int_equal(ps_compute(in, 2, &r), 0);
	assert_int_equal(r.lost, 2);
	assert_false(r.split.available);
	assert_non_null(strstr(r.split.reason, "equal ours"));
	assert_true(r.split.if_stateful);
	assert_int_equal(r.split.if_stateful_forward, 1);
	assert_int_equal(r.split.if_stateful_backward, 1);
	assert_int_equal(r.split.forward + r.split.backward, 0);

	/* the operator says stateful (--reflector-stateful): the same split, as known */
	in[0].stateful = in[1].stateful = true;
	assert_int_equal(ps_compute(in, 2, &r), 0);
	assert_true(r.split.available);
	assert_int_equal(r.split.forward, 1);
	assert_int_equal(r.split.backward, 1);
	assert_false(r.split.if_stateful);

	/* a session whose numbers cannot be believed (rseq 5 of 3 sent): no hypothesis */
	in[0].stateful = in[1].stateful = false;
	assert_int_equal(ps_compute(in, 3, &r), 0);
	assert_false(r.split.available);
	assert_false(r.split.if_stateful);
	assert_int_equal(r.split.if_stateful_forward + r.split.if_stateful_backward, 0);
}

/* Reordered on the way there: the reflector numbered 1 before 0. */
static void test_reorder_forward(void **state)
{
	static const struct ping_sample s[3] = {
		{ .seq = 1, .rseq = 0, .reply_tos = -1, .reply_ttl = -1 },
		{ .seq = 0, .rseq = 1, .reply_tos = -1, .reply_ttl = -1 },
		{ .seq = 2, .rseq = 2, .reply_tos = -1, .reply_ttl = -1 },
	};
	struct ping_counters c = { .sent = 3, .received = 3 };
	struct ps_input in = { .samples = s, .n = 3, .cnt = &c, .sent_ttl = 255 };
	struct ps_result r;

	(void)state;
	assert_int_equal(ps_compute(&in, 1, &r), 0);
	assert_int_equal(r.reorder.reordered, 1); /* seq 0 after 1 */
	assert_true(r.reorder_split);		  /* rseq differs from seq: stateful */
	assert_int_equal(r.reordered_fwd, 1);
	assert_int_equal(r.reordered_bwd, 0); /* rseq 0, 1, 2 arrived in order */
}

static void test_dscp_names(void **state)
{
	(void)state;
	assert_int_equal(ps_parse_dscp("EF"), 46);
	assert_int_equal(ps_parse_dscp("ef"), 46);
	assert_int_equal(ps_parse_dscp("af11"), 10);
	assert_int_equal(ps_parse_dscp("Af43"), 38);
	assert_int_equal(ps_parse_dscp("AF21"), 18);
	assert_int_equal(ps_parse_dscp("cs0"), 0);
	assert_int_equal(ps_parse_dscp("CS5"), 40);
	assert_int_equal(ps_parse_dscp("cs7"), 56);
	assert_int_equal(ps_parse_dscp("LE"), 1);
	assert_int_equal(ps_parse_dscp("0"), 0);
	assert_int_equal(ps_parse_dscp("63"), 63);
	assert_int_equal(ps_parse_dscp("64"), -1);
	assert_int_equal(ps_parse_dscp("AF14"), -1);
	assert_int_equal(ps_parse_dscp("CS8"), -1);
	assert_int_equal(ps_parse_dscp(""), -1);
	assert_int_equal(ps_parse_dscp("4x"), -1);
	assert_string_equal(ps_dscp_name(46), "EF");
	assert_string_equal(ps_dscp_name(0), "CS0");
	assert_string_equal(ps_dscp_name(34), "AF41");
	assert_null(ps_dscp_name(63));
}

static void test_output(void **state)
{
	struct ping_counters c = { .sent = 5, .received = 4 };
	struct ps_input in = { .samples = hand, .n = 4, .cnt = &c, .sent_ttl = 255 };
	struct ps_result r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(ps_compute(&in, 1, &r), 0);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	ps_json_result(f, &r);
	fclose(f);
	assert_non_null(
		strstr(buf, "\"sent\":5,\"received\":4,\"lost\":1,\"loss_ratio\":0.200000"));
	assert_non_null(strstr(
		buf, "\"loss_split\":{\"available\":false,\"forward\":null,\"backward\":null,"
		     "\"reason\":\"reflector sequence numbers equal ours: a stateless reflector "
		     "(RFC 8762 §4.2) or a stateful one with no forward loss\","
		     "\"if_stateful\":{\"forward\":1,\"backward\":0}},"));
	assert_non_null(strstr(buf,
			       "\"rtt_ns\":{\"n\":4,\"min\":90,\"median\":105,\"mean\":105,"
			       "\"max\":120,\"p90\":120,\"p95\":120,\"p99\":120,\"p99_9\":120}"));
	assert_non_null(strstr(buf, "\"forward_ns\":{\"n\":4,\"min\":-10,"));
	assert_non_null(strstr(buf, "\"negative_forward\":1,"));
	assert_non_null(strstr(buf, "\"hops\":{\"forward\":{\"min\":0,\"max\":2}"));
	assert_non_null(strstr(buf, "\"dscp\":{\"0\":1,\"46\":2}"));
	assert_non_null(strstr(buf, "\"warning\":null}}"));
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &len);
	ps_print(f, "192.0.2.1:862", "TWAMP light", &r);
	fclose(f);
	assert_non_null(
		strstr(buf, "--- 192.0.2.1:862 TWAMP light ping statistics ---\n"
			    "5 sent, 4 received, 1 lost (20.0%), 0 duplicates, 0 invalid replies\n"
			    "loss forward/backward: unavailable: reflector sequence numbers"));
	assert_non_null(strstr(buf, "  --reflector-stateful): 1/0\n"));
	assert_non_null(
		strstr(buf, "reordered 1 of 4 (25.00%, RFC 4737), extent max 1 mean 1.0\n"));
	assert_non_null(strstr(buf, "(1 negative: clock offset)"));
	assert_non_null(strstr(buf, "hops       forward 0-2, backward 0-1 (from TTL)\n"));
	assert_non_null(
		strstr(buf, "dscp       replies: 0 (CS0) x1, 46 (EF) x2, unknown x1, ECN CE x1\n"));
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &len);
	ps_json_string(f, "a\"b\\c\n");
	fclose(f);
	assert_string_equal(buf, "\"a\\\"b\\\\c\\u000a\"");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dist),	   cmocka_unit_test(test_rfc3550),
		cmocka_unit_test(test_reorder),	   cmocka_unit_test(test_loss_split),
		cmocka_unit_test(test_compute),	   cmocka_unit_test(test_compute_sessions),
		cmocka_unit_test(test_dscp_names), cmocka_unit_test(test_reorder_forward),
		cmocka_unit_test(test_output),	   cmocka_unit_test(test_compute_sessions_light),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
