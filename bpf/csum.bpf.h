/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * csum.bpf.h - Internet checksum arithmetic (RFC 1071, RFC 1624).
 *
 * Sums are kept unfolded in 32 or 64 bits over raw (network-order) memory,
 * which makes them byte-order neutral: the folded value is stored back into
 * the header as is.
 */
#ifndef XTWAMP_CSUM_BPF_H
#define XTWAMP_CSUM_BPF_H

/* Fold a one's-complement sum to 16 bits (not inverted). */
static __always_inline __u16 csum_fold_sum(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/*
 * One's-complement sum of an IPv4 header of hdr_len octets (20..60).
 * The caller has checked that ip + hdr_len <= data_end; the loop re-checks
 * each word because the verifier cannot carry that fact through a loop.
 */
static __always_inline __u16 ipv4_header_sum(struct iphdr *ip, __u32 hdr_len, void *data_end)
{
	__u16 *word = (__u16 *)ip;
	__u32 sum = 0;
	int i;

	/*
	 * No options (nearly every packet): five 32-bit words, no loop.  They
	 * fold to the same 16-bit sum as their halves; the caller has checked
	 * ip + 1 <= data_end.
	 */
	if (hdr_len == sizeof(*ip)) {
		const __u32 *w = (const __u32 *)ip;

		return csum_fold_sum((__u64)w[0] + w[1] + w[2] + w[3] + w[4]);
	}

	for (i = 0; i < 30; i++) {
		if (i * 2 >= hdr_len)
			break;
		if ((void *)(word + i + 1) > data_end)
			break;
		sum += word[i];
	}
	return csum_fold_sum(sum);
}

/*
 * Sum += new - old over n 32-bit words (RFC 1624 eqn. 3, word-wise): ~x is
 * -x in one's-complement arithmetic, and 32-bit words fold to the same
 * 16-bit sum as their halves.  Inline adds beat bpf_csum_diff()'s copy into
 * a scratch buffer for a header this small.
 */
static __always_inline __u64 csum_replace_words(__u64 sum, const __u32 *old, const __u32 *new,
						int n)
{
	int i;

	for (i = 0; i < n; i++)
		sum += (__u32)~old[i] + (__u64) new[i];
	return sum;
}

#endif /* XTWAMP_CSUM_BPF_H */
