// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The TWAMP-Control server over real TCP on loopback, with a fake clock:
 * the greeting each client is offered (--require-auth), refusals at accept
 * (--max-connections-per-client, --control-allow), a whole unauthenticated
 * exchange whose session appears in and leaves the real xtwamp_sessions
 * map, SERVWAIT paused while a session runs, and a drip-fed message closed
 * as stalled, and the keyed modes' PBKDF2 off the event loop (another
 * connection is served while a derivation runs; a connection closed with
 * its derivation in flight, and a shutdown then, stay clean).  Runs in a network namespace of its own; needs root (exits 77,
 * skipped, otherwise).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
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
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "control_server.h"
#include "log.h"
#include "twamp_crypto.h"
#include "xtwamp.skel.h"

#define SEC_NS 1000000000ULL

static struct xtwamp *skel;
static __u64 fake_now = 100 * SEC_NS;
static struct tw_keyring ring;
static struct tw_key key = { .identity = "alice", .secret = "secret", .secret_len = 6 };

static __u64 fake_clock(void)
{
	return fake_now;
}

struct bed {
	struct xtwampd_opts opts;
	struct session_table *st;
	struct control_server *cs;
};

static void bed_up(struct bed *b, const char **args, int nargs)
{
	char *argv[24] = { "xtwampd", "-i", "lo", "--control-addr", "127.0.0.1" };
	struct session_table_config stc = {
		.sessions_fd = bpf_map__fd(skel->maps.xtwamp_sessions),
		.ports_fd = bpf_map__fd(skel->maps.xtwamp_ports),
		.max_sessions = 16,
		.max_per_owner = 4,
		.refwait_ns = 900 * SEC_NS,
		.now_tai_ns = fake_clock, /* stop deadlines on the same clock as SERVWAIT */
	};
	struct control_server_config csc = { .server_start_ntp = 1, .now_ns = fake_clock };
	char err[256];
	int argc = 5, i;

	for (i = 0; i < nargs; i++)
		argv[argc++] = (char *)args[i];
	if (xtwampd_parse_args(argc, argv, &b->opts, err, sizeof(err)))
		fail_msg("options: %s", err);
	assert_int_equal(session_table_new(&stc, &b->st), 0);
	csc.opts = &b->opts;
	csc.modes = b->opts.modes;
	csc.keys = b->opts.keys_path[0] ? &ring : NULL;
	csc.sessions = b->st;
	assert_int_equal(control_server_open(&csc, &b->cs), 0);
}

static void bed_down(struct bed *b)
{
	control_server_close(b->cs);
	session_table_free(b->st);
}

/* Let the server handle whatever is ready, a few rounds. */
static void pump(struct bed *b)
{
	struct pollfd p = { .fd = control_server_fd(b->cs), .events = POLLIN };
	int i;

	for (i = 0; i < 20; i++) {
		if (poll(&p, 1, i < 3 ? 20 : 2) <= 0 && i >= 3)
			break;
		control_server_handle(b->cs);
	}
}

static int client(const char *from)
{
	struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, from, &src.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
	dst.sin_port = htons(862);
	assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&dst, sizeof(dst)), 0);
	return fd;
}

/* Read exactly n octets (server pumped in between); -1 on EOF/reset. */
static int read_n(struct bed *b, int fd, void *buf, size_t n)
{
	size_t got = 0;
	int tries;

	for (tries = 0; got < n && tries < 50; tries++) {
		ssize_t r;

		pump(b);
		r = recv(fd, (char *)buf + got, n - got, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN))
			return -1;
		if (r > 0)
			got += (size_t)r;
	}
	return got == n ? 0 : -1;
}

static bool closed_by_server(struct bed *b, int fd)
{
	char c;

	pump(b);
	return recv(fd, &c, 1, MSG_DONTWAIT) == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
}

static __u32 greeting_modes(struct bed *b, int fd)
{
	struct xt_server_greeting g;

	if (read_n(b, fd, &g, sizeof(g)))
		return 0xffffffff;
	return ntohl(g.modes);
}

static unsigned map_entries(void)
{
	struct xt_session_key k, next;
	void *prev = NULL;
	unsigned n = 0;

	while (!bpf_map_get_next_key(bpf_map__fd(skel->maps.xtwamp_sessions), prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

/* Test the greeting per client and the refusals at accept. */
static void test_greeting_and_accept_limits(void **state)
{
	const char *args[] = {
		"--keys", "k", "--require-auth", "127.0.0.2/32", "--max-connections-per-client", "2"
	};
	struct control_server_stats st;
	struct bed b;
	int a1, a2, a3, r;
	(void)state;

	bed_up(&b, args, 6);
	a1 = client("127.0.0.1");
	assert_int_equal(greeting_modes(&b, a1), 0x7f);
	/* --require-auth: neither unauthenticated nor mixed (unauthenticated test packets) */
	r = client("127.0.0.2");
	assert_int_equal(greeting_modes(&b, r),
			 XT_MODE_AUTHENTICATED | XT_MODE_ENCRYPTED | XT_MODE_INDIVIDUAL_SESSIONS |
				 XT_MODE_REFLECT_OCTETS | XT_MODE_SYMMETRICAL_SIZE);
	a2 = client("127.0.0.1");
	assert_int_equal(greeting_modes(&b, a2), 0x7f);
	a3 = client("127.0.0.1"); /* the third from one address */
	assert_int_equal(greeting_modes(&b, a3), 0xffffffff);
	assert_true(closed_by_server(&b, a3));
	control_server_get_stats(b.cs, &st);
	assert_int_equal(st.accepted, 3);
	assert_int_equal(st.open, 3);
	assert_int_equal(st.require_auth, 1);
	assert_int_equal(st.refused[CS_REFUSE_LIMIT_CLIENT], 1);
	close(a1);
	close(a2);
	close(a3);
	close(r);
	pump(&b);
	control_server_get_stats(b.cs, &st);
	assert_int_equal(st.open, 0);
	assert_int_equal(st.closed[CS_CLOSE_CLIENT_QUIT], 3);
	bed_down(&b);
}

/* Test --control-allow: a client outside is closed without a greeting. */
static void test_control_allow(void **state)
{
	const char *args[] = { "--control-allow", "192.0.2.0/24" };
	struct control_server_stats st;
	struct bed b;
	int fd;
	(void)state;

	bed_up(&b, args, 2);
	fd = client("127.0.0.1");
	assert_int_equal(greeting_modes(&b, fd), 0xffffffff);
	control_server_get_stats(b.cs, &st);
	assert_int_equal(st.refused[CS_REFUSE_NOT_ALLOWED], 1);
	assert_int_equal(st.accepted, 0);
	close(fd);
	bed_down(&b);
}

/* Test a whole exchange, and SERVWAIT: paused while the session runs. */
static void test_session_and_servwait(void **state)
{
	const char *args[] = { "--servwait", "5" };
	struct xt_setup_response setup = { .mode = htonl(XT_MODE_UNAUTHENTICATED) };
	struct xt_request_tw_session req = {
		.command = XT_CMD_REQUEST_TW_SESSION,
		.ipvn = 4,
		.sender_port = htons(7777),
		.receiver_port = htons(45678),
		.timeout = { .sec = htonl(1) },
	};
	struct xt_start_sessions start = { .command = XT_CMD_START_SESSIONS };
	struct xt_stop_sessions stop = { .command = XT_CMD_STOP_SESSIONS,
					 .number_of_sessions = htonl(1) };
	struct control_server_stats st;
	struct xt_server_start ss;
	struct xt_accept_session acc;
	struct xt_start_ack ack;
	struct bed b;
	int fd;
	(void)state;

	bed_up(&b, args, 2);
	fd = client("127.0.0.1");
	assert_int_equal(greeting_modes(&b, fd), 0x71);
	assert_int_equal(send(fd, &setup, sizeof(setup), 0), sizeof(setup));
	assert_int_equal(read_n(&b, fd, &ss, sizeof(ss)), 0);
	assert_int_equal(ss.accept, 0);
	assert_int_equal(send(fd, &req, sizeof(req), 0), sizeof(req));
	assert_int_equal(read_n(&b, fd, &acc, sizeof(acc)), 0);
	assert_int_equal(acc.accept, XT_ACCEPT_OK);
	assert_int_equal(ntohs(acc.port), 45678);
	assert_int_equal(map_entries(), 1);
	assert_int_equal(send(fd, &start, sizeof(start), 0), sizeof(start));
	assert_int_equal(read_n(&b, fd, &ack, sizeof(ack)), 0);
	assert_int_equal(ack.accept, XT_ACCEPT_OK);

	/* A started session pauses SERVWAIT, however long the client is silent. */
	fake_now += 60 * SEC_NS;
	control_server_tick(b.cs);
	assert_false(closed_by_server(&b, fd));

	/* Stop-Sessions restarts it: 5 s of silence from now closes. */
	assert_int_equal(send(fd, &stop, sizeof(stop), 0), sizeof(stop));
	pump(&b);
	fake_now += 4 * SEC_NS;
	control_server_tick(b.cs);
	assert_false(closed_by_server(&b, fd));
	fake_now += 1 * SEC_NS;
	control_server_tick(b.cs);
	assert_true(closed_by_server(&b, fd));
	control_server_get_stats(b.cs, &st);
	assert_int_equal(st.closed[CS_CLOSE_SERVWAIT], 1);
	assert_int_equal(map_entries(), 0); /* the connection took its session along */
	close(fd);
	bed_down(&b);
}

/* Test that a message drip-fed for --servwait closes the connection. */
static void test_stalled_message(void **state)
{
	const char *args[] = { "--servwait", "5" };
	struct control_server_stats st;
	__u8 setup[sizeof(struct xt_setup_response)] = { 0 };
	struct bed b;
	int fd, i;
	(void)state;

	bed_up(&b, args, 2);
	fd = client("127.0.0.1");
	assert_int_equal(greeting_modes(&b, fd), 0x71);
	/* One octet a second: never idle, never complete; closed 5 s after the first. */
	for (i = 0; i < 10 && !closed_by_server(&b, fd); i++) {
		send(fd, &setup[i], 1, MSG_NOSIGNAL);
		pump(&b);
		fake_now += SEC_NS;
		control_server_tick(b.cs);
	}
	assert_int_equal(i, 5);
	control_server_get_stats(b.cs, &st);
	assert_int_equal(st.closed[CS_CLOSE_STALLED], 1);
	close(fd);
	bed_down(&b);
}

static struct bed b_kdf;
static __u64 kdf_ms = 1000; /* one PBKDF2 with Count 2^22 here, measured */

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

/* An encrypted-mode Set-Up-Response for a KeyID nobody has: full PBKDF2, then refused. */
static int keyed_client_pending(struct bed *b)
{
	struct xt_setup_response setup = { .mode = htonl(XT_MODE_ENCRYPTED) };
	int fd = client("127.0.0.1");

	memcpy(setup.key_id, "mallory", 7);
	assert_int_equal(greeting_modes(b, fd), 0x7f);
	assert_int_equal(send(fd, &setup, sizeof(setup), 0), sizeof(setup));
	return fd;
}

/* Pump until fd is readable or closed by the server; false after max_ms. */
static bool wait_answer(struct bed *b, int fd, __u64 max_ms)
{
	__u64 end = mono_ms() + max_ms;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (mono_ms() < end) {
		pump(b);
		if (poll(&p, 1, 0) > 0)
			return true;
	}
	return false;
}

/*
 * Test that the PBKDF2 of a keyed handshake does not stall the loop: with
 * Count 2^22 (about a second here) pending, an unauthenticated client gets
 * its greeting and Server-Start; the keyed one is answered afterwards.
 */
static void test_kdf_off_loop(void **state)
{
	const char *args[] = { "--keys", "k", "--max-count-exponent", "22" };
	struct xt_setup_response open = { .mode = htonl(XT_MODE_UNAUTHENTICATED) };
	struct control_server_stats st;
	struct xt_server_start ss;
	__u64 t0, served_ms;
	int slow, fast;
	(void)state;

	bed_up(&b_kdf, args, 4);
	/* How long one derivation takes here, done in place: the yardstick. */
	t0 = mono_ms();
	{
		__u8 salt[16] = { 0 }, k[16];

		assert_int_equal(tw_derive_key("x", 1, salt, 1U << 22, k), 0);
	}
	kdf_ms = mono_ms() - t0;

	slow = keyed_client_pending(&b_kdf);
	pump(&b_kdf); /* its derivation is queued now */
	t0 = mono_ms();
	fast = client("127.0.0.1");
	assert_int_equal(greeting_modes(&b_kdf, fast), 0x7f);
	assert_int_equal(send(fast, &open, sizeof(open), 0), sizeof(open));
	assert_int_equal(read_n(&b_kdf, fast, &ss, sizeof(ss)), 0);
	assert_int_equal(ss.accept, XT_ACCEPT_OK);
	served_ms = mono_ms() - t0;
	/* The keyed client has no answer yet: the other one did not wait for it. */
	control_server_get_stats(b_kdf.cs, &st);
	assert_int_equal(st.closed[CS_CLOSE_AUTH_FAILED], 0);
	assert_true(served_ms < kdf_ms);

	/* ... and gets its refusal once the worker is done. */
	assert_true(wait_answer(&b_kdf, slow, 20 * kdf_ms + 2000));
	assert_int_equal(read_n(&b_kdf, slow, &ss, sizeof(ss)), 0);
	assert_int_equal(ss.accept, XT_ACCEPT_FAILURE);
	assert_true(closed_by_server(&b_kdf, slow));
	control_server_get_stats(b_kdf.cs, &st);
	assert_int_equal(st.closed[CS_CLOSE_AUTH_FAILED], 1);
	close(slow);
	close(fast);
	bed_down(&b_kdf);
}

/*
 * Test closing a connection whose derivation is in flight (SERVWAIT here):
 * the result must be dropped without touching it (ASan in the sanitize
 * suite), and a shutdown with another derivation pending joins the worker
 * and frees the job.
 */
static void test_kdf_close_in_flight(void **state)
{
	const char *args[] = { "--keys", "k", "--max-count-exponent", "20", "--servwait", "5" };
	struct control_server_stats st;
	__u64 t0;
	int a, c;
	(void)state;

	bed_up(&b_kdf, args, 6);
	a = keyed_client_pending(&b_kdf);
	pump(&b_kdf);
	fake_now += 5 * SEC_NS;
	control_server_tick(b_kdf.cs);
	control_server_get_stats(b_kdf.cs, &st);
	assert_int_equal(st.closed[CS_CLOSE_SERVWAIT], 1);
	assert_int_equal(st.open, 0);
	/* Let the worker finish (or skip) the orphaned job and the loop collect it. */
	t0 = mono_ms();
	while (mono_ms() - t0 < 10 * kdf_ms / 4 + 500)
		pump(&b_kdf);
	control_server_get_stats(b_kdf.cs, &st);
	assert_int_equal(st.closed[CS_CLOSE_AUTH_FAILED], 0);
	assert_int_equal(st.closed[CS_CLOSE_SERVWAIT], 1);

	/* Shutdown while a derivation is queued or running: bounded by that one. */
	c = keyed_client_pending(&b_kdf);
	pump(&b_kdf);
	t0 = mono_ms();
	bed_down(&b_kdf);
	assert_true(mono_ms() - t0 < 4 * kdf_ms / 4 + 1000);
	close(a);
	close(c);
}

/*
 * Test the bound on pending derivations: with the worker busy for about two
 * seconds per job, of 65 keyed Set-Up-Responses arriving together one is
 * refused with Accept 5 and counted; shutdown then frees the queued jobs
 * without running them (bounded by the one running).
 */
static void test_kdf_queue_full(void **state)
{
	const char *args[] = { "--keys",
			       "k",
			       "--max-count-exponent",
			       "23",
			       "--max-connections",
			       "100",
			       "--max-connections-per-client",
			       "100" };
	struct xt_setup_response setup = { .mode = htonl(XT_MODE_ENCRYPTED) };
	struct xt_server_greeting g;
	struct control_server_stats st;
	struct xt_server_start ss;
	int fds[65], i, refused = 0;
	__u64 t0;
	(void)state;

	memcpy(setup.key_id, "mallory", 7);
	bed_up(&b_kdf, args, 8);
	for (i = 0; i < 65; i++)
		fds[i] = client("127.0.0.1");
	pump(&b_kdf);
	for (i = 0; i < 65; i++)
		assert_int_equal(send(fds[i], &setup, sizeof(setup), 0), sizeof(setup));
	pump(&b_kdf);
	for (i = 0; i < 65; i++) {
		assert_int_equal(read_n(&b_kdf, fds[i], &g, sizeof(g)), 0);
		if (recv(fds[i], &ss, sizeof(ss), MSG_DONTWAIT) == sizeof(ss)) {
			assert_int_equal(ss.accept, XT_ACCEPT_TEMPORARY_LIMIT);
			refused++;
		}
	}
	assert_int_equal(refused, 1);
	control_server_get_stats(b_kdf.cs, &st);
	assert_int_equal(st.closed[CS_CLOSE_KDF_BUSY], 1);
	t0 = mono_ms();
	bed_down(&b_kdf);
	assert_true(mono_ms() - t0 < 2 * kdf_ms + 1000);
	for (i = 0; i < 65; i++)
		close(fds[i]);
}

static int skip_test(const char *why)
{
	printf("SKIP: %s\n", why);
	return 77;
}

/* Our own network namespace with lo up: 127.0.0.0/8 and port 862 to ourselves. */
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
		cmocka_unit_test(test_greeting_and_accept_limits),
		cmocka_unit_test(test_control_allow),
		cmocka_unit_test(test_session_and_servwait),
		cmocka_unit_test(test_stalled_message),
		cmocka_unit_test(test_kdf_off_loop),
		cmocka_unit_test(test_kdf_close_in_flight),
		cmocka_unit_test(test_kdf_queue_full),
	};
	int rc;

	log_init("test_control_server", LOG_LEVEL_WARN);
	if (geteuid() != 0)
		return skip_test("needs root: loads the XDP program's maps");
	if (private_netns())
		return skip_test("cannot create a network namespace");
	skel = xtwamp__open_and_load();
	if (!skel)
		return skip_test("cannot load the XDP program (kernel without BTF/BPF?)");
	ring.keys = &key;
	ring.n_keys = 1;
	rc = cmocka_run_group_tests_name("control server over loopback", tests, NULL, NULL);
	xtwamp__destroy(skel);
	return rc;
}
