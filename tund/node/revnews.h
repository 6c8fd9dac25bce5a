/*
 * The node's side of an authority's revocation news (PROTOCOL.md,
 * "Revocation"), as pure decisions: what a REVOKED entry says, and where
 * the node stands after a page (ask for more, wait for an answer already
 * asked, or up to date). authlink.c does the I/O.
 */
#ifndef Q2Q_NODE_REVNEWS_H
#define Q2Q_NODE_REVNEWS_H

#include <stddef.h>
#include <stdint.h>

/* A rev_entry: not_after (u64, big-endian) || serial (1..40 hex digits,
 * no NUL). 0 with serial (41 bytes) and *not_after, or -EINVAL. */
int revnews_entry(const uint8_t *p, size_t n, char serial[41], int64_t *not_after);

/* A node's place in one authority's numbered revocations. */
struct revnews {
	uint64_t have;		/* every revocation up to this number is known */
	int asking;		/* a REVOKED_SINCE is out */
};

enum revnews_step {
	REVNEWS_ASK,		/* send REVOKED_SINCE have */
	REVNEWS_WAIT,		/* a gap, but the question is out already */
	REVNEWS_CURRENT,	/* up to date with the authority */
};

/* A REVOKED page (rev_since, rev_cursor, rev_more) arrived: its entries
 * count either way; this says what next, and moves rn. */
enum revnews_step revnews_page(struct revnews *rn, uint64_t since, uint64_t cursor, int more);

#endif
