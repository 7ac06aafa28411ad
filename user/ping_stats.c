// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ping_stats.c - see ping_stats.h.  Pure: no sockets, no clocks; output
 * only into the FILE it is given.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ping_stats.h"

static int cmp_s64(const void *a, const void *b)
{
	__s64 x = *(const __s64 *)a, y = *(const __s64 *)b;

	return (x > y) - (x < y);
}

static int cmp_sample_seq(const void *a, const void *b)
{
	__u32 x = ((const struct ping_sample *)a)->seq, y = ((const struct ping_sample *)b)->seq;

	return (x > y) - (x < y);
}

__s64 ps_percentile(const __s64 *sorted, size_t n, unsigned per10k)
{
	/* nearest rank: the smallest value with at least p of the sample at or below it */
	unsigned __int128 rank = ((unsigned __int128)per10k * n + 9999) / 10000;

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[(size_t)rank - 1];
}

void ps_dist_sorted(__s64 *v, size_t n, struct ps_dist *d)
{
	__int128 sum = 0;

	memset(d, 0, sizeof(*d));
	d->n = n;
	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_s64);
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	d->min = v[0];
	d->max = v[n - 1];
	d->mean = (__s64)(sum / (__int128)n);
	d->median = n % 2 ? v[n / 2] : (__s64)(((__int128)v[n / 2 - 1] + v[n / 2]) / 2);
	d->p90 = ps_percentile(v, n, 9000);
	d->p95 = ps_percentile(v, n, 9500);
	d->p99 = ps_percentile(v, n, 9900);
	d->p999 = ps_percentile(v, n, 9990);
}

double ps_rfc3550_jitter(const __s64 *transit, size_t n)
{
	double j = 0;

	for (size_t i = 1; i < n; i++) {
		double d = (double)transit[i] - (double)transit[i - 1];

		j += (fabs(d) - j) / 16.0;
	}
	return j;
}

int ps_reorder(const __u32 *seq, size_t n, struct ps_reorder *r)
{
	/* prefix maxima are non-decreasing: the first j with s[j] > s[i] by bisection */
	__u32 *pmax;
	__u64 next_exp = 0, extent_sum = 0;

	memset(r, 0, sizeof(*r));
	r->received = n;
	if (!n)
		return 0;
	pmax = malloc(n * sizeof(*pmax));
	if (!pmax)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		pmax[i] = i && pmax[i - 1] > seq[i] ? pmax[i - 1] : seq[i];
		if (seq[i] >= next_exp) {
			next_exp = (__u64)seq[i] + 1;
			continue;
		}
		size_t lo = 0, hi = i; /* pmax[i - 1] > seq[i], so the answer is below i */

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (pmax[mid] > seq[i])
				hi = mid;
			else
				lo = mid + 1;
		}
		r->reordered++;
		extent_sum += i - lo;
		if (i - lo > r->extent_max)
			r->extent_max = i - lo;
	}
	free(pmax);
	r->ratio = (double)r->reordered / (double)n;
	if (r->reordered)
		r->extent_mean = (double)extent_sum / (double)r->reordered;
	return 0;
}

static int cmp_sample_rseq(const void *a, const void *b)
{
	__u32 x = ((const struct ping_sample *)a)->rseq, y = ((const struct ping_sample *)b)->rseq;

	return (x > y) - (x < y);
}

/* Reordering by direction (protocol-notes §5.5); 0 or -ENOMEM. */
static int reorder_directions(const struct ping_sample *smp, size_t n, __u64 *fwd, __u64 *bwd)
{
	struct ping_sample *by_rseq = malloc((n ? n : 1) * sizeof(*by_rseq));
	__u32 *v = malloc((n ? n : 1) * sizeof(*v));
	struct ps_reorder r;
	int ret = -ENOMEM;

	if (!by_rseq || !v)
		goto out;
	for (size_t i = 0; i < n; i++)
		v[i] = smp[i].rseq;
	if (ps_reorder(v, n, &r))
		goto out;
	*bwd += r.reordered;
	memcpy(by_rseq, smp, n * sizeof(*by_rseq));
	qsort(by_rseq, n, sizeof(*by_rseq), cmp_sample_rseq);
	for (size_t i = 0; i < n; i++)
		v[i] = by_rseq[i].seq;
	if (ps_reorder(v, n, &r))
		goto out;
	*fwd += r.reordered;
	ret = 0;
out:
	free(by_rseq);
	free(v);
	return ret;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return (x > y) - (x < y);
}

void ps_loss_split(const __u32 *rseq, const __u32 *seq, size_t n, __u64 lost, __u64 late,
		   bool stateful, struct ps_loss_split *out)
{
	__u32 *r;
	__u64 distinct = 0, gaps;
	bool differs = false;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		if (rseq[i] != seq[i])
			differs = true;
	if (lost == late) {
		/* nothing vanished: zero both ways, whatever the reflector does */
		out->available = true;
		return;
	}
	if (!n) {
		out->reason = "no reply to count the reflector's sequence numbers from";
		return;
	}
	if (!stateful && !differs) {
		struct ps_loss_split hyp;

		/*
		 * A stateless reflector copies our numbers (RFC 8762 §4.2); a
		 * stateful one that lost nothing forward returns the same ones.
		 * No guess: unavailable, with what a stateful reflector implies.
		 */
		ps_loss_split(rseq, seq, n, lost, late, true, &hyp);
		out->reason = "reflector sequence numbers equal ours: a stateless reflector "
			      "(RFC 8762 §4.2) or a stateful one with no forward loss";
		out->if_stateful = hyp.available;
		out->if_stateful_forward = hyp.forward;
		out->if_stateful_backward = hyp.backward;
		return;
	}
	r = malloc(n * sizeof(*r));
	if (!r) {
		out->reason = "out of memory";
		return;
	}
	memcpy(r, rseq, n * sizeof(*r));
	qsort(r, n, sizeof(*r), cmp_u32);
	for (size_t i = 0; i < n; i++)
		if (!i || r[i] != r[i - 1])
			distinct++;
	/* the reflector counts from 0 (RFC 5357 §4.2.1): gaps up to the last one seen */
	gaps = (__u64)r[n - 1] + 1 - distinct;
	/*
	 * A counter that did not start at 0 for us (a light reflector that keeps
	 * counting across runs from one port): count from the first number seen.
	 */
	if (gaps > lost - late && (__u64)r[n - 1] - r[0] + 1 - distinct <= lost - late)
		gaps = (__u64)r[n - 1] - r[0] + 1 - distinct;
	free(r);
	if (gaps > lost - late) {
		/* more reflected than we can account for: duplicated requests, a reused counter */
		out->reason = "reflector sequence numbers inconsistent with ours (duplicated "
			      "requests or a counter shared with another sender)";
		return;
	}
	out->available = true;
	out->backward = gaps;
	out->forward = lost - late - gaps;
}

/* Per-session pieces that do not pool: IPDV pairs, arrival order, split. */
static int session_pass(const struct ps_input *in, __s64 *ipdv[3], size_t *npairs, double jsum[3],
			size_t *jn, struct ps_reorder *ro, __u64 *extent_sum,
			struct ps_loss_split *split)
{
	size_t n = in->n, m = in->n + in->nlate;
	struct ping_sample *by_seq = NULL;
	__s64 *tr = NULL;
	__u32 *seq = NULL, *rseq = NULL;
	int ret = -ENOMEM;

	if (n) {
		by_seq = malloc(n * sizeof(*by_seq));
		tr = malloc(n * sizeof(*tr));
		seq = malloc(n * sizeof(*seq));
		if (!by_seq || !tr || !seq)
			goto out;
		memcpy(by_seq, in->samples, n * sizeof(*by_seq));
		qsort(by_seq, n, sizeof(*by_seq), cmp_sample_seq);
		/* RFC 5481 §4.1: the selection function is consecutive sequence numbers */
		for (size_t i = 1; i < n; i++) {
			if (by_seq[i].seq != by_seq[i - 1].seq + 1)
				continue;
			ipdv[0][*npairs] = by_seq[i].rtt_ns - by_seq[i - 1].rtt_ns;
			ipdv[1][*npairs] = by_seq[i].fwd_ns - by_seq[i - 1].fwd_ns;
			ipdv[2][*npairs] = by_seq[i].bwd_ns - by_seq[i - 1].bwd_ns;
			(*npairs)++;
		}
		/* RFC 3550: arrival order, whatever the sequence numbers */
		for (int k = 0; k < 3; k++) {
			for (size_t i = 0; i < n; i++)
				tr[i] = k == 0 ? in->samples[i].rtt_ns :
					k == 1 ? in->samples[i].fwd_ns :
						 in->samples[i].bwd_ns;
			jsum[k] += ps_rfc3550_jitter(tr, n) * (double)(n - 1);
		}
		*jn += n - 1;
		for (size_t i = 0; i < n; i++)
			seq[i] = in->samples[i].seq;
	}
	if (ps_reorder(seq, n, ro))
		goto out;
	*extent_sum += (__u64)llround(ro->extent_mean * (double)ro->reordered);
	rseq = malloc((m ? m : 1) * sizeof(*rseq));
	free(seq);
	seq = malloc((m ? m : 1) * sizeof(*seq));
	if (!rseq || !seq)
		goto out;
	for (size_t i = 0; i < m; i++) {
		const struct ping_sample *s = i < n ? &in->samples[i] : &in->late[i - n];

		rseq[i] = s->rseq;
		seq[i] = s->seq;
	}
	ps_loss_split(rseq, seq, m, in->cnt->sent - in->cnt->received, in->cnt->late, in->stateful,
		      split);
	ret = 0;
out:
	free(by_seq);
	free(tr);
	free(seq);
	free(rseq);
	return ret;
}

int ps_compute(const struct ps_input *in, size_t nsess, struct ps_result *out)
{
	size_t total = 0, k = 0, npairs = 0, jn = 0;
	__s64 *v[4] = { 0 }, *ipdv[3] = { 0 };
	double jsum[3] = { 0 };
	__u64 extent_sum = 0;
	int ret = -ENOMEM;

	memset(out, 0, sizeof(*out));
	out->split.available = true;
	out->split.if_stateful = true; /* until a session cannot say */
	out->reorder_split = true;
	for (size_t s = 0; s < nsess; s++) {
		const struct ping_counters *c = in[s].cnt;

		out->cnt.sent += c->sent;
		out->cnt.received += c->received;
		out->cnt.late += c->late;
		out->cnt.duplicates += c->duplicates;
		out->cnt.invalid += c->invalid;
		out->cnt.send_errors += c->send_errors;
		out->cnt.icmp_errors += c->icmp_errors;
		out->sender_unsync |= in[s].sender_unsync;
		out->reflector_unsync |= in[s].reflector_unsync;
		total += in[s].n;
	}
	out->lost = out->cnt.sent - out->cnt.received;
	out->loss_ratio = out->cnt.sent ? (double)out->lost / (double)out->cnt.sent : 0;
	for (int i = 0; i < 4; i++)
		if (!(v[i] = malloc((total ? total : 1) * sizeof(__s64))))
			goto out;
	for (int i = 0; i < 3; i++)
		if (!(ipdv[i] = malloc((total ? total : 1) * sizeof(__s64))))
			goto out;

	for (size_t s = 0; s < nsess; s++) {
		struct ps_reorder ro;
		struct ps_loss_split sp;

		for (size_t i = 0; i < in[s].n; i++, k++) {
			const struct ping_sample *p = &in[s].samples[i];

			v[0][k] = p->rtt_ns;
			v[1][k] = p->fwd_ns;
			v[2][k] = p->bwd_ns;
			v[3][k] = p->residence_ns;
			out->negative_fwd += p->fwd_ns < 0;
			out->negative_bwd += p->bwd_ns < 0;
			if (p->sender_ttl) {
				int h = in[s].sent_ttl - p->sender_ttl;

				if (!out->hops_fwd.known || h < out->hops_fwd.min)
					out->hops_fwd.min = h;
				if (!out->hops_fwd.known || h > out->hops_fwd.max)
					out->hops_fwd.max = h;
				out->hops_fwd.known = true;
			}
			if (p->reply_ttl >= 0) {
				/* RFC 5357 §4.2.1: the reflector sends with 255 */
				int h = 255 - p->reply_ttl;

				if (!out->hops_bwd.known || h < out->hops_bwd.min)
					out->hops_bwd.min = h;
				if (!out->hops_bwd.known || h > out->hops_bwd.max)
					out->hops_bwd.max = h;
				out->hops_bwd.known = true;
			}
			if (p->reply_tos >= 0) {
				out->dscp[p->reply_tos >> 2]++;
				out->ecn_ce += (p->reply_tos & 3) == 3;
			} else {
				out->tos_unknown++;
			}
		}
		if (session_pass(&in[s], ipdv, &npairs, jsum, &jn, &ro, &extent_sum, &sp))
			goto out;
		{
			bool differs = false;

			for (size_t i = 0; i < in[s].n; i++)
				differs |= in[s].samples[i].rseq != in[s].samples[i].seq;
			/* a stateless reflector's numbers are ours: no direction */
			if (!in[s].stateful && !differs && ro.reordered)
				out->reorder_split = false;
			else if (reorder_directions(in[s].samples, in[s].n, &out->reordered_fwd,
						    &out->reordered_bwd))
				goto out;
		}
		out->reorder.received += ro.received;
		out->reorder.reordered += ro.reordered;
		if (ro.extent_max > out->reorder.extent_max)
			out->reorder.extent_max = ro.extent_max;
		/* the stateful hypothesis pools what each session says, known or implied */
		if (sp.available) {
			out->split.if_stateful_forward += sp.forward;
			out->split.if_stateful_backward += sp.backward;
		} else if (sp.if_stateful) {
			out->split.if_stateful_forward += sp.if_stateful_forward;
			out->split.if_stateful_backward += sp.if_stateful_backward;
		} else {
			out->split.if_stateful = false;
		}
		if (out->split.available && sp.available) {
			out->split.forward += sp.forward;
			out->split.backward += sp.backward;
		} else if (out->split.available) {
			out->split.available = false;
			out->split.reason = sp.reason;
		}
	}
	if (out->split.available || !out->split.if_stateful) {
		/* known, or not even a hypothesis: nothing implied to report */
		out->split.if_stateful = false;
		out->split.if_stateful_forward = out->split.if_stateful_backward = 0;
	}
	if (!out->split.available)
		out->split.forward = out->split.backward = 0;
	if (!out->reorder_split)
		out->reordered_fwd = out->reordered_bwd = 0;
	if (out->reorder.received)
		out->reorder.ratio = (double)out->reorder.reordered / (double)out->reorder.received;
	if (out->reorder.reordered)
		out->reorder.extent_mean = (double)extent_sum / (double)out->reorder.reordered;
	ps_dist_sorted(v[0], total, &out->rtt);
	ps_dist_sorted(v[1], total, &out->fwd);
	ps_dist_sorted(v[2], total, &out->bwd);
	ps_dist_sorted(v[3], total, &out->res);
	{
		struct ps_ipdv *dst[3] = { &out->ipdv_rtt, &out->ipdv_fwd, &out->ipdv_bwd };

		for (int i = 0; i < 3; i++) {
			__int128 asum = 0;

			for (size_t j = 0; j < npairs; j++)
				asum += ipdv[i][j] < 0 ? -(__int128)ipdv[i][j] : ipdv[i][j];
			dst[i]->pairs = npairs;
			dst[i]->mean_abs_ns = npairs ? (__s64)(asum / (__int128)npairs) : 0;
			ps_dist_sorted(ipdv[i], npairs, &dst[i]->dist);
		}
	}
	/* one session: its final J; several: weighted by their arrival pairs */
	out->jitter_n = jn;
	if (jn) {
		out->jitter_rtt_ns = jsum[0] / (double)jn;
		out->jitter_fwd_ns = jsum[1] / (double)jn;
		out->jitter_bwd_ns = jsum[2] / (double)jn;
	}
	ret = 0;
out:
	for (int i = 0; i < 4; i++)
		free(v[i]);
	for (int i = 0; i < 3; i++)
		free(ipdv[i]);
	return ret;
}

const char *ps_sync_warning(const struct ps_result *r)
{
	if (r->reflector_unsync && r->sender_unsync)
		return "one-way delays assume synchronised clocks; reflector and sender clocks report unsynchronised";
	if (r->reflector_unsync)
		return "one-way delays assume synchronised clocks; reflector clock reports unsynchronised";
	if (r->sender_unsync)
		return "one-way delays assume synchronised clocks; sender clock reports unsynchronised";
	return NULL;
}

/* ---- DSCP names (RFC 2474, 2597, 3246, 5865, 8622) ---------------------- */

static const struct {
	const char *name;
	int dscp;
} dscp_names[] = {
	{ "CS0", 0 },	{ "CS1", 8 },	{ "CS2", 16 },	{ "CS3", 24 },	{ "CS4", 32 },
	{ "CS5", 40 },	{ "CS6", 48 },	{ "CS7", 56 },	{ "AF11", 10 }, { "AF12", 12 },
	{ "AF13", 14 }, { "AF21", 18 }, { "AF22", 20 }, { "AF23", 22 }, { "AF31", 26 },
	{ "AF32", 28 }, { "AF33", 30 }, { "AF41", 34 }, { "AF42", 36 }, { "AF43", 38 },
	{ "EF", 46 },	{ "VA", 44 },	{ "LE", 1 },	{ "BE", 0 },	{ "DF", 0 },
};

int ps_parse_dscp(const char *text)
{
	int v = 0;

	if (!*text)
		return -1;
	if (isdigit((unsigned char)*text)) {
		for (const char *p = text; *p; p++) {
			if (!isdigit((unsigned char)*p) || (v = v * 10 + (*p - '0')) > 63)
				return -1;
		}
		return v;
	}
	for (size_t i = 0; i < sizeof(dscp_names) / sizeof(dscp_names[0]); i++)
		if (!strcasecmp(text, dscp_names[i].name))
			return dscp_names[i].dscp;
	return -1;
}

const char *ps_dscp_name(int dscp)
{
	/* the first match: CS0 rather than BE for 0 */
	for (size_t i = 0; i < sizeof(dscp_names) / sizeof(dscp_names[0]); i++)
		if (dscp_names[i].dscp == dscp)
			return dscp_names[i].name;
	return NULL;
}

/* ---- human output ------------------------------------------------------- */

static double ms(__s64 ns)
{
	return (double)ns / 1e6;
}

static void print_dist(FILE *f, const char *what, const struct ps_dist *d, const char *note)
{
	fprintf(f,
		"%-10s min/median/mean/max = %.3f/%.3f/%.3f/%.3f ms, p90/p95/p99/p99.9 = %.3f/%.3f/%.3f/%.3f ms%s\n",
		what, ms(d->min), ms(d->median), ms(d->mean), ms(d->max), ms(d->p90), ms(d->p95),
		ms(d->p99), ms(d->p999), note);
}

void ps_print(FILE *f, const char *peer, const char *kind, const struct ps_result *r)
{
	const struct ping_counters *c = &r->cnt;
	char note[96];
	int any = 0;

	fprintf(f, "--- %s %s ping statistics ---\n", peer, kind);
	fprintf(f,
		"%llu sent, %llu received, %llu lost (%.1f%%), %llu duplicates, %llu invalid replies",
		(unsigned long long)c->sent, (unsigned long long)c->received,
		(unsigned long long)r->lost, 100.0 * r->loss_ratio,
		(unsigned long long)c->duplicates, (unsigned long long)c->invalid);
	if (c->late)
		fprintf(f, ", %llu late (counted as lost)", (unsigned long long)c->late);
	if (c->send_errors)
		fprintf(f, ", %llu send errors", (unsigned long long)c->send_errors);
	if (c->icmp_errors)
		fprintf(f, ", %llu ICMP errors", (unsigned long long)c->icmp_errors);
	fputc('\n', f);
	if (r->split.available)
		fprintf(f, "loss forward/backward = %llu/%llu%s\n",
			(unsigned long long)r->split.forward, (unsigned long long)r->split.backward,
			r->lost ? " (from the reflector's sequence numbers)" : "");
	else if (r->split.if_stateful)
		fprintf(f,
			"loss forward/backward: unavailable: %s;\n"
			"  if the reflector is stateful (xtwampd is unless --stateless; assert it with\n"
			"  --reflector-stateful): %llu/%llu\n",
			r->split.reason, (unsigned long long)r->split.if_stateful_forward,
			(unsigned long long)r->split.if_stateful_backward);
	else
		fprintf(f, "loss forward/backward: unavailable: %s\n", r->split.reason);
	fprintf(f, "reordered %llu of %zu (%.2f%%, RFC 4737)",
		(unsigned long long)r->reorder.reordered, r->reorder.received,
		100.0 * r->reorder.ratio);
	if (r->reorder.reordered)
		fprintf(f, ", extent max %llu mean %.1f", (unsigned long long)r->reorder.extent_max,
			r->reorder.extent_mean);
	if (r->reorder.reordered && r->reorder_split)
		fprintf(f, ", forward/backward %llu/%llu", (unsigned long long)r->reordered_fwd,
			(unsigned long long)r->reordered_bwd);
	fputc('\n', f);
	if (!r->rtt.n)
		return;
	print_dist(f, "rtt", &r->rtt, "");
	snprintf(note, sizeof(note), r->negative_fwd ? " (%llu negative: clock offset)" : "",
		 (unsigned long long)r->negative_fwd);
	print_dist(f, "forward", &r->fwd, note);
	snprintf(note, sizeof(note), r->negative_bwd ? " (%llu negative: clock offset)" : "",
		 (unsigned long long)r->negative_bwd);
	print_dist(f, "backward", &r->bwd, note);
	fprintf(f, "%-10s min/median/mean/max = %.1f/%.1f/%.1f/%.1f us, p99 = %.1f us\n",
		"residence", (double)r->res.min / 1e3, (double)r->res.median / 1e3,
		(double)r->res.mean / 1e3, (double)r->res.max / 1e3, (double)r->res.p99 / 1e3);
	if (r->ipdv_rtt.pairs)
		fprintf(f,
			"jitter     IPDV mean|d| rtt/fwd/bwd = %.3f/%.3f/%.3f ms (%zu pairs, RFC 5481), RFC 3550 = %.3f/%.3f/%.3f ms\n",
			ms(r->ipdv_rtt.mean_abs_ns), ms(r->ipdv_fwd.mean_abs_ns),
			ms(r->ipdv_bwd.mean_abs_ns), r->ipdv_rtt.pairs, r->jitter_rtt_ns / 1e6,
			r->jitter_fwd_ns / 1e6, r->jitter_bwd_ns / 1e6);
	else
		fprintf(f, "jitter     n/a (no two consecutive sequence numbers answered)\n");
	fprintf(f, "hops       forward ");
	if (r->hops_fwd.known && r->hops_fwd.min == r->hops_fwd.max)
		fprintf(f, "%d", r->hops_fwd.min);
	else if (r->hops_fwd.known)
		fprintf(f, "%d-%d", r->hops_fwd.min, r->hops_fwd.max);
	else
		fprintf(f, "?");
	fprintf(f, ", backward ");
	if (r->hops_bwd.known && r->hops_bwd.min == r->hops_bwd.max)
		fprintf(f, "%d", r->hops_bwd.min);
	else if (r->hops_bwd.known)
		fprintf(f, "%d-%d", r->hops_bwd.min, r->hops_bwd.max);
	else
		fprintf(f, "?");
	fprintf(f, " (from TTL)\ndscp       replies:");
	for (int d = 0; d < 64; d++) {
		const char *nm = ps_dscp_name(d);

		if (!r->dscp[d])
			continue;
		fprintf(f, "%s %d%s%s%s x%llu", any++ ? "," : "", d, nm ? " (" : "", nm ? nm : "",
			nm ? ")" : "", (unsigned long long)r->dscp[d]);
	}
	if (r->tos_unknown)
		fprintf(f, "%s unknown x%llu", any ? "," : "", (unsigned long long)r->tos_unknown);
	if (r->ecn_ce)
		fprintf(f, ", ECN CE x%llu", (unsigned long long)r->ecn_ce);
	fputc('\n', f);
}

/* ---- JSON --------------------------------------------------------------- */

void ps_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void json_dist(FILE *f, const struct ps_dist *d)
{
	if (!d->n) {
		fputs("null", f);
		return;
	}
	fprintf(f,
		"{\"n\":%zu,\"min\":%lld,\"median\":%lld,\"mean\":%lld,\"max\":%lld,\"p90\":%lld,\"p95\":%lld,\"p99\":%lld,\"p99_9\":%lld}",
		d->n, (long long)d->min, (long long)d->median, (long long)d->mean,
		(long long)d->max, (long long)d->p90, (long long)d->p95, (long long)d->p99,
		(long long)d->p999);
}

static void json_ipdv(FILE *f, const struct ps_ipdv *p)
{
	fprintf(f, "{\"pairs\":%zu,\"mean_abs\":%lld,\"distribution\":", p->pairs,
		(long long)p->mean_abs_ns);
	json_dist(f, &p->dist);
	fputc('}', f);
}

static void json_hops(FILE *f, const struct ps_hops *h)
{
	if (h->known)
		fprintf(f, "{\"min\":%d,\"max\":%d}", h->min, h->max);
	else
		fputs("null", f);
}

void ps_json_result(FILE *f, const struct ps_result *r)
{
	const struct ping_counters *c = &r->cnt;
	const char *w = ps_sync_warning(r);
	int any = 0;

	fprintf(f,
		"{\"sent\":%llu,\"received\":%llu,\"lost\":%llu,\"loss_ratio\":%.6f,\"late\":%llu,"
		"\"duplicates\":%llu,\"invalid\":%llu,\"send_errors\":%llu,\"icmp_errors\":%llu,",
		(unsigned long long)c->sent, (unsigned long long)c->received,
		(unsigned long long)r->lost, r->loss_ratio, (unsigned long long)c->late,
		(unsigned long long)c->duplicates, (unsigned long long)c->invalid,
		(unsigned long long)c->send_errors, (unsigned long long)c->icmp_errors);
	if (r->split.available) {
		fprintf(f,
			"\"loss_split\":{\"available\":true,\"forward\":%llu,\"backward\":%llu,\"reason\":null,",
			(unsigned long long)r->split.forward,
			(unsigned long long)r->split.backward);
	} else {
		fputs("\"loss_split\":{\"available\":false,\"forward\":null,\"backward\":null,\"reason\":",
		      f);
		ps_json_string(f, r->split.reason);
		fputc(',', f);
	}
	if (r->split.if_stateful)
		fprintf(f, "\"if_stateful\":{\"forward\":%llu,\"backward\":%llu}},",
			(unsigned long long)r->split.if_stateful_forward,
			(unsigned long long)r->split.if_stateful_backward);
	else
		fputs("\"if_stateful\":null},", f);
	fprintf(f,
		"\"reorder\":{\"received\":%zu,\"reordered\":%llu,\"ratio\":%.6f,\"extent_max\":%llu,\"extent_mean\":%.3f},",
		r->reorder.received, (unsigned long long)r->reorder.reordered, r->reorder.ratio,
		(unsigned long long)r->reorder.extent_max, r->reorder.extent_mean);
	if (r->reorder_split)
		fprintf(f,
			"\"reorder_split\":{\"available\":true,\"forward\":%llu,\"backward\":%llu},",
			(unsigned long long)r->reordered_fwd, (unsigned long long)r->reordered_bwd);
	else
		fputs("\"reorder_split\":{\"available\":false,\"forward\":null,\"backward\":null},",
		      f);
	fputs("\"rtt_ns\":", f);
	json_dist(f, &r->rtt);
	fputs(",\"forward_ns\":", f);
	json_dist(f, &r->fwd);
	fputs(",\"backward_ns\":", f);
	json_dist(f, &r->bwd);
	fputs(",\"residence_ns\":", f);
	json_dist(f, &r->res);
	fprintf(f, ",\"negative_forward\":%llu,\"negative_backward\":%llu",
		(unsigned long long)r->negative_fwd, (unsigned long long)r->negative_bwd);
	fputs(",\"ipdv_ns\":{\"rtt\":", f);
	json_ipdv(f, &r->ipdv_rtt);
	fputs(",\"forward\":", f);
	json_ipdv(f, &r->ipdv_fwd);
	fputs(",\"backward\":", f);
	json_ipdv(f, &r->ipdv_bwd);
	fprintf(f,
		"},\"jitter_rfc3550_ns\":{\"pairs\":%zu,\"rtt\":%.1f,\"forward\":%.1f,\"backward\":%.1f}",
		r->jitter_n, r->jitter_rtt_ns, r->jitter_fwd_ns, r->jitter_bwd_ns);
	fputs(",\"hops\":{\"forward\":", f);
	json_hops(f, &r->hops_fwd);
	fputs(",\"backward\":", f);
	json_hops(f, &r->hops_bwd);
	fputs("},\"dscp\":{", f);
	for (int d = 0; d < 64; d++)
		if (r->dscp[d])
			fprintf(f, "%s\"%d\":%llu", any++ ? "," : "", d,
				(unsigned long long)r->dscp[d]);
	fprintf(f, "},\"tos_unknown\":%llu,\"ecn_ce\":%llu", (unsigned long long)r->tos_unknown,
		(unsigned long long)r->ecn_ce);
	fprintf(f,
		",\"clock\":{\"sender_synchronized\":%s,\"reflector_synchronized\":%s,\"warning\":",
		r->sender_unsync ? "false" : "true", r->reflector_unsync ? "false" : "true");
	if (w)
		ps_json_string(f, w);
	else
		fputs("null", f);
	fputs("}}", f);
}
