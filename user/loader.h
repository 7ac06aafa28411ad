/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * loader.h - the life of the XDP reflector in the kernel: load, configure,
 * pin, attach, keep the clock current, detach.
 *
 * Functions return 0 or -errno and log one line that says what went wrong
 * and what to do about it.  loader_close() undoes whatever succeeded.
 */
#ifndef XTWAMP_LOADER_H
#define XTWAMP_LOADER_H

#include <limits.h>
#include <stdbool.h>

#include "daemon_opts.h"

struct xtwamp; /* generated skeleton */

struct xt_attached_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	bool native;	    /* driver mode (else generic/skb mode) */
	bool hw_timestamps; /* device-bound program that asks the NIC for T2 */
	int link_fd;
	struct xtwamp *hw_skel; /* the device-bound program, or NULL (shared one) */
	bool gone;		/* the interface was deleted while attached */
};

struct xt_loader {
	struct xtwamp *skel;
	char pin_path[256];
	int lock_fd;
	bool pinned;
	bool pins_lost; /* the pin directory left bpffs (unmounted) while running */
	struct xt_attached_iface ifaces[XT_MAX_IFACES];
	int n_ifaces;
	int port_fds[XT_MAX_PORTS * 2]; /* sockets that reserve the test ports */
	int n_port_fds;
	__u16 last_error_estimate;
	bool last_synchronised;
	/* adoption of what an xtwampd that died left pinned (loader_open) */
	int n_adopted_maps;
	char adopt_links[XT_MAX_IFACES][IF_NAMESIZE]; /* link pins not yet taken over */
	int n_adopt_links;
	struct xt_orphan *orphans; /* adopted negotiated sessions: no control connection */
	int n_orphans;
	__u64 adopted_tai_ns;
};

/*
 * An adopted xtwamp_sessions entry, swept by loader_sweep_orphans().  SID,
 * mode and control peer come from the dead xtwampd's state file ("-" when
 * it had none), so `xtwamp sessions` still names the session.
 */
struct xt_orphan {
	struct xt_session_key key;
	__u64 first_rx_ns; /* at adoption: a different value means the entry was reused */
	char sid[33];	   /* hex */
	char mode[24];
	char peer[48];
	int fd; /* reserves (reflector address, port) against other programs; -1: none */
};

/* Load the program, fill its maps from the options and pin the maps. */
int loader_open(struct xt_loader *l, const struct xtwampd_opts *o);

/* Attach to one interface in the mode the options ask for. */
int loader_attach(struct xt_loader *l, const char *ifname, const struct xtwampd_opts *o);

/* Publish the clock offset and Error Estimate; call about once a second. */
int loader_refresh_clock(struct xt_loader *l);

/*
 * Restart without a gap.  When a previous xtwampd died (kill -9, crash) and
 * left its pins, loader_open() adopts every map whose layout matches this
 * build (counters, flows, rate limiter and negotiated sessions carry on)
 * and loader_attach() replaces the program on the pinned XDP link with
 * bpf_link_update(), atomically: the interface is never without a
 * reflector.  Maps of another layout (an upgrade that changed the ABI) are
 * removed instead, as before.  After attaching, loader_finish_adoption()
 * detaches links of interfaces no longer configured.
 *
 * Adopted negotiated sessions lost their control connection: they keep
 * being reflected until their stop deadline (if Stop-Sessions came before
 * the restart) or until they received nothing for --refwait (RFC 5357
 * §4.2), checked by loader_sweep_orphans() once a second, which then also
 * clears the session flag of a port no other orphan uses.  The session
 * table never gives a new session a port whose session flag it did not
 * set itself (session_table.h), so orphans keep their ports to themselves.
 * Authenticated and encrypted ones are removed at once: their keys died
 * with the process.
 */
void loader_finish_adoption(struct xt_loader *l);
void loader_sweep_orphans(struct xt_loader *l, __u64 refwait_ns);

/* Make xtwamp_allow and the rate limit match o (SIGHUP); no gap in between. */
int loader_sync_allow(struct xt_loader *l, const struct xtwampd_opts *o);

/* Detach, unpin, unload; safe on a partly opened loader. */
void loader_close(struct xt_loader *l);

/*
 * Notice interfaces deleted while attached (their program went with them):
 * each is logged once, marked gone and passed to on_gone (may be NULL).
 * Returns how many interfaces are still there.
 */
int loader_check_ifaces(struct xt_loader *l, void (*on_gone)(void *ctx, int ifindex), void *ctx);

/*
 * Notice (and log once) that the pin directory is no longer on bpffs, e.g.
 * its bpffs was unmounted: reflection goes on from the daemon's own
 * references, but `xtwamp stats` and a restarted daemon cannot find it.
 */
void loader_check_pins(struct xt_loader *l);

/* Bind the UDP test ports so no other program takes them (v4 and v6). */
int loader_reserve_ports(struct xt_loader *l, const struct xtwampd_opts *o);

#endif /* XTWAMP_LOADER_H */
