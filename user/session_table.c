// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* session_table.c - see session_table.h */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "addr.h"
#include "clock.h"
#include "log.h"
#include "session_table.h"
#include "twamp_crypto.h"

/* Alternative ports tried before giving up (each try is one bind()). */
#define ST_PORT_TRIES 4096
/* Random octets drawn at once: RAND_bytes() costs a getpid() per call. */
#define ST_RANDOM_POOL 256
#define ST_HASH_MIN_BUCKETS 64

#define st_entry(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/*
 * A chained hash of nodes embedded in the records (SIDs, port
 * reservations): with 10,000 sessions, a walk over every record for each
 * new one made set-up quadratic.  The buckets double once there are more
 * nodes than buckets; when that allocation fails the chains just grow.
 */
struct st_hnode {
	struct st_hnode *hnext;
	__u32 hash;
};

struct st_hash {
	struct st_hnode **b; /* ST_HASH_MIN_BUCKETS or more, from session_table_new() */
	__u32 mask;	     /* buckets - 1 */
	__u32 n;
};

enum st_state {
	ST_ACCEPTED, /* Accept-Session sent, not started */
	ST_STARTED,  /* reflecting */
	ST_STOPPING, /* Stop-Sessions received; reflecting until deadline_ns */
	ST_EXPIRED,  /* REFWAIT: nothing left in the kernel, kept for Stop-Sessions' N */
};

/* A UDP socket bound to (address, port) so that no other program takes it. */
struct st_reserve {
	struct st_hnode node; /* in reserves, by (addr, port) */
	union xt_addr addr;
	__u16 port;
	int fd;
	__u32 refs; /* sessions on the pair */
};

/* Sessions in the kernel per receiver port. */
struct st_port_use {
	__u32 sessions; /* all of them: XT_PORT_SESSIONS while non-zero */
	__u32 auth;	/* ... served by the auth path, which holds its own socket */
	__u32 reserves; /* our reservations of the port, one per address */
};

/* A local address with reservations: no need to probe it again. */
struct st_addr_use {
	struct st_addr_use *next;
	union xt_addr addr;
	__u32 reserves;
};

struct st_session {
	struct st_session *prev, *next;		    /* every record */
	struct st_session *owner_prev, *owner_next; /* the owner's records */
	struct st_hnode sid_node;		    /* in sids, by SID */
	struct st_owner *owner;
	struct xt_session_key key;
	__u8 sid[XT_SID_LEN];
	__u32 mode; /* the connection's Mode, all bits */
	enum st_state state;
	enum xt_session_path path;
	bool in_kernel;		    /* map entry, port flag and reservation held */
	struct st_reserve *reserve; /* NULL when auth_path's socket holds the port */
	__u64 timeout_ns;
	__u64 started_ns;
	__u64 deadline_ns;
	__u64 last_rx_ns; /* the data path's last_rx_ns when the sweep last read it */
};

struct session_table {
	struct session_table_config cfg;
	struct st_session *all;
	struct st_hash sids;	      /* every record, by SID */
	struct st_hash reserves;      /* struct st_reserve, by (addr, port) */
	struct st_addr_use *addr_use; /* addresses with reservations (a few) */
	struct st_port_use *port_use; /* XT_NUM_PORTS */
	__u8 rnd[ST_RANDOM_POOL];
	__u32 rnd_left; /* unused octets at the end of rnd */
	struct session_table_stats stats;
	struct st_log_limit refusal_log[ST_REFUSE__COUNT];
};

static const char *const refusal_names[] = {
#define ST_NAME(id, name, help) name,
	ST_REFUSALS(ST_NAME)
#undef ST_NAME
};
static const char *const refusal_help[] = {
#define ST_HELP(id, name, help) help,
	ST_REFUSALS(ST_HELP)
#undef ST_HELP
};
/* RFC 4656 §3.3 Accept value of each refusal (see the header for why). */
static const __u8 refusal_accept[ST_REFUSE__COUNT] = {
	[ST_REFUSE_LIMIT_TOTAL] = XT_ACCEPT_TEMPORARY_LIMIT,
	[ST_REFUSE_LIMIT_CONNECTION] = XT_ACCEPT_PERMANENT_LIMIT,
	[ST_REFUSE_THIRD_PARTY] = XT_ACCEPT_FAILURE,
	[ST_REFUSE_NOT_LOCAL] = XT_ACCEPT_FAILURE,
	[ST_REFUSE_UNSUPPORTED] = XT_ACCEPT_NOT_SUPPORTED,
	[ST_REFUSE_NO_PORT] = XT_ACCEPT_TEMPORARY_LIMIT,
	[ST_REFUSE_INTERNAL] = XT_ACCEPT_INTERNAL_ERROR,
};
static const char *const removal_names[] = {
#define ST_NAME(id, name, help) name,
	ST_REMOVALS(ST_NAME)
#undef ST_NAME
};
static const char *const mode_class_names[ST_MODE__COUNT] = { "unauthenticated", "authenticated",
							      "encrypted", "mixed" };
static const char *const path_names[3] = { "xdp", "af_xdp", "socket" };

bool st_log_limit_ok(struct st_log_limit *l, __u64 now_ns, __u64 *suppressed)
{
	if (l->next_ns && now_ns < l->next_ns) {
		l->suppressed++;
		return false;
	}
	*suppressed = l->suppressed;
	l->suppressed = 0;
	l->next_ns = now_ns + ST_LOG_INTERVAL_NS;
	return true;
}

static __u64 now_tai(const struct session_table *t)
{
	return t->cfg.now_tai_ns ? t->cfg.now_tai_ns() : xt_tai_ns();
}

/* FNV-1a: keys are ours or bounded (SIDs, an address and a port). */
static __u32 st_hash_bytes(const void *p, size_t len, __u32 h)
{
	const __u8 *b = p;

	while (len--)
		h = (h ^ *b++) * 16777619u;
	return h;
}

static struct st_hnode *st_hash_first(const struct st_hash *h, __u32 hash)
{
	return h->b[hash & h->mask];
}

static int st_hash_init(struct st_hash *h)
{
	h->b = calloc(ST_HASH_MIN_BUCKETS, sizeof(*h->b));
	h->mask = ST_HASH_MIN_BUCKETS - 1;
	h->n = 0;
	return h->b ? 0 : -ENOMEM;
}

static void st_hash_grow(struct st_hash *h)
{
	__u32 size = (h->mask + 1) * 2, i;
	struct st_hnode **b, *n, *next;

	if (size < ST_HASH_MIN_BUCKETS)
		return; /* would overflow */
	b = calloc(size, sizeof(*b));
	if (!b)
		return;
	for (i = 0; i <= h->mask; i++) {
		for (n = h->b[i]; n; n = next) {
			next = n->hnext;
			n->hnext = b[n->hash & (size - 1)];
			b[n->hash & (size - 1)] = n;
		}
	}
	free(h->b);
	h->b = b;
	h->mask = size - 1;
}

/* Never fails: without memory to grow into, the chains get longer. */
static void st_hash_insert(struct st_hash *h, struct st_hnode *n, __u32 hash)
{
	if (h->n > h->mask)
		st_hash_grow(h);
	n->hash = hash;
	n->hnext = h->b[hash & h->mask];
	h->b[hash & h->mask] = n;
	h->n++;
}

static void st_hash_remove(struct st_hash *h, struct st_hnode *n)
{
	struct st_hnode **pp;

	for (pp = &h->b[n->hash & h->mask]; *pp; pp = &(*pp)->hnext) {
		if (*pp == n) {
			*pp = n->hnext;
			h->n--;
			return;
		}
	}
}

static __u32 sid_hash(const __u8 sid[XT_SID_LEN])
{
	return st_hash_bytes(sid, XT_SID_LEN, 2166136261u);
}

static __u32 reserve_hash(const union xt_addr *addr, __u16 port)
{
	return st_hash_bytes(&port, sizeof(port), st_hash_bytes(addr, sizeof(*addr), 2166136261u));
}

static struct st_session *sid_find(const struct session_table *t, const __u8 sid[XT_SID_LEN])
{
	__u32 h = sid_hash(sid);
	struct st_hnode *n;

	for (n = st_hash_first(&t->sids, h); n; n = n->hnext) {
		struct st_session *s = st_entry(n, struct st_session, sid_node);

		if (n->hash == h && !memcmp(s->sid, sid, XT_SID_LEN))
			return s;
	}
	return NULL;
}

/* Random octets from a pool refilled by tw_random() (never handed out twice). */
static int st_random(struct session_table *t, void *buf, size_t len)
{
	__u8 *p;

	if (len > sizeof(t->rnd))
		return tw_random(buf, len);
	if (t->rnd_left < len) {
		if (tw_random(t->rnd, sizeof(t->rnd)))
			return -EIO;
		t->rnd_left = sizeof(t->rnd);
	}
	p = t->rnd + sizeof(t->rnd) - t->rnd_left;
	memcpy(buf, p, len);
	explicit_bzero(p, len);
	t->rnd_left -= (__u32)len;
	return 0;
}

static bool auth_mode(__u32 mode)
{
	return mode & XT_MODE_TEST_CIPHER;
}

static enum st_mode_class mode_class(__u32 mode)
{
	if (mode & XT_MODE_ENCRYPTED)
		return ST_MODE_ENCRYPTED;
	if (mode & XT_MODE_AUTHENTICATED)
		return ST_MODE_AUTHENTICATED;
	if (mode & XT_MODE_MIXED)
		return ST_MODE_MIXED;
	return ST_MODE_UNAUTHENTICATED;
}

static void fmt_endpoint(const union xt_addr *a, __be16 port, char *buf, size_t len)
{
	char addr[XT_ADDR_STRLEN];

	xt_addr_format(a, addr, sizeof(addr));
	snprintf(buf, len, xt_addr_is_v4(a) ? "%s:%u" : "[%s]:%u", addr, ntohs(port));
}

/* ---- port reservations -------------------------------------------------- */

/*
 * A UDP socket on (addr, port): IPv4 for a mapped address, IPv6-only
 * otherwise, so each family reserves only itself.  It is never read: the
 * data path takes the session's packets first, and whatever it passes (a
 * sender that is not a session's) may queue in the smallest buffer there is.
 */
int session_table_bind_port(const union xt_addr *addr, __u16 port, int *fd_out)
{
	struct sockaddr_storage ss;
	socklen_t len = xt_addr_to_sockaddr(addr, port, &ss);
	int one = 1, tiny = 1, fd, err;

	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &tiny, sizeof(tiny));
	if (bind(fd, (struct sockaddr *)&ss, len)) {
		err = -errno;
		close(fd);
		return err;
	}
	*fd_out = fd;
	return 0;
}

static struct st_reserve *reserve_find(struct session_table *t, const union xt_addr *addr,
				       __u16 port)
{
	__u32 h = reserve_hash(addr, port);
	struct st_hnode *n;

	for (n = st_hash_first(&t->reserves, h); n; n = n->hnext) {
		struct st_reserve *r = st_entry(n, struct st_reserve, node);

		if (n->hash == h && r->port == port && !memcmp(&r->addr, addr, sizeof(*addr)))
			return r;
	}
	return NULL;
}

static struct st_addr_use *addr_use_find(struct session_table *t, const union xt_addr *addr)
{
	struct st_addr_use *a;

	for (a = t->addr_use; a; a = a->next)
		if (!memcmp(&a->addr, addr, sizeof(*addr)))
			return a;
	return NULL;
}

static bool reserve_has_addr(struct session_table *t, const union xt_addr *addr)
{
	return addr_use_find(t, addr) != NULL;
}

/* Put a new reservation on record; -ENOMEM leaves nothing behind. */
static int reserve_add(struct session_table *t, struct st_reserve *r)
{
	struct st_addr_use *a = addr_use_find(t, &r->addr);

	if (!a) {
		a = calloc(1, sizeof(*a));
		if (!a)
			return -ENOMEM;
		a->addr = r->addr;
		a->next = t->addr_use;
		t->addr_use = a;
	}
	a->reserves++;
	t->port_use[r->port].reserves++;
	st_hash_insert(&t->reserves, &r->node, reserve_hash(&r->addr, r->port));
	return 0;
}

/* Drop a reservation no session uses any more. */
static void reserve_put_unused(struct session_table *t, struct st_reserve *r)
{
	struct st_addr_use **pp, *a;

	if (!r || r->refs)
		return;
	st_hash_remove(&t->reserves, &r->node);
	t->port_use[r->port].reserves--;
	for (pp = &t->addr_use; (a = *pp); pp = &a->next) {
		if (!memcmp(&a->addr, &r->addr, sizeof(r->addr))) {
			if (!--a->reserves) {
				*pp = a->next;
				free(a);
			}
			break;
		}
	}
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}

/*
 * Would a wildcard UDP bind of the port succeed, the one the auth path makes
 * for its socket fallback?  Probed and released at once: the auth path binds
 * it a moment later.
 */
static int probe_wildcard(__u16 port)
{
	union xt_addr any6 = {}, any4 = { .b = { [10] = 0xff, [11] = 0xff } };
	int fd, err;

	/* session_table_bind_port() makes IPv6 sockets IPv6-only: probe each family. */
	err = session_table_bind_port(&any6, port, &fd);
	if (!err)
		close(fd);
	else if (err != -EAFNOSUPPORT)
		return err;
	err = session_table_bind_port(&any4, port, &fd);
	if (err)
		return err;
	close(fd);
	return 0;
}

/*
 * Can a session with this key (its reflector port included) use the port?
 * 0 with *res the reservation to take (NULL: someone else of ours holds the
 * port: the loader on a TWAMP Light port, the auth path on its ports);
 * -EADDRINUSE: taken, try another port; other -errno: give up
 * (-EADDRNOTAVAIL: the address is not ours).
 *
 * Ports of the auth path and ports with our own reservations are kept
 * apart: the auth path binds the port on every address, which our
 * per-address sockets would prevent, and it must be the socket that gets
 * what the data path passes up.
 */
static int port_claim(struct session_table *t, const struct xt_session_key *key, bool auth,
		      struct st_reserve **res)
{
	__u32 port = ntohs(key->reflector_port);
	struct xt_port pe = {};
	struct xt_session other;
	struct st_reserve *r;
	int fd, err;

	*res = NULL;
	if (port == 0)
		return -EADDRINUSE;
	if (bpf_map_lookup_elem(t->cfg.ports_fd, &port, &pe))
		memset(&pe, 0, sizeof(pe));
	/*
	 * Never on a TWAMP Light / STAMP port: once the session ended, the light
	 * reflector would answer its late packets, which RFC 5357 §3.8 forbids
	 * (and on a STAMP port the SSID would be read from TWAMP padding).  The
	 * client gets an alternative port instead (RFC 5357 §3.5, RFC 8545 §5.1).
	 */
	if (pe.flags & XT_PORT_LIGHT)
		return -EADDRINUSE;
	/*
	 * A session flag this table did not set is an adopted session's, left
	 * by an xtwampd that died (loader.h): sharing the port would clear the
	 * flag under it when our session ends.
	 */
	if ((pe.flags & XT_PORT_SESSIONS) && !t->port_use[port].sessions)
		return -EADDRINUSE;
	/*
	 * The data path tells sessions apart by the whole key: it must be new.
	 * Every entry's receiver port has XT_PORT_SESSIONS (ours: port_ref(),
	 * adopted ones: the loader keeps theirs), so on a port without it there
	 * is none to look up: one syscall less for most alternative ports.
	 */
	if ((pe.flags & XT_PORT_SESSIONS) && !bpf_map_lookup_elem(t->cfg.sessions_fd, key, &other))
		return -EADDRINUSE;
	if (auth) {
		if (t->port_use[port].auth)
			return 0;
		if (t->port_use[port].reserves)
			return -EADDRINUSE;
		return probe_wildcard((__u16)port);
	}
	if (t->port_use[port].auth)
		return -EADDRINUSE;
	r = reserve_find(t, &key->reflector_addr, (__u16)port);
	if (r) {
		*res = r;
		return 0;
	}
	err = session_table_bind_port(&key->reflector_addr, (__u16)port, &fd);
	if (err)
		return err;
	r = calloc(1, sizeof(*r));
	if (!r) {
		close(fd);
		return -ENOMEM;
	}
	r->addr = key->reflector_addr;
	r->port = (__u16)port;
	r->fd = fd;
	err = reserve_add(t, r);
	if (err) {
		close(fd);
		free(r);
		return err;
	}
	*res = r;
	return 0;
}

/* An alternative receiver port from the configured (dynamic) range. */
static int port_pick(struct session_table *t, struct xt_session_key *key, bool auth, __u16 not_this,
		     struct st_reserve **res)
{
	__u32 span = (__u32)t->cfg.port_max - t->cfg.port_min + 1, start, i;
	int err;

	if (st_random(t, &start, sizeof(start)))
		start = (__u32)now_tai(t);
	for (i = 0; i < span && i < ST_PORT_TRIES; i++) {
		__u16 port = (__u16)(t->cfg.port_min + (start + i) % span);

		if (port == not_this)
			continue;
		key->reflector_port = htons(port);
		err = port_claim(t, key, auth, res);
		if (err != -EADDRINUSE)
			return err;
	}
	return -EADDRINUSE;
}

/* ---- the kernel side of a session -------------------------------------- */

static int port_flag_set(struct session_table *t, __u16 port, bool on)
{
	__u32 key = port;
	struct xt_port pe = {};

	if (bpf_map_lookup_elem(t->cfg.ports_fd, &key, &pe))
		memset(&pe, 0, sizeof(pe));
	if (on) {
		if (!pe.flags)
			pe.format = XT_FMT_TWAMP;
		pe.flags |= XT_PORT_SESSIONS;
	} else {
		pe.flags &= ~XT_PORT_SESSIONS;
		if (!pe.flags)
			pe.format = 0; /* back to "not ours" exactly */
	}
	return bpf_map_update_elem(t->cfg.ports_fd, &key, &pe, BPF_ANY) ? -errno : 0;
}

static int port_ref(struct session_table *t, __u16 port)
{
	int err;

	if (t->port_use[port].sessions == 0) {
		err = port_flag_set(t, port, true);
		if (err)
			return err;
		t->stats.ports++;
	}
	t->port_use[port].sessions++;
	return 0;
}

static void port_unref(struct session_table *t, __u16 port)
{
	int err;

	if (!t->port_use[port].sessions || --t->port_use[port].sessions)
		return;
	t->stats.ports--;
	err = port_flag_set(t, port, false);
	if (err)
		log_warn("cannot clear the session flag of UDP port %u in xtwamp_ports: %s", port,
			 strerror(-err));
}

/* Read-modify-write of the session's map value (see the header on races). */
static int map_set_state(struct session_table *t, struct st_session *s, __u8 state,
			 __u64 deadline_ns)
{
	struct xt_session v;

	if (bpf_map_lookup_elem(t->cfg.sessions_fd, &s->key, &v))
		return -errno;
	v.state = state;
	v.stop_deadline_ns = deadline_ns;
	return bpf_map_update_elem(t->cfg.sessions_fd, &s->key, &v, BPF_EXIST) ? -errno : 0;
}

/* Give back everything the session holds in the kernel. */
static void session_release(struct session_table *t, struct st_session *s)
{
	struct st_reserve *r = s->reserve;

	if (!s->in_kernel)
		return;
	if (bpf_map_delete_elem(t->cfg.sessions_fd, &s->key) && errno != ENOENT)
		log_warn("cannot delete a session from xtwamp_sessions: %s", strerror(errno));
	if (s->path != XT_PATH_XDP) {
		auth_path_remove(t->cfg.auth, s->sid);
		t->port_use[ntohs(s->key.reflector_port)].auth--;
	}
	port_unref(t, ntohs(s->key.reflector_port));
	if (r) {
		r->refs--;
		reserve_put_unused(t, r);
		s->reserve = NULL;
	}
	s->in_kernel = false;
	t->stats.live--;
}

static void state_leave(struct st_session *s)
{
	struct st_owner *o = s->owner;

	if (!o)
		return; /* orphaned while stopping: counts for no connection */
	if (s->state == ST_STARTED) {
		o->n_active--;
		o->n_running--;
	} else if (s->state == ST_EXPIRED) {
		o->n_running--;
	}
}

static void state_enter(struct st_session *s, enum st_state state)
{
	struct st_owner *o = s->owner;

	state_leave(s);
	s->state = state;
	if (state == ST_STARTED) {
		o->n_active++;
		o->n_running++;
	} else if (state == ST_EXPIRED) {
		o->n_running++;
	}
}

/* Take s off its connection's list (the session itself lives on). */
static void owner_unlink(struct st_session *s)
{
	struct st_owner *o = s->owner;

	if (s->owner_prev)
		s->owner_prev->owner_next = s->owner_next;
	else
		o->sessions = s->owner_next;
	if (s->owner_next)
		s->owner_next->owner_prev = s->owner_prev;
	o->n_sessions--;
	s->owner = NULL;
	s->owner_prev = s->owner_next = NULL;
}

static void session_unlink_free(struct session_table *t, struct st_session *s)
{
	struct st_owner *o = s->owner;

	state_leave(s);
	st_hash_remove(&t->sids, &s->sid_node);
	if (s->prev)
		s->prev->next = s->next;
	else
		t->all = s->next;
	if (s->next)
		s->next->prev = s->prev;
	if (o)
		owner_unlink(s);
	t->stats.records--;
	explicit_bzero(s, sizeof(*s));
	free(s);
}

static void session_remove(struct session_table *t, struct st_session *s, enum st_removal why)
{
	char snd[XT_ADDR_STRLEN + 8], rcv[XT_ADDR_STRLEN + 8];

	if (s->in_kernel) {
		t->stats.removed[why]++;
		fmt_endpoint(&s->key.sender_addr, s->key.sender_port, snd, sizeof(snd));
		fmt_endpoint(&s->key.reflector_addr, s->key.reflector_port, rcv, sizeof(rcv));
		log_debug("session %s -> %s removed: %s", snd, rcv, removal_names[why]);
	}
	session_release(t, s);
	session_unlink_free(t, s);
}

/* ---- requests ----------------------------------------------------------- */

/* Count a refusal, log it (rate-limited) and fill the reply. */
static void refuse(struct session_table *t, const struct ctl_session_request *req,
		   enum st_refusal why, struct ctl_session_reply *rep)
{
	char snd[XT_ADDR_STRLEN + 8];
	__u64 suppressed;

	t->stats.refused[why]++;
	memset(rep, 0, sizeof(*rep));
	rep->accept = refusal_accept[why]; /* Port stays 0: RFC 5357 §3.5, erratum 1587 */
	if (!st_log_limit_ok(&t->refusal_log[why], now_tai(t), &suppressed))
		return;
	fmt_endpoint(&req->sender_addr, htons(req->sender_port), snd, sizeof(snd));
	if (suppressed)
		log_info("session from %s refused: %s; %llu more refused for this reason in the "
			 "last %llu s",
			 snd, refusal_help[why], (unsigned long long)suppressed,
			 ST_LOG_INTERVAL_NS / 1000000000ULL);
	else
		log_info("session from %s refused: %s", snd, refusal_help[why]);
}

/* RFC 4656 §3.5: our IPv4 address (or an IPv6 one's last 4 octets) | NTP now | random. */
static int sid_generate(struct session_table *t, const union xt_addr *receiver, __u8 sid[16])
{
	__u64 ntp = xt_unix_ns_to_ntp64(xt_realtime_ns());
	__be32 sec = htonl((__u32)(ntp >> 32)), frac = htonl((__u32)ntp);
	int tries, err;

	memcpy(sid, &receiver->b[12], 4); /* IPv4-mapped: the IPv4 address itself */
	memcpy(sid + 4, &sec, 4);
	memcpy(sid + 8, &frac, 4);
	for (tries = 0; tries < 8; tries++) {
		err = st_random(t, sid + 12, 4);
		if (err)
			return err;
		if (!sid_find(t, sid))
			return 0;
	}
	return -EEXIST;
}

static int auth_add(struct session_table *t, struct st_session *s,
		    const struct ctl_session_request *req, enum xt_session_path *path)
{
	struct auth_session as;
	int err;

	memset(&as, 0, sizeof(as));
	as.key = s->key;
	memcpy(as.sid, s->sid, XT_SID_LEN);
	as.mode = req->mode & XT_MODE_TEST_CIPHER;
	as.dscp = req->dscp;
	if (!req->aes_session_key || !req->hmac_session_key)
		return -EINVAL;
	err = tw_test_keys_derive(s->sid, req->aes_session_key, req->hmac_session_key, &as.keys);
	if (!err)
		err = auth_path_add(t->cfg.auth, &as, path);
	explicit_bzero(&as, sizeof(as));
	return err;
}

/* Accept the request into rep, or say why not (ST_REFUSE__COUNT: accepted). */
static enum st_refusal try_accept(struct session_table *t, struct st_owner *o,
				  const struct ctl_session_request *req,
				  struct ctl_session_reply *rep)
{
	bool auth = auth_mode(req->mode), v4 = xt_addr_is_v4(&req->receiver_addr);
	struct xt_session v = {
		.format = XT_FMT_TWAMP,
		.flags = XT_SESS_SET_DSCP | (auth ? XT_SESS_USERSPACE : 0),
		.dscp = req->dscp,
		.state = XT_SESS_ACCEPTED,
	};
	char snd[XT_ADDR_STRLEN + 8], rcv[XT_ADDR_STRLEN + 8];
	enum xt_session_path path = XT_PATH_XDP;
	struct st_reserve *res = NULL;
	struct st_session *s;
	int err, probe_fd;

	/* Policy and feature checks: nothing is held yet. */
	if (xt_addr_is_v4(&req->sender_addr) != v4)
		return ST_REFUSE_UNSUPPORTED;
	if (memcmp(&req->sender_addr, &o->peer, sizeof(o->peer)))
		return ST_REFUSE_THIRD_PARTY;
	/* The data path drops source port 0 as malformed: never a working session. */
	if (!req->sender_port)
		return ST_REFUSE_UNSUPPORTED;
	if (auth && !t->cfg.auth)
		return ST_REFUSE_UNSUPPORTED;
	/*
	 * RFC 6038 Reflect Octets without Symmetrical Size puts the padding to
	 * reflect at octet 14, where the XDP reply header goes: the data path
	 * returns octets 41.. unchanged, so it cannot honour it (Accept 3,
	 * RFC 6038 §4.3).  With Symmetrical Size the padding to reflect starts
	 * at 41 and is returned as is.  The auth path moves padding itself.
	 */
	if (!auth && req->padding_to_reflect_len && !(req->mode & XT_MODE_SYMMETRICAL_SIZE))
		return ST_REFUSE_UNSUPPORTED;
	if (o->n_sessions >= t->cfg.max_per_owner)
		return ST_REFUSE_LIMIT_CONNECTION;
	if (t->stats.live >= t->cfg.max_sessions)
		return ST_REFUSE_LIMIT_TOTAL;
	if (!reserve_has_addr(t, &req->receiver_addr)) {
		err = session_table_bind_port(&req->receiver_addr, 0, &probe_fd);
		if (err == -EADDRNOTAVAIL)
			return ST_REFUSE_NOT_LOCAL;
		if (err)
			return ST_REFUSE_INTERNAL;
		close(probe_fd);
	}

	s = calloc(1, sizeof(*s));
	if (!s)
		return ST_REFUSE_INTERNAL;
	s->owner = o;
	s->mode = req->mode;
	s->timeout_ns = req->timeout_ns;
	s->key.sender_addr = req->sender_addr;
	s->key.reflector_addr = req->receiver_addr;
	s->key.sender_port = htons(req->sender_port);
	s->key.reflector_port = htons(req->receiver_port);

	/* The receiver port: the one asked for when free, else an alternative. */
	err = port_claim(t, &s->key, auth, &res);
	if (err == -EADDRINUSE)
		err = port_pick(t, &s->key, auth, req->receiver_port, &res);
	if (err) {
		free(s);
		return err == -EADDRINUSE    ? ST_REFUSE_NO_PORT :
		       err == -EADDRNOTAVAIL ? ST_REFUSE_NOT_LOCAL :
					       ST_REFUSE_INTERNAL;
	}
	err = sid_generate(t, &s->key.reflector_addr, s->sid);
	if (err)
		goto fail_reserve;
	if (bpf_map_update_elem(t->cfg.sessions_fd, &s->key, &v, BPF_NOEXIST)) {
		err = -errno;
		log_warn("cannot add a session to xtwamp_sessions: %s%s", strerror(-err),
			 err == -E2BIG ? " (the map is full)" : "");
		goto fail_reserve;
	}
	err = port_ref(t, ntohs(s->key.reflector_port));
	if (err) {
		log_warn("cannot flag UDP port %u in xtwamp_ports: %s",
			 ntohs(s->key.reflector_port), strerror(-err));
		goto fail_map;
	}
	if (auth) {
		err = auth_add(t, s, req, &path);
		if (err) {
			log_warn("cannot hand an %s session to the authenticated path: %s",
				 mode_class_names[mode_class(req->mode)], strerror(-err));
			goto fail_port;
		}
		t->port_use[ntohs(s->key.reflector_port)].auth++;
	}
	s->path = path;
	s->reserve = res;
	s->in_kernel = true;
	if (res)
		res->refs++;

	/* On record: both lists, front insertion. */
	s->next = t->all;
	if (t->all)
		t->all->prev = s;
	t->all = s;
	st_hash_insert(&t->sids, &s->sid_node, sid_hash(s->sid));
	s->owner_next = o->sessions;
	if (o->sessions)
		o->sessions->owner_prev = s;
	o->sessions = s;
	o->n_sessions++;
	s->state = ST_ACCEPTED;
	t->stats.records++;
	t->stats.live++;
	t->stats.accepted++;
	t->stats.by_mode[mode_class(req->mode)]++;
	t->stats.by_path[path]++;

	memset(rep, 0, sizeof(*rep));
	rep->accept = XT_ACCEPT_OK;
	rep->port = ntohs(s->key.reflector_port);
	memcpy(rep->sid, s->sid, XT_SID_LEN);
	if (rep->port != req->receiver_port)
		t->stats.alternative_port++;
	fmt_endpoint(&s->key.sender_addr, s->key.sender_port, snd, sizeof(snd));
	fmt_endpoint(&s->key.reflector_addr, s->key.reflector_port, rcv, sizeof(rcv));
	log_debug("session %s -> %s accepted (%s, %s path, DSCP %u%s)", snd, rcv,
		  mode_class_names[mode_class(req->mode)], path_names[path], req->dscp,
		  rep->port != req->receiver_port ? ", alternative port" : "");
	return ST_REFUSE__COUNT;

fail_port:
	port_unref(t, ntohs(s->key.reflector_port));
fail_map:
	bpf_map_delete_elem(t->cfg.sessions_fd, &s->key);
fail_reserve:
	reserve_put_unused(t, res);
	explicit_bzero(s, sizeof(*s));
	free(s);
	return ST_REFUSE_INTERNAL;
}

void session_table_request(struct session_table *t, struct st_owner *o,
			   const struct ctl_session_request *req, struct ctl_session_reply *rep)
{
	enum st_refusal why = try_accept(t, o, req, rep);

	if (why != ST_REFUSE__COUNT)
		refuse(t, req, why, rep);
}

/* ---- start, stop -------------------------------------------------------- */

/* SIDs are unique in the table: the one record, if it is this owner's. */
static struct st_session *owner_find(const struct session_table *t, struct st_owner *o,
				     const __u8 sid[XT_SID_LEN])
{
	struct st_session *s = sid_find(t, sid);

	return s && s->owner == o ? s : NULL;
}

static __u8 start_one(struct session_table *t, struct st_session *s, __u64 now)
{
	int err;

	if (s->state == ST_STARTED)
		return XT_ACCEPT_OK; /* Start-N twice for one SID: already so */
	if (s->state != ST_ACCEPTED)
		return XT_ACCEPT_FAILURE; /* stopped or expired: RFC 5938 has no restart */
	err = map_set_state(t, s, XT_SESS_STARTED, 0);
	if (err) {
		log_warn("cannot start a session in xtwamp_sessions: %s", strerror(-err));
		return XT_ACCEPT_INTERNAL_ERROR;
	}
	s->started_ns = now;
	state_enter(s, ST_STARTED);
	t->stats.started++;
	return XT_ACCEPT_OK;
}

__u8 session_table_start(struct session_table *t, struct st_owner *o,
			 const __u8 (*sids)[XT_SID_LEN], __u32 n, __u8 *accepts)
{
	__u64 now = now_tai(t);
	struct st_session *s;
	__u8 accept = XT_ACCEPT_OK, a;
	__u32 i;

	if (!sids) {
		for (s = o->sessions; s; s = s->owner_next) {
			if (s->state != ST_ACCEPTED)
				continue;
			a = start_one(t, s, now);
			if (a != XT_ACCEPT_OK)
				accept = a;
		}
		return accept;
	}
	for (i = 0; i < n; i++) {
		s = owner_find(t, o, sids[i]);
		a = s ? start_one(t, s, now) : XT_ACCEPT_FAILURE;
		if (accepts)
			accepts[i] = a;
		if (a != XT_ACCEPT_OK)
			accept = a;
	}
	return accept;
}

/* Saturating: a Timeout near 2^32 s must not wrap to "long ago". */
static __u64 deadline_after(__u64 now, __u64 timeout_ns)
{
	return timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
}

static __u8 stop_one(struct session_table *t, struct st_session *s, __u64 now)
{
	int err;

	if (s->state == ST_EXPIRED) {
		/* Nothing left in the kernel; the client now knows it ended. */
		session_unlink_free(t, s);
		t->stats.stopped++;
		return XT_ACCEPT_OK;
	}
	if (s->state != ST_STARTED)
		return XT_ACCEPT_FAILURE;
	/* RFC 5357 §3.8: reflect what arrives within Timeout, nothing later. */
	s->deadline_ns = deadline_after(now, s->timeout_ns);
	if (!s->deadline_ns)
		s->deadline_ns = 1; /* 0 means "no deadline" to the data path */
	err = map_set_state(t, s, XT_SESS_STARTED, s->deadline_ns);
	if (err) {
		/* Cannot tell the data path: stop reflecting at once instead. */
		log_warn("cannot set a stop deadline in xtwamp_sessions (%s); removing the session "
			 "now",
			 strerror(-err));
		s->deadline_ns = now;
	}
	if (s->path != XT_PATH_XDP)
		auth_path_stop(t->cfg.auth, s->sid, s->deadline_ns);
	state_enter(s, ST_STOPPING);
	t->stats.stopped++;
	return XT_ACCEPT_OK;
}

__u8 session_table_stop(struct session_table *t, struct st_owner *o, const __u8 (*sids)[XT_SID_LEN],
			__u32 n, __u8 *accepts)
{
	__u64 now = now_tai(t);
	struct st_session *s, *next;
	__u8 accept = XT_ACCEPT_OK, a;
	__u32 i;

	if (!sids) {
		/* Every started session; accepted ones wait for a later Start-Sessions. */
		for (s = o->sessions; s; s = next) {
			next = s->owner_next;
			if (s->state == ST_STARTED || s->state == ST_EXPIRED)
				stop_one(t, s, now);
		}
		return accept;
	}
	for (i = 0; i < n; i++) {
		s = owner_find(t, o, sids[i]);
		a = s ? stop_one(t, s, now) : XT_ACCEPT_FAILURE;
		if (accepts)
			accepts[i] = a;
		if (a != XT_ACCEPT_OK)
			accept = a;
	}
	return accept;
}

void session_table_close_owner(struct session_table *t, struct st_owner *o)
{
	__u64 now = now_tai(t);
	struct st_session *s, *next;

	for (s = o->sessions; s; s = next) {
		next = s->owner_next;
		/*
		 * RFC 5357 §3.8: after Stop-Sessions, packets within Timeout are
		 * still reflected, and clients usually close right after it.  A
		 * stopping session outlives its connection; the sweep removes it
		 * at its deadline.  Every other session goes with the connection.
		 */
		if (s->state == ST_STOPPING && now <= s->deadline_ns) {
			owner_unlink(s);
			continue;
		}
		session_remove(t, s, ST_REMOVE_CONNECTION_CLOSED);
	}
}

/* ---- timers ------------------------------------------------------------- */

void session_table_sweep(struct session_table *t)
{
	__u64 now = now_tai(t);
	struct st_session *s, *next;
	__u32 budget = ST_SWEEP_BUDGET;
	struct xt_session v;
	__u64 last;

	for (s = t->all; s && budget; s = next) {
		next = s->next;
		if (s->state == ST_STOPPING && now > s->deadline_ns) {
			session_remove(t, s, ST_REMOVE_STOPPED);
			budget--;
			continue;
		}
		if (s->state != ST_STARTED || !t->cfg.refwait_ns)
			continue;
		/* RFC 5357 §4.2: REFWAIT counts from the last packet, or the start. */
		last = s->started_ns > s->last_rx_ns ? s->started_ns : s->last_rx_ns;
		/*
		 * The data path's last_rx_ns only grows: until what we read last
		 * time is REFWAIT old, the session cannot have expired, and the
		 * map need not be read (a syscall per started session per second).
		 */
		if (now <= last || now - last <= t->cfg.refwait_ns)
			continue;
		if (!bpf_map_lookup_elem(t->cfg.sessions_fd, &s->key, &v) && v.last_rx_ns > last) {
			s->last_rx_ns = v.last_rx_ns;
			last = v.last_rx_ns;
		}
		if (now > last && now - last > t->cfg.refwait_ns) {
			char snd[XT_ADDR_STRLEN + 8];

			fmt_endpoint(&s->key.sender_addr, s->key.sender_port, snd, sizeof(snd));
			log_debug("session from %s expired: no packet for REFWAIT (%llu s)", snd,
				  (unsigned long long)(t->cfg.refwait_ns / 1000000000ULL));
			t->stats.removed[ST_REMOVE_REFWAIT]++;
			session_release(t, s);
			state_enter(s, ST_EXPIRED);
			budget--;
		}
	}
}

/* ---- life and counters -------------------------------------------------- */

int session_table_new(const struct session_table_config *cfg, struct session_table **out)
{
	struct session_table *t;

	*out = NULL;
	if (cfg->sessions_fd < 0 || cfg->ports_fd < 0 || !cfg->max_sessions ||
	    !cfg->max_per_owner || cfg->port_min > cfg->port_max)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->cfg = *cfg;
	if (!t->cfg.port_min && !t->cfg.port_max) {
		t->cfg.port_min = ST_DYN_PORT_MIN;
		t->cfg.port_max = ST_DYN_PORT_MAX;
	}
	if (!t->cfg.port_min)
		t->cfg.port_min = 1;
	t->port_use = calloc(XT_NUM_PORTS, sizeof(*t->port_use));
	if (!t->port_use || st_hash_init(&t->sids) || st_hash_init(&t->reserves)) {
		free(t->sids.b);
		free(t->port_use);
		free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

void session_table_free(struct session_table *t)
{
	if (!t)
		return;
	while (t->all)
		session_remove(t, t->all, ST_REMOVE_SHUTDOWN);
	for (__u32 i = 0; i <= t->reserves.mask; i++) {
		while (t->reserves.b[i]) {
			struct st_reserve *r = st_entry(t->reserves.b[i], struct st_reserve, node);

			r->refs = 0;
			reserve_put_unused(t, r);
		}
	}
	free(t->reserves.b);
	free(t->sids.b);
	free(t->port_use);
	explicit_bzero(t->rnd, sizeof(t->rnd));
	free(t);
}

void session_table_get_stats(const struct session_table *t, struct session_table_stats *st)
{
	*st = t->stats;
}

void session_table_set_limits(struct session_table *t, __u32 max_sessions, __u32 max_per_owner,
			      __u64 refwait_ns)
{
	t->cfg.max_sessions = max_sessions;
	t->cfg.max_per_owner = max_per_owner;
	t->cfg.refwait_ns = refwait_ns;
}

void session_table_foreach(const struct session_table *t,
			   int (*fn)(const struct st_session_info *s, void *arg), void *arg)
{
	static const char *const state_names[] = {
		[ST_ACCEPTED] = "accepted",
		[ST_STARTED] = "started",
		[ST_STOPPING] = "stopping",
		[ST_EXPIRED] = "expired",
	};
	struct st_session_info info;

	for (const struct st_session *s = t->all; s; s = s->next) {
		memset(&info, 0, sizeof(info));
		info.key = s->key;
		memcpy(info.sid, s->sid, XT_SID_LEN);
		info.mode = s->mode;
		info.state = state_names[s->state];
		info.path = s->path;
		info.in_kernel = s->in_kernel;
		if (s->owner) {
			info.owner_peer = s->owner->peer;
			info.owner_local = s->owner->local;
		}
		if (fn(&info, arg))
			return;
	}
}

void session_table_print_stats(const struct session_table *t, FILE *out)
{
	const struct session_table_stats *st = &t->stats;
	int i;

	fprintf(out, "sessions_accepted_total %llu\n", (unsigned long long)st->accepted);
	fprintf(out, "sessions_alternative_port_total %llu\n",
		(unsigned long long)st->alternative_port);
	for (i = 0; i < ST_REFUSE__COUNT; i++)
		fprintf(out, "sessions_refused_total{reason=\"%s\"} %llu\n", refusal_names[i],
			(unsigned long long)st->refused[i]);
	for (i = 0; i < ST_MODE__COUNT; i++)
		fprintf(out, "sessions_accepted_by_mode_total{mode=\"%s\"} %llu\n",
			mode_class_names[i], (unsigned long long)st->by_mode[i]);
	for (i = 0; i < 3; i++)
		fprintf(out, "sessions_accepted_by_path_total{path=\"%s\"} %llu\n", path_names[i],
			(unsigned long long)st->by_path[i]);
	fprintf(out, "sessions_started_total %llu\n", (unsigned long long)st->started);
	fprintf(out, "sessions_stopped_total %llu\n", (unsigned long long)st->stopped);
	for (i = 0; i < ST_REMOVE__COUNT; i++)
		fprintf(out, "sessions_removed_total{cause=\"%s\"} %llu\n", removal_names[i],
			(unsigned long long)st->removed[i]);
	fprintf(out, "sessions %u\n", st->live);
	fprintf(out, "session_ports %u\n", st->ports);
}

void session_table_log_stats(const struct session_table *t)
{
	const struct session_table_stats *st = &t->stats;
	char refused[512], removed[256];
	size_t a = 0, b = 0;
	int i;

	refused[0] = removed[0] = '\0';
	for (i = 0; i < ST_REFUSE__COUNT; i++)
		if (st->refused[i] && a < sizeof(refused))
			a += snprintf(refused + a, sizeof(refused) - a, " %s=%llu",
				      refusal_names[i], (unsigned long long)st->refused[i]);
	for (i = 0; i < ST_REMOVE__COUNT; i++)
		if (st->removed[i] && b < sizeof(removed))
			b += snprintf(removed + b, sizeof(removed) - b, " %s=%llu",
				      removal_names[i], (unsigned long long)st->removed[i]);
	log_info("sessions: %llu accepted (%llu on an alternative port; unauthenticated=%llu "
		 "authenticated=%llu encrypted=%llu mixed=%llu; xdp=%llu af_xdp=%llu socket=%llu), "
		 "%llu started, %llu stopped",
		 (unsigned long long)st->accepted, (unsigned long long)st->alternative_port,
		 (unsigned long long)st->by_mode[0], (unsigned long long)st->by_mode[1],
		 (unsigned long long)st->by_mode[2], (unsigned long long)st->by_mode[3],
		 (unsigned long long)st->by_path[0], (unsigned long long)st->by_path[1],
		 (unsigned long long)st->by_path[2], (unsigned long long)st->started,
		 (unsigned long long)st->stopped);
	log_info("sessions refused:%s; removed:%s", a ? refused : " none", b ? removed : " none");
}
