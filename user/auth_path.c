// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * auth_path.c - see auth_path.h.
 *
 * Four parts: the session table (hash by xt_session_key, list for SID
 * operations); AF_XDP queues (one small UMEM and one socket per receive
 * queue, frames reflected in place: RX ring -> TX ring -> completion ring
 * -> fill ring); UDP port sockets (the fallback, one per reflector port);
 * and one epoll instance over all of them, which is the only descriptor the
 * daemon's event loop sees.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/ethtool.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>
#include <openssl/crypto.h>

#include "auth_path.h"
#include "auth_reflect.h"
#include "loader.h"
#include "log.h"
#include "xtwamp.skel.h"
#include "xtwamp_wire.h"

/*
 * UMEM sizing (platform notes: 8 MiB RLIMIT_MEMLOCK without CAP_IPC_LOCK,
 * shared by every AF_XDP user of the uid).  A frame must hold the largest
 * Ethernet frame (MTU + 14 + two VLAN tags) behind the kernel's 256-octet
 * XDP_PACKET_HEADROOM: 2048-octet frames up to MTU 1770, 4096 up to 3818;
 * a larger MTU would need multi-buffer AF_XDP, so such interfaces use the
 * socket.  64..1024 frames per queue within UMEM_BUDGET for all queues
 * together.  The RX ring must absorb the time the daemon is not running
 * (another task on its CPU, the control server, a scheduling delay): with
 * 512 frames a loaded machine dropped ~1 % at 60,000 pps in the RX ring
 * while the daemon was mostly idle; 1024 frames are 13 ms at 80,000 pps.
 * Not more: the fill ring is FIFO, so every packet lands in the frame
 * used longest ago, and 2048 frames (4 MiB) added ~5 us of residence time
 * at 1,000 pps in a VM (cache misses), 1024 none (bench: 0.1 % loss at
 * 80,000 pps with 1024, none with 2048).
 */
#define FRAME_OVERHEAD (256u + 14u + 8u)
#define FRAME_SIZE_MAX 4096u
#define FRAMES_MAX 1024u
#define FRAMES_MIN 64u
#define UMEM_BUDGET (4u << 20)
#define RX_BATCH 64
#define MAX_UDP_PAYLOAD 65535
#define XSK_ROUNDS 8	      /* RX batches per wakeup, at most */
#define TX_KICK 16	      /* frames put on the TX ring per sendto(), at most */
#define SOCK_ROUNDS 8	      /* recvmmsg() batches per wakeup, at most */
#define SOCK_RCVBUF (2 << 20) /* a few thousand test packets: tens of ms at 80,000 pps */
#define SESS_BUCKETS 1024
#define CFG_REFRESH_NS 100000000ull /* re-read xtwamp_config at most every 100 ms */

#define SOCK_BATCH 32 /* datagrams per recvmmsg() */

enum src_kind { SRC_XSK, SRC_SOCK };

/*
 * One datagram of the socket path: the request is received into pkt and
 * its reply built there in place (auth_reflect_build_ctx() allows it).
 * Only the first pages of pkt are touched by test-sized packets, so the
 * 2 MiB of a batch cost little resident memory.
 */
struct sock_slot {
	struct sockaddr_storage from;
	union {
		char buf[512];
		struct cmsghdr align;
	} rctl;
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + 2 * CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} sctl;
	struct iovec riov;
	struct iovec siov;
	__u8 pkt[MAX_UDP_PAYLOAD + AUTH_REFLECTOR_HDR_LEN];
};

/* First member of everything registered in the epoll set. */
struct ep_src {
	enum src_kind kind;
};

struct xsk_q {
	struct ep_src src;
	int iface; /* index in auth_path.ifs */
	__u32 qid;
	void *area;
	size_t area_size;
	__u32 nframes;
	__u32 frame_size; /* power of two, 2048 or 4096 */
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	int fd;
	bool zerocopy;
	bool in_map;
	__u32 tx_unkicked; /* frames on the TX ring since the last sendto() */
	__u32 map_key;	   /* XT_XSK_KEY(interface slot, qid) in xtwamp_xsks */
};

struct port_sock {
	struct ep_src src;
	struct port_sock *next;
	__u16 port; /* host order */
	int fd;
	int family; /* of the socket: AF_INET6 (dual-stack) or AF_INET */
	bool lent;  /* the caller's (auth_path_set_port_socket): never closed here */
	int refs;   /* sessions on this port */
};

struct auth_entry {
	struct auth_entry *hnext; /* hash chain */
	struct auth_entry *next;  /* list of all sessions */
	struct auth_session s;
	struct tw_test_ctx tc; /* s.keys set up once: no per-packet key schedule */
	struct auth_session_stats st;
	struct port_sock *ps;
};

struct iface_state {
	char name[IF_NAMESIZE];
	int ifindex;
	bool af_xdp;
	int nqueues;
	int nzerocopy;
};

struct auth_path {
	struct xt_loader *loader;
	int cfg_fd;
	int xsks_fd;
	int epfd;
	struct iface_state ifs[XT_MAX_IFACES];
	int n_ifs;
	struct xsk_q **qs;
	int n_qs;
	struct port_sock *socks;
	struct auth_entry *buckets[SESS_BUCKETS];
	struct auth_entry *sessions;
	struct auth_path_stats st[3]; /* by enum xt_session_path */
	struct xt_config cfg;
	__u64 cfg_read_ns;	 /* CLOCK_MONOTONIC of the last read */
	struct sock_slot *slots; /* SOCK_BATCH, for recvmmsg()/sendmmsg() */
	struct mmsghdr rmsg[SOCK_BATCH];
	struct mmsghdr smsg[SOCK_BATCH];
	struct auth_entry *sent_by[SOCK_BATCH]; /* the session of smsg[i] */
};

/* ---- small helpers -------------------------------------------------------------------- */

static __u64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * XT_NSEC_PER_SEC + (__u64)ts.tv_nsec;
}

static void map_v4(union xt_addr *a, const void *v4)
{
	memset(a, 0, sizeof(*a));
	a->b[10] = 0xff;
	a->b[11] = 0xff;
	memcpy(a->b + 12, v4, 4);
}

static bool is_v4_mapped(const union xt_addr *a)
{
	static const __u8 prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a->b, prefix, 12) == 0;
}

static const char *addr_str(const union xt_addr *a, char *buf, size_t len)
{
	if (is_v4_mapped(a))
		return inet_ntop(AF_INET, a->b + 12, buf, (socklen_t)len);
	return inet_ntop(AF_INET6, a->b, buf, (socklen_t)len);
}

static const char *path_name(enum xt_session_path path)
{
	return path == XT_PATH_AF_XDP ? "AF_XDP" : path == XT_PATH_SOCKET ? "UDP socket" : "XDP";
}

/* ---- sessions ------------------------------------------------------------------------- */

static unsigned key_hash(const struct xt_session_key *k)
{
	const __u8 *b = (const __u8 *)k;
	__u32 h = 2166136261u; /* FNV-1a */
	size_t i;

	for (i = 0; i < sizeof(*k); i++)
		h = (h ^ b[i]) * 16777619u;
	return h % SESS_BUCKETS;
}

static struct auth_entry *find_by_key(const struct auth_path *p, const struct xt_session_key *k)
{
	struct auth_entry *e;

	for (e = p->buckets[key_hash(k)]; e; e = e->hnext)
		if (!memcmp(&e->s.key, k, sizeof(*k)))
			return e;
	return NULL;
}

static void entry_free(struct auth_entry *e)
{
	tw_test_ctx_free(&e->tc);
	OPENSSL_cleanse(e, sizeof(*e)); /* the session keys */
	free(e);
}

static struct auth_entry *find_by_sid(const struct auth_path *p, const __u8 sid[16])
{
	struct auth_entry *e;

	for (e = p->sessions; e; e = e->next)
		if (!memcmp(e->s.sid, sid, 16))
			return e;
	return NULL;
}

/* ---- clock and Error Estimate from the loader's xtwamp_config --------------------------- */

static void refresh_config(struct auth_path *p, bool force)
{
	__u64 now = clock_ns(CLOCK_MONOTONIC);
	struct xt_config cfg;
	__u32 zero = 0;

	if (!force && now - p->cfg_read_ns < CFG_REFRESH_NS)
		return;
	p->cfg_read_ns = now;
	if (p->cfg_fd >= 0 && bpf_map_lookup_elem(p->cfg_fd, &zero, &cfg) == 0)
		p->cfg = cfg;
}

/* ---- AF_XDP ---------------------------------------------------------------------------- */

static libxdp_print_fn_t prev_libxdp_print;
static int open_paths; /* auth_path instances routing libxdp's messages */

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	/* One level down, like libbpf's messages (log.h). */
	log_vmsg(level == LIBXDP_WARN ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG, fmt, ap);
	return 0;
}

/* Receive queues of ifname: ETHTOOL_GCHANNELS (combined + rx-only), 1 if unknown. */
static int rx_queue_count(const char *ifname)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr;
	int fd, n = 1;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ch;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0 && ch.combined_count + ch.rx_count > 0)
		n = (int)(ch.combined_count + ch.rx_count);
	close(fd);
	return n > XT_MAX_QUEUES ? XT_MAX_QUEUES : n;
}

static void xsk_q_free(struct xsk_q *q)
{
	if (!q)
		return;
	if (q->xsk)
		xsk_socket__delete(q->xsk);
	if (q->umem)
		xsk_umem__delete(q->umem);
	if (q->area)
		munmap(q->area, q->area_size);
	free(q);
}

/* Give every frame to the kernel through the fill ring. */
static int fill_all(struct xsk_q *q)
{
	__u32 idx = 0, i;

	if (xsk_ring_prod__reserve(&q->fq, q->nframes, &idx) != q->nframes)
		return -ENOSPC;
	for (i = 0; i < q->nframes; i++)
		*xsk_ring_prod__fill_addr(&q->fq, idx + i) = (__u64)i * q->frame_size;
	xsk_ring_prod__submit(&q->fq, q->nframes);
	return 0;
}

/* UMEM + socket for one queue, bound in the given mode; NULL and *err on failure. */
static struct xsk_q *xsk_q_open(const char *ifname, __u32 qid, __u32 nframes, __u32 frame_size,
				bool zerocopy, int *err)
{
	struct xsk_umem_config ucfg = {
		.fill_size = nframes,
		.comp_size = nframes,
		.frame_size = frame_size,
		.frame_headroom = 0,
		.flags = 0,
	};
	struct xsk_socket_config scfg = {
		.rx_size = nframes,
		.tx_size = nframes,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_USE_NEED_WAKEUP | (zerocopy ? XDP_ZEROCOPY : XDP_COPY),
	};
	struct xsk_q *q = calloc(1, sizeof(*q));

	if (!q) {
		*err = -ENOMEM;
		return NULL;
	}
	q->src.kind = SRC_XSK;
	q->qid = qid;
	q->nframes = nframes;
	q->zerocopy = zerocopy;
	q->fd = -1;
	q->frame_size = frame_size;
	q->area_size = (size_t)nframes * frame_size;
	q->area = mmap(NULL, q->area_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);
	if (q->area == MAP_FAILED) {
		q->area = NULL;
		*err = -errno;
		goto fail;
	}
	/*
	 * Transparent huge pages where the system allows them: the fill ring
	 * hands out frames in FIFO order, so each packet lands in the frame
	 * used longest ago, and with 4 KiB pages that was a TLB miss per
	 * packet (~5 us more residence time at 1,000 pps in a VM with 2048
	 * frames).  One or two 2 MiB pages cover the UMEM.  Only a hint.
	 */
	madvise(q->area, q->area_size, MADV_HUGEPAGE);
	*err = xsk_umem__create(&q->umem, q->area, q->area_size, &q->fq, &q->cq, &ucfg);
	if (*err) {
		q->umem = NULL;
		goto fail;
	}
	*err = xsk_socket__create(&q->xsk, ifname, qid, q->umem, &q->rx, &q->tx, &scfg);
	if (*err) {
		q->xsk = NULL;
		goto fail;
	}
	q->fd = xsk_socket__fd(q->xsk);
	*err = fill_all(q);
	if (*err)
		goto fail;
	return q;
fail:
	xsk_q_free(q);
	return NULL;
}

static const char *xsk_error_hint(int err)
{
	switch (err) {
	case -ENOMEM:
	case -ENOBUFS:
	case -EPERM:
		return " (UMEM over RLIMIT_MEMLOCK? needs CAP_IPC_LOCK or a higher limit)";
	case -EOPNOTSUPP:
		return " (the driver has no AF_XDP support)";
	case -EBUSY:
		return " (another AF_XDP socket is bound to the queue)";
	case -EAFNOSUPPORT:
		return " (kernel built without CONFIG_XDP_SOCKETS)";
	default:
		return "";
	}
}

static void drop_iface_queues(struct auth_path *p, int iface)
{
	int i, j = 0;

	for (i = 0; i < p->n_qs; i++) {
		struct xsk_q *q = p->qs[i];

		if (q->iface != iface) {
			p->qs[j++] = q;
			continue;
		}
		if (q->in_map)
			bpf_map_delete_elem(p->xsks_fd, &q->map_key);
		if (q->fd >= 0)
			epoll_ctl(p->epfd, EPOLL_CTL_DEL, q->fd, NULL);
		xsk_q_free(q);
	}
	p->n_qs = j;
	p->ifs[iface].af_xdp = false;
	p->ifs[iface].nqueues = 0;
	p->ifs[iface].nzerocopy = 0;
}

/* All queues of one interface, or none (logged by the caller). */
static int open_iface(struct auth_path *p, int iface, int nq, __u32 nframes, __u32 frame_size,
		      bool try_zc, char *why, size_t whylen)
{
	struct iface_state *ifs = &p->ifs[iface];
	int i, err = 0;

	for (i = 0; i < nq; i++) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct xsk_q *q = NULL;
		int zc_err = 0;

		if (try_zc) {
			q = xsk_q_open(ifs->name, (__u32)i, nframes, frame_size, true, &zc_err);
			if (!q)
				log_debug("%s queue %d: no AF_XDP zero-copy (%s); trying copy mode",
					  ifs->name, i, strerror(-zc_err));
		}
		if (!q)
			q = xsk_q_open(ifs->name, (__u32)i, nframes, frame_size, false, &err);
		if (!q) {
			snprintf(why, whylen, "queue %d: %s%s", i, strerror(-err),
				 xsk_error_hint(err));
			goto fail;
		}
		q->iface = iface;
		p->qs[p->n_qs++] = q;
		/* The loader registered interface i as slot i of xtwamp_ifslots. */
		q->map_key = XT_XSK_KEY((__u32)iface, (__u32)i);
		err = bpf_map_update_elem(p->xsks_fd, &q->map_key, &q->fd, BPF_ANY) ? -errno : 0;
		if (err) {
			snprintf(why, whylen, "queue %d: inserting into " XT_MAP_XSKS ": %s", i,
				 strerror(-err));
			goto fail;
		}
		q->in_map = true;
		ev.data.ptr = &q->src;
		if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, q->fd, &ev)) {
			err = -errno;
			snprintf(why, whylen, "epoll: %s", strerror(-err));
			goto fail;
		}
		ifs->nqueues++;
		ifs->nzerocopy += q->zerocopy;
	}
	ifs->af_xdp = true;
	return 0;
fail:
	drop_iface_queues(p, iface);
	return err ? err : -EIO;
}

static __u32 frames_per_queue(int total_queues, __u32 frame_size)
{
	__u32 n = FRAMES_MAX;

	while (n > FRAMES_MIN && (size_t)n * frame_size * (size_t)total_queues > UMEM_BUDGET)
		n /= 2;
	return n;
}

static void log_fallback(const char *ifname, const char *why)
{
	log_warn("%s: AF_XDP unavailable (%s); authenticated/encrypted sessions on %s are served "
		 "by a UDP socket",
		 ifname, why, ifname);
}

/* The UMEM frame size for ifname's MTU, or 0 if no single frame can hold a packet. */
static __u32 frame_size_for(const char *ifname)
{
	struct ifreq ifr;
	int fd, mtu = 1500;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
		if (ioctl(fd, SIOCGIFMTU, &ifr) == 0)
			mtu = ifr.ifr_mtu;
		close(fd);
	}
	if ((__u32)mtu + FRAME_OVERHEAD <= 2048)
		return 2048;
	if ((__u32)mtu + FRAME_OVERHEAD <= FRAME_SIZE_MAX)
		return FRAME_SIZE_MAX;
	return 0;
}

/* AF_XDP sockets on every receive queue of every attached interface. */
static void setup_af_xdp(struct auth_path *p, const struct auth_path_opts *o)
{
	__u32 frame_size[XT_MAX_IFACES], nframes;
	int i, nq[XT_MAX_IFACES], total_queues = 0;
	char why[256];

	if (p->n_ifs == 0)
		return;
	if (o->no_af_xdp) {
		for (i = 0; i < p->n_ifs; i++)
			log_info("%s: AF_XDP disabled; authenticated/encrypted sessions on %s are "
				 "served by a UDP socket",
				 p->ifs[i].name, p->ifs[i].name);
		return;
	}
	if (p->xsks_fd < 0) {
		for (i = 0; i < p->n_ifs; i++)
			log_fallback(p->ifs[i].name, "the XDP program has no " XT_MAP_XSKS " map");
		return;
	}
	for (i = 0; i < p->n_ifs; i++) {
		frame_size[i] = frame_size_for(p->ifs[i].name);
		nq[i] = frame_size[i] ? rx_queue_count(p->ifs[i].name) : 0;
		if (!frame_size[i])
			log_fallback(p->ifs[i].name, "MTU too large for one AF_XDP frame");
		total_queues += nq[i];
	}
	if (!total_queues)
		return;
	p->qs = calloc((size_t)total_queues, sizeof(*p->qs));
	if (!p->qs) {
		for (i = 0; i < p->n_ifs; i++)
			log_fallback(p->ifs[i].name, "out of memory");
		return;
	}
	for (i = 0; i < p->n_ifs; i++) {
		struct iface_state *ifs = &p->ifs[i];
		const char *how = "copy mode";

		if (!nq[i])
			continue;
		/*
		 * One UMEM budget (RLIMIT_MEMLOCK) shared by every queue of every
		 * interface: each interface's share at its own frame size keeps
		 * the sum within it.
		 */
		nframes = frames_per_queue(total_queues, frame_size[i]);
		/* Zero-copy only where XDP runs in the driver; copy mode otherwise (and on failure). */
		if (open_iface(p, i, nq[i], nframes, frame_size[i],
			       p->loader->ifaces[i].native && !o->no_zerocopy, why, sizeof(why))) {
			log_fallback(ifs->name, why);
			continue;
		}
		if (ifs->nzerocopy)
			how = ifs->nzerocopy == ifs->nqueues ? "zero-copy" : "partly zero-copy";
		log_info(
			"%s: authenticated/encrypted sessions via AF_XDP on %d receive queue%s (%s, "
			"%u frames of %u octets per queue)",
			ifs->name, ifs->nqueues, ifs->nqueues == 1 ? "" : "s", how, nframes,
			frame_size[i]);
	}
}

/* ---- AF_XDP: one frame ------------------------------------------------------------------ */

static void count_drop(struct auth_path_stats *st, struct auth_entry *e, int err)
{
	if (err == -EBADMSG) {
		st->drop_hmac++;
		if (e)
			e->st.drop_hmac++;
	} else if (err == -EMSGSIZE) {
		st->drop_short++;
	} else {
		st->drop_malformed++;
	}
}

/*
 * Turn the received frame (len octets at f, room for cap) into its reply,
 * in place.  Returns the reply's frame length, or 0 to drop.
 */
static size_t reflect_frame(struct auth_path *p, __u8 *f, size_t len, size_t cap)
{
	struct auth_path_stats *st = &p->st[XT_PATH_AF_XDP];
	struct auth_reflect_rx rx = { 0 };
	struct xt_xsk_meta meta;
	struct auth_frame fr;
	struct auth_entry *e;
	size_t out_len;
	__u64 t2_tai;
	int err;

	/* T2 as the XDP program took it; the magic is cleared for the frame's next use. */
	memcpy(&meta, f - sizeof(meta), sizeof(meta));
	memset(f - sizeof(meta), 0, sizeof(meta));
	if (meta.magic == XT_XSK_META_MAGIC) {
		t2_tai = meta.t2_tai_ns;
	} else {
		t2_tai = clock_ns(CLOCK_TAI);
		st->no_metadata++;
	}
	st->rx_packets++;

	if (auth_frame_parse(f, len, &fr)) {
		st->drop_malformed++;
		return 0;
	}
	e = find_by_key(p, &fr.key);
	if (!e) {
		st->drop_unknown++;
		return 0;
	}
	e->st.rx_packets++;
	if (e->s.stop_deadline_ns && t2_tai > e->s.stop_deadline_ns) {
		e->st.drop_stopped++;
		st->drop_unknown++;
		return 0;
	}
	rx.reflector_seq = e->st.next_seq;
	rx.t2_realtime_ns = t2_tai + (__u64)p->cfg.clock_offset_ns;
	rx.error_estimate = p->cfg.error_estimate;
	rx.sender_ttl = fr.ttl;
	/* Headers, then T3 as late as the mode allows, then only the UDP checksum. */
	err = auth_frame_reflect_ctx(f, cap, &fr, &e->tc, &rx, e->s.dscp, NULL, &out_len);
	if (err) {
		count_drop(st, e, err);
		return 0;
	}
	e->st.next_seq++;
	e->st.reflected_af_xdp++;
	st->reflected++;
	return out_len;
}

/* ---- AF_XDP: rings ---------------------------------------------------------------------- */

static void fq_put(struct xsk_q *q, __u64 addr)
{
	__u32 idx;

	/* The fill ring holds every frame, so there is always room. */
	if (xsk_ring_prod__reserve(&q->fq, 1, &idx) == 1) {
		*xsk_ring_prod__fill_addr(&q->fq, idx) = addr & ~(__u64)(q->frame_size - 1);
		xsk_ring_prod__submit(&q->fq, 1);
	}
}

/* Frames whose transmission completed go back to the fill ring. */
static void recycle_completions(struct xsk_q *q)
{
	__u32 idx, n, i;

	n = xsk_ring_cons__peek(&q->cq, q->nframes, &idx);
	for (i = 0; i < n; i++)
		fq_put(q, *xsk_ring_cons__comp_addr(&q->cq, idx + i));
	if (n)
		xsk_ring_cons__release(&q->cq, n);
}

static void kick_tx(struct auth_path *p, struct xsk_q *q)
{
	if (!xsk_ring_prod__needs_wakeup(&q->tx))
		return;
	if (sendto(q->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EAGAIN &&
	    errno != EBUSY && errno != ENOBUFS && errno != ENETDOWN)
		p->st[XT_PATH_AF_XDP].tx_errors++;
}

static bool tx_put(struct auth_path *p, struct xsk_q *q, __u64 addr, __u32 len)
{
	struct xdp_desc *d;
	__u32 idx;

	if (xsk_ring_prod__reserve(&q->tx, 1, &idx) != 1) {
		kick_tx(p, q);
		recycle_completions(q);
		if (xsk_ring_prod__reserve(&q->tx, 1, &idx) != 1)
			return false;
	}
	d = xsk_ring_prod__tx_desc(&q->tx, idx);
	d->addr = addr;
	d->len = len;
	d->options = 0;
	xsk_ring_prod__submit(&q->tx, 1);
	/*
	 * One sendto() per TX_KICK frames, not per frame: the system call
	 * (and, in copy mode, the transmission it does) was most of the
	 * per-packet cost, and under load the daemon fell behind its RX ring.
	 * It bounds how long a reply waits after T3: the work of fewer than
	 * TX_KICK packets; a lone packet is still sent at once (end of batch).
	 */
	if (++q->tx_unkicked >= TX_KICK) {
		kick_tx(p, q);
		q->tx_unkicked = 0;
	}
	return true;
}

/* One RX batch; returns the number of frames taken from the RX ring. */
static __u32 xsk_rx_batch(struct auth_path *p, struct xsk_q *q)
{
	__u32 idx, n, i;

	recycle_completions(q);
	n = xsk_ring_cons__peek(&q->rx, RX_BATCH, &idx);
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&q->rx, idx + i);
		__u64 addr = d->addr;
		size_t off = addr & (q->frame_size - 1), out_len;
		__u8 *f = xsk_umem__get_data(q->area, addr);

		if (off < sizeof(struct xt_xsk_meta)) {
			/* no headroom (cannot happen with the kernel's 256 octets) */
			p->st[XT_PATH_AF_XDP].drop_malformed++;
			fq_put(q, addr);
			continue;
		}
		out_len = reflect_frame(p, f, d->len, q->frame_size - off);
		if (!out_len) {
			fq_put(q, addr);
		} else if (!tx_put(p, q, addr, (__u32)out_len)) {
			p->st[XT_PATH_AF_XDP].tx_errors++;
			fq_put(q, addr);
		}
	}
	if (n)
		xsk_ring_cons__release(&q->rx, n);
	if (q->tx_unkicked) {
		kick_tx(p, q);
		q->tx_unkicked = 0;
	}
	return n;
}

/*
 * Everything the RX ring holds, up to XSK_ROUNDS batches per wakeup: a
 * wakeup (epoll in the daemon's loop, then ours) costs more than the
 * crypto of a packet, so a busy queue is drained without going back to
 * epoll, and the bound keeps the control server and timers served.
 */
static void xsk_rx(struct auth_path *p, struct xsk_q *q)
{
	int round;

	for (round = 0; round < XSK_ROUNDS; round++)
		if (xsk_rx_batch(p, q) < RX_BATCH)
			break;
	recycle_completions(q);
	if (xsk_ring_prod__needs_wakeup(&q->fq))
		recvfrom(q->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

/* ---- UDP socket fallback -------------------------------------------------------------- */

static int set_recv_options(int fd, int family)
{
	int on = 1, rcvbuf = SOCK_RCVBUF;

	/*
	 * The default receive buffer (rmem_default, ~200 KiB) holds ~200
	 * test packets: a scheduling gap of a few ms at 20,000 pps overflowed
	 * it (UDP RcvbufErrors were all of the socket path's loss).  FORCE
	 * needs CAP_NET_ADMIN; without it rmem_max caps the plain request.
	 * Best effort: a smaller buffer only means drops under load.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)))
		return -errno;
	/* IPv4 (also IPv4-mapped traffic on a dual-stack socket): TTL, TOS, destination. */
	if (setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof(on)) ||
	    setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &on, sizeof(on)) ||
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)))
		return -errno;
	if (family == AF_INET6 &&
	    (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on)) ||
	     setsockopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &on, sizeof(on)) ||
	     setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on))))
		return -errno;
	return 0;
}

static int sock_family(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -errno;
	return ss.ss_family;
}

static struct port_sock *find_port_sock(const struct auth_path *p, __u16 port)
{
	struct port_sock *ps;

	for (ps = p->socks; ps; ps = ps->next)
		if (ps->port == port)
			return ps;
	return NULL;
}

static int add_port_sock(struct auth_path *p, __u16 port, int fd, bool lent, struct port_sock **out)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct port_sock *ps;
	int family = sock_family(fd), err;

	if (family < 0)
		return family;
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	err = set_recv_options(fd, family);
	if (err)
		return err;
	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	ps->src.kind = SRC_SOCK;
	ps->port = port;
	ps->fd = fd;
	ps->family = family;
	ps->lent = lent;
	ev.data.ptr = &ps->src;
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		err = -errno;
		free(ps);
		return err;
	}
	ps->next = p->socks;
	p->socks = ps;
	*out = ps;
	return 0;
}

/* A dual-stack UDP socket on port (IPv4 only where IPv6 is disabled). */
static int bind_port(__u16 port)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
				     .sin6_addr = IN6ADDR_ANY_INIT,
				     .sin6_port = htons(port) };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, off = 0, err;

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
		if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0)
			return fd;
	} else {
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			return fd;
	}
	err = -errno;
	close(fd);
	return err;
}

static void release_port_sock(struct auth_path *p, struct port_sock *ps)
{
	struct port_sock **pp;

	if (--ps->refs > 0 || ps->lent)
		return; /* a lent socket stays until auth_path_close(): the caller may re-add */
	for (pp = &p->socks; *pp; pp = &(*pp)->next) {
		if (*pp == ps) {
			*pp = ps->next;
			break;
		}
	}
	epoll_ctl(p->epfd, EPOLL_CTL_DEL, ps->fd, NULL);
	close(ps->fd);
	free(ps);
}

/* What recvmsg() told us besides the payload. */
struct sock_rx {
	union xt_addr dst; /* our address the request was sent to */
	bool have_dst;
	int ifindex;
	__u64 t2_realtime_ns;
	int ttl; /* -1: unknown */
	int tos;
};

static void parse_cmsgs(struct msghdr *msg, struct sock_rx *r)
{
	struct cmsghdr *c;

	r->ttl = -1;
	r->tos = 0;
	for (c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			r->t2_realtime_ns = (__u64)ts.tv_sec * XT_NSEC_PER_SEC + (__u64)ts.tv_nsec;
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) {
			memcpy(&r->ttl, CMSG_DATA(c), sizeof(int));
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
			r->tos = *(const __u8 *)CMSG_DATA(c);
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			map_v4(&r->dst, &pi.ipi_addr);
			r->ifindex = pi.ipi_ifindex;
			r->have_dst = true;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) {
			memcpy(&r->ttl, CMSG_DATA(c), sizeof(int));
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS) {
			int tc;

			memcpy(&tc, CMSG_DATA(c), sizeof(tc));
			r->tos = tc;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			memcpy(r->dst.b, &pi.ipi6_addr, 16);
			r->ifindex = (int)pi.ipi6_ifindex;
			r->have_dst = true;
		}
	}
}

/*
 * The reply's msghdr in sl: to the sender, from our address with TTL/Hop
 * Limit 255 and the session's DSCP (ECN kept).
 */
static void reply_msg(struct msghdr *msg, struct sock_slot *sl, socklen_t tolen,
		      const struct sock_rx *r, __u8 tos, size_t len)
{
	bool v4 = is_v4_mapped(&r->dst);
	int ttl = 255, tclass = tos;
	struct cmsghdr *c;

	memset(&sl->sctl, 0, sizeof(sl->sctl));
	sl->siov.iov_base = sl->pkt;
	sl->siov.iov_len = len;
	*msg = (struct msghdr){
		.msg_name = &sl->from,
		.msg_namelen = tolen,
		.msg_iov = &sl->siov,
		.msg_iovlen = 1,
		.msg_control = sl->sctl.buf,
		.msg_controllen = sizeof(sl->sctl.buf),
	};
	c = CMSG_FIRSTHDR(msg);
	if (v4) {
		struct in_pktinfo pi = { 0 };

		memcpy(&pi.ipi_spec_dst, r->dst.b + 12, 4);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		c = CMSG_NXTHDR(msg, c);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_TTL;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &ttl, sizeof(int));
		c = CMSG_NXTHDR(msg, c);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_TOS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &tclass, sizeof(int));
		msg->msg_controllen = CMSG_SPACE(sizeof(pi)) + 2 * CMSG_SPACE(sizeof(int));
	} else {
		struct in6_pktinfo pi = { 0 };

		memcpy(&pi.ipi6_addr, r->dst.b, 16);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		c = CMSG_NXTHDR(msg, c);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_HOPLIMIT;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &ttl, sizeof(int));
		c = CMSG_NXTHDR(msg, c);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_TCLASS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &tclass, sizeof(int));
		msg->msg_controllen = CMSG_SPACE(sizeof(pi)) + 2 * CMSG_SPACE(sizeof(int));
	}
}

/*
 * The request in sl (n octets, as recvmmsg() described it in msg) into its
 * reply, in place, with the reply's msghdr in *out.  Returns the session,
 * or NULL when the request is dropped (counted).
 */
static struct auth_entry *sock_rx_one(struct auth_path *p, struct port_sock *ps,
				      struct sock_slot *sl, struct msghdr *msg, size_t n,
				      struct msghdr *out)
{
	struct auth_path_stats *st = &p->st[XT_PATH_SOCKET];
	const struct sockaddr_storage *from = msg->msg_name;
	struct auth_reflect_rx rx = { 0 };
	struct xt_session_key key = { 0 };
	struct sock_rx r = { 0 };
	struct auth_entry *e;
	size_t reply_len;
	__u64 t2_tai;
	int err;

	st->rx_packets++;
	parse_cmsgs(msg, &r);
	if (!r.t2_realtime_ns)
		r.t2_realtime_ns = clock_ns(CLOCK_REALTIME);
	if (from->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)from;

		memcpy(key.sender_addr.b, &s6->sin6_addr, 16);
		key.sender_port = s6->sin6_port;
	} else if (from->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)from;

		map_v4(&key.sender_addr, &s4->sin_addr);
		key.sender_port = s4->sin_port;
	}
	if (!r.have_dst || (msg->msg_flags & MSG_TRUNC)) {
		st->drop_malformed++;
		return NULL;
	}
	key.reflector_addr = r.dst;
	key.reflector_port = htons(ps->port);
	e = find_by_key(p, &key);
	if (!e) {
		st->drop_unknown++;
		return NULL;
	}
	e->st.rx_packets++;
	t2_tai = r.t2_realtime_ns - (__u64)p->cfg.clock_offset_ns;
	if (e->s.stop_deadline_ns && t2_tai > e->s.stop_deadline_ns) {
		e->st.drop_stopped++;
		st->drop_unknown++;
		return NULL;
	}
	rx.reflector_seq = e->st.next_seq;
	rx.t2_realtime_ns = r.t2_realtime_ns;
	rx.error_estimate = p->cfg.error_estimate;
	rx.sender_ttl = r.ttl >= 0 && r.ttl <= 255 ? (__u8)r.ttl : 255;
	err = auth_reflect_build_ctx(&e->tc, sl->pkt, n, &rx, sl->pkt, sizeof(sl->pkt), &reply_len);
	if (err) {
		count_drop(st, e, err);
		return NULL;
	}
	e->st.next_seq++;
	err = auth_reflect_seal_ctx(&e->tc, sl->pkt, reply_len, NULL, NULL);
	if (err) {
		st->tx_errors++;
		log_debug("auth reply on port %u: %s", ps->port, strerror(-err));
		return NULL;
	}
	reply_msg(out, sl, msg->msg_namelen, &r, (__u8)(e->s.dscp << 2 | (r.tos & 0x03)),
		  reply_len);
	return e;
}

/* Send the n replies in p->smsg; a datagram the kernel refuses is counted and skipped. */
static void sock_flush(struct auth_path *p, struct port_sock *ps, unsigned int n)
{
	struct auth_path_stats *st = &p->st[XT_PATH_SOCKET];
	unsigned int i = 0;

	while (i < n) {
		int sent = sendmmsg(ps->fd, p->smsg + i, n - i, MSG_DONTWAIT);

		if (sent <= 0) {
			/* sendmmsg() reports the error of the first datagram it could not send */
			st->tx_errors++;
			log_debug("auth reply on port %u: %s", ps->port, strerror(errno));
			i++;
			continue;
		}
		for (; sent > 0; sent--, i++) {
			p->sent_by[i]->st.reflected_socket++;
			st->reflected++;
		}
	}
}

/*
 * Up to SOCK_BATCH datagrams per recvmmsg(), SOCK_ROUNDS times per wakeup,
 * and their replies by sendmmsg() in groups of at most TX_KICK: two system
 * calls per group instead of two per packet.  Like the AF_XDP path, a
 * reply waits after its T3 for the work of fewer than TX_KICK packets.
 */
static void sock_rx(struct auth_path *p, struct port_sock *ps)
{
	int round, i, n;

	if (!p->slots)
		return;
	for (round = 0; round < SOCK_ROUNDS; round++) {
		unsigned int nsend = 0;

		for (i = 0; i < SOCK_BATCH; i++) {
			struct sock_slot *sl = &p->slots[i];

			sl->riov.iov_base = sl->pkt;
			sl->riov.iov_len = MAX_UDP_PAYLOAD + 1; /* one more: MSG_TRUNC */
			p->rmsg[i].msg_hdr = (struct msghdr){
				.msg_name = &sl->from,
				.msg_namelen = sizeof(sl->from),
				.msg_iov = &sl->riov,
				.msg_iovlen = 1,
				.msg_control = sl->rctl.buf,
				.msg_controllen = sizeof(sl->rctl.buf),
			};
		}
		n = recvmmsg(ps->fd, p->rmsg, SOCK_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_debug("auth socket on port %u: %s", ps->port, strerror(errno));
			return;
		}
		for (i = 0; i < n; i++) {
			struct auth_entry *e;

			e = sock_rx_one(p, ps, &p->slots[i], &p->rmsg[i].msg_hdr,
					p->rmsg[i].msg_len, &p->smsg[nsend].msg_hdr);
			if (!e)
				continue;
			p->sent_by[nsend++] = e;
			if (nsend == TX_KICK) {
				sock_flush(p, ps, nsend);
				nsend = 0;
			}
		}
		if (nsend)
			sock_flush(p, ps, nsend);
		if (n < SOCK_BATCH)
			return;
	}
}

/* ---- the public functions ------------------------------------------------------------- */

int auth_path_open(struct auth_path **out, struct xt_loader *loader)
{
	return auth_path_open_opts(out, loader, NULL);
}

int auth_path_open_opts(struct auth_path **out, struct xt_loader *loader,
			const struct auth_path_opts *o)
{
	static const struct auth_path_opts defaults;
	struct auth_path *p;
	int i;

	if (!out || !loader || !loader->skel)
		return -EINVAL;
	if (!o)
		o = &defaults;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->loader = loader;
	p->cfg_fd = bpf_map__fd(loader->skel->maps.xtwamp_config);
	p->xsks_fd = bpf_map__fd(loader->skel->maps.xtwamp_xsks);
	p->slots = calloc(SOCK_BATCH, sizeof(*p->slots));
	p->epfd = p->slots ? epoll_create1(EPOLL_CLOEXEC) : -1;
	if (p->epfd < 0) {
		int err = p->slots ? -errno : -ENOMEM;

		free(p->slots);
		free(p);
		return err;
	}
	refresh_config(p, true);
	if (open_paths++ == 0)
		prev_libxdp_print = libxdp_set_print(libxdp_print);
	for (i = 0; i < loader->n_ifaces && i < XT_MAX_IFACES; i++) {
		snprintf(p->ifs[i].name, sizeof(p->ifs[i].name), "%s", loader->ifaces[i].name);
		p->ifs[i].ifindex = loader->ifaces[i].ifindex;
	}
	p->n_ifs = i;
	setup_af_xdp(p, o);
	*out = p;
	return 0;
}

/* The attached interface with AF_XDP that owns addr, or -1. */
static int af_xdp_iface_of(const struct auth_path *p, const union xt_addr *addr)
{
	struct ifaddrs *ifa, *it;
	int found = -1, i;

	if (getifaddrs(&ifa))
		return -1;
	for (it = ifa; it && found < 0; it = it->ifa_next) {
		union xt_addr a;

		if (!it->ifa_addr)
			continue;
		if (it->ifa_addr->sa_family == AF_INET)
			map_v4(&a, &((struct sockaddr_in *)it->ifa_addr)->sin_addr);
		else if (it->ifa_addr->sa_family == AF_INET6)
			memcpy(a.b, &((struct sockaddr_in6 *)it->ifa_addr)->sin6_addr, 16);
		else
			continue;
		if (memcmp(&a, addr, sizeof(a)))
			continue;
		for (i = 0; i < p->n_ifs; i++)
			if (p->ifs[i].af_xdp && !strcmp(p->ifs[i].name, it->ifa_name))
				found = i;
	}
	freeifaddrs(ifa);
	return found;
}

int auth_path_add(struct auth_path *p, const struct auth_session *s, enum xt_session_path *path)
{
	__u16 port = ntohs(s->key.reflector_port);
	enum xt_session_path where;
	struct auth_entry *e;
	struct port_sock *ps;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	int err;

	if (!p || !s || (s->mode != XT_MODE_AUTHENTICATED && s->mode != XT_MODE_ENCRYPTED) ||
	    !port || s->key.pad)
		return -EINVAL;
	if (find_by_sid(p, s->sid) || find_by_key(p, &s->key))
		return -EEXIST;
	where = af_xdp_iface_of(p, &s->key.reflector_addr) >= 0 ? XT_PATH_AF_XDP : XT_PATH_SOCKET;

	/* The UDP socket on the port: the whole path, or the safety net behind AF_XDP. */
	ps = find_port_sock(p, port);
	if (!ps) {
		int fd = bind_port(port);

		if (fd < 0) {
			if (where == XT_PATH_SOCKET) {
				log_error("cannot bind UDP port %u for an authenticated/encrypted "
					  "session: %s%s",
					  port, strerror(-fd),
					  fd == -EADDRINUSE ? " (hand the socket that holds it to "
							      "auth_path_set_port_socket())" :
							      "");
				return fd;
			}
			log_debug("UDP port %u: no fallback socket (%s); AF_XDP only", port,
				  strerror(-fd));
		} else {
			err = add_port_sock(p, port, fd, false, &ps);
			if (err) {
				close(fd);
				if (where == XT_PATH_SOCKET)
					return err;
				ps = NULL;
			}
		}
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		if (ps) {
			ps->refs++;
			release_port_sock(p, ps);
		}
		return -ENOMEM;
	}
	e->s = *s;
	err = tw_test_ctx_init(&e->tc, s->mode, &s->keys);
	if (err) {
		if (ps) {
			ps->refs++;
			release_port_sock(p, ps);
		}
		entry_free(e);
		return err;
	}
	e->st.path = where;
	e->ps = ps;
	if (ps)
		ps->refs++;
	e->hnext = p->buckets[key_hash(&s->key)];
	p->buckets[key_hash(&s->key)] = e;
	e->next = p->sessions;
	p->sessions = e;
	if (path)
		*path = where;
	log_debug("%s session %s:%u -> %s:%u served by %s",
		  s->mode == XT_MODE_ENCRYPTED ? "encrypted" : "authenticated",
		  addr_str(&s->key.sender_addr, a, sizeof(a)), ntohs(s->key.sender_port),
		  addr_str(&s->key.reflector_addr, b, sizeof(b)), port, path_name(where));
	return 0;
}

int auth_path_set_port_socket(struct auth_path *p, __u16 port, int fd)
{
	struct port_sock *ps;

	if (!p || !port || fd < 0)
		return -EINVAL;
	if (find_port_sock(p, port))
		return -EEXIST;
	return add_port_sock(p, port, fd, true, &ps);
}

int auth_path_stop(struct auth_path *p, const __u8 sid[16], __u64 stop_deadline_ns)
{
	struct auth_entry *e = p ? find_by_sid(p, sid) : NULL;

	if (!e)
		return -ENOENT;
	e->s.stop_deadline_ns = stop_deadline_ns;
	return 0;
}

void auth_path_remove(struct auth_path *p, const __u8 sid[16])
{
	struct auth_entry **pp, *e = p ? find_by_sid(p, sid) : NULL;

	if (!e)
		return;
	for (pp = &p->buckets[key_hash(&e->s.key)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
	}
	for (pp = &p->sessions; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	if (e->ps)
		release_port_sock(p, e->ps);
	entry_free(e);
}

int auth_path_fds(struct auth_path *p, int *fds, int max)
{
	if (!p || !fds || max < 1)
		return 0;
	fds[0] = p->epfd;
	return 1;
}

void auth_path_handle(struct auth_path *p, int fd)
{
	struct epoll_event ev[32];
	int n, i;

	(void)fd; /* always the epoll instance */
	if (!p)
		return;
	refresh_config(p, false);
	n = epoll_wait(p->epfd, ev, 32, 0);
	for (i = 0; i < n; i++) {
		struct ep_src *src = ev[i].data.ptr;

		if (src->kind == SRC_XSK)
			xsk_rx(p, (struct xsk_q *)src);
		else
			sock_rx(p, (struct port_sock *)src);
	}
}

static void add_stats(struct auth_path_stats *to, const struct auth_path_stats *from)
{
	to->rx_packets += from->rx_packets;
	to->reflected += from->reflected;
	to->drop_hmac += from->drop_hmac;
	to->drop_short += from->drop_short;
	to->drop_unknown += from->drop_unknown;
	to->tx_errors += from->tx_errors;
	to->drop_malformed += from->drop_malformed;
	to->no_metadata += from->no_metadata;
}

void auth_path_get_stats(const struct auth_path *p, struct auth_path_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!p)
		return;
	add_stats(st, &p->st[XT_PATH_AF_XDP]);
	add_stats(st, &p->st[XT_PATH_SOCKET]);
}

void auth_path_get_path_stats(const struct auth_path *p, enum xt_session_path path,
			      struct auth_path_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (p && (path == XT_PATH_AF_XDP || path == XT_PATH_SOCKET))
		*st = p->st[path];
}

int auth_path_session_stats(const struct auth_path *p, const __u8 sid[16],
			    struct auth_session_stats *st)
{
	const struct auth_entry *e = p ? find_by_sid(p, sid) : NULL;

	if (!e)
		return -ENOENT;
	*st = e->st;
	return 0;
}

void auth_path_af_xdp_info(const struct auth_path *p, int *ifaces, int *queues, int *zerocopy)
{
	int i, ni = 0, nq = 0, nz = 0;

	for (i = 0; p && i < p->n_ifs; i++) {
		ni += p->ifs[i].af_xdp;
		nq += p->ifs[i].nqueues;
		nz += p->ifs[i].nzerocopy;
	}
	if (ifaces)
		*ifaces = ni;
	if (queues)
		*queues = nq;
	if (zerocopy)
		*zerocopy = nz;
}

void auth_path_iface_gone(struct auth_path *p, int ifindex)
{
	int i;

	for (i = 0; p && i < p->n_ifs; i++) {
		if (p->ifs[i].ifindex != ifindex || !p->ifs[i].af_xdp)
			continue;
		/* Unbound sockets and their UMEM: nothing can arrive on them again. */
		drop_iface_queues(p, i);
		log_info("AF_XDP queues of the deleted interface (ifindex %d) closed", ifindex);
	}
}

void auth_path_close(struct auth_path *p)
{
	struct port_sock *ps;
	struct auth_entry *e;
	int i;

	if (!p)
		return;
	/* Out of the XSKMAP first, so the XDP program falls back to XDP_PASS. */
	for (i = 0; i < p->n_ifs; i++)
		if (p->ifs[i].af_xdp)
			drop_iface_queues(p, i);
	free(p->qs);
	while ((ps = p->socks)) {
		p->socks = ps->next;
		if (!ps->lent)
			close(ps->fd);
		else
			epoll_ctl(p->epfd, EPOLL_CTL_DEL, ps->fd, NULL);
		free(ps);
	}
	while ((e = p->sessions)) {
		p->sessions = e->next;
		entry_free(e);
	}
	close(p->epfd);
	free(p->slots);
	if (--open_paths == 0)
		libxdp_set_print(prev_libxdp_print);
	free(p);
}
