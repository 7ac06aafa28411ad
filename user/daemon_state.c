// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* daemon_state.c - see daemon_state.h */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "auth_path.h"
#include "control_server.h"
#include "daemon_state.h"
#include "loader.h"
#include "session_table.h"

const char *daemon_state_path(const char *pin_path, char *buf, size_t len)
{
	const char *base = strrchr(pin_path, '/');

	base = base && base[1] ? base + 1 : pin_path;
	snprintf(buf, len, "%s/%s.state", DS_RUN_DIR, base);
	return buf;
}

const char *ds_mode_name(__u32 mode)
{
	if (mode & XT_MODE_ENCRYPTED)
		return "encrypted";
	if (mode & XT_MODE_AUTHENTICATED)
		return "authenticated";
	if (mode & XT_MODE_MIXED)
		return "mixed";
	return "unauthenticated";
}

const char *ds_path_name(int path)
{
	return path == XT_PATH_AF_XDP ? "af_xdp" : path == XT_PATH_SOCKET ? "socket" : "xdp";
}

static const char *const cs_refusal_names[] = {
#define DS_NAME(id, name, help) name,
	CS_REFUSALS(DS_NAME)
#undef DS_NAME
};
static const char *const cs_close_names[] = {
#define DS_NAME(id, name) name,
	CS_CLOSES(DS_NAME)
#undef DS_NAME
};
static const char *const st_refusal_names[] = {
#define DS_NAME(id, name, help) name,
	ST_REFUSALS(DS_NAME)
#undef DS_NAME
};
static const char *const st_removal_names[] = {
#define DS_NAME(id, name, help) name,
	ST_REMOVALS(DS_NAME)
#undef DS_NAME
};
static const char *const st_mode_names[ST_MODE__COUNT] = {
	[ST_MODE_UNAUTHENTICATED] = "unauthenticated",
	[ST_MODE_AUTHENTICATED] = "authenticated",
	[ST_MODE_ENCRYPTED] = "encrypted",
	[ST_MODE_MIXED] = "mixed",
};

static void fam(const struct ds_sink *s, const char *name, const char *type, const char *help)
{
	s->family(s->arg, name, type, help);
}

static void smp(const struct ds_sink *s, const char *name, const char *labels, __u64 v)
{
	s->sample(s->arg, name, labels, v);
}

/* A family with one label whose values come from a name table. */
static void labelled(const struct ds_sink *s, const char *name, const char *type, const char *help,
		     const char *label, const char *const *names, const __u64 *values, int n)
{
	char labels[128];

	fam(s, name, type, help);
	for (int i = 0; i < n; i++) {
		snprintf(labels, sizeof(labels), "%s=\"%s\"", label, names[i]);
		smp(s, name, labels, values[i]);
	}
}

static void emit_ifaces(const struct daemon_view *v, const struct ds_sink *s)
{
	char labels[160];

	fam(s, "interface_info", "gauge",
	    "attached interfaces: XDP mode (native or generic) and T2 source (hardware or software)");
	for (int i = 0; v->loader && i < v->loader->n_ifaces; i++) {
		const struct xt_attached_iface *ifc = &v->loader->ifaces[i];

		snprintf(labels, sizeof(labels),
			 "interface=\"%s\",xdp_mode=\"%s\",rx_timestamps=\"%s\"", ifc->name,
			 ifc->native ? "native" : "generic",
			 ifc->hw_timestamps ? "hardware" : "software");
		smp(s, "interface_info", labels, 1);
	}
}

static void emit_control(const struct daemon_view *v, const struct ds_sink *s)
{
	struct control_server_stats cs;

	control_server_get_stats(v->control, &cs);
	fam(s, "control_connections_open", "gauge", "open TWAMP-Control connections");
	smp(s, "control_connections_open", "", cs.open);
	fam(s, "control_connections_accepted_total", "counter",
	    "TWAMP-Control connections accepted");
	smp(s, "control_connections_accepted_total", "", cs.accepted);
	labelled(s, "control_connections_refused_total", "counter",
		 "TWAMP-Control connections refused at accept, by reason", "reason",
		 cs_refusal_names, cs.refused, CS_REFUSE__COUNT);
	labelled(s, "control_connections_closed_total", "counter",
		 "TWAMP-Control connections closed, by reason", "reason", cs_close_names, cs.closed,
		 CS_CLOSE__COUNT);
}

static void emit_sessions(const struct daemon_view *v, const struct ds_sink *s)
{
	static const char *const path_names[3] = { "xdp", "af_xdp", "socket" };
	struct session_table_stats st;

	session_table_get_stats(v->sessions, &st);
	labelled(s, "sessions_accepted_total", "counter",
		 "test sessions accepted (Accept 0), by security mode", "mode", st_mode_names,
		 st.by_mode, ST_MODE__COUNT);
	labelled(s, "sessions_path_total", "counter", "test sessions accepted, by reflecting path",
		 "path", path_names, st.by_path, 3);
	labelled(s, "sessions_refused_total", "counter", "Request-TW-Session refused, by reason",
		 "reason", st_refusal_names, st.refused, ST_REFUSE__COUNT);
	labelled(s, "sessions_removed_total", "counter", "test sessions removed, by reason",
		 "reason", st_removal_names, st.removed, ST_REMOVE__COUNT);
	fam(s, "sessions_started_total", "counter", "test sessions started");
	smp(s, "sessions_started_total", "", st.started);
	fam(s, "sessions_live", "gauge", "negotiated sessions in xtwamp_sessions now");
	smp(s, "sessions_live", "", st.live);
	fam(s, "session_ports", "gauge", "receiver ports used by negotiated sessions");
	smp(s, "session_ports", "", st.ports);
}

static void emit_auth(const struct daemon_view *v, const struct ds_sink *s)
{
	struct auth_path_stats a[2];
	static const char *const paths[2] = { "af_xdp", "socket" };
	char labels[64];

	auth_path_get_path_stats(v->auth, XT_PATH_AF_XDP, &a[0]);
	auth_path_get_path_stats(v->auth, XT_PATH_SOCKET, &a[1]);
#define DS_AUTH(field, name, help)                                                 \
	do {                                                                       \
		fam(s, name, "counter", help);                                     \
		for (int i = 0; i < 2; i++) {                                      \
			snprintf(labels, sizeof(labels), "path=\"%s\"", paths[i]); \
			smp(s, name, labels, a[i].field);                          \
		}                                                                  \
	} while (0)
	DS_AUTH(rx_packets, "auth_rx_packets_total",
		"authenticated/encrypted test packets received in user space");
	DS_AUTH(reflected, "auth_reflected_total",
		"authenticated/encrypted test packets reflected from user space");
	DS_AUTH(drop_hmac, "auth_drop_hmac_total", "test packets whose HMAC did not verify");
	DS_AUTH(drop_unknown, "auth_drop_unknown_session_total",
		"test packets for no (or a stopped) session");
	DS_AUTH(tx_errors, "auth_tx_errors_total", "replies that could not be sent");
#undef DS_AUTH
}

void daemon_state_emit(const struct daemon_view *v, const struct ds_sink *s)
{
	emit_ifaces(v, s);
	if (v->loader) {
		fam(s, "sessions_orphaned", "gauge",
		    "negotiated sessions adopted from an xtwampd that died: no control connection, "
		    "reflected until their stop deadline or --refwait");
		smp(s, "sessions_orphaned", "", (__u64)v->loader->n_orphans);
	}
	if (v->control)
		emit_control(v, s);
	if (v->sessions)
		emit_sessions(v, s);
	if (v->auth)
		emit_auth(v, s);
}

static void file_family(void *arg, const char *name, const char *type, const char *help)
{
	(void)arg;
	(void)name;
	(void)type;
	(void)help;
}

static void file_sample(void *arg, const char *name, const char *labels, __u64 value)
{
	fprintf(arg, "metric %s%s%s%s %llu\n", name, *labels ? "{" : "", labels, *labels ? "}" : "",
		(unsigned long long)value);
}

const char *ds_format_endpoint(const union xt_addr *a, __be16 port, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN];
	bool v4 = xt_addr_is_v4(a);

	xt_addr_format(a, s, sizeof(s));
	snprintf(buf, len, "%s%s%s:%u", v4 ? "" : "[", s, v4 ? "" : "]", ntohs(port));
	return buf;
}

static void file_session_line(FILE *f, const struct xt_session_key *k, const char *sid,
			      const char *mode, const char *path, const char *state, bool in_kernel,
			      const char *peer)
{
	char sender[INET6_ADDRSTRLEN + 8], refl[INET6_ADDRSTRLEN + 8];

	fprintf(f,
		"session sid=%s sender=%s reflector=%s ssid=%u mode=%s path=%s state=%s "
		"in_kernel=%d control_peer=%s\n",
		sid, ds_format_endpoint(&k->sender_addr, k->sender_port, sender, sizeof(sender)),
		ds_format_endpoint(&k->reflector_addr, k->reflector_port, refl, sizeof(refl)),
		ntohs(k->ssid), mode, path, state, in_kernel ? 1 : 0, peer);
}

static int file_session(const struct st_session_info *si, void *arg)
{
	static const union xt_addr none;
	static const char hex[] = "0123456789abcdef";
	char pa[INET6_ADDRSTRLEN];
	char sid[2 * XT_SID_LEN + 1];

	/* (one line per session every second: no snprintf per octet) */
	for (int i = 0; i < XT_SID_LEN; i++) {
		sid[2 * i] = hex[si->sid[i] >> 4];
		sid[2 * i + 1] = hex[si->sid[i] & 0xf];
	}
	sid[2 * XT_SID_LEN] = '\0';
	/* a session whose connection closed while it was stopping has no peer */
	if (memcmp(&si->owner_peer, &none, sizeof(none)))
		xt_addr_format(&si->owner_peer, pa, sizeof(pa));
	else
		snprintf(pa, sizeof(pa), "-");
	file_session_line(arg, &si->key, sid, ds_mode_name(si->mode), ds_path_name(si->path),
			  si->state, si->in_kernel, pa);
	return 0;
}

int daemon_state_write(const struct daemon_view *v)
{
	struct ds_sink sink = { file_family, file_sample, NULL };
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *f;
	int fd, err = 0;

	daemon_state_path(v->pin_path, path, sizeof(path));
	if (mkdir(DS_RUN_DIR, 0755) && errno != EEXIST)
		return -errno;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		unlink(tmp);
		return err;
	}
	/* 10,000 sessions make a 2 MB file: write it in fewer, larger pieces */
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	sink.arg = f;
	fprintf(f, "xtwampd pid=%d version=%s started=%lld updated=%lld pin_path=%s\n",
		(int)getpid(), v->version, (long long)v->started, (long long)time(NULL),
		v->pin_path);
	for (int i = 0; v->loader && i < v->loader->n_ifaces; i++) {
		const struct xt_attached_iface *ifc = &v->loader->ifaces[i];

		fprintf(f, "iface name=%s ifindex=%d xdp_mode=%s rx_timestamps=%s\n", ifc->name,
			ifc->ifindex, ifc->native ? "native" : "generic",
			ifc->hw_timestamps ? "hardware" : "software");
	}
	daemon_state_emit(v, &sink);
	if (v->sessions)
		session_table_foreach(v->sessions, file_session, f);
	for (int i = 0; v->loader && i < v->loader->n_orphans; i++) {
		const struct xt_orphan *o = &v->loader->orphans[i];

		file_session_line(f, &o->key, o->sid, o->mode, "xdp", "orphaned", true, o->peer);
	}
	if (fflush(f) || ferror(f))
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

void daemon_state_remove(const char *pin_path)
{
	char path[PATH_MAX];

	unlink(daemon_state_path(pin_path, path, sizeof(path)));
}
