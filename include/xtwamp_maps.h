/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xtwamp_maps.h - the map ABI between the XDP data path and user space.
 *
 * Contract: keys, values, counter ids and map names used by bpf/ and user/.
 * Every struct has explicit padding (which must be zero in keys) so that
 * both sides agree on the layout without a second, hand-synced copy.  Map
 * names are the names of the pins under the pin directory.
 *
 * Addresses are stored as 16 octets: IPv6 as is, IPv4 as IPv4-mapped IPv6
 * (::ffff:a.b.c.d, RFC 4291 §2.5.5.2), so one key type and one LPM trie
 * serve both families.
 */
#ifndef XTWAMP_MAPS_H
#define XTWAMP_MAPS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define XT_PIN_PATH_DEFAULT "/sys/fs/bpf/xtwamp"

/* Map names (at most 15 characters: BPF_OBJ_NAME_LEN). */
#define XT_MAP_CONFIG "xtwamp_config"
#define XT_MAP_PORTS "xtwamp_ports"
#define XT_MAP_SESSIONS "xtwamp_sessions"
#define XT_MAP_FLOWS "xtwamp_flows"
#define XT_MAP_ALLOW "xtwamp_allow"
#define XT_MAP_RATE "xtwamp_ratelim"
#define XT_MAP_COUNTERS "xtwamp_counters"
#define XT_MAP_XSKS "xtwamp_xsks"
#define XT_MAP_IFSLOTS "xtwamp_ifslots"
#define XT_MAP_RESIDENCE "xtwamp_resid"
#define XT_PIN_LINK_PREFIX "link_" /* + interface name: one XDP link per interface */

#define XT_MAX_SESSIONS 65536	  /* negotiated sessions (control server) */
#define XT_MAX_FLOWS 65536	  /* per-sender state of stateful light ports (LRU) */
#define XT_MAX_ALLOW 16384	  /* allow-list prefixes */
#define XT_MAX_RATE_SOURCES 65536 /* sources tracked by the rate limiter (LRU) */
#define XT_NUM_PORTS 65536

/*
 * Counters: one per-CPU u64 each, summed by readers.  X(id, name, help):
 * name is the metric name (Prometheus style, without the xtwamp_ prefix).
 */
#define XT_COUNTERS(X)                                                                         \
	X(RX_FRAMES, "rx_frames_total", "frames seen by the XDP program")                      \
	X(PASSED, "passed_total", "frames passed to the kernel stack (not TWAMP-Test for us)") \
	X(PASSED_FRAGMENT, "passed_fragment_total", "IPv4 fragments passed unexamined")        \
	X(PASSED_IPV6_EXT, "passed_ipv6_ext_total",                                            \
	  "IPv6 packets with extension headers passed unexamined")                             \
	X(REFLECTED, "reflected_total", "test packets reflected with XDP_TX")                  \
	X(REFLECTED_GROWN, "reflected_grown_total",                                            \
	  "short TWAMP requests answered with the 41-octet minimum reply")                     \
	X(DROP_TOO_SHORT, "drop_too_short_total",                                              \
	  "requests shorter than the port format's minimum (14 TWAMP, 44 STAMP)")              \
	X(DROP_MALFORMED, "drop_malformed_total",                                              \
	  "bad UDP/IP length, bad IPv4 header checksum, zero IPv6 UDP checksum, port 0")       \
	X(DROP_NOT_UNICAST, "drop_not_unicast_total",                                          \
	  "multicast/broadcast source or destination (never reflected)")                       \
	X(DROP_NOT_ALLOWED, "drop_not_allowed_total", "source not in the allow-list")          \
	X(DROP_RATE_LIMITED, "drop_rate_limited_total", "source over its packet rate")         \
	X(DROP_SESSION_STOPPED, "drop_session_stopped_total",                                  \
	  "packets for a negotiated session that is not started or already stopped")           \
	X(DROP_CLOCK_UNSET, "drop_clock_unset_total",                                          \
	  "packets dropped because the daemon has not published the clock yet")                \
	X(DROP_RESIZE_FAILED, "drop_resize_failed_total",                                      \
	  "replies that needed a frame resize the driver refused")                             \
	X(DROP_FLOW_TABLE, "drop_flow_table_total",                                            \
	  "stateful light packets whose flow state could not be created")                      \
	X(RX_TIMESTAMP_HW, "rx_timestamp_hw_total", "T2 taken from the NIC's RX timestamp")    \
	X(RX_TIMESTAMP_SW, "rx_timestamp_sw_total", "T2 taken from the kernel clock")          \
	X(RX_TIMESTAMP_HW_REJECTED, "rx_timestamp_hw_rejected_total",                          \
	  "NIC RX timestamps more than 1 ms from the kernel clock (software used)")            \
	X(REDIRECTED_USERSPACE, "redirected_userspace_total",                                  \
	  "authenticated/encrypted test packets handed to xtwampd (AF_XDP or socket)")

enum xt_counter {
#define XT_COUNTER_ENUM(id, name, help) XT_CNT_##id,
	XT_COUNTERS(XT_COUNTER_ENUM)
#undef XT_COUNTER_ENUM
		XT_CNT__COUNT
};

/*
 * xtwamp_resid: PERCPU_ARRAY of XT_RES_BUCKETS struct xt_res_bucket, the
 * reflector's residence time T3 - T2 of packets reflected in XDP.  Bucket i
 * counts the packets with T3 - T2 <= XT_RES_BOUNDS_NS[i] (and above the
 * previous bound); the last bucket is everything above.  Not cumulative:
 * readers sum them into Prometheus "le" buckets.  One lookup and two adds
 * to the same per-CPU value per reflected packet.
 */
#define XT_RES_BUCKETS 10
#define XT_RES_BOUNDS_NS                                                                \
	{                                                                               \
		1000, 2000, 5000, 10000, 20000, 50000, 100000, 1000000, 10000000, ~0ULL \
	}
struct xt_res_bucket {
	__u64 count;
	__u64 sum_ns; /* sum of T3 - T2 of the packets in this bucket */
};

/* IPv4 address as IPv4-mapped IPv6. */
union xt_addr {
	__u8 b[16];
	__be32 w[4];
};

/* Test-packet formats, chosen per port (light) or per session. */
enum xt_format {
	XT_FMT_TWAMP = 0, /* RFC 5357 §4.2.1: 41-octet reflector header, min request 14 */
	XT_FMT_STAMP = 1, /* RFC 8762 §4.3: 44-octet base, SSID copied, min request 44 */
};

/* xtwamp_ports value flags. */
#define XT_PORT_LIGHT 0x01     /* reflect any (allowed) sender on this port */
#define XT_PORT_SESSIONS 0x02  /* negotiated sessions use this port: look them up */
#define XT_PORT_STATELESS 0x04 /* light: copy the sender's sequence number */

/* xtwamp_ports: ARRAY indexed by UDP destination port (host order). */
struct xt_port {
	__u8 flags;  /* XT_PORT_* ; 0 = not ours */
	__u8 format; /* enum xt_format on this port; STAMP: sessions/flows keyed by SSID too */
	__u8 pad[2];
};

/*
 * Session identity, from the reflector's point of view: the sender's
 * address/port (source of test packets) and ours (destination).  The SSID
 * (RFC 8972) is part of it on ports whose format is STAMP, and 0 otherwise.
 */
struct xt_session_key {
	union xt_addr sender_addr;
	union xt_addr reflector_addr;
	__be16 sender_port;
	__be16 reflector_port;
	__be16 ssid;
	__u16 pad; /* must be 0 */
};

/* xt_session.flags */
#define XT_SESS_STATELESS 0x01 /* copy the sender's sequence number */
#define XT_SESS_SET_DSCP 0x02  /* reply with .dscp instead of the received DSCP */
#define XT_SESS_USERSPACE \
	0x04 /* authenticated/encrypted: count, stamp T2 into the
				* metadata (struct xt_xsk_meta) and redirect to the
				* AF_XDP socket of the receive queue (XDP_PASS to the
				* UDP socket fallback when there is none) */

/* xt_session.state (negotiated sessions; light flows are always STARTED) */
enum xt_session_state {
	XT_SESS_ACCEPTED = 0, /* Accept-Session sent, Start-Sessions not yet: drop */
	XT_SESS_STARTED = 1,  /* reflect */
};

/*
 * Value of xtwamp_sessions (written by the control server, counted by the
 * data path) and of xtwamp_flows (created by the data path for stateful
 * light ports).  Not per-CPU because reflector sequence numbers must run
 * 0, 1, 2, ... per session: next_seq is advanced atomically.  The XDP path
 * bumps rx_packets/tx_packets with plain adds (a sender's packets arrive on
 * one receive queue, served by one CPU at a time); a race between CPUs, rare,
 * can lose a count.
 */
struct xt_session {
	/* set by the control plane */
	__u8 format; /* enum xt_format */
	__u8 flags;  /* XT_SESS_* */
	__u8 dscp;   /* with XT_SESS_SET_DSCP */
	__u8 state;  /* enum xt_session_state */
	__u32 pad;
	__u64 stop_deadline_ns; /* BPF clock (TAI ns); 0 = none. Later packets are dropped. */
	/* maintained by the data path (RFC 8913 test-session statistics) */
	__u32 next_seq;	       /* reflector sequence number of the next reply */
	__u32 last_sender_seq; /* sender sequence number of the last request */
	__u64 rx_packets;
	__u64 tx_packets;
	__u64 first_rx_ns; /* BPF clock of the first request (0 = none yet) */
	__u64 last_rx_ns;  /* BPF clock of the latest request */
};

/*
 * Metadata in front of a frame redirected to AF_XDP (bpf_xdp_adjust_meta):
 * T2 as the XDP program took it, so user space reports when the packet
 * arrived, not when it got around to reading it.
 */
#define XT_XSK_META_MAGIC 0x7477 /* "tw" */
struct xt_xsk_meta {
	__u64 t2_tai_ns; /* BPF clock (TAI ns); add xt_config.clock_offset_ns for realtime */
	__u8 ttl;	 /* received TTL / Hop Limit: the Sender TTL */
	__u8 tos;	 /* received TOS / Traffic Class */
	__u16 magic;	 /* XT_XSK_META_MAGIC */
	__u32 pad;
};

/*
 * xtwamp_xsks: XSKMAP of xtwampd's AF_XDP sockets, one per receive queue of
 * each attached interface.  The key is XT_XSK_KEY(slot, queue), where slot is
 * the interface's entry in xtwamp_ifslots (HASH: ifindex -> slot), so queue
 * 0 of two interfaces are two sockets.
 */
#define XT_MAX_QUEUES 64
#define XT_MAX_IFSLOTS 16
#define XT_XSK_KEY(slot, queue) ((slot)*XT_MAX_QUEUES + (queue))

/* xt_config.flags */
#define XT_CFG_CLOCK_VALID 0x01	       /* clock_offset_ns has been published */
#define XT_CFG_ALLOWLIST_ENFORCED 0x02 /* drop sources not in xtwamp_allow */

/*
 * xtwamp_config: ARRAY of one, the live settings.  The data path reads the
 * clock with bpf_ktime_get_tai_ns(): realtime = tai + clock_offset_ns.  CLOCK_TAI
 * follows clock steps by itself, so the offset only changes on leap seconds.
 */
struct xt_config {
	__s64 clock_offset_ns;	/* CLOCK_REALTIME - CLOCK_TAI, in ns */
	__u64 clock_updated_ns; /* TAI ns of the daemon's last refresh */
	__u32 rate_limit_pps;	/* per source; 0 = unlimited */
	__u32 rate_burst;	/* packets a source may send back to back */
	__u16 error_estimate;	/* RFC 4656 Error Estimate, host order */
	__u8 flags;		/* XT_CFG_* */
	__u8 pad[5];
};

/* xtwamp_allow: LPM_TRIE; prefixlen counts over the 128-bit (mapped) address. */
struct xt_allow_key {
	__u32 prefixlen;
	union xt_addr addr;
};

/*
 * xtwamp_ratelim: LRU_HASH keyed by source address.  GCRA ("virtual
 * scheduling"): tat_ns is the theoretical arrival time of the next packet,
 * updated with compare-and-swap (the kernel allows no spin lock in an LRU map).
 */
struct xt_rate_state {
	__u64 tat_ns;
};

#endif /* XTWAMP_MAPS_H */
