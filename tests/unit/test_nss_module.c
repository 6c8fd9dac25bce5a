/*
 * The NSS module's entry points against a stand-in q2qd on a socket of
 * the test's own: answers laid out in the caller's buffer (every size
 * below the needed one is ERANGE), the alias, reverse look-ups, the
 * cache, names that are not q2q's never reaching the socket, and a q2qd
 * that is absent, silent or talking nonsense failing within 100 ms.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "nss/client.h"
#include "nss/hostent.h"
#include "nss/nss_q2q.h"
#include "nss/wire.h"
#include "tests/unit/harness.h"

static const uint8_t BOB4[4] = { 100, 64, 0, 2 };
static const uint8_t BOB6[16] = { 0xfd, 0x12, 0x34, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7 };

enum { SRV_ANSWER, SRV_SILENT, SRV_GARBAGE };

static char sock_path[108];
static int srv_fd = -1;
static _Atomic int srv_mode, srv_conns;	/* shared with the stand-in thread */
static pthread_t srv_thread;

/* The stand-in: answers bob@example.com (and his addresses), nothing else. */
static void *srv_main(void *arg)
{
	for (;;) {
		uint8_t buf[NAMES_MSG_MAX + 1];
		struct names_req rq;
		struct names_reply rep;
		ssize_t n;
		size_t len;
		int c = accept(srv_fd, NULL, NULL);

		if (c < 0)
			return NULL;
		srv_conns++;
		n = recv(c, buf, sizeof(buf), 0);
		memset(&rep, 0, sizeof(rep));
		if (n > 0 && names_req_decode(buf, (size_t)n, &rq, NULL, 0) == 0) {
			rep.op = rq.op;
			rep.status = NAMES_NOTFOUND;
			if ((rq.op == NAMES_OP_RESOLVE && strcmp(rq.name, "bob@example.com") == 0) ||
			    (rq.op == NAMES_OP_WHOIS && (memcmp(rq.addr.a, BOB4, 4) == 0 ||
							 memcmp(rq.addr.a, BOB6, 16) == 0))) {
				rep.status = NAMES_OK;
				strcpy(rep.name, "bob@example.com");
				rep.n_addr = 2;
				rep.addr[0].family = AF_INET;
				memcpy(rep.addr[0].a, BOB4, 4);
				rep.addr[1].family = AF_INET6;
				memcpy(rep.addr[1].a, BOB6, 16);
			}
		}
		if (srv_mode == SRV_SILENT) {
			usleep(300 * 1000);
		} else if (srv_mode == SRV_GARBAGE) {
			len = names_reply_encode(&rep, buf, sizeof(buf));
			buf[len] = 0;	/* one byte too many */
			send(c, buf, len + 1, MSG_NOSIGNAL);
		} else {
			len = names_reply_encode(&rep, buf, sizeof(buf));
			send(c, buf, len, MSG_NOSIGNAL);
		}
		close(c);
	}
}

static void srv_start(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	snprintf(sock_path, sizeof(sock_path), "/tmp/q2q-test-nss-%d.sock", (int)getpid());
	unlink(sock_path);
	strcpy(sun.sun_path, sock_path);
	srv_fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (srv_fd < 0 || bind(srv_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(srv_fd, 8) < 0)
		abort();
	pthread_create(&srv_thread, NULL, srv_main, NULL);
	nss_q2q_test_socket(sock_path);
}

static void srv_stop(void)
{
	shutdown(srv_fd, SHUT_RDWR);
	pthread_join(srv_thread, NULL);
	close(srv_fd);
	unlink(sock_path);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char buf[4096];
static int e, he;

static void test_forward(void)
{
	struct gaih_addrtuple *t = NULL;
	struct hostent h;
	int32_t ttl = 0;

	nss_q2q_test_flush();
	CHECK_INT(_nss_q2q_gethostbyname4_r("bob@example.com", &t, buf, sizeof(buf), &e, &he, &ttl),
	    NSS_STATUS_SUCCESS);
	CHECK(t && t->next && !t->next->next);
	if (t && t->next) {
		CHECK_INT(t->family, AF_INET6);
		CHECK_MEM(t->addr, BOB6, 16);
		CHECK_INT(t->next->family, AF_INET);
		CHECK_MEM(t->next->addr, BOB4, 4);
		CHECK_STR(t->name, "bob@example.com");
	}
	CHECK_INT(ttl, 5);
	CHECK_INT(_nss_q2q_gethostbyname2_r("bob.example.com.q2q", AF_INET, &h, buf, sizeof(buf), &e, &he),
	    NSS_STATUS_SUCCESS);
	CHECK_STR(h.h_name, "bob@example.com");
	CHECK_STR(h.h_aliases[0], "bob.example.com.q2q");
	CHECK(h.h_aliases[1] == NULL);
	CHECK_INT(h.h_length, 4);
	CHECK_MEM(h.h_addr_list[0], BOB4, 4);
	CHECK(h.h_addr_list[1] == NULL);
	CHECK_INT(_nss_q2q_gethostbyname_r("BOB.example.com.q2q.", &h, buf, sizeof(buf), &e, &he),
	    NSS_STATUS_SUCCESS);
	CHECK_INT(_nss_q2q_gethostbyname2_r("bob@example.com", AF_INET6, &h, buf, sizeof(buf), &e, &he),
	    NSS_STATUS_SUCCESS);
	CHECK_MEM(h.h_addr_list[0], BOB6, 16);
	CHECK_INT(_nss_q2q_gethostbyname2_r("eve@example.com", AF_INET, &h, buf, sizeof(buf), &e, &he),
	    NSS_STATUS_NOTFOUND);
	CHECK_INT(he, HOST_NOT_FOUND);
}

static void test_reverse(void)
{
	struct hostent h;

	nss_q2q_test_flush();
	CHECK_INT(_nss_q2q_gethostbyaddr_r(BOB4, 4, AF_INET, &h, buf, sizeof(buf), &e, &he),
	    NSS_STATUS_SUCCESS);
	CHECK_STR(h.h_name, "bob@example.com");
	CHECK_MEM(h.h_addr_list[0], BOB4, 4);
	CHECK_INT(_nss_q2q_gethostbyaddr_r(BOB6, 16, AF_INET6, &h, buf, sizeof(buf), &e, &he),
	    NSS_STATUS_SUCCESS);
	CHECK_STR(h.h_name, "bob@example.com");
	CHECK_INT(_nss_q2q_gethostbyaddr_r(BOB4, 16, AF_INET, &h, buf, sizeof(buf), &e, &he),
	    NSS_STATUS_NOTFOUND);
	CHECK_INT(_nss_q2q_gethostbyaddr_r((const uint8_t[]){ 100, 64, 0, 3 }, 4, AF_INET, &h, buf,
	    sizeof(buf), &e, &he), NSS_STATUS_NOTFOUND);
}

/* Names that are not q2q's, and the cache: no connection at all. */
static void test_no_io(void)
{
	struct gaih_addrtuple *t = NULL;
	struct hostent h;
	int before;

	nss_q2q_test_flush();
	CHECK_INT(_nss_q2q_gethostbyname4_r("bob@example.com", &t, buf, sizeof(buf), &e, &he, NULL),
	    NSS_STATUS_SUCCESS);
	before = srv_conns;
	t = NULL;
	CHECK_INT(_nss_q2q_gethostbyname4_r("bob@example.com", &t, buf, sizeof(buf), &e, &he, NULL),
	    NSS_STATUS_SUCCESS);
	CHECK_INT(_nss_q2q_gethostbyname4_r("localhost", &t, buf, sizeof(buf), &e, &he, NULL),
	    NSS_STATUS_NOTFOUND);
	CHECK_INT(_nss_q2q_gethostbyname2_r("www.example.com", AF_INET, &h, buf, sizeof(buf), &e, &he),
	    NSS_STATUS_NOTFOUND);
	CHECK_INT(_nss_q2q_gethostbyname2_r("Bob@example.com", AF_INET, &h, buf, sizeof(buf), &e, &he),
	    NSS_STATUS_NOTFOUND);
	CHECK_INT(_nss_q2q_gethostbyname2_r("q--bob.example.com.q2q", AF_INET, &h, buf, sizeof(buf), &e,
	    &he), NSS_STATUS_NOTFOUND);
	CHECK_INT(_nss_q2q_gethostbyaddr_r((const uint8_t[]){ 192, 0, 2, 1 }, 4, AF_INET, &h, buf,
	    sizeof(buf), &e, &he), NSS_STATUS_NOTFOUND);
	CHECK_INT(_nss_q2q_gethostbyaddr_r((const uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8 }, 16, AF_INET6,
	    &h, buf, sizeof(buf), &e, &he), NSS_STATUS_NOTFOUND);
	CHECK_INT(srv_conns, before);
}

/* Every buffer too small says ERANGE (so glibc retries larger), never more. */
static void test_small_buffers(void)
{
	struct hostent h;
	struct gaih_addrtuple *t;
	size_t len;
	int st, ok4 = 0, okh = 0;

	for (len = 0; len < 512; len++) {
		t = NULL;
		st = _nss_q2q_gethostbyname4_r("bob@example.com", &t, buf, len, &e, &he, NULL);
		if (st == NSS_STATUS_SUCCESS) {
			ok4 = 1;
			break;
		}
		CHECK_INT(st, NSS_STATUS_TRYAGAIN);
		CHECK_INT(e, ERANGE);
	}
	for (len = 0; len < 512; len++) {
		st = _nss_q2q_gethostbyname2_r("bob@example.com", AF_INET6, &h, buf, len, &e, &he);
		if (st == NSS_STATUS_SUCCESS) {
			okh = 1;
			break;
		}
		CHECK_INT(st, NSS_STATUS_TRYAGAIN);
		CHECK_INT(e, ERANGE);
	}
	CHECK(ok4 && okh);
}

/* Many threads at once, through cache hits, misses and flushes: every
 * answer complete and right (each thread has its own buffer). On a loaded
 * machine a look-up may miss the 100 ms and be not found; never wrong. */
static volatile int thread_bad, thread_ok;

static void *lookup_thread(void *arg)
{
	char b[1024];
	int i, en, hn;

	for (i = 0; i < 300; i++) {
		struct gaih_addrtuple *t = NULL;
		struct hostent h;

		if ((i % 50) == (int)(intptr_t)arg)
			nss_q2q_test_flush();
		if (_nss_q2q_gethostbyname4_r("bob@example.com", &t, b, sizeof(b), &en, &hn, NULL) ==
		    NSS_STATUS_SUCCESS) {
			if (!t || !t->next || memcmp(t->next->addr, BOB4, 4) != 0 ||
			    strcmp(t->name, "bob@example.com") != 0)
				__atomic_add_fetch(&thread_bad, 1, __ATOMIC_RELAXED);
			else
				__atomic_add_fetch(&thread_ok, 1, __ATOMIC_RELAXED);
		}
		if (_nss_q2q_gethostbyaddr_r(BOB6, 16, AF_INET6, &h, b, sizeof(b), &en, &hn) ==
		    NSS_STATUS_SUCCESS && strcmp(h.h_name, "bob@example.com") != 0)
			__atomic_add_fetch(&thread_bad, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_threads(void)
{
	pthread_t th[8];
	int i;

	nss_q2q_test_flush();
	for (i = 0; i < 8; i++)
		pthread_create(&th[i], NULL, lookup_thread, (void *)(intptr_t)i);
	for (i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	CHECK_INT(thread_bad, 0);
	CHECK(thread_ok > 0);
}

static void check_fast_notfound(const char *name)
{
	struct gaih_addrtuple *t = NULL;
	double t0 = now_ms(), dt;

	nss_q2q_test_flush();
	CHECK_INT(_nss_q2q_gethostbyname4_r(name, &t, buf, sizeof(buf), &e, &he, NULL),
	    NSS_STATUS_NOTFOUND);
	dt = now_ms() - t0;
	if (dt > 150)
		H_FAIL("not found after %.0f ms, expected within 100 ms", dt);
}

static void test_silent_and_garbage(void)
{
	struct gaih_addrtuple *t = NULL;
	double t0;
	int before;

	srv_mode = SRV_SILENT;
	check_fast_notfound("bob@example.com");
	/* Once q2qd failed to answer, the same program does not wait again
	 * for a while: another name fails at once, without a connection. */
	before = srv_conns;
	t0 = now_ms();
	CHECK_INT(_nss_q2q_gethostbyname4_r("carol@example.com", &t, buf, sizeof(buf), &e, &he, NULL),
	    NSS_STATUS_NOTFOUND);
	CHECK(now_ms() - t0 < 20);
	CHECK_INT(srv_conns, before);
	srv_mode = SRV_GARBAGE;
	check_fast_notfound("bob@example.com");
	srv_mode = SRV_ANSWER;
}

static void test_daemon_absent(void)
{
	nss_q2q_test_socket("/nonexistent/q2q/names.sock");
	check_fast_notfound("bob@example.com");
	nss_q2q_test_socket(sock_path);
}

int main(void)
{
	srv_start();
	RUN(test_forward);
	RUN(test_reverse);
	RUN(test_no_io);
	RUN(test_small_buffers);
	RUN(test_threads);
	RUN(test_silent_and_garbage);
	RUN(test_daemon_absent);
	srv_stop();
	return HARNESS_END();
}
