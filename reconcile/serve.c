/*
 * serve.c - the controller's HTTP endpoints (metrics.h): /healthz, /readyz and /metrics,
 * served by libmicrohttpd from one internal polling thread.
 *
 * The listening socket is made here (so a bind failure is reported with its reason) on
 * exactly the address given: a numeric IPv4 host, or a numeric IPv6 host in brackets (an
 * IPv6 socket is v6-only, so "[::]" does not also take IPv4). Host names are refused: the
 * address an operator writes is the one bound, never what a resolver makes of it.
 *
 * Bounds: CONN_MAX connections at once, CONN_TIMEOUT_S seconds of idleness per
 * connection, request bodies never read (no endpoint takes one: every method but GET and
 * HEAD is answered 405 before the body arrives). HEAD is answered by libmicrohttpd with
 * the GET response's headers and no body.
 *
 * Routing: an unknown path is 404 whatever the method; a known path with another method
 * than GET or HEAD is 405 with "Allow: GET, HEAD".
 *
 * Owns: the daemon (which owns and closes the listening socket). Borrows the metrics and
 * the readiness callback's argument, which must outlive zw_serve_stop(). The readiness
 * callback runs on the server's thread, so it must be thread-safe.
 */
#include "reconcile/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "reconcile/alloc.h"

#define CONN_MAX       32
#define CONN_TIMEOUT_S 10
#define BACKLOG	       32
#define WHY_MAX	       256
#define METRICS_MAX    (64u * 1024 * 1024)

#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CT_TEXT	   "text/plain; charset=utf-8"

struct zw_serve {
	struct MHD_Daemon *d;
	struct zw_metrics *m;
	int (*ready)(void *arg, char *why, size_t whysz);
	void *arg;
	unsigned port;
};

/* ---- the address ------------------------------------------------------------------- */

/* "host:port", "[v6]:port" -> a socket address. Numeric hosts only. */
static int parse_addr(struct sockaddr_storage *ss, socklen_t *sslen, const char *addr, struct zw_error *err)
{
	char host[64];
	const char *port;
	size_t hl;
	memset(ss, 0, sizeof(*ss));
	if (!addr || !*addr)
		return zw_error_set(err, ZW_EINVAL, "empty listen address");
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');
		if (!close || close[1] != ':')
			return zw_error_set(err, ZW_EINVAL, "listen address %.100s: want [ipv6]:port", addr);
		hl = (size_t)(close - addr - 1);
		port = close + 2;
		if (hl == 0 || hl >= sizeof(host))
			return zw_error_set(err, ZW_EINVAL, "listen address %.100s: bad ipv6 host", addr);
		memcpy(host, addr + 1, hl);
	} else {
		const char *colon = strrchr(addr, ':');
		if (!colon)
			return zw_error_set(err, ZW_EINVAL, "listen address %.100s: want host:port", addr);
		if (memchr(addr, ':', (size_t)(colon - addr)))
			return zw_error_set(err, ZW_EINVAL,
					    "listen address %.100s: put an ipv6 host in brackets", addr);
		hl = (size_t)(colon - addr);
		port = colon + 1;
		if (hl == 0)
			return zw_error_set(err, ZW_EINVAL,
					    "listen address %.100s: want a numeric host, e.g. 0.0.0.0%.20s",
					    addr, colon);
		if (hl >= sizeof(host))
			return zw_error_set(err, ZW_EINVAL, "listen address %.100s: want a numeric host",
					    addr);
		memcpy(host, addr, hl);
	}
	host[hl] = '\0';

	char *end = NULL;
	errno = 0;
	unsigned long p = strtoul(port, &end, 10);
	if (!*port || *port < '0' || *port > '9' || *end || errno || p > 65535)
		return zw_error_set(err, ZW_EINVAL, "listen address %.100s: port must be 0 to 65535", addr);

	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (addr[0] != '[' && inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((unsigned short)p);
		*sslen = sizeof(*in4);
	} else if (addr[0] == '[' && inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)p);
		*sslen = sizeof(*in6);
	} else {
		return zw_error_set(
			err, ZW_EINVAL,
			"listen address %.100s: the host must be a numeric ip address, not a name", addr);
	}
	return 0;
}

static int listen_on(int *fd_out, unsigned *port, const char *addr, struct zw_error *err)
{
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	int rc = parse_addr(&ss, &sslen, addr, err);
	if (rc)
		return rc;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return zw_error_set(err, ZW_EIO, "listen address %.100s: socket: %s", addr, strerror(errno));
	int one = 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) != 0 || listen(fd, BACKLOG) != 0) {
		rc = zw_error_set(err, ZW_EIO, "cannot listen on %.100s: %s", addr, strerror(errno));
		close(fd);
		return rc;
	}
	struct sockaddr_storage got;
	socklen_t gotlen = sizeof(got);
	if (getsockname(fd, (struct sockaddr *)&got, &gotlen) != 0) {
		rc = zw_error_set(err, ZW_EIO, "listen address %.100s: getsockname: %s", addr,
				  strerror(errno));
		close(fd);
		return rc;
	}
	*port = got.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&got)->sin6_port)
					  : ntohs(((struct sockaddr_in *)&got)->sin_port);
	*fd_out = fd;
	return 0;
}

/* ---- requests ---------------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *ctype, void *body,
			     size_t len, int owned)
{
	struct MHD_Response *r =
		owned ? MHD_create_response_from_buffer_with_free_callback(len, body, zw_free)
		      : MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_COPY);
	if (!r) {
		if (owned)
			zw_free(body);
		return MHD_NO;
	}
	enum MHD_Result ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (ok == MHD_YES && status == MHD_HTTP_METHOD_NOT_ALLOWED)
		ok = MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (ok == MHD_YES)
		ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (ok == MHD_YES)
		ok = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result text(struct MHD_Connection *conn, unsigned status, const char *s)
{
	return reply(conn, status, CT_TEXT, (void *)s, strlen(s), 0);
}

static enum MHD_Result serve_metrics(struct zw_serve *s, struct MHD_Connection *conn)
{
	struct zw_buf b = ZW_BUF_INIT;
	struct zw_error err = {0};
	b.max = METRICS_MAX;
	if (zw_metrics_render(s->m, &b, &err) != 0) {
		zw_buf_free(&b);
		return text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render the metrics\n");
	}
	size_t len = b.len;
	char *body = zw_buf_detach(&b);
	if (!body) /* nothing rendered: cannot happen, every family has HELP */
		return text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render the metrics\n");
	return reply(conn, MHD_HTTP_OK, CT_METRICS, body, len, 1);
}

static enum MHD_Result serve_ready(struct zw_serve *s, struct MHD_Connection *conn)
{
	char why[WHY_MAX];
	why[0] = '\0';
	if (!s->ready || s->ready(s->arg, why, sizeof(why) - 1) == 1)
		return text(conn, MHD_HTTP_OK, "ok\n");
	why[sizeof(why) - 1] = '\0';
	char body[WHY_MAX + 2];
	/* one line: whatever the callback wrote, cut at its first line break */
	why[strcspn(why, "\r\n")] = '\0';
	snprintf(body, sizeof(body), "%s\n", why[0] ? why : "not ready");
	return text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, body);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct zw_serve *s = cls;
	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	int known =
		strcmp(url, "/metrics") == 0 || strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0;
	if (!known)
		return text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (strcmp(url, "/metrics") == 0)
		return serve_metrics(s, conn);
	if (strcmp(url, "/readyz") == 0)
		return serve_ready(s, conn);
	return text(conn, MHD_HTTP_OK, "ok\n");
}

/* ---- lifecycle --------------------------------------------------------------------- */

int zw_serve_start(struct zw_serve **out, const char *addr, struct zw_metrics *m,
		   int (*ready)(void *arg, char *why, size_t whysz), void *arg, struct zw_error *err)
{
	*out = NULL;
	if (!m)
		return zw_error_set(err, ZW_EINVAL, "no metrics to serve");
	struct zw_serve *s = zw_calloc(1, sizeof(*s));
	if (!s)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	s->m = m;
	s->ready = ready;
	s->arg = arg;
	int fd = -1;
	int rc = listen_on(&fd, &s->port, addr, err);
	if (rc) {
		zw_free(s);
		return rc;
	}
	s->d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, on_request, s,
				MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT,
				(unsigned)CONN_MAX, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
				MHD_OPTION_END);
	if (!s->d) {
		close(fd);
		zw_free(s);
		return zw_error_set(err, ZW_EIO, "cannot start the http server on %.100s", addr);
	}
	*out = s;
	return 0;
}

unsigned zw_serve_port(const struct zw_serve *s)
{
	return s ? s->port : 0;
}

void zw_serve_stop(struct zw_serve *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	zw_free(s);
}
