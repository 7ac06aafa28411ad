// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* control_server.c - see control_server.h */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "addr.h"
#include "control_conn.h"
#include "control_server.h"
#include "log.h"

#ifndef TCP_SAVE_SYN
#define TCP_SAVE_SYN 27
#endif
#ifndef TCP_SAVED_SYN
#define TCP_SAVED_SYN 28
#endif

#define CS_BACKLOG 128
#define CS_ACCEPTS_PER_EVENT 64 /* then let the others have a turn */
#define CS_READS_PER_EVENT 16
#define CS_READ_CHUNK 4096
#define CS_EVENTS 64
#define CS_ENDPOINT_LEN (XT_ADDR_STRLEN + 8)

enum cs_src_kind { CS_SRC_LISTENER, CS_SRC_CONN, CS_SRC_KDF };

/* What an epoll event points at. */
struct cs_src {
	enum cs_src_kind kind;
};

struct cs_listener {
	struct cs_src src;
	int fd;
	char name[CS_ENDPOINT_LEN];
};

struct cs_conn {
	struct cs_src src;
	struct cs_conn *prev, *next;
	struct control_server *srv;
	struct st_owner owner; /* the session table's view of this connection */
	struct ctl_conn *ctl;
	int fd;
	__u32 events; /* current epoll interest */
	char peer[CS_ENDPOINT_LEN];
	__u64 opened_ns;
	__u64 last_rx_ns;   /* last octets received */
	__u64 idle_from_ns; /* SERVWAIT restarts here when sessions stop running */
	__u64 msg_start_ns; /* a message began arriving and is not complete yet */
	__u32 sessions_accepted;
	bool mid_message;
	struct cs_kdf_job *job; /* key derivation in flight for this connection */
};

/*
 * One PBKDF2 for the worker thread.  The job owns a copy of the secret (the
 * keyring is not shared with the thread) and is wiped before it is freed.
 * conn is NULL once the connection closed: the result is then dropped.
 */
struct cs_kdf_job {
	struct cs_kdf_job *next;
	struct cs_conn *conn; /* loop thread only */
	bool cancelled;	      /* under kdf_lock */
	int err;
	__u32 count;
	size_t secret_len;
	__u8 salt[16];
	__u8 key[TW_AES_KEY_LEN];
	__u8 secret[TW_MAX_SECRET_LEN];
};

/* Jobs queued, running or done but not yet collected: memory stays bounded. */
#define CS_KDF_JOBS 64

struct cs_kdf {
	struct cs_src src; /* the eventfd in the epoll set */
	int efd;
	bool running; /* the thread was started */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	struct cs_kdf_job *queue, **queue_tail; /* for the worker */
	struct cs_kdf_job *done;		/* for the loop */
	__u32 jobs;				/* all of them (loop thread only) */
};

/*
 * "connected" / "closed" lines: at most CS_CONN_LOG_BURST per
 * ST_LOG_INTERVAL_NS, then one line saying how many were left out.  A
 * client opening and dropping connections in a loop must not turn each one
 * into two log lines (RFC 8545 §6 DoS); the counters stay exact.
 */
#define CS_CONN_LOG_BURST 20
/* Closed connections after which an idle server hands freed heap back. */
#define CS_TRIM_AFTER_CLOSES 64
struct cs_log_budget {
	__u64 window_ns; /* start of the current interval; 0 = none yet */
	__u32 lines;	 /* logged in it */
	__u64 suppressed;
};

struct control_server {
	struct control_server_config cfg;
	struct ctl_conn_config ctl_cfg;
	int epfd;
	int spare_fd; /* given up to accept-and-close when out of descriptors */
	struct cs_listener listeners[XT_MAX_CONTROL_ADDRS];
	int n_listeners;
	struct cs_conn *conns;
	struct control_server_stats stats;
	struct st_log_limit refusal_log[CS_REFUSE__COUNT];
	struct cs_log_budget conn_log;
	__u32 closes_since_trim; /* see control_server_tick() */
	struct cs_kdf kdf;
};

static const char *const refusal_names[] = {
#define CS_NAME(id, name, help) name,
	CS_REFUSALS(CS_NAME)
#undef CS_NAME
};
static const char *const refusal_help[] = {
#define CS_HELP(id, name, help) help,
	CS_REFUSALS(CS_HELP)
#undef CS_HELP
};
static const char *const close_names[] = {
#define CS_NAME(id, name) name,
	CS_CLOSES(CS_NAME)
#undef CS_NAME
};

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static __u64 now(const struct control_server *s)
{
	return s->cfg.now_ns ? s->cfg.now_ns() : mono_ns();
}

static void fmt_endpoint(const union xt_addr *a, __u16 port, char *buf, size_t len)
{
	char addr[XT_ADDR_STRLEN];

	xt_addr_format(a, addr, sizeof(addr));
	snprintf(buf, len, xt_addr_is_v4(a) ? "%s:%u" : "[%s]:%u", addr, port);
}

/* sockaddr (either family; IPv4-mapped for IPv4 peers of dual-stack sockets) to the map form. */
static __u16 from_sockaddr(const struct sockaddr_storage *ss, union xt_addr *a)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		xt_addr_from_in(a, &sin->sin_addr);
		return ntohs(sin->sin_port);
	}
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

	xt_addr_from_in6(a, &sin6->sin6_addr);
	return ntohs(sin6->sin6_port);
}

static bool prefix_match(const struct xt_allow_key *p, const union xt_addr *a)
{
	__u32 full = p->prefixlen / 8, rest = p->prefixlen % 8;

	if (memcmp(p->addr.b, a->b, full))
		return false;
	return !rest || !((p->addr.b[full] ^ a->b[full]) & (0xff00 >> rest));
}

static bool in_prefixes(const struct xt_allow_key *list, int n, const union xt_addr *a)
{
	int i;

	for (i = 0; i < n; i++)
		if (prefix_match(&list[i], a))
			return true;
	return false;
}

static int ep_set(struct control_server *s, int op, int fd, __u32 events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(s->epfd, op, fd, &ev) ? -errno : 0;
}

/* ---- ctl_conn_ops: the connection asks, the session table decides ------- */

static void op_request(void *owner, struct ctl_conn *c, const struct ctl_session_request *req,
		       struct ctl_session_reply *rep)
{
	struct cs_conn *cc = owner;

	(void)c;
	session_table_request(cc->srv->cfg.sessions, &cc->owner, req, rep);
	if (rep->accept == XT_ACCEPT_OK)
		cc->sessions_accepted++;
}

static __u8 op_start(void *owner, struct ctl_conn *c, const __u8 (*sids)[XT_SID_LEN], __u32 n,
		     __u8 *accepts)
{
	struct cs_conn *cc = owner;

	(void)c;
	return session_table_start(cc->srv->cfg.sessions, &cc->owner, sids, n, accepts);
}

/*
 * A non-zero Accept (the client's, or control_conn's for a wrong Number of
 * Sessions) ends the connection right after this call, and closing removes
 * the sessions at once; until then they stop like after a normal stop.
 */
static __u8 op_stop(void *owner, struct ctl_conn *c, const __u8 (*sids)[XT_SID_LEN], __u32 n,
		    __u8 accept, __u8 *accepts)
{
	struct cs_conn *cc = owner;

	(void)c;
	(void)accept;
	return session_table_stop(cc->srv->cfg.sessions, &cc->owner, sids, n, accepts);
}

static __u32 op_running(void *owner, struct ctl_conn *c)
{
	struct cs_conn *cc = owner;

	(void)c;
	return cc->owner.n_running;
}

/* ---- key derivation worker ------------------------------------------------ */

static void kdf_job_free(struct cs_kdf_job *j)
{
	OPENSSL_cleanse(j, sizeof(*j));
	free(j);
}

static void *kdf_thread(void *arg)
{
	struct cs_kdf *k = arg;
	struct cs_kdf_job *j;
	__u64 one = 1;
	bool cancelled;

	pthread_mutex_lock(&k->lock);
	for (;;) {
		while (!k->stop && !k->queue)
			pthread_cond_wait(&k->wake, &k->lock);
		if (k->stop)
			break;
		j = k->queue;
		k->queue = j->next;
		if (!k->queue)
			k->queue_tail = &k->queue;
		cancelled = j->cancelled;
		pthread_mutex_unlock(&k->lock);
		/* A closed connection's job is not worth 9 ms. */
		j->err = cancelled ?
				 -ECANCELED :
				 tw_derive_key(j->secret, j->secret_len, j->salt, j->count, j->key);
		OPENSSL_cleanse(j->secret, sizeof(j->secret));
		pthread_mutex_lock(&k->lock);
		j->next = k->done;
		k->done = j;
		/* Cannot fail short of a counter overflow; the loop reads it to 0. */
		(void)!write(k->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&k->lock);
	return NULL;
}

static int kdf_start(struct control_server *s)
{
	struct cs_kdf *k = &s->kdf;
	sigset_t all, old;
	int err;

	k->src.kind = CS_SRC_KDF;
	k->queue_tail = &k->queue;
	k->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (k->efd < 0)
		return -errno;
	err = ep_set(s, EPOLL_CTL_ADD, k->efd, EPOLLIN, &k->src);
	if (err)
		return err;
	pthread_mutex_init(&k->lock, NULL);
	pthread_cond_init(&k->wake, NULL);
	/* Signals are the loop's business (signalfd): the worker takes none. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = -pthread_create(&k->thread, NULL, kdf_thread, k);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		pthread_cond_destroy(&k->wake);
		pthread_mutex_destroy(&k->lock);
		return err;
	}
	k->running = true;
	return 0;
}

/* Stop the worker (after at most the derivation it is running) and free every job. */
static void kdf_stop(struct control_server *s)
{
	struct cs_kdf *k = &s->kdf;
	struct cs_kdf_job *j;

	if (k->running) {
		pthread_mutex_lock(&k->lock);
		k->stop = true;
		pthread_cond_signal(&k->wake);
		pthread_mutex_unlock(&k->lock);
		pthread_join(k->thread, NULL);
		pthread_cond_destroy(&k->wake);
		pthread_mutex_destroy(&k->lock);
		k->running = false;
	}
	while ((j = k->queue)) {
		k->queue = j->next;
		kdf_job_free(j);
	}
	while ((j = k->done)) {
		k->done = j->next;
		kdf_job_free(j);
	}
	k->queue_tail = &k->queue;
	k->jobs = 0;
	if (k->efd >= 0)
		close(k->efd);
	k->efd = -1;
}

static int op_derive_key(void *owner, struct ctl_conn *ctl, const void *secret, size_t secret_len,
			 const __u8 salt[16], __u32 count)
{
	struct cs_conn *cc = owner;
	struct cs_kdf *k = &cc->srv->kdf;
	struct cs_kdf_job *j;

	(void)ctl;
	if (!k->running || k->jobs >= CS_KDF_JOBS || secret_len > sizeof(j->secret))
		return -EBUSY;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->conn = cc;
	j->count = count;
	j->secret_len = secret_len;
	memcpy(j->salt, salt, sizeof(j->salt));
	memcpy(j->secret, secret, secret_len);
	cc->job = j;
	k->jobs++;
	pthread_mutex_lock(&k->lock);
	*k->queue_tail = j;
	k->queue_tail = &j->next;
	pthread_cond_signal(&k->wake);
	pthread_mutex_unlock(&k->lock);
	return 0;
}

/* The connection closes with its job in flight: the result will be dropped. */
static void kdf_cancel(struct cs_conn *cc)
{
	struct cs_kdf *k = &cc->srv->kdf;

	if (!cc->job)
		return;
	pthread_mutex_lock(&k->lock);
	cc->job->cancelled = true;
	pthread_mutex_unlock(&k->lock);
	cc->job->conn = NULL;
	cc->job = NULL;
}

static const struct ctl_conn_ops conn_ops = {
	.request_session = op_request,
	.start_sessions = op_start,
	.stop_sessions = op_stop,
	.running_sessions = op_running,
	.derive_key = op_derive_key,
};

/* ---- connections -------------------------------------------------------- */

static enum cs_close from_ctl_reason(enum ctl_close_reason r)
{
	switch (r) {
	case CTL_CLOSE_CLIENT_QUIT:
		return CS_CLOSE_CLIENT_QUIT;
	case CTL_CLOSE_MODE_REFUSED:
		return CS_CLOSE_MODE_REFUSED;
	case CTL_CLOSE_AUTH_FAILED:
		return CS_CLOSE_AUTH_FAILED;
	case CTL_CLOSE_BAD_HMAC:
		return CS_CLOSE_BAD_HMAC;
	case CTL_CLOSE_TRUNCATED:
		return CS_CLOSE_TRUNCATED;
	case CTL_CLOSE_STOP_FAILURE:
		return CS_CLOSE_STOP_FAILURE;
	case CTL_CLOSE_BUSY:
		return CS_CLOSE_KDF_BUSY;
	default:
		return CS_CLOSE_PROTOCOL;
	}
}

static const char *server_reason_str(enum cs_close why)
{
	switch (why) {
	case CS_CLOSE_SERVWAIT:
		return "idle for --servwait (SERVWAIT, RFC 5357 3.1)";
	case CS_CLOSE_STALLED:
		return "a message stayed incomplete for --servwait";
	case CS_CLOSE_IO_ERROR:
		return "connection error";
	case CS_CLOSE_SHUTDOWN:
		return "xtwampd stopping";
	default:
		return close_names[why];
	}
}

/*
 * Close: what the state machine still holds (a refusing Server-Start) is
 * sent once, without waiting; unread input is drained first so the kernel
 * ends with FIN rather than a reset that could discard that answer.
 */
/* Report what the last interval left out; force: at shutdown, whatever the time. */
static void conn_log_flush(struct control_server *s, __u64 t, bool force)
{
	struct cs_log_budget *b = &s->conn_log;

	if (!force && b->window_ns && t - b->window_ns < ST_LOG_INTERVAL_NS)
		return;
	if (b->suppressed)
		log_info("control: %llu connection open/close lines left out in the last %llu s "
			 "(at most %u per interval); `xtwamp stats` counts every connection",
			 (unsigned long long)b->suppressed,
			 (unsigned long long)((t - b->window_ns) / 1000000000ULL),
			 CS_CONN_LOG_BURST);
	b->window_ns = t;
	b->lines = 0;
	b->suppressed = 0;
}

static bool conn_log_ok(struct control_server *s)
{
	struct cs_log_budget *b = &s->conn_log;

	conn_log_flush(s, now(s), false);
	if (b->lines >= CS_CONN_LOG_BURST) {
		b->suppressed++;
		return false;
	}
	b->lines++;
	return true;
}

static void conn_close(struct cs_conn *c, enum cs_close why, enum ctl_close_reason ctl_why)
{
	struct control_server *s = c->srv;
	/* The state machine's own word, for its reasons only (it may be stale otherwise). */
	const char *detail = why < CS_CLOSE_SERVWAIT ? ctl_conn_detail(c->ctl) : "";
	char sink[CS_READ_CHUNK];
	const void *buf;
	size_t len;
	int i;

	len = ctl_conn_output(c->ctl, &buf);
	if (len && why != CS_CLOSE_IO_ERROR)
		send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	for (i = 0; i < 16 && recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++)
		;
	shutdown(c->fd, SHUT_WR);
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);

	if (conn_log_ok(s))
		log_info("control: %s closed: %s%s%s (after %llu s; %u session%s accepted)",
			 c->peer,
			 why < CS_CLOSE_SERVWAIT ? ctl_close_reason_str(ctl_why) :
						   server_reason_str(why),
			 detail && *detail ? ": " : "", detail ? detail : "",
			 (unsigned long long)((now(s) - c->opened_ns) / 1000000000ULL),
			 c->sessions_accepted, c->sessions_accepted == 1 ? "" : "s");
	session_table_close_owner(s->cfg.sessions, &c->owner);
	kdf_cancel(c);
	ctl_conn_free(c->ctl);
	s->stats.closed[why]++;
	s->stats.open--;
	s->closes_since_trim++;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

static void conn_close_ctl(struct cs_conn *c, enum ctl_close_reason r)
{
	conn_close(c, from_ctl_reason(r), r);
}

/* Read while nothing waits to be sent beyond the high-water mark. */
static int conn_update_interest(struct cs_conn *c)
{
	const void *buf;
	size_t pending = ctl_conn_output(c->ctl, &buf);
	__u32 want = 0;

	if (pending)
		want |= EPOLLOUT;
	/* RDHUP only with IN: level-triggered, it would spin while we do not read. */
	/* Nor while the key is derived: input waits in the socket, not in our buffers. */
	if (pending <= CTL_OUTPUT_HIGH_WATER && !ctl_conn_deriving(c->ctl))
		want |= EPOLLIN | EPOLLRDHUP;
	if (want == c->events)
		return 0;
	c->events = want;
	return ep_set(c->srv, EPOLL_CTL_MOD, c->fd, want, &c->src);
}

/* Send what is queued; -errno when the connection broke. */
static int conn_flush(struct cs_conn *c)
{
	const void *buf;
	size_t len;
	ssize_t w;

	while ((len = ctl_conn_output(c->ctl, &buf)) > 0) {
		w = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		ctl_conn_output_done(c->ctl, (size_t)w);
	}
	return conn_update_interest(c);
}

/* 0: still open; 1: closed (c is gone). */
static int conn_read(struct cs_conn *c)
{
	__u8 buf[CS_READ_CHUNK];
	enum ctl_close_reason r;
	const void *out;
	ssize_t n;
	int i;

	for (i = 0; i < CS_READS_PER_EVENT; i++) {
		if (ctl_conn_output(c->ctl, &out) > CTL_OUTPUT_HIGH_WATER)
			break; /* the client reads its answers first */
		if (ctl_conn_deriving(c->ctl))
			break; /* the key first (kdf_event() reads on) */
		n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			conn_close(c, CS_CLOSE_IO_ERROR, CTL_OPEN);
			return 1;
		}
		if (n == 0) {
			conn_close_ctl(c, ctl_conn_eof(c->ctl));
			return 1;
		}
		c->last_rx_ns = now(c->srv);
		r = ctl_conn_input(c->ctl, buf, (size_t)n);
		if (r != CTL_OPEN) {
			conn_close_ctl(c, r);
			return 1;
		}
		if (ctl_conn_mid_message(c->ctl)) {
			if (!c->mid_message)
				c->msg_start_ns = c->last_rx_ns;
			c->mid_message = true;
		} else {
			c->mid_message = false;
		}
		if (conn_flush(c)) {
			conn_close(c, CS_CLOSE_IO_ERROR, CTL_OPEN);
			return 1;
		}
		if ((size_t)n < sizeof(buf))
			break; /* drained, most likely: let epoll say */
	}
	return 0;
}

/* Finished derivations: complete their Set-Up-Responses (loop thread). */
static void kdf_event(struct control_server *s)
{
	struct cs_kdf *k = &s->kdf;
	struct cs_kdf_job *j, *next;
	enum ctl_close_reason r;
	struct cs_conn *c;
	__u64 n;

	if (read(k->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("control: key derivation eventfd: %s", strerror(errno));
	pthread_mutex_lock(&k->lock);
	j = k->done;
	k->done = NULL;
	pthread_mutex_unlock(&k->lock);
	for (; j; j = next) {
		next = j->next;
		k->jobs--;
		c = j->conn; /* NULL: closed meanwhile (cancelled is set too) */
		if (c) {
			c->job = NULL;
			r = ctl_conn_key_derived(c->ctl, j->err, j->key);
			if (r != CTL_OPEN)
				conn_close_ctl(c, r);
			else if (conn_flush(c))
				conn_close(c, CS_CLOSE_IO_ERROR, CTL_OPEN);
		}
		kdf_job_free(j);
	}
}

static void conn_event(struct cs_conn *c, __u32 events)
{
	if ((events & EPOLLOUT) && conn_flush(c)) {
		conn_close(c, CS_CLOSE_IO_ERROR, CTL_OPEN);
		return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		if (conn_read(c))
			return;
		/* HUP with output blocked on the high-water mark: nothing will drain it */
		if ((events & (EPOLLHUP | EPOLLERR)) && !(c->events & EPOLLIN))
			conn_close(c, CS_CLOSE_IO_ERROR, CTL_OPEN);
	}
}

/*
 * RFC 5357 §3.1: "The Server SHOULD use the DSCP of the Control-Client's
 * TCP SYN in ALL subsequent packets on that connection."  The listener
 * saved the SYN (TCP_SAVE_SYN); its IP header has the TOS / Traffic Class.
 */
static void mirror_syn_dscp(int fd)
{
	__u8 syn[128];
	socklen_t len = sizeof(syn);
	int tos;

	if (getsockopt(fd, IPPROTO_TCP, TCP_SAVED_SYN, syn, &len) || len < 2)
		return;
	if ((syn[0] >> 4) == 4)
		tos = syn[1];
	else if ((syn[0] >> 4) == 6)
		tos = ((syn[0] & 0x0f) << 4) | (syn[1] >> 4);
	else
		return;
	tos &= ~0x03; /* the DSCP; ECN is TCP's own business */
	if (!tos)
		return;
	if ((syn[0] >> 4) == 4)
		setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
}

static void refuse(struct control_server *s, enum cs_refusal why, const char *peer)
{
	__u64 suppressed;

	s->stats.refused[why]++;
	if (!st_log_limit_ok(&s->refusal_log[why], now(s), &suppressed))
		return;
	if (suppressed)
		log_info(
			"control: connection from %s refused: %s; %llu more refused for this reason "
			"in the last %llu s",
			peer, refusal_help[why], (unsigned long long)suppressed,
			ST_LOG_INTERVAL_NS / 1000000000ULL);
	else
		log_info("control: connection from %s refused: %s", peer, refusal_help[why]);
}

static __u32 conns_from(const struct control_server *s, const union xt_addr *peer)
{
	const struct cs_conn *c;
	__u32 n = 0;

	for (c = s->conns; c; c = c->next)
		if (!memcmp(&c->owner.peer, peer, sizeof(*peer)))
			n++;
	return n;
}

static void conn_open(struct control_server *s, int fd, const struct sockaddr_storage *peer_ss)
{
	const struct xtwampd_opts *o = s->cfg.opts;
	struct sockaddr_storage local_ss;
	socklen_t len = sizeof(local_ss);
	union xt_addr peer, local;
	char name[CS_ENDPOINT_LEN];
	bool auth_only;
	struct cs_conn *c;
	__u16 port;
	int one = 1, err;

	port = from_sockaddr(peer_ss, &peer);
	fmt_endpoint(&peer, port, name, sizeof(name));
	if (o->n_control_allow && !in_prefixes(o->control_allow, o->n_control_allow, &peer)) {
		close(fd);
		refuse(s, CS_REFUSE_NOT_ALLOWED, name);
		return;
	}
	if (s->stats.open >= o->max_connections) {
		close(fd);
		refuse(s, CS_REFUSE_LIMIT_TOTAL, name);
		return;
	}
	if (conns_from(s, &peer) >= o->max_connections_per_client) {
		close(fd);
		refuse(s, CS_REFUSE_LIMIT_CLIENT, name);
		return;
	}
	if (getsockname(fd, (struct sockaddr *)&local_ss, &len)) {
		close(fd);
		refuse(s, CS_REFUSE_NO_RESOURCES, name);
		return;
	}
	from_sockaddr(&local_ss, &local);
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		refuse(s, CS_REFUSE_NO_RESOURCES, name);
		return;
	}
	c->src.kind = CS_SRC_CONN;
	c->srv = s;
	c->fd = fd;
	c->owner.peer = peer;
	c->owner.local = local;
	snprintf(c->peer, sizeof(c->peer), "%s", name);
	c->opened_ns = c->last_rx_ns = c->idle_from_ns = now(s);
	c->ctl = ctl_conn_new(&s->ctl_cfg, &conn_ops, c, &peer, &local);
	if (!c->ctl) {
		free(c);
		close(fd);
		refuse(s, CS_REFUSE_NO_RESOURCES, name);
		return;
	}
	auth_only = o->n_require_auth && in_prefixes(o->require_auth, o->n_require_auth, &peer);
	if (auth_only) {
		ctl_conn_set_modes(c->ctl, s->ctl_cfg.modes_offered & ~XT_MODES_UNPROTECTED_TEST);
		s->stats.require_auth++;
	}
	/* Commands and answers are small and synchronous: no Nagle delay. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	mirror_syn_dscp(fd);
	err = ctl_conn_start(c->ctl);
	if (!err) {
		c->events = EPOLLIN | EPOLLRDHUP;
		err = ep_set(s, EPOLL_CTL_ADD, fd, c->events, &c->src);
	}
	if (err) {
		log_warn("control: cannot serve %s: %s", name, strerror(-err));
		ctl_conn_free(c->ctl);
		free(c);
		close(fd);
		refuse(s, CS_REFUSE_NO_RESOURCES, name);
		return;
	}
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->stats.accepted++;
	s->stats.open++;
	if (conn_log_ok(s))
		log_info("control: %s connected%s (%u open)", name,
			 auth_only ?
				 "; offered authenticated/encrypted modes only (--require-auth)" :
				 "",
			 s->stats.open);
	if (conn_flush(c)) /* the Server-Greeting */
		conn_close(c, CS_CLOSE_IO_ERROR, CTL_OPEN);
}

static void listener_event(struct control_server *s, struct cs_listener *l)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int i, fd;

	for (i = 0; i < CS_ACCEPTS_PER_EVENT; i++) {
		len = sizeof(ss);
		fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			conn_open(s, fd, &ss);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if ((errno == EMFILE || errno == ENFILE) && s->spare_fd >= 0) {
			/*
			 * Out of descriptors: the pending connection would keep the
			 * listener readable forever.  Use the spare to take it and
			 * close it at once, then get the spare back.
			 */
			close(s->spare_fd);
			fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				close(fd);
			s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			refuse(s, CS_REFUSE_NO_RESOURCES, "a client");
			continue;
		}
		break; /* EAGAIN, or an error the next event will show again */
	}
}

/* ---- listening ---------------------------------------------------------- */

static int listen_on(struct control_server *s, const union xt_addr *addr, bool dual_stack)
{
	const struct xtwampd_opts *o = s->cfg.opts;
	struct cs_listener *l = &s->listeners[s->n_listeners];
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, v6only = !dual_stack, fd, err;

	if (!dual_stack) {
		len = xt_addr_to_sockaddr(addr, o->control_port, &ss);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		memset(&ss, 0, sizeof(ss));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons(o->control_port);
		len = sizeof(*sin6);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	setsockopt(fd, IPPROTO_TCP, TCP_SAVE_SYN, &one, sizeof(one)); /* for the SYN's DSCP */
	if (ss.ss_family == AF_INET6 && dual_stack)
		snprintf(l->name, sizeof(l->name), "[::]:%u", o->control_port);
	else
		fmt_endpoint(addr, o->control_port, l->name, sizeof(l->name));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, CS_BACKLOG)) {
		err = -errno;
		close(fd);
		if (err == -EAFNOSUPPORT)
			return err; /* the caller falls back to IPv4 */
		if (err == -EADDRINUSE)
			log_error(
				"TCP port %u (%s) is already in use by another program (see `ss -tlpn "
				"'sport = :%u'`): stop it, choose another --control-port, or run "
				"with --no-control",
				o->control_port, l->name, o->control_port);
		else if (err == -EADDRNOTAVAIL)
			log_error(
				"cannot listen on %s: not an address of this host (see `ip addr`; "
				"fix --control-addr)",
				l->name);
		else if (err == -EACCES)
			log_error(
				"cannot listen on %s: permission denied (ports below 1024 need root "
				"or CAP_NET_BIND_SERVICE)",
				l->name);
		else
			log_error("cannot listen on %s: %s", l->name, strerror(-err));
		return err;
	}
	l->src.kind = CS_SRC_LISTENER;
	l->fd = fd;
	err = ep_set(s, EPOLL_CTL_ADD, fd, EPOLLIN, &l->src);
	if (err) {
		close(fd);
		return err;
	}
	s->n_listeners++;
	return 0;
}

int control_server_open(const struct control_server_config *cfg, struct control_server **out)
{
	const struct xtwampd_opts *o = cfg->opts;
	union xt_addr any4 = { .b = { [10] = 0xff, [11] = 0xff } };
	struct control_server *s;
	int err = 0, i;

	*out = NULL;
	if (!o || !cfg->sessions || o->count_exponent < XT_MIN_COUNT_EXPONENT ||
	    o->count_exponent > XT_MAX_COUNT_EXPONENT)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->ctl_cfg.modes_offered = cfg->modes;
	s->ctl_cfg.count = 1U << o->count_exponent;
	s->ctl_cfg.keys = cfg->keys;
	s->ctl_cfg.server_start_ntp = cfg->server_start_ntp;
	s->kdf.efd = -1;
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		err = -errno;
		goto fail;
	}
	/* Without keys there is nothing to derive (the keyed modes are not offered). */
	if (cfg->keys && cfg->keys->n_keys) {
		err = kdf_start(s);
		if (err) {
			log_error("control: cannot start the key derivation thread: %s",
				  strerror(-err));
			goto fail;
		}
	}
	if (o->n_control_addrs == 0) {
		/* One dual-stack socket; IPv4 only where the kernel has no IPv6. */
		err = listen_on(s, NULL, true);
		if (err == -EAFNOSUPPORT)
			err = listen_on(s, &any4, false);
	}
	for (i = 0; !err && i < o->n_control_addrs; i++)
		err = listen_on(s, &o->control_addrs[i], false);
	if (err)
		goto fail;
	*out = s;
	return 0;
fail:
	control_server_close(s);
	return err;
}

int control_server_fd(const struct control_server *s)
{
	return s->epfd;
}

void control_server_handle(struct control_server *s)
{
	struct epoll_event ev[CS_EVENTS];
	bool kdf_done = false;
	int n, i;

	n = epoll_wait(s->epfd, ev, CS_EVENTS, 0);
	for (i = 0; i < n; i++) {
		struct cs_src *src = ev[i].data.ptr;

		if (src->kind == CS_SRC_LISTENER)
			listener_event(s, (struct cs_listener *)src);
		else if (src->kind == CS_SRC_KDF)
			kdf_done = true;
		else
			conn_event((struct cs_conn *)src, ev[i].events);
		/*
		 * Safe: a descriptor appears once per epoll_wait(), and handling
		 * one connection never closes another.
		 */
	}
	/* Last: completions close connections that may still have events in ev[]. */
	if (kdf_done)
		kdf_event(s);
}

void control_server_tick(struct control_server *s)
{
	__u64 t = now(s), servwait = (__u64)s->cfg.opts->servwait_s * 1000000000ULL, from;
	struct cs_conn *c, *next;

	conn_log_flush(s, t, false);
	/*
	 * After a burst of connections (a flood, or just a busy hour) the
	 * freed connection state sits in malloc's arenas; once none is open,
	 * give it back so RSS returns to its idle size.
	 */
	if (!s->stats.open && s->closes_since_trim >= CS_TRIM_AFTER_CLOSES) {
		malloc_trim(0);
		s->closes_since_trim = 0;
	}
	for (c = s->conns; c; c = next) {
		next = c->next;
		/* RFC 5357 §3.1: SERVWAIT is suspended while sessions run. */
		if (c->owner.n_active)
			c->idle_from_ns = t;
		if (ctl_conn_mid_message(c->ctl) && c->mid_message &&
		    t - c->msg_start_ns >= servwait) {
			conn_close(c, CS_CLOSE_STALLED, CTL_OPEN);
			continue;
		}
		from = c->last_rx_ns > c->idle_from_ns ? c->last_rx_ns : c->idle_from_ns;
		if (t - from >= servwait)
			conn_close(c, CS_CLOSE_SERVWAIT, CTL_OPEN);
	}
}

const char *control_server_describe(const struct control_server *s, char *buf, size_t len)
{
	size_t used = 0;
	int i;

	if (len)
		buf[0] = '\0';
	for (i = 0; i < s->n_listeners && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
				 s->listeners[i].name);
	return buf;
}

void control_server_get_stats(const struct control_server *s, struct control_server_stats *st)
{
	*st = s->stats;
}

void control_server_print_stats(const struct control_server *s, FILE *out)
{
	int i;

	fprintf(out, "control_connections_accepted_total %llu\n",
		(unsigned long long)s->stats.accepted);
	for (i = 0; i < CS_REFUSE__COUNT; i++)
		fprintf(out, "control_connections_refused_total{reason=\"%s\"} %llu\n",
			refusal_names[i], (unsigned long long)s->stats.refused[i]);
	for (i = 0; i < CS_CLOSE__COUNT; i++)
		fprintf(out, "control_connections_closed_total{reason=\"%s\"} %llu\n",
			close_names[i], (unsigned long long)s->stats.closed[i]);
	fprintf(out, "control_connections_require_auth_total %llu\n",
		(unsigned long long)s->stats.require_auth);
	fprintf(out, "control_connections %u\n", s->stats.open);
	session_table_print_stats(s->cfg.sessions, out);
}

void control_server_log_stats(const struct control_server *s)
{
	char refused[256], closed[512];
	size_t a = 0, b = 0;
	int i;

	refused[0] = closed[0] = '\0';
	for (i = 0; i < CS_REFUSE__COUNT; i++)
		if (s->stats.refused[i] && a < sizeof(refused))
			a += snprintf(refused + a, sizeof(refused) - a, " %s=%llu",
				      refusal_names[i], (unsigned long long)s->stats.refused[i]);
	for (i = 0; i < CS_CLOSE__COUNT; i++)
		if (s->stats.closed[i] && b < sizeof(closed))
			b += snprintf(closed + b, sizeof(closed) - b, " %s=%llu", close_names[i],
				      (unsigned long long)s->stats.closed[i]);
	log_info("control connections: %llu accepted (%llu offered authenticated modes only); "
		 "refused:%s; closed:%s",
		 (unsigned long long)s->stats.accepted, (unsigned long long)s->stats.require_auth,
		 a ? refused : " none", b ? closed : " none");
}

void control_server_close(struct control_server *s)
{
	int i;

	if (!s)
		return;
	while (s->conns)
		conn_close(s->conns, CS_CLOSE_SHUTDOWN, CTL_OPEN);
	kdf_stop(s);
	conn_log_flush(s, now(s), true);
	for (i = 0; i < s->n_listeners; i++)
		close(s->listeners[i].fd);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->spare_fd >= 0)
		close(s->spare_fd);
	free(s);
}
