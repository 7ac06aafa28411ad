// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The session table against the real maps of the XDP program (loaded, never
 * attached): every accepted session is one xtwamp_sessions entry and flags
 * its port; stop + Timeout, REFWAIT and a closing connection take all of it
 * away again, light-port flags stay; limits refuse with the RFC 4656 Accept
 * values; nothing is left behind.  Runs in a network namespace of its own so
 * that the port reservations meet no other program.  Needs root: exits 77
 * (skipped) otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "addr.h"
#include "auth_path.h"
#include "loader.h"
#include "log.h"
#include "session_table.h"
#include "xtwamp.skel.h"

#define SEC_NS 1000000000ULL
#define LIGHT_TWAMP_PORT 862
#define LIGHT_STAMP_PORT 8620
#define ALT_MIN 50000
#define ALT_MAX 50015

static struct xtwamp *skel;
static int sessions_fd, ports_fd;
static __u64 fake_now = 1000 * SEC_NS;

static __u64 fake_clock(void)
{
	return fake_now;
}

static struct session_table *new_table(__u32 max_sessions, __u32 max_per_owner)
{
	struct session_table_config cfg = {
		.sessions_fd = sessions_fd,
		.ports_fd = ports_fd,
		.max_sessions = max_sessions,
		.max_per_owner = max_per_owner,
		.refwait_ns = 10 * SEC_NS,
		.now_tai_ns = fake_clock,
		.port_min = ALT_MIN,
		.port_max = ALT_MAX,
	};
	struct session_table *t;

	assert_int_equal(session_table_new(&cfg, &t), 0);
	return t;
}

static void owner_init(struct st_owner *o, const char *peer, const char *local)
{
	memset(o, 0, sizeof(*o));
	assert_int_equal(xt_addr_parse(peer, &o->peer), 0);
	assert_int_equal(xt_addr_parse(local, &o->local), 0);
}

/* A request as control_conn hands it over: addresses filled in. */
static struct ctl_session_request request(const struct st_owner *o, __u16 sport, __u16 rport)
{
	struct ctl_session_request r = {
		.ipvn = xt_addr_is_v4(&o->peer) ? 4 : 6,
		.sender_addr = o->peer,
		.receiver_addr = o->local,
		.sender_port = sport,
		.receiver_port = rport,
		.timeout_ns = 2 * SEC_NS,
		.dscp = 46,
		.mode = XT_MODE_UNAUTHENTICATED,
	};
	return r;
}

static struct ctl_session_reply ask(struct session_table *t, struct st_owner *o,
				    const struct ctl_session_request *req)
{
	struct ctl_session_reply rep;

	memset(&rep, 0xa5, sizeof(rep));
	session_table_request(t, o, req, &rep);
	return rep;
}

static unsigned map_entries(void)
{
	struct xt_session_key key, next;
	unsigned n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(sessions_fd, prev, &next)) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

static __u8 port_flags(__u16 port)
{
	struct xt_port pe = {};
	__u32 key = port;

	assert_int_equal(bpf_map_lookup_elem(ports_fd, &key, &pe), 0);
	return pe.flags;
}

static struct xt_session map_value(const struct st_owner *o, __u16 sport, __u16 rport)
{
	struct xt_session_key key = {
		.sender_addr = o->peer,
		.reflector_addr = o->local,
		.sender_port = htons(sport),
		.reflector_port = htons(rport),
	};
	struct xt_session v;

	if (bpf_map_lookup_elem(sessions_fd, &key, &v))
		fail_msg("no map entry for sender port %u, receiver port %u", sport, rport);
	return v;
}

static bool map_has(const struct st_owner *o, __u16 sport, __u16 rport)
{
	struct xt_session_key key = {
		.sender_addr = o->peer,
		.reflector_addr = o->local,
		.sender_port = htons(sport),
		.reflector_port = htons(rport),
	};
	struct xt_session v;

	return bpf_map_lookup_elem(sessions_fd, &key, &v) == 0;
}

/* Another program binding a UDP port: 0 or -errno (the socket is returned). */
static int other_program_binds(const char *addr, __u16 port, int *fd)
{
	union xt_addr a;
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;

	assert_int_equal(xt_addr_parse(addr, &a), 0);
	len = xt_addr_to_sockaddr(&a, port, &ss);
	*fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	assert_true(*fd >= 0);
	if (ss.ss_family == AF_INET6)
		setsockopt(*fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(*fd, (struct sockaddr *)&ss, len)) {
		int err = -errno;

		close(*fd);
		*fd = -1;
		return err;
	}
	return 0;
}

/*
 * A session flag the table did not set belongs to a session adopted from
 * an xtwampd that died (loader.h): its port is not handed out, so ending a
 * new session cannot clear the flag under the orphan.
 */
static void test_orphan_port_kept(void **state)
{
	struct session_table *t = new_table(64, 64);
	struct xt_port orphan = { .flags = XT_PORT_SESSIONS, .format = XT_FMT_TWAMP };
	struct ctl_session_request req;
	struct ctl_session_reply rep;
	struct st_owner a;
	__u32 port = 40100;
	(void)state;

	assert_int_equal(bpf_map_update_elem(ports_fd, &port, &orphan, BPF_ANY), 0);
	owner_init(&a, "198.51.100.2", "127.0.0.1");
	req = request(&a, 5100, 40100);
	rep = ask(t, &a, &req);
	assert_int_equal(rep.accept, XT_ACCEPT_OK);
	assert_int_not_equal(rep.port, 40100);
	assert_in_range(rep.port, ALT_MIN, ALT_MAX);
	session_table_close_owner(t, &a);
	assert_int_equal(port_flags(40100), XT_PORT_SESSIONS);
	orphan.flags = 0;
	orphan.format = 0;
	assert_int_equal(bpf_map_update_elem(ports_fd, &port, &orphan, BPF_ANY), 0);
	session_table_free(t);
}

/* Test that accepted sessions become map entries, flag their ports and reserve them. */
static void test_accept_ports_and_close(void **state)
{
	struct session_table *t = new_table(64, 64);
	struct session_table_stats st;
	struct ctl_session_request req;
	struct ctl_session_reply rep, rep2;
	struct st_owner a, b;
	struct xt_session v;
	int fd;
	(void)state;

	owner_init(&a, "198.51.100.2", "127.0.0.1");

	/*
	 * Our TWAMP Light port is not shared with a session (its late packets
	 * would be light-reflected after it ended, RFC 5357 §3.8): Accept 0
	 * with an alternative port (RFC 5357 §3.5, RFC 8545 §5.1).
	 */
	req = request(&a, 5000, LIGHT_TWAMP_PORT);
	rep = ask(t, &a, &req);
	assert_int_equal(rep.accept, XT_ACCEPT_OK);
	assert_in_range(rep.port, ALT_MIN, ALT_MAX);
	assert_memory_equal(rep.sid, "\x7f\x00\x00\x01", 4); /* RFC 4656 §3.5: our IPv4 */
	assert_int_equal(port_flags(LIGHT_TWAMP_PORT), XT_PORT_LIGHT);
	assert_int_equal(port_flags(rep.port), XT_PORT_SESSIONS);
	v = map_value(&a, 5000, rep.port);
	assert_int_equal(v.format, XT_FMT_TWAMP);
	assert_int_equal(v.flags, XT_SESS_SET_DSCP);
	assert_int_equal(v.dscp, 46);
	assert_int_equal(v.state, XT_SESS_ACCEPTED);
	assert_int_equal(v.stop_deadline_ns, 0);

	/* A free port is granted and held against other programs. */
	req = request(&a, 5001, 40000);
	rep = ask(t, &a, &req);
	assert_int_equal(rep.accept, XT_ACCEPT_OK);
	assert_int_equal(rep.port, 40000);
	assert_int_equal(port_flags(40000), XT_PORT_SESSIONS);
	assert_int_equal(other_program_binds("127.0.0.1", 40000, &fd), -EADDRINUSE);

	/* Another sender on the same port: sessions differ by the sender. */
	req = request(&a, 5002, 40000);
	rep2 = ask(t, &a, &req);
	assert_int_equal(rep2.accept, XT_ACCEPT_OK);
	assert_int_equal(rep2.port, 40000);
	assert_memory_not_equal(rep.sid, rep2.sid, XT_SID_LEN);

	/* The same sender and port again: only an alternative can tell them apart. */
	req = request(&a, 5002, 40000);
	rep = ask(t, &a, &req);
	assert_int_equal(rep.accept, XT_ACCEPT_OK);
	assert_in_range(rep.port, ALT_MIN, ALT_MAX);
	assert_int_equal(port_flags(rep.port), XT_PORT_SESSIONS);

	/* A port another program holds: Accept 0 with an alternative (erratum 1587). */
	assert_int_equal(other_program_binds("127.0.0.1", 40001, &fd), 0);
	req = request(&a, 5003, 40001);
	rep = ask(t, &a, &req);
	assert_int_equal(rep.accept, XT_ACCEPT_OK);
	assert_in_range(rep.port, ALT_MIN, ALT_MAX);
	assert_int_equal(port_flags(40001), 0);
	close(fd);

	/* A STAMP light port is never shared with a TWAMP session. */
	req = request(&a, 5004, LIGHT_STAMP_PORT);
	rep = ask(t, &a, &req);
	assert_int_equal(rep.accept, XT_ACCEPT_OK);
	assert_in_range(rep.port, ALT_MIN, ALT_MAX);
	assert_int_equal(port_flags(LIGHT_STAMP_PORT), XT_PORT_LIGHT);

	/* Port 0: the server chooses. */
	req = request(&a, 5005, 0);
	rep = ask(t, &a, &req);
	assert_int_equal(rep.accept, XT_ACCEPT_OK);
	assert_in_range(rep.port, ALT_MIN, ALT_MAX);

	/* IPv6: the SID starts with the last 4 octets of our address. */
	owner_init(&b, "2001:db8::2", "::1");
	req = request(&b, 6000, 40000);
	rep = ask(t, &b, &req);
	assert_int_equal(rep.accept, XT_ACCEPT_OK);
	assert_int_equal(rep.port, 40000);
	assert_memory_equal(rep.sid, "\x00\x00\x00\x01", 4);
	assert_true(map_has(&b, 6000, 40000));

	assert_int_equal(map_entries(), 8);
	assert_int_equal(a.n_sessions, 7);
	assert_int_equal(b.n_sessions, 1);
	session_table_get_stats(t, &st);
	assert_int_equal(st.accepted, 8);
	assert_int_equal(st.alternative_port, 5);
	assert_int_equal(st.live, 8);
	assert_int_equal(st.by_mode[ST_MODE_UNAUTHENTICATED], 8);
	assert_int_equal(st.by_path[XT_PATH_XDP], 8);

	/* The connection closes: everything of it goes at once, b's stays. */
	session_table_close_owner(t, &a);
	assert_int_equal(a.n_sessions, 0);
	assert_null(a.sessions);
	assert_int_equal(map_entries(), 1);
	assert_int_equal(port_flags(LIGHT_TWAMP_PORT), XT_PORT_LIGHT);
	assert_int_equal(port_flags(40000), XT_PORT_SESSIONS); /* b's, over IPv6 */
	assert_int_equal(other_program_binds("127.0.0.1", 40000, &fd), 0);
	close(fd);
	assert_int_equal(other_program_binds("::1", 40000, &fd), -EADDRINUSE);
	session_table_close_owner(t, &b);
	assert_int_equal(port_flags(40000), 0);
	assert_int_equal(map_entries(), 0);
	session_table_get_stats(t, &st);
	assert_int_equal(st.removed[ST_REMOVE_CONNECTION_CLOSED], 8);
	assert_int_equal(st.live, 0);
	assert_int_equal(st.ports, 0);
	session_table_free(t);
}

/* Test Start, Stop and the Timeout after which the sweep deletes a session. */
static void test_start_stop_deadline(void **state)
{
	struct session_table *t = new_table(64, 64);
	struct ctl_session_request req;
	struct ctl_session_reply rep;
	struct st_owner a;
	struct xt_session v;
	__u64 stop_at;
	int i;
	(void)state;

	owner_init(&a, "198.51.100.2", "127.0.0.1");
	for (i = 0; i < 3; i++) {
		req = request(&a, 7000 + i, i == 0 ? 41001 : 41000);
		req.timeout_ns = 2 * SEC_NS;
		rep = ask(t, &a, &req);
		assert_int_equal(rep.accept, XT_ACCEPT_OK);
	}
	assert_int_equal(map_value(&a, 7001, 41000).state, XT_SESS_ACCEPTED);
	assert_int_equal(a.n_running, 0);

	assert_int_equal(session_table_start(t, &a, NULL, 0, NULL), XT_ACCEPT_OK);
	assert_int_equal(map_value(&a, 7001, 41000).state, XT_SESS_STARTED);
	assert_int_equal(a.n_running, 3);
	assert_int_equal(a.n_active, 3);

	fake_now += 5 * SEC_NS;
	stop_at = fake_now;
	assert_int_equal(session_table_stop(t, &a, NULL, 0, NULL), XT_ACCEPT_OK);
	assert_int_equal(a.n_running, 0);
	assert_int_equal(a.n_active, 0);
	v = map_value(&a, 7000, 41001);
	assert_int_equal(v.state, XT_SESS_STARTED);
	assert_int_equal(v.stop_deadline_ns, stop_at + 2 * SEC_NS);

	/* Within the Timeout: still there, still reflected by the data path. */
	fake_now += 1 * SEC_NS;
	session_table_sweep(t);
	assert_int_equal(map_entries(), 3);
	assert_int_equal(port_flags(41000), XT_PORT_SESSIONS);

	/* Past it: gone, light flag kept, the port free again. */
	fake_now += 2 * SEC_NS;
	session_table_sweep(t);
	assert_int_equal(map_entries(), 0);
	assert_int_equal(port_flags(LIGHT_TWAMP_PORT), XT_PORT_LIGHT);
	assert_int_equal(port_flags(41000), 0);
	assert_int_equal(a.n_sessions, 0);
	session_table_free(t);
}

/*
 * Test that one sweep removes at most ST_SWEEP_BUDGET stopped sessions and
 * the next one the rest, and that SIDs stay unique and found (Start-N,
 * Stop-N) while the table grows well past its first hash buckets.
 */
static void test_sweep_budget(void **state)
{
	const int n = ST_SWEEP_BUDGET + 76;
	struct session_table *t = new_table(2 * n, 2 * n);
	struct ctl_session_request req;
	struct ctl_session_reply rep;
	__u8(*sids)[XT_SID_LEN] = calloc(n, XT_SID_LEN);
	__u8 *accepts = calloc(n, 1);
	struct st_owner a, b;
	int i, j;
	(void)state;

	assert_non_null(sids);
	assert_non_null(accepts);
	owner_init(&a, "198.51.100.2", "127.0.0.1");
	owner_init(&b, "198.51.100.3", "127.0.0.1");
	for (i = 0; i < n; i++) {
		req = request(&a, (__u16)(10000 + i), 41000);
		rep = ask(t, &a, &req);
		assert_int_equal(rep.accept, XT_ACCEPT_OK);
		assert_int_equal(rep.port, 41000);
		memcpy(sids[i], rep.sid, XT_SID_LEN);
	}
	for (i = 0; i < n; i += 97)
		for (j = i + 1; j < n; j++)
			assert_memory_not_equal(sids[i], sids[j], XT_SID_LEN);
	/* Another connection cannot start them by SID. */
	assert_int_equal(session_table_start(t, &b, (const __u8(*)[XT_SID_LEN])sids, 1, accepts),
			 XT_ACCEPT_FAILURE);
	assert_int_equal(session_table_start(t, &a, (const __u8(*)[XT_SID_LEN])sids, n, accepts),
			 XT_ACCEPT_OK);
	for (i = 0; i < n; i++)
		assert_int_equal(accepts[i], XT_ACCEPT_OK);
	assert_int_equal(a.n_active, n);
	assert_int_equal(session_table_stop(t, &a, (const __u8(*)[XT_SID_LEN])sids, n, accepts),
			 XT_ACCEPT_OK);
	assert_int_equal(map_entries(), n);

	fake_now += 3 * SEC_NS; /* past every Timeout (2 s) */
	session_table_sweep(t);
	assert_int_equal(map_entries(), n - ST_SWEEP_BUDGET);
	assert_int_equal(port_flags(41000), XT_PORT_SESSIONS);
	session_table_sweep(t);
	assert_int_equal(map_entries(), 0);
	assert_int_equal(port_flags(41000), 0);
	assert_int_equal(a.n_sessions, 0);
	session_table_free(t);
	free(sids);
	free(accepts);
}

/* Test REFWAIT: idle started sessions lose their entries but still count for Stop. */
static void test_refwait(void **state)
{
	struct session_table *t = new_table(64, 64);
	struct session_table_stats st;
	struct ctl_session_request req;
	struct ctl_session_reply rep;
	struct xt_session_key key;
	struct st_owner a;
	struct xt_session v;
	(void)state;

	owner_init(&a, "198.51.100.2", "127.0.0.1");
	req = request(&a, 8000, 42000);
	assert_int_equal(ask(t, &a, &req).accept, XT_ACCEPT_OK);
	req = request(&a, 8001, 42000);
	rep = ask(t, &a, &req);
	assert_int_equal(rep.accept, XT_ACCEPT_OK);
	/* Accepted but never started: REFWAIT does not apply (SERVWAIT does). */
	fake_now += 60 * SEC_NS;
	session_table_sweep(t);
	assert_int_equal(map_entries(), 2);

	assert_int_equal(session_table_start(t, &a, NULL, 0, NULL), XT_ACCEPT_OK);
	/* The data path saw a packet of 8001 eight seconds later. */
	memset(&key, 0, sizeof(key));
	key.sender_addr = a.peer;
	key.reflector_addr = a.local;
	key.sender_port = htons(8001);
	key.reflector_port = htons(42000);
	v = map_value(&a, 8001, 42000);
	v.last_rx_ns = fake_now + 8 * SEC_NS;
	v.first_rx_ns = v.last_rx_ns;
	v.rx_packets = 1;
	assert_int_equal(bpf_map_update_elem(sessions_fd, &key, &v, BPF_EXIST), 0);

	fake_now += 10 * SEC_NS; /* exactly REFWAIT: not yet */
	session_table_sweep(t);
	assert_int_equal(map_entries(), 2);
	fake_now += 1 * SEC_NS;
	session_table_sweep(t);
	assert_false(map_has(&a, 8000, 42000));
	assert_true(map_has(&a, 8001, 42000));
	assert_int_equal(a.n_active, 1);
	assert_int_equal(a.n_running, 2); /* Stop-Sessions must still count it */
	assert_int_equal(port_flags(42000), XT_PORT_SESSIONS);

	fake_now += 8 * SEC_NS; /* 11 s after 8001's last packet */
	session_table_sweep(t);
	assert_int_equal(map_entries(), 0);
	assert_int_equal(port_flags(42000), 0);
	assert_int_equal(a.n_active, 0); /* SERVWAIT resumes */
	assert_int_equal(a.n_running, 2);
	assert_int_equal(a.n_sessions, 2);

	/* Stop-Sessions with N = 2 then clears the records. */
	assert_int_equal(session_table_stop(t, &a, NULL, 0, NULL), XT_ACCEPT_OK);
	assert_int_equal(a.n_running, 0);
	assert_int_equal(a.n_sessions, 0);
	session_table_get_stats(t, &st);
	assert_int_equal(st.removed[ST_REMOVE_REFWAIT], 2);
	assert_int_equal(st.records, 0);
	session_table_free(t);
}

/*
 * Test the timers across a step of the clock they read (TAI, the data
 * path's clock too), injected through now_tai_ns; the system clock is never
 * stepped.  Back an hour: running sessions are not expired by a wrapped
 * "now - last packet", and a Stop after the step sets its deadline on the
 * new clock.  Forward an hour: indistinguishable from an hour passing, so
 * idle sessions end by REFWAIT, as they would have.
 */
static void test_clock_step(void **state)
{
	struct session_table *t = new_table(64, 64);
	struct ctl_session_request req;
	__u64 saved_now = fake_now;
	struct st_owner a;
	int i;
	(void)state;

	fake_now = 1700000000 * SEC_NS; /* a real TAI reading, an hour back is still > 0 */
	owner_init(&a, "198.51.100.2", "127.0.0.1");
	for (i = 0; i < 2; i++) {
		req = request(&a, 9000 + i, 43000);
		assert_int_equal(ask(t, &a, &req).accept, XT_ACCEPT_OK);
	}
	assert_int_equal(session_table_start(t, &a, NULL, 0, NULL), XT_ACCEPT_OK);
	fake_now -= 3600 * SEC_NS;
	session_table_sweep(t);
	assert_int_equal(map_entries(), 2);
	assert_int_equal(a.n_active, 2);
	assert_int_equal(session_table_stop(t, &a, NULL, 0, NULL), XT_ACCEPT_OK);
	assert_int_equal(map_value(&a, 9000, 43000).stop_deadline_ns, fake_now + 2 * SEC_NS);
	fake_now += 3 * SEC_NS;
	session_table_sweep(t);
	assert_int_equal(map_entries(), 0);
	assert_int_equal(a.n_sessions, 0);

	req = request(&a, 9002, 43000);
	assert_int_equal(ask(t, &a, &req).accept, XT_ACCEPT_OK);
	assert_int_equal(session_table_start(t, &a, NULL, 0, NULL), XT_ACCEPT_OK);
	fake_now += 3600 * SEC_NS;
	session_table_sweep(t);
	assert_int_equal(map_entries(), 0);
	assert_int_equal(a.n_active, 0);
	assert_int_equal(a.n_running, 1); /* still counted for Stop-Sessions */
	assert_int_equal(session_table_stop(t, &a, NULL, 0, NULL), XT_ACCEPT_OK);
	assert_int_equal(a.n_sessions, 0);
	session_table_free(t);
	fake_now = saved_now;
}

/* Test the limits: the (N+1)th session is refused with RFC 4656 §3.3 values. */
static void test_limits(void **state)
{
	struct session_table *t = new_table(6, 4);
	struct session_table_stats st;
	struct ctl_session_request req;
	struct ctl_session_reply rep;
	struct st_owner a, b;
	char *text = NULL;
	size_t len = 0;
	FILE *mem;
	int i;
	(void)state;

	owner_init(&a, "198.51.100.2", "127.0.0.1");
	owner_init(&b, "198.51.100.3", "127.0.0.1");
	for (i = 0; i < 4; i++) {
		req = request(&a, 9000 + i, 43000);
		assert_int_equal(ask(t, &a, &req).accept, XT_ACCEPT_OK);
	}
	req = request(&a, 9004, 43000);
	rep = ask(t, &a, &req);
	assert_int_equal(rep.accept, XT_ACCEPT_PERMANENT_LIMIT);
	assert_int_equal(rep.port, 0);
	for (i = 0; i < 2; i++) {
		req = request(&b, 9000 + i, 43000);
		assert_int_equal(ask(t, &b, &req).accept, XT_ACCEPT_OK);
	}
	req = request(&b, 9002, 43000);
	rep = ask(t, &b, &req);
	assert_int_equal(rep.accept, XT_ACCEPT_TEMPORARY_LIMIT);
	assert_int_equal(rep.port, 0);
	assert_int_equal(map_entries(), 6);

	/* A session that goes frees room for another. */
	session_table_close_owner(t, &b);
	req = request(&b, 9003, 43000);
	assert_int_equal(ask(t, &b, &req).accept, XT_ACCEPT_OK);

	session_table_get_stats(t, &st);
	assert_int_equal(st.refused[ST_REFUSE_LIMIT_CONNECTION], 1);
	assert_int_equal(st.refused[ST_REFUSE_LIMIT_TOTAL], 1);
	mem = open_memstream(&text, &len);
	session_table_print_stats(t, mem);
	fclose(mem);
	assert_non_null(strstr(text, "sessions_refused_total{reason=\"limit_total\"} 1\n"));
	assert_non_null(strstr(text, "sessions_accepted_total 7\n"));
	free(text);
	session_table_log_stats(t);

	session_table_close_owner(t, &a);
	session_table_close_owner(t, &b);
	assert_int_equal(map_entries(), 0);
	assert_int_equal(port_flags(43000), 0);
	session_table_free(t);
}

/* Test the refusals that hold nothing: policy, unsupported features, no port. */
static void test_refusals(void **state)
{
	struct session_table *t = new_table(64, 64);
	struct session_table_stats st;
	struct ctl_session_request req;
	struct ctl_session_reply rep;
	struct st_owner a;
	int fd[ALT_MAX - ALT_MIN + 1], i;
	(void)state;

	owner_init(&a, "198.51.100.2", "127.0.0.1");

	/* RFC 4656 §6.2: test traffic only towards the control client. */
	req = request(&a, 5000, 44000);
	assert_int_equal(xt_addr_parse("198.51.100.99", &req.sender_addr), 0);
	rep = ask(t, &a, &req);
	assert_int_equal(rep.accept, XT_ACCEPT_FAILURE);
	assert_int_equal(rep.port, 0);

	/* A receiver address this host does not have. */
	req = request(&a, 5000, 44000);
	assert_int_equal(xt_addr_parse("192.0.2.99", &req.receiver_addr), 0);
	assert_int_equal(ask(t, &a, &req).accept, XT_ACCEPT_FAILURE);

	/* Authenticated without an auth path: not supported here. */
	req = request(&a, 5000, 44000);
	req.mode = XT_MODE_AUTHENTICATED;
	assert_int_equal(ask(t, &a, &req).accept, XT_ACCEPT_NOT_SUPPORTED);

	/* Sender port 0 would be dropped by the data path. */
	req = request(&a, 0, 44000);
	assert_int_equal(ask(t, &a, &req).accept, XT_ACCEPT_NOT_SUPPORTED);

	/* RFC 6038 padding to reflect at octet 14: XDP cannot; with Symmetrical Size it can. */
	req = request(&a, 5000, 44000);
	req.mode = XT_MODE_UNAUTHENTICATED | XT_MODE_REFLECT_OCTETS;
	req.padding_length = 40;
	req.padding_to_reflect_len = 8;
	assert_int_equal(ask(t, &a, &req).accept, XT_ACCEPT_NOT_SUPPORTED);
	req.mode |= XT_MODE_SYMMETRICAL_SIZE;
	assert_int_equal(ask(t, &a, &req).accept, XT_ACCEPT_OK);

	/* Every alternative taken by another program: Accept 5, port 0. */
	for (i = 0; i <= ALT_MAX - ALT_MIN; i++)
		assert_int_equal(other_program_binds("127.0.0.1", ALT_MIN + i, &fd[i]), 0);
	req = request(&a, 5001, 0);
	rep = ask(t, &a, &req);
	assert_int_equal(rep.accept, XT_ACCEPT_TEMPORARY_LIMIT);
	assert_int_equal(rep.port, 0);
	for (i = 0; i <= ALT_MAX - ALT_MIN; i++)
		close(fd[i]);

	session_table_get_stats(t, &st);
	assert_int_equal(st.refused[ST_REFUSE_THIRD_PARTY], 1);
	assert_int_equal(st.refused[ST_REFUSE_NOT_LOCAL], 1);
	assert_int_equal(st.refused[ST_REFUSE_UNSUPPORTED], 3);
	assert_int_equal(st.refused[ST_REFUSE_NO_PORT], 1);
	assert_int_equal(st.accepted, 1);
	assert_int_equal(map_entries(), 1);
	session_table_free(t); /* shutdown removes what is left */
	assert_int_equal(map_entries(), 0);
	assert_int_equal(port_flags(44000), 0);
}

/* Test Start-N / Stop-N (RFC 5938): per-SID answers, unknown SIDs refused. */
static void test_individual(void **state)
{
	struct session_table *t = new_table(64, 64);
	struct ctl_session_request req;
	struct ctl_session_reply r1, r2;
	__u8 sids[3][XT_SID_LEN], accepts[3];
	struct st_owner a, other;
	(void)state;

	owner_init(&a, "198.51.100.2", "127.0.0.1");
	owner_init(&other, "198.51.100.3", "127.0.0.1");
	req = request(&a, 5000, 45000);
	r1 = ask(t, &a, &req);
	req = request(&a, 5001, 45000);
	r2 = ask(t, &a, &req);
	assert_int_equal(r1.accept, XT_ACCEPT_OK);
	assert_int_equal(r2.accept, XT_ACCEPT_OK);
	memcpy(sids[0], r1.sid, XT_SID_LEN);
	memset(sids[1], 0x42, XT_SID_LEN);
	memcpy(sids[2], r2.sid, XT_SID_LEN);

	/* Another connection cannot start a's sessions. */
	memset(accepts, XT_ACCEPT_FAILURE, sizeof(accepts));
	session_table_start(t, &other, (const __u8(*)[XT_SID_LEN])sids, 1, accepts);
	assert_int_equal(accepts[0], XT_ACCEPT_FAILURE);
	assert_int_equal(map_value(&a, 5000, 45000).state, XT_SESS_ACCEPTED);

	memset(accepts, XT_ACCEPT_FAILURE, sizeof(accepts));
	session_table_start(t, &a, (const __u8(*)[XT_SID_LEN])sids, 2, accepts);
	assert_int_equal(accepts[0], XT_ACCEPT_OK);
	assert_int_equal(accepts[1], XT_ACCEPT_FAILURE);
	assert_int_equal(map_value(&a, 5000, 45000).state, XT_SESS_STARTED);
	assert_int_equal(map_value(&a, 5001, 45000).state, XT_SESS_ACCEPTED);
	assert_int_equal(a.n_running, 1);

	memset(accepts, XT_ACCEPT_FAILURE, sizeof(accepts));
	session_table_stop(t, &a, (const __u8(*)[XT_SID_LEN])sids, 3, accepts);
	assert_int_equal(accepts[0], XT_ACCEPT_OK);
	assert_int_equal(accepts[1], XT_ACCEPT_FAILURE);
	assert_int_equal(accepts[2], XT_ACCEPT_FAILURE); /* never started */
	assert_int_not_equal(map_value(&a, 5000, 45000).stop_deadline_ns, 0);
	assert_int_equal(a.n_running, 0);

	/*
	 * The client closes right after Stop-N-Sessions: the stopping session
	 * is still reflected until its Timeout (RFC 5357 §3.8), the rest go.
	 */
	session_table_close_owner(t, &a);
	assert_int_equal(a.n_sessions, 0);
	assert_int_equal(map_entries(), 1);
	assert_true(map_has(&a, 5000, 45000));
	fake_now += 3 * SEC_NS;
	session_table_sweep(t);
	assert_int_equal(map_entries(), 0);
	assert_int_equal(port_flags(45000), 0);
	session_table_free(t);
}

/* Test authenticated sessions through the real auth path (its socket fallback). */
static void test_authenticated(void **state)
{
	static const __u8 aes[TW_AES_KEY_LEN] = { 1 }, hmac[TW_HMAC_KEY_LEN] = { 2 };
	struct auth_path_opts aopts = { .no_af_xdp = true };
	struct xt_loader loader = { .skel = skel };
	struct session_table_config cfg = {
		.sessions_fd = sessions_fd,
		.ports_fd = ports_fd,
		.max_sessions = 64,
		.max_per_owner = 64,
		.refwait_ns = 10 * SEC_NS,
		.now_tai_ns = fake_clock,
		.port_min = ALT_MIN,
		.port_max = ALT_MAX,
	};
	struct session_table_stats st;
	struct auth_session_stats ast;
	struct ctl_session_request req;
	struct ctl_session_reply rep, unauth;
	struct session_table *t;
	struct auth_path *ap;
	struct st_owner a;
	int fd;
	(void)state;

	assert_int_equal(auth_path_open_opts(&ap, &loader, &aopts), 0);
	cfg.auth = ap;
	assert_int_equal(session_table_new(&cfg, &t), 0);
	owner_init(&a, "198.51.100.2", "127.0.0.1");

	req = request(&a, 5000, 46000);
	req.mode = XT_MODE_AUTHENTICATED;
	req.aes_session_key = aes;
	req.hmac_session_key = hmac;
	rep = ask(t, &a, &req);
	assert_int_equal(rep.accept, XT_ACCEPT_OK);
	assert_int_equal(rep.port, 46000);
	assert_int_equal(map_value(&a, 5000, 46000).flags, XT_SESS_SET_DSCP | XT_SESS_USERSPACE);
	assert_int_equal(port_flags(46000), XT_PORT_SESSIONS);
	assert_int_equal(auth_path_session_stats(ap, rep.sid, &ast), 0);
	assert_int_equal(ast.path, XT_PATH_SOCKET);
	/* The auth path's socket holds the port on every address. */
	assert_int_equal(other_program_binds("127.0.0.1", 46000, &fd), -EADDRINUSE);

	/* An unauthenticated session does not share the auth path's port... */
	req = request(&a, 5001, 46000);
	unauth = ask(t, &a, &req);
	assert_int_equal(unauth.accept, XT_ACCEPT_OK);
	assert_in_range(unauth.port, ALT_MIN, ALT_MAX);
	/* ...nor an authenticated one a port with our own reservations. */
	req = request(&a, 5002, unauth.port);
	req.mode = XT_MODE_ENCRYPTED;
	req.aes_session_key = aes;
	req.hmac_session_key = hmac;
	rep = ask(t, &a, &req);
	assert_int_equal(rep.accept, XT_ACCEPT_OK);
	assert_int_not_equal(rep.port, unauth.port);
	/* Two authenticated sessions share a port. */
	req = request(&a, 5003, 46000);
	req.mode = XT_MODE_ENCRYPTED;
	req.aes_session_key = aes;
	req.hmac_session_key = hmac;
	assert_int_equal(ask(t, &a, &req).accept, XT_ACCEPT_OK);
	assert_int_equal(map_entries(), 4);

	session_table_get_stats(t, &st);
	assert_int_equal(st.by_mode[ST_MODE_AUTHENTICATED], 1);
	assert_int_equal(st.by_mode[ST_MODE_ENCRYPTED], 2);
	assert_int_equal(st.by_path[XT_PATH_SOCKET], 3);
	assert_int_equal(st.by_path[XT_PATH_XDP], 1);

	/* Start, stop, Timeout: the auth path forgets them and lets the port go. */
	assert_int_equal(session_table_start(t, &a, NULL, 0, NULL), XT_ACCEPT_OK);
	assert_int_equal(session_table_stop(t, &a, NULL, 0, NULL), XT_ACCEPT_OK);
	fake_now += 3 * SEC_NS;
	session_table_sweep(t);
	assert_int_equal(map_entries(), 0);
	assert_int_equal(auth_path_session_stats(ap, rep.sid, &ast), -ENOENT);
	assert_int_equal(port_flags(46000), 0);
	assert_int_equal(other_program_binds("127.0.0.1", 46000, &fd), 0);
	close(fd);
	session_table_free(t);
	auth_path_close(ap);
}

/* Test the log limiter: one line per interval, with the count held back. */
static void test_log_limit(void **state)
{
	struct st_log_limit l = { 0 };
	__u64 suppressed = 99;
	(void)state;

	assert_true(st_log_limit_ok(&l, 5 * SEC_NS, &suppressed));
	assert_int_equal(suppressed, 0);
	assert_false(st_log_limit_ok(&l, 6 * SEC_NS, &suppressed));
	assert_false(st_log_limit_ok(&l, 14 * SEC_NS, &suppressed));
	assert_true(st_log_limit_ok(&l, 15 * SEC_NS, &suppressed));
	assert_int_equal(suppressed, 2);
}

/* Nothing may be left in the maps once every test is done. */
static int group_teardown(void **state)
{
	(void)state;
	if (map_entries() != 0) {
		fprintf(stderr, "xtwamp_sessions not empty after the tests\n");
		return -1;
	}
	if (port_flags(LIGHT_TWAMP_PORT) != XT_PORT_LIGHT) {
		fprintf(stderr, "light port flags changed\n");
		return -1;
	}
	xtwamp__destroy(skel);
	return 0;
}

static int skip_test(const char *why)
{
	printf("SKIP: %s\n", why);
	return 77;
}

/* A network namespace of our own with lo up: ports here meet no other program. */
static int private_netns(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd;

	if (unshare(CLONE_NEWNET))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_ports_and_close),
		cmocka_unit_test(test_orphan_port_kept),
		cmocka_unit_test(test_start_stop_deadline),
		cmocka_unit_test(test_sweep_budget),
		cmocka_unit_test(test_refwait),
		cmocka_unit_test(test_clock_step),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_individual),
		cmocka_unit_test(test_authenticated),
		cmocka_unit_test(test_log_limit),
	};
	struct xt_port light = { .flags = XT_PORT_LIGHT, .format = XT_FMT_TWAMP };
	struct xt_port stamp = { .flags = XT_PORT_LIGHT, .format = XT_FMT_STAMP };
	__u32 port;

	log_init("test_session_table", LOG_LEVEL_WARN);
	if (geteuid() != 0)
		return skip_test("needs root: loads the XDP program's maps");
	if (private_netns())
		return skip_test("cannot create a network namespace");
	skel = xtwamp__open_and_load();
	if (!skel)
		return skip_test("cannot load the XDP program (kernel without BTF/BPF?)");
	sessions_fd = bpf_map__fd(skel->maps.xtwamp_sessions);
	ports_fd = bpf_map__fd(skel->maps.xtwamp_ports);
	/* What the loader writes for --light-port 862 --stamp-port 8620. */
	port = LIGHT_TWAMP_PORT;
	bpf_map_update_elem(ports_fd, &port, &light, BPF_ANY);
	port = LIGHT_STAMP_PORT;
	bpf_map_update_elem(ports_fd, &port, &stamp, BPF_ANY);

	return cmocka_run_group_tests_name("session table on the real maps", tests, NULL,
					   group_teardown);
}
