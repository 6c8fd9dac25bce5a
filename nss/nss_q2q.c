/*
 * The NSS entry points (nss/nss_q2q.h). Each turns the program's question
 * into a names request only when it is about q2q (a user@domain or an
 * alias ending in .q2q, or an address in 100.64.0.0/10 or fd00::/8):
 * anything else is "not found" at once, without touching a socket, so the
 * module costs other names nothing. Answers come from a small cache
 * guarded by a mutex (the module runs in threaded programs) or from q2qd
 * within NAMES_TIMEOUT_MS; any failure is "not found", and nsswitch.conf
 * goes on to the next source.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "nss/alias.h"
#include "nss/cache.h"
#include "nss/client.h"
#include "nss/hostent.h"
#include "nss/nss_q2q.h"

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct names_cache cache;
static const char *socket_path = NAMES_SOCKET_DEFAULT;
/* After q2qd failed to answer, the module does not ask again until then:
 * one program's look-ups (getent hosts asks for IPv6, then IPv4) cost one
 * timeout between them, not one each. */
static uint64_t quiet_until;
#define NAMES_QUIET_MS	1000

void nss_q2q_test_socket(const char *path) { socket_path = path; }

void nss_q2q_test_flush(void)
{
	pthread_mutex_lock(&cache_lock);
	memset(&cache, 0, sizeof(cache));
	quiet_until = 0;
	pthread_mutex_unlock(&cache_lock);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* 1 with an OK answer in *rep, else 0 (not found, or q2qd did not answer). */
static int q2q_ask(const struct names_req *req, struct names_reply *rep)
{
	uint64_t now = now_ms();
	int hit, quiet, ok;

	pthread_mutex_lock(&cache_lock);
	hit = names_cache_get(&cache, req, now, rep);
	quiet = !hit && now < quiet_until;
	pthread_mutex_unlock(&cache_lock);
	if (quiet)
		return 0;
	if (!hit) {
		ok = names_client_ask(socket_path, req, rep, NAMES_TIMEOUT_MS) == 0;
		pthread_mutex_lock(&cache_lock);
		if (ok)
			names_cache_put(&cache, req, rep, now_ms());
		else
			quiet_until = now_ms() + NAMES_QUIET_MS;
		pthread_mutex_unlock(&cache_lock);
		if (!ok)
			return 0;
	}
	return rep->status == NAMES_OK;
}

static enum nss_status not_found(int *errnop, int *herrnop, int herr)
{
	*errnop = ENOENT;
	*herrnop = herr;
	return NSS_STATUS_NOTFOUND;
}

static enum nss_status too_small(int *errnop, int *herrnop)
{
	*errnop = ERANGE;
	*herrnop = NETDB_INTERNAL;
	return NSS_STATUS_TRYAGAIN;
}

/* The q2q identity a host name asks for: 1 with the request, else 0. */
static int name_request(const char *name, struct names_req *req)
{
	memset(req, 0, sizeof(*req));
	req->op = NAMES_OP_RESOLVE;
	return name && names_host_to_identity(name, req->name) == 0;
}

/* The answer as a hostent of family af. */
static enum nss_status fill_host(const struct names_reply *rep, int af, struct hostent *host,
    char *buffer, size_t buflen, int *errnop, int *herrnop, int32_t *ttlp)
{
	int rc = names_hostent_fill(rep, af, host, buffer, buflen);

	if (rc == -ERANGE)
		return too_small(errnop, herrnop);
	if (rc < 0)
		return not_found(errnop, herrnop, NO_DATA);
	if (ttlp)
		*ttlp = NAMES_CACHE_OK_MS / 1000;
	return NSS_STATUS_SUCCESS;
}

enum nss_status _nss_q2q_gethostbyname4_r(const char *name, struct gaih_addrtuple **pat,
    char *buffer, size_t buflen, int *errnop, int *herrnop, int32_t *ttlp)
{
	struct names_req req;
	struct names_reply rep;
	int rc;

	if (!name_request(name, &req) || !q2q_ask(&req, &rep))
		return not_found(errnop, herrnop, HOST_NOT_FOUND);
	rc = names_tuples_fill(&rep, pat, buffer, buflen);
	if (rc == -ERANGE)
		return too_small(errnop, herrnop);
	if (rc < 0)
		return not_found(errnop, herrnop, NO_DATA);
	if (ttlp)
		*ttlp = NAMES_CACHE_OK_MS / 1000;
	return NSS_STATUS_SUCCESS;
}

enum nss_status _nss_q2q_gethostbyname3_r(const char *name, int af, struct hostent *host,
    char *buffer, size_t buflen, int *errnop, int *herrnop, int32_t *ttlp, char **canonp)
{
	struct names_req req;
	struct names_reply rep;
	enum nss_status st;

	if (af != AF_INET && af != AF_INET6) {
		*errnop = EAFNOSUPPORT;
		*herrnop = NO_RECOVERY;
		return NSS_STATUS_UNAVAIL;
	}
	if (!name_request(name, &req) || !q2q_ask(&req, &rep))
		return not_found(errnop, herrnop, HOST_NOT_FOUND);
	st = fill_host(&rep, af, host, buffer, buflen, errnop, herrnop, ttlp);
	if (st == NSS_STATUS_SUCCESS && canonp)
		*canonp = host->h_name;
	return st;
}

enum nss_status _nss_q2q_gethostbyname2_r(const char *name, int af, struct hostent *host,
    char *buffer, size_t buflen, int *errnop, int *herrnop)
{
	return _nss_q2q_gethostbyname3_r(name, af, host, buffer, buflen, errnop, herrnop, NULL, NULL);
}

enum nss_status _nss_q2q_gethostbyname_r(const char *name, struct hostent *host,
    char *buffer, size_t buflen, int *errnop, int *herrnop)
{
	return _nss_q2q_gethostbyname3_r(name, AF_INET, host, buffer, buflen, errnop, herrnop,
	    NULL, NULL);
}

enum nss_status _nss_q2q_gethostbyaddr2_r(const void *addr, socklen_t len, int af,
    struct hostent *host, char *buffer, size_t buflen, int *errnop, int *herrnop, int32_t *ttlp)
{
	struct names_req req;
	struct names_reply rep;

	memset(&req, 0, sizeof(req));
	req.op = NAMES_OP_WHOIS;
	req.addr.family = af;
	if (!addr || !((af == AF_INET && len == 4) || (af == AF_INET6 && len == 16)))
		return not_found(errnop, herrnop, HOST_NOT_FOUND);
	memcpy(req.addr.a, addr, len);
	if (!names_addr_is_overlay(af, req.addr.a) || !q2q_ask(&req, &rep))
		return not_found(errnop, herrnop, HOST_NOT_FOUND);
	return fill_host(&rep, af, host, buffer, buflen, errnop, herrnop, ttlp);
}

enum nss_status _nss_q2q_gethostbyaddr_r(const void *addr, socklen_t len, int af,
    struct hostent *host, char *buffer, size_t buflen, int *errnop, int *herrnop)
{
	return _nss_q2q_gethostbyaddr2_r(addr, len, af, host, buffer, buflen, errnop, herrnop, NULL);
}
