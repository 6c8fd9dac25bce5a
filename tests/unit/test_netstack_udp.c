/*
 * UDP batch I/O over loopback between two sockets (no root needed), both
 * as IPv4 (v4-mapped) and IPv6, and the strict endpoint parser/printer.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "tests/unit/harness.h"
#include "netstack/udp.h"

static int recv_all(int fd, struct udp_batch *b, int want, uint8_t *seen,
		    uint16_t from_port)
{
	int got = 0;

	/* Wait on readiness, never a fixed sleep. */
	while (got < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n;

		if (poll(&p, 1, 2000) <= 0)
			break;
		n = udp_recv_batch(fd, b);
		if (n < 0)
			break;
		for (int i = 0; i < n; i++) {
			int id = b->buf[i][0];

			if (ntohs(b->peer[i].sin6_port) != from_port ||
			    b->len[i] != (size_t)(100 + id) || seen[id])
				return -1;
			for (size_t k = 1; k < b->len[i]; k++)
				if (b->buf[i][k] != (uint8_t)(id + k))
					return -1;
			seen[id] = 1;
			got++;
		}
	}
	return got;
}

static void batch_to(const char *dst, int n_msgs)
{
	struct udp_batch *tx = malloc(sizeof(*tx)), *rx = malloc(sizeof(*rx));
	uint8_t seen[UDP_BATCH_MAX] = { 0 };
	struct sockaddr_in6 to;
	char addr[UDP_ADDR_STRLEN];
	int a, b, pa, pb;

	CHECK_INT(udp_open(0, &a), 0);
	CHECK_INT(udp_open(0, &b), 0);
	pa = udp_local_port(a);
	pb = udp_local_port(b);
	CHECK(pa > 0 && pb > 0 && pa != pb);
	CHECK(fcntl(a, F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(a, F_GETFD) & FD_CLOEXEC);
	snprintf(addr, sizeof(addr), dst, pb);
	CHECK_INT(udp_addr_parse(addr, &to), 0);
	for (int i = 0; i < n_msgs; i++) {
		tx->peer[i] = to;
		tx->len[i] = (size_t)(100 + i);
		tx->buf[i][0] = (uint8_t)i;
		for (size_t k = 1; k < tx->len[i]; k++)
			tx->buf[i][k] = (uint8_t)(i + k);
	}
	CHECK_INT(udp_recv_batch(b, rx), 0);	/* nothing yet: no block */
	CHECK_INT(udp_send_batch(a, tx, n_msgs), n_msgs);
	CHECK_INT(recv_all(b, rx, n_msgs, seen, (uint16_t)pa), n_msgs);
	/* And a single one back. */
	CHECK_INT(udp_send_one(b, &rx->peer[0], "pong", 4), 0);
	{
		struct pollfd p = { .fd = a, .events = POLLIN };

		CHECK_INT(poll(&p, 1, 2000), 1);
		CHECK_INT(udp_recv_batch(a, rx), 1);
		CHECK_INT(rx->len[0], 4);
		CHECK_MEM(rx->buf[0], "pong", 4);
		CHECK_INT(ntohs(rx->peer[0].sin6_port), pb);
	}
	close(a);
	close(b);
	free(tx);
	free(rx);
}

static void test_batch_v4(void) { batch_to("127.0.0.1:%d", UDP_BATCH_MAX); }
static void test_batch_v6(void) { batch_to("[::1]:%d", 17); }

static void test_truncated_dropped(void)
{
	struct udp_batch *rx = malloc(sizeof(*rx));
	static uint8_t big[UDP_BUF_SIZE + 1];
	struct sockaddr_in6 to;
	char addr[UDP_ADDR_STRLEN];
	struct pollfd p;
	int a, b;

	CHECK_INT(udp_open(0, &a), 0);
	CHECK_INT(udp_open(0, &b), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", udp_local_port(b));
	udp_addr_parse(addr, &to);
	CHECK_INT(udp_send_one(a, &to, big, sizeof(big)), 0);
	CHECK_INT(udp_send_one(a, &to, "ok", 2), 0);
	p.fd = b;
	p.events = POLLIN;
	CHECK_INT(poll(&p, 1, 2000), 1);
	/* The oversized one is dropped, never handed out cut. */
	{
		int n = udp_recv_batch(b, rx), total = n;

		while (total < 1 && poll(&p, 1, 2000) == 1)
			total += (n = udp_recv_batch(b, rx));
		CHECK_INT(total, 1);
		CHECK_INT(rx->len[0], 2);
	}
	close(a);
	close(b);
	free(rx);
}

static void test_addr_parse(void)
{
	static const struct { const char *in, *out; } good[] = {
		{ "192.0.2.1:51820", "192.0.2.1:51820" },
		{ "0.0.0.0:1", "0.0.0.0:1" },
		{ "255.255.255.255:65535", "255.255.255.255:65535" },
		{ "[fd00::1]:8788", "[fd00::1]:8788" },
		{ "[2001:db8:0:0:0:0:0:1]:9", "[2001:db8::1]:9" },
		{ "[::ffff:198.51.100.7]:80", "198.51.100.7:80" },
		{ "[::]:443", "[::]:443" },
	};
	static const char *bad[] = {
		"", ":", "1.2.3.4", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536",
		"1.2.3.4:080", "1.2.3.4:+80", "1.2.3.4:-1", "1.2.3.4: 80",
		"1.2.3.4:80 ", " 1.2.3.4:80", "1.2.3:80", "1.2.3.4.5:80",
		"256.1.1.1:80", "01.2.3.4:80", "0x7f.0.0.1:80", "fd00::1:80",
		"[fd00::1]", "[fd00::1]:", "[fd00::1]80", "[fd00::1:80",
		"[]:80", "[fe80::1%eth0]:80", "[1.2.3.4]:80", "[fd00::1]:8a",
		"example.com:80", "1.2.3.4:99999999999", "[::1]:1:2",
	};
	struct sockaddr_in6 a, b;
	char out[UDP_ADDR_STRLEN];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (udp_addr_parse(good[i].in, &a) != 0) {
			H_FAIL("refused %s", good[i].in);
			continue;
		}
		CHECK_INT(a.sin6_family, AF_INET6);
		CHECK_INT(udp_addr_format(&a, out, sizeof(out)), 0);
		CHECK_STR(out, good[i].out);
		CHECK_INT(udp_addr_parse(out, &b), 0);
		CHECK(udp_addr_equal(&a, &b));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (udp_addr_parse(bad[i], &a) != -EINVAL)
			H_FAIL("accepted \"%s\"", bad[i]);
	udp_addr_parse("192.0.2.1:5", &a);
	CHECK(IN6_IS_ADDR_V4MAPPED(&a.sin6_addr));
	CHECK_INT(udp_addr_format(&a, out, 11), -ENOSPC);
	CHECK_INT(udp_addr_format(&a, out, 12), 0);
	udp_addr_parse("192.0.2.1:6", &b);
	CHECK(!udp_addr_equal(&a, &b));
}

static void test_addr_from_sockaddr(void)
{
	struct sockaddr_in v4 = { .sin_family = AF_INET,
				  .sin_port = htons(1234) };
	struct sockaddr_in6 out;
	struct sockaddr sa = { .sa_family = AF_UNIX };
	char s[UDP_ADDR_STRLEN];

	inet_pton(AF_INET, "203.0.113.9", &v4.sin_addr);
	CHECK_INT(udp_addr_from_sockaddr((struct sockaddr *)&v4, sizeof(v4),
					 &out), 0);
	udp_addr_format(&out, s, sizeof(s));
	CHECK_STR(s, "203.0.113.9:1234");
	CHECK_INT(udp_addr_from_sockaddr(&sa, sizeof(sa), &out), -EAFNOSUPPORT);
	CHECK_INT(udp_addr_from_sockaddr((struct sockaddr *)&v4, 4, &out),
		  -EAFNOSUPPORT);
}

/* A refused GSO send: EMSGSIZE (segments above the path MTU the kernel
 * learned for that peer) must send the run one by one, never lose it, and
 * must not turn GSO off for every other peer. */
static void test_gso_on_error(void)
{
	CHECK_INT(udp_gso_on_error(EMSGSIZE), UDP_GSO_SPLIT);
	CHECK_INT(udp_gso_on_error(EIO), UDP_GSO_OFF);
	CHECK_INT(udp_gso_on_error(EINVAL), UDP_GSO_OFF);
	CHECK_INT(udp_gso_on_error(ENOPROTOOPT), UDP_GSO_OFF);
	CHECK_INT(udp_gso_on_error(EHOSTUNREACH), UDP_GSO_LOSE);
	CHECK_INT(udp_gso_on_error(ECONNREFUSED), UDP_GSO_LOSE);
}

int main(void)
{
	RUN(test_addr_parse);
	RUN(test_addr_from_sockaddr);
	RUN(test_batch_v4);
	RUN(test_batch_v6);
	RUN(test_truncated_dropped);
	RUN(test_gso_on_error);
	return HARNESS_END();
}
