// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* loader.c - see loader.h */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "clock.h"
#include "daemon_state.h"
#include "loader.h"
#include "log.h"
#include "session_table.h"
#include "stats.h"
#include "xtwamp.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
/* Linux 6.3 UAPI; the system headers here are older. */
#ifndef BPF_F_XDP_DEV_BOUND_ONLY
#define BPF_F_XDP_DEV_BOUND_ONLY (1U << 6)
#endif
#define BPFFS_DEFAULT_MOUNT "/sys/fs/bpf"

_Static_assert(XT_MAX_IFACES <= XT_MAX_IFSLOTS, "every attached interface needs an AF_XDP slot");

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

/* The pin directory must live on bpffs; mount the usual one when it is missing. */
static int prepare_pin_dir(const char *pin_path)
{
	char parent[256];
	char *slash;

	snprintf(parent, sizeof(parent), "%s", pin_path);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	else
		snprintf(parent, sizeof(parent), "/");

	if (!is_bpffs(parent)) {
		if (strcmp(parent, BPFFS_DEFAULT_MOUNT) != 0) {
			log_error(
				"%s is not on a bpffs mount: mount one with `mount -t bpf bpf %s` "
				"or use --pin-path under " BPFFS_DEFAULT_MOUNT,
				pin_path, parent);
			return -ENOTDIR;
		}
		if (mount("bpf", BPFFS_DEFAULT_MOUNT, "bpf", 0, "mode=0700")) {
			int err = -errno;

			log_error("cannot mount bpffs on " BPFFS_DEFAULT_MOUNT ": %s%s",
				  strerror(-err), err == -EPERM ? " (run as root)" : "");
			return err;
		}
		log_info("mounted bpffs on " BPFFS_DEFAULT_MOUNT);
	}
	if (mkdir(pin_path, 0700) && errno != EEXIST) {
		int err = -errno;

		log_error("cannot create pin directory %s: %s", pin_path, strerror(-err));
		return err;
	}
	return 0;
}

/* One xtwampd per pin directory. */
static int lock_pin_dir(struct xt_loader *l)
{
	l->lock_fd = open(l->pin_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->lock_fd < 0) {
		int err = -errno;

		log_error("cannot open pin directory %s: %s", l->pin_path, strerror(-err));
		return err;
	}
	if (flock(l->lock_fd, LOCK_EX | LOCK_NB)) {
		int err = -errno;

		close(l->lock_fd);
		l->lock_fd = -1;
		if (err == -EWOULDBLOCK) {
			log_error(
				"another xtwampd is running with pin path %s: stop it, or give this "
				"one its own --pin-path",
				l->pin_path);
			return -EBUSY;
		}
		log_error("cannot lock %s: %s", l->pin_path, strerror(-err));
		return err;
	}
	return 0;
}

static bool map_compatible(const struct bpf_map *map, int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return false;
	return info.type == bpf_map__type(map) && info.key_size == bpf_map__key_size(map) &&
	       info.value_size == bpf_map__value_size(map) &&
	       info.max_entries == bpf_map__max_entries(map) &&
	       info.map_flags == bpf_map__map_flags(map);
}

static int remove_all_pins(const char *pin_path)
{
	struct dirent *ent;
	int removed = 0;
	DIR *dir = opendir(pin_path);

	if (!dir)
		return 0;
	while ((ent = readdir(dir))) {
		if (ent->d_name[0] == '.')
			continue;
		if (unlinkat(dirfd(dir), ent->d_name, 0) == 0)
			removed++;
	}
	closedir(dir);
	return removed;
}

/*
 * Before load: pins left by an xtwampd that died.  Maps of this build's
 * layout are reused (bpf_map__set_pin_path: libbpf opens the pin instead of
 * creating a map; new maps are pinned at load), link pins are remembered
 * for loader_attach(); anything else, or any map of another layout, and
 * everything is removed as before.
 */
static void adopt_or_clean(struct xt_loader *l)
{
	struct bpf_map *map;
	struct dirent *ent;
	char path[512];
	bool compatible = true;
	int found = 0, removed;
	DIR *dir;

	bpf_object__for_each_map(map, l->skel->obj)
	{
		int fd;

		if (bpf_map__is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/%s", l->pin_path, bpf_map__name(map));
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		found++;
		if (!map_compatible(map, fd))
			compatible = false;
		close(fd);
	}
	dir = opendir(l->pin_path);
	while (dir && compatible && found && (ent = readdir(dir))) {
		const char *n = ent->d_name;

		if (!strncmp(n, XT_PIN_LINK_PREFIX, strlen(XT_PIN_LINK_PREFIX)) &&
		    l->n_adopt_links < XT_MAX_IFACES &&
		    strlen(n + strlen(XT_PIN_LINK_PREFIX)) < IF_NAMESIZE)
			snprintf(l->adopt_links[l->n_adopt_links++], IF_NAMESIZE, "%s",
				 n + strlen(XT_PIN_LINK_PREFIX));
	}
	if (dir)
		closedir(dir);
	if (!found || !compatible) {
		l->n_adopt_links = 0;
		removed = remove_all_pins(l->pin_path);
		if (removed)
			log_warn("removed %d stale pins in %s left by an xtwampd that did not shut "
				 "down cleanly%s",
				 removed, l->pin_path,
				 compatible ? "" : " (their map layout differs from this version)");
	} else {
		bpf_object__for_each_map(map, l->skel->obj)
		{
			if (bpf_map__is_internal(map))
				continue;
			snprintf(path, sizeof(path), "%s/%s", l->pin_path, bpf_map__name(map));
			bpf_map__set_pin_path(map, path);
		}
		l->n_adopted_maps = found;
		l->adopted_tai_ns = xt_tai_ns();
		log_warn("adopting %d maps and %d XDP links left in %s by an xtwampd that did not "
			 "shut down cleanly: counters, flows and sessions carry on",
			 found, l->n_adopt_links, l->pin_path);
	}
}

/* Every xtwamp_ports value, indexed by port: one batch read, else one lookup each. */
static int read_ports(int fd, struct xt_port *vals)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = XT_NUM_PORTS, out_batch, *keys = calloc(XT_NUM_PORTS, sizeof(*keys));
	struct xt_port *batch = calloc(XT_NUM_PORTS, sizeof(*batch));
	int err = 0;

	if (!keys || !batch) {
		err = -ENOMEM;
		goto out;
	}
	if (!bpf_map_lookup_batch(fd, NULL, &out_batch, keys, batch, &count, &opts) ||
	    (errno == ENOENT && count)) {
		for (__u32 i = 0; i < count; i++)
			if (keys[i] < XT_NUM_PORTS)
				vals[keys[i]] = batch[i];
		if (count == XT_NUM_PORTS)
			goto out;
	}
	for (__u32 p = 0; p < XT_NUM_PORTS; p++) /* kernels without batch ops on arrays */
		if (bpf_map_lookup_elem(fd, &p, &vals[p]) && errno != ENOENT) {
			err = -errno;
			break;
		}
out:
	free(keys);
	free(batch);
	return err;
}

static bool orphan_on_port(const struct xt_loader *l, __be16 port)
{
	for (int i = 0; i < l->n_orphans; i++)
		if (l->orphans[i].key.reflector_port == port)
			return true;
	return false;
}

/*
 * The port reservation of an orphan that ends goes to another orphan on the
 * same address and port, if there is one; else it is closed.
 */
static void pass_on_reservation(struct xt_loader *l, const struct xt_orphan *o)
{
	if (o->fd < 0)
		return;
	for (int i = 0; i < l->n_orphans; i++) {
		struct xt_orphan *x = &l->orphans[i];

		if (x->key.reflector_port == o->key.reflector_port &&
		    !memcmp(&x->key.reflector_addr, &o->key.reflector_addr,
			    sizeof(x->key.reflector_addr)) &&
		    x->fd < 0) {
			x->fd = o->fd;
			return;
		}
	}
	close(o->fd);
}

/* The old daemon's reservation died with it: bind (address, port) again. */
static void reserve_orphan_port(struct xt_loader *l, struct xt_orphan *o)
{
	int err;

	o->fd = -1;
	for (int i = 0; i < l->n_orphans; i++)
		if (l->orphans[i].fd >= 0 &&
		    l->orphans[i].key.reflector_port == o->key.reflector_port &&
		    !memcmp(&l->orphans[i].key.reflector_addr, &o->key.reflector_addr,
			    sizeof(o->key.reflector_addr)))
			return; /* held for both */
	err = session_table_bind_port(&o->key.reflector_addr, ntohs(o->key.reflector_port), &o->fd);
	if (err)
		log_debug("adopted session %s: cannot reserve UDP port %u again: %s", o->sid,
			  ntohs(o->key.reflector_port), strerror(-err));
}

/* Clear the session flag of a port no adopted session uses any more. */
static void release_orphan_port(struct xt_loader *l, __u32 port)
{
	int fd = bpf_map__fd(l->skel->maps.xtwamp_ports);
	struct xt_port pe;

	if (orphan_on_port(l, htons((__u16)port)) || bpf_map_lookup_elem(fd, &port, &pe) ||
	    !(pe.flags & XT_PORT_SESSIONS))
		return;
	pe.flags &= ~XT_PORT_SESSIONS;
	if (!pe.flags)
		pe.format = 0; /* "not ours" exactly, as session_table leaves it */
	if (bpf_map_update_elem(fd, &port, &pe, BPF_ANY))
		log_warn("cannot clear the session flag of UDP port %u: %s", port, strerror(errno));
}

/* What the dead xtwampd's state file said about an adopted session. */
static void name_orphan(struct xt_orphan *o, const struct xt_daemon_state *ds)
{
	const char *line = stats_session_line(ds, &o->key);

	snprintf(o->sid, sizeof(o->sid), "-");
	snprintf(o->mode, sizeof(o->mode), "-");
	snprintf(o->peer, sizeof(o->peer), "-");
	if (!line)
		return;
	stats_field(line, "sid", o->sid, sizeof(o->sid));
	stats_field(line, "mode", o->mode, sizeof(o->mode));
	stats_field(line, "control_peer", o->peer, sizeof(o->peer));
}

/*
 * Adopted sessions: remember them, named from the previous state file
 * (still there after a SIGKILL; publish_state() overwrites it later);
 * authenticated/encrypted ones cannot be served.  Session flags of ports
 * no remaining session uses are cleared.
 */
static void collect_orphans(struct xt_loader *l)
{
	int fd = bpf_map__fd(l->skel->maps.xtwamp_sessions);
	struct xt_session_key next;
	struct xt_daemon_state ds;
	struct xt_session val;
	struct xt_port *ports;
	int n = 0, keys = 0, dropped = 0;

	if (!l->n_adopted_maps)
		return;
	l->orphans = calloc(XT_MAX_SESSIONS, sizeof(*l->orphans));
	if (!l->orphans)
		return;
	/* keys first: deleting during the walk would restart it */
	if (!bpf_map_get_next_key(fd, NULL, &next)) {
		do {
			l->orphans[keys++].key = next;
		} while (keys < XT_MAX_SESSIONS &&
			 !bpf_map_get_next_key(fd, &l->orphans[keys - 1].key, &next));
	}
	if (stats_read_daemon(l->pin_path, &ds))
		memset(&ds, 0, sizeof(ds));
	for (int i = 0; i < keys; i++) {
		struct xt_session_key key = l->orphans[i].key;

		if (bpf_map_lookup_elem(fd, &key, &val))
			continue;
		if (val.flags & XT_SESS_USERSPACE) {
			bpf_map_delete_elem(fd, &key);
			dropped++;
			continue;
		}
		l->orphans[n].key = key; /* n <= i */
		l->orphans[n].first_rx_ns = val.first_rx_ns;
		name_orphan(&l->orphans[n], &ds);
		l->n_orphans = n; /* the ones before, for reserve_orphan_port() */
		reserve_orphan_port(l, &l->orphans[n]);
		n++;
	}
	stats_free_daemon(&ds);
	l->n_orphans = n;
	if (n || dropped)
		log_info("adopted %d negotiated sessions (reflected until their stop deadline or "
			 "--refwait idle); removed %d authenticated/encrypted ones (keys lost)",
			 n, dropped);
	ports = calloc(XT_NUM_PORTS, sizeof(*ports));
	if (ports && !read_ports(bpf_map__fd(l->skel->maps.xtwamp_ports), ports))
		for (__u32 p = 0; p < XT_NUM_PORTS; p++)
			if (ports[p].flags & XT_PORT_SESSIONS)
				release_orphan_port(l, p);
	free(ports);
}

void loader_sweep_orphans(struct xt_loader *l, __u64 refwait_ns)
{
	int fd, i = 0;
	__u64 now;

	if (!l->n_orphans || !l->skel)
		return;
	fd = bpf_map__fd(l->skel->maps.xtwamp_sessions);
	now = xt_tai_ns();
	while (i < l->n_orphans) {
		struct xt_orphan o = l->orphans[i];
		const char *why = "deleted or reused";
		char sender[64];
		struct xt_session v;
		__u64 last;
		bool gone;

		if (bpf_map_lookup_elem(fd, &o.key, &v) ||
		    (o.first_rx_ns && v.first_rx_ns != o.first_rx_ns)) {
			gone = true; /* deleted, or a new session of the same key: not ours */
		} else {
			l->orphans[i].first_rx_ns = v.first_rx_ns; /* one that just started */
			last = v.last_rx_ns ? v.last_rx_ns : l->adopted_tai_ns;
			why = v.stop_deadline_ns && now > v.stop_deadline_ns ? "stop deadline" :
			      refwait_ns && now > last + refwait_ns	     ? "--refwait idle" :
									       "";
			gone = *why;
			if (gone)
				bpf_map_delete_elem(fd, &o.key);
		}
		if (!gone) {
			i++;
			continue;
		}
		l->orphans[i] = l->orphans[--l->n_orphans];
		pass_on_reservation(l, &o);
		release_orphan_port(l, ntohs(o.key.reflector_port));
		ds_format_endpoint(&o.key.sender_addr, o.key.sender_port, sender, sizeof(sender));
		if (*why == 'd') /* someone else's now: its counters are not ours to report */
			log_info("adopted session %s from %s: %s", o.sid, sender, why);
		else
			log_info("adopted session %s from %s ended (%s): %llu received, %llu "
				 "reflected",
				 o.sid, sender, why, (unsigned long long)v.rx_packets,
				 (unsigned long long)v.tx_packets);
	}
	if (!l->n_orphans)
		log_info("the last adopted session ended");
}

static int explain_load_error(int err)
{
	if (err == -EPERM || err == -EACCES)
		log_error("permission denied loading the XDP program: run as root "
			  "(needs CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON)");
	else if (access("/sys/kernel/btf/vmlinux", R_OK))
		log_error(
			"loading the XDP program failed (%s); this kernel has no BTF "
			"(/sys/kernel/btf/vmlinux): it needs CONFIG_DEBUG_INFO_BTF=y, Linux 6.1 or later",
			strerror(-err));
	else
		log_error("loading the XDP program failed: %s (run with -vv for the verifier log)",
			  strerror(-err));
	return err;
}

static bool port_configured(const struct xtwampd_opts *o, __u32 port)
{
	for (int i = 0; i < o->n_ports; i++)
		if (o->ports[i].port == port)
			return true;
	return false;
}

/*
 * The light ports of o.  On an adopted map the old program keeps reflecting
 * while we do this, so a port that stays is rewritten in one update (its
 * session flag kept) and never cleared in between; the previous
 * configuration's other light ports go afterwards.  Clearing every light
 * port first and adding the new ones after a walk of all 65536 entries
 * passed 100-400 ms of test packets to the stack on each restart.
 */
static int sync_ports(struct xt_loader *l, const struct xtwampd_opts *o)
{
	int fd = bpf_map__fd(l->skel->maps.xtwamp_ports), err = 0;
	struct xt_port *old = calloc(XT_NUM_PORTS, sizeof(*old));

	if (!old)
		return -ENOMEM;
	/* a new array map is all zero: only an adopted one needs reading */
	if (l->n_adopted_maps)
		err = read_ports(fd, old);
	for (int i = 0; !err && i < o->n_ports; i++) {
		__u32 key = o->ports[i].port;
		struct xt_port port = {
			.flags = XT_PORT_LIGHT | (o->stateless ? XT_PORT_STATELESS : 0) |
				 (old[key].flags & XT_PORT_SESSIONS),
			.format = o->ports[i].format,
		};

		if (memcmp(&port, &old[key], sizeof(port)) &&
		    bpf_map_update_elem(fd, &key, &port, BPF_ANY))
			err = -errno;
	}
	for (__u32 p = 0; !err && p < XT_NUM_PORTS; p++) {
		struct xt_port port;

		if (!(old[p].flags & (XT_PORT_LIGHT | XT_PORT_STATELESS)) || port_configured(o, p))
			continue;
		if (bpf_map_lookup_elem(fd, &p, &port))
			continue;
		port.flags &= ~(XT_PORT_LIGHT | XT_PORT_STATELESS);
		if (bpf_map_update_elem(fd, &p, &port, BPF_ANY))
			err = -errno;
	}
	free(old);
	return err;
}

/*
 * Ports, rate limit and allow-list from o.  An adopted xtwamp_config keeps
 * its published clock (no DROP_CLOCK_UNSET gap) and is changed the way
 * SIGHUP changes it: the allow-list is widened before it is enforced.
 */
static int fill_maps(struct xt_loader *l, const struct xtwampd_opts *o)
{
	int err = sync_ports(l, o);

	return err ? err : loader_sync_allow(l, o);
}

static bool allow_listed(const struct xtwampd_opts *o, const struct xt_allow_key *k)
{
	for (int i = 0; i < o->n_allow; i++)
		if (!memcmp(&o->allow[i], k, sizeof(*k)))
			return true;
	return false;
}

/* New prefixes first, then the ones that went: never an empty list in between. */
static int sync_allow(struct xt_loader *l, const struct xtwampd_opts *o)
{
	int allow_fd = bpf_map__fd(l->skel->maps.xtwamp_allow);
	struct xt_allow_key key, next, *gone;
	int i, n_gone = 0;
	__u8 one = 1;

	for (i = 0; i < o->n_allow; i++)
		if (bpf_map_update_elem(allow_fd, &o->allow[i], &one, BPF_ANY))
			return -errno;
	gone = calloc(XT_MAX_ALLOW, sizeof(*gone));
	if (!gone)
		return -ENOMEM;
	if (!bpf_map_get_next_key(allow_fd, NULL, &next)) {
		do {
			key = next;
			if (!allow_listed(o, &key) && n_gone < XT_MAX_ALLOW)
				gone[n_gone++] = key;
		} while (!bpf_map_get_next_key(allow_fd, &key, &next));
	}
	for (i = 0; i < n_gone; i++)
		bpf_map_delete_elem(allow_fd, &gone[i]);
	free(gone);
	return 0;
}

int loader_sync_allow(struct xt_loader *l, const struct xtwampd_opts *o)
{
	int cfg_fd = bpf_map__fd(l->skel->maps.xtwamp_config);
	struct xt_config cfg;
	__u32 zero = 0;
	int err;

	if (bpf_map_lookup_elem(cfg_fd, &zero, &cfg))
		return -errno;
	/* widen first, enforce last: a reload never drops what both lists allow */
	if (!(o->n_allow || o->default_deny))
		cfg.flags &= ~XT_CFG_ALLOWLIST_ENFORCED;
	cfg.rate_limit_pps = o->rate_limit_pps;
	cfg.rate_burst = o->rate_burst;
	if (bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY))
		return -errno;
	err = sync_allow(l, o);
	if (err)
		return err;
	if (o->n_allow || o->default_deny) {
		cfg.flags |= XT_CFG_ALLOWLIST_ENFORCED;
		if (bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY))
			return -errno;
	}
	return 0;
}

static int pin_maps(struct xt_loader *l)
{
	struct bpf_map *map;
	char path[512];
	int err;

	bpf_object__for_each_map(map, l->skel->obj)
	{
		if (bpf_map__is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/%s", l->pin_path, bpf_map__name(map));
		if (bpf_map__is_pinned(map))
			continue;
		err = bpf_map__pin(map, path);
		if (err) {
			log_error("cannot pin map %s: %s", path, strerror(-err));
			return err;
		}
	}
	l->pinned = true;
	return 0;
}

int loader_open(struct xt_loader *l, const struct xtwampd_opts *o)
{
	int err, i;

	memset(l, 0, sizeof(*l));
	l->lock_fd = -1;
	for (i = 0; i < XT_MAX_IFACES; i++)
		l->ifaces[i].link_fd = -1;
	snprintf(l->pin_path, sizeof(l->pin_path), "%s", o->pin_path);

	err = prepare_pin_dir(l->pin_path);
	if (err)
		return err;
	err = lock_pin_dir(l);
	if (err)
		return err;

	l->skel = xtwamp__open();
	if (!l->skel)
		return explain_load_error(-errno);
	adopt_or_clean(l);
	err = xtwamp__load(l->skel);
	if (err)
		return explain_load_error(err);

	err = fill_maps(l, o);
	if (err) {
		log_error("cannot configure the reflector maps: %s", strerror(-err));
		return err;
	}
	err = loader_refresh_clock(l);
	if (err)
		return err;
	collect_orphans(l);
	return pin_maps(l);
}

int loader_refresh_clock(struct xt_loader *l)
{
	int fd = bpf_map__fd(l->skel->maps.xtwamp_config);
	struct xt_clock_state st;
	struct xt_config cfg;
	__u32 zero = 0;
	bool first;
	int err;

	err = xt_clock_read(&st);
	if (err) {
		log_error("cannot read the clock state (adjtimex): %s", strerror(-err));
		return err;
	}
	if (bpf_map_lookup_elem(fd, &zero, &cfg))
		return -errno;
	first = !(cfg.flags & XT_CFG_CLOCK_VALID);
	cfg.clock_offset_ns = st.realtime_minus_tai_ns;
	cfg.clock_updated_ns = xt_tai_ns();
	cfg.error_estimate = st.error_estimate;
	cfg.flags |= XT_CFG_CLOCK_VALID;
	if (bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY))
		return -errno;

	if (first || st.synchronised != l->last_synchronised) {
		if (st.synchronised)
			log_info(
				"clock synchronised, estimated error %.3f us (Error Estimate 0x%04x)",
				st.error_ns / 1e3, st.error_estimate);
		else
			log_warn(
				"clock not synchronised (no NTP/PTP discipline): replies carry S=0 and "
				"a %.1f s error bound (Error Estimate 0x%04x); one-way delays are "
				"meaningless until the clock is synchronised",
				st.error_ns / 1e9, st.error_estimate);
	}
	l->last_synchronised = st.synchronised;
	l->last_error_estimate = st.error_estimate;
	return 0;
}

/* The device-bound twin of the program, sharing every map with the main one. */
static struct xtwamp *load_hw_timestamp_program(struct xt_loader *l, int ifindex)
{
	struct xtwamp *hw = xtwamp__open();
	struct bpf_map *map;
	int err;

	if (!hw)
		return NULL;
	bpf_object__for_each_map(map, hw->obj)
	{
		struct bpf_map *orig =
			bpf_object__find_map_by_name(l->skel->obj, bpf_map__name(map));

		if (!orig || bpf_map__reuse_fd(map, bpf_map__fd(orig)))
			goto fail;
	}
	bpf_program__set_autoload(hw->progs.xtwamp_reflect, false);
	bpf_program__set_autoload(hw->progs.xtwamp_reflect_hwts, true);
	bpf_program__set_ifindex(hw->progs.xtwamp_reflect_hwts, ifindex);
	bpf_program__set_flags(hw->progs.xtwamp_reflect_hwts,
			       bpf_program__flags(hw->progs.xtwamp_reflect_hwts) |
				       BPF_F_XDP_DEV_BOUND_ONLY);
	err = xtwamp__load(hw);
	if (err) {
		errno = -err;
		goto fail;
	}
	return hw;
fail:
	err = errno;
	xtwamp__destroy(hw);
	errno = err;
	return NULL;
}

static int link_xdp(int prog_fd, int ifindex, __u32 mode_flag)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = mode_flag);
	int fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);

	return fd < 0 ? -errno : fd;
}

static void explain_attach_error(const char *ifname, int ifindex, bool native, int err)
{
	__u32 prog_id = 0;

	if (err == -EBUSY || err == -EEXIST) {
		bpf_xdp_query_id(ifindex, 0, &prog_id);
		log_error("%s already has an XDP program (id %u): detach it with "
			  "`ip link set dev %s xdp off`, or stop the xtwampd that owns it",
			  ifname, prog_id, ifname);
	} else if (native && (err == -EOPNOTSUPP || err == -EINVAL)) {
		log_error(
			"%s: the driver does not support native XDP: retry with --xdp-mode generic "
			"(or auto)",
			ifname);
	} else if (err == -EPERM) {
		log_error("%s: permission denied attaching XDP: run as root (CAP_NET_ADMIN)",
			  ifname);
	} else {
		log_error("%s: cannot attach XDP in %s mode: %s", ifname,
			  native ? "native" : "generic", strerror(-err));
	}
}

static int register_iface(struct xt_loader *l, struct xt_attached_iface *ifc)
{
	/* The AF_XDP path finds this interface's sockets through its slot. */
	__u32 key = (__u32)ifc->ifindex, slot = (__u32)l->n_ifaces;

	if (bpf_map_update_elem(bpf_map__fd(l->skel->maps.xtwamp_ifslots), &key, &slot, BPF_ANY))
		log_warn("%s: cannot register the interface for AF_XDP: %s", ifc->name,
			 strerror(errno));
	l->n_ifaces++;
	return 0;
}

/* Take the adopted link pin of ifc's name out of the list; true if it was there. */
static bool take_adopt_link(struct xt_loader *l, const char *name)
{
	for (int i = 0; i < l->n_adopt_links; i++) {
		if (strcmp(l->adopt_links[i], name))
			continue;
		memcpy(l->adopt_links[i], l->adopt_links[--l->n_adopt_links], IF_NAMESIZE);
		return true;
	}
	return false;
}

/*
 * The pinned link of a dead xtwampd on this interface: swap in our program
 * with bpf_link_update (atomic, no packet sees no program).  False when
 * there is none, or it cannot be reused (mode changed, interface gone): the
 * pin is then removed (detaching the old program) and the caller attaches
 * afresh.
 */
static bool adopt_link(struct xt_loader *l, struct xt_attached_iface *ifc,
		       const struct xtwampd_opts *o)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	const char *why = "cannot open the pin";
	char path[512];
	int fd, prog_fd;
	bool native;

	if (!take_adopt_link(l, ifc->name))
		return false;
	snprintf(path, sizeof(path), "%s/" XT_PIN_LINK_PREFIX "%s", l->pin_path, ifc->name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		goto fresh;
	why = "the interface has no program in driver or generic mode";
	if (bpf_xdp_query(ifc->ifindex, 0, &q) ||
	    (q.attach_mode != XDP_ATTACHED_DRV && q.attach_mode != XDP_ATTACHED_SKB))
		goto fresh;
	native = q.attach_mode == XDP_ATTACHED_DRV;
	why = "it is attached in the other --xdp-mode";
	if ((o->xdp_mode == XT_XDP_NATIVE && !native) || (o->xdp_mode == XT_XDP_GENERIC && native))
		goto fresh;
	why = "bpf_link_update refused the new program";
	prog_fd = bpf_program__fd(l->skel->progs.xtwamp_reflect);
	if (native && o->rx_ts != XT_RXTS_SW) {
		ifc->hw_skel = load_hw_timestamp_program(l, ifc->ifindex);
		if (ifc->hw_skel &&
		    !bpf_link_update(fd, bpf_program__fd(ifc->hw_skel->progs.xtwamp_reflect_hwts),
				     NULL)) {
			ifc->hw_timestamps = true;
			goto adopted;
		}
		xtwamp__destroy(ifc->hw_skel);
		ifc->hw_skel = NULL;
		if (o->rx_ts == XT_RXTS_HW)
			goto fresh;
	}
	if (bpf_link_update(fd, prog_fd, NULL))
		goto fresh;
adopted:
	ifc->native = native;
	ifc->link_fd = fd;
	log_info("%s: adopted the pinned XDP link (%s mode), program replaced in place; T2 "
		 "from %s",
		 ifc->name, native ? "native" : "generic",
		 ifc->hw_timestamps ? "NIC RX timestamps" : "the kernel clock (CLOCK_TAI)");
	return true;
fresh:
	log_warn("%s: cannot take over the pinned XDP link (%s); attaching afresh: packets "
		 "arriving in between are not reflected",
		 ifc->name, why);
	unlink(path);
	if (fd >= 0)
		close(fd);
	return false;
}

void loader_finish_adoption(struct xt_loader *l)
{
	char path[512];

	for (int i = 0; i < l->n_adopt_links; i++) {
		snprintf(path, sizeof(path), "%s/" XT_PIN_LINK_PREFIX "%s", l->pin_path,
			 l->adopt_links[i]);
		unlink(path);
		log_info("%s: detached the previous xtwampd's program (interface no longer "
			 "configured)",
			 l->adopt_links[i]);
	}
	l->n_adopt_links = 0;
}

int loader_attach(struct xt_loader *l, const char *ifname, const struct xtwampd_opts *o)
{
	struct xt_attached_iface *ifc = &l->ifaces[l->n_ifaces];
	bool try_native = o->xdp_mode != XT_XDP_GENERIC;
	bool try_generic = o->xdp_mode != XT_XDP_NATIVE;
	int ifindex = if_nametoindex(ifname);
	int fd = -EOPNOTSUPP, err;
	char path[512];

	if (!ifindex) {
		log_error("no interface '%s' here (see `ip link`; in a network namespace, run "
			  "xtwampd inside it)",
			  ifname);
		return -ENODEV;
	}
	memset(ifc, 0, sizeof(*ifc));
	snprintf(ifc->name, sizeof(ifc->name), "%s", ifname);
	ifc->ifindex = ifindex;
	ifc->link_fd = -1;
	if (adopt_link(l, ifc, o))
		return register_iface(l, ifc);

	if (try_native && o->rx_ts != XT_RXTS_SW) {
		ifc->hw_skel = load_hw_timestamp_program(l, ifindex);
		if (ifc->hw_skel) {
			fd = link_xdp(bpf_program__fd(ifc->hw_skel->progs.xtwamp_reflect_hwts),
				      ifindex, XDP_FLAGS_DRV_MODE);
			if (fd >= 0) {
				ifc->hw_timestamps = true;
				ifc->native = true;
			} else {
				xtwamp__destroy(ifc->hw_skel);
				ifc->hw_skel = NULL;
			}
		}
		if (fd < 0) {
			if (o->rx_ts == XT_RXTS_HW) {
				log_error(
					"%s: cannot use NIC receive timestamps (device-bound XDP program "
					"failed: %s); use --rx-timestamp sw or auto",
					ifname, strerror(errno ? errno : EOPNOTSUPP));
				return -EOPNOTSUPP;
			}
			log_debug(
				"%s: no device-bound program for NIC timestamps; T2 from the kernel clock",
				ifname);
		}
	}
	if (fd < 0 && try_native) {
		fd = link_xdp(bpf_program__fd(l->skel->progs.xtwamp_reflect), ifindex,
			      XDP_FLAGS_DRV_MODE);
		if (fd >= 0) {
			ifc->native = true;
		} else if (!try_generic || fd == -EBUSY || fd == -EEXIST || fd == -EPERM) {
			explain_attach_error(ifname, ifindex, true, fd);
			return fd;
		} else {
			log_warn(
				"%s: native XDP not available (%s); falling back to generic mode, "
				"which runs after the kernel built an skb: slower, and T2 is taken later",
				ifname, strerror(-fd));
		}
	}
	if (fd < 0 && try_generic) {
		fd = link_xdp(bpf_program__fd(l->skel->progs.xtwamp_reflect), ifindex,
			      XDP_FLAGS_SKB_MODE);
		if (fd < 0) {
			explain_attach_error(ifname, ifindex, false, fd);
			return fd;
		}
	}
	ifc->link_fd = fd;
	register_iface(l, ifc);

	snprintf(path, sizeof(path), "%s/" XT_PIN_LINK_PREFIX "%s", l->pin_path, ifname);
	if (bpf_obj_pin(fd, path)) {
		err = -errno;
		log_error("cannot pin the XDP link of %s at %s: %s", ifname, path, strerror(-err));
		return err;
	}
	log_info("%s: attached in %s mode; T2 from %s", ifname, ifc->native ? "native" : "generic",
		 ifc->hw_timestamps ?
			 "NIC RX timestamps where the driver provides them, else the kernel clock" :
			 "the kernel clock (CLOCK_TAI)");
	return 0;
}

int loader_reserve_ports(struct xt_loader *l, const struct xtwampd_opts *o)
{
	int i;

	for (i = 0; i < o->n_ports; i++) {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
					     .sin6_addr = IN6ADDR_ANY_INIT,
					     .sin6_port = htons(o->ports[i].port) };
		struct sockaddr_in sin = { .sin_family = AF_INET,
					   .sin_port = htons(o->ports[i].port) };
		int off = 0, fd, rc;

		/* One dual-stack socket; IPv4 only on hosts with IPv6 disabled. */
		fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd >= 0) {
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
			rc = bind(fd, (struct sockaddr *)&sin6, sizeof(sin6));
		} else {
			fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			if (fd < 0)
				return -errno;
			rc = bind(fd, (struct sockaddr *)&sin, sizeof(sin));
		}
		if (rc) {
			int err = -errno;

			close(fd);
			if (err == -EADDRINUSE)
				log_error(
					"UDP port %u is already in use by another program (see `ss -ulpn "
					"'sport = :%u'`): stop it, pick another --light-port/--stamp-port, "
					"or run with --no-reserve-ports",
					o->ports[i].port, o->ports[i].port);
			else
				log_error("cannot bind UDP port %u: %s", o->ports[i].port,
					  strerror(-err));
			return err;
		}
		l->port_fds[l->n_port_fds++] = fd;
	}
	return 0;
}

void loader_check_pins(struct xt_loader *l)
{
	if (!l->pinned || l->pins_lost || is_bpffs(l->pin_path))
		return;
	l->pins_lost = true;
	log_error("pin directory %s is no longer on a bpf file system (bpffs unmounted?): "
		  "reflection goes on, but `xtwamp stats` and a restarted xtwampd cannot find "
		  "this one's maps and links; restart xtwampd once bpffs is back",
		  l->pin_path);
}

int loader_check_ifaces(struct xt_loader *l, void (*on_gone)(void *ctx, int ifindex), void *ctx)
{
	char name[IF_NAMESIZE];
	int i, left = 0;

	for (i = 0; i < l->n_ifaces; i++) {
		struct xt_attached_iface *ifc = &l->ifaces[i];

		/*
		 * Only ENXIO means deleted; a renamed interface keeps its index
		 * (and its program).  Indexes are allocated cyclically, so a new
		 * device does not take over a deleted one's at once.
		 */
		if (!ifc->gone && !if_indextoname((unsigned int)ifc->ifindex, name) &&
		    errno == ENXIO) {
			ifc->gone = true;
			log_error("%s: interface deleted while attached (ifindex %d); its XDP "
				  "program went with it, nothing is reflected there any more",
				  ifc->name, ifc->ifindex);
			if (on_gone)
				on_gone(ctx, ifc->ifindex);
		}
		left += !ifc->gone;
	}
	return left;
}

void loader_close(struct xt_loader *l)
{
	struct bpf_map *map;
	char path[512];
	int i;

	for (i = 0; i < l->n_ifaces; i++) {
		struct xt_attached_iface *ifc = &l->ifaces[i];

		/* The link goes (and the program detaches) once pin and fd are gone. */
		snprintf(path, sizeof(path), "%s/" XT_PIN_LINK_PREFIX "%s", l->pin_path, ifc->name);
		unlink(path);
		if (ifc->link_fd >= 0)
			close(ifc->link_fd);
		xtwamp__destroy(ifc->hw_skel);
		if (ifc->gone)
			log_info("%s: was deleted while attached: nothing to detach", ifc->name);
		else
			log_info("%s: detached", ifc->name);
	}
	l->n_ifaces = 0;
	for (i = 0; i < l->n_port_fds; i++)
		close(l->port_fds[i]);
	l->n_port_fds = 0;
	/* Gone with an unmounted bpffs: nothing to unpin (or a stranger's files). */
	if (l->skel && l->pinned && !l->pins_lost) {
		bpf_object__for_each_map(map, l->skel->obj)
		{
			if (bpf_map__is_internal(map))
				continue;
			snprintf(path, sizeof(path), "%s/%s", l->pin_path, bpf_map__name(map));
			bpf_map__unpin(map, path);
		}
		l->pinned = false;
	}
	xtwamp__destroy(l->skel);
	l->skel = NULL;
	for (i = 0; i < l->n_orphans; i++)
		if (l->orphans[i].fd >= 0)
			close(l->orphans[i].fd);
	free(l->orphans);
	l->orphans = NULL;
	l->n_orphans = 0;
	if (l->lock_fd >= 0) {
		rmdir(l->pin_path); /* only succeeds when empty: never removes what is not ours */
		close(l->lock_fd);
		l->lock_fd = -1;
	}
}
