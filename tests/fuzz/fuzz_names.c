/*
 * Fuzz target for the names protocol (nss/wire.c) and the DNS-safe alias
 * (nss/alias.c): what any local user can send q2qd's names socket, and
 * what the NSS module accepts from it before a program sees it. Input: one
 * byte choosing the part, then the bytes. A request or reply that decodes
 * must re-encode to the same bytes, hold only overlay addresses and valid
 * identities, and a reply must answer the question asked; a host name that
 * maps to an identity must be that identity's own alias (or the identity).
 */
#include <sys/socket.h>

#include "tests/fuzz/fuzz.h"
#include "identity/name.h"
#include "nss/alias.h"
#include "nss/wire.h"

static void fuzz_request(const uint8_t *p, size_t n)
{
	uint8_t again[NAMES_MSG_MAX];
	struct names_req r;

	if (names_req_decode(p, n, &r, NULL, 0) != 0)
		return;
	FZ_CHECK(names_req_encode(&r, again, sizeof(again)) == n);
	FZ_CHECK(memcmp(again, p, n) == 0);
	if (r.op == NAMES_OP_RESOLVE)
		FZ_CHECK(id_parse_user(r.name, NULL, NULL, 0) == 0);
	else
		FZ_CHECK(names_addr_is_overlay(r.addr.family, r.addr.a));
}

static void fuzz_reply(const uint8_t *p, size_t n, const struct names_req *q)
{
	uint8_t again[NAMES_MSG_MAX];
	struct names_reply r;
	int i, held = 0;

	if (names_reply_decode(p, n, q, &r, NULL, 0) != 0)
		return;
	FZ_CHECK(names_reply_encode(&r, again, sizeof(again)) == n);
	FZ_CHECK(memcmp(again, p, n) == 0);
	FZ_CHECK(r.op == q->op && r.n_addr >= 0 && r.n_addr <= NAMES_ADDR_MAX);
	for (i = 0; i < r.n_addr; i++) {
		FZ_CHECK(names_addr_is_overlay(r.addr[i].family, r.addr[i].a));
		if (q->op == NAMES_OP_WHOIS && r.addr[i].family == q->addr.family &&
		    memcmp(r.addr[i].a, q->addr.a, q->addr.family == AF_INET ? 4 : 16) == 0)
			held = 1;
	}
	if (r.status != NAMES_OK)
		return;
	FZ_CHECK(id_parse_user(r.name, NULL, NULL, 0) == 0 && r.n_addr > 0);
	if (q->op == NAMES_OP_RESOLVE)
		FZ_CHECK(strcmp(r.name, q->name) == 0);
	else
		FZ_CHECK(held);
}

static void fuzz_host(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1), id[ID_NAME_MAX + 1], alias[NAMES_ALIAS_MAX + 1];

	if (!s)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	if (names_host_to_identity(s, id) == 0) {
		FZ_CHECK(id_parse_user(id, NULL, NULL, 0) == 0);
		if (!strchr(s, '@')) {
			FZ_CHECK(names_alias_from_identity(id, alias, sizeof(alias)) == 0);
			FZ_CHECK(strncasecmp(alias, s, strlen(alias)) == 0);
		}
	}
	if (names_alias_from_identity(s, alias, sizeof(alias)) == 0) {
		FZ_CHECK(names_alias_to_identity(alias, id) == 0);
		FZ_CHECK(strcmp(id, s) == 0);
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t bob4[4] = { 100, 64, 0, 2 };
	struct names_req q;
	uint8_t *p;

	if (size < 1)
		return 0;
	p = fz_dup(data + 1, size - 1);
	memset(&q, 0, sizeof(q));
	switch (data[0] % 4) {
	case 0:
		fuzz_request(p, size - 1);
		break;
	case 1:
		q.op = NAMES_OP_RESOLVE;
		strcpy(q.name, "bob@example.com");
		fuzz_reply(p, size - 1, &q);
		break;
	case 2:
		q.op = NAMES_OP_WHOIS;
		q.addr.family = AF_INET;
		memcpy(q.addr.a, bob4, 4);
		fuzz_reply(p, size - 1, &q);
		break;
	default:
		fuzz_host(p, size - 1);
		break;
	}
	free(p);
	return 0;
}

static void seeds(const char *dir)
{
	uint8_t buf[NAMES_MSG_MAX + 1];
	struct names_req q = { .op = NAMES_OP_RESOLVE, .name = "bob@example.com" };
	struct names_reply r = { .op = NAMES_OP_RESOLVE, .status = NAMES_OK,
				 .name = "bob@example.com", .n_addr = 2 };
	size_t n;

	r.addr[0].family = AF_INET;
	memcpy(r.addr[0].a, (const uint8_t[]){ 100, 64, 0, 2 }, 4);
	r.addr[1].family = AF_INET6;
	r.addr[1].a[0] = 0xfd;
	buf[0] = 0;
	n = names_req_encode(&q, buf + 1, sizeof(buf) - 1);
	fz_write_seed(dir, "request-resolve", buf, n + 1);
	buf[0] = 1;
	n = names_reply_encode(&r, buf + 1, sizeof(buf) - 1);
	fz_write_seed(dir, "reply-resolve", buf, n + 1);
	buf[0] = 2;
	r.op = NAMES_OP_WHOIS;
	n = names_reply_encode(&r, buf + 1, sizeof(buf) - 1);
	fz_write_seed(dir, "reply-whois", buf, n + 1);
	fz_write_seed(dir, "host-alias", "\003q--alice-dsmith.example.com.q2q", 33);
	fz_write_seed(dir, "host-identity", "\003alice.smith@example.com", 24);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_seed_mode(seeds);
	return 0;
}
