/*
 * The node-local IPv4 addresses of foreign identities (PROTOCOL.md, "IPv4
 * across domains"): every domain's pool starts at the same address, so a
 * foreign peer's certified IPv4 means nothing here; applications see one
 * this node hands out from its own block (foreign_pool, default
 * 100.127.0.0/16) and the data path translates 1:1 (routing/xlat4.c).
 * The book keeps each identity's address for as long as it can, so a
 * program that connected before a restart reaches the same peer at the
 * same address; foreign.c keeps it in the state directory. Pure:
 * no I/O, time given by the caller.
 */
#ifndef Q2Q_LOCALV4_H
#define Q2Q_LOCALV4_H

#include <stddef.h>
#include <stdint.h>

#include "identity/addr.h"
#include "identity/name.h"

#define LOCALV4_MAX 1024	/* identities remembered; the least recently used goes */

struct localv4_entry {
	char identity[ID_NAME_MAX + 1];
	uint8_t v4[4];			/* the local address */
	uint8_t v6[16];			/* its derived IPv6, to find it by that too */
	int64_t used;			/* unix seconds it last had a certificate here */
};

struct localv4 {
	struct addr_prefix block;
	uint32_t next;			/* host offset in block to try next */
	int n;
	struct localv4_entry e[LOCALV4_MAX];
};

/* An empty book handing out block's host addresses (a valid IPv4 prefix
 * of length 8..30). */
void localv4_init(struct localv4 *b, const struct addr_prefix *block);

const struct localv4_entry *localv4_find(const struct localv4 *b, const char *identity);
/* The entry whose local IPv4 (AF_INET) or derived IPv6 (AF_INET6) is a. */
const struct localv4_entry *localv4_by_addr(const struct localv4 *b, int family, const uint8_t *a);

/* Forgets every identity of domain (q2qctl trust forget: its addresses
 * no longer lead to a look-up). How many were forgotten. */
int localv4_forget_domain(struct localv4 *b, const char *domain);

/* busy: whether this node uses v4 for something else (its own address, a
 * peer of its own domain). live: whether identity is a peer now, so its
 * entry may not be forgotten. */
typedef int localv4_busy_fn(void *arg, const uint8_t v4[4]);
typedef int localv4_live_fn(void *arg, const char *identity);

/*
 * identity's local address into out, marked used at now: 0 when it had
 * one, 1 when it was given a new one (the book changed: save it),
 * -ENOSPC when the block has no free address or every remembered
 * identity is live. An identity whose address has become busy meanwhile
 * is given a new one. A new address is the next free one after the last
 * handed out, so a forgotten identity's address is the last to be reused.
 */
int localv4_assign(struct localv4 *b, const char *identity, int64_t now, localv4_busy_fn *busy,
    localv4_live_fn *live, void *arg, uint8_t out[4]);

/* The book as text (one "identity address used" line each, after a
 * "next address" line) into buf: its length, or -ENOSPC. LOCALV4_TEXT_MAX
 * always suffices. */
#define LOCALV4_TEXT_MAX (LOCALV4_MAX * (ID_NAME_MAX + 40) + 128)
int localv4_format(const struct localv4 *b, char *buf, size_t cap);
/*
 * Adds the entries of text (len bytes) to b, as localv4_format wrote them.
 * A line that is malformed, names an invalid identity, an address outside
 * the block or one already taken, or comes past LOCALV4_MAX, is skipped:
 * returns how many were, with the first one's line number and reason in
 * err ("line 3: 'carol@Example.org' ...").
 */
int localv4_parse(struct localv4 *b, const char *text, size_t len, char *err, size_t errlen);

#endif
